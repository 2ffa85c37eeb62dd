"""Bad inputs to the data package raise a ValueError naming the argument.

Covers data sets, raw sources, embedded digits and image transforms. One row
``(name, call, regex)`` per case, grouped by module and, within a module, by
function; the fixtures and the runner are in tests/bad_input.py.
"""

from absl.testing import absltest
import jax
import numpy as np

import data
from experiments.configs import train as train_config
from experiments.train import config_checks
from tests import bad_input
from tests.bad_input import FLOAT, KEY, X, X_INT


def _dataset(**fields):
  """A valid 2-example data set with ``fields`` replaced."""
  defaults = dict(images=np.zeros((2, 4, 4, 1), np.float32),
                  labels=np.array([0, 1]), num_classes=10, name='x',
                  mean=(0.0,), std=(1.0,))
  return data.Dataset(**{**defaults, **fields})


def _check_train_config(**fields):
  """Checks the tiny training config with ``fields`` replaced."""
  config = train_config.get_config('tiny')
  config.update(fields)
  config_checks.check_config(config)


# (name, call, regex the ValueError message must match)
BAD_INPUTS = (
    # data/datasets.py
    ('dataset_images_nan', lambda: _dataset(
        images=np.full((2, 4, 4, 1), np.nan, np.float32)),
     r'^images must be finite \(layout \[N, H, W, C\]\); got 32 NaN and 0 '
     r'infinite values'),
    ('dataset_images_inf', lambda: _dataset(
        images=np.full((2, 4, 4, 1), np.inf, np.float32)),
     r'^images must be finite .*; got 0 NaN and 32 infinite values'),
    ('dataset_empty', lambda: _dataset(
        images=np.zeros((0, 4, 4, 1), np.float32),
        labels=np.zeros(0, np.int64)),
     r'^images must hold at least one example .*; got shape \(0, 4, 4, 1\)'),
    ('dataset_images_0_to_255', lambda: _dataset(
        images=np.full((2, 4, 4, 1), 255.0, np.float32)),
     r'^images must be in \[0, 1\] \(divide 8-bit images by 255\); got '
     r'values in \[255, 255\]'),
    ('dataset_images_uint8', lambda: _dataset(
        images=np.zeros((2, 4, 4, 1), np.uint8)), r'^images ' + FLOAT),
    ('dataset_labels_out_of_range', lambda: _dataset(
        labels=np.array([0, 10])),
     r'^labels must be in 0\.\.9 \(num_classes = 10\); got 0\.\.10'),
    ('dataset_labels_negative', lambda: _dataset(labels=np.array([-1, 0])),
     r'^labels must be in 0\.\.9 .*; got -1\.\.0'),
    ('dataset_labels_float', lambda: _dataset(labels=np.array([0.0, 1.0])),
     r'^labels must have shape \[N\] = \(2,\) and an int dtype; got float64'),
    ('dataset_labels_list', lambda: _dataset(labels=[0, 1]),
     r'^labels must have shape \[N\] = \(2,\) and an int dtype; got list'),
    ('dataset_num_classes_0', lambda: _dataset(num_classes=0),
     r'^num_classes must be in 1\.\.'),
    ('dataset_std_0', lambda: _dataset(std=(0.0,)),
     r'^std must be > 0 per channel'),
    ('dataset_mean_nan', lambda: _dataset(mean=(float('nan'),)),
     r'^mean must have one value per channel \(1\), each finite'),
    ('dataset_angles_shape', lambda: _dataset(angles=np.zeros(3)),
     r'^angles must be None or finite radians of shape \[N\] = \(2,\)'),
    ('dataset_factors_shape', lambda: _dataset(factors=np.ones(3)),
     r'^factors must be None or finite scale factors > 0 of shape \[N\] = '
     r'\(2,\); got shape \(3,\)'),
    ('dataset_factors_zero', lambda: _dataset(factors=np.array([0.5, 0.0])),
     r'^factors must be None or finite scale factors > 0 .*; got values in '
     r'\[0, 0\.5\]'),
    ('dataset_factors_nan', lambda: _dataset(
        factors=np.array([0.5, np.nan])), r'^factors must be None or finite'),
    ('dataset_offsets_shape', lambda: _dataset(offsets=np.zeros((2,), int)),
     r'^offsets must be None or an int array \[N, 2\]'),
    ('load_dataset_name', lambda: data.load_dataset('svhn', split='train'),
     r"^name must be one of 'digits', 'digits_translated', 'mnist', "
     r"'mnist_translated', 'mnist_rot', 'mnist_scale', 'cifar10'; got "
     r"'svhn'"),
    ('load_dataset_split', lambda: data.load_dataset('digits', split='val'),
     r"^split must be one of 'train', 'test' for 'digits'; got 'val'"),
    ('load_dataset_source', lambda: data.load_dataset(
        'mnist', split='test', source='http'),
     r"^source must be one of 'auto', 'npz', 'tfds'; got 'http'"),
    ('load_dataset_limit_0', lambda: data.load_dataset(
        'digits', split='test', limit=0), r'^limit must be in 1\.\.'),
    ('load_dataset_canvas', lambda: data.load_dataset(
        'digits_translated', split='test', canvas_size=8),
     r'^canvas_size must be >= 24'),
    ('load_dataset_limit_negative', lambda: data.load_dataset(
        'digits', split='test', limit=-1), r'^limit must be in 1\.\.'),
    ('load_dataset_limit_float', lambda: data.load_dataset(
        'digits', split='test', limit=2.0), r'^limit must be an int'),
    ('load_dataset_seed_negative', lambda: data.load_dataset(
        'digits', split='test', seed=-1), r'^seed must be in 0\.\.'),
    ('load_dataset_canvas_0', lambda: data.load_dataset(
        'digits', split='test', canvas_size=0),
     r'^canvas_size must be in 1\.\.'),
    ('load_dataset_max_shift_negative', lambda: data.load_dataset(
        'digits_translated', split='test', max_shift=-1),
     r'^max_shift must be in 0\.\.'),
    ('load_dataset_max_shift_wrong_set', lambda: data.load_dataset(
        'digits', split='test', max_shift=2),
     r"^max_shift applies only to 'digits_translated', 'mnist_translated'"),
    ('load_dataset_download_not_bool', lambda: data.load_dataset(
        'digits', split='test', download='yes'),
     r'^download must be True or False'),
    ('load_dataset_data_dir_type', lambda: data.load_dataset(
        'mnist', split='test', data_dir=3), r'^data_dir must be a path'),
    ('load_dataset_source_for_digits', lambda: data.load_dataset(
        'digits', split='test', source='npz'), r"^source must be 'auto' for"),
    ('load_dataset_canvas_smaller_than_mnist', lambda: data.load_dataset(
        'mnist', split='test', canvas_size=20),
     r"^canvas_size must be >= the image size 28 for 'mnist'; got 20"),
    ('load_dataset_name_case', lambda: data.load_dataset(
        'MNIST', split='test'), r"^name must be one of 'digits'"),

    # experiments/train/config_checks.py: the fields of augment='rescale'.
    ('config_augment', lambda: _check_train_config(augment='scale'),
     r"^config\.augment must be one of 'none', 'shift', 'rotate', "
     r"'rescale'; got 'scale'"),
    ('config_min_scale_factor_0', lambda: _check_train_config(
        min_scale_factor=0.0),
     r'^config\.min_scale_factor must be a finite number in \(0, inf\)'),
    ('config_max_scale_factor_inf', lambda: _check_train_config(
        max_scale_factor=float('inf')),
     r'^config\.max_scale_factor must be a finite number in \(0, inf\)'),
    ('config_max_scale_factor_below_min', lambda: _check_train_config(
        min_scale_factor=1.5, max_scale_factor=1.0),
     r'^config\.max_scale_factor must be >= config\.min_scale_factor = '
     r'1\.5; got 1'),

    # data/embedded.py
    ('embedded_digits_canvas_0', lambda: data.embedded_digits(canvas_size=0),
     r'^canvas_size must be a positive int'),
    ('embedded_digits_digit_too_big', lambda: data.embedded_digits(
        canvas_size=8, digit_size=9), r'^digit_size must be <= canvas_size'),

    # data/sources.py
    ('raw_load_npz_split', lambda: data.sources.load_npz('mnist', 'val', None),
     r"^split must be one of 'train', 'test'; got 'val'"),
    ('raw_load_raw_source', lambda: data.sources.load_raw(
        'mnist', 'train', source='http', data_dir=None),
     r"^source must be one of 'auto', 'npz', 'tfds'; got 'http'"),
    ('raw_npz_path_name', lambda: data.sources.npz_path('svhn', None),
     r"^name must be one of 'mnist', 'cifar10' \(raw data sets\); got 'svhn'"),
    ('raw_pixel_moments_rank', lambda: data.sources.pixel_moments(
        np.ones((4, 4))), r'^images must be a NumPy array \[N, H, W, C\]'),

    # data/transforms.py
    ('augment_rotate_inf', lambda: data.augment_rotate(
        jax.random.PRNGKey(0), X, max_angle=float('inf')),
     r'^max_angle must be a finite real number >= 0'),
    ('augment_rotate_order', lambda: data.augment_rotate(
        KEY, X, max_angle=1.0, order=3), r'^order must be one of 0'),
    ('augment_rescale_min_0', lambda: data.transforms.augment_rescale(
        KEY, X, min_factor=0.0, max_factor=2.0),
     r'^min_factor must be a finite number in \(0\.0, inf\); got 0\.0'),
    ('augment_rescale_min_nan', lambda: data.transforms.augment_rescale(
        KEY, X, min_factor=float('nan'), max_factor=2.0), r'^min_factor must'),
    ('augment_rescale_max_inf', lambda: data.transforms.augment_rescale(
        KEY, X, min_factor=0.5, max_factor=float('inf')),
     r'^max_factor must be a finite number'),
    ('augment_rescale_max_below_min', lambda: data.transforms.augment_rescale(
        KEY, X, min_factor=2.0, max_factor=0.5),
     r'^max_factor must be >= min_factor = 2; got 0\.5'),
    ('augment_rescale_bool', lambda: data.transforms.augment_rescale(
        KEY, X, min_factor=True, max_factor=2.0), r'^min_factor must'),
    ('augment_rescale_int_images', lambda: data.transforms.augment_rescale(
        KEY, X_INT, min_factor=0.5, max_factor=2.0), r'^images ' + FLOAT),
    ('augment_rescale_key', lambda: data.transforms.augment_rescale(
        0, X, min_factor=0.5, max_factor=2.0),
     r'^key must be a jax\.random key'),
    ('augment_shift_mode', lambda: data.augment_shift(
        jax.random.PRNGKey(0), X, max_shift=1, mode='wrap'),
     r"^mode must be one of 'zeros', 'circular'; got 'wrap'"),
    ('augment_shift_key', lambda: data.augment_shift(0, X, max_shift=1),
     r'^key must be a jax\.random key'),
    ('circular_shift_rank', lambda: data.circular_shift(X[0], (1, 1)),
     r'^images must have rank 4 \(\[N, H, W, C\]\)'),
    ('circular_shift_float_shifts', lambda: data.circular_shift(
        X, (0.5, 1.0)), r'^shifts must hold integers'),
    ('circular_shift_inf', lambda: data.circular_shift(
        X * np.inf, (1, 0)), r'^images must be finite'),
    ('place_on_canvas_offsets', lambda: data.place_on_canvas(
        X, canvas_size=5, offsets=(2, 0)),
     r'^offsets must be in 0\.\.1 \(rows\)'),
    ('place_on_canvas_offsets_shape', lambda: data.place_on_canvas(
        X, canvas_size=5, offsets=np.zeros((1, 3), np.int64)),
     r'^offsets must be a \(dy, dx\) pair or an \[N, 2\] array'),
    ('place_on_canvas_nan', lambda: data.place_on_canvas(
        X * np.nan, canvas_size=5, offsets=(0, 0)),
     r'^images must be finite'),
    ('place_on_canvas_canvas_0', lambda: data.place_on_canvas(
        X, canvas_size=0, offsets=(0, 0)), r'^canvas_size must be >= 1'),
    ('random_offsets_canvas', lambda: data.random_offsets(
        2, image_size=5, canvas_size=4),
     r'^canvas_size must be at least image_size'),
    ('random_offsets_num_negative', lambda: data.random_offsets(
        -1, image_size=4, canvas_size=5), r'^num must be in 0\.\.'),
    ('random_translate_max_shift_negative', lambda: data.random_translate(
        X, canvas_size=5, max_shift=-1), r'^max_shift must be in 0\.\.'),
    ('rotate_order', lambda: data.rotate(X, 0.1, order=2),
     r'^order must be one of 0 \(nearest\), 1 \(bilinear\)'),
    ('rotate_int', lambda: data.rotate(X_INT, 0.1),
     r'^images ' + FLOAT),
    ('rotate_nan', lambda: data.rotate(X, float('nan')),
     r'^angles must be finite'),
    ('rotate_angles_inf', lambda: data.rotate(X, np.array([np.inf])),
     r'^angles must be finite \(radians\); got 1 non-finite values'),
    ('rotate_angles_shape', lambda: data.rotate(X, np.zeros(3)),
     r'^angles must be a scalar or an \[N\] array with N = 1'),
    ('zero_fill_shift_empty_grid', lambda: data.zero_fill_shift(
        np.ones((1, 0, 4, 1), np.float32), (1, 0)),
     r'^images must have H, W, C >= 1'),
)


class DataBadInputTest(bad_input.make_test_case(BAD_INPUTS)):
  """Each row of :data:`BAD_INPUTS` is one test."""


if __name__ == '__main__':
  absltest.main()
