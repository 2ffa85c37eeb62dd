"""Per-field bookkeeping shared by steerable nonlinearities, norms and pools.

A steerable map ``[B, H, W, C]`` (layout of :mod:`groups.fields`) is a list of
fields; the toolbox layers act field by field. This module answers the
questions they share:

* which field each channel belongs to (:func:`field_index`), and the
  per-field squared norms ``[B, H, W, F]`` of a map (:func:`field_norms`),
  invariant under every orthogonal ``rho(g)``;
* which fields a *pointwise* operation (ReLU, max) commutes with: those whose
  ``rho(g)`` are permutation matrices for every ``g`` -- regular, quotient and
  trivial fields (:func:`is_permutation_representation`);
* which fields a *concatenated* nonlinearity accepts: signed permutations
  (:func:`is_signed_permutation_representation`).

Every check raises a ``ValueError`` naming the argument and the field.
"""

from __future__ import annotations

from collections.abc import Callable
import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from groups import fields as fields_lib
from groups import representations as reps_lib
from groups import validate

_HIGHEST = jax.lax.Precision.HIGHEST

#: Names of ``jax.nn`` activations accepted as strings (any callable works).
ACTIVATIONS = ('relu', 'elu', 'gelu', 'selu', 'celu', 'silu', 'swish',
               'softplus', 'sigmoid', 'tanh', 'leaky_relu', 'relu6',
               'hard_tanh', 'soft_sign', 'log_sigmoid', 'mish', 'identity')


def activation_fn(activation: Any, name: str = 'activation'
                  ) -> Callable[[jax.Array], jax.Array]:
  """``activation`` as a function: a callable, or a ``jax.nn`` name."""
  if isinstance(activation, str):
    validate.check_choice(activation, name, ACTIVATIONS)
    return getattr(jax.nn, activation)
  validate.check_callable(activation, name,
                          what=f'of an array, or one of {ACTIVATIONS}')
  return activation


def field_index(field_type: fields_lib.FieldType) -> np.ndarray:
  """``[C]`` int32: the field each channel belongs to."""
  return np.repeat(np.arange(len(field_type), dtype=np.int32),
                   [rep.size for rep in field_type.representations])


def groups_of_fields(field_type: fields_lib.FieldType
                     ) -> list[tuple[reps_lib.Representation, np.ndarray]]:
  """``[(rep, channels)]`` per distinct representation, first-seen order:
  the channels ``[m * rep.size]`` of its ``m`` fields, field-major."""
  order: dict[reps_lib.Representation, list[int]] = {}
  for offset, rep in zip(field_type.offsets, field_type.representations):
    order.setdefault(rep, []).extend(range(offset, offset + rep.size))
  return [(rep, np.array(ch, dtype=np.int32)) for rep, ch in order.items()]


def field_sizes(field_type: fields_lib.FieldType) -> np.ndarray:
  """``[F]`` the size of each field."""
  return np.array([rep.size for rep in field_type.representations],
                  np.int32)


def membership(field_type: fields_lib.FieldType) -> np.ndarray:
  """``[C, F]`` float32, 1 where channel ``c`` belongs to field ``f``."""
  out = np.zeros((field_type.size, len(field_type)), np.float32)
  out[np.arange(field_type.size), field_index(field_type)] = 1.0
  return out


def uniform_size(field_type: fields_lib.FieldType) -> int | None:
  """The size every field has, or None when sizes differ (or no fields)."""
  sizes = field_sizes(field_type)
  if len(sizes) and np.all(sizes == sizes[0]):
    return int(sizes[0])
  return None


def sum_over_fields(values: jax.Array, field_type: fields_lib.FieldType
                    ) -> jax.Array:
  """``[..., C] -> [..., F]``: the sum of each field's channels."""
  size = uniform_size(field_type)
  if size is not None:  # [..., F, size]: a reduction, no matmul
    return jnp.sum(values.reshape(values.shape[:-1] + (-1, size)), axis=-1)
  return jnp.einsum('...c,cf->...f', values,
                    jnp.asarray(membership(field_type), values.dtype),
                    precision=_HIGHEST)


def expand_fields(values: jax.Array, field_type: fields_lib.FieldType
                  ) -> jax.Array:
  """``[..., F] -> [..., C]``: each field's value on all its channels.

  Fields of one size: a broadcast. Mixed sizes: for floating ``values`` a
  product with the constant 0/1 :func:`membership` matrix (exact for finite
  values; its transpose is a product too, where a gather's would be a
  scatter-add, on XLA:CPU a serial loop over the whole map), else a gather.
  """
  size = uniform_size(field_type)
  if size is not None:  # a broadcast, no gather
    return jnp.broadcast_to(values[..., None], values.shape + (size,)
                            ).reshape(values.shape[:-1] + (-1,))
  values = jnp.asarray(values)
  if jnp.issubdtype(values.dtype, jnp.floating):
    return jnp.einsum('...f,cf->...c', values,
                      jnp.asarray(membership(field_type), values.dtype),
                      precision=_HIGHEST)
  return jnp.take(values, field_index(field_type), axis=-1)


@functools.lru_cache(maxsize=512)
def _placement(channels: tuple[int, ...], size: int) -> np.ndarray:
  """``[n, size]`` float32, 1 at ``(i, channels[i])``."""
  out = np.zeros((len(channels), size), np.float32)
  out[np.arange(len(channels)), list(channels)] = 1.0
  out.setflags(write=False)
  return out


def _check_channels(channels, size: int) -> tuple[int, ...]:
  channels = np.asarray(channels).reshape(-1)
  if not np.issubdtype(channels.dtype, np.integer) and len(channels):
    raise ValueError(f'channels must be integers; got {channels!r}.')
  if len(channels) and (channels.min() < 0 or channels.max() >= size):
    raise ValueError(f'channels must lie in [0, {size}); got {channels!r}.')
  return tuple(int(c) for c in channels)


def on_channels(values, channels: np.ndarray, size: int):
  """``[..., n] -> [..., size]``: ``values`` on ``channels``, 0 elsewhere.

  A product with a constant 0/1 ``[n, size]`` matrix (exact for finite
  values): one small kernel forward and one (its transpose) backward. A
  gather would fuse forward, but its transpose is a scatter-add, an
  unfusable loop of its own; static slices transpose to one pad per slice.
  """
  channels = _check_channels(channels, size)
  if jnp.shape(values)[-1] != len(channels):
    raise ValueError(f'values must have {len(channels)} entries on its last '
                     f'axis (one per channel); got shape {jnp.shape(values)}.')
  if channels == tuple(range(size)):
    return values
  values = jnp.asarray(values)
  return jnp.einsum('...n,nc->...c', values,
                    jnp.asarray(_placement(channels, size), values.dtype),
                    precision=_HIGHEST)


def take_channels(values, channels: np.ndarray):
  """``[..., size] -> [..., n]``: ``values[..., channels]`` for constant
  ``channels``, as a product with a constant 0/1 matrix (exact for finite
  values; its transpose is a product too, a gather's is a scatter-add)."""
  size = jnp.shape(values)[-1]
  channels = _check_channels(channels, size)
  if channels == tuple(range(size)):
    return values
  values = jnp.asarray(values)
  return jnp.einsum('...c,nc->...n', values,
                    jnp.asarray(_placement(channels, size), values.dtype),
                    precision=_HIGHEST)


def take(values, index: np.ndarray, axis: int, xp=np):
  """``values`` at the constant ``index`` along ``axis``, where an entry
  ``values.shape[axis]`` stands for 0; ``index`` must take every other
  entry at most once (a permutation, a selection, zero padding).

  With ``jax.numpy`` a gather whose derivative is a gather too: the tangent
  is written as the scatter-add of ``values`` onto the positions it is taken
  to, which reverse mode transposes into a gather of the cotangent (the
  transpose of the gather itself would be a scatter-add, on XLA:CPU a
  serial loop per element with kernels of its own). Forward mode, as any
  order of derivative, stays available.
  """
  index = np.asarray(index).reshape(-1)
  size = values.shape[axis]
  padded = bool(np.any(index == size))
  if xp is np:
    if padded:
      zero = np.zeros_like(np.take(values, [0], axis=axis))
      values = np.concatenate([values, zero], axis=axis)
    return np.take(values, index, axis=axis)
  taken = index[index < size]
  if len(np.unique(taken)) != len(taken):
    raise ValueError(f'index must take each entry at most once; got {index}.')
  return _injective_take(tuple(index.tolist()), size, axis % values.ndim,
                         padded)(values)


@functools.lru_cache(maxsize=1024)
def _injective_take(index: tuple[int, ...], size: int, axis: int,
                    padded: bool):
  """The ``jax.numpy`` function of :func:`take` for one ``index``."""
  index = np.array(index, np.int32)
  # Where each entry of values goes (len(index): nowhere, dropped).
  inverse = np.full(size, len(index), np.int32)
  kept = np.nonzero(index < size)[0]
  inverse[index[kept]] = kept

  def gather(values):
    if padded:
      zero = jnp.zeros_like(jax.lax.slice_in_dim(values, 0, 1, axis=axis))
      values = jnp.concatenate([values, zero], axis=axis)
    return jnp.take(values, index, axis=axis, mode='clip')

  @jax.custom_jvp
  def injective_take(values):
    return gather(values)

  @injective_take.defjvp
  def _jvp(primals, tangents):
    (values,), (tangent,) = primals, tangents
    shape = list(tangent.shape)
    shape[axis] = len(index) + 1
    where = (slice(None),) * axis + (inverse,)
    out = jnp.zeros(shape, tangent.dtype).at[where].add(
        tangent, mode='promise_in_bounds', unique_indices=True)
    return gather(values), jax.lax.slice_in_dim(out, 0, len(index),
                                                axis=axis)

  return injective_take


def field_norms(x: jax.Array, field_type: fields_lib.FieldType) -> jax.Array:
  """Squared norm of every field at every pixel, ``[B, H, W, F]``."""
  return sum_over_fields(jnp.square(x), field_type)


@functools.lru_cache(maxsize=512)
def _matrices(rep: reps_lib.Representation) -> tuple[np.ndarray, ...] | None:
  """Every distinct ``rho(g)`` (None if there are infinitely many).

  SO(2) / O(2) representations with frequency-0 irreps only (trivial, and
  O(2)'s sign irrep) take the values at the identity and the mirror.
  """
  group = rep.group
  if group.is_finite:
    return tuple(rep(g) for g in group.elements())
  if rep.max_frequency > 0:
    return None
  return (rep(group.identity_element),) + tuple(
      rep(g) for g in group.generators(0))


def _all_in(values: np.ndarray, allowed: tuple[float, ...]) -> bool:
  return bool(np.all(np.min(np.stack([np.abs(values - a) for a in allowed]),
                            axis=0) < 1e-6))


@functools.lru_cache(maxsize=512)
def is_permutation_representation(rep: reps_lib.Representation) -> bool:
  """True if every ``rho(g)`` is a permutation matrix (regular, quotient,
  trivial fields): then a pointwise function commutes with ``rho(g)``.

  For SO(2) / O(2) only representations of frequency 0 can qualify.
  """
  matrices = _matrices(rep)
  if matrices is None:
    return False
  return all(_all_in(m, (0.0, 1.0)) and np.allclose(m.sum(axis=0), 1)
             for m in matrices)


@functools.lru_cache(maxsize=512)
def is_signed_permutation_representation(rep: reps_lib.Representation
                                         ) -> bool:
  """True if every ``rho(g)`` is a signed permutation (entries 0, +-1, one
  non-zero per row): e.g. the sign irreps, C4's irrep 1, regular fields."""
  matrices = _matrices(rep)
  if matrices is None:
    return False
  return all(_all_in(m, (0.0, 1.0, -1.0)) and
             np.allclose(np.abs(m).sum(axis=1), 1) for m in matrices)


def check_pointwise_fields(field_type: fields_lib.FieldType, *, what: str,
                           instead: str, name: str = 'field_type') -> None:
  """Raises unless every field is a permutation (regular/quotient/trivial)."""
  for i, rep in enumerate(field_type.representations):
    if not is_permutation_representation(rep):
      raise ValueError(
          f'{name} must have only regular, quotient or trivial fields for '
          f'{what} (a pointwise function commutes only with permutation '
          f'matrices rho(g)); field {i} is {rep} (size {rep.size}), whose '
          f'rho(g) mixes channels with other signs or weights. Use '
          f'{instead} instead, or force=True to apply it anyway (not '
          'equivariant).')


def check_map(x: Any, field_type: Any, name: str = 'x',
              type_name: str = 'field_type') -> jax.Array:
  """Checks ``field_type`` and that ``x`` is ``[B, H, W, field_type.size]``."""
  fields_lib.check_field_type(field_type, type_name)
  field_type.check_features(x, name)
  return jnp.asarray(x)


def check_field_vector(value: Any, name: str, length: int, what: str) -> None:
  """Checks a per-field (or per-block) parameter of shape ``[length]``."""
  if value is None:
    return
  if jnp.ndim(value) != 1 or jnp.shape(value)[0] != length:
    raise ValueError(f'{name} must have shape [{what}] = ({length},); got '
                     f'{jnp.shape(value)}.')


def check_batch_statistics(epsilon, **vectors) -> float:
  """Validates a batch norm's ``epsilon`` (> 0) and its per-field vectors
  ``name=(value, length, what)`` (:func:`check_field_vector`; ``var`` must
  be given and >= 0); returns ``epsilon``."""
  epsilon = validate.number(epsilon, 'epsilon', minimum=0,
                            exclusive_minimum=True)
  for name, (value, length, what) in vectors.items():
    check_field_vector(value, name, length, what)
  var = vectors['var'][0]
  if validate.is_concrete(var) and np.any(np.asarray(var) < 0):
    raise ValueError(f'var must be >= 0 (a variance); got {var!r}.')
  return epsilon


def check_bool(value: Any, name: str) -> bool:
  if not isinstance(value, (bool, np.bool_)):
    raise ValueError(f'{name} must be a bool; got {value!r}.')
  return bool(value)


def check_force(force: Any) -> bool:
  return check_bool(force, 'force')
