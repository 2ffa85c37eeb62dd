"""Quotient Fourier nonlinearities (escnn's ``QuotientFourierPointwise`` / ``QuotientFourierELU``).

A *quotient field* holds the Fourier coefficients of a function on the
quotient space ``G / H`` of cosets ``g H``: a function on ``G`` constant on
every coset, ``f(g h) = f(g)``. In the sampling of
:mod:`layers.steerable.fourier`, ``f_x(g) = (rho(g) w)^T x``, that is the
choice of ``w`` fixed by ``H`` (``rho(h) w = w``): in the ``j``-th copy of
each irrep ``psi``, ``sqrt(dim psi)`` times the ``j``-th vector of a basis
of ``psi``'s ``H``-fixed subspace (:func:`~layers.steerable.fourier.
fixed_basis`; escnn's Fourier transform of the Dirac delta at the coset
``H``). Elements of one coset then give the same row of ``A``; it is kept
once, so the samples are one element of each coset met, and the layer is::

    A = [(rho(g_n) w)^T]_n over distinct cosets g_n H   [N, d]
    out = pinv(A) activation(A x)

**Exactness.** For ``k`` in the sampled set ``S`` (a group), ``k g_n H``
is again a sampled coset, so ``rho(k)`` permutes the rows of ``A`` and the
layer commutes with it (the argument of the module above): C_N / D_N
quotient fields are exact on every element (on the pixel grid: the quarter
turns and the mirror), SO(2) / O(2) ones on the sampled rotations (by
default a multiple of 4, so the quarter turns), approximate in between.

**Fields.** :func:`quotient_fourier_representation` builds the
band-limited one, escnn's ``spectral_quotient_representation``: each irrep
``psi`` (up to ``max_frequency``) ``dim(psi^H) / dim End(psi)`` times, the
multiplicity in functions on ``G / H`` (Frobenius reciprocity; the 2-dim
irreps of C_N / SO(2) are complex, ``End`` 2-dimensional). Subgroups, as
group objects in their standard embedding
(:func:`layers.steerable.subgroup_embedding`):

* C_N / D_N: ``Cyclic(M)`` (``M | N``), in D_N also ``Dihedral(M)``
  (``Dihedral(1)`` is the mirror ``{e, f}``: escnn's ``D_N / flip``);
* SO(2): ``Cyclic(M)`` (irreps ``0, M, 2M, ...``);
* O(2): ``Cyclic(M)`` (``(0,0)``, ``(1,0)``, each ``(1, kM)`` twice),
  ``Dihedral(M)`` (``(0,0)``, each ``(1, kM)`` once; ``Dihedral(1)``:
  functions on the circle, escnn's ``O(2) / flip``) and ``SO2(F)`` (any
  ``F``: ``(0,0)``, ``(1,0)``, functions on the two cosets).

``Cyclic(1)`` gives the fields of :func:`~layers.steerable.fourier_pointwise`
(the trivial subgroup); for O(2) the very representation of
:func:`~layers.steerable.band_limited_representation`. A field with an irrep
more often than its fixed subspace allows fails with a ``ValueError``.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import numpy as np

from groups import continuous
from groups import fields as fields_lib
from groups import representations as reps_lib
from groups import validate
from layers.steerable import fieldwise
from layers.steerable import fourier
from layers.steerable import nonlinear
from layers.steerable import restriction
from layers.steerable import typed


def subgroup_elements(group: reps_lib.RepresentationGroup,
                      subgroup: Any) -> tuple:
  """Elements of ``group`` whose common fixed vectors are ``subgroup``'s.

  Args:
    group: ``G``: C_N, D_N, SO(2) or O(2).
    subgroup: ``H`` as a group (see the module doc for the pairs).

  Returns:
    Every element of a finite ``H``, embedded in ``G``; for ``H = SO(2)``
    in O(2) the rotation by ``2 pi / (F + 1)``, ``F`` the group's
    ``max_frequency`` (it fixes no non-zero frequency up to ``F``).

  Raises:
    ValueError: if ``subgroup`` is not one of those subgroups of ``group``.
  """
  iota = restriction.subgroup_embedding(group, subgroup)
  if isinstance(subgroup, continuous.SO2):
    return tuple(iota(h) for h in subgroup.generators(group.max_frequency))
  return tuple(iota(h) for h in subgroup.elements())


def _endomorphism_dimension(group: reps_lib.RepresentationGroup,
                            irrep) -> int:
  """``dim End(psi)``: matrices ``X`` with ``psi(g) X = X psi(g)``."""
  size = group.irrep_size(irrep)
  top = max(group.irrep_frequency(i) for i in group.irrep_ids())
  # Row-major vec: vec(psi X) = (psi x I) vec X; vec(X psi) = (I x psi^T).
  system = np.concatenate([
      np.kron(psi, np.eye(size)) - np.kron(np.eye(size), psi.T)
      for psi in (group.irrep_matrix(irrep, g)
                  for g in group.generators(2 * top))])
  return reps_lib.null_space(system).shape[1]


def quotient_fourier_representation(group: reps_lib.RepresentationGroup,
                                    subgroup: Any,
                                    max_frequency: int | None = None
                                    ) -> reps_lib.Representation:
  """The band-limited representation of functions on ``G / H`` (a quotient field).

  Args:
    group: ``G``: C_N, D_N, SO(2) or O(2).
    subgroup: ``H`` (see the module doc).
    max_frequency: keep irreps up to this frequency; None: all of ``G``'s
      (its ``max_frequency`` for SO(2) / O(2)).

  Returns:
    The direct sum, in ``group.irrep_ids()`` order, of each irrep ``psi``
    ``dim(psi^H) / dim End(psi)`` times (change of basis ``I``).

  Raises:
    ValueError: on a bad ``subgroup``, or ``max_frequency`` not an int in
      ``0..`` the group's largest frequency.
  """
  fixed_by = subgroup_elements(group, subgroup)
  top = max(group.irrep_frequency(i) for i in group.irrep_ids())
  max_frequency = top if max_frequency is None else validate.integer(
      max_frequency, 'max_frequency', minimum=0, maximum=top)
  irreps = []
  for irrep in group.irrep_ids():
    if group.irrep_frequency(irrep) > max_frequency:
      continue
    copies = (fourier.fixed_basis(group, irrep, fixed_by).shape[1] //
              _endomorphism_dimension(group, irrep))
    ids = irrep if isinstance(irrep, tuple) else (irrep,)
    irreps += copies * [group.irrep(*ids)]
  return reps_lib.direct_sum(
      *irreps, name=f'quotient_fourier[{subgroup}, L={max_frequency}]')


def check_quotient_fourier_fields(field_type: fields_lib.FieldType,
                                  subgroup: Any,
                                  samples: int | None = None) -> None:
  """Raises ``ValueError`` unless every field is a Fourier field on ``G / H``."""
  fields_lib.check_field_type(field_type, 'field_type')
  fourier.field_transforms(field_type, samples,
                           subgroup_elements(field_type.group, subgroup))


def quotient_fourier_pointwise(x: jax.typing.ArrayLike, *,
                               field_type: fields_lib.FieldType,
                               subgroup: Any,
                               activation: nonlinear.Activation = 'elu',
                               samples: int | None = None,
                               normalize: bool = False) -> jax.Array:
  """``pinv(A) activation(A x)`` on every field, sampled on ``G / H``.

  Args:
    x: ``[B, H, W, C]``, ``C = field_type.size``.
    field_type: the :class:`groups.FieldType` of ``x`` (group ``G``); every
      field a Fourier field on ``G / H``, e.g. of
      :func:`quotient_fourier_representation`.
    subgroup: ``H`` as a group (``groups.Cyclic(M)``, ``groups.Dihedral(M)``,
      ``groups.SO2(F)``; see the module doc for which ``G`` takes which).
    activation: a ``jax.nn`` name ('elu', 'relu', ...) or a function.
    samples: rotations of ``G`` sampled for SO(2) / O(2), each coset kept
      once (None: see :func:`layers.steerable.sample_elements`); must be
      None for C_N / D_N (every coset).
    normalize: scale ``w`` to unit norm (escnn's ``normalize=True``; the
      same for ReLU, not for ELU); False: ``sqrt(dim psi)`` per irrep.

  Returns:
    ``[B, H, W, C]`` of type ``field_type``.

  Raises:
    ValueError: on a map of the wrong shape, an unknown activation, a bad
      ``subgroup``, a field that is not a Fourier field on ``G / H``, bad
      ``samples`` or ``normalize``.
  """
  x = fieldwise.check_map(x, field_type)
  fieldwise.activation_fn(activation)
  transforms = fourier.field_transforms(
      field_type, samples, subgroup_elements(field_type.group, subgroup),
      normalize)
  return fourier.project_fields(x, transforms, activation)


class QuotientFourierPointwise(typed.TypedModule, nn.Module):
  """Typed :func:`quotient_fourier_pointwise` (no parameters).

  Attributes:
    in_type: the input (and output) field type (checked at construction).
    subgroup: ``H``: the fields are functions on ``G / H``.
    activation: a ``jax.nn`` name or a function ('elu': escnn's
      QuotientFourierELU).
    samples: rotations sampled for SO(2) / O(2); None for C_N / D_N.
    normalize: unit-norm ``w`` (see :func:`quotient_fourier_pointwise`).
  """
  in_type: fields_lib.FieldType
  subgroup: Any
  activation: nonlinear.Activation = 'elu'
  samples: int | None = None
  normalize: bool = False

  @property
  def out_type(self) -> fields_lib.FieldType:
    return self.in_type

  def check_types(self) -> None:
    super().check_types()
    fourier.field_transforms(
        self.in_type, self.samples,
        subgroup_elements(self.in_type.group, self.subgroup), self.normalize)
    fieldwise.activation_fn(self.activation)

  def __call__(self, x: jax.Array) -> jax.Array:
    return quotient_fourier_pointwise(
        x, field_type=self.in_type, subgroup=self.subgroup,
        activation=self.activation, samples=self.samples,
        normalize=self.normalize)
