"""Equivariant nonlinearities on steerable maps (e2cnn's toolbox).

Every function maps a steerable map ``[B, H, W, C]`` of a
:class:`groups.FieldType` (layout of :mod:`groups.fields`) to another one and
commutes with ``field_type.transform(g)`` for every ``g``: exactly, because
each acts per pixel and per field.

* :func:`pointwise_nonlinearity` (e2cnn ``PointwiseNonLinearity``, ``ReLU``,
  ``ELU``): any activation, channel by channel. Equivariant only on fields
  whose ``rho(g)`` are permutation matrices -- regular, quotient, trivial --
  so an irrep field is refused with a ``ValueError`` (``force=True`` skips the
  check: the registry's negative control shows it then breaks).
* :func:`norm_nonlinearity` (``NormNonLinearity``): each field vector keeps
  its direction; its norm ``n`` becomes ``activation(n - bias)``, a learned
  bias per field. Any field (``rho`` orthogonal, so ``n`` is invariant).
* :func:`gated_nonlinearity` (``GatedNonLinearity1``): every gated field is
  multiplied by ``sigmoid`` of its own trivial gate field; the input is the
  gates followed by the gated fields (:func:`gated_input_type`), the output
  the gated fields.
* :func:`concatenated_nonlinearity` (``ConcatenatedNonLinearity``): each
  field ``x`` becomes ``[f(x), f(-x)]``, twice the size; equivariant on
  fields whose ``rho(g)`` are *signed* permutations (sign irreps, C4's irrep
  1, regular fields), the output transforming by the permutation
  representation :func:`concatenated_field_type` builds.

Induced variants (escnn's ``InducedNormNonLinearity`` /
``InducedGatedNonLinearity1``, acting on each coset block of a field of an
induced representation, :func:`layers.steerable.induced_representation`) are
in :mod:`layers.steerable.induced`.
"""

from __future__ import annotations

from collections.abc import Callable
import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from groups import fields as fields_lib
from groups import representations as reps_lib
from groups import validate
from layers.steerable import fieldwise
from layers.steerable import typed

Activation = str | Callable[[jax.Array], jax.Array]


def pointwise_nonlinearity(x: jax.typing.ArrayLike, *,
                           field_type: fields_lib.FieldType,
                           activation: Activation = 'relu',
                           force: bool = False) -> jax.Array:
  """``activation`` on every channel of regular, quotient and trivial fields.

  Args:
    x: ``[B, H, W, C]``, ``C = field_type.size``.
    field_type: the :class:`groups.FieldType` of ``x``; every field must have
      permutation matrices ``rho(g)`` (regular, quotient or trivial).
    activation: a ``jax.nn`` name ('relu', 'elu', ...) or a function.
    force: skip the field check (NOT equivariant on other fields; for
      negative controls).

  Returns:
    ``[B, H, W, C]``, of type ``field_type``.
  """
  x = fieldwise.check_map(x, field_type)
  fn = fieldwise.activation_fn(activation)
  if not fieldwise.check_force(force):
    fieldwise.check_pointwise_fields(
        field_type, what='a pointwise nonlinearity',
        instead='norm_nonlinearity or gated_nonlinearity')
  return fn(x)


def norm_nonlinearity(x: jax.typing.ArrayLike,
                      bias: jax.typing.ArrayLike | None = None, *,
                      field_type: fields_lib.FieldType,
                      activation: Activation = 'relu',
                      epsilon: float = 1e-6) -> jax.Array:
  """Each field's norm ``n`` becomes ``activation(n - bias)``, direction kept.

  ``out = x * activation(n - bias) / n`` per field (0 where ``n <= epsilon``),
  e2cnn's ``NormNonLinearity(function='n_relu')`` for ``activation='relu'``
  ('sigmoid' gives its 'n_sigmoid').

  Args:
    x: ``[B, H, W, C]`` of type ``field_type`` (any fields).
    bias: None or ``[F]``, one per field (e2cnn: ``exp(log_bias)``).
    field_type: the :class:`groups.FieldType` of ``x``.
    activation: a ``jax.nn`` name or a function of the shifted norms.
    epsilon: norms at most this are treated as 0 (> 0).

  Returns:
    ``[B, H, W, C]`` of type ``field_type``.
  """
  x = fieldwise.check_map(x, field_type)
  fn = fieldwise.activation_fn(activation)
  fieldwise.check_field_vector(bias, 'bias', len(field_type), 'F')
  epsilon = validate.number(epsilon, 'epsilon', minimum=0,
                            exclusive_minimum=True)
  squared = fieldwise.field_norms(x, field_type)  # [B, H, W, F]
  nonzero = squared > epsilon**2
  norms = jnp.sqrt(jnp.where(nonzero, squared, 1.0))
  shifted = norms if bias is None else norms - jnp.asarray(bias, x.dtype)
  multiplier = jnp.where(nonzero, fn(shifted) / norms, 0.0)
  return x * fieldwise.expand_fields(multiplier.astype(x.dtype), field_type)


def gated_input_type(gated_type: fields_lib.FieldType
                     ) -> fields_lib.FieldType:
  """``n`` trivial gate fields followed by the ``n`` fields of ``gated_type``.

  The field type a conv must produce before :func:`gated_nonlinearity`.
  """
  fields_lib.check_field_type(gated_type, 'gated_type')
  group = gated_type.group
  return fields_lib.FieldType(
      group, len(gated_type) * [group.trivial_representation] +
      list(gated_type.representations))


def gated_nonlinearity(x: jax.typing.ArrayLike, *,
                       gated_type: fields_lib.FieldType,
                       activation: Activation = 'sigmoid') -> jax.Array:
  """Multiplies field ``i`` by ``activation(gate_i)`` (e2cnn's gated ReLU).

  Args:
    x: ``[B, H, W, F + C]`` of type ``gated_input_type(gated_type)``: ``F``
      trivial gates (channels ``0..F-1``), then the ``F`` gated fields.
    gated_type: the :class:`groups.FieldType` of the gated fields (any).
    activation: applied to the gates ('sigmoid', e2cnn's choice).

  Returns:
    ``[B, H, W, C]`` of type ``gated_type`` (the gates are dropped).
  """
  in_type = gated_input_type(gated_type)
  x = fieldwise.check_map(x, in_type,
                          type_name='gated_input_type(gated_type)')
  fn = fieldwise.activation_fn(activation)
  n = len(gated_type)
  gates = fn(x[..., :n])  # [B, H, W, F]
  return x[..., n:] * fieldwise.expand_fields(gates, gated_type)


@functools.lru_cache(maxsize=256)
def _concatenated_representation(rep: reps_lib.Representation
                                 ) -> reps_lib.Representation:
  """The permutation representation of ``[x, -x]`` for a signed-permutation
  ``rho``: ``H^T (|rho| + rho) H`` with ``H = [[1, 1], [1, -1]] / sqrt 2``."""
  group = rep.group
  d = rep.size
  if group.is_finite:
    absolute = group.representation([np.abs(rep(g)) for g in
                                     group.elements()], name=f'|{rep.name}|')
  else:  # frequency 0 (trivial, O(2)'s sign irrep): |rho| is trivial
    absolute = reps_lib.direct_sum(*(d * [group.trivial_representation]))
  hadamard = np.kron(np.array([[1.0, 1.0], [1.0, -1.0]]) / np.sqrt(2),
                     np.eye(d))
  return reps_lib.direct_sum(absolute, rep).change_basis(
      hadamard.T, name=f'concatenated[{rep.name}]')


def concatenated_field_type(field_type: fields_lib.FieldType
                            ) -> fields_lib.FieldType:
  """The output type of :func:`concatenated_nonlinearity`: each field of
  size ``d`` becomes one permutation field of size ``2 d``."""
  fields_lib.check_field_type(field_type, 'field_type')
  for i, rep in enumerate(field_type.representations):
    if not fieldwise.is_signed_permutation_representation(rep):
      raise ValueError(
          'field_type must have only fields whose rho(g) are signed '
          'permutation matrices for a concatenated nonlinearity (regular, '
          f'quotient, trivial, sign irreps, C4 irrep 1); field {i} is {rep}. '
          'Use norm_nonlinearity or gated_nonlinearity instead.')
  return fields_lib.FieldType(
      field_type.group,
      [_concatenated_representation(r) for r in field_type.representations])


def concatenated_nonlinearity(x: jax.typing.ArrayLike, *,
                              field_type: fields_lib.FieldType,
                              activation: Activation = 'relu') -> jax.Array:
  """Each field ``x_i`` becomes ``[f(x_i), f(-x_i)]`` (e2cnn's C-ReLU).

  Args:
    x: ``[B, H, W, C]`` of type ``field_type`` (signed-permutation fields).
    field_type: the :class:`groups.FieldType` of ``x``.
    activation: a ``jax.nn`` name or a function.

  Returns:
    ``[B, H, W, 2 C]`` of type ``concatenated_field_type(field_type)``.
  """
  concatenated_field_type(field_type)  # checks the fields
  x = fieldwise.check_map(x, field_type)
  fn = fieldwise.activation_fn(activation)
  order = []
  for offset, rep in zip(field_type.offsets, field_type.representations):
    channels = list(range(offset, offset + rep.size))
    order += channels + [c + field_type.size for c in channels]
  both = jnp.concatenate([x, -x], axis=-1)  # [B, H, W, 2C]
  return fn(jnp.take(both, np.array(order), axis=-1))


def gated_type_of(in_type: fields_lib.FieldType) -> fields_lib.FieldType:
  """The gated fields of a :func:`gated_input_type`: its second half.

  Raises:
    ValueError: unless ``in_type`` is ``n`` trivial gates then ``n`` fields.
  """
  fields_lib.check_field_type(in_type, 'in_type')
  n, odd = divmod(len(in_type), 2)
  if odd or not all(r.is_trivial for r in in_type.representations[:n]):
    raise ValueError(
        'in_type must be a gated input type, n trivial gate fields followed '
        'by the n gated fields (steerable.gated_input_type(gated_type)); got '
        f'{in_type}.')
  return fields_lib.FieldType(in_type.group, in_type.representations[n:])


class PointwiseNonlinearity(typed.TypedModule, nn.Module):
  """Typed :func:`pointwise_nonlinearity` (no parameters).

  Attributes:
    in_type: the input (and output) field type; permutation fields only
      (checked at construction).
    activation: a ``jax.nn`` name or a function.
  """
  in_type: fields_lib.FieldType
  activation: Activation = 'relu'

  @property
  def out_type(self) -> fields_lib.FieldType:
    return self.in_type

  def check_types(self) -> None:
    super().check_types()
    fieldwise.check_pointwise_fields(
        self.in_type, what='a pointwise nonlinearity',
        instead='NormNonlinearity or GatedNonlinearity', name='in_type')
    fieldwise.activation_fn(self.activation)

  def __call__(self, x: jax.Array) -> jax.Array:
    return pointwise_nonlinearity(x, field_type=self.in_type,
                                  activation=self.activation)


class NormNonlinearity(typed.TypedModule, nn.Module):
  """Typed :func:`norm_nonlinearity`; owns ``log_bias [F]``.

  The bias is ``exp(log_bias)`` (positive, 1 at initialisation), as e2cnn.

  Attributes:
    in_type: the field type of the input (and output); any fields.
    activation: a ``jax.nn`` name or a function.
    use_bias: learn the bias (else ``activation(n)``).
  """
  in_type: fields_lib.FieldType
  activation: Activation = 'relu'
  use_bias: bool = True

  @property
  def out_type(self) -> fields_lib.FieldType:
    return self.in_type

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    bias = None
    if fieldwise.check_bool(self.use_bias, 'use_bias'):
      bias = jnp.exp(self.param('log_bias', nn.initializers.zeros_init(),
                                (len(self.in_type),), jnp.float32))
    return norm_nonlinearity(x, bias, field_type=self.in_type,
                             activation=self.activation)


class GatedNonlinearity(typed.TypedModule, nn.Module):
  """Typed :func:`gated_nonlinearity` (no parameters).

  Attributes:
    in_type: ``gated_input_type(gated)``: ``n`` trivial gates, then the ``n``
      gated fields; ``out_type`` is the gated fields (:func:`gated_type_of`).
    activation: applied to the gates ('sigmoid').
  """
  in_type: fields_lib.FieldType
  activation: Activation = 'sigmoid'

  @property
  def out_type(self) -> fields_lib.FieldType:
    return gated_type_of(self.in_type)

  def __call__(self, x: jax.Array) -> jax.Array:
    return gated_nonlinearity(x, gated_type=self.out_type,
                              activation=self.activation)


class ConcatenatedNonlinearity(typed.TypedModule, nn.Module):
  """Typed :func:`concatenated_nonlinearity` (no parameters).

  Attributes:
    in_type: signed-permutation fields (checked at construction);
      ``out_type`` is :func:`concatenated_field_type` of it.
    activation: a ``jax.nn`` name or a function.
  """
  in_type: fields_lib.FieldType
  activation: Activation = 'relu'

  @property
  def out_type(self) -> fields_lib.FieldType:
    return concatenated_field_type(self.in_type)

  def __call__(self, x: jax.Array) -> jax.Array:
    return concatenated_nonlinearity(x, field_type=self.in_type,
                                     activation=self.activation)
