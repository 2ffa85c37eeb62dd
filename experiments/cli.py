"""Command-line glue for ``main.py``: flags, multi-process start-up, exit codes."""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from typing import Any

from absl import app
from absl import logging
import jax
import ml_collections

import experiments
from experiments.train import config_history
from experiments.train import preemption
from experiments.train import workdir_lock

# Exit statuses of main.py besides 0 (done) and 1 (any other error); the
# numbers are BSD sysexits.h codes, so a scheduler can tell them apart:
BUSY_EXIT_CODE = 69          # EX_UNAVAILABLE: another live run holds --workdir
INCOMPATIBLE_EXIT_CODE = 78  # EX_CONFIG: the config breaks the checkpoints
REQUEUE_EXIT_CODE = preemption.REQUEUE_EXIT_CODE  # 75, EX_TEMPFAIL: re-run


def parse_flags(argv: Sequence[str]) -> list[str]:
  """absl's flag parsing; an unknown ``--config.<key>`` is a one-line error.

  ml_collections reports a typo'd override as an AttributeError (with a
  "Did you mean" hint) from inside flag parsing; this prints it the way absl
  prints its own flag errors and exits with status 1, before any work.
  """
  try:
    return app.parse_flags_with_usage(list(argv))
  except (AttributeError, KeyError) as error:
    text = str(error.args[0] if error.args else error).replace('\\n', '\n')
    key = re.search(r'[A-Za-z_][\w.]*', text)
    hint = re.search(r'Did you mean[^?]*\?', text)
    sys.stderr.write(
        'FATAL Flags parsing error: unknown config key '
        f"'{key.group(0) if key else text}'"
        + (f'. {hint.group(0)}' if hint else '') + '\n')
    sys.exit(1)


def initialize_distributed(*, enabled: bool, coordinator_address: str | None,
                           num_processes: int | None,
                           process_id: int | None) -> None:
  """Calls ``jax.distributed.initialize`` for ``--distributed`` runs.

  Arguments left as None are auto-detected by JAX (Slurm, Open MPI, TPU pods).

  Raises:
    app.UsageError: if a process argument is given without ``enabled``.
  """
  given = {name: value for name, value in (
      ('coordinator_address', coordinator_address),
      ('num_processes', num_processes), ('process_id', process_id))
           if value is not None}
  if not enabled:
    if given:
      raise app.UsageError(f'{", ".join("--" + name for name in given)} '
                           'given without --distributed.')
    return
  jax.distributed.initialize(**given)


def run_experiment(config: ml_collections.ConfigDict, workdir: str) -> Any:
  """Runs the experiment with ``workdir`` locked; maps stops to exit codes.

  Exits with :data:`BUSY_EXIT_CODE` and one message naming the holder when
  another live run holds ``workdir`` (before anything is written), with
  :data:`INCOMPATIBLE_EXIT_CODE` and one message naming the changed keys when
  the config changed in a way the workdir's checkpoints cannot follow
  (before any restore), and with :data:`REQUEUE_EXIT_CODE` after a SIGTERM /
  SIGINT stop (the step is saved; the same command resumes).
  """
  try:
    with workdir_lock.WorkdirLock(workdir, enabled=jax.process_index() == 0):
      return experiments.run(config, workdir)
  except workdir_lock.WorkdirBusyError as error:
    sys.stderr.write(f'FATAL {error}\n')
    sys.exit(BUSY_EXIT_CODE)
  except config_history.IncompatibleConfigError as error:
    sys.stderr.write(f'FATAL {error}\n')
    sys.exit(INCOMPATIBLE_EXIT_CODE)
  except preemption.Preempted as stop:
    logging.warning('%s', stop)
    sys.stderr.write(f'{stop}\n')
    sys.exit(REQUEUE_EXIT_CODE)
