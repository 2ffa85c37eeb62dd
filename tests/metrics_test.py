"""Robustness metrics (experiments/metrics.py) against hand-computed cases.

The model-level metrics are checked with a "column classifier": a NumPy
``predict_fn`` whose top-1 class is the column of the brightest image
column, so shifts and rotations change its answer in ways worked out by hand.
"""

import math

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from experiments import metrics

WIDTH = 5
CONFIDENCE = 10.0  # logit of the predicted class; the others are 0


def column_classifier(images):
  """``[B, H, W, 1] -> [B, W]``: class = brightest column (0 if all zero)."""
  columns = np.asarray(images).sum(axis=(1, 3))  # [B, W]
  return CONFIDENCE * np.eye(columns.shape[1])[np.argmax(columns, axis=1)]


def dot_images(columns, *, row=2, size=WIDTH):
  """One bright pixel per image at ``(row, column)``: ``[N, size, size, 1]``."""
  images = np.zeros((len(columns), size, size, 1), np.float32)
  images[np.arange(len(columns)), row, columns, 0] = 1.0
  return images


class PureMetricsTest(parameterized.TestCase):

  def test_accuracy(self):
    logits = [[2, 1, 0], [0, 3, 1], [1, 0, 0], [0, 0, 5]]
    # argmax [0, 1, 0, 2] vs labels [0, 1, 2, 2]: 3 of 4.
    self.assertEqual(metrics.accuracy(logits, np.array([0, 1, 2, 2])), 0.75)

  def test_accuracy_ties_go_to_the_lowest_class(self):
    self.assertEqual(metrics.accuracy([[1.0, 1.0]], np.array([0])), 1.0)
    self.assertEqual(metrics.accuracy([[1.0, 1.0]], np.array([1])), 0.0)

  def test_agreement_and_top1_change(self):
    a = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 0]]  # argmax 0, 1, 2, 1
    b = [[1, 0, 0], [0, 0, 1], [0, 0, 1], [1, 0, 0]]  # argmax 0, 2, 2, 0
    self.assertEqual(metrics.agreement(a, b), 0.5)
    self.assertEqual(metrics.top1_change(a, b), 0.5)
    self.assertEqual(metrics.top1_change(a, a), 0.0)

  def test_top1_probability_change(self):
    # Example 1: p(base) = [3/4, 1/4], top-1 class 0; p(moved) = [1/2, 1/2]:
    # |1/2 - 3/4| = 1/4. Example 2: unchanged, 0. Mean 1/8.
    base = [[math.log(3.0), 0.0], [0.0, math.log(4.0)]]
    moved = [[0.0, 0.0], [0.0, math.log(4.0)]]
    self.assertAlmostEqual(metrics.top1_probability_change(base, moved),
                           0.125, places=6)

  def test_top1_probability_change_uses_the_base_class(self):
    # The top-1 class flips 0 -> 1 but p_0 goes 0.8 -> 0.2: change 0.6.
    base = [[math.log(4.0), 0.0]]
    moved = [[0.0, math.log(4.0)]]
    self.assertAlmostEqual(metrics.top1_probability_change(base, moved), 0.6,
                           places=6)

  @parameterized.named_parameters(
      ('rank', lambda: metrics.accuracy([1, 2], np.array([0, 1])), 'logits'),
      ('labels_shape', lambda: metrics.accuracy([[1, 2]], np.array([0, 1])),
       'labels'),
      ('labels_float', lambda: metrics.accuracy([[1, 2]], np.array([0.0])),
       'labels'),
      ('pair_shape', lambda: metrics.agreement([[1, 2]], [[1, 2, 3]]),
       'same shape'),
      ('mode', lambda: metrics.shift(np.zeros((1, 2, 2, 1)), (0, 1),
                                     mode='wrap'), 'mode'),
      ('max_shift', lambda: metrics.random_shifts(2, max_shift=-1, seed=0),
       'max_shift'),
      ('empty_images', lambda: metrics.predict(column_classifier,
                                               np.zeros((0, 2, 2, 1))),
       'images'),
      ('batch_size', lambda: metrics.predict(column_classifier,
                                             np.zeros((1, 2, 2, 1)),
                                             batch_size=0), 'batch_size'),
      ('directions', lambda: metrics.accuracy_vs_shift(
          column_classifier, dot_images([1]), np.array([1]), max_shift=1,
          directions=[(0.5, 0)]), 'directions'),
      ('angles', lambda: metrics.accuracy_vs_rotation(
          column_classifier, dot_images([1]), np.array([1]),
          angles=[float('nan')]), 'angles'),
      ('object_size_too_big', lambda: metrics.one_pixel_rescale_sensitivity(
          column_classifier, dot_images([1]), object_size=5),
       r'^object_size must leave the object on the canvas'),
      ('object_size_text', lambda: metrics.one_pixel_rescale_sensitivity(
          column_classifier, dot_images([1]), object_size='3'),
       r'^object_size must be'),
      ('rescale_factors', lambda: metrics.accuracy_vs_rescale(
          column_classifier, dot_images([1]), np.array([1]), factors=[0.0]),
       r'^factors must hold finite numbers > 0'),
  )
  def test_rejects_bad_arguments(self, call, message):
    with self.assertRaisesRegex(ValueError, message):
      call()


class ModelMetricsTest(parameterized.TestCase):

  def test_shift_moves_content_down_and_right(self):
    image = dot_images([0], row=0, size=3)
    out = metrics.shift(image, (1, 2))
    self.assertEqual(out[0, 1, 2, 0], 1.0)
    self.assertEqual(out.sum(), 1.0)
    wrapped = metrics.shift(image, (2, 3), mode='circular')  # column 3 -> 0
    self.assertEqual(wrapped[0, 2, 0, 0], 1.0)
    self.assertEqual(metrics.shift(image, (3, 0)).sum(), 0.0)  # fell off

  def test_predict_pads_the_last_batch(self):
    shapes = []

    def fn(batch):
      shapes.append(batch.shape[0])
      return column_classifier(batch)

    images = dot_images([0, 1, 2, 3, 4])
    logits = metrics.predict(fn, images, batch_size=2)
    self.assertEqual(shapes, [2, 2, 2])
    np.testing.assert_array_equal(np.argmax(logits, axis=1), [0, 1, 2, 3, 4])

  def test_accuracy_vs_shift_one_direction(self):
    images, labels = dot_images([1, 2, 3, 2]), np.array([1, 2, 3, 2])
    # Right by k: the dot is at column label + k, never the label (k >= 1).
    result = metrics.accuracy_vs_shift(column_classifier, images, labels,
                                       max_shift=2, directions=[(0, 1)])
    self.assertEqual(result, {0: 1.0, 1: 0.0, 2: 0.0})

  def test_accuracy_vs_shift_averages_directions(self):
    images, labels = dot_images([1, 2, 3, 2]), np.array([1, 2, 3, 2])
    # Down keeps the column (1.0) until the dot in row 2 falls off the
    # 5-row grid at k = 3 (all-zero image -> class 0, wrong): 0.0. Right:
    # always wrong.
    result = metrics.accuracy_vs_shift(column_classifier, images, labels,
                                       max_shift=3,
                                       directions=[(0, 1), (1, 0)])
    self.assertEqual(result, {0: 1.0, 1: 0.5, 2: 0.5, 3: 0.0})

  def test_accuracy_vs_shift_circular_wraps_around(self):
    images, labels = dot_images([1, 2, 3, 2]), np.array([1, 2, 3, 2])
    result = metrics.accuracy_vs_shift(column_classifier, images, labels,
                                       max_shift=WIDTH, directions=[(0, 1)],
                                       mode='circular')
    self.assertEqual(result[WIDTH], 1.0)   # a full turn of the torus
    self.assertEqual(result[1], 0.0)

  def test_default_directions_are_right_down_left_up(self):
    self.assertEqual(metrics.AXIS_DIRECTIONS,
                     ((0, 1), (1, 0), (0, -1), (-1, 0)))

  def test_random_shifts_are_reproducible_and_in_range(self):
    a = metrics.random_shifts(1000, max_shift=2, seed=3)
    np.testing.assert_array_equal(a, metrics.random_shifts(1000, max_shift=2,
                                                           seed=3))
    self.assertEqual(a.shape, (1000, 2))
    self.assertEqual(set(np.unique(a)), {-2, -1, 0, 1, 2})

  def test_consistency_without_shifts_is_one(self):
    images = dot_images([0, 1, 2, 3])
    self.assertEqual(metrics.shift_consistency(column_classifier, images,
                                               max_shift=0), 1.0)

  def test_consistency_of_the_column_classifier(self):
    # Circular: the predicted column is (c + dx) mod W, so the two copies
    # agree exactly when their dx agree modulo W.
    columns = np.arange(40) % WIDTH
    images = dot_images(columns)
    shifts = metrics.random_shifts(80, max_shift=1, seed=7).reshape(2, 40, 2)
    expected = np.mean(shifts[0, :, 1] % WIDTH == shifts[1, :, 1] % WIDTH)
    self.assertEqual(
        metrics.shift_consistency(column_classifier, images, max_shift=1,
                                  mode='circular', seed=7), expected)

  def test_consistency_of_an_invariant_model_is_one(self):
    def total_intensity(images):  # the same logits for any circular shift
      return np.asarray(images).sum(axis=(1, 2)) * np.array([[1.0, -1.0]])
    images = np.random.default_rng(0).random((16, 6, 6, 1))
    self.assertEqual(metrics.shift_consistency(
        total_intensity, images, max_shift=3, mode='circular'), 1.0)

  def test_one_pixel_shift_sensitivity(self):
    images = dot_images([0, 1, 2, 3])
    result = metrics.one_pixel_shift_sensitivity(column_classifier, images)
    # Right: every top-1 class changes and p_c drops from
    # e^10 / (e^10 + 4) to 1 / (e^10 + 4); down: nothing changes.
    e = math.exp(CONFIDENCE)
    self.assertEqual(result['p_top1_change'], 0.5)
    self.assertAlmostEqual(result['mean_abs_change'],
                           0.5 * (e - 1) / (e + WIDTH - 1), places=6)

  def test_accuracy_vs_rotation(self):
    images, labels = dot_images([1, 2, 3, 2]), np.array([1, 2, 3, 2])
    # A half turn about the centre (2, 2) sends column c to 4 - c: only the
    # dots in the middle column stay right.
    result = metrics.accuracy_vs_rotation(column_classifier, images, labels,
                                          angles=[0.0, math.pi])
    self.assertEqual(result, {0.0: 1.0, math.pi: 0.5})


  def test_rescale_sensitivity_of_a_centre_pixel_model_is_zero(self):
    # A rescale about the centre keeps the centre pixel's value (it reads
    # position c exactly), so a model of that pixel alone never changes; a
    # model of an off-centre pixel does.
    images = np.random.default_rng(0).random((6, 9, 9, 1)).astype(np.float32)

    def pixel_model(row, col):
      def predict(x):
        value = np.asarray(x)[:, row, col, 0]
        return np.stack([10 * value, 10 * (1 - value)], axis=1)
      return predict

    centre = metrics.one_pixel_rescale_sensitivity(
        pixel_model(4, 4), images, object_size=5)
    self.assertEqual(centre['p_top1_change_rescale'], 0.0)
    self.assertLess(centre['mean_abs_change_rescale'], 1e-5)
    edge = metrics.one_pixel_rescale_sensitivity(
        pixel_model(1, 4), images, object_size=5)
    self.assertGreater(edge['mean_abs_change_rescale'], 0.05)

  def test_sensitivity_is_the_shift_measure_for_shifts(self):
    images = dot_images([0, 1, 2, 3])
    moved = [metrics.shift(images, s) for s in metrics.ONE_PIXEL_SHIFTS]
    self.assertEqual(metrics.sensitivity(column_classifier, images, moved),
                     metrics.one_pixel_shift_sensitivity(column_classifier,
                                                         images))

  def test_accuracy_vs_rescale_and_curves(self):
    images, labels = dot_images([1, 2, 3, 2]), np.array([1, 2, 3, 2])
    # Factor 1 is the identity; the column of an off-centre dot moves under
    # a magnification by 2 (column 1 -> 0, column 3 -> 4).
    result = metrics.accuracy_vs_rescale(column_classifier, images, labels,
                                         factors=[1.0, 2.0])
    self.assertEqual(result[1.0], 1.0)
    self.assertLess(result[2.0], 1.0)
    curves = metrics.probability_curves(
        column_classifier, images, labels, object_size=3, sizes=[3.0, 6.0],
        shifts=[0, 1])
    self.assertEqual(curves['size'].shape, (4, 2))
    self.assertEqual(curves['shift'].shape, (4, 2))
    np.testing.assert_allclose(curves['size'][:, 0], curves['shift'][:, 0],
                               atol=1e-5)   # size 3 of 3 = shift 0


if __name__ == '__main__':
  absltest.main()
