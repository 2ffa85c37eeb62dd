"""Runs an equivlab experiment; all logic lives in :mod:`experiments`.

  python main.py                  # default: the invariance study, quick mode
  python main.py --config.dataset=mnist --config.quick=False
  python main.py --config=experiments/configs/probe.py   # no-training probe
  python main.py --config=experiments/configs/train.py --workdir=runs/cnn
  python main.py --config=experiments/configs/train.py:tiny   # smoke test

--workdir defaults to runs/<config file stem> (runs/train_tiny for
--config=.../train.py:tiny), relative to the current folder; the default
--config is resolved relative to this file.

Training uses every local device (``--config.num_devices``). On a cluster,
start the same command once per host with ``--distributed`` (and, outside
Slurm / Open MPI / TPU pods, ``--coordinator_address=<host 0>:<port>
--num_processes=<hosts> --process_id=<this host's rank>``).

One run per workdir: a second command on a busy --workdir exits 69 at once
(EX_UNAVAILABLE); a config change that the workdir's checkpoints cannot follow
exits 78 (EX_CONFIG) before restoring anything.
SIGTERM / Ctrl-C save the current step and exit 75 (EX_TEMPFAIL): run the same
command again to resume.

Convolutions run on oneDNN where its library can be built (first use:
a few seconds), else on XLA; ``--conv_backend=xla`` (or
``EQUIVLAB_CONV_BACKEND=xla``) keeps XLA. The log says which.
"""

import os

from experiments import mlir_context
from experiments import runtime

runtime.use_huge_pages()  # may re-execute this command (see its docstring)
# XLA:CPU's older loop emitters: train steps compile 15-40 % faster at the
# same step time within noise (benchmarks/results/fast_compile.md);
# EQUIVLAB_FAST_COMPILE=0 keeps XLA's default code generation.
runtime.use_fast_compile(default=True)
# EQUIVLAB_SHARED_MLIR=1: one MLIR context for many lowerings (opt-in; the
# test suite turns it on; experiments/mlir_context.py).
mlir_context.use_from_environment(default=False)

# pylint: disable=g-import-not-at-top,wrong-import-position
from absl import app
from absl import flags
from absl import logging
import jax
from ml_collections import config_flags

from experiments import cli
from layers import autotune

_REPO = os.path.dirname(os.path.abspath(__file__))

_CONFIG = config_flags.DEFINE_config_file(
    'config',
    os.path.join(_REPO, 'experiments', 'configs', 'study_invariance.py'),
    'Experiment config file; override fields with --config.<key>=<value>.',
    lock_config=True)
_WORKDIR = flags.DEFINE_string(
    'workdir', None, 'Output folder; defaults to runs/<config file stem>.')
_DISTRIBUTED = flags.DEFINE_bool(
    'distributed', False,
    'Multi-process run: call jax.distributed.initialize() first (arguments '
    'auto-detected on Slurm, Open MPI and TPU pods unless given below).')
_COORDINATOR_ADDRESS = flags.DEFINE_string(
    'coordinator_address', None,
    'With --distributed: host:port of process 0, the same for every process.')
_NUM_PROCESSES = flags.DEFINE_integer(
    'num_processes', None, 'With --distributed: the number of processes.',
    lower_bound=1)
_CONV_BACKEND = flags.DEFINE_enum(
    'conv_backend', None, ['auto', 'onednn', 'xla'],
    'Convolution backend (layers.autotune); default: $EQUIVLAB_CONV_BACKEND, '
    'else auto (oneDNN where its library can be built, XLA elsewhere).')
_PROCESS_ID = flags.DEFINE_integer(
    'process_id', None, 'With --distributed: this process, 0..num_processes-1.',
    lower_bound=0)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'Too many command-line arguments: {argv[1:]}.')
  # Before anything touches a device.
  cli.initialize_distributed(
      enabled=_DISTRIBUTED.value,
      coordinator_address=_COORDINATOR_ADDRESS.value,
      num_processes=_NUM_PROCESSES.value, process_id=_PROCESS_ID.value)
  # Compiled programs persist between runs (EQUIVLAB_COMPILATION_CACHE=0: off).
  cache_dir = runtime.use_compilation_cache()
  if _CONV_BACKEND.value is not None:
    autotune.configure(backend=_CONV_BACKEND.value)
  logging.info('%s', autotune.describe_backend())
  config = _CONFIG.value
  workdir = _WORKDIR.value
  if workdir is None:
    # 'configs/train.py:tiny' -> runs/train_tiny (apart from the full run).
    path, _, arg = config_flags.get_config_filename(
        flags.FLAGS['config']).partition(':')
    stem = os.path.splitext(os.path.basename(path))[0]
    workdir = os.path.join('runs', f'{stem}_{arg}' if arg else stem)
  logging.info('JAX process %d of %d; devices: %d local, %d in all: %s',
               jax.process_index(), jax.process_count(),
               jax.local_device_count(), jax.device_count(), jax.devices())
  logging.info('config:\n%s', config)
  os.makedirs(workdir, exist_ok=True)
  logging.info('workdir: %s', os.path.abspath(workdir))
  try:
    cli.run_experiment(config, workdir)  # locks workdir; exit 75 = re-run me
  finally:
    if cache_dir:
      logging.info('%s (%s)', runtime.cache_report(), cache_dir)


if __name__ == '__main__':
  app.run(main, flags_parser=cli.parse_flags)
