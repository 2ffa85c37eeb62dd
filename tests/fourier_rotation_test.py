"""groups.FourierRotation: rotation by three Fourier shears.

Exact tier: multiples of 90 degrees are Rot90 bit for bit; on the padded
canvas the shears are unitary (norm kept, R(-t) R(t) = identity to float
rounding), with bilinear rotation as the negative control. Approximate tier:
against a Gaussian blob rotated analytically, with the measured bound.
"""

import math

from absl.testing import absltest
from absl.testing import parameterized
import jax
import numpy as np

import groups
from groups import fourier_rotation


def _random(shape, seed=0):
  return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _blob(size, degrees, centre=(-4.0, 5.0), sigma=2.0):
  """A Gaussian blob at ``centre`` (x right, y up, about the grid centre),
  rotated counter-clockwise by ``degrees`` analytically: ``[1, n, n, 1]``."""
  theta = math.radians(degrees)
  qx = math.cos(theta) * centre[0] - math.sin(theta) * centre[1]
  qy = math.sin(theta) * centre[0] + math.cos(theta) * centre[1]
  c = (size - 1) / 2
  rows, cols = np.meshgrid(np.arange(size), np.arange(size), indexing='ij')
  x, y = cols - c, c - rows
  image = np.exp(-((x - qx) ** 2 + (y - qy) ** 2) / (2 * sigma ** 2))
  return image[None, :, :, None].astype(np.float32)


class FourierRotationTest(parameterized.TestCase):

  @parameterized.parameters(0, 90, 180, 270, -90, 450)
  def test_multiples_of_90_are_rot90(self, degrees):
    x = _random((2, 5, 6, 2))  # non-square: Rot90 swaps H and W
    np.testing.assert_array_equal(groups.FourierRotation(degrees)(x),
                                  groups.Rot90(degrees // 90)(x))
    self.assertTrue(groups.FourierRotation(degrees).exact)
    self.assertFalse(groups.FourierRotation(45.0).exact)

  @parameterized.parameters(10.0, 30.0, 45.0, -37.0, 80.0)
  def test_shears_are_unitary_on_the_canvas(self, degrees):
    x = _random((2, 17, 17, 3), seed=1)  # odd: no Nyquist frequency
    rotate = jax.jit(fourier_rotation.rotate_padded, static_argnums=1)
    y = rotate(x, degrees)
    np.testing.assert_allclose(np.linalg.norm(y), np.linalg.norm(x),
                               rtol=1e-5)
    np.testing.assert_allclose(rotate(y, -degrees), x, atol=2e-5)
    # Negative control: bilinear rotation there and back blurs white noise.
    bilinear = groups.BilinearRotation(degrees)
    back = np.asarray(bilinear.inverse()(bilinear(x)))
    disk = groups.inscribed_disk(17, 17)
    self.assertGreater(np.abs(back - x)[:, disk].max(), 0.5)

  def test_counter_clockwise_like_bilinear(self):
    # A dot right of centre moves up-right (row decreases) under +45 degrees.
    x = _blob(21, 0.0, centre=(6.0, 0.0))
    for transform in (groups.FourierRotation(45.0),
                      groups.BilinearRotation(45.0)):
      y = np.asarray(transform(x))[0, :, :, 0]
      row, col = np.unravel_index(np.argmax(y), y.shape)
      self.assertEqual((row, col), (6, 14), transform)

  @parameterized.product(degrees=(22.5, 45.0, -30.0, 135.0, 200.0),
                         size=(28, 29))
  def test_smooth_image_matches_the_analytic_rotation(self, degrees, size):
    # Approximate tier. Max error / peak, measured: Fourier 2.4e-6 to
    # 1.2e-5 at these angles and sizes (bound 5e-5); bilinear 4.2e-2 to
    # 5.7e-2 (the negative control: > 1e-2).
    x, expected = _blob(size, 0.0), _blob(size, degrees)
    fourier = np.abs(np.asarray(groups.FourierRotation(degrees)(x)) - expected)
    bilinear = np.abs(np.asarray(groups.BilinearRotation(degrees)(x))
                      - expected)
    self.assertLess(fourier.max(), 5e-5)
    self.assertGreater(bilinear.max(), 1e-2)

  def test_keeps_shape_and_dtype_with_group_axes(self):
    x = _random((2, 8, 8, 4, 3))
    y = groups.FourierRotation(10.0)(x)
    self.assertEqual(y.shape, x.shape)
    self.assertEqual(y.dtype, x.dtype)
    self.assertEqual(groups.FourierRotation(10.0).inverse(),
                     groups.FourierRotation(-10.0))


if __name__ == '__main__':
  absltest.main()
