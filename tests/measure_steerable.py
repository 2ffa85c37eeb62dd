"""Off-grid equivariance error of steerable convs vs the bilinear G-conv.

    python -m tests.measure_steerable [--seeds 8]

For each group and off-grid element (or angle, for SO(2) / O(2)), the
median over seeds of the largest per-example relative error of a two-layer
network (lift 5x5 -> ReLU -> 5x5, no bias) on smooth 19 x 19 inputs
(0.1 cycle/px, radial window 0.7), compared on the inscribed disk -- the
set-up of the registry cases ``c8_d8_gcnn/interpolated`` and
``steerable_c8_c16_d8/off_grid_elements``. Rows:

* ``bilinear C8 / D8``: today's ``lifting_conv2d`` -> ``group_conv2d``
  (filters turned by bilinear interpolation, 5x5 disk-supported);
* ``steerable C8 / C16 / D8``: trivial -> 4 regular fields -> 3 regular
  fields, e2cnn's default basis;
* ``steerable SO2 / O2``: trivial -> irreps 0..3 -> (ReLU on the scalars)
  -> irreps 0..3.
"""

import argparse
import math

import jax
import numpy as np

import groups
from groups import synthetic
from layers import group_conv
from layers import steerable

_SIZE = 19


def _weights(rng, in_type, out_type):
  basis = steerable.layer_basis(in_type, out_type, 5)
  return (rng.standard_normal(basis.size) * basis.he_std()).astype(np.float32)


def bilinear_net(rng, group, c_in):
  disk = groups.inscribed_disk(5, 5)[:, :, None, None]
  k1 = rng.standard_normal((5, 5, c_in, 4)).astype(np.float32) * disk
  k2 = (rng.standard_normal((5, 5, group.order, 4, 3)).astype(np.float32) *
        disk[..., None])

  def fn(x):
    y = jax.nn.relu(group_conv.lifting_conv2d(x, k1, group=group,
                                              padding='zeros'))
    return group_conv.group_conv2d(y, k2, group=group, padding='zeros')

  def actions(g):
    return group.grid_action(g), group.regular_action(g)
  return fn, actions


def steerable_net(rng, group, c_in):
  if group.is_finite:
    reps = [group.regular_representation]
    hidden_reps, out_reps = 4 * reps, 3 * reps
  else:
    reps = [group.irrep(*(i if isinstance(i, tuple) else (i,)))
            for i in group.irrep_ids()]
    reps = [r for r in reps if r.size == 2 or r.is_trivial]
    hidden_reps, out_reps = reps, reps
  t_in = groups.FieldType(group, c_in * [group.trivial_representation])
  t_hid = groups.FieldType(group, hidden_reps)
  t_out = groups.FieldType(group, out_reps)
  w1, w2 = _weights(rng, t_in, t_hid), _weights(rng, t_hid, t_out)
  scalar = np.zeros(t_hid.size, bool)
  scalar[t_hid.trivial_channels()] = True
  if group.is_finite:
    scalar[:] = True  # ReLU commutes with permutations of regular fields

  def fn(x):
    y = steerable.steerable_conv2d(x, w1, in_type=t_in, out_type=t_hid,
                                   kernel_size=5)
    y = jax.numpy.where(scalar, jax.nn.relu(y), y)
    return steerable.steerable_conv2d(y, w2, in_type=t_hid, out_type=t_out,
                                      kernel_size=5)

  def actions(g):
    return t_in.transform(g), t_out.transform(g)
  return fn, actions


def measure(make_net, group, elements, seeds: int) -> dict:
  mask = groups.inscribed_disk(_SIZE, _SIZE)
  errors = {g: [] for g in elements}
  for seed in range(seeds):
    rng = np.random.default_rng(seed)
    x = synthetic.smooth_images(rng, (2, _SIZE, _SIZE, 3), cutoff=0.1)
    fn, actions = make_net(rng, group, 3)
    fn = jax.jit(fn)
    for g in elements:
      before, after = actions(g)
      errors[g].append(float(np.max(groups.equivariance_error(
          fn, x, before, after, mask=mask))))
  return {g: float(np.median(e)) for g, e in errors.items()}


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--seeds', type=int, default=8)
  args = parser.parse_args()
  angles = (10, 20, 30, 45, 60, 80)
  rows = [
      ('bilinear C8', bilinear_net, groups.Cyclic(8), (1, 3)),
      ('bilinear D8', bilinear_net, groups.Dihedral(8), (1, 9)),
      ('steerable C8', steerable_net, groups.Cyclic(8), (1, 3)),
      ('steerable D8', steerable_net, groups.Dihedral(8), (1, 9)),
      ('steerable C16', steerable_net, groups.Cyclic(16), (1, 2, 3)),
      ('steerable SO2(3)', steerable_net, groups.SO2(3),
       tuple(math.radians(a) for a in angles)),
      ('steerable O2(3)', steerable_net, groups.O2(3),
       tuple((1, math.radians(a)) for a in angles)),
  ]
  print(f'median over {args.seeds} seeds of the largest relative error '
        '(inscribed disk, smooth 19x19 inputs)')
  print('| network | element: median error |')
  print('|---|---|')
  for name, make_net, group, elements in rows:
    medians = measure(make_net, group, elements, args.seeds)
    cells = []
    for g, value in medians.items():
      mirror, angle = group.pose(g)
      label = f'{"mirror+" if mirror else ""}{math.degrees(angle):.1f}°'
      cells.append(f'{label}: {value:.3f}')
    print(f'| {name} | {", ".join(cells)} |', flush=True)


if __name__ == '__main__':
  main()
