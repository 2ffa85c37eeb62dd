"""One core for the no-training probes: networks x images x transforms -> rows.

A probe draws random parameters once, builds its networks from them, and
measures, for every network, image source and input transform ``T``, how far
the network is from equivariance ``f(T x) = T' f(x)`` (or invariance,
``T' = identity``). :func:`run` does the common part; a front-end supplies
what differs:

* ``networks``: ``params_rng -> {name: network}`` (any object its
  ``evaluate`` understands);
* ``transforms``: ``(fields, T)`` pairs; ``fields`` (e.g. ``{'shift': 1}``)
  go into every row measured under ``T``;
* ``evaluate``: ``(name, network, x, T) -> rows`` holding ``kind`` and
  ``error`` (and any other columns), for one ``[B, H, W, 1]`` batch ``x``;
* :class:`Outputs`: the markdown tables, the CSV columns and the plot.

Front-ends: :mod:`experiments.shift_probe` (CNN parts under shifts) and
:mod:`experiments.hnet_depth` (H-Net vs CNN, rotation error vs depth).

Randomness: parameters come from ``np.random.default_rng([seed, 0])`` and
images from ``[seed, 1]``, so changing the batch leaves the parameters alone.
NumPy rather than ``jax.random``: each new ``jax.random.normal`` shape costs a
~1 s compile on CPU, more than a whole probe.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from absl import logging
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

import data
import groups
from experiments import reporting
from groups import synthetic
from groups import validate

Row = dict[str, Any]
KINDS = ('equivariance', 'invariance')
IMAGE_SOURCES = ('random', 'smooth', 'digits')
SMOOTH_WINDOW = 0.7    # radial window of 'smooth' images, x inscribed radius

Evaluate = Callable[[str, Any, jax.Array, groups.Transform], Iterable[Row]]


@dataclasses.dataclass(frozen=True)
class Outputs:
  """What a probe writes besides ``config.json``.

  Attributes:
    title: heading of ``results.md``.
    summary: paragraph under it saying what was measured.
    tables: ``rows -> [(heading, markdown table)]`` for ``results.md`` (see
      :func:`reporting.write_markdown`); also printed.
    csv_columns: columns of ``results.csv``.
    plot_name: file name of the PNG.
    plot: ``(rows, path) -> None`` writes the PNG.
    csv_formats: column -> cell writer (see :func:`reporting.write_csv`).
  """
  title: str
  summary: str
  tables: Callable[[Sequence[Row]], Sequence[tuple[str, str]]]
  csv_columns: Sequence[str]
  plot_name: str
  plot: Callable[[Sequence[Row], str], None]
  csv_formats: Mapping[str, Callable[[Any], str]] = dataclasses.field(
      default_factory=dict)


def check_config(config: ml_collections.ConfigDict, *,
                 image_sources: Sequence[str],
                 positive_ints: Sequence[str] = (),
                 non_negative_ints: Sequence[str] = (),
                 finite: Sequence[str] = (),
                 choices: Mapping[str, Sequence[str]] | None = None) -> None:
  """Checks the config keys every probe reads, and those a front-end names.

  Always checked: ``batch_size`` (int >= 1), ``image_sources`` (a non-empty
  subset of ``image_sources``) and, when 'smooth' images are asked for,
  ``cutoff`` (in (0, 0.5] cycles/pixel).

  Args:
    config: the probe's config.
    image_sources: the sources this probe accepts (from
      :data:`IMAGE_SOURCES`).
    positive_ints: further keys that must be ints >= 1.
    non_negative_ints: keys that must be ints >= 0.
    finite: keys that must be finite real numbers.
    choices: key -> its accepted values.

  Raises:
    ValueError: naming the first bad ``config.<key>``.
  """
  for name in ('batch_size', *positive_ints):
    validate.integer(config[name], f'config.{name}', minimum=1)
  for name in non_negative_ints:
    validate.integer(config[name], f'config.{name}', minimum=0)
  for name in finite:
    validate.number(config[name], f'config.{name}')
  for name, accepted in (choices or {}).items():
    validate.check_choice(config[name], f'config.{name}', tuple(accepted))
  sources = tuple(config.image_sources)
  if not sources or any(s not in image_sources for s in sources):
    raise ValueError(f'config.image_sources must be a non-empty subset of '
                     f'{tuple(image_sources)}; got {sources!r}.')
  if 'smooth' in sources:
    validate.number(config.cutoff, 'config.cutoff (cycles/pixel)',
                    minimum=0.0, exclusive_minimum=True, maximum=0.5)


def load_images(sources: Sequence[str], *, batch_size: int, image_size: int,
                rng: np.random.Generator, cutoff: float | None = None,
                digit_size: int = 24) -> dict[str, jax.Array]:
  """Source name -> ``[batch_size, image_size, image_size, 1]`` float32.

  Args:
    sources: names from :data:`IMAGE_SOURCES`: 'random' (i.i.d. N(0, 1)
      pixels), 'smooth' (white noise low-passed to ``cutoff`` cycles/pixel in
      a disk, scaled to unit std, times a radial bump reaching
      :data:`SMOOTH_WINDOW` of the inscribed radius:
      :func:`groups.synthetic.smooth_images`) or 'digits' (the first
      ``batch_size`` of :func:`data.embedded_digits`, the digit
      ``digit_size`` pixels wide on a black canvas).
    batch_size: images per source.
    image_size: side of the square images.
    rng: draws the 'random' and 'smooth' noise, in the order of ``sources``.
    cutoff: low-pass of 'smooth' images; needed only for them.
    digit_size: side of the upsampled digit in 'digits' images.

  Returns:
    Dict in the order of ``sources``.

  Raises:
    ValueError: for an unknown source, or more digits than there are.
  """
  shape = (batch_size, image_size, image_size, 1)
  images = {}
  for source in sources:
    if source == 'random':
      x = rng.standard_normal(shape, np.float32)
    elif source == 'smooth':
      x = synthetic.smooth_images(rng, shape, cutoff=cutoff, region='disk',
                                  normalize=True, window=SMOOTH_WINDOW)
    elif source == 'digits':
      x, _ = data.embedded_digits(canvas_size=image_size,
                                  digit_size=digit_size, limit=batch_size)
      if x.shape[0] < batch_size:
        raise ValueError(f'batch_size must be <= {x.shape[0]} (the number '
                         f'of digits); got {batch_size}.')
    else:
      raise ValueError(f'image_sources must hold only '
                       f'{", ".join(map(repr, IMAGE_SOURCES))}; got '
                       f'{source!r}.')
    images[source] = jnp.asarray(x)
  return images


def measure(networks: Mapping[str, Any], images: Mapping[str, jax.Array],
            transforms: Sequence[tuple[Mapping[str, Any], groups.Transform]],
            *, evaluate: Evaluate, network_key: str = 'network') -> list[Row]:
  """Every network on every image source under every transform.

  Args:
    networks: name -> network, handed to ``evaluate`` (jit it first: shapes
      never change).
    images: source name -> ``[B, H, W, 1]`` images.
    transforms: ``(fields, T)`` pairs; ``fields`` go into the rows of ``T``.
    evaluate: ``(name, network, x, T) -> rows`` (see the module docstring).
    network_key: the column that names the network.

  Returns:
    ``{network_key: name, 'images': source, **fields, **row}`` for every
    row ``evaluate`` gives, networks outermost, then sources, transforms.
  """
  rows = []
  for i, (name, network) in enumerate(networks.items()):
    start = time.perf_counter()
    for source, x in images.items():
      for fields, transform in transforms:
        for row in evaluate(name, network, x, transform):
          rows.append({network_key: name, 'images': source, **fields, **row})
    logging.info('measured %-18s (%2d/%d) in %.2f s', name, i + 1,
                 len(networks), time.perf_counter() - start)
  return rows


def write_outputs(rows: Sequence[Row], workdir: str,
                  outputs: Outputs) -> None:
  """Writes ``results.md``, ``results.csv`` and the plot; prints the tables."""
  tables = outputs.tables(rows)
  reporting.write_markdown(os.path.join(workdir, 'results.md'),
                           title=outputs.title, summary=outputs.summary,
                           tables=tables)
  reporting.write_csv(rows, os.path.join(workdir, 'results.csv'),
                      columns=outputs.csv_columns,
                      formats=outputs.csv_formats)
  outputs.plot(rows, os.path.join(workdir, outputs.plot_name))
  print('\n\n'.join(table for _, table in tables), flush=True)
  logging.info('wrote config.json, results.csv, results.md, %s to %s',
               outputs.plot_name, workdir)


def run(config: ml_collections.ConfigDict, workdir: str, *,
        networks: Callable[[np.random.Generator], Mapping[str, Any]],
        transforms: Sequence[tuple[Mapping[str, Any], groups.Transform]],
        evaluate: Evaluate, outputs: Outputs, image_size: int,
        digit_size: int = 24, network_key: str = 'network') -> list[Row]:
  """Draws parameters and images, measures, and writes the results.

  The front-end checks ``config`` first (:func:`check_config`).

  Args:
    config: reads ``seed``, ``batch_size``, ``image_sources`` and, for
      'smooth' images, ``cutoff``.
    workdir: output folder (created if missing).
    networks: ``params_rng -> {name: network}``.
    transforms, evaluate, network_key: as in :func:`measure`.
    outputs: what to write besides ``config.json``.
    image_size, digit_size: as in :func:`load_images`.

  Returns:
    The rows of :func:`measure`, also in ``results.csv``.
  """
  reporting.write_config(config, workdir)
  built = networks(np.random.default_rng([config.seed, 0]))
  images = load_images(config.image_sources, batch_size=config.batch_size,
                       image_size=image_size, cutoff=config.get('cutoff'),
                       digit_size=digit_size,
                       rng=np.random.default_rng([config.seed, 1]))
  logging.info('measuring %d networks on %s under %d transforms',
               len(built), ', '.join(images), len(transforms))
  rows = measure(built, images, transforms, evaluate=evaluate,
                 network_key=network_key)
  write_outputs(rows, workdir, outputs)
  return rows
