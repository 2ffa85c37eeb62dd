"""Data sets for experiments (used only by :mod:`experiments`).

* :func:`load_dataset` — one split of 'digits', 'digits_translated', 'mnist',
  'mnist_translated', 'mnist_rot', 'mnist_scale' or 'cifar10' as a
  :class:`Dataset`
  (images float32 ``[N, H, W, C]`` in [0, 1], labels int64 ``[N]``, train
  mean/std). MNIST and CIFAR-10 come from local npz files or tfds data
  sources (:mod:`data.sources`); the digits ship with scikit-learn.
* :func:`embedded_digits` — scikit-learn's 8x8 handwritten digits, upsampled
  and centred on a black canvas; works offline on a fresh machine.
* Transformations on ``[N, H, W, C]`` (:mod:`data.transforms`):
  :func:`place_on_canvas`, :func:`random_offsets`, :func:`random_translate`,
  :func:`circular_shift`, :func:`zero_fill_shift`, :func:`rotate`, and the
  in-``jit`` augmentations :func:`augment_shift`, :func:`augment_rotate`,
  :func:`augment_rescale`.
"""

from data.datasets import clear_cache
from data.datasets import Dataset
from data.datasets import DATASETS
from data.datasets import load_dataset
from data.datasets import SPLITS
from data.embedded import embedded_digits
from data.sources import DATA_DIR_ENV
from data.sources import SOURCES
from data.transforms import augment_rescale
from data.transforms import augment_rotate
from data.transforms import augment_shift
from data.transforms import circular_shift
from data.transforms import place_on_canvas
from data.transforms import random_offsets
from data.transforms import random_translate
from data.transforms import rotate
from data.transforms import zero_fill_shift

__all__ = [
    'augment_rescale', 'augment_rotate', 'augment_shift', 'circular_shift', 'clear_cache',
    'DATA_DIR_ENV', 'Dataset', 'DATASETS', 'embedded_digits', 'load_dataset',
    'place_on_canvas', 'random_offsets', 'random_translate', 'rotate',
    'SOURCES', 'SPLITS', 'zero_fill_shift',
]
