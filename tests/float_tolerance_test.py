"""The reordering bound admits other summation orders and catches real errors."""

from absl.testing import absltest
import numpy as np

from tests import float_tolerance


def _products(seed, n=500, rows=64):
  rng = np.random.default_rng(seed)
  return (rng.standard_normal((rows, n)) *
          rng.standard_normal((rows, n))).astype(np.float32)


def _sequential_sum(terms):
  """Left-to-right float32 sums of each row (one order)."""
  total = np.zeros(terms.shape[0], np.float32)
  for column in terms.T:
    total = (total + column).astype(np.float32)
  return total


class ReorderBoundTest(absltest.TestCase):

  def test_admits_other_orders(self):
    terms = _products(0)
    forward = _sequential_sum(terms)
    backward = _sequential_sum(terms[:, ::-1])
    pairwise = terms.sum(axis=1, dtype=np.float32)  # NumPy sums pairwise
    abs_sum = np.abs(terms).sum(axis=1, dtype=np.float64)
    self.assertTrue(np.any(forward != backward))  # the orders do differ
    for other in (backward, pairwise):
      float_tolerance.assert_same_sums(forward, other, abs_sum,
                                       terms=terms.shape[1])

  def test_catches_a_dropped_product(self):
    terms = _products(1)
    dropped = terms.copy()
    dropped[5, 17] = 0  # one missing tap in one output
    abs_sum = np.abs(terms).sum(axis=1, dtype=np.float64)
    with self.assertRaisesRegex(AssertionError, '1 of 64 elements'):
      float_tolerance.assert_same_sums(_sequential_sum(terms),
                                       _sequential_sum(dropped), abs_sum,
                                       terms=terms.shape[1])

  def test_gamma(self):
    self.assertAlmostEqual(float_tolerance.gamma(1) / 2.0**-24, 1.0, places=6)
    with self.assertRaisesRegex(ValueError, '^terms must be < 1 / u'):
      float_tolerance.gamma(2**24)


if __name__ == '__main__':
  absltest.main()
