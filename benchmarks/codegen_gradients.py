"""Jitted vs op-by-op training gradients of every classifier, per XLA:CPU codegen.

    python -m benchmarks.codegen_gradients [--models p4cnn,cnn] [--batch 2]
        [--out benchmarks/results]

A check, not a timing: for each registered classifier
(:func:`benchmarks.compile_time.default_models`) and each code generation
(XLA's fusion emitters, ``xla_default``; the older loop emitters,
``fast_compile``: :func:`experiments.runtime.use_fast_compile`), in a fresh
process, the gradient of the training loss (cross-entropy, batch statistics
mutable, 'rbg' init, random images of the model's usual input) computed by
``jax.jit(jax.grad(loss))`` and op by op (``jax.grad(loss)`` without jit:
each primitive compiled on its own, no fusion). Reported: the largest
relative difference ``max|g_jit - g_eager| / max|g_eager|`` over the leaves
whose gradient exceeds 1e-4 (conv biases right before a batch norm have
gradients ~1e-8 of pure rounding) and that leaf. Rounding gives ~1e-6
(ill-conditioned float32 gradients, the scale models', up to ~1e-2); a
derivative that compares recomputed floats gives O(1): ``jnp.max``'s did,
1.3-2.5 for P4CNN / P4MCNN until ``layers/max_reduce.py`` replaced it
(docs/performance.md, "fourth pass"). Writes ``codegen_gradients.csv`` and
``.md`` to ``--out``.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence
from typing import Any

SETTINGS = ('xla_default', 'fast_compile')
DEFAULT_OUT = os.path.join('benchmarks', 'results')
# Leaves with smaller gradients are rounding noise (module doc).
MIN_GRADIENT = 1e-4


def gradient_disagreement(name: str, *, batch: int = 2) -> tuple[float, str]:
  """In this process: ``(largest relative difference, its leaf)`` between
  ``name``'s jitted and op-by-op training gradients (module doc)."""
  import jax  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  import optax  # pylint: disable=g-import-not-at-top

  from benchmarks import compile_time  # pylint: disable=g-import-not-at-top

  model, x, y, variables = compile_time.random_setup(name, batch)
  rest = {k: v for k, v in variables.items() if k != 'params'}

  def loss(params):
    logits, _ = model.apply({'params': params, **rest}, x, train=True,
                            mutable=list(rest),
                            rngs={'dropout': jax.random.key(2)})
    return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

  jitted = jax.jit(jax.grad(loss))(variables['params'])
  eager = jax.grad(loss)(variables['params'])
  worst = (0.0, '')
  for (path, a), b in zip(jax.tree_util.tree_leaves_with_path(jitted),
                          jax.tree.leaves(eager)):
    scale = float(jnp.abs(b).max())
    if scale > MIN_GRADIENT:
      worst = max(worst, (float(jnp.abs(a - b).max()) / scale,
                          jax.tree_util.keystr(path)))
  return worst


def measure_in_process(name: str, setting: str, *, batch: int
                       ) -> tuple[float, str]:
  """:func:`gradient_disagreement` in a fresh process with ``setting``."""
  from benchmarks import common  # pylint: disable=g-import-not-at-top
  if setting not in SETTINGS:
    raise ValueError(f'setting must be one of {SETTINGS}; got {setting!r}.')
  error, leaf = common.json_in_fresh_process(
      'benchmarks.codegen_gradients', 'gradient_disagreement', name,
      batch=batch, fast_compile=setting == 'fast_compile')
  return error, leaf


def run(names: Sequence[str], *, batch: int = 2,
        out_dir: str | None = DEFAULT_OUT) -> list[dict[str, Any]]:
  """Every model under both settings; returns the table's rows."""
  from benchmarks import common  # pylint: disable=g-import-not-at-top
  import models  # pylint: disable=g-import-not-at-top
  for name in names:
    if name not in models.MODELS:
      raise ValueError(f'models must be registered names; got {name!r}.')
  if not isinstance(batch, int) or batch < 1:
    raise ValueError(f'batch must be an integer >= 1; got {batch!r}.')
  started = time.time()
  rows = []
  for name in names:
    row: dict[str, Any] = {'model': name}
    for setting in SETTINGS:
      error, leaf = measure_in_process(name, setting, batch=batch)
      row[f'{setting}_error'], row[f'{setting}_leaf'] = error, leaf
      print(f'{name} {setting}: {error:.3g} ({leaf})', flush=True)
    rows.append(row)
  if out_dir:
    common.write_csv(os.path.join(out_dir, 'codegen_gradients.csv'), rows)
    with open(os.path.join(out_dir, 'codegen_gradients.md'), 'w') as f:
      f.write(
          '# Jitted vs op-by-op training gradients per XLA:CPU code '
          'generation\n\n'
          f'Command: `python -m benchmarks.codegen_gradients --models='
          f'{",".join(names)} --batch={batch}`\n\n'
          f'Date {time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}; '
          f'{common.machine_summary()}; wall time '
          f'{time.time() - started:.0f} s.\n\n'
          'Largest relative difference max|g_jit - g_eager| / max|g_eager| '
          f'over the leaves with max|g| > {MIN_GRADIENT} (module doc of '
          'benchmarks/codegen_gradients.py): ~1e-6 is rounding, O(1) a '
          'fault.\n\n' + common.format_table(rows, list(rows[0])) +
          '\n')
  return rows


def main(argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
  from benchmarks import compile_time  # pylint: disable=g-import-not-at-top
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--models', default=','.join(
      compile_time.default_models()))
  parser.add_argument('--batch', type=int, default=2)
  parser.add_argument('--out', default=DEFAULT_OUT)
  args = parser.parse_args(argv)
  names = [n.strip() for n in args.models.split(',') if n.strip()]
  return run(names, batch=args.batch, out_dir=args.out)


if __name__ == '__main__':
  main()
