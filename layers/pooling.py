"""Pooling on ``[B, H, W, C]``: local, anti-aliased, global and polyphase.

What each does to shift symmetry (tested in ``tests/registry_test.py``):

* :func:`max_pool` / :func:`avg_pool` with stride ``s`` — exactly equivariant
  to shifts by multiples of ``s`` ('circular' padding, ``s | H``), aliased for
  other shifts.
* :func:`blur_pool` (Zhang 2019, antialiased-cnns ``BlurPool``) — low-pass
  with a binomial filter, then subsample. Not exact, but much less aliasing.
* :func:`max_blur_pool` — max with stride 1, then :func:`blur_pool`.
* :func:`aps_pool` (Chaman & Dokmanic 2021) — keep the polyphase component of
  largest norm; a circular shift only permutes the components, so the same
  one is chosen and a circular conv net with APS and global pooling is
  *exactly* shift-invariant.
* :func:`global_avg_pool` / :func:`global_max_pool` — ``[B, H, W, C] -> [B, C]``,
  invariant to every permutation of pixels.
"""

from __future__ import annotations

from collections.abc import Callable
import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from groups import validate
from layers import conv as conv_lib
from layers import padding as padding_lib

POOL_PADDINGS = ('valid', 'circular', 'same')
BLUR_PADDINGS = ('reflect', 'replicate', 'zeros', 'circular')
APS_NORMS = ('l1', 'l2', 'linf')


def binomial_filter(filter_size: int) -> np.ndarray:
  """Normalised 1-D binomial filter of ``filter_size`` taps (1..7), float32.

  Sizes 1..7 give [1], [1,1], [1,2,1], [1,3,3,1], [1,4,6,4,1],
  [1,5,10,10,5,1], [1,6,15,20,15,6,1] / sum — antialiased-cnns' filters; the
  2-D filter is the outer product of two of them.
  """
  filter_size = validate.integer(filter_size, 'filter_size', minimum=1,
                                  maximum=7)
  taps = np.array([1.0])
  for _ in range(filter_size - 1):
    taps = np.convolve(taps, [1.0, 1.0])
  return (taps / taps.sum()).astype(np.float32)


def _pool(x, *, window, stride, padding, reducer: str) -> jax.Array:
  conv_lib.check_nhwc(x)
  window = validate.pair(window, 'window')
  stride = window if stride is None else validate.pair(stride, 'stride')
  validate.check_choice(padding, 'padding', POOL_PADDINGS)
  x = jnp.asarray(x)
  if padding in ('valid', 'circular') and (window[0] > x.shape[1] or
                                           window[1] > x.shape[2]):
    # A larger circular window would wrap around the torus more than once
    # and count some pixels twice.
    raise ValueError(
        f'padding={padding!r} needs window {window} to fit in the input '
        f'H, W = {x.shape[1:3]}; use a smaller window or padding=\'same\'.')
  if padding == 'valid':
    pads = ((0, 0), (0, 0))
  else:
    pads = tuple(padding_lib.same_pads(w) for w in window)
  if padding == 'circular':
    x = padding_lib.pad_spatial(x, pads, mode='circular')
    pads = ((0, 0), (0, 0))
  if stride == window:
    return _tiled_pool(x, window=window, pads=pads, reducer=reducer,
                       count_inside=padding == 'same')
  dims = (1,) + window + (1,)
  strides = (1,) + stride + (1,)
  lax_pads = ((0, 0),) + pads + ((0, 0),)
  if reducer == 'max':
    # 'same' pads with -inf, the identity of max.
    return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, dims, strides,
                                 lax_pads)
  total = jax.lax.reduce_window(x, 0.0, jax.lax.add, dims, strides, lax_pads)
  if padding != 'same':
    return total / (window[0] * window[1])
  # 'same' averages over the pixels inside the grid only.
  ones = jnp.ones((1,) + x.shape[1:3] + (1,), x.dtype)
  count = jax.lax.reduce_window(ones, 0.0, jax.lax.add, dims, strides,
                                lax_pads)
  return total / count


def _tiled_pool(x: jax.Array, *, window: tuple[int, int],
                pads: tuple[tuple[int, int], tuple[int, int]], reducer: str,
                count_inside: bool) -> jax.Array:
  """Non-overlapping windows (stride == window) as a reshape and a reduction.

  The same numbers as ``lax.reduce_window``, but XLA:CPU differentiates a
  reduction over reshaped axes with a few fused selects, while the gradient
  of a max ``reduce_window`` is a variadic reduce-window over index iotas,
  several times slower (``benchmarks/peers.py``, 'max_pool' rows). On ties
  the gradient of this max is shared equally by the tied pixels (that of
  ``reduce_window`` goes to one of them); both are valid subgradients.
  """
  fill = -jnp.inf if reducer == 'max' else 0.0
  b, h, w, c = x.shape
  x = jnp.pad(x, ((0, 0),) + pads + ((0, 0),), constant_values=fill)
  out_h, out_w = x.shape[1] // window[0], x.shape[2] // window[1]
  tiles = x[:, :out_h * window[0], :out_w * window[1]].reshape(
      b, out_h, window[0], out_w, window[1], c)
  if reducer == 'max':
    return jnp.max(tiles, axis=(2, 4))
  total = jnp.sum(tiles, axis=(2, 4))
  if not count_inside:
    return total / (window[0] * window[1])
  # 'same' averages over the pixels inside the grid only.
  inside = jnp.pad(jnp.ones((1, h, w, 1), x.dtype),
                   ((0, 0),) + pads + ((0, 0),))
  count = inside[:, :out_h * window[0], :out_w * window[1]].reshape(
      1, out_h, window[0], out_w, window[1], 1).sum(axis=(2, 4))
  return total / count


def max_pool(x: jax.typing.ArrayLike, *, window: int | tuple[int, int],
             stride: int | tuple[int, int] | None = None,
             padding: str = 'valid') -> jax.Array:
  """Max over ``window`` patches taken every ``stride`` pixels.

  Args:
    x: ``[B, H, W, C]`` floating.
    window: int or ``(wh, ww)``, >= 1; at most ``(H, W)`` for 'valid' and
      'circular' (a ValueError otherwise), any size for 'same'.
    stride: int or ``(sh, sw)``, >= 1; defaults to ``window``.
    padding: 'valid' (no padding), 'circular' (wrap around) or 'same' (pad
      with -inf); padded modes use pads ``same_pads(window)`` and give
      ``ceil(H / sh)`` rows.

  Returns:
    ``[B, H', W', C]``.
  """
  return _pool(x, window=window, stride=stride, padding=padding,
               reducer='max')


def avg_pool(x: jax.typing.ArrayLike, *, window: int | tuple[int, int],
             stride: int | tuple[int, int] | None = None,
             padding: str = 'valid') -> jax.Array:
  """Mean over ``window`` patches taken every ``stride`` pixels.

  Args and shapes as :func:`max_pool`; 'same' padding averages over the
  pixels inside the grid only (TensorFlow's convention).
  """
  return _pool(x, window=window, stride=stride, padding=padding,
               reducer='avg')


def _blur_axis(x: jax.Array, taps: np.ndarray, axis: int, stride: int,
               out_size: int) -> jax.Array:
  """Separable blur + subsample along ``axis`` as a sum of strided slices."""
  out = None
  for offset, tap in enumerate(taps):
    index = [slice(None)] * x.ndim
    index[axis] = slice(offset, offset + stride * (out_size - 1) + 1, stride)
    term = tap * x[tuple(index)]
    out = term if out is None else out + term
  return out


def _fit_axis(x: jax.Array, axis: int, size: int) -> jax.Array:
  """Crops ``x`` at the end of ``axis`` to ``size``, or zero-pads it there."""
  if x.shape[axis] >= size:
    return jax.lax.slice_in_dim(x, 0, size, axis=axis)
  widths = [(0, 0)] * x.ndim
  widths[axis] = (0, size - x.shape[axis])
  return jnp.pad(x, widths)


def _blur_axis_phases(x: jax.Array, taps: np.ndarray, axis: int, stride: int,
                      out_size: int) -> jax.Array:
  """:func:`_blur_axis` with the axis reshaped into ``(n, stride)`` phases.

  Tap ``t = q * stride + r`` reads phase ``r`` at offsets ``q .. q + out``:
  unit-stride slices of a reshaped array instead of strided slices, summed
  in the same order. For ``filter_size == stride`` every output is one
  reshaped block (``q == 0``) and the unused padding is cropped away.
  """
  n = out_size + (len(taps) - 1) // stride
  # Crop or zero-fill to whole phases: the samples cut or added are never read.
  x = _fit_axis(x, axis, stride * n)
  x = x.reshape(x.shape[:axis] + (n, stride) + x.shape[axis + 1:])
  out = None
  for t, tap in enumerate(taps):
    q, r = divmod(t, stride)
    phase = jax.lax.index_in_dim(x, r, axis + 1, keepdims=False)
    term = tap * jax.lax.slice_in_dim(phase, q, q + out_size, axis=axis)
    out = term if out is None else out + term
  return out


@functools.lru_cache(maxsize=256)
def blur_matrix(size: int, *, filter_size: int, stride: int,
                padding: str) -> np.ndarray:
  """The 1-D blur-and-subsample of :func:`blur_pool` as a matrix, float32.

  ``blur_matrix(n, ...) @ v`` pads ``v`` (length ``n``), blurs it with
  ``binomial_filter(filter_size)`` and keeps every ``stride``-th sample: the
  padding is folded into the matrix (a reflected tap adds to the entry of
  the pixel it mirrors; a zero pad drops it).

  Returns:
    ``[floor((n - 1) / stride) + 1, n]``; cached per arguments.
  """
  taps = binomial_filter(filter_size)
  validate.check_choice(padding, 'padding', BLUR_PADDINGS)
  top, bottom = padding_lib.same_pads(filter_size)
  # Index into the unpadded signal of every padded position (-1: a zero).
  kwargs = {'constant_values': -1} if padding == 'zeros' else {}
  padded = np.pad(np.arange(size), (top, bottom),
                  mode=padding_lib.PAD_MODES[padding], **kwargs)
  out_size = (size - 1) // stride + 1
  matrix = np.zeros((out_size, size), np.float64)
  for row in range(out_size):
    for offset, tap in enumerate(taps):
      column = padded[row * stride + offset]
      if column >= 0:
        matrix[row, column] += tap
  return matrix.astype(np.float32)


_BATCHED = (((2,), (1,)), ((0,), (0,)))  # [N, m, n] x [N, n, k] -> [N, m, k]


def _apply_rows(x: jax.Array, rows: np.ndarray) -> jax.Array:
  """``out[b, i, w, c] = sum_h rows[i, h] x[b, h, w, c]``: one batched
  product on ``[B, H, W*C]`` with the broadcast matrix (no transposes)."""
  b, h, w, c = x.shape
  rows = jnp.asarray(rows, x.dtype)
  y = jax.lax.dot_general(jnp.broadcast_to(rows, (b,) + rows.shape),
                          x.reshape(b, h, w * c), _BATCHED,
                          precision=jax.lax.Precision.HIGHEST)  # no TF32/bf16
  return y.reshape(b, rows.shape[0], w, c)


def _rows_then_columns(x: jax.Array, rows: np.ndarray, cols: np.ndarray
                       ) -> jax.Array:
  """``out[b, i, j, c] = sum_{h, w} rows[i, h] cols[j, w] x[b, h, w, c]``.

  Two batched matrix products that keep ``x``'s memory layout (no
  transposes): rows act on ``[B, H, W*C]`` and columns on ``[B*H', W, C]``,
  each a batch of small products with the broadcast matrix.
  """
  y = _apply_rows(x, rows)  # [B, H', W, C]
  b, out_h, w, c = y.shape
  out_w = cols.shape[0]
  cols = jnp.asarray(cols, x.dtype)
  y = jax.lax.dot_general(
      jnp.broadcast_to(cols, (b * out_h,) + cols.shape),
      y.reshape(b * out_h, w, c), _BATCHED,
      precision=jax.lax.Precision.HIGHEST)  # [B*H', W', C]
  return y.reshape(b, out_h, out_w, c)


def _blur_matrices(options: tuple[int, int, str, int, int]
                   ) -> tuple[np.ndarray, np.ndarray]:
  filter_size, stride, padding, h, w = options
  return (blur_matrix(h, filter_size=filter_size, stride=stride,
                      padding=padding),
          blur_matrix(w, filter_size=filter_size, stride=stride,
                      padding=padding))


@functools.partial(jax.custom_vjp, nondiff_argnums=(1,))
def _blur_matmul(x: jax.Array, options: tuple[int, int, str, int, int]
                 ) -> jax.Array:
  """:func:`blur_pool` as products with :func:`blur_matrix`, ``[B, H, W, C]``.

  ``options = (filter_size, stride, padding, H, W)``. The gradient is the
  same pair of products with the transposed matrices (stored transposed, so
  XLA:CPU runs them on its fast path: the automatic transpose contracts the
  matrices' first axis, about 2.5x slower). A linear map, so forward-mode
  differentiation is not needed by training; use ``method='slices'`` for
  ``jax.jvp``.
  """
  rows, cols = _blur_matrices(options)
  return _rows_then_columns(x, rows, cols)


def _blur_matmul_fwd(x, options):
  return _blur_matmul(x, options), None


def _blur_matmul_bwd(options, _, cotangent):
  rows, cols = _blur_matrices(options)
  return (_rows_then_columns(cotangent, np.ascontiguousarray(rows.T),
                             np.ascontiguousarray(cols.T)),)


_blur_matmul.defvjp(_blur_matmul_fwd, _blur_matmul_bwd)


@functools.partial(jax.custom_vjp, nondiff_argnums=(1,))
def _blur_rows_matmul(x: jax.Array, options: tuple[int, int, str, int]
                      ) -> jax.Array:
  """The H pass of :func:`_blur_matmul` alone, ``options = (filter_size,
  stride, padding, H)``; ``[B, H, W, C] -> [B, H', W, C]``, with the same
  stored-transposed gradient."""
  filter_size, stride, padding, h = options
  return _apply_rows(x, blur_matrix(h, filter_size=filter_size,
                                    stride=stride, padding=padding))


def _blur_rows_matmul_fwd(x, options):
  return _blur_rows_matmul(x, options), None


def _blur_rows_matmul_bwd(options, _, cotangent):
  filter_size, stride, padding, h = options
  rows = blur_matrix(h, filter_size=filter_size, stride=stride,
                     padding=padding)
  return (_apply_rows(cotangent, np.ascontiguousarray(rows.T)),)


_blur_rows_matmul.defvjp(_blur_rows_matmul_fwd, _blur_rows_matmul_bwd)


BLUR_METHODS = ('auto', 'matmul', 'slices', 'phases', 'matmul_slices')


def blur_pool(x: jax.typing.ArrayLike, *, stride: int = 2,
              filter_size: int = 3, padding: str = 'reflect',
              method: str = 'auto') -> jax.Array:
  """Anti-aliased downsampling: binomial low-pass, then subsample (Zhang 2019).

  Numerically equal to ``antialiased_cnns.BlurPool(C, filt_size=filter_size,
  stride=stride, pad_type=...)``: the same normalised binomial filter, pads
  ``(floor((k-1)/2), ceil((k-1)/2))`` on top/left and bottom/right, output
  ``floor((H - 1) / stride) + 1``; ``filter_size=1`` is plain subsampling
  ``x[:, ::stride, ::stride]``. Computed separably (one 1-D pass per axis).

  Args:
    x: ``[B, H, W, C]`` floating.
    stride: int >= 1.
    filter_size: taps of the binomial filter, 1..7.
    padding: 'reflect' | 'replicate' | 'zeros' | 'circular'.
    method: how each 1-D pass is computed; the same function either way
      (outputs agree to float32 rounding). 'matmul': a product with
      :func:`blur_matrix` (fastest when ``stride > 1``, see
      ``benchmarks/peers.py``; reverse-mode gradients only, no ``jax.jvp``);
      'slices': a sum of ``filter_size`` strided
      slices, every output pixel summed in the same order, so a circular
      shift by a multiple of ``stride`` commutes with it bit for bit;
      'phases': the same sums as 'slices', read from each axis reshaped
      into ``stride`` phases (no strided slices; for ``filter_size ==
      stride == 2`` a 2 x 2 reshape-and-sum, 0.28x the matmul's time in
      ``benchmarks/results/blur_formulations.md``);
      'matmul_slices': the matmul along H, strided slices along W (for
      wide maps: the dense product costs W multiplications per output,
      the slices ``filter_size``; reverse-mode gradients only);
      'auto': :func:`auto_blur_method`.

  Returns:
    ``[B, floor((H-1)/stride) + 1, floor((W-1)/stride) + 1, C]``.
  """
  conv_lib.check_nhwc(x)
  stride = validate.integer(stride, 'stride', minimum=1)
  taps = binomial_filter(filter_size)
  validate.check_choice(padding, 'padding', BLUR_PADDINGS)
  validate.check_choice(method, 'method', BLUR_METHODS)
  x = jnp.asarray(x)
  if filter_size == 1:
    return x[:, ::stride, ::stride]
  pad = padding_lib.same_pads(filter_size)
  # Checked here: the matmul path folds the pads into its matrices.
  padding_lib.check_pads_fit((pad, pad), x.shape[1:3], mode=padding)
  if method == 'auto':
    method = auto_blur_method(filter_size, stride, x.shape[2])
  if method == 'matmul':
    return _blur_matmul(x, (filter_size, stride, padding) + x.shape[1:3])
  taps = taps.astype(x.dtype)
  if method == 'matmul_slices':
    x = _blur_rows_matmul(x, (filter_size, stride, padding, x.shape[1]))
    x = padding_lib.pad_spatial(x, ((0, 0), pad), mode=padding)
    out_w = (x.shape[2] - filter_size) // stride + 1
    return _blur_axis(x, taps, 2, stride, out_w)
  blur_axis = _blur_axis_phases if method == 'phases' else _blur_axis
  # Each axis is padded just before its pass: XLA then folds a pad that the
  # phase form crops off again (filter_size <= stride) into nothing; padding
  # both axes up front made the phase form 1.7-5x slower at k = s = 2
  # (docs/performance.md, "BlurPool formulations per shape").
  for axis, pads in ((1, (pad, (0, 0))), (2, ((0, 0), pad))):
    x = padding_lib.pad_spatial(x, pads, mode=padding)
    out_size = (x.shape[axis] - filter_size) // stride + 1
    x = blur_axis(x, taps, axis, stride, out_size)
  return x


# Width (in pixels per filter tap) from which 'auto' blurs W by strided slices
# instead of the dense banded product. Measured on a 2-core EPYC (AVX-512),
# forward + input gradient, benchmarks/results/blur_formulations.md (with
# huge pages, experiments.runtime): at 18.7 px/tap (W = 56, k = 3) the two
# tie (1.05x), at 22.4 (W = 112, k = 5) the slices take 0.72x the matmul's
# time, at 28 (W = 84, k = 3; W = 112, k = 4) 0.65-0.74x, at 37 and 75
# (W = 112, 224, k = 3) 0.52x and 0.33x.
WIDE_MAP_PIXELS_PER_TAP = 22


def auto_blur_method(filter_size: int, stride: int, width: int = 0) -> str:
  """The formulation ``blur_pool(method='auto')`` runs for ``[B, H, W, C]``
  inputs of width ``W = width``: 'slices' for ``stride == 1`` (bit-exact
  under circular shifts), 'phases' for ``filter_size == stride == 2``,
  'matmul_slices' when ``width >= WIDE_MAP_PIXELS_PER_TAP * filter_size``,
  else 'matmul' (measured per shape by ``python -m
  benchmarks.blur_formulations``; the thresholds come from one CPU, so
  re-run it on yours)."""
  if stride == 1:
    return 'slices'
  if filter_size == stride == 2:
    return 'phases'
  if width >= WIDE_MAP_PIXELS_PER_TAP * filter_size:
    return 'matmul_slices'
  return 'matmul'


def max_blur_pool(x: jax.typing.ArrayLike, *, window: int = 2, stride: int = 2,
                  filter_size: int = 3, padding: str = 'reflect') -> jax.Array:
  """MaxBlurPool (Zhang 2019): max with stride 1, then :func:`blur_pool`.

  Args:
    x: ``[B, H, W, C]`` floating.
    window: max-pooling window, >= 1.
    stride: blur-pool stride, >= 1.
    filter_size: binomial taps, 1..7.
    padding: blur padding, 'reflect' | 'replicate' | 'zeros' | 'circular'.
      With 'circular' the stride-1 max also wraps around (keeps the torus
      symmetry); otherwise it is unpadded, as in antialiased-cnns
      (``nn.MaxPool2d(window, stride=1)``), and the grid shrinks by
      ``window - 1`` first.

  Returns:
    ``[B, H', W', C]``.
  """
  validate.check_choice(padding, 'padding', BLUR_PADDINGS)
  x = max_pool(x, window=window, stride=1,
               padding='circular' if padding == 'circular' else 'valid')
  return blur_pool(x, stride=stride, filter_size=filter_size, padding=padding)


def global_avg_pool(x: jax.typing.ArrayLike) -> jax.Array:
  """Mean over H and W: ``[B, H, W, C] -> [B, C]``."""
  conv_lib.check_nhwc(x)
  return jnp.mean(jnp.asarray(x), axis=(1, 2))


def global_max_pool(x: jax.typing.ArrayLike) -> jax.Array:
  """Max over H and W: ``[B, H, W, C] -> [B, C]``."""
  conv_lib.check_nhwc(x)
  return jnp.max(jnp.asarray(x), axis=(1, 2))


def polyphase_components(x: jax.typing.ArrayLike, *, stride: int = 2
                         ) -> jax.Array:
  """Splits ``x`` into its ``stride**2`` polyphase components.

  Args:
    x: ``[B, H, W, C]`` with ``H`` and ``W`` multiples of ``stride``.
    stride: int >= 1.

  Returns:
    ``[P, B, H / stride, W / stride, C]`` with ``P = stride**2``; component
    ``p = i * stride + j`` is ``x[:, i::stride, j::stride]``.
  """
  conv_lib.check_nhwc(x)
  stride = validate.integer(stride, 'stride', minimum=1)
  x = jnp.asarray(x)
  b, h, w, c = x.shape
  if h % stride or w % stride:
    raise ValueError(
        f'x must have H and W divisible by stride={stride} for the polyphase '
        f'split; got H, W = {h}, {w}. Crop or pad the input to a multiple of '
        'stride.')
  x = x.reshape(b, h // stride, stride, w // stride, stride, c)
  x = x.transpose(2, 4, 0, 1, 3, 5)  # [s, s, B, H/s, W/s, C]
  return x.reshape(stride * stride, b, h // stride, w // stride, c)


def _aps_components(x, stride: int, filter_size: int) -> jax.Array:
  """Optional circular blur, then the polyphase split ``[P, B, H/s, W/s, C]``."""
  conv_lib.check_nhwc(x)
  stride = validate.integer(stride, 'stride', minimum=1)
  binomial_filter(filter_size)  # validates filter_size
  if filter_size > 1:
    # 'slices': bit-exact under circular shifts, so the polyphase norms of
    # a shifted input are the same numbers and near-ties resolve the same.
    x = blur_pool(x, stride=1, filter_size=filter_size, padding='circular',
                  method='slices')
  return polyphase_components(x, stride=stride)


def _best_component(components: jax.Array, norm: str) -> jax.Array:
  """Index ``[B]`` of the component of largest ``norm`` (first on ties)."""
  validate.check_choice(norm, 'norm', APS_NORMS)
  magnitude = jnp.abs(components)
  if norm == 'l1':
    scores = jnp.sum(magnitude, axis=(2, 3, 4))
  elif norm == 'l2':
    scores = jnp.sum(jnp.square(magnitude), axis=(2, 3, 4))
  else:
    scores = jnp.max(magnitude, axis=(2, 3, 4))
  return jnp.argmax(scores, axis=0)


def _take(components: jax.Array, indices: jax.Array) -> jax.Array:
  return components[indices, jnp.arange(components.shape[1])]


def aps_pool(x: jax.typing.ArrayLike, *, stride: int = 2, filter_size: int = 1,
             norm: str = 'l2') -> jax.Array:
  """Adaptive polyphase sampling (Chaman & Dokmanic 2021).

  Optionally blurs (binomial ``filter_size``, stride 1, circular padding, as
  in the APS paper's anti-aliased variant), then keeps, per example, the
  polyphase component with the largest norm. Shifting the input circularly
  permutes the components (and shifts each), so the same component is kept
  and the output is a circular shift of the unshifted output. Ties (e.g. a
  constant input) resolve to the first component and make the choice depend
  on rounding. One tie is structural: a binomial blur (``filter_size > 1``)
  has a zero at Nyquist, so all components of a blurred *non-negative* map
  (e.g. after ReLU) have the same sum — use 'l2' or 'linf' there, not 'l1'.

  Args:
    x: ``[B, H, W, C]`` floating, ``H`` and ``W`` multiples of ``stride``.
    stride: int >= 1.
    filter_size: binomial blur taps before sampling, 1..7 (1 = no blur).
    norm: 'l1' | 'l2' | 'linf', the norm over ``[H/stride, W/stride, C]``.

  Returns:
    ``[B, H / stride, W / stride, C]``.
  """
  validate.check_choice(norm, 'norm', APS_NORMS)
  components = _aps_components(x, stride, filter_size)
  return _take(components, _best_component(components, norm))


def aps_indices(x: jax.typing.ArrayLike, *, stride: int = 2,
                filter_size: int = 1, norm: str = 'l2') -> jax.Array:
  """The polyphase component :func:`aps_pool` keeps, per example.

  Args and shapes as :func:`aps_pool`.

  Returns:
    int ``[B]`` in ``0..stride**2 - 1``; component ``p = i * stride + j`` is
    ``x[:, i::stride, j::stride]`` (after the optional blur).
  """
  validate.check_choice(norm, 'norm', APS_NORMS)
  return _best_component(_aps_components(x, stride, filter_size), norm)


def take_polyphase(x: jax.typing.ArrayLike, indices: jax.typing.ArrayLike, *,
                   stride: int = 2, filter_size: int = 1) -> jax.Array:
  """Blurs like :func:`aps_pool`, then keeps component ``indices[b]`` of example b.

  ``take_polyphase(x, aps_indices(x))`` equals ``aps_pool(x)``. A residual
  block passes its main path's indices to the shortcut so both sample the
  same phase and their sum stays a shift of the unshifted sum (the APS
  paper's residual connection).

  Args:
    x: ``[B, H, W, C]`` floating, ``H`` and ``W`` multiples of ``stride``.
    indices: int ``[B]`` in ``0..stride**2 - 1``.
    stride: int >= 1.
    filter_size: binomial blur taps, 1..7.

  Returns:
    ``[B, H / stride, W / stride, C]``.
  """
  components = _aps_components(x, stride, filter_size)
  indices = jnp.asarray(indices)
  if indices.shape != (components.shape[1],) or not jnp.issubdtype(
      indices.dtype, jnp.integer):
    raise ValueError(f'indices must be an int array of shape [B] = '
                     f'[{components.shape[1]}]; got {indices.dtype} '
                     f'{indices.shape}.')
  num_phases = components.shape[0]
  if validate.is_concrete(indices) and indices.size and (
      int(indices.min()) < 0 or int(indices.max()) >= num_phases):
    raise ValueError(f'indices must be in 0..{num_phases - 1} (stride**2 - 1); '
                     f'got {int(indices.min())}..{int(indices.max())}.')
  return _take(components, indices)


class Pool(nn.Module):
  """Parameter-free wrapper so models can hold any pooling function.

  Attributes:
    fn: a function ``[B, H, W, C] -> [B, H', W', C]`` or ``-> [B, C]``, e.g.
      ``functools.partial(blur_pool, stride=2)``.
  """
  fn: Callable[[jax.Array], jax.Array]

  def __call__(self, x: jax.Array) -> jax.Array:
    validate.check_callable(self.fn, 'fn', what='[B, H, W, C] -> '
                             "[B, H', W', C] or [B, C]")
    return self.fn(x)


class BlurConv(nn.Module):
  """Anti-aliased strided conv (Zhang 2019): conv stride 1 -> act -> blur_pool.

  Replaces ``act(Conv(stride=s)(x))``. Maps ``[B, H, W, C_in]`` to
  ``[B, floor((H-1)/s)+1, floor((W-1)/s)+1, features]``.
  """
  features: int
  kernel_size: int | tuple[int, int] = 3
  stride: int = 2
  filter_size: int = 3
  padding: str = 'circular'
  blur_padding: str = 'circular'
  activation: Callable[[jax.Array], jax.Array] = nn.relu

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    validate.check_callable(self.activation, 'activation',
                             what='such as nn.relu')
    y = conv_lib.Conv(self.features, self.kernel_size, stride=1,
                      padding=self.padding)(x)
    return blur_pool(self.activation(y), stride=self.stride,
                     filter_size=self.filter_size, padding=self.blur_padding)
