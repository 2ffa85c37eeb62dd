"""Tests for layers.pooling against NumPy references.

``blur_pool`` is checked against a line-by-line NumPy transcription of
antialiased-cnns' ``BlurPool.forward`` (adobe/antialiased-cnns,
antialiased_cnns/blurpool.py), kept in NCHW like the original.
"""

import functools
import math

from absl.testing import absltest
from absl.testing import parameterized
import chex
import jax
import jax.numpy as jnp
import numpy as np

import layers
from layers import pooling

# Our padding names -> np.pad modes; antialiased-cnns' pad types are
# 'reflect' (nn.ReflectionPad2d), 'replicate' (nn.ReplicationPad2d) and
# 'zero' (nn.ZeroPad2d); 'circular' is our extra mode.
_BLUR_NP_MODES = {
    'reflect': 'reflect',
    'replicate': 'edge',
    'zeros': 'constant',
    'circular': 'wrap',
}


# Jitted once per configuration: one fused compile is cheaper than eager
# dispatch of every tap of the separable blur.
_jit_blur_pool = jax.jit(layers.blur_pool,
                         static_argnames=('stride', 'filter_size', 'padding'))
_jit_aps_pool = jax.jit(layers.aps_pool,
                        static_argnames=('stride', 'filter_size', 'norm'))


def _pair(value):
  return (value, value) if isinstance(value, int) else tuple(value)


def _random(shape, seed=0):
  return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def pool_reference(x, *, window, stride, padding, reducer):
  """Max/avg pooling by an explicit loop over output pixels (float64)."""
  x = np.asarray(x, np.float64)
  wh, ww = _pair(window)
  sh, sw = _pair(window if stride is None else stride)
  inside = np.ones(x.shape[1:3], bool)  # which padded pixels are real
  if padding != 'valid':
    pads = ((math.floor((wh - 1) / 2), math.ceil((wh - 1) / 2)),
            (math.floor((ww - 1) / 2), math.ceil((ww - 1) / 2)))
    if padding == 'circular':
      x = np.pad(x, ((0, 0),) + pads + ((0, 0),), mode='wrap')
      inside = np.ones(x.shape[1:3], bool)
    else:  # 'same': padded pixels do not take part
      x = np.pad(x, ((0, 0),) + pads + ((0, 0),))
      inside = np.pad(inside, pads)
  out_h = (x.shape[1] - wh) // sh + 1
  out_w = (x.shape[2] - ww) // sw + 1
  out = np.zeros((x.shape[0], out_h, out_w, x.shape[3]))
  for i in range(out_h):
    for j in range(out_w):
      patch = x[:, i * sh:i * sh + wh, j * sw:j * sw + ww]  # [B, wh, ww, C]
      valid = inside[i * sh:i * sh + wh, j * sw:j * sw + ww]
      if reducer == 'max':
        out[:, i, j] = np.max(patch[:, valid], axis=1)
      else:
        out[:, i, j] = np.mean(patch[:, valid], axis=1)
  return out


class BlurPoolReference:
  """NumPy transcription of antialiased_cnns.BlurPool (pad_off=0)."""

  def __init__(self, channels, pad_type='reflect', filt_size=4, stride=2):
    self.filt_size = filt_size
    self.pad_sizes = [int(1. * (filt_size - 1) / 2),
                      int(np.ceil(1. * (filt_size - 1) / 2)),
                      int(1. * (filt_size - 1) / 2),
                      int(np.ceil(1. * (filt_size - 1) / 2))]
    self.stride = stride
    self.channels = channels
    a = {
        1: [1.], 2: [1., 1.], 3: [1., 2., 1.], 4: [1., 3., 3., 1.],
        5: [1., 4., 6., 4., 1.], 6: [1., 5., 10., 10., 5., 1.],
        7: [1., 6., 15., 20., 15., 6., 1.],
    }[filt_size]
    a = np.array(a)
    filt = a[:, None] * a[None, :]
    self.filt = filt / np.sum(filt)
    self.np_mode = _BLUR_NP_MODES[pad_type]

  def pad(self, inp):
    # torch pads are (left, right, top, bottom) on NCHW.
    left, right, top, bottom = self.pad_sizes
    return np.pad(inp, ((0, 0), (0, 0), (top, bottom), (left, right)),
                  mode=self.np_mode)

  def forward(self, inp):
    if self.filt_size == 1:
      return inp[:, :, ::self.stride, ::self.stride]
    return self._depthwise_conv2d(self.pad(inp), self.filt, self.stride)

  @staticmethod
  def _depthwise_conv2d(inp, filt, stride):
    """F.conv2d(inp, filt repeated per channel, stride=stride, groups=C)."""
    k = filt.shape[0]
    out_h = (inp.shape[2] - k) // stride + 1
    out_w = (inp.shape[3] - k) // stride + 1
    out = np.zeros(inp.shape[:2] + (out_h, out_w))
    for u in range(k):
      for v in range(k):
        out += filt[u, v] * inp[:, :, u:u + stride * (out_h - 1) + 1:stride,
                                v:v + stride * (out_w - 1) + 1:stride]
    return out


def blur_pool_reference(x, *, stride, filter_size, padding):
  """[B, H, W, C] -> BlurPoolReference in NCHW -> [B, H', W', C]."""
  x = np.asarray(x, np.float64)
  module = BlurPoolReference(x.shape[3], pad_type=padding,
                             filt_size=filter_size, stride=stride)
  return module.forward(x.transpose(0, 3, 1, 2)).transpose(0, 2, 3, 1)


def aps_reference(x, *, stride, filter_size, norm):
  x = np.asarray(x, np.float64)
  if filter_size > 1:
    x = blur_pool_reference(x, stride=1, filter_size=filter_size,
                            padding='circular')
  phases = [x[:, i::stride, j::stride]
            for i in range(stride) for j in range(stride)]
  out = []
  for b in range(x.shape[0]):
    if norm == 'l1':
      scores = [np.sum(np.abs(p[b])) for p in phases]
    elif norm == 'l2':
      scores = [np.sqrt(np.sum(p[b] ** 2)) for p in phases]
    else:
      scores = [np.max(np.abs(p[b])) for p in phases]
    out.append(phases[int(np.argmax(scores))][b])
  return np.stack(out)


class LocalPoolTest(chex.TestCase):

  @chex.variants(with_jit=True, without_jit=True)
  @parameterized.product(
      reducer=('max', 'avg'),
      padding=('valid', 'circular', 'same'),
      window_stride=((2, None), (3, 2), ((2, 3), (1, 2)), (1, 2)),
  )
  def test_matches_numpy_reference(self, reducer, padding, window_stride):
    window, stride = window_stride
    pool = layers.max_pool if reducer == 'max' else layers.avg_pool
    pool = self.variant(functools.partial(pool, window=window, stride=stride,
                                          padding=padding))
    x = _random((2, 7, 6, 2))
    y = pool(x)
    expected = pool_reference(x, window=window, stride=stride,
                              padding=padding, reducer=reducer)
    np.testing.assert_allclose(y, expected, rtol=1e-6, atol=1e-6)
    if padding != 'valid':
      sh, sw = _pair(window if stride is None else stride)
      self.assertEqual(y.shape, (2, math.ceil(7 / sh), math.ceil(6 / sw), 2))

  def test_default_stride_is_window_and_padding_valid(self):
    x = _random((1, 6, 6, 1))
    np.testing.assert_allclose(
        layers.max_pool(x, window=3),
        layers.max_pool(x, window=3, stride=3, padding='valid'))
    self.assertEqual(layers.avg_pool(x, window=2).shape, (1, 3, 3, 1))

  def test_same_max_pads_with_minus_infinity(self):
    # With all-negative inputs a zero pad would leak into the border maxima.
    x = -1.0 - np.abs(_random((1, 4, 4, 1)))
    y = layers.max_pool(x, window=3, stride=1, padding='same')
    self.assertTrue(np.all(y < 0))

  def test_same_avg_counts_only_inside_pixels(self):
    x = np.ones((1, 5, 4, 1), np.float32)
    np.testing.assert_allclose(
        layers.avg_pool(x, window=3, stride=2, padding='same'),
        np.ones((1, 3, 2, 1)), atol=1e-6)


class BinomialFilterTest(parameterized.TestCase):

  @parameterized.parameters(
      (1, [1]), (2, [1, 1]), (3, [1, 2, 1]), (4, [1, 3, 3, 1]),
      (5, [1, 4, 6, 4, 1]), (6, [1, 5, 10, 10, 5, 1]),
      (7, [1, 6, 15, 20, 15, 6, 1]))
  def test_taps(self, filter_size, taps):
    taps = np.array(taps, np.float64)
    result = layers.binomial_filter(filter_size)
    self.assertEqual(result.dtype, np.float32)
    np.testing.assert_allclose(result, taps / taps.sum(), rtol=1e-6)


def _blur_cases():
  # Filter sizes 1..7 x strides 1..3 x paddings, on odd and even H/W; each
  # filter size meets every padding, stride and parity at least once.
  paddings = tuple(_BLUR_NP_MODES)
  shapes = ((8, 9), (9, 8), (7, 7), (8, 10))
  for filter_size in range(1, 8):
    for i, padding in enumerate(paddings):
      stride = 1 + (filter_size + i) % 3
      hw = shapes[(filter_size + 2 * i) % len(shapes)]
      yield dict(testcase_name=f'f{filter_size}_s{stride}_{padding}',
                 filter_size=filter_size, stride=stride, padding=padding, hw=hw)


class BlurPoolTest(chex.TestCase):

  # The full sweep runs jitted (eager dispatch of the separable taps is slow
  # to compile); a few cases also run without jit.
  @chex.variants(with_jit=True)
  @parameterized.named_parameters(*_blur_cases())
  def test_matches_antialiased_cnns(self, filter_size, stride, padding, hw):
    self._check_against_reference(filter_size, stride, padding, hw)

  @chex.variants(without_jit=True)
  @parameterized.named_parameters(
      ('f2_s2_zeros', 2, 2, 'zeros', (6, 7)),
      ('f5_s3_reflect', 5, 3, 'reflect', (8, 7)),
  )
  def test_matches_antialiased_cnns_eager(self, filter_size, stride, padding,
                                          hw):
    self._check_against_reference(filter_size, stride, padding, hw)

  @chex.variants(with_jit=True)
  @parameterized.product(
      method=('matmul', 'slices', 'phases', 'matmul_slices'),
      padding=pooling.BLUR_PADDINGS,
      filter_size_stride=((2, 1), (2, 2), (3, 2), (4, 2), (7, 3)))
  def test_every_method_matches_antialiased_cnns(self, method, padding,
                                                 filter_size_stride):
    filter_size, stride = filter_size_stride
    self._check_against_reference(filter_size, stride, padding, (9, 8),
                                  method=method)

  @parameterized.parameters('phases', 'matmul_slices')
  def test_gradients_equal_slices(self, method_under_test):
    # Values are checked against the reference above; here the input
    # gradients: the phases' cropped (k <= s) and zero-filled tails, the
    # matmul's hand-written transpose.
    x = _random((2, 9, 7, 3), seed=2)
    for padding in pooling.BLUR_PADDINGS:
      for filter_size, stride in ((2, 2), (3, 2), (5, 3), (2, 3)):
        grads = []
        for method in (method_under_test, 'slices'):
          def loss(v, method=method, k=filter_size, s=stride):
            y = layers.blur_pool(v, stride=s, filter_size=k, padding=padding,
                                 method=method)
            return jnp.sum(y * jnp.cos(jnp.arange(y.size).reshape(y.shape)))
          grads.append(jax.jit(jax.grad(loss))(x))
        np.testing.assert_allclose(
            *grads, rtol=1e-5, atol=1e-6,
            err_msg=f'{padding} k={filter_size} s={stride}')

  def test_auto_method(self):
    self.assertEqual(pooling.auto_blur_method(3, 1), 'slices')
    self.assertEqual(pooling.auto_blur_method(2, 2), 'phases')
    self.assertEqual(pooling.auto_blur_method(3, 2), 'matmul')
    self.assertEqual(pooling.auto_blur_method(3, 3), 'matmul')
    wide = pooling.WIDE_MAP_PIXELS_PER_TAP * 3
    self.assertEqual(pooling.auto_blur_method(3, 2, wide), 'matmul_slices')
    self.assertEqual(pooling.auto_blur_method(3, 2, wide - 1), 'matmul')
    self.assertEqual(pooling.auto_blur_method(2, 2, 10 * wide), 'phases')
    self.assertEqual(pooling.auto_blur_method(3, 1, 10 * wide), 'slices')

  def test_slices_commute_bitwise_with_circular_shifts(self):
    # What aps_pool relies on: equal numbers, not merely close ones.
    x = _random((2, 8, 8, 3))
    blur = jax.jit(functools.partial(
        layers.blur_pool, stride=2, filter_size=5, padding='circular',
        method='slices'))
    np.testing.assert_array_equal(
        blur(np.roll(x, (2, 4), axis=(1, 2))),
        np.roll(blur(x), (1, 2), axis=(1, 2)))

  @parameterized.product(padding=pooling.BLUR_PADDINGS, size=(5, 8))
  def test_blur_matrix_is_the_1d_blur(self, padding, size):
    matrix = pooling.blur_matrix(size, filter_size=4, stride=2,
                                 padding=padding)  # [n', n]
    self.assertEqual(matrix.shape, ((size - 1) // 2 + 1, size))
    # The blur is separable: it maps the image outer(e_i, e_j) to
    # outer(matrix[:, i], matrix[:, j]).
    pairs = [(0, 0), (0, size - 1), (1, 2), (size - 1, size - 2)]
    eye = np.eye(size, dtype=np.float32)
    x = np.stack([np.outer(eye[i], eye[j]) for i, j in pairs])[..., None]
    expected = np.stack([np.outer(matrix[:, i], matrix[:, j])
                         for i, j in pairs])[..., None]
    np.testing.assert_allclose(
        blur_pool_reference(x, stride=2, filter_size=4, padding=padding),
        expected, atol=1e-7)
    if padding != 'zeros':  # every other padding keeps constants
      np.testing.assert_allclose(matrix.sum(axis=1), 1.0, rtol=1e-6)

  def _check_against_reference(self, filter_size, stride, padding, hw,
                               method='auto'):
    x = _random((2,) + hw + (3,), seed=filter_size)
    blur = self.variant(functools.partial(
        layers.blur_pool, stride=stride, filter_size=filter_size,
        padding=padding, method=method))
    y = blur(x)
    expected = blur_pool_reference(x, stride=stride, filter_size=filter_size,
                                   padding=padding)
    self.assertEqual(y.shape, expected.shape)
    self.assertEqual(y.shape, (2, (hw[0] - 1) // stride + 1,
                               (hw[1] - 1) // stride + 1, 3))
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)

  def test_defaults_are_stride2_filter3_reflect(self):
    x = _random((1, 6, 7, 1))
    np.testing.assert_allclose(
        _jit_blur_pool(x),
        blur_pool_reference(x, stride=2, filter_size=3, padding='reflect'),
        rtol=1e-5, atol=1e-6)

  def test_constant_input_is_preserved(self):
    # The filter is normalised, so every padding keeps a constant image.
    x = np.full((1, 6, 5, 2), 3.0, np.float32)
    for padding in ('reflect', 'replicate', 'circular'):
      np.testing.assert_allclose(
          _jit_blur_pool(x, filter_size=5, padding=padding),
          np.full((1, 3, 3, 2), 3.0), rtol=1e-6)


class MaxBlurPoolTest(chex.TestCase):

  @chex.variants(with_jit=True, without_jit=True)
  @parameterized.named_parameters(
      ('reflect_default', 2, 2, 3, 'reflect'),
      ('replicate_w3_s3', 3, 3, 4, 'replicate'),
      ('zeros_f1', 2, 2, 1, 'zeros'),
      ('circular_w3_f5', 3, 2, 5, 'circular'),
  )
  def test_is_max_then_blur(self, window, stride, filter_size, padding):
    x = _random((2, 8, 7, 2))
    y = self.variant(functools.partial(
        layers.max_blur_pool, window=window, stride=stride,
        filter_size=filter_size, padding=padding))(x)
    max_padding = 'circular' if padding == 'circular' else 'valid'
    maxed = pool_reference(x, window=window, stride=1, padding=max_padding,
                           reducer='max')
    expected = blur_pool_reference(maxed, stride=stride,
                                   filter_size=filter_size, padding=padding)
    h, w = (8, 7) if padding == 'circular' else (9 - window, 8 - window)
    self.assertEqual(y.shape, (2, (h - 1) // stride + 1,
                               (w - 1) // stride + 1, 2))
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)


class GlobalPoolTest(parameterized.TestCase):

  def test_global_avg_pool(self):
    x = _random((3, 4, 5, 2))
    y = layers.global_avg_pool(x)
    self.assertEqual(y.shape, (3, 2))
    np.testing.assert_allclose(y, x.mean(axis=(1, 2)), rtol=1e-6, atol=1e-6)

  def test_global_max_pool(self):
    x = _random((3, 4, 5, 2))
    y = layers.global_max_pool(x)
    self.assertEqual(y.shape, (3, 2))
    np.testing.assert_array_equal(y, x.max(axis=(1, 2)))


class PolyphaseTest(parameterized.TestCase):

  @parameterized.parameters(1, 2, 3)
  def test_layout(self, stride):
    x = _random((2, 6, 12, 3))
    components = layers.polyphase_components(x, stride=stride)
    self.assertEqual(components.shape,
                     (stride**2, 2, 6 // stride, 12 // stride, 3))
    for i in range(stride):
      for j in range(stride):
        np.testing.assert_array_equal(components[i * stride + j],
                                      x[:, i::stride, j::stride])


class ApsPoolTest(chex.TestCase):

  @chex.variants(with_jit=True, without_jit=True)
  @parameterized.named_parameters(
      ('l1_s2', 'l1', 2, 1),
      ('l2_s2', 'l2', 2, 1),
      ('linf_s3', 'linf', 3, 1),
      ('l2_s2_blur3', 'l2', 2, 3),
      ('l1_s3_blur2', 'l1', 3, 2),
      ('linf_s2_blur4', 'linf', 2, 4),
  )
  def test_matches_numpy_reference(self, norm, stride, filter_size):
    x = _random((4, 6, 6, 2), seed=stride + filter_size)
    y = self.variant(functools.partial(
        layers.aps_pool, stride=stride, filter_size=filter_size, norm=norm))(x)
    expected = aps_reference(x, stride=stride, filter_size=filter_size,
                             norm=norm)
    self.assertEqual(y.shape, (4, 6 // stride, 6 // stride, 2))
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)

  @parameterized.product(norm=('l1', 'l2', 'linf'), phase=((1, 0), (0, 1),
                                                           (2, 1)))
  def test_selects_the_phase_holding_the_energy(self, norm, phase):
    stride = 3
    i, j = phase
    rng = np.random.default_rng(7)
    x = 0.01 * rng.normal(size=(2, 6, 9, 2)).astype(np.float32)
    x[:, i::stride, j::stride] += 5.0 + rng.random((2, 2, 3, 2)).astype(
        np.float32)
    y = _jit_aps_pool(x, stride=stride, norm=norm)
    np.testing.assert_array_equal(y, x[:, i::stride, j::stride])

  def test_choice_is_per_example(self):
    x = np.zeros((2, 4, 4, 1), np.float32)
    x[0, 1::2, 1::2] = 1.0  # phase 3
    x[1, 0::2, 1::2] = 2.0  # phase 1
    y = _jit_aps_pool(x, stride=2)
    np.testing.assert_array_equal(y[0], x[0, 1::2, 1::2])
    np.testing.assert_array_equal(y[1], x[1, 0::2, 1::2])

  def test_ties_pick_the_first_component(self):
    x = np.ones((2, 4, 4, 1), np.float32)  # all components have equal norms
    np.testing.assert_array_equal(_jit_aps_pool(x, stride=2), x[:, ::2, ::2])

  def test_equal_content_keys_are_broken_by_the_arrangement(self):
    # 3 x 3 components, pixel permutations of one another (seed 70): the
    # first-stage keys (value extremes, largest neighbour products) of
    # components 2 and 3 coincide and beat the others, so only the sorted
    # neighbour products tell them apart. Every circular shift must then keep
    # the same content (a circular shift of the chosen component).
    from tests.cases import polyphase as polyphase_cases  # pylint: disable=g-import-not-at-top
    x = polyphase_cases.permuted_components_input(
        np.random.default_rng(70), batch=1, size=3, channels=1)

    def components(y):
      return jnp.stack([y[:, i::2, j::2] for i in range(2) for j in range(2)])
    first = pooling._maxima(  # pylint: disable=protected-access
        jnp.ones((4, 1), bool),
        pooling._content_keys(components(x)))  # pylint: disable=protected-access
    np.testing.assert_array_equal(np.asarray(first)[:, 0],
                                  [False, False, True, True])
    chosen = None
    for dy in range(6):
      for dx in range(6):
        parts = components(np.roll(x, (dy, dx), axis=(1, 2)))
        index = int(pooling.shift_consistent_argmax(
            jnp.zeros((4, 1)), parts)[0])
        part = np.asarray(parts[index, 0])
        if chosen is None:
          chosen = part
        self.assertTrue(
            any(np.array_equal(np.roll(chosen, (a, b), axis=(0, 1)), part)
                for a in range(3) for b in range(3)), (dy, dx, index))


if __name__ == '__main__':
  absltest.main()
