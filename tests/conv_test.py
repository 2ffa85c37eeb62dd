"""Tests for layers.conv: conv2d against a NumPy reference; the Conv module."""

import functools
import math

from absl.testing import absltest
from absl.testing import parameterized
import chex
import jax
import jax.numpy as jnp
import numpy as np

import layers

PADDINGS = ('circular', 'zeros', 'reflect', 'replicate', 'valid')
_NP_PAD_MODES = {
    'circular': 'wrap',
    'zeros': 'constant',
    'reflect': 'reflect',
    'replicate': 'edge',
}

# (name, (kh, kw), stride, dilation, (H, W)); inputs are non-square and large
# enough for 'reflect' (pad < size) and 'valid' (k_eff <= size).
_CASES = (
    ('k2_s1', (2, 2), 1, 1, (6, 5)),
    ('k3_s2', (3, 3), 2, 1, (7, 6)),
    ('k4_s3', (4, 4), 3, 1, (8, 7)),
    ('k5_s1_d2', (5, 5), 1, 2, (10, 9)),
    ('k3x4_s21_d12', (3, 4), (2, 1), (1, 2), (7, 9)),
    ('k1x5_s3_d2', (1, 5), 3, 2, (5, 10)),
    ('k4x2_s2_d2', (4, 2), 2, 2, (9, 6)),
)


def _pair(value):
  return (value, value) if isinstance(value, int) else tuple(value)


def conv2d_reference(x, kernel, *, stride, padding, dilation):
  """Cross-correlation via explicit np.pad and a loop over taps (float64)."""
  x = np.asarray(x, np.float64)
  kernel = np.asarray(kernel, np.float64)
  kh, kw = kernel.shape[:2]
  sh, sw = _pair(stride)
  dh, dw = _pair(dilation)
  eff_h, eff_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
  if padding != 'valid':
    pad_h = (math.floor((eff_h - 1) / 2), math.ceil((eff_h - 1) / 2))
    pad_w = (math.floor((eff_w - 1) / 2), math.ceil((eff_w - 1) / 2))
    x = np.pad(x, ((0, 0), pad_h, pad_w, (0, 0)), mode=_NP_PAD_MODES[padding])
  out_h = (x.shape[1] - eff_h) // sh + 1
  out_w = (x.shape[2] - eff_w) // sw + 1
  out = np.zeros((x.shape[0], out_h, out_w, kernel.shape[3]))
  for i in range(kh):
    for j in range(kw):
      patch = x[:, i * dh:i * dh + sh * (out_h - 1) + 1:sh,
                j * dw:j * dw + sw * (out_w - 1) + 1:sw, :]  # [B, H', W', Cin]
      out += np.einsum('bhwc,cd->bhwd', patch, kernel[i, j])
  return out


def _expected_shape(hw, kernel_size, stride, dilation, padding):
  shape = []
  for size, k, s, d in zip(hw, kernel_size, _pair(stride), _pair(dilation)):
    if padding == 'valid':
      shape.append((size - (d * (k - 1) + 1)) // s + 1)
    else:
      shape.append(math.ceil(size / s))
  return tuple(shape)


def _conv_cases():
  for padding in PADDINGS:
    for name, kernel_size, stride, dilation, hw in _CASES:
      yield dict(testcase_name=f'{padding}_{name}', padding=padding,
                 kernel_size=kernel_size, stride=stride, dilation=dilation,
                 hw=hw)


class Conv2dTest(chex.TestCase):

  @chex.variants(with_jit=True, without_jit=True)
  @parameterized.named_parameters(*_conv_cases())
  def test_matches_numpy_reference(self, padding, kernel_size, stride,
                                   dilation, hw):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2,) + hw + (3,)).astype(np.float32)
    kernel = rng.normal(size=kernel_size + (3, 2)).astype(np.float32)
    conv = self.variant(functools.partial(
        layers.conv2d, stride=stride, padding=padding, dilation=dilation))
    y = conv(x, kernel)
    expected = conv2d_reference(x, kernel, stride=stride, padding=padding,
                                dilation=dilation)
    self.assertEqual(
        y.shape,
        (2,) + _expected_shape(hw, kernel_size, stride, dilation, padding)
        + (2,))
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)

  @parameterized.parameters(*PADDINGS)
  def test_identity_kernel_is_identity(self, padding):
    # A 1x1 identity kernel must return x unchanged in every mode.
    x = np.random.default_rng(1).normal(size=(1, 4, 5, 3)).astype(np.float32)
    kernel = np.eye(3, dtype=np.float32)[None, None]
    np.testing.assert_allclose(layers.conv2d(x, kernel, padding=padding), x,
                               atol=1e-6)

  def test_default_padding_is_circular(self):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(1, 5, 4, 2)).astype(np.float32)
    kernel = rng.normal(size=(3, 3, 2, 1)).astype(np.float32)
    np.testing.assert_allclose(
        layers.conv2d(x, kernel),
        conv2d_reference(x, kernel, stride=1, padding='circular', dilation=1),
        rtol=1e-5, atol=1e-5)


class ConvModuleTest(chex.TestCase):

  # Shapes come from jax.eval_shape and values from hand-made params: the
  # default random initialiser would compile eagerly for seconds per shape.

  def test_param_names_and_shapes(self):
    module = layers.Conv(features=4, kernel_size=(2, 3))
    shapes = jax.eval_shape(module.init, jax.random.PRNGKey(0),
                            jnp.zeros((1, 5, 6, 3)))
    self.assertEqual(jax.tree_util.tree_map(lambda a: a.shape, shapes),
                     {'params': {'kernel': (2, 3, 3, 4), 'bias': (4,)}})

  def test_without_bias_has_only_kernel(self):
    module = layers.Conv(features=2, kernel_size=3, use_bias=False)
    shapes = jax.eval_shape(module.init, jax.random.PRNGKey(0),
                            jnp.zeros((1, 4, 4, 1)))
    self.assertEqual(jax.tree_util.tree_map(lambda a: a.shape, shapes),
                     {'params': {'kernel': (3, 3, 1, 2)}})

  @chex.variants(with_jit=True, without_jit=True)
  @parameterized.named_parameters(
      ('circular_bias', dict(padding='circular'), 3, True),
      ('zeros_stride2_nobias', dict(padding='zeros', stride=2), 3, False),
      ('valid_dilated', dict(padding='valid', dilation=2), 3, True),
      ('reflect_even', dict(padding='reflect'), (2, 4), True),
  )
  def test_output_is_conv2d_plus_bias(self, options, kernel_size, use_bias):
    module = layers.Conv(features=3, kernel_size=kernel_size,
                         use_bias=use_bias, **options)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 7, 6, 2)).astype(np.float32)
    kh, kw = (kernel_size,) * 2 if isinstance(kernel_size, int) else kernel_size
    params = {'kernel': rng.normal(size=(kh, kw, 2, 3)).astype(np.float32)}
    if use_bias:
      params['bias'] = np.array([0.5, -1.0, 2.0], np.float32)
    y = self.variant(module.apply)({'params': params}, x)
    expected = layers.conv2d(x, params['kernel'], **options)
    if use_bias:
      expected = expected + params['bias']
    self.assertEqual(y.shape, expected.shape)
    np.testing.assert_allclose(y, expected, rtol=1e-6, atol=1e-6)


if __name__ == '__main__':
  absltest.main()
