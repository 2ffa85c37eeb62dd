"""Timing, machine figures and CSV output shared by the benchmarks.

Times are medians of repeated calls after warm-up (the first call compiles),
measured with ``time.perf_counter`` around a call that blocks until the
result is ready (``jax.block_until_ready`` for JAX; PyTorch on the CPU is
synchronous). Benchmarks print figures; no test times anything.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from experiments import reporting
from experiments import runtime


def median_seconds(fn: Callable[[], Any], *, repeats: int = 10,
                   warmup: int = 2) -> float:
  """Median wall time of ``fn()`` in seconds over ``repeats`` calls.

  Args:
    fn: a call that returns only when its work is done (wrap JAX calls in
      ``jax.block_until_ready``).
    repeats: timed calls, >= 1.
    warmup: untimed calls first (compilation, caches), >= 0.
  """
  if repeats < 1:
    raise ValueError(f'repeats must be >= 1; got {repeats}.')
  if warmup < 0:
    raise ValueError(f'warmup must be >= 0; got {warmup}.')
  for _ in range(warmup):
    fn()
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    fn()
    times.append(time.perf_counter() - start)
  return statistics.median(times)


def interleaved_samples(fns: Mapping[str, Callable[[], Any]], *,
                        rounds: int = 3, repeats: int = 5,
                        warmup: int = 2) -> dict[str, list[float]]:
  """Wall times of several calls timed in alternating rounds.

  Alternating (A, B, A, B, ...) rather than timing A then B spreads any
  slow-down from other processes over every contender, so their ratio is
  steadier than either time. Other jobs only ever add time: the minimum of
  the samples is the least disturbed figure.

  Returns:
    ``{name: seconds of each of the rounds * repeats calls}``.
  """
  for fn in fns.values():
    for _ in range(warmup):
      fn()
  samples = {name: [] for name in fns}
  for _ in range(rounds):
    for name, fn in fns.items():
      for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples[name].append(time.perf_counter() - start)
  return samples


def interleaved_medians(fns: Mapping[str, Callable[[], Any]], *,
                        rounds: int = 3, repeats: int = 5,
                        warmup: int = 2) -> dict[str, float]:
  """Medians of :func:`interleaved_samples`: ``{name: median seconds}``."""
  samples = interleaved_samples(fns, rounds=rounds, repeats=repeats,
                                warmup=warmup)
  return {name: statistics.median(times) for name, times in samples.items()}


def jax_call(fn: Callable[..., Any], *args: Any) -> Callable[[], Any]:
  """``lambda: jax.block_until_ready(fn(*args))``."""
  return lambda: jax.block_until_ready(fn(*args))


def matmul_gflops(*, size: int = 2048, repeats: int = 10) -> float:
  """Measured float32 matmul rate of JAX on this machine, GFLOP/s.

  A jitted ``[size, size] @ [size, size]`` product, ``2 size^3`` FLOPs: the
  "peak" the training-step benchmark compares against.
  """
  rng = np.random.default_rng(0)
  a = jnp.asarray(rng.standard_normal((size, size), np.float32))
  b = jnp.asarray(rng.standard_normal((size, size), np.float32))
  matmul = jax.jit(jnp.matmul)
  seconds = median_seconds(jax_call(matmul, a, b), repeats=repeats)
  return 2 * size ** 3 / seconds / 1e9


def cpu_isa() -> str:
  """The CPU's vector extensions, e.g. 'avx2 fma avx512f' (from cpuinfo)."""
  from layers import autotune  # pylint: disable=g-import-not-at-top
  return autotune.cpu_isa()


def load_average() -> str:
  """The 1-minute load average, to tell a shared machine from a quiet one."""
  try:
    return f'{os.getloadavg()[0]:.1f}'
  except OSError:
    return 'n/a'


def compiled_flops(compiled: Any) -> float:
  """FLOPs XLA counts for one call of a compiled function (cost analysis)."""
  analysis = compiled.cost_analysis()
  if isinstance(analysis, (list, tuple)):  # older JAX: one dict per device
    analysis = analysis[0]
  return float(analysis.get('flops', float('nan')))


def cpu_name() -> str:
  """The CPU model from /proc/cpuinfo (or what platform knows)."""
  try:
    with open('/proc/cpuinfo') as f:
      for line in f:
        if line.startswith('model name'):
          return line.split(':', 1)[1].strip()
  except OSError:
    pass
  return platform.processor() or platform.machine()


def machine_summary() -> str:
  """One line: CPU and its vector ISA, cores, JAX version, devices, and the
  environment variables that change speed (XLA flags; glibc's huge-page
  tunable, which :func:`experiments.runtime.use_huge_pages` sets; oneDNN's
  instruction-set cap, which limits layers.onednn and torch alike)."""
  return (f'{cpu_name()} ({cpu_isa()}), {os.cpu_count()} cores, '
          f'jax {jax.__version__} on '
          f'{jax.devices()[0].platform} ({jax.device_count()} device(s)), '
          f"XLA_FLAGS={os.environ.get('XLA_FLAGS', '')!r}, "
          f"GLIBC_TUNABLES={os.environ.get('GLIBC_TUNABLES', '')!r}, "
          f"ONEDNN_MAX_CPU_ISA={os.environ.get('ONEDNN_MAX_CPU_ISA', '')!r}")


def write_csv(path: str, rows: Sequence[Mapping[str, Any]]) -> None:
  """Writes ``rows`` (dicts with the same keys, in order) to ``path``."""
  if not rows:
    raise ValueError('rows must be non-empty.')
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  with open(path, 'w', newline='') as f:
    writer = csv.DictWriter(f, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)


def format_table(rows: Iterable[Mapping[str, Any]],
                 columns: Sequence[str]) -> str:
  """A markdown table of ``columns`` of ``rows`` (floats with 3 digits).

  :func:`experiments.reporting.markdown_table` with every column on the left.
  """
  def cell(value):
    if isinstance(value, float):
      return f'{value:.3g}'
    return str(value)
  return reporting.markdown_table(list(rows), columns, default_format=cell,
                                  align=['left'] * len(columns))


def patch_e2cnn_for_numpy2(e2cnn) -> None:
  """Two NumPy 2 fixes for e2cnn 0.2.3 (its last release, 2021).

  Its kernel bases hash with ``ndarray.tostring``, which NumPy 2 removed:
  the same hash with ``tobytes`` (only a cache key).
  """
  from e2cnn.kernels import irreps_basis  # pylint: disable=g-import-not-at-top

  def hash_with_tobytes(self):
    gamma = self.gamma
    gamma = gamma.tobytes() if isinstance(gamma, np.ndarray) else gamma
    return (hash(self.in_irrep) + hash(self.out_irrep) +
            hash(self.mu.tobytes()) + hash(gamma))

  for name in ('R2FlipsSolution', 'R2ContinuousRotationsSolution',
               'R2FlipsDiscreteRotationsSolution',
               'R2FlipsContinuousRotationsSolution'):
    getattr(irreps_basis, name).__hash__ = hash_with_tobytes
  # Its kernel utilities call np.array(..., copy=False), an error in NumPy 2
  # when a copy is needed; NumPy 1 copied then, as np.asarray does.
  e2cnn.kernels.utils.np = _NumpyCopyFalseAsAsarray()


class _NumpyCopyFalseAsAsarray:
  """``numpy``, but ``array(x, copy=False)`` means ``asarray(x)``."""

  def __getattr__(self, name):
    return getattr(np, name)

  @staticmethod
  def array(obj, *args, copy=True, **kwargs):
    if copy is False:
      return np.asarray(obj, *args, **kwargs)
    return np.array(obj, *args, copy=copy, **kwargs)


def json_in_fresh_process(module: str, function: str, *args: Any,
                          fast_compile: bool, **kwargs: Any) -> Any:
  """``module.function(*args, **kwargs)`` (arguments and result plain,
  JSON-able data) in a fresh interpreter from the repository root, with
  XLA:CPU's older loop emitters or XLA's own
  (:func:`experiments.runtime.use_fast_compile`; a fast-compile flag this
  process inherited is dropped first): XLA reads its flags once per process.

  Raises:
    RuntimeError: naming the call, with the child's stderr, if it fails.
  """
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  code = ('import importlib, json, sys; from experiments import runtime; '
          'runtime.use_fast_compile(default=False); '
          'from experiments import mlir_context; '
          'mlir_context.use_from_environment(default=False); '
          'args, kwargs = json.loads(sys.argv[1]); '
          f'fn = getattr(importlib.import_module({module!r}), {function!r}); '
          'print(json.dumps(fn(*args, **kwargs)))')
  env = runtime.without_fast_compile(os.environ, setting=fast_compile)
  result = subprocess.run(
      [sys.executable, '-c', code, json.dumps([list(args), kwargs])],
      cwd=root, env=env, capture_output=True, text=True, check=False)
  if result.returncode:
    raise RuntimeError(
        f'{module}.{function}{args} (fast_compile={fast_compile}) failed:\n'
        f'{result.stderr[-3000:]}')
  return json.loads(result.stdout.strip().splitlines()[-1])
