"""Anti-aliased downsampling (BlurPool, Zhang 2019) on ``[B, H, W, C]``.

:func:`blur_pool` low-passes with a binomial filter, then subsamples; it is
separable, one 1-D blur-and-subsample pass per axis. This module holds the
equal-valued ways to compute those passes (``method``): a product with a
banded matrix that folds in the padding (:func:`blur_matrix`), strided
slices, a phase reshape, and the matrix along H with slices along W; and
:func:`auto_blur_method`, which picks one per shape. :mod:`layers.pooling`
re-exports the public names and builds MaxBlurPool, BlurConv and APS on it.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from groups import validate
from layers import conv as conv_lib
from layers import padding as padding_lib

BLUR_PADDINGS = ('reflect', 'replicate', 'zeros', 'circular')


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
