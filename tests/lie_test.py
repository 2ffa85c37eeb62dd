"""groups.lie: flows, generators, the Lie derivative and its metric.

The registry facts (exact / approximate / must-break) are in
tests/cases/lie.py; here: each flow's generator against finite differences
of the flow itself and of the project's finite transforms, the definition
``d/dt T'_{-t} f(T_t x)`` against ``J G x - G' f``, the metric's reductions,
the custom-VJP fallback, and an outside check that differentiates with
SciPy's own resampling (not the project's).
"""

import functools

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
import numpy as np
from scipy import ndimage

import groups
from groups import lie
from groups import synthetic
import layers

RNG = np.random.default_rng(0)
# Smooth, windowed 16 x 16 images: shared by every test (few compiles).
SMOOTH = synthetic.smooth_images(RNG, (2, 16, 16, 2), cutoff=0.15)
NOISE = RNG.standard_normal((2, 16, 16, 2)).astype(np.float32)
KERNEL = (RNG.standard_normal((3, 3, 2, 3)) / 4).astype(np.float32)
KERNEL2 = (RNG.standard_normal((3, 3, 3, 2)) / 5).astype(np.float32)


def small_cnn(x):
  """A fixed conv -> ReLU -> max pool -> conv -> global average: [B, 3]."""
  y = jax.nn.relu(layers.conv2d(x, KERNEL, padding='circular'))
  y = layers.max_pool(y, window=2, padding='circular')
  return layers.global_avg_pool(layers.conv2d(y, KERNEL2, padding='circular'))


class FlowTest(parameterized.TestCase):

  @parameterized.parameters(*lie.GENERATORS)
  def test_generator_is_the_derivative_of_the_flow(self, kind):
    flow = lie.flow(kind)
    step = 1e-3
    difference = (flow(SMOOTH, step) - flow(SMOOTH, -step)) / (2 * step)
    tangent = flow.tangent(SMOOTH)
    error = np.linalg.norm(difference - tangent) / np.linalg.norm(tangent)
    self.assertLess(error, 2e-3, kind)   # measured 4e-5..1.1e-4 (float32)

  def test_flows_match_the_finite_transforms(self):
    # One Fourier shift: the translation flow is groups.FourierShift.
    np.testing.assert_allclose(lie.flow('translate_x')(NOISE, 0.7),
                               groups.FourierShift(0, 0.7)(NOISE), atol=1e-6)
    np.testing.assert_allclose(lie.flow('translate_y')(NOISE, -1.3),
                               groups.FourierShift(-1.3, 0)(NOISE), atol=1e-6)
    # A quarter turn of the periodic rotation flow is np.rot90 (odd grid).
    odd = NOISE[:, :15, :15]
    np.testing.assert_allclose(lie.flow('rotate')(odd, np.pi / 2),
                               groups.Rot90(1)(odd), atol=2e-5)
    # Scaling by e^0 is the identity; on an odd grid (no Nyquist frequency,
    # whose fractional shift is complex) a shear and its inverse cancel.
    np.testing.assert_allclose(lie.flow('scale')(NOISE, 0.0), NOISE,
                               atol=1e-5)
    shear = lie.flow('shear_x')
    np.testing.assert_allclose(shear(shear(odd, 0.4), -0.4), odd, atol=2e-5)

  def test_translation_generator_is_minus_the_spectral_gradient(self):
    spectrum = np.fft.fft(NOISE.astype(np.float64), axis=2)
    frequencies = np.fft.fftfreq(16)[None, None, :, None]
    gradient = np.fft.ifft(2j * np.pi * frequencies * spectrum, axis=2).real
    np.testing.assert_allclose(lie.flow('translate_x').tangent(NOISE),
                               -gradient, atol=2e-5)

  def test_induced_flows(self):
    flow = lie.flow('translate_y').induced(stride=4)
    self.assertEqual(flow.rate, 0.25)
    self.assertEqual(lie.flow('rotate').induced(stride=4).rate, 1.0)
    self.assertIsInstance(lie.output_flow(flow, (1, 8, 8, 1), (1, 10)),
                          groups.Identity)
    self.assertEqual(lie.output_flow(lie.flow('scale'), (1, 8, 8, 1),
                                     (1, 4, 4, 3)).kind, 'scale')

  def test_fibre_of_so2_is_the_lie_algebra_element(self):
    group = groups.SO2(3)
    field_type = groups.FieldType(group, [group.irrep(0), group.irrep(2)])
    expected = np.zeros((3, 3))
    expected[1:, 1:] = 2 * np.array([[0, -1], [1, 0]])
    np.testing.assert_allclose(lie.fibre_of(field_type), expected, atol=1e-6)
    c8 = groups.Cyclic(8)
    self.assertIsNone(lie.fibre_of(groups.FieldType(
        c8, [c8.regular_representation])))
    self.assertIsNone(lie.fibre_of(field_type, 'translate_x'))

  def test_fibre_and_orders_flows_turn_the_channels(self):
    fibre = np.array([[0.0, -1.0], [1.0, 0.0]])
    flow = lie.Flow('rotate', fibre=fibre)
    odd = NOISE[:, :15, :15]
    turned = flow(odd, np.pi / 2)
    expected = groups.Rot90(1)(odd)
    expected = np.stack([-expected[..., 1], expected[..., 0]], -1)
    np.testing.assert_allclose(turned, expected, atol=3e-5)
    harmonic = (NOISE[..., None, :] * np.ones((1, 1, 1, 2, 1))).astype(
        np.complex64)
    tangent = lie.Flow('translate_x', orders=(0, 1)).tangent(harmonic)
    np.testing.assert_allclose(
        tangent[..., 1, :] - tangent[..., 0, :], 1j * harmonic[..., 1, :],
        atol=1e-5)


class LieDerivativeTest(parameterized.TestCase):

  @parameterized.parameters('translate_x', 'rotate', 'scale')
  def test_equals_the_derivative_of_the_definition(self, kind):
    flow = lie.flow(kind)
    conv = functools.partial(layers.conv2d, kernel=KERNEL, padding='zeros')

    def conjugated(t):   # T'_{-t} f(T_t x)
      return flow(conv(flow(SMOOTH, t)), -t)

    expected = jax.jvp(conjugated, (jnp.float32(0),), (jnp.float32(1),))[1]
    np.testing.assert_allclose(lie.lie_derivative(conv, SMOOTH, flow),
                               expected, atol=1e-4)

  def test_agrees_with_finite_differences_of_the_probe(self):
    # The finite probe at small shifts: (f(T_h x) - f(x)) / h -> L f.
    flow = lie.flow('translate_x')
    derivative = np.asarray(lie.lie_derivative(small_cnn, SMOOTH, flow))
    step = 1e-2
    moved = small_cnn(groups.FourierShift(0, step)(SMOOTH))
    back = small_cnn(groups.FourierShift(0, -step)(SMOOTH))
    difference = (np.asarray(moved) - np.asarray(back)) / (2 * step)
    error = np.linalg.norm(difference - derivative) / np.linalg.norm(derivative)
    # Measured 0.032: ReLU and max pool are only piecewise smooth, so a
    # finite step crosses some of their kinks.
    self.assertLess(error, 0.1)

  def test_outside_check_with_scipy_resampling(self):
    # Differentiates with SciPy's own periodic quintic-spline resampling, not
    # the project's flows; on smooth images both see the same motion.
    def rotate(x, degrees):
      return np.stack([ndimage.rotate(image, degrees, axes=(0, 1),
                                      reshape=False, order=5,
                                      mode='grid-wrap') for image in x])

    fn = jax.jit(small_cnn)
    step = 0.5   # degrees
    difference = (np.asarray(fn(rotate(SMOOTH, step))) -
                  np.asarray(fn(rotate(SMOOTH, -step)))) / (
                      2 * np.radians(step))
    derivative = np.asarray(lie.lie_derivative(small_cnn, SMOOTH,
                                               lie.flow('rotate')))
    error = np.linalg.norm(difference - derivative) / np.linalg.norm(derivative)
    print(f'outside rotation check: relative difference {error:.3g}')
    self.assertLess(error, 0.1)   # measured 0.014

  def test_reductions(self):
    flow = lie.flow('translate_x')
    derivative = np.asarray(lie.lie_derivative(small_cnn, SMOOTH, flow))
    np.testing.assert_allclose(
        lie.local_equivariance_error(small_cnn, SMOOTH, flow),
        np.sum(derivative**2, axis=1), rtol=1e-5)
    np.testing.assert_allclose(
        lie.local_equivariance_error(small_cnn, SMOOTH, flow,
                                     reduction='mean_abs'),
        np.mean(np.abs(derivative), axis=1), rtol=1e-5)

  def test_relative_error_is_the_relative_lie_derivative(self):
    relu_error = groups.equivariance_error(jax.nn.relu, NOISE,
                                           lie.flow('translate_x'))
    moved, expected = lie.tangent_pair(jax.nn.relu, NOISE,
                                       lie.flow('translate_x'))
    np.testing.assert_allclose(
        relu_error, np.linalg.norm((moved - expected).reshape(2, -1), axis=1)
        / np.linalg.norm(np.asarray(expected).reshape(2, -1), axis=1),
        rtol=1e-5)

  def test_through_a_custom_vjp_op(self):
    # blur_pool's matmul path is a custom_vjp: forward mode falls back to
    # the transposed VJP, with the same value as the 'slices' path.
    flow = lie.flow('translate_x')
    out = flow.induced(stride=2)
    matmul = functools.partial(layers.blur_pool, method='matmul',
                               padding='circular')
    slices = functools.partial(layers.blur_pool, method='slices',
                               padding='circular')
    for fn in (matmul, jax.jit(matmul)):
      np.testing.assert_allclose(lie.lie_derivative(fn, NOISE, flow, out),
                                 lie.lie_derivative(slices, NOISE, flow, out),
                                 atol=1e-5)


if __name__ == '__main__':
  absltest.main()
