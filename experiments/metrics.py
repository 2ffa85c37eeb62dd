"""Accuracy and robustness metrics of a trained classifier.

Two kinds of functions:

* pure functions of logits (``[N, K]``) and labels (``[N]``):
  :func:`accuracy`, :func:`agreement`, :func:`top1_change`,
  :func:`top1_probability_change`;
* functions of a ``predict_fn`` (``images [B, H, W, C] in [0, 1] -> logits
  [B, K]``) and a set of images, which transform the images on the host
  (NumPy, with :mod:`data`'s shifts and rotations, so results are
  bit-reproducible) and call ``predict_fn`` on fixed-size batches (one
  compile): :func:`accuracy_vs_shift`, :func:`shift_consistency`,
  :func:`one_pixel_shift_sensitivity`, :func:`accuracy_vs_rotation`.

Shifts follow :mod:`groups`: ``(dy, dx)`` moves content ``dy`` rows down and
``dx`` columns right. 'zeros' shifts move a digit on its black canvas (content
that leaves the grid is lost, zeros enter); 'circular' shifts roll the image
on the torus.

Definitions (N images, each counted once):

* consistency (Zhang, "Making convolutional networks shift-invariant again",
  ICML 2019): the fraction of images whose top-1 class is the same for two
  independently, uniformly drawn shifts ``(dy, dx)`` in
  ``[-max_shift, max_shift]^2`` of the same image (Zhang draws two random
  crops, which is a zero-fill shift on a padded canvas; ``mode='circular'``
  gives the circular-shift variant).
* P(top-1 change) and mean absolute change (Azulay & Weiss, "Why do deep
  convolutional networks generalize so poorly to small image
  transformations?", JMLR 2019): for each 1-pixel shift ``t`` (default
  right and down) of the base image ``x``, whether ``argmax p(T_t x)``
  differs from ``c = argmax p(x)``, and ``|p_c(T_t x) - p_c(x)|``, the change
  of the softmax probability of the base image's top-1 class; both are
  averaged over images and shifts. The same two under a one-pixel change of
  the object's size (:func:`one_pixel_rescale_sensitivity`: the object
  rescaled about the canvas centre by ``(n +- 1) / n``, band-limited and
  anti-aliased, :func:`groups.scale.rescale`), through one code path
  (:func:`sensitivity`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence

import jax
import numpy as np

import data
from groups import scale

PredictFn = Callable[[np.ndarray], jax.Array]
SHIFT_MODES = ('zeros', 'circular')
# Default shift directions of accuracy_vs_shift: right, down, left, up.
AXIS_DIRECTIONS = ((0, 1), (1, 0), (0, -1), (-1, 0))
ONE_PIXEL_SHIFTS = ((0, 1), (1, 0))  # right, down
DEFAULT_BATCH_SIZE = 256


# ---------------------------------------------------------------------------
# Argument checks.
# ---------------------------------------------------------------------------


def _check_logits(logits, name: str = 'logits') -> np.ndarray:
  logits = np.asarray(logits)
  if logits.ndim != 2 or logits.shape[1] < 1:
    raise ValueError(f'{name} must have shape [N, K] with K >= 1; got '
                     f'{logits.shape}.')
  return logits


def _check_labels(labels, num: int) -> np.ndarray:
  labels = np.asarray(labels)
  if labels.shape != (num,) or not np.issubdtype(labels.dtype, np.integer):
    raise ValueError(f'labels must be integers of shape [N] = ({num},); got '
                     f'{labels.dtype} {labels.shape}.')
  return labels


def _check_pair(a, b, name_a: str, name_b: str) -> tuple[np.ndarray,
                                                         np.ndarray]:
  a, b = _check_logits(a, name_a), _check_logits(b, name_b)
  if a.shape != b.shape:
    raise ValueError(f'{name_a} and {name_b} must have the same shape [N, K]; '
                     f'got {a.shape} and {b.shape}.')
  return a, b


def _check_images(images) -> np.ndarray:
  images = np.asarray(images)
  if images.ndim != 4 or images.shape[0] < 1:
    raise ValueError(f'images must have shape [N, H, W, C] with N >= 1; got '
                     f'{images.shape}.')
  return images


def _check_int(value, name: str, *, minimum: int) -> int:
  if (not isinstance(value, numbers.Integral) or isinstance(value, bool) or
      value < minimum):
    raise ValueError(f'{name} must be an int >= {minimum}; got {value!r}.')
  return int(value)


def _check_mode(mode: str) -> None:
  if mode not in SHIFT_MODES:
    raise ValueError(f'mode must be one of {", ".join(map(repr, SHIFT_MODES))}'
                     f'; got {mode!r}.')


def _check_shift_pairs(shifts, name: str) -> np.ndarray:
  array = np.asarray(shifts)
  if (array.ndim != 2 or array.shape[1] != 2 or array.shape[0] < 1 or
      not np.issubdtype(array.dtype, np.integer)):
    raise ValueError(f'{name} must be a non-empty sequence of integer (dy, dx) '
                     f'pairs; got {shifts!r}.')
  return array.astype(np.int64)


# ---------------------------------------------------------------------------
# Pure functions of logits.
# ---------------------------------------------------------------------------


def accuracy(logits: jax.typing.ArrayLike,
             labels: jax.typing.ArrayLike) -> float:
  """Fraction of examples whose top-1 class is the label.

  Args:
    logits: ``[N, K]`` scores (or probabilities).
    labels: ``[N]`` ints in ``0..K - 1``.

  Returns:
    A float in [0, 1]. Ties go to the lowest class index (``argmax``).
  """
  logits = _check_logits(logits)
  labels = _check_labels(labels, logits.shape[0])
  return float(np.mean(np.argmax(logits, axis=-1) == labels))


def agreement(logits_a: jax.typing.ArrayLike,
              logits_b: jax.typing.ArrayLike) -> float:
  """Fraction of examples with the same top-1 class in ``a`` and ``b``.

  Zhang's consistency when ``a`` and ``b`` are the logits of two random
  shifts of the same images.

  Args:
    logits_a: ``[N, K]``.
    logits_b: ``[N, K]``.

  Returns:
    A float in [0, 1].
  """
  a, b = _check_pair(logits_a, logits_b, 'logits_a', 'logits_b')
  return float(np.mean(np.argmax(a, axis=-1) == np.argmax(b, axis=-1)))


def top1_change(base_logits: jax.typing.ArrayLike,
                moved_logits: jax.typing.ArrayLike) -> float:
  """Fraction of examples whose top-1 class changes from base to moved.

  Azulay & Weiss's P(top-1 change) when ``moved`` are 1-pixel shifts.

  Args:
    base_logits: ``[N, K]`` logits of the untransformed images.
    moved_logits: ``[N, K]`` logits of the transformed images.

  Returns:
    A float in [0, 1]: ``1 - agreement(base_logits, moved_logits)``.
  """
  return 1.0 - agreement(base_logits, moved_logits)


def top1_probability_change(base_logits: jax.typing.ArrayLike,
                            moved_logits: jax.typing.ArrayLike) -> float:
  """Mean ``|p_c(moved) - p_c(base)|`` with ``c`` the base top-1 class.

  Azulay & Weiss's mean absolute change (MAC); ``p`` is the softmax of the
  logits.

  Args:
    base_logits: ``[N, K]`` logits of the untransformed images.
    moved_logits: ``[N, K]`` logits of the transformed images.

  Returns:
    A float in [0, 1].
  """
  base, moved = _check_pair(base_logits, moved_logits, 'base_logits',
                            'moved_logits')
  top1 = np.argmax(base, axis=-1)[:, None]
  change = np.abs(np.take_along_axis(softmax(moved), top1, axis=-1) -
                  np.take_along_axis(softmax(base), top1, axis=-1))
  return float(np.mean(change))


def softmax(logits: jax.typing.ArrayLike) -> np.ndarray:
  """Softmax over the last axis in float64 NumPy (no per-shape compiles)."""
  logits = np.asarray(logits, np.float64)
  exp = np.exp(logits - logits.max(axis=-1, keepdims=True))
  return exp / exp.sum(axis=-1, keepdims=True)


# ---------------------------------------------------------------------------
# Functions of a model.
# ---------------------------------------------------------------------------


def predict(predict_fn: PredictFn, images: np.ndarray, *,
            batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
  """``predict_fn`` over ``images [N, H, W, C]`` in fixed-size batches.

  The last batch is zero-padded to ``min(batch_size, N)`` so that a jitted
  ``predict_fn`` compiles once.

  Returns:
    NumPy logits ``[N, K]``.
  """
  images = _check_images(images)
  batch_size = min(_check_int(batch_size, 'batch_size', minimum=1),
                   images.shape[0])
  outputs = []
  for start in range(0, images.shape[0], batch_size):
    batch = images[start:start + batch_size]
    valid = batch.shape[0]
    if valid < batch_size:
      batch = np.concatenate(
          [batch, np.zeros((batch_size - valid,) + batch.shape[1:],
                           batch.dtype)])
    outputs.append(np.asarray(predict_fn(batch))[:valid])
  return np.concatenate(outputs)


def shift(images: np.ndarray, shifts: Sequence[int] | np.ndarray, *,
          mode: str = 'zeros') -> np.ndarray:
  """Shifts every image by its own or one common ``(dy, dx)`` (NumPy).

  Args:
    images: ``[N, H, W, C]``.
    shifts: a ``(dy, dx)`` pair or an int ``[N, 2]`` array.
    mode: 'zeros' (:func:`data.zero_fill_shift`) or 'circular'
      (:func:`data.circular_shift`).

  Returns:
    ``[N, H, W, C]`` NumPy array.
  """
  _check_mode(mode)
  fn = data.zero_fill_shift if mode == 'zeros' else data.circular_shift
  return np.asarray(fn(np.asarray(images), np.asarray(shifts, np.int64)))


def accuracy_vs_shift(predict_fn: PredictFn, images: np.ndarray,
                      labels: np.ndarray, *, max_shift: int,
                      directions: Sequence[tuple[int, int]] = AXIS_DIRECTIONS,
                      mode: str = 'zeros',
                      batch_size: int = DEFAULT_BATCH_SIZE
                      ) -> dict[int, float]:
  """Accuracy on images shifted by ``k = 0..max_shift`` pixels.

  Args:
    predict_fn: ``images [B, H, W, C] -> logits [B, K]``.
    images: ``[N, H, W, C]`` in [0, 1] (e.g. digits centred on a canvas).
    labels: ``[N]`` ints.
    max_shift: largest shift in pixels, int >= 0.
    directions: unit ``(dy, dx)`` steps; shift ``k`` is applied as ``k *
      direction`` for each direction and the accuracies are averaged.
      Default: right, down, left, up.
    mode: 'zeros' (a digit moving on its canvas) or 'circular'.
    batch_size: images per ``predict_fn`` call.

  Returns:
    ``{k: accuracy}`` for ``k = 0..max_shift``.
  """
  images = _check_images(images)
  labels = _check_labels(labels, images.shape[0])
  max_shift = _check_int(max_shift, 'max_shift', minimum=0)
  directions = _check_shift_pairs(directions, 'directions')
  _check_mode(mode)
  result = {}
  for k in range(max_shift + 1):
    accuracies = []
    for direction in (directions[:1] if k == 0 else directions):
      moved = shift(images, tuple(int(v) for v in k * direction), mode=mode)
      accuracies.append(accuracy(
          predict(predict_fn, moved, batch_size=batch_size), labels))
    result[k] = float(np.mean(accuracies))
  return result


def random_shifts(num: int, *, max_shift: int, seed: int) -> np.ndarray:
  """int64 ``[num, 2]`` shifts; each entry uniform in ``-max_shift..max_shift``.

  A pure function of its arguments (``numpy.random.default_rng(seed)``).
  """
  num = _check_int(num, 'num', minimum=0)
  max_shift = _check_int(max_shift, 'max_shift', minimum=0)
  seed = _check_int(seed, 'seed', minimum=0)
  rng = np.random.default_rng(seed)
  return rng.integers(-max_shift, max_shift + 1, size=(num, 2),
                      dtype=np.int64)


def shift_consistency(predict_fn: PredictFn, images: np.ndarray, *,
                      max_shift: int, mode: str = 'zeros', seed: int = 0,
                      batch_size: int = DEFAULT_BATCH_SIZE) -> float:
  """Zhang's consistency: same top-1 class for two random shifts of an image.

  Args:
    predict_fn: ``images [B, H, W, C] -> logits [B, K]``.
    images: ``[N, H, W, C]``.
    max_shift: each shift component is uniform in ``-max_shift..max_shift``
      (int >= 0), drawn independently for the two copies.
    mode: 'zeros' (Zhang's random crops of a padded image) or 'circular'.
    seed: int >= 0; the two sets of shifts are ``random_shifts(N, ...,
      seed=seed)`` stacked as ``[2, N, 2]``.
    batch_size: images per ``predict_fn`` call.

  Returns:
    A float in [0, 1].
  """
  images = _check_images(images)
  _check_mode(mode)
  n = images.shape[0]
  shifts = random_shifts(2 * n, max_shift=max_shift, seed=seed).reshape(2, n,
                                                                        2)
  logits = [predict(predict_fn, shift(images, s, mode=mode),
                    batch_size=batch_size) for s in shifts]
  return agreement(*logits)


def one_pixel_shift_sensitivity(
    predict_fn: PredictFn, images: np.ndarray, *,
    shifts: Sequence[tuple[int, int]] = ONE_PIXEL_SHIFTS,
    mode: str = 'zeros', batch_size: int = DEFAULT_BATCH_SIZE
    ) -> dict[str, float]:
  """Azulay & Weiss's P(top-1 change) and mean absolute change (MAC).

  Args:
    predict_fn: ``images [B, H, W, C] -> logits [B, K]``.
    images: ``[N, H, W, C]``, the base images (e.g. centred digits).
    shifts: the ``(dy, dx)`` moves compared with the base; default 1 pixel
      right and 1 pixel down.
    mode: 'zeros' (move on the canvas) or 'circular'.
    batch_size: images per ``predict_fn`` call.

  Returns:
    ``{'p_top1_change': float, 'mean_abs_change': float}``, each the mean
    over the shifts of :func:`top1_change` and
    :func:`top1_probability_change` against the base images.
  """
  images = _check_images(images)
  shifts = _check_shift_pairs(shifts, 'shifts')
  _check_mode(mode)
  return sensitivity(predict_fn, images, [
      shift(images, tuple(int(v) for v in s), mode=mode) for s in shifts],
                     batch_size=batch_size)


def sensitivity(predict_fn: PredictFn, images: np.ndarray,
                moved: Sequence[np.ndarray], *,
                batch_size: int = DEFAULT_BATCH_SIZE) -> dict[str, float]:
  """P(top-1 change) and mean absolute change of ``moved`` vs ``images``.

  The one code path of Azulay & Weiss's two measures, whatever the move
  (1-pixel shifts, 1-pixel rescales).

  Args:
    predict_fn: ``images [B, H, W, C] -> logits [B, K]``.
    images: ``[N, H, W, C]`` base images.
    moved: one ``[N, H, W, C]`` array per move.
    batch_size: images per ``predict_fn`` call.

  Returns:
    ``{'p_top1_change', 'mean_abs_change'}``: the means over moves and
    images of :func:`top1_change` and :func:`top1_probability_change`.
  """
  images = _check_images(images)
  base = predict(predict_fn, images, batch_size=batch_size)
  changes, abs_changes = [], []
  for other in moved:
    logits = predict(predict_fn, _check_images(other), batch_size=batch_size)
    changes.append(top1_change(base, logits))
    abs_changes.append(top1_probability_change(base, logits))
  return {'p_top1_change': float(np.mean(changes)),
          'mean_abs_change': float(np.mean(abs_changes))}


def rescale(images: np.ndarray, factor: float) -> np.ndarray:
  """Images rescaled about their centre by ``factor`` (:func:`groups.scale.
  rescale`: band-limited, anti-aliased, zeros outside), clipped to [0, 1]
  (the sinc kernel rings at sharp edges)."""
  images = _check_images(images)
  out = np.asarray(scale.rescale(images.astype(np.float32), float(factor)))
  return np.clip(out, 0.0, 1.0)


def one_pixel_rescale_sensitivity(
    predict_fn: PredictFn, images: np.ndarray, *, object_size: int,
    batch_size: int = DEFAULT_BATCH_SIZE) -> dict[str, float]:
  """Azulay & Weiss's measures under a one-pixel change of the object's size.

  The object (e.g. a 24-pixel digit centred on a 32-pixel canvas: their
  canvas protocol) is rescaled about the centre to ``object_size + 1`` and
  ``object_size - 1`` pixels (:func:`rescale`).

  Returns:
    ``{'p_top1_change_rescale', 'mean_abs_change_rescale'}``.
  """
  images = _check_images(images)
  size = _check_int(object_size, 'object_size', minimum=2)
  if size + 1 > max(images.shape[1:3]):
    raise ValueError(f'object_size must leave the object on the canvas when '
                     f'grown by one pixel: at most {max(images.shape[1:3]) - 1}'
                     f' for {images.shape[1]}x{images.shape[2]} images; got '
                     f'{size}.')
  result = sensitivity(predict_fn, images, [
      rescale(images, (size + d) / size) for d in (1, -1)],
                       batch_size=batch_size)
  return {f'{key}_rescale': value for key, value in result.items()}


def accuracy_vs_rescale(predict_fn: PredictFn, images: np.ndarray,
                        labels: np.ndarray, *, factors: Sequence[float],
                        batch_size: int = DEFAULT_BATCH_SIZE
                        ) -> dict[float, float]:
  """Accuracy on images rescaled by each factor (:func:`rescale`)."""
  images = _check_images(images)
  labels = _check_labels(labels, images.shape[0])
  result = {}
  for factor in factors:
    if (not isinstance(factor, numbers.Real) or isinstance(factor, bool) or
        not math.isfinite(factor) or factor <= 0):
      raise ValueError(f'factors must hold finite numbers > 0; got '
                       f'{factor!r}.')
    result[float(factor)] = accuracy(predict(
        predict_fn, rescale(images, factor), batch_size=batch_size), labels)
  return result


def probability_curves(predict_fn: PredictFn, images: np.ndarray,
                       labels: np.ndarray, *, object_size: int,
                       sizes: Sequence[float], shifts: Sequence[int],
                       batch_size: int = DEFAULT_BATCH_SIZE
                       ) -> dict[str, np.ndarray]:
  """The probability of the correct class against object size and shift.

  Azulay & Weiss's Figure 1: "jagged" curves. Sizes rescale the
  ``object_size``-pixel object to each size (pixels); shifts move it right
  on its canvas (pixels, zero fill).

  Returns:
    ``{'size': [N, len(sizes)], 'shift': [N, len(shifts)]}`` probabilities.
  """
  images = _check_images(images)
  labels = _check_labels(labels, images.shape[0])
  size = _check_int(object_size, 'object_size', minimum=2)
  rows = np.arange(images.shape[0])

  def correct(moved):
    return softmax(predict(predict_fn, moved, batch_size=batch_size))[
        rows, labels]

  return {'size': np.stack([correct(rescale(images, s / size))
                            for s in sizes], axis=1),
          'shift': np.stack([correct(shift(images, (0, int(d))))
                             for d in shifts], axis=1)}


def accuracy_vs_rotation(predict_fn: PredictFn, images: np.ndarray,
                         labels: np.ndarray, *, angles: Sequence[float],
                         batch_size: int = DEFAULT_BATCH_SIZE
                         ) -> dict[float, float]:
  """Accuracy on images rotated by each angle (:func:`data.rotate`).

  Args:
    predict_fn: ``images [B, H, W, C] -> logits [B, K]``.
    images: ``[N, H, W, C]`` floating, in [0, 1].
    labels: ``[N]`` ints.
    angles: radians, counter-clockwise (bilinear, zero fill outside).
    batch_size: images per ``predict_fn`` call.

  Returns:
    ``{angle: accuracy}`` in the order given.
  """
  images = _check_images(images)
  labels = _check_labels(labels, images.shape[0])
  result = {}
  for angle in angles:
    if (not isinstance(angle, numbers.Real) or isinstance(angle, bool) or
        not math.isfinite(angle)):
      raise ValueError(f'angles must hold finite numbers (radians); got '
                       f'{angle!r}.')
    rotated = np.asarray(data.rotate(images.astype(np.float32), float(angle)))
    result[float(angle)] = accuracy(
        predict(predict_fn, rotated, batch_size=batch_size), labels)
  return result


def binomial_interval(errors: int, num: int, *, z: float = 1.959964
                      ) -> tuple[float, float]:
  """Wilson score interval of an error rate ``errors / num`` (95 % for z).

  The test set is a sample: ``errors`` wrong out of ``num`` images gives
  the rate ``errors / num`` and this interval for the true error rate
  (Wilson 1927; unlike the normal approximation it stays inside [0, 1]
  and is sensible at 0 errors).

  Args:
    errors: misclassified images, int in ``[0, num]``.
    num: images evaluated, int >= 1.
    z: the standard normal quantile (1.959964: a 95 % interval).

  Returns:
    ``(low, high)`` error rates in [0, 1].
  """
  num = _check_int(num, 'num', minimum=1)
  errors = _check_int(errors, 'errors', minimum=0)
  if errors > num:
    raise ValueError(f'errors must be <= num = {num}; got {errors}.')
  rate = errors / num
  denominator = 1 + z * z / num
  centre = (rate + z * z / (2 * num)) / denominator
  half = z * math.sqrt(rate * (1 - rate) / num + z * z / (4 * num * num)
                       ) / denominator
  return max(0.0, centre - half), min(1.0, centre + half)
