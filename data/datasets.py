"""``load_dataset``: every data set of the studies as one :class:`Dataset` type.

========================  ====================================================
name                      what it is
========================  ====================================================
'digits'                  scikit-learn's 1797 handwritten digits (offline,
                          :func:`data.embedded_digits`), 24 pixels wide,
                          centred on a black ``canvas_size`` canvas (default
                          32). Fixed split: digit ``i`` is a test digit when
                          ``i % 5 == 4`` (359 test, 1438 train, ~36 / ~144 per
                          class).
'digits_translated'       the same digits and split, each at a random position
                          (``seed``, ``max_shift``) on the canvas (default 32,
                          >= 24).
'mnist'                   MNIST 28x28 (60000 train / 10000 test); centred on a
                          larger black canvas if ``canvas_size`` is given.
'mnist_translated'        MNIST digits at random positions on a
                          ``canvas_size`` canvas (default 40, >= 28).
'mnist_rot'               rotated MNIST after the MNIST-rot protocol of
                          Larochelle et al. (2007): 10000 train, 2000
                          validation, 50000 test digits, each rotated by an
                          angle uniform in [0, 2 pi). Built here from
                          mnist.npz and ``seed``; *not* the original files.
'mnist_scale'             rescaled MNIST after the MNIST-scale protocol of
                          Sosnovik et al. (SESN, ICLR 2020): 10000 train,
                          2000 validation, 50000 test digits, each shrunk by
                          a factor uniform in [0.3, 1] on the 28x28 grid.
                          Built here from mnist.npz and ``seed``; *not* the
                          authors' files.
'cifar10'                 CIFAR-10 32x32x3 (50000 train / 10000 test).
========================  ====================================================

Construction of the transformed MNIST sets (deterministic in ``seed``; one
recipe for both): the 70000 MNIST digits (train then test, original order)
are permuted with ``numpy.random.default_rng(seed)``; the first 62000 of the
permutation are split 10000 / 2000 / 50000 into train / validation / test,
and digit ``k`` of that list is transformed by parameter ``k`` drawn next
from the same generator (``uniform(..., 62000)``), in fixed chunks of
2048 digits so that a prefix (``limit``) is bit-identical to the full split:

* 'mnist_rot': angles uniform in [0, 2 pi) (``Dataset.angles``), applied
  with :func:`data.rotate` (bilinear, about the image centre, zero fill).
  The original used the same recipe on MNIST but its own random draws.
* 'mnist_scale': factors uniform in ``MNIST_SCALE_RANGE = (0.3, 1.0)``
  (``Dataset.factors``), applied with :func:`groups.scale.rescale`
  (``boundary='zeros'``: about the image centre, zeros outside, kept on the
  28x28 grid), then clipped to [0, 1]. This is the SESN protocol
  (``prepare_datasets.py``, ``make_mnist_scale_50k``: torchvision
  ``RandomAffine(0, scale=(0.3, 1))``) with our own random draws, our own
  resampler (band-limited and anti-aliased rather than PIL's bicubic), float
  pixels rather than 8-bit PNGs, and a plain permutation where theirs
  stratifies the splits by class.

Numbers are therefore comparable to published results in protocol, not
example by example.

Images are float32 ``[N, H, W, C]`` in [0, 1] and labels int64 ``[N]``; the
arrays of a returned :class:`Dataset` are read-only (they may be shared with
the in-process cache), so normalise into a new array:
``(ds.images - np.array(ds.mean)) / np.array(ds.std)``.
"""

from __future__ import annotations

from collections.abc import Callable
import dataclasses
import functools
import math
import os

import numpy as np

from data import embedded
from data import sources
from data import transforms
from groups import scale
from groups import validate

DATASETS = ('digits', 'digits_translated', 'mnist', 'mnist_translated',
            'mnist_rot', 'mnist_scale', 'cifar10')
SPLITS = {
    'digits': ('train', 'test'),
    'digits_translated': ('train', 'test'),
    'mnist': ('train', 'test'),
    'mnist_translated': ('train', 'test'),
    'mnist_rot': ('train', 'validation', 'test'),
    'mnist_scale': ('train', 'validation', 'test'),
    'cifar10': ('train', 'test'),
}
SOURCES = sources.SOURCES
DEFAULT_CANVAS_SIZE = {'digits': 32, 'digits_translated': 32,
                       'mnist_translated': 40}
TRANSLATED = ('digits_translated', 'mnist_translated')
NUM_CLASSES = 10
DIGIT_SIZE = 24        # side of an upsampled sklearn digit
DIGITS_TEST_EVERY = 5  # digit i is a test digit when i % 5 == 4
# The transformed MNIST sets ('mnist_rot', 'mnist_scale'): [start, stop) of
# each split in the list of 62000 digits drawn from the pool.
TRANSFORMED_MNIST_SPLITS = {'train': (0, 10000), 'validation': (10000, 12000),
                            'test': (12000, 62000)}
TRANSFORMED_MNIST_TOTAL = 62000
MNIST_POOL = 70000     # 60000 train + 10000 test digits
MNIST_SCALE_RANGE = (0.3, 1.0)  # SESN's MNIST-scale: shrink by 0.3 .. 1
_TRANSFORM_CHUNK = 2048  # fixed chunks: a prefix is bit-identical to the set


@dataclasses.dataclass(frozen=True, eq=False)
class Dataset:
  """One split of a data set, in memory.

  Attributes:
    images: float32 ``[N, H, W, C]`` in [0, 1].
    labels: int64 ``[N]`` in ``0..num_classes - 1``.
    num_classes: number of classes.
    name: the data set's name as passed to :func:`load_dataset`.
    mean: per-channel pixel mean of the *whole train split* (same canvas and
      transformation, regardless of ``limit``), for normalisation.
    std: per-channel pixel standard deviation of the whole train split.
    split: 'train', 'validation' or 'test'.
    angles: float64 ``[N]`` rotation of each image in radians
      (counter-clockwise) for rotated sets ('mnist_rot'), else None.
    factors: float64 ``[N]`` scale factor of each image (< 1 shrinks) for
      rescaled sets ('mnist_scale'), else None.
    offsets: int64 ``[N, 2]`` top-left ``(row, column)`` of each digit on the
      canvas for translated sets, else None; the centred position is
      ``((H - h) // 2, (W - w) // 2)``.
  """
  images: np.ndarray
  labels: np.ndarray
  num_classes: int
  name: str
  mean: tuple[float, ...]
  std: tuple[float, ...]
  split: str = ''
  angles: np.ndarray | None = None
  offsets: np.ndarray | None = None
  factors: np.ndarray | None = None

  def __post_init__(self):
    layout = '[N, H, W, C]'
    validate.check_array(self.images, 'images', rank=4, layout=layout)
    if min(self.images.shape) < 1:
      raise ValueError(f'images must hold at least one example with H, W, '
                       f'C >= 1 (layout {layout}); got shape '
                       f'{tuple(self.images.shape)}.')
    # min and max propagate NaN: two passes find NaN, Inf and a bad range.
    low, high = float(np.min(self.images)), float(np.max(self.images))
    if not (math.isfinite(low) and math.isfinite(high)):
      validate.check_finite(self.images, 'images', layout=layout)
    if low < 0 or high > 1:
      raise ValueError(f'images must be in [0, 1] (divide 8-bit images by '
                       f'255); got values in [{low:g}, {high:g}].')
    n, channels = self.images.shape[0], self.images.shape[-1]
    num_classes = validate.integer(self.num_classes, 'num_classes',
                                    minimum=1)
    if (not hasattr(self.labels, 'shape') or
        not np.issubdtype(np.asarray(self.labels).dtype, np.integer) or
        self.labels.shape != (n,)):
      got = (f'{self.labels.dtype} {tuple(self.labels.shape)}'
             if hasattr(self.labels, 'shape') else type(self.labels).__name__)
      raise ValueError(f'labels must have shape [N] = ({n},) and an int '
                       f'dtype; got {got}.')
    if self.labels.min() < 0 or self.labels.max() >= num_classes:
      raise ValueError(
          f'labels must be in 0..{num_classes - 1} (num_classes = '
          f'{num_classes}); got {self.labels.min()}..{self.labels.max()}.')
    for field in ('mean', 'std'):
      values = getattr(self, field)
      if (not hasattr(values, '__len__') or len(values) != channels or
          not all(isinstance(v, (int, float, np.integer, np.floating)) and
                  math.isfinite(v) for v in values)):
        raise ValueError(f'{field} must have one value per channel '
                         f'({channels}), each finite; got {values!r}.')
    if min(self.std) <= 0:
      raise ValueError(f'std must be > 0 per channel (images are divided by '
                       f'it); got {self.std!r}.')
    if self.angles is not None and (np.shape(self.angles) != (n,) or
                                    not np.isfinite(self.angles).all()):
      raise ValueError(f'angles must be None or finite radians of shape [N] '
                       f'= ({n},); got shape {np.shape(self.angles)}.')
    if self.factors is not None:
      shape = np.shape(self.factors)
      if shape != (n,) or not np.all(np.isfinite(self.factors) &
                                     (np.asarray(self.factors) > 0)):
        got = (f'values in [{np.min(self.factors):g}, '
               f'{np.max(self.factors):g}]' if shape == (n,) else
               f'shape {shape}')
        raise ValueError(f'factors must be None or finite scale factors > 0 '
                         f'of shape [N] = ({n},); got {got}.')
    if self.offsets is not None and np.shape(self.offsets) != (n, 2):
      raise ValueError(f'offsets must be None or an int array [N, 2] = '
                       f'({n}, 2); got shape {np.shape(self.offsets)}.')

  def __len__(self) -> int:
    return int(self.images.shape[0])

  @property
  def image_shape(self) -> tuple[int, int, int]:
    """``(H, W, C)``."""
    return tuple(self.images.shape[1:])


# --------------------------------------------------------------------------
# Helpers.
# --------------------------------------------------------------------------


def _mean_std(sums, squares, num_pixels: int, scale: float
              ) -> tuple[tuple[float, ...], tuple[float, ...]]:
  mean = np.asarray(sums) * scale / num_pixels
  variance = np.asarray(squares) * scale**2 / num_pixels - mean**2
  std = np.sqrt(np.maximum(variance, 0.0))
  return tuple(float(m) for m in mean), tuple(float(s) for s in std)


def _to_unit_float(images: np.ndarray) -> np.ndarray:
  out = images.astype(np.float32)
  out /= np.float32(255)  # in place: one float copy of a large set
  return out


def _split_seed(seed: int, name: str, split: str) -> int:
  """An independent seed per (seed, data set, split)."""
  entropy = [seed, DATASETS.index(name), SPLITS[name].index(split)]
  return int(np.random.SeedSequence(entropy).generate_state(1)[0])


def _read_only(*arrays):
  for array in arrays:
    if array is not None:
      array.flags.writeable = False


# --------------------------------------------------------------------------
# Digits (offline).
# --------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _digits(canvas_size: int, digit_size: int
            ) -> tuple[np.ndarray, np.ndarray]:
  images, labels = embedded.embedded_digits(canvas_size=canvas_size,
                                            digit_size=digit_size)
  _read_only(images, labels)
  return images, labels


def _digits_split_mask(num: int, split: str) -> np.ndarray:
  is_test = np.arange(num) % DIGITS_TEST_EVERY == DIGITS_TEST_EVERY - 1
  return is_test if split == 'test' else ~is_test


def _load_digits(name, split, *, canvas_size, limit, seed, max_shift):
  if name == 'digits':
    images, labels = _digits(canvas_size, min(DIGIT_SIZE, canvas_size))
    train = images[_digits_split_mask(len(images), 'train')]
    mean, std = _mean_std(*sources.pixel_moments(train), scale=1.0)
    mask = _digits_split_mask(len(images), split)
    return dict(images=images[mask][:limit], labels=labels[mask][:limit],
                mean=mean, std=std)
  if canvas_size < DIGIT_SIZE:
    raise ValueError(f'canvas_size must be >= {DIGIT_SIZE} (the digit size) '
                     f"for 'digits_translated'; got {canvas_size}.")
  digits, labels = _digits(DIGIT_SIZE, DIGIT_SIZE)
  train = digits[_digits_split_mask(len(digits), 'train')]
  sums, squares, _ = sources.pixel_moments(train)
  mean, std = _mean_std(sums, squares, len(train) * canvas_size**2, scale=1.0)
  mask = _digits_split_mask(len(digits), split)
  offsets = transforms.random_offsets(
      int(mask.sum()), image_size=DIGIT_SIZE, canvas_size=canvas_size,
      max_shift=max_shift, seed=_split_seed(seed, name, split))[:limit]
  images = transforms.place_on_canvas(digits[mask][:limit],
                                      canvas_size=canvas_size, offsets=offsets)
  return dict(images=images, labels=labels[mask][:limit], mean=mean, std=std,
              offsets=offsets)


# --------------------------------------------------------------------------
# MNIST / CIFAR-10 and their variants.
# --------------------------------------------------------------------------


def _resolve_source(name: str, source: str, data_dir) -> str:
  if source != 'auto':
    return source
  return 'npz' if sources.npz_path(name, data_dir).is_file() else 'tfds'


@functools.lru_cache(maxsize=8)
def _raw_train_moments(name, source, data_dir, download):
  images, _ = sources.load_raw(name, 'train', source=source,
                               data_dir=data_dir, download=download)
  return sources.pixel_moments(images), images.shape[0]


def _load_raw_variant(name, split, *, raw_name, canvas_size, limit, seed,
                      max_shift, source, data_dir, download):
  h, w = sources.RAW[raw_name].image_shape[:2]
  size = (h, w) if canvas_size is None else (canvas_size, canvas_size)
  raw_images, labels = sources.load_raw(raw_name, split, source=source,
                                        data_dir=data_dir, download=download)
  (sums, squares, _), num_train = _raw_train_moments(raw_name, source,
                                                     data_dir, download)
  mean, std = _mean_std(sums, squares, num_train * size[0] * size[1],
                        scale=1 / 255)
  images = _to_unit_float(raw_images[:limit])
  out = dict(labels=labels[:limit], mean=mean, std=std)
  if name == 'mnist_translated':
    offsets = transforms.random_offsets(
        raw_images.shape[0], image_size=(h, w), canvas_size=size,
        max_shift=max_shift, seed=_split_seed(seed, name, split))[:limit]
    out['offsets'] = offsets
  elif size != (h, w):
    offsets = ((size[0] - h) // 2, (size[1] - w) // 2)
  else:
    offsets = None
  if offsets is not None:
    images = transforms.place_on_canvas(images, canvas_size=size,
                                        offsets=offsets)
  out['images'] = images
  return out


@dataclasses.dataclass(frozen=True)
class _MnistTransform:
  """How a transformed MNIST set draws its per-digit parameters and applies
  them (module docstring)."""
  field: str  # the Dataset field holding the parameters
  draw: Callable[[np.random.Generator, int], np.ndarray]
  # (float32 images [n, 28, 28, 1], parameters [n]) -> images, NumPy or JAX.
  apply: Callable[[np.ndarray, np.ndarray], object]


_MNIST_TRANSFORMS = {
    'mnist_rot': _MnistTransform(
        'angles', lambda rng, n: rng.uniform(0.0, 2 * math.pi, n),
        transforms.rotate),
    'mnist_scale': _MnistTransform(
        'factors', lambda rng, n: rng.uniform(*MNIST_SCALE_RANGE, n),
        lambda images, factors: scale.rescale(images, factors,
                                              boundary='zeros')),
}
TRANSFORMED_MNIST = tuple(_MNIST_TRANSFORMS)


def _transformed_mnist_plan(name: str, seed: int
                            ) -> tuple[np.ndarray, np.ndarray]:
  """Indices into the 70000-digit pool and parameters, ``[62000]`` each."""
  rng = np.random.default_rng(seed)
  indices = rng.permutation(MNIST_POOL)[:TRANSFORMED_MNIST_TOTAL]
  return indices, _MNIST_TRANSFORMS[name].draw(rng, TRANSFORMED_MNIST_TOTAL)


def _transformed_digits(name, seed, split, count, *, source, data_dir,
                        download):
  """The first ``count`` digits of a split: images, labels, parameters."""
  train_x, train_y = sources.load_raw('mnist', 'train', source=source,
                                      data_dir=data_dir, download=download)
  test_x, test_y = sources.load_raw('mnist', 'test', source=source,
                                    data_dir=data_dir, download=download)
  if train_x.shape[0] + test_x.shape[0] != MNIST_POOL:
    raise ValueError(
        f'{name!r} is built from the {MNIST_POOL} MNIST digits; the '
        f'{source} source has {train_x.shape[0]} + {test_x.shape[0]}.')
  indices, params = _transformed_mnist_plan(name, seed)
  start, stop = TRANSFORMED_MNIST_SPLITS[split]
  indices, params = indices[start:stop], params[start:stop]
  apply = _MNIST_TRANSFORMS[name].apply
  num_train = train_x.shape[0]
  chunks = []
  # Whole fixed-size chunks, so a prefix is bit-identical to the full split.
  for begin in range(0, count, _TRANSFORM_CHUNK):
    chunk = indices[begin:begin + _TRANSFORM_CHUNK]
    from_train = chunk < num_train
    raw = np.where(from_train[:, None, None, None],
                   train_x[np.minimum(chunk, num_train - 1)],
                   test_x[np.maximum(chunk - num_train, 0)])
    moved = apply(_to_unit_float(raw), params[begin:begin + _TRANSFORM_CHUNK])
    chunks.append(np.clip(np.asarray(moved, np.float32), 0.0, 1.0))
  images = (np.concatenate(chunks) if chunks else
            np.zeros((0, 28, 28, 1), np.float32))[:count]
  labels = np.where(indices < num_train,
                    train_y[np.minimum(indices, num_train - 1)],
                    test_y[np.maximum(indices - num_train, 0)])[:count]
  return images, labels.astype(np.int64), params[:count]


@functools.lru_cache(maxsize=3)
def _transformed_mnist_split(name, seed, split, source, data_dir, download):
  start, stop = TRANSFORMED_MNIST_SPLITS[split]
  arrays = _transformed_digits(name, seed, split, stop - start, source=source,
                               data_dir=data_dir, download=download)
  _read_only(*arrays)
  return arrays


@functools.lru_cache(maxsize=8)
def _transformed_mnist_train_moments(name, seed, source, data_dir, download):
  images, _, _ = _transformed_mnist_split(name, seed, 'train', source,
                                          data_dir, download)
  return sources.pixel_moments(images), images.shape[0]


def _load_transformed_mnist(name, split, *, canvas_size, limit, seed, source,
                            data_dir, download):
  size = 28 if canvas_size is None else canvas_size
  start, stop = TRANSFORMED_MNIST_SPLITS[split]
  key = (name, seed, source, data_dir, download)
  if limit is None or limit >= stop - start:
    images, labels, params = _transformed_mnist_split(
        name, seed, split, source, data_dir, download)
  else:  # a prefix: cheap, and not worth caching
    images, labels, params = _transformed_digits(
        name, seed, split, limit, source=source, data_dir=data_dir,
        download=download)
  (sums, squares, _), num_train = _transformed_mnist_train_moments(*key)
  mean, std = _mean_std(sums, squares, num_train * size**2, scale=1.0)
  if size != 28:
    images = transforms.place_on_canvas(images, canvas_size=size,
                                        offsets=((size - 28) // 2,) * 2)
  return {'images': images, 'labels': labels, 'mean': mean, 'std': std,
          _MNIST_TRANSFORMS[name].field: params}


# --------------------------------------------------------------------------
# The entry point.
# --------------------------------------------------------------------------


def load_dataset(name: str, *, split: str,
                 data_dir: str | os.PathLike | None = None,
                 source: str = 'auto', limit: int | None = None,
                 seed: int = 0, canvas_size: int | None = None,
                 max_shift: int | None = None,
                 download: bool = False) -> Dataset:
  """Loads one split of a data set (see the module docstring for the list).

  Args:
    name: 'digits', 'digits_translated', 'mnist', 'mnist_translated',
      'mnist_rot', 'mnist_scale' or 'cifar10'.
    split: 'train' or 'test'; 'mnist_rot' and 'mnist_scale' also have
      'validation'.
    data_dir: folder holding ``mnist.npz`` / ``cifar10.npz`` (and prepared
      tfds data for ``source='tfds'``); default ``$EQUIVLAB_DATA_DIR``, else
      ``<repo>/../shared/data`` (tfds: its own default).
    source: 'auto' (the npz file if it exists, else tfds), 'npz' or 'tfds'
      (``tfds.data_source``, array_record, no TensorFlow needed to read).
      The digits sets ship with scikit-learn and accept only 'auto'.
    limit: keep the first ``limit`` examples of the split (int >= 1), or None.
    seed: int >= 0; draws the positions of the translated sets and the
      digits and angles (factors) of 'mnist_rot' ('mnist_scale'). Unused by
      the other sets.
    canvas_size: side of the square output images: for 'digits' (default 32)
      the canvas the 24-pixel digit is centred on (a smaller canvas shrinks
      the digit); for the translated sets the canvas of the random positions
      (default 32 and 40); for 'mnist', 'mnist_rot', 'mnist_scale' and
      'cifar10' None keeps the native size and a larger value centres the
      image on a black canvas.
    max_shift: translated sets only: None (any position where the digit
      fits) or the largest displacement in pixels, per axis, from the centre.
    download: for tfds, let it download and prepare a missing data set
      (needs a network, and TensorFlow for tfds' built-in builders).

  Returns:
    A :class:`Dataset` with read-only arrays.

  Raises:
    ValueError: on an unknown name, split or source, a bad option, or a
      missing, truncated or wrong data file (the message says where it looked
      and how to point ``data_dir`` elsewhere).
  """
  validate.check_choice(name, 'name', DATASETS)
  if split not in SPLITS[name]:
    accepted = ', '.join(map(repr, SPLITS[name]))
    raise ValueError(f'split must be one of {accepted} for {name!r}; got '
                     f'{split!r}.')
  validate.check_choice(source, 'source', SOURCES)
  if name.startswith('digits') and source != 'auto':
    raise ValueError(f"source must be 'auto' for {name!r} (it ships with "
                     f'scikit-learn and is always offline); got {source!r}.')
  if limit is not None:
    limit = validate.integer(limit, 'limit', minimum=1)
  seed = validate.integer(seed, 'seed', minimum=0)
  if canvas_size is None:
    canvas_size = DEFAULT_CANVAS_SIZE.get(name)
  if canvas_size is not None:
    canvas_size = validate.integer(canvas_size, 'canvas_size', minimum=1)
  if max_shift is not None:
    if name not in TRANSLATED:
      raise ValueError(f'max_shift applies only to '
                       f'{", ".join(map(repr, TRANSLATED))}; got max_shift='
                       f'{max_shift!r} for {name!r}.')
    max_shift = validate.integer(max_shift, 'max_shift', minimum=0)
  if not isinstance(download, bool):
    raise ValueError(f'download must be True or False; got {download!r}.')
  if data_dir is not None:
    sources.data_dir_or_default(data_dir)  # validates the type

  if name.startswith('digits'):
    fields = _load_digits(name, split, canvas_size=canvas_size, limit=limit,
                          seed=seed, max_shift=max_shift)
  else:
    raw_name = 'cifar10' if name == 'cifar10' else 'mnist'
    native = sources.RAW[raw_name].image_shape[0]
    if canvas_size is not None and canvas_size < native:
      raise ValueError(f'canvas_size must be >= the image size {native} for '
                       f'{name!r}; got {canvas_size}.')
    # Concrete cache keys: the same folder and source whatever
    # $EQUIVLAB_DATA_DIR or the folder's contents are later.
    data_key = (os.environ.get(sources.DATA_DIR_ENV) or None
                if data_dir is None else os.fspath(data_dir))
    resolved = _resolve_source(raw_name, source, data_key)
    common = dict(canvas_size=canvas_size, limit=limit, seed=seed,
                  source=resolved, data_dir=data_key, download=download)
    try:
      if name in TRANSFORMED_MNIST:
        fields = _load_transformed_mnist(name, split, **common)
      else:
        fields = _load_raw_variant(name, split, raw_name=raw_name,
                                   max_shift=max_shift, **common)
    except ValueError as error:
      if source == 'auto' and resolved == 'tfds':
        raise ValueError(sources.auto_failed(raw_name, data_key, error)
                         ) from error
      raise
  dataset = Dataset(num_classes=NUM_CLASSES, name=name, split=split, **fields)
  _read_only(dataset.images, dataset.labels, dataset.angles, dataset.offsets,
             dataset.factors)
  return dataset


def clear_cache() -> None:
  """Frees every data set cached in-process (raw files and derived sets)."""
  sources.clear_cache()
  _digits.cache_clear()
  _raw_train_moments.cache_clear()
  _transformed_mnist_split.cache_clear()
  _transformed_mnist_train_moments.cache_clear()
