"""Lie-derivative study: local equivariance of trained models, per layer.

A Lie study config is a study config (:mod:`experiments.study`: models,
training, shift metrics) plus a ``lie`` section. :func:`run` first runs the
study in the same workdir (trains each model, or restores a finished one,
and measures accuracy and Azulay & Weiss's P(top-1 change)), then, for each
model, at initialisation (seed ``config.seed``) and trained, on the first
test images (normalised as in training):

* the end-to-end local equivariance error of the softmax probabilities,
  ``LEE = mean_x ||L f(x)||^2`` (Gruver et al. 2023, Eq. 4), for every flow
  in ``config.lie.generators`` (:func:`groups.lie.local_equivariance_error`);
* the layer-wise split of it for the flows in
  ``config.lie.layer_generators`` (:func:`experiments.lie_attribution.
  attribute`): each layer's term, its LEE and its share.

Outputs in ``workdir`` besides the study's: ``lie.csv`` (model, weights,
generator, LEE), ``lie_layers.csv`` (one row per term), ``lie.md`` (tables,
the correlation of the translation LEE with P(top-1 change) across models),
``lie_layers_<generator>.png`` (stacked bars: each model's shares by layer,
trained) and ``lie_vs_p_top1_change.png`` (scatter of the trained models); with ``config.lie.figures_to`` set (e.g. ``docs/images``),
copies of the PNGs prefixed with the workdir's name go there too.
"""

from __future__ import annotations

import copy
import functools
import os
import time
from collections.abc import Sequence
from typing import Any

from absl import logging
import jax
import ml_collections
import numpy as np

from experiments import lie_attribution
from experiments import metrics
from experiments import plotting
from experiments import reporting
from experiments import study
from experiments import trained_runs
from experiments.train import inputs
from groups import lie
from groups import validate

Row = dict[str, Any]
WEIGHTS = ('init', 'trained')
CHUNK = 64       # images per compiled end-to-end LEE call


def check_lie_config(config: ml_collections.ConfigDict) -> None:
  """Raises ValueError naming the bad ``config.lie`` field."""
  section = config.get('lie')
  if not isinstance(section, ml_collections.ConfigDict):
    raise ValueError('config.lie must be a ConfigDict with generators, '
                     'layer_generators, num_images and layer_images.')
  for name in ('generators', 'layer_generators'):
    values = section.get(name)
    if isinstance(values, str) or not isinstance(values, (tuple, list)):
      raise ValueError(f'config.lie.{name} must be a tuple of names from '
                       f'{lie.GENERATORS}; got {values!r}.')
    for value in values:
      validate.check_choice(value, f'config.lie.{name} entries',
                            lie.GENERATORS)
  validate.integer(section.get('num_images'), 'config.lie.num_images',
                   minimum=1)
  validate.integer(section.get('layer_images'), 'config.lie.layer_images',
                   minimum=1)
  if not isinstance(section.get('figures_to', ''), str):
    raise ValueError(f'config.lie.figures_to must be a folder (str) or empty; '
                     f'got {section.get("figures_to")!r}.')


@functools.lru_cache(maxsize=32)
def _lee_fn(model: Any, generators: tuple[str, ...]):
  """Per-example LEE of softmax(model) along each generator, ``[B, G]``,
  jitted once for all of them."""
  flows = [lie.flow(name) for name in generators]

  def lee(variables, x):
    probabilities = lambda v: jax.nn.softmax(model.apply(variables, v,
                                                         train=False))
    return jax.numpy.stack([lie.local_equivariance_error(probabilities, x, f)
                            for f in flows], axis=1)

  return jax.jit(lee)


def end_to_end(model: Any, variables: Any, x: np.ndarray,
               generators: Sequence[str]) -> dict[str, tuple[float, float]]:
  """``{generator: (mean, median) over x of ||L softmax(f)(x)||^2}``, in
  batches of :data:`CHUNK` images (:func:`metrics.predict`: one compiled
  shape). The mean is the LEE of Eq. 4; the median shows when a few images
  dominate it."""
  fn = functools.partial(_lee_fn(model, tuple(generators)), variables)
  values = metrics.predict(fn, x, batch_size=CHUNK)        # [N, G]
  return {name: (float(np.mean(v)), float(np.median(v)))
          for name, v in zip(generators, values.T)}


def _init_variables(model: Any, x: np.ndarray, seed: int) -> Any:
  return model.init(jax.random.key(seed), x[:1], train=False)


def correlation(xs: Sequence[float], ys: Sequence[float]) -> dict[str, float]:
  """Pearson r of ``log10`` values and Spearman rank correlation."""
  xs, ys = np.asarray(xs, float), np.asarray(ys, float)
  if len(xs) < 3:
    return {'pearson_log': float('nan'), 'spearman': float('nan')}
  logs = np.log10(np.maximum(xs, 1e-30)), np.log10(np.maximum(ys, 1e-6))
  ranks = [np.argsort(np.argsort(v)) for v in (xs, ys)]
  return {'pearson_log': float(np.corrcoef(*logs)[0, 1]),
          'spearman': float(np.corrcoef(*ranks)[0, 1])}


def run(config: ml_collections.ConfigDict, workdir: str) -> list[Row]:
  """Runs the study, then measures every model's Lie derivatives.

  Returns:
    The ``lie.csv`` rows.
  """
  check_lie_config(config)
  start = time.perf_counter()
  config = copy.deepcopy(config)
  config.experiment = 'study'     # the study part, as the study runs it
  study_rows = study.run(config, workdir)
  config = study.resolve_presets(config)
  shift = {row['label']: row for row in study_rows}
  section = config.lie
  rows: list[Row] = []
  layer_rows: list[Row] = []
  for label in config.run:
    trained = trained_runs.restore(config, label, workdir)
    images = trained.images[:section.num_images]
    x = np.asarray(inputs.normalize(images, trained.mean, trained.std))
    weights = {'init': _init_variables(trained.model, x, config.seed),
               'trained': trained.variables}
    for name, variables in weights.items():
      lees = end_to_end(trained.model, variables, x, section.generators)
      for generator, (mean, median) in lees.items():
        rows.append(dict(label=label, weights=name, generator=generator,
                         lee=mean, lee_median=median,
                         p_top1_change=shift[label]['p_top1_change']))
      for generator in section.layer_generators:
        attribution = lie_attribution.attribute(
            trained.model, variables, x[:section.layer_images], generator)
        for term in attribution.rows():
          layer_rows.append(dict(label=label, weights=name,
                                 generator=generator, **term))
    logging.info('%s: %s', label, ', '.join(
        f"{r['generator']} {r['lee']:.3g}" for r in rows
        if r['label'] == label and r['weights'] == 'trained'))
  config.experiment = 'lie'
  reporting.write_config(config, workdir)
  _write(config, workdir, rows, layer_rows, time.perf_counter() - start)
  return rows


def _write(config, workdir: str, rows: Sequence[Row],
           layer_rows: Sequence[Row], seconds: float) -> None:
  reporting.write_csv(rows, os.path.join(workdir, 'lie.csv'))
  reporting.write_csv(layer_rows, os.path.join(workdir, 'lie_layers.csv'))
  generators = list(config.lie.generators)
  table_rows = []
  for label in config.run:
    line: Row = {'label': label}
    for row in rows:
      if row['label'] == label:
        line[f"{row['generator']}/{row['weights']}"] = row['lee']
        if row['weights'] == 'trained':
          line[f"{row['generator']}/median"] = row['lee_median']
        line['p_top1_change'] = row['p_top1_change']
    table_rows.append(line)
  columns = {'label': 'model', 'p_top1_change': 'P(top-1 change) %'}
  for generator in generators:
    for weights in WEIGHTS:
      columns[f'{generator}/{weights}'] = f'{generator} ({weights})'
    columns[f'{generator}/median'] = f'{generator} (trained, median)'
  formats = {key: reporting.format_error for key in columns
             if '/' in key}
  formats['p_top1_change'] = lambda v: f'{100 * v:.1f}'
  lee_table = reporting.markdown_table(table_rows, columns, formats=formats)
  tables = [('Local equivariance error (softmax, mean over images of '
             '||L f(x)||^2; the median of the trained model beside it)',
             lee_table)]
  correlations = []
  for generator in generators:
    picked = [r for r in rows if r['generator'] == generator and
              r['weights'] == 'trained']
    correlations.append(dict(
        generator=generator, **correlation(
            [r['lee'] for r in picked], [r['p_top1_change'] for r in picked])))
  tables.append(('Across the trained models: LEE vs P(top-1 change) under '
                 '1-pixel shifts', reporting.markdown_table(
                     correlations, {'generator': 'flow',
                                    'pearson_log': 'Pearson r (log-log)',
                                    'spearman': 'Spearman'},
                     formats={'pearson_log': '{:.2f}'.format,
                              'spearman': '{:.2f}'.format})))
  for generator in config.lie.layer_generators:
    for weights in WEIGHTS:
      picked = [r for r in layer_rows if r['generator'] == generator and
                r['weights'] == weights]
      tables.append((f'Layer-wise {generator} ({weights}): share of the '
                     'summed LEE', _layer_table(picked, config.run)))
    for folder, prefix in _figure_folders(config, workdir):
      plotting.lie_layer_bars(
          [r for r in layer_rows if r['generator'] == generator and
           r['weights'] == 'trained'],
          os.path.join(folder, f'{prefix}lie_layers_{generator}.png'),
          title=f'Where local {generator} equivariance breaks '
          f'({os.path.basename(os.path.normpath(workdir))}, trained)')
  for folder, prefix in _figure_folders(config, workdir):
    plotting.lie_scatter(
        rows, os.path.join(folder, f'{prefix}lie_vs_p_top1_change.png'),
        generator=generators[0])
  summary = (f'{len(config.run)} models, {config.lie.num_images} test images '
             f'(layer-wise: {config.lie.layer_images}); {seconds:.0f} s in all, '
             'training included. Derivatives of the softmax per pixel '
             '(translations), radian (rotation), unit log-scale (scale). Layer '
             'terms add up to L f(x) as vectors, so their squared norms may '
             'sum to more than the LEE (terms cancel).')
  reporting.write_markdown(os.path.join(workdir, 'lie.md'),
                           title='Local equivariance (Lie derivative)',
                           summary=summary, tables=tables)
  print('\n\n'.join(f'{h}\n\n{t}' for h, t in tables), flush=True)


def _figure_folders(config, workdir: str) -> list[tuple[str, str]]:
  """``(folder, file prefix)`` of each copy of the figures: the workdir, and
  ``config.lie.figures_to`` (e.g. docs/images) with the workdir's name as
  prefix, when set."""
  folders = [(workdir, '')]
  if config.lie.get('figures_to'):
    os.makedirs(config.lie.figures_to, exist_ok=True)
    folders.append((config.lie.figures_to,
                    os.path.basename(os.path.normpath(workdir)) + '_'))
  return folders


def _layer_table(rows: Sequence[Row], labels: Sequence[str]) -> str:
  """One line per model: its largest terms and their shares."""
  lines = []
  for label in labels:
    terms = sorted((r for r in rows if r['label'] == label),
                   key=lambda r: -r['share'])
    lines.append(dict(label=label, terms=', '.join(
        f"{r['term']} {100 * r['share']:.0f}%" for r in terms[:4]
        if r['share'] >= 0.005) or '(exact)'))
  return reporting.markdown_table(lines, {'label': 'model',
                                          'terms': 'largest terms (share)'},
                                  align=['left', 'left'])
