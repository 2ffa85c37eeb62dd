"""Batch-norm population statistics: recompute them, then test again.

A model trained with batch norm tests with the running averages of its
batch statistics (here an exponential average with the layer's momentum,
0.9 for the MNIST-rot P4CNN, so mostly the last ~10 batches). Cohen &
Welling's code instead makes one extra pass over the training set before
each test and replaces them with population statistics (Chainer's
``finetune``: the average of every batch's moments; tscohen/
gconv_experiments ``train.py`` l. 247-251). This module does that pass
post hoc on a finished study run and tests the model with both::

  python -m experiments.bn_recalibration \\
      --run=p4cnn=experiments/configs/mnist_rot_p4cnn.py:runs/mnist_rot_p4cnn \\
      --out=results/mnist_rot/bn_recalibration

``--run`` and ``--override`` as in :mod:`experiments.rotation_report`
(:mod:`experiments.trained_runs`); the run is restored, never retrained.

How the batch moments are read, for any batch-norm layer whose running
statistic is updated as ``new = m * old + (1 - m) * batch`` (flax
``nn.BatchNorm``, :class:`layers.batch_statistics.BatchNorm`,
:class:`layers.group_conv.GroupBatchNorm`, the steerable
and harmonic norms): applying the model in training mode to a batch with
every running statistic set to 0 returns ``a = (1 - m) * batch``; with every
statistic set to 1 it returns ``b = m + (1 - m) * batch``. So ``batch =
a / (1 - (b - a))`` whatever each layer's momentum, and the normalisation
inside the pass (which uses the batch's own moments) is the same in both.
Each layer sees its input normalised with batch statistics, as in Chainer's
pass. The population statistic is the mean over batches, weighted by batch
size; the variance is the mean of the batch variances, as in Chainer and
torch's "precise BN". No augmentation, no dropout.
"""

from __future__ import annotations

from collections.abc import Sequence
import os
import shlex
import sys
import time
from typing import Any

from absl import app
from absl import logging
import jax
import jax.numpy as jnp
import numpy as np

from groups import validate
from experiments import metrics
from experiments import reporting
from experiments import trained_runs
from experiments.train import inputs

DEFAULT_BATCH_SIZE = 128
OUTPUTS = ('bn_recalibration.csv', 'bn_recalibration.md')


def _check_images(images, name: str) -> np.ndarray:
  images = np.asarray(images)
  validate.check_array(images, name, rank=4, layout='[N, H, W, C]')
  if images.shape[0] < 1:
    raise ValueError(f'{name} must hold at least one image; got shape '
                     f'{images.shape}.')
  return images


def population_batch_stats(model: Any, variables: dict[str, Any],
                           images: jax.typing.ArrayLike, *,
                           batch_size: int = DEFAULT_BATCH_SIZE
                           ) -> dict[str, Any]:
  """The 'batch_stats' collection recomputed as averages over ``images``.

  Args:
    model: a flax module called as ``model.apply(variables, x, train=...)``.
    variables: its variables, with a 'batch_stats' collection.
    images: ``[N, H, W, C]``, normalised as in training (the model's input).
    batch_size: images per training-mode pass (the last batch may be
      smaller; each batch weighs by its size).

  Returns:
    A tree shaped like ``variables['batch_stats']``: each running statistic
    replaced by the size-weighted mean of its per-batch value.

  Raises:
    ValueError: if ``variables`` has no batch statistics, ``images`` is not
      ``[N, H, W, C]`` with N >= 1, ``batch_size`` < 1, or a layer's
      momentum is 1 (its update ignores the batch).
  """
  if not isinstance(variables, dict) or not variables.get('batch_stats'):
    found = sorted(variables) if isinstance(variables, dict) else variables
    raise ValueError("variables must hold a 'batch_stats' collection (a "
                     f'model with batch norm); got collections {found!r}.')
  images = _check_images(images, 'images')
  batch_size = validate.integer(batch_size, 'batch_size', minimum=1)
  stats = variables['batch_stats']
  zeros = jax.tree.map(jnp.zeros_like, stats)
  ones = jax.tree.map(jnp.ones_like, stats)

  @jax.jit
  def batch_moments(x):
    def updated(start):
      _, new = model.apply({**variables, 'batch_stats': start}, x, train=True,
                           rngs={'dropout': jax.random.key(0)},
                           mutable=['batch_stats'])
      return new['batch_stats']
    low, high = updated(zeros), updated(ones)
    # low = (1 - m) batch, high = m + (1 - m) batch.
    keep = jax.tree.map(lambda a, b: 1 - (b - a), low, high)
    smallest = jnp.min(jnp.stack([jnp.min(k) for k in jax.tree.leaves(keep)]))
    return jax.tree.map(jnp.divide, low, keep), smallest

  total, count = None, 0
  for start in range(0, images.shape[0], batch_size):
    batch = jnp.asarray(images[start:start + batch_size], jnp.float32)
    moments, smallest = batch_moments(batch)
    if float(smallest) < 1e-6:
      raise ValueError('every batch-norm layer must have momentum < 1: a '
                       'layer whose running statistics ignore the batch has '
                       'no population statistics to recompute.')
    weight = batch.shape[0]
    moments = jax.tree.map(lambda v, w=weight: v * w, moments)
    total = moments if total is None else jax.tree.map(jnp.add, total, moments)
    count += weight
  return jax.tree.map(lambda v: v / count, total)


def count_correct(model: Any, variables: dict[str, Any],
                  images: jax.typing.ArrayLike, labels: jax.typing.ArrayLike,
                  *, batch_size: int = 500) -> int:
  """Correct top-1 predictions in inference mode (``train=False``).

  ``images [N, H, W, C]`` normalised as in training, ``labels [N]`` ints.
  """
  images = _check_images(images, 'images')
  labels = np.asarray(labels)
  if labels.shape != (images.shape[0],):
    raise ValueError(f'labels must be [N] with N = {images.shape[0]}; got '
                     f'shape {labels.shape}.')
  batch_size = validate.integer(batch_size, 'batch_size', minimum=1)
  logits = metrics.predict(
      jax.jit(lambda x: model.apply(variables, x, train=False)),
      images.astype(np.float32), batch_size=batch_size)
  return int(np.sum(np.argmax(logits, axis=-1) == labels))


def compare(trained: trained_runs.TrainedModel, *,
            batch_size: int = DEFAULT_BATCH_SIZE) -> list[dict[str, Any]]:
  """Test error of ``trained`` with its running and its recomputed statistics.

  The population statistics come from ``trained.train_images`` (the run's
  training split, no augmentation). Returns two CSV rows (``statistics``:
  'running average' / 'population (recomputed)').
  """
  if trained.train_images is None:
    raise ValueError('trained must carry its training images '
                     '(trained_runs.restore sets train_images).')
  def normalise(images):
    return np.asarray(inputs.normalize(images, trained.mean, trained.std))
  test_images = normalise(trained.images)
  population = population_batch_stats(
      trained.model, trained.variables, normalise(trained.train_images),
      batch_size=batch_size)
  rows = []
  for statistics, variables in (
      ('running average', trained.variables),
      ('population (recomputed)',
       {**trained.variables, 'batch_stats': population})):
    start = time.perf_counter()
    correct = count_correct(trained.model, variables, test_images,
                            trained.labels)
    n = len(trained.labels)
    low, high = metrics.binomial_interval(n - correct, n)
    rows.append({'model': trained.label, 'step': trained.step,
                 'statistics': statistics, 'test_error': 1 - correct / n,
                 'ci_low': low, 'ci_high': high, 'n': n,
                 'seconds': time.perf_counter() - start})
  return rows


def main(argv: Sequence[str]) -> None:
  start = time.perf_counter()
  out, models = trained_runs.restored_from_flags(argv)
  rows = []
  for trained in models:
    rows += compare(trained)
  os.makedirs(out, exist_ok=True)
  reporting.write_csv(rows, os.path.join(out, OUTPUTS[0]))
  command = shlex.join(['python', '-m', 'experiments.bn_recalibration'] +
                       sys.argv[1:])
  table = ['| model | step | batch-norm statistics | test error % | 95 % '
           'interval % | n |', '|---|---:|---|---:|---|---:|']
  table += [f"| {r['model']} | {r['step']} | {r['statistics']} | "
            f"{100 * r['test_error']:.2f} | {100 * r['ci_low']:.2f} – "
            f"{100 * r['ci_high']:.2f} | {r['n']:,} |" for r in rows]
  date = time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())
  summary = (f'`{command}`, {date}, {time.perf_counter() - start:.0f} s. '
             'Population statistics: the mean of the batch moments over the '
             f'training split in batches of {DEFAULT_BATCH_SIZE} (no '
             'augmentation); tested on the whole test split.')
  reporting.write_markdown(
      os.path.join(out, OUTPUTS[1]),
      title='Test error with running vs recomputed batch-norm statistics',
      summary=summary, tables=[('', '\n'.join(table))])
  logging.info('\n%s', '\n'.join(table))


if __name__ == '__main__':
  app.run(main)
