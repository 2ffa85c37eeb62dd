"""How time and memory of the equivariant convolutions grow with their sizes.

    python -m benchmarks.scaling [--quick] [--out runs/benchmarks]

Measures one forward + backward pass (a jitted function returning the layer's
output and its VJP with respect to the input and the weights, given a random
cotangent) of

* ``gconv CN`` — :func:`layers.group_conv2d` on ``[B, S, S, N, C]`` maps over
  ``groups.Cyclic(N)``; ``C1`` is a plain 3x3 convolution (the baseline) and
  C8 / C16 use interpolated (bilinear) filter rotations;
* ``lifting CN`` — :func:`layers.lifting_conv2d`, ``[B, S, S, C]`` to
  ``[B, S, S, N, C]``;
* ``hconv`` — :func:`layers.harmonic.harmonic_conv2d`, 5x5 filters with 4
  rings (the H-Net paper's MNIST model), a complex map with
  ``M = max_order + 1`` streams in and out, ``[B, S, S, M, C]``.

Each sweep varies one factor from a base point (default ``B = 8``,
``S = 32``, ``C = 8`` channels per group element / harmonic stream, C4,
``max_order = 1``): image side ``S``, batch ``B``, channels ``C`` (for
``gconv C1``, ``gconv C4`` and ``hconv``), group order ``N`` (``gconv`` and
``lifting``) and the number of harmonic streams ``M``; ``--quick`` uses
fewer points and ``S = 16``. For every point it records the median time
(the points of a sweep are timed in alternating rounds, so a slow-down from
other processes hits them alike), the FLOPs XLA counts, and the memory of
the compiled function (``memory_analysis()``: arguments + outputs +
temporaries, and XLA's peak estimate), then fits the growth exponent of
each sweep: the slope of log(time) (and log(FLOPs), log(memory)) against
log(factor). Points whose FLOPs exceed ``max_gflop`` are compiled and
reported (FLOPs, memory) but not timed.

Writes ``scaling.csv`` (one row per point), ``scaling_exponents.csv``,
``scaling.md`` (both tables) and ``scaling.png`` (log-log panels) to
``--out``. Benchmarks print figures; no test times anything.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import groups
from benchmarks import common
from layers import group_conv
from layers import harmonic

DEFAULT_OUT = os.path.join('runs', 'benchmarks')

# Sweep name -> (column of the factor, axis label).
SWEEPS = {
    'size': ('size', 'image side S (pixels)'),
    'batch': ('batch', 'batch B'),
    'channels': ('channels', 'channels C (per group element / stream)'),
    'group_order': ('group_order', 'group order N (C_N)'),
    'streams': ('streams', 'harmonic streams M = max_order + 1'),
}
MIB = 2.0 ** 20


@dataclasses.dataclass(frozen=True)
class ScalingConfig:
  """What to sweep and how long to spend on each point.

  Attributes:
    sizes: image sides ``S`` of the size sweep.
    batches: batch sizes of the batch sweep.
    channels: channels per group element / harmonic stream.
    group_orders: ``N`` of the ``C_N`` sweep (1 = plain convolution).
    max_orders: harmonic max orders of the stream sweep (``M = m + 1``).
    base_size: ``S`` of every sweep that does not vary it.
    base_batch: ``B`` likewise.
    base_channels: ``C`` likewise.
    spatial_group_orders: the group convs ``C_N`` of the size / batch /
      channel sweeps (``C1``, the plain-conv baseline, and ``C4``).
    base_max_order: harmonic max order outside the stream sweep.
    kernel_size: side of the group-conv filters.
    harmonic_filter_size: odd side of the harmonic filters.
    n_rings: rings of the harmonic radial profile.
    max_gflop: points above this many GFLOPs per call are not timed.
    rounds: the points of a sweep are timed in this many alternating rounds.
    time_budget_s: timed calls per point are about this many seconds' worth.
    min_repeats: at least this many timed calls per point (over all rounds).
    max_repeats: at most this many.
    seed: of the random inputs, weights and cotangents.
  """
  sizes: tuple[int, ...] = (16, 32, 64, 128)
  batches: tuple[int, ...] = (8, 16, 32, 64, 128)
  channels: tuple[int, ...] = (8, 16, 32, 64, 128)
  group_orders: tuple[int, ...] = (1, 4, 8, 16)
  max_orders: tuple[int, ...] = (1, 2, 3, 4)
  base_size: int = 32
  base_batch: int = 8
  base_channels: int = 8
  spatial_group_orders: tuple[int, ...] = (1, 4)
  base_max_order: int = 1
  kernel_size: int = 3
  harmonic_filter_size: int = 5
  n_rings: int = 4
  max_gflop: float = 80.0
  rounds: int = 5
  time_budget_s: float = 1.0
  min_repeats: int = 5
  max_repeats: int = 30
  seed: int = 0


FULL = ScalingConfig()
QUICK = ScalingConfig(sizes=(16, 64), batches=(8, 32), channels=(8, 32),
                      group_orders=(1, 4, 16), max_orders=(1, 4),
                      base_size=16, max_gflop=5.0, rounds=2,
                      time_budget_s=0.1, min_repeats=2, max_repeats=10)


@dataclasses.dataclass(frozen=True)
class Point:
  """One measured configuration of one layer."""
  layer: str  # 'gconv' | 'lifting' | 'hconv'
  batch: int
  size: int
  channels: int
  group_order: int = 1  # N of C_N (gconv, lifting)
  max_order: int = 0    # hconv

  @property
  def streams(self) -> int:
    return self.max_order + 1

  def series(self, sweep: str) -> str:
    """The line of ``sweep`` the point lies on (plots, exponent table)."""
    if sweep == 'group_order':
      return f'{self.layer} C_N'
    if sweep == 'streams':
      return 'hconv'
    if self.layer == 'hconv':
      return f'hconv M={self.streams}'
    return f'{self.layer} C{self.group_order}'


# --------------------------------------------------------------------------
# The measured functions.
# --------------------------------------------------------------------------


def forward_backward(layer_fn: Callable[..., jax.Array]
                     ) -> Callable[..., Any]:
  """Jitted ``(*inputs, cotangent) -> (out, grads of every input)``.

  Args:
    layer_fn: ``(*inputs) -> out``; the VJP is taken w.r.t. every input.
  """
  def step(*args):
    *inputs, cotangent = args
    out, vjp = jax.vjp(layer_fn, *inputs)
    return out, vjp(cotangent)
  return jax.jit(step)


def _normal(rng: np.random.Generator, shape: tuple[int, ...], *,
            scale: float = 1.0, complex_: bool = False) -> jax.Array:
  # NumPy draws: eager jax.random would compile a sampler per new shape.
  x = scale * rng.standard_normal(shape, np.float32)
  if complex_:
    x = x + 1j * scale * rng.standard_normal(shape, np.float32)
    return jnp.asarray(x.astype(np.complex64))
  return jnp.asarray(x)


def build_problem(point: Point, config: ScalingConfig
                  ) -> tuple[Callable[..., Any], tuple[jax.Array, ...]]:
  """The jitted forward + backward of ``point`` and its random arguments.

  Returns:
    ``(fn, args)``: ``fn(*args)`` returns the output and the gradients w.r.t.
    the input and the weights; ``args`` ends with the cotangent.
  """
  rng = np.random.default_rng(config.seed)
  b, s, c = point.batch, point.size, point.channels
  if point.layer in ('gconv', 'lifting'):
    group = groups.Cyclic(point.group_order)
    n, k = point.group_order, config.kernel_size
    if point.layer == 'gconv':
      x = _normal(rng, (b, s, s, n, c))  # [B, S, S, N, C]
      kernel = _normal(rng, (k, k, n, c, c),
                       scale=1 / math.sqrt(k * k * n * c))
      conv = group_conv.group_conv2d
    else:
      x = _normal(rng, (b, s, s, c))  # [B, S, S, C]
      kernel = _normal(rng, (k, k, c, c), scale=1 / math.sqrt(k * k * c))
      conv = group_conv.lifting_conv2d
    cotangent = _normal(rng, (b, s, s, n, c))

    def layer(x, kernel):
      return conv(x, kernel, group=group)
    return forward_backward(layer), (x, kernel, cotangent)
  if point.layer == 'hconv':
    m = point.streams
    num_orders = harmonic.num_filter_orders(point.max_order, m)
    z = _normal(rng, (b, s, s, m, c), complex_=True)  # [B, S, S, M, C]
    radial = _normal(rng, (num_orders, config.n_rings, c, c),
                     scale=1 / math.sqrt(config.n_rings * c * m))
    phase = jnp.asarray(rng.uniform(0, 2 * np.pi, (num_orders, c, c))
                        .astype(np.float32))
    cotangent = _normal(rng, (b, s, s, m, c), complex_=True)

    def layer(z, radial, phase):
      return harmonic.harmonic_conv2d(
          z, radial, phase, filter_size=config.harmonic_filter_size,
          max_order=point.max_order)
    return forward_backward(layer), (z, radial, phase, cotangent)
  raise ValueError(f"point.layer must be 'gconv', 'lifting' or 'hconv'; got "
                   f'{point.layer!r}.')


# --------------------------------------------------------------------------
# Points and measurements.
# --------------------------------------------------------------------------


def sweep_points(config: ScalingConfig) -> dict[str, list[Point]]:
  """The points of each sweep; a point (the base) may be in several."""
  base = dict(batch=config.base_batch, size=config.base_size,
              channels=config.base_channels)
  spatial_layers = tuple(Point('gconv', **base, group_order=n)
                         for n in config.spatial_group_orders)
  spatial_layers += (Point('hconv', **base, max_order=config.base_max_order),)
  sweeps = {}
  for sweep, values in (('size', config.sizes), ('batch', config.batches),
                        ('channels', config.channels)):
    sweeps[sweep] = [dataclasses.replace(layer, **{sweep: value})
                     for layer in spatial_layers for value in values]
  sweeps['group_order'] = [Point(layer, **base, group_order=n)
                           for layer in ('gconv', 'lifting')
                           for n in config.group_orders]
  sweeps['streams'] = [Point('hconv', **base, max_order=order)
                       for order in config.max_orders]
  return {sweep: list(dict.fromkeys(points))
          for sweep, points in sweeps.items()}


def _memory(compiled) -> dict[str, float]:
  """Memory of a compiled function in MiB (NaN where XLA does not say)."""
  stats = compiled.memory_analysis()
  def field(name):
    value = getattr(stats, name, None) if stats is not None else None
    return float('nan') if value is None else value / MIB
  arguments = field('argument_size_in_bytes')
  outputs = field('output_size_in_bytes')
  temps = field('temp_size_in_bytes')
  return {'mem_mib': arguments + outputs + temps, 'arg_mib': arguments,
          'out_mib': outputs, 'temp_mib': temps,
          'peak_mib': field('peak_memory_in_bytes')}


@dataclasses.dataclass
class Compiled:
  """A point's compiled forward + backward and what XLA says about it."""
  executable: Any
  info: dict[str, Any]


def compile_point(point: Point, config: ScalingConfig) -> Compiled:
  """Lowers and compiles ``point``; FLOPs, memory and the times it took."""
  start = time.perf_counter()
  fn, args = build_problem(point, config)
  lowered = fn.lower(*args)
  lowered_at = time.perf_counter()
  executable = lowered.compile()
  compiled_at = time.perf_counter()
  return Compiled(executable, {
      'gflop': common.compiled_flops(executable) / 1e9,
      **_memory(executable),
      'lower_s': lowered_at - start, 'compile_s': compiled_at - lowered_at,
  })


def interleaved_times(calls: dict[Any, Callable[[], Any]], *, rounds: int,
                      budget_s: float, min_calls: int, max_calls: int
                      ) -> dict[Any, tuple[float, float, int]]:
  """Median seconds of each call, timed in alternating rounds.

  As :func:`benchmarks.common.interleaved_medians` (a slow-down from other
  processes hits every point of a sweep alike, so their ratios, the growth
  exponents, are steadier than the times), but each call gets its own number
  of repeats per round, sized by its warm-up so that it spends about
  ``budget_s`` in all: the points of one sweep differ in cost by 100x.

  Returns:
    ``{key: (median seconds, fastest seconds, timed calls)}``.
  """
  per_round = {}
  for key, call in calls.items():
    start = time.perf_counter()
    call()  # warm-up; its time sizes the repeats
    first = time.perf_counter() - start
    total = min(max_calls, max(min_calls, int(budget_s / max(first, 1e-9))))
    per_round[key] = max(1, round(total / rounds))
  samples = {key: [] for key in calls}
  for _ in range(rounds):
    for key, call in calls.items():
      for _ in range(per_round[key]):
        start = time.perf_counter()
        call()
        samples[key].append(time.perf_counter() - start)
  return {key: (statistics.median(times), min(times), len(times))
          for key, times in samples.items()}


def growth_exponent(factors: Sequence[float], values: Sequence[float]
                    ) -> float:
  """Least-squares slope of log(value) vs log(factor); NaN if < 2 points."""
  pairs = [(f, v) for f, v in zip(factors, values)
           if f > 0 and v > 0 and math.isfinite(v)]
  if len({f for f, _ in pairs}) < 2:
    return float('nan')
  log_f, log_v = np.log([p[0] for p in pairs]), np.log([p[1] for p in pairs])
  return float(np.polyfit(log_f, log_v, 1)[0])


def exponents(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
  """One row per (sweep, series): growth exponents of time, FLOPs, memory."""
  out = []
  keys = []
  for row in rows:
    if (row['sweep'], row['series']) not in keys:
      keys.append((row['sweep'], row['series']))
  for sweep, series in keys:
    column = SWEEPS[sweep][0]
    points = sorted((r for r in rows if r['sweep'] == sweep and
                     r['series'] == series), key=lambda r: r[column])
    factors = [r[column] for r in points]
    timed = [r for r in points if math.isfinite(r['time_ms'])]
    out.append({
        'sweep': sweep, 'series': series,
        'factors': '-'.join(str(f) for f in factors),
        'time_exponent': growth_exponent(
            [r[column] for r in timed], [r['time_ms'] for r in timed]),
        'min_time_exponent': growth_exponent(
            [r[column] for r in timed], [r['time_ms_min'] for r in timed]),
        'flop_exponent': growth_exponent(factors,
                                         [r['gflop'] for r in points]),
        'memory_exponent': growth_exponent(factors,
                                           [r['mem_mib'] for r in points]),
        'timed': f'{len(timed)}/{len(points)}',
        'time_ms_first': timed[0]['time_ms'] if timed else float('nan'),
        'time_ms_last': timed[-1]['time_ms'] if timed else float('nan'),
        'mem_mib_first': points[0]['mem_mib'],
        'mem_mib_last': points[-1]['mem_mib'],
    })
  return out


# --------------------------------------------------------------------------
# Output.
# --------------------------------------------------------------------------

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
  sweeps = [s for s in SWEEPS if any(r['sweep'] == s for r in rows)]
  slopes = {(e['sweep'], e['series']): e for e in exponent_rows}
  fig, axes = plt.subplots(2, len(sweeps), figsize=(4.2 * len(sweeps), 8),
                           squeeze=False)
  series_names = list(dict.fromkeys(r['series'] for r in rows))
  styles = {name: (f'C{n % 10}', 'osD^vP*X<>'[n % 10])
            for n, name in enumerate(series_names)}
  for col, sweep in enumerate(sweeps):
    column, label = SWEEPS[sweep]
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


def markdown(rows, exponent_rows, *, config: ScalingConfig,
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


def _describe(point: Point) -> str:
  name = ('hconv' if point.layer == 'hconv' else
          f'{point.layer} C{point.group_order}')
  where = f'B={point.batch:<3d} S={point.size:<3d} C={point.channels:<3d}'
  if point.layer == 'hconv':
    where += f' M={point.streams}'
  return f'{name:<11s} {where}'


def run(config: ScalingConfig = FULL, *, out_dir: str = DEFAULT_OUT,
        command: str = 'python -m benchmarks.scaling',
        verbose: bool = True) -> dict[str, Any]:
  """Measures every sweep of ``config``; writes CSVs, markdown and the PNG.

  Each point is compiled once; the points of a sweep are then timed
  together, interleaved (:func:`interleaved_times`), so the base point is
  timed again in every sweep it belongs to.

  Args:
    config: sweeps and time budget (:data:`FULL`, :data:`QUICK` or custom).
    out_dir: folder of ``scaling.csv``, ``scaling_exponents.csv``,
      ``scaling.md`` and ``scaling.png`` (created if missing).
    command: shown in the markdown report.
    verbose: print progress lines and the tables.

  Returns:
    ``{'rows', 'exponents', 'paths'}``: per-point rows (one per sweep and
    point), exponent rows and the written files by kind.
  """
  log = print if verbose else (lambda *a, **k: None)
  nan = float('nan')
  log(f'# {common.machine_summary()}')
  start = time.perf_counter()
  compiled: dict[Point, Compiled] = {}
  rows = []
  for sweep, points in sweep_points(config).items():
    log(f'## sweep {sweep}', flush=True)
    for point in points:
      if point not in compiled:
        compiled[point] = compile_point(point, config)
        info = compiled[point].info
        log(f'  compiled {_describe(point)}: {info["gflop"]:7.3f} GFLOP '
            f'{info["mem_mib"]:8.2f} MiB  (lower {info["lower_s"]:.2f} s, '
            f'compile {info["compile_s"]:.2f} s)', flush=True)
    timed = [p for p in points
             if compiled[p].info['gflop'] <= config.max_gflop]
    calls = {p: common.jax_call(compiled[p].executable,
                                *build_problem(p, config)[1]) for p in timed}
    times = interleaved_times(
        calls, rounds=config.rounds, budget_s=config.time_budget_s,
        min_calls=config.min_repeats, max_calls=config.max_repeats)
    del calls  # frees the inputs
    for point in points:
      seconds, fastest, repeats = times.get(point, (nan, nan, 0))
      info = compiled[point].info
      rows.append({
          'sweep': sweep, 'series': point.series(sweep),
          'layer': point.layer, 'batch': point.batch, 'size': point.size,
          'channels': point.channels, 'group_order': point.group_order,
          'max_order': point.max_order, 'streams': point.streams,
          'time_ms': 1e3 * seconds, 'time_ms_min': 1e3 * fastest,
          'repeats': repeats,
          'gflop_per_s': info['gflop'] / seconds if repeats else
                         float('nan'),
          **info})
      log(f'  {_describe(point)}: {1e3 * seconds:9.2f} ms '
          f'({repeats} calls)' if repeats else
          f'  {_describe(point)}:  not timed (> {config.max_gflop:g} '
          'GFLOP)', flush=True)
  exponent_rows = exponents(rows)
  os.makedirs(out_dir, exist_ok=True)
  paths = {
      'csv': os.path.join(out_dir, 'scaling.csv'),
      'exponents_csv': os.path.join(out_dir, 'scaling_exponents.csv'),
      'markdown': os.path.join(out_dir, 'scaling.md'),
      'png': os.path.join(out_dir, 'scaling.png'),
  }
  common.write_csv(paths['csv'], rows)
  common.write_csv(paths['exponents_csv'], exponent_rows)
  report = markdown(rows, exponent_rows, config=config, command=command)
  with open(paths['markdown'], 'w') as f:
    f.write(report)
  plot(rows, exponent_rows, paths['png'],
       title=f'one forward+backward pass (median), base point '
             f'B={config.base_batch} S={config.base_size} '
             f'C={config.base_channels}; slope = fitted exponent of log y vs '
             f'log x; {common.machine_summary().split(", XLA_FLAGS")[0]}')
  log('')
  log(common.format_table(exponent_rows, EXPONENT_COLUMNS))
  log(f'\n{len(compiled)} points in {time.perf_counter() - start:.1f} s; '
      f'wrote {", ".join(paths.values())}')
  return {'rows': rows, 'exponents': exponent_rows, 'paths': paths}


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
  """Command-line entry point: ``[--quick] [--out DIR]``."""
  parser = argparse.ArgumentParser(
      prog='python -m benchmarks.scaling', description=__doc__.split('\n')[0])
  parser.add_argument('--quick', action='store_true',
                      help='fewer, smaller points (about 40 s)')
  parser.add_argument('--out', default=DEFAULT_OUT,
                      help=f'output folder (default {DEFAULT_OUT})')
  args = parser.parse_args(argv)
  command = 'python -m benchmarks.scaling' + (' --quick' if args.quick else '')
  return run(QUICK if args.quick else FULL, out_dir=args.out, command=command)


if __name__ == '__main__':
  main(sys.argv[1:])
