"""Raw MNIST / CIFAR-10 arrays from local ``.npz`` files or tfds data sources.

Two ways to get the same arrays (uint8 images ``[N, H, W, C]``, int64 labels
``[N]``), both verified before use:

* ``npz`` — ``<data_dir>/mnist.npz`` and ``<data_dir>/cifar10.npz`` with the
  arrays ``x_train, y_train, x_test, y_test`` (see ``DATA.md``). ``data_dir``
  defaults to ``$EQUIVLAB_DATA_DIR``, else ``<repo>/../shared/data``. The
  files are checked for: being a readable, complete zip (a truncated or
  corrupted file is reported, not half-read), the four keys, uint8 images of
  the right shape, integer labels in ``0..num_classes - 1`` matching the
  images in number, and the canonical example counts.
* ``tfds`` — ``tfds.data_source(name, split=...)``: random access to a
  prepared **array_record** data set, which needs no TensorFlow. Data are
  read from ``data_dir`` (default: tfds' own, ``$TFDS_DATA_DIR`` or
  ``~/tensorflow_datasets``). With ``download=True`` tfds downloads and
  prepares the data first; that needs a network and, for the built-in
  ``mnist`` / ``cifar10`` builders, TensorFlow. Shapes, dtypes and label
  ranges are checked as for npz (counts are tfds' business).

Loaded arrays are cached in-process (read-only); :func:`clear_cache` frees
them.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import pathlib
import zipfile

import numpy as np

DATA_DIR_ENV = 'EQUIVLAB_DATA_DIR'
REPO_DIR = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = REPO_DIR.parent / 'shared' / 'data'
SOURCES = ('auto', 'npz', 'tfds')
RAW_SPLITS = ('train', 'test')
_MOMENT_CHUNK = 5000  # images per chunk in pixel_moments


@dataclasses.dataclass(frozen=True)
class RawSpec:
  """What a raw data set looks like, wherever it comes from."""
  file: str                        # npz file name in data_dir
  tfds_name: str                   # tfds builder name
  image_shape: tuple[int, int, int]
  num_classes: int
  counts: dict[str, int]           # split -> examples in the npz file


RAW = {
    'mnist': RawSpec('mnist.npz', 'mnist', (28, 28, 1), 10,
                     {'train': 60000, 'test': 10000}),
    'cifar10': RawSpec('cifar10.npz', 'cifar10', (32, 32, 3), 10,
                       {'train': 50000, 'test': 10000}),
}


def data_dir_or_default(data_dir: str | os.PathLike | None) -> pathlib.Path:
  """``data_dir``, else ``$EQUIVLAB_DATA_DIR``, else ``<repo>/../shared/data``.

  Raises:
    ValueError: if ``data_dir`` is not None, a str or an ``os.PathLike``.
  """
  if data_dir is None:
    data_dir = os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR
  if not isinstance(data_dir, (str, os.PathLike)):
    raise ValueError(f'data_dir must be a path (str or os.PathLike) or None; '
                     f'got {data_dir!r}.')
  return pathlib.Path(data_dir).expanduser()


def check_raw(name: str, split: str | None = None) -> None:
  """Raises ValueError unless ``name`` (and ``split``) is a raw data set."""
  if name not in RAW:
    raise ValueError(f'name must be one of {", ".join(map(repr, RAW))} (raw '
                     f'data sets); got {name!r}.')
  if split is not None and split not in RAW_SPLITS:
    raise ValueError(f'split must be one of {", ".join(map(repr, RAW_SPLITS))}'
                     f'; got {split!r}.')


def npz_path(name: str, data_dir: str | os.PathLike | None) -> pathlib.Path:
  check_raw(name)
  return data_dir_or_default(data_dir) / RAW[name].file


def _where_to_put_it(name: str) -> str:
  return (f"Pass data_dir='/folder/with/{RAW[name].file}' (main.py: "
          f'--config.data_dir=...) or set ${DATA_DIR_ENV}; or use '
          f"source='tfds' with a prepared array_record copy (see DATA.md).")


def _verify(name: str, split: str, images: np.ndarray, labels: np.ndarray,
            where: str, *, count: int | None) -> None:
  """Raises ValueError unless the arrays look like ``name``'s ``split``."""
  spec = RAW[name]
  if images.dtype != np.uint8:
    raise ValueError(f'{where}: images of the {split} split must be uint8; got '
                     f'{images.dtype}.')
  if images.ndim != 4 or images.shape[1:] != spec.image_shape:
    raise ValueError(
        f'{where}: images of the {split} split must have shape [N, '
        f'{", ".join(map(str, spec.image_shape))}] (layout [N, H, W, C]); got '
        f'{images.shape}.')
  if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
    raise ValueError(f'{where}: labels of the {split} split must be integers '
                     f'of shape [N]; got {labels.dtype} {labels.shape}.')
  if labels.shape[0] != images.shape[0]:
    raise ValueError(f'{where}: the {split} split has {images.shape[0]} images '
                     f'but {labels.shape[0]} labels.')
  if labels.size and (labels.min() < 0 or labels.max() >= spec.num_classes):
    raise ValueError(
        f'{where}: labels of the {split} split must be in 0..'
        f'{spec.num_classes - 1}; got {labels.min()}..{labels.max()} (a '
        'mislabeled or wrong file).')
  if count is not None and images.shape[0] != count:
    raise ValueError(f'{where}: the {split} split must have {count} examples; '
                     f'got {images.shape[0]} (an incomplete or wrong file).')


def _read_only(array: np.ndarray) -> np.ndarray:
  array.flags.writeable = False
  return array


@functools.lru_cache(maxsize=2)
def _load_npz_cached(name: str, path: str, stamp: tuple[int, int]
                     ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
  del stamp  # part of the cache key only: a replaced file is read again
  corrupt = (f'{path} is truncated, corrupted or not an .npz file '
             f'({{error}}); copy it again. {_where_to_put_it(name)}')
  try:
    npz = np.load(path, allow_pickle=False)
    if not isinstance(npz, np.lib.npyio.NpzFile):
      raise ValueError(f'{path} holds a single array, not an .npz archive of '
                       'x_train, y_train, x_test, y_test (see DATA.md).')
    with npz:
      missing = [f'{prefix}_{split}' for split in RAW_SPLITS
                 for prefix in ('x', 'y') if f'{prefix}_{split}' not in npz]
      if missing:
        raise ValueError(
            f'{path} lacks the arrays {", ".join(missing)}; it has '
            f'{", ".join(sorted(npz.files)) or "none"}. Expected x_train, '
            'y_train, x_test, y_test (see DATA.md).')
      arrays = {split: (npz[f'x_{split}'], npz[f'y_{split}'])
                for split in RAW_SPLITS}
  except (zipfile.BadZipFile, EOFError, OSError) as error:
    raise ValueError(corrupt.format(error=error)) from error
  except ValueError as error:
    if str(error).startswith(path):
      raise
    raise ValueError(corrupt.format(error=error)) from error
  # Contents of every split first, then counts: a wrong array is named as
  # such rather than as a short split.
  for split, (images, labels) in arrays.items():
    _verify(name, split, images, labels, path, count=None)
  for split, (images, labels) in arrays.items():
    _verify(name, split, images, labels, path, count=RAW[name].counts[split])
  return {split: (_read_only(images), _read_only(labels.astype(np.int64)))
          for split, (images, labels) in arrays.items()}


def load_npz(name: str, split: str, data_dir: str | os.PathLike | None
             ) -> tuple[np.ndarray, np.ndarray]:
  """Verified ``(images uint8 [N, H, W, C], labels int64 [N])`` from npz.

  Raises:
    ValueError: if the file is missing (saying where it looked and how to
      point elsewhere), truncated or corrupt, or holds wrong arrays.
  """
  check_raw(name, split)
  path = npz_path(name, data_dir)
  if not path.is_file():
    raise ValueError(
        f'no {RAW[name].file} for {name!r}: looked for {path} (data_dir='
        f'{str(data_dir) if data_dir is not None else "None"}, '
        f'${DATA_DIR_ENV}={os.environ.get(DATA_DIR_ENV, "<unset>")}). '
        + _where_to_put_it(name))
  stat = path.stat()
  return _load_npz_cached(name, str(path), (stat.st_mtime_ns,
                                            stat.st_size))[split]


@functools.lru_cache(maxsize=4)
def _load_tfds_cached(name: str, split: str, data_dir: str | None,
                      download: bool) -> tuple[np.ndarray, np.ndarray]:
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  spec = RAW[name]
  where = f'tfds {spec.tfds_name!r} split {split!r}'
  try:
    source = tfds.data_source(
        spec.tfds_name, split=split, data_dir=data_dir, download=download,
        builder_kwargs={'file_format': 'array_record'})
    # One record at a time: the batched __getitems__ is not supported by
    # every data source (e.g. tfds.testing.mock_data's).
    records = [source[i] for i in range(len(source))]
  except Exception as error:  # tfds raises many types; say what to do.
    hint = ('' if download else ' Pass download=True to let tfds download '
            'and prepare it (needs a network, and TensorFlow for the '
            f'built-in {spec.tfds_name!r} builder).')
    raise ValueError(
        f'could not read {where} from data_dir='
        f'{data_dir or "<tfds default>"} as an array_record data source '
        f'({type(error).__name__}: {error}).{hint} '
        + _where_to_put_it(name)) from error
  if records:
    images = np.stack([np.asarray(r['image']) for r in records])
    labels = np.asarray([r['label'] for r in records])
  else:
    images = np.zeros((0,) + spec.image_shape, np.uint8)
    labels = np.zeros((0,), np.int64)
  _verify(name, split, images, labels, where, count=None)
  return _read_only(images), _read_only(labels.astype(np.int64))


def load_tfds(name: str, split: str, data_dir: str | os.PathLike | None, *,
              download: bool = False) -> tuple[np.ndarray, np.ndarray]:
  """Verified ``(images uint8, labels int64)`` from ``tfds.data_source``."""
  check_raw(name, split)
  if data_dir is None:
    data_dir = os.environ.get(DATA_DIR_ENV) or None
  data_dir = None if data_dir is None else str(
      pathlib.Path(data_dir).expanduser())
  return _load_tfds_cached(name, split, data_dir, bool(download))


def load_raw(name: str, split: str, *, source: str,
             data_dir: str | os.PathLike | None, download: bool = False
             ) -> tuple[np.ndarray, np.ndarray]:
  """``name``'s ``split`` from ``source``: 'npz', 'tfds' or 'auto'.

  'auto' reads the npz file when it exists and tfds otherwise.
  """
  check_raw(name, split)
  if source not in SOURCES:
    raise ValueError(f'source must be one of {", ".join(map(repr, SOURCES))}'
                     f'; got {source!r}.')
  if source == 'auto':
    if npz_path(name, data_dir).is_file():
      return load_npz(name, split, data_dir)
    try:
      return load_tfds(name, split, data_dir, download=download)
    except ValueError as error:
      raise ValueError(auto_failed(name, data_dir, error)) from error
  if source == 'npz':
    return load_npz(name, split, data_dir)
  return load_tfds(name, split, data_dir, download=download)


def auto_failed(name: str, data_dir, error: Exception) -> str:
  """The message when ``source='auto'`` finds neither npz file nor tfds data."""
  return (f"source='auto' found no {RAW[name].file} at "
          f'{npz_path(name, data_dir)} and tfds failed too: {error}')


def pixel_moments(images: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
  """Per-channel sums of ``x`` and ``x**2`` (float64) and the pixel count.

  ``images`` ``[N, H, W, C]`` uint8 (exact integer sums) or float.
  """
  if (not isinstance(images, np.ndarray) or images.ndim != 4 or
      images.shape[-1] < 1):
    raise ValueError(f'images must be a NumPy array [N, H, W, C] with C >= 1; '
                     f'got {getattr(images, "shape", type(images).__name__)}.')
  channels = images.shape[-1]
  exact = images.dtype == np.uint8
  total = np.uint64 if exact else np.float64
  sums, squares = np.zeros(channels, total), np.zeros(channels, total)
  # Per channel and in chunks: contiguous reductions, bounded temporaries.
  for start in range(0, images.shape[0], _MOMENT_CHUNK):
    chunk = images[start:start + _MOMENT_CHUNK]
    for c in range(channels):
      values = chunk[..., c] if exact else chunk[..., c].astype(np.float64)
      sums[c] += values.sum(dtype=total)
      squares[c] += np.square(values, dtype=np.uint16 if exact else None
                              ).sum(dtype=total)
  count = images.size // channels
  return sums.astype(np.float64), squares.astype(np.float64), count


def clear_cache() -> None:
  """Frees the arrays cached by :func:`load_npz` and :func:`load_tfds`."""
  _load_npz_cached.cache_clear()
  _load_tfds_cached.cache_clear()
