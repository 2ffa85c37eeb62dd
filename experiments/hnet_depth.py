"""python main.py --config=experiments/configs/hnet_depth.py

Measured (seed 0, 8 images of 41 x 41, 45 degrees, 6 layers of 5x5
filters; runs/hnet_depth/results.md; ~11 s on 2 CPU cores). Relative error
of the feature maps after layer 1: H-Net 0.078 vs CNN 0.481 on smooth
images (6.2x lower), 0.126 vs 0.494 on digits (3.9x). The gap shrinks with
depth: after layer 6, 0.31 vs 0.94 (3.0x) and 0.39 vs 1.02 (2.6x); faster
with two stride-2 layers: 0.53 vs 1.15 (2.1x), 0.69 vs 1.19 (1.7x).
Spatial means of the invariant features: H-Net 0.024 -> 0.061 vs CNN
0.075 -> 0.146 (smooth); on digits the H-Net starts 1.7x lower (0.029 vs
0.050) but is level by layer 5 and worse at layer 6 (0.200 vs 0.152; the
strided one from layer 4). Magnitude ReLUs and strided sampling alias on
the grid, so the continuous-rotation guarantee erodes with depth.

How does the rotation-equivariance error grow with depth, for a harmonic
network and for an ordinary CNN? No training: parameters are drawn once
(``config.seed``, with NumPy, as :mod:`experiments.probe` does), images are
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

Images (``config.image_sources``, ``[B, S, S, 1]``, ``S = image_size``):
'smooth' — white noise low-passed to ``config.cutoff`` cycles/pixel, times a
radial bump (content well inside the grid); 'digits' — scikit-learn digits
(:func:`data.embedded_digits`, digit ``S - 16`` pixels wide) on the black
canvas, not low-passed.

Outputs in ``workdir``: ``config.json``, ``results.csv`` (one row per
network x source x kind x layer), ``results.md`` and ``hnet_depth.png``.
"""

from __future__ import annotations

import functools
import numbers
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

from absl import logging
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

import data
import groups
from experiments import reporting
from experiments.reporting import format_error
from groups import harmonic as harmonic_groups
from layers import conv2d
from layers import harmonic
from layers import pooling

NETWORKS = ('hnet', 'hnet_strided', 'cnn', 'cnn_strided')
KINDS = ('equivariance', 'invariance')
IMAGE_SOURCES = ('smooth', 'digits')
CSV_COLUMNS = ('network', 'images', 'kind', 'layer', 'side', 'error')
PLOT_FLOOR = 1e-6

Row = dict[str, Any]


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


def measure(networks: dict[str, Callable], images: dict[str, np.ndarray], *,
            angle: float, max_order: int) -> list[Row]:
  """Batch-mean relative error after every layer of every network.

  Returns:
    Rows with the :data:`CSV_COLUMNS` keys.
  """
  rotation = groups.BilinearRotation(float(angle))
  stream_rotation = harmonic_groups.BilinearHarmonicRotation(
      float(angle), tuple(range(max_order + 1)))
  rows = []
  for name, network in networks.items():
    start = time.perf_counter()
    for source, x in images.items():
      outputs, rotated_outputs = network(jnp.asarray(x), rotation(x))
      for layer, (out, rotated) in enumerate(zip(outputs, rotated_outputs),
                                             start=1):
        side = out.shape[1]
        disk = groups.inscribed_disk(side, out.shape[2])
        output_rotation = (stream_rotation if name.startswith('hnet')
                           else rotation)
        equivariance = groups.relative_error(rotated, output_rotation(out),
                                             mask=disk)
        invariance = groups.relative_error(invariant_features(name, rotated),
                                           invariant_features(name, out))
        for kind, errors in zip(KINDS, (equivariance, invariance)):
          rows.append(dict(network=name, images=source, kind=kind,
                           layer=layer, side=side,
                           error=float(jnp.mean(errors))))
    logging.info('measured %-12s in %.2f s', name,
                 time.perf_counter() - start)
  return rows


def load_images(sources: Sequence[str], *, batch_size: int, image_size: int,
                cutoff: float, rng: np.random.Generator
                ) -> dict[str, np.ndarray]:
  """Source name -> ``[batch_size, image_size, image_size, 1]`` float32."""
  images = {}
  for source in sources:
    if source == 'smooth':
      x = rng.standard_normal((batch_size, image_size, image_size, 1))
      images[source] = _radial_window(_low_pass(x.astype(np.float32),
                                                cutoff))
    elif source == 'digits':
      digits, _ = data.embedded_digits(canvas_size=image_size,
                                       digit_size=max(image_size - 16, 4),
                                       limit=batch_size)
      images[source] = digits
    else:
      raise ValueError(f'config.image_sources must hold only '
                       f'{", ".join(map(repr, IMAGE_SOURCES))}; got '
                       f'{source!r}.')
  return images


def _low_pass(x: np.ndarray, cutoff: float) -> np.ndarray:
  """Keeps spatial frequencies below ``cutoff`` cycles/pixel (radially)."""
  fy = np.fft.fftfreq(x.shape[1])[:, None]
  fx = np.fft.fftfreq(x.shape[2])[None, :]
  keep = (np.hypot(fy, fx) < cutoff)[None, :, :, None]
  spectrum = np.fft.fft2(x, axes=(1, 2)) * keep
  x = np.real(np.fft.ifft2(spectrum, axes=(1, 2)))
  return (x / x.std()).astype(np.float32)


def _radial_window(x: np.ndarray, fraction: float = 0.7) -> np.ndarray:
  """Times ``(1 - (r / R)^2)^2``, ``R = fraction`` of the inscribed radius."""
  side = x.shape[1]
  centre = (side - 1) / 2
  rows, cols = np.meshgrid(np.arange(side) - centre,
                           np.arange(side) - centre, indexing='ij')
  bump = np.clip(1 - (np.hypot(rows, cols) / (fraction * centre))**2, 0,
                 None)**2
  return (x * bump[None, :, :, None]).astype(np.float32)


# --------------------------------------------------------------------------
# Reporting.
# --------------------------------------------------------------------------


def markdown_table(rows: Sequence[Row]) -> str:
  """One row per network x images x kind, one column per layer."""
  depth = max(r['layer'] for r in rows)
  table: dict[tuple[str, str, str], dict[int, Row]] = {}
  for r in rows:
    table.setdefault((r['network'], r['images'], r['kind']), {})[
        r['layer']] = r
  header = ['network', 'images', 'kind'] + [
      f'layer {i}' for i in range(1, depth + 1)]
  lines = ['| ' + ' | '.join(header) + ' |',
           '|' + '---|' * 3 + '---:|' * depth]
  for (network, source, kind), by_layer in table.items():
    cells = [network, source, kind] + [
        format_error(by_layer[i]['error']) if i in by_layer else ''
        for i in range(1, depth + 1)]
    lines.append('| ' + ' | '.join(cells) + ' |')
  return '\n'.join(lines)


def ratio_table(rows: Sequence[Row]) -> str:
  """CNN error / H-Net error per layer (same stride, images and kind)."""
  depth = max(r['layer'] for r in rows)
  errors = {(r['network'], r['images'], r['kind'], r['layer']): r['error']
            for r in rows}
  lines = ['| cnn / hnet | images | kind | ' + ' | '.join(
      f'layer {i}' for i in range(1, depth + 1)) + ' |',
           '|' + '---|' * 3 + '---:|' * depth]
  keys = sorted({(r['network'], r['images'], r['kind']) for r in rows
                 if r['network'].startswith('hnet')})
  for network, source, kind in keys:
    cnn = 'cnn' + network[len('hnet'):]
    cells = []
    for layer in range(1, depth + 1):
      h = errors.get((network, source, kind, layer))
      c = errors.get((cnn, source, kind, layer))
      cells.append(f'{c / h:.1f}x' if h and c is not None else '')
    lines.append(f'| {cnn} / {network} | {source} | {kind} | ' +
                 ' | '.join(cells) + ' |')
  return '\n'.join(lines)


def plot(rows: Sequence[Row], path: str, *, title: str = '') -> None:
  """Error vs layer: panels = kind x image source; log y axis."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use('Agg')
  from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top

  sources = list(dict.fromkeys(r['images'] for r in rows))
  fig, axes = plt.subplots(len(KINDS), len(sources), squeeze=False,
                           figsize=(5.5 * len(sources) + 2.5, 8),
                           sharex=True)
  styles = {'hnet': ('C0', '-'), 'hnet_strided': ('C0', '--'),
            'cnn': ('C3', '-'), 'cnn_strided': ('C3', '--')}
  depth = max(r['layer'] for r in rows)
  for i, kind in enumerate(KINDS):
    for j, source in enumerate(sources):
      ax = axes[i, j]
      for name, (color, line) in styles.items():
        points = sorted((r['layer'], r['error']) for r in rows
                        if r['network'] == name and r['images'] == source and
                        r['kind'] == kind)
        if not points:
          continue
        layers_, errors = zip(*points)
        ax.plot(layers_, np.maximum(errors, PLOT_FLOOR), color=color,
                linestyle=line, marker='o', markersize=4, label=name)
      ax.set_yscale('log')
      ax.set_xticks(range(1, depth + 1))
      ax.grid(True, which='major', alpha=0.3)
      ax.set_title(f'{kind} — {source} images')
      if j == 0:
        ax.set_ylabel('relative error')
      if i == len(KINDS) - 1:
        ax.set_xlabel('layer')
    axes[i, -1].legend(loc='center left', bbox_to_anchor=(1.02, 0.5),
                       fontsize=9)
  if title:
    fig.suptitle(title)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


# --------------------------------------------------------------------------
# Entry point.
# --------------------------------------------------------------------------


def _check_config(config: ml_collections.ConfigDict) -> None:
  for name in ('batch_size', 'depth', 'hnet_width', 'cnn_width',
               'filter_size', 'image_size', 'n_rings'):
    value = config[name]
    if (not isinstance(value, numbers.Integral) or isinstance(value, bool) or
        value < 1):
      raise ValueError(f'config.{name} must be an int >= 1; got {value!r}.')
  if config.filter_size % 2 == 0:
    raise ValueError(f'config.filter_size must be odd; got '
                     f'{config.filter_size}.')
  if (not isinstance(config.max_order, numbers.Integral) or
      isinstance(config.max_order, bool) or config.max_order < 0):
    raise ValueError(f'config.max_order must be an int >= 0; got '
                     f'{config.max_order!r}.')
  if any(not isinstance(s, numbers.Integral) or not 1 <= s <= config.depth
         for s in config.stride_layers):
    raise ValueError(f'config.stride_layers must hold layer numbers in '
                     f'1..{config.depth} (config.depth); got '
                     f'{tuple(config.stride_layers)!r}.')
  reporting.check_image_sources(config.image_sources, IMAGE_SOURCES)
  if not isinstance(config.angle, numbers.Real) or not np.isfinite(
      config.angle):
    raise ValueError(f'config.angle must be a finite number of degrees; got '
                     f'{config.angle!r}.')
  if not 0 < config.cutoff <= 0.5:
    raise ValueError(f'config.cutoff must be in (0, 0.5] cycles/pixel; got '
                     f'{config.cutoff!r}.')


def run(config: ml_collections.ConfigDict, workdir: str) -> list[Row]:
  """Runs the depth study and writes its results into ``workdir``.

  Args:
    config: see ``experiments/configs/hnet_depth.py``.
    workdir: output folder (created if missing).

  Returns:
    The result rows (keys :data:`CSV_COLUMNS`), also in ``results.csv``.
  """
  _check_config(config)
  reporting.write_config(config, workdir)

  params = init_params(
      np.random.default_rng([config.seed, 0]), depth=config.depth,
      hnet_width=config.hnet_width, cnn_width=config.cnn_width,
      filter_size=config.filter_size, max_order=config.max_order,
      n_rings=config.n_rings)
  networks = make_networks(params, depth=config.depth,
                           stride_layers=tuple(config.stride_layers),
                           filter_size=config.filter_size,
                           max_order=config.max_order)
  images = load_images(config.image_sources, batch_size=config.batch_size,
                       image_size=config.image_size, cutoff=config.cutoff,
                       rng=np.random.default_rng([config.seed, 1]))
  rows = measure(networks, images, angle=config.angle,
                 max_order=config.max_order)

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
  table = markdown_table(rows)
  ratios = ratio_table(rows)
  with open(os.path.join(workdir, 'results.md'), 'w') as f:
    f.write(f'# Equivariance error vs depth: H-Net vs CNN\n\n{summary}\n\n'
            f'{table}\n\n## CNN error / H-Net error\n\n{ratios}\n')
  reporting.write_csv(rows, os.path.join(workdir, 'results.csv'),
                      columns=CSV_COLUMNS)
  plot(rows, os.path.join(workdir, 'hnet_depth.png'),
       title=f'Rotation by {config.angle:g} degrees: error after each layer')
  print(table, '\n\n' + ratios, flush=True)
  logging.info('wrote config.json, results.csv, results.md, hnet_depth.png '
               'to %s', workdir)
  return rows
