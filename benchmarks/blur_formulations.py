"""BlurPool formulations, forward + input gradient: which is fastest per shape.

    python -m benchmarks.blur_formulations            # the peers benchmark's shapes
    python -m benchmarks.blur_formulations --quick    # two shapes

``layers.blur_pool`` computes each 1-D blur-and-subsample pass as a
product with a small dense banded matrix (``method='matmul'``, with a
hand-written gradient), a sum of strided slices (``method='slices'``) or
the same sums read from each axis reshaped into ``stride`` phases
(``method='phases'``); ``method='auto'`` (the default) picks one per
(filter size, stride) by :func:`layers.blur.auto_blur_method`. The
performance issue asks for the fastest formulation per shape. This script
times those against the other formulations that compute the same function,
all on ``[B, H, W, C]`` inputs with reflect padding, forward + gradient to
the input for a random cotangent (what ``benchmarks.peers`` times):

* ``rows_slices_cols_matmul``: strided slices along H (contiguous W*C rows),
  the banded matrix along W; ``rows_matmul_cols_slices`` the other way
  (the library's ``method='matmul_slices'``);
* ``tiled{T}``: the banded matrix cut into blocks of T outputs: each block of
  ``stride*T + k - stride`` input rows (a halo from the next block) is
  multiplied by one [T, stride*T + k - stride] matrix, so an output costs
  ``stride*T + k - stride`` products instead of H;
* ``depthwise``: ``lax.conv_general_dilated`` with ``feature_group_count=C``
  and the 2-D binomial filter (what antialiased-cnns runs in torch).

Every candidate's output and input gradient are checked against
``method='slices'`` (max |diff| column) before it is timed; times are
medians of alternating rounds (:func:`benchmarks.common.interleaved_medians`).
The header names the CPU, its vector ISA and the measured matmul peak.
Writes ``benchmarks/results/blur_formulations.md`` and ``.csv``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
import functools
import os

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks import common
from experiments import runtime
from layers import blur as blur_lib
from layers import padding as padding_lib
from layers import pooling

# [B, H, W, C], filter size, stride: the blur rows of benchmarks.peers.
SHAPES = ((64, 56, 56, 64, 4, 2), (64, 56, 56, 64, 3, 2),
          (64, 56, 56, 64, 5, 2), (64, 56, 56, 64, 3, 3),
          (32, 28, 28, 128, 3, 2), (16, 112, 112, 32, 3, 2),
          (128, 14, 14, 256, 4, 2), (64, 56, 56, 64, 2, 2),
          (64, 56, 56, 64, 7, 2),
          # around auto's wide-map threshold (W >= 32 pixels per tap)
          (16, 112, 112, 32, 4, 2), (16, 112, 112, 32, 5, 2),
          (32, 84, 84, 32, 3, 2), (8, 224, 224, 16, 3, 2))
QUICK_SHAPES = (SHAPES[0], SHAPES[5])
Blur = Callable[[jax.Array, int, int], jax.Array]


def _reflect(x: jax.Array, axis: int, pads: tuple[int, int]) -> jax.Array:
  widths = [(0, 0)] * x.ndim
  widths[axis] = pads
  return jnp.pad(x, widths, mode='reflect')


def phase(x: jax.Array, k: int, s: int) -> jax.Array:
  return pooling.blur_pool(x, stride=s, filter_size=k, method='phases')


def _columns_matmul(y: jax.Array, k: int, s: int) -> jax.Array:
  b, h, w, c = y.shape
  cols = pooling.blur_matrix(w, filter_size=k, stride=s, padding='reflect')
  out = jax.lax.dot_general(
      jnp.broadcast_to(jnp.asarray(cols), (b * h,) + cols.shape),
      y.reshape(b * h, w, c), (((2,), (1,)), ((0,), (0,))))
  return out.reshape(b, h, cols.shape[0], c)


def rows_slices_cols_matmul(x: jax.Array, k: int, s: int) -> jax.Array:
  taps = pooling.binomial_filter(k).astype(np.float32)
  out_h = (x.shape[1] - 1) // s + 1
  rows = blur_lib._blur_axis(  # pylint: disable=protected-access
      _reflect(x, 1, padding_lib.same_pads(k)), taps, 1, s, out_h)
  return _columns_matmul(rows, k, s)


def rows_matmul_cols_slices(x: jax.Array, k: int, s: int) -> jax.Array:
  return pooling.blur_pool(x, stride=s, filter_size=k,
                           method='matmul_slices')


def _tiled_axis(x: jax.Array, k: int, s: int, axis: int, tile: int
                ) -> jax.Array:
  taps = pooling.binomial_filter(k).astype(np.float32)
  out = (x.shape[axis] - 1) // s + 1
  blocks = -(-out // tile)
  halo = max(k - s, 0)
  step = s * tile
  x = blur_lib._fit_axis(  # pylint: disable=protected-access
      _reflect(x, axis, padding_lib.same_pads(k)), axis, blocks * step + halo)
  main = jax.lax.slice_in_dim(x, 0, blocks * step, axis=axis)
  parts = [main.reshape(x.shape[:axis] + (blocks, step) +
                        x.shape[axis + 1:])]
  if halo:
    parts.append(jnp.stack(
        [jax.lax.slice_in_dim(x, step + j, step + j + (blocks - 1) * step + 1,
                              step, axis=axis) for j in range(halo)],
        axis=axis + 1))
  tiles = jnp.concatenate(parts, axis=axis + 1)  # [..., blocks, step+halo, ...]
  band = np.zeros((tile, step + halo), np.float32)
  for t in range(tile):
    band[t, s * t:s * t + k] = taps
  y = jnp.moveaxis(jnp.tensordot(jnp.asarray(band), tiles,
                                 axes=[[1], [axis + 1]]), 0, axis + 1)
  y = y.reshape(x.shape[:axis] + (blocks * tile,) + x.shape[axis + 1:])
  return jax.lax.slice_in_dim(y, 0, out, axis=axis)


def tiled(x: jax.Array, k: int, s: int, tile: int) -> jax.Array:
  return _tiled_axis(_tiled_axis(x, k, s, 1, tile), k, s, 2, tile)


def depthwise(x: jax.Array, k: int, s: int) -> jax.Array:
  taps = pooling.binomial_filter(k).astype(np.float32)
  c = x.shape[-1]
  pads = padding_lib.same_pads(k)
  x = _reflect(_reflect(x, 1, pads), 2, pads)
  kernel = np.outer(taps, taps)[:, :, None, None] * np.ones((1, 1, 1, c),
                                                             np.float32)
  return jax.lax.conv_general_dilated(
      x, jnp.asarray(kernel), (s, s), 'VALID',
      dimension_numbers=('NHWC', 'HWIO', 'NHWC'), feature_group_count=c)


def candidates() -> dict[str, Blur]:
  """Every formulation, ``name -> fn(x [B, H, W, C], filter_size, stride)``."""
  def auto(x, k, s):
    return pooling.blur_pool(x, stride=s, filter_size=k)

  def matmul(x, k, s):
    return pooling.blur_pool(x, stride=s, filter_size=k, method='matmul')
  return {'auto (default)': auto, 'matmul': matmul, 'slices': _slices,
          'phases': phase, 'rows_slices_cols_matmul': rows_slices_cols_matmul,
          'rows_matmul_cols_slices': rows_matmul_cols_slices,
          'tiled4': functools.partial(tiled, tile=4),
          'tiled8': functools.partial(tiled, tile=8),
          'tiled16': functools.partial(tiled, tile=16),
          'depthwise': depthwise}


def forward_and_gradient(fn: Blur, k: int, s: int):
  """Jitted ``(x, dy) -> (fn(x), d<fn(x), dy>/dx)``."""
  def step(x, dy):
    y, vjp = jax.vjp(lambda v: fn(v, k, s), x)
    return y, vjp(dy)[0]
  return jax.jit(step)


def _slices(x: jax.Array, k: int, s: int) -> jax.Array:
  return pooling.blur_pool(x, stride=s, filter_size=k, method='slices')


def run(shapes, *, rounds: int = 3, repeats: int = 3,
        formulations: dict[str, Blur] | None = None) -> list[dict]:
  """One row per (shape, formulation; default :func:`candidates`): median
  ms, ratio to ``auto``, and max |diff| of output and input gradient
  against ``blur_pool(method='slices')``."""
  rng = np.random.default_rng(0)
  formulations = candidates() if formulations is None else formulations
  rows = []
  for b, h, w, c, k, s in shapes:
    x = jnp.asarray(rng.standard_normal((b, h, w, c), np.float32))
    out_shape = pooling.blur_pool(x, stride=s, filter_size=k).shape
    dy = jnp.asarray(rng.standard_normal(out_shape, np.float32))
    reference = forward_and_gradient(_slices, k, s)(x, dy)
    steps, diffs = {}, {}
    for name, fn in formulations.items():
      steps[name] = forward_and_gradient(fn, k, s)
      y, dx = steps[name](x, dy)
      diffs[name] = max(float(jnp.max(jnp.abs(y - reference[0]))),
                        float(jnp.max(jnp.abs(dx - reference[1]))))
    times = common.interleaved_medians(
        {n: common.jax_call(f, x, dy) for n, f in steps.items()},
        rounds=rounds, repeats=repeats, warmup=1)
    base = times.get('auto (default)', float('nan'))
    for name in steps:
      rows.append({'shape': f'[{b},{h},{w},{c}] k={k} s={s}',
                   'formulation': name, 'ms': 1e3 * times[name],
                   'vs_default': times[name] / base,
                   'max_abs_diff': diffs[name]})
  return rows


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--quick', action='store_true', help='two shapes')
  parser.add_argument('--out', default=os.path.join('benchmarks', 'results'))
  args = parser.parse_args()
  header = (f'{common.machine_summary()}; matmul peak '
            f'{common.matmul_gflops():.0f} GFLOP/s; load average '
            f'{common.load_average()}')
  print(header, flush=True)
  rows = run(QUICK_SHAPES if args.quick else SHAPES)
  columns = ('shape', 'formulation', 'ms', 'vs_default', 'max_abs_diff')
  table = common.format_table(rows, columns)
  print(table)
  common.write_csv(os.path.join(args.out, 'blur_formulations.csv'), rows)
  with open(os.path.join(args.out, 'blur_formulations.md'), 'w') as f:
    f.write(f'# BlurPool formulations, forward + input gradient\n\n{header}\n\n'
            f'`python -m benchmarks.blur_formulations'
            f'{" --quick" if args.quick else ""}`\n\n{table}\n')


if __name__ == '__main__':
  runtime.use_huge_pages()  # what main.py runs with; may re-execute
  main()
