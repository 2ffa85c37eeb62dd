"""Runs the peer benchmark sections and writes the table."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from benchmarks import common
from benchmarks.peers import group_cases
from benchmarks.peers import harness
from benchmarks.peers import layer_cases
from benchmarks.peers import p4cnn
from benchmarks.peers import steerable_cases

_RUNNERS = {'blur': layer_cases.blur_rows, 'layers': layer_cases.layer_rows,
            'gconv': group_cases.gconv_rows,
            'profile': group_cases.profile_rows, 'p4cnn': p4cnn.p4cnn_rows,
            'harmonic': group_cases.harmonic_rows,
            'steerable': steerable_cases.steerable_rows,
            'autotune': layer_cases.autotune_rows}
SECTIONS = tuple(_RUNNERS)


def run(*, sections: Sequence[str], quick: bool, out: str | None,
        rounds: int = 3, repeats: int = 5) -> list[dict[str, Any]]:
  """Runs ``sections``, prints progress and the table; returns the rows.

  Args:
    sections: names in :data:`SECTIONS`.
    quick: one case per section.
    out: folder for ``peers.csv`` / ``peers.md``; None writes nothing.
    rounds, repeats: timing (see :func:`common.interleaved_samples`; the
      minimum counts).
  """
  unknown = [s for s in sections if s not in SECTIONS]
  if unknown or not sections:
    raise ValueError(f'sections must be a non-empty list of '
                     f'{", ".join(SECTIONS)}; got {list(sections)}.')
  bench = harness.Bench(rounds=rounds, repeats=repeats)
  header = (f'{common.machine_summary()}\nmatmul peak '
            f'{bench.peak_gflops:.0f} GFLOP/s (jitted 2048^2 float32); '
            f'load average {common.load_average()} at the start')
  print(header)
  print(f'torch {bench.torch.__version__} with '
        f'{bench.torch.get_num_threads()} threads', flush=True)
  rows = []
  for section in sections:
    start = time.perf_counter()
    print(f'[{section}] ...', flush=True)
    for row in _RUNNERS[section](bench, quick):
      rows.append(row.as_dict())
      print(f'  {row.case}: equivlab {row.equivlab_ms:.1f} ms, '
            f'{row.peer} {row.peer_ms:.1f} ms, ratio {row.ratio:.2f}'
            + ('' if np.isnan(row.before_ms) else
               f' (before {row.before_ms:.1f} ms, {row.before_ratio:.2f})'),
            flush=True)
    print(f'[{section}] done in {time.perf_counter() - start:.0f} s',
          flush=True)
  columns = ('section', 'case', 'equivlab_ms', 'peer', 'peer_ms', 'ratio',
             'before_ms', 'before_ratio', 'equivlab_gflops', 'check')
  table = common.format_table(rows, columns)
  print(table)
  if out:
    common.write_csv(os.path.join(out, 'peers.csv'), rows)
    with open(os.path.join(out, 'peers.md'), 'w') as f:
      f.write(f'{header}\n\n'
              f'`{" ".join(["python -m benchmarks.peers"] + sys.argv[1:])}`'
              f'\n\n{table}\n')
    print(f'wrote {out}/peers.csv and peers.md')
  return rows
