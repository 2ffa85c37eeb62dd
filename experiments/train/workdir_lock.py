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
* A lock held on a file inside the workdir cannot protect a *recreated*
  workdir: after ``rm -rf <workdir>; mkdir <workdir>`` under a live run, a
  second run would create and lock a new ``run.lock`` (a new inode) and
  start. So a run first takes a second flock on a guard file beside the
  workdir, ``<parent>/.<name>.run.lock``, which survives deleting and
  recreating the workdir (the second run then opens the same inode and is
  refused). The guard is deleted on release *while still locked*, and every
  acquirer re-validates after its flock that the file it locked is still the
  one at the path (same device and inode), retrying otherwise; so a run
  that opened a guard just before it was deleted cannot hold a stale inode.
  What remains: deleting the workdir's *parent* under a live run (the guard
  goes with it), and a parent folder this process cannot write (then only
  ``run.lock`` is taken, with a warning).

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

# Lock files this process holds -> [file descriptor, nesting depth, guard
# file descriptor (or None), guard path (or None)].
_HELD: dict[str, list[Any]] = {}


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


def _guard_path(workdir: str) -> str | None:
  """``<parent>/.<name>.run.lock`` for the real path of ``workdir``."""
  real = os.path.realpath(workdir)
  parent, name = os.path.split(real)
  return os.path.join(parent, f'.{name}.{LOCK_NAME}') if name else None


def _lock_validated(path: str) -> tuple[int, bool]:
  """Opens (creating) ``path`` and tries a non-blocking flock on it.

  Returns ``(fd, locked)``. When locked, the fd is re-validated: if the
  file at ``path`` was deleted or replaced between the open and the flock
  (its holder deletes it on release), the stale fd is closed and the open
  is retried, so the lock returned is on the file that is at ``path``.
  """
  while True:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
      fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
      if error.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
        os.close(fd)
        raise
      return fd, False
    opened = os.fstat(fd)
    try:
      current = os.stat(path)
    except FileNotFoundError:
      current = None
    if current is not None and (current.st_dev, current.st_ino) == (
        opened.st_dev, opened.st_ino):
      return fd, True
    os.close(fd)  # locked a file that is no longer at the path: again


def _busy_error(workdir: str, fd: int) -> WorkdirBusyError:
  holder = _read_holder(fd)
  os.close(fd)
  who = holder.describe() if holder else 'another process'
  return WorkdirBusyError(
      f'workdir {workdir!r} is in use by {who}. Two '
      f'runs in one workdir would corrupt its checkpoints and metrics: '
      f'wait for that run to finish (or stop it), or pass another '
      f'--workdir.')


def _write_holder(fd: int, holder: Holder | None) -> None:
  os.ftruncate(fd, 0)
  os.lseek(fd, 0, os.SEEK_SET)
  if holder is not None:
    os.write(fd, (json.dumps(dataclasses.asdict(holder)) + '\n').encode())
  os.fsync(fd)


def _drop_guard(fd: int | None, path: str | None) -> None:
  """Deletes the guard file while still holding its flock, then unlocks."""
  if fd is None:
    return
  try:
    try:
      if path is not None and os.path.exists(path) and (
          os.stat(path).st_ino == os.fstat(fd).st_ino):
        os.unlink(path)
    except OSError:
      pass  # already gone, or not ours to delete: the flock still goes
  finally:
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


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
    workdir = os.path.dirname(self.path)
    os.makedirs(workdir, exist_ok=True)
    guard_fd, guard = None, _guard_path(workdir)
    if guard is not None:
      try:
        guard_fd, locked = _lock_validated(guard)
      except OSError as error:  # e.g. a read-only parent folder
        logging.warning('Cannot lock %s (%s): only %s protects this run, and '
                        'a workdir deleted and recreated under it would not '
                        'be.', guard, error, self.path)
        guard, locked = None, True
      if not locked:
        raise _busy_error(workdir, guard_fd) from None
    try:
      fd, locked = _lock_validated(self.path)
    except BaseException:
      _drop_guard(guard_fd, guard)
      raise
    if not locked:
      _drop_guard(guard_fd, guard)
      raise _busy_error(workdir, fd) from None
    previous = _read_holder(fd)
    if previous is not None:
      logging.warning(
          'Took over the lock of %s in %s: that run ended without releasing '
          'it (killed or crashed); its last checkpoint is used as usual.',
          previous.describe(), os.path.dirname(self.path))
    holder = Holder.this_process()
    _write_holder(fd, holder)
    if guard_fd is not None:
      _write_holder(guard_fd, holder)
    _HELD[key] = [fd, 1, guard_fd, guard]
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
    fd, _, guard_fd, guard = entry
    try:
      _write_holder(fd, None)
    finally:
      fcntl.flock(fd, fcntl.LOCK_UN)
      os.close(fd)
      _drop_guard(guard_fd, guard)

  def __enter__(self) -> 'WorkdirLock':
    self.acquire()
    return self

  def __exit__(self, *exc_info) -> None:
    self.release()
