"""SO(2) and O(2): every rotation (and mirror image), band-limited irreps.

Elements of :class:`SO2` are angles in radians (counter-clockwise); elements
of :class:`O2` are pairs ``(mirror, angle)``, ``mirror`` in ``{0, 1}``, acting
as "mirror left-right if ``mirror``, then rotate by ``angle``" (the order of
:class:`groups.Dihedral`). A plain angle is accepted for an O(2) rotation.

On the pixel grid only multiples of 90 degrees (and the mirror) are exact
(:class:`groups.Rot90`, :class:`groups.Flip`); other angles are interpolated
by :class:`groups.BilinearRotation`, so layers built on these groups are
exactly equivariant to the quarter turns and approximately to the rest.

``O2(F, axis=a)`` reflects across the line at angle ``a`` (radians;
default ``pi / 2``, the left-right mirror, e2cnn's default): element
``(1, t)`` acts on the plane as ``R(t + 2 d) F``, ``d = a - pi / 2``, the
reflection across ``a + t / 2`` (grid action: Flip, then that rotation;
exact for multiples of 90 degrees). The abstract group and its irreps do not
depend on ``a``.

Irreps are those of e2cnn (see :mod:`groups.representations`) up to
``max_frequency``: SO(2) irrep ``k`` (``0..max_frequency``), O(2) irreps
``(0, 0)``, ``(1, 0)`` and ``(1, k)``. The band limit makes every computation
finite; it has no effect on which kernels are equivariant (a kernel basis
only needs the irreps of its two field types).
"""

from __future__ import annotations

import dataclasses
import math
import numbers

import numpy as np

from groups import base
from groups import interpolated
from groups import representations
from groups import rotations
from groups import validate


def _check_angle(angle, name: str) -> float:
  if (not isinstance(angle, (numbers.Real, np.floating, np.integer)) or
      isinstance(angle, (bool, np.bool_)) or not math.isfinite(angle)):
    raise ValueError(f'{name} must be a finite angle in radians; got '
                     f'{angle!r}.')
  return float(angle)


def grid_rotation(angle: float) -> base.Transform:
  """Rotation by ``angle`` radians on the grid: :class:`groups.Rot90` for
  multiples of 90 degrees (to 1e-9 degrees), else bilinear."""
  degrees = math.degrees(angle)
  quarter = round(degrees / 90)
  if abs(degrees - 90 * quarter) < 1e-9:
    return rotations.Rot90(quarter % 4)
  return interpolated.BilinearRotation(degrees)


@dataclasses.dataclass(frozen=True)
class _BandLimited(representations.RepresentationGroup):
  """A continuous group whose irreps are kept up to ``max_frequency``.

  Attributes:
    max_frequency: the highest irrep frequency (int >= 0).
  """
  max_frequency: int
  is_finite = False

  def __post_init__(self):
    validate.integer(self.max_frequency, 'max_frequency', minimum=0)

  def __str__(self):
    return f'{type(self).__name__}({self.max_frequency})'


@dataclasses.dataclass(frozen=True)
class SO2(_BandLimited):
  """SO(2): rotations by any angle (radians); irreps up to ``max_frequency``."""

  def check_element(self, g, name='g'):
    return _check_angle(g, name)

  @property
  def identity_element(self):
    return 0.0

  def compose(self, a, b) -> float:
    """``a b``: rotate by ``b``, then by ``a``."""
    return self.check_element(a, 'a') + self.check_element(b, 'b')

  def inverse(self, a) -> float:
    return -self.check_element(a, 'a')

  def irrep_ids(self):
    return tuple(range(self.max_frequency + 1))

  def irrep_frequency(self, irrep_id):
    return int(irrep_id)

  def irrep_matrix(self, irrep_id, g):
    return representations.so2_irrep_matrix(irrep_id, self.pose(g)[1])

  def pose(self, g):
    return 0, self.check_element(g)

  def generators(self, frequency=0):
    return (2 * math.pi / (frequency + 1),)

  def grid_action(self, g) -> base.Transform:
    """Rotation by ``g`` radians (exact for multiples of 90 degrees)."""
    return grid_rotation(self.check_element(g))


@dataclasses.dataclass(frozen=True)
class O2(_BandLimited):
  """O(2): rotations and mirror images; irreps up to ``max_frequency``.

  Attributes:
    max_frequency: the highest irrep frequency (int >= 0).
    axis: the angle in radians of the mirror line of ``(1, 0)`` (module
      doc); default ``pi / 2``, left-right. Canonical as
      :func:`groups.representations.check_axis` makes it; part of equality.
  """
  axis: float = representations.DEFAULT_AXIS

  def __post_init__(self):
    super().__post_init__()
    object.__setattr__(self, 'axis', representations.check_axis(self.axis))

  def __str__(self):
    if self.axis == representations.DEFAULT_AXIS:
      return f'O2({self.max_frequency})'
    return (f'O2({self.max_frequency}, '
            f'axis={representations.axis_label(self.axis)})')

  def __repr__(self):
    if self.axis == representations.DEFAULT_AXIS:
      return f'O2(max_frequency={self.max_frequency})'
    return f'O2(max_frequency={self.max_frequency}, axis={self.axis!r})'

  @property
  def axis_offset(self) -> float:
    return self.axis - representations.DEFAULT_AXIS

  def reflection(self, axis, name: str = 'axis') -> tuple[int, float]:
    """The element ``(1, t)`` that reflects across the line at ``axis``
    (radians): ``t = 2 (axis - self.axis)`` mod ``2 pi``."""
    axis = representations.check_axis(axis, name)
    return (1, (2 * (axis - self.axis)) % (2 * math.pi))

  def check_element(self, g, name='g'):
    if isinstance(g, (tuple, list)) and len(g) == 2:
      mirror, angle = g
      if mirror in (0, 1) and not isinstance(mirror, bool):
        return int(mirror), _check_angle(angle, name)
    elif isinstance(g, (numbers.Real, np.floating, np.integer)):
      return 0, _check_angle(g, name)
    raise ValueError(
        f'{name} must be an element of O(2): (mirror, angle) with mirror 0 '
        f'or 1 and the angle in radians, or an angle; got {g!r}.')

  @property
  def identity_element(self):
    return (0, 0.0)

  def compose(self, a, b) -> tuple[int, float]:
    """``a b`` (``b`` acts first): ``R(s) F^m R(t) F^n = R(s + (-1)^m t)
    F^(m + n)``."""
    mirror_a, angle_a = self.check_element(a, 'a')
    mirror_b, angle_b = self.check_element(b, 'b')
    return ((mirror_a + mirror_b) % 2,
            angle_a + (-1)**mirror_a * angle_b)

  def inverse(self, a) -> tuple[int, float]:
    mirror, angle = self.check_element(a, 'a')
    return (mirror, angle) if mirror else (0, -angle)

  def irrep_ids(self):
    return ((0, 0), (1, 0)) + tuple(
        (1, k) for k in range(1, self.max_frequency + 1))

  def irrep_frequency(self, irrep_id):
    return int(irrep_id[1])

  def irrep_matrix(self, irrep_id, g):
    mirror, angle = self.check_element(g)
    return representations.o2_irrep_matrix(irrep_id[0], irrep_id[1], mirror,
                                           angle)

  def pose(self, g):
    return self.check_element(g)

  def generators(self, frequency=0):
    return ((0, 2 * math.pi / (frequency + 1)), (1, 0.0))

  def grid_action(self, g) -> base.Transform:
    """Mirror left-right if ``g[0]``, then rotate by ``g[1]`` radians (plus
    ``2 axis_offset`` after a mirror: module doc)."""
    mirror, angle = self.check_element(g)
    rotation = grid_rotation(angle + 2 * self.axis_offset * mirror)
    return rotations.Flip().then(rotation) if mirror else rotation
