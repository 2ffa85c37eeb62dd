"""Runs an equivlab experiment; all logic lives in :mod:`experiments`.

  python main.py                  # default: the invariance study, quick mode
  python main.py --config.dataset=mnist --config.quick=False
  python main.py --config=experiments/configs/probe.py   # no-training probe
  python main.py --config=experiments/configs/train.py --workdir=runs/cnn

--workdir defaults to runs/<config file stem> (relative to the current
folder); the default --config is resolved relative to this file.
"""

import os

from absl import app
from absl import flags
from absl import logging
import jax
from ml_collections import config_flags

import experiments

_REPO = os.path.dirname(os.path.abspath(__file__))

_CONFIG = config_flags.DEFINE_config_file(
    'config',
    os.path.join(_REPO, 'experiments', 'configs', 'study_invariance.py'),
    'Experiment config file; override fields with --config.<key>=<value>.',
    lock_config=True)
_WORKDIR = flags.DEFINE_string(
    'workdir', None, 'Output folder; defaults to runs/<config file stem>.')


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'Too many command-line arguments: {argv[1:]}.')
  config = _CONFIG.value
  workdir = _WORKDIR.value
  if workdir is None:
    stem = os.path.splitext(os.path.basename(
        config_flags.get_config_filename(flags.FLAGS['config'])))[0]
    workdir = os.path.join('runs', stem)
  logging.info('JAX devices: %s', jax.devices())
  logging.info('config:\n%s', config)
  os.makedirs(workdir, exist_ok=True)
  logging.info('workdir: %s', os.path.abspath(workdir))
  experiments.run(config, workdir)


if __name__ == '__main__':
  app.run(main)
