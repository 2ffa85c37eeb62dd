"""One run per workdir: an exclusive lock held for the whole run.

Two runs writing one workdir corrupt each other (orbax times out creating the
same step directory, ``metrics.jsonl`` gets duplicated rows), which a
scheduler retry or a second terminal does easily. A run therefore takes
``<workdir>/run.lock`` before touching anything else:

* The lock is an advisory ``fcntl.flock`` on that file. The kernel drops it
  when the holder exits *in any way* (return, exception, SIGKILL, a crash), so
  a dead run never blocks the next one, and there is no stale-PID guessing.
* The file holds JSON naming the holder (host, PID, start time, command). A
  second run that cannot take the lock stops at once with a message naming the
  holder and what to do. A run that takes a lock whose file still names
  another process (one that died without releasing it, e.g. by SIGKILL or a
  machine crash) logs a warning saying whose lock it took over.
* On release the file is emptied, not deleted: deleting it would let a third
  process lock a new inode while a second one still waits on the old one.

flock works on local file systems and on NFSv4 (Linux emulates it with
byte-range locks there). In a multi-process run only process 0 takes the
lock: the processes of one run share its workdir by design. Within one
process the lock is re-entrant (``main.py`` locks the workdir of any
experiment, and :func:`experiments.train.train` locks its own, which may be
the same folder): nested blocks on one path share one lock.
"""

from __future__ import annotations

import dataclasses
import errno
import fcntl
import json
import os
import socket
import sys
import time
from typing import Any

from absl import logging

LOCK_NAME = 'run.lock'

# Lock files this process holds -> (file descriptor, nesting depth).
_HELD: dict[str, list[int]] = {}


class WorkdirBusyError(RuntimeError):
  """Another live run holds the workdir's lock."""


@dataclasses.dataclass(frozen=True)
class Holder:
  """Who holds (or last held) a lock."""
  host: str
  pid: int
  start_time: float
  command: str

  @classmethod
  def this_process(cls) -> 'Holder':
    return cls(host=socket.gethostname(), pid=os.getpid(),
               start_time=time.time(), command=' '.join(sys.argv))

  def describe(self) -> str:
    started = time.strftime('%Y-%m-%d %H:%M:%S',
                            time.localtime(self.start_time))
    return (f'PID {self.pid} on host {self.host!r}, started {started}, '
            f'command: {self.command}')


def _read_holder(fd: int) -> Holder | None:
  os.lseek(fd, 0, os.SEEK_SET)
  raw = os.read(fd, 1 << 16).decode('utf-8', errors='replace').strip()
  if not raw:
    return None
  try:
    fields: dict[str, Any] = json.loads(raw)
    return Holder(host=str(fields['host']), pid=int(fields['pid']),
                  start_time=float(fields['start_time']),
                  command=str(fields['command']))
  except (ValueError, KeyError, TypeError):
    return None


def _write_holder(fd: int, holder: Holder | None) -> None:
  os.ftruncate(fd, 0)
  os.lseek(fd, 0, os.SEEK_SET)
  if holder is not None:
    os.write(fd, (json.dumps(dataclasses.asdict(holder)) + '\n').encode())
  os.fsync(fd)


class WorkdirLock:
  """Context manager: ``with WorkdirLock(workdir): ...`` runs exclusively.

  Args:
    workdir: the run's directory (created if missing).
    enabled: False makes the lock a no-op (processes other than 0 of a
      multi-process run).

  Raises:
    WorkdirBusyError: on entry, when another live process holds the lock.
  """

  def __init__(self, workdir: str, *, enabled: bool = True):
    if not isinstance(workdir, (str, os.PathLike)) or not str(workdir):
      raise ValueError(f'workdir must be a non-empty path; got {workdir!r}.')
    self.path = os.path.join(os.fspath(workdir), LOCK_NAME)
    self.enabled = enabled
    self._entered = False

  @property
  def held(self) -> bool:
    return self._entered

  def acquire(self) -> None:
    """Takes the lock (re-entrant) or raises :class:`WorkdirBusyError`."""
    if not self.enabled or self._entered:
      return
    key = os.path.realpath(self.path)
    if key in _HELD:  # this process holds it already: nest
      _HELD[key][1] += 1
      self._entered = True
      return
    os.makedirs(os.path.dirname(self.path), exist_ok=True)
    fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
      fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
      holder = _read_holder(fd)
      os.close(fd)
      if error.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
        raise
      who = holder.describe() if holder else 'another process'
      raise WorkdirBusyError(
          f'workdir {os.path.dirname(self.path)!r} is in use by {who}. Two '
          f'runs in one workdir would corrupt its checkpoints and metrics: '
          f'wait for that run to finish (or stop it), or pass another '
          f'--workdir.') from None
    previous = _read_holder(fd)
    if previous is not None:
      logging.warning(
          'Took over the lock of %s in %s: that run ended without releasing '
          'it (killed or crashed); its last checkpoint is used as usual.',
          previous.describe(), os.path.dirname(self.path))
    _write_holder(fd, Holder.this_process())
    _HELD[key] = [fd, 1]
    self._entered = True

  def release(self) -> None:
    """Leaves the lock; the outermost release empties the file and drops it."""
    if not self._entered:
      return
    self._entered = False
    key = os.path.realpath(self.path)
    entry = _HELD[key]
    entry[1] -= 1
    if entry[1]:
      return
    del _HELD[key]
    fd = entry[0]
    try:
      _write_holder(fd, None)
    finally:
      fcntl.flock(fd, fcntl.LOCK_UN)
      os.close(fd)

  def __enter__(self) -> 'WorkdirLock':
    self.acquire()
    return self

  def __exit__(self, *exc_info) -> None:
    self.release()
