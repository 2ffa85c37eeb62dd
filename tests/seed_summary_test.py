"""experiments.seed_summary: reading study results and the spread over seeds."""

import csv
import os
import shutil
import subprocess
import sys
import tempfile

from absl.testing import absltest
import numpy as np

from experiments import seed_summary
# Defines --out too: importing both in one process (as a pytest worker may)
# must not raise absl's DuplicateFlagError.
from experiments import trained_runs  # pylint: disable=unused-import

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _write(path, rows):
  with open(path, 'w', newline='') as f:
    writer = csv.DictWriter(f, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)


def _row(label, error, steps=100):
  return dict(label=label, description='d', params=10, steps=steps,
              num_eval=1000, test_error=error, test_error_ci95_low=error / 2,
              test_error_ci95_high=error * 2, total_seconds=5.0)


class SeedSummaryTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.dir = tempfile.mkdtemp()
    self.addCleanup(shutil.rmtree, self.dir)

  def _csv(self, name, *rows):
    path = os.path.join(self.dir, name)
    _write(path, list(rows))
    return path

  def test_mean_and_sample_std(self):
    errors = (0.0314, 0.0228, 0.0250)
    results = {f'seed{i}': seed_summary.load_result(
        self._csv(f'r{i}.csv', _row('p4cnn', e))) for i, e in enumerate(errors)}
    rows = seed_summary.summarize(results)
    self.assertEqual([r['run'] for r in rows],
                     ['seed0', 'seed1', 'seed2', 'mean', 'std'])
    self.assertAlmostEqual(rows[-2]['test_error'], np.mean(errors))
    self.assertAlmostEqual(rows[-1]['test_error'], np.std(errors, ddof=1))
    self.assertAlmostEqual(rows[-1]['sem'], np.std(errors, ddof=1) / np.sqrt(3))
    self.assertEqual((rows[-2]['min'], rows[-2]['max']), (0.0228, 0.0314))
    table = seed_summary.markdown_table(rows)
    self.assertIn('**2.64 %**', table)  # mean of 3.14, 2.28, 2.50
    self.assertIn('std 0.45', table)

  def test_one_run_has_no_spread(self):
    rows = seed_summary.summarize({'seed0': seed_summary.load_result(
        self._csv('r.csv', _row('p4cnn', 0.02)))})
    self.assertTrue(np.isnan(rows[-1]['test_error']))
    self.assertIn('n/a (one run)', seed_summary.markdown_table(rows))

  def test_label_picks_a_row(self):
    path = self._csv('r.csv', _row('a', 0.1), _row('b', 0.2))
    self.assertEqual(seed_summary.load_result(path, 'b')['test_error'], 0.2)
    with self.assertRaisesRegex(ValueError, r'expected one row.*--label'):
      seed_summary.load_result(path)

  def test_bad_inputs(self):
    with self.assertRaisesRegex(ValueError, 'NAME=PATH'):
      seed_summary.parse_results_flag('runs/x/results.csv')
    with self.assertRaisesRegex(ValueError, 'is not a file'):
      seed_summary.load_result(os.path.join(self.dir, 'missing.csv'))
    row = _row('p4cnn', 0.1)
    del row['num_eval']
    with self.assertRaisesRegex(ValueError, r"lacks the columns \['num_eval'\]"):
      seed_summary.load_result(self._csv('bad.csv', row))
    with self.assertRaisesRegex(ValueError, 'at least one run'):
      seed_summary.summarize({})

  def test_command_writes_tables(self):
    a = self._csv('a.csv', _row('p4cnn', 0.03))
    b = self._csv('b.csv', _row('p4cnn', 0.02))
    out = os.path.join(self.dir, 'out')
    subprocess.run([sys.executable, '-m', 'experiments.seed_summary',
                    f'--results=s0={a}', f'--results=s1={b}', f'--out={out}'],
                   check=True, cwd=_ROOT, capture_output=True)
    with open(os.path.join(out, 'seeds.csv')) as f:
      rows = list(csv.DictReader(f))
    self.assertEqual(float(rows[2]['test_error']), 0.025)
    with open(os.path.join(out, 'seeds.md')) as f:
      self.assertIn('**2.50 %**', f.read())


if __name__ == '__main__':
  absltest.main()
