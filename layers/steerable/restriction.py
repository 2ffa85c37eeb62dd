"""Restriction to a subgroup, and equivariant upsampling (e2cnn's toolbox).

**Restriction** (e2cnn ``RestrictionModule``): a map of field type ``T`` of
``G`` is, unchanged, a map of the restricted type ``T|H`` of any subgroup
``H``: every field keeps its channels and transforms by ``rho(iota(h))``,
decomposed again into ``H``'s irreps. Deep layers can then be only
``H``-equivariant (Weiler & Cesa's ``D16|5 C16`` model: mirror symmetry
kept in the early layers, broken in the late ones). Subgroups, given as
group objects (``iota`` the standard embedding):

* ``Cyclic(N)`` and ``Dihedral(N)`` contain ``Cyclic(M)`` (``M | N``;
  ``h -> h N / M``); ``Dihedral(N)`` contains ``Dihedral(M)`` whose
  reflection axis is one of D_N's mirror lines (``axis + pi k / N``;
  ``Dihedral(M, axis=D_N's axis)``: the same mirror ``f``, otherwise
  ``r^j f^m -> r^(j N / M + k m) f^m``: e2cnn's ``restrict((k, M))``);
* ``O2(F)`` contains ``SO2(F')`` (``F' >= F``, the rotations; irrep ``(1,
  k)`` becomes ``k``, ``(1, 0)`` the trivial one), ``Cyclic(M)`` and
  ``Dihedral(M)`` of any axis (its ``f`` is O(2)'s reflection across that
  axis, :meth:`groups.O2.reflection`); ``SO2(F)`` contains ``Cyclic(M)``.

A subgroup keeps its own grid action, so after a restriction the fields
move as the subgroup's elements do in the group.

:func:`restrict_field_type` gives ``T|H``, :func:`restrict` is the identity
on the data (with checks), :func:`subgroup_embedding` the map ``iota``.

**Upsampling** (e2cnn ``R2Upsampling``): :func:`upsample` repeats
('nearest') or bilinearly interpolates ('bilinear', half-pixel centres as
e2cnn's ``align_corners=False``) every channel. Both act per channel and
linearly (nearest: by copying), so they commute with every ``rho(g)``, and
their sampling is symmetric about the grid centre, so quarter turns and the
mirror commute exactly (any ``H``).
"""

from __future__ import annotations

from collections.abc import Callable
import functools
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from groups import continuous
from groups import cyclic
from groups import dihedral
from groups import fields as fields_lib
from groups import named
from groups import representations as reps_lib
from groups import validate
from layers.steerable import typed

UPSAMPLE_METHODS = ('nearest', 'bilinear')

_SUBGROUPS = (
    'Cyclic(M) or Dihedral(M) of C_N / D_N with M dividing N (Dihedral only '
    'in D_N, with its axis one of D_N\'s mirror lines), SO2(F) of O2, '
    'Cyclic(M) / Dihedral(M) of SO2 / O2 (Dihedral only in O2)')


def _check_subgroup(group, subgroup) -> None:
  ok = False
  if isinstance(group, (cyclic.Cyclic, dihedral.Dihedral)):
    ok = (isinstance(subgroup, cyclic.Cyclic) or (
        isinstance(subgroup, dihedral.Dihedral) and
        isinstance(group, dihedral.Dihedral))) and group.n % subgroup.n == 0
  elif isinstance(group, continuous.O2):
    ok = isinstance(subgroup, (continuous.SO2, cyclic.Cyclic,
                               dihedral.Dihedral))
  elif isinstance(group, continuous.SO2):
    ok = isinstance(subgroup, cyclic.Cyclic)
  if not ok:
    raise ValueError(f'subgroup must be a subgroup of {group}: {_SUBGROUPS}; '
                     f'got {subgroup!r}.')
  if isinstance(subgroup, dihedral.Dihedral):
    group.reflection(subgroup.axis, 'subgroup.axis')  # raises if not a line


def subgroup_embedding(group, subgroup) -> Callable[[Any], Any]:
  """``iota``: the element of ``group`` that a ``subgroup`` element is."""
  _check_subgroup(group, subgroup)
  # The subgroup's f is the group's reflection across the subgroup's axis.
  mirror_element = (group.reflection(subgroup.axis)
                    if isinstance(subgroup, dihedral.Dihedral) else None)
  if isinstance(group, (cyclic.Cyclic, dihedral.Dihedral)):
    step = group.n // subgroup.n

    def finite(h):
      mirror, turns = divmod(subgroup.check_element(h, 'h'), subgroup.n)
      if mirror:  # r^(j step) (r^k f)
        return group.compose(turns * step, mirror_element)
      return turns * step
    return finite

  def continuous_embedding(h):
    if isinstance(subgroup, continuous.SO2):
      angle = subgroup.check_element(h, 'h')
      return (0, angle) if isinstance(group, continuous.O2) else angle
    mirror, angle = subgroup.pose(h)
    if not isinstance(group, continuous.O2):
      return angle
    return group.compose((0, angle), mirror_element) if mirror else (0, angle)
  return continuous_embedding


@functools.lru_cache(maxsize=512)
def restrict_representation(rep: reps_lib.Representation, subgroup
                            ) -> reps_lib.Representation:
  """``rho(iota(h))`` as a representation of ``subgroup`` (same matrices).

  Args:
    rep: a :class:`groups.Representation` of a group ``G``.
    subgroup: ``H`` (see the module docstring for the pairs).

  Returns:
    The representation of ``H`` with ``rho_H(h) = rho(iota(h))``.
  """
  reps_lib.check_representation(rep, 'rep')
  group = rep.group
  iota = subgroup_embedding(group, subgroup)
  name = f'{rep.name}|{subgroup}'
  if isinstance(subgroup, continuous.SO2):  # O(2) -> SO(2): irrep by irrep
    if rep.max_frequency > subgroup.max_frequency:
      raise ValueError(
          f'subgroup must have max_frequency >= {rep.max_frequency} to hold '
          f'the restriction of {rep}; got {subgroup}.')
    irreps = [irrep[1] for irrep in rep.irreps]
    return reps_lib.Representation(subgroup, name, irreps,
                                   rep.change_of_basis)
  return subgroup.representation([rep(iota(h)) for h in subgroup.elements()],
                                 name=name)


def restrict_field_type(field_type: fields_lib.FieldType, subgroup
                        ) -> fields_lib.FieldType:
  """The field type ``T|H``: each field restricted, channels unchanged."""
  fields_lib.check_field_type(field_type, 'field_type')
  _check_subgroup(field_type.group, subgroup)
  return fields_lib.FieldType(
      subgroup, [restrict_representation(r, subgroup)
                 for r in field_type.representations])


def restrict(x: jax.typing.ArrayLike, *, field_type: fields_lib.FieldType,
             subgroup) -> jax.Array:
  """The identity on ``[B, H, W, C]``, now of type ``restrict_field_type(
  field_type, subgroup)`` (checks both)."""
  restrict_field_type(field_type, subgroup)
  field_type.check_features(x)
  return jnp.asarray(x)


def upsample(x: jax.typing.ArrayLike, *, field_type: fields_lib.FieldType,
             factor: int = 2, method: str = 'bilinear') -> jax.Array:
  """Equivariant upsampling of a steerable map (any field type).

  Args:
    x: ``[B, H, W, C]`` of type ``field_type``.
    field_type: its :class:`groups.FieldType`.
    factor: integer scale >= 1.
    method: 'nearest' (each pixel becomes a ``factor x factor`` block) or
      'bilinear' (half-pixel centres, as ``jax.image.resize``).

  Returns:
    ``[B, factor H, factor W, C]`` of type ``field_type``.
  """
  fields_lib.check_field_type(field_type, 'field_type')
  field_type.check_features(x)
  factor = validate.integer(factor, 'factor', minimum=1)
  validate.check_choice(method, 'method', UPSAMPLE_METHODS)
  x = jnp.asarray(x)
  if method == 'nearest':
    return jnp.repeat(jnp.repeat(x, factor, axis=1), factor, axis=2)
  b, h, w, c = x.shape
  return jax.image.resize(x, (b, factor * h, factor * w, c), 'bilinear',
                          antialias=False)


# -------------------------------------------------------------- typed modules


class Restrict(typed.TypedModule, nn.Module):
  """Typed :func:`restrict`: the identity on the data, a new type.

  Attributes:
    in_type: a field type of ``G``.
    subgroup: ``H`` (a group object or a name, 'C16', 'SO2(3)'); ``out_type``
      is ``restrict_field_type(in_type, H)``.
  """
  in_type: fields_lib.FieldType
  subgroup: Any = None

  def check_types(self) -> None:
    named.group_by_name(self.subgroup, 'subgroup')
    super().check_types()

  @property
  def out_type(self) -> fields_lib.FieldType:
    return restrict_field_type(self.in_type,
                               named.group_by_name(self.subgroup))

  def input_element(self, element: Any) -> Any:
    return subgroup_embedding(self.in_type.group,
                              named.group_by_name(self.subgroup))(element)

  def __call__(self, x: jax.Array) -> jax.Array:
    return restrict(x, field_type=self.in_type,
                    subgroup=named.group_by_name(self.subgroup))


class Upsample(typed.TypedModule, nn.Module):
  """Typed :func:`upsample` (any field; ``out_type`` is ``in_type``).

  Attributes:
    in_type: the field type.
    factor: integer scale >= 1.
    method: 'nearest' or 'bilinear'.
  """
  in_type: fields_lib.FieldType
  factor: int = 2
  method: str = 'bilinear'

  @property
  def out_type(self) -> fields_lib.FieldType:
    return self.in_type

  def check_types(self) -> None:
    super().check_types()
    validate.integer(self.factor, 'factor', minimum=1)
    validate.check_choice(self.method, 'method', UPSAMPLE_METHODS)

  def __call__(self, x: jax.Array) -> jax.Array:
    return upsample(x, field_type=self.in_type, factor=self.factor,
                    method=self.method)
