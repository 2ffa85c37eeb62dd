"""Where a test run's XLA compile time goes: per test file and per program.

A pytest plugin, opt-in, and its report::

    python -m pytest -p tests.compile_profile --compile-profile=/tmp/cp [...]
    python -m tests.compile_profile /tmp/cp            # the tables
    python -m tests.compile_profile /tmp/cp --top 40

With the option, every pytest process (each xdist worker too) turns on
``jax_log_compiles``, reads JAX's "Finished XLA compilation of NAME in S sec"
log records, and writes ``<dir>/compiles-<pid>.tsv`` (test file, program
name, seconds) when it finishes. The report sums them per test file and per
program name (``jit(_truncated_normal)``, ``jit(fn)``, ...), with counts: a
program compiled many times with small shapes (an eager op in a loop over
draws) and a few big ones look different there. Only XLA's backend compile is
counted (not tracing or lowering), and subprocesses a test starts are not.
"""

from __future__ import annotations

import argparse
import collections
import glob
import logging
import os
import re

_FINISHED = re.compile(r'Finished XLA compilation of (.+?) in ([\d.e+-]+) sec')


class _Recorder(logging.Handler):
  """Collects (test file, program, seconds) from JAX's compile log."""

  def __init__(self):
    super().__init__(level=logging.DEBUG)
    self.current = '(collection)'
    self.rows = []

  def emit(self, record: logging.LogRecord) -> None:
    match = _FINISHED.search(record.getMessage())
    if match:
      self.rows.append((self.current, match.group(1), float(match.group(2))))


_RECORDER = _Recorder()


def pytest_addoption(parser):
  parser.addoption('--compile-profile', default=None, metavar='DIR',
                   help='write each process\'s XLA compile log to DIR '
                   '(python -m tests.compile_profile DIR reports it)')


def pytest_configure(config):
  folder = config.getoption('compile_profile')
  if not folder:
    return
  os.makedirs(folder, exist_ok=True)
  import jax  # pylint: disable=g-import-not-at-top
  jax.config.update('jax_log_compiles', True)
  logger = logging.getLogger('jax')
  logger.addHandler(_RECORDER)
  # JAX logs compiles at WARNING with jax_log_compiles; keep them off stderr.
  logger.propagate = False
  config.stash_compile_profile = folder  # pylint: disable=protected-access


def pytest_runtest_logstart(nodeid, location):
  del location
  _RECORDER.current = nodeid.split('::')[0]


def pytest_unconfigure(config):
  folder = getattr(config, 'stash_compile_profile', None)
  if not folder or not _RECORDER.rows:
    return
  path = os.path.join(folder, f'compiles-{os.getpid()}.tsv')
  with open(path, 'w', encoding='utf-8') as f:
    for test_file, program, seconds in _RECORDER.rows:
      f.write(f'{test_file}\t{program}\t{seconds:.6f}\n')


def read(folder: str) -> list[tuple[str, str, float]]:
  """Every ``(test file, program, seconds)`` row written into ``folder``."""
  paths = sorted(glob.glob(os.path.join(folder, 'compiles-*.tsv')))
  if not paths:
    raise ValueError(f'folder {folder!r} holds no compiles-*.tsv file: run '
                     'pytest with -p tests.compile_profile '
                     '--compile-profile=FOLDER first.')
  rows = []
  for path in paths:
    with open(path, encoding='utf-8') as f:
      for line in f:
        test_file, program, seconds = line.rstrip('\n').split('\t')
        rows.append((test_file, program, float(seconds)))
  return rows


def report(rows: list[tuple[str, str, float]], top: int = 25) -> str:
  """Markdown tables: compile seconds and counts per test file, per program."""
  if top < 1:
    raise ValueError(f'top must be >= 1; got {top}.')
  tables = []
  total = sum(seconds for _, _, seconds in rows)
  tables.append(f'{len(rows)} compiles, {total:.1f} s of XLA compile in all\n')
  for title, key in (('test file', 0), ('program', 1)):
    seconds = collections.Counter()
    counts = collections.Counter()
    for row in rows:
      seconds[row[key]] += row[2]
      counts[row[key]] += 1
    lines = [f'| s | compiles | {title} |', '|---:|---:|---|']
    for name, value in seconds.most_common(top):
      lines.append(f'| {value:.1f} | {counts[name]} | `{name}` |')
    tables.append('\n'.join(lines) + '\n')
  return '\n'.join(tables)


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('folder')
  parser.add_argument('--top', type=int, default=25)
  args = parser.parse_args(argv)
  print(report(read(args.folder), args.top))


if __name__ == '__main__':
  main()
