"""Batch normalisation per field type (e2cnn's batch-norm modules).

Statistics and parameters are shared by all channels of a field (or of an
irrep block), so they do not change when ``g`` permutes pixels and acts on
the fields, and every variant is exactly equivariant in training mode (batch
statistics) and in eval mode (running statistics in the 'batch_stats'
collection). Layout: ``[B, H, W, C]`` of a :class:`groups.FieldType`.

* :func:`layers.steerable.inner_norm.inner_batch_norm` (e2cnn
  ``InnerBatchNorm``; its own module, on this module's base class) -- regular,
  quotient and trivial fields: one mean and one variance per field, over
  ``B, H, W`` *and the field's channels* (the group axis), a scale and a bias
  per field added to all its channels. Refused on other fields (a constant
  added to every channel of an irrep field is not equivariant).
* :func:`norm_batch_norm` (``NormBatchNorm``) -- any field: the field is
  divided by the root of its mean squared norm per channel,
  ``E|x - m|^2 / d``; the mean ``m`` (and the learned bias) live only on the
  field's trivial (invariant) components, since ``rho(g) m = m`` is needed.
  On a regular or quotient field (one trivial component, along
  ``(1, ..., 1)``) it equals :func:`inner_batch_norm`.
* :func:`gnorm_batch_norm` (``GNormBatchNorm``) -- the same per *irrep
  block* of each field (``rho = Q (psi_1 + psi_2 + ...) Q^T``): each block
  ``Q_j^T x`` gets its own variance and scale.
* :func:`field_group_norm` -- the group-norm-style variant: norm statistics
  per example (over ``H, W`` and the field's channels), no running averages.

The moments (``*_moments``) are separate pure functions, as
:func:`layers.group_moments`; the modules keep running averages.
"""

from __future__ import annotations

import abc

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from groups import fields as fields_lib
from groups import validate
from layers import running_average
from layers.steerable import fieldwise
from layers.steerable import typed

_HIGHEST = jax.lax.Precision.HIGHEST


# ------------------------------------------------------------------- blocks


@functools.lru_cache(maxsize=256)
def _irreps_basis(field_type: fields_lib.FieldType, per_irrep: bool):
  """``Q`` ``[C, C]`` (block diagonal over fields), the normalised block of
  each irrep-basis channel ``[C]``, and the trivial channels ``[n_trivial]``.

  Blocks are fields (``per_irrep=False``) or irrep copies inside fields.
  """
  q = np.zeros((field_type.size, field_type.size))
  block_of = np.zeros(field_type.size, np.int32)
  trivial = []
  group = field_type.group
  trivial_id = group.trivial_representation.irreps[0]
  block = -1
  for offset, rep in zip(field_type.offsets, field_type.representations):
    q[offset:offset + rep.size, offset:offset + rep.size] = (
        rep.change_of_basis)
    if not per_irrep:
      block += 1
    channel = offset
    for irrep in rep.irreps:
      if per_irrep:
        block += 1
      size = group.irrep_size(irrep)
      block_of[channel:channel + size] = block
      if irrep == trivial_id:
        trivial.append(channel)
      channel += size
  q = q.astype(np.float32)
  for array in (q, block_of):
    array.setflags(write=False)
  return q, block_of, np.array(trivial, np.int32), block + 1


def num_blocks(field_type: fields_lib.FieldType, *, per_irrep: bool) -> int:
  """How many variances :func:`norm_moments` returns (fields or irreps)."""
  return _irreps_basis(field_type, per_irrep)[3]


def num_invariant(field_type: fields_lib.FieldType) -> int:
  """How many trivial (invariant) components the field type has."""
  return len(_irreps_basis(field_type, False)[2])


@functools.lru_cache(maxsize=256)
def _is_identity(field_type: fields_lib.FieldType) -> bool:
  """Whether every field's change of basis is the identity (irrep fields):
  then the irreps basis is the channels themselves and no matmul is needed."""
  q = _irreps_basis(field_type, False)[0]
  return bool(np.array_equal(q, np.eye(len(q), dtype=q.dtype)))


def _to_irreps(x, field_type, per_irrep):
  if _is_identity(field_type):
    return x
  q = _irreps_basis(field_type, per_irrep)[0]
  return jnp.einsum('...c,cd->...d', x, jnp.asarray(q, x.dtype),
                    precision=_HIGHEST)


def _from_irreps(z, field_type, per_irrep):
  if _is_identity(field_type):
    return z
  q = _irreps_basis(field_type, per_irrep)[0]
  return jnp.einsum('...d,cd->...c', z, jnp.asarray(q, z.dtype),
                    precision=_HIGHEST)


@functools.lru_cache(maxsize=256)
def _block_matrices(block_of: tuple[int, ...], n_blocks: int):
  """``[C, n_blocks]`` float32 ``1 / d`` on each block's channels (mean),
  and ``[n_blocks, C]`` 0/1 (expansion)."""
  one_hot = np.zeros((len(block_of), n_blocks), np.float32)
  one_hot[np.arange(len(block_of)), list(block_of)] = 1.0
  expand = one_hot.T.copy()
  one_hot /= one_hot.sum(axis=0, keepdims=True)
  for array in (one_hot, expand):
    array.setflags(write=False)
  return one_hot, expand


def _block_mean(values, block_of, n_blocks):
  """``[..., C] -> [..., n_blocks]``: the mean over each block's channels."""
  mean = _block_matrices(tuple(np.asarray(block_of).tolist()), n_blocks)[0]
  return jnp.einsum('...c,cb->...b', values,
                    jnp.asarray(mean, values.dtype), precision=_HIGHEST)


def _expand_blocks(values, block_of):
  """``[..., n_blocks] -> [..., C]``: each block's value on its channels,
  a product with a constant 0/1 matrix (exact for finite values; a gather's
  transpose would be a scatter-add)."""
  expand = _block_matrices(tuple(np.asarray(block_of).tolist()),
                           values.shape[-1])[1]
  return jnp.einsum('...b,bc->...c', values,
                    jnp.asarray(expand, values.dtype), precision=_HIGHEST)


@functools.lru_cache(maxsize=256)
def _trivial_mask(field_type: fields_lib.FieldType, per_irrep: bool):
  """``[C]`` float32: 1 on the trivial components of the irreps basis."""
  mask = np.zeros(field_type.size, np.float32)
  mask[_irreps_basis(field_type, per_irrep)[2]] = 1.0
  mask.setflags(write=False)
  return mask


def _check_axes(axes):
  axes = (0, 1, 2) if axes is None else tuple(axes)
  if axes not in ((0, 1, 2), (1, 2)):
    raise ValueError('axes must be (0, 1, 2) (batch statistics) or (1, 2) '
                     f'(per example); got {axes!r}.')
  return axes


# ------------------------------------------------------------- norm / gnorm


def norm_moments(x: jax.typing.ArrayLike, *,
                 field_type: fields_lib.FieldType, per_irrep: bool = False,
                 axes: tuple[int, ...] | None = None
                 ) -> tuple[jax.Array, jax.Array]:
  """Means of the trivial components and mean squared norms per block.

  Args:
    x: ``[B, H, W, C]`` of type ``field_type`` (any fields).
    field_type: its :class:`groups.FieldType`.
    per_irrep: blocks are irrep copies (gnorm) instead of fields (norm).
    axes: the axes averaged over: ``(0, 1, 2)`` (batch norm, default) or
      ``(1, 2)`` (per example, :func:`field_group_norm`).

  Returns:
    ``(mean [..., n_trivial], var [..., n_blocks])``: ``var`` is
    ``E|x_block - m|^2 / d_block``. (Every channel's mean is taken, then the
    trivial ones, by constant 0/1 masks and matrices rather than gathers of
    the map: the gradient then has no scatter-adds.)
  """
  x = fieldwise.check_map(x, field_type)
  axes = _check_axes(axes)
  per_irrep = fieldwise.check_bool(per_irrep, 'per_irrep')
  trivial = _irreps_basis(field_type, per_irrep)[2]
  z = _to_irreps(x, field_type, per_irrep)  # [B, H, W, C] irreps basis
  mean_all, _, var = _channel_moments(z, field_type, per_irrep, axes)
  mean = fieldwise.take_channels(mean_all, trivial)
  if axes == (0, 1, 2):
    return mean.reshape(-1), var.reshape(-1)
  return mean, var


def norm_batch_norm(x: jax.typing.ArrayLike, *,
                    field_type: fields_lib.FieldType,
                    mean: jax.typing.ArrayLike, var: jax.typing.ArrayLike,
                    scale: jax.typing.ArrayLike | None = None,
                    bias: jax.typing.ArrayLike | None = None,
                    epsilon: float = 1e-5,
                    per_irrep: bool = False) -> jax.Array:
  """Normalises every field (or irrep block) by its norm statistics.

  ``z = Q^T x`` (irreps basis); ``z_t -= mean`` on the trivial components;
  each block times ``scale / sqrt(var + epsilon)``; ``+ bias`` on the trivial
  components; back with ``Q``.

  Args:
    x: ``[B, H, W, C]`` of type ``field_type`` (any fields).
    field_type: the :class:`groups.FieldType` of ``x``.
    mean: ``[n_trivial]`` (:func:`num_invariant`).
    var: ``[n_blocks]`` (:func:`num_blocks`).
    scale: None or ``[n_blocks]``.
    bias: None or ``[n_trivial]``.
    epsilon: added to ``var`` (> 0).
    per_irrep: blocks are irrep copies (:func:`gnorm_batch_norm`).

  Returns:
    ``[B, H, W, C]`` of type ``field_type``.
  """
  x = fieldwise.check_map(x, field_type)
  per_irrep = fieldwise.check_bool(per_irrep, 'per_irrep')
  _, block_of, trivial, n_blocks = _irreps_basis(field_type, per_irrep)
  n_trivial = len(trivial)
  epsilon = fieldwise.check_batch_statistics(
      epsilon, mean=(mean, n_trivial, 'n_trivial'),
      var=(var, n_blocks, 'n_blocks'), scale=(scale, n_blocks, 'n_blocks'),
      bias=(bias, n_trivial, 'n_trivial'))
  return _normalise(x, field_type, per_irrep, jnp.asarray(mean),
                    jnp.asarray(var), scale, bias, epsilon, block_of, trivial)


def _channel_moments(z, field_type, per_irrep, axes):
  """``(mean_all, mean_trivial, var)`` of ``z`` (irreps basis), ``keepdims``.

  ``mean_all [..., C]`` is the mean of every channel and ``mean_trivial``
  the same times the constant 0/1 mask of the trivial channels (0 on the
  others), so centring subtracts an exact 0 from the non-trivial channels:
  no gather of the map's trivial channels, whose transpose would be a
  scatter-add into the whole map. ``var [..., n_blocks]``.
  """
  _, block_of, trivial, n_blocks = _irreps_basis(field_type, per_irrep)
  mean_all = jnp.mean(z, axis=axes, keepdims=True)
  if len(trivial):
    mean_trivial = mean_all * jnp.asarray(
        _trivial_mask(field_type, per_irrep), z.dtype)
    centred = z - mean_trivial
  else:
    mean_trivial, centred = None, z
  var = _block_mean(jnp.mean(jnp.square(centred), axis=axes, keepdims=True),
                    block_of, n_blocks)
  return mean_all, mean_trivial, var


def _normalise(x, field_type, per_irrep, mean, var, scale, bias, epsilon,
               block_of, trivial):
  """The shared arithmetic; ``mean``/``var`` may carry leading axes."""
  z = _to_irreps(x, field_type, per_irrep)
  mean_trivial = (fieldwise.on_channels(mean.astype(z.dtype), trivial,
                                        z.shape[-1])
                  if len(trivial) else None)
  return _normalise_channels(z, field_type, per_irrep, mean_trivial, var,
                             scale, bias, epsilon, block_of, trivial)


def _normalise_channels(z, field_type, per_irrep, mean_trivial, var, scale,
                        bias, epsilon, block_of, trivial):
  """:func:`_normalise` of ``z`` (irreps basis) given the mean per channel
  (``[..., C]``, 0 off the trivial channels, or None)."""
  return _from_irreps(
      _normalise_in_irreps(z, mean_trivial, var, scale, bias, epsilon,
                           block_of, trivial), field_type, per_irrep)


def _normalise_in_irreps(z, mean_trivial, var, scale, bias, epsilon,
                         block_of, trivial):
  """:func:`_normalise_channels` without the change back from the irreps
  basis."""
  if mean_trivial is not None:
    z = z - mean_trivial
  factor = jax.lax.rsqrt(var + epsilon)
  if scale is not None:
    factor = factor * scale
  z = z * _expand_blocks(factor, block_of).astype(z.dtype)
  if bias is not None and len(trivial):
    z = z + fieldwise.on_channels(jnp.asarray(bias, z.dtype), trivial,
                                  z.shape[-1])
  return z


def _batch_normalise(x, field_type, per_irrep, scale, bias, epsilon, axes):
  """``(out, mean, var)``: :func:`_normalise` with :func:`norm_moments`'s
  statistics over ``axes``, which stay per channel in between (the mean is
  not taken to ``[n_trivial]`` and put back on the channels, so neither
  step nor its transpose is in the gradient); ``mean`` ``[n_trivial]`` and
  ``var`` ``[n_blocks]`` (leading axes kept for ``axes=(1, 2)``).

  Batch statistics (``axes=(0, 1, 2)``) take :func:`_channel_batch_norm`'s
  hand-written gradient."""
  _, block_of, trivial, _ = _irreps_basis(field_type, per_irrep)
  z = _to_irreps(x, field_type, per_irrep)
  if axes == (0, 1, 2):
    out, mean, var = _channel_batch_norm(z, scale, bias, field_type,
                                         per_irrep, epsilon)
    return _from_irreps(out, field_type, per_irrep), mean, var
  mean_all, mean_trivial, var = _channel_moments(z, field_type, per_irrep,
                                                 axes)
  out = _normalise_channels(z, field_type, per_irrep, mean_trivial, var,
                            scale, bias, epsilon, block_of, trivial)
  return out, fieldwise.take_channels(mean_all, trivial), var


def gnorm_batch_norm(x: jax.typing.ArrayLike, **kwargs) -> jax.Array:
  """:func:`norm_batch_norm` per irrep block (e2cnn's ``GNormBatchNorm``).

  ``var`` and ``scale`` are ``[n_blocks]`` with ``n_blocks =
  num_blocks(field_type, per_irrep=True)``.
  """
  if 'per_irrep' in kwargs:
    raise ValueError('per_irrep is fixed to True by gnorm_batch_norm; use '
                     'norm_batch_norm for per-field statistics.')
  return norm_batch_norm(x, per_irrep=True, **kwargs)


def field_group_norm(x: jax.typing.ArrayLike, *,
                     field_type: fields_lib.FieldType,
                     scale: jax.typing.ArrayLike | None = None,
                     bias: jax.typing.ArrayLike | None = None,
                     epsilon: float = 1e-5,
                     per_irrep: bool = False) -> jax.Array:
  """Norm normalisation with per-example statistics (group-norm style).

  Each example's field (or irrep block) is divided by the root of its mean
  squared norm over ``H, W`` (trivial components centred first); no running
  statistics, so train and eval agree.

  Args:
    x: ``[B, H, W, C]`` of type ``field_type``.
    field_type: the :class:`groups.FieldType` of ``x``.
    scale: None or ``[n_blocks]``.
    bias: None or ``[n_trivial]``.
    epsilon: added to the variance (> 0).
    per_irrep: per irrep block instead of per field.

  Returns:
    ``[B, H, W, C]`` of type ``field_type``.
  """
  x = fieldwise.check_map(x, field_type)
  per_irrep = fieldwise.check_bool(per_irrep, 'per_irrep')
  _, _, trivial, n_blocks = _irreps_basis(field_type, per_irrep)
  epsilon = validate.number(epsilon, 'epsilon', minimum=0,
                            exclusive_minimum=True)
  fieldwise.check_field_vector(scale, 'scale', n_blocks, 'n_blocks')
  fieldwise.check_field_vector(bias, 'bias', len(trivial), 'n_trivial')
  return _batch_normalise(x, field_type, per_irrep, scale, bias, epsilon,
                          (1, 2))[0]


def _channel_batch_norm_forward(z, scale, bias, field_type, per_irrep,
                                epsilon):
  """``(out, mean, var)`` and ``(centred, r, factor)`` of
  :func:`_channel_batch_norm`."""
  _, block_of, trivial, _ = _irreps_basis(field_type, per_irrep)
  mean_all, mean_trivial, var = _channel_moments(z, field_type, per_irrep,
                                                 (0, 1, 2))
  # Centred once: the output and the tangent rule share it.
  centred = z if mean_trivial is None else z - mean_trivial
  out = _normalise_in_irreps(centred, None, var, scale, bias, epsilon,
                             block_of, trivial)
  mean = fieldwise.take_channels(mean_all, trivial).reshape(-1)
  var = var.reshape(-1)
  r = jax.lax.rsqrt(var + epsilon)
  factor = r if scale is None else r * scale
  return (out, mean, var), (centred, r, factor)


@functools.partial(jax.custom_jvp, nondiff_argnums=(3, 4, 5))
def _channel_batch_norm(z, scale, bias, field_type, per_irrep, epsilon):
  """``(out, mean [n_trivial], var [n_blocks])`` of ``z`` ``[B, H, W, C]``
  (irreps basis) normalised by its batch's norm statistics, the values of
  :func:`_normalise_channels` after :func:`_channel_moments`; its tangent
  map is written out so that reverse mode reduces the map twice (``g``,
  ``g * c``) instead of the chain rule's four times (layers/batch_statistics.py
  has the same derivation with one statistic per channel)."""
  return _channel_batch_norm_forward(z, scale, bias, field_type, per_irrep,
                                     epsilon)[0]


@_channel_batch_norm.defjvp
def _channel_batch_norm_jvp(field_type, per_irrep, epsilon, primals,
                            tangents):
  z, scale, bias = primals
  dz, d_scale, d_bias = tangents
  outputs, (centred, r, factor) = _channel_batch_norm_forward(
      z, scale, bias, field_type, per_irrep, epsilon)
  _, block_of, trivial, n_blocks = _irreps_basis(field_type, per_irrep)
  d_mean_all = jnp.mean(dz, axis=(0, 1, 2))
  # var_b = mean over the block's channels of mean(c^2); sum(c) = 0 on the
  # trivial (centred) channels, so the mean's tangent drops out of it.
  d_var = _block_mean(2 * jnp.mean(centred * dz, axis=(0, 1, 2)), block_of,
                      n_blocks)
  d_factor = -0.5 * r * r * d_var * factor
  if scale is not None:
    d_factor = d_factor + r * d_scale
  factor_c = _expand_blocks(factor, block_of)
  d_out = dz * factor_c + centred * _expand_blocks(d_factor, block_of)
  if len(trivial):
    mask = jnp.asarray(_trivial_mask(field_type, per_irrep), z.dtype)
    d_out = d_out - d_mean_all * mask * factor_c
    if bias is not None:
      d_out = d_out + fieldwise.on_channels(d_bias, trivial, z.shape[-1])
  d_mean = fieldwise.take_channels(d_mean_all, trivial).reshape(-1)
  return outputs, (d_out, d_mean, d_var)


# ------------------------------------------------------------------ modules


class FieldBatchNorm(typed.TypedModule, nn.Module, abc.ABC):
  """Abstract base of the typed batch norms: running statistics, parameters.

  A subclass says how many statistics it keeps (:meth:`_sizes`), how it
  measures them (:meth:`_moments`) and how it normalises (:meth:`_apply`).

  Attributes:
    in_type: the :class:`groups.FieldType` of the input (and output).
    use_running_average: eval mode; may be overridden per call.
    momentum: decay of the running averages (in [0, 1]).
    epsilon: added to the variance.
    use_scale: learn a scale per block.
    use_bias: learn a bias (per field for inner, per trivial component for
      norm / gnorm).
  """
  in_type: fields_lib.FieldType
  use_running_average: bool | None = None
  momentum: float = 0.9
  epsilon: float = 1e-5
  use_scale: bool = True
  use_bias: bool = True
  # The bias has one entry per variance (inner) instead of one per trivial
  # component (norm / gnorm); a class constant, not a dataclass field.
  _bias_per_variance = False

  @property
  def out_type(self) -> fields_lib.FieldType:
    return self.in_type

  def check_types(self) -> None:
    super().check_types()
    validate.number(self.momentum, 'momentum', minimum=0, maximum=1)

  @abc.abstractmethod
  def _sizes(self) -> tuple[int, int]:
    """``(len(mean), len(var))``."""

  @abc.abstractmethod
  def _moments(self, x):
    """``(mean, var)`` of a batch ``x``."""

  @abc.abstractmethod
  def _apply(self, x, mean, var, scale, bias):
    """Normalises ``x`` with the given statistics and parameters."""

  @nn.compact
  def __call__(self, x: jax.Array,
               use_running_average: bool | None = None) -> jax.Array:
    """Normalises ``[B, H, W, C]``; returns the same shape and type."""
    use_running_average = nn.merge_param(
        'use_running_average', self.use_running_average, use_running_average)
    n_mean, n_var = self._sizes()
    running_mean = self.variable('batch_stats', 'mean', jnp.zeros, (n_mean,),
                                 jnp.float32)
    running_var = self.variable('batch_stats', 'var', jnp.ones, (n_var,),
                                jnp.float32)
    n_bias = n_var if self._bias_per_variance else n_mean
    scale = (self.param('scale', nn.initializers.ones_init(), (n_var,),
                        jnp.float32) if self.use_scale else None)
    bias = (self.param('bias', nn.initializers.zeros_init(), (n_bias,),
                       jnp.float32) if self.use_bias and n_bias else None)
    if use_running_average:
      return self._apply(x, running_mean.value, running_var.value, scale,
                         bias)
    out, mean, var = self._moments_and_apply(x, scale, bias)
    running_average.update(self, self.momentum, (running_mean, mean),
                           (running_var, var))
    return out

  def _moments_and_apply(self, x, scale, bias):
    """``(out, mean, var)``: :meth:`_apply` with the batch's
    :meth:`_moments` (a subclass may fuse the two)."""
    mean, var = self._moments(x)
    return self._apply(x, mean, var, scale, bias), mean, var


class NormBatchNorm(FieldBatchNorm):
  """Linen :func:`norm_batch_norm` (e2cnn ``NormBatchNorm``).

  'batch_stats': ``mean [n_trivial]``, ``var [F]``; params ``scale [F]``,
  ``bias [n_trivial]``.
  """
  per_irrep = False

  def _sizes(self):
    return (num_invariant(self.in_type),
            num_blocks(self.in_type, per_irrep=self.per_irrep))

  def _moments(self, x):
    return norm_moments(x, field_type=self.in_type,
                        per_irrep=self.per_irrep)

  def _apply(self, x, mean, var, scale, bias):
    return norm_batch_norm(x, field_type=self.in_type, mean=mean, var=var,
                           scale=scale, bias=bias, epsilon=self.epsilon,
                           per_irrep=self.per_irrep)

  def _moments_and_apply(self, x, scale, bias):
    # norm_batch_norm(norm_moments(x)), the mean kept per channel between
    # the two (_batch_normalise): the same values, fewer kernels.
    x = fieldwise.check_map(x, self.in_type)
    epsilon = validate.number(self.epsilon, 'epsilon', minimum=0,
                              exclusive_minimum=True)
    return _batch_normalise(x, self.in_type, self.per_irrep, scale, bias,
                            epsilon, (0, 1, 2))


class GNormBatchNorm(NormBatchNorm):
  """Linen :func:`gnorm_batch_norm` (e2cnn ``GNormBatchNorm``): ``var`` and
  ``scale`` per irrep block."""
  per_irrep = True


class FieldGroupNorm(typed.TypedModule, nn.Module):
  """Linen :func:`field_group_norm`; params ``scale [n_blocks]``,
  ``bias [n_trivial]``; no running statistics.

  Attributes:
    in_type: the field type of the input (and output).
    epsilon: added to the variance.
    per_irrep: statistics per irrep block instead of per field.
  """
  in_type: fields_lib.FieldType
  epsilon: float = 1e-5
  per_irrep: bool = False

  @property
  def out_type(self) -> fields_lib.FieldType:
    return self.in_type

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    n_blocks = num_blocks(self.in_type, per_irrep=self.per_irrep)
    n_trivial = num_invariant(self.in_type)
    scale = self.param('scale', nn.initializers.ones_init(), (n_blocks,),
                       jnp.float32)
    bias = (self.param('bias', nn.initializers.zeros_init(), (n_trivial,),
                       jnp.float32) if n_trivial else None)
    return field_group_norm(x, field_type=self.in_type, scale=scale,
                            bias=bias, epsilon=self.epsilon,
                            per_irrep=self.per_irrep)
