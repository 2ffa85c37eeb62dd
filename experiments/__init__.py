"""Experiments: train / evaluate / probe code behind ``main.py``.

:func:`run` dispatches on ``config.experiment`` to the module that runs it.
The modules are imported when first needed, so importing a light submodule
(:mod:`experiments.runtime`, which ``main.py`` calls before anything else)
does not load JAX and every experiment.
"""

from __future__ import annotations

from collections.abc import Callable
import importlib
from typing import Any

import ml_collections

# config.experiment -> (module, its run(config, workdir) function).
_RUNNERS: dict[str, tuple[str, str]] = {
    'probe': ('experiments.shift_probe', 'run'),
    'study': ('experiments.study', 'run'),
    'train': ('experiments.train', 'train_and_evaluate'),
    'hnet_depth': ('experiments.hnet_depth', 'run'),
    'lie': ('experiments.lie_study', 'run'),
}


def _runner(name: str) -> Callable[[ml_collections.ConfigDict, str], Any]:
  module, function = _RUNNERS[name]
  return getattr(importlib.import_module(module), function)


def __getattr__(name: str) -> Any:
  # EXPERIMENTS: config.experiment -> run(config, workdir), built on demand
  # (it imports every experiment module).
  if name == 'EXPERIMENTS':
    return {key: _runner(key) for key in _RUNNERS}
  raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


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
  if name not in _RUNNERS:
    raise ValueError(f'unknown experiment {name!r} (config.experiment); '
                     f'accepted: {", ".join(map(repr, _RUNNERS))}.')
  return _runner(name)(config, workdir)
