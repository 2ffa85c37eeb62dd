"""H-Net vs CNN: rotation-equivariance error vs depth (no training).

  python main.py --config=experiments/configs/hnet_depth.py

Measured results: the docstring of ``experiments/configs/hnet_depth.py``.

How does the rotation-equivariance error grow with depth, for a harmonic
network and for an ordinary CNN? No training: parameters are drawn once
(``config.seed``, with NumPy, as in every probe), images are
rotated by ``config.angle`` degrees (:class:`groups.BilinearRotation`) and
the output of every layer is compared with the rotated output of the
unrotated images, on the disk inscribed in that layer's grid:

* 'equivariance' — H-Net: the harmonic streams ``[B, H, W, M, C]`` against
  :class:`groups.harmonic.BilinearHarmonicRotation` (rotate and multiply
  stream ``m`` by ``e^{i m theta}``); CNN: the feature maps against
  :class:`groups.BilinearRotation`.
* 'invariance' — the spatial mean of each layer's invariant features (H-Net:
  magnitudes summed over orders, :func:`layers.harmonic.invariant_readout`;
  CNN: the ReLU maps), ``[B, C]``, against the unrotated one.

Networks (``config.depth`` layers, ``config.filter_size`` filters,
'zeros' padding): ``hnet`` = HConv (orders 0..``max_order``,
``hnet_width`` channels per order) -> magnitude batch norm + ReLU
(:func:`layers.harmonic.magnitude_batch_norm`); ``cnn`` = conv
(``cnn_width`` channels) -> batch norm -> ReLU. Normalisation statistics are
measured once on the unrotated batch and reused for the rotated one (as
running averages at inference), so they add no error of their own. The
``_strided`` variants give the convs of ``config.stride_layers`` stride 2;
with an odd ``image_size`` of the form ``4 n + 1`` every strided conv sees an
odd side and stays centred (41 -> 21 -> 11).

Images (``config.image_sources``, ``[B, S, S, 1]``, ``S = image_size``;
:func:`experiments.probe_harness.load_images`): 'smooth' — white noise low-passed
to ``config.cutoff`` cycles/pixel, times a radial bump (content well inside
the grid); 'digits' — scikit-learn digits (:func:`data.embedded_digits`,
digit ``S - 16`` pixels wide) on the black canvas, not low-passed.

Outputs in ``workdir``: ``config.json``, ``results.csv`` (one row per
network x source x kind x layer), ``results.md`` and ``hnet_depth.png``.
This module is a front-end of :mod:`experiments.probe_harness`: it supplies the
networks, the rotation, its output actions and the report.
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

import groups
from experiments import plotting
from experiments import probe_harness
from experiments import reporting
from experiments.probe_harness import KINDS, Row
from groups import harmonic as harmonic_groups
from layers import conv2d
from layers import harmonic
from layers import pooling

NETWORKS = ('hnet', 'hnet_strided', 'cnn', 'cnn_strided')
IMAGE_SOURCES = ('smooth', 'digits')
CSV_COLUMNS = ('network', 'images', 'kind', 'layer', 'side', 'error')
PLOT_FLOOR = 1e-6
# Plot colour (H-Net blue, CNN red) and line (dashed: strided) per network.
STYLES = {'hnet': ('C0', '-'), 'hnet_strided': ('C0', '--'),
          'cnn': ('C3', '-'), 'cnn_strided': ('C3', '--')}


# --------------------------------------------------------------------------
# Networks: pure functions of NumPy-drawn parameters.
# --------------------------------------------------------------------------


def init_params(rng: np.random.Generator, *, depth: int, hnet_width: int,
                cnn_width: int, filter_size: int, max_order: int,
                n_rings: int) -> dict[str, list[dict[str, np.ndarray]]]:
  """Draws the parameters of both networks (shared by the strided variants).

  Ring weights ``N(0, 1 / (n_rings C_in M_in))`` and phases uniform in
  ``[0, 2 pi)`` (as :class:`layers.harmonic.HConv` initialises them); CNN
  kernels ``N(0, 2 / fan_in)`` (He).

  Returns:
    ``{'hnet': [{'radial', 'phase'}] * depth, 'cnn': [{'kernel'}] * depth}``.
  """
  streams = max_order + 1
  hnet, cnn = [], []
  for layer in range(depth):
    c_in = 1 if layer == 0 else hnet_width
    m_in = 1 if layer == 0 else streams
    orders = harmonic.num_filter_orders(max_order, m_in)
    radial = rng.standard_normal((orders, n_rings, c_in, hnet_width))
    hnet.append(dict(
        radial=(radial / np.sqrt(n_rings * c_in * m_in)).astype(np.float32),
        phase=rng.uniform(0, 2 * np.pi, (orders, c_in, hnet_width)).astype(
            np.float32)))
    c_in = 1 if layer == 0 else cnn_width
    kernel = rng.standard_normal((filter_size, filter_size, c_in, cnn_width))
    cnn.append(dict(kernel=(kernel * np.sqrt(
        2 / (filter_size**2 * c_in))).astype(np.float32)))
  return dict(hnet=hnet, cnn=cnn)


def _strides(depth: int, stride_layers: Sequence[int],
             strided: bool) -> list[int]:
  return [2 if strided and layer in stride_layers else 1
          for layer in range(1, depth + 1)]


def hnet_layers(params: list[dict[str, np.ndarray]], x: jax.Array,
                x_rotated: jax.Array, *, strides: Sequence[int],
                filter_size: int, max_order: int
                ) -> tuple[list[jax.Array], list[jax.Array]]:
  """Harmonic stack on ``x`` and ``x_rotated`` (one batch, one conv per layer).

  Each layer normalises both halves with the magnitude moments of the
  unrotated half (running statistics at inference, measured on ``x``).

  Returns:
    The ``[B, H', W', M, C]`` output of every layer for ``x`` and for
    ``x_rotated``.
  """
  batch = x.shape[0]
  z = jnp.concatenate([x, x_rotated])  # [2B, H, W, 1]
  outputs = []
  for p, stride in zip(params, strides):
    z = harmonic.harmonic_conv2d(z, p['radial'], p['phase'],
                                 filter_size=filter_size, max_order=max_order,
                                 stride=stride, padding='zeros')
    mean, var = harmonic.magnitude_moments(z[:batch])
    z = harmonic.magnitude_batch_norm(z, mean=mean, var=var)
    outputs.append(z)
  return [z[:batch] for z in outputs], [z[batch:] for z in outputs]


def cnn_layers(params: list[dict[str, np.ndarray]], x: jax.Array,
               x_rotated: jax.Array, *, strides: Sequence[int]
               ) -> tuple[list[jax.Array], list[jax.Array]]:
  """conv -> batch norm (statistics of ``x``) -> ReLU (cf. hnet_layers)."""
  batch = x.shape[0]
  y = jnp.concatenate([x, x_rotated])
  outputs = []
  for p, stride in zip(params, strides):
    y = conv2d(y, p['kernel'], stride=stride, padding='zeros')
    mean = jnp.mean(y[:batch], axis=(0, 1, 2))
    var = jnp.var(y[:batch], axis=(0, 1, 2))
    y = jax.nn.relu((y - mean) * jax.lax.rsqrt(var + 1e-3))
    outputs.append(y)
  return [y[:batch] for y in outputs], [y[batch:] for y in outputs]


def make_networks(params, *, depth: int, stride_layers: Sequence[int],
                  filter_size: int, max_order: int
                  ) -> dict[str, Callable]:
  """Name -> jitted ``(x, x_rotated) -> (layer outputs, rotated outputs)``."""
  networks = {}
  for name in NETWORKS:
    strides = _strides(depth, stride_layers, name.endswith('_strided'))
    if name.startswith('hnet'):
      fn = functools.partial(hnet_layers, params['hnet'], strides=strides,
                             filter_size=filter_size, max_order=max_order)
    else:
      fn = functools.partial(cnn_layers, params['cnn'], strides=strides)
    networks[name] = jax.jit(fn)
  return networks


def invariant_features(name: str, output: jax.Array) -> jax.Array:
  """``[B, C]``: spatial mean of the layer's rotation-invariant features."""
  if name.startswith('hnet'):
    return pooling.global_avg_pool(harmonic.invariant_readout(output))
  return pooling.global_avg_pool(output)


# --------------------------------------------------------------------------
# Measurement.
# --------------------------------------------------------------------------


def evaluate(name: str, network: Callable, x: jax.Array,
             rotation: groups.BilinearRotation, *, max_order: int
             ) -> list[Row]:
  """Batch-mean relative errors after every layer of ``network``.

  The ``evaluate`` of :func:`experiments.probe_harness.measure`.

  Args:
    name: a name from :data:`NETWORKS` (says H-Net or CNN).
    network: from :func:`make_networks`.
    x: ``[B, S, S, 1]`` images.
    rotation: the input rotation.
    max_order: highest rotation order of the H-Net streams.

  Returns:
    An 'equivariance' and an 'invariance' row per layer, with ``kind``,
    ``layer``, ``side`` (of the layer's grid) and ``error``.
  """
  if name.startswith('hnet'):
    output_rotation = harmonic_groups.BilinearHarmonicRotation(
        rotation.degrees, tuple(range(max_order + 1)))
  else:
    output_rotation = rotation
  outputs, rotated_outputs = network(x, rotation(x))
  rows = []
  for layer, (out, rotated) in enumerate(zip(outputs, rotated_outputs),
                                         start=1):
    side = out.shape[1]
    disk = groups.inscribed_disk(side, out.shape[2])
    equivariance = groups.relative_error(rotated, output_rotation(out),
                                         mask=disk)
    invariance = groups.relative_error(invariant_features(name, rotated),
                                       invariant_features(name, out))
    for kind, errors in zip(KINDS, (equivariance, invariance)):
      rows.append(dict(kind=kind, layer=layer, side=side,
                       error=float(jnp.mean(errors))))
  return rows


# --------------------------------------------------------------------------
# Reporting.
# --------------------------------------------------------------------------


def markdown_table(rows: Sequence[Row]) -> str:
  """One row per network x images x kind, one column per layer."""
  return reporting.pivot_table(rows, index=('network', 'images', 'kind'),
                               column='layer', header=lambda i: f'layer {i}')


def ratio_table(rows: Sequence[Row]) -> str:
  """CNN error / H-Net error per layer (same stride, images and kind)."""
  depth = max(r['layer'] for r in rows)
  errors = {(r['network'], r['images'], r['kind'], r['layer']): r['error']
            for r in rows}
  keys = sorted({(r['network'], r['images'], r['kind']) for r in rows
                 if r['network'].startswith('hnet')})
  table = []
  for network, source, kind in keys:
    cnn = 'cnn' + network[len('hnet'):]
    line = dict(pair=f'{cnn} / {network}', images=source, kind=kind)
    for layer in range(1, depth + 1):
      h = errors.get((network, source, kind, layer))
      c = errors.get((cnn, source, kind, layer))
      line[layer] = f'{c / h:.1f}x' if h and c is not None else ''
    table.append(line)
  return reporting.markdown_table(
      table, {'pair': 'cnn / hnet', 'images': 'images', 'kind': 'kind',
              **{i: f'layer {i}' for i in range(1, depth + 1)}},
      align=['left'] * 3 + ['right'] * depth)


def plot(rows: Sequence[Row], path: str, *, title: str = '') -> None:
  """Error vs layer: panels = kind x image source; log y axis."""
  depth = max(r['layer'] for r in rows)
  plotting.error_panels(
      rows, path, x='layer', line='network', kinds=KINDS, style=_line_style,
      xticks=range(1, depth + 1), xlabel='layer', ylabel='relative error',
      floor=PLOT_FLOOR, panel_size=(5.5, 4.0), legend_width=2.5, title=title)


def _line_style(n: int, name: str) -> dict[str, object]:
  del n  # styled by network
  color, line = STYLES[name]
  return dict(color=color, linestyle=line, marker='o', markersize=4)


# --------------------------------------------------------------------------
# Entry point.
# --------------------------------------------------------------------------


def run(config: ml_collections.ConfigDict, workdir: str) -> list[Row]:
  """Runs the depth study and writes its results into ``workdir``.

  Args:
    config: see ``experiments/configs/hnet_depth.py``.
    workdir: output folder (created if missing).

  Returns:
    The result rows (keys :data:`CSV_COLUMNS`), also in ``results.csv``.
  """
  probe_harness.check_config(
      config, image_sources=IMAGE_SOURCES, finite=('angle',),
      positive_ints=('depth', 'hnet_width', 'cnn_width', 'filter_size',
                     'image_size', 'n_rings'),
      non_negative_ints=('max_order',))
  if config.filter_size % 2 == 0:
    raise ValueError(f'config.filter_size must be odd; got '
                     f'{config.filter_size}.')
  if any(not isinstance(s, numbers.Integral) or not 1 <= s <= config.depth
         for s in config.stride_layers):
    raise ValueError(f'config.stride_layers must hold layer numbers in '
                     f'1..{config.depth} (config.depth); got '
                     f'{tuple(config.stride_layers)!r}.')

  summary = (
      f'Relative error ||f(Rx) - R\'f(x)|| / ||R\'f(x)|| after each layer, '
      f'mean over {config.batch_size} images; R = rotation by '
      f'{config.angle:g} degrees (bilinear); equivariance: R\' rotates the '
      'map (and turns stream m by e^{i m theta} for the H-Net), compared on '
      'the inscribed disk; invariance: spatial mean of invariant features, '
      f'R\' = identity. seed={config.seed}, depth={config.depth}, '
      f'{config.filter_size}x{config.filter_size} filters, H-Net '
      f'{config.hnet_width} channels x orders 0..{config.max_order}, CNN '
      f'{config.cnn_width} channels, strided variants: stride 2 at layers '
      f'{tuple(config.stride_layers)}.')
  outputs = probe_harness.Outputs(
      title='Equivariance error vs depth: H-Net vs CNN', summary=summary,
      tables=lambda rows: [('', markdown_table(rows)),
                           ('CNN error / H-Net error', ratio_table(rows))],
      csv_columns=CSV_COLUMNS, plot_name='hnet_depth.png',
      plot=functools.partial(plot, title=f'Rotation by {config.angle:g} '
                             'degrees: error after each layer'))

  def networks(rng: np.random.Generator) -> dict[str, Callable]:
    params = init_params(
        rng, depth=config.depth, hnet_width=config.hnet_width,
        cnn_width=config.cnn_width, filter_size=config.filter_size,
        max_order=config.max_order, n_rings=config.n_rings)
    return make_networks(params, depth=config.depth,
                         stride_layers=tuple(config.stride_layers),
                         filter_size=config.filter_size,
                         max_order=config.max_order)

  return probe_harness.run(
      config, workdir, networks=networks,
      transforms=[({}, groups.BilinearRotation(float(config.angle)))],
      evaluate=functools.partial(evaluate, max_order=config.max_order),
      outputs=outputs, image_size=config.image_size,
      digit_size=max(config.image_size - 16, 4))
