"""XLA:CPU's fusion emitters on or off: train-step compile time, step time, loss.

    python -m benchmarks.fast_compile [--models cnn,resnet] [--rounds 2]
        [--steps 8] [--out benchmarks/results]

``experiments.runtime.use_fast_compile`` adds ``--xla_cpu_use_fusion_emitters=
false`` to ``XLA_FLAGS`` (XLA:CPU's older loop emitters): the test suite runs
with it, ``main.py`` only with ``EQUIVLAB_FAST_COMPILE=1``. Whether it should
be ``main.py``'s default depends on what it costs once compiled, so this
measures, per registered classifier and per setting, in a fresh process each
(XLA reads its flags once), the two settings alternating per model and round:

* ``compile_s``: lowering + compile of one training step (the step of
  :func:`benchmarks.compile_time.make_train_step`: cross-entropy, Adam on
  the flattened parameters), wall seconds;
* ``step_ms``: the fastest of ``steps`` steps after two untimed ones, batch
  ``--batch`` of random images of the model's usual input
  (:data:`benchmarks.compile_time.MODEL_INPUTS`);
* ``loss``: the loss after those steps from the same initial weights and
  data (the two settings round differently; a difference in the 6th-7th
  digit is rounding, a larger one would be a bug).

The table keeps, per model and setting, the minimum over rounds of each time
(other jobs only add time) and prints the machine (CPU ISA, matmul peak)
beside it. Writes ``fast_compile.csv`` and ``fast_compile.md`` to ``--out``.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence
from typing import Any

SETTINGS = ('xla_default', 'fast_compile')
DEFAULT_OUT = os.path.join('benchmarks', 'results')
DEFAULT_MODELS = ('cnn', 'resnet', 'z2cnn', 'p4cnn', 'hnet', 'c8cnn',
                  'so2cnn', 'sesn_mnist')


def measure(name: str, *, batch: int, steps: int) -> dict[str, Any]:
  """In this process (its XLA flags already set): one model's figures."""
  import jax  # pylint: disable=g-import-not-at-top
  from benchmarks import compile_time  # pylint: disable=g-import-not-at-top

  model, images, labels, variables = compile_time.random_setup(name, batch)
  key = jax.random.key(0, impl='rbg')
  params = variables['params']
  batch_stats = variables.get('batch_stats', {})
  tx = compile_time.make_optimizer()
  opt_state = tx.init(params)
  start = time.perf_counter()
  step = jax.jit(compile_time.make_train_step(model, tx)).lower(
      params, batch_stats, opt_state, images, labels, key).compile()
  compile_s = time.perf_counter() - start
  state = (params, batch_stats, opt_state)
  times = []
  for i in range(steps + 2):
    start = time.perf_counter()
    *state, loss = step(*state, images, labels, key)
    jax.block_until_ready(loss)
    if i >= 2:
      times.append(time.perf_counter() - start)
  return {'model': name, 'compile_s': compile_s,
          'step_ms': 1000 * min(times), 'loss': float(loss)}


def _child(name: str, setting: str, batch: int, steps: int
           ) -> dict[str, Any]:
  from benchmarks import common  # pylint: disable=g-import-not-at-top
  return common.json_in_fresh_process(
      'benchmarks.fast_compile', 'measure', name, batch=batch, steps=steps,
      fast_compile=setting == 'fast_compile')


def run(names: Sequence[str], *, rounds: int = 2, steps: int = 8,
        batch: int = 64, out_dir: str | None = DEFAULT_OUT,
        verbose: bool = True) -> list[dict[str, Any]]:
  """Measures every model under both settings; returns the table's rows."""
  from benchmarks import common  # pylint: disable=g-import-not-at-top
  import models  # pylint: disable=g-import-not-at-top
  for name in names:
    if name not in models.MODELS:
      raise ValueError(f'models must be registered names ({sorted(models.MODELS)}); '
                       f'got {name!r}.')
  for value, label in ((rounds, 'rounds'), (steps, 'steps'), (batch, 'batch')):
    if not isinstance(value, int) or value < 1:
      raise ValueError(f'{label} must be an integer >= 1; got {value!r}.')
  started = time.time()
  samples: dict[tuple[str, str], list[dict[str, Any]]] = {}
  for r in range(rounds):
    for i, name in enumerate(names):
      order = SETTINGS if (r + i) % 2 == 0 else SETTINGS[::-1]
      for setting in order:
        sample = _child(name, setting, batch, steps)
        samples.setdefault((name, setting), []).append(sample)
        if verbose:
          print(f'round {r + 1}/{rounds} {name} {setting}: compile '
                f'{sample["compile_s"]:.2f} s, step {sample["step_ms"]:.1f} '
                f'ms, loss {sample["loss"]:.7g}', flush=True)
  rows = []
  for name in names:
    row: dict[str, Any] = {'model': name}
    for setting in SETTINGS:
      got = samples[(name, setting)]
      row[f'{setting}_compile_s'] = min(s['compile_s'] for s in got)
      row[f'{setting}_step_ms'] = min(s['step_ms'] for s in got)
      row[f'{setting}_loss'] = got[0]['loss']
    row['compile_ratio'] = (row['fast_compile_compile_s'] /
                            row['xla_default_compile_s'])
    row['step_ratio'] = (row['fast_compile_step_ms'] /
                         row['xla_default_step_ms'])
    losses = row['xla_default_loss'], row['fast_compile_loss']
    row['loss_rel_diff'] = abs(losses[1] - losses[0]) / max(abs(losses[0]),
                                                            1e-30)
    rows.append(row)
  if out_dir:
    columns = ['model'] + [f'{s}_{k}' for k in ('compile_s', 'step_ms')
                           for s in SETTINGS] + ['compile_ratio', 'step_ratio',
                                                 'xla_default_loss',
                                                 'fast_compile_loss',
                                                 'loss_rel_diff']
    common.write_csv(os.path.join(out_dir, 'fast_compile.csv'), rows)
    header = (
        '# Fusion emitters on (XLA default) or off (fast compile)\n\n'
        f'Command: `python -m benchmarks.fast_compile --models='
        f'{",".join(names)} --rounds={rounds} --steps={steps} '
        f'--batch={batch}`\n\n'
        f'Date {time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}; '
        f'{common.machine_summary()}; matmul peak '
        f'{common.matmul_gflops():.0f} GFLOP/s; load average '
        f'{common.load_average()}; wall time {time.time() - started:.0f} s.\n\n'
        'Per model and setting, the minimum over rounds (each a fresh '
        'process, settings alternating): train-step lowering + compile '
        '(s), the fastest of the timed steps (ms), the ratio fast / '
        'default, and the loss after the steps (same weights and data).\n\n')
    with open(os.path.join(out_dir, 'fast_compile.md'), 'w') as f:
      shown = [{**row, **{k: f'{row[k]:.7g}' for k in (
          'xla_default_loss', 'fast_compile_loss')}} for row in rows]
      f.write(header + common.format_table(shown, columns) + '\n')
  return rows


def main(argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--models', default=','.join(DEFAULT_MODELS),
                      help='comma-separated registered classifiers')
  parser.add_argument('--rounds', type=int, default=2)
  parser.add_argument('--steps', type=int, default=8)
  parser.add_argument('--batch', type=int, default=64)
  parser.add_argument('--out', default=DEFAULT_OUT)
  args = parser.parse_args(argv)
  names = [n.strip() for n in args.models.split(',') if n.strip()]
  return run(names, rounds=args.rounds, steps=args.steps, batch=args.batch,
             out_dir=args.out)


if __name__ == '__main__':
  main()
