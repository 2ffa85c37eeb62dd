"""Compiling, timing and memory of points; fitted growth exponents."""

from __future__ import annotations

import dataclasses
import math
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from benchmarks import common
from benchmarks.scaling import problems


def _memory(compiled) -> dict[str, float]:
  """Memory of a compiled function in MiB (NaN where XLA does not say)."""
  stats = compiled.memory_analysis()
  def field(name):
    value = getattr(stats, name, None) if stats is not None else None
    return float('nan') if value is None else value / problems.MIB
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


def compile_point(point: problems.Point,
                  config: problems.ScalingConfig) -> Compiled:
  """Builds, lowers and compiles ``point``; FLOPs, memory, the times taken.

  ``setup_s`` is building the function and its arguments (random arrays;
  solving a steerable basis or initialising a model the first time),
  ``lower_s`` tracing + StableHLO, ``compile_s`` XLA.
  """
  start = time.perf_counter()
  fn, args = problems.build_problem(point, config)
  built_at = time.perf_counter()
  lowered = fn.lower(*args)
  lowered_at = time.perf_counter()
  executable = lowered.compile()
  compiled_at = time.perf_counter()
  return Compiled(executable, {
      'gflop': common.compiled_flops(executable) / 1e9,
      **_memory(executable),
      'setup_s': built_at - start, 'lower_s': lowered_at - built_at,
      'compile_s': compiled_at - lowered_at,
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
    column = problems.SWEEPS[sweep][0]
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
