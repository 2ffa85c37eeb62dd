"""Writing results: the config, CSV rows and number formatting shared by experiments."""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from typing import Any

import ml_collections
import numpy as np

Row = dict[str, Any]


def write_config(config: ml_collections.ConfigDict, workdir: str) -> None:
  """Creates ``workdir`` if needed and saves ``config`` as ``config.json``."""
  os.makedirs(workdir, exist_ok=True)
  with open(os.path.join(workdir, 'config.json'), 'w') as f:
    f.write(config.to_json(indent=2))


def write_csv(rows: Sequence[Row], path: str, *,
              columns: Sequence[str] | None = None) -> None:
  """Writes ``rows`` to ``path``; floats with ``repr`` (round-trip exact).

  Args:
    rows: dicts of cell values.
    path: output file.
    columns: column order; defaults to the keys of the rows, first seen first.
  """
  if columns is None:
    columns = list(dict.fromkeys(k for r in rows for k in r))
  with open(path, 'w', newline='') as f:
    writer = csv.DictWriter(f, fieldnames=columns)
    writer.writeheader()
    for r in rows:
      writer.writerow({k: repr(float(v)) if isinstance(v, (float, np.floating))
                       else v for k, v in r.items()})


def format_error(error: float) -> str:
  """``0`` for exact zeros, ``0.123`` from 0.01 up, ``1.2e-07`` below."""
  if error == 0:
    return '0'
  if abs(error) >= 1e-2:
    return f'{error:.3f}'
  return f'{error:.1e}'


def check_image_sources(sources: Sequence[str],
                        accepted: Sequence[str]) -> None:
  """Checks ``config.image_sources`` is a non-empty subset of ``accepted``."""
  sources = tuple(sources)
  if not sources or any(s not in accepted for s in sources):
    raise ValueError(f'config.image_sources must be a non-empty subset of '
                     f'{tuple(accepted)}; got {sources!r}.')
