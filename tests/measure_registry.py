"""Measures every registry case over many draws; writes or checks the table.

    python -m tests.measure_registry [--examples 100] [--filter NAME]
    python -m tests.measure_registry --write [--examples 100]   # the file below
    python -m tests.measure_registry --check [--filter NAME]    # re-measure it
    python -m tests.measure_registry --update [--filter NAME]   # new cases only

For each case: the smallest, median and largest per-draw relative error
(largest over the batch for exact/approximate cases, batch mean for negative
controls, as the assertions use them). This is how the bounds of the
approximate cases (and the margins of the negative controls) in tests/cases/
are chosen. The committed figures live in ONE generated file,
:data:`TABLE_PATH` (docs/generated/registry_errors.md), between marker lines;
the docs and the comments of tests/cases/ point there instead of copying
numbers.

``--write`` measures every case (each at ``--examples`` draws; about an hour
at 100 draws on 2 CPU cores) and rewrites the table. ``--check`` re-measures
the rows of the committed table (``--filter`` picks some), each at the
number of draws its row states, and exits 1 when a row disagrees: see
:func:`compare` for what agreeing means. ``--update`` measures only the
cases the table lacks (a new case, or a changed tier or bound) and those
matching ``--filter``, and keeps every other row as committed. tests/registry_errors_test.py checks
the committed table against the registry on every test run (cheap: no
measuring) and re-measures :data:`SPOT_CHECK`.
"""

import argparse
import dataclasses
import os
import re
import sys

import hypothesis
import numpy as np
from hypothesis import strategies as st

import groups
from groups import testing

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TABLE_PATH = os.path.join('docs', 'generated', 'registry_errors.md')
BEGIN = '<!-- registry-errors:begin (python -m tests.measure_registry --write) -->'
END = '<!-- registry-errors:end -->'
HEADER = ('| case | expect | bound | draws | min | median | max |\n'
          '|---|---|---|---|---|---|---|')
# Relative agreement of re-measured approximate / must-break figures with the
# committed ones (the file rounds to 2 significant figures; CPUs round the
# last bits differently, AVX-512 vs AVX2, which may move a figure a little).
RTOL = 0.15
# Errors below this are float32 rounding (the exact tier's bound): they differ
# between CPUs in every digit, so they are compared only as "below FLOOR".
FLOOR = 1e-5
# Re-measured by tests/registry_errors_test.py on every run (the bounds of the
# two approximate translation facts were chosen from these figures).
SPOT_CHECK = ('net_max_blur_pool/one_pixel_shift', 'conv_relu/subpixel_shift')


@dataclasses.dataclass(frozen=True)
class Row:
  case: str
  expect: str
  bound: float
  draws: int
  min: float
  median: float
  max: float

  def markdown(self) -> str:
    figures = ' | '.join(f'{value:.2g}' for value in
                         (self.min, self.median, self.max))
    return (f'| {self.case} | {self.expect} | {self.bound:g} | {self.draws} | '
            f'{figures} |')


def measure(case: testing.Case, examples: int) -> np.ndarray:
  """Per-draw errors of ``case`` over ``examples`` derandomized draws."""
  errors = []

  # The draws depend on hypothesis' version (pinned in requirements.txt), on
  # this function's code (derandomized by its digest), on ``examples`` and
  # on the literals of the project's modules imported so far (hypothesis
  # draws one of them now and then): not on the case.
  @hypothesis.settings(max_examples=examples, derandomize=True, deadline=None,
                       database=None,
                       suppress_health_check=list(hypothesis.HealthCheck))
  @hypothesis.given(data=st.data())
  def run(data):
    trial = case.draw(data.draw)
    per_example = np.asarray(groups.equivariance_error(
        trial.fn, trial.x, trial.transform, trial.output_transform,
        mask=trial.mask))
    reduce = np.mean if case.expect == testing.BREAKS else np.max
    errors.append(float(reduce(per_example)))

  run()
  return np.asarray(errors)


def measure_row(case: testing.Case, examples: int) -> Row:
  errors = measure(case, examples)
  return Row(case.name, case.expect, case.bound, len(errors),
             float(errors.min()), float(np.median(errors)),
             float(errors.max()))


def parse_table(text: str) -> list[Row]:
  """The rows between :data:`BEGIN` and :data:`END` of a generated file."""
  try:
    body = text[text.index(BEGIN) + len(BEGIN):text.index(END)]
  except ValueError as error:
    raise ValueError(f'{TABLE_PATH} lacks its marker lines') from error
  rows = []
  for line in body.strip().splitlines()[2:]:  # after the header
    cells = [cell.strip() for cell in line.strip().strip('|').split('|')]
    rows.append(Row(cells[0], cells[1], float(cells[2]), int(cells[3]),
                    *(float(cell) for cell in cells[4:7])))
  return rows


def read_table(path: str = TABLE_PATH) -> list[Row]:
  with open(os.path.join(REPO, path), encoding='utf-8') as f:
    return parse_table(f.read())


def structure_problems(rows: list[Row], registry: testing.Registry
                       ) -> list[str]:
  """Differences between the table's rows and the registry's cases.

  The rows must name every case once, in registry order, with the case's
  current tier and bound (a changed bound or a new case needs ``--write``).
  """
  table = [(row.case, row.expect, row.bound) for row in rows]
  facts = [(case.name, case.expect, case.bound) for case in registry]
  problems = [f'not in the registry any more: {fact}' for fact in table
              if fact not in facts]
  problems += [f'not in the table: {fact}' for fact in facts
               if fact not in table]
  if not problems and table != facts:
    problems.append('rows are not in registry order')
  return problems


def bound_problems(rows: list[Row]) -> list[str]:
  """Rows whose documented bound does not hold for their measured errors."""
  problems = []
  for row in rows:
    if row.expect == testing.BREAKS and row.min < row.bound:
      problems.append(f'{row.case}: smallest error {row.min:.2g} is below '
                      f'the must-break bound {row.bound:g}')
    if row.expect != testing.BREAKS and row.max > row.bound:
      problems.append(f'{row.case}: largest error {row.max:.2g} is above '
                      f'the bound {row.bound:g}')
  return problems


def compare(committed: Row, measured: Row, *, rtol: float = RTOL) -> list[str]:
  """Why ``measured`` disagrees with the ``committed`` row (empty: agrees).

  Tier, bound and number of draws must be equal. Exact rows: the largest
  error must stay below the bound (their figures are float rounding and
  differ between CPUs). Approximate and must-break rows: min, median and
  max, each either both below :data:`FLOOR` or within ``rtol`` relative of
  the committed figure.
  """
  problems = []
  for field in ('expect', 'bound', 'draws'):
    if getattr(committed, field) != getattr(measured, field):
      problems.append(f'{field}: committed {getattr(committed, field)}, '
                      f'measured {getattr(measured, field)}')
  problems += bound_problems([measured])
  if committed.expect != testing.EXACT:
    for field in ('min', 'median', 'max'):
      old, new = getattr(committed, field), getattr(measured, field)
      if old < FLOOR and new < FLOOR:
        continue
      if abs(new - old) > rtol * max(abs(old), FLOOR):
        problems.append(f'{field}: committed {old:.2g}, measured {new:.2g} '
                        f'(tolerance {rtol:.0%})')
  return [f'{committed.case}: {problem}' for problem in problems]


def render(rows: list[Row], examples: int) -> str:
  """The generated file; ``examples`` is the ``--write`` run's draws (rows
  measured since by ``--update`` may state other draws)."""
  lines = '\n'.join(row.markdown() for row in rows)
  command = f'`python -m tests.measure_registry --write --examples {examples}`'
  if any(row.draws != examples for row in rows):
    command += (' and `--update` (rows of new cases; the draws column says '
                'how many each row measured)')
  return f"""# Measured errors of the registry's facts

Generated by {command};
do not edit by hand. One row per case of `tests/cases/` (registry order): its
tier, its bound (for `breaks`, the least error it must show) and, over the
derandomized hypothesis draws, the smallest, median and largest per-draw
relative error ‖f(Tx) − T′f(x)‖ / ‖T′f(x)‖ (per draw: the largest over the
batch for `exact` and `approximate` facts, the batch mean for `breaks`, as
the assertions use them). What checks this file:
[testing.md](../testing.md#measured-errors-of-the-registry).

{BEGIN}
{HEADER}
{lines}
{END}
"""


def _cases(registry: testing.Registry, name_filter: str):
  return [case for case in registry if name_filter in case.name]


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--examples', type=int, default=100)
  parser.add_argument('--filter', default='',
                      help='cases whose name contains this (--check: any of '
                      'several, comma-separated)')
  mode = parser.add_mutually_exclusive_group()
  mode.add_argument('--write', action='store_true',
                    help=f'measure every case, rewrite {TABLE_PATH}')
  mode.add_argument('--check', action='store_true',
                    help=f're-measure the rows of {TABLE_PATH}')
  mode.add_argument('--update', action='store_true',
                    help=f'measure the cases {TABLE_PATH} lacks (new, or '
                    'a changed tier or bound) and those matching --filter; '
                    'keep the other rows as committed')
  args = parser.parse_args(argv)
  from tests import cases  # pylint: disable=g-import-not-at-top
  if args.write:
    if args.filter:
      parser.error('--write measures every case; --filter is for --check')
    rows = []
    for case in cases.REGISTRY:
      rows.append(measure_row(case, args.examples))
      print(rows[-1].markdown(), flush=True)
    os.makedirs(os.path.join(REPO, os.path.dirname(TABLE_PATH)), exist_ok=True)
    with open(os.path.join(REPO, TABLE_PATH), 'w', encoding='utf-8') as f:
      f.write(render(rows, args.examples))
    print(f'wrote {TABLE_PATH}')
    return 0
  if args.update:
    with open(os.path.join(REPO, TABLE_PATH), encoding='utf-8') as f:
      written = re.search(r'--write --examples (\d+)', f.read())
    kept = {(row.case, row.expect, row.bound): row for row in read_table()}
    rows = []
    for case in cases.REGISTRY:
      row = kept.get((case.name, case.expect, case.bound))
      if row is None or (args.filter and args.filter in case.name):
        row = measure_row(case, args.examples)
        print(row.markdown(), flush=True)
      rows.append(row)
    with open(os.path.join(REPO, TABLE_PATH), 'w', encoding='utf-8') as f:
      f.write(render(rows, int(written.group(1)) if written else
                     args.examples))
    print(f'wrote {TABLE_PATH}')
    return 0
  if args.check:
    committed = read_table()
    problems = structure_problems(committed, cases.REGISTRY)
    problems += bound_problems(committed)
    filters = args.filter.split(',')   # any of several substrings
    for row in committed:
      if (any(f in row.case for f in filters) and
          row.case in cases.REGISTRY):
        measured = measure_row(cases.REGISTRY[row.case], row.draws)
        print(measured.markdown(), flush=True)
        problems += compare(row, measured)
    print('\n'.join(problems) or f'{TABLE_PATH} agrees')
    return 1 if problems else 0
  print(HEADER)
  for case in _cases(cases.REGISTRY, args.filter):
    print(measure_row(case, args.examples).markdown(), flush=True)
  return 0


if __name__ == '__main__':
  sys.exit(main())
