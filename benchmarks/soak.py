"""Soak test: a long tiny training run keeps memory, files and outputs bounded.

    python -m benchmarks.soak [--steps 20000] [--sample_every 1000]
        [--workdir runs/soak] [--out benchmarks/results/soak.md]

Runs ``python main.py --config=experiments/configs/train.py:tiny`` for
``--steps`` steps (logging every 100, evaluating and checkpointing every 1000,
keeping 3 checkpoints) as a child process, exactly as a user would, and
watches it from outside with psutil: every ``--sample_every`` steps (seen in
its ``metrics.jsonl``) it records the child's resident memory (RSS), its open
file descriptors (``num_fds``, i.e. ``/proc/<pid>/fd``) and its threads. At the
end it checks that

* RSS after warm-up (``--warmup`` steps: compile, first evaluation and
  checkpoint done) grows by at most ``--max_rss_growth_mib``;
* the number of open files does not grow: the fewest open in the second
  half of the samples after warm-up is not above the fewest in the first
  half (a checkpoint save holds a few more for a moment);
* ``metrics.jsonl`` has exactly one line per logging and evaluation event,
  the TensorBoard event file exactly one record per scalar (plus its header),
  and ``checkpoints/`` holds ``max_checkpoints`` steps, the last one final;

prints the samples as a markdown table with the CPU name, writes it to
``--out``, and exits 1 if a check fails. Not part of ``python -m pytest``:
20,000 steps take minutes.

Measured (benchmarks/results/soak.md; AMD EPYC, 2 shared cores, 556 s): RSS
717.4 MiB at step 2000 -> 725.2 MiB at step 20,000 (+1.1%), open files 7..18
with no growth, 220 metric lines and 841 TensorBoard records as expected.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import struct
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

try:
  import psutil
except ImportError as error:  # not a dependency of the library
  raise ImportError('benchmarks/soak.py needs psutil: pip install psutil'
                    ) from error

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO, 'benchmarks', 'results', 'soak.md')
LOG_EVERY = 100
EVAL_EVERY = 1000
CHECKPOINT_EVERY = 1000
MAX_CHECKPOINTS = 3
# Scalars per event (experiments/train/loop.py: log_interval, maybe_evaluate).
TRAIN_SCALARS = ('train/loss', 'train/accuracy', 'train/learning_rate',
                 'perf/steps_per_sec')
EVAL_SCALARS = ('eval/loss', 'eval/accuracy')


def command(workdir: str, steps: int) -> list[str]:
  """The ``main.py`` command line of the soak run."""
  return [sys.executable, os.path.join(REPO, 'main.py'),
          '--config=experiments/configs/train.py:tiny', f'--workdir={workdir}',
          f'--config.num_train_steps={steps}',
          f'--config.log_every={LOG_EVERY}',
          f'--config.eval_every={EVAL_EVERY}',
          f'--config.checkpoint_every={CHECKPOINT_EVERY}',
          f'--config.max_checkpoints={MAX_CHECKPOINTS}']


def last_logged_step(metrics_path: str) -> int:
  """The highest step in ``metrics.jsonl`` so far (0 if none)."""
  try:
    with open(metrics_path, 'rb') as f:
      f.seek(max(os.path.getsize(metrics_path) - 4096, 0))
      lines = f.read().decode('utf-8', errors='replace').splitlines()
  except FileNotFoundError:
    return 0
  for line in reversed(lines):
    try:
      return int(json.loads(line)['step'])
    except (ValueError, KeyError):  # a line being written, or cut by seek
      continue
  return 0


def expected_events(steps: int) -> tuple[int, int]:
  """``(train logging events, evaluation events)`` of a run of ``steps``."""
  train = sum(1 for s in range(1, steps + 1)
              if s % LOG_EVERY == 0 or s % CHECKPOINT_EVERY == 0 or s == steps)
  evals = sum(1 for s in range(1, steps + 1)
              if s % EVAL_EVERY == 0 or s == steps)
  return train, evals


def count_tfrecords(path: str) -> int:
  """Records in a TFRecord file (TensorBoard's event file framing).

  Each record is ``uint64 length, uint32 crc, data[length], uint32 crc``.

  Raises:
    ValueError: if the file ends inside a record.
  """
  count = 0
  with open(path, 'rb') as f:
    while True:
      header = f.read(12)
      if not header:
        return count
      if len(header) < 12:
        raise ValueError(f'{path}: truncated record header')
      (length,) = struct.unpack('<Q', header[:8])
      body = f.read(length + 4)
      if len(body) < length + 4:
        raise ValueError(f'{path}: truncated record')
      count += 1


def sample(process: psutil.Process, step: int, start: float
           ) -> dict[str, Any]:
  """One row of the table: the child's memory, files and threads now."""
  with process.oneshot():
    return {'step': step, 'elapsed_s': round(time.monotonic() - start, 1),
            'rss_mib': round(process.memory_info().rss / 2**20, 1),
            'open_fds': process.num_fds(),
            'threads': process.num_threads()}


def soak(*, workdir: str, steps: int, sample_every: int,
         poll_seconds: float = 0.2) -> tuple[list[dict[str, Any]], int, float]:
  """Runs the child and samples it; returns ``(rows, returncode, seconds)``."""
  os.makedirs(workdir, exist_ok=True)
  metrics_path = os.path.join(workdir, 'metrics.jsonl')
  log_path = os.path.join(workdir, 'soak_child.log')
  start = time.monotonic()
  with open(log_path, 'w') as log:
    child = subprocess.Popen(command(workdir, steps), cwd=REPO, stdout=log,
                             stderr=subprocess.STDOUT)
    process = psutil.Process(child.pid)
    rows: list[dict[str, Any]] = []
    next_sample = sample_every
    while child.poll() is None:
      step = last_logged_step(metrics_path)
      if step >= next_sample:
        try:
          rows.append(sample(process, step, start))
        except psutil.NoSuchProcess:
          break
        print(' | '.join(f'{k} {v}' for k, v in rows[-1].items()),
              flush=True)
        next_sample = (step // sample_every + 1) * sample_every
      time.sleep(poll_seconds)
    returncode = child.wait()
  return rows, returncode, time.monotonic() - start


def check_outputs(workdir: str, steps: int) -> list[tuple[str, str, bool]]:
  """``(what, measured, ok)`` for the files the run left in ``workdir``."""
  checks = []
  train_events, eval_events = expected_events(steps)
  metrics_path = os.path.join(workdir, 'metrics.jsonl')
  with open(metrics_path) as f:
    lines = [json.loads(line) for line in f if line.strip()]
  want = train_events + eval_events
  checks.append((
      'metrics.jsonl lines',
      f'{len(lines)} (expected {want}: {train_events} train + {eval_events} '
      f'eval), {os.path.getsize(metrics_path) / 1024:.1f} KiB',
      len(lines) == want and lines[-1]['step'] == steps))
  events = sorted(f for f in os.listdir(workdir) if 'tfevents' in f)
  records = sum(count_tfrecords(os.path.join(workdir, f)) for f in events)
  size = sum(os.path.getsize(os.path.join(workdir, f)) for f in events)
  want = (len(events) + train_events * len(TRAIN_SCALARS) +
          eval_events * len(EVAL_SCALARS))  # + one header record per file
  checks.append((
      'TensorBoard event records',
      f'{records} in {len(events)} file(s) (expected {want}), '
      f'{size / 1024:.1f} KiB = {size / max(records, 1):.0f} B/record',
      records == want and len(events) == 1))
  saved = sorted(int(d) for d in os.listdir(os.path.join(
      workdir, 'checkpoints')) if d.isdigit())
  want_saved = list(range(steps - (MAX_CHECKPOINTS - 1) * CHECKPOINT_EVERY,
                          steps + 1, CHECKPOINT_EVERY))
  checks.append(('checkpoints kept', f'{saved} (expected {want_saved})',
                 saved == want_saved))
  return checks


def report(rows: Sequence[dict[str, Any]], *, steps: int, warmup: int,
           seconds: float, returncode: int, max_rss_growth_mib: float,
           checks: list[tuple[str, str, bool]], argv: Sequence[str]) -> str:
  """The markdown report; adds the memory and file checks to ``checks``."""
  after = [r for r in rows if r['step'] >= warmup]
  if after:
    first, last = after[0], rows[-1]
    peak = max(r['rss_mib'] for r in after)
    growth = last['rss_mib'] - first['rss_mib']
    middle = after[len(after) // 2]

    def rate(a, b):  # MiB per 1000 steps between two samples
      return 1000 * (b['rss_mib'] - a['rss_mib']) / max(b['step'] - a['step'],
                                                         1)
    checks.insert(0, (
        'RSS after warm-up',
        f"{first['rss_mib']} MiB at step {first['step']} -> {last['rss_mib']} "
        f"MiB at step {last['step']} ({growth:+.1f} MiB, "
        f"{100 * growth / first['rss_mib']:+.1f}%; peak {peak} MiB; limit "
        f'+{max_rss_growth_mib:g} MiB); per 1000 steps '
        f"{rate(first, middle):+.2f} MiB up to step {middle['step']}, "
        f'{rate(middle, last):+.2f} MiB after',
        peak - first['rss_mib'] <= max_rss_growth_mib))
    # Saves open files for a moment (orbax's async writes), so compare the
    # floor: a leak raises the fewest files open in the second half.
    half = len(after) // 2
    floor_first = min(r['open_fds'] for r in after[:max(half, 1)])
    floor_last = min(r['open_fds'] for r in after[half:])
    checks.insert(1, (
        'open file descriptors',
        f'fewest open {floor_first} (steps {after[0]["step"]}..'
        f'{after[max(half, 1) - 1]["step"]}) -> {floor_last} (steps '
        f'{after[half]["step"]}..{last["step"]}); range '
        f'{min(r["open_fds"] for r in after)}..'
        f'{max(r["open_fds"] for r in after)}',
        floor_last <= floor_first))
  else:
    checks.insert(0, ('samples after warm-up', 'none', False))
  checks.append(('exit status', str(returncode), returncode == 0))
  columns = ['step', 'elapsed_s', 'rss_mib', 'open_fds', 'threads']
  table = ['| ' + ' | '.join(columns) + ' |', '|' + '---:|' * len(columns)]
  table += ['| ' + ' | '.join(str(r[c]) for c in columns) + ' |'
            for r in rows]
  summary = ['| check | measured | ok |', '|---|---|---|']
  summary += [f'| {what} | {measured} | {"yes" if ok else "NO"} |'
              for what, measured, ok in checks]
  # Imported here: the soak itself runs without JAX in this process.
  from benchmarks import common  # pylint: disable=g-import-not-at-top
  return '\n'.join([
      '# Soak: a long tiny training run', '',
      f'Command: `python -m benchmarks.soak{"".join(" " + a for a in argv)}`',
      '',
      f'Child: `{" ".join(command("<workdir>", steps)[1:])}` (main.py with '
      f'the tiny config: 4-4 CNN with batch norm, batch 32, 256 digits).', '',
      f'Machine: {common.cpu_name()}, {os.cpu_count()} cores, Python '
      f'{platform.python_version()}, psutil {psutil.__version__}. '
      f'{steps} steps in {seconds:.0f} s ({steps / seconds:.0f} steps/s '
      f'including start-up, evaluation and checkpoints; the machine may be '
      f'shared with other jobs). Warm-up: the first {warmup} steps.', '',
      'Sampled from outside (psutil on the child) when `metrics.jsonl` '
      'reaches each multiple of the sampling interval:', '',
      *table, '', *summary, ''])


def main(argv: Sequence[str] | None = None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--steps', type=int, default=20_000)
  parser.add_argument('--sample_every', type=int, default=1000)
  parser.add_argument('--warmup', type=int, default=2000,
                      help='steps before the RSS baseline')
  parser.add_argument('--max_rss_growth_mib', type=float, default=32.0)
  parser.add_argument('--workdir', default=os.path.join('runs', 'soak'))
  parser.add_argument('--out', default=DEFAULT_OUT)
  argv = sys.argv[1:] if argv is None else list(argv)
  args = parser.parse_args(argv)
  for name in ('steps', 'sample_every', 'warmup'):
    if getattr(args, name) < 1:
      raise ValueError(f'--{name} must be >= 1; got {getattr(args, name)}.')
  if args.steps % CHECKPOINT_EVERY or args.steps < MAX_CHECKPOINTS * (
      CHECKPOINT_EVERY):
    raise ValueError(f'--steps must be a multiple of {CHECKPOINT_EVERY} and '
                     f'>= {MAX_CHECKPOINTS * CHECKPOINT_EVERY}; got '
                     f'{args.steps}.')
  workdir = os.path.abspath(args.workdir)
  if os.path.exists(os.path.join(workdir, 'metrics.jsonl')):
    raise ValueError(f'--workdir {workdir} holds a run already; the soak '
                     f'needs a fresh one (delete it or pass another).')
  rows, returncode, seconds = soak(workdir=workdir, steps=args.steps,
                                   sample_every=args.sample_every)
  checks = check_outputs(workdir, args.steps) if returncode == 0 else []
  text = report(rows, steps=args.steps, warmup=args.warmup, seconds=seconds,
                returncode=returncode,
                max_rss_growth_mib=args.max_rss_growth_mib, checks=checks,
                argv=argv)
  print(text)
  os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
  with open(args.out, 'w') as f:
    f.write(text)
  return 0 if all(ok for _, _, ok in checks) else 1


if __name__ == '__main__':
  sys.exit(main())
