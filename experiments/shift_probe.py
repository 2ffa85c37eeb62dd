"""Equivariance probe: which CNN parts keep translation symmetry, and how much.

No training. Parameters are drawn once (``config.seed``), each probed function
is jitted once, and its relative error ``||f(T x) - T' f(x)|| / ||T' f(x)||``
(:func:`groups.equivariance_error`, mean over the batch) is measured for
shifts ``0..config.max_shift`` (integer, :class:`groups.CircularShift`) and
``config.subpixel_shifts`` (:class:`groups.FourierShift`) along
``config.direction``, on two image sources: 'random' (i.i.d. N(0, 1)) and
'digits' (:func:`data.embedded_digits`), both ``[B, 32, 32, 1]``.

Probed functions (all kernels 3x3, ``config.channels`` channels, no bias):

* equivariance, ``T' = T.output_action(stride=s)`` — a shift by ``t``
  becomes ``t / s`` (a :class:`groups.FourierShift` when ``s`` does not divide
  ``t``, i.e. the ideal, alias-free answer):
  ``conv_circular``, ``conv_zeros``, ``conv_circular_s2`` (convs on the
  image), and ``max_pool_s2``, ``avg_pool_s2``, ``blur_pool_s2``,
  ``max_blur_pool_s2``, ``aps_pool_s2``, which are each *conv(circular) ->
  relu -> pool*, so the pool sees a multi-channel feature map.
* invariance, ``T' = Identity`` — small networks
  ``conv -> relu -> DOWN -> conv -> relu -> global_avg_pool`` (circular
  padding): ``net_stride1`` (no DOWN), ``net_max_pool``, ``net_avg_pool``,
  ``net_blur_pool``, ``net_max_blur_pool``, ``net_aps_pool`` (DOWN is the
  stride-2 pool), ``net_strided_conv`` (the first conv has stride 2 instead
  of a DOWN layer), and ``net_fc_head`` (``net_stride1`` with flatten + dense
  instead of global pooling).

Note ``aps_pool_s2`` is compared with the *ideal* half-pixel shift: APS picks
an integer output shift instead (floor or ceil of ``t / 2``), so its
equivariance error at odd shifts is large although ``net_aps_pool`` is
exactly invariant.

Outputs in ``workdir``: ``config.json``, ``results.csv``, ``results.md`` and
``probe.png``. This module is a front-end of :mod:`experiments.probe_harness`: it
supplies the probed functions, the shifts, their output actions and the
report.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

import groups
from experiments import plotting
from experiments import probe_harness
from experiments import reporting
from experiments.probe_harness import KINDS, Row
from layers import conv2d
from layers import pooling

DIRECTIONS = {'horizontal': (0, 1), 'vertical': (1, 0), 'diagonal': (1, 1)}
IMAGE_SOURCES = ('random', 'digits')
CSV_COLUMNS = ('function', 'kind', 'stride', 'images', 'shift', 'error')
IMAGE_SIZE = 32        # both sources are [B, 32, 32, 1]
DIGIT_SIZE = 24        # 4 pixels of black margin on each side
NUM_OUTPUTS = 10       # width of net_fc_head's dense layer (one per digit)
PLOT_FLOOR = 1e-9      # errors below this (exact zeros) are drawn on it


@dataclasses.dataclass(frozen=True)
class Probe:
  """A probed function.

  Attributes:
    name: stable name used in the results.
    kind: 'equivariance' (compare with the induced shift of the output) or
      'invariance' (compare with the unshifted output).
    stride: total stride ``s`` of the function; the output action of a shift
      by ``t`` is a shift by ``t / s``.
    fn: ``[B, H, W, 1] -> [B, H / s, W / s, C]`` (equivariance) or
      ``-> [B, C]`` (invariance).
  """
  name: str
  kind: str
  stride: int
  fn: Callable[[jax.Array], jax.Array]


def init_params(rng: np.random.Generator, *, channels: int,
                image_size: int = IMAGE_SIZE,
                num_outputs: int = NUM_OUTPUTS) -> dict[str, jax.Array]:
  """Draws the shared parameters with std ``1 / sqrt(fan_in)`` (LeCun normal).

  Drawn with NumPy (see :mod:`experiments.probe_harness`).

  Args:
    rng: a numpy random generator.
    channels: feature channels ``C`` of both convs.
    image_size: side of the (square, one-channel) input images.
    num_outputs: outputs of the dense head of ``net_fc_head``.

  Returns:
    ``{'conv1': [3, 3, 1, C], 'conv2': [3, 3, C, C],
    'dense': [image_size**2 * C, num_outputs]}``, float32.
  """
  shapes = {
      'conv1': (3, 3, 1, channels),
      'conv2': (3, 3, channels, channels),
      'dense': (image_size * image_size * channels, num_outputs),
  }
  params = {}
  for name, shape in shapes.items():
    fan_in = math.prod(shape[:-1])
    params[name] = jnp.asarray(
        rng.standard_normal(shape, np.float32) / np.float32(math.sqrt(fan_in)))
  return params


def make_probes(params: Mapping[str, jax.Array]) -> list[Probe]:
  """Builds the probed functions (not jitted) from :func:`init_params` output.

  Args:
    params: the dict returned by :func:`init_params`.

  Returns:
    Equivariance probes first, then invariance probes, in a fixed order.
  """
  conv1, conv2, dense = params['conv1'], params['conv2'], params['dense']

  def conv1_relu(x, *, stride=1):
    return jax.nn.relu(conv2d(x, conv1, stride=stride, padding='circular'))

  def head(y):  # conv2 -> relu -> global average pool: [B, C]
    y = jax.nn.relu(conv2d(y, conv2, padding='circular'))
    return pooling.global_avg_pool(y)

  downsamplers = {
      'max_pool': functools.partial(pooling.max_pool, window=2, stride=2,
                                    padding='circular'),
      'avg_pool': functools.partial(pooling.avg_pool, window=2, stride=2,
                                    padding='circular'),
      'blur_pool': functools.partial(pooling.blur_pool, stride=2,
                                     filter_size=3, padding='circular'),
      'max_blur_pool': functools.partial(pooling.max_blur_pool, window=2,
                                         stride=2, filter_size=3,
                                         padding='circular'),
      'aps_pool': functools.partial(pooling.aps_pool, stride=2),
  }

  probes = [
      Probe('conv_circular', 'equivariance', 1,
            lambda x: conv2d(x, conv1, padding='circular')),
      Probe('conv_zeros', 'equivariance', 1,
            lambda x: conv2d(x, conv1, padding='zeros')),
      Probe('conv_circular_s2', 'equivariance', 2,
            lambda x: conv2d(x, conv1, stride=2, padding='circular')),
  ]
  for name, down in downsamplers.items():
    probes.append(Probe(f'{name}_s2', 'equivariance', 2,
                        lambda x, down=down: down(conv1_relu(x))))

  def fc_head(x):
    y = jax.nn.relu(conv2d(conv1_relu(x), conv2, padding='circular'))
    return y.reshape(y.shape[0], -1) @ dense  # [B, H * W * C] -> [B, outputs]

  probes += [
      Probe('net_stride1', 'invariance', 1, lambda x: head(conv1_relu(x))),
      Probe('net_strided_conv', 'invariance', 2,
            lambda x: head(conv1_relu(x, stride=2))),
  ]
  for name, down in downsamplers.items():
    probes.append(Probe(f'net_{name}', 'invariance', 2,
                        lambda x, down=down: head(down(conv1_relu(x)))))
  probes.append(Probe('net_fc_head', 'invariance', 1, fc_head))
  return probes


def shift_transform(shift: float, direction: str) -> groups.Transform:
  """The input shift by ``shift`` pixels along ``direction``.

  Args:
    shift: integer amounts give an exact :class:`groups.CircularShift`,
      others a band-limited :class:`groups.FourierShift`.
    direction: 'horizontal' (right), 'vertical' (down) or 'diagonal' (both:
      ``shift`` pixels down and ``shift`` right).

  Returns:
    A :class:`groups.Transform` acting on ``[B, H, W, C]``.
  """
  if direction not in DIRECTIONS:
    raise ValueError(f'direction must be one of {", ".join(DIRECTIONS)}; got '
                     f'{direction!r}.')
  uy, ux = DIRECTIONS[direction]
  if float(shift).is_integer():
    return groups.CircularShift(uy * int(shift), ux * int(shift))
  return groups.FourierShift(uy * float(shift), ux * float(shift))


def output_action(probe: Probe,
                  transform: groups.Transform) -> groups.Transform:
  """``T'``: the induced output shift, or identity for invariance."""
  if probe.kind == 'invariance':
    return groups.Identity()
  return transform.output_action(stride=probe.stride)


def shift_values(max_shift: int, subpixel_shifts: Iterable[float]
                 ) -> list[float]:
  """Sorted shifts: the ints ``0..max_shift`` and the sub-pixel amounts.

  Args:
    max_shift: largest integer shift, int >= 0.
    subpixel_shifts: non-integer, non-negative finite amounts.

  Returns:
    Sorted list; integer shifts are ``int``, the others ``float``.
  """
  if (not isinstance(max_shift, numbers.Integral) or
      isinstance(max_shift, bool) or max_shift < 0):
    raise ValueError(f'max_shift must be an int >= 0; got {max_shift!r}.')
  values = list(range(int(max_shift) + 1))
  for s in subpixel_shifts:
    if (not isinstance(s, numbers.Real) or isinstance(s, bool) or
        not math.isfinite(s) or s < 0 or float(s).is_integer()):
      raise ValueError('subpixel_shifts must hold non-negative, non-integer '
                       f'finite numbers (integer shifts come from max_shift); '
                       f'got {s!r}.')
    values.append(float(s))
  return sorted(set(values))


def evaluate(name: str, probe: Probe, x: jax.Array,
             transform: groups.Transform) -> list[Row]:
  """Mean relative error of ``probe`` on ``x`` under ``transform``.

  The ``evaluate`` of :func:`experiments.probe_harness.measure`: one row with
  ``kind``, ``stride`` and ``error``; ``name`` is ``probe.name``.
  """
  del name  # the core adds it to the row
  errors = groups.equivariance_error(probe.fn, x, transform,
                                     output_action(probe, transform))
  return [dict(kind=probe.kind, stride=probe.stride,
               error=float(jnp.mean(errors)))]


def format_shift(shift: float) -> str:
  return f'{shift:g}'


def markdown_table(rows: Sequence[Row]) -> str:
  """One row per function x images, one column per shift (first-seen order)."""
  return reporting.pivot_table(
      rows, index=('function', 'kind', 'stride', 'images'), column='shift',
      header=lambda shift: f't={format_shift(shift)}')


def plot(rows: Sequence[Row], path: str, *, title: str = '') -> None:
  """Error vs shift: rows of panels = kind, columns = image source.

  Log y axis; errors below :data:`PLOT_FLOOR` (exact zeros) sit on the floor.
  """
  shifts = sorted({r['shift'] for r in rows})
  plotting.error_panels(
      rows, path, x='shift', line='function', kinds=KINDS, style=_line_style,
      xticks=shifts, xtick_labels=[format_shift(s) for s in shifts],
      xlabel='input shift (pixels)',
      ylabel='relative error (0 drawn at 1e-9)', floor=PLOT_FLOOR,
      show_floor=True, sharey=True, legend_titles=True, title=title)


def _line_style(n: int, name: str) -> dict[str, object]:
  del name  # styled by position: up to 20 lines per panel stay distinct
  return dict(marker=plotting.MARKERS[n % 10], color=f'C{n % 10}',
              linestyle='-' if n < 10 else '--', markersize=5, linewidth=1.4)


def _jitted_probes(rng: np.random.Generator, *,
                   channels: int) -> dict[str, Probe]:
  probes = make_probes(init_params(rng, channels=channels))
  return {p.name: dataclasses.replace(p, fn=jax.jit(p.fn)) for p in probes}


def run(config: ml_collections.ConfigDict, workdir: str) -> list[Row]:
  """Runs the probe and writes its results into ``workdir``.

  Args:
    config: see ``experiments/configs/probe.py``.
    workdir: output folder (created if missing).

  Returns:
    The result rows (keys :data:`CSV_COLUMNS`), also in ``results.csv``.
  """
  probe_harness.check_config(config, image_sources=IMAGE_SOURCES,
                       positive_ints=('channels',),
                       choices={'direction': DIRECTIONS})
  shifts = shift_values(config.max_shift, config.subpixel_shifts)
  summary = (f'Relative error ||f(Tx) - T\'f(x)|| / ||T\'f(x)||, mean over '
             f'{config.batch_size} images; T = shift by t pixels '
             f'({config.direction}); T\' = shift by t/stride (equivariance) '
             f'or identity (invariance). seed={config.seed}, '
             f'channels={config.channels}.')
  title = (f'Shift equivariance / invariance ({config.direction} shifts, '
           f'{config.channels} channels, batch {config.batch_size})')
  outputs = probe_harness.Outputs(
      title='Equivariance probe', summary=summary,
      tables=lambda rows: [('', markdown_table(rows))],
      csv_columns=CSV_COLUMNS, csv_formats={'shift': format_shift},
      plot_name='probe.png',
      plot=functools.partial(plot, title=title))
  return probe_harness.run(
      config, workdir,
      networks=functools.partial(_jitted_probes, channels=config.channels),
      transforms=[(dict(shift=s), shift_transform(s, config.direction))
                  for s in shifts],
      evaluate=evaluate, outputs=outputs, image_size=IMAGE_SIZE,
      digit_size=DIGIT_SIZE, network_key='function')
