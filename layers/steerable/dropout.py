"""Equivariant dropout on steerable maps (escnn's ``FieldDropout``,
``PointwiseDropout``).

Layout: ``[B, H, W, C]`` of a :class:`groups.FieldType` (:mod:`groups.fields`).
Both follow flax's ``nn.Dropout`` convention: ``rate`` is the probability of
dropping, kept values are scaled by ``1 / (1 - rate)`` (the expectation is
unchanged), ``deterministic=True`` (evaluation) is the identity, and the
typed modules draw their mask from the rng stream ``'dropout'``
(``apply(..., rngs={'dropout': key})``).

* :func:`field_dropout` (``FieldDropout``) drops whole fields: all channels
  of a field share one Bernoulli draw, so each field vector is multiplied by
  a scalar, which commutes with every ``rho(g)``: any field type. By default
  one draw per (example, field), shared over ``H, W``: a spatially constant
  mask commutes with the grid action too, so with a *fixed* rng the layer is
  exactly equivariant to every element (quarter turns, mirrors, and the
  interpolated rotations, which are linear per channel).
  ``per_pixel=True`` draws one per (example, pixel, field), as escnn does
  (its mask is ``[B, F, 1, H, W]``); then a fixed mask does not move with
  the grid, and the layer is equivariant in distribution only.
* :func:`pointwise_dropout` (``PointwiseDropout``) is ordinary dropout,
  one draw per channel and pixel. ``rho(g) M rho(g)^-1`` is again a
  diagonal 0/1 mask of the same law only when every ``rho(g)`` is a
  permutation matrix (regular, quotient and trivial fields: escnn's
  'pointwise' representations), so other fields are refused. Equivariant in
  distribution only: a fixed mask is not permuted or moved with ``g``.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from groups import fields as fields_lib
from groups import validate
from layers.steerable import fieldwise
from layers.steerable import typed


def _check_rate(rate) -> float:
  return validate.number(rate, 'rate', minimum=0.0, maximum=1.0)


def _check_rng(rng) -> jax.Array:
  """Checks ``rng`` is a PRNG key: new-style (``jax.random.key``) or raw
  ``uint32 [2]`` (``jax.random.PRNGKey``)."""
  ok = False
  if isinstance(rng, jax.Array):
    if jax.dtypes.issubdtype(rng.dtype, jax.dtypes.prng_key):
      ok = rng.shape == ()
    else:
      ok = rng.dtype == jnp.uint32 and rng.shape == (2,)
  if not ok:
    raise ValueError(
        'rng must be a PRNG key (jax.random.key(seed) or '
        'jax.random.PRNGKey(seed)) when deterministic=False and rate > 0; '
        f'got {rng!r:.200}.')
  return rng


def _check_permutation_fields(field_type: fields_lib.FieldType, name: str,
                              instead: str) -> None:
  """Raises unless every field's ``rho(g)`` are permutation matrices
  (regular, quotient, trivial: escnn's 'pointwise' representations)."""
  for i, rep in enumerate(field_type.representations):
    if not fieldwise.is_permutation_representation(rep):
      raise ValueError(
          f'{name} must have only regular, quotient or trivial fields for '
          'pointwise dropout (a channel-wise mask commutes with rho(g) only '
          f'when rho(g) permutes channels); field {i} is {rep} (size '
          f'{rep.size}). Use {instead} instead, which drops whole fields.')


def _drop(x: jax.Array, rng, rate: float, keep_shape: tuple[int, ...],
          expand) -> jax.Array:
  """``x / (1 - rate)`` where a Bernoulli(1 - rate) mask of ``keep_shape``
  (widened to ``x``'s shape by ``expand``) is 1, else 0."""
  if rate == 1.0:  # no division by 0 (flax's convention: zeros)
    return jnp.zeros_like(x)
  keep = jax.random.bernoulli(_check_rng(rng), 1.0 - rate, keep_shape)
  keep = jnp.broadcast_to(expand(keep), x.shape)
  return jnp.where(keep, x / jnp.asarray(1.0 - rate, x.dtype),
                   jnp.zeros_like(x))


def field_dropout(x: jax.typing.ArrayLike, rng: jax.Array | None = None, *,
                  field_type: fields_lib.FieldType, rate: float = 0.5,
                  deterministic: bool = False,
                  per_pixel: bool = False) -> jax.Array:
  """Drops whole fields with probability ``rate`` (any field type).

  Args:
    x: ``[B, H, W, C]``, ``C = field_type.size``.
    rng: a PRNG key; needed unless ``deterministic`` or ``rate == 0``.
    field_type: the :class:`groups.FieldType` of ``x``.
    rate: the probability of dropping a field, in ``[0, 1]``.
    deterministic: True (evaluation): return ``x`` unchanged.
    per_pixel: False: one draw per (example, field), the same at every pixel
      (exactly equivariant with a fixed rng); True: one per (example, pixel,
      field), as escnn's ``FieldDropout`` (equivariant in distribution).

  Returns:
    ``[B, H, W, C]`` of type ``field_type``: each field either 0 or
    ``x / (1 - rate)`` (zeros everywhere when ``rate == 1``).
  """
  x = fieldwise.check_map(x, field_type)
  rate = _check_rate(rate)
  if fieldwise.check_bool(deterministic, 'deterministic') or rate == 0.0:
    return x
  per_pixel = fieldwise.check_bool(per_pixel, 'per_pixel')
  b, h, w, _ = x.shape
  keep_shape = (b, h, w, len(field_type)) if per_pixel else (
      b, 1, 1, len(field_type))
  return _drop(x, rng, rate, keep_shape,
               lambda keep: fieldwise.expand_fields(keep, field_type))


def pointwise_dropout(x: jax.typing.ArrayLike,
                      rng: jax.Array | None = None, *,
                      field_type: fields_lib.FieldType, rate: float = 0.5,
                      deterministic: bool = False) -> jax.Array:
  """Ordinary dropout, channel by channel, on permutation fields.

  Args:
    x: ``[B, H, W, C]``, ``C = field_type.size``.
    rng: a PRNG key; needed unless ``deterministic`` or ``rate == 0``.
    field_type: the :class:`groups.FieldType` of ``x``; every field must
      have permutation matrices ``rho(g)`` (regular, quotient or trivial).
    rate: the probability of dropping a channel at a pixel, in ``[0, 1]``.
    deterministic: True (evaluation): return ``x`` unchanged.

  Returns:
    ``[B, H, W, C]`` of type ``field_type``.
  """
  x = fieldwise.check_map(x, field_type)
  _check_permutation_fields(field_type, 'field_type', 'field_dropout')
  rate = _check_rate(rate)
  if fieldwise.check_bool(deterministic, 'deterministic') or rate == 0.0:
    return x
  return _drop(x, rng, rate, x.shape, lambda keep: keep)


# -------------------------------------------------------------- typed modules


class _Dropout(typed.TypedModule, nn.Module):
  """A dropout of one field type: ``out_type`` is ``in_type``; the mask
  comes from the rng stream ``rng_collection``."""
  in_type: fields_lib.FieldType
  rate: float = 0.5
  deterministic: bool | None = None
  rng_collection: str = 'dropout'

  @property
  def out_type(self) -> fields_lib.FieldType:
    return self.in_type

  def check_types(self) -> None:
    super().check_types()
    _check_rate(self.rate)
    if self.deterministic is not None:
      fieldwise.check_bool(self.deterministic, 'deterministic')
    if not isinstance(self.rng_collection, str) or not self.rng_collection:
      raise ValueError('rng_collection must be a non-empty str (the rng '
                       f"stream, 'dropout'); got {self.rng_collection!r}.")

  def _mode(self, deterministic: bool | None, rng: jax.Array | None
            ) -> tuple[bool, jax.Array | None]:
    """``(deterministic, rng)`` as flax's ``nn.Dropout`` merges them."""
    if deterministic is not None:
      fieldwise.check_bool(deterministic, 'deterministic')
    deterministic = nn.merge_param('deterministic', self.deterministic,
                                   deterministic)
    if not deterministic and self.rate > 0.0 and rng is None:
      rng = self.make_rng(self.rng_collection)
    return deterministic, rng


class FieldDropout(_Dropout):
  """Typed :func:`field_dropout` (any field type; no parameters).

  Attributes:
    in_type: the input (and output) field type.
    rate: the probability of dropping a field, in ``[0, 1]``.
    deterministic: as flax's ``nn.Dropout``: here or in the call (exactly
      one of them).
    rng_collection: the rng stream of the mask ('dropout').
    per_pixel: one draw per pixel too (escnn's), instead of one per
      (example, field).
  """
  per_pixel: bool = False

  def check_types(self) -> None:
    super().check_types()
    fieldwise.check_bool(self.per_pixel, 'per_pixel')

  @nn.compact
  def __call__(self, x: jax.Array, deterministic: bool | None = None,
               rng: jax.Array | None = None) -> jax.Array:
    """Maps ``[B, H, W, in_type.size]`` to the same shape."""
    deterministic, rng = self._mode(deterministic, rng)
    return field_dropout(x, rng, field_type=self.in_type, rate=self.rate,
                         deterministic=deterministic,
                         per_pixel=self.per_pixel)


class PointwiseDropout(_Dropout):
  """Typed :func:`pointwise_dropout` (permutation fields, checked when
  built; no parameters). Attributes as :class:`FieldDropout`, without
  ``per_pixel``."""

  def check_types(self) -> None:
    super().check_types()
    _check_permutation_fields(self.in_type, 'in_type', 'FieldDropout')

  @nn.compact
  def __call__(self, x: jax.Array, deterministic: bool | None = None,
               rng: jax.Array | None = None) -> jax.Array:
    """Maps ``[B, H, W, in_type.size]`` to the same shape."""
    deterministic, rng = self._mode(deterministic, rng)
    return pointwise_dropout(x, rng, field_type=self.in_type, rate=self.rate,
                             deterministic=deterministic)
