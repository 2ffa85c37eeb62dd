"""Sweep settings, the conv layers, the registry of sweeps and their points."""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

import groups
from layers import group_conv
from layers import harmonic


DEFAULT_OUT = os.path.join('runs', 'benchmarks')


class Sweep(NamedTuple):
  """How one sweep is tabulated and drawn.

  Attributes:
    column: the row column of the swept factor (the x axis, the fits).
    label: the x-axis label.
    top: the row column of the upper panel: ``'time_ms'`` (time per call)
      or ``'images_per_s'`` (``batch / time``); memory is drawn below.
  """
  column: str
  label: str
  top: str = 'time_ms'


#: Sweep name -> :class:`Sweep`, in the order of the report: every
#: registered family's (:func:`register`; the conv sweeps' at the end of
#: this module).
SWEEPS: dict[str, Sweep] = {}
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
    steerable_orders: ``N`` of the steerable ``C_N`` sweep
      (:mod:`~benchmarks.scaling.steerable_sweep`).
    steerable_fields: regular fields ``F`` of the steerable field sweep.
    steerable_base_order: ``N`` of the field sweep.
    steerable_base_fields: ``F`` of the ``C_N`` sweep.
    steerable_kernel_size: side of the steerable filters.
    train_models: registered models of the training-step sweep
      (:mod:`~benchmarks.scaling.train_sweep`).
    train_batches: its batch sizes.
    train_image_shape: ``(H, W, C)`` of its images (``H = W``).
    train_num_classes: classes of its labels and logits.
    train_model_options: ``{model: {option: value}}``, the model's config
      options besides its name (tests shrink the models this way).
    train_max_gflop: training steps above this many GFLOPs are not timed.
    sweeps: the sweeps to run, by name (empty: every registered one).
    peak_matmul_size: side of the jitted float32 matmul whose rate is
      reported as the machine's peak (0: not measured).
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
  steerable_orders: tuple[int, ...] = (4, 8, 16)
  steerable_fields: tuple[int, ...] = (2, 4, 8, 16)
  steerable_base_order: int = 8
  steerable_base_fields: int = 8
  steerable_kernel_size: int = 5
  train_models: tuple[str, ...] = ('p4cnn', 'hnet', 'c16cnn')
  train_batches: tuple[int, ...] = (16, 32, 64, 128)
  train_image_shape: tuple[int, int, int] = (28, 28, 1)
  train_num_classes: int = 10
  train_model_options: Mapping[str, Mapping[str, Any]] = dataclasses.field(
      default_factory=dict)
  train_max_gflop: float = 400.0
  sweeps: tuple[str, ...] = ()
  peak_matmul_size: int = 2048
  max_gflop: float = 80.0
  rounds: int = 5
  time_budget_s: float = 1.0
  min_repeats: int = 5
  max_repeats: int = 30
  seed: int = 0


FULL = ScalingConfig()
QUICK = ScalingConfig(sizes=(16, 64), batches=(8, 32), channels=(8, 32),
                      group_orders=(1, 4, 16), max_orders=(1, 4),
                      base_size=16, steerable_orders=(4,),
                      steerable_fields=(4,), steerable_base_order=4,
                      steerable_base_fields=4, train_models=('p4cnn',),
                      train_batches=(16,), peak_matmul_size=1024,
                      max_gflop=5.0, train_max_gflop=5.0, rounds=2,
                      time_budget_s=0.1, min_repeats=2, max_repeats=10)


@dataclasses.dataclass(frozen=True)
class Point:
  """One measured configuration of one layer (or model)."""
  layer: str  # 'gconv' | 'lifting' | 'hconv' | registered ones
  batch: int
  size: int
  channels: int
  group_order: int = 1  # N of C_N (gconv, lifting, steerable)
  max_order: int = 0    # hconv
  fields: int = 0       # regular fields (steerable)
  model: str = ''       # registered model (train)

  @property
  def streams(self) -> int:
    return self.max_order + 1

  def series(self, sweep: str) -> str:
    """The line of ``sweep`` the point lies on (plots, exponent table)."""
    return _family(self).series(self, sweep)

  def describe(self) -> str:
    """One fixed-width line naming the point (progress output)."""
    return _family(self).describe(self)


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
                  ) -> tuple[Callable[..., Any], tuple[Any, ...]]:
  """The jitted function of ``point`` and its arguments.

  Returns:
    ``(fn, args)``: ``fn`` is jitted, ``fn(*args)`` is one measured call
    (for the conv layers: the output and the gradients w.r.t. the input and
    the weights; ``args`` ends with the cotangent).
  """
  return _family(point).build(point, config)


def _build_conv(point: Point, config: ScalingConfig
                ) -> tuple[Callable[..., Any], tuple[jax.Array, ...]]:
  """:func:`build_problem` of 'gconv', 'lifting' and 'hconv' points."""
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


def _conv_series(point: Point, sweep: str) -> str:
  if sweep == 'group_order':
    return f'{point.layer} C_N'
  if sweep == 'streams':
    return 'hconv'
  if point.layer == 'hconv':
    return f'hconv M={point.streams}'
  return f'{point.layer} C{point.group_order}'


def _conv_describe(point: Point) -> str:
  name = ('hconv' if point.layer == 'hconv' else
          f'{point.layer} C{point.group_order}')
  where = f'B={point.batch:<3d} S={point.size:<3d} C={point.channels:<3d}'
  if point.layer == 'hconv':
    where += f' M={point.streams}'
  return f'{name:<11s} {where}'


# --------------------------------------------------------------------------
# Registered sweeps and their points.
# --------------------------------------------------------------------------


class Family(NamedTuple):
  """The sweeps of one module, as :func:`register` records them.

  Attributes:
    sweeps: its sweep names -> :class:`Sweep`.
    layers: the ``Point.layer`` values its points have.
    points: ``config -> {sweep: [Point]}``.
    build: ``(point, config) -> (jitted fn, args)`` (:func:`build_problem`).
    series: ``(point, sweep) -> str`` (:meth:`Point.series`).
    describe: ``point -> str`` (:meth:`Point.describe`).
    gflop_limit: ``config -> float``: its points above this many GFLOPs are
      compiled but not timed.
  """
  sweeps: dict[str, Sweep]
  layers: tuple[str, ...]
  points: Callable[[ScalingConfig], dict[str, list[Point]]]
  build: Callable[[Point, ScalingConfig], tuple[Callable[..., Any],
                                                tuple[Any, ...]]]
  series: Callable[[Point, str], str]
  describe: Callable[[Point], str]
  gflop_limit: Callable[[ScalingConfig], float]


#: Family name -> :class:`Family`, in registration order.
FAMILIES: dict[str, Family] = {}


def register(name: str, family: Family) -> Family:
  """Adds ``family``'s sweeps to :data:`SWEEPS` and its layers to the runs.

  A sweep module registers its family when imported (``benchmarks.scaling``
  imports every one, as ``models`` does its models); registering under the
  same name again replaces the family.

  Raises:
    ValueError: if a sweep or a layer of ``family`` belongs to another
      family.
  """
  others = [f for n, f in FAMILIES.items() if n != name]
  clash = ((set(family.sweeps) & {s for f in others for s in f.sweeps}) |
           (set(family.layers) & {layer for f in others
                                  for layer in f.layers}))
  if clash:
    raise ValueError(f'family {name!r} reuses the sweeps or layers '
                     f'{sorted(clash)} of another family.')
  FAMILIES[name] = family
  SWEEPS.clear()  # the same dict: `from ... import SWEEPS` sees it
  for registered in FAMILIES.values():
    SWEEPS.update(registered.sweeps)
  return family


def _family(point: Point) -> Family:
  for family in FAMILIES.values():
    if point.layer in family.layers:
      return family
  layers = sorted(layer for f in FAMILIES.values() for layer in f.layers)
  raise ValueError(f'point.layer must be one of {layers}; got '
                   f'{point.layer!r}.')


def gflop_limit(point: Point, config: ScalingConfig) -> float:
  """GFLOPs per call above which ``point`` is compiled but not timed."""
  return _family(point).gflop_limit(config)


def selected_sweeps(config: ScalingConfig) -> list[str]:
  """``config.sweeps`` checked against :data:`SWEEPS` (empty: all)."""
  unknown = [s for s in config.sweeps if s not in SWEEPS]
  if unknown:
    raise ValueError(f'sweeps must be among {", ".join(SWEEPS)}; got '
                     f'{", ".join(map(repr, unknown))}.')
  return [s for s in SWEEPS if not config.sweeps or s in config.sweeps]


def sweep_points(config: ScalingConfig) -> dict[str, list[Point]]:
  """The points of each selected sweep, in :data:`SWEEPS` order; a point
  (the base) may be in several. Sweeps without points are left out."""
  points = {}
  for family in FAMILIES.values():
    points.update(family.points(config))
  return {sweep: list(dict.fromkeys(points[sweep]))
          for sweep in selected_sweeps(config) if points.get(sweep)}


def _conv_points(config: ScalingConfig) -> dict[str, list[Point]]:
  """The conv sweeps (size, batch, channels, group_order, streams)."""
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
  return sweeps


register('conv', Family(
    sweeps={
        'size': Sweep('size', 'image side S (pixels)'),
        'batch': Sweep('batch', 'batch B'),
        'channels': Sweep('channels',
                          'channels C (per group element / stream)'),
        'group_order': Sweep('group_order', 'group order N (C_N)'),
        'streams': Sweep('streams', 'harmonic streams M = max_order + 1'),
    },
    layers=('gconv', 'lifting', 'hconv'), points=_conv_points,
    build=_build_conv, series=_conv_series, describe=_conv_describe,
    gflop_limit=lambda config: config.max_gflop))
