"""The config of every (re)start of a run, and which changes break a resume.

``config.json`` in a workdir holds the config of the latest start only. Each
start also appends one JSON line to ``config_history.jsonl``::

  {"time": ..., "host": ..., "pid": ..., "command": ..., "step": <restored
   step or null>, "changes": {"key": [old, new], ...}, "config": {...}}

with ``changes`` relative to the previous start, so a run's history (a
learning rate changed on the third restart, say) stays readable.

A changed config usually resumes fine (more steps, another learning rate,
logging intervals). Changes to the keys in :data:`CHECKPOINT_KEYS` change the
shapes or structure of the train state (model, optimiser, the data's image
size and classes), so the checkpoints cannot be restored into the new state:
:func:`check_resumable` reports them, before any restore, as one
:class:`IncompatibleConfigError` naming the changed keys.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from collections.abc import Mapping
from typing import Any

import ml_collections

from experiments.train import writers

HISTORY_NAME = 'config_history.jsonl'

# Dotted keys (or prefixes, ending in '.') whose change makes the checkpoints
# unusable: they decide the parameter/optimiser-state tree or its shapes.
CHECKPOINT_KEYS = ('model.', 'optimizer', 'optimizer_state', 'weight_decay',
                   'dataset', 'canvas_size', 'num_classes')
# Keys added later, with the value a config without them stands for (how
# the runs recorded before them trained: StepSettings has the same default).
LEGACY_VALUES = {'optimizer_state': 'tree'}


class IncompatibleConfigError(ValueError):
  """The config changed in a way the workdir's checkpoints cannot follow."""


def flatten(config: ml_collections.ConfigDict | Mapping[str, Any],
            prefix: str = '') -> dict[str, Any]:
  """``{'model.widths': [16, 32], ...}``: dotted keys, JSON-able values."""
  items = config.items() if hasattr(config, 'items') else ()
  flat: dict[str, Any] = {}
  for key, value in items:
    name = f'{prefix}{key}'
    if isinstance(value, (ml_collections.ConfigDict, Mapping)):
      flat.update(flatten(value, prefix=f'{name}.'))
    else:
      flat[name] = json.loads(json.dumps(value, default=repr))
  return flat


def diff(old: Mapping[str, Any], new: Mapping[str, Any]
         ) -> dict[str, list[Any]]:
  """``{key: [old, new]}`` for keys whose value differs (None if absent)."""
  return {key: [old.get(key), new.get(key)]
          for key in sorted(set(old) | set(new))
          if old.get(key) != new.get(key)}


def with_legacy_values(flat: Mapping[str, Any]) -> dict[str, Any]:
  """``flat`` (from :func:`flatten`) with the :data:`LEGACY_VALUES` it lacks."""
  return {**LEGACY_VALUES, **flat}


def read_history(workdir: str) -> list[dict[str, Any]]:
  """Every recorded start, oldest first ([] if none)."""
  return writers.read_json_lines(os.path.join(workdir, HISTORY_NAME))


def previous_config(workdir: str) -> dict[str, Any] | None:
  """The flattened config of the latest recorded start, or of config.json.

  Keys of :data:`LEGACY_VALUES` it lacks (a run from before they existed)
  take the value they stand for.
  """
  history = read_history(workdir)
  if history:
    config = history[-1]['config']
  else:
    legacy = os.path.join(workdir, 'config.json')  # runs from before history
    if not os.path.exists(legacy):
      return None
    with open(legacy) as f:
      config = flatten(json.load(f))
  return with_legacy_values(config)


def checkpoint_breaking(changes: Mapping[str, Any]) -> list[str]:
  """The changed keys that make existing checkpoints unusable."""
  return [key for key in changes
          if any(key.startswith(k) if k.endswith('.') else key == k
                 for k in CHECKPOINT_KEYS)]


def check_resumable(workdir: str, config: ml_collections.ConfigDict) -> None:
  """Raises :class:`IncompatibleConfigError` if checkpoints cannot resume.

  Call it only when the workdir has checkpoints to restore.
  """
  old = previous_config(workdir)
  if old is None:
    return
  changes = diff(old, with_legacy_values(flatten(config)))
  breaking = checkpoint_breaking(changes)
  if breaking:
    listed = '; '.join(f'{k}: {changes[k][0]!r} -> {changes[k][1]!r}'
                       for k in breaking)
    raise IncompatibleConfigError(
        f'config changed in a way the checkpoints in {workdir} cannot '
        f'follow ({listed}). Use a new --workdir for the new config, or '
        f'restore the old values to resume.')


def record_start(workdir: str, config: ml_collections.ConfigDict, *,
                 step: int | None) -> dict[str, list[Any]]:
  """Appends this start to the history; returns its changes."""
  flat = with_legacy_values(flatten(config))
  old = previous_config(workdir)
  changes = {} if old is None else diff(old, flat)
  entry = dict(time=time.time(), host=socket.gethostname(), pid=os.getpid(),
               command=' '.join(sys.argv), step=step, changes=changes,
               config=flat)
  os.makedirs(workdir, exist_ok=True)
  with open(os.path.join(workdir, HISTORY_NAME), 'a') as f:
    f.write(json.dumps(entry) + '\n')
  return changes
