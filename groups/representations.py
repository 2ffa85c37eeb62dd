"""Real orthogonal representations of subgroups of O(2), e2cnn's conventions.

Every group here acts on the plane by rotations about the origin and mirror
images: element ``g`` has a *pose* ``(mirror, angle)`` and moves a point
``p`` (x to the right, y up, as ``imshow`` shows an image) to
``R(angle) F^mirror p``, where ``F`` mirrors left-right (``x -> -x``, the
action of :class:`groups.Flip`; e2cnn's reflection axis ``pi / 2``) and
``R`` turns counter-clockwise. D_N and O(2) take an ``axis`` (radians, the
angle of the mirror line of their reflection ``f``; default ``pi / 2``, the
left-right mirror above, e2cnn's default too): with ``d = axis - pi / 2``
(:attr:`RepresentationGroup.axis_offset`) the plane action is conjugated by
``R(d)``, ``p -> R(d) R(angle) F^mirror R(-d) p``, while the abstract group,
the element numbering, the pose and the irreps stay the same
(:func:`check_axis`). The families:

* :class:`groups.Cyclic` ``(N)`` and :class:`groups.Dihedral` ``(N)``
  (:mod:`groups.cyclic`, :mod:`groups.dihedral`), elements the ints of
  :class:`groups.FiniteGroup`;
* :class:`groups.SO2` and :class:`groups.O2` (:mod:`groups.continuous`),
  elements angles in radians (O(2): pairs ``(mirror, angle)``), their irreps
  band-limited by ``max_frequency``.

A **representation** ``rho`` maps every element to an orthogonal matrix
``[d, d]`` with ``rho(g h) = rho(g) rho(h)``. Each one is stored the way
e2cnn stores it: a list of irreducible representations (irreps) and an
orthogonal change of basis ``Q``, ``rho(g) = Q diag(psi_1(g), ...) Q^T``.
Irreps are real rotation/flip matrices of one *frequency* ``k``:

* C_N, irrep ``k`` (``0 <= k <= N // 2``): ``[[cos k t, -sin k t], [sin k t,
  cos k t]]`` at rotation angle ``t``; 1-dimensional for ``k = 0`` (trivial)
  and ``k = N / 2`` (the sign ``(-1)^element``);
* D_N, irrep ``(j, k)``: 1-dimensional ``(0, 0)`` (trivial), ``(1, 0)`` (-1
  on mirror images), for even N ``(0, N/2)``, ``(1, N/2)``; 2-dimensional
  ``(1, k)``, ``0 < k < N / 2``: the rotation matrix of ``k t`` times
  ``diag(1, -1)`` on mirror images;
* SO(2), irrep ``k``, and O(2), irrep ``(j, k)``: the same matrices for any
  angle, ``k`` up to the group's ``max_frequency``.

The names and matrices are e2cnn's (``group.irrep(...)``), so a field type
written for e2cnn translates one to one (``tests/steerable_groups_test.py``
compares the matrices where e2cnn is installed).

Adding a group: one class in one file that subclasses
:class:`RepresentationGroup` (with :class:`groups.FiniteGroup` for a finite
one) and implements :meth:`~RepresentationGroup.irrep_ids`,
:meth:`~RepresentationGroup.irrep_matrix`,
:meth:`~RepresentationGroup.irrep_frequency`,
:meth:`~RepresentationGroup.pose`, :meth:`~RepresentationGroup.generators`,
``compose``, ``inverse``, ``check_element`` and ``grid_action``; representations, field types and steerable kernel bases
then come from this module (see :mod:`groups.cyclic` for a short example).
"""

from __future__ import annotations

import abc
from collections.abc import Hashable, Sequence
import functools
import math
from typing import Any

import numpy as np

from groups import finite

# Singular values below this count as zero when solving for intertwiners.
_NULL_TOLERANCE = 1e-8


class RepresentationGroup(abc.ABC):
  """A group acting on the plane, with real irreps (mixin; see module doc)."""

  #: True for groups with finitely many elements (then ``elements()``).
  is_finite: bool = True

  @abc.abstractmethod
  def irrep_ids(self) -> tuple[Hashable, ...]:
    """Every irrep's id (band-limited groups: up to ``max_frequency``)."""

  @abc.abstractmethod
  def irrep_matrix(self, irrep_id: Hashable, g: Any) -> np.ndarray:
    """``psi(g)``, float64 ``[d, d]``, of a checked irrep id and element."""

  @abc.abstractmethod
  def irrep_frequency(self, irrep_id: Hashable) -> int:
    """The rotation frequency ``k`` of an irrep (``|k|`` of e2cnn)."""

  @abc.abstractmethod
  def pose(self, g: Any) -> tuple[int, float]:
    """``(mirror, angle)``: ``g`` maps ``p`` to ``R(angle) F^mirror p``.

    In the frame of the default mirror ``F`` (left-right); a group with a
    reflection ``axis`` acts as ``R(d) R(angle) F^mirror R(-d)``,
    ``d = axis_offset`` (module doc). The irreps are functions of the pose.
    """

  @property
  def axis_offset(self) -> float:
    """``d = axis - pi / 2``: the plane action is ``R(d) pose R(-d)``.

    0 for groups without a reflection axis (C_N, SO(2)) and for D_N / O(2)
    with the default (left-right) mirror.
    """
    return 0.0

  @abc.abstractmethod
  def generators(self, frequency: int = 0) -> tuple[Any, ...]:
    """Elements whose invariants are the group's, up to ``frequency``.

    A vector fixed by ``rho(g)`` for every returned ``g`` is fixed by the
    whole group whenever ``rho`` has frequencies at most ``frequency``
    (finite groups ignore it; continuous ones return a rotation by
    ``2 pi / (frequency + 1)``, which fixes no non-zero frequency up to
    ``frequency``).
    """

  @abc.abstractmethod
  def compose(self, a: Any, b: Any) -> Any:
    """The product ``a b`` (``b`` acts first)."""

  @abc.abstractmethod
  def inverse(self, a: Any) -> Any:
    """The element ``a^-1``."""

  @abc.abstractmethod
  def check_element(self, g: Any, name: str = 'g') -> Any:
    """Returns ``g`` in canonical form, or raises a ValueError."""

  @abc.abstractmethod
  def grid_action(self, g: Any):
    """How ``g`` transforms images ``[B, H, W, C]`` (a groups.Transform)."""

  # ------------------------------------------------------------------ irreps

  def check_irrep_id(self, irrep_id: Any, name: str = 'irrep') -> Hashable:
    """Returns a valid irrep id, or raises a ValueError listing them."""
    if isinstance(irrep_id, list):
      irrep_id = tuple(irrep_id)
    ids = self.irrep_ids()
    try:
      ok = irrep_id in ids
    except TypeError:
      ok = False
    if not ok:
      raise ValueError(
          f'{name} must be an irrep of {self}, one of {list(ids)}; got '
          f'{irrep_id!r}.')
    return irrep_id

  def irrep(self, *irrep_id) -> 'Representation':
    """The irreducible representation with this id, e.g. ``Cyclic(8).irrep(1)``.

    Args:
      *irrep_id: ``k`` for C_N and SO(2); ``j, k`` for D_N and O(2).

    Returns:
      A :class:`Representation` with one irrep and ``Q = I``.
    """
    key = irrep_id[0] if len(irrep_id) == 1 else tuple(irrep_id)
    key = self.check_irrep_id(key)
    size = self.irrep_matrix(key, self.identity_element).shape[0]
    return Representation(self, f'irrep{_id_name(key)}', (key,),
                          np.eye(size))

  @property
  def identity_element(self) -> Any:
    return 0

  @property
  def trivial_representation(self) -> 'Representation':
    """The 1-dimensional representation ``rho(g) = 1``."""
    return _trivial_representation(self)

  @property
  def regular_representation(self) -> 'Representation':
    """``rho(g) e_h = e_{gh}`` on ``R^|G|`` (finite groups only)."""
    if not self.is_finite:
      raise ValueError(
          f'group must be finite for a regular representation; {self} has '
          'infinitely many elements: use irreps or a finite subgroup '
          '(groups.Cyclic(N), groups.Dihedral(N)).')
    return _regular(self)

  def quotient_representation(self, subgroup) -> 'Representation':
    """The permutation representation on the cosets ``g H`` (finite groups).

    Args:
      subgroup: ``H`` as a group, embedded in the standard way:
        ``Cyclic(M)`` (rotations by multiples of ``360 / M``; ``M`` must
        divide ``N``) in C_N or D_N, ``Dihedral(M)`` in D_N (same mirror
        when the axes are equal; else its axis must be one of D_N's mirror
        lines, whose reflection is then its ``f``).
        ``Dihedral(N).quotient_representation(Cyclic(N))`` is e2cnn's
        ``quotient_repr((None, N))``; ``Cyclic(N).quotient_representation(
        Cyclic(M))`` is its ``quotient_repr(M)``.

    Returns:
      A representation of size ``|G| / |H|``: coset ``c`` (ordered by their
      smallest element) moves to ``g c``.
    """
    if not self.is_finite:
      raise ValueError(f'group must be finite for quotient representations; '
                       f'got {self}.')
    return _quotient(self, _subgroup_elements(self, subgroup), str(subgroup))

  def representation(self, matrices: Sequence[np.ndarray], *,
                     name: str = 'custom') -> 'Representation':
    """Decomposes a representation of a finite group given by its matrices.

    Args:
      matrices: ``[|G|, d, d]``, ``matrices[g]`` for every element ``g``.
      name: a label.

    Returns:
      The :class:`Representation` (irreps and orthogonal change of basis).
    """
    if not self.is_finite:
      raise ValueError(f'group must be finite to build a representation '
                       f'from all its matrices; got {self}.')
    matrices = np.asarray(matrices, dtype=np.float64)
    if (matrices.ndim != 3 or matrices.shape[0] != self.order or
        matrices.shape[1] != matrices.shape[2]):
      raise ValueError(
          f'matrices must have shape [|G|, d, d] = [{self.order}, d, d]; got '
          f'{matrices.shape}.')
    for g in self.elements():
      for h in self.elements():
        if not np.allclose(matrices[self.compose(g, h)],
                           matrices[g] @ matrices[h], atol=1e-6):
          raise ValueError(
              'matrices must be a homomorphism, rho(g h) = rho(g) rho(h); '
              f'fails for g={g}, h={h}.')
    return decompose(self, lambda g: matrices[g], name=name)

  def irrep_size(self, irrep_id: Hashable) -> int:
    return self.irrep_matrix(irrep_id, self.identity_element).shape[0]


@functools.lru_cache(maxsize=256)
def _regular(group) -> 'Representation':
  order = group.order

  def matrix(g):
    out = np.zeros((order, order))
    for h in range(order):
      out[group.compose(g, h), h] = 1.0
    return out
  return decompose(group, matrix, name='regular')


def _subgroup_elements(group, subgroup) -> frozenset[int]:
  """The elements of ``group`` forming the standard copy of ``subgroup``."""
  # By family symbol ('C' = groups.Cyclic, 'D' = groups.Dihedral), so that
  # this module need not import the families that import it.
  family = (subgroup.symbol if isinstance(subgroup, finite.FiniteGroup)
            else None)
  n = group.n
  ok = family == 'C' or (family == 'D' and
                         getattr(group, 'symbol', None) == 'D')
  if not ok or n % subgroup.n:
    raise ValueError(
        f'subgroup must be groups.Cyclic(M) (in C_N or D_N) or '
        f'groups.Dihedral(M) (in D_N) with M dividing N = {n}; got '
        f'{subgroup!r} for group {group}.')
  step = n // subgroup.n
  rotations = {k * step for k in range(subgroup.n)}
  if family == 'D':
    # The subgroup's f is the group's reflection across its axis
    # (groups.Dihedral.reflection; same axis: f itself).
    mirror = group.reflection(subgroup.axis, 'subgroup.axis')
    rotations |= {group.compose(k, mirror) for k in rotations}
  return frozenset(rotations)


@functools.lru_cache(maxsize=256)
def _quotient(group, subgroup: frozenset[int], label: str
              ) -> 'Representation':
  cosets, index = [], {}
  for g in group.elements():
    if g in index:
      continue
    coset = frozenset(group.compose(g, h) for h in subgroup)
    for element in coset:
      index[element] = len(cosets)
    cosets.append(coset)
  size = len(cosets)

  def matrix(g):
    out = np.zeros((size, size))
    for c, coset in enumerate(cosets):
      out[index[group.compose(g, min(coset))], c] = 1.0
    return out
  return decompose(group, matrix, name=f'quotient[{group}/{label}]')


def _id_name(irrep_id) -> str:
  if isinstance(irrep_id, tuple):
    return '(' + ','.join(map(str, irrep_id)) + ')'
  return f'({irrep_id})'


@functools.lru_cache(maxsize=64)
def _trivial_representation(group: 'RepresentationGroup'
                            ) -> 'Representation':
  """One shared trivial representation per group (models ask for it many
  times while they are traced)."""
  return Representation(group, 'trivial', (group.irrep_ids()[0],), np.eye(1))


class Representation:
  """``rho(g) = Q diag(psi_1(g), ..., psi_n(g)) Q^T`` (see module doc).

  Attributes:
    group: the :class:`RepresentationGroup`.
    name: a label ('regular', 'irrep(1)', ...).
    irreps: the irrep ids ``psi_1 .. psi_n``, in block order.
    change_of_basis: ``Q``, orthogonal float64 ``[d, d]``.
    size: ``d``.
  """

  def __init__(self, group: RepresentationGroup, name: str,
               irreps: Sequence[Hashable], change_of_basis: np.ndarray):
    if not isinstance(group, RepresentationGroup):
      raise ValueError(
          'group must be a group with representations: groups.Cyclic(N), '
          'groups.Dihedral(N), groups.SO2(max_frequency) or '
          f'groups.O2(max_frequency); got {group!r}.')
    self.group = group
    self.name = name
    self.irreps = tuple(group.check_irrep_id(i, 'irreps') for i in irreps)
    q = np.asarray(change_of_basis, dtype=np.float64)
    self.size = sum(group.irrep_size(i) for i in self.irreps)
    if q.shape != (self.size, self.size):
      raise ValueError(
          f'change_of_basis must be [d, d] with d = {self.size} (the sum of '
          f'the irreps\' sizes); got shape {q.shape}.')
    if not np.allclose(q @ q.T, np.eye(self.size), atol=1e-6):
      raise ValueError('change_of_basis must be orthogonal (Q Q^T = I).')
    q.setflags(write=False)
    self.change_of_basis = q
    # + 0.0 turns -0.0 into 0.0, so equal matrices give equal keys.
    self._key = (group, self.irreps, (np.round(q, 9) + 0.0).tobytes())

  def __eq__(self, other):
    return isinstance(other, Representation) and self._key == other._key

  def __hash__(self):
    return hash(self._key)

  def __repr__(self):
    return f'{self.group}.{self.name}'

  def irreps_matrix(self, g) -> np.ndarray:
    """``diag(psi_1(g), ...)`` ``[d, d]`` (the representation before ``Q``)."""
    g = self.group.check_element(g)
    out = np.zeros((self.size, self.size))
    offset = 0
    for irrep in self.irreps:
      block = self.group.irrep_matrix(irrep, g)
      d = block.shape[0]
      out[offset:offset + d, offset:offset + d] = block
      offset += d
    return out

  def __call__(self, g) -> np.ndarray:
    """``rho(g)``, float64 ``[d, d]``."""
    q = self.change_of_basis
    return q @ self.irreps_matrix(g) @ q.T

  def character(self, g) -> float:
    """``trace rho(g)``."""
    return float(np.trace(self.irreps_matrix(g)))

  @property
  def max_frequency(self) -> int:
    return max(self.group.irrep_frequency(i) for i in self.irreps)

  @property
  def is_trivial(self) -> bool:
    return self.size == 1 and self.irreps[0] == self.group.irrep_ids()[0]

  def multiplicities(self) -> dict[Hashable, int]:
    """How often each irrep occurs: ``{irrep id: count}``."""
    counts: dict[Hashable, int] = {}
    for irrep in self.irreps:
      counts[irrep] = counts.get(irrep, 0) + 1
    return counts

  def change_basis(self, matrix: np.ndarray, *,
                   name: str | None = None) -> 'Representation':
    """``P rho(g) P^T`` for an orthogonal ``P`` ``[d, d]``."""
    p = np.asarray(matrix, dtype=np.float64)
    if p.shape != (self.size, self.size) or not np.allclose(
        p @ p.T, np.eye(self.size), atol=1e-6):
      raise ValueError(
          f'matrix must be an orthogonal [d, d] matrix with d = {self.size}; '
          f'got shape {p.shape}.')
    return Representation(self.group, name or f'{self.name}^P', self.irreps,
                          p @ self.change_of_basis)


def direct_sum(*representations: Representation,
               name: str | None = None) -> Representation:
  """``rho_1 + rho_2 + ...``: block-diagonal, in the order given."""
  if not representations or not all(
      isinstance(r, Representation) for r in representations):
    raise ValueError('representations must be one or more groups '
                     f'Representation objects; got {representations!r}.')
  group = representations[0].group
  if any(r.group != group for r in representations):
    raise ValueError(
        'representations must all be of the same group; got '
        f'{sorted({str(r.group) for r in representations})}.')
  size = sum(r.size for r in representations)
  q = np.zeros((size, size))
  offset = 0
  for r in representations:
    q[offset:offset + r.size, offset:offset + r.size] = r.change_of_basis
    offset += r.size
  irreps = sum((r.irreps for r in representations), ())
  return Representation(group, name or '+'.join(r.name for r in
                                                representations), irreps, q)


def null_space(matrix: np.ndarray, tolerance: float = _NULL_TOLERANCE
               ) -> np.ndarray:
  """Orthonormal basis ``[n, k]`` of ``{v: matrix v = 0}``."""
  if matrix.shape[0] == 0:
    return np.eye(matrix.shape[1])
  _, singular, vt = np.linalg.svd(matrix)
  rank = int(np.sum(singular > tolerance * max(1.0, singular[0]
                                                if singular.size else 1.0)))
  return vt[rank:].T


def decompose(group: RepresentationGroup, matrix_fn, *, name: str
              ) -> Representation:
  """Splits ``g -> matrix_fn(g)`` into irreps with an orthogonal ``Q``.

  For each irrep ``psi`` the intertwiners ``A`` (``rho(g) A = A psi(g)`` on
  the generators) are solved for as a null space; copies are taken one at a
  time, each orthogonal to the ones before (the complement of an invariant
  subspace is invariant, so projected intertwiners stay intertwiners).

  Raises:
    ValueError: if the irreps found do not fill the space (the
      representation has frequencies above a band-limited group's
      ``max_frequency``).
  """
  size = matrix_fn(group.identity_element).shape[0]
  generators = group.generators(2 * _max_group_frequency(group))
  rhos = [np.asarray(matrix_fn(g), dtype=np.float64) for g in generators]
  columns, irreps = [], []
  for irrep in group.irrep_ids():
    psis = [group.irrep_matrix(irrep, g) for g in generators]
    d = psis[0].shape[0]
    # Row-major vec: vec(rho A) = (rho x I) vec A; vec(A psi) = (I x psi^T).
    system = np.concatenate(
        [np.kron(rho, np.eye(d)) - np.kron(np.eye(size), psi.T)
         for rho, psi in zip(rhos, psis)])
    candidates = [v.reshape(size, d) for v in null_space(system).T]
    while candidates:
      found = np.concatenate(columns, axis=1) if columns else np.zeros(
          (size, 0))
      projected = [a - found @ (found.T @ a) for a in candidates]
      norms = [np.linalg.norm(a) for a in projected]
      best = int(np.argmax(norms))
      if norms[best] < 1e-6:
        break
      a = projected[best] / (norms[best] / math.sqrt(d))
      columns.append(a)
      irreps.append(irrep)
      candidates = [c for i, c in enumerate(projected) if i != best]
  q = np.concatenate(columns, axis=1) if columns else np.zeros((size, 0))
  if q.shape[1] != size:
    raise ValueError(
        f'the representation {name!r} of {group} does not split into the '
        f'irreps {list(group.irrep_ids())} (found {q.shape[1]} of {size} '
        'dimensions); raise the group\'s max_frequency.')
  return Representation(group, name, irreps, q)


def _max_group_frequency(group: RepresentationGroup) -> int:
  return max(group.irrep_frequency(i) for i in group.irrep_ids())


def check_representation(rep: Any, name: str = 'representation') -> None:
  if not isinstance(rep, Representation):
    raise ValueError(
        f'{name} must be a groups Representation, e.g. '
        'groups.Cyclic(8).regular_representation or groups.SO2(4).irrep(1); '
        f'got {rep!r}.')


# ------------------------------------------------------- the reflection axis

#: The default reflection axis of D_N and O(2): the vertical line, so the
#: mirror is left-right (``x -> -x``, :class:`groups.Flip`); e2cnn's default
#: ``FlipRot2dOnR2(N, axis=pi / 2)``.
DEFAULT_AXIS = math.pi / 2
_EIGHTH = math.pi / 4
# Axes this close to a multiple of pi / 4 are snapped to it, so that the grid
# axes compare (and hash) equal however they were computed (float32 pi / 4
# included).
_AXIS_SNAP = 1e-6


def check_axis(axis: Any, name: str = 'axis') -> float:
  """Returns a reflection axis (radians) in canonical form, or raises.

  The mirror line at angle ``axis`` is the one at ``axis + pi``, so the
  axis is taken mod ``pi``; within 1e-6 of a multiple of ``pi / 4`` it is
  that multiple exactly (``0``, ``pi / 4``, ``pi / 2``, ``3 pi / 4``: the
  grid axes, whose mirrors map the pixel grid to itself).

  Raises:
    ValueError: naming ``name`` unless ``axis`` is a finite real number.
  """
  if (not isinstance(axis, (int, float, np.integer, np.floating)) or
      isinstance(axis, (bool, np.bool_)) or not math.isfinite(axis)):
    raise ValueError(
        f'{name} must be a finite angle in radians (the mirror line of the '
        f'reflections; default pi/2, the left-right mirror); got {axis!r}.')
  axis = float(axis) % math.pi
  eighths = round(axis / _EIGHTH)
  if abs(axis - eighths * _EIGHTH) < _AXIS_SNAP:
    axis = (eighths % 4) * _EIGHTH
  return axis


def is_grid_axis(axis: float) -> bool:
  """True for a canonical axis (:func:`check_axis`) that is a multiple of
  ``pi / 4``: its mirror maps the pixel grid to itself."""
  return axis in GRID_AXES


#: The canonical grid axes: 0, pi/4, pi/2, 3pi/4.
GRID_AXES = tuple(k * _EIGHTH for k in range(4))


def axis_label(axis: float) -> str:
  """``'pi/4'``, ``'3pi/4'``, ``'0'`` for grid axes, else ``'%.6g'``."""
  if is_grid_axis(axis):
    return ('0', 'pi/4', 'pi/2', '3pi/4')[GRID_AXES.index(axis)]
  return f'{axis:.6g}'


# ------------------------------------------------------ shared irrep matrices


def rotation_matrix(angle: float) -> np.ndarray:
  cos, sin = math.cos(angle), math.sin(angle)
  return np.array([[cos, -sin], [sin, cos]])


def o2_irrep_matrix(j: int, k: int, mirror: int, angle: float,
                    nyquist: bool = False) -> np.ndarray:
  """Irrep ``(j, k)`` of D_N / O(2) at ``R(angle) F^mirror`` (module doc)."""
  if k == 0 or nyquist:
    sign = (-1.0)**(j * mirror)
    if nyquist:
      sign *= round(math.cos(k * angle))
    return np.array([[sign]])
  out = rotation_matrix(k * angle)
  if mirror:
    out = out @ np.diag([1.0, -1.0])
  return out


def so2_irrep_matrix(k: int, angle: float, nyquist: bool = False
                     ) -> np.ndarray:
  """Irrep ``k`` of C_N / SO(2) at rotation ``angle`` (module doc)."""
  if k == 0:
    return np.eye(1)
  if nyquist:
    return np.array([[float(round(math.cos(k * angle)))]])
  return rotation_matrix(k * angle)
