"""Metric writers (JSON lines + TensorBoard event files) and the saved config.

A run writes, in its workdir::

  config.json             the config of the latest (re)start
  metrics.jsonl           one JSON object per logging event: {"step": s, ...}
  events.out.tfevents.*   the same scalars for TensorBoard (tensorboardX)

Look at the curves with ``tensorboard --logdir <workdir>`` (TensorBoard is
not a dependency; any install of it reads these files).
"""

from __future__ import annotations

from collections.abc import Mapping
import json
import os
from typing import Any

from absl import logging
import ml_collections

METRICS_FILE = 'metrics.jsonl'
CONFIG_FILE = 'config.json'


class MetricWriter:
  """Writes scalars to ``metrics.jsonl`` and TensorBoard event files.

  On a resumed run (``resume_step`` given) it first drops the JSON lines
  with ``step > resume_step`` (written after the checkpoint it resumes
  from) and tells TensorBoard to purge those steps, so the files read as if
  the run had never been interrupted.
  """

  def __init__(self, workdir: str, *, resume_step: int = 0):
    self._path = os.path.join(workdir, METRICS_FILE)
    if resume_step and os.path.exists(self._path):
      with open(self._path) as f:
        kept = [line for line in f
                if line.strip() and json.loads(line)['step'] <= resume_step]
      with open(self._path, 'w') as f:
        f.writelines(kept)
    elif not resume_step and os.path.exists(self._path):
      os.remove(self._path)  # a fresh run owns the file
    import tensorboardX  # pylint: disable=g-import-not-at-top
    self._tb = tensorboardX.SummaryWriter(
        workdir, purge_step=resume_step + 1 if resume_step else None)

  def write_scalars(self, step: int, scalars: Mapping[str, float]) -> None:
    scalars = {k: float(v) for k, v in scalars.items()}
    with open(self._path, 'a') as f:
      f.write(json.dumps({'step': int(step), **scalars}) + '\n')
    for name, value in scalars.items():
      self._tb.add_scalar(name, value, global_step=int(step))

  def close(self) -> None:
    self._tb.close()


class NullWriter:
  """A :class:`MetricWriter` that writes nothing (processes other than 0)."""

  def write_scalars(self, step: int, scalars: Mapping[str, float]) -> None:
    del step, scalars

  def close(self) -> None:
    pass


def read_json_lines(path: str) -> list[dict[str, Any]]:
  """The JSON objects of a JSON-lines file, in order ([] if it is missing)."""
  if not os.path.exists(path):
    return []
  with open(path) as f:
    return [json.loads(line) for line in f if line.strip()]


def read_metrics(workdir: str) -> list[dict[str, float]]:
  """The records of ``workdir/metrics.jsonl`` (an empty list if missing)."""
  return read_json_lines(os.path.join(workdir, METRICS_FILE))


def write_config(config: ml_collections.ConfigDict, workdir: str) -> None:
  """Saves ``config`` as ``workdir/config.json`` (the latest start's).

  Every start, with its changes, is also in ``config_history.jsonl``
  (:mod:`experiments.train.config_history`).
  """
  with open(os.path.join(workdir, CONFIG_FILE), 'w') as f:
    f.write(config.to_json(indent=2))
