"""Studies: train a list of models the same way, then measure their robustness.

A study config (``experiments/configs/study_*.py``) holds the training fields
of ``configs/train.py`` (shared by every model), the models
(``config.models.<label> = ConfigDict(name=..., **options)`` and the order
``config.run = (label, ...)``) and what to measure. For each model,
:func:`run` trains it in ``<workdir>/models/<label>`` (restore-or-initialise:
re-running the study resumes or skips finished models) and measures on the
evaluation split (:mod:`experiments.metrics`):

* test accuracy, and accuracy vs shift ``k = 0..config.eval_max_shift``
  pixels (mean over right, down, left, up; ``config.eval_shift_mode``);
* consistency (Zhang 2019): same top-1 class for two random shifts in
  ``[-consistency_max_shift, consistency_max_shift]^2``, with 'zeros'
  (random crops) and 'circular' shifts;
* P(top-1 change) and mean absolute change of the top-1 probability under
  1-pixel shifts right and down (Azulay & Weiss 2019);
* accuracy vs rotation for each of ``config.rotation_angles`` (degrees; none
  by default);
* with ``config.rescale_object_size`` (the object's size on its canvas): the
  same two Azulay & Weiss measures under a one-pixel change of that size
  (rescaled about the centre, :func:`groups.scale.rescale`) and accuracy vs
  rescale factor (``config.rescale_factors``).

A new study is a config: e.g. a rotation study sets ``dataset='mnist_rot'``
(or ``augment='rotate'``), ``rotation_angles=(0, 45, 90, ...)`` and models
such as 'p4cnn' once they are registered in :mod:`models.registry`. Run a
subset with ``--config.run="('mlp','cnn_aps_gap')"``.

Presets: fields left ``None`` are filled from ``config.presets.quick`` when
``config.quick`` is True, else from ``config.presets.full``; a field given on
the command line wins. The resolved config is saved as ``config.json``.

Outputs in ``workdir``: ``config.json``, ``results.csv`` (one row per model),
``results.md`` (tables), ``accuracy_vs_shift.png``, ``robustness.png``
(and ``accuracy_vs_rotation.png`` when rotations are measured), and
``models/<label>/`` (each model's metrics.jsonl, TensorBoard events and
checkpoints); with ``config.jagged_images`` and ``config.rescale_object_size``,
``jaggedness.png`` (P(correct class) of the first test digit against object
size and against shift, per model: Azulay & Weiss's Figure 1). With ``config.compare_with`` pointing at another study's
workdir that holds a ``results.csv``, ``results.md`` adds a side-by-side
table and ``comparison.png``.
"""

from __future__ import annotations

import copy
import math
import os
import time
from collections.abc import Sequence
from typing import Any

from absl import logging
import jax
import ml_collections
import numpy as np

from data import transforms
from experiments import metrics
from experiments import plotting
from experiments import reporting
from experiments import train
from groups import validate

# Fields of a study config that configure training (configs/train.py).
TRAIN_FIELDS = (
    'seed', 'dataset', 'data_dir', 'data_source', 'canvas_size',
    'train_limit', 'eval_limit', 'eval_split', 'optimizer', 'learning_rate',
    'momentum', 'weight_decay', 'schedule', 'warmup_steps', 'num_train_steps',
    'batch_size', 'augment', 'max_shift', 'shift_mode', 'max_angle',
    'eval_batch_size', 'eval_every', 'log_every', 'checkpoint_every',
    'max_checkpoints', 'num_devices')
# Training fields a study config may lack (configs/train.py's default holds).
OPTIONAL_TRAIN_FIELDS = ('train_split', 'lr_decay_every', 'lr_decay_factor',
                         'lr_decay_start', 'rotate_order',
                         'min_scale_factor', 'max_scale_factor',
                         'optimizer_state')
# Keys of a model entry that are not model options: a description, and
# per-model overrides of TRAIN_FIELDS (e.g. train=dict(augment='rotate')).
MODEL_META_KEYS = ('description', 'train')
MODELS_DIR = 'models'
# Azulay & Weiss's Figure 1: object sizes (px) and shifts (px) of the
# probability curves written to jaggedness.png (config.jagged_images > 0).
JAGGED_SIZES = tuple(np.arange(16.0, 30.5, 0.5))
JAGGED_SHIFTS = tuple(range(-4, 5))
# measure() skips these when config.measure_shifts is False.
SHIFT_METRICS = ('consistency', 'consistency_circular', 'p_top1_change',
                 'mean_abs_change')

Row = dict[str, Any]


# ---------------------------------------------------------------------------
# Config handling.
# ---------------------------------------------------------------------------


def resolve_presets(config: ml_collections.ConfigDict
                    ) -> ml_collections.ConfigDict:
  """A copy of ``config`` with ``None`` fields taken from the active preset.

  Args:
    config: a study config with ``quick`` (bool) and ``presets.quick`` /
      ``presets.full`` (ConfigDicts of top-level field values).

  Returns:
    A new, unlocked ConfigDict with references resolved: models whose fields
    refer to a top-level field (e.g. ``widths``) see the preset value.

  Raises:
    ValueError: if ``config.quick`` is not a bool or a preset names a field
      the config does not have.
  """
  if not isinstance(config.get('quick'), bool):
    raise ValueError(f'config.quick must be True or False; got '
                     f'{config.get("quick")!r}.')
  preset_name = 'quick' if config.quick else 'full'
  presets = config.get('presets') or ml_collections.ConfigDict()
  preset = presets.get(preset_name) or ml_collections.ConfigDict()
  filled = copy.deepcopy(config)  # keeps the links between fields
  filled.unlock()
  for key, value in preset.items():
    if key not in filled:
      raise ValueError(f'config.presets.{preset_name}.{key} names no field of '
                       f'the config; accepted: {", ".join(sorted(filled))}.')
    if filled[key] is None:
      filled[key] = value
  return filled.copy_and_resolve_references()


def check_study_config(config: ml_collections.ConfigDict) -> None:
  """Validates the study fields of a resolved config.

  Raises:
    ValueError: naming the first bad field and the accepted values.
  """
  if not config.get('run'):
    raise ValueError('config.run must name at least one model of '
                     f'config.models; got {config.get("run")!r}.')
  models = config.get('models')
  if not isinstance(models, ml_collections.ConfigDict):
    raise ValueError('config.models must be a ConfigDict of label -> model '
                     f'ConfigDict; got {models!r}.')
  for label in config.run:
    if label not in models:
      raise ValueError(f'config.run names {label!r}, which is not in '
                       f'config.models; accepted: '
                       f'{", ".join(map(repr, models.keys()))}.')
  if len(set(config.run)) != len(config.run):
    raise ValueError(f'config.run must not repeat a label; got {config.run!r}.')
  validate.integer(config.eval_max_shift, 'config.eval_max_shift', minimum=0)
  validate.integer(config.consistency_max_shift,
                   'config.consistency_max_shift', minimum=0)
  validate.check_choice(config.eval_shift_mode, 'config.eval_shift_mode',
                        metrics.SHIFT_MODES)
  if not isinstance(config.get('measure_shifts', True), bool):
    raise ValueError(f'config.measure_shifts must be True or False; got '
                     f'{config.get("measure_shifts")!r}.')
  for angle in config.get('rotation_angles', ()):
    validate.number(angle, 'config.rotation_angles entries (degrees)')
  validate.integer(config.get('rescale_object_size', 0),
                   'config.rescale_object_size (0: no rescale metrics)',
                   minimum=0)
  for factor in config.get('rescale_factors', ()):
    validate.number(factor, 'config.rescale_factors entries', minimum=0.0,
                    exclusive_minimum=True)
  validate.integer(config.get('jagged_images', 0), 'config.jagged_images',
                   minimum=0)


def train_config(config: ml_collections.ConfigDict,
                 label: str) -> ml_collections.ConfigDict:
  """The :mod:`experiments.train` config of model ``label`` in a study."""
  sub = ml_collections.ConfigDict()
  sub.experiment = 'train'
  for key in TRAIN_FIELDS:
    sub[key] = config[key]
  for key in OPTIONAL_TRAIN_FIELDS:
    if key in config:
      sub[key] = config[key]
  model = config.models[label].to_dict()
  for key, value in (model.get('train') or {}).items():
    if key not in TRAIN_FIELDS + OPTIONAL_TRAIN_FIELDS:
      raise ValueError(f'config.models.{label}.train.{key} is not a training '
                       f'field; accepted: '
                       f'{", ".join(TRAIN_FIELDS + OPTIONAL_TRAIN_FIELDS)}.')
    sub[key] = value
  for key in MODEL_META_KEYS:
    model.pop(key, None)
  sub.model = ml_collections.ConfigDict(model)
  return sub


def describe_model(model: ml_collections.ConfigDict) -> str:
  """``description`` if given, else ``name`` and its options."""
  if model.get('description'):
    return model.description
  options = ', '.join(f'{k}={_format_value(v)}' for k, v in model.items()
                      if k not in ('name',) + MODEL_META_KEYS)
  return f'{model.name}({options})'


def _format_value(value: Any) -> str:
  if isinstance(value, (tuple, list)):
    return '(' + ','.join(map(str, value)) + ')'
  return str(value)


# ---------------------------------------------------------------------------
# Measuring one trained model.
# ---------------------------------------------------------------------------


def measure(predict_fn: metrics.PredictFn, images: np.ndarray,
            labels: np.ndarray, config: ml_collections.ConfigDict, *,
            test_accuracy: float | None = None) -> Row:
  """Robustness metrics of a trained model on ``images [N, H, W, C]``.

  Args:
    predict_fn: ``[B, H, W, C]`` in [0, 1] -> logits.
    images: ``[N, H, W, C]`` in [0, 1].
    labels: ``[N]`` ints.
    config: the study config (``eval_max_shift``, rotation angles, ...).
    test_accuracy: the model's accuracy on exactly these images, if already
      measured (the trainer's final evaluation); with ``eval_max_shift = 0``
      it is used instead of one more pass over the images.

  Returns:
    ``{'test_accuracy', 'acc_shift_<k>' for k = 0..eval_max_shift,
    'consistency', 'consistency_circular', 'p_top1_change',
    'mean_abs_change', 'acc_rot_<deg>' per rotation angle}``, and with
    ``config.rescale_object_size`` (the object's size on its canvas, px)
    ``'p_top1_change_rescale'``, ``'mean_abs_change_rescale'`` (a one-pixel
    change of that size) and ``'acc_scale_<f>'`` per
    ``config.rescale_factors``; with
    ``config.measure_shifts = False`` the four shift metrics are NaN (not
    measured).
  """
  batch_size = config.eval_batch_size
  row: Row = {}
  if test_accuracy is not None and config.eval_max_shift == 0:
    by_shift = {0: float(test_accuracy)}
  else:
    by_shift = metrics.accuracy_vs_shift(
        predict_fn, images, labels, max_shift=config.eval_max_shift,
        mode=config.eval_shift_mode, batch_size=batch_size)
  row['test_accuracy'] = by_shift[0]
  for k, value in by_shift.items():
    row[f'acc_shift_{k}'] = value
  if config.get('measure_shifts', True):
    for mode, key in (('zeros', 'consistency'),
                      ('circular', 'consistency_circular')):
      row[key] = metrics.shift_consistency(
          predict_fn, images, max_shift=config.consistency_max_shift,
          mode=mode, seed=config.seed, batch_size=batch_size)
    row.update(metrics.one_pixel_shift_sensitivity(
        predict_fn, images, mode=config.eval_shift_mode,
        batch_size=batch_size))
  else:  # skipped (5 passes over the images): NaN in tables and plots
    row.update(dict.fromkeys(SHIFT_METRICS, math.nan))
  object_size = config.get('rescale_object_size', 0)
  if object_size:
    row.update(metrics.one_pixel_rescale_sensitivity(
        predict_fn, images, object_size=object_size, batch_size=batch_size))
    by_factor = metrics.accuracy_vs_rescale(
        predict_fn, images, labels,
        factors=tuple(config.get('rescale_factors', ())),
        batch_size=batch_size)
    for factor, value in by_factor.items():
      row[f'acc_scale_{_format_number(factor)}'] = value
  angles = tuple(config.get('rotation_angles', ()))
  if angles:
    by_angle = metrics.accuracy_vs_rotation(
        predict_fn, images, labels,
        angles=[math.radians(a) for a in angles], batch_size=batch_size)
    for degrees, value in zip(angles, by_angle.values()):
      row[f'acc_rot_{_format_number(degrees)}'] = value
  return row


def _format_number(value: float) -> str:
  return f'{value:g}'


# ---------------------------------------------------------------------------
# Tables and files.
# ---------------------------------------------------------------------------


def shift_columns(rows: Sequence[Row]) -> list[int]:
  """The shifts ``k`` with an ``acc_shift_<k>`` column, ascending."""
  keys = {k for r in rows for k in r if k.startswith('acc_shift_')}
  return sorted(int(k[len('acc_shift_'):]) for k in keys)


def rotation_columns(rows: Sequence[Row]) -> list[str]:
  """The ``acc_rot_<deg>`` keys in first-seen order."""
  return list(dict.fromkeys(k for r in rows for k in r
                            if k.startswith('acc_rot_')))


def _pct(value: float) -> str:
  return f'{100 * value:.1f}'


def markdown_tables(rows: Sequence[Row]) -> str:
  """The summary table and the accuracy-vs-shift (and rotation) tables."""
  shifts = shift_columns(rows)
  mid = shifts[len(shifts) // 2] if shifts else None
  top = shifts[-1] if shifts else None
  columns = {'label': 'model', 'params': 'params',
             'test_accuracy': 'test acc %'}
  if top:
    columns.update({f'acc_shift_{mid}': f'acc @{mid}px %',
                    f'acc_shift_{top}': f'acc @{top}px %'})
  columns.update({'consistency': 'consistency %',
                  'consistency_circular': 'circ. consistency %',
                  'p_top1_change': 'P(top-1 change) %',
                  'mean_abs_change': 'mean abs change'})
  if any('p_top1_change_rescale' in r for r in rows):
    columns.update({'p_top1_change_rescale': 'P(top-1 change), 1-px rescale %',
                    'mean_abs_change_rescale': 'mean abs change, rescale'})
  formats = {key: _pct for key in columns if key not in ('label', 'params')}
  formats.update(params=lambda v: f'{int(v):,}',
                 mean_abs_change=lambda v: f'{v:.4f}',
                 mean_abs_change_rescale=lambda v: f'{v:.4f}')
  formats = {key: value for key, value in formats.items() if key in columns}
  text = [reporting.markdown_table(rows, columns, formats=formats)]
  if shifts:
    keys = {f'acc_shift_{k}': f'{k}px' for k in shifts}
    text.append('Accuracy (%) vs shift (pixels):\n\n' +
                reporting.markdown_table(rows, {'label': 'model', **keys},
                                         formats=dict.fromkeys(keys, _pct)))
  factors = list(dict.fromkeys(k for r in rows for k in r
                               if k.startswith('acc_scale_')))
  if factors:
    keys = {k: k[len('acc_scale_'):] + '×' for k in factors}
    text.append('Accuracy (%) vs rescale factor (object about the canvas '
                'centre):\n\n' +
                reporting.markdown_table(rows, {'label': 'model', **keys},
                                         formats=dict.fromkeys(keys, _pct)))
  rotations = rotation_columns(rows)
  if rotations:
    keys = {k: k[len('acc_rot_'):] + '°' for k in rotations}
    text.append('Accuracy (%) vs rotation:\n\n' +
                reporting.markdown_table(rows, {'label': 'model', **keys},
                                         formats=dict.fromkeys(keys, _pct)))
  return '\n\n'.join(text)


def test_error_interval(accuracy: float, num: int) -> Row:
  """``test_error`` and its 95 % Wilson interval over ``num`` test images.

  Returns:
    ``{'num_eval', 'test_error', 'test_error_ci95_low',
    'test_error_ci95_high'}`` (rates in [0, 1]).
  """
  errors = int(round((1.0 - accuracy) * num))
  low, high = metrics.binomial_interval(errors, num)
  return {'num_eval': int(num), 'test_error': errors / num,
          'test_error_ci95_low': low, 'test_error_ci95_high': high}


def error_table(rows: Sequence[Row]) -> str:
  """Test error (%) with its 95 % binomial (Wilson) interval per model."""
  table = [dict(r, interval=f'{100 * r["test_error_ci95_low"]:.2f} – '
                           f'{100 * r["test_error_ci95_high"]:.2f}')
           for r in rows]
  return ('Test error (%) with a 95 % binomial (Wilson) interval:\n\n' +
          reporting.markdown_table(
              table, {'label': 'model', 'num_eval': 'test images',
                      'test_error': 'test error %',
                      'interval': '95 % interval %'},
              formats=dict(num_eval=lambda v: f'{int(v):,}',
                           test_error=lambda v: f'{100 * v:.2f}'),
              align=['left', 'right', 'right', 'left']))


def comparison_table(rows: Sequence[Row], other_rows: Sequence[Row], *,
                     name: str, other_name: str) -> str:
  """Side-by-side summary of two studies over the models both ran."""
  other = {r['label']: r for r in other_rows}
  shifts = shift_columns(rows)
  top = shifts[-1] if shifts else None
  columns = [('test acc %', 'test_accuracy', _pct)]
  if top:
    columns.append((f'acc @{top}px %', f'acc_shift_{top}', _pct))
  columns += [('consistency %', 'consistency', _pct),
              ('P(top-1 change) %', 'p_top1_change', _pct),
              ('mean abs change', 'mean_abs_change', lambda v: f'{v:.4f}')]
  headers, formats = {'label': 'model'}, {}
  for title, key, fmt in columns:
    headers[('other', key)] = f'{title} ({other_name})'
    headers[('this', key)] = f'{title} ({name})'
    formats[('other', key)] = formats[('this', key)] = fmt
  table = [{'label': r['label'],
            **{('other', k): v for k, v in other[r['label']].items()},
            **{('this', k): v for k, v in r.items()}}
           for r in rows if r['label'] in other]
  return reporting.markdown_table(table, headers, formats=formats)


def write_csv(rows: Sequence[Row], path: str) -> None:
  """One row per model; floats written with ``repr`` (round-trip exact)."""
  reporting.write_csv(rows, path)


def read_csv(path: str) -> list[Row]:
  """Rows of :func:`write_csv`; numeric cells come back as numbers."""
  return reporting.read_csv(path)


def _compare_dir(config: ml_collections.ConfigDict, workdir: str
                 ) -> str | None:
  other = config.get('compare_with')
  if not other:
    return None
  return other if os.path.isabs(other) else os.path.normpath(
      os.path.join(workdir, other))


# ---------------------------------------------------------------------------
# The study.
# ---------------------------------------------------------------------------


def run(config: ml_collections.ConfigDict, workdir: str) -> list[Row]:
  """Trains and measures every model of ``config.run``; writes the results.

  Args:
    config: a study config (``experiments/configs/study_*.py``).
    workdir: output folder; re-running resumes unfinished models and
      re-measures finished ones without training them again.

  Returns:
    One row per model (the rows of ``results.csv``).
  """
  start = time.perf_counter()
  config = resolve_presets(config)
  check_study_config(config)
  reporting.write_config(config, workdir)
  logging.info('study %r (%s mode): %d models on %s', config.get('title', ''),
               'quick' if config.quick else 'full', len(config.run),
               config.dataset)

  rows = []
  curves: dict[str, dict[str, np.ndarray]] = {}
  num_eval = num_train = 0
  for i, label in enumerate(config.run):
    model_start = time.perf_counter()
    sub = train_config(config, label)
    train.check_config(sub)
    result = train.train(sub, os.path.join(workdir, MODELS_DIR, label))
    train_seconds = time.perf_counter() - model_start
    eval_data = result.eval_data
    num_eval, num_train = len(eval_data.labels), result.num_train
    row: Row = {
        'label': label,
        'description': describe_model(config.models[label]),
        'params': int(sum(x.size for x in
                          jax.tree.leaves(result.state.params))),
        'steps': int(config.num_train_steps),
        'augment': config.augment,
    }
    # The trainer's final evaluation already is the test accuracy (all of
    # the eval split, the final weights): no second pass for it.
    row.update(measure(result.predict_fn, np.asarray(eval_data.images),
                       np.asarray(eval_data.labels), config,
                       test_accuracy=result.metrics.get('eval/accuracy')))
    row.update(test_error_interval(row['test_accuracy'], num_eval))
    if config.get('jagged_images', 0) and config.get('rescale_object_size', 0):
      curves[label] = metrics.probability_curves(
          result.predict_fn,
          np.asarray(eval_data.images)[:config.jagged_images],
          np.asarray(eval_data.labels)[:config.jagged_images],
          object_size=config.rescale_object_size, sizes=JAGGED_SIZES,
          shifts=JAGGED_SHIFTS, batch_size=config.eval_batch_size)
    row['train_seconds'] = round(train_seconds, 2)
    row['total_seconds'] = round(time.perf_counter() - model_start, 2)
    rows.append(row)
    logging.info('[%d/%d] %s: test acc %.3f, acc@%dpx %.3f, consistency '
                 '%.3f, P(top-1 change) %.3f (train %.1f s, total %.1f s)',
                 i + 1, len(config.run), label, row['test_accuracy'],
                 config.eval_max_shift,
                 row[f'acc_shift_{config.eval_max_shift}'],
                 row['consistency'], row['p_top1_change'], train_seconds,
                 row['total_seconds'])

  write_csv(rows, os.path.join(workdir, 'results.csv'))
  title = config.get('title') or 'Study'
  summary = _summary(config, len(rows), time.perf_counter() - start,
                     num_train=num_train, num_eval=num_eval)
  tables = markdown_tables(rows)
  text = [f'# {title}\n', summary, '', tables, '', error_table(rows)]
  plotting.accuracy_vs_shift(rows, os.path.join(workdir,
                                                'accuracy_vs_shift.png'),
                             title=f'{title}: accuracy vs shift')
  plotting.robustness_bars(rows, os.path.join(workdir, 'robustness.png'),
                           title=f'{title}: robustness')
  if curves:
    plotting.jaggedness(curves, os.path.join(workdir, 'jaggedness.png'),
                        sizes=JAGGED_SIZES, shifts=JAGGED_SHIFTS,
                        object_size=config.rescale_object_size,
                        title=f'{title}: P(correct class) of one digit')
  if rotation_columns(rows):
    plotting.accuracy_vs_rotation(
        rows, os.path.join(workdir, 'accuracy_vs_rotation.png'),
        title=f'{title}: accuracy vs rotation')
  compare_dir = _compare_dir(config, workdir)
  comparison = ''
  if compare_dir and os.path.isfile(os.path.join(compare_dir, 'results.csv')):
    other_rows = read_csv(os.path.join(compare_dir, 'results.csv'))
    name = config.get('compare_name') or os.path.basename(
        os.path.normpath(workdir))
    other_name = config.get('compare_other_name') or os.path.basename(
        compare_dir)
    comparison = comparison_table(rows, other_rows, name=name,
                                  other_name=other_name)
    text += ['', f'## Side by side with {compare_dir}\n', comparison]
    plotting.accuracy_vs_shift(
        rows, os.path.join(workdir, 'comparison.png'),
        title=f'{other_name} (dashed) vs {name} (solid)',
        baseline_rows=other_rows)
  elif compare_dir:
    logging.info('no %s/results.csv to compare with; run that study first '
                 'for a side-by-side table', compare_dir)
  with open(os.path.join(workdir, 'results.md'), 'w') as f:
    f.write('\n'.join(text) + '\n')
  print(f'{title}\n\n{summary}\n\n{tables}\n\n{error_table(rows)}',
        flush=True)
  if comparison:
    print(f'\nSide by side with {compare_dir}:\n\n{comparison}', flush=True)
  logging.info('study done in %.1f s; results in %s',
               time.perf_counter() - start, workdir)
  return rows


def _summary(config: ml_collections.ConfigDict, num_models: int,
             seconds: float, *, num_train: int, num_eval: int) -> str:
  augment = config.augment
  if augment == 'shift':
    augment = (f'random shifts up to {config.max_shift} px '
               f'({_fill(config.shift_mode)})')
  elif augment == 'rotate':
    order = transforms.ROTATION_ORDER_NAMES[config.get('rotate_order', 1)]
    augment = f'random rotations up to {config.max_angle:g} rad ({order})'
  elif augment == 'rescale':
    augment = (f'random rescaling by '
               f'{config.get("min_scale_factor", 0.5):g} to '
               f'{config.get("max_scale_factor", 2.0):g} (band-limited)')
  return (
      f'{num_models} models, {"quick" if config.quick else "full"} mode, '
      f'trained on {num_train} {config.dataset} images for '
      f'{config.num_train_steps} steps of batch {config.batch_size} '
      f'({config.optimizer}, lr {config.learning_rate:g}, {config.schedule}),'
      f' augmentation: {augment}, seed {config.seed}; measured on '
      f'{num_eval} {config.eval_split} images. Accuracy vs shift: mean over '
      f'moves right/down/left/up ({_fill(config.eval_shift_mode)}); '
      f'consistency = same top-1 class for two random shifts in '
      f'[-{config.consistency_max_shift}, {config.consistency_max_shift}]^2 '
      f'(zero fill / circular); P(top-1 change) and mean absolute change of '
      f'the top-1 probability under 1-pixel shifts right and down '
      f'({_fill(config.eval_shift_mode)}). Wall time of this run: '
      f'{seconds:.0f} s.')


def _fill(mode: str) -> str:
  return 'zero fill' if mode == 'zeros' else 'circular'
