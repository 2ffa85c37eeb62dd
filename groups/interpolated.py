"""Rotation by any angle on the pixel grid, by bilinear interpolation.

The pixel grid has only the 90-degree rotations and the flips as exact
symmetries (:mod:`groups.rotations`). Any other angle moves pixel centres off
the grid, so the rotated image has to be interpolated. :class:`BilinearRotation`
does the simplest thing: output pixel ``p`` takes the bilinear interpolation
of the input at ``R(-theta) (p - c) + c``, with ``c = ((H - 1) / 2,
(W - 1) / 2)`` the grid centre and zeros outside the grid. Multiples of 90
degrees are delegated to :class:`groups.Rot90`, so they stay exact.

What interpolation costs:

* it low-passes (a bilinear tap averages up to four pixels), so white noise
  loses energy and ``R(theta)`` followed by ``R(-theta)`` is not the identity;
  on smooth (band-limited) images the error is small;
* corners of a square grid rotate out of it: only the inscribed disk
  (:func:`inscribed_disk`) keeps its content under every angle.

These are the facts behind the approximate tier of C_N / D_N (N not dividing
4) in ``tests/cases/finite_groups.py``.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers

import jax.numpy as jnp
import numpy as np

from groups import validate
from groups import base
from groups import rotations


@functools.lru_cache(maxsize=64)
def _bilinear_taps(height: int, width: int, degrees: float
                   ) -> tuple[np.ndarray, np.ndarray]:
  """Flat source pixels ``[4, H * W]`` and bilinear weights ``[4, H, W]``."""
  theta = math.radians(degrees)
  cos, sin = math.cos(theta), math.sin(theta)
  centre_h, centre_w = (height - 1) / 2, (width - 1) / 2
  rows, cols = np.meshgrid(np.arange(height), np.arange(width), indexing='ij')
  # Cartesian coordinates about the centre, y pointing up (as imshow shows).
  x_out, y_out = cols - centre_w, centre_h - rows
  # Output p samples the input at R(-theta) p: content turns counter-clockwise.
  x_in = cos * x_out + sin * y_out
  y_in = -sin * x_out + cos * y_out
  row_in, col_in = centre_h - y_in, centre_w + x_in
  row0, col0 = np.floor(row_in), np.floor(col_in)
  frac_row, frac_col = row_in - row0, col_in - col0
  sources, weights = [], []
  for d_row, w_row in ((0, 1 - frac_row), (1, frac_row)):
    for d_col, w_col in ((0, 1 - frac_col), (1, frac_col)):
      r, c = row0 + d_row, col0 + d_col
      inside = (r >= 0) & (r < height) & (c >= 0) & (c < width)
      flat = np.clip(r, 0, height - 1) * width + np.clip(c, 0, width - 1)
      sources.append(flat.astype(np.int32).reshape(-1))
      weights.append(np.where(inside, w_row * w_col, 0.0))
  return np.stack(sources), np.stack(weights).astype(np.float32)


@dataclasses.dataclass(frozen=True)
class AngleRotation(base.Transform):
  """A rotation by ``degrees`` (a finite real number), exact for multiples
  of 90; subclasses say how other angles are resampled."""
  degrees: float

  def __post_init__(self):
    if (not isinstance(self.degrees, numbers.Real) or
        isinstance(self.degrees, bool) or not math.isfinite(self.degrees)):
      raise ValueError(
          f'degrees must be a finite real number; got {self.degrees!r}.')

  @property
  def exact(self) -> bool:  # type: ignore[override]
    return float(self.degrees) % 90 == 0


@dataclasses.dataclass(frozen=True)
class BilinearRotation(AngleRotation):
  """Counter-clockwise rotation by ``degrees`` about the grid centre.

  Exact (``Rot90``) for multiples of 90 degrees; bilinear with zero fill
  otherwise, keeping the shape ``[B, H, W, ...]`` (non-square grids too).
  """

  def __call__(self, x):
    if self.exact:
      return rotations.Rot90(int(self.degrees // 90))(x)
    base.check_features(x, floating=True)
    x = jnp.asarray(x)
    b, h, w = x.shape[:3]
    sources, weights = _bilinear_taps(h, w, float(self.degrees))
    flat = x.reshape((b, h * w) + x.shape[3:])
    taps = jnp.take(flat, sources.reshape(-1), axis=1)  # [B, 4*H*W, ...]
    taps = taps.reshape((b, 4, h, w) + x.shape[3:])
    weights = weights.reshape((1, 4, h, w) + (1,) * (x.ndim - 3))
    return jnp.sum(taps * weights.astype(x.dtype), axis=1)

  def inverse(self):
    """The rotation back; a true inverse only for exact angles."""
    return BilinearRotation(-self.degrees)


def inscribed_disk(height: int, width: int, *, margin: float = 0.0
                   ) -> np.ndarray:
  """Pixels whose centre lies in the disk inscribed in the grid.

  Their content stays on the grid under a rotation by any angle, so they are
  the positions where an interpolated rotation can be compared.

  Args:
    height: ``H`` (int >= 1).
    width: ``W`` (int >= 1).
    margin: shrink the radius ``(min(H, W) - 1) / 2`` by this many pixels
      (a number in ``0..(min(H, W) - 1) / 2``), e.g. to leave room for a
      receptive field.

  Returns:
    A boolean ``[H, W]`` mask.
  """
  height = validate.integer(height, 'height', minimum=1)
  width = validate.integer(width, 'width', minimum=1)
  full_radius = (min(height, width) - 1) / 2
  if (not isinstance(margin, numbers.Real) or isinstance(margin, bool) or
      not margin >= 0):
    raise ValueError(f'margin must be a real number >= 0; got {margin!r}.')
  if margin > full_radius:
    # A negative radius would square to a positive one: the mask would be
    # silently wrong instead of empty.
    raise ValueError(
        f'margin must be at most the inscribed radius (min(H, W) - 1) / 2 = '
        f'{full_radius:g} of the {height}x{width} grid; got {margin!r}.')
  radius = full_radius - margin
  rows = np.arange(height)[:, None] - (height - 1) / 2
  cols = np.arange(width)[None, :] - (width - 1) / 2
  return rows**2 + cols**2 <= radius**2 + 1e-9

