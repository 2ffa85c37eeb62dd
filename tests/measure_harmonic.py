"""Rotation-equivariance error of one harmonic conv vs one ordinary conv.

    python -m tests.measure_harmonic [--batch 8] [--size 33] [--cutoff 0.1]

The check of the approximate tier in tests/cases/harmonic.py
('hconv/rotation' and its negative control 'conv_generic/rotation'), swept
over the angle and the filter size instead of drawn: smooth inputs (white
noise low-passed to ``cutoff`` cycles/pixel, times a radial bump:
:func:`groups.synthetic.low_pass`, :func:`groups.synthetic.radial_window`),
rotated by :class:`groups.BilinearRotation`; the harmonic conv's streams are
compared with :class:`groups.harmonic.BilinearHarmonicRotation` of its
output, the ordinary conv's maps with the bilinear rotation of its output,
both on the inscribed disk. Each cell is the batch-mean relative error;
random weights with seed 0 (ring weights and phases for the harmonic conv, a
He-scaled kernel with 8 output channels for the ordinary one).
"""

import argparse

import jax
import numpy as np

import groups
import layers
from experiments import reporting
from groups import harmonic as harmonic_groups
from groups import synthetic
from groups import testing
from tests.cases import harmonic as harmonic_cases

ANGLES = (10.0, 20.0, 30.0, 45.0, 60.0, 80.0)
# (filter_size, max_order) of the harmonic conv rows.
HARMONIC_ROWS = ((3, 1), (5, 1), (7, 1), (9, 1), (3, 2), (5, 2), (7, 2))


def smooth_inputs(*, batch: int, size: int, cutoff: float,
                  seed: int = 0) -> np.ndarray:
  """``[batch, size, size, 1]`` smooth inputs that vanish near the border."""
  x = np.random.default_rng(seed).standard_normal(
      (batch, size, size, 1)).astype(np.float32)
  return synthetic.radial_window(synthetic.low_pass(x, cutoff=cutoff))


def rotation_errors(fn, x: np.ndarray, output_rotation, *,
                    angles=ANGLES) -> list[float]:
  """Batch-mean error of ``fn`` for each angle (degrees)."""
  mask = groups.inscribed_disk(x.shape[1], x.shape[2])
  return [float(np.mean(groups.equivariance_error(
      fn, x, groups.BilinearRotation(a), output_rotation(a), mask=mask)))
          for a in angles]


def measure(*, batch: int = 8, size: int = 33, cutoff: float = 0.1,
            seed: int = 0) -> dict[str, list[float]]:
  """Row name -> errors at :data:`ANGLES`; rows 'hconv k=K m<=M', 'conv k=K'."""
  x = smooth_inputs(batch=batch, size=size, cutoff=cutoff, seed=seed)
  rng = np.random.default_rng(seed + 1)
  rows = {}
  for filter_size, max_order in HARMONIC_ROWS:
    fn = jax.jit(harmonic_cases.random_hconv(
        rng, c_in=1, c_out=8, filter_size=filter_size, max_order=max_order))
    orders = harmonic_cases.harmonic_orders(max_order + 1)
    rows[f'hconv k={filter_size} m<={max_order}'] = rotation_errors(
        fn, x, lambda a, orders=orders:
        harmonic_groups.BilinearHarmonicRotation(a, orders))
  for filter_size in sorted({k for k, _ in HARMONIC_ROWS}):
    kernel = testing.random_kernel(rng, filter_size, filter_size, 1, 8)
    fn = jax.jit(lambda v, kernel=kernel: layers.conv2d(v, kernel,
                                                        padding='zeros'))
    rows[f'conv k={filter_size}'] = rotation_errors(fn, x,
                                                    groups.BilinearRotation)
  return rows


def markdown(rows: dict[str, list[float]]) -> str:
  """The error table plus the conv / hconv ratio per filter size (order 1)."""
  angles = {i: f'{a:g} deg' for i, a in enumerate(ANGLES)}
  errors = reporting.markdown_table(
      [{'layer': name, **dict(enumerate(values))}
       for name, values in rows.items()], {'layer': 'layer', **angles},
      formats=dict.fromkeys(angles, lambda e: f'{e:.4f}'))
  ratios = []
  for name, values in rows.items():
    if name.startswith('conv'):
      k = name.split('=')[1]
      ratio = np.asarray(values) / np.asarray(rows[f'hconv k={k} m<=1'])
      ratios.append({'layer': f'k={k}', **dict(enumerate(ratio))})
  return errors + '\n\n' + reporting.markdown_table(
      ratios, {'layer': 'ratio conv / hconv (m<=1)', **angles},
      formats=dict.fromkeys(angles, lambda r: f'{r:.0f}x'))


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--batch', type=int, default=8)
  parser.add_argument('--size', type=int, default=33)
  parser.add_argument('--cutoff', type=float, default=0.1)
  parser.add_argument('--seed', type=int, default=0)
  args = parser.parse_args()
  print(markdown(measure(batch=args.batch, size=args.size, cutoff=args.cutoff,
                         seed=args.seed)))


if __name__ == '__main__':
  main()
