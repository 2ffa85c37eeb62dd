"""Fuzzing the layers over random shapes: a correct output or a clear error.

Every test draws sizes with hypothesis (derandomized, the profile of
conftest.py): inputs ``[B, H, W, C]`` from 1x1 to 7x7 (odd and even),
windows and kernels up to 6 (larger than the input), strides up to 8 (larger
than the input), and every padding mode. An oracle written from the
documented shape rules says whether the call is valid:

* valid: the output has the documented shape, is finite, and matches a
  NumPy reference written here (float64 loops over taps, no layers code);
* invalid: the call raises a ValueError whose message starts with the name
  of one of its arguments (``x must ...``, ``padding='valid' needs ...``).

Anything else fails the test: a NaN, a wrong shape or value, an accepted
invalid input, an unclear message, or any other exception (an XLA error, a
TypeError). ``EdgeCaseTest`` runs the named edge cases (1x1 inputs, kernels
and strides larger than the input, empty batches) once each.
"""

import functools
import math
import re

from absl.testing import absltest
from absl.testing import parameterized
import hypothesis
from hypothesis import strategies as st
import jax
import numpy as np

import groups
import layers
from layers import conv as conv_lib
from layers import group_conv
from layers import harmonic as harmonic_layers
from layers import pooling

# Group convs run jitted: one compile per drawn shape instead of one per op
# (errors are raised while tracing, the same ValueErrors as eagerly).
_GROUP_OPTIONS = ('group', 'stride', 'padding')
_lifting_conv2d = jax.jit(group_conv.lifting_conv2d,
                          static_argnames=_GROUP_OPTIONS)
_group_conv2d = jax.jit(group_conv.group_conv2d, static_argnames=_GROUP_OPTIONS)
_SIDES = st.integers(1, 7)        # 1x1, odd, even
_WINDOWS = st.integers(1, 6)      # often larger than the input
_STRIDES = st.integers(1, 8)      # often larger than the input
_NP_MODES = {'zeros': 'constant', 'reflect': 'reflect', 'replicate': 'edge'}
# 'x must ...', 'padding='valid' needs ...': the argument comes first.
_NAMED_ERROR = re.compile(r"^(\w+)(?: must |=')")


def _examples(count: int) -> hypothesis.settings:
  """``count`` examples, or the profile's if larger (conftest.py)."""
  return hypothesis.settings(
      max_examples=max(count, hypothesis.settings.default.max_examples))


def _draw_input(draw, *, batch=(1, 2), channels=(1, 2)) -> np.ndarray:
  """White noise ``[B, H, W, C]`` float32."""
  shape = (draw(st.integers(*batch), label='B'), draw(_SIDES, label='H'),
           draw(_SIDES, label='W'), draw(st.integers(*channels), label='C'))
  seed = draw(st.integers(0, 2**16), label='seed')
  return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def _same_pads(size: int) -> tuple[int, int]:
  return (size - 1) // 2, size - 1 - (size - 1) // 2


def _check(call, *, valid: bool, arguments: set[str], shape=None,
           reference=None, atol=1e-4):
  """Runs ``call``; returns its output (valid) or None (a clear ValueError)."""
  try:
    out = call()
  except ValueError as error:
    match = _NAMED_ERROR.match(str(error))
    assert match and match.group(1) in arguments, (
        f'the message does not start with an argument of {sorted(arguments)}'
        f': {error}')
    assert not valid, f'a valid input was rejected: {error}'
    return None
  out = np.asarray(out)
  assert valid, f'an invalid input gave an output of shape {out.shape}'
  assert out.shape == tuple(shape), f'shape {out.shape}, expected {shape}'
  assert np.isfinite(out).all(), 'non-finite output'
  if reference is not None:
    np.testing.assert_allclose(out, reference(), atol=atol, rtol=1e-4)
  return out


# --------------------------------------------------------------------------
# NumPy references (float64).
# --------------------------------------------------------------------------


def _np_pad(x, pads, mode, fill=0.0):
  """Pads axes 1, 2 of ``x``; 'circular' wraps as often as needed."""
  x = np.asarray(x)
  if mode == 'circular':
    rows = np.arange(-pads[0][0], x.shape[1] + pads[0][1]) % x.shape[1]
    cols = np.arange(-pads[1][0], x.shape[2] + pads[1][1]) % x.shape[2]
    return x[:, rows][:, :, cols]
  widths = ((0, 0),) + tuple(pads) + ((0, 0),) * (x.ndim - 3)
  if mode == 'fill':
    return np.pad(x, widths, constant_values=fill)
  return np.pad(x, widths, mode=_NP_MODES[mode])


def _np_windows(x, size, stride, dilation=(1, 1)):
  """``[kh * kw, B, H', W', C]``: the taps of every window (x padded)."""
  (kh, kw), (sh, sw), (dh, dw) = size, stride, dilation
  out_h = (x.shape[1] - dh * (kh - 1) - 1) // sh + 1
  out_w = (x.shape[2] - dw * (kw - 1) - 1) // sw + 1
  return np.stack([
      x[:, a * dh:a * dh + sh * (out_h - 1) + 1:sh,
        b * dw:b * dw + sw * (out_w - 1) + 1:sw]
      for a in range(kh) for b in range(kw)])


def _np_conv(x, kernel, *, stride, padding, dilation=(1, 1)):
  """Cross-correlation of ``[B, H, W, C]`` with ``[kh, kw, C, O]``."""
  kh, kw = kernel.shape[:2]
  effective = [d * (k - 1) + 1 for d, k in zip(dilation, (kh, kw))]
  x = np.asarray(x, np.float64)
  if padding != 'valid':
    x = _np_pad(x, [_same_pads(e) for e in effective], padding)
  taps = _np_windows(x, (kh, kw), stride, dilation)  # [kh*kw, B, H', W', C]
  return np.einsum('tbhwc,tco->bhwo', taps,
                   np.asarray(kernel).reshape(kh * kw, *kernel.shape[2:]))


def _np_pool(x, *, window, stride, padding, reducer):
  x = np.asarray(x, np.float64)
  if padding != 'valid':
    pads = [_same_pads(w) for w in window]
    x = _np_pad(x, pads, 'fill' if padding == 'same' else 'circular',
                fill=np.nan)
  taps = _np_windows(x, window, stride)
  return np.nanmax(taps, 0) if reducer == 'max' else np.nanmean(taps, 0)


def _binomial(size: int) -> np.ndarray:
  taps = np.array([math.comb(size - 1, k) for k in range(size)], np.float64)
  return taps / taps.sum()


def _np_blur(x, *, stride, filter_size, padding):
  x = np.asarray(x, np.float64)
  if filter_size == 1:
    return x[:, ::stride, ::stride]
  pad = _same_pads(filter_size)
  x = _np_pad(x, (pad, pad), padding)
  kernel = np.einsum('i,j->ij', *(_binomial(filter_size),) * 2)
  taps = _np_windows(x, (filter_size, filter_size), (stride, stride))
  return np.einsum('tbhwc,t->bhwc', taps, kernel.ravel())


def _np_polyphase(x, stride):
  return np.stack([x[:, i::stride, j::stride] for i in range(stride)
                   for j in range(stride)])


def _np_group_filter(kernel, group, g):
  """``grid_action(g)`` of C4 / D4 on a ``[k, k, ...]`` filter, in NumPy."""
  turns, mirror = divmod(g, 4)[::-1] if isinstance(
      group, groups.Dihedral) else (g, 0)
  if mirror:
    kernel = np.flip(kernel, axis=1)
  return np.rot90(kernel, turns, axes=(0, 1))


# --------------------------------------------------------------------------
# Oracles: the documented shape rules.
# --------------------------------------------------------------------------


def _conv_rule(size, kernel, stride, padding, dilation=1):
  """``(valid, output size)`` of a conv2d along one axis."""
  effective = dilation * (kernel - 1) + 1
  if padding == 'valid':
    return effective <= size, (size - effective) // stride + 1
  if padding == 'reflect' and max(_same_pads(effective)) >= size:
    return False, None
  return True, -(-size // stride)


def _pool_rule(size, window, stride, padding):
  if padding == 'valid':
    return window <= size, (size - window) // stride + 1
  return padding == 'same' or window <= size, -(-size // stride)


def _blur_rule(size, stride, filter_size, padding):
  ok = (filter_size == 1 or padding != 'reflect' or
        max(_same_pads(filter_size)) < size)
  return ok, (size - 1) // stride + 1


def _both(rule, x, *args_per_axis):
  """Applies an axis rule to H and W: ``(valid, (H', W'))``."""
  (ok_h, h), (ok_w, w) = (rule(x.shape[axis], *[a[i] for a in args_per_axis])
                          for i, axis in enumerate((1, 2)))
  return ok_h and ok_w, (h, w)


class LayerFuzzTest(parameterized.TestCase):

  @hypothesis.given(data=st.data())
  def test_conv2d(self, data):
    draw = data.draw
    x = _draw_input(draw)
    kernel_size = (draw(_WINDOWS, label='kh'), draw(_WINDOWS, label='kw'))
    stride = (draw(_STRIDES, label='sh'), draw(_STRIDES, label='sw'))
    dilation = (draw(st.integers(1, 2), label='dh'),) * 2
    padding = draw(st.sampled_from(conv_lib.CONV_PADDINGS), label='padding')
    c_out = draw(st.integers(1, 2), label='C_out')
    kernel = np.random.default_rng(1).normal(
        size=kernel_size + (x.shape[3], c_out)).astype(np.float32)
    valid, (h, w) = _both(lambda *a: _conv_rule(*a, padding, dilation[0]),
                          x, kernel_size, stride)
    _check(lambda: layers.conv2d(x, kernel, stride=stride, padding=padding,
                                 dilation=dilation),
           valid=valid, arguments={'x', 'kernel', 'padding'},
           shape=(x.shape[0], h, w, c_out),
           reference=lambda: _np_conv(x, kernel, stride=stride,
                                      padding=padding, dilation=dilation))

  @_examples(24)
  @hypothesis.given(data=st.data())
  def test_max_and_avg_pool(self, data):
    draw = data.draw
    x = _draw_input(draw)
    reducer = draw(st.sampled_from(['max', 'avg']), label='reducer')
    window = (draw(_WINDOWS, label='wh'), draw(_WINDOWS, label='ww'))
    stride = draw(st.one_of(st.none(), st.tuples(_STRIDES, _STRIDES)),
                  label='stride')
    padding = draw(st.sampled_from(pooling.POOL_PADDINGS), label='padding')
    strides = window if stride is None else stride
    valid, (h, w) = _both(lambda *a: _pool_rule(*a, padding), x, window,
                          strides)
    pool = layers.max_pool if reducer == 'max' else layers.avg_pool
    _check(lambda: pool(x, window=window, stride=stride, padding=padding),
           valid=valid, arguments={'x', 'window', 'padding'},
           shape=(x.shape[0], h, w, x.shape[3]),
           reference=lambda: _np_pool(x, window=window, stride=strides,
                                      padding=padding, reducer=reducer))

  @_examples(12)
  @hypothesis.given(data=st.data())
  def test_blur_pool(self, data):
    draw = data.draw
    x = _draw_input(draw)
    stride = draw(_STRIDES, label='stride')
    filter_size = draw(st.integers(1, 7), label='filter_size')
    padding = draw(st.sampled_from(pooling.BLUR_PADDINGS), label='padding')
    valid, (h, w) = _both(lambda *a: _blur_rule(*a, filter_size, padding), x,
                          (stride, stride))
    _check(lambda: layers.blur_pool(x, stride=stride, filter_size=filter_size,
                                    padding=padding),
           valid=valid, arguments={'x', 'padding'},
           shape=(x.shape[0], h, w, x.shape[3]),
           reference=lambda: _np_blur(x, stride=stride,
                                      filter_size=filter_size,
                                      padding=padding))

  @hypothesis.given(data=st.data())
  def test_max_blur_pool(self, data):
    draw = data.draw
    x = _draw_input(draw)
    window = draw(st.integers(1, 4), label='window')
    stride = draw(_STRIDES, label='stride')
    filter_size = draw(st.integers(1, 5), label='filter_size')
    padding = draw(st.sampled_from(pooling.BLUR_PADDINGS), label='padding')
    max_padding = 'circular' if padding == 'circular' else 'valid'
    valid, sides = _both(lambda *a: _pool_rule(*a, max_padding), x,
                         (window, window), (1, 1))
    if valid:
      valid, (h, w) = _both(
          lambda *a: _blur_rule(*a, filter_size, padding),
          np.empty((1,) + sides + (1,)), (stride, stride))

    def reference():
      pooled = _np_pool(x, window=(window, window), stride=(1, 1),
                        padding=max_padding, reducer='max')
      return _np_blur(pooled, stride=stride, filter_size=filter_size,
                      padding=padding)

    _check(lambda: layers.max_blur_pool(x, window=window, stride=stride,
                                        filter_size=filter_size,
                                        padding=padding),
           valid=valid, arguments={'x', 'window', 'padding'},
           shape=(x.shape[0], h, w, x.shape[3]) if valid else None,
           reference=reference)

  @_examples(12)
  @hypothesis.given(data=st.data())
  def test_polyphase_and_aps_pool(self, data):
    draw = data.draw
    x = _draw_input(draw)
    stride = draw(st.integers(1, 4), label='stride')
    filter_size = draw(st.integers(1, 5), label='filter_size')
    norm = draw(st.sampled_from(pooling.APS_NORMS), label='norm')
    b, height, width, c = x.shape
    valid = height % stride == 0 and width % stride == 0
    h, w = height // stride, width // stride
    _check(lambda: layers.polyphase_components(x, stride=stride),
           valid=valid, arguments={'x'},
           shape=(stride**2, b, h, w, c),
           reference=lambda: _np_polyphase(x, stride))
    out = _check(lambda: layers.aps_pool(x, stride=stride,
                                         filter_size=filter_size, norm=norm),
                 valid=valid, arguments={'x'}, shape=(b, h, w, c))
    if out is None:
      return
    # The output is, per example, a component of largest norm.
    blurred = _np_blur(x, stride=1, filter_size=filter_size,
                       padding='circular')
    components = _np_polyphase(blurred, stride)  # [P, B, h, w, C]
    flat = np.abs(components.reshape(stride**2, b, -1))
    scores = {'l1': flat.sum(-1), 'l2': np.square(flat).sum(-1),
              'linf': flat.max(-1)}[norm]  # [P, B]
    for example in range(b):
      errors = np.abs(components[:, example] - out[example]).reshape(
          stride**2, -1).max(-1)
      chosen = int(np.argmin(errors))
      self.assertLess(errors[chosen], 1e-4)
      self.assertGreaterEqual(scores[chosen, example],
                              scores[:, example].max() * (1 - 1e-4))

  @_examples(16)
  @hypothesis.given(data=st.data())
  def test_global_pools(self, data):
    x = _draw_input(data.draw)
    for pool, reference in ((layers.global_avg_pool, np.mean),
                            (layers.global_max_pool, np.max)):
      _check(lambda: pool(x), valid=True, arguments={'x'},  # noqa: B023
             shape=(x.shape[0], x.shape[3]),
             reference=lambda: reference(x, axis=(1, 2)))  # noqa: B023

  @hypothesis.given(data=st.data())
  def test_lifting_and_group_conv(self, data):
    draw = data.draw
    x = _draw_input(draw)
    group = draw(st.sampled_from([groups.Cyclic(1), groups.Cyclic(4),
                                  groups.Dihedral(4)]), label='group')
    k = draw(st.integers(1, 5), label='k')
    stride = draw(st.integers(1, 8), label='stride')
    padding = draw(st.sampled_from(conv_lib.CONV_PADDINGS), label='padding')
    rng = np.random.default_rng(2)
    kernel = rng.normal(size=(k, k, x.shape[3], 2)).astype(np.float32)
    valid, (h, w) = _both(lambda *a: _conv_rule(*a, padding), x, (k, k),
                          (stride, stride))
    b, g = x.shape[0], group.order

    def lifting_reference():  # element by element
      return np.stack([
          _np_conv(x, _np_group_filter(kernel, group, e), stride=(stride,) * 2,
                   padding=padding) for e in group.elements()], axis=3)

    lifted = _check(
        lambda: _lifting_conv2d(x, kernel, group=group, stride=stride,
                                padding=padding),
        valid=valid, arguments={'x', 'kernel', 'padding'},
        shape=(b, h, w, g, 2), reference=lifting_reference)
    if lifted is None:
      return
    # A group conv of the lifted map: its identity element is a plain conv
    # of the folded map with the untransformed filter.
    y = lifted.astype(np.float32)
    group_kernel = rng.normal(size=(k, k, g, 2, 3)).astype(np.float32)
    valid, (h2, w2) = _both(lambda *a: _conv_rule(*a, padding), y, (k, k),
                            (stride, stride))
    out = _check(
        lambda: _group_conv2d(y, group_kernel, group=group, stride=stride,
                              padding=padding),
        valid=valid, arguments={'y', 'kernel', 'x', 'padding'},
        shape=(b, h2, w2, g, 3))
    if out is not None:
      np.testing.assert_allclose(
          out[:, :, :, 0],
          _np_conv(y.reshape(b, h, w, g * 2),
                   group_kernel.reshape(k, k, g * 2, 3),
                   stride=(stride,) * 2, padding=padding),
          atol=1e-3, rtol=1e-4)

  @hypothesis.given(data=st.data())
  def test_harmonic_conv2d(self, data):
    draw = data.draw
    x = _draw_input(draw)
    filter_size = draw(st.integers(1, 5), label='filter_size')
    max_order = draw(st.integers(0, 2), label='max_order')
    stride = draw(_STRIDES, label='stride')
    padding = draw(st.sampled_from(conv_lib.CONV_PADDINGS), label='padding')
    rng = np.random.default_rng(3)
    radial = rng.normal(size=(max_order + 1, 2, x.shape[3], 2)).astype(
        np.float32)
    phase = rng.uniform(0, 2 * np.pi, size=(max_order + 1, x.shape[3], 2))
    phase = phase.astype(np.float32)
    valid, (h, w) = _both(lambda *a: _conv_rule(*a, padding), x,
                          (filter_size,) * 2, (stride, stride))
    valid = valid and filter_size % 2 == 1

    def reference():  # out_m = x * W_m for a real input (order 0)
      filters = np.asarray(harmonic_layers.harmonic_filters(
          radial, phase, filter_size=filter_size))  # [F, k, k, C, O]
      return np.stack([
          _np_conv(x, filters[m], stride=(stride,) * 2, padding=padding)
          for m in range(max_order + 1)], axis=3)

    _check(lambda: harmonic_layers.harmonic_conv2d(
        x, radial, phase, filter_size=filter_size, max_order=max_order,
        stride=stride, padding=padding),
           valid=valid, arguments={'z', 'filter_size', 'padding'},
           shape=(x.shape[0], h, w, max_order + 1, 2), reference=reference)


_ONE = np.ones((1, 1, 1, 2), np.float32)  # a 1x1 image
_EMPTY = np.ones((0, 4, 4, 2), np.float32)  # an empty batch
_K3 = np.ones((3, 3, 2, 1), np.float32)
_P4 = groups.Cyclic(4)
_HCONV = functools.partial(harmonic_layers.harmonic_conv2d,
                           radial=np.ones((2, 2, 2, 1), np.float32),
                           filter_size=3)

# (name, call, expected output shape, or the start of the error message).
_EDGE_CASES = (
    ('conv_1x1_kernel_3_stride_4', lambda: layers.conv2d(
        _ONE, _K3, stride=4), (1, 1, 1, 1)),
    ('conv_1x1_zeros', lambda: layers.conv2d(_ONE, _K3, padding='zeros'),
     (1, 1, 1, 1)),
    ('conv_1x1_valid', lambda: layers.conv2d(_ONE, _K3, padding='valid'),
     "padding='valid' needs"),
    ('conv_1x1_reflect', lambda: layers.conv2d(_ONE, _K3, padding='reflect'),
     "padding='reflect' needs"),
    ('conv_empty_batch', lambda: layers.conv2d(_EMPTY, _K3), (0, 4, 4, 1)),
    ('max_pool_1x1_stride_5', lambda: layers.max_pool(
        _ONE, window=1, stride=5), (1, 1, 1, 2)),
    ('max_pool_1x1_window_2_circular', lambda: layers.max_pool(
        _ONE, window=2, padding='circular'), "padding='circular' needs"),
    ('avg_pool_1x1_window_3_same', lambda: layers.avg_pool(
        _ONE, window=3, stride=2, padding='same'), (1, 1, 1, 2)),
    ('avg_pool_empty_batch', lambda: layers.avg_pool(_EMPTY, window=2),
     (0, 2, 2, 2)),
    ('blur_pool_1x1_stride_3', lambda: layers.blur_pool(
        _ONE, stride=3, padding='zeros'), (1, 1, 1, 2)),
    ('blur_pool_1x1_reflect', lambda: layers.blur_pool(_ONE),
     "padding='reflect' needs"),
    ('blur_pool_empty_batch', lambda: layers.blur_pool(_EMPTY), (0, 2, 2, 2)),
    ('max_blur_pool_1x1_circular', lambda: layers.max_blur_pool(
        _ONE, window=1, padding='circular'), (1, 1, 1, 2)),
    ('aps_pool_1x1_stride_2', lambda: layers.aps_pool(_ONE), 'x must'),
    ('aps_pool_1x1_stride_1', lambda: layers.aps_pool(_ONE, stride=1),
     (1, 1, 1, 2)),
    ('aps_pool_empty_batch', lambda: layers.aps_pool(_EMPTY), (0, 2, 2, 2)),
    ('polyphase_2x2', lambda: layers.polyphase_components(
        np.ones((1, 2, 2, 2), np.float32)), (4, 1, 1, 1, 2)),
    ('global_avg_pool_1x1', lambda: layers.global_avg_pool(_ONE), (1, 2)),
    ('global_max_pool_empty_batch', lambda: layers.global_max_pool(_EMPTY),
     (0, 2)),
    ('lifting_conv_1x1_kernel_3', lambda: group_conv.lifting_conv2d(
        _ONE, _K3, group=_P4), (1, 1, 1, 4, 1)),
    ('lifting_conv_1x1_stride_2', lambda: group_conv.lifting_conv2d(
        _ONE, _K3, group=_P4, stride=2, padding='zeros'), (1, 1, 1, 4, 1)),
    ('group_conv_1x1', lambda: group_conv.group_conv2d(
        np.ones((1, 1, 1, 4, 2), np.float32),
        np.ones((3, 3, 4, 2, 1), np.float32), group=_P4), (1, 1, 1, 4, 1)),
    ('harmonic_conv_1x1', lambda: _HCONV(_ONE), (1, 1, 1, 2, 1)),
    ('harmonic_conv_1x1_stride_3', lambda: _HCONV(_ONE, stride=3),
     (1, 1, 1, 2, 1)),
    ('harmonic_conv_1x1_valid', lambda: _HCONV(_ONE, padding='valid'),
     "padding='valid' needs"),
    ('harmonic_conv_empty_batch', lambda: _HCONV(_EMPTY), (0, 4, 4, 2, 1)),
)


class EdgeCaseTest(parameterized.TestCase):

  @parameterized.named_parameters(*_EDGE_CASES)
  def test_edge_case(self, call, expected):
    if isinstance(expected, str):
      with self.assertRaisesRegex(ValueError, '^' + re.escape(expected)):
        call()
      return
    out = np.asarray(call())
    self.assertEqual(out.shape, expected)
    self.assertTrue(np.isfinite(out).all())


if __name__ == '__main__':
  absltest.main()
