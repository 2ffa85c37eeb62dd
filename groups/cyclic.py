"""The cyclic group C_N of rotations by multiples of 360/N degrees.

``Cyclic(4)`` is the point group of p4 (Cohen & Welling 2016): its elements
``k = 0 .. 3`` act on the pixel grid as :class:`groups.Rot90` ``(k)``, exactly.
For N not dividing 4 the rotations by ``360 k / N`` degrees that are not
multiples of 90 are interpolated (:class:`groups.BilinearRotation`), so layers
built on C8 are only approximately equivariant (tests/cases/finite_groups.py states
the measured error).
"""

from __future__ import annotations

import dataclasses
import math

from groups import validate
from groups import base
from groups import finite
from groups import interpolated
from groups import representations
from groups import rotations


@dataclasses.dataclass(frozen=True)
class Cyclic(finite.FiniteGroup,
             representations.RepresentationGroup):
  """C_N: element ``k`` rotates counter-clockwise by ``360 k / N`` degrees.

  Attributes:
    n: the order ``N`` (int >= 1); C1 is the trivial group.
  """
  symbol = 'C'
  aliases = {'p4': 4}
  n: int

  def __post_init__(self):
    validate.integer(self.n, 'n', minimum=1)

  @property
  def order(self) -> int:
    return self.n

  def compose(self, a, b):
    return (self.check_element(a, 'a') + self.check_element(b, 'b')) % self.n

  def inverse(self, a):
    return -self.check_element(a, 'a') % self.n

  def grid_action(self, g) -> base.Transform:
    quarter_turns, remainder = divmod(4 * self.check_element(g), self.n)
    if remainder == 0:
      return rotations.Rot90(quarter_turns)
    return interpolated.BilinearRotation(360 * g / self.n)

  def element_name(self, g):
    return f'r{self.check_element(g)}'

  # Representations (groups/representations.py; e2cnn's irreps of C_N).

  def irrep_ids(self):
    """Irrep ``k`` for ``k = 0 .. N // 2`` (frequency ``k``)."""
    return tuple(range(self.n // 2 + 1))

  def irrep_frequency(self, irrep_id):
    return int(irrep_id)

  def irrep_matrix(self, irrep_id, g):
    nyquist = 2 * irrep_id == self.n
    return representations.so2_irrep_matrix(
        irrep_id, self.pose(g)[1], nyquist=nyquist)

  def pose(self, g):
    """``(0, 2 pi g / N)``: a counter-clockwise rotation."""
    return 0, 2 * math.pi * self.check_element(g) / self.n

  def generators(self, frequency=0):
    del frequency
    return (1 % self.n,)
