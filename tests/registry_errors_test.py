"""The committed table of measured registry errors matches the registry.

docs/generated/registry_errors.md is written by ``python -m
tests.measure_registry --write``. Every run checks, without measuring, that
it lists every case of tests/cases/ once, in order, with the case's current
tier and bound, and that every bound holds for the committed figures; then it
re-measures the cases of ``measure_registry.SPOT_CHECK`` at the committed
number of draws and compares them (``measure_registry.compare``: within 15 %,
figures below 1e-5 only as "below"), in a fresh interpreter, as the script
runs. Hypothesis sometimes draws a literal constant of the project's own
modules (those in ``sys.modules`` at the time, cached per file in
``.hypothesis/constants``), so a long-lived test worker that has imported
more modules draws other inputs; so does another hypothesis release
(6.170.27 extracts other constants: conv_relu/subpixel_shift's max became
0.059), which is why ``requirements.txt`` pins it. ``python -m
tests.measure_registry --check`` re-measures every row (about an hour on 2
CPU cores).
"""

import dataclasses
import os
import subprocess
import sys

from absl.testing import absltest
from absl.testing import parameterized

from groups import testing
from tests import cases
from tests import measure_registry


def _row(case, expect, bound, draws, low, median, high):
  return measure_registry.Row(case, expect, bound, draws, low, median, high)


class RegistryErrorsTableTest(parameterized.TestCase):

  def test_table_lists_every_case_with_its_tier_and_bound(self):
    problems = measure_registry.structure_problems(
        measure_registry.read_table(), cases.REGISTRY)
    self.assertEmpty(problems, 'regenerate with `python -m '
                     'tests.measure_registry --write`:\n' + '\n'.join(problems))

  def test_every_bound_holds_for_the_committed_errors(self):
    self.assertEmpty(measure_registry.bound_problems(
        measure_registry.read_table()))

  def test_spot_check_remeasures_as_committed(self):
    result = subprocess.run(
        [sys.executable, '-m', 'tests.measure_registry', '--check',
         '--filter', ','.join(measure_registry.SPOT_CHECK)],
        cwd=measure_registry.REPO, capture_output=True, text=True,
        timeout=600, check=False,
        env={**os.environ, 'JAX_PLATFORMS': 'cpu'})
    self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
    for name in measure_registry.SPOT_CHECK:
      self.assertIn(f'| {name} |', result.stdout)

  def test_table_round_trips_through_render_and_parse(self):
    rows = [_row('a/b', testing.EXACT, 1e-5, 20, 0.0, 1.2e-7, 3.4e-7),
            _row('c/d', testing.BREAKS, 0.01, 20, 0.27, 0.65, 1.4)]
    self.assertEqual(
        measure_registry.parse_table(measure_registry.render(rows, 20)), rows)

  def test_checks_fail_on_drift(self):
    committed = _row('c/d', testing.APPROXIMATE, 0.1, 20, 1e-7, 0.02, 0.05)
    self.assertEmpty(measure_registry.compare(
        committed, _row('c/d', testing.APPROXIMATE, 0.1, 20, 3e-8, 0.021,
                        0.052)))  # rounding-level min, a few % elsewhere
    self.assertNotEmpty(measure_registry.compare(
        committed, _row('c/d', testing.APPROXIMATE, 0.1, 20, 1e-7, 0.03,
                        0.05)))  # median moved by half
    self.assertNotEmpty(measure_registry.compare(
        committed, _row('c/d', testing.APPROXIMATE, 0.1, 40, 1e-7, 0.02,
                        0.05)))  # other draws
    self.assertNotEmpty(measure_registry.bound_problems(
        [_row('e/f', testing.BREAKS, 0.1, 20, 0.05, 1.0, 2.0)]))
    self.assertNotEmpty(measure_registry.bound_problems(
        [_row('g/h', testing.EXACT, 1e-5, 20, 0.0, 0.0, 2e-5)]))
    registry = testing.Registry(list(cases.REGISTRY)[:2])
    rows = [_row(case.name, case.expect, case.bound, 20, 0, 0, 0)
            for case in registry]
    self.assertEmpty(measure_registry.structure_problems(rows, registry))
    self.assertNotEmpty(measure_registry.structure_problems(rows[:1], registry))
    self.assertNotEmpty(measure_registry.structure_problems(rows[::-1],
                                                            registry))
    moved = [dataclasses.replace(rows[0], bound=rows[0].bound * 2), rows[1]]
    self.assertNotEmpty(measure_registry.structure_problems(moved, registry))


if __name__ == '__main__':
  absltest.main()
