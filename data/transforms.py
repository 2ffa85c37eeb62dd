"""Deterministic image transformations and in-``jit`` augmentations.

All functions act on images ``[N, H, W, C]`` and follow the conventions of
:mod:`groups`:

* a shift by ``(dy, dx)`` moves content ``dy`` rows down and ``dx`` columns
  right: ``out[n, h, w] = x[n, h - dy, w - dx]``;
* an angle (here in *radians*) turns the picture counter-clockwise as
  ``imshow`` displays it, about the grid centre ``((H - 1) / 2, (W - 1) / 2)``
  — the same rotation as :class:`groups.BilinearRotation` (which takes
  degrees) and, for quarter turns, as ``np.rot90(x, k, axes=(1, 2))``.

:func:`circular_shift`, :func:`zero_fill_shift` and :func:`rotate` are the
shifts and the rotation of :mod:`groups` (:mod:`groups.translations`,
:func:`groups.interpolated.rotate`) behind this module's checks of
``[N, H, W, C]`` images. They are pure functions of their inputs that work on
NumPy arrays (computed in NumPy, float64 coordinates, returning NumPy: used to
build data sets, bit-for-bit reproducible) and on JAX arrays, traced values
included (returning JAX: used inside ``jax.jit`` by :func:`augment_shift` and
:func:`augment_rotate`). :func:`augment_rescale` rescales with
:func:`groups.scale.rescale`, the project's one rescaling.
:func:`place_on_canvas`, :func:`random_offsets` and :func:`random_translate`
build data sets and are NumPy only.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from groups import interpolated
from groups import scale
from groups import translations
from groups import validate

IMAGES_LAYOUT = '[N, H, W, C]'
SHIFT_MODES = ('zeros', 'circular')
# Interpolation orders of rotate(), and their names (from the one resampling
# rotation, groups.interpolated.rotate).
ROTATION_ORDER_NAMES = interpolated.ROTATION_ORDER_NAMES
ROTATION_ORDERS = interpolated.ROTATION_ORDERS
check_rotation_order = interpolated.check_rotation_order


def _check_images(images, name: str = 'images', *,
                  floating: bool = False) -> None:
  """Rank 4 (and float), H, W, C >= 1 and, unless traced, no NaN or Inf."""
  validate.check_array(images, name, rank=4, layout=IMAGES_LAYOUT,
                        floating=floating)
  if min(images.shape[1:]) < 1:
    raise ValueError(f'{name} must have H, W, C >= 1 (layout '
                     f'{IMAGES_LAYOUT}; N may be 0); got shape '
                     f'{tuple(images.shape)}.')
  validate.check_finite(images, name, layout=IMAGES_LAYOUT)


def _canvas_pair(canvas_size, name: str = 'canvas_size') -> tuple[int, int]:
  return validate.pair(canvas_size, name, minimum=1)


def _per_example_pairs(values, num: int, name: str, xp) -> object:
  """``values`` as an integer ``[N, 2]`` array (a single pair is broadcast)."""
  values = xp.asarray(values)
  if not xp.issubdtype(values.dtype, xp.integer):
    raise ValueError(f'{name} must hold integers (a (dy, dx) pair or an [N, 2] '
                     f'array); got dtype {values.dtype}.')
  if values.shape == (2,):
    values = xp.broadcast_to(values, (num, 2))
  if values.shape != (num, 2):
    raise ValueError(f'{name} must be a (dy, dx) pair or an [N, 2] array with '
                     f'N = {num}; got shape {tuple(values.shape)}.')
  return values


# --------------------------------------------------------------------------
# Canvases and translations (NumPy: building data sets).
# --------------------------------------------------------------------------


def place_on_canvas(images: np.ndarray, *,
                    canvas_size: int | tuple[int, int],
                    offsets: Sequence[int] | np.ndarray) -> np.ndarray:
  """Puts each image into a larger zero canvas at a given position.

  Args:
    images: ``[N, h, w, C]`` (any dtype; NumPy or JAX, computed in NumPy).
    canvas_size: ``H`` or ``(H, W)`` with ``H >= h`` and ``W >= w``.
    offsets: the row and column ``(dy, dx)`` of each image's top-left pixel on
      the canvas: one pair for all images, or an int array ``[N, 2]``; each in
      ``0..H - h`` and ``0..W - w``. The centred position is
      ``((H - h) // 2, (W - w) // 2)``.

  Returns:
    ``[N, H, W, C]`` NumPy array of ``images.dtype``, zero outside the images.

  Raises:
    ValueError: on a wrong rank, a canvas smaller than the images, or offsets
      of the wrong shape or outside the canvas.
  """
  _check_images(images, floating=False)
  images = np.asarray(images)
  n, h, w, c = images.shape
  height, width = _canvas_pair(canvas_size)
  if height < h or width < w:
    raise ValueError(
        f'canvas_size must be at least the image size (h, w) = {(h, w)}; got '
        f'{(height, width)}.')
  offsets = _per_example_pairs(offsets, n, 'offsets', np).astype(np.int64)
  if n and ((offsets < 0).any() or (offsets[:, 0] > height - h).any() or
            (offsets[:, 1] > width - w).any()):
    raise ValueError(
        f'offsets must be in 0..{height - h} (rows) and 0..{width - w} '
        f'(columns) so that the {h}x{w} images fit on the {height}x{width} '
        f'canvas; got rows {offsets[:, 0].min()}..{offsets[:, 0].max()}, '
        f'columns {offsets[:, 1].min()}..{offsets[:, 1].max()}.')
  canvas = np.zeros((n, height, width, c), images.dtype)
  rows = offsets[:, 0, None] + np.arange(h)  # [N, h]
  cols = offsets[:, 1, None] + np.arange(w)  # [N, w]
  canvas[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]] = (
      images)
  return canvas


def random_offsets(num: int, *, image_size: int | tuple[int, int],
                   canvas_size: int | tuple[int, int],
                   max_shift: int | None = None, seed: int = 0) -> np.ndarray:
  """Draws top-left positions for :func:`place_on_canvas`, uniformly.

  Args:
    num: number of positions ``N`` (int >= 0).
    image_size: ``h`` or ``(h, w)``.
    canvas_size: ``H`` or ``(H, W)``, at least the image size.
    max_shift: None to draw every position where the image fits, or an int
      >= 0 to stay within ``max_shift`` pixels (per axis) of the centred
      position ``((H - h) // 2, (W - w) // 2)``, clipped to the canvas.
    seed: int >= 0; the same seed gives the same positions.

  Returns:
    int64 ``[N, 2]`` ``(row, column)`` offsets.
  """
  num = validate.integer(num, 'num', minimum=0)
  h, w = validate.pair(image_size, 'image_size', minimum=1)
  height, width = _canvas_pair(canvas_size)
  if height < h or width < w:
    raise ValueError(
        f'canvas_size must be at least image_size = {(h, w)}; got '
        f'{(height, width)}.')
  if max_shift is not None:
    max_shift = validate.integer(max_shift, 'max_shift', minimum=0)
  seed = validate.integer(seed, 'seed', minimum=0)
  rng = np.random.default_rng(seed)
  columns = []
  for room in (height - h, width - w):
    centre = room // 2
    low, high = 0, room
    if max_shift is not None:
      low, high = max(0, centre - max_shift), min(room, centre + max_shift)
    columns.append(rng.integers(low, high + 1, size=num))
  return np.stack(columns, axis=1).astype(np.int64)


def random_translate(images: np.ndarray, *,
                     canvas_size: int | tuple[int, int],
                     max_shift: int | None = None, seed: int = 0
                     ) -> np.ndarray:
  """Places each image at a random position on a larger zero canvas.

  Equivalent to ``place_on_canvas(images, canvas_size=canvas_size,
  offsets=random_offsets(N, image_size=(h, w), canvas_size=canvas_size,
  max_shift=max_shift, seed=seed))``; call :func:`random_offsets` with the
  same arguments to know where each image went.

  Args:
    images: ``[N, h, w, C]`` (any dtype).
    canvas_size: ``H`` or ``(H, W)``, at least ``(h, w)``.
    max_shift: None (anywhere on the canvas) or the largest displacement in
      pixels, per axis, from the centred position.
    seed: int >= 0.

  Returns:
    ``[N, H, W, C]`` NumPy array of ``images.dtype``.
  """
  _check_images(images, floating=False)
  n, h, w, _ = np.shape(images)
  offsets = random_offsets(n, image_size=(h, w), canvas_size=canvas_size,
                           max_shift=max_shift, seed=seed)
  return place_on_canvas(images, canvas_size=canvas_size, offsets=offsets)


# --------------------------------------------------------------------------
# Shifts and rotations (NumPy or JAX).
# --------------------------------------------------------------------------


def circular_shift(images: jax.typing.ArrayLike,
                   shifts: Sequence[int] | jax.typing.ArrayLike
                   ) -> jax.Array | np.ndarray:
  """Shifts each image on the torus: ``out[n, h, w] = x[n, h - dy, w - dx]``.

  :func:`groups.translations.circular_shift` (the shift of
  :class:`groups.CircularShift`) on images checked as ``[N, H, W, C]``.

  Args:
    images: ``[N, H, W, C]`` (any dtype, finite), NumPy or JAX.
    shifts: ``(dy, dx)`` for all images or an int array ``[N, 2]`` (any
      integers; taken modulo ``H`` and ``W``); may be traced under ``jit``.

  Returns:
    ``[N, H, W, C]``: NumPy for NumPy inputs, JAX otherwise.
  """
  _check_images(images, floating=False)
  return translations.circular_shift(images, shifts)


def zero_fill_shift(images: jax.typing.ArrayLike,
                    shifts: Sequence[int] | jax.typing.ArrayLike
                    ) -> jax.Array | np.ndarray:
  """Shifts each image with zeros entering at the border (content falls off).

  :func:`groups.translations.zero_fill_shift` (the shift of
  :class:`groups.ZeroFillShift`) on images checked as ``[N, H, W, C]``. Args
  and shapes as :func:`circular_shift`; a shift of ``H`` or more rows leaves
  an all-zero image.
  """
  _check_images(images, floating=False)
  return translations.zero_fill_shift(images, shifts)


def rotate(images: jax.typing.ArrayLike, angles: float | jax.typing.ArrayLike,
           *, order: int = 1) -> jax.Array | np.ndarray:
  """Rotates each image about the grid centre, with zeros outside the grid.

  :func:`groups.interpolated.rotate` (the resampling of
  :class:`groups.BilinearRotation`, which takes degrees) on images checked
  as ``[N, H, W, C]``: output pixel ``p`` takes the input at ``R(-angle) (p -
  c) + c``, ``c`` the grid centre, interpolated bilinearly (``order=1``) or
  by the nearest pixel (``order=0``); taps outside the grid count as zero,
  so the corners of a square image fade out and empty regions are black.

  Exactness: on a *square* grid a multiple of 90 degrees maps pixel centres
  to pixel centres, and the result equals ``np.rot90`` bit for bit (source
  coordinates within 1e-4 of an integer are snapped to it, so the rounding
  of ``cos(pi / 2)`` does not mix in neighbours). On a non-square grid a
  quarter turn moves content off the grid and is exact only when ``H - W`` is
  even. Other angles interpolate: bilinear interpolation low-passes, so
  rotating back does not restore the image exactly.

  Args:
    images: ``[N, H, W, C]`` floating (finite), NumPy or JAX.
    angles: radians, counter-clockwise as ``imshow`` shows; a scalar for all
      images or an ``[N]`` array; may be traced under ``jit``.
    order: 1 (bilinear) or 0 (nearest neighbour).

  Returns:
    ``[N, H, W, C]`` of ``images.dtype``: NumPy for NumPy inputs, JAX
    otherwise. Source coordinates are in float64 for concrete angles (data
    sets built from NumPy are bit-for-bit reproducible) and in the default
    float dtype for angles traced under ``jit``.
  """
  _check_images(images, floating=True)
  return interpolated.rotate(images, angles, order=order)


# --------------------------------------------------------------------------
# Random augmentation inside jit.
# --------------------------------------------------------------------------


def _check_key(key) -> None:
  if not isinstance(key, jax.Array):
    raise ValueError(f'key must be a jax.random key (jax.random.key(seed) or '
                     f'PRNGKey(seed)); got {type(key).__name__}.')


def augment_shift(key: jax.Array, images: jax.typing.ArrayLike, *,
                  max_shift: int, mode: str = 'zeros') -> jax.Array:
  """Shifts each image by its own random ``(dy, dx)``; usable in ``jit``.

  ``dy`` and ``dx`` are drawn independently and uniformly from
  ``-max_shift..max_shift``.

  Args:
    key: a ``jax.random`` key.
    images: ``[N, H, W, C]``.
    max_shift: int >= 0 (static).
    mode: 'zeros' (content falls off, zeros enter: :func:`zero_fill_shift`)
      or 'circular' (:func:`circular_shift`).

  Returns:
    ``[N, H, W, C]`` JAX array, same dtype.
  """
  _check_key(key)
  _check_images(images, floating=False)
  max_shift = validate.integer(max_shift, 'max_shift', minimum=0)
  validate.check_choice(mode, 'mode', SHIFT_MODES)
  images = jnp.asarray(images)
  shifts = jax.random.randint(key, (images.shape[0], 2), -max_shift,
                              max_shift + 1)
  shift_fn = circular_shift if mode == 'circular' else zero_fill_shift
  return shift_fn(images, shifts)


def augment_rotate(key: jax.Array, images: jax.typing.ArrayLike, *,
                   max_angle: float, order: int = 1) -> jax.Array:
  """Rotates each image by its own random angle; usable in ``jit``.

  Angles are uniform in ``[-max_angle, max_angle]`` radians (``max_angle =
  pi`` draws uniformly from the whole circle); see :func:`rotate`.

  Args:
    key: a ``jax.random`` key.
    images: ``[N, H, W, C]`` floating.
    max_angle: float >= 0, radians (static).
    order: 1 (bilinear) or 0 (nearest).

  Returns:
    ``[N, H, W, C]`` JAX array, same dtype.
  """
  _check_key(key)
  _check_images(images, floating=True)
  if (not isinstance(max_angle, numbers.Real) or isinstance(max_angle, bool)
      or not math.isfinite(max_angle) or max_angle < 0):
    raise ValueError(f'max_angle must be a finite real number >= 0 (radians); '
                     f'got {max_angle!r}.')
  images = jnp.asarray(images)
  angles = jax.random.uniform(key, (images.shape[0],), minval=-max_angle,
                              maxval=max_angle)
  return rotate(images, angles, order=order)


def augment_rescale(key: jax.Array, images: jax.typing.ArrayLike, *,
                    min_factor: float, max_factor: float) -> jax.Array:
  """Rescales each image by its own random factor; usable in ``jit``.

  Factors are uniform in ``[min_factor, max_factor]`` (as torchvision's
  ``RandomAffine(0, scale=(min_factor, max_factor))``; ``> 1`` magnifies),
  applied about the grid centre on the same grid with zeros outside by
  :func:`groups.scale.rescale` (``boundary='zeros'``: band-limited,
  anti-aliased when shrinking). Values are not clipped: sharp edges ring
  slightly outside the input's range.

  Args:
    key: a ``jax.random`` key.
    images: ``[N, H, W, C]`` floating.
    min_factor: finite float > 0 (static).
    max_factor: finite float >= ``min_factor`` (static); ``min_factor ==
      max_factor == 1`` returns the images unchanged.

  Returns:
    ``[N, H, W, C]`` JAX array, same dtype.
  """
  _check_key(key)
  _check_images(images, floating=True)
  min_factor = validate.number(min_factor, 'min_factor', minimum=0.0,
                               exclusive_minimum=True)
  max_factor = validate.number(max_factor, 'max_factor', minimum=0.0,
                               exclusive_minimum=True)
  if max_factor < min_factor:
    raise ValueError(f'max_factor must be >= min_factor = {min_factor:g}; got '
                     f'{max_factor:g}.')
  images = jnp.asarray(images)
  if min_factor == max_factor == 1.0:
    return images
  factors = jax.random.uniform(key, (images.shape[0],), minval=min_factor,
                               maxval=max_factor)
  return scale.rescale(images, factors, boundary='zeros')
