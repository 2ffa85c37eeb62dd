"""Process set-up around JAX: huge pages for XLA's buffers; a compilation cache.

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

**Persistent compilation cache.** :func:`use_compilation_cache` points JAX's
persistent cache at a per-user folder (``$XDG_CACHE_HOME/equivlab/jax``,
else ``~/.cache/equivlab/jax``), so running the same command again, resuming
a run, or a notebook's second execution loads its compiled programs instead
of compiling them. ``EQUIVLAB_COMPILATION_CACHE`` moves it (a path) or turns
it off (``0``); ``main.py`` and the notebooks call it. JAX writes each entry
to a temporary file and renames it into place, so two processes sharing the
folder at once each see either no entry or a whole one (checked by hand
with two concurrent ``main.py`` runs, docs/performance.md). :func:`cache_report` says how many compilations
were loaded from it and how many were compiled (``main.py`` logs it at the
end).

**Faster XLA:CPU compiles.** :func:`use_fast_compile` adds
``--xla_cpu_use_fusion_emitters=false`` to ``XLA_FLAGS``: XLA:CPU then emits
its fused loops with its older LLVM IR emitters instead of the MLIR fusion
emitters, whose code generation is most of a compile here: train steps
compile 15-45 % faster at the same step time within noise, the same losses
to rounding (docs/performance.md, "Compile time, third pass" and "fourth
pass"; ``python -m benchmarks.fast_compile``). On by default in ``main.py``,
the benchmarks that time it and the test suite (tests/conftest.py).
``EQUIVLAB_FAST_COMPILE=0`` keeps XLA's default everywhere; an ``XLA_FLAGS`` that already names the
option wins. XLA reads its flags when the backend starts, so call it before
the first computation.
"""

from __future__ import annotations

import os
import sys

TUNABLE = 'glibc.malloc.hugetlb=1'
SWITCH = 'EQUIVLAB_HUGE_PAGES'
CACHE_SWITCH = 'EQUIVLAB_COMPILATION_CACHE'
# What an on/off environment switch accepts (lower-cased, stripped).
ON_VALUES = ('1', 'true', 'on', 'yes')
OFF_VALUES = ('0', 'false', 'off', 'no')
# Compilations that took at least this long are cached (JAX's default, 1 s,
# leaves out most of a small run's programs; 0 would store every tiny eager
# op as well).
CACHE_MIN_COMPILE_SECONDS = 0.1
FAST_COMPILE_SWITCH = 'EQUIVLAB_FAST_COMPILE'
FAST_COMPILE_FLAG = '--xla_cpu_use_fusion_emitters=false'
_cache_counts = {'hits': 0, 'misses': 0, 'compile_seconds': 0.0}
_listening = []   # [True] once the counters are registered with JAX


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


def fast_compile_xla_flags(environ: dict[str, str], *,
                           default: bool) -> str | None:
  """The ``XLA_FLAGS`` :func:`use_fast_compile` sets, or None to leave them:
  off by ``EQUIVLAB_FAST_COMPILE`` ('0', 'off', ...; when unset, on if
  ``default``), or the flags already name the option."""
  switch = environ.get(FAST_COMPILE_SWITCH, '').strip().lower()
  if switch in OFF_VALUES or (not switch and not default):
    return None
  flags = environ.get('XLA_FLAGS', '')
  if 'xla_cpu_use_fusion_emitters' in flags:
    return None
  return f'{flags} {FAST_COMPILE_FLAG}'.strip()


def without_fast_compile(environ: dict[str, str], *, setting: bool | None
                         ) -> dict[str, str]:
  """A copy of ``environ`` for a child process whose code generation is its
  own: :data:`FAST_COMPILE_FLAG` removed from ``XLA_FLAGS`` (where a parent's
  :func:`use_fast_compile` put it), and ``EQUIVLAB_FAST_COMPILE`` set to
  ``'1'`` / ``'0'`` for ``setting`` True / False (None: left as it is)."""
  env = dict(environ)
  flags = env.get('XLA_FLAGS', '').replace(FAST_COMPILE_FLAG, '')
  env['XLA_FLAGS'] = ' '.join(flags.split())
  if setting is not None:
    env[FAST_COMPILE_SWITCH] = '1' if setting else '0'
  return env


def use_fast_compile(*, default: bool) -> bool:
  """Adds :data:`FAST_COMPILE_FLAG` to this process's ``XLA_FLAGS`` (see the
  module doc); True if it did. Subprocesses inherit it.

  Args:
    default: whether to add it when ``EQUIVLAB_FAST_COMPILE`` is unset
      (``main.py``, the test suite and ``benchmarks.compile_time``: True).

  Raises:
    RuntimeError: if JAX's backend has already started (the flag would not
      apply to this process).
  """
  flags = fast_compile_xla_flags(dict(os.environ), default=default)
  if flags is None:
    return False
  from jax._src import xla_bridge  # pylint: disable=g-import-not-at-top
  if xla_bridge.backends_are_initialized():
    raise RuntimeError('use_fast_compile() must run before the first JAX '
                       'computation: XLA reads XLA_FLAGS when it starts.')
  os.environ['XLA_FLAGS'] = flags
  return True


def compilation_cache_dir(environ: dict[str, str] | None = None
                          ) -> str | None:
  """The persistent-cache folder :func:`use_compilation_cache` would use, or
  None when ``EQUIVLAB_COMPILATION_CACHE`` turns it off ('0', 'off', ...)."""
  environ = os.environ if environ is None else environ
  value = environ.get(CACHE_SWITCH, '').strip()
  if value.lower() in OFF_VALUES:
    return None
  if value:
    return os.path.abspath(os.path.expanduser(value))
  base = environ.get('XDG_CACHE_HOME') or os.path.join(
      os.path.expanduser('~'), '.cache')
  return os.path.join(base, 'equivlab', 'jax')


def _count(event: str, **_) -> None:
  if event.endswith('/compilation_cache/cache_hits'):
    _cache_counts['hits'] += 1
  elif event.endswith('/compilation_cache/cache_misses'):
    _cache_counts['misses'] += 1


def _time(event: str, seconds: float, **_) -> None:
  if event.endswith('backend_compile_duration'):
    _cache_counts['compile_seconds'] += seconds


def use_compilation_cache(environ: dict[str, str] | None = None
                          ) -> str | None:
  """Turns on JAX's persistent compilation cache (see the module doc).

  Call it before the first compilation. Returns the folder, or None when
  ``EQUIVLAB_COMPILATION_CACHE=0`` turns it off.
  """
  path = compilation_cache_dir(environ)
  if path is None:
    return None
  import jax  # pylint: disable=g-import-not-at-top
  os.makedirs(path, exist_ok=True)
  jax.config.update('jax_compilation_cache_dir', path)
  jax.config.update('jax_persistent_cache_min_compile_time_secs',
                    CACHE_MIN_COMPILE_SECONDS)
  jax.config.update('jax_persistent_cache_min_entry_size_bytes', 0)
  if not _listening:  # a second call must not count every event twice
    jax.monitoring.register_event_listener(_count)
    jax.monitoring.register_event_duration_secs_listener(_time)
    _listening.append(True)
  return path


def cache_report() -> str:
  """'compilation cache: N loaded, M compiled; S s compiling' since this
  process started (programs compiled faster than
  ``CACHE_MIN_COMPILE_SECONDS`` are neither loaded nor stored, but their
  seconds count)."""
  return (f"compilation cache: {_cache_counts['hits']} programs loaded, "
          f"{_cache_counts['misses']} compiled and stored; "
          f"{_cache_counts['compile_seconds']:.1f} s compiling in all")
