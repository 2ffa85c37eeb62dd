"""Writing results shared by experiments: the config, CSV rows, markdown tables.

Result rows are dicts of cell values, one per measurement.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Mapping, Sequence
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
              columns: Sequence[str] | None = None,
              formats: Mapping[str, Callable[[Any], str]] | None = None
              ) -> None:
  """Writes ``rows`` to ``path``; floats with ``repr`` (round-trip exact).

  Args:
    rows: dicts of cell values.
    path: output file.
    columns: column order; defaults to the keys of the rows, first seen first.
    formats: column -> function writing its cells (instead of ``repr``).
  """
  if columns is None:
    columns = list(dict.fromkeys(k for r in rows for k in r))
  formats = formats or {}
  with open(path, 'w', newline='') as f:
    writer = csv.DictWriter(f, fieldnames=columns)
    writer.writeheader()
    for r in rows:
      writer.writerow({
          k: formats[k](v) if k in formats else
          repr(float(v)) if isinstance(v, (float, np.floating)) else v
          for k, v in r.items()})


def write_markdown(path: str, *, title: str, summary: str,
                   tables: Sequence[tuple[str, str]]) -> None:
  """Writes ``# title``, the summary paragraph and the tables to ``path``.

  Args:
    path: output file (``results.md``).
    title: the top heading.
    summary: a paragraph saying what was measured.
    tables: ``(heading, markdown table)`` pairs; an empty heading puts the
      table straight under the previous text, others get a ``##`` heading.
  """
  sections = [f'# {title}', summary] + [
      f'## {heading}\n\n{table}' if heading else table
      for heading, table in tables]
  with open(path, 'w') as f:
    f.write('\n\n'.join(sections) + '\n')


def pivot_table(rows: Sequence[Row], *, index: Sequence[str], column: str,
                header: Callable[[Any], str], value: str = 'error') -> str:
  """Markdown table: a line per ``index`` key, a column per ``column`` value.

  Args:
    rows: result rows holding the ``index``, ``column`` and ``value`` keys.
    index: keys whose values name a line (lines in first-seen order).
    column: key whose sorted values are the numeric columns.
    header: column value -> its header cell.
    value: key of the numbers, written with :func:`format_error`; a missing
      one leaves its cell empty.

  Returns:
    The table, without a trailing newline.
  """
  columns = sorted({r[column] for r in rows})
  lines: dict[tuple[Any, ...], dict[Any, float]] = {}
  for r in rows:
    lines.setdefault(tuple(r[k] for k in index), {})[r[column]] = r[value]
  text = ['| ' + ' | '.join(list(index) + [header(c) for c in columns]) + ' |',
          '|' + '---|' * len(index) + '---:|' * len(columns)]
  for key, values in lines.items():
    cells = [str(k) for k in key] + [
        format_error(values[c]) if c in values else '' for c in columns]
    text.append('| ' + ' | '.join(cells) + ' |')
  return '\n'.join(text)


def format_error(error: float) -> str:
  """``0`` for exact zeros, ``0.123`` from 0.01 up, ``1.2e-07`` below."""
  if error == 0:
    return '0'
  if abs(error) >= 1e-2:
    return f'{error:.3f}'
  return f'{error:.1e}'

