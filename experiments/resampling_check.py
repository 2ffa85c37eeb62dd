"""Test error of a trained model on its test digits resampled once more.

MNIST-rot's digits were each turned once, with bilinear resampling (our
rebuild, docs/data.md). A model trained with ``augment='rotate'`` sees every
training digit resampled a second time (bilinear by default, nearest
neighbour with ``config.rotate_order=0``), so it trains on digits blurred
twice and is tested on digits blurred once. This tool measures what that
mismatch costs: it tests the model on the test digits as they are, and on
the same digits each turned by its own random angle (uniform over the
circle, a fixed seed) with bilinear and with nearest-neighbour resampling::

  python -m experiments.resampling_check \\
      --run=c16cnn=experiments/configs/mnist_rot_steerable.py:runs/mnist_rot_steerable_5000 \\
      --override=c16cnn:num_train_steps=5000 --limit=10000 \\
      --out=results/mnist_rot/resampling_check

The digits are paired, so besides the two errors it counts the digits the
extra turn fixed and broke, and gives the exact two-sided sign test
(McNemar's) of "the turn changes the error". For a model invariant to
rotations, a lower error on the turned digits means it prefers the blur of
its training digits. ``--run``, ``--override`` and ``--checkpoint`` as in
:mod:`experiments.trained_runs`; nothing is trained again.
"""

from __future__ import annotations

from collections.abc import Sequence
import math
import os
import shlex
import sys
import time
from typing import Any

from absl import app
from absl import flags
from absl import logging
import numpy as np

import data
from experiments import metrics
from experiments import reporting
from experiments import trained_runs
from groups import validate

DEFAULT_SEED = 0
DEFAULT_BATCH_SIZE = 500
RESAMPLINGS = (('as given', None), ('turned again, bilinear', 1),
               ('turned again, nearest', 0))
OUTPUTS = ('resampling_check.csv', 'resampling_check.md')


def sign_test_p(fixed: int, broken: int) -> float:
  """Exact two-sided sign test (McNemar) of ``fixed`` vs ``broken`` counts.

  Under "the extra turn changes nothing on average", each of the ``n =
  fixed + broken`` discordant digits is fixed or broken with probability
  1/2; the p-value is the probability of a split at least as uneven.
  """
  fixed = validate.integer(fixed, 'fixed', minimum=0)
  broken = validate.integer(broken, 'broken', minimum=0)
  n = fixed + broken
  if n == 0:
    return 1.0
  k = min(fixed, broken)
  tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
  return min(1.0, 2 * tail)


def turned_again(images: np.ndarray, order: int, *,
                 seed: int = DEFAULT_SEED) -> np.ndarray:
  """``images [N, H, W, C]`` in [0, 1], each turned by its own angle.

  Angles are uniform in ``[-pi, pi)`` from ``np.random.default_rng(seed)``,
  the same for either ``order`` (1 bilinear, 0 nearest neighbour), so the
  two resamplings turn each digit by the same angle.
  """
  images = np.asarray(images)
  if images.ndim != 4:
    raise ValueError(f'images must be [N, H, W, C]; got shape '
                     f'{images.shape}.')
  angles = np.random.default_rng(seed).uniform(-np.pi, np.pi,
                                               images.shape[0])
  return np.clip(data.rotate(images.astype(np.float32), angles, order=order),
                 0.0, 1.0)


def check(trained: trained_runs.TrainedModel, *, limit: int | None = None,
          seed: int = DEFAULT_SEED, batch_size: int = DEFAULT_BATCH_SIZE
          ) -> list[dict[str, Any]]:
  """One CSV row per resampling (:data:`RESAMPLINGS`) of the test digits.

  Args:
    trained: a restored run (:func:`experiments.trained_runs.restore`).
    limit: the first ``limit`` test digits; None for all.
    seed: seed of the random angles.
    batch_size: inference batch size.

  Returns:
    Rows with the error, its 95 % Wilson interval, and (for the turned
    digits) the digits fixed and broken against 'as given' and the sign
    test's p-value.
  """
  n = len(trained.labels)
  if limit is not None:
    n = min(n, validate.integer(limit, 'limit', minimum=1))
  images = np.asarray(trained.images[:n], np.float32)
  labels = np.asarray(trained.labels[:n])
  rows, base = [], None
  for name, order in RESAMPLINGS:
    start = time.perf_counter()
    x = images if order is None else turned_again(images, order, seed=seed)
    logits = metrics.predict(trained.predict_fn, x, batch_size=batch_size)
    right = np.argmax(logits, axis=-1) == labels
    wrong = int(n - right.sum())
    low, high = metrics.binomial_interval(wrong, n)
    row = {'model': trained.label, 'step': trained.step, 'test_digits': name,
           'test_error': wrong / n, 'ci_low': low, 'ci_high': high, 'n': n,
           'fixed': '', 'broken': '', 'sign_test_p': '',
           'seconds': time.perf_counter() - start}
    if base is None:
      base = right
    else:
      fixed, broken = int(np.sum(right & ~base)), int(np.sum(base & ~right))
      row.update(fixed=fixed, broken=broken,
                 sign_test_p=sign_test_p(fixed, broken))
    rows.append(row)
  return rows


def markdown_table(rows: Sequence[dict[str, Any]]) -> str:
  """One line per model and checkpoint step."""
  table = [dict(r, interval=f"{100 * r['ci_low']:.2f} – "
                           f"{100 * r['ci_high']:.2f}") for r in rows]
  return reporting.markdown_table(
      table, {'model': 'model', 'step': 'step', 'test_digits': 'test digits',
              'test_error': 'test error %', 'interval': '95 % interval %',
              'fixed': 'fixed', 'broken': 'broken', 'sign_test_p':
              'sign test p', 'n': 'n'},
      formats=dict(test_error=lambda v: f'{100 * v:.2f}',
                   sign_test_p=lambda v: '' if v == '' else f'{v:.2g}',
                   n=lambda v: f'{v:,}'),
      align=['left', 'right', 'left', 'right', 'left', 'right', 'right',
             'right', 'right'])


def _define_flags() -> dict[str, flags.FlagHolder]:
  """Defined only when run as a script (other tools define ``--limit``)."""
  return dict(
      limit=flags.DEFINE_integer('limit', None,
                                 'First N test digits (default: all).'),
      seed=flags.DEFINE_integer('seed', DEFAULT_SEED,
                                'Seed of the random angles.'))


def main(argv: Sequence[str]) -> None:
  start = time.perf_counter()
  if _FLAGS['limit'].value is not None:
    try:
      validate.integer(_FLAGS['limit'].value, 'limit', minimum=1)
    except ValueError as error:
      raise app.UsageError(str(error)) from error
  out, models = trained_runs.restored_from_flags(argv)
  rows = []
  for trained in models:
    rows += check(trained, limit=_FLAGS['limit'].value,
                  seed=_FLAGS['seed'].value)
  os.makedirs(out, exist_ok=True)
  reporting.write_csv(rows, os.path.join(out, OUTPUTS[0]))
  command = shlex.join(['python', '-m', 'experiments.resampling_check'] +
                       sys.argv[1:])
  date = time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())
  summary = (f'`{command}`, {date}, {time.perf_counter() - start:.0f} s. '
             'The same test digits as given, and each turned once more by '
             'its own random angle (uniform over the circle, seed '
             f'{_FLAGS["seed"].value}); fixed / broken: digits the turn made '
             'right / wrong; sign test: exact two-sided, on those two counts.')
  table = markdown_table(rows)
  reporting.write_markdown(
      os.path.join(out, OUTPUTS[1]),
      title='Test error on test digits resampled once more',
      summary=summary, tables=[('', table)])
  logging.info('\n%s', table)


if __name__ == '__main__':
  _FLAGS = _define_flags()
  app.run(main)
