"""Exactness of APS / LPS models under circular shifts, ties included.

    python -m benchmarks.polyphase_ties [--seeds 4] [--batch 8]
    python -m benchmarks.polyphase_ties --time    # what the tie rule costs

The check from outside the project that found LPS's tie defect (issue 27):
APS and LPS U-Nets (``models/unet.py``, default filter_size 3, widths
(8, 16, 32)) and ``antialiased_resnet`` with LPS and circular padding, eval
mode, on ``[B, 32, 32, 3]`` white noise; weights at init and at init plus
per-layer Gaussian noise (each parameter array gets noise of ``--noise``
times its standard deviation, or a tenth of ``--noise`` where that is 0, so biases and batch-norm
statistics move off their initial values); circular shifts (1, 0), (0, 1),
(1, 1), (5, -3), (2, 0), (3, 7). A pair (image, shift) fails when its
relative error ``||f(Tx) - T' f(x)|| / ||T' f(x)||`` exceeds 1e-5 (the
registry's exact bound). Prints, per model, the failing pairs out of all,
and the largest error.

``--time`` prints what the shift-consistent choice costs APS: ``aps_pool``
on ``[64, 32, 32, 16]`` (forward, and forward + gradient) against the same
pool choosing by ``jnp.argmax`` of the norms (the first index on ties, the
rule before), jitted, timed in alternating rounds (the minimum), compile times
once, with the machine's CPU, ISA and matmul peak.
"""

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks import common
import groups
from layers import pooling
import models

SHIFTS = ((1, 0), (0, 1), (1, 1), (5, -3), (2, 0), (3, 7))
MODELS = (
    ('unet aps', 'unet', dict(downsampling='aps', widths=(8, 16, 32),
                              out_channels=3), False),
    ('unet lps', 'unet', dict(downsampling='lps', widths=(8, 16, 32),
                              out_channels=3), False),
    ('antialiased_resnet lps (circular)', 'antialiased_resnet',
     dict(method='lps', padding='circular'), True),
)


def perturb(variables, seed: int, noise: float):
  """Each array plus N(0, (noise std)^2) noise (noise / 10 where std is 0)."""
  leaves, tree = jax.tree_util.tree_flatten(variables)
  rng = np.random.default_rng([seed, 7])
  out = []
  for leaf in leaves:
    leaf = np.asarray(leaf)
    scale = noise * float(leaf.std()) or noise / 10
    noisy = leaf + scale * rng.standard_normal(leaf.shape)
    if leaf.ndim == 1 and np.all(leaf > 0):  # e.g. a batch-norm variance
      noisy = np.abs(noisy) + 1e-3
    out.append(noisy.astype(leaf.dtype))
  return jax.tree_util.tree_unflatten(tree, out)


def _first_index_aps(x):
  """APS choosing by ``jnp.argmax`` of the l2 norms: the rule before ties
  were broken by content (the reference the timing compares with)."""
  components = pooling.polyphase_components(x, stride=2)  # [4, B, h, w, C]
  scores = jnp.sum(jnp.square(components), axis=(2, 3, 4))
  index = jnp.argmax(scores, axis=0)
  return components[index, jnp.arange(components.shape[1])]


def time_tie_rule() -> None:
  print(common.machine_summary())
  print(f'matmul peak: {common.matmul_gflops():.0f} GFLOP/s')
  x = jnp.asarray(np.random.default_rng(0).standard_normal((64, 32, 32, 16)),
                  jnp.float32)
  contenders = {
      'aps_pool (ties by content)': lambda x: pooling.aps_pool(x, stride=2),
      'first index (jnp.argmax)': _first_index_aps}
  calls, compiles = {}, {}
  for name, fn in contenders.items():
    for mode, f in (('forward', fn), ('forward + grad', jax.grad(
        lambda x, fn=fn: jnp.sum(fn(x) ** 2)))):
      jitted = jax.jit(f)
      start = time.perf_counter()
      jitted.lower(x).compile()
      compiles[(name, mode)] = time.perf_counter() - start
      calls[(name, mode)] = common.jax_call(jitted, x)
  samples = common.interleaved_samples(calls, rounds=5, repeats=10)
  print('| rule | pass | minimum ms | compile s |')
  print('|---|---|---:|---:|')
  for key, times in samples.items():
    seconds = min(times)
    print(f'| {key[0]} | {key[1]} | {seconds * 1e3:.2f} | '
          f'{compiles[key]:.2f} |')


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--seeds', type=int, default=4)
  parser.add_argument('--batch', type=int, default=8)
  parser.add_argument('--noise', type=float, default=0.5)
  parser.add_argument('--models', default='0,1,2')
  parser.add_argument('--time', action='store_true',
                      help='time the tie rule on APS instead')
  args = parser.parse_args()
  if args.time:
    time_tie_rule()
    return
  print('| model | failing pairs | largest error |')
  print('|---|---:|---:|')
  for index in map(int, args.models.split(',')):
    label, name, kwargs, invariant = MODELS[index]
    model = models.build_model(name, **kwargs)
    errors = []
    for seed in range(args.seeds):
      x = np.random.default_rng(seed).standard_normal(
          (args.batch, 32, 32, 3)).astype(np.float32)
      variables = model.init(jax.random.key(seed), x[:1])
      for weights in (variables, perturb(variables, seed, args.noise)):
        fn = jax.jit(lambda x, v=weights: model.apply(v, x, train=False))
        for shift in SHIFTS:
          errors.append(np.asarray(groups.equivariance_error(
              fn, x, groups.CircularShift(*shift),
              groups.Identity() if invariant else None)))
    errors = np.concatenate(errors)
    print(f'| {label} | {int((errors > 1e-5).sum())} / {errors.size} | '
          f'{errors.max():.2g} |', flush=True)


if __name__ == '__main__':
  main()
