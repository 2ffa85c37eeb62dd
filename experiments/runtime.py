"""Process set-up before JAX starts: transparent huge pages for XLA's buffers.

XLA:CPU allocates every intermediate buffer with ``malloc``; glibc serves
large ones with fresh ``mmap`` pages, so each step of a training loop
page-faults its buffers in again, 4 KiB at a time. On this project's 2-core
EPYC (kernel THP mode ``madvise``) that was half of a BlurPool call's time
and 1.9 M minor faults in 6 s (``docs/performance.md``, "Page faults").
glibc >= 2.35 can ``madvise`` its large chunks for transparent huge pages
(``GLIBC_TUNABLES=glibc.malloc.hugetlb=1``), which cut the faults 14x and
the P4CNN training step from 241 to 186 ms there. The numbers computed do
not change: only where the buffers live.

glibc reads tunables when a process starts, so :func:`use_huge_pages`
re-executes the current command once with the tunable added (same PID,
same arguments). It does nothing when the tunable is already set, off
Linux/glibc, or with ``EQUIVLAB_HUGE_PAGES=0``.
"""

from __future__ import annotations

import os
import sys

TUNABLE = 'glibc.malloc.hugetlb=1'
SWITCH = 'EQUIVLAB_HUGE_PAGES'


def glibc_version() -> tuple[int, int] | None:
  """``(major, minor)`` of the running glibc, or None (not glibc)."""
  try:
    name, version = os.confstr('CS_GNU_LIBC_VERSION').split()
  except (AttributeError, ValueError, OSError):
    return None
  if name != 'glibc':
    return None
  try:
    major, minor = version.split('.')[:2]
    return int(major), int(minor)
  except ValueError:
    return None


def huge_pages_environment(environ: dict[str, str],
                           libc: tuple[int, int] | None
                           ) -> dict[str, str] | None:
  """The environment to re-execute with, or None to keep this process.

  Args:
    environ: the current environment.
    libc: :func:`glibc_version`.
  """
  switch = environ.get(SWITCH, '1')
  if switch not in ('0', '1'):
    raise ValueError(f'{SWITCH} must be 0 or 1; got {switch!r}.')
  if switch == '0' or libc is None or libc < (2, 35):
    return None
  tunables = environ.get('GLIBC_TUNABLES', '')
  if 'glibc.malloc.hugetlb' in tunables:
    return None  # set by the user (any value) or by an earlier re-exec
  new = dict(environ)
  new['GLIBC_TUNABLES'] = f'{tunables}:{TUNABLE}' if tunables else TUNABLE
  return new


def use_huge_pages() -> None:
  """Re-executes this command with :data:`TUNABLE` if it would help.

  Call it first thing in an entry point, before heavy imports (a re-exec
  restarts the interpreter). Opt out with ``EQUIVLAB_HUGE_PAGES=0``.
  """
  if not sys.platform.startswith('linux'):
    return
  environ = huge_pages_environment(dict(os.environ), glibc_version())
  if environ is None:
    return
  argv = getattr(sys, 'orig_argv', None) or [sys.executable] + sys.argv
  sys.stdout.flush()
  sys.stderr.flush()
  os.execve(sys.executable, [sys.executable] + list(argv[1:]), environ)
