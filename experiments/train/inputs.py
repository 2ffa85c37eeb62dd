"""Input pipeline: the data sets of a config and the batch of each step.

The batch of step ``s`` is a function of ``(config.seed, s)`` only, which
makes a resumed run identical to an uninterrupted one. Images are
``[B, H, W, C]`` in [0, 1]; the model sees them normalised with the
training set's per-channel mean and std (:func:`normalize`).
"""

from __future__ import annotations

from collections.abc import Sequence
import dataclasses
import functools
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

import data


def load_data(config: ml_collections.ConfigDict) -> tuple[Any, Any]:
  """``(train, eval)`` :class:`data.Dataset` s as the config describes."""
  common = dict(data_dir=config.get('data_dir'),
                source=config.get('data_source', 'auto'), seed=config.seed,
                canvas_size=config.get('canvas_size'))
  train_data = load_train_data(config, **common)
  eval_data = data.load_dataset(config.dataset,
                                split=config.get('eval_split', 'test'),
                                limit=config.get('eval_limit'), **common)
  return train_data, eval_data


def load_train_data(config: ml_collections.ConfigDict, **common: Any) -> Any:
  """The training :class:`data.Dataset`: ``config.train_split`` ('train').

  Several splits joined by '+' are concatenated in that order, e.g.
  'train+validation' trains on all 12000 MNIST-rot digits (both papers'
  final runs). ``train_limit`` keeps a prefix of the result; mean and std
  stay those of the 'train' split.

  Args:
    config: a training config.
    **common: the other :func:`data.load_dataset` arguments.
  """
  names = config.get('train_split', 'train').split('+')
  if len(names) == 1:
    return data.load_dataset(config.dataset, split=names[0],
                             limit=config.get('train_limit'), **common)
  parts = [data.load_dataset(config.dataset, split=name, **common)
           for name in names]
  limit = config.get('train_limit')

  def join(field):
    arrays = [getattr(part, field) for part in parts]
    if any(a is None for a in arrays):
      return None
    return np.concatenate(arrays)[:limit]

  return dataclasses.replace(
      parts[0], images=join('images'), labels=join('labels'),
      angles=join('angles'), offsets=join('offsets'), factors=join('factors'),
      split='+'.join(names))


def batch_indices(step: int, *, num_examples: int, batch_size: int,
                  seed: int) -> np.ndarray:
  """Example indices of training step ``step`` (0-based), ``[batch_size]``.

  Epoch ``e`` visits a permutation drawn from ``(seed, e)``; the last
  ``num_examples % batch_size`` examples of each permutation are skipped.
  A pure function of its arguments, which makes resumed runs identical.
  """
  steps_per_epoch = num_examples // batch_size
  if steps_per_epoch < 1:
    raise ValueError(f'batch_size must be <= the number of training examples '
                     f'({num_examples}); got {batch_size}.')
  epoch, index = divmod(step, steps_per_epoch)
  order = _permutation(seed, epoch, num_examples)
  return order[index * batch_size:(index + 1) * batch_size]


@functools.lru_cache(maxsize=2)
def _permutation(seed: int, epoch: int, num_examples: int) -> np.ndarray:
  return np.random.default_rng([seed, epoch]).permutation(num_examples)


def normalize(images: jax.typing.ArrayLike, mean: Sequence[float],
              std: Sequence[float]) -> jax.Array:
  """``(images - mean) / std`` per channel; images ``[B, H, W, C]``."""
  mean = jnp.asarray(mean, jnp.float32)
  std = jnp.asarray(std, jnp.float32)
  return (jnp.asarray(images, jnp.float32) - mean) / std
