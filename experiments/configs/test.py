"""Tiny probe for smoke tests (a few seconds on CPU).

  python main.py --config=experiments/configs/test.py --workdir=/tmp/probe_test
"""

import ml_collections

from experiments.configs import probe


def get_config() -> ml_collections.ConfigDict:
  """Returns the probe config with a small batch, few shifts and channels."""
  config = probe.get_config()
  config.batch_size = 2
  config.channels = 4
  config.max_shift = 2
  config.subpixel_shifts = (0.5,)
  return config
