"""Spatial pooling, group pooling and invariant read-outs of steerable maps.

Layout: ``[B, H, W, C]`` of a :class:`groups.FieldType` (:mod:`groups.fields`).

Spatial pools (``[B, H, W, C] -> [B, H', W', C]``, same field type):

* :func:`pointwise_avg_pool`, :func:`pointwise_blur_pool` (e2cnn
  ``PointwiseAvgPool``, ``PointwiseAvgPoolAntialiased``) -- linear and
  channel by channel, so they commute with every ``rho(g)``: any field.
* :func:`pointwise_max_pool`, :func:`pointwise_max_blur_pool`
  (``PointwiseMaxPool``, ``PointwiseMaxPoolAntialiased``) -- a max per
  channel commutes with permutations only: regular, quotient and trivial
  fields (irrep fields are refused; ``force=True`` skips the check).
* :func:`norm_max_pool` (``NormMaxPool``) -- in each window, the field
  vector of largest norm: any field; :func:`norm_max_blur_pool` blurs after
  it (anti-aliased).

Invariants (``-> [B, H, W, F]`` trivial fields, one per field):

* :func:`group_pool` (``GroupPooling``) -- max (or mean) over each
  regular / quotient field's channels;
* :func:`norm_pool` (``NormPool``) -- the norm of each field;
* :func:`invariant_map` -- group pooling on permutation fields, norms on the
  rest; :func:`invariant_readout` averages (or maxes) it over space,
  ``[B, F]``: rotation-invariant features for a classifier head.

Exactness under quarter turns and the mirror (as the README's p4 rule): the
sampling grid must be symmetric about the centre. A ``w x w`` window at
stride ``s`` ('valid'; also the max-blur pools) needs ``(H - w) % s == 0``
-- a 2x2 pool needs an even side; a blur pool (odd ``filter_size``) needs
``(H - 1) % s == 0`` -- an odd side at stride 2. On an even grid, an anti-aliased stride-2 pool that
stays exact is ``pointwise_blur_pool(stride=1)`` then
``pointwise_avg_pool(window=2)`` (what :mod:`models.steerable` does).
"""

from __future__ import annotations

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from groups import base
from groups import fields as fields_lib
from groups import validate
from layers import conv as conv_lib
from layers import pooling as pooling_lib
from layers.max_reduce import max_reduce
from layers.steerable import fieldwise
from layers.steerable import typed

NORM_POOL_PADDINGS = ('valid', 'same')


def _check(x, field_type, force, what, instead):
  x = fieldwise.check_map(x, field_type)
  if not fieldwise.check_force(force):
    fieldwise.check_pointwise_fields(field_type, what=what, instead=instead)
  return x


def pointwise_max_pool(x: jax.typing.ArrayLike, *,
                       field_type: fields_lib.FieldType,
                       window: int | tuple[int, int],
                       stride: int | tuple[int, int] | None = None,
                       padding: str = 'valid',
                       force: bool = False) -> jax.Array:
  """:func:`layers.max_pool` on regular, quotient and trivial fields.

  Args:
    x: ``[B, H, W, C]`` of type ``field_type``.
    field_type: its :class:`groups.FieldType` (permutation fields only).
    window, stride, padding: as :func:`layers.max_pool`.
    force: skip the field check (not equivariant on irrep fields).

  Returns:
    ``[B, H', W', C]`` of type ``field_type``.
  """
  x = _check(x, field_type, force, 'a pointwise max pool', 'norm_max_pool')
  return pooling_lib.max_pool(x, window=window, stride=stride,
                              padding=padding)


def pointwise_avg_pool(x: jax.typing.ArrayLike, *,
                       field_type: fields_lib.FieldType,
                       window: int | tuple[int, int],
                       stride: int | tuple[int, int] | None = None,
                       padding: str = 'valid') -> jax.Array:
  """:func:`layers.avg_pool` (linear per channel: any field type).

  Returns:
    ``[B, H', W', C]`` of type ``field_type``.
  """
  x = fieldwise.check_map(x, field_type)
  return pooling_lib.avg_pool(x, window=window, stride=stride,
                              padding=padding)


def pointwise_blur_pool(x: jax.typing.ArrayLike, *,
                        field_type: fields_lib.FieldType, stride: int = 2,
                        filter_size: int = 3,
                        padding: str = 'reflect') -> jax.Array:
  """:func:`layers.blur_pool`, binomial low-pass then subsample (any field).

  Returns:
    ``[B, floor((H-1)/stride) + 1, ..., C]`` of type ``field_type``.
  """
  x = fieldwise.check_map(x, field_type)
  return pooling_lib.blur_pool(x, stride=stride, filter_size=filter_size,
                               padding=padding)


def pointwise_max_blur_pool(x: jax.typing.ArrayLike, *,
                            field_type: fields_lib.FieldType,
                            window: int = 2, stride: int = 2,
                            filter_size: int = 3, padding: str = 'reflect',
                            force: bool = False) -> jax.Array:
  """:func:`layers.max_blur_pool` on permutation fields (anti-aliased max).

  Returns:
    ``[B, H', W', C]`` of type ``field_type``.
  """
  x = _check(x, field_type, force, 'a pointwise max-blur pool',
             'norm_max_blur_pool')
  return pooling_lib.max_blur_pool(x, window=window, stride=stride,
                                   filter_size=filter_size, padding=padding)


def norm_max_pool(x: jax.typing.ArrayLike, *,
                  field_type: fields_lib.FieldType,
                  window: int | tuple[int, int],
                  stride: int | tuple[int, int] | None = None,
                  padding: str = 'valid') -> jax.Array:
  """In each window, each field's vector of largest norm (any field).

  Args:
    x: ``[B, H, W, C]`` of type ``field_type``.
    field_type: its :class:`groups.FieldType`.
    window: int or pair, >= 1.
    stride: int or pair, >= 1 (default: ``window``).
    padding: 'valid' or 'same' (padded positions never win).

  Returns:
    ``[B, H', W', C]`` of type ``field_type``; on ties the first position
    in the window (row-major) wins.
  """
  x = fieldwise.check_map(x, field_type)
  window = validate.pair(window, 'window')
  stride = window if stride is None else validate.pair(stride, 'stride')
  validate.check_choice(padding, 'padding', NORM_POOL_PADDINGS)
  squared = fieldwise.field_norms(x, field_type)  # [B, H, W, F]
  if padding == 'same':
    pads = tuple(_same_pads(w) for w in window)
    x = jnp.pad(x, ((0, 0),) + pads + ((0, 0),))
    squared = jnp.pad(squared, ((0, 0),) + pads + ((0, 0),),
                      constant_values=-1.0)
  h, w = x.shape[1:3]
  if window[0] > h or window[1] > w:
    raise ValueError(f'window must fit in the input H, W = {h}, {w}; got '
                     f'{window}.')
  out_h = (h - window[0]) // stride[0] + 1
  out_w = (w - window[1]) // stride[1] + 1

  def taps(array):  # [K, B, H', W', ...] every window position
    return jnp.stack([
        array[:, i:i + (out_h - 1) * stride[0] + 1:stride[0],
              j:j + (out_w - 1) * stride[1] + 1:stride[1]]
        for i in range(window[0]) for j in range(window[1])])
  best = jnp.argmax(taps(squared), axis=0)  # [B, H', W', F]
  best = fieldwise.expand_fields(best, field_type)  # [B, H', W', C]
  return jnp.take_along_axis(taps(x), best[None], axis=0)[0]


def _same_pads(window: int) -> tuple[int, int]:
  return ((window - 1) // 2, window // 2)


def norm_max_blur_pool(x: jax.typing.ArrayLike, *,
                       field_type: fields_lib.FieldType, window: int = 2,
                       stride: int = 2, filter_size: int = 3,
                       padding: str = 'reflect') -> jax.Array:
  """Anti-aliased :func:`norm_max_pool`, as :func:`layers.max_blur_pool`.

  A stride-1 'valid' :func:`norm_max_pool` (the grid shrinks by ``window -
  1``), then :func:`layers.blur_pool`; exact under quarter turns when
  ``(H - window) % stride == 0`` (a 2x2 window on an even grid).

  Returns:
    ``[B, floor((H - window) / stride) + 1, ..., C]`` of type
    ``field_type``.
  """
  y = norm_max_pool(x, field_type=field_type, window=window, stride=1,
                    padding='valid')
  return pooling_lib.blur_pool(y, stride=stride, filter_size=filter_size,
                               padding=padding)


# ----------------------------------------------------------------- invariants


def group_pool_type(field_type: fields_lib.FieldType) -> fields_lib.FieldType:
  """One trivial field per field: the output type of the invariant maps."""
  fields_lib.check_field_type(field_type, 'field_type')
  group = field_type.group
  return fields_lib.FieldType(group,
                              len(field_type) * [group.trivial_representation])


def group_pool(x: jax.typing.ArrayLike, *, field_type: fields_lib.FieldType,
               reduction: str = 'max', force: bool = False) -> jax.Array:
  """Max (or mean) over the channels of each regular / quotient field.

  Args:
    x: ``[B, H, W, C]`` of type ``field_type`` (permutation fields).
    field_type: its :class:`groups.FieldType`.
    reduction: 'max' or 'mean'.
    force: skip the field check (not invariant on irrep fields).

  Returns:
    ``[B, H, W, F]`` of type ``group_pool_type(field_type)``.
  """
  x = _check(x, field_type, force, 'group pooling', 'norm_pool')
  validate.check_choice(reduction, 'reduction', pooling_lib.REDUCTIONS)
  return _group_pool(x, field_type, reduction)


def _group_pool(x, field_type, reduction):
  if reduction == 'mean':
    sizes = fieldwise.field_sizes(field_type).astype(np.float32)
    return fieldwise.sum_over_fields(x, field_type) / sizes
  # Fields of one size at once ([..., n, size] -> max): a few ops per
  # distinct size instead of a slice and a max per field.
  sizes = fieldwise.field_sizes(field_type)
  offsets = np.asarray(field_type.offsets)
  parts, order = [], []
  for size in np.unique(sizes):
    fields = np.flatnonzero(sizes == size)
    channels = (offsets[fields, None] + np.arange(size)).reshape(-1)
    same = (len(channels) == x.shape[-1] and
            np.array_equal(channels, np.arange(len(channels))))
    # Constant injective lookups (fieldwise.take): their transposes are
    # gathers, not scatter-add loops over the map.
    values = x if same else fieldwise.take(x, channels, -1, jnp)
    parts.append(max_reduce(values.reshape(*x.shape[:-1], len(fields), size),
                            -1))
    order.append(fields)
  if len(parts) == 1:
    return parts[0]
  return fieldwise.take(jnp.concatenate(parts, axis=-1),
                        np.argsort(np.concatenate(order)), -1, jnp)


def norm_pool(x: jax.typing.ArrayLike, *,
              field_type: fields_lib.FieldType) -> jax.Array:
  """The norm of every field, ``[B, H, W, F]`` (any field; invariant)."""
  x = fieldwise.check_map(x, field_type)
  squared = fieldwise.field_norms(x, field_type)
  # The gradient of sqrt is finite away from 0 only.
  nonzero = squared > 0
  return jnp.where(nonzero, jnp.sqrt(jnp.where(nonzero, squared, 1.0)), 0.0)


@functools.lru_cache(maxsize=256)
def _pooled_fields(field_type):
  return tuple(fieldwise.is_permutation_representation(r)
               for r in field_type.representations)


def invariant_map(x: jax.typing.ArrayLike, *,
                  field_type: fields_lib.FieldType,
                  reduction: str = 'max') -> jax.Array:
  """Group pooling on permutation fields, norms on the others.

  Args:
    x: ``[B, H, W, C]`` of type ``field_type`` (any fields).
    field_type: its :class:`groups.FieldType`.
    reduction: 'max' or 'mean' for the group pooling (a trivial field is
      kept as it is either way).

  Returns:
    ``[B, H, W, F]`` of type ``group_pool_type(field_type)``.
  """
  x = fieldwise.check_map(x, field_type)
  validate.check_choice(reduction, 'reduction', pooling_lib.REDUCTIONS)
  pooled = _group_pool(x, field_type, reduction)
  norms = norm_pool(x, field_type=field_type)
  return jnp.where(np.array(_pooled_fields(field_type)), pooled, norms)


def invariant_readout(x: jax.typing.ArrayLike, *,
                      field_type: fields_lib.FieldType,
                      reduction: str = 'max',
                      spatial: str = 'mean') -> jax.Array:
  """:func:`invariant_map`, then a global spatial average (or max): ``[B, F]``.

  Invariant to every ``g`` that acts exactly on the grid (quarter turns and
  the mirror of a square map), approximately to the others.
  """
  validate.check_choice(spatial, 'spatial', pooling_lib.REDUCTIONS)
  y = invariant_map(x, field_type=field_type, reduction=reduction)
  conv_lib.check_nhwc(y)
  if spatial == 'mean':
    return pooling_lib.global_avg_pool(y)
  return pooling_lib.global_max_pool(y)


# -------------------------------------------------------------- typed modules


class _SpatialPool(typed.TypedModule, nn.Module):
  """A spatial pool of one field type: ``out_type`` is ``in_type``."""
  in_type: fields_lib.FieldType

  @property
  def out_type(self) -> fields_lib.FieldType:
    return self.in_type


class PointwiseMaxPool(_SpatialPool):
  """Typed :func:`pointwise_max_pool` (permutation fields, checked when
  built); ``window``, ``stride``, ``padding`` as :func:`layers.max_pool`."""
  window: int | tuple[int, int] = 2
  stride: int | tuple[int, int] | None = None
  padding: str = 'valid'

  def check_types(self) -> None:
    super().check_types()
    fieldwise.check_pointwise_fields(self.in_type, what='a pointwise max pool',
                                     instead='NormMaxPool', name='in_type')

  def __call__(self, x: jax.Array) -> jax.Array:
    return pointwise_max_pool(x, field_type=self.in_type, window=self.window,
                              stride=self.stride, padding=self.padding)


class PointwiseAvgPool(_SpatialPool):
  """Typed :func:`pointwise_avg_pool` (any field)."""
  window: int | tuple[int, int] = 2
  stride: int | tuple[int, int] | None = None
  padding: str = 'valid'

  def __call__(self, x: jax.Array) -> jax.Array:
    return pointwise_avg_pool(x, field_type=self.in_type, window=self.window,
                              stride=self.stride, padding=self.padding)


class PointwiseBlurPool(_SpatialPool):
  """Typed :func:`pointwise_blur_pool` (any field)."""
  stride: int = 2
  filter_size: int = 3
  padding: str = 'reflect'

  def __call__(self, x: jax.Array) -> jax.Array:
    return pointwise_blur_pool(x, field_type=self.in_type, stride=self.stride,
                               filter_size=self.filter_size,
                               padding=self.padding)


class PointwiseMaxBlurPool(_SpatialPool):
  """Typed :func:`pointwise_max_blur_pool` (permutation fields)."""
  window: int = 2
  stride: int = 2
  filter_size: int = 3
  padding: str = 'reflect'

  def check_types(self) -> None:
    super().check_types()
    fieldwise.check_pointwise_fields(
        self.in_type, what='a pointwise max-blur pool',
        instead='NormMaxBlurPool', name='in_type')

  def __call__(self, x: jax.Array) -> jax.Array:
    return pointwise_max_blur_pool(
        x, field_type=self.in_type, window=self.window, stride=self.stride,
        filter_size=self.filter_size, padding=self.padding)


class NormMaxPool(_SpatialPool):
  """Typed :func:`norm_max_pool` (any field)."""
  window: int | tuple[int, int] = 2
  stride: int | tuple[int, int] | None = None
  padding: str = 'valid'

  def __call__(self, x: jax.Array) -> jax.Array:
    return norm_max_pool(x, field_type=self.in_type, window=self.window,
                         stride=self.stride, padding=self.padding)


class NormMaxBlurPool(_SpatialPool):
  """Typed :func:`norm_max_blur_pool` (any field)."""
  window: int = 2
  stride: int = 2
  filter_size: int = 3
  padding: str = 'reflect'

  def __call__(self, x: jax.Array) -> jax.Array:
    return norm_max_blur_pool(x, field_type=self.in_type, window=self.window,
                              stride=self.stride, filter_size=self.filter_size,
                              padding=self.padding)


class _InvariantPool(typed.TypedModule, nn.Module):
  """One trivial field per input field: ``out_type`` is
  :func:`group_pool_type` of ``in_type``."""
  in_type: fields_lib.FieldType

  @property
  def out_type(self) -> fields_lib.FieldType:
    return group_pool_type(self.in_type)


class GroupPool(_InvariantPool):
  """Typed :func:`group_pool` (permutation fields, checked when built)."""
  reduction: str = 'max'

  def check_types(self) -> None:
    super().check_types()
    fieldwise.check_pointwise_fields(self.in_type, what='group pooling',
                                     instead='NormPool', name='in_type')
    validate.check_choice(self.reduction, 'reduction', pooling_lib.REDUCTIONS)

  def __call__(self, x: jax.Array) -> jax.Array:
    return group_pool(x, field_type=self.in_type, reduction=self.reduction)


class NormPool(_InvariantPool):
  """Typed :func:`norm_pool` (any field)."""

  def __call__(self, x: jax.Array) -> jax.Array:
    return norm_pool(x, field_type=self.in_type)


class InvariantMap(_InvariantPool):
  """Typed :func:`invariant_map` (any field)."""
  reduction: str = 'max'

  def check_types(self) -> None:
    super().check_types()
    validate.check_choice(self.reduction, 'reduction', pooling_lib.REDUCTIONS)

  def __call__(self, x: jax.Array) -> jax.Array:
    return invariant_map(x, field_type=self.in_type, reduction=self.reduction)


class InvariantReadout(_InvariantPool):
  """Typed :func:`invariant_readout`: ``[B, H, W, C] -> [B, F]``.

  ``out_type`` names the ``F`` invariant fields; the output has no grid, so
  every element acts on it as the identity (:meth:`output_action`).
  """
  reduction: str = 'max'
  spatial: str = 'mean'

  def check_types(self) -> None:
    super().check_types()
    validate.check_choice(self.reduction, 'reduction', pooling_lib.REDUCTIONS)
    validate.check_choice(self.spatial, 'spatial', pooling_lib.REDUCTIONS)

  def output_action(self, element) -> base.Transform:
    del element  # invariant, and [B, F] has no pixels to move
    return base.Identity()

  def __call__(self, x: jax.Array) -> jax.Array:
    return invariant_readout(x, field_type=self.in_type,
                             reduction=self.reduction, spatial=self.spatial)
