"""Experiments: train / evaluate / probe code behind ``main.py``.

:func:`run` dispatches on ``config.experiment`` to the module that runs it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ml_collections

from experiments import hnet_depth
from experiments import probe
from experiments import study
from experiments import train

# config.experiment -> run(config, workdir).
EXPERIMENTS: dict[str, Callable[[ml_collections.ConfigDict, str], Any]] = {
    'probe': probe.run,
    'study': study.run,
    'train': train.train_and_evaluate,
    'hnet_depth': hnet_depth.run,
}


def run(config: ml_collections.ConfigDict, workdir: str) -> Any:
  """Runs the experiment named by ``config.experiment`` in ``workdir``.

  Args:
    config: a config from ``experiments/configs/`` with an ``experiment`` key.
    workdir: folder for all outputs of the run.

  Returns:
    Whatever the experiment's ``run`` returns (e.g. the probe's result rows).

  Raises:
    ValueError: if ``config.experiment`` is missing or unknown.
  """
  name = config.get('experiment')
  if name not in EXPERIMENTS:
    raise ValueError(f'unknown experiment {name!r} (config.experiment); '
                     f'accepted: {", ".join(map(repr, EXPERIMENTS))}.')
  return EXPERIMENTS[name](config, workdir)
