"""Rotations by multiples of 90 degrees and mirror flips of the pixel grid.

Both act on axes 1, 2 of ``[B, H, W, ...]`` and permute pixels exactly, so a
layer built to commute with them (a group convolution, an isotropic filter)
can be tested to float precision. ``Rot90(k)`` turns the picture ``k`` quarter
turns counter-clockwise as ``imshow`` displays it; ``Flip()`` mirrors it
left-right (reverses the ``W`` axis).

Rotations are about the grid centre. A layer of stride ``s`` commutes with
them only if its sampling grid is itself symmetric about that centre: with
windows of size ``w`` placed every ``s`` pixels from the first one,
``(H - w) % s == 0``. For odd kernels with centred ('SAME'-style) padding
that is ``(H - 1) % s == 0`` (odd grids for ``s = 2``); for 2x2 stride-2
pooling it is ``H`` even (measured: exact on 6 x 6 and 8 x 8, broken on 7 x 7
and 9 x 9). An even kernel with 'SAME'-style padding (0 before, 1 after) is
off-centre on any grid and breaks exactness. The induced action on the output
is the same rotation; the induced permutation of a group axis (p4, p4m) is
added by the finite-group classes (:mod:`groups.finite`).
"""

from __future__ import annotations

import dataclasses

from groups import validate
from groups import base


@dataclasses.dataclass(frozen=True)
class Rot90(base.Transform):
  """Rotation by ``k * 90`` degrees counter-clockwise (``k`` taken mod 4)."""
  k: int = 1

  def __post_init__(self):
    validate.integer(self.k, 'k')

  def __call__(self, x):
    base.check_features(x)
    xp = base.array_module(x)
    return xp.rot90(xp.asarray(x), self.k % 4, axes=base.SPATIAL_AXES)

  def inverse(self):
    return Rot90(-self.k % 4)


@dataclasses.dataclass(frozen=True)
class Flip(base.Transform):
  """Mirror left-right: ``T(x)[:, h, w] = x[:, h, W - 1 - w]``."""

  def __call__(self, x):
    base.check_features(x)
    xp = base.array_module(x)
    return xp.flip(xp.asarray(x), axis=2)

  def inverse(self):
    return self
