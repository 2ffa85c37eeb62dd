"""Embedded default data: sklearn's handwritten digits on a larger canvas.

``sklearn.datasets.load_digits()`` holds 1797 real handwritten digits (UCI
optical digits, ~180 per class), 8x8 pixels with values 0..16. They ship
inside the scikit-learn wheel, so this loader never touches the network. Each
digit is scaled to [0, 1], upsampled bilinearly to ``digit_size`` pixels and
centred on a black ``canvas_size`` canvas, leaving a margin so translations
have room before content wraps around or falls off the grid.
"""

from __future__ import annotations

import jax
import numpy as np

_DIGIT_PIXELS = 8        # load_digits images are 8x8
_DIGIT_MAX_VALUE = 16.0  # with integer values 0..16


def _positive_int(value, name: str) -> int:
  # Kept local: data depends on nothing else in the project.
  if (not isinstance(value, (int, np.integer)) or isinstance(value, bool) or
      value < 1):
    raise ValueError(f'{name} must be a positive int; got {value!r}.')
  return int(value)


def embedded_digits(*, canvas_size: int = 32, digit_size: int = 24,
                    limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
  """Loads sklearn's digits, upsampled and centred on a black canvas.

  Args:
    canvas_size: side of the square output images, int >= 1.
    digit_size: side of the upsampled digit, int in 1..canvas_size. The digit
      sits at rows/columns ``(canvas_size - digit_size) // 2`` onwards.
    limit: keep only the first ``limit`` digits (int >= 1), or None for all
      1797.

  Returns:
    ``(images, labels)``: images ``[N, canvas_size, canvas_size, 1]`` float32
    in [0, 1] (background exactly 0), labels ``[N]`` int64 in 0..9.

  Raises:
    ValueError: if a size is not a positive int, ``digit_size >
      canvas_size``, or ``limit`` is not None or a positive int.
  """
  canvas_size = _positive_int(canvas_size, 'canvas_size')
  digit_size = _positive_int(digit_size, 'digit_size')
  if digit_size > canvas_size:
    raise ValueError(f'digit_size must be <= canvas_size = {canvas_size}; got '
                     f'{digit_size}.')
  if limit is not None:
    limit = _positive_int(limit, 'limit')
  # Imported here: sklearn costs ~1 s to import, and only this loader needs it.
  from sklearn import datasets  # pylint: disable=g-import-not-at-top
  digits = datasets.load_digits()
  images = np.asarray(digits.images[:limit], np.float32) / _DIGIT_MAX_VALUE
  labels = np.asarray(digits.target[:limit], np.int64)
  n = images.shape[0]  # images: [N, 8, 8]
  if digit_size != _DIGIT_PIXELS:
    # Half-pixel-centred bilinear interpolation (triangle kernel): a convex
    # combination of neighbours, so values stay in [0, 1].
    images = np.asarray(jax.image.resize(
        images, (n, digit_size, digit_size), method='bilinear'))
  images = np.clip(images, 0.0, 1.0)
  canvas = np.zeros((n, canvas_size, canvas_size, 1), np.float32)
  top = (canvas_size - digit_size) // 2
  canvas[:, top:top + digit_size, top:top + digit_size, 0] = images
  return canvas, labels
