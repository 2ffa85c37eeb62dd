"""escnn's other two gated nonlinearities: separate gates, uniform fields.

Beside :func:`layers.steerable.gated_nonlinearity` (escnn's
``GatedNonLinearity1``: gates and gated fields in one map), two variants of
escnn 1.0 (``escnn/nn/modules/nonlinearities/gated2.py``, ``gated3.py``):

* :func:`gated_nonlinearity2` (``GatedNonLinearity2``): the gates come as a
  *second input* ``[B, H, W, F]`` (``F`` trivial fields,
  :func:`gate_field_type`), the gated fields ``[B, H, W, C]`` of any type
  with ``F`` fields; field ``i`` is multiplied by
  ``activation(gate_i - bias_i)``. Output: the gated fields' type.
* :func:`gated_nonlinearity_uniform` (``GatedNonLinearityUniform``): every
  field has the *same* representation, a direct sum of irreps (no change of
  basis) whose first half are trivial gates and second half the gated irreps
  (:func:`uniform_gated_representation`); inside each field, gated irrep
  ``j`` is multiplied by ``activation(gate_j - bias[field, j])``. Output:
  each field becomes the sum of its gated irreps (:func:`uniform_gated_type`).

Both act per pixel, and a trivial gate is invariant, so both commute
exactly with ``field_type.transform(g)`` for every ``g`` (any angle of
SO(2) / O(2) included, up to the grid's interpolation).

Differences from escnn, on purpose: gate ``i`` gates gated field ``i`` in
field order (escnn's ``GatedNonLinearity1/2`` hand the gates out by field
*size*, sorted, so with mixed sizes such as ``[irrep 1, trivial]`` its gate
0 gates the trivial field; the same pairing whenever the sizes never
decrease along the fields); the bias starts at 0 (escnn: ``randn``), so a
fresh layer gates by ``activation(gate)``; ``use_bias=False`` leaves it out
(equivlab's :class:`GatedNonlinearity` has none: the conv's bias on the
trivial gate fields plays its role).
"""

from __future__ import annotations

from collections.abc import Iterable
import functools
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

import groups
from groups import fields as fields_lib
from groups import representations as reps_lib
from groups import testing
from layers.steerable import fieldwise
from layers.steerable import nonlinear
from layers.steerable import typed

Activation = nonlinear.Activation


# ---------------------------------------------------------- separate gates


def gate_field_type(gated_type: fields_lib.FieldType
                    ) -> fields_lib.FieldType:
  """One trivial field per field of ``gated_type``: the type of the gates
  :func:`gated_nonlinearity2` takes."""
  fields_lib.check_field_type(gated_type, 'gated_type')
  group = gated_type.group
  return fields_lib.FieldType(group,
                              len(gated_type) * [group.trivial_representation])


def gated_nonlinearity2(gates: jax.typing.ArrayLike, x: jax.typing.ArrayLike,
                        bias: jax.typing.ArrayLike | None = None, *,
                        gated_type: fields_lib.FieldType,
                        activation: Activation = 'sigmoid') -> jax.Array:
  """Field ``i`` of ``x`` times ``activation(gates_i - bias_i)`` (escnn's
  ``GatedNonLinearity2``: the gates as a separate input).

  Args:
    gates: ``[B, H, W, F]``, floating: one trivial gate per gated field
      (:func:`gate_field_type`), the same ``B, H, W`` as ``x``.
    x: ``[B, H, W, C]`` of type ``gated_type`` (``F`` fields, any).
    bias: None or ``[F]``, subtracted from the gates.
    gated_type: the :class:`groups.FieldType` of ``x``.
    activation: a ``jax.nn`` name or a function ('sigmoid', escnn's).

  Returns:
    ``[B, H, W, C]`` of type ``gated_type``.
  """
  x = fieldwise.check_map(x, gated_type, type_name='gated_type')
  gates = fieldwise.check_map(gates, gate_field_type(gated_type), 'gates',
                              type_name='gate_field_type(gated_type)')
  if gates.shape[:3] != x.shape[:3]:
    raise ValueError(
        f'gates must have the batch and grid [B, H, W] = {x.shape[:3]} of x; '
        f'got shape {tuple(gates.shape)}.')
  fn = fieldwise.activation_fn(activation)
  fieldwise.check_field_vector(bias, 'bias', len(gated_type), 'F')
  if bias is not None:
    gates = gates - jnp.asarray(bias, gates.dtype)
  return x * fieldwise.expand_fields(fn(gates).astype(x.dtype), gated_type)


class GatedNonlinearity2(typed.TypedModule, nn.Module):
  """Typed :func:`gated_nonlinearity2`; owns ``bias [F]`` (zeros).

  Called with two maps, ``module(gates, x)``; ``in_type`` (= ``out_type``)
  is the gated fields' type, :attr:`gate_type` the gates'. A two-input
  module cannot sit in :class:`EquivariantSequential` (escnn's has the same
  limit); :meth:`trial` and :meth:`equivariance_errors` take the pair
  ``(gates, x)``.

  Attributes:
    in_type: the gated fields' :class:`groups.FieldType` (any fields).
    activation: a ``jax.nn`` name or a function ('sigmoid').
    use_bias: learn ``bias`` (subtracted from the gates).
  """
  in_type: fields_lib.FieldType
  activation: Activation = 'sigmoid'
  use_bias: bool = True

  @property
  def out_type(self) -> fields_lib.FieldType:
    return self.in_type

  @property
  def gate_type(self) -> fields_lib.FieldType:
    """The gates' type: :func:`gate_field_type` of ``in_type``."""
    return gate_field_type(self.in_type)

  def check_types(self) -> None:
    super().check_types()
    fieldwise.activation_fn(self.activation)
    fieldwise.check_bool(self.use_bias, 'use_bias')

  @nn.compact
  def __call__(self, gates: jax.Array, x: jax.Array) -> jax.Array:
    """``[B, H, W, F]`` gates and ``[B, H, W, C]`` fields -> ``[B, H, W, C]``."""
    bias = None
    if self.use_bias:
      bias = self.param('bias', nn.initializers.zeros_init(),
                        (len(self.in_type),), jnp.float32)
    return gated_nonlinearity2(gates, x, bias, gated_type=self.in_type,
                               activation=self.activation)

  def _joined(self, variables: Any, pair: Any):
    """``(fn, z, type)``: the module as a function of one map, the gates and
    fields side by side (``[B, H, W, F + C]``, type ``gate_type +
    in_type``), so the one-input machinery of ``groups.testing`` applies."""
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
      raise ValueError('x must be the pair (gates [B, H, W, F], x [B, H, W, '
                       f'C]) a GatedNonlinearity2 takes; got {pair!r:.200}.')
    gates, x = pair
    fieldwise.check_map(x, self.in_type, 'x', type_name='in_type')
    fieldwise.check_map(gates, self.gate_type, 'gates',
                        type_name='gate_type')
    n = len(self.in_type)

    def fn(z):
      return self.apply(variables, z[..., :n], z[..., n:])
    z = np.concatenate([np.asarray(gates), np.asarray(x)], axis=-1)
    return fn, z, self.gate_type + self.in_type

  def trial(self, variables: Any, x: Any, element: Any,
            **call_kwargs) -> testing.Trial:
    """A registry trial on the pair ``x = (gates, fields)``, joined into one
    ``[B, H, W, F + C]`` map of type ``gate_type + in_type``."""
    del call_kwargs  # no options
    fn, z, joined = self._joined(variables, x)
    return testing.Trial(fn, z, joined.transform(element),
                         self.output_action(element))

  def equivariance_errors(self, variables: Any, x: Any, *,
                          elements: Iterable[Any] | None = None,
                          **call_kwargs) -> dict[str, float]:
    """:meth:`TypedModule.equivariance_errors` on the pair ``x = (gates,
    fields)``."""
    del call_kwargs
    fn, z, joined = self._joined(variables, x)
    group = self.out_type.group
    elements = (self.default_elements() if elements is None else
                list(elements))
    apply = jax.jit(fn)
    fz = apply(z)
    return {typed._element_name(group, g): float(np.max(  # pylint: disable=protected-access
        groups.relative_error(apply(joined.transform(g)(z)),
                              self.output_action(g)(fz))))
            for g in elements}


# ----------------------------------------------------------- uniform fields


def uniform_gated_representation(gated: reps_lib.Representation
                                 ) -> reps_lib.Representation:
  """``n`` trivial gates followed by the ``n`` irreps of ``gated``: the field
  :func:`gated_nonlinearity_uniform` takes.

  Args:
    gated: a direct sum of irreps with no change of basis (``Q = I``), e.g.
      ``group.irrep(1)`` or ``direct_sum(group.irrep(1), group.irrep(2))``.
  """
  reps_lib.check_representation(gated, 'gated')
  if not np.allclose(gated.change_of_basis, np.eye(gated.size)):
    raise ValueError(
        f'gated must be a direct sum of irreps with no change of basis (Q = '
        f'I), so that each irrep block can be gated on its own; got {gated} '
        '(e.g. a regular representation has Q != I).')
  group = gated.group
  return reps_lib.direct_sum(
      *(len(gated.irreps) * [group.trivial_representation] + [gated]),
      name=f'gated[{gated.name}]')


def _id_args(irrep_id) -> tuple:
  return irrep_id if isinstance(irrep_id, tuple) else (irrep_id,)


@functools.lru_cache(maxsize=256)
def _uniform_layout(in_type: fields_lib.FieldType
                    ) -> tuple[int, np.ndarray, fields_lib.FieldType]:
  """``(n_gates, irrep of each output channel [d_out], out_type)``."""
  rep = in_type.representations[0]
  group = in_type.group
  n = len(rep.irreps) // 2
  gated = [group.irrep(*_id_args(i)) for i in rep.irreps[n:]]
  owner = np.repeat(np.arange(n), [r.size for r in gated]).astype(np.int32)
  out_rep = reps_lib.direct_sum(*gated)
  return n, owner, fields_lib.FieldType(group, len(in_type) * [out_rep])


def uniform_gated_type(in_type: fields_lib.FieldType
                       ) -> fields_lib.FieldType:
  """The output type of :func:`gated_nonlinearity_uniform` on ``in_type``.

  Raises:
    ValueError: unless every field of ``in_type`` has the same
      representation, a direct sum of irreps (``Q = I``) whose first half
      are trivial (:func:`uniform_gated_representation` builds one).
  """
  fields_lib.check_field_type(in_type, 'in_type')
  rep = in_type.representations[0]
  hint = ('(groups.FieldType(group, F * [steerable.'
          'uniform_gated_representation(gated)]))')
  if any(r != rep for r in in_type.representations):
    raise ValueError(
        f'in_type must be uniform, every field the same representation, for '
        f'a uniform gated nonlinearity {hint}; got {in_type}.')
  n, odd = divmod(len(rep.irreps), 2)
  trivial = in_type.group.trivial_representation.irreps[0]
  if (odd or not np.allclose(rep.change_of_basis, np.eye(rep.size)) or
      any(i != trivial for i in rep.irreps[:n])):
    raise ValueError(
        f'in_type must have fields of n trivial gate irreps followed by n '
        f'gated irreps, with no change of basis {hint}; its fields are {rep} '
        f'with irreps {list(rep.irreps)}.')
  return _uniform_layout(in_type)[2]


def gated_nonlinearity_uniform(x: jax.typing.ArrayLike,
                               bias: jax.typing.ArrayLike | None = None, *,
                               field_type: fields_lib.FieldType,
                               activation: Activation = 'sigmoid'
                               ) -> jax.Array:
  """Gates every irrep of every field by its own trivial gate (escnn's
  ``GatedNonLinearityUniform``).

  Args:
    x: ``[B, H, W, F * d_in]`` of type ``field_type``.
    bias: None or ``[F, n]``, one per (field, gate), subtracted from the
      gates.
    field_type: ``F`` fields of one :func:`uniform_gated_representation`
      (``n`` trivial gates, then ``n`` irreps), checked by
      :func:`uniform_gated_type`.
    activation: a ``jax.nn`` name or a function ('sigmoid', escnn's).

  Returns:
    ``[B, H, W, F * d_out]`` of type ``uniform_gated_type(field_type)``:
    gated irrep ``j`` of field ``f`` times ``activation(gate_j - bias[f,
    j])``, the gates dropped.
  """
  out_type = uniform_gated_type(field_type)
  x = fieldwise.check_map(x, field_type)
  fn = fieldwise.activation_fn(activation)
  n, owner, _ = _uniform_layout(field_type)
  fields = len(field_type)
  if bias is not None and jnp.shape(bias) != (fields, n):
    raise ValueError(f'bias must have shape [F, n_gates] = ({fields}, {n}); '
                     f'got {jnp.shape(bias)}.')
  x = x.reshape(x.shape[:3] + (fields, -1))  # [B, H, W, F, d_in]
  gates = x[..., :n]  # [B, H, W, F, n]
  if bias is not None:
    gates = gates - jnp.asarray(bias, gates.dtype)
  gates = jnp.take(fn(gates).astype(x.dtype), owner, axis=-1)  # [.., F, d_out]
  y = x[..., n:] * gates
  return y.reshape(y.shape[:3] + (out_type.size,))


class GatedNonlinearityUniform(typed.TypedModule, nn.Module):
  """Typed :func:`gated_nonlinearity_uniform`; owns ``bias [F, n]`` (zeros).

  Attributes:
    in_type: ``F`` fields of one :func:`uniform_gated_representation`
      (checked at construction); ``out_type`` is
      :func:`uniform_gated_type` of it.
    activation: a ``jax.nn`` name or a function ('sigmoid').
    use_bias: learn ``bias`` (subtracted from the gates).
  """
  in_type: fields_lib.FieldType
  activation: Activation = 'sigmoid'
  use_bias: bool = True

  @property
  def out_type(self) -> fields_lib.FieldType:
    return uniform_gated_type(self.in_type)

  def check_types(self) -> None:
    super().check_types()
    fieldwise.activation_fn(self.activation)
    fieldwise.check_bool(self.use_bias, 'use_bias')

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    """Maps ``[B, H, W, in_type.size]`` to ``[B, H, W, out_type.size]``."""
    bias = None
    if self.use_bias:
      n = _uniform_layout(self.in_type)[0]
      bias = self.param('bias', nn.initializers.zeros_init(),
                        (len(self.in_type), n), jnp.float32)
    return gated_nonlinearity_uniform(x, bias, field_type=self.in_type,
                                      activation=self.activation)
