"""The scaling report: CSV columns, the markdown tables and the PNG."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from benchmarks import common
from benchmarks.scaling import problems


POINT_COLUMNS = ('sweep', 'series', 'batch', 'size', 'channels',
                 'group_order', 'streams', 'time_ms', 'gflop', 'gflop_per_s',
                 'mem_mib', 'temp_mib', 'peak_mib', 'compile_s')
EXPONENT_COLUMNS = ('sweep', 'series', 'factors', 'time_exponent',
                    'min_time_exponent', 'flop_exponent', 'memory_exponent', 'timed',
                    'time_ms_first', 'time_ms_last', 'mem_mib_first',
                    'mem_mib_last')


def _pyplot():
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use('Agg')
  from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top
  return plt


def plot(rows: Sequence[dict[str, Any]], exponent_rows: Sequence[dict],
         path: str, *, title: str = '') -> None:
  """Log-log panels: time (top) and memory (bottom) vs each swept factor."""
  plt = _pyplot()
  from matplotlib import ticker  # pylint: disable=g-import-not-at-top
  sweeps = [s for s in problems.SWEEPS
            if any(r['sweep'] == s for r in rows)]
  slopes = {(e['sweep'], e['series']): e for e in exponent_rows}
  fig, axes = plt.subplots(2, len(sweeps), figsize=(4.2 * len(sweeps), 8),
                           squeeze=False)
  series_names = list(dict.fromkeys(r['series'] for r in rows))
  styles = {name: (f'C{n % 10}', 'osD^vP*X<>'[n % 10])
            for n, name in enumerate(series_names)}
  for col, sweep in enumerate(sweeps):
    column, label = problems.SWEEPS[sweep]
    for series in dict.fromkeys(r['series'] for r in rows
                                if r['sweep'] == sweep):
      points = sorted((r for r in rows if r['sweep'] == sweep and
                       r['series'] == series), key=lambda r: r[column])
      color, marker = styles[series]
      fit = slopes[(sweep, series)]
      for row_index, (key, exponent) in enumerate(
          (('time_ms', 'time_exponent'), ('mem_mib', 'memory_exponent'))):
        xs = [r[column] for r in points if math.isfinite(r[key])]
        ys = [r[key] for r in points if math.isfinite(r[key])]
        if not xs:
          continue
        slope = fit[exponent]
        text = f' slope {slope:.2f}' if math.isfinite(slope) else ''
        if key == 'time_ms' and text:
          text += f' (FLOPs {fit["flop_exponent"]:.2f})'
        axes[row_index, col].plot(xs, ys, marker=marker, color=color,
                                  label=f'{series}:{text}', linewidth=1.5,
                                  markersize=5)
    for row_index, ylabel in enumerate(('time per fwd+bwd (ms)',
                                        'memory: args+out+temp (MiB)')):
      ax = axes[row_index, col]
      ax.set_xscale('log', base=2)
      ax.set_yscale('log')
      values = sorted({r[column] for r in rows if r['sweep'] == sweep})
      ax.set_xticks(values)
      ax.xaxis.set_major_formatter(ticker.ScalarFormatter())
      ax.xaxis.set_minor_locator(ticker.NullLocator())
      ax.yaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
      ax.yaxis.set_major_formatter(
          ticker.FuncFormatter(lambda value, _: f'{value:g}'))
      ax.yaxis.set_minor_formatter(ticker.NullFormatter())
      ax.set_xlabel(label)
      ax.set_ylabel(ylabel)
      ax.grid(True, which='both', alpha=0.3)
      if ax.lines:
        ax.legend(fontsize=8, loc='upper left')
    axes[0, col].set_title(f'vary {label.split(" (")[0]}', fontsize=10)
  if title:
    fig.suptitle(title, fontsize=10)
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)


def markdown(rows, exponent_rows, *, config: problems.ScalingConfig,
             command: str) -> str:
  """The report: machine, base point, exponents table, per-point table."""
  return '\n'.join([
      '# Scaling of equivariant convolutions (forward + backward)',
      '',
      f'`{command}`',
      '',
      f'Machine: {common.machine_summary()}.',
      f'Base point: B={config.base_batch}, S={config.base_size}, '
      f'C={config.base_channels} per group element / stream, '
      f'{config.kernel_size}x{config.kernel_size} group-conv filters '
      f'(C1 = plain conv), '
      f'harmonic {config.harmonic_filter_size}x'
      f'{config.harmonic_filter_size} filters, {config.n_rings} rings, '
      f'max_order {config.base_max_order}. Time: median of '
      f'{config.min_repeats}-{config.max_repeats} calls, the points of a '
      f'sweep interleaved in {config.rounds} rounds; points over '
      f'{config.max_gflop:g} GFLOP are not timed (time NaN). Memory: '
      'compiled.memory_analysis() arguments + outputs + temporaries.',
      '',
      '## Growth exponents (slope of log y vs log factor)',
      '',
      common.format_table(exponent_rows, EXPONENT_COLUMNS),
      '',
      '## Points',
      '',
      common.format_table(rows, POINT_COLUMNS),
      '',
  ])
