"""Tests for layers.harmonic and groups.harmonic (H-Nets).

Equivariance itself is tested by the registry (tests/cases/harmonic.py;
error vs angle and filter size: tests/measure_harmonic.py);
here: the filter basis, a NumPy reference of the convolution, the single
conv2d call, values and gradients at z = 0, and the modules.
"""

import functools

from absl.testing import absltest
from absl.testing import parameterized
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from groups import harmonic as harmonic_groups
from layers import harmonic


def _random(shape, seed=0):
  return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _random_complex(shape, seed=0):
  return (_random(shape, seed) + 1j * _random(shape, seed + 100)).astype(
      np.complex64)


def _correlate(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
  """Zero-padded 'same' cross-correlation of ``[H, W]`` with odd ``[k, k]``."""
  k = kernel.shape[0]
  padded = np.pad(image, k // 2)
  out = np.zeros(image.shape, np.complex128)
  for i in range(image.shape[0]):
    for j in range(image.shape[1]):
      out[i, j] = np.sum(padded[i:i + k, j:j + k] * kernel)
  return out


class BasisTest(parameterized.TestCase):

  @parameterized.product(filter_size=[3, 5, 7], order=[0, 1, 2, 3])
  def test_quarter_turn_multiplies_order_m_by_i_to_the_m(self, filter_size,
                                                          order):
    basis = harmonic.harmonic_basis(filter_size, num_orders=order + 1)[order]
    # np.rot90 turns the array counter-clockwise: rotated[p] = basis[R^-1 p].
    rotated = np.rot90(basis, 1, axes=(1, 2))
    np.testing.assert_allclose(rotated, (-1j)**order * basis, atol=1e-12)

  def test_unit_norm_rings_and_radii(self):
    basis = harmonic.harmonic_basis(5, num_orders=2, n_rings=4)
    self.assertEqual(basis.shape, (2, 4, 5, 5))
    np.testing.assert_allclose(
        np.linalg.norm(basis.reshape(2, 4, -1), axis=-1), 1, atol=1e-12)
    np.testing.assert_allclose(harmonic.ring_radii(0, 4),
                               [0, 7 / 6, 7 / 3, 3.5])
    np.testing.assert_allclose(harmonic.ring_radii(1, 4), [1, 11 / 6,
                                                           8 / 3, 3.5])
    self.assertEqual(harmonic.angular_samples(5), 16)  # ceil(5 pi) = 16
    self.assertEqual(harmonic.angular_samples(3), 12)  # ceil(3 pi) = 10
    self.assertEqual(harmonic.default_n_rings(5), 2)
    self.assertFalse(basis.flags.writeable)

  def test_order_one_basis_points_along_phi(self):
    # The ring at radius 1 of order 1 is ~ e^{i phi}: +1 right of the
    # centre, +i above it (y up), -1 left, -i below.
    ring = harmonic.harmonic_basis(3, num_orders=2, n_rings=1)[1, 0]
    right, up, left, down = ring[1, 2], ring[0, 1], ring[1, 0], ring[2, 1]
    np.testing.assert_allclose(up / right, 1j, atol=1e-12)
    np.testing.assert_allclose(left / right, -1, atol=1e-12)
    np.testing.assert_allclose(down / right, -1j, atol=1e-12)
    self.assertGreater(right.real, 0)
    self.assertLess(abs(ring[1, 1]), 1e-12)  # no centre weight for m != 0

  def test_filters_apply_the_phase(self):
    radial = _random((2, 2, 1, 1))
    phase = np.full((2, 1, 1), 0.7, np.float32)
    with_phase = harmonic.harmonic_filters(radial, phase, filter_size=5)
    without = harmonic.harmonic_filters(radial, filter_size=5)
    np.testing.assert_allclose(with_phase, np.exp(0.7j) * without, atol=1e-6)


class ConvReferenceTest(parameterized.TestCase):
  """Against a loop over stream pairs with W_{-m} = conj(W_m)."""

  @parameterized.parameters(True, False)
  def test_matches_numpy_reference(self, real_input):
    if real_input:
      z = _random((1, 7, 7, 2))
      streams = [z[..., c] for c in range(2)]
      stream_orders = [0]
    else:
      z = _random_complex((1, 7, 7, 2, 2))
      stream_orders = [0, 1]
    radial = _random((2, 2, 2, 3), seed=1)
    phase = _random((2, 2, 3), seed=2)
    out = np.asarray(harmonic.harmonic_conv2d(z, radial, phase,
                                              filter_size=5, max_order=1))
    self.assertEqual(out.shape, (1, 7, 7, 2, 3))
    self.assertEqual(out.dtype, np.complex64)
    filters = np.asarray(harmonic.harmonic_filters(radial, phase,
                                                   filter_size=5))
    expected = np.zeros(out.shape, np.complex128)
    for k in range(2):
      for j in stream_orders:
        m = k - j
        w = filters[m] if m >= 0 else np.conj(filters[-m])
        for c_in in range(2):
          for c_out in range(3):
            streams = z[0, :, :, c_in] if real_input else z[0, :, :, j, c_in]
            expected[0, :, :, k, c_out] += _correlate(streams,
                                                      w[:, :, c_in, c_out])
    np.testing.assert_allclose(out, expected, atol=2e-5)

  def test_one_conv_call_does_all_stream_pairs(self):
    z = _random_complex((1, 9, 9, 3, 2))
    radial = _random((3, 2, 2, 4))
    jaxpr = jax.make_jaxpr(lambda z, r: harmonic.harmonic_conv2d(
        z, r, filter_size=3, max_order=2))(z, radial)
    # XLA's conv primitive, or oneDNN's (layers.onednn, the default backend).
    convs = [e for e in str(jaxpr).split()
             if e in ('conv_general_dilated[', 'equivlab_onednn_conv_forward[')]
    self.assertLen(convs, 1)

  def test_to_harmonic_is_the_real_input(self):
    x = _random((2, 7, 7, 3))
    radial = _random((2, 2, 3, 2), seed=1)
    np.testing.assert_allclose(
        harmonic.harmonic_conv2d(harmonic.to_harmonic(x), radial,
                                 filter_size=3),
        harmonic.harmonic_conv2d(x, radial, filter_size=3), atol=1e-6)


class AtZeroTest(parameterized.TestCase):
  """Values and gradients at z = 0 are finite; the output there is 0."""

  def _loss(self, fn):
    def loss(re, im, *params):
      out = fn(jax.lax.complex(re, im), *params)
      return jnp.sum(jnp.abs(out)**2 + jnp.real(out) + jnp.imag(out))
    return loss

  def test_nonlinearity_at_zero(self):
    z = np.zeros((2, 3, 3, 2, 4), np.complex64)
    bias = np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 4)
    out = harmonic.magnitude_nonlinearity(z, bias)
    np.testing.assert_array_equal(out, 0)
    loss = self._loss(harmonic.magnitude_nonlinearity)
    grads = jax.jit(jax.grad(loss, argnums=(0, 1, 2)))(np.real(z),
                                                       np.imag(z), bias)
    for grad in grads:
      self.assertTrue(np.all(np.isfinite(grad)))
    # Slope at 0 is act(b + sqrt(eps)) / sqrt(eps): finite, as documented.
    self.assertLessEqual(float(np.max(np.abs(grads[0]))),
                         (1 + 0.01) / 0.01 * 1.01)

  def test_layer_gradients_at_zero_input(self):
    x = np.zeros((2, 7, 7, 1), np.float32)
    radial = _random((2, 2, 1, 3))
    bias = np.full((2, 3), 0.5, np.float32)

    def loss(x, radial, bias):
      z = harmonic.magnitude_nonlinearity(
          harmonic.harmonic_conv2d(x, radial, filter_size=3), bias)
      mean, var = harmonic.magnitude_moments(z)  # var = 0 here
      z = harmonic.magnitude_batch_norm(z, mean=mean, var=var)
      return jnp.sum(harmonic.invariant_readout(z, reduction='stack'))

    value, grads = jax.jit(jax.value_and_grad(loss, argnums=(0, 1, 2)))(
        x, radial, bias)
    self.assertTrue(np.isfinite(value))
    for grad in grads:
      self.assertTrue(np.all(np.isfinite(grad)), grad)

  def test_magnitudes_equal_abs_above_the_floor(self):
    z = _random_complex((2, 4, 4, 2, 3))
    np.testing.assert_allclose(harmonic.magnitudes(z), np.abs(z), rtol=1e-6)
    np.testing.assert_allclose(harmonic.magnitudes(np.zeros_like(z)), 0.01,
                               rtol=1e-6)
    bias = _random((2, 3), seed=3)
    np.testing.assert_allclose(
        harmonic.magnitude_nonlinearity(z, bias),
        np.maximum(np.abs(z) + bias, 0) * z / np.abs(z), rtol=1e-5,
        atol=1e-6)


class PoolAndReadoutTest(absltest.TestCase):

  def test_mean_pool_pools_real_and_imaginary_parts(self):
    z = _random_complex((2, 6, 6, 2, 3))
    out = harmonic.harmonic_mean_pool(z, window=2)
    expected = z.reshape(2, 3, 2, 3, 2, 2, 3).mean(axis=(2, 4))
    np.testing.assert_allclose(out, expected, atol=1e-6)

  def test_readouts(self):
    z = _random_complex((2, 4, 4, 2, 3))
    np.testing.assert_allclose(harmonic.invariant_readout(z),
                               np.abs(z).sum(axis=3), rtol=1e-5)
    stacked = harmonic.invariant_readout(z, reduction='stack')
    self.assertEqual(stacked.shape, (2, 4, 4, 6))
    np.testing.assert_allclose(stacked[..., 3:], np.abs(z[:, :, :, 1]),
                               rtol=1e-5)


class HarmonicRotationTest(parameterized.TestCase):

  def test_phases_and_inverse(self):
    z = _random_complex((1, 5, 5, 3, 2))
    turned = harmonic_groups.HarmonicRotation(1, (0, 1, 2))(z)
    for m in range(3):
      np.testing.assert_array_equal(
          turned[:, :, :, m], 1j**m * np.rot90(z[:, :, :, m], 1, axes=(1, 2)))
    four = z
    for _ in range(4):
      four = harmonic_groups.HarmonicRotation(1, (0, 1, 2))(four)
    np.testing.assert_array_equal(four, z)
    back = harmonic_groups.HarmonicRotation(3, (0, 1, 2)).inverse()
    np.testing.assert_array_equal(
        back(harmonic_groups.HarmonicRotation(3, (0, 1, 2))(z)), z)

  def test_bilinear_rotation(self):
    z = _random_complex((1, 7, 7, 2, 2))
    np.testing.assert_array_equal(
        harmonic_groups.BilinearHarmonicRotation(270.0)(z),
        harmonic_groups.HarmonicRotation(3)(z))
    self.assertFalse(harmonic_groups.BilinearHarmonicRotation(30.0).exact)
    # The order-1 stream of a constant field turns by e^{i theta}.
    ones = np.ones((1, 7, 7, 2, 1), np.complex64)
    turned = harmonic_groups.BilinearHarmonicRotation(30.0)(ones)
    np.testing.assert_allclose(turned[0, 3, 3, 1, 0], np.exp(1j * np.pi / 6),
                               atol=1e-6)
    np.testing.assert_allclose(turned[0, 3, 3, 0, 0], 1, atol=1e-6)


class _Block(nn.Module):

  @nn.compact
  def __call__(self, x, train):
    z = harmonic.HConv(4, filter_size=5, n_rings=3, name='conv1')(x)
    z = harmonic.HNonlin(name='nonlin')(z)
    z = harmonic.HConv(5, filter_size=3, max_order=2, name='conv2')(z)
    return harmonic.HBatchNorm(use_running_average=not train, name='bn')(z)


class ModuleTest(absltest.TestCase):

  def test_parameter_shapes(self):
    x = _random((2, 9, 9, 1))
    # eval_shape: no compile (drawing parameters compiles for seconds).
    shapes = jax.tree.map(jnp.shape, jax.eval_shape(
        functools.partial(_Block().init, train=False), jax.random.key(0), x))
    self.assertEqual(shapes['params']['conv1'],
                     {'radial': (2, 3, 1, 4), 'phase': (2, 1, 4)})
    # Input orders 0..1, output orders 0..2: filter orders 0..2.
    self.assertEqual(shapes['params']['conv2'],
                     {'radial': (3, 2, 4, 5), 'phase': (3, 4, 5)})
    self.assertEqual(shapes['params']['nonlin'], {'bias': (2, 4)})
    self.assertEqual(shapes['params']['bn'], {'scale': (3, 5),
                                              'bias': (3, 5)})
    self.assertEqual(shapes['batch_stats']['bn'], {'mean': (3, 5),
                                                   'var': (3, 5)})
    no_phase = jax.eval_shape(harmonic.HConv(2, filter_size=3,
                                             use_phase=False).init,
                              jax.random.key(0), x)
    self.assertEqual(set(no_phase['params']), {'radial'})

  def test_batch_norm_updates_running_statistics(self):
    z = _random_complex((2, 5, 5, 2, 3))
    bn = harmonic.HBatchNorm(momentum=0.5)
    variables = {'params': {'scale': np.ones((2, 3), np.float32),
                            'bias': np.zeros((2, 3), np.float32)},
                 'batch_stats': {'mean': np.zeros((2, 3), np.float32),
                                 'var': np.ones((2, 3), np.float32)}}
    out, updates = jax.jit(functools.partial(
        bn.apply, use_running_average=False, mutable=['batch_stats']))(
            variables, z)
    mean, var = harmonic.magnitude_moments(z)
    np.testing.assert_allclose(updates['batch_stats']['mean'], 0.5 * mean,
                               rtol=1e-5)
    np.testing.assert_allclose(updates['batch_stats']['var'],
                               0.5 + 0.5 * var, rtol=1e-5)
    np.testing.assert_allclose(
        out, harmonic.magnitude_batch_norm(z, mean=mean, var=var), atol=1e-5)


if __name__ == '__main__':
  absltest.main()
