"""Learnable polyphase sampling and shift-equivariant upsampling, ``[B, H, W, C]``.

Downsampling by ``s`` keeps one of the ``P = s**2`` polyphase components
``x[:, i::s, j::s]`` (``p = i * s + j``, :func:`layers.polyphase_components`).
A strided layer always keeps ``p = 0``, so a 1-pixel shift of the input
changes *which* samples survive (aliasing). Adaptive samplers choose ``p``
from the content instead; a circular shift permutes the components, the
same content is chosen, and the output is a circular shift of the unshifted
output:

* APS (:func:`layers.aps_pool`, Chaman & Dokmanic 2021) — largest norm.
* LPS (:func:`lps_downsample`, :class:`LPD`, Rojas-Gomez et al., NeurIPS 2022, "Learnable polyphase
  sampling for shift invariant and equivariant convolutional networks") —
  largest logit of a small *shared* logit network applied to every
  component (:func:`polyphase_logits`: circular convs + ReLU, then a global
  mean, so the logit of a component is invariant to its circular shifts).
  While training, the choice is a Gumbel-softmax sample
  (:func:`polyphase_weights`: 'gumbel_soft' mixes the components, 'gumbel_hard'
  keeps one and passes gradients straight through), so the logit network
  learns; at test time it is the argmax.

Upsampling back to the grid the paired downsampler came from:

* :func:`polyphase_upsample` puts ``x`` at the phase APS/LPD chose (zeros at
  the other ``P - 1`` phases): the encoder-decoder ``up(down(x))`` is then
  exactly equivariant to every circular shift (APS/LPS U-Nets,
  ``models/unet.py``). :func:`lps_upsample` does the same with LPD's weights
  ``[B, P]`` (one-hot at test time; differentiable while training).
* :func:`blur_upsample` — zero insertion at phase 0 followed by a binomial
  blur (gain ``s**2``): the anti-aliased transposed convolution of Zhang
  (2019); approximately equivariant.

Exactness needs the chosen component to be the same content for the shifted
input, i.e. the logits must be *bit for bit* permuted. Three things ensure
it: the optional blur is ``blur_pool(method='slices')`` (the same arithmetic
at every pixel, as in :func:`layers.aps_pool`); the logit network is a
circular convolution of the stacked components; and the global mean sums
the *sorted* per-pixel values, so a circular shift of a component (which
reorders the pixels) cannot change the rounding of the sum. Exact ties of
the largest logit are common (a logit network whose ReLUs are all dead on
two components gives both its last bias): ``jnp.argmax`` would take the
first, an *index*, and a shifted input would keep another phase. The
argmax is therefore :func:`layers.pooling.shift_consistent_argmax`, which
breaks ties by the components' content (per-channel extremes and neighbour
products, the same floats after any circular shift); only components that
are circular shifts of one another (or whose keys coincide) still resolve to
the first index. One tie is structural: after a binomial blur
(``filter_size > 1``) every component has the same mean, so a logit network
that is *linear* on its input (ReLUs all active or all dead, or no hidden
layer) gives all components the same logit up to rounding — the trap of
APS's 'l1' norm. The choice then rests on the network's nonlinearity
(``tests/cases/polyphase.py`` draws hidden biases for that reason).
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from groups import validate
from layers import conv as conv_lib
from layers import initializers
from layers import pooling

SELECTIONS = ('argmax', 'softmax', 'gumbel_soft', 'gumbel_hard')
TRAIN_MODES = ('hard', 'soft')
BLUR_PADDINGS = pooling.BLUR_PADDINGS


def _components(x, stride: int, filter_size: int) -> jax.Array:
  """Optional circular 'slices' blur, then ``[P, B, H/s, W/s, C]``."""
  # pylint: disable-next=protected-access
  return pooling._aps_components(x, stride, filter_size)


def _check_weights(weights, batch: int, num_phases: int) -> jax.Array:
  validate.check_array(weights, 'weights', rank=2, layout='[B, P]')
  if tuple(weights.shape) != (batch, num_phases):
    raise ValueError(f'weights must have shape [B, P] = [{batch}, '
                     f'{num_phases}] (P = stride**2 phases); got '
                     f'{tuple(weights.shape)}.')
  return jnp.asarray(weights)


def _check_indices(indices, batch: int, num_phases: int) -> jax.Array:
  indices = jnp.asarray(indices) if hasattr(indices, 'shape') else indices
  if (not hasattr(indices, 'shape') or indices.shape != (batch,) or
      not jnp.issubdtype(indices.dtype, jnp.integer)):
    shape = getattr(indices, 'shape', type(indices).__name__)
    raise ValueError(f'indices must be an int array of shape [B] = [{batch}];'
                     f' got {shape}.')
  if validate.is_concrete(indices) and indices.size and (
      int(indices.min()) < 0 or int(indices.max()) >= num_phases):
    raise ValueError(f'indices must be in 0..{num_phases - 1} (stride**2 - 1); '
                     f'got {int(indices.min())}..{int(indices.max())}.')
  return indices


def _merge_phases(components: jax.Array, stride: int) -> jax.Array:
  """Inverse of :func:`layers.polyphase_components`: ``[P, B, h, w, C]`` ->
  ``[B, h * s, w * s, C]``."""
  _, b, h, w, c = components.shape
  y = components.reshape(stride, stride, b, h, w, c)
  y = y.transpose(2, 3, 0, 4, 1, 5)  # [B, h, s, w, s, C]
  return y.reshape(b, h * stride, w * stride, c)


# Learnable polyphase downsampling (LPD).


def polyphase_logits(x: jax.typing.ArrayLike,
                     kernels: Sequence[jax.typing.ArrayLike], *,
                     biases: Sequence[jax.typing.ArrayLike] | None = None,
                     stride: int = 2, filter_size: int = 1) -> jax.Array:
  """LPS logits: a shared conv net + global mean on each polyphase component.

  Every component ``[B, H/s, W/s, C]`` goes through ``conv -> ReLU -> ...
  -> conv`` (circular padding, stride 1; no ReLU after the last conv, which
  has one output channel) and a global mean over the grid, computed as the
  sum of the sorted values so that it is bit for bit invariant to circular
  shifts of the component.

  Args:
    x: ``[B, H, W, C]`` floating, ``H`` and ``W`` multiples of ``stride``.
    kernels: conv kernels ``[k, k, C_i, C_{i+1}]``, ``C_0 = C``, the last
      ``C_out = 1``; at least one.
    biases: optional per-layer biases ``[C_{i+1}]`` (same length as
      ``kernels``).
    stride: int >= 1; ``P = stride**2`` components.
    filter_size: binomial blur taps before the split, 1..7 (1 = no blur).

  Returns:
    float ``[B, P]``: the logit of component ``p = i * stride + j``.
  """
  components = _components(x, stride, filter_size)
  num_phases, b, h, w, c = components.shape
  if (isinstance(kernels, (str, bytes)) or not isinstance(kernels, Sequence)
      or not kernels):
    raise ValueError('kernels must be a non-empty sequence of conv kernels '
                     '[k, k, C_in, C_out] (the last with C_out = 1); got '
                     f'{kernels!r}.')
  if biases is not None and (not isinstance(biases, Sequence) or
                             len(biases) != len(kernels)):
    raise ValueError(f'biases must be None or a sequence of {len(kernels)} '
                     f'bias vectors (one per kernel); got {biases!r}.')
  last = kernels[-1]
  validate.check_array(last, 'kernels[-1]', rank=4,
                       layout='[kh, kw, C_in, C_out]')
  if last.shape[-1] != 1:
    raise ValueError('kernels[-1] must have C_out = 1 (one logit per '
                     f'component); got shape {tuple(last.shape)}.')
  y = components.reshape(num_phases * b, h, w, c)  # [P*B, h, w, C]
  for i, kernel in enumerate(kernels):
    y = conv_lib.conv2d(y, kernel, padding='circular')
    if biases is not None:
      y = y + jnp.asarray(biases[i], y.dtype)
    if i < len(kernels) - 1:
      y = jax.nn.relu(y)
  y = y.reshape(num_phases, b, h * w)  # [P, B, h*w]
  # Sorted, so the sum is the same float for any order of the pixels.
  logits = jnp.sum(jnp.sort(y, axis=-1), axis=-1) / (h * w)  # [P, B]
  return logits.T  # [B, P]


def polyphase_weights(logits: jax.typing.ArrayLike, *,
                      selection: str = 'argmax', temperature: float = 1.0,
                      key: jax.Array | None = None,
                      components: jax.typing.ArrayLike | None = None
                      ) -> jax.Array:
  """Component weights ``[B, P]`` from LPS logits.

  Args:
    logits: ``[B, P]`` floating.
    selection: 'argmax' (one-hot of the largest logit: test time; no
      gradient; ties broken by ``components`` if given, else the first), 'softmax' (``softmax(logits / temperature)``),
      'gumbel_soft' (``softmax((logits + g) / temperature)`` with Gumbel noise
      ``g``: training, soft mixing) or 'gumbel_hard' (one-hot of that sample,
      with the gradient of the soft sample: straight-through).
    temperature: > 0, the Gumbel-softmax / softmax temperature.
    key: PRNG key; required for the Gumbel selections.
    components: optional ``[P, B, h, w, C]``, the polyphase components the
      logits were computed from (:func:`polyphase_components`, after the
      blur); with 'argmax', ties of the largest logit are then broken by
      the components' content, consistently under circular shifts
      (:func:`layers.pooling.shift_consistent_argmax`) instead of by index.

  Returns:
    ``[B, P]``, rows summing to 1 (exactly one-hot for 'argmax' and
    'gumbel_hard').
  """
  validate.check_array(logits, 'logits', rank=2, layout='[B, P]')
  validate.check_choice(selection, 'selection', SELECTIONS)
  temperature = validate.number(temperature, 'temperature', minimum=0.0,
                                exclusive_minimum=True)
  logits = jnp.asarray(logits)
  num_phases = logits.shape[-1]
  if selection == 'argmax':
    if components is None:
      index = jnp.argmax(logits, axis=-1)
    else:
      index = pooling.shift_consistent_argmax(logits.T, components)
    return jax.nn.one_hot(index, num_phases, dtype=logits.dtype)
  if selection == 'softmax':
    return jax.nn.softmax(logits / temperature, axis=-1)
  if key is None:
    raise ValueError(f'key must be a PRNG key for selection={selection!r} '
                     '(Gumbel noise); got None.')
  noise = jax.random.gumbel(key, logits.shape, logits.dtype)
  soft = jax.nn.softmax((logits + noise) / temperature, axis=-1)
  if selection == 'gumbel_soft':
    return soft
  hard = jax.nn.one_hot(jnp.argmax(soft, axis=-1), num_phases,
                        dtype=logits.dtype)
  # hard + (soft - soft) is exactly `hard` forward; the gradient is soft's.
  return hard + (soft - jax.lax.stop_gradient(soft))


def mix_polyphase(x: jax.typing.ArrayLike, weights: jax.typing.ArrayLike, *,
                  stride: int = 2, filter_size: int = 1) -> jax.Array:
  """LPS's downsampling by given weights: the weighted sum of the components.

  With one-hot ``weights`` (test time) this is exactly the chosen component
  (``1 * c + 0 * ...``), i.e. :func:`layers.take_polyphase` with its index.

  Args:
    x: ``[B, H, W, C]`` floating, ``H`` and ``W`` multiples of ``stride``.
    weights: ``[B, P]`` from :func:`polyphase_weights` (``P = stride**2``).
    stride: int >= 1.
    filter_size: binomial blur taps before the split, 1..7.

  Returns:
    ``[B, H / stride, W / stride, C]``.
  """
  components = _components(x, stride, filter_size)  # [P, B, h, w, C]
  weights = _check_weights(weights, components.shape[1], components.shape[0])
  weights = weights.T.astype(components.dtype)[:, :, None, None, None]
  return jnp.sum(components * weights, axis=0)


def lps_downsample(x: jax.typing.ArrayLike,
                   kernels: Sequence[jax.typing.ArrayLike], *,
                   biases: Sequence[jax.typing.ArrayLike] | None = None,
                   stride: int = 2, filter_size: int = 1,
                   selection: str = 'argmax', temperature: float = 1.0,
                   key: jax.Array | None = None
                   ) -> tuple[jax.Array, jax.Array]:
  """:func:`polyphase_logits` -> :func:`polyphase_weights` ->
  :func:`mix_polyphase`.

  With 'argmax', ties of the largest logit are broken by the components'
  content (:func:`polyphase_weights` with ``components``).

  Args: as those three functions.

  Returns:
    ``(y [B, H/s, W/s, C], weights [B, P])``; pass ``weights`` to
    :func:`lps_upsample` to upsample at the same phase.
  """
  logits = polyphase_logits(x, kernels, biases=biases, stride=stride,
                            filter_size=filter_size)
  weights = polyphase_weights(
      logits, selection=selection, temperature=temperature, key=key,
      components=_components(x, stride, filter_size))
  return mix_polyphase(x, weights, stride=stride,
                       filter_size=filter_size), weights


# Upsampling.


def lps_upsample(x: jax.typing.ArrayLike, weights: jax.typing.ArrayLike, *,
                 stride: int = 2) -> jax.Array:
  """Learnable polyphase upsampling: ``x`` at the phase its LPD chose.

  ``out[:, i::s, j::s] = weights[:, i * s + j] * x``: with one-hot weights,
  ``x`` at the chosen phase and zeros at the others (exactly); with soft
  weights, a weighted copy at every phase (differentiable).

  Args:
    x: ``[B, h, w, C]`` floating.
    weights: ``[B, P]``, ``P = stride**2`` (from :func:`lps_downsample`).
    stride: int >= 1.

  Returns:
    ``[B, h * stride, w * stride, C]``.
  """
  conv_lib.check_nhwc(x)
  stride = validate.integer(stride, 'stride', minimum=1)
  x = jnp.asarray(x)
  weights = _check_weights(weights, x.shape[0], stride * stride)
  components = weights.T.astype(x.dtype)[:, :, None, None, None] * x[None]
  return _merge_phases(components, stride)


def polyphase_upsample(x: jax.typing.ArrayLike,
                       indices: jax.typing.ArrayLike, *,
                       stride: int = 2) -> jax.Array:
  """Puts ``x`` at polyphase component ``indices[b]``; zeros elsewhere.

  The upsampling paired with APS: ``polyphase_upsample(aps_pool(x),
  aps_indices(x))`` keeps the kept samples where they were and zeros the
  rest, and it is exactly equivariant to every circular shift of ``x``
  (:func:`layers.aps_indices`, :func:`layers.take_polyphase`). With
  ``indices = 0`` it is plain zero insertion (what a stride-``s`` transposed
  convolution does before its kernel).

  Args:
    x: ``[B, h, w, C]`` floating.
    indices: int ``[B]`` in ``0..stride**2 - 1``.
    stride: int >= 1.

  Returns:
    ``[B, h * stride, w * stride, C]``.
  """
  conv_lib.check_nhwc(x)
  stride = validate.integer(stride, 'stride', minimum=1)
  x = jnp.asarray(x)
  indices = _check_indices(indices, x.shape[0], stride * stride)
  mask = jax.nn.one_hot(indices, stride * stride, dtype=x.dtype)  # [B, P]
  return lps_upsample(x, mask, stride=stride)


def blur_upsample(x: jax.typing.ArrayLike, *, stride: int = 2,
                  filter_size: int = 4, padding: str = 'circular'
                  ) -> jax.Array:
  """Anti-aliased upsampling: zero insertion, then a binomial blur.

  The blur has gain ``stride**2`` (the zeros dilute the signal by that
  much). For ``stride = 2`` and ``filter_size >= 2`` a binomial filter has a
  zero at Nyquist, so a constant map comes back as the same constant
  (exactly with 'circular' padding): 2 repeats each pixel (nearest
  neighbour), 3 interpolates linearly, 4 and more smooth further. Computed
  with ``blur_pool(stride=1, method='slices')``, so it commutes bit for bit
  with circular shifts by multiples of ``stride`` (but not with 1-pixel
  shifts: it is only approximately shift-equivariant).

  Args:
    x: ``[B, h, w, C]`` floating.
    stride: int >= 1.
    filter_size: binomial taps, 1..7 (1: zero insertion only).
    padding: 'reflect' | 'replicate' | 'zeros' | 'circular' (of the blur).

  Returns:
    ``[B, h * stride, w * stride, C]``.
  """
  conv_lib.check_nhwc(x)
  stride = validate.integer(stride, 'stride', minimum=1)
  pooling.binomial_filter(filter_size)  # validates filter_size
  validate.check_choice(padding, 'padding', BLUR_PADDINGS)
  x = jnp.asarray(x)
  y = polyphase_upsample(x, jnp.zeros(x.shape[:1], jnp.int32), stride=stride)
  y = pooling.blur_pool(y, stride=1, filter_size=filter_size,
                        padding=padding, method='slices')
  return y * (stride * stride)


# Modules.


class LPD(nn.Module):
  """Learnable polyphase downsampling with its logit network.

  ``y, weights = LPD()(x, train=...)``: ``[B, H, W, C] -> ([B, H/s, W/s,
  C], [B, P])``. The logit network is ``len(hidden)`` circular convs with
  ReLU and a last conv to one channel, then a global mean (parameters
  ``logit_conv{i}``, see :func:`polyphase_logits`). With ``train=True`` the
  choice is a Gumbel-softmax sample drawn from the ``rng_collection`` stream
  (``model.apply(..., rngs={'dropout': key})``, which equivlab's training
  step passes): ``train_mode='hard'`` keeps one component with a
  straight-through gradient, 'soft' mixes them. With ``train=False``: the
  argmax (exact shift invariance, see the module docstring).

  Attributes:
    stride: int >= 1.
    filter_size: binomial blur before sampling, 1..7 (1 = none).
    hidden: channels of the hidden convs of the logit network (may be empty).
    kernel_size: of the logit convs.
    temperature: Gumbel-softmax temperature (> 0).
    train_mode: 'hard' (straight-through) or 'soft'.
    rng_collection: the rng stream of the Gumbel noise.
  """
  stride: int = 2
  filter_size: int = 1
  hidden: tuple[int, ...] = (8,)
  kernel_size: int = 3
  temperature: float = 1.0
  train_mode: str = 'hard'
  rng_collection: str = 'dropout'

  @nn.compact
  def __call__(self, x: jax.Array, *, train: bool = False
               ) -> tuple[jax.Array, jax.Array]:
    """Returns ``(y [B, H/s, W/s, C], weights [B, P])``."""
    conv_lib.check_nhwc(x)
    validate.check_choice(self.train_mode, 'train_mode', TRAIN_MODES)
    validate.number(self.temperature, 'temperature', minimum=0.0,
                    exclusive_minimum=True)
    k = validate.integer(self.kernel_size, 'kernel_size', minimum=1)
    if isinstance(self.hidden, (str, bytes)) or not isinstance(
        self.hidden, Sequence):
      raise ValueError('hidden must be a tuple of ints >= 1 (channels of the '
                       f'logit convs); got {self.hidden!r}.')
    widths = [validate.integer(w, 'hidden entries', minimum=1)
              for w in self.hidden] + [1]
    kernels, biases = [], []
    c_in = x.shape[-1]
    for i, width in enumerate(widths):
      kernels.append(self.param(f'logit_conv{i}_kernel',
                                initializers.lecun_normal(),
                                (k, k, c_in, width), jnp.float32))
      biases.append(self.param(f'logit_conv{i}_bias',
                               nn.initializers.zeros_init(), (width,),
                               jnp.float32))
      c_in = width
    logits = polyphase_logits(x, kernels, biases=biases, stride=self.stride,
                              filter_size=self.filter_size)
    if not train:
      weights = polyphase_weights(
          logits, selection='argmax',
          components=_components(x, self.stride, self.filter_size))
    else:
      if not self.has_rng(self.rng_collection):
        raise ValueError(
            f'LPD(train=True) draws Gumbel noise from the rng stream '
            f'{self.rng_collection!r}: pass rngs={{{self.rng_collection!r}: '
            'key}} to model.apply (or use train=False).')
      weights = polyphase_weights(
          logits, selection=f'gumbel_{self.train_mode}',
          temperature=self.temperature,
          key=self.make_rng(self.rng_collection))
    return mix_polyphase(x, weights, stride=self.stride,
                         filter_size=self.filter_size), weights


class LPU(nn.Module):
  """Parameter-free wrapper of :func:`lps_upsample`: ``(x [B, h, w, C],
  weights [B, P]) -> [B, h * s, w * s, C]``.

  Attributes:
    stride: int >= 1 (that of the paired :class:`LPD`).
  """
  stride: int = 2

  def __call__(self, x: jax.Array, weights: jax.Array) -> jax.Array:
    return lps_upsample(x, weights, stride=self.stride)


class BlurUpsample(nn.Module):
  """Parameter-free wrapper of :func:`blur_upsample`.

  Attributes:
    stride: int >= 1.
    filter_size: binomial taps, 1..7.
    padding: blur padding.
  """
  stride: int = 2
  filter_size: int = 4
  padding: str = 'circular'

  def __call__(self, x: jax.Array) -> jax.Array:
    return blur_upsample(x, stride=self.stride, filter_size=self.filter_size,
                         padding=self.padding)
