"""The scaling report: CSV columns, the markdown tables and the PNG."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from benchmarks import common
from benchmarks.scaling import problems


POINT_COLUMNS = ('sweep', 'series', 'batch', 'size', 'channels',
                 'group_order', 'streams', 'fields', 'time_ms',
                 'images_per_s', 'gflop', 'gflop_per_s', 'mem_mib',
                 'temp_mib', 'peak_mib', 'compile_s')
EXPONENT_COLUMNS = ('sweep', 'series', 'factors', 'time_exponent',
                    'min_time_exponent', 'flop_exponent', 'memory_exponent', 'timed',
                    'time_ms_first', 'time_ms_last', 'mem_mib_first',
                    'mem_mib_last')
THROUGHPUT_COLUMNS = ('series', 'batch', 'time_ms', 'images_per_s', 'gflop',
                      'gflop_per_s', 'peak_fraction', 'mem_mib', 'setup_s',
                      'compile_s')
#: Sweeps per band of the PNG (each band: time or throughput above memory).
PANELS_PER_BAND = 4
_TOP_LABELS = {'time_ms': 'time per fwd+bwd (ms)',
               'images_per_s': 'images/s (higher is faster)'}


def throughput_sweeps() -> list[str]:
  """Registered sweeps drawn as images/s (the training steps)."""
  return [name for name, sweep in problems.SWEEPS.items()
          if sweep.top == 'images_per_s']


def _pyplot():
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use('Agg')
  from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top
  return plt


def plot(rows: Sequence[dict[str, Any]], exponent_rows: Sequence[dict],
         path: str, *, title: str = '') -> None:
  """Log-log panels per sweep: time or images/s above, memory below.

  At most :data:`PANELS_PER_BAND` sweeps side by side; more wrap into
  further bands below.
  """
  plt = _pyplot()
  sweeps = [s for s in problems.SWEEPS
            if any(r['sweep'] == s for r in rows)]
  slopes = {(e['sweep'], e['series']): e for e in exponent_rows}
  bands = math.ceil(len(sweeps) / PANELS_PER_BAND)
  columns = min(len(sweeps), PANELS_PER_BAND)
  fig, axes = plt.subplots(2 * bands, columns,
                           figsize=(4.2 * columns, 8 * bands), squeeze=False)
  series_names = list(dict.fromkeys(r['series'] for r in rows))
  styles = {name: (f'C{n % 10}', 'osD^vP*X<>'[n % 10])
            for n, name in enumerate(series_names)}
  for index, sweep in enumerate(sweeps):
    band, col = divmod(index, PANELS_PER_BAND)
    spec = problems.SWEEPS[sweep]
    panels = (axes[2 * band, col], axes[2 * band + 1, col])
    for series in dict.fromkeys(r['series'] for r in rows
                                if r['sweep'] == sweep):
      points = sorted((r for r in rows if r['sweep'] == sweep and
                       r['series'] == series), key=lambda r: r[spec.column])
      _plot_series(panels, points, spec, slopes[(sweep, series)],
                   label=series, style=styles[series])
    for ax, ylabel in zip(panels, (_TOP_LABELS[spec.top],
                                   'memory: args+out+temp (MiB)')):
      _format_axes(ax, sorted({r[spec.column] for r in rows
                               if r['sweep'] == sweep}),
                   xlabel=spec.label, ylabel=ylabel)
    panels[0].set_title(f'{sweep}: vary {spec.label.split(" (")[0]}',
                        fontsize=10)
  for index in range(len(sweeps), bands * columns):  # unused slots
    band, col = divmod(index, PANELS_PER_BAND)
    axes[2 * band, col].set_visible(False)
    axes[2 * band + 1, col].set_visible(False)
  top = 1.0
  if title:
    fig.suptitle(title, fontsize=10)
    top -= 0.18 * (title.count('\n') + 1) / fig.get_figheight()
  fig.tight_layout(rect=(0, 0, 1, top))
  fig.savefig(path, dpi=100)
  plt.close(fig)


def _plot_series(panels, points, spec: problems.Sweep, fit: dict[str, Any],
                 *, label: str, style: tuple[str, str]) -> None:
  """One series: ``spec.top`` in ``panels[0]``, memory in ``panels[1]``.

  The legend gives the fitted exponents; for images/s, ``1 - a`` of the
  time exponent ``a`` (images/s = B / time).
  """
  color, marker = style
  for ax, key in zip(panels, (spec.top, 'mem_mib')):
    xs = [r[spec.column] for r in points if math.isfinite(r[key])]
    ys = [r[key] for r in points if math.isfinite(r[key])]
    if not xs:
      continue
    if key == 'mem_mib':
      slope = fit['memory_exponent']
    elif key == 'images_per_s':
      slope = 1 - fit['time_exponent']
    else:
      slope = fit['time_exponent']
    text = f' slope {slope:.2f}' if math.isfinite(slope) else ''
    if key == 'time_ms' and text:
      text += f' (FLOPs {fit["flop_exponent"]:.2f})'
    ax.plot(xs, ys, marker=marker, color=color, label=f'{label}:{text}',
            linewidth=1.5, markersize=5)


def _format_axes(ax, xticks: Sequence[float], *, xlabel: str,
                 ylabel: str) -> None:
  from matplotlib import ticker  # pylint: disable=g-import-not-at-top
  ax.set_xscale('log', base=2)
  ax.set_yscale('log')
  ax.set_xticks(xticks)
  ax.xaxis.set_major_formatter(ticker.ScalarFormatter())
  ax.xaxis.set_minor_locator(ticker.NullLocator())
  ax.yaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
  ax.yaxis.set_major_formatter(
      ticker.FuncFormatter(lambda value, _: f'{value:g}'))
  ax.yaxis.set_minor_formatter(ticker.NullFormatter())
  ax.set_xlabel(xlabel)
  ax.set_ylabel(ylabel)
  ax.grid(True, which='both', alpha=0.3)
  if ax.lines:
    ax.legend(fontsize=8, loc='upper left')


def markdown(rows, exponent_rows, *, config: problems.ScalingConfig,
             command: str, peak_gflops: float = float('nan')) -> str:
  """The report: machine, settings, exponents, training steps, all points.

  Args:
    rows: per-point rows (:func:`benchmarks.scaling.run`).
    exponent_rows: :func:`~benchmarks.scaling.measure.exponents`' rows.
    config: the settings measured.
    command: shown at the top.
    peak_gflops: the measured matmul rate (NaN: not measured).
  """
  throughput = [r for r in rows if r['sweep'] in throughput_sweeps()]
  lines = [
      '# Scaling of equivariant convolutions (forward + backward) and '
      'training steps',
      '',
      f'`{command}`',
      '',
      f'Machine: {common.machine_summary()}; matmul peak '
      f'{peak_gflops:.1f} GFLOP/s (jitted float32 '
      f'{config.peak_matmul_size}^2 product).',
      f'Base point: B={config.base_batch}, S={config.base_size}, '
      f'C={config.base_channels} per group element / stream, '
      f'{config.kernel_size}x{config.kernel_size} group-conv filters '
      f'(C1 = plain conv), '
      f'harmonic {config.harmonic_filter_size}x'
      f'{config.harmonic_filter_size} filters, {config.n_rings} rings, '
      f'max_order {config.base_max_order}; steerable '
      f'{config.steerable_kernel_size}x{config.steerable_kernel_size} convs '
      f'between regular fields of C_N, '
      f'F={config.steerable_base_fields} fields when N varies, '
      f'N={config.steerable_base_order} when F varies. Training steps: '
      f'experiments.train.step.train_step (Adam, batch norm statistics '
      f'updated, no augmentation) on '
      f'{"x".join(map(str, config.train_image_shape))} images, '
      f'{config.train_num_classes} classes. Time: median of '
      f'{config.min_repeats}-{config.max_repeats} calls, the points of a '
      f'sweep interleaved in {config.rounds} rounds; points over '
      f'{config.max_gflop:g} GFLOP (training steps: '
      f'{config.train_max_gflop:g}) are not timed (time NaN). Memory: '
      'compiled.memory_analysis() arguments + outputs + temporaries.',
      '',
      '## Growth exponents (slope of log y vs log factor)',
      '',
      common.format_table(exponent_rows, EXPONENT_COLUMNS),
      '',
  ]
  if throughput:
    lines += [
        '## Training steps (images/s = B / time; peak_fraction = GFLOP/s '
        '/ matmul peak)',
        '',
        common.format_table(throughput, THROUGHPUT_COLUMNS),
        '',
    ]
  return '\n'.join(lines + [
      '## Points',
      '',
      common.format_table(rows, POINT_COLUMNS),
      '',
  ])
