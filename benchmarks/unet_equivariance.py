"""Shift-equivariance error of the U-Net (models/unet.py) per downsampling.

    python -m benchmarks.unet_equivariance [--seeds 10]

For each ``downsampling`` ('strided', 'blur', 'aps', 'lps') and each seed
(the U-Net's initial weights, eval mode, widths (8, 16, 32), 3 -> 3
channels; inputs 8 x 32 x 32 x 3 white noise from the same seed), the
relative error ``||f(T x) - T f(x)|| / ||T f(x)||`` per example for the
circular shifts T = (1, 0), (0, 1), (1, 1) and (5, -3) pixels. Prints the
mean over examples, shifts and seeds, and the largest single error, as a
markdown table (docs/shift_invariance.md).
"""

import argparse

import jax
import numpy as np

import groups
import models

DOWNSAMPLINGS = ('strided', 'blur', 'aps', 'lps')
SHIFTS = ((1, 0), (0, 1), (1, 1), (5, -3))


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--seeds', type=int, default=10)
  args = parser.parse_args()
  print('| downsampling | mean relative error | largest | '
        'filter_size |')
  print('|---|---:|---:|---:|')
  for downsampling in DOWNSAMPLINGS:
    model = models.build_model('unet', downsampling=downsampling,
                               widths=(8, 16, 32), out_channels=3)
    errors = []
    for seed in range(args.seeds):
      x = np.random.default_rng(seed).standard_normal(
          (8, 32, 32, 3)).astype(np.float32)
      variables = model.init(jax.random.key(seed), x[:1])
      fn = jax.jit(lambda x, v=variables: model.apply(v, x))
      for shift in SHIFTS:
        errors.append(np.asarray(groups.equivariance_error(
            fn, x, groups.CircularShift(*shift))))
    errors = np.concatenate(errors)
    print(f'| {downsampling} | {errors.mean():.2e} | {errors.max():.2e} | '
          f'{model.filter_size} |', flush=True)


if __name__ == '__main__':
  main()
