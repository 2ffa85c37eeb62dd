"""Verified checkpoints of the train state: save, and restore-or-initialise.

Checkpoints live in ``workdir/checkpoints/<step>/`` (orbax; the last few).
Each records a SHA-256 of the train state in its orbax metadata
(:func:`state_checksum`); a checkpoint that fails to read back or to match
its hash is set aside (``workdir/corrupt_checkpoints/``) with a warning, and
the previous one is used (:func:`restore_or_initialize`). Orbax reads arrays
with TensorStore (OCDBT/zarr) and metadata as JSON; nothing is unpickled.
"""

from __future__ import annotations

from collections.abc import Sequence
import hashlib
import logging as pylogging
import os
from typing import Any

from absl import logging
import jax
from jax.experimental import multihost_utils
import numpy as np
import orbax.checkpoint as ocp

from experiments.train import state as state_lib

CHECKPOINT_DIR = 'checkpoints'
# Checkpoints that failed to restore are moved here (never deleted).
CORRUPT_CHECKPOINT_DIR = 'corrupt_checkpoints'
# Key of the train state's SHA-256 in each checkpoint's orbax custom metadata.
CHECKSUM_KEY = 'state_sha256'


class CheckpointRestoreError(RuntimeError):
  """Checkpoints exist in the workdir but none of them can be restored."""


class CorruptCheckpointError(ValueError):
  """A checkpoint read back, but not as it was written."""


def checkpoint_dir(workdir: str) -> str:
  """The absolute path of the checkpoints of the run in ``workdir``."""
  return os.path.abspath(os.path.join(workdir, CHECKPOINT_DIR))


def create_manager(workdir: str, *, max_to_keep: int
                   ) -> ocp.CheckpointManager:
  """The checkpoint manager of ``workdir`` (keeps the last ``max_to_keep``)."""
  return ocp.CheckpointManager(
      checkpoint_dir(workdir),
      options=ocp.CheckpointManagerOptions(
          max_to_keep=max_to_keep, create=True,
          # Half-written checkpoints of a killed run: removed, not resumed.
          cleanup_tmp_directories=True))


def save_checkpoint(manager: ocp.CheckpointManager, step: int,
                    state: state_lib.TrainState) -> None:
  """Saves ``state`` as checkpoint ``step`` (asynchronously) with its hash."""
  manager.save(step, args=ocp.args.StandardSave(state),
               custom_metadata={CHECKSUM_KEY: state_checksum(state)})


def state_checksum(state: Any) -> str:
  """SHA-256 (hex) of every leaf of ``state``: key path, dtype, shape, bytes.

  Saved in each checkpoint's metadata and compared on restore, because
  TensorStore checksums its index (a truncated or flipped b-tree is
  detected) but not the bytes of large arrays.
  """
  digest = hashlib.sha256()
  leaves, _ = jax.tree_util.tree_flatten_with_path(jax.device_get(state))
  for path, leaf in leaves:
    array = np.ascontiguousarray(leaf)
    digest.update(f'{jax.tree_util.keystr(path)}|{array.dtype}|'
                  f'{array.shape};'.encode())
    digest.update(array.tobytes())
  return digest.hexdigest()


def restore_checkpoint(manager: ocp.CheckpointManager, step: int,
                       template: state_lib.TrainState
                       ) -> state_lib.TrainState:
  """Restores checkpoint ``step`` and checks it against its checksum.

  Args:
    manager: the run's checkpoint manager.
    step: a step of ``manager.all_steps()``.
    template: a train state with the right structure, dtypes and shardings.

  Returns:
    The restored train state (the template's shardings).

  Raises:
    CorruptCheckpointError: if the checkpoint's metadata is unreadable or
      the restored state does not match its checksum; other exceptions
      from orbax / TensorStore if the files cannot be read.
  """
  state = manager.restore(step, args=ocp.args.StandardRestore(template))
  metadata = manager.metadata(step)  # after restore: its handler is known
  expected = (metadata.custom_metadata or {}).get(CHECKSUM_KEY)
  if expected is None and metadata.commit_timestamp_nsecs is None:
    raise CorruptCheckpointError(
        'its metadata file (_CHECKPOINT_METADATA) is missing or unreadable')
  if expected is None:  # written before checksums existed
    logging.info('checkpoint %d has no checksum; restored it unverified',
                 step)
    return state
  actual = state_checksum(state)
  if actual != expected:
    raise CorruptCheckpointError(
        f'the restored state does not match the checksum saved with it '
        f'(sha256 {actual[:16]}... instead of {expected[:16]}...)')
  return state


def restore_or_initialize(manager: ocp.CheckpointManager,
                          state: state_lib.TrainState, *, workdir: str
                          ) -> tuple[state_lib.TrainState, int]:
  """The newest checkpoint that restores intact, or ``(state, 0)`` if none.

  A checkpoint that fails (unreadable, truncated or missing files, wrong
  checksum) is reported with a warning naming its step and the error; the
  next older one is tried. Failed checkpoints newer than the restored one
  are moved to ``workdir/corrupt_checkpoints/`` so that the run can write
  those steps again.

  Args:
    manager: the run's checkpoint manager.
    state: freshly initialised state; the template for restoring.
    workdir: the run's folder.

  Returns:
    ``(state, step)``; step 0 (and ``state`` itself) if there are no
    checkpoints.

  Raises:
    CheckpointRestoreError: if there are checkpoints but none restores.
  """
  directory = os.fspath(manager.directory)
  failed = []
  for step in sorted(manager.all_steps(), reverse=True):
    try:
      restored = restore_checkpoint(manager, step, state)
    except Exception as error:  # pylint: disable=broad-exception-caught
      failed.append((step, _describe_error(error)))
      logging.warning('checkpoint %d in %s cannot be restored (%s); trying '
                      'an earlier one', step, directory, failed[-1][1])
      continue
    if failed:
      _set_aside(directory, [s for s, _ in failed], workdir)
      manager.reload()
      logging.warning('resuming from checkpoint %d instead of %d: the steps '
                      'after %d are trained again', step, failed[0][0], step)
    return restored, step
  if failed:
    details = '; '.join(f'step {s}: {e}' for s, e in failed)
    raise CheckpointRestoreError(
        f'none of the {len(failed)} checkpoints in {directory} can be '
        f'restored ({details}). If the model, optimiser or data changed, use '
        f'a new --workdir; to start this run afresh, delete {directory}.')
  return state, 0


def _describe_error(error: BaseException) -> str:
  """``Type: message``, without TensorStore's long JSON spec."""
  message = str(error).split(' [tensorstore_spec')[0].strip()
  if len(message) > 400:
    message = message[:400] + '...'
  return f'{type(error).__name__}: {message}'


def _set_aside(directory: str, steps: Sequence[int], workdir: str) -> None:
  """Moves unreadable checkpoints to ``workdir/corrupt_checkpoints/``."""
  if jax.process_index() == 0:
    target_dir = os.path.join(workdir, CORRUPT_CHECKPOINT_DIR)
    os.makedirs(target_dir, exist_ok=True)
    for step in steps:
      target = os.path.join(target_dir, str(step))
      suffix = 0
      while os.path.exists(target):
        suffix += 1
        target = os.path.join(target_dir, f'{step}.{suffix}')
      os.rename(os.path.join(directory, str(step)), target)
      logging.warning('moved the unreadable checkpoint %d to %s', step,
                      target)
  if jax.process_count() > 1:
    multihost_utils.sync_global_devices('equivlab_set_aside_checkpoints')


class _DropOrbaxInfo(pylogging.Filter):
  """Drops orbax's INFO records (several per save/restore) from the log."""

  def filter(self, record: pylogging.LogRecord) -> bool:
    return (record.levelno > pylogging.INFO or
            f'{os.sep}orbax{os.sep}' not in record.pathname)


def quiet_orbax_logging() -> None:
  """Keeps orbax's warnings but not its per-checkpoint INFO lines."""
  absl_logger = logging.get_absl_logger()
  if not any(isinstance(f, _DropOrbaxInfo) for f in absl_logger.filters):
    absl_logger.addFilter(_DropOrbaxInfo())
