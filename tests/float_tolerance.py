"""Tolerances for comparing two computations of the same sums in float32.

Two lowerings of one linear map (an XLA convolution and the same convolution
padded and cropped; tap matmuls and im2col) add the same products in
different orders, and which order XLA picks depends on the CPU (AVX2 and
AVX-512 kernels differ) and the shapes. Only the exact value of the sum is
common to both, so their results are compared with the rounding-error bound of
recursive summation (Higham, *Accuracy and Stability of Numerical
Algorithms*, 2nd ed., eq. 3.5 and section 4.2):

  |fl(sum_i x_i w_i) - sum_i x_i w_i| <= gamma_n * sum_i |x_i w_i|,
  gamma_n = n u / (1 - n u),  u = eps / 2 = 2**-24 for float32,

for ANY order of the n additions, the n products each rounded once (or not at
all, with fused multiply-adds: the bound still holds). Two orders each lie
within that distance of the exact sum, so they differ by at most twice it:

  |a - b| <= 2 gamma_n * sum_i |x_i w_i|.

``sum_i |x_i w_i|`` is computed by running the same linear map on ``|x|``
and ``|w|`` (its own rounding is a relative ``gamma_n`` too, covered by the
factor ``SLACK``). The bound is elementwise: a wrong result (a dropped tap, a
shifted window) is off by a whole product, which is about ``1 / (n u)`` times
larger than the bound, so the comparison still catches it.

Bit-for-bit comparisons stay only where they are guaranteed: the same
compiled program on equal inputs (determinism, resume), and exact operations
(permutations, gathers, integer rolls, max, multiplications by 0, 1, -1, i).
"""

from __future__ import annotations

import numpy as np

# Covers the rounding of the |x| |w| reference sum itself (relative gamma_n,
# far below 1 %).
SLACK = 1.01


def gamma(terms: int, dtype=np.float32) -> float:
  """Higham's ``gamma_n = n u / (1 - n u)`` for ``n = terms`` roundings."""
  unit_roundoff = float(np.finfo(dtype).eps) / 2
  nu = terms * unit_roundoff
  if nu >= 1:
    raise ValueError(f'terms must be < 1 / u = {1 / unit_roundoff:.0f}; '
                     f'got {terms}.')
  return nu / (1 - nu)


def reorder_bound(abs_sum, terms: int, dtype=np.float32) -> np.ndarray:
  """Largest ``|a - b|`` between two orders of a sum of ``terms`` products.

  Args:
    abs_sum: ``sum_i |x_i w_i|`` for each output element (any shape).
    terms: an upper bound on the number of products in any one sum.
    dtype: the floating type the sums were computed in.

  Returns:
    ``2 gamma_terms * abs_sum * SLACK``, elementwise.
  """
  return 2 * gamma(terms, dtype) * SLACK * np.abs(np.asarray(abs_sum,
                                                             np.float64))


def assert_same_sums(actual, expected, abs_sum, *, terms: int,
                     dtype=np.float32, err_msg: str = '') -> None:
  """Asserts ``|actual - expected| <= reorder_bound(abs_sum, terms)``."""
  actual = np.asarray(actual, np.float64)
  expected = np.asarray(expected, np.float64)
  if actual.shape != expected.shape:
    raise AssertionError(f'{err_msg} shapes differ: {actual.shape} vs '
                         f'{expected.shape}')
  bound = reorder_bound(abs_sum, terms, dtype)
  excess = np.abs(actual - expected) - bound
  if np.any(excess > 0):
    worst = np.unravel_index(np.argmax(excess), excess.shape)
    raise AssertionError(
        f'{err_msg} {int(np.sum(excess > 0))} of {excess.size} elements '
        f'differ by more than the float32 reordering bound (terms={terms}); '
        f'worst at {tuple(map(int, worst))}: {actual[worst]!r} vs '
        f'{expected[worst]!r}, bound {bound[worst]:.3g}.')
