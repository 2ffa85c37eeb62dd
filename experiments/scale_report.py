"""The MNIST-scale table over realizations, and what the trained models do
under rescaling: per-layer scale-equivariance errors and logit invariance
under an *outside* resampler (SciPy's cubic spline, not the project's).

Reads finished runs of ``experiments/configs/mnist_scale.py`` (one workdir
per realization, ``--config.seed`` = realization); nothing is trained::

  python -m experiments.scale_report \\
      --workdirs=runs/mnist_scale_s0,runs/mnist_scale_s1,runs/mnist_scale_s2 \\
      --out=results/mnist_scale [--config=experiments/configs/mnist_scale.py]

Writes to ``--out``: ``scale_report.md`` (the tables), ``table.csv`` (test
error per model and realization), ``basis_errors.csv`` (the bases' own
equivariance errors, :func:`basis_rows`), ``layer_errors.csv`` /
``layer_errors.png`` (``||f_l(R x) - A_l f_l(x)|| / ||A_l f_l(x)||`` per
layer, ``R`` a shrink by the scales' ratio, ``A_l`` the layer's induced
action: :meth:`models.scale.ScaleCNN.layer_actions`, computed on the first
realization's models) and ``invariance.csv`` (for each rescale factor, with
SciPy's order-3 spline about the image centre (zero fill) and with
:func:`groups.scale.rescale`: the relative change of the logits, P(top-1
change) and the accuracy, on the first ``--images`` test digits).
"""

from __future__ import annotations

from collections.abc import Sequence
import csv
import datetime
import json
import math
import os
import shlex
import sys
import time

from absl import app
from absl import flags
from absl import logging
import numpy as np
from scipy import ndimage

import groups
from groups import validate
from experiments import layer_equivariance
from experiments import metrics
from experiments import plotting
from experiments import reporting
from experiments import rotation_report
from experiments import trained_runs
from groups import synthetic
from layers import scale as scale_layers

DEFAULT_CONFIG = 'experiments/configs/mnist_scale.py'
FACTORS = (0.7, 0.85, 1.2, 1.4)
DEFAULT_IMAGES = 2000
LAYER_IMAGES = 500
Row = dict


def spline_rescale(images: np.ndarray, factor: float) -> np.ndarray:
  """``[N, H, W, C]`` rescaled about the grid centre by ``factor`` with
  SciPy's cubic spline (``ndimage.affine_transform``, order 3, zero fill),
  clipped to [0, 1]: a resampler independent of :mod:`groups.scale`."""
  images = np.asarray(images, np.float64)
  out = np.empty_like(images)
  centre = (np.array(images.shape[1:3]) - 1) / 2
  matrix = np.eye(2) / factor
  offset = centre - matrix @ centre
  for n in range(images.shape[0]):
    for c in range(images.shape[3]):
      out[n, :, :, c] = ndimage.affine_transform(
          images[n, :, :, c], matrix, offset=offset, order=3, mode='constant',
          cval=0.0)
  return np.clip(out, 0.0, 1.0).astype(np.float32)


def read_table(workdirs: Sequence[str]) -> list[Row]:
  """One row per (model, realization) from each run's ``results.csv``."""
  rows = []
  for workdir in workdirs:
    path = os.path.join(workdir, 'results.csv')
    if not os.path.isfile(path):
      raise ValueError(f'workdirs must hold finished studies; {path} is '
                       'missing.')
    with open(path, encoding='utf-8') as f:
      for row in csv.DictReader(f):
        rows.append(dict(model=row['label'], realization=_run_seed(workdir),
                         workdir=workdir, params=int(row['params']),
                         test_error=float(row['test_error']),
                         num_eval=int(row['num_eval']),
                         train_seconds=float(row['train_seconds'])))
  return rows


def _run_seed(workdir: str) -> int:
  """The ``seed`` (realization) a study in ``workdir`` ran with."""
  with open(os.path.join(workdir, 'config.json'), encoding='utf-8') as f:
    return int(json.load(f)['seed'])


def summary_rows(table: Sequence[Row]) -> list[Row]:
  """Mean and sample std of the test error per model over realizations."""
  out = []
  for model in dict.fromkeys(r['model'] for r in table):
    errors = np.array([r['test_error'] for r in table if r['model'] == model])
    seconds = [r['train_seconds'] for r in table if r['model'] == model]
    params = next(r['params'] for r in table if r['model'] == model)
    out.append(dict(model=model, params=params, realizations=len(errors),
                    errors=' '.join(f'{100 * e:.2f}' for e in errors),
                    error_mean=float(errors.mean()),
                    error_std=float(errors.std(ddof=1)) if len(errors) > 1
                    else math.nan, train_seconds=float(np.mean(seconds))))
  return out


def layer_rows(trained: trained_runs.TrainedModel, *, k: int = -1,
               num_images: int = LAYER_IMAGES) -> list[Row]:
  """Per-layer errors under a rescale by ``ratio**k`` (the model's own
  layer actions), on the first ``num_images`` test digits."""
  model = trained.model
  factor = model.ratio()**k
  actions = model.layer_actions(k)
  errors = layer_equivariance.layer_errors(
      model, trained.variables, trained.images[:num_images],
      groups.Rescale(factor), actions, mean=trained.mean, std=trained.std)
  return [dict(model=trained.label, layer=layer,
               transform=f'rescale x{factor:.3g}', relative_error=error,
               action=repr(actions.get(layer)))
          for layer, error in errors.items()]


def invariance_rows(trained: trained_runs.TrainedModel, *,
                    factors: Sequence[float] = FACTORS,
                    num_images: int = DEFAULT_IMAGES) -> list[Row]:
  """Logit change, P(top-1 change) and accuracy under each rescale, with
  SciPy's spline and with :func:`groups.scale.rescale`."""
  images = np.asarray(trained.images[:num_images], np.float32)
  labels = np.asarray(trained.labels[:num_images])
  predict = lambda x: metrics.predict(trained.predict_fn, x,  # noqa: E731
                                      batch_size=trained.batch_size)
  reference = predict(images)
  rows = []
  for resampler in ('scipy_spline', 'equivlab_rescale'):
    for factor in factors:
      moved = (spline_rescale(images, factor) if resampler == 'scipy_spline'
               else metrics.rescale(images, factor))
      logits = predict(moved)
      change = np.asarray(groups.relative_error(logits, reference))
      rows.append(dict(
          model=trained.label, resampler=resampler, factor=factor,
          logit_change=float(change.mean()),
          p_top1_change=metrics.top1_change(reference, logits),
          accuracy=float(np.mean(logits.argmax(-1) == labels)),
          accuracy_unscaled=float(np.mean(reference.argmax(-1) == labels)),
          n=len(images)))
  return rows


# The registered models' bases: (label, kernel size, scales, basis options).
BASIS_SETS = (
    ('SESN scales', 13, (1.5, 2.6, 4.5), {}),
    ('DISCO scales', 15, (1.0, 1.26, 1.59, 2.0), {}),
)


def smooth_probe_images(count: int = 8, size: int = 96, seed: int = 0
                        ) -> np.ndarray:
  """``[count, size, size, 1]`` low-pass noise (0.15 cycles/px) under a
  radial bump over the middle third: room to shrink by 3."""
  rng = np.random.default_rng(seed)
  noise = rng.standard_normal((count, size, size, 1)).astype(np.float32)
  return synthetic.radial_window(synthetic.low_pass(noise, cutoff=0.15),
                                 fraction=0.35).astype(np.float32)


def basis_rows(basis_sets=BASIS_SETS) -> list[Row]:
  """Pairwise equivariance errors (:func:`layers.scale.equivariance_errors`)
  of the Hermite and solved bases at each scale set (default: the
  registered models'), on held-out white noise and on smooth images."""
  rows = []
  smooth = smooth_probe_images()
  for label, size, scales, options in basis_sets:
    bases = {
        'hermite (SESN)': scale_layers.hermite_basis(size, scales, mult=1.5,
                                                     **options),
        'solved (ours)': scale_layers.disco_basis(size, scales, **options),
        'solved, integer ratios dilated (DISCO)': scale_layers.disco_basis(
            size, scales, dilate_integer=True, **options)}
    for name, basis in bases.items():
      for inputs, images in (('white noise', None), ('smooth', smooth)):
        errors = scale_layers.equivariance_errors(basis, scales, images)
        upper = errors[np.triu_indices(len(scales), 1)]
        rows.append(dict(scale_set=label, kernel_size=size,
                         scales=' '.join(f'{x:g}' for x in scales),
                         basis=name, inputs=inputs,
                         mean_error=float(upper.mean()),
                         max_error=float(upper.max()),
                         pairs=' '.join(f'{e:.2g}' for e in upper)))
  return rows


def _markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]
                    ) -> str:
  """:func:`experiments.reporting.markdown_table` of pre-formatted cells."""
  return reporting.markdown_table([dict(enumerate(row)) for row in rows],
                                  dict(enumerate(header)))


def report(workdirs: Sequence[str], out: str, *,
           config_path: str = DEFAULT_CONFIG,
           num_images: int = DEFAULT_IMAGES, basis_sets=BASIS_SETS,
           command: str | None = None) -> dict[str, list[Row]]:
  """Measures and writes everything (module docstring); returns the rows."""
  if isinstance(workdirs, str) or not workdirs:
    raise ValueError(f'workdirs must be a non-empty list of study workdirs; '
                     f'got {workdirs!r}.')
  if not isinstance(out, str) or not out:
    raise ValueError(f'out must be a folder path; got {out!r}.')
  validate.integer(num_images, 'num_images', minimum=1)
  start = time.perf_counter()
  table = read_table(workdirs)
  summary = summary_rows(table)
  config = trained_runs.load_config(config_path)
  config.seed = _run_seed(workdirs[0])   # its realization
  os.makedirs(out, exist_ok=True)
  bases = basis_rows(basis_sets)
  reporting.write_csv(bases, os.path.join(out, 'basis_errors.csv'))
  layers, invariance = [], []
  for label in dict.fromkeys(r['model'] for r in table):
    logging.info('%s: restoring from %s', label, workdirs[0])
    trained = trained_runs.restore(config, label, workdirs[0])
    layers += layer_rows(trained)
    invariance += invariance_rows(trained, num_images=num_images)
    del trained
  reporting.write_csv(table, os.path.join(out, 'table.csv'))
  reporting.write_csv(layers, os.path.join(out, 'layer_errors.csv'))
  reporting.write_csv(invariance, os.path.join(out, 'invariance.csv'))
  plotting.layer_error_panels(
      layers, os.path.join(out, 'layer_errors.png'),
      title='Per-layer scale-equivariance error (trained models of '
      f'{workdirs[0]})')
  seconds = time.perf_counter() - start
  now = datetime.datetime.now(datetime.timezone.utc)
  command = shlex.join(sys.argv) if command is None else command
  text = (
      f'Command: `{command}`\n\nDate {now:%Y-%m-%d %H:%M} UTC; CPU '
      f'{rotation_report.cpu_description()}, {os.cpu_count()} cores; '
      f'wall time {seconds:.0f} s. Realizations: '
      f'{", ".join(workdirs)} (seed = realization). Test error on each '
      f'run\'s whole test split; per-layer errors on the first '
      f'{LAYER_IMAGES} and invariance on the first {num_images} test digits '
      f'of the first workdir\'s realization ({workdirs[0]}).')
  tables = [
      ('Test error over realizations (mean ± std, %)', _markdown_table(
          ('model', 'parameters', 'realizations', 'test error %',
           'per realization %', 'train s (mean)'),
          [(r['model'], f'{r["params"]:,}', str(r['realizations']),
            f'{100 * r["error_mean"]:.2f} ± {100 * r["error_std"]:.2f}',
            r['errors'], f'{r["train_seconds"]:.0f}') for r in summary])),
      ('Logits under rescaling, SciPy cubic spline (outside check): '
       'relative change / P(top-1 change) % / accuracy %', _markdown_table(
           ('model',) + tuple(f'x{f:g}' for f in FACTORS),
           [(model,) + tuple(
               f'{r["logit_change"]:.3f} / {100 * r["p_top1_change"]:.1f} / '
               f'{100 * r["accuracy"]:.1f}' for r in invariance
               if r['model'] == model and r['resampler'] == 'scipy_spline')
            for model in dict.fromkeys(r['model'] for r in invariance)])),
      ('Basis equivariance error: mean (max) over pairs of scales of '
       '||rescale(conv(x, psi_j), 1/r) - conv(rescale(x, 1/r), psi_i)||^2 / '
       '||conv(rescale(x, 1/r), psi_i)||^2', _markdown_table(
           ('scale set', 'basis', 'white noise', 'smooth images'),
           [(r['scale_set'] + f' ({r["kernel_size"]}x{r["kernel_size"]}: '
             f'{r["scales"]})', r['basis'],
             f'{r["mean_error"]:.2g} ({r["max_error"]:.2g})',
             f'{q["mean_error"]:.2g} ({q["max_error"]:.2g})')
            for r, q in zip(bases[::2], bases[1::2])])),
      (f'Per-layer scale-equivariance error ({workdirs[0]}, first '
       f'{LAYER_IMAGES} digits)', _markdown_table(
           ('model', 'layer', 'action', 'relative error'),
           [(r['model'], r['layer'], r['action'],
             f'{r["relative_error"]:.3g}') for r in layers
            if r['action'] != 'None'])),
  ]
  reporting.write_markdown(os.path.join(out, 'scale_report.md'),
                           title='MNIST-scale report', summary=text,
                           tables=tables)
  logging.info('scale report in %.1f s: %s', seconds, out)
  return dict(table=table, summary=summary, bases=bases, layers=layers,
              invariance=invariance)


_WORKDIRS = flags.DEFINE_list('workdirs', None,
                              'Study workdirs, one per realization.')
_CONFIG = flags.DEFINE_string('config', DEFAULT_CONFIG,
                              'The study config file they ran.')
_IMAGES = flags.DEFINE_integer('images', DEFAULT_IMAGES,
                               'Test digits of the invariance measures.')


def main(argv: Sequence[str]) -> None:
  if len(argv) > 1:
    raise app.UsageError(f'Too many command-line arguments: {argv[1:]}.')
  try:
    out = trained_runs.out_from_flags()
    if not _WORKDIRS.value:
      raise ValueError('workdirs must be given: --workdirs=DIR[,DIR...].')
  except ValueError as error:
    raise app.UsageError(str(error)) from error
  report(_WORKDIRS.value, out, config_path=_CONFIG.value,
         num_images=_IMAGES.value,
         command=shlex.join(['python', '-m', 'experiments.scale_report'] +
                            sys.argv[1:]))


if __name__ == '__main__':
  app.run(main)
