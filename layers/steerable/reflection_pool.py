"""Pooling D_N regular fields over the mirror: to C_N regular fields.

Layout: ``[B, H, W, C]`` of a :class:`groups.FieldType` (:mod:`groups.fields`).

escnn issue 102 ("project from a group conv layer to a subgroup conv
layer"): a D_N network whose late layers should be rotation-equivariant but
mirror-*invariant*. A D_N regular field holds one value per element
``r^k f^m``, channel ``k + N m`` (``groups.Dihedral``'s order: mirror
left-right if ``m = 1``, then rotate by ``360 k / N`` degrees).
:func:`reflection_pool` takes the max (or mean) over each left coset
``r^k {e, f} = {r^k, r^k f}``, channels ``k`` and ``k + N``, giving ``N``
channels per field:

* a rotation ``r^j`` maps the coset of ``r^k`` to that of ``r^(j+k)``, so
  the output is a **C_N regular field** (:func:`reflection_pool_type`),
  exactly equivariant to C_N, embedded in D_N as the rotations
  (:func:`layers.steerable.subgroup_embedding`, as after a restriction);
* the mirror maps the coset of ``r^k`` to that of ``r^-k``: as a D_N field
  the output is the quotient field ``D_N / {e, f}``
  (``Dihedral(N).quotient_representation(Dihedral(1))``, cosets ordered as
  the channels), so the pool is exactly D_N-equivariant too, the mirror
  reversing the orientation axis rather than leaving it alone.

The reflection axis (``groups.Dihedral(N, axis=a)``) changes only how
``f`` moves the grid, not the channels: the pool is the same per-pixel
function at every axis, C_N-equivariant, and as a D_N field its output is
the quotient by ``Dihedral(1, axis=a)`` (the group's own ``f``;
``Dihedral(1)`` alone is the left-right mirror: for ``a != pi / 2`` another
element of D_N, or refused when that line is none of D_N's mirrors).

Pooling over the *right* cosets ``{e, f} r^k = {r^k, r^-k f}`` instead
would not be equivariant (the registry's negative control). The pool acts
per pixel, so any grid: quarter turns and the mirror act exactly.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

import groups
from groups import fields as fields_lib
from groups import validate
from layers import pooling as pooling_lib
from layers.max_reduce import max_reduce
from layers.steerable import fieldwise
from layers.steerable import restriction
from layers.steerable import typed


def check_dihedral_regular(field_type: fields_lib.FieldType,
                           name: str = 'field_type') -> groups.Dihedral:
  """Returns the D_N of ``field_type``; raises unless every field is D_N
  regular (a ValueError naming ``name``, the field and what is accepted)."""
  fields_lib.check_field_type(field_type, name)
  group = field_type.group
  if not isinstance(group, groups.Dihedral):
    raise ValueError(
        f'{name} must be a field type of groups.Dihedral(N) with only '
        f'regular fields (D_N -> C_N reflection pooling); got group {group}.')
  for i, rep in enumerate(field_type.representations):
    if rep != group.regular_representation:
      raise ValueError(
          f'{name} must have only {group} regular fields for reflection '
          f'pooling (its channels are indexed by the group elements); field '
          f'{i} is {rep} (size {rep.size}).')
  return group


def reflection_pool_type(field_type: fields_lib.FieldType
                         ) -> fields_lib.FieldType:
  """``F`` C_N regular fields: the output type of :func:`reflection_pool`
  on ``F`` D_N regular fields."""
  group = check_dihedral_regular(field_type)
  cyclic = groups.Cyclic(group.n)
  return fields_lib.FieldType(
      cyclic, len(field_type) * [cyclic.regular_representation])


def reflection_pool(x: jax.typing.ArrayLike, *,
                    field_type: fields_lib.FieldType,
                    reduction: str = 'max') -> jax.Array:
  """Max (or mean) of each D_N regular field over ``{r^k, r^k f}``.

  Args:
    x: ``[B, H, W, 2 N F]`` of type ``field_type``.
    field_type: ``F`` regular fields of ``groups.Dihedral(N)``.
    reduction: 'max' or 'mean'.

  Returns:
    ``[B, H, W, N F]`` of type ``reflection_pool_type(field_type)``:
    channel ``k`` of field ``i`` pools channels ``k`` and ``k + N`` of input
    field ``i``.
  """
  group = check_dihedral_regular(field_type)
  x = fieldwise.check_map(x, field_type)
  validate.check_choice(reduction, 'reduction', pooling_lib.REDUCTIONS)
  b, h, w, _ = x.shape
  cosets = x.reshape(b, h, w, len(field_type), 2, group.n)  # [.., F, m, k]
  pool = max_reduce if reduction == 'max' else jnp.mean
  return pool(cosets, axis=-2).reshape(b, h, w, len(field_type) * group.n)


class ReflectionPool(typed.TypedModule, nn.Module):
  """Typed :func:`reflection_pool`: D_N regular -> C_N regular fields.

  Equivariant to C_N: :meth:`input_element` embeds a C_N element in D_N
  (as :class:`layers.steerable.Restrict` does), so ``trial`` and
  ``equivariance_errors`` move the input by the rotation and the output
  by the C_N regular action.

  Attributes:
    in_type: D_N regular fields (checked at construction); ``out_type`` is
      :func:`reflection_pool_type` of it.
    reduction: 'max' or 'mean'.
  """
  in_type: fields_lib.FieldType
  reduction: str = 'max'

  def check_types(self) -> None:
    check_dihedral_regular(self.in_type, 'in_type')  # before out_type
    super().check_types()
    validate.check_choice(self.reduction, 'reduction', pooling_lib.REDUCTIONS)

  @property
  def out_type(self) -> fields_lib.FieldType:
    return reflection_pool_type(self.in_type)

  def input_element(self, element):
    return restriction.subgroup_embedding(self.in_type.group,
                                          self.out_type.group)(element)

  def __call__(self, x: jax.Array) -> jax.Array:
    """Maps ``[B, H, W, 2 N F]`` to ``[B, H, W, N F]``."""
    return reflection_pool(x, field_type=self.in_type,
                           reduction=self.reduction)
