"""Writing results shared by experiments: the config, CSV rows, markdown tables.

Result rows are dicts of cell values, one per measurement. Every markdown
table of the project is written by :func:`markdown_table` (directly, or
through :func:`pivot_table`).
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


def read_csv(path: str) -> list[Row]:
  """Rows of a CSV file (e.g. :func:`write_csv`'s); cells that read as an
  int or a float come back as numbers, the rest as strings."""
  def parse(value: str) -> Any:
    for kind in (int, float):
      try:
        return kind(value)
      except ValueError:
        pass
    return value
  with open(path, newline='') as f:
    return [{k: parse(v) for k, v in r.items()} for r in csv.DictReader(f)]


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


ALIGNMENTS = {'left': '---', 'right': '---:'}


def markdown_table(rows: Sequence[Mapping[str, Any]],
                   columns: Sequence[str] | Mapping[str, str], *,
                   formats: Mapping[str, Callable[[Any], str]] | None = None,
                   default_format: Callable[[Any], str] = str,
                   align: Sequence[str] | None = None) -> str:
  """A markdown table: a header line, an alignment line, a line per row.

  The one table writer of the project: every results table goes through it.

  Args:
    rows: dicts of cell values, one line each (in order).
    columns: the keys of the cells, in column order; a mapping ``key ->
      header`` names the header cells, a sequence uses the keys.
    formats: ``key -> function`` writing that column's cells (e.g. ``lambda v:
      f'{100 * v:.1f}'``); other columns use ``default_format``. A key
      missing from a row leaves its cell empty.
    default_format: writes the cells of columns without a format (``str``).
    align: one of 'left' or 'right' per column; None puts the first column
      on the left and the others (numbers) on the right.

  Returns:
    The table, without a trailing newline.

  Raises:
    ValueError: for no columns, or an ``align`` of the wrong length or with
      other values than 'left' and 'right'.
  """
  headers = (dict(columns) if isinstance(columns, Mapping) else
             {key: str(key) for key in columns})
  if not headers:
    raise ValueError('columns must name at least one column; got none.')
  if align is None:
    align = ['left'] + ['right'] * (len(headers) - 1)
  align = list(align)
  if len(align) != len(headers) or any(a not in ALIGNMENTS for a in align):
    raise ValueError(f'align must hold one of {sorted(ALIGNMENTS)} per column '
                     f'({len(headers)}); got {align!r}.')
  formats = dict(formats or {})
  unknown = sorted(map(str, set(formats) - set(headers)))
  if unknown:
    raise ValueError(f'formats must name columns of the table '
                     f'{list(headers)}; got {unknown}.')
  lines = ['| ' + ' | '.join(headers.values()) + ' |',
           '|' + ''.join(ALIGNMENTS[a] + '|' for a in align)]
  for row in rows:
    lines.append('| ' + ' | '.join(
        formats.get(key, default_format)(row[key]) if key in row else ''
        for key in headers) + ' |')
  return '\n'.join(lines)


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
  # Cells keyed by position: a column value may equal an index key.
  keys = [('index', k) for k in index] + [('value', c) for c in columns]
  table = [{**dict(zip(keys[:len(index)], key)),
            **{('value', c): v for c, v in values.items()}}
           for key, values in lines.items()]
  return markdown_table(
      table, dict(zip(keys, list(index) + [header(c) for c in columns])),
      formats={k: format_error for k in keys[len(index):]},
      align=['left'] * len(index) + ['right'] * len(columns))


def format_error(error: float) -> str:
  """``0`` for exact zeros, ``0.123`` from 0.01 up, ``1.2e-07`` below."""
  if error == 0:
    return '0'
  if abs(error) >= 1e-2:
    return f'{error:.3f}'
  return f'{error:.1e}'

