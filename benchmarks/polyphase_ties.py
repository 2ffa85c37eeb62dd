"""Exactness of APS / LPS models under circular shifts, ties included.

    python -m benchmarks.polyphase_ties [--seeds 4] [--batch 8]

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
"""

import argparse

import jax
import numpy as np

import groups
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


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--seeds', type=int, default=4)
  parser.add_argument('--batch', type=int, default=8)
  parser.add_argument('--noise', type=float, default=0.5)
  parser.add_argument('--models', default='0,1,2')
  args = parser.parse_args()
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
