"""Rotation report: error vs angle and per-layer equivariance of trained models.

Post-hoc analysis of rotated-MNIST models trained by the study runner
(``python main.py --config=experiments/configs/mnist_rot_p4cnn.py
--workdir=runs/mnist_rot_p4cnn`` and the like); nothing is trained or
evaluated again::

  python -m experiments.rotation_report \\
      --run=p4cnn=experiments/configs/mnist_rot_p4cnn.py:runs/mnist_rot_p4cnn \\
      --run=hnet=experiments/configs/mnist_rot_hnet.py:runs/mnist_rot_hnet \\
      --out=results/mnist_rot --limit=5000

``--run=LABEL=CONFIG:WORKDIR``, once per model: ``LABEL`` a model of the
config's ``config.models``, ``CONFIG`` the config file as ``main.py`` took it
(``...mnist_rot_p4cnn.py:tiny`` keeps its argument), ``WORKDIR`` the study's
``--workdir`` (after the last ':'). A run trained with ``--config.KEY=VALUE``
needs ``--override=LABEL:KEY=VALUE``. ``--limit`` (5000; 0 = all),
``--step_degrees`` (5) and ``--layer_images`` (256) set the sizes; the
sweep is one pass over ``limit`` digits per angle (72 by default: P4CNN at
~480 and the H-Net at ~150 digits/s on 2 busy cores take ~13 and ~40 min).

Per model (restored by :func:`experiments.trained_runs.restore` from the last
checkpoint in ``<workdir>/models/<label>/``; an unfinished run, or none, is
refused before anything is touched):

* test error on the first ``limit`` test digits turned by 0, step, 2 step,
  ... < 360 degrees (and 45, 90), bilinear with zero fill, with its 95 %
  Wilson interval (:func:`accuracy_rows`);
* per-layer errors ``mean ||f_l(R x) - A_l f_l(x)|| / ||A_l f_l(x)||`` on the
  first ``layer_images`` digits, eval mode, for the quarter turn (exact for
  these models on 28 x 28: ~1e-6) and 45 degrees (:func:`experiments.layer_equivariance.layer_errors`).
  ``A_l`` is the action the rotation induces on layer ``l``'s representation
  (:func:`~experiments.layer_equivariance.layer_actions`): G-CNNs, the regular action (rotate space, permute
  the group axis) where the angle is a group element, else none (NaN: P4CNN
  at 45 degrees); H-Nets, rotate space and multiply order-``m`` streams by
  ``e^{i m theta}``; steerable CNNs, ``FieldTransform`` of the layer's field
  type (the subgroup's after a restriction); other models, only the logits.
  The logits' entry ``'__call__'`` is the invariance error
  ``||f(Rx) - f(x)|| / ||f(x)||``;
* that invariance error of the logits (mean and its standard error over the
  same digits) under two resamplings of the input, bilinear and three
  Fourier shears (:class:`groups.FourierRotation`, no blur), at 22.5, 45
  and 90 degrees and for "45 then -45" (the identity up to resampling: the
  model's sensitivity to the resampling alone) (:func:`invariance_rows`).

The same choices for every model: the rotation acts on the raw [0, 1] digits
(zero fill = black background, as in the accuracy sweep), which are then
normalised with the training mean and std as in training (``predict_fn``
does it inside; ``model.apply`` needs it done). Exact rotations compare whole
maps; interpolated ones each map's inscribed disk (:func:`groups.
inscribed_disk`: the corners of a square turn off the grid).

Outputs in ``--out``: ``accuracy_vs_angle.csv`` (model, angle, accuracy,
error, ci_low, ci_high, n) and ``.png``, ``layer_errors.csv`` (model, layer,
transform, relative_error, the action and the compared region) and
``.png``, ``report.md`` (tables, command, date, CPU ISA, wall time),
``learning_curves.png`` (each run's ``metrics.jsonl``: training loss,
accuracy and learning rate vs step, the final test accuracy as a marker),
``invariance.csv`` (model, interpolation, transform, relative_error,
standard_error, n).
Restoring runs the trainer's start-up (:func:`experiments.train.trainer.
start_run`) with the model's workdir locked, as re-running a finished study
does: it appends to the workdir's ``config_history.jsonl``, rewrites its
``config.json`` and adds a TensorBoard event file; nothing else changes.
"""

from __future__ import annotations

from collections.abc import Sequence
import datetime
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

import groups
from groups import validate
from experiments import layer_equivariance
from experiments import metrics
from experiments import plotting
from experiments import reporting
from experiments import study
from experiments import train
from experiments import trained_runs
from layers import autotune

Row = dict[str, Any]
DEFAULT_STEP_DEGREES = 5.0
DEFAULT_LIMIT = 5000
DEFAULT_LAYER_IMAGES = 256
LAYER_DEGREES = (90.0, 45.0)      # the exact and the interpolated tier
SUMMARY_DEGREES = (0.0, 45.0, 90.0)
OUTPUTS = ('accuracy_vs_angle.csv', 'accuracy_vs_angle.png',
           'layer_errors.csv', 'layer_errors.png', 'report.md',
           'learning_curves.png', 'invariance.csv')
# The logits' invariance under two resamplings of the input: bilinear (blurs
# by an angle-dependent amount) and three Fourier shears (no blur,
# groups.FourierRotation); 'rot45 then rot-45' is the identity up to the
# resampling, so it measures the model's sensitivity to the resampling alone.
INVARIANCE_TRANSFORMS = tuple(
    (kind, name, transform)
    for kind, rotation in (('bilinear', groups.BilinearRotation),
                           ('fourier', groups.FourierRotation))
    for name, transform in (
        ('rot22.5', rotation(22.5)), ('rot45', rotation(45.0)),
        ('rot45 then rot-45', rotation(45.0).then(rotation(-45.0))),
        ('rot90', rotation(90.0))))


# ---------------------------------------------------------------------------
# Accuracy vs angle.
# ---------------------------------------------------------------------------


def sweep_angles(step_degrees: float = DEFAULT_STEP_DEGREES) -> list[float]:
  """``0, step, 2 step, ... < 360`` degrees, plus 45 and 90, ascending."""
  step = validate.number(step_degrees, 'step_degrees', minimum=0, maximum=360,
                         exclusive_minimum=True)
  angles = {round(i * step, 9) for i in range(math.ceil(360 / step - 1e-9))}
  return sorted(angles | set(SUMMARY_DEGREES))


def accuracy_rows(trained: trained_runs.TrainedModel,
                  angles: Sequence[float], *,
                  limit: int | None = DEFAULT_LIMIT) -> list[Row]:
  """Test error of ``trained`` on its first ``limit`` digits at each angle.

  Returns:
    One row per angle: ``model, angle`` (degrees), ``accuracy, error,
    ci_low, ci_high`` (the 95 % Wilson interval of the error) and ``n``.
  """
  if limit is not None:
    validate.integer(limit, 'limit', minimum=1)
  images, labels = trained.images[:limit], trained.labels[:limit]
  n, rows, start = len(labels), [], time.perf_counter()
  for i, angle in enumerate(angles):
    angle = validate.number(angle, 'angles entries (degrees)')
    (accuracy,) = metrics.accuracy_vs_rotation(
        trained.predict_fn, images, labels, angles=[math.radians(angle)],
        batch_size=trained.batch_size).values()
    errors = int(round((1 - accuracy) * n))
    low, high = metrics.binomial_interval(errors, n)
    rows.append(dict(model=trained.label, angle=angle, accuracy=accuracy,
                     error=errors / n, ci_low=low, ci_high=high, n=n))
    logging.info('%s: %g deg, error %.2f %% of %d digits [%d/%d angles, '
                 '%.1f s]', trained.label, angle, 100 * errors / n, n, i + 1,
                 len(angles), time.perf_counter() - start)
  return rows


def layer_rows(trained: trained_runs.TrainedModel, *,
               degrees: Sequence[float] = LAYER_DEGREES,
               num_images: int = DEFAULT_LAYER_IMAGES) -> list[Row]:
  """:func:`~experiments.layer_equivariance.layer_errors` of ``trained`` for each angle, as CSV rows."""
  validate.integer(num_images, 'num_images', minimum=1)
  rows, start = [], time.perf_counter()
  images = trained.images[:num_images]
  for angle in degrees:
    transform = groups.BilinearRotation(float(angle))
    actions = layer_equivariance.layer_actions(
        trained.model, angle, variables=trained.variables, x=images[:1])
    errors = layer_equivariance.layer_errors(
        trained.model, trained.variables, images, transform, actions,
        mean=trained.mean, std=trained.std)
    for layer, error in errors.items():
      action = actions.get(layer)
      rows.append(dict(
          model=trained.label, layer=layer, transform=f'rot{angle:g}',
          relative_error=error, degrees=float(angle),
          action='none' if action is None else repr(action),
          region=('n/a' if action is None else 'vector (invariance)'
                  if isinstance(action, groups.Identity) else 'whole map'
                  if transform.exact else 'inscribed disk')))
    logging.info('%s: per-layer errors at %g deg on %d digits, logits %.2e '
                 '[%.1f s]', trained.label, angle, len(images),
                 errors['__call__'], time.perf_counter() - start)
  return rows


def invariance_rows(trained: trained_runs.TrainedModel, *,
                    num_images: int = DEFAULT_LAYER_IMAGES) -> list[Row]:
  """``||f(T x) - f(x)|| / ||f(x)||`` of the logits for each of
  :data:`INVARIANCE_TRANSFORMS` on the first ``num_images`` test digits.

  Returns:
    One row per transform: ``model, interpolation, transform,
    relative_error`` (the mean over digits), ``standard_error`` (of that
    mean) and ``n``.
  """
  validate.integer(num_images, 'num_images', minimum=1)
  images = np.asarray(trained.images[:num_images], np.float32)
  reference = metrics.predict(trained.predict_fn, images,
                              batch_size=trained.batch_size)
  rows = []
  for kind, name, transform in INVARIANCE_TRANSFORMS:
    logits = metrics.predict(trained.predict_fn,
                             np.asarray(transform(images)),
                             batch_size=trained.batch_size)
    errors = np.asarray(groups.relative_error(logits, reference))  # [N]
    rows.append(dict(model=trained.label, interpolation=kind, transform=name,
                     relative_error=float(errors.mean()),
                     standard_error=float(errors.std(ddof=1) /
                                          math.sqrt(len(errors)))
                     if len(errors) > 1 else math.nan, n=len(errors)))
  return rows


def _invariance_table(models_info: Sequence[Row],
                      invariance: Sequence[Row]) -> str:
  columns = list(dict.fromkeys((r['interpolation'], r['transform'])
                               for r in invariance))
  at = {(r['model'], r['interpolation'], r['transform']): r
        for r in invariance}
  table = ['| model | ' + ' | '.join(f'{t} ({k})' for k, t in columns) + ' |',
           '|---|' + '---:|' * len(columns)]
  for m in models_info:
    cells = []
    for k, t in columns:
      row = at[(m['model'], k, t)]
      cells.append(f'{_error(row["relative_error"])} ± '
                   f'{_error(row["standard_error"])}')
    table.append(f'| {m["model"]} | ' + ' | '.join(cells) + ' |')
  return '\n'.join(table)


# ---------------------------------------------------------------------------
# The report.
# ---------------------------------------------------------------------------


def _pct(rate: float) -> str:
  return f'{100 * rate:.2f}'


def _with_interval(row: Row | None) -> str:
  if row is None:
    return 'not measured'
  return (f'{_pct(row["error"])} ({_pct(row["ci_low"])} – '
          f'{_pct(row["ci_high"])})')


def _error(value: float) -> str:
  return 'n/a' if math.isnan(value) else reporting.format_error(value)


def summary_tables(models_info: Sequence[Row], accuracy: Sequence[Row],
                   layers: Sequence[Row]) -> list[tuple[str, str]]:
  """``(heading, markdown table)`` pairs of ``report.md``."""
  table = ['| model | name | params | step | config | workdir |',
           '|---|---|---:|---:|---|---|']
  table += [f'| {m["model"]} | {m["name"]} | {m["params"]:,} | {m["step"]} '
            f'| `{m["config"]}` | `{m["workdir"]}` |' for m in models_info]
  sections = [('Models', '\n'.join(table))]
  table = ['| model | digits | mean error % (all angles) | worst angle | error '
           '@ worst % | ' + ' | '.join(f'error @{a:g}° % (95 % interval)'
                                       for a in SUMMARY_DEGREES) + ' |',
           '|---|---:|---:|---:|---:|' + '---|' * len(SUMMARY_DEGREES)]
  for m in models_info:
    rows = [r for r in accuracy if r['model'] == m['model']]
    worst = max(rows, key=lambda r: r['error'])
    at = {r['angle']: r for r in rows}
    table.append(
        f'| {m["model"]} | {rows[0]["n"]:,} | '
        f'{_pct(float(np.mean([r["error"] for r in rows])))} | '
        f'{worst["angle"]:g}° | {_pct(worst["error"])} | ' +
        ' | '.join(_with_interval(at.get(a)) for a in SUMMARY_DEGREES) + ' |')
  sections.append(('Test error vs rotation', '\n'.join(table)))
  transforms = list(dict.fromkeys(r['transform'] for r in layers))
  errors = {(r['model'], r['layer'], r['transform']): r['relative_error']
            for r in layers}
  table = ['| model | ' + ' | '.join(f'{t[3:]}°' for t in transforms) + ' |',
           '|---|' + '---:|' * len(transforms)]
  table += [f'| {m["model"]} | ' + ' | '.join(
      _error(errors[(m['model'], '__call__', t)]) for t in transforms) + ' |'
            for m in models_info]
  sections.append(('Invariance of the logits: ||f(Rx) − f(x)|| / ||f(x)||',
                   '\n'.join(table)))
  table = ['| model | layer | ' + ' | '.join(f'{t[3:]}°' for t in transforms)
           + ' |', '|---|---|' + '---:|' * len(transforms)]
  for model, layer in dict.fromkeys((r['model'], r['layer']) for r in layers):
    table.append(f'| {model} | {layer} | ' + ' | '.join(
        _error(errors.get((model, layer, t), math.nan)) for t in transforms)
                 + ' |')
  sections.append(('Per-layer equivariance error', '\n'.join(table)))
  return sections


def cpu_description() -> str:
  """``'AVX-512 (sse4_2 avx avx2 fma avx512f ...)'`` or ``'AVX2 (...)'``."""
  isa = autotune.cpu_isa()
  kind = ('AVX-512' if 'avx512f' in isa.split() else
          'AVX2' if 'avx2' in isa.split() else 'neither AVX2 nor AVX-512')
  return f'{kind} ({isa})'


def report(runs: Sequence[trained_runs.RunSpec], out: str, *,
           step_degrees: float = DEFAULT_STEP_DEGREES,
           limit: int | None = DEFAULT_LIMIT,
           layer_images: int = DEFAULT_LAYER_IMAGES,
           command: str | None = None) -> dict[str, list[Row]]:
  """Restores each run, measures it and writes the outputs to ``out``.

  Args:
    runs: the trained models, labels all different.
    out: output folder (created if missing).
    step_degrees: angle step of the accuracy sweep.
    limit: test digits of the accuracy sweep (None: all).
    layer_images: test digits of the per-layer errors.
    command: the command line written to ``report.md`` (default: this
      process's).

  Returns:
    ``{'accuracy': rows, 'layers': rows, 'invariance': rows}``, the rows of
    the three CSV files.
  """
  start = time.perf_counter()
  spec_type = trained_runs.RunSpec
  if (isinstance(runs, (str, spec_type)) or not isinstance(runs, Sequence) or
      not runs or not all(isinstance(r, spec_type) for r in runs)):
    raise ValueError(f'runs must be a non-empty list of RunSpec; got {runs!r}.')
  labels = [r.label for r in runs]
  if len(set(labels)) != len(labels):
    raise ValueError(f'runs must have different labels; got {labels}.')
  if not isinstance(out, str) or not out:
    raise ValueError(f'out must be a folder path; got {out!r}.')
  angles = sweep_angles(step_degrees)
  if limit is not None:
    validate.integer(limit, 'limit', minimum=1)
  validate.integer(layer_images, 'layer_images', minimum=1)
  for spec in runs:  # all refusals before the first (long) measurement
    trained_runs.finished_run(spec.config, spec.label, spec.workdir)
  os.makedirs(out, exist_ok=True)
  accuracy, layers, invariance, info, curves = [], [], [], [], {}
  for i, spec in enumerate(runs):
    logging.info('[%d/%d] %s: restoring from %s', i + 1, len(runs),
                 spec.label, spec.workdir)
    trained = trained_runs.restore(spec.config, spec.label, spec.workdir,
                                   step=spec.step)
    info.append(dict(model=spec.label, name=trained.name, step=trained.step,
                     params=trained.params, config=spec.source or '(given)',
                     workdir=spec.workdir))
    curves[spec.label] = train.read_metrics(
        os.path.join(spec.workdir, study.MODELS_DIR, spec.label))
    accuracy += accuracy_rows(trained, angles, limit=limit)
    layers += layer_rows(trained, num_images=layer_images)
    invariance += invariance_rows(trained, num_images=layer_images)
    del trained
  reporting.write_csv(accuracy, os.path.join(out, OUTPUTS[0]))
  plotting.error_vs_angle(accuracy, os.path.join(out, OUTPUTS[1]),
                          title='Test error vs rotation of the test digits')
  reporting.write_csv(layers, os.path.join(out, OUTPUTS[2]))
  plotting.layer_error_panels(layers, os.path.join(out, OUTPUTS[3]),
                              title='Per-layer equivariance error')
  plotting.learning_curves(curves, os.path.join(out, OUTPUTS[5]),
                           title='Training curves (metrics.jsonl)')
  reporting.write_csv(invariance, os.path.join(out, OUTPUTS[6]))
  seconds = time.perf_counter() - start
  now = datetime.datetime.now(datetime.timezone.utc)
  command = shlex.join(sys.argv) if command is None else command
  summary = (
      f'Command: `{command}`\n\nDate {now:%Y-%m-%d %H:%M} UTC; CPU '
      f'{cpu_description()}, {os.cpu_count()} cores, load average '
      f'{os.getloadavg()[0]:.1f}; wall time {seconds:.0f} s.\n\n'
      f'Test error: the first {accuracy[0]["n"]:,} test digits turned by '
      f'{len(angles)} angles (every {step_degrees:g}° from 0°, plus 45° and '
      '90° if missed; bilinear, zero fill), with the 95 % Wilson '
      f'interval. Per-layer errors: the first {layer_images} test digits, '
      'eval mode; the raw digits are rotated, then normalised with the '
      'training mean and std; whole maps at the exact 90°, the inscribed '
      'disk of each map at 45°; `n/a`: no action for that angle (p4 at '
      '45°). The actions are in layer_errors.csv.')
  tables = summary_tables(info, accuracy, layers)
  tables.insert(3, (
      'Invariance of the logits: bilinear vs Fourier rotation (mean ± s.e. '
      f'over {layer_images} digits)', _invariance_table(info, invariance)))
  reporting.write_markdown(os.path.join(out, OUTPUTS[4]),
                           title='Rotation report', summary=summary,
                           tables=tables)
  logging.info('rotation report of %d models in %.1f s: %s', len(runs),
               seconds, out)
  return {'accuracy': accuracy, 'layers': layers, 'invariance': invariance}


# ---------------------------------------------------------------------------
# Command line.
# ---------------------------------------------------------------------------

_LIMIT = flags.DEFINE_integer('limit', DEFAULT_LIMIT,
                              'Test digits of the accuracy sweep (0 = all).')
_STEP = flags.DEFINE_float('step_degrees', DEFAULT_STEP_DEGREES,
                           'Angle step of the accuracy sweep (degrees).')
_LAYER_IMAGES = flags.DEFINE_integer('layer_images', DEFAULT_LAYER_IMAGES,
                                     'Test digits of the per-layer errors.')


def main(argv: Sequence[str]) -> None:
  if len(argv) > 1:
    raise app.UsageError(f'Too many command-line arguments: {argv[1:]}.')
  try:  # every flag checked before any model is restored
    out = trained_runs.out_from_flags()
    validate.integer(_LIMIT.value, 'limit', minimum=0)
    validate.integer(_LAYER_IMAGES.value, 'layer_images', minimum=1)
    sweep_angles(_STEP.value)
    specs = trained_runs.specs_from_flags()
  except ValueError as error:
    raise app.UsageError(str(error)) from error
  report(specs, out, step_degrees=_STEP.value,
         limit=_LIMIT.value or None, layer_images=_LAYER_IMAGES.value,
         command=shlex.join(['python', '-m', 'experiments.rotation_report'] +
                            sys.argv[1:]))


if __name__ == '__main__':
  app.run(main)
