"""python main.py --config=experiments/configs/study_invariance_tiny.py --workdir=/tmp/si

Smoke-test variant of study_invariance.py: two models, a few steps on 128
digits (seconds). Not a result.
"""

import ml_collections

from experiments.configs import study_invariance


def get_config() -> ml_collections.ConfigDict:
  """Returns the invariance study shrunk for tests."""
  config = study_invariance.get_config()
  shrink(config)
  return config


def shrink(config: ml_collections.ConfigDict) -> None:
  """Shrinks a digits study config in place (shared with the other tiny
  configs)."""
  config.presets.quick = ml_collections.ConfigDict(dict(
      num_train_steps=4, widths=(4, 4), mlp_hidden=(8,), eval_limit=32))
  config.run = ('mlp', 'cnn_aps_gap')
  config.train_limit = 128
  config.batch_size = 32
  config.eval_batch_size = 32
  config.warmup_steps = 1
  config.log_every = 2
  config.checkpoint_every = 2
  config.eval_max_shift = 2
  config.consistency_max_shift = 1
