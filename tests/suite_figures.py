"""Writes the suite's figures (test count, time of a full run) into the docs.

    python -m tests.suite_figures --write         # full `python -m pytest`, ~10 min
    python -m tests.suite_figures --write-count   # the count only (collection, ~1 min)
    python -m tests.suite_figures --check         # the count only, exit 1 if stale

The figures live in ONE place, between the marker lines of
:data:`DOC_PATH` (docs/testing.md, "Running the tests"); the README links
there. The test count is checked on every full default run: tests/conftest.py
compares ``session.testscollected`` of ``python -m pytest`` (no paths, ``-k``,
``-m`` or ``--deselect``) with :func:`documented_count` and fails the run when
they differ. Times cannot be checked by a test, so ``--write`` measures them:
it runs the suite as CI does (plus ``--durations=20``) and writes the pytest
summary's counts and seconds, with the machine's CPU and core count, and the
20 slowest test phases of that run.
"""

import argparse
import datetime
import os
import re
import subprocess
import sys

from benchmarks import common

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC_PATH = os.path.join('docs', 'testing.md')
BEGIN = '<!-- suite-figures:begin (python -m tests.suite_figures --write) -->'
END = '<!-- suite-figures:end -->'
_COUNT = re.compile(r'collects \*\*(\d+) tests\*\*')
_SUMMARY = re.compile(r'^=+ (?P<counts>.*?) in (?P<seconds>[\d.]+)s\b.*=+$',
                      re.MULTILINE)
_COLLECTED = re.compile(r'^(\d+) tests? collected', re.MULTILINE)
_DURATION = re.compile(r'^([\d.]+)s (setup|call|teardown) +(\S+)$', re.MULTILINE)
SLOWEST = 20


def _read_doc() -> str:
  with open(os.path.join(REPO, DOC_PATH), encoding='utf-8') as f:
    return f.read()


def _block(text: str) -> str:
  try:
    return text[text.index(BEGIN) + len(BEGIN):text.index(END)]
  except ValueError as error:
    raise ValueError(f'{DOC_PATH} lacks the suite-figures marker lines'
                     ) from error


def documented_count() -> int:
  """The number of tests docs/testing.md says ``python -m pytest`` collects."""
  match = _COUNT.search(_block(_read_doc()))
  if not match:
    raise ValueError(f'no "collects **N tests**" in the block of {DOC_PATH}')
  return int(match.group(1))


def count_mismatch(collected: int) -> str | None:
  """A message when ``collected`` differs from the documented count."""
  documented = documented_count()
  if collected == documented:
    return None
  return (f'python -m pytest collected {collected} tests; {DOC_PATH} says '
          f'{documented}. Update it: python -m tests.suite_figures '
          '--write-count (or --write, which also times a full run).')


def _replace_block(block: str) -> None:
  text = _read_doc()
  start = text.index(BEGIN) + len(BEGIN)
  text = text[:start] + '\n' + block.strip() + '\n' + text[text.index(END):]
  with open(os.path.join(REPO, DOC_PATH), 'w', encoding='utf-8') as f:
    f.write(text)


def collected_count() -> int:
  """``python -m pytest --collect-only -q``'s count (serial collection)."""
  result = subprocess.run(
      [sys.executable, '-m', 'pytest', '--collect-only', '-q', '-n', '0'],
      cwd=REPO, capture_output=True, text=True, check=False)
  match = _COLLECTED.search(result.stdout)
  if result.returncode not in (0, 1) or not match:  # 1: the count differs
    raise RuntimeError(f'collection failed:\n{result.stdout[-3000:]}\n'
                       f'{result.stderr[-3000:]}')
  return int(match.group(1))


def parse_summary(output: str) -> tuple[dict[str, int], float]:
  """``({'passed': n, 'skipped': m, ...}, seconds)`` of pytest's last line."""
  matches = list(_SUMMARY.finditer(output))
  if not matches:
    raise ValueError('no pytest summary line in the output')
  counts = {}
  for part in matches[-1]['counts'].split(','):
    number, word = part.split(maxsplit=1)  # '64 subtests passed'
    counts[word] = int(number)
  return counts, float(matches[-1]['seconds'])


def count_sentence(count: int) -> str:
  return f'`python -m pytest` collects **{count} tests**.'


def time_sentence(counts: dict[str, int], seconds: float) -> str:
  outcome = ', '.join(f'{n} {word}' for word, n in counts.items())
  return (f'Last timed full run (`python -m tests.suite_figures --write`, '
          f'{datetime.date.today():%Y-%m}, {os.cpu_count()} cores of '
          f'{common.cpu_name()}, {common.cpu_isa()}): {outcome}; pytest '
          f'{seconds:.0f} s.')


def count_tests(counts: dict[str, int]) -> int:
  """Tests in a summary's counts (not warnings, not subtests)."""
  return sum(n for word, n in counts.items()
             if word != 'warnings' and not word.startswith('subtests'))


def parse_slowest(output: str) -> list[tuple[float, str, str]]:
  """``[(seconds, phase, test id)]`` of pytest's ``--durations`` report."""
  return [(float(t), phase, name) for t, phase, name in
          _DURATION.findall(output)]


def slowest_table(rows: list[tuple[float, str, str]]) -> str:
  lines = [f'The {len(rows)} slowest test phases of that run (`--durations='
           f'{SLOWEST}`; a class\'s set-up counts for its first test):',
           '',
           '| s | phase | test |', '|---:|---|---|']
  lines += [f'| {t:.1f} | {phase} | `{name}` |' for t, phase, name in rows]
  return '\n'.join(lines)


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  mode = parser.add_mutually_exclusive_group(required=True)
  mode.add_argument('--write', action='store_true')
  mode.add_argument('--write-count', action='store_true')
  mode.add_argument('--check', action='store_true')
  args = parser.parse_args(argv)
  if args.check:
    message = count_mismatch(collected_count())
    print(message or f'{DOC_PATH}: the test count is current')
    return 1 if message else 0
  if args.write_count:
    lines = _block(_read_doc()).strip().splitlines()
    timed = [line for line in lines if not _COUNT.search(line)]
    _replace_block('\n'.join([count_sentence(collected_count())] + timed))
    print(f'wrote the count into {DOC_PATH}')
    return 0
  result = subprocess.run(
      [sys.executable, '-m', 'pytest', f'--durations={SLOWEST}'], cwd=REPO,
      capture_output=True, text=True, check=False)
  counts, seconds = parse_summary(result.stdout)
  # Exit 1 with only passes is the stale count this run rewrites.
  passing = {'passed', 'skipped', 'warnings', 'subtests passed',
             'subtests skipped'}
  if result.returncode != 0 and set(counts) - passing:
    print(result.stdout[-3000:])
    print('not written: the run did not pass')
    return 1
  total = count_tests(counts)
  _replace_block(count_sentence(total) + '\n' + time_sentence(counts, seconds)
                 + '\n\n' + slowest_table(parse_slowest(result.stdout)))
  print(f'wrote {DOC_PATH}: {counts}, {seconds:.0f} s')
  return 0


if __name__ == '__main__':
  sys.exit(main())
