"""Preemption-safe stops: SIGTERM / SIGINT end a run at a step boundary.

Slurm, Kubernetes and preemptible cloud machines send SIGTERM some seconds
before they kill a job; Ctrl-C sends SIGINT. While a :class:`StopSignals` block
is active, either signal only *records* the request; the training loop polls
:meth:`StopSignals.requested` after each step, writes a verified checkpoint at
that step and its metrics, releases the workdir lock and raises
:class:`Preempted`, which ``main.py`` turns into exit status
:data:`REQUEUE_EXIT_CODE`. Re-running the same command resumes from that step.

Further signals during the save are recorded and otherwise ignored, so a
second Ctrl-C cannot leave a half-written checkpoint (orbax also writes to a
temporary directory and renames it at the end). Outside the block the previous
handlers are back (Python's default: KeyboardInterrupt for SIGINT).

In a multi-process run every process must stop at the same step, or the
collective save would hang: :meth:`StopSignals.agreed` OR-reduces the flag over
processes (one tiny all-gather per step, only when ``process_count > 1``).
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from absl import logging
import numpy as np

# sysexits.h EX_TEMPFAIL: "temporary failure, the user is invited to retry".
# Non-zero, so schedulers with retry/requeue-on-failure policies restart it.
REQUEUE_EXIT_CODE = 75

_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Preempted(Exception):
  """The run stopped early on a signal, after checkpointing ``step``."""

  def __init__(self, step: int, signal_name: str, workdir: str):
    self.step = step
    self.signal_name = signal_name
    self.workdir = workdir
    super().__init__(
        f'Stopped by {signal_name} after step {step}: checkpoint and metrics '
        f'of step {step} are saved in {workdir}. Run the same command again '
        f'to resume from step {step}.')


class StopSignals:
  """Context manager recording SIGTERM/SIGINT instead of dying at once.

  Only the main thread can install signal handlers; elsewhere (or with
  ``enabled=False``) the block changes nothing and ``requested`` stays False.
  """

  def __init__(self, *, enabled: bool = True):
    self.enabled = enabled
    self.received: list[str] = []
    self._previous: dict[int, Any] = {}

  def _handle(self, signum, frame) -> None:  # pylint: disable=unused-argument
    self.received.append(signal.Signals(signum).name)

  @property
  def requested(self) -> bool:
    return bool(self.received)

  @property
  def signal_name(self) -> str:
    return self.received[0] if self.received else ''

  def agreed(self, process_count: int) -> bool:
    """True when any process received a stop signal (all agree)."""
    if process_count <= 1:
      return self.requested
    from jax.experimental import multihost_utils  # pylint: disable=g-import-not-at-top
    flags = multihost_utils.process_allgather(
        np.array([self.requested], np.int32))
    return bool(np.any(flags))

  def __enter__(self) -> 'StopSignals':
    if self.enabled and threading.current_thread() is threading.main_thread():
      for signum in _SIGNALS:
        previous = signal.signal(signum, self._handle)
        if isinstance(previous, _AbsorbOnce):  # left by an earlier stop
          previous = previous.previous
        self._previous[signum] = previous
    return self

  def __exit__(self, exc_type, exc, traceback) -> None:
    stopped = exc_type is not None and issubclass(exc_type, Preempted)
    for signum, handler in self._previous.items():
      # After a stop the process is on its way out (exit status 75): one more
      # signal in that window is logged and ignored rather than killing it
      # mid-exit; the one after acts as usual again.
      signal.signal(signum, _AbsorbOnce(signum, handler) if stopped
                    else handler)
    self._previous.clear()
    if len(self.received) > 1:
      logging.warning('also received %s while stopping: ignored, the stop '
                      'went on', ', '.join(self.received[1:]))


class _AbsorbOnce:
  """A signal handler that ignores one signal, then restores ``previous``."""

  def __init__(self, signum: int, previous: Any):
    self.signum = signum
    self.previous = previous

  def __call__(self, signum, frame) -> None:  # pylint: disable=unused-argument
    signal.signal(self.signum, self.previous)
    logging.warning('also received %s while stopping: ignored, the stop '
                    'went on (the run is saved; a further signal acts as '
                    'usual)', signal.Signals(signum).name)
