"""Test error over seeds: the mean and spread of several runs of one protocol.

The P4CNN paper reports the mean over 5 seeds (Cohen & Welling 2016, Table
1: 2.28 +- 0.0004); one run's 95 % interval covers only the sampling of the
test digits, not the seed. This tool reads the ``results.csv`` that each
study run writes (:mod:`experiments.study`) and tabulates them::

  python -m experiments.seed_summary \\
      --results=seed0=results/mnist_rot/p4cnn_100ep/results.csv \\
      --results=seed1=results/mnist_rot/p4cnn_seed1/results.csv \\
      --out=results/mnist_rot/p4cnn_seeds

Writes ``seeds.csv`` (one row per run, then ``mean`` and ``std`` rows) and
``seeds.md`` under ``--out``. ``std`` is the sample standard deviation over
runs (``ddof=1``; NaN for one run), ``sem`` the standard error of the mean;
errors are fractions (0.0228 = 2.28 %). Nothing is trained or evaluated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
import csv
import os
import shlex
import sys

from absl import app
from absl import flags
import numpy as np

from experiments import reporting

COLUMNS = ('run', 'label', 'steps', 'num_eval', 'test_error',
           'test_error_ci95_low', 'test_error_ci95_high', 'total_seconds')
_FLOATS = ('test_error', 'test_error_ci95_low', 'test_error_ci95_high',
           'total_seconds')



def _define_flags() -> dict[str, flags.FlagHolder]:
  """The command's flags, defined only when it runs as a script: the other
  post-hoc tools define ``--out`` too (experiments.trained_runs), and a test
  process may import them all."""
  return dict(
      results=flags.DEFINE_multi_string(
          'results', [], 'NAME=PATH of a study run\'s results.csv (repeat).'),
      label=flags.DEFINE_string(
          'label', None,
          'Model label to read when a results.csv has several rows.'),
      out=flags.DEFINE_string('out', None,
                              'Folder for seeds.csv and seeds.md.'))


def parse_results_flag(value: str) -> tuple[str, str]:
  """``'NAME=PATH'`` -> ``(NAME, PATH)``."""
  name, sep, path = value.partition('=')
  if not sep or not name or not path:
    raise ValueError(f'--results must be NAME=PATH (e.g. seed1=runs/x/'
                     f'results.csv); got {value!r}.')
  return name, path


def load_result(path: str, label: str | None = None) -> dict[str, object]:
  """The row of ``label`` (or the only row) of a study ``results.csv``."""
  if not os.path.isfile(path):
    raise ValueError(f'results path {path!r} is not a file (a study run '
                     f'writes <workdir>/results.csv when it finishes).')
  with open(path, newline='') as f:
    rows = list(csv.DictReader(f))
  if label is not None:
    rows = [r for r in rows if r.get('label') == label]
  if len(rows) != 1:
    labels = [r.get('label') for r in rows]
    which = f' with label {label!r}' if label else ''
    raise ValueError(f'{path}: expected one row{which}, found {len(rows)} '
                     f'({labels}); pass --label.')
  row = rows[0]
  missing = [c for c in COLUMNS[1:] if c not in row]
  if missing:
    raise ValueError(f'{path} lacks the columns {missing}; it must come from '
                     f'experiments.study (columns {list(COLUMNS[1:])}).')
  out: dict[str, object] = {c: row[c] for c in COLUMNS[1:]}
  for c in _FLOATS:
    out[c] = float(row[c])
  out['steps'], out['num_eval'] = int(row['steps']), int(row['num_eval'])
  return out


def summarize(results: Mapping[str, Mapping[str, object]]
              ) -> list[dict[str, object]]:
  """Rows per run, then ``mean`` and ``std`` (and ``sem`` in both) rows.

  Args:
    results: run name -> the :func:`load_result` row.

  Returns:
    ``[{run, label, steps, num_eval, test_error, ...}, ..., mean, std]``.
  """
  if not results:
    raise ValueError('results must name at least one run (--results).')
  rows = [{'run': name, **row} for name, row in results.items()]
  errors = np.array([r['test_error'] for r in rows], np.float64)
  std = float(np.std(errors, ddof=1)) if len(errors) > 1 else float('nan')
  sem = std / np.sqrt(len(errors))
  for name, value in (('mean', float(np.mean(errors))), ('std', std)):
    rows.append({'run': name, 'label': rows[0]['label'],
                 'num_eval': len(errors), 'test_error': value, 'sem': sem,
                 'min': float(errors.min()), 'max': float(errors.max())})
  return rows


def markdown_table(rows: Sequence[Mapping[str, object]]) -> str:
  """One line per run, then the mean with its spread (the last two rows)."""
  table = [dict(run=r['run'], steps=r['steps'],
                error=f"{100 * r['test_error']:.2f} %",
                interval=f"{100 * r['test_error_ci95_low']:.2f}-"
                         f"{100 * r['test_error_ci95_high']:.2f} %")
           for r in rows if r['run'] not in ('mean', 'std')]
  mean, std = rows[-2], rows[-1]
  spread = (f"{100 * std['test_error']:.2f}" if np.isfinite(std['test_error'])
            else 'n/a (one run)')
  mean_run = f"**mean of {mean['num_eval']}**"
  table.append(dict(run=mean_run, steps='',
                    error=f"**{100 * mean['test_error']:.2f} %**",
                    interval=f"std {spread}, s.e.m. {100 * mean['sem']:.2f}, "
                             f"range {100 * mean['min']:.2f}-"
                             f"{100 * mean['max']:.2f} %"))
  text = reporting.markdown_table(
      table, {'run': 'run', 'steps': 'steps', 'error': 'test error',
              'interval': '95 % interval (test digits)'},
      align=['left', 'right', 'right', 'left'])
  # The committed seeds.md writes the mean's empty steps cell as '| |'.
  return text.replace(f'| {mean_run} |  |', f'| {mean_run} | |')


def main(argv: Sequence[str]) -> None:
  del argv
  out = _FLAGS['out'].value
  if not out:
    raise app.UsageError('--out is required.')
  results = {}
  for value in _FLAGS['results'].value:
    name, path = parse_results_flag(value)
    results[name] = load_result(path, _FLAGS['label'].value)
  rows = summarize(results)
  os.makedirs(out, exist_ok=True)
  reporting.write_csv(rows, os.path.join(out, 'seeds.csv'))
  command = 'python -m experiments.seed_summary ' + ' '.join(
      shlex.quote(a) for a in sys.argv[1:])
  reporting.write_markdown(
      os.path.join(out, 'seeds.md'), title='Test error over seeds',
      summary=f'`{command}`\n\nEach run on its n test digits (95 % Wilson '
              'interval); the mean, sample standard deviation and standard '
              'error of the mean over runs.',
      tables=[('', markdown_table(rows))])
  print(markdown_table(rows))


if __name__ == '__main__':
  _FLAGS = _define_flags()
  app.run(main)
