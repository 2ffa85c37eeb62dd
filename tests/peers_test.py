"""The speed-ups timed by benchmarks.peers compute the same numbers.

``benchmarks.peers.previous_lowering`` restores the implementation before the
speed work (unpadded XLA convolutions, ``reduce_window`` pools); these tests
check that the current one agrees with it, values and gradients, so a
benchmark's before/after rows compare equal functions. The 'steerable'
section's functions are checked on a small layer the same way. No timing
here, and no PyTorch (the peers are an optional install).
"""

import functools

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
import numpy as np

from benchmarks import peers
from benchmarks.peers import steerable_cases
from layers import conv as conv_lib
from layers import pooling
from layers import steerable
from tests import float_tolerance


def _value_and_grads(fn, *args, cotangent=None):
  """``fn(*args)`` and the gradients of a fixed random projection of it."""
  out = fn(*args)
  if cotangent is None:
    cotangent = np.random.default_rng(1).standard_normal(out.shape).astype(
        np.float32)
  grads = jax.grad(lambda *a: jnp.sum(fn(*a) * cotangent),
                   argnums=tuple(range(len(args))))(*args)
  return out, grads


class PreviousLoweringTest(parameterized.TestCase):

  @parameterized.product(padding=('valid', 'circular', 'reflect'),
                         stride_dilation=((1, 1), (2, 2)))
  def test_conv2d_is_unchanged(self, padding, stride_dilation):
    stride, dilation = stride_dilation
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 9, 8, 3)).astype(np.float32)
    kernel = rng.standard_normal((3, 2, 3, 4)).astype(np.float32)
    cotangent = None

    def value_and_grads(x, kernel):
      fn = jax.jit(functools.partial(conv_lib.conv2d, padding=padding,
                                     stride=stride, dilation=dilation))
      return _value_and_grads(fn, x, kernel, cotangent=cotangent)

    now = value_and_grads(x, kernel)
    cotangent = np.random.default_rng(1).standard_normal(
        now[0].shape).astype(np.float32)
    with peers.previous_lowering():
      before = value_and_grads(x, kernel)
    # The padded-and-cropped lowering adds the same products as the unpadded
    # one (the extra zero row/column only adds outputs, cropped off), but XLA
    # may add them in another order: on some CPUs 3 of 392 outputs differ in
    # the last bit. Compare within the float32 reordering bound
    # (tests/float_tolerance.py). sum |x w| for the value and both gradients:
    # the same (bilinear) functions on |x|, |kernel| and |cotangent|.
    cotangent = np.abs(cotangent)
    abs_sums = value_and_grads(np.abs(x), np.abs(kernel))
    # Products per sum: forward kh*kw*C_in; input gradient kh*kw*C_out per
    # padded copy of a pixel (up to 4 with circular/reflect padding); kernel
    # gradient B*H_out*W_out.
    kh, kw, c_in, c_out = kernel.shape
    terms = max(kh * kw * c_in, 4 * kh * kw * c_out,
                x.shape[0] * now[0].shape[1] * now[0].shape[2])
    for name, a, b, abs_sum in zip(
        ('value', 'input gradient', 'kernel gradient'),
        jax.tree.leaves(now), jax.tree.leaves(before),
        jax.tree.leaves(abs_sums)):
      float_tolerance.assert_same_sums(a, b, abs_sum, terms=terms,
                                       err_msg=name)

  @parameterized.product(reducer=('max', 'avg'),
                         padding=pooling.POOL_PADDINGS, window=(2, 3))
  def test_tiled_pools_are_unchanged(self, reducer, padding, window):
    # Continuous random values: no ties, so both max gradients agree.
    x = np.random.default_rng(0).standard_normal((2, 7, 8, 3)).astype(
        np.float32)
    pool = pooling.max_pool if reducer == 'max' else pooling.avg_pool
    fn = jax.jit(functools.partial(pool, window=window, padding=padding))
    now = _value_and_grads(fn, x)
    with peers.previous_lowering():
      fn = jax.jit(functools.partial(pool, window=window, padding=padding))
      before = _value_and_grads(fn, x)
    jax.tree.map(functools.partial(np.testing.assert_allclose, rtol=1e-6,
                                   atol=1e-7), now, before)

  def test_tied_maxima_send_the_gradient_to_one_pixel_as_reduce_window(self):
    # layers.max_reduce: the first tied pixel in raster order; jnp.max's
    # own rule shared it (0.25 each) and lost it under jit.
    x = np.zeros((1, 4, 4, 1), np.float32)
    pool = functools.partial(pooling.max_pool, window=2)
    grad = jax.grad(lambda x: pool(x).sum())(x)
    np.testing.assert_array_equal(grad[0, :, :, 0], np.tile([[1, 0], [0, 0]],
                                                            (2, 2)))
    with peers.previous_lowering():
      before = jax.grad(lambda x: pool(x).sum())(x)
    np.testing.assert_array_equal(grad, before)

  def test_context_restores_the_current_lowering(self):
    current = conv_lib._lax_conv, pooling._tiled_pool  # pylint: disable=protected-access
    with self.assertRaises(RuntimeError):
      with peers.previous_lowering():
        self.assertIsNot(conv_lib._lax_conv, current[0])  # pylint: disable=protected-access
        raise RuntimeError('boom')
    self.assertEqual((conv_lib._lax_conv, pooling._tiled_pool), current)  # pylint: disable=protected-access

  def test_run_rejects_unknown_sections(self):
    with self.assertRaisesRegex(ValueError, r'^sections must be .*blur'):
      peers.run(sections=['blurr'], quick=True, out=None)


class SteerableCasesTest(absltest.TestCase):
  """The functions the 'steerable' rows time, on a small C4 layer."""

  def setUp(self):
    super().setUp()
    rng = np.random.default_rng(0)
    self.field_type = steerable_cases.regular_type(4, 2)  # 8 channels
    basis = steerable.layer_basis(self.field_type, self.field_type, 5)
    self.x = rng.standard_normal((2, 9, 9, 8)).astype(np.float32)
    self.weights = (rng.standard_normal(basis.size) *
                    basis.he_std()).astype(np.float32)
    self.conv = functools.partial(
        steerable.steerable_conv2d, in_type=self.field_type,
        out_type=self.field_type, kernel_size=5, padding='zeros')

  def test_section_is_registered(self):
    self.assertIn('steerable', peers.SECTIONS)

  def test_training_step_is_the_layer_and_its_gradients(self):
    dy = np.random.default_rng(1).standard_normal(self.x.shape).astype(
        np.float32)
    step = jax.jit(steerable_cases.training_step(self.field_type, 5))
    y, (dx, dweights) = step(self.x, self.weights, dy)
    expected, grads = _value_and_grads(self.conv, self.x, self.weights,
                                       cotangent=dy)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)
    self.assertEqual(dweights.shape, self.weights.shape)
    jax.tree.map(functools.partial(np.testing.assert_allclose, rtol=1e-4,
                                   atol=1e-4), (dx, dweights), grads)

  def test_exported_and_plain_forward_equal_the_training_call(self):
    exported = steerable.export(self.weights, in_type=self.field_type,
                                out_type=self.field_type, kernel_size=5)
    y = jax.jit(steerable_cases.exported_forward)(self.x, exported)
    np.testing.assert_allclose(y, self.conv(self.x, self.weights), rtol=1e-5,
                               atol=1e-5)
    np.testing.assert_allclose(
        jax.jit(steerable_cases.plain_forward)(self.x, exported['kernel']),
        y, rtol=1e-5, atol=1e-5)


if __name__ == '__main__':
  absltest.main()
