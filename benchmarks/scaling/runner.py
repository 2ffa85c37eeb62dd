"""Runs every sweep and writes the report; the command line."""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence
from typing import Any

from benchmarks import common
from benchmarks.scaling import measure
from benchmarks.scaling import problems
from benchmarks.scaling import report


def _describe(point: problems.Point) -> str:
  name = ('hconv' if point.layer == 'hconv' else
          f'{point.layer} C{point.group_order}')
  where = f'B={point.batch:<3d} S={point.size:<3d} C={point.channels:<3d}'
  if point.layer == 'hconv':
    where += f' M={point.streams}'
  return f'{name:<11s} {where}'


def run(config: problems.ScalingConfig = problems.FULL, *,
        out_dir: str = problems.DEFAULT_OUT,
        command: str = 'python -m benchmarks.scaling',
        verbose: bool = True) -> dict[str, Any]:
  """Measures every sweep of ``config``; writes CSVs, markdown and the PNG.

  Each point is compiled once; the points of a sweep are then timed
  together, interleaved (:func:`measure.interleaved_times`), so the base point
  is
  timed again in every sweep it belongs to.

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
  """
  log = print if verbose else (lambda *a, **k: None)
  nan = float('nan')
  log(f'# {common.machine_summary()}')
  start = time.perf_counter()
  compiled: dict[problems.Point, measure.Compiled] = {}
  rows = []
  for sweep, points in problems.sweep_points(config).items():
    log(f'## sweep {sweep}', flush=True)
    for point in points:
      if point not in compiled:
        compiled[point] = measure.compile_point(point, config)
        info = compiled[point].info
        log(f'  compiled {_describe(point)}: {info["gflop"]:7.3f} GFLOP '
            f'{info["mem_mib"]:8.2f} MiB  (lower {info["lower_s"]:.2f} s, '
            f'compile {info["compile_s"]:.2f} s)', flush=True)
    timed = [p for p in points
             if compiled[p].info['gflop'] <= config.max_gflop]
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
  text = report.markdown(rows, exponent_rows, config=config, command=command)
  with open(paths['markdown'], 'w') as f:
    f.write(text)
  report.plot(rows, exponent_rows, paths['png'],
       title=f'one forward+backward pass (median), base point '
             f'B={config.base_batch} S={config.base_size} '
             f'C={config.base_channels}; slope = fitted exponent of log y vs '
             f'log x; {common.machine_summary().split(", XLA_FLAGS")[0]}')
  log('')
  log(common.format_table(exponent_rows, report.EXPONENT_COLUMNS))
  log(f'\n{len(compiled)} points in {time.perf_counter() - start:.1f} s; '
      f'wrote {", ".join(paths.values())}')
  return {'rows': rows, 'exponents': exponent_rows, 'paths': paths}


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
  """Command-line entry point: ``[--quick] [--out DIR]``."""
  parser = argparse.ArgumentParser(
      prog='python -m benchmarks.scaling',
      description='How time and memory of the equivariant convolutions grow '
      'with their sizes.')
  parser.add_argument('--quick', action='store_true',
                      help='fewer, smaller points (about 40 s)')
  parser.add_argument('--out', default=problems.DEFAULT_OUT,
                      help=f'output folder (default {problems.DEFAULT_OUT})')
  args = parser.parse_args(argv)
  command = 'python -m benchmarks.scaling' + (' --quick' if args.quick else '')
  return run(problems.QUICK if args.quick else problems.FULL,
             out_dir=args.out, command=command)
