"""groups.scale: the band-limited, anti-aliased rescale and the scale axis.

The registry facts (exact, approximate, must-break) are in
tests/cases/scale.py; here: the rescale's own properties, an outside check
against JAX's own resampler, and the canvas.
"""

from absl.testing import absltest
import jax
import jax.numpy as jnp
import numpy as np

import groups
from groups import lie
from groups import scale
from groups import synthetic

RNG = np.random.default_rng(0)
SMOOTH = synthetic.smooth_images(RNG, (2, 33, 33, 2), cutoff=0.12,
                                 window=0.45)
NOISE = RNG.standard_normal((2, 16, 16, 1)).astype(np.float32)


class RescaleTest(absltest.TestCase):

  def test_factor_one_is_the_identity(self):
    np.testing.assert_allclose(scale.rescale(NOISE, 1.0), NOISE, atol=2e-6)
    self.assertTrue(groups.Rescale(1.0).exact)

  def test_magnify_then_shrink_restores_smooth_images(self):
    # Nothing leaves the grid and nothing is above the shrunk Nyquist limit.
    for factor in (1.3, 2.0):
      there = groups.Rescale(factor)(SMOOTH)
      back = groups.Rescale(factor).inverse()(there)
      error = np.linalg.norm(back - SMOOTH) / np.linalg.norm(SMOOTH)
      self.assertLess(error, 3e-3, factor)   # measured 2.3e-4 / 7.3e-4

  def test_shrinking_removes_what_would_alias(self):
    # Vertical stripes at 13 / 32 = 0.41 cycles/px shrunk by 1/2: above the
    # new Nyquist limit (0.25), so the anti-aliased result is empty.
    cols = np.cos(2 * np.pi * 13 * np.arange(32) / 32)
    stripes = np.broadcast_to(cols, (1, 32, 32)).astype(np.float32)[..., None]
    shrunk = np.asarray(scale.rescale(stripes, 0.5, boundary='periodic'))
    self.assertLess(np.abs(shrunk).max(), 1e-4)

  def test_per_map_factors(self):
    both = scale.rescale(SMOOTH, np.array([0.8, 1.5]))
    np.testing.assert_allclose(both[:1], scale.rescale(SMOOTH[:1], 0.8),
                               atol=1e-6)
    np.testing.assert_allclose(both[1:], scale.rescale(SMOOTH[1:], 1.5),
                               atol=1e-6)

  def test_rescale_is_its_axis_matrix_on_both_axes(self):
    # M x M^T per map and channel; rows of M give only those outputs.
    for factor, boundary in ((0.7, 'zeros'), (1.6, 'periodic')):
      matrix = scale.rescale_matrix(16, factor, boundary)
      self.assertEqual(matrix.shape, (16, 16))
      self.assertEqual(matrix.dtype, np.float64)
      expected = np.einsum('ph,qw,bhwc->bpqc', matrix, matrix, NOISE)
      np.testing.assert_allclose(
          scale.rescale(NOISE, factor, boundary=boundary), expected,
          atol=1e-5)
      rows = np.arange(3, 9)
      np.testing.assert_allclose(
          np.einsum('ph,qw,bhwc->bpqc', matrix[rows], matrix[rows], NOISE),
          expected[:, 3:9, 3:9], atol=1e-12)

  def test_the_scale_flow_is_its_derivative(self):
    derivative = jax.jvp(
        lambda t: scale.rescale(SMOOTH, jnp.exp(t), boundary='periodic'),
        (jnp.float32(0),), (jnp.float32(1),))[1]
    np.testing.assert_allclose(derivative, lie.flow('scale').tangent(SMOOTH),
                               atol=1e-6)

  def test_outside_check_against_jax_image_resize(self):
    # JAX's own Lanczos-3 resampler (scale_and_translate about the same
    # centre) on smooth images: the two kernels agree to their smoothness.
    factor = 1.4
    centre = (33 - 1) / 2
    theirs = jax.image.scale_and_translate(
        SMOOTH, SMOOTH.shape, (1, 2), jnp.array([factor, factor]),
        jnp.array([1, 1]) * (centre + 0.5) * (1 - factor), method='lanczos3')
    ours = groups.Rescale(factor)(SMOOTH)
    error = np.linalg.norm(ours - theirs) / np.linalg.norm(theirs)
    print(f'rescale vs jax.image lanczos3 at {factor}: {error:.2g}')
    self.assertLess(error, 0.02)


class ScaleAxisTest(absltest.TestCase):

  def test_scale_index_shift(self):
    self.assertEqual(scale.scale_index_shift(2.0, 2**0.5), 2)
    self.assertEqual(scale.scale_index_shift(0.5**0.5, 2**0.5), -1)
    with self.assertRaisesRegex(ValueError, 'integer power of the scale ratio'):
      scale.scale_index_shift(1.5, 2**0.5)

  def test_shift_with_zeros_at_the_ends(self):
    y = np.ones((1, 4, 4, 3, 1), np.float32) * np.arange(1, 4)[:, None]
    shifted = np.asarray(groups.ScaleAxisRescale(1, 2.0)(y))
    np.testing.assert_allclose(shifted[0, 2, 2, :, 0], [0, 1, 2], atol=1e-5)

  def test_on_canvas(self):
    canvas = np.asarray(scale.on_canvas(NOISE, 24))
    self.assertEqual(canvas.shape, (2, 24, 24, 1))
    np.testing.assert_array_equal(canvas[:, 4:20, 4:20], NOISE)
    self.assertEqual(np.abs(canvas[:, :4]).max(), 0)


if __name__ == '__main__':
  absltest.main()
