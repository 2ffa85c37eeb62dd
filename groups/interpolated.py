"""Rotation by any angle on the pixel grid, by bilinear interpolation.

The pixel grid has only the 90-degree rotations and the flips as exact
symmetries (:mod:`groups.rotations`). Any other angle moves pixel centres off
the grid, so the rotated image has to be interpolated. :func:`rotate` (the
project's one resampling rotation: radians, one angle per map, bilinear or
nearest) does the simplest thing: output pixel ``p`` takes the bilinear
interpolation of the input at ``R(-theta) (p - c) + c``, with ``c = ((H - 1)
/ 2, (W - 1) / 2)`` the grid centre and zeros outside the grid.
:class:`BilinearRotation` is the transformation (degrees) built on it;
multiples of 90 degrees are delegated to :class:`groups.Rot90`, so they stay
exact. :func:`data.rotate` is its adapter for data sets and augmentation.

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

import jax
import jax.numpy as jnp
import numpy as np

from groups import validate
from groups import base
from groups import rotations


# Interpolation orders of rotate(), and their names.
ROTATION_ORDER_NAMES = {0: 'nearest neighbour', 1: 'bilinear'}
ROTATION_ORDERS = tuple(ROTATION_ORDER_NAMES)
# Source coordinates this close to an integer are snapped to it, so that
# quarter turns sample pixel centres exactly (cos(pi / 2) is ~6e-17 in float64
# and ~4e-8 in float32, which would otherwise mix in a neighbour with weight
# ~1e-6). The largest change this makes to a bilinear weight is 1e-4.
_SNAP = 1e-4


def check_rotation_order(order: int, name: str = 'order') -> None:
  """Raises ``ValueError`` naming ``name`` unless ``order`` is 0 or 1."""
  if isinstance(order, bool) or order not in ROTATION_ORDERS:
    raise ValueError(f'{name} must be one of 0 (nearest), 1 (bilinear); got '
                     f'{order!r}.')


def _check_angles(angles, num: int, xp):
  """``angles`` (radians) as a scalar or an ``[N]`` array of real numbers."""
  if isinstance(angles, numbers.Real) and not isinstance(angles, bool):
    if not math.isfinite(angles):
      raise ValueError(f'angles must be finite (radians); got {angles!r}.')
  angles = xp.asarray(angles)
  if not xp.issubdtype(angles.dtype, xp.number) or xp.issubdtype(
      angles.dtype, xp.complexfloating):
    raise ValueError(f'angles must be real numbers (radians); got dtype '
                     f'{angles.dtype}.')
  if validate.is_concrete(angles):
    values = np.asarray(angles)
    bad = values[~np.isfinite(values)]
    if bad.size:
      raise ValueError(f'angles must be finite (radians); got {bad.size} '
                       f'non-finite values such as {bad[0]}.')
  if angles.ndim != 0 and angles.shape != (num,):
    raise ValueError(f'angles must be a scalar or an [N] array with N = {num}; '
                     f'got shape {tuple(angles.shape)}.')
  return angles


def _source_coordinates(height: int, width: int, angles, xp, float_dtype):
  """Snapped input coordinates ``(row, column)`` sampled by each output pixel.

  Args:
    height: ``H``.
    width: ``W``.
    angles: ``[N]`` radians (``xp`` array).
    xp: ``np`` or ``jnp``.
    float_dtype: the dtype the coordinates are computed in.

  Returns:
    Two ``[N, H, W]`` arrays of ``float_dtype``.
  """
  angles = angles.astype(float_dtype)
  cos, sin = xp.cos(angles)[:, None, None], xp.sin(angles)[:, None, None]
  centre_h, centre_w = (height - 1) / 2, (width - 1) / 2
  rows = xp.arange(height, dtype=float_dtype)[None, :, None]
  cols = xp.arange(width, dtype=float_dtype)[None, None, :]
  # Cartesian coordinates about the centre, y pointing up (as imshow shows).
  x_out, y_out = cols - centre_w, centre_h - rows  # [1, 1, W], [1, H, 1]
  # Output p samples the input at R(-theta) p: content turns counter-clockwise.
  x_in = cos * x_out + sin * y_out                 # [N, H, W]
  y_in = -sin * x_out + cos * y_out
  row_in, col_in = centre_h - y_in, centre_w + x_in

  def snap(coord):
    nearest = xp.round(coord)
    return xp.where(xp.abs(coord - nearest) < _SNAP, nearest, coord)

  return snap(row_in), snap(col_in)


@functools.lru_cache(maxsize=64)
def _fixed_coordinates(height: int, width: int, radians: float
                       ) -> tuple[np.ndarray, np.ndarray]:
  """:func:`_source_coordinates` of one concrete angle: ``[1, H, W]``."""
  coordinates = _source_coordinates(height, width, np.array([radians]), np,
                                    np.float64)
  for array in coordinates:
    array.flags.writeable = False  # shared by every call through the cache
  return coordinates


def rotate(x: jax.typing.ArrayLike, angles: float | jax.typing.ArrayLike, *,
           order: int = 1) -> jax.Array | np.ndarray:
  """Rotates each map about the grid centre, with zeros outside the grid.

  The one resampling rotation of the project: :func:`data.rotate` (images,
  radians) and :class:`BilinearRotation` (any feature map, degrees) call it.
  Output pixel ``p`` takes the input at ``R(-angle) (p - c) + c``, ``c =
  ((H - 1) / 2, (W - 1) / 2)`` the grid centre, interpolated bilinearly
  (``order=1``) or by the nearest pixel (``order=0``); taps outside the grid
  count as zero, so the corners of a square grid fade out.

  Exactness: on a *square* grid a multiple of 90 degrees maps pixel centres
  to pixel centres, and the result equals ``np.rot90`` bit for bit (source
  coordinates within 1e-4 of an integer are snapped to it, so the rounding
  of ``cos(pi / 2)`` does not mix in neighbours). On a non-square grid a
  quarter turn moves content off the grid (the shape is kept). Other angles
  interpolate: bilinear interpolation low-passes, so rotating back does not
  restore the map exactly.

  Args:
    x: ``[B, H, W, C]`` or ``[B, H, W, G, C]`` floating, NumPy or JAX (axes
      1, 2 turn; the others are carried along).
    angles: radians, counter-clockwise as ``imshow`` shows; a scalar for all
      maps or a ``[B]`` array; may be traced under ``jit``.
    order: 1 (bilinear) or 0 (nearest neighbour).

  Returns:
    An array of the shape and dtype of ``x``: NumPy for NumPy inputs, JAX
    otherwise. Source coordinates are computed in float64 (NumPy) for
    concrete angles, so NumPy and JAX inputs give the same taps, and in the
    default float dtype for traced angles.

  Raises:
    ValueError: on a wrong rank or dtype, non-finite or wrongly shaped
      angles, or an order other than 0 and 1.
  """
  base.check_features(x, floating=True)
  check_rotation_order(order)
  xp = jnp if isinstance(x, jax.Array) or isinstance(angles, jax.Array) else np
  x = xp.asarray(x)
  n, height, width = x.shape[:3]
  angles = _check_angles(angles, n, xp)
  if not validate.is_concrete(angles):  # traced: coordinates inside the graph
    cp = jnp
    row_in, col_in = _source_coordinates(
        height, width, jnp.broadcast_to(angles, (n,)), jnp,
        jnp.result_type(float))
  elif angles.ndim == 0:  # one angle: its coordinates are shared and cached
    cp = np
    row_in, col_in = _fixed_coordinates(height, width, float(angles))
  else:
    cp = np
    row_in, col_in = _source_coordinates(height, width, np.asarray(angles),
                                         np, np.float64)
  if order == 0:
    taps = [_tap(cp.round(row_in), cp.round(col_in), height, width, cp)]
    weights = ()
  else:
    row0, col0 = cp.floor(row_in), cp.floor(col_in)
    taps = [_tap(r, c, height, width, cp) for r, c in
            ((row0, col0), (row0, col0 + 1), (row0 + 1, col0),
             (row0 + 1, col0 + 1))]
    weights = tuple(w.astype(x.dtype) for w in (row_in - row0,
                                                 col_in - col0))
  if xp is jnp and cp is np:
    # A JAX map, concrete angles: the taps and weights above are NumPy, and
    # the gathers and the blend run as ONE compiled program per shape
    # (eagerly they were ten programs, and property tests draw new shapes).
    return _resample_jit(x, tuple(taps), weights)
  return _resample(x, tuple(taps), weights)


def _tap(r, c, height: int, width: int, cp):
  """``(row, column, inside)`` of a tap at coordinates ``(r, c)`` ``[N', H,
  W]`` (``N'`` 1 or ``N``): int32 indices clipped to the grid and the mask
  of coordinates inside it."""
  inside = (r >= 0) & (r <= height - 1) & (c >= 0) & (c <= width - 1)
  return (cp.clip(r, 0, height - 1).astype(np.int32),
          cp.clip(c, 0, width - 1).astype(np.int32), inside)


def _resample(x, taps, weights):
  """The taps of ``x`` (zero where outside), bilinearly blended with
  ``weights = (frac_row, frac_col)``, or the one tap when there are none."""
  xp = np if isinstance(x, np.ndarray) else jnp
  n = x.shape[0]
  trailing = (1,) * (x.ndim - 3)  # broadcast [N, H, W] over the channels

  def value(tap):
    """``x[n, r, c]`` with zeros outside the grid: the shape of ``x``."""
    r, c, inside = tap
    values = (x[:, r[0], c[0]] if r.shape[0] == 1 else
              x[xp.arange(n)[:, None, None], r, c])
    return xp.where(inside.reshape(inside.shape + trailing), values,
                    xp.zeros((), x.dtype))

  if not weights:
    return value(taps[0])
  frac_row, frac_col = (w.reshape(w.shape + trailing) for w in weights)
  top = (1 - frac_col) * value(taps[0]) + frac_col * value(taps[1])
  bottom = (1 - frac_col) * value(taps[2]) + frac_col * value(taps[3])
  return ((1 - frac_row) * top + frac_row * bottom).astype(x.dtype)


_resample_jit = jax.jit(_resample)


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
    return rotate(jnp.asarray(x), math.radians(float(self.degrees)))

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

