"""Embedded default data: sklearn's handwritten digits on a larger canvas.

``sklearn.datasets.load_digits()`` holds 1797 real handwritten digits (UCI
optical digits, ~180 per class), 8x8 pixels with values 0..16. They ship
inside the scikit-learn wheel, so this loader never touches the network. Each
digit is scaled to [0, 1], upsampled bilinearly to ``digit_size`` pixels and
centred on a black ``canvas_size`` canvas, leaving a margin so translations
have room before content wraps around or falls off the grid.
"""

from __future__ import annotations

import importlib.util
import os

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
  digit_images, digit_labels = load_digits()
  images = np.asarray(digit_images[:limit], np.float32) / _DIGIT_MAX_VALUE
  labels = np.asarray(digit_labels[:limit], np.int64)
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


# The file scikit-learn ships its digits in, relative to its package folder.
_DIGITS_FILE = ('datasets', 'data', 'digits.csv.gz')


def load_digits() -> tuple[np.ndarray, np.ndarray]:
  """``sklearn.datasets.load_digits()``'s ``(images, target)``.

  Read from the CSV file installed with scikit-learn, as ``load_digits``
  reads it (one row per digit: 64 pixel values, then the label), without
  importing sklearn: ``import sklearn`` takes ~0.8 s (it imports much of
  scipy), paid by every ``main.py`` run on the default data. Falls back to
  ``load_digits`` itself where the file is not at that place.

  Returns:
    ``(images, labels)``: ``[1797, 8, 8]`` float64 with integer values 0..16,
    ``[1797]`` int.
  """
  spec = importlib.util.find_spec('sklearn')
  folders = (spec.submodule_search_locations or []) if spec else []
  for folder in folders:
    path = os.path.join(folder, *_DIGITS_FILE)
    if os.path.isfile(path):
      table = np.loadtxt(path, delimiter=',')
      return (table[:, :-1].reshape(-1, _DIGIT_PIXELS, _DIGIT_PIXELS),
              table[:, -1].astype(int))
  from sklearn import datasets  # pylint: disable=g-import-not-at-top
  digits = datasets.load_digits()
  return digits.images, digits.target
