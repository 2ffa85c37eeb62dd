"""Inner batch norm (e2cnn ``InnerBatchNorm``) of regular, quotient and
trivial fields.

One mean and one variance per field, over ``B, H, W`` *and the field's
channels* (the group axis); a scale and a bias per field added to all its
channels. Refused on other fields (a constant added to every channel of an
irrep field is not equivariant): :mod:`layers.steerable.norm` has the norm
batch norms for those, and the typed modules' base class this one extends.
Layout: ``[B, H, W, C]`` of a :class:`groups.FieldType`.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from groups import fields as fields_lib
from groups import validate
from layers import batch_statistics
from layers.steerable import fieldwise
from layers.steerable import norm as norm_lib

_HIGHEST = jax.lax.Precision.HIGHEST


def inner_moments(x: jax.typing.ArrayLike, *,
                  field_type: fields_lib.FieldType,
                  force: bool = False) -> tuple[jax.Array, jax.Array]:
  """Mean and variance per field over ``B, H, W`` and its channels.

  Returns:
    ``(mean, var)``, each ``[F]``.
  """
  x = fieldwise.check_map(x, field_type)
  if not fieldwise.check_force(force):
    fieldwise.check_pointwise_fields(field_type, what='inner batch norm',
                                     instead='norm_batch_norm')
  _, mean, var = _inner_moments(x, field_type)
  return mean, var


def _inner_moments(x, field_type):
  """``(centred, mean [F], var [F])`` of :func:`inner_moments`; ``centred``
  is ``x`` minus its field's mean, in the layout of :func:`_by_field`.

  Fields of one size: each statistic is one reduction of the ``[B, H, W, F,
  size]`` view (no per-channel step and no per-field sum after it, forward
  or backward). Mixed sizes: per-channel means, summed per field by a
  constant ``[C, F]`` matrix of ``1 / size``.
  """
  if fieldwise.uniform_size(field_type) is not None:
    view = _by_field(x, field_type)
    mean = jnp.mean(view, axis=(0, 1, 2, 4))
    centred = view - mean[:, None]
    return centred, mean, jnp.mean(jnp.square(centred), axis=(0, 1, 2, 4))
  per_field = _field_mean_matrix(field_type)
  mean = jnp.einsum('c,cf->f', jnp.mean(x, axis=(0, 1, 2)),
                    jnp.asarray(per_field, x.dtype), precision=_HIGHEST)
  centred = x - fieldwise.expand_fields(mean, field_type)
  var = jnp.einsum('c,cf->f', jnp.mean(jnp.square(centred), axis=(0, 1, 2)),
                   jnp.asarray(per_field, x.dtype), precision=_HIGHEST)
  return centred, mean, var


@functools.lru_cache(maxsize=256)
def _field_mean_matrix(field_type: fields_lib.FieldType) -> np.ndarray:
  """``[C, F]`` float32: ``1 / size`` where channel ``c`` is in field ``f``."""
  matrix = fieldwise.membership(field_type) / fieldwise.field_sizes(
      field_type).astype(np.float32)
  matrix.setflags(write=False)
  return matrix


def _by_field(x, field_type):
  """``[B, H, W, C] -> [B, H, W, F, size]`` for fields of one size, else
  ``x`` itself."""
  size = fieldwise.uniform_size(field_type)
  if size is None:
    return x
  return x.reshape(x.shape[:-1] + (-1, size))


def _on_fields(values, field_type):
  """``[F] -> `` a broadcastable per-field vector in the layout of
  :func:`_by_field` (``[F, 1]``, or ``[C]`` for mixed sizes)."""
  if fieldwise.uniform_size(field_type) is not None:
    return values[:, None]
  return fieldwise.expand_fields(values, field_type)


def _inner_normalise(centred, field_type, var, scale, bias, epsilon):
  """``centred / sqrt(var + epsilon) * scale + bias`` back in ``[B, H, W,
  C]``; ``centred`` in the layout of :func:`_by_field`."""
  factor = jax.lax.rsqrt(var + epsilon)
  if scale is not None:
    factor = factor * scale
  out = centred * _on_fields(factor.astype(centred.dtype), field_type)
  if bias is not None:
    out = out + _on_fields(jnp.asarray(bias, centred.dtype), field_type)
  return out.reshape(out.shape[:3] + (-1,))


def inner_batch_norm(x: jax.typing.ArrayLike, *,
                     field_type: fields_lib.FieldType,
                     mean: jax.typing.ArrayLike, var: jax.typing.ArrayLike,
                     scale: jax.typing.ArrayLike | None = None,
                     bias: jax.typing.ArrayLike | None = None,
                     epsilon: float = 1e-5, force: bool = False) -> jax.Array:
  """``(x - mean) / sqrt(var + epsilon) * scale + bias``, all per field.

  Args:
    x: ``[B, H, W, C]`` of type ``field_type`` (regular, quotient, trivial
      fields).
    field_type: the :class:`groups.FieldType` of ``x``.
    mean, var: ``[F]`` (:func:`inner_moments`, or running averages).
    scale, bias: None or ``[F]``.
    epsilon: added to ``var`` (> 0).
    force: skip the field check (not equivariant on irrep fields).

  Returns:
    ``[B, H, W, C]`` of type ``field_type``.
  """
  x = fieldwise.check_map(x, field_type)
  if not fieldwise.check_force(force):
    fieldwise.check_pointwise_fields(field_type, what='inner batch norm',
                                     instead='norm_batch_norm')
  n = len(field_type)
  epsilon = fieldwise.check_batch_statistics(
      epsilon, mean=(mean, n, 'F'), var=(var, n, 'F'), scale=(scale, n, 'F'),
      bias=(bias, n, 'F'))
  centred = _by_field(x, field_type) - _on_fields(
      jnp.asarray(mean, x.dtype), field_type)
  return _inner_normalise(centred, field_type, jnp.asarray(var), scale, bias,
                          epsilon)


class InnerBatchNorm(norm_lib.FieldBatchNorm):
  """Linen :func:`inner_batch_norm` (e2cnn ``InnerBatchNorm``).

  'batch_stats': ``mean [F]``, ``var [F]``; params ``scale [F]``,
  ``bias [F]``.
  """
  _bias_per_variance = True

  def check_types(self) -> None:
    super().check_types()
    fieldwise.check_pointwise_fields(self.in_type, what='inner batch norm',
                                     instead='NormBatchNorm', name='in_type')

  def _sizes(self):
    return len(self.in_type), len(self.in_type)

  def _moments(self, x):
    return inner_moments(x, field_type=self.in_type)

  def _apply(self, x, mean, var, scale, bias):
    return inner_batch_norm(x, field_type=self.in_type, mean=mean,
                            var=var, scale=scale, bias=bias,
                            epsilon=self.epsilon)

  def _moments_and_apply(self, x, scale, bias):
    # inner_batch_norm(inner_moments(x)), the centred map shared by the two:
    # the same values, fewer kernels.
    x = fieldwise.check_map(x, self.in_type)
    epsilon = validate.number(self.epsilon, 'epsilon', minimum=0,
                              exclusive_minimum=True)
    if fieldwise.uniform_size(self.in_type) is not None:
      # Fields of one size: batch_statistics' gradient over the [B, H, W,
      # F, size] view (fewer kernels in a training step).
      out, mean, var = batch_statistics.normalise(
          _by_field(x, self.in_type), scale, bias, axes=(0, 1, 2, 4),
          epsilon=epsilon)
      return out.reshape(x.shape), mean, var
    centred, mean, var = _inner_moments(x, self.in_type)
    return (_inner_normalise(centred, self.in_type, var, scale, bias,
                             epsilon), mean, var)
