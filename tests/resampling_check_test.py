"""experiments/resampling_check.py: test digits resampled once more."""

import os
import subprocess
import sys

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from experiments import resampling_check as rc
from tests import tiny_runs


class SignTestTest(parameterized.TestCase):

  @parameterized.parameters(
      (0, 0, 1.0), (3, 3, 1.0), (0, 5, 2 / 32), (5, 0, 2 / 32),
      # n = 10, k = 1: 2 * (1 + 10) / 1024
      (1, 9, 22 / 1024))
  def test_exact_values(self, fixed, broken, expected):
    self.assertAlmostEqual(rc.sign_test_p(fixed, broken), expected, places=12)

  def test_even_split_of_many_is_not_significant_uneven_is(self):
    self.assertGreater(rc.sign_test_p(500, 520), 0.5)
    self.assertLess(rc.sign_test_p(400, 600), 1e-9)

  def test_rejects_negative_counts(self):
    with self.assertRaisesRegex(ValueError, r'^broken must be in 0\.\.inf; got -1'):
      rc.sign_test_p(1, -1)


class TurnedAgainTest(absltest.TestCase):

  def test_both_orders_turn_by_the_same_angles(self):
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(5, 9, 9, 1)).astype(np.float32)
    nearest = rc.turned_again(images, 0, seed=3)
    # Nearest neighbour only copies pixels (or zeros from outside).
    for turned, original in zip(nearest, images):
      self.assertTrue(np.all(np.isin(turned, np.append(original, 0.0))))
    # Same angles: a one-pixel dot 4 pixels from the centre lands, with
    # nearest neighbour, within half a pixel (per axis) of the centre of
    # mass of its bilinear copy.
    dot = np.zeros((5, 15, 15, 1), np.float32)
    dot[:, 7, 11] = 1.0
    grid = np.stack(np.meshgrid(np.arange(15), np.arange(15), indexing='ij'),
                    -1)

    def positions(turned):
      weights = turned[..., 0] / turned.sum(axis=(1, 2, 3))[:, None, None]
      return np.einsum('nhw,hwk->nk', weights, grid)

    near = positions(rc.turned_again(dot, 0, seed=3))
    lin = positions(rc.turned_again(dot, 1, seed=3))
    np.testing.assert_array_less(np.abs(near - lin), 0.5 + 1e-6)
    # Negative control: another seed turns the dot elsewhere.
    other = positions(rc.turned_again(dot, 0, seed=4))
    self.assertGreater(np.max(np.abs(other - lin)), 2.0)

  def test_rejects_bad_shape(self):
    with self.assertRaisesRegex(ValueError, r'^images must be \[N, H, W, C\]'):
      rc.turned_again(np.zeros((4, 4, 1)), 1)


class CheckTrainedRunTest(absltest.TestCase):

  def test_rows_of_a_tiny_run(self):
    _, result, trained = tiny_runs.trained_tiny_p4cnn(self)
    rows = rc.check(trained, batch_size=8)
    self.assertEqual([r['test_digits'] for r in rows],
                     [name for name, _ in rc.RESAMPLINGS])
    n = len(trained.labels)
    self.assertAlmostEqual(rows[0]['test_error'],
                           1 - float(result.metrics['eval/accuracy']),
                           places=6)
    for row in rows[1:]:
      # Paired counts: the error moves by (broken - fixed) digits.
      self.assertEqual(round(n * (row['test_error'] - rows[0]['test_error'])),
                       row['broken'] - row['fixed'])
      self.assertBetween(row['sign_test_p'], 0.0, 1.0)
    self.assertEqual(rc.check(trained, limit=5)[0]['n'], min(5, n))
    with self.assertRaisesRegex(ValueError, r'^limit must be in 1\.\.inf; got 0'):
      rc.check(trained, limit=0)


if __name__ == '__main__':
  absltest.main()


class CommandLineTest(absltest.TestCase):

  def test_bad_limit_is_refused_before_any_work(self):
    # --run / --out are checked by trained_runs.restored_from_flags, whose
    # messages tests/rotation_report_test.py checks in-process.
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run(
        [sys.executable, '-m', 'experiments.resampling_check',
         '--run=a=b.py:c', '--out=x', '--limit=0'],
        cwd=repo, capture_output=True, text=True, timeout=120, check=False)
    self.assertEqual(done.returncode, 1, done.stderr)
    self.assertIn('limit must be in 1..inf; got 0', done.stderr)
