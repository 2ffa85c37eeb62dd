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

import functools
from collections.abc import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp

from groups import validate
from layers import conv as conv_lib
from layers.max_reduce import max_reduce
from layers import padding as padding_lib
# BlurPool lives in layers/blur.py; re-exported here, where it always was.
from layers.blur import auto_blur_method  # pylint: disable=unused-import
from layers.blur import binomial_filter
from layers.blur import BLUR_METHODS  # pylint: disable=unused-import
from layers.blur import blur_matrix  # pylint: disable=unused-import
from layers.blur import BLUR_PADDINGS
from layers.blur import blur_pool
from layers.blur import WIDE_MAP_PIXELS_PER_TAP  # pylint: disable=unused-import

POOL_PADDINGS = ('valid', 'circular', 'same')
#: The reductions of every pool that collapses an axis (a group axis, a
#: field's channels, the grid): one name per reduction, here only.
REDUCTIONS = ('max', 'mean')
APS_NORMS = ('l1', 'l2', 'linf')


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
  the gradient of this max goes to the first tied pixel in raster order
  (:func:`layers.max_reduce.max_reduce`: ``jnp.max``'s own gradient compares
  recomputed floats and lost whole windows' gradients under jit).
  """
  fill = -jnp.inf if reducer == 'max' else 0.0
  b, h, w, c = x.shape
  x = jnp.pad(x, ((0, 0),) + pads + ((0, 0),), constant_values=fill)
  out_h, out_w = x.shape[1] // window[0], x.shape[2] // window[1]
  tiles = x[:, :out_h * window[0], :out_w * window[1]].reshape(
      b, out_h, window[0], out_w, window[1], c)
  if reducer == 'max':
    return max_reduce(tiles, (2, 4))
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
  """Max over H and W: ``[B, H, W, C] -> [B, C]``; the gradient goes to
  the first maximal pixel (:func:`layers.max_reduce.max_reduce`)."""
  conv_lib.check_nhwc(x)
  return max_reduce(x, (1, 2))


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


#: APS's relative tolerance: norms within it of the largest count as tied
#: (their plain float32 sums can round differently after a shift).
APS_TIE_RTOL = 1e-5


def _lex_greater(a: jax.Array, b: jax.Array) -> jax.Array:
  """Whether ``a > b`` lexicographically along the last axis."""
  differ = a != b
  first = jnp.argmax(differ, axis=-1)[..., None]
  a_first = jnp.take_along_axis(a, first, axis=-1)[..., 0]
  b_first = jnp.take_along_axis(b, first, axis=-1)[..., 0]
  return jnp.any(differ, axis=-1) & (a_first > b_first)


def _maxima(candidates: jax.Array, keys: jax.Array) -> jax.Array:
  """The candidates ``[P, B]`` (bool) whose ``keys[p, b]`` (a vector) no
  other candidate's beats lexicographically."""
  greater = _lex_greater(keys[:, None], keys[None, :])  # [Q, P, B]: q beats p
  beaten = jnp.any(candidates[:, None] & greater, axis=0)  # [P, B]
  return candidates & ~beaten


def _content_keys(components: jax.Array) -> jax.Array:
  """``[P, B, h, w, C] -> [P, B, 5 C]``: per channel, the largest value,
  minus the smallest, and the largest product of each pixel with its
  circular neighbour below, right and below-right.

  Maxima of exactly computed values are the same floats in any order, so a
  component and any circular shift of it get the same keys, bit for bit
  (a sum would not: its rounding depends on the order). The neighbour
  products tell apart components with the same values in another
  arrangement (pixel permutations, mirror images) at the cost of three
  rolls, where sorting or comparing all ``h w`` shifts would cost a sort or
  a loop.
  """
  axes = (2, 3)
  return jnp.concatenate(
      [jnp.max(components, axis=axes), -jnp.min(components, axis=axes)] +
      [jnp.max(product, axis=axes)
       for product in _neighbour_products(components)], axis=-1)


def _neighbour_products(components: jax.Array) -> list[jax.Array]:
  """Each pixel of ``[P, B, h, w, C]`` times its circular neighbour below,
  right and below-right (three maps of the same shape)."""
  down = jnp.roll(components, -1, axis=2)
  right = jnp.roll(components, -1, axis=3)
  diagonal = jnp.roll(down, -1, axis=3)
  return [components * down, components * right, components * diagonal]


def _arrangement_keys(components: jax.Array) -> jax.Array:
  """``[P, B, h, w, C] -> [P, B, 3 C h w]``: per channel, the sorted
  products of each pixel with its circular neighbour below, right and
  below-right: the multisets whose maxima :func:`_content_keys` holds.

  The second tie-break, for candidates whose content keys coincide (small
  components: on a 3 x 3 torus the three largest neighbour products of two
  pixel permutations often agree). Sorted exact products are the same floats
  for a component and any circular shift of it; a sort per channel costs
  more than the maxima, so it runs only when those tie.
  """
  p, b, h, w, c = components.shape
  products = jnp.stack(_neighbour_products(components),
                       axis=2)  # [P, B, 3, h, w, C]
  products = jnp.moveaxis(products, -1, 3).reshape(p, b, 3 * c, h * w)
  return jnp.sort(products, axis=-1).reshape(p, b, 3 * c * h * w)


def shift_consistent_argmax(scores: jax.Array, components: jax.Array, *,
                            rtol: float = 0.0) -> jax.Array:
  """The component of largest score, ties broken by content, not index.

  A circular shift of the input permutes the polyphase components (and
  circularly shifts each), so a choice is shift-consistent when it depends
  on the components' content only. ``jnp.argmax`` takes the *first* of tied
  scores, an index: after an odd shift another component comes first, and
  another phase is kept. Here the candidates are the components whose score
  is within ``rtol`` of the largest (exact ties for ``rtol=0``), and among
  several the one with the lexicographically largest content key
  (:func:`_content_keys`: per-channel extremes and neighbour products, the
  same floats for a component and any circular shift of it). The keys are
  computed only when some example has a tie (``lax.cond``), so an untied
  call costs one comparison.

  Candidates whose keys coincide (small components: on a 3 x 3 torus the
  largest neighbour products of two pixel permutations often agree) are
  told apart by a second key, computed only then: the sorted neighbour
  products (:func:`_arrangement_keys`). What remains: candidates equal in
  both -- components that are circular shifts of one another (equal
  components, a constant or periodic map), or arrangements with the same
  multisets of neighbour products -- resolve to the first index. Components that are circular shifts of one another hold the same
  values, so a network that pools globally after the sampler is still
  exactly invariant; an encoder-decoder that upsamples at the chosen phase
  (APS/LPS U-Nets) can then be off by that shift (for an input periodic
  with a period that is not a multiple of the stride no rule can choose
  consistently). With ``rtol > 0`` a score right at the tolerance can still
  flip with rounding, as a score at a tie could with ``jnp.argmax``.

  Args:
    scores: ``[P, B]``, larger is better.
    components: ``[P, B, h, w, C]``, from which the scores were computed.
    rtol: relative tolerance of a tie, >= 0 (APS: :data:`APS_TIE_RTOL`; LPS
      logits are rounded the same after a shift: 0).

  Returns:
    int ``[B]`` in ``0..P - 1``.
  """
  scores = jnp.asarray(scores)
  components = jnp.asarray(components)
  if components.ndim != 5 or scores.shape != components.shape[:2]:
    raise ValueError(
        'components must be [P, B, h, w, C] with [P, B] = the shape of scores '
        f'{tuple(scores.shape)}; got {tuple(components.shape)}.')
  rtol = validate.number(rtol, 'rtol', minimum=0.0)
  return _tie_broken_argmax(scores, components, rtol)


@functools.partial(jax.jit, static_argnums=2)  # one dispatch when eager
def _tie_broken_argmax(scores: jax.Array, components: jax.Array,
                       rtol: float) -> jax.Array:
  best = jnp.max(scores, axis=0, keepdims=True)
  candidates = scores >= best - rtol * jnp.abs(best)
  tied = jnp.any(jnp.sum(candidates, axis=0) > 1)
  candidates = jax.lax.cond(
      tied, lambda: _maxima(candidates, _content_keys(components)),
      lambda: candidates)
  still_tied = jnp.any(jnp.sum(candidates, axis=0) > 1)
  candidates = jax.lax.cond(
      still_tied, lambda: _maxima(candidates, _arrangement_keys(components)),
      lambda: candidates)
  return jnp.argmax(candidates, axis=0)


def _best_component(components: jax.Array, norm: str) -> jax.Array:
  """Index ``[B]`` of the component of largest ``norm``; norms within
  :data:`APS_TIE_RTOL` of it are ties, broken by content
  (:func:`shift_consistent_argmax`), not by index."""
  validate.check_choice(norm, 'norm', APS_NORMS)
  magnitude = jnp.abs(components)
  if norm == 'l1':
    scores = jnp.sum(magnitude, axis=(2, 3, 4))
  elif norm == 'l2':
    scores = jnp.sum(jnp.square(magnitude), axis=(2, 3, 4))
  else:
    scores = jnp.max(magnitude, axis=(2, 3, 4))
  return shift_consistent_argmax(scores, components, rtol=APS_TIE_RTOL)


def _take(components: jax.Array, indices: jax.Array) -> jax.Array:
  return components[indices, jnp.arange(components.shape[1])]


def aps_pool(x: jax.typing.ArrayLike, *, stride: int = 2, filter_size: int = 1,
             norm: str = 'l2') -> jax.Array:
  """Adaptive polyphase sampling (Chaman & Dokmanic 2021).

  Optionally blurs (binomial ``filter_size``, stride 1, circular padding, as
  in the APS paper's anti-aliased variant), then keeps, per example, the
  polyphase component with the largest norm. Shifting the input circularly
  permutes the components (and shifts each), so the same component is kept
  and the output is a circular shift of the unshifted output. Norms within
  :data:`APS_TIE_RTOL` (relative) of the largest are ties, broken by the
  components' content, not their index (:func:`shift_consistent_argmax`:
  exact under ties, except between components that are circular shifts of
  one another). One tie is structural: a binomial blur (``filter_size > 1``)
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
  """Parameter-free wrapper so models can hold any pooling function (or any
  other parameter-free op, e.g. an activation), as a submodule that
  interception and ``capture_intermediates`` see.

  Attributes:
    fn: a function ``[B, H, W, C] -> [B, H', W', C]`` or ``-> [B, C]``, e.g.
      ``functools.partial(blur_pool, stride=2)`` or ``nn.relu``.
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
