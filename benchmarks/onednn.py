"""The oneDNN convolution backend: build cost, threads and a training step.

    python -m benchmarks.onednn [--out benchmarks/results] [--rounds 15]

Measures, on this machine (the header names the CPU, its ISA and the matmul
peak):

* **first use** — building the FFI handler library into an empty cache
  (``layers/onednn.py``: the system C++ compiler, then ``ctypes`` and
  ``jax.ffi.register_ffi_target``), and loading it again from the cache, each
  in a fresh process;
* **a P4CNN Adam step** (``models.gcnn.P4CNN``, 28x28, batch 64 and 128),
  compiled twice in one process — every convolution on XLA
  (``EQUIVLAB_CONV_BACKEND=xla``) and on oneDNN — and timed in alternating
  rounds (minimum: other jobs only ever add time), under several thread
  settings, each in its own process: oneDNN's OpenMP team of the process's
  cores (the default), of 1 thread, and with ``OMP_WAIT_POLICY=PASSIVE``
  (OpenMP threads sleep at once instead of spinning after a convolution,
  which frees the cores for XLA's threads sooner but wakes them slower).
  ``threads`` is the process's OS thread count after the runs (XLA's pool
  plus the OpenMP team).

Writes ``onednn.md`` and ``onednn.csv`` to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SETTINGS = (
    ('oneDNN team = cores (default)', {}, 0),
    ('oneDNN team = 1 thread', {}, 1),
    ('OMP_WAIT_POLICY=PASSIVE', {'OMP_WAIT_POLICY': 'PASSIVE'}, 0),
)


def _step_times(batches, rounds: int, threads: int) -> list[dict]:
  """Min ms of the P4CNN step on each backend (runs in a child process)."""
  import jax  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top

  from benchmarks import common  # pylint: disable=g-import-not-at-top
  from benchmarks.peers import p4cnn  # pylint: disable=g-import-not-at-top
  from layers import autotune  # pylint: disable=g-import-not-at-top
  from layers import onednn  # pylint: disable=g-import-not-at-top

  if not onednn.available():
    raise SystemExit(f'oneDNN unavailable: {onednn.unavailable_reason()}')
  if threads:
    onednn.set_threads(threads)
  rows = []
  for batch in batches:
    rng = np.random.default_rng(0)
    train_step, args = p4cnn.adam_step(
        rng.random((batch, 28, 28, 1), np.float32), np.arange(batch) % 10)
    compiled = {}
    for backend in ('xla', 'onednn'):
      with autotune.settings(backend=backend, enabled=False, force=None):
        compiled[backend] = jax.jit(
            lambda *a: train_step(*a)).lower(*args).compile()  # pylint: disable=unnecessary-lambda
    samples = common.interleaved_samples(
        {name: common.jax_call(fn, *args) for name, fn in compiled.items()},
        rounds=rounds, repeats=1)
    best = {name: 1e3 * min(times) for name, times in samples.items()}
    with open('/proc/self/status') as f:
      threads_now = next(int(line.split()[1]) for line in f
                         if line.startswith('Threads:'))
    rows.append(dict(batch=batch, xla_ms=round(best['xla'], 1),
                     onednn_ms=round(best['onednn'], 1),
                     speedup=round(best['xla'] / best['onednn'], 2),
                     threads=threads_now))
  return rows


def _child(environ: dict[str, str], argv: list[str]) -> str:
  result = subprocess.run([sys.executable, '-m', 'benchmarks.onednn', *argv],
                          cwd=_ROOT, env=dict(os.environ, **environ),
                          capture_output=True, text=True, check=False)
  if result.returncode != 0:
    raise SystemExit(f'child {argv} failed:\n{result.stderr[-3000:]}')
  return result.stdout.strip().splitlines()[-1]


def _first_use() -> list[dict]:
  """Cold build and warm load of the handler library, fresh processes."""
  script = ('import time; t = time.perf_counter(); from layers import onednn; '
            'ok = onednn.load(); '
            'print(ok, onednn.build_seconds(), time.perf_counter() - t)')
  rows = []
  with tempfile.TemporaryDirectory() as cache:
    for phase in ('build (empty cache)', 'load (cached)'):
      result = subprocess.run(
          [sys.executable, '-c', script], cwd=_ROOT, capture_output=True,
          text=True, check=True,
          env=dict(os.environ, XDG_CACHE_HOME=cache, PYTHONPATH=_ROOT))
      ok, seconds, total = result.stdout.split()
      if ok != 'True':
        raise SystemExit(f'oneDNN did not load: {result.stderr[-2000:]}')
      rows.append(dict(phase=phase, seconds=round(float(seconds), 2),
                       with_imports_s=round(float(total), 2)))
  return rows


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--out', default='runs/benchmarks')
  parser.add_argument('--rounds', type=int, default=15)
  parser.add_argument('--batches', default='64,128')
  parser.add_argument('--child-threads', type=int, default=None,
                      help=argparse.SUPPRESS)
  args = parser.parse_args()
  batches = [int(b) for b in args.batches.split(',')]
  if args.child_threads is not None:
    print(json.dumps(_step_times(batches, args.rounds, args.child_threads)))
    return

  from benchmarks import common  # pylint: disable=g-import-not-at-top
  from layers import onednn  # pylint: disable=g-import-not-at-top
  header = (f'{common.machine_summary()}\n'
            f'matmul peak {common.matmul_gflops():.0f} GFLOP/s; load average '
            f'{common.load_average()} at the start; oneDNN wheel '
            f'{onednn.version()}, ONEDNN_MAX_CPU_ISA='
            f"{os.environ.get('ONEDNN_MAX_CPU_ISA', '')!r}")
  print(header, flush=True)
  start = time.perf_counter()
  first_use = _first_use()
  print(first_use, flush=True)
  steps = []
  for name, environ, threads in SETTINGS:
    for row in json.loads(_child(environ, [
        f'--child-threads={threads}', f'--rounds={args.rounds}',
        f'--batches={args.batches}'])):
      steps.append(dict(setting=name, **row))
      print(steps[-1], flush=True)
  os.makedirs(args.out, exist_ok=True)
  common.write_csv(os.path.join(args.out, 'onednn.csv'), steps)
  command = 'python -m benchmarks.onednn ' + ' '.join(sys.argv[1:])
  text = (f'# oneDNN backend: first use and a P4CNN Adam step\n\n{header}\n\n'
          f'`{command.strip()}` ({time.perf_counter() - start:.0f} s)\n\n'
          '## First use of the handler library (fresh processes)\n\n' +
          common.format_table(first_use, list(first_use[0])) +
          '\n\n## P4CNN Adam step, 28x28 (min ms of alternating rounds, '
          'XLA vs oneDNN in one process)\n\n' +
          common.format_table(steps, list(steps[0])) +
          '\n')
  with open(os.path.join(args.out, 'onednn.md'), 'w') as f:
    f.write(text)
  print(text)


if __name__ == '__main__':
  from experiments import runtime  # pylint: disable=g-import-not-at-top
  runtime.use_huge_pages()  # what main.py and the peers run with
  main()
