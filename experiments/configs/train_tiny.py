"""python main.py --config=experiments/configs/train_tiny.py --workdir=/tmp/t

A few steps of a tiny CNN (batch norm) on 256 digits: the smoke-test config
(seconds).
"""

import ml_collections

from experiments.configs import train


def get_config() -> ml_collections.ConfigDict:
  """Returns the training config shrunk for tests."""
  config = train.get_config()
  config.model.widths = (4, 4)
  config.model.norm = 'batch'   # exercises the 'batch_stats' path
  config.train_limit = 256
  config.eval_limit = 64
  config.batch_size = 32
  config.eval_batch_size = 64
  config.warmup_steps = 2
  config.num_train_steps = 6
  config.eval_every = 3
  config.log_every = 2
  config.checkpoint_every = 3
  return config
