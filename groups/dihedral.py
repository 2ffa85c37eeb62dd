"""The dihedral group D_N: N rotations and N mirror images.

This file is the worked example of adding a finite group; a new group is one
class like this one, in one new file of ``groups/``:

1. Subclass :class:`groups.FiniteGroup` as a frozen dataclass with one int
   field ``n``, and give the family a ``symbol`` ('D') and optional
   ``aliases`` ({'p4m': 4}). Defining the class registers it, so
   ``groups.finite_group('D8')`` returns ``Dihedral(8)``; ``groups/__init__.py``
   imports every module of the package, so no other file needs an edit.
2. Number the elements ``0 .. order - 1`` with 0 the identity. Here element
   ``i = k + N m`` (``k`` in ``0..N-1``, ``m`` in ``{0, 1}``) is ``r^k f^m``:
   mirror left-right if ``m = 1``, then rotate by ``360 k / N`` degrees.
3. Write ``compose(a, b)`` (``b`` acts first) and ``inverse(a)`` from the
   group law; for D_N it follows from ``f r f = r^-1``:
   ``(r^a f^m)(r^b f^n) = r^(a + (-1)^m b) f^(m + n)``.
4. Write ``grid_action(g)``, a :class:`groups.Transform` on ``[B, H, W, C]``
   that realises the element on the pixel grid (here :class:`groups.Flip`
   followed by the rotation of :class:`groups.Cyclic`, which is exact for
   multiples of 90 degrees and bilinear otherwise).

The reflection axis (e2cnn's ``FlipRot2dOnR2(N, axis=...)``):
``Dihedral(N, axis=a)`` is the same abstract group with the same irreps,
acting on the plane with ``f`` the reflection across the line at angle ``a``
(radians; default ``pi / 2``, the left-right mirror, e2cnn's default). With
``d = a - pi / 2``, ``f`` acts as ``R(d) F R(-d) = R(2 d) F``, so element
``r^k f`` acts as ``R(2 pi k / N + 2 d) F``: the reflection across
``a + pi k / N``. On the grid that is a Flip then a rotation, exact when the
rotation is a multiple of 90 degrees (every mirror of D4 for ``a`` a
multiple of ``pi / 4``), bilinear otherwise, like the 45-degree turns of
C8: approximate, never refused.

Everything else is inherited: the regular representation on group maps
``[B, H, W, G, C]`` (:meth:`FiniteGroup.regular_action`), the filter
transformations of lifting and group convolutions (layers/group_conv/), and
the axiom and homomorphism tests of tests/finite_groups_test.py, which run on
every registered family. Then add registry entries for the layers built on
the group to tests/cases/ (see README, "Add a group or a layer").
"""

from __future__ import annotations

import dataclasses
import math

from groups import validate
from groups import base
from groups import continuous
from groups import cyclic
from groups import finite
from groups import representations
from groups import rotations


@dataclasses.dataclass(frozen=True)
class Dihedral(finite.FiniteGroup,
               representations.RepresentationGroup):
  """D_N of order 2N: element ``k + N m`` mirrors (if ``m = 1``), then rotates.

  ``Dihedral(4)`` is the point group of p4m (Cohen & Welling 2016), exact on
  the pixel grid; ``Dihedral(1)`` is the single mirror ``{e, f}``.

  Attributes:
    n: the number of rotations ``N`` (int >= 1).
    axis: the angle in radians of the mirror line of ``f`` (module doc);
      default ``pi / 2`` (left-right, e2cnn's default). Taken mod ``pi``
      and snapped to multiples of ``pi / 4``
      (:func:`groups.representations.check_axis`); part of equality, so
      field types of two axes do not chain.
  """
  symbol = 'D'
  aliases = {'p4m': 4}
  n: int
  axis: float = representations.DEFAULT_AXIS

  def __post_init__(self):
    validate.integer(self.n, 'n', minimum=1)
    object.__setattr__(self, 'axis', representations.check_axis(self.axis))

  def __str__(self):
    if self.axis == representations.DEFAULT_AXIS:
      return f'D{self.n}'
    return f'D{self.n}(axis={representations.axis_label(self.axis)})'

  def __repr__(self):
    if self.axis == representations.DEFAULT_AXIS:
      return f'Dihedral(n={self.n})'
    return f'Dihedral(n={self.n}, axis={self.axis!r})'

  @property
  def axis_offset(self) -> float:
    return self.axis - representations.DEFAULT_AXIS

  @property
  def order(self) -> int:
    return 2 * self.n

  def _split(self, g, name):
    """Element ``g = k + N m`` as ``(k, m)``."""
    mirror, turns = divmod(self.check_element(g, name), self.n)
    return turns, mirror

  def compose(self, a, b):
    turns_a, mirror_a = self._split(a, 'a')
    turns_b, mirror_b = self._split(b, 'b')
    turns = (turns_a + (-1)**mirror_a * turns_b) % self.n
    return turns + self.n * ((mirror_a + mirror_b) % 2)

  def inverse(self, a):
    turns, mirror = self._split(a, 'a')
    if mirror:  # every mirror image is its own inverse
      return turns + self.n
    return -turns % self.n

  def grid_action(self, g) -> base.Transform:
    """Flip (if a mirror image), then rotate (module doc): exact where the
    rotation is a multiple of 90 degrees, bilinear otherwise."""
    turns, mirror = self._split(g, 'g')
    if mirror and self.axis_offset:
      # r^k f acts as R(2 pi k / N + 2 d) F (module doc).
      rotation = continuous.grid_rotation(
          2 * math.pi * turns / self.n + 2 * self.axis_offset)
    else:
      rotation = cyclic.Cyclic(self.n).grid_action(turns)
    return rotations.Flip().then(rotation) if mirror else rotation

  def reflection(self, axis, name: str = 'axis') -> int:
    """The element ``r^k f`` that reflects across the line at ``axis``.

    Args:
      axis: radians; one of the group's mirror lines ``self.axis + pi k /
        N`` (mod ``pi``).
      name: the argument named in the error.

    Returns:
      ``k + N`` (``k = 0`` for ``self.axis``).

    Raises:
      ValueError: naming ``name`` and the group's mirror lines if ``axis``
        is none of them.
    """
    axis = representations.check_axis(axis, name)
    steps = (axis - self.axis) * self.n / math.pi
    turns = round(steps)
    if abs(steps - turns) > 1e-6:
      lines = ', '.join(representations.axis_label(
          representations.check_axis(self.axis + math.pi * k / self.n))
                        for k in range(self.n))
      raise ValueError(
          f'{name} must be a mirror line of {self}: one of {lines} (radians, '
          f'mod pi); got {axis!r}.')
    return turns % self.n + self.n

  def element_name(self, g):
    turns, mirror = self._split(g, 'g')
    return f'r{turns}' + ('f' if mirror else '')

  # Representations (groups/representations.py; e2cnn's irreps of D_N).

  def irrep_ids(self):
    """``(0, 0)``, ``(1, 0)``, ``(1, k)`` for ``0 < k < N / 2``, and for
    even N ``(0, N/2)``, ``(1, N/2)``."""
    ids = [(0, 0), (1, 0)]
    ids += [(1, k) for k in range(1, (self.n + 1) // 2)]
    if self.n % 2 == 0:
      ids += [(0, self.n // 2), (1, self.n // 2)]
    return tuple(ids)

  def irrep_frequency(self, irrep_id):
    return int(irrep_id[1])

  def irrep_matrix(self, irrep_id, g):
    j, k = irrep_id
    mirror, angle = self.pose(g)
    return representations.o2_irrep_matrix(j, k, mirror, angle,
                                           nyquist=2 * k == self.n)

  def pose(self, g):
    """``(m, 2 pi k / N)`` for element ``k + N m``."""
    turns, mirror = self._split(g, 'g')
    return mirror, 2 * math.pi * turns / self.n

  def generators(self, frequency=0):
    del frequency
    return (1 % self.n, self.n)
