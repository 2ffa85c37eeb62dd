"""Every conv lowering computes the plain XLA convolution and its gradients.

``layers.conv2d`` is run with each lowering forced for each role (forward,
input gradient, filter gradient; ``layers.autotune`` ``force=``) and compared
with ``lax.conv_general_dilated`` and its ``jax.grad``, for every padding
mode, odd and even kernels, strides and dilations. Different lowerings add the
same products in different orders, so the comparison is the float32
reordering bound of ``tests/float_tolerance.py``, never bit for bit. No
timing here.
"""

import functools

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
import numpy as np

import groups
import layers
from layers import autotune
from layers import conv_lowering
from layers import group_conv
from layers import padding as padding_lib
from tests import float_tolerance

Choice = conv_lowering.Choice
PADDINGS = ('circular', 'zeros', 'reflect', 'replicate', 'valid')

# (name, (kh, kw), stride, dilation, (H, W)).
_CASES = (
    ('k3_s1', (3, 3), 1, 1, (7, 6)),
    ('k2_s1', (2, 2), 1, 1, (6, 5)),
    ('k4_s2', (4, 4), 2, 1, (9, 8)),
    ('k3x4_s21_d12', (3, 4), (2, 1), (1, 2), (7, 9)),
    ('k3_s3_d2', (3, 3), 3, 2, (11, 10)),
    ('k1x2_s2', (1, 2), 2, 1, (5, 6)),
)

# Each lowering in each role once (a Latin square of the first four),
# through custom_jvp; a choice of one lowering for all three roles (the last)
# is plain autodiff of it.
_CHOICES = (
    Choice('taps', 'im2col', 'xla_unpadded'),
    Choice('im2col', 'xla_unpadded', 'xla'),
    Choice('xla_unpadded', 'xla', 'taps'),
    Choice('xla', 'taps', 'im2col'),
    Choice('taps_batched', 'taps_batched', 'taps_batched'),
    # oneDNN (layers.onednn) mixed with XLA lowerings, and alone.
    Choice('onednn', 'xla', 'onednn'),
    Choice('onednn', 'onednn', 'onednn'),
)

# Every padding mode on the first two cases (odd and even kernel). The core
# convolution only sees 'VALID' or zero pads, so each other case (strides,
# dilations, non-square kernels) takes 'zeros' and one of the others in turn.
_CASE_PADDINGS = tuple(
    [(case, padding) for case in _CASES[:2] for padding in PADDINGS] +
    [(case, padding) for i, case in enumerate(_CASES[2:])
     for padding in ('zeros', ('valid', 'circular', 'reflect',
                               'replicate')[i % 4])])


def _pair(value):
  return (value, value) if isinstance(value, int) else tuple(value)


def plain_conv(x, kernel, *, stride, padding, dilation):
  """The reference: explicit padding, then one unpadded XLA convolution."""
  dilation = _pair(dilation)
  effective = [d * (k - 1) + 1 for d, k in zip(dilation, kernel.shape[:2])]
  pads = 'VALID'
  if padding == 'zeros':
    pads = [padding_lib.same_pads(e) for e in effective]
  elif padding != 'valid':
    x = padding_lib.pad_spatial(
        x, tuple(padding_lib.same_pads(e) for e in effective), mode=padding)
  return jax.lax.conv_general_dilated(
      x, kernel, window_strides=_pair(stride), padding=pads,
      rhs_dilation=dilation, dimension_numbers=('NHWC', 'HWIO', 'NHWC'))


def _value_and_grads(fn, x, kernel, cotangent):
  y, vjp = jax.vjp(fn, x, kernel)
  return (y, *vjp(cotangent))


def _terms(x, kernel, y):
  kh, kw, c_in, c_out = kernel.shape
  # forward kh*kw*C_in; input gradient kh*kw*C_out per padded copy of a
  # pixel (up to 4 with circular/reflect padding); filter gradient B*H'*W'.
  return max(kh * kw * c_in, 4 * kh * kw * c_out,
             x.shape[0] * y.shape[1] * y.shape[2])


class LoweringEqualityTest(parameterized.TestCase):

  @parameterized.parameters(*_CASE_PADDINGS)
  def test_every_lowering_matches_plain_conv(self, case, padding):
    _, kernel_size, stride, dilation, (h, w) = case
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, h, w, 3)).astype(np.float32)
    kernel = rng.standard_normal((*kernel_size, 3, 4)).astype(np.float32)
    options = dict(stride=stride, padding=padding, dilation=dilation)
    reference = functools.partial(plain_conv, **options)
    y = reference(x, kernel)
    cotangent = rng.standard_normal(y.shape).astype(np.float32)
    reference_grads = jax.jit(functools.partial(_value_and_grads, reference))
    expected = reference_grads(x, kernel, cotangent)
    # The same compiled program (one jitted function, the same shapes).
    abs_sums = reference_grads(np.abs(x), np.abs(kernel), np.abs(cotangent))
    terms = _terms(x, kernel, y)
    for choice in _CHOICES:
      with autotune.settings(force=choice):
        conv = functools.partial(layers.conv2d, **options)
        actual = jax.jit(functools.partial(_value_and_grads, conv))(
            x, kernel, cotangent)
      for name, a, b, abs_sum in zip(
          ('value', 'input gradient', 'filter gradient'), actual, expected,
          abs_sums):
        float_tolerance.assert_same_sums(a, b, abs_sum, terms=terms,
                                         err_msg=f'{choice} {name}')

  @parameterized.parameters(*_CHOICES)
  def test_forward_mode_and_second_order(self, choice):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 6, 7, 3)).astype(np.float32)
    kernel = rng.standard_normal((3, 2, 3, 4)).astype(np.float32)
    tangents = (rng.standard_normal(x.shape).astype(np.float32),
                rng.standard_normal(kernel.shape).astype(np.float32))
    options = dict(stride=(1, 2), padding='reflect', dilation=1)
    reference = functools.partial(plain_conv, **options)
    with autotune.settings(force=choice):
      conv = functools.partial(layers.conv2d, **options)
      _, tangent = jax.jit(lambda *a: jax.jvp(conv, a[:2], a[2:]))(
          x, kernel, *tangents)
      hessian_vector = jax.jit(jax.grad(
          lambda k: jnp.sum(jax.grad(lambda k: jnp.sum(conv(x, k) ** 2))(k)
                            * tangents[1])))(kernel)
    _, expected_tangent = jax.jvp(reference, (x, kernel), tangents)
    expected_hv = jax.grad(
        lambda k: jnp.sum(jax.grad(lambda k: jnp.sum(reference(x, k) ** 2))(k)
                          * tangents[1]))(kernel)
    # The tangent is two convolutions added: twice the terms of one.
    np.testing.assert_allclose(tangent, expected_tangent, rtol=1e-4,
                               atol=1e-4)
    np.testing.assert_allclose(hessian_vector, expected_hv, rtol=1e-4,
                               atol=1e-3)

  def test_vmap_of_a_mixed_choice(self):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 2, 5, 5, 2)).astype(np.float32)
    kernel = rng.standard_normal((3, 3, 3, 2, 4)).astype(np.float32)
    with autotune.settings(force=_CHOICES[0]):
      fn = jax.vmap(jax.grad(lambda x, k: jnp.sum(
          layers.conv2d(x, k, padding='zeros') ** 2), argnums=1))
      actual = jax.jit(fn)(x, kernel)
    expected = jax.vmap(jax.grad(lambda x, k: jnp.sum(
        plain_conv(x, k, stride=1, padding='zeros', dilation=1) ** 2),
                                 argnums=1))(x, kernel)
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-4)

  def test_group_conv_runs_on_the_forced_lowering(self):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 6, 6, 3)).astype(np.float32)
    kernel = rng.standard_normal((3, 3, 3, 2)).astype(np.float32)
    group = groups.Cyclic(4)
    expected = group_conv.lifting_conv2d(x, kernel, group=group,
                                         padding='zeros')
    with autotune.settings(force=_CHOICES[1]):
      actual = group_conv.lifting_conv2d(x, kernel, group=group,
                                         padding='zeros')
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-5)

  def test_candidates_per_role(self):
    self.assertEqual(conv_lowering.candidates('VALID', 'forward'),
                     ('xla', 'xla_unpadded', 'taps', 'im2col'))
    self.assertEqual(conv_lowering.candidates(((1, 1), (1, 1)),
                                              'filter_grad'),
                     ('xla', 'taps', 'im2col', 'taps_batched'))
    self.assertEqual(conv_lowering.candidates('VALID', 'input_grad',
                                              with_onednn=True),
                     ('xla', 'xla_unpadded', 'taps', 'im2col', 'onednn'))
    with self.assertRaisesRegex(ValueError, r'^role must be one of'):
      conv_lowering.candidates('VALID', 'backward')

  def test_choice_rejects_unknown_lowerings(self):
    with self.assertRaisesRegex(ValueError, r'^filter_grad must be one of'):
      Choice('xla', 'xla', 'winograd')
    with self.assertRaisesRegex(ValueError, r'^name must be one of'):
      conv_lowering.lowering('fft')


if __name__ == '__main__':
  absltest.main()
