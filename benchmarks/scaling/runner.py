"""Runs every sweep and writes the report; the command line."""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from collections.abc import Sequence
from typing import Any

from benchmarks import common
from benchmarks.scaling import measure
from benchmarks.scaling import problems
from benchmarks.scaling import report


def run(config: problems.ScalingConfig = problems.FULL, *,
        out_dir: str = problems.DEFAULT_OUT,
        command: str = 'python -m benchmarks.scaling',
        verbose: bool = True) -> dict[str, Any]:
  """Measures every sweep of ``config``; writes CSVs, markdown and the PNG.

  Each point is compiled once; the points of a sweep are then timed
  together, interleaved (:func:`measure.interleaved_times`), so the base point
  is timed again in every sweep it belongs to. First the jitted matmul rate
  (the machine's peak, ``config.peak_matmul_size``) is measured, to put the
  rates beside it.

  Args:
    config: sweeps and time budget (:data:`problems.FULL`,
      :data:`problems.QUICK` or custom).
    out_dir: folder of ``scaling.csv``, ``scaling_exponents.csv``,
      ``scaling.md`` and ``scaling.png`` (created if missing).
    command: shown in the markdown report.
    verbose: print progress lines and the tables.

  Returns:
    ``{'rows', 'exponents', 'paths'}``: per-point rows (one per sweep and
    point), exponent rows and the written files by kind.

  Raises:
    ValueError: if ``config.sweeps`` names an unknown sweep, or no selected
      sweep has a point.
  """
  log = print if verbose else (lambda *a, **k: None)
  nan = float('nan')
  sweeps = problems.sweep_points(config)  # checks config.sweeps first
  if not sweeps:
    raise ValueError(f'config has no points in the sweeps '
                     f'{problems.selected_sweeps(config)}.')
  log(f'# {common.machine_summary()}')
  peak = nan
  if config.peak_matmul_size:
    peak = common.matmul_gflops(size=config.peak_matmul_size)
    log(f'# matmul peak {peak:.1f} GFLOP/s (jitted float32 '
        f'{config.peak_matmul_size}^2 product); load average '
        f'{common.load_average()}', flush=True)
  start = time.perf_counter()
  compiled: dict[problems.Point, measure.Compiled] = {}
  rows = []
  for sweep, points in sweeps.items():
    log(f'## sweep {sweep}', flush=True)
    for point in points:
      if point not in compiled:
        compiled[point] = measure.compile_point(point, config)
        info = compiled[point].info
        log(f'  compiled {point.describe()}: {info["gflop"]:7.3f} GFLOP '
            f'{info["mem_mib"]:8.2f} MiB  (setup {info["setup_s"]:.2f} s, '
            f'lower {info["lower_s"]:.2f} s, compile '
            f'{info["compile_s"]:.2f} s)', flush=True)
    timed = [p for p in points if compiled[p].info['gflop'] <=
             problems.gflop_limit(p, config)]
    calls = {p: common.jax_call(compiled[p].executable,
                                *problems.build_problem(p, config)[1])
             for p in timed}
    times = measure.interleaved_times(
        calls, rounds=config.rounds, budget_s=config.time_budget_s,
        min_calls=config.min_repeats, max_calls=config.max_repeats)
    del calls  # frees the inputs
    for point in points:
      seconds, fastest, repeats = times.get(point, (nan, nan, 0))
      info = compiled[point].info
      rate = info['gflop'] / seconds if repeats else nan
      rows.append({
          'sweep': sweep, 'series': point.series(sweep),
          'layer': point.layer, 'model': point.model, 'batch': point.batch,
          'size': point.size, 'channels': point.channels,
          'group_order': point.group_order, 'max_order': point.max_order,
          'streams': point.streams, 'fields': point.fields,
          'time_ms': 1e3 * seconds, 'time_ms_min': 1e3 * fastest,
          'repeats': repeats,
          'images_per_s': point.batch / seconds if repeats else nan,
          'gflop_per_s': rate, 'peak_fraction': rate / peak,
          **info})
      log(f'  {point.describe()}: {1e3 * seconds:9.2f} ms '
          f'({repeats} calls, {point.batch / seconds:.0f} images/s)'
          if repeats else
          f'  {point.describe()}:  not timed (> '
          f'{problems.gflop_limit(point, config):g} GFLOP)', flush=True)
  exponent_rows = measure.exponents(rows)
  os.makedirs(out_dir, exist_ok=True)
  paths = {
      'csv': os.path.join(out_dir, 'scaling.csv'),
      'exponents_csv': os.path.join(out_dir, 'scaling_exponents.csv'),
      'markdown': os.path.join(out_dir, 'scaling.md'),
      'png': os.path.join(out_dir, 'scaling.png'),
  }
  common.write_csv(paths['csv'], rows)
  common.write_csv(paths['exponents_csv'], exponent_rows)
  text = report.markdown(rows, exponent_rows, config=config, command=command,
                         peak_gflops=peak)
  with open(paths['markdown'], 'w') as f:
    f.write(text)
  report.plot(rows, exponent_rows, paths['png'],
              title=f'median time of one forward+backward pass (layers) or '
              f'training step (models), base point B={config.base_batch} '
              f'S={config.base_size} C={config.base_channels}; slope = '
              f'fitted exponent of log y vs log x\n'
              f'{common.machine_summary().split(", XLA_FLAGS")[0]}; matmul '
              f'peak {peak:.0f} GFLOP/s')
  log('')
  log(common.format_table(exponent_rows, report.EXPONENT_COLUMNS))
  train_rows = [r for r in rows if r['sweep'] in report.throughput_sweeps()]
  if train_rows:
    log('')
    log(common.format_table(train_rows, report.THROUGHPUT_COLUMNS))
  log(f'\n{len(compiled)} points in {time.perf_counter() - start:.1f} s; '
      f'wrote {", ".join(paths.values())}')
  return {'rows': rows, 'exponents': exponent_rows, 'paths': paths}


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
  """Command-line entry point: ``[--quick] [--sweeps a,b] [--out DIR]``."""
  parser = argparse.ArgumentParser(
      prog='python -m benchmarks.scaling',
      description='How time and memory of the equivariant convolutions and '
      'of whole training steps grow with their sizes.')
  parser.add_argument('--quick', action='store_true',
                      help='fewer, smaller points (under a minute on a '
                      'quiet machine; one point per steerable and '
                      'training-step sweep)')
  parser.add_argument('--sweeps', default='',
                      help='comma-separated sweeps to run (default all: '
                      f'{",".join(problems.SWEEPS)})')
  parser.add_argument('--out', default=problems.DEFAULT_OUT,
                      help=f'output folder (default {problems.DEFAULT_OUT})')
  args = parser.parse_args(argv)
  config = problems.QUICK if args.quick else problems.FULL
  sweeps = tuple(s for s in args.sweeps.split(',') if s)
  if sweeps:
    unknown = [s for s in sweeps if s not in problems.SWEEPS]
    if unknown:
      parser.error(f'unknown sweeps {", ".join(unknown)}; choose among '
                   f'{", ".join(problems.SWEEPS)}')
    config = dataclasses.replace(config, sweeps=sweeps)
  command = ' '.join(['python -m benchmarks.scaling'] +
                     (['--quick'] if args.quick else []) +
                     ([f'--sweeps={",".join(sweeps)}'] if sweeps else []))
  return run(config, out_dir=args.out, command=command)
