"""PNG plots of study results (matplotlib, Agg backend; no display needed).

Every function takes the result rows of :func:`experiments.study.run` (one
dict per model with ``label`` and metric keys) and writes one PNG.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

Row = dict[str, Any]
MARKERS = 'osD^vP*X<>'


def _pyplot():
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use('Agg')
  from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top
  return plt


def _series(row: Row, prefix: str) -> tuple[list[float], list[float]]:
  points = sorted((float(k[len(prefix):]), float(v)) for k, v in row.items()
                  if k.startswith(prefix))
  return [p[0] for p in points], [100 * p[1] for p in points]


def _line_plot(rows: Sequence[Row], path: str, *, prefix: str, xlabel: str,
               title: str, baseline_rows: Sequence[Row] | None = None) -> None:
  plt = _pyplot()
  fig, ax = plt.subplots(figsize=(8.5, 5))
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
  plt.close(fig)


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
  plt = _pyplot()
  panels = [
      ('test accuracy (%)', [('test_accuracy', 100, None)]),
      ('consistency (%)', [('consistency', 100, 'zero fill'),
                           ('consistency_circular', 100, 'circular')]),
      ('P(top-1 change) (%), 1-px shift', [('p_top1_change', 100, None)]),
      ('mean abs change of top-1 prob.', [('mean_abs_change', 1, None)]),
  ]
  labels = [r['label'] for r in rows]
  fig, axes = plt.subplots(1, len(panels),
                           figsize=(4 * len(panels), 1.2 + 0.35 * len(rows)),
                           sharey=True)
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
  plt.close(fig)
