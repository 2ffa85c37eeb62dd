r"""Steerable kernel bases: build time and the kernel space vs e2cnn.

    pip install -r benchmarks/requirements-bench.txt   # torch, e2cnn 0.2.3
    python -m benchmarks.steerable_basis               # prints, and writes
    # benchmarks/results/steerable_basis.md and .csv

Two parts:

* **Build time** of the kernel basis of a layer (cold: every cache cleared,
  one process), equivlab's ``layers.steerable.layer_basis`` vs e2cnn's
  ``R2Conv(...)`` instantiation (which builds its basis expansion), e.g. a
  C16 regular -> C16 regular 5x5 layer with 32 fields each.
* **The same kernel space**: for every pair of field types in
  :data:`PAIRS`, the dimension of equivlab's basis, of e2cnn's, the rank of
  each sampled basis, and the largest relative residual of an e2cnn basis
  kernel projected on equivlab's span (every e2cnn kernel lies in
  equivlab's space when it is ~1e-7). ``tests/steerable_e2cnn_test.py``
  asserts the same with :func:`compare_pair` where e2cnn is installed.

Without torch / e2cnn only equivlab's times are printed.
"""

from __future__ import annotations

import gc
import os
import platform
import time
from typing import Any

from absl import app
from absl import flags
import numpy as np

from benchmarks import common
import groups
from groups import representations as reps_lib
from layers.steerable import basis as basis_lib


_OUT = flags.DEFINE_string('results_dir', 'benchmarks/results',
                           'Folder for steerable_basis.md / .csv.')

# (group, input fields, output fields, kernel size); a field is 'regular',
# 'trivial', ('irrep', *id) or ('quotient', 'C'|'D', M).
PAIRS = (
    (('C', 4), ['regular'] * 2, ['regular'] * 2, 3),
    (('C', 4), ['trivial'], ['regular'] * 2, 5),
    (('C', 8), ['regular'], ['regular'], 5),
    (('C', 8), ['trivial', ('irrep', 1)], [('irrep', 2), ('irrep', 4)], 5),
    (('C', 8), [('quotient', 'C', 2)], ['regular'], 5),
    (('C', 16), ['regular'], ['regular', 'trivial'], 5),
    (('C', 16), [('irrep', 3)], [('irrep', 5), ('irrep', 8)], 7),
    (('D', 4), ['regular'], ['regular'], 3),
    (('D', 8), ['regular'], [('quotient', 'C', 8), ('irrep', 1, 2)], 5),
    (('D', 8), [('irrep', 1, 0), ('irrep', 0, 4)], ['regular'], 5),
    (('D', 5), ['regular'], ['regular'], 5),
    (('SO2', 4), ['trivial', ('irrep', 1)], [('irrep', 1), ('irrep', 2),
                                            ('irrep', 3)], 5),
    (('SO2', 3), [('irrep', 2)], ['trivial', ('irrep', 1)], 7),
    (('O2', 3), [('irrep', 1, 1), ('irrep', 1, 0)],
     [('irrep', 0, 0), ('irrep', 1, 2)], 5),
)

# (name, group, field, fields per side, kernel size)
TIMINGS = (
    ('C16 regular -> regular, 32 fields, 5x5', ('C', 16), 'regular', 32, 5),
    ('D8 regular -> regular, 16 fields, 5x5', ('D', 8), 'regular', 16, 5),
    ('C8 regular -> regular, 8 fields, 7x7', ('C', 8), 'regular', 8, 7),
)


def make_group(spec, axis: float | None = None
               ) -> reps_lib.RepresentationGroup:
  """The group of ``spec``; ``axis``: the reflection axis of D_N / O(2)."""
  family, n = spec
  group = {'C': groups.Cyclic, 'D': groups.Dihedral, 'SO2': groups.SO2,
           'O2': groups.O2}[family](n)
  return group if axis is None else groups.group_by_name(group, axis=axis)


def make_representation(group, field) -> reps_lib.Representation:
  if field == 'regular':
    return group.regular_representation
  if field == 'trivial':
    return group.trivial_representation
  if field[0] == 'irrep':
    return group.irrep(*field[1:])
  family = groups.Cyclic if field[1] == 'C' else groups.Dihedral
  return group.quotient_representation(family(field[2]))


def field_type(group, fields) -> groups.FieldType:
  return groups.FieldType(group, [make_representation(group, f)
                                  for f in fields])


# ------------------------------------------------------------------ e2cnn


def import_e2cnn():
  """``(torch, e2cnn)`` with the NumPy 2 shims
  (:func:`benchmarks.common.patch_e2cnn_for_numpy2`), or None."""
  try:
    import torch  # pylint: disable=g-import-not-at-top
    import e2cnn  # pylint: disable=g-import-not-at-top
  except ImportError:
    return None
  common.patch_e2cnn_for_numpy2(e2cnn)
  return torch, e2cnn


def e2cnn_gspace(e2cnn, spec, axis: float | None = None):
  """e2cnn's gspace of ``spec``; ``axis`` (D_N / O(2)): its ``axis=``, the
  same angle as equivlab's (docs/steerable.md, the reflection axis)."""
  family, n = spec
  gspaces = e2cnn.gspaces
  flip = {} if axis is None else {'axis': float(axis)}
  if family == 'C':
    return gspaces.Rot2dOnR2(n)
  if family == 'D':
    return gspaces.FlipRot2dOnR2(n, **flip)
  if family == 'SO2':
    return gspaces.Rot2dOnR2(-1, maximum_frequency=n)
  return gspaces.FlipRot2dOnR2(-1, maximum_frequency=n, **flip)


def e2cnn_representation(gspace, spec, field):
  if field == 'regular':
    return gspace.regular_repr
  if field == 'trivial':
    return gspace.trivial_repr
  if field[0] == 'irrep':
    return gspace.irrep(*field[1:])
  if spec[0] == 'C':
    return gspace.quotient_repr(field[2])
  return gspace.quotient_repr((None if field[1] == 'C' else 0, field[2]))


def e2cnn_conv(e2cnn, spec, fields_in, fields_out, kernel_size,
               axis: float | None = None):
  """e2cnn's ``R2Conv``; with an ``axis`` its basis is recomputed: e2cnn
  0.2.3 caches basis expansions process-wide under a key whose equality
  ignores the axis (``R2FlipsDiscreteRotationsSolution.__eq__``), so a
  layer would otherwise reuse the basis of a layer of another axis."""
  gspace = e2cnn_gspace(e2cnn, spec, axis)
  types = [e2cnn.nn.FieldType(gspace, [e2cnn_representation(gspace, spec, f)
                                       for f in fields])
           for fields in (fields_in, fields_out)]
  return e2cnn.nn.R2Conv(types[0], types[1], kernel_size, bias=False,
                         recompute=axis is not None)


def e2cnn_kernels(torch, conv) -> np.ndarray:
  """Every e2cnn basis kernel, ``[n, k, k, C_in, C_out]`` (our layout)."""
  n = conv.basisexpansion.dimension()
  kernels = []
  with torch.no_grad():
    for i in range(n):
      weights = torch.zeros(n)
      weights[i] = 1
      filt = conv.basisexpansion(weights).numpy()  # [C_out, C_in, k*k]
      k = conv.kernel_size
      kernels.append(filt.reshape(filt.shape[0], filt.shape[1], k, k)
                     .transpose(2, 3, 1, 0))
  return np.stack(kernels)


def _rank(matrix: np.ndarray) -> int:
  singular = np.linalg.svd(matrix, compute_uv=False)
  return int(np.sum(singular > 1e-5 * singular[0]))


def compare_pair(torch, e2cnn, spec, fields_in, fields_out, kernel_size,
                 axis: float | None = None, their_axis: float | None = None
                 ) -> dict[str, Any]:
  """Dimensions, ranks and the residual of e2cnn's kernels on our span.

  ``axis``: the reflection axis of both sides (D_N / O(2)); ``their_axis``
  gives e2cnn another one (a negative control).
  """
  group = make_group(spec, axis)
  ours = basis_lib.layer_basis(field_type(group, fields_in),
                               field_type(group, fields_out), kernel_size)
  dense = ours.dense().reshape(ours.size, -1).astype(np.float64)
  conv = e2cnn_conv(e2cnn, spec, fields_in, fields_out, kernel_size,
                    axis if their_axis is None else their_axis)
  theirs = e2cnn_kernels(torch, conv).reshape(
      conv.basisexpansion.dimension(), -1).astype(np.float64)
  coefficients = np.linalg.lstsq(dense.T, theirs.T, rcond=None)[0]
  residual = theirs - (dense.T @ coefficients).T
  relative = np.linalg.norm(residual, axis=1) / np.linalg.norm(theirs,
                                                                 axis=1)
  return dict(
      group=str(group), fields_in=_describe(fields_in),
      fields_out=_describe(fields_out), kernel=kernel_size,
      equivlab_dim=ours.size, e2cnn_dim=conv.basisexpansion.dimension(),
      equivlab_rank=_rank(dense), e2cnn_rank=_rank(theirs),
      joint_rank=_rank(np.concatenate([dense, theirs])),
      max_residual=float(relative.max()))


def _describe(fields) -> str:
  names = []
  for f in fields:
    if isinstance(f, str):
      names.append(f)
    elif f[0] == 'irrep':
      names.append('irrep' + str(tuple(f[1:])).replace(' ', ''))
    else:
      names.append(f'quotient/{f[1]}{f[2]}')
  return '+'.join(names)


# ----------------------------------------------------------------- timings


def _clear_caches() -> None:
  # pylint: disable=protected-access
  for fn in (basis_lib.solve, basis_lib.representation_basis,
             basis_lib.irreps_basis, basis_lib.angular_solutions,
             reps_lib._regular, reps_lib._quotient):
    fn.cache_clear()
  gc.collect()


def time_equivlab(spec, field, fields, kernel_size) -> float:
  """Seconds to build the layer's basis from cold caches."""
  _clear_caches()
  start = time.perf_counter()
  group = make_group(spec)
  in_type = field_type(group, [field] * fields)
  basis_lib.layer_basis(in_type, in_type, kernel_size)
  return time.perf_counter() - start


def time_e2cnn(e2cnn, spec, field, fields, kernel_size) -> float:
  start = time.perf_counter()
  e2cnn_conv(e2cnn, spec, [field] * fields, [field] * fields, kernel_size)
  return time.perf_counter() - start


def cpu_header() -> str:
  """CPU name, ISA extensions that matter for float32, machine summary."""
  flags_line = ''
  try:
    with open('/proc/cpuinfo') as f:
      for line in f:
        if line.startswith('flags'):
          flags_line = line
          break
  except OSError:
    pass
  isa = [name for name in ('sse4_2', 'avx', 'avx2', 'fma', 'avx512f',
                           'avx512_bf16', 'amx_tile')
         if f' {name}' in flags_line]
  return (f'{common.machine_summary()}; ISA {platform.machine()} '
          f'{"/".join(isa) or "unknown"}')


def main(argv):
  del argv
  header = cpu_header()
  print(header)
  peers = import_e2cnn()
  rows = []
  for name, spec, field, fields, k in TIMINGS:
    ours = time_equivlab(spec, field, fields, k)
    theirs = (time_e2cnn(peers[1], spec, field, fields, k) if peers
              else float('nan'))
    rows.append(dict(layer=name, equivlab_s=ours, e2cnn_s=theirs,
                     ratio=theirs / ours))
    print(f'{name}: equivlab {ours:.3f} s, e2cnn {theirs:.3f} s')
  lines = ['# Steerable kernel bases vs e2cnn', '',
           'Command: `python -m benchmarks.steerable_basis`', '',
           f'Machine: {header}', '', '## Build time (cold caches, seconds)',
           '', common.format_table(rows, ['layer', 'equivlab_s', 'e2cnn_s',
                                          'ratio'])]
  if peers:
    compared = []
    for spec, fields_in, fields_out, k in PAIRS:
      row = compare_pair(*peers, spec, fields_in, fields_out, k)
      compared.append(row)
      print(row)
    columns = ['group', 'fields_in', 'fields_out', 'kernel', 'equivlab_dim',
               'e2cnn_dim', 'equivlab_rank', 'e2cnn_rank', 'joint_rank',
               'max_residual']
    lines += ['', '## Kernel space vs e2cnn 0.2.3 R2Conv (default options)',
              '', 'max_residual: largest relative residual of an e2cnn basis '
              "kernel projected on equivlab's span.", '',
              common.format_table(compared, columns)]
    common.write_csv(os.path.join(_OUT.value, 'steerable_basis.csv'),
                     compared)
  os.makedirs(_OUT.value, exist_ok=True)
  with open(os.path.join(_OUT.value, 'steerable_basis.md'), 'w') as f:
    f.write('\n'.join(lines) + '\n')
  print('\n'.join(lines))


if __name__ == '__main__':
  app.run(main)
