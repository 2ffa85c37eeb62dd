"""Segmentation demo: a plain vs a steerable U-Net on noisy digits (issue 30).

  python -m experiments.unet_demo --steps=1000 --out=results/unet_demo

Measured results (the command above, 2 shared CPU cores):
``results/unet_demo/results.md`` and docs/steerable.md ("Demo: ...").

The task: one of scikit-learn's handwritten digits (:func:`data.
embedded_digits`, ``digit_size`` pixels) lies at a uniformly random circular
position on an even ``canvas_size`` torus (it wraps around the borders), with
i.i.d. Gaussian noise of standard deviation ``noise`` added to every pixel;
the target is its clean foreground mask, ``digit > 0.5`` before the noise.
Training digits are upright, at fresh random positions with fresh noise every
step; test digits are the held-out fifth of the digits (``i % 5 == 4``, the
split of :func:`data.load_dataset`), each at one seeded position with seeded
noise. Models (per-pixel sigmoid cross-entropy, optax adam, the same steps
and batches for both):

* ``plain`` -- ``models.build_model('unet', downsampling='strided')``:
  circular 3x3 convs, a strided conv down and zero insertion up.
* ``steerable`` -- ``models.build_model('steerable_unet', group='C4',
  downsampling='aps')``: regular C4 fields, APS down and polyphase up;
  exactly equivariant to every circular shift and every quarter turn of an
  even grid.

Measured on the test digits for each transformation ``T`` of the input --
circular shifts by ``(s, s)``, ``s = 1..7``; quarter turns ``k = 1, 2, 3``;
a 45 degree bilinear rotation (zero fill; approximate for both models):

* ``equivariance_error`` -- the mean over test digits of ``||f(T x) - T f(x)||
  / ||T f(x)||`` (:func:`groups.relative_error`), ``f`` the predicted mask
  (sigmoid probabilities); for 45 degrees only on the disk inscribed in the
  grid (:func:`groups.inscribed_disk`), where both sides have content.
* ``pixel_error`` and ``iou`` of ``f(T x) > 0.5`` against the mask of the
  transformed clean digit ``T digit > 0.5``, over the whole test set (IoU:
  foreground intersection over union, summed over digits).

Outputs in ``--out``: ``results.csv`` (one row per model x transformation),
``results.md`` (the summary table and the error per shift),
``equivariance_errors.png`` (error vs transformation, both models) and
``examples.png`` (one test digit under each kind of transformation: inputs,
both models' predictions, and ``|f(T x) - T f(x)|``).
"""

from __future__ import annotations

import dataclasses
import os
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from absl import app
from absl import flags
import jax
import jax.numpy as jnp
import numpy as np
import optax

import data
from data import datasets as datasets_lib
import groups
import models
from experiments import reporting
from groups import validate

Row = dict[str, Any]
MODEL_NAMES = ('plain', 'steerable')
OUTPUTS = ('results.csv', 'results.md', 'equivariance_errors.png',
           'examples.png')
MASK_THRESHOLD = 0.5   # foreground: clean digit value above this
SHIFTS = tuple(range(1, 8))
QUARTER_TURNS = (1, 2, 3)
ANGLE = 45.0
EVAL_BATCH = 128


@dataclasses.dataclass(frozen=True)
class Settings:
  """Everything a run depends on (the defaults are the documented run).

  Attributes:
    steps: training steps per model.
    batch_size: digits per step.
    learning_rate: adam's.
    canvas_size: side of the square torus (even; a multiple of
      ``2**(levels - 1)``).
    digit_size: side of the upsampled digit.
    noise: standard deviation of the Gaussian pixel noise.
    plain_widths: channels per level of the plain U-Net.
    steerable_widths: regular C4 fields (4 channels each) per level of the
      steerable U-Net.
    test_limit: the first this many test digits (None: all 359).
    seed: of the initialisation, the training batches and the test set.
    log_every: print the training loss every this many steps.
  """
  steps: int = 1000
  batch_size: int = 32
  learning_rate: float = 3e-3
  canvas_size: int = 32
  digit_size: int = 16
  noise: float = 0.5
  plain_widths: tuple[int, ...] = (3, 6, 12)
  steerable_widths: tuple[int, ...] = (2, 4, 8)
  test_limit: int | None = None
  seed: int = 0
  log_every: int = 100

  def __post_init__(self):
    for name in ('steps', 'batch_size', 'canvas_size', 'digit_size',
                 'log_every'):
      validate.integer(getattr(self, name), name, minimum=1)
    validate.integer(self.seed, 'seed', minimum=0)
    if self.test_limit is not None:
      validate.integer(self.test_limit, 'test_limit', minimum=1)
    if self.canvas_size % 2:
      raise ValueError(f'canvas_size must be even (quarter turns of an odd '
                       f'torus move APS phases); got {self.canvas_size}.')
    if self.digit_size > self.canvas_size:
      raise ValueError(f'digit_size must be <= canvas_size = '
                       f'{self.canvas_size}; got {self.digit_size}.')
    if not (self.noise >= 0 and self.learning_rate > 0):
      raise ValueError(f'noise must be >= 0 and learning_rate > 0; got '
                       f'{self.noise!r} and {self.learning_rate!r}.')


def model_specs(settings: Settings) -> dict[str, tuple[str, dict[str, Any]]]:
  """``label -> (registered name, options)`` of the two models."""
  return {
      'plain': ('unet', dict(widths=tuple(settings.plain_widths),
                             downsampling='strided')),
      'steerable': ('steerable_unet', dict(
          widths=tuple(settings.steerable_widths), group='C4',
          downsampling='aps')),
  }


# --------------------------------------------------------------------------
# Data.
# --------------------------------------------------------------------------


def clean_digits(split: str, *, canvas_size: int, digit_size: int,
                 limit: int | None = None) -> np.ndarray:
  """Held-in (``'train'``) or held-out (``'test'``) digits, centred.

  Returns:
    ``[N, canvas_size, canvas_size, 1]`` float32 in [0, 1], black
    background; the test digits are those with ``i % 5 == 4``.
  """
  validate.check_choice(split, 'split', ('train', 'test'))
  images, _ = data.embedded_digits(canvas_size=canvas_size,
                                   digit_size=digit_size)
  every = datasets_lib.DIGITS_TEST_EVERY
  is_test = np.arange(len(images)) % every == every - 1
  return images[is_test if split == 'test' else ~is_test][:limit]


def foreground(clean: jax.typing.ArrayLike) -> jax.Array:
  """The target mask ``[N, H, W, 1]`` (float 0 / 1) of clean digits."""
  return (jnp.asarray(clean) > MASK_THRESHOLD).astype(jnp.float32)


def test_set(settings: Settings) -> tuple[np.ndarray, np.ndarray]:
  """``(noisy inputs, clean digits)`` of the test digits, each at its own
  seeded circular position with seeded noise; both ``[N, S, S, 1]``."""
  clean = clean_digits('test', canvas_size=settings.canvas_size,
                       digit_size=settings.digit_size,
                       limit=settings.test_limit)
  rng = np.random.default_rng(settings.seed + 1)
  positions = rng.integers(0, settings.canvas_size, size=(len(clean), 2))
  clean = np.asarray(data.circular_shift(clean, positions), np.float32)
  noisy = clean + settings.noise * rng.standard_normal(clean.shape)
  return noisy.astype(np.float32), clean


# --------------------------------------------------------------------------
# Training.
# --------------------------------------------------------------------------


def parameter_count(variables: Any) -> int:
  return int(sum(np.size(p) for p in jax.tree_util.tree_leaves(
      variables['params'])))


def train(model, settings: Settings, train_clean: np.ndarray, *,
          log: Callable[[str], None] = print, label: str = ''
          ) -> tuple[Any, list[Row]]:
  """Trains ``model`` on noisy digits at random circular positions.

  Args:
    model: a linen module ``[B, S, S, 1] -> [B, S, S, 1]`` (mask logits).
    settings: steps, batch size, learning rate, noise, seed.
    train_clean: centred clean training digits ``[N, S, S, 1]``.
    log: where progress lines go.
    label: the model's name in them.

  Returns:
    ``(variables, curve)``; ``curve`` holds ``{'step', 'loss'}`` rows.
  """
  pool = jnp.asarray(train_clean)
  size = settings.canvas_size
  key, init_key = jax.random.split(jax.random.key(settings.seed))
  variables = jax.jit(model.init)(init_key, pool[:1])  # one compile
  optimizer = optax.adam(settings.learning_rate)
  opt_state = optimizer.init(variables)

  def batch(key):
    pick, place, noise = jax.random.split(key, 3)
    index = jax.random.randint(pick, (settings.batch_size,), 0, len(pool))
    positions = jax.random.randint(place, (settings.batch_size, 2), 0, size)
    clean = data.circular_shift(pool[index], positions)  # [B, S, S, 1]
    noisy = clean + settings.noise * jax.random.normal(noise, clean.shape)
    return noisy, foreground(clean)

  @jax.jit
  def train_step(variables, opt_state, key):
    x, target = batch(key)

    def loss_fn(variables):
      logits = model.apply(variables, x)
      return jnp.mean(optax.sigmoid_binary_cross_entropy(logits, target))

    loss, grads = jax.value_and_grad(loss_fn)(variables)
    updates, opt_state = optimizer.update(grads, opt_state, variables)
    return optax.apply_updates(variables, updates), opt_state, loss

  curve, start = [], time.perf_counter()
  for step in range(1, settings.steps + 1):
    key, step_key = jax.random.split(key)
    variables, opt_state, loss = train_step(variables, opt_state, step_key)
    if step % settings.log_every == 0 or step == settings.steps:
      curve.append({'step': step, 'loss': float(loss)})
      log(f'  {label} step {step}/{settings.steps}: loss {float(loss):.4f} '
          f'({time.perf_counter() - start:.0f} s)')
  return variables, curve


# --------------------------------------------------------------------------
# Evaluation.
# --------------------------------------------------------------------------


def transformations(size: int) -> list[tuple[str, int | float, Any,
                                               np.ndarray | None]]:
  """``(kind, amount, T, mask of the error)`` for every measured ``T``."""
  disk = np.asarray(groups.inscribed_disk(size, size))
  return ([('shift', s, groups.CircularShift(s, s), None) for s in SHIFTS] +
          [('quarter_turn', 90 * k, groups.Rot90(k), None)
           for k in QUARTER_TURNS] +
          [('rotation', ANGLE, groups.BilinearRotation(ANGLE), disk)])


def mask_predictor(model, variables) -> Callable[[np.ndarray], np.ndarray]:
  """``x [N, S, S, 1] -> sigmoid(logits) [N, S, S, 1]``, in batches."""
  apply = jax.jit(lambda x: jax.nn.sigmoid(model.apply(variables, x)))

  def predict(x):
    return np.concatenate([np.asarray(apply(jnp.asarray(x[i:i + EVAL_BATCH])))
                           for i in range(0, len(x), EVAL_BATCH)])
  return predict


def segmentation_scores(probabilities: np.ndarray,
                        clean: np.ndarray) -> dict[str, float]:
  """Pixel error and IoU of ``probabilities > 0.5`` vs ``clean``'s mask."""
  predicted = np.asarray(probabilities) > 0.5
  target = np.asarray(foreground(clean)) > 0.5
  union = np.sum(predicted | target)
  return {'pixel_error': float(np.mean(predicted != target)),
          'iou': float(np.sum(predicted & target) / max(union, 1))}


def evaluate(predict: Callable[[np.ndarray], np.ndarray], noisy: np.ndarray,
             clean: np.ndarray) -> list[Row]:
  """One row per transformation (the first: 'as given', no error).

  Returns:
    Rows with ``kind``, ``amount``, ``pixel_error``, ``iou`` (of ``f(T x)``
    against ``T clean``'s mask) and ``equivariance_error`` (mean over
    digits) and ``equivariance_error_max`` (largest over digits).
  """
  base = predict(noisy)
  rows = [{'kind': 'as_given', 'amount': 0,
           **segmentation_scores(base, clean),
           'equivariance_error': '', 'equivariance_error_max': ''}]
  for kind, amount, transform, mask in transformations(noisy.shape[1]):
    moved = predict(np.asarray(transform(jnp.asarray(noisy))))
    errors = np.asarray(groups.relative_error(
        moved, np.asarray(transform(jnp.asarray(base))), mask=mask))
    moved_clean = np.asarray(transform(jnp.asarray(clean)))
    rows.append({'kind': kind, 'amount': amount,
                 **segmentation_scores(moved, moved_clean),
                 'equivariance_error': float(np.mean(errors)),
                 'equivariance_error_max': float(np.max(errors))})
  return rows


# --------------------------------------------------------------------------
# Tables and figures.
# --------------------------------------------------------------------------


def _mean(rows: Sequence[Row], kind: str, key: str) -> float:
  return float(np.mean([r[key] for r in rows if r['kind'] == kind]))


def _max(rows: Sequence[Row], kind: str, key: str) -> float:
  return float(np.max([r[key] for r in rows if r['kind'] == kind]))


def summary_rows(rows: Sequence[Row]) -> list[Row]:
  """One line per model: scores as given and under each kind of ``T``."""
  lines = []
  for label in dict.fromkeys(r['model'] for r in rows):
    own = [r for r in rows if r['model'] == label]
    given = own[0]
    lines.append({
        'model': f"{label} (`{given['registered']}`, {given['options']})",
        'params': given['params'], 'seconds': given['train_seconds'],
        'pixel_error': given['pixel_error'], 'iou': given['iou'],
        'iou_shift': _mean(own, 'shift', 'iou'),
        'iou_quarter': _mean(own, 'quarter_turn', 'iou'),
        'iou_rotation': _mean(own, 'rotation', 'iou'),
        'eq_shift': _max(own, 'shift', 'equivariance_error'),
        'eq_quarter': _max(own, 'quarter_turn', 'equivariance_error'),
        'eq_rotation': _mean(own, 'rotation', 'equivariance_error')})
  return lines


def markdown_tables(rows: Sequence[Row]) -> tuple[str, str]:
  """``(summary table, equivariance error per shift)``."""
  percent = lambda v: f'{100 * v:.1f}'
  summary = reporting.markdown_table(
      summary_rows(rows),
      {'model': 'model', 'params': 'params', 'seconds': 'train s',
       'pixel_error': 'pixel error %', 'iou': 'IoU %',
       'iou_shift': 'IoU % shifted 1–7 px', 'iou_quarter':
       'IoU % quarter-turned', 'iou_rotation': f'IoU % at {ANGLE:g}°',
       'eq_shift': 'equiv. error, shifts (worst)',
       'eq_quarter': 'equiv. error, quarter turns (worst)',
       'eq_rotation': f'equiv. error, {ANGLE:g}°'},
      formats=dict(params=lambda v: f'{v:,}', seconds=lambda v: f'{v:.0f}',
                   pixel_error=lambda v: f'{100 * v:.2f}', iou=percent,
                   iou_shift=percent, iou_quarter=percent,
                   iou_rotation=percent, eq_shift=reporting.format_error,
                   eq_quarter=reporting.format_error,
                   eq_rotation=reporting.format_error))
  per_shift = reporting.pivot_table(
      [r for r in rows if r['kind'] == 'shift'], index=('model',),
      column='amount', header=lambda s: f'({s}, {s})',
      value='equivariance_error')
  return summary, per_shift


def _figure(**kwargs):
  # A bare Figure (Agg) as experiments.plotting does: no pyplot state.
  from matplotlib import figure  # pylint: disable=g-import-not-at-top
  return figure.Figure(**kwargs)


def _transform_label(row: Row) -> str:
  if row['kind'] == 'shift':
    return f"shift {row['amount']}"
  return f"{row['amount']:g}°"


def plot_errors(rows: Sequence[Row], path: str, *, floor: float = 1e-9
                ) -> None:
  """Mean equivariance error per transformation, a bar per model (log
  scale; errors below ``floor`` drawn at it and marked '0')."""
  fig = _figure(figsize=(10, 4))
  ax = fig.subplots()
  labels = list(dict.fromkeys(r['model'] for r in rows))
  moved = [r for r in rows if r['model'] == labels[0] and r['kind'] !=
           'as_given']
  width = 0.8 / len(labels)
  for n, label in enumerate(labels):
    own = [r for r in rows if r['model'] == label and r['kind'] != 'as_given']
    xs = np.arange(len(own)) - 0.4 + width * (n + 0.5)
    values = np.array([r['equivariance_error'] for r in own])
    ax.bar(xs, np.maximum(values, floor), width=width, color=f'C{n}',
           label=label)
    for x, v in zip(xs, values):
      if v < floor:
        ax.text(x, floor * 1.5, '0', ha='center', fontsize=8)
  ax.set_yscale('log')
  ax.set_xticks(np.arange(len(moved)), [_transform_label(r) for r in moved])
  ax.set_ylabel('||f(Tx) − T f(x)|| / ||T f(x)||')
  ax.set_title('Equivariance error of the predicted mask (mean over test '
               'digits)')
  ax.grid(True, axis='y', alpha=0.3)
  ax.legend()
  fig.tight_layout()
  fig.savefig(path, dpi=110)


def plot_examples(predictors: dict[str, Callable[[np.ndarray], np.ndarray]],
                  noisy: np.ndarray, clean: np.ndarray, path: str) -> None:
  """One test digit as given, shifted by (3, 3), quarter-turned, turned by
  45 degrees: its input and target, each model's prediction ``f(T x)`` and
  ``|f(T x) - T f(x)|``. The digit shown is the first whose mask lies most
  inside the disk inscribed in the grid (least cut by the 45 degree turn)."""
  # The whole test set goes in (the shapes evaluate() compiled).
  x, digit = noisy, clean
  size = noisy.shape[1]
  inner = np.asarray(groups.inscribed_disk(size, size, margin=size / 8))
  mask = np.asarray(foreground(clean))[..., 0]            # [N, S, S]
  shown = int(np.argmax((mask * inner).sum((1, 2)) /
                        np.maximum(mask.sum((1, 2)), 1)))
  columns = [('as given', groups.Identity()),
             ('shift (3, 3)', groups.CircularShift(3, 3)),
             ('quarter turn', groups.Rot90(1)),
             (f'{ANGLE:g}° turn', groups.BilinearRotation(ANGLE))]

  def input_of(t):
    return np.asarray(t(jnp.asarray(x)))

  panels = [('input T x', input_of, 'gray'),
            ('target', lambda t: np.asarray(foreground(t(jnp.asarray(digit)))),
             'gray')]
  for label, predict in predictors.items():
    panels.append((f'{label}: f(T x)',
                   lambda t, p=predict: p(input_of(t)), 'gray'))
    panels.append((f'{label}: |f(T x) − T f(x)|',
                   lambda t, p=predict: np.abs(
                       p(input_of(t)) - np.asarray(t(jnp.asarray(p(x))))),
                   'magma'))
  fig = _figure(figsize=(2.2 * len(columns), 2.1 * len(panels)))
  axes = fig.subplots(len(panels), len(columns), squeeze=False)
  for j, (title, transform) in enumerate(columns):
    for i, (name, image_fn, cmap) in enumerate(panels):
      image = image_fn(transform)[shown, :, :, 0]
      vmin, vmax = (None, None) if i == 0 else (0, 1)
      axes[i, j].imshow(image, cmap=cmap, vmin=vmin, vmax=vmax)
      axes[i, j].set_xticks([])
      axes[i, j].set_yticks([])
      if i == 0:
        axes[i, j].set_title(title, fontsize=10)
      if j == 0:
        axes[i, j].set_ylabel(name, fontsize=8)
  fig.tight_layout()
  fig.savefig(path, dpi=90)


# --------------------------------------------------------------------------
# The run.
# --------------------------------------------------------------------------


def run(settings: Settings, out: str, *, log: Callable[[str], None] = print,
        command: str = '') -> list[Row]:
  """Trains both models, measures them, writes :data:`OUTPUTS` to ``out``.

  Returns:
    The CSV rows: one per model x transformation (the first of each model
    'as_given').
  """
  start = time.perf_counter()
  os.makedirs(out, exist_ok=True)
  train_clean = clean_digits('train', canvas_size=settings.canvas_size,
                             digit_size=settings.digit_size)
  noisy, clean = test_set(settings)
  log(f'{len(train_clean)} training digits, {len(clean)} test digits on a '
      f'{settings.canvas_size}x{settings.canvas_size} torus, noise '
      f'{settings.noise}; {settings.steps} steps of {settings.batch_size}.')
  rows, predictors = [], {}
  for label, (name, options) in model_specs(settings).items():
    model = models.build_model(name, **options)
    began = time.perf_counter()
    variables, curve = train(model, settings, train_clean, log=log,
                             label=label)
    seconds = time.perf_counter() - began
    params = parameter_count(variables)
    predictors[label] = mask_predictor(model, variables)
    measured = evaluate(predictors[label], noisy, clean)
    log(f'{label}: {params:,} parameters, trained in {seconds:.0f} s; IoU '
        f"{100 * measured[0]['iou']:.1f} %, worst quarter-turn error "
        f"{_max(measured, 'quarter_turn', 'equivariance_error'):.2e}")
    option_text = ', '.join(f'{k}={v!r}' for k, v in options.items())
    rows += [{'model': label, 'registered': name, 'options': option_text,
              'params': params, 'steps': settings.steps,
              'train_seconds': seconds, 'final_loss': curve[-1]['loss'],
              **r} for r in measured]
  reporting.write_csv(rows, os.path.join(out, OUTPUTS[0]))
  summary, per_shift = markdown_tables(rows)
  date = time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())
  reporting.write_markdown(
      os.path.join(out, OUTPUTS[1]),
      title='Plain vs steerable U-Net: digit masks under shifts and turns',
      summary=(f'`{command or "experiments.unet_demo.run"}`, {date}, '
               f'{time.perf_counter() - start:.0f} s in all. {len(clean)} '
               'held-out digits, each at a random circular position with '
               f'Gaussian noise (sd {settings.noise}); IoU of the predicted '
               'mask f(T x) > 0.5 against the mask of the transformed clean '
               'digit; equivariance error ||f(Tx) − T f(x)|| / ||T f(x)|| '
               'of the predicted mask (sigmoid probabilities): the worst '
               'over shifts (s, s), s = 1..7, and over quarter turns of the '
               'per-transformation means; at 45° (bilinear) on the '
               'inscribed disk. Training digits are upright.'),
      tables=[('', summary),
              ('Equivariance error per circular shift (mean over digits)',
               per_shift)])
  plot_errors(rows, os.path.join(out, OUTPUTS[2]))
  plot_examples(predictors, noisy, clean, os.path.join(out, OUTPUTS[3]))
  log(summary)
  log(f'wrote {", ".join(OUTPUTS)} to {out} '
      f'({time.perf_counter() - start:.0f} s)')
  return rows


def _define_flags() -> dict[str, flags.FlagHolder]:
  """Defined only when run as a script."""
  default = Settings()
  return dict(
      steps=flags.DEFINE_integer('steps', default.steps,
                                 'Training steps per model.'),
      out=flags.DEFINE_string('out', 'results/unet_demo',
                              'Folder of the results.'),
      batch_size=flags.DEFINE_integer('batch_size', default.batch_size,
                                      'Digits per training step.'),
      learning_rate=flags.DEFINE_float('learning_rate',
                                       default.learning_rate, 'Adam rate.'),
      noise=flags.DEFINE_float('noise', default.noise,
                               'Standard deviation of the pixel noise.'),
      plain_widths=flags.DEFINE_list(
          'plain_widths', list(map(str, default.plain_widths)),
          'Channels per level of the plain U-Net.'),
      steerable_widths=flags.DEFINE_list(
          'steerable_widths', list(map(str, default.steerable_widths)),
          'Regular C4 fields per level of the steerable U-Net.'),
      test_limit=flags.DEFINE_integer('test_limit', None,
                                      'First N test digits (default: all).'),
      seed=flags.DEFINE_integer('seed', default.seed, 'Seed.'))


def main(argv: Sequence[str]) -> None:
  if len(argv) > 1:
    raise app.UsageError(f'unexpected arguments: {argv[1:]}')
  values = {name: holder.value for name, holder in _FLAGS.items()}
  out = values.pop('out')
  try:
    for key in ('plain_widths', 'steerable_widths'):
      values[key] = tuple(int(w) for w in values[key])
    settings = Settings(**values)
  except ValueError as error:
    raise app.UsageError(str(error)) from error
  command = shlex.join(['python', '-m', 'experiments.unet_demo'] +
                       sys.argv[1:])
  run(settings, out, log=lambda line: print(line, flush=True),
      command=command)


if __name__ == '__main__':
  _FLAGS = _define_flags()
  app.run(main)
