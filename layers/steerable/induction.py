"""Induced representations ``Ind_H^G rho`` (escnn's ``induced_representation``).

For a subgroup ``H`` of finite index ``n = [G : H]`` and a representation
``rho`` of ``H`` (size ``d``), the induced representation acts on ``n``
blocks of ``d`` channels, one per left coset ``r_i H``. With fixed coset
representatives ``r_0 .. r_{n-1}``, every ``g r_j`` is ``r_i h`` for exactly
one coset ``i`` and one ``h`` in ``H``, and

    Ind(g) block (i, j) = rho(h),   all other blocks of column j are 0,

a permutation of the blocks with an orthogonal ``rho(h)`` inside each. A map
of an induced field is ``n`` copies of a ``rho``-field, one per coset (escnn's
*sub-fields*), that ``g`` permutes and turns; the layers of
:mod:`layers.steerable.induced` act on each block.

Pairs (the embeddings of :func:`layers.steerable.subgroup_embedding` of finite
index):

* ``Cyclic(M)`` in ``Cyclic(N)`` and in ``Dihedral(N)``, ``Dihedral(M)`` in
  ``Dihedral(N)`` (``M | N``; ``Dihedral(1)`` is the single mirror
  ``{e, f}``);
* ``SO2(F')`` in ``O2(F)`` (index 2: rotations and mirror images).

``Cyclic(M)`` / ``Dihedral(M)`` in SO(2) / O(2) have infinitely many cosets
and are refused.

**Coset representatives** (fixed, so the block order is part of the
representation): for a finite ``G``, the smallest element of each coset in
equivlab's element order, cosets ordered by it -- the order of
``group.quotient_representation(H)``, so ``Ind`` of ``H``'s trivial
representation *is* that quotient representation (equal matrices) and ``Ind``
from ``Cyclic(1)`` of its trivial one is the regular representation; for
O(2) ``SO(2)``, the identity ``(0, 0.0)`` and the mirror ``(1, 0.0)``: block 0
holds the field of the rotations, block 1 that of the mirror images.

The result is decomposed into ``G``'s irreps (:func:`groups.representations.
decompose`), so it is an ordinary :class:`groups.Representation` usable in any
:class:`groups.FieldType` and layer (``rho(g) = Q diag(psi(g)) Q^T`` equals
the block matrix above; the channels are in the block basis), and an
:class:`InducedRepresentation` besides: it carries ``subgroup``, ``inducing``
(``rho``), ``representatives``, ``block_size`` and ``num_cosets``, which the
induced layers read. Equality and hashing are :class:`groups.Representation`'s
(the same irreps and change of basis; the block structure is not compared),
so ``Ind_{C1}^{C4}(trivial) == Cyclic(4).regular_representation``, a field
type of induced fields chains with one of the equal plain representations,
and the block structure a layer uses is that of its own ``in_type``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
import functools
from typing import Any

import numpy as np

import groups
from groups import fields as fields_lib
from groups import named
from groups import representations as reps_lib
from layers.steerable import restriction


class InducedRepresentation(reps_lib.Representation):
  """``Ind_H^G rho``: a :class:`groups.Representation` with its structure.

  Built by :func:`induced_representation`; the matrices are those of the
  module docstring (blocks of ``block_size`` channels, one per coset).

  Attributes:
    subgroup: ``H``.
    inducing: ``rho``, the representation of ``H``.
    representatives: ``(r_0, ..., r_{n-1})``, elements of ``G``, one per
      coset, in block order.
    block_size: ``d = rho.size``.
    num_cosets: ``n = [G : H]``; ``size = n d``.
  """

  def __init__(self, representation: reps_lib.Representation, *, subgroup,
               inducing: reps_lib.Representation,
               representatives: tuple[Any, ...],
               coset_of: Callable[[Any], tuple[int, Any]]):
    super().__init__(representation.group, representation.name,
                     representation.irreps, representation.change_of_basis)
    self.subgroup = subgroup
    self.inducing = inducing
    self.representatives = tuple(representatives)
    self.block_size = inducing.size
    self.num_cosets = len(self.representatives)
    self._coset_of = coset_of

  def coset_of(self, g) -> tuple[int, Any]:
    """``(i, h)`` with ``g = r_i h``: the coset (block) of ``g`` and the
    element ``h`` of ``H`` (as an element of ``subgroup``)."""
    return self._coset_of(self.group.check_element(g))

  def block_matrix(self, g) -> np.ndarray:
    """``Ind(g)`` ``[n d, n d]`` built from the blocks (module doc), without
    the irreps; equals ``self(g)`` to float64 rounding."""
    d = self.block_size
    out = np.zeros((self.size, self.size))
    for j, r in enumerate(self.representatives):
      i, h = self.coset_of(self.group.compose(g, r))
      out[i * d:(i + 1) * d, j * d:(j + 1) * d] = self.inducing(h)
    return out


def _check_group(group, name: str):
  if isinstance(group, str):
    return named.group_by_name(group, name)
  if not isinstance(group, reps_lib.RepresentationGroup):
    raise ValueError(
        f'{name} must be a group with representations (groups.Cyclic(N), '
        'groups.Dihedral(N), groups.SO2(F), groups.O2(F)) or its name '
        f"('C8', 'D4', 'SO2(3)'); got {group!r}.")
  return group


def _cosets(group, subgroup) -> tuple[tuple[Any, ...],
                                      Callable[[Any], tuple[int, Any]]]:
  """The coset representatives and ``g -> (i, h)`` with ``g = r_i h``."""
  if group.is_finite:
    iota = restriction.subgroup_embedding(group, subgroup)
    members: dict[Hashable, tuple[int, Any]] = {}
    representatives = []
    for g in group.elements():  # ascending: each coset's smallest element
      if g in members:
        continue
      for h in subgroup.elements():
        members[group.compose(g, iota(h))] = (len(representatives), h)
      representatives.append(g)
    return tuple(representatives), members.__getitem__

  # O(2) > SO(2): the rotations and the mirror images.
  representatives = ((0, 0.0), (1, 0.0))

  def coset_of(g):
    mirror, _ = group.check_element(g)
    mirror_h, angle = group.compose(group.inverse(representatives[mirror]),
                                     g)
    assert mirror_h == 0
    return mirror, angle
  return representatives, coset_of


def induced_representation(group, subgroup, rep: reps_lib.Representation
                           ) -> InducedRepresentation:
  """``Ind_H^G rho``, decomposed into ``G``'s irreps (see module doc).

  Args:
    group: ``G`` (a group object or name: ``groups.Cyclic(8)``, 'D4',
      'O2(3)').
    subgroup: ``H``, a subgroup of finite index (object or name):
      ``Cyclic(M)`` of C_N / D_N or ``Dihedral(M)`` of D_N with ``M | N``,
      ``SO2(F')`` of O(2).
    rep: ``rho``, a :class:`groups.Representation` of ``subgroup``.

  Returns:
    An :class:`InducedRepresentation` of size ``[G : H] * rep.size``; cached
    per ``(group, subgroup, rep)``.

  Raises:
    ValueError: if ``subgroup`` is not one of ``group``'s subgroups or has
      infinitely many cosets, ``rep`` is not a representation of
      ``subgroup``, or (O(2)) ``group.max_frequency`` is below ``rep``'s.
  """
  group = _check_group(group, 'group')
  subgroup = _check_group(subgroup, 'subgroup')
  restriction.subgroup_embedding(group, subgroup)  # checks the pair
  if not group.is_finite and not isinstance(subgroup, groups.SO2):
    raise ValueError(
        f'subgroup must have finitely many cosets in {group} to induce from '
        f'it (SO2(F) in O2); {subgroup} has infinitely many. Use a finite '
        f'group (groups.Cyclic(N) or groups.Dihedral(N)) for G.')
  reps_lib.check_representation(rep, 'rep')
  if rep.group != subgroup:
    raise ValueError(f'rep must be a representation of the subgroup '
                     f'{subgroup}; got one of {rep.group} ({rep}).')
  if not group.is_finite and rep.max_frequency > group.max_frequency:
    raise ValueError(
        f'group must have max_frequency >= {rep.max_frequency} to hold the '
        f'representation induced from {rep} (Ind of SO(2) irrep k is twice '
        f'O(2) irrep (1, k)); got {group}.')
  return _induced(group, subgroup, rep)


@functools.lru_cache(maxsize=256)
def _induced(group, subgroup, rep) -> InducedRepresentation:
  representatives, coset_of = _cosets(group, subgroup)
  d = rep.size

  def matrix(g):
    out = np.zeros((len(representatives) * d,) * 2)
    for j, r in enumerate(representatives):
      i, h = coset_of(group.compose(g, r))
      out[i * d:(i + 1) * d, j * d:(j + 1) * d] = rep(h)
    return out
  decomposed = reps_lib.decompose(group, matrix,
                                  name=f'induced[{subgroup}][{rep.name}]')
  return InducedRepresentation(decomposed, subgroup=subgroup, inducing=rep,
                               representatives=representatives,
                               coset_of=coset_of)


def is_induced(rep: Any) -> bool:
  """True for an :class:`InducedRepresentation` (block structure known)."""
  return isinstance(rep, InducedRepresentation)


def check_induced_fields(field_type: fields_lib.FieldType, *, what: str,
                         name: str = 'field_type') -> None:
  """Raises a ValueError unless every field is an induced representation."""
  fields_lib.check_field_type(field_type, name)
  for i, rep in enumerate(field_type.representations):
    if not is_induced(rep):
      raise ValueError(
          f'{name} must have only induced fields for {what} '
          '(layers.steerable.induced_representation(group, subgroup, rep), '
          'whose blocks the layer acts on); field '
          f'{i} is {rep} (size {rep.size}), which has no block structure. Use '
          'the non-induced layer (NormNonlinearity, GatedNonlinearity, '
          'NormBatchNorm, NormMaxPool, NormPool) for it.')


def block_sizes(field_type: fields_lib.FieldType) -> tuple[int, ...]:
  """The size of every block of an induced field type, field-major (field
  ``f`` contributes ``num_cosets`` blocks of ``block_size``)."""
  check_induced_fields(field_type, what='its blocks')
  return tuple(size for rep in field_type.representations
               for size in rep.num_cosets * [rep.block_size])


def block_fields(field_type: fields_lib.FieldType) -> np.ndarray:
  """``[n_blocks]`` int32: the field each block belongs to."""
  check_induced_fields(field_type, what='its blocks')
  return np.repeat(np.arange(len(field_type), dtype=np.int32),
                   [rep.num_cosets for rep in field_type.representations])


@functools.lru_cache(maxsize=256)
def blocks_type(sizes: tuple[int, ...]) -> fields_lib.FieldType:
  """Blocks of the given ``sizes`` as the fields of a field type of the
  trivial group ``Cyclic(1)``: the per-field helpers of
  :mod:`layers.steerable.fieldwise` and the norm layers then act per block
  (they read only the fields' sizes)."""
  trivial_group = groups.Cyclic(1)
  trivial = trivial_group.trivial_representation
  return fields_lib.FieldType(
      trivial_group, [reps_lib.direct_sum(*(size * [trivial]),
                                          name=f'block{size}')
                      for size in sizes])
