"""Inference time of a steerable model, its whole-model export, a plain CNN.

    python -m benchmarks.steerable_export   # prints, and writes
    # benchmarks/results/steerable_export.md

For each of :data:`MODELS` (registered presets, 28x28x1 inputs, batch 64,
eval mode, ``jax.jit``): the steerable model as trained
(``model.apply(variables, x, train=False)``: the kernel expanded from its
basis coefficients in every call, the batch norms applied), the export of
:func:`layers.steerable.model_export.export_model` (plain kernels, norms
folded), and a plain CNN of the same widths (the same 5x5 convs with the
exported kernels' channel counts, ELU, the same blur + 2x2 average pools
after blocks 2 and 4, a global average pool and the same dense head). Each
figure is the minimum over alternating rounds (:func:`benchmarks.common.
interleaved_samples`: other jobs only add time), after a check that the
export's logits equal the model's.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks import common
import layers
import models
from layers.steerable import model_export

#: Presets timed: a regular-field C8 model, SO(2) with gated
#: nonlinearities, and D16 (reflections) regular fields.
MODELS = ('c8cnn', 'so2cnn', 'd16cnn')


def plain_cnn(params: dict, x: jax.Array) -> jax.Array:
  """The plain CNN of the exported widths: ``[B, H, W, C]`` -> logits.

  ``params``: ``conv{i}`` ``{'kernel': [5, 5, C_in, C_out], 'bias'}`` for
  i = 1..6, ``dense1`` and ``logits`` ``{'kernel', 'bias'}``.
  """
  for index in range(1, 7):
    conv = params[f'conv{index}']
    x = jax.nn.elu(layers.conv2d(x, conv['kernel'], padding='zeros') +
                   conv['bias'])
    if index in (2, 4):
      x = layers.blur_pool(x, stride=1, filter_size=3, padding='zeros')
      x = layers.avg_pool(x, window=2)
  x = jnp.mean(x, axis=(1, 2))   # [B, C]
  x = jax.nn.elu(x @ params['dense1']['kernel'] + params['dense1']['bias'])
  return x @ params['logits']['kernel'] + params['logits']['bias']


def _plain_params(plain: dict, seed: int) -> dict:
  """Random plain parameters with the exported convs' channel counts."""
  rng = np.random.default_rng(seed)
  params, channels = {}, 1
  for index in range(1, 7):
    c_out = plain['params'][f'conv{index}']['kernel'].shape[-1]
    fan_in = 25 * channels
    params[f'conv{index}'] = {
        'kernel': jnp.asarray(rng.standard_normal((5, 5, channels, c_out)) *
                              np.sqrt(2 / fan_in), jnp.float32),
        'bias': jnp.zeros((c_out,), jnp.float32)}
    channels = c_out
  for name, (n_in, n_out) in (('dense1', (channels, 64)),
                              ('logits', (64, 10))):
    params[name] = {'kernel': jnp.asarray(rng.standard_normal((n_in, n_out)) /
                                          np.sqrt(n_in), jnp.float32),
                    'bias': jnp.zeros((n_out,), jnp.float32)}
  return params


def time_model(name: str, *, batch: int, rounds: int, repeats: int) -> dict:
  """One row: milliseconds (min of alternating rounds) of the three."""
  model = models.build_model(name)
  x = jnp.asarray(np.random.default_rng(0).standard_normal(
      (batch, 28, 28, 1)), jnp.float32)
  variables = model.init(jax.random.PRNGKey(0), x[:2], train=False)
  exported, plain = model_export.export_model(model, variables, x[:2],
                                              train=False)
  steerable_fn = jax.jit(lambda v, x: model.apply(v, x, train=False))
  exported_fn = jax.jit(lambda v, x: exported.apply(v, x, train=False))
  plain_fn = jax.jit(plain_cnn)
  plain_params = _plain_params(plain, 1)
  expected = steerable_fn(variables, x)
  error = float(jnp.max(jnp.abs(exported_fn(plain, x) - expected)) /
                jnp.max(jnp.abs(expected)))
  samples = common.interleaved_samples({
      'steerable': common.jax_call(steerable_fn, variables, x),
      'exported': common.jax_call(exported_fn, plain, x),
      'plain': common.jax_call(plain_fn, plain_params, x),
  }, rounds=rounds, repeats=repeats)
  ms = {key: 1e3 * min(times) for key, times in samples.items()}
  widths = [plain['params'][f'conv{i}']['kernel'].shape[-1]
            for i in range(1, 7)]
  return dict(model=name, conv_channels='-'.join(map(str, widths)),
              steerable_ms=round(ms['steerable'], 2),
              exported_ms=round(ms['exported'], 2),
              plain_cnn_ms=round(ms['plain'], 2),
              speedup=round(ms['steerable'] / ms['exported'], 2),
              export_vs_plain=round(ms['exported'] / ms['plain'], 2),
              max_rel_error=f'{error:.1e}')


def _noise_note(load: str) -> str:
  """A warning when other jobs shared the cores during the run."""
  try:
    busy = float(load) > (os.cpu_count() or 1)
  except ValueError:
    busy = False
  return ('\nNote: the machine was shared (load average above its '
          f'{os.cpu_count()} cores): the times are noisy, each a minimum of '
          'few calls; their ratios are steadier than the times.\n'
          if busy else '')


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--out', default='benchmarks/results')
  parser.add_argument('--batch', type=int, default=64)
  parser.add_argument('--rounds', type=int, default=3)
  parser.add_argument('--repeats', type=int, default=5)
  parser.add_argument('--models', default=','.join(MODELS))
  args = parser.parse_args()
  header = (f'{common.machine_summary()}\n'
            f'matmul peak {common.matmul_gflops():.0f} GFLOP/s; load average '
            f'{common.load_average()} at the start')
  print(header, flush=True)
  start = time.perf_counter()
  rows = []
  for name in args.models.split(','):
    rows.append(time_model(name, batch=args.batch, rounds=args.rounds,
                           repeats=args.repeats))
    print(rows[-1], flush=True)
  load = common.load_average()
  command = 'python -m benchmarks.steerable_export ' + ' '.join(sys.argv[1:])
  text = (
      '# Whole-model export: inference time\n\n'
      f'{header}; {load} at the end\n\n'
      f'`{command.strip()}` ({time.perf_counter() - start:.0f} s)\n\n'
      f'## Eval-mode forward pass, batch {args.batch}, 28x28x1, jit (min ms '
      f'of {args.rounds} alternating rounds x {args.repeats} calls)\n\n' +
      common.format_table(rows, list(rows[0])) +
      '\n\nsteerable: the model as trained (kernels expanded from the basis '
      'in every call, batch norms applied); exported: export_model\'s plain '
      'kernels with the norms folded in; plain CNN: the same conv widths, '
      'pools and head with ordinary layers. max_rel_error: max |exported - '
      'steerable| / max |steerable| of the logits.\n' + _noise_note(load))
  os.makedirs(args.out, exist_ok=True)
  with open(os.path.join(args.out, 'steerable_export.md'), 'w') as f:
    f.write(text)
  print(text)


if __name__ == '__main__':
  from experiments import runtime  # pylint: disable=g-import-not-at-top
  runtime.use_huge_pages()  # what main.py and the other benchmarks run with
  main()
