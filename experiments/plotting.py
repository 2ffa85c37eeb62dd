"""PNG plots of results (matplotlib Figures outside pyplot; no display needed).

Every function takes result rows and writes one PNG: the study plots take the
rows of :func:`experiments.study.run` (one dict per model with ``label`` and
metric keys); :func:`error_panels` takes the rows of
:func:`experiments.probe_harness.measure` (one dict per network x images x
transform x kind, with an ``error``); :func:`error_vs_angle` and
:func:`layer_error_panels` take the rows of
:mod:`experiments.rotation_report`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

Row = dict[str, Any]
MARKERS = 'osD^vP*X<>'


def _figure(**kwargs):
  """A matplotlib Figure outside pyplot: no backend switch, no global state.

  Library code must not call ``matplotlib.use``: in a notebook that would
  turn the session's inline plots off. A bare ``Figure`` saves PNGs with the
  Agg renderer whatever the session's backend is.
  """
  from matplotlib import figure  # pylint: disable=g-import-not-at-top
  return figure.Figure(**kwargs)


def _series(row: Row, prefix: str) -> tuple[list[float], list[float]]:
  points = sorted((float(k[len(prefix):]), float(v)) for k, v in row.items()
                  if k.startswith(prefix))
  return [p[0] for p in points], [100 * p[1] for p in points]


def _line_plot(rows: Sequence[Row], path: str, *, prefix: str, xlabel: str,
               title: str, baseline_rows: Sequence[Row] | None = None) -> None:
  fig = _figure(figsize=(8.5, 5))
  ax = fig.subplots()
  baseline = {r['label']: r for r in baseline_rows or ()}
  for n, row in enumerate(rows):
    color, marker = f'C{n % 10}', MARKERS[n % len(MARKERS)]
    xs, ys = _series(row, prefix)
    ax.plot(xs, ys, marker=marker, color=color, linewidth=1.5, markersize=5,
            label=row['label'])
    if row['label'] in baseline:
      xs, ys = _series(baseline[row['label']], prefix)
      ax.plot(xs, ys, marker=marker, color=color, linewidth=1, markersize=3,
              linestyle='--', alpha=0.7)
  ax.set_xlabel(xlabel)
  ax.set_ylabel('accuracy (%)')
  ax.set_ylim(0, 100)
  ax.grid(True, alpha=0.3)
  ax.legend(loc='center left', bbox_to_anchor=(1.02, 0.5), fontsize=9)
  ax.set_title(title)
  fig.tight_layout()
  fig.savefig(path, dpi=110)


def accuracy_vs_shift(rows: Sequence[Row], path: str, *, title: str = '',
                      baseline_rows: Sequence[Row] | None = None) -> None:
  """Accuracy (%) vs shift (pixels), one line per model.

  Args:
    rows: result rows with ``acc_shift_<k>`` keys.
    path: PNG file to write.
    title: figure title.
    baseline_rows: rows of another study; models with the same label are
      drawn dashed in the same colour.
  """
  _line_plot(rows, path, prefix='acc_shift_', xlabel='shift (pixels)',
             title=title, baseline_rows=baseline_rows)


def accuracy_vs_rotation(rows: Sequence[Row], path: str, *,
                         title: str = '') -> None:
  """Accuracy (%) vs rotation angle (degrees), one line per model."""
  _line_plot(rows, path, prefix='acc_rot_', xlabel='rotation (degrees)',
             title=title)


def robustness_bars(rows: Sequence[Row], path: str, *,
                    title: str = '') -> None:
  """Four panels of bars per model: test accuracy, consistency (zero-fill
  and circular), P(top-1 change) and mean absolute change."""
  panels = [
      ('test accuracy (%)', [('test_accuracy', 100, None)]),
      ('consistency (%)', [('consistency', 100, 'zero fill'),
                           ('consistency_circular', 100, 'circular')]),
      ('P(top-1 change) (%), 1-px shift', [('p_top1_change', 100, None)]),
      ('mean abs change of top-1 prob.', [('mean_abs_change', 1, None)]),
  ]
  labels = [r['label'] for r in rows]
  fig = _figure(figsize=(4 * len(panels), 1.2 + 0.35 * len(rows)))
  axes = fig.subplots(1, len(panels), sharey=True)
  positions = list(range(len(rows)))
  for ax, (name, series) in zip(axes, panels):
    height = 0.8 / len(series)
    for j, (key, scale, legend) in enumerate(series):
      offsets = [p - 0.4 + height * (j + 0.5) for p in positions]
      ax.barh(offsets, [scale * float(r[key]) for r in rows], height=height,
              color=f'C{j}', label=legend)
    if any(legend for _, _, legend in series):
      ax.legend(fontsize=8, loc='lower right')
    ax.set_title(name, fontsize=10)
    ax.grid(True, axis='x', alpha=0.3)
  axes[0].set_yticks(positions, labels)
  axes[0].invert_yaxis()
  if title:
    fig.suptitle(title)
  fig.tight_layout()
  fig.savefig(path, dpi=110)


def error_panels(rows: Sequence[Row], path: str, *, x: str, line: str,
                 kinds: Sequence[str],
                 style: Callable[[int, str], Mapping[str, Any]],
                 xticks: Sequence[float], xlabel: str, ylabel: str,
                 floor: float, xtick_labels: Sequence[str] | None = None,
                 show_floor: bool = False,
                 panel_size: tuple[float, float] = (6.0, 4.2),
                 legend_width: float = 3.0, sharey: bool = False,
                 legend_titles: bool = False, title: str = '') -> None:
  """Relative error vs ``row[x]``: panels = kind (rows) x image source (cols).

  One line per value of ``row[line]``, log y axis; errors below ``floor``
  (exact zeros) are drawn on it.

  Args:
    rows: result rows with ``kind``, ``images``, ``error`` and the ``x`` and
      ``line`` keys.
    path: PNG file to write.
    x: key of the horizontal coordinate (e.g. 'shift', 'layer').
    line: key naming a line (e.g. 'function', 'network').
    kinds: panel rows in order; kinds absent from ``rows`` are left out.
    style: ``(n, name) -> ax.plot keyword arguments`` for the ``n``-th line
      of a panel row.
    xticks: tick positions; ``xtick_labels`` their texts (default: numbers).
    xlabel: label under the bottom panels; ``ylabel`` beside the left ones.
    floor: errors are drawn as ``max(error, floor)``.
    show_floor: also draw the floor as a dotted line and fix the y range to
      ``[floor / 3, max(3, 3 max error)]``.
    panel_size: ``(width, height)`` of one panel, inches.
    legend_width: inches added on the right for the legends.
    sharey: share the y axis between all panels.
    legend_titles: title each legend with its kind.
    title: figure title.
  """
  sources = list(dict.fromkeys(r['images'] for r in rows))
  kinds = [k for k in kinds if any(r['kind'] == k for r in rows)]
  width, height = panel_size
  fig = _figure(figsize=(width * len(sources) + legend_width,
                        height * len(kinds)))
  axes = fig.subplots(len(kinds), len(sources), squeeze=False, sharex=True,
                      sharey=sharey)
  top = max(3.0, 3 * max(r['error'] for r in rows))
  for i, kind in enumerate(kinds):
    names = list(dict.fromkeys(r[line] for r in rows if r['kind'] == kind))
    for j, source in enumerate(sources):
      ax = axes[i, j]
      for n, name in enumerate(names):
        points = sorted((r[x], r['error']) for r in rows
                        if r[line] == name and r['images'] == source and
                        r['kind'] == kind)
        if not points:
          continue
        xs, ys = zip(*points)
        ax.plot(xs, np.maximum(ys, floor), label=name, **style(n, name))
      if show_floor:
        ax.axhline(floor, color='0.6', linestyle=':', linewidth=1)
      ax.set_yscale('log')
      if xtick_labels is None:
        ax.set_xticks(xticks)
      else:
        ax.set_xticks(xticks, xtick_labels)
      if show_floor:
        ax.set_ylim(floor / 3, top)
      ax.grid(True, which='major', alpha=0.3)
      ax.set_title(f'{kind} — {source} images')
      if j == 0:
        ax.set_ylabel(ylabel)
      if i == len(kinds) - 1:
        ax.set_xlabel(xlabel)
    axes[i, -1].legend(loc='center left', bbox_to_anchor=(1.02, 0.5),
                       fontsize=9, title=kind if legend_titles else None)
  if title:
    fig.suptitle(title)
  fig.tight_layout()
  fig.savefig(path, dpi=110)


def error_vs_angle(rows: Sequence[Row], path: str, *,
                   title: str = '') -> None:
  """Test error (%) vs rotation angle, one line per model, 95 % band shaded.

  Args:
    rows: one dict per (model, angle) with ``model``, ``angle`` (degrees),
      ``error``, ``ci_low`` and ``ci_high`` (rates in [0, 1]).
    path: PNG file to write.
    title: figure title.
  """
  fig = _figure(figsize=(8.5, 5))
  ax = fig.subplots()
  for n, name in enumerate(dict.fromkeys(r['model'] for r in rows)):
    points = sorted((r['angle'], r['error'], r['ci_low'], r['ci_high'])
                    for r in rows if r['model'] == name)
    angles, errors, lows, highs = (np.asarray(v) for v in zip(*points))
    color = f'C{n % 10}'
    ax.plot(angles, 100 * errors, marker=MARKERS[n % len(MARKERS)],
            color=color, linewidth=1.5, markersize=3, label=name)
    ax.fill_between(angles, 100 * lows, 100 * highs, color=color, alpha=0.15,
                    linewidth=0)
  ax.set_xlabel('rotation of the test digits (degrees)')
  ax.set_ylabel('test error (%)')
  ax.set_xticks(range(0, 361, 45))
  ax.set_ylim(bottom=0)
  ax.grid(True, alpha=0.3)
  ax.legend(loc='center left', bbox_to_anchor=(1.02, 0.5), fontsize=9)
  ax.set_title(title)
  fig.tight_layout()
  fig.savefig(path, dpi=110)


def layer_error_panels(rows: Sequence[Row], path: str, *, floor: float = 1e-9,
                       title: str = '') -> None:
  """Relative error per layer: one panel per transform, one line per model.

  Layers are numbered 1, 2, ... in each model's forward order (their names
  are in the rows); log y axis, errors below ``floor`` (exact zeros) drawn on
  it, NaN (no action declared for that layer) left out.

  Args:
    rows: one dict per (model, layer, transform) with ``model``, ``layer``,
      ``transform`` and ``relative_error``, in forward order per model.
    path: PNG file to write.
    floor: smallest error drawn.
    title: figure title.
  """
  transforms = list(dict.fromkeys(r['transform'] for r in rows))
  fig = _figure(figsize=(5.5 * len(transforms) + 2.5, 4.5))
  axes = fig.subplots(1, len(transforms), squeeze=False, sharey=True)[0]
  for ax, transform in zip(axes, transforms):
    for n, name in enumerate(dict.fromkeys(r['model'] for r in rows)):
      errors = np.array([r['relative_error'] for r in rows
                         if r['model'] == name and r['transform'] == transform],
                        float)
      ax.plot(np.arange(1, len(errors) + 1), np.maximum(errors, floor),
              marker=MARKERS[n % len(MARKERS)], color=f'C{n % 10}',
              linewidth=1.2, markersize=4, label=name)
    ax.set_yscale('log')
    ax.grid(True, which='major', alpha=0.3)
    ax.set_title(transform)
    ax.set_xlabel('layer (forward order; the last is the logits)')
  axes[0].set_ylabel('relative error ||f(Tx) - T\'f(x)|| / ||T\'f(x)||')
  axes[-1].legend(loc='center left', bbox_to_anchor=(1.02, 0.5), fontsize=9)
  if title:
    fig.suptitle(title)
  fig.tight_layout()
  fig.savefig(path, dpi=110)


def learning_curves(curves: dict[str, Sequence[Row]], path: str, *,
                    title: str = '') -> None:
  """Training loss, training accuracy and learning rate vs step, per model.

  Args:
    curves: ``{model: metric rows}`` as ``metrics.jsonl`` holds them (dicts
      with ``step`` and some of ``train/loss``, ``train/accuracy``,
      ``train/learning_rate``, ``eval/accuracy``); the final evaluation is
      drawn as a marker on the accuracy panel.
    path: PNG file to write.
    title: figure title.
  """
  keys = (('train/loss', 'training loss', 'log'),
          ('train/accuracy', 'accuracy (line: train; marker: test)', 'linear'),
          ('train/learning_rate', 'learning rate', 'log'))
  fig = _figure(figsize=(15, 4.2))
  axes = fig.subplots(1, len(keys))
  for n, (name, rows) in enumerate(curves.items()):
    color = f'C{n % 10}'
    for ax, (key, label, scale) in zip(axes, keys):
      points = [(r['step'], r[key]) for r in rows if key in r]
      if points:
        steps, values = zip(*points)
        ax.plot(steps, values, color=color, linewidth=1.3, label=name)
      ax.set_yscale(scale)
      ax.set_xlabel('step')
      ax.set_title(label)
      ax.grid(True, alpha=0.3)
    evals = [(r['step'], r['eval/accuracy']) for r in rows
             if 'eval/accuracy' in r]
    if evals:
      axes[1].plot(*zip(*evals), linestyle='none', marker='*',
                   markersize=10, color=color)
  axes[-1].legend(loc='center left', bbox_to_anchor=(1.02, 0.5), fontsize=9)
  if title:
    fig.suptitle(title)
  fig.tight_layout()
  fig.savefig(path, dpi=110)


def lie_term_category(row: Row) -> str:
  """The kind of op a layer-wise Lie term belongs to, for colouring bars:
  'conv', 'nonlinearity', 'downsampling' (any pool module but the global
  readout), 'global pool / flatten', 'dense', 'norm', 'between modules',
  'after the last module' or the module's class name."""
  name, module = row['term'].split('/')[-1], row.get('module', '')
  if row['kind'] == 'gap':
    return 'between modules'
  if row['kind'] == 'output':
    return 'after the last module'
  if module == 'Pool':
    prefix = name.rstrip('0123456789#')
    return {'relu': 'nonlinearity', 'down': 'downsampling',
            'pool': 'global pool / flatten'}.get(prefix, 'pool')
  for key, category in (('Nonlin', 'nonlinearity'), ('Pool', 'downsampling'),
                        ('Readout', 'global pool / flatten'), ('Conv', 'conv'),
                        ('Dense', 'dense'), ('Norm', 'norm')):
    if key in module:
      return category
  return module or 'other'


def lie_layer_bars(rows: Sequence[Row], path: str, *, title: str = '') -> None:
  """Stacked bars: each model's layer-wise Lie terms, as shares by category.

  Args:
    rows: ``lie_layers.csv`` rows of one generator and weights (``label``,
      ``term``, ``kind``, ``module``, ``share``, ``lee``).
    path: the PNG.
    title: figure title.
  """
  labels = list(dict.fromkeys(r['label'] for r in rows))
  categories = list(dict.fromkeys(lie_term_category(r) for r in rows))
  shares = np.zeros((len(labels), len(categories)))
  totals = np.zeros(len(labels))
  for r in rows:
    i = labels.index(r['label'])
    shares[i, categories.index(lie_term_category(r))] += 100 * r['share']
    totals[i] += r['lee']
  fig = _figure(figsize=(9, 0.5 * len(labels) + 1.8))
  ax = fig.subplots()
  left = np.zeros(len(labels))
  for j, category in enumerate(categories):
    ax.barh(labels, shares[:, j], left=left, color=f'C{j % 10}',
            label=category)
    left += shares[:, j]
  for i, total in enumerate(totals):
    ax.text(101, i, f'sum {total:.2g}', va='center', fontsize=8)
  ax.set_xlim(0, 118)
  ax.invert_yaxis()
  ax.set_xlabel('share of the summed layer-wise LEE (%)')
  ax.legend(loc='upper center', bbox_to_anchor=(0.5, -0.12 - 0.3 / max(
      len(labels), 1)), ncol=min(4, len(categories)), fontsize=8)
  ax.set_title(title)
  fig.tight_layout()
  fig.savefig(path, dpi=110)


def lie_scatter(rows: Sequence[Row], path: str, *, generator: str) -> None:
  """LEE along ``generator`` against P(top-1 change), one point per trained
  model (``lie.csv`` rows), log-log."""
  fig = _figure(figsize=(7, 5))
  ax = fig.subplots()
  picked = [r for r in rows if r['generator'] == generator and
            r['weights'] == 'trained']
  xs = [max(100 * r['p_top1_change'], 0.05) for r in picked]
  ys = [max(r['lee'], 1e-12) for r in picked]
  ax.scatter(xs, ys, marker='o')
  for r, x, y in zip(picked, xs, ys):
    ax.annotate(r['label'], (x, y), fontsize=7, xytext=(3, 3),
                textcoords='offset points')
  ax.set_xscale('log')
  ax.set_yscale('log')
  ax.set_xlabel('P(top-1 change) under 1-pixel shifts (%, 0 shown as 0.05)')
  ax.set_ylabel(f'LEE along {generator} (softmax)')
  ax.grid(True, alpha=0.3)
  ax.set_title(f"Trained models: local {generator} error vs A&W's "
               'P(top-1 change)', fontsize=10)
  fig.tight_layout()
  fig.savefig(path, dpi=110)


def jaggedness(curves: Mapping[str, Mapping[str, np.ndarray]], path: str, *,
               sizes: Sequence[float], shifts: Sequence[int],
               object_size: int, title: str = '') -> None:
  """Azulay & Weiss's Figure 1: P(correct class) against object size and
  against shift, side by side, one line per model.

  Args:
    curves: ``{label: {'size': [N, len(sizes)], 'shift': [N, len(shifts)]}}``
      (:func:`experiments.metrics.probability_curves`); the first image's
      curves are drawn (A&W's curves are per image: a mean would smooth
      their jags away).
    path: the PNG.
    sizes: object sizes (px).
    shifts: shifts (px).
    object_size: the object's size in the training images (px).
    title: figure title.
  """
  fig = _figure(figsize=(12, 4.6))
  axes = fig.subplots(1, 2, sharey=True)
  for n, (label, curve) in enumerate(curves.items()):
    style = dict(color=f'C{n % 10}', marker=MARKERS[n % len(MARKERS)],
                 markersize=3, linewidth=1.2, label=label)
    axes[0].plot(sizes, curve['size'][0], **style)
    axes[1].plot(shifts, curve['shift'][0], **style)
  axes[0].set_xlabel(f'object size (px; {object_size} in training)')
  axes[1].set_xlabel('shift right (px)')
  axes[0].set_ylabel('P(correct class)')
  for ax in axes:
    ax.set_ylim(-0.02, 1.02)
    ax.grid(True, alpha=0.3)
  axes[1].legend(loc='center left', bbox_to_anchor=(1.02, 0.5), fontsize=8)
  fig.suptitle(title, fontsize=11)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
