"""Sweep settings, the measured layers and the points of each sweep."""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import groups
from layers import group_conv
from layers import harmonic


DEFAULT_OUT = os.path.join('runs', 'benchmarks')

# Sweep name -> (column of the factor, axis label).
SWEEPS = {
    'size': ('size', 'image side S (pixels)'),
    'batch': ('batch', 'batch B'),
    'channels': ('channels', 'channels C (per group element / stream)'),
    'group_order': ('group_order', 'group order N (C_N)'),
    'streams': ('streams', 'harmonic streams M = max_order + 1'),
}
MIB = 2.0 ** 20


@dataclasses.dataclass(frozen=True)
class ScalingConfig:
  """What to sweep and how long to spend on each point.

  Attributes:
    sizes: image sides ``S`` of the size sweep.
    batches: batch sizes of the batch sweep.
    channels: channels per group element / harmonic stream.
    group_orders: ``N`` of the ``C_N`` sweep (1 = plain convolution).
    max_orders: harmonic max orders of the stream sweep (``M = m + 1``).
    base_size: ``S`` of every sweep that does not vary it.
    base_batch: ``B`` likewise.
    base_channels: ``C`` likewise.
    spatial_group_orders: the group convs ``C_N`` of the size / batch /
      channel sweeps (``C1``, the plain-conv baseline, and ``C4``).
    base_max_order: harmonic max order outside the stream sweep.
    kernel_size: side of the group-conv filters.
    harmonic_filter_size: odd side of the harmonic filters.
    n_rings: rings of the harmonic radial profile.
    max_gflop: points above this many GFLOPs per call are not timed.
    rounds: the points of a sweep are timed in this many alternating rounds.
    time_budget_s: timed calls per point are about this many seconds' worth.
    min_repeats: at least this many timed calls per point (over all rounds).
    max_repeats: at most this many.
    seed: of the random inputs, weights and cotangents.
  """
  sizes: tuple[int, ...] = (16, 32, 64, 128)
  batches: tuple[int, ...] = (8, 16, 32, 64, 128)
  channels: tuple[int, ...] = (8, 16, 32, 64, 128)
  group_orders: tuple[int, ...] = (1, 4, 8, 16)
  max_orders: tuple[int, ...] = (1, 2, 3, 4)
  base_size: int = 32
  base_batch: int = 8
  base_channels: int = 8
  spatial_group_orders: tuple[int, ...] = (1, 4)
  base_max_order: int = 1
  kernel_size: int = 3
  harmonic_filter_size: int = 5
  n_rings: int = 4
  max_gflop: float = 80.0
  rounds: int = 5
  time_budget_s: float = 1.0
  min_repeats: int = 5
  max_repeats: int = 30
  seed: int = 0


FULL = ScalingConfig()
QUICK = ScalingConfig(sizes=(16, 64), batches=(8, 32), channels=(8, 32),
                      group_orders=(1, 4, 16), max_orders=(1, 4),
                      base_size=16, max_gflop=5.0, rounds=2,
                      time_budget_s=0.1, min_repeats=2, max_repeats=10)


@dataclasses.dataclass(frozen=True)
class Point:
  """One measured configuration of one layer."""
  layer: str  # 'gconv' | 'lifting' | 'hconv'
  batch: int
  size: int
  channels: int
  group_order: int = 1  # N of C_N (gconv, lifting)
  max_order: int = 0    # hconv

  @property
  def streams(self) -> int:
    return self.max_order + 1

  def series(self, sweep: str) -> str:
    """The line of ``sweep`` the point lies on (plots, exponent table)."""
    if sweep == 'group_order':
      return f'{self.layer} C_N'
    if sweep == 'streams':
      return 'hconv'
    if self.layer == 'hconv':
      return f'hconv M={self.streams}'
    return f'{self.layer} C{self.group_order}'


# --------------------------------------------------------------------------
# The measured functions.
# --------------------------------------------------------------------------


def forward_backward(layer_fn: Callable[..., jax.Array]
                     ) -> Callable[..., Any]:
  """Jitted ``(*inputs, cotangent) -> (out, grads of every input)``.

  Args:
    layer_fn: ``(*inputs) -> out``; the VJP is taken w.r.t. every input.
  """
  def step(*args):
    *inputs, cotangent = args
    out, vjp = jax.vjp(layer_fn, *inputs)
    return out, vjp(cotangent)
  return jax.jit(step)


def _normal(rng: np.random.Generator, shape: tuple[int, ...], *,
            scale: float = 1.0, complex_: bool = False) -> jax.Array:
  # NumPy draws: eager jax.random would compile a sampler per new shape.
  x = scale * rng.standard_normal(shape, np.float32)
  if complex_:
    x = x + 1j * scale * rng.standard_normal(shape, np.float32)
    return jnp.asarray(x.astype(np.complex64))
  return jnp.asarray(x)


def build_problem(point: Point, config: ScalingConfig
                  ) -> tuple[Callable[..., Any], tuple[jax.Array, ...]]:
  """The jitted forward + backward of ``point`` and its random arguments.

  Returns:
    ``(fn, args)``: ``fn(*args)`` returns the output and the gradients w.r.t.
    the input and the weights; ``args`` ends with the cotangent.
  """
  rng = np.random.default_rng(config.seed)
  b, s, c = point.batch, point.size, point.channels
  if point.layer in ('gconv', 'lifting'):
    group = groups.Cyclic(point.group_order)
    n, k = point.group_order, config.kernel_size
    if point.layer == 'gconv':
      x = _normal(rng, (b, s, s, n, c))  # [B, S, S, N, C]
      kernel = _normal(rng, (k, k, n, c, c),
                       scale=1 / math.sqrt(k * k * n * c))
      conv = group_conv.group_conv2d
    else:
      x = _normal(rng, (b, s, s, c))  # [B, S, S, C]
      kernel = _normal(rng, (k, k, c, c), scale=1 / math.sqrt(k * k * c))
      conv = group_conv.lifting_conv2d
    cotangent = _normal(rng, (b, s, s, n, c))

    def layer(x, kernel):
      return conv(x, kernel, group=group)
    return forward_backward(layer), (x, kernel, cotangent)
  if point.layer == 'hconv':
    m = point.streams
    num_orders = harmonic.num_filter_orders(point.max_order, m)
    z = _normal(rng, (b, s, s, m, c), complex_=True)  # [B, S, S, M, C]
    radial = _normal(rng, (num_orders, config.n_rings, c, c),
                     scale=1 / math.sqrt(config.n_rings * c * m))
    phase = jnp.asarray(rng.uniform(0, 2 * np.pi, (num_orders, c, c))
                        .astype(np.float32))
    cotangent = _normal(rng, (b, s, s, m, c), complex_=True)

    def layer(z, radial, phase):
      return harmonic.harmonic_conv2d(
          z, radial, phase, filter_size=config.harmonic_filter_size,
          max_order=point.max_order)
    return forward_backward(layer), (z, radial, phase, cotangent)
  raise ValueError(f"point.layer must be 'gconv', 'lifting' or 'hconv'; got "
                   f'{point.layer!r}.')


# --------------------------------------------------------------------------
# Points and measurements.
# --------------------------------------------------------------------------


def sweep_points(config: ScalingConfig) -> dict[str, list[Point]]:
  """The points of each sweep; a point (the base) may be in several."""
  base = dict(batch=config.base_batch, size=config.base_size,
              channels=config.base_channels)
  spatial_layers = tuple(Point('gconv', **base, group_order=n)
                         for n in config.spatial_group_orders)
  spatial_layers += (Point('hconv', **base, max_order=config.base_max_order),)
  sweeps = {}
  for sweep, values in (('size', config.sizes), ('batch', config.batches),
                        ('channels', config.channels)):
    sweeps[sweep] = [dataclasses.replace(layer, **{sweep: value})
                     for layer in spatial_layers for value in values]
  sweeps['group_order'] = [Point(layer, **base, group_order=n)
                           for layer in ('gconv', 'lifting')
                           for n in config.group_orders]
  sweeps['streams'] = [Point('hconv', **base, max_order=order)
                       for order in config.max_orders]
  return {sweep: list(dict.fromkeys(points))
          for sweep, points in sweeps.items()}
