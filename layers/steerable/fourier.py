"""Fourier pointwise nonlinearities (escnn's ``FourierPointwise`` / ``FourierELU``).

A field whose representation is built of irreps, each at most as often as
its dimension, holds the Fourier coefficients of a function on the group.
The nonlinearity samples that function on a set ``S`` of group elements (an
inverse Fourier transform), applies an activation to every sample, and
projects back (a least-squares Fourier transform)::

    f_x(g) = (rho(g) w)^T x,   A = [(rho(g_n) w)^T]_n   [N, d]
    out = pinv(A) activation(A x)

``w`` picks, in the ``j``-th copy of each irrep ``psi``, its ``j``-th basis
vector times ``sqrt(dim psi)`` (then the representation's change of basis).
For ``h`` in ``S`` (``S`` a group), ``A rho(h) = P_h A`` with ``P_h`` the
permutation ``g -> h^-1 g`` of the samples, and ``pinv(A) P_h = rho(h)
pinv(A)``: the layer is **exactly** equivariant to ``S``. So:

* C_N and D_N, sampled on all their elements: exact for the whole group.
* SO(2) (O(2)), sampled on ``N`` rotations (and their mirror images): exact
  for rotations by multiples of ``2 pi / N``, approximate in between (the
  activation creates frequencies above the band limit, which alias). The
  error falls as ``N`` grows; :func:`sample_elements` defaults to the
  smallest multiple of 4 at least ``2 (2 L + 1)`` for band limit ``L`` (16
  for ``L = 3``), so that the quarter turns, exact on the pixel grid, are
  sampled.

Every field must admit such a ``w`` with ``A`` of full column rank; a
``ValueError`` says which field does not (an irrep more often than its
dimension, or too few samples). Regular fields of C_N / D_N qualify (each
irrep as often as its dimension), as do band-limited "regular" fields of
SO(2) (irreps ``0..L`` once each) and O(2) (``(0,0)``, ``(1,0)`` once, each
``(1,k)`` twice).

Quotient fields (functions on ``G / H``, escnn's ``QuotientFourierPointwise``)
are in :mod:`layers.steerable.fourier_quotient`: the same sampling with ``w``
fixed by ``H`` (``fixed_by``), each coset sampled once.
"""

from __future__ import annotations

import functools
import math

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from groups import continuous
from groups import fields as fields_lib
from groups import representations as reps_lib
from groups import validate
from layers.steerable import fieldwise
from layers.steerable import nonlinear
from layers.steerable import typed


def sample_elements(group: reps_lib.RepresentationGroup,
                    samples: int | None = None) -> tuple:
  """The group elements a Fourier nonlinearity samples its fields on.

  Args:
    group: C_N / D_N (every element; ``samples`` must be None) or SO(2) /
      O(2) (``samples`` rotations ``2 pi n / samples``, and for O(2) each
      also mirrored).
    samples: the number of rotations for SO(2) / O(2); None: the smallest
      multiple of 4 at least ``2 (2 L + 1)``, ``L`` the group's
      ``max_frequency`` (quarter turns sampled: exact on the pixel grid).

  Returns:
    A tuple of group elements.

  Raises:
    ValueError: on ``samples`` for a finite group, or not an int >= 1.
  """
  if group.is_finite:
    if samples is not None:
      raise ValueError(
          f'samples must be None for the finite group {group} (it is sampled '
          f'on all its elements); got {samples!r}.')
    return tuple(group.elements())
  if samples is None:
    samples = 4 * math.ceil((2 * group.max_frequency + 1) / 2)
  samples = validate.integer(samples, 'samples', minimum=1)
  angles = [2 * math.pi * n / samples for n in range(samples)]
  if isinstance(group, continuous.O2):  # elements (mirror, angle)
    return tuple((mirror, angle) for mirror in (0, 1) for angle in angles)
  return tuple(angles)


def band_limited_representation(group, max_frequency: int
                                ) -> reps_lib.Representation:
  """The band-limited "regular" representation of SO(2) / O(2), a Fourier field.

  SO(2): irreps ``0..max_frequency`` once each; O(2): ``(0,0)``, ``(1,0)``
  and each ``(1,k)`` twice (a real function on O(2) has two coefficient
  pairs per frequency).
  """
  if isinstance(group, continuous.O2):
    return reps_lib.direct_sum(
        group.irrep(0, 0), group.irrep(1, 0),
        *[group.irrep(1, k) for k in range(1, max_frequency + 1)
          for _ in (0, 1)])
  return reps_lib.direct_sum(*[group.irrep(k)
                               for k in range(max_frequency + 1)])


def fixed_basis(group: reps_lib.RepresentationGroup, irrep,
                fixed_by: tuple = ()) -> np.ndarray:
  """Orthonormal basis ``[d, m]`` of the vectors of ``irrep`` fixed by ``fixed_by``.

  The columns are the projections of ``e_0, e_1, ...`` onto the fixed
  subspace, orthonormalised in that order (so no ``fixed_by`` gives the
  identity, and the basis does not depend on how the subspace was solved).
  """
  size = group.irrep_size(irrep)
  if not fixed_by:
    return np.eye(size)
  system = np.concatenate([group.irrep_matrix(irrep, h) - np.eye(size)
                           for h in fixed_by])
  null = reps_lib.null_space(system)  # [d, k]
  basis: list[np.ndarray] = []
  for v in (null @ null.T).T:  # projections of e_0, e_1, ...
    for b in basis:
      v = v - b * (b @ v)
    norm = np.linalg.norm(v)
    if norm > 1e-6:
      basis.append(v / norm)
  return np.stack(basis, axis=1) if basis else np.zeros((size, 0))


@functools.lru_cache(maxsize=None)
def sampling_matrix(rep: reps_lib.Representation, elements: tuple,
                    fixed_by: tuple = (), normalize: bool = False
                    ) -> np.ndarray:
  """``A [N, d]``: row ``n`` is ``(rho(g_n) w)^T`` (see the module doc).

  Args:
    rep: the field representation.
    elements: the sampled group elements ``g_n``.
    fixed_by: elements of a subgroup ``H`` (or generators of it): ``w`` is
      taken in the subspace they fix, so ``f_x(g h) = f_x(g)`` (a function
      on ``G / H``) and rows that repeat (one coset sampled twice) are kept
      once. ``()``: ``H`` trivial, functions on the group.
    normalize: scale ``w`` to unit norm (escnn's ``normalize=True``);
      False keeps ``sqrt(dim psi)`` per irrep.

  Raises:
    ValueError: if an irrep occurs more often than its dimension (its fixed
      subspace's dimension), or the samples are too few for ``A`` to have
      full column rank.
  """
  group = rep.group
  w = np.zeros(rep.size)
  seen: dict = {}
  offset = 0
  for irrep in rep.irreps:
    size = group.irrep_size(irrep)
    basis = fixed_basis(group, irrep, fixed_by)
    copy = seen.get(irrep, 0)
    seen[irrep] = copy + 1
    if copy >= basis.shape[1] and not fixed_by:
      raise ValueError(
          f'field representation {rep} has irrep {irrep!r} {copy + 1} times, '
          f'more than its dimension {size}: it is not the Fourier transform '
          'of a function on the group, so a Fourier nonlinearity does not '
          'apply (use norm_nonlinearity or gated_nonlinearity).')
    if copy >= basis.shape[1]:
      raise ValueError(
          f'field representation {rep} has irrep {irrep!r} {copy + 1} times, '
          f'more than the dimension {basis.shape[1]} of its subspace fixed '
          'by the subgroup: it is not the Fourier transform of a function '
          'on the quotient space (build the field with '
          'quotient_fourier_representation).')
    w[offset:offset + size] = math.sqrt(size) * basis[:, copy]
    offset += size
  w = rep.change_of_basis @ w
  if normalize:
    w = w / np.linalg.norm(w)
  a = np.stack([rep(g) @ w for g in elements])
  if fixed_by:  # keep one row per coset g H
    distance = np.linalg.norm(a[:, None] - a[None], axis=-1)
    a = a[~np.any(np.tril(distance < 1e-9, k=-1), axis=1)]
  if np.linalg.matrix_rank(a, tol=1e-8 * max(1.0, np.abs(a).max())) < rep.size:
    raise ValueError(
        f'samples must be enough for field representation {rep} (size '
        f'{rep.size}, max frequency {rep.max_frequency}): {len(elements)} '
        f'group elements ({len(a)} distinct samples) do not determine it; '
        f'use more samples (at least 2 x {rep.max_frequency} + 1 rotations; '
        'on G / H, as many distinct cosets).')
  a.setflags(write=False)
  return a


def field_transforms(field_type: fields_lib.FieldType,
                     samples: int | None, fixed_by: tuple = (),
                     normalize: bool = False) -> dict:
  """``{rep: (A, pinv(A), channel index [m, d])}`` for each distinct field rep.

  Args:
    field_type: the fields.
    samples: as in :func:`sample_elements`.
    fixed_by, normalize: as in :func:`sampling_matrix`.
  """
  elements = sample_elements(field_type.group, samples)
  fieldwise.check_bool(normalize, 'normalize')
  out = {}
  for rep in dict.fromkeys(field_type.representations):
    a = sampling_matrix(rep, elements, fixed_by, normalize)
    index = np.array([np.arange(o, o + rep.size) for o, r in zip(
        field_type.offsets, field_type.representations) if r == rep])
    out[rep] = (a, np.linalg.pinv(a), index)
  return out


def project_fields(x: jax.Array, transforms: dict,
                   activation: nonlinear.Activation) -> jax.Array:
  """``pinv(A) activation(A x)`` per field, ``x`` ``[B, H, W, C]`` checked,
  ``transforms`` from :func:`field_transforms`."""
  fn = fieldwise.activation_fn(activation)
  out = jnp.zeros_like(x)
  for a, inverse, index in transforms.values():
    fields = x[..., index]  # [B, H, W, m, d]
    values = fn(jnp.einsum('...md,nd->...mn', fields, a.astype(x.dtype)))
    result = jnp.einsum('...mn,dn->...md', values, inverse.astype(x.dtype))
    out = out.at[..., index].set(result)
  return out


def check_fourier_fields(field_type: fields_lib.FieldType,
                         samples: int | None = None) -> None:
  """Raises ``ValueError`` unless every field takes a Fourier nonlinearity."""
  field_transforms(field_type, samples)


def fourier_pointwise(x: jax.typing.ArrayLike, *,
                      field_type: fields_lib.FieldType,
                      activation: nonlinear.Activation = 'elu',
                      samples: int | None = None,
                      normalize: bool = False) -> jax.Array:
  """``pinv(A) activation(A x)`` on every field (see the module doc).

  Args:
    x: ``[B, H, W, C]``, ``C = field_type.size``.
    field_type: the :class:`groups.FieldType` of ``x``; every field's irreps
      at most as often as their dimensions.
    activation: a ``jax.nn`` name ('elu', 'relu', ...) or a function.
    samples: rotations sampled for SO(2) / O(2) (None: see
      :func:`sample_elements`); must be None for C_N / D_N (all elements).
    normalize: scale ``w`` to unit norm (escnn's ``normalize=True``; the
      same for ReLU, not for ELU); False: ``sqrt(dim psi)`` per irrep.

  Returns:
    ``[B, H, W, C]`` of type ``field_type``.

  Raises:
    ValueError: on a map of the wrong shape, an unknown activation, a field
      that is not a Fourier field, bad ``samples`` or ``normalize``.
  """
  x = fieldwise.check_map(x, field_type)
  fieldwise.activation_fn(activation)
  return project_fields(
      x, field_transforms(field_type, samples, normalize=normalize),
      activation)


class FourierPointwise(typed.TypedModule, nn.Module):
  """Typed :func:`fourier_pointwise` (no parameters).

  Attributes:
    in_type: the input (and output) field type (checked at construction).
    activation: a ``jax.nn`` name or a function ('elu': escnn's FourierELU).
    samples: rotations sampled for SO(2) / O(2); None for C_N / D_N.
    normalize: unit-norm ``w`` (see :func:`fourier_pointwise`).
  """
  in_type: fields_lib.FieldType
  activation: nonlinear.Activation = 'elu'
  samples: int | None = None
  normalize: bool = False

  @property
  def out_type(self) -> fields_lib.FieldType:
    return self.in_type

  def check_types(self) -> None:
    super().check_types()
    field_transforms(self.in_type, self.samples, normalize=self.normalize)
    fieldwise.activation_fn(self.activation)

  def __call__(self, x: jax.Array) -> jax.Array:
    return fourier_pointwise(x, field_type=self.in_type,
                             activation=self.activation, samples=self.samples,
                             normalize=self.normalize)
