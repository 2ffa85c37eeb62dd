"""python main.py --config=experiments/configs/study_augmentation_tiny.py --workdir=/tmp/sa

Smoke-test variant of study_augmentation.py (seconds); compares with
``../study_invariance_tiny`` when that workdir exists. Not a result.
"""

import ml_collections

from experiments.configs import study_augmentation
from experiments.configs import study_invariance_tiny


def get_config() -> ml_collections.ConfigDict:
  """Returns the augmentation study shrunk for tests."""
  config = study_augmentation.get_config()
  study_invariance_tiny.shrink(config)
  config.run = ('cnn_aps_gap',)
  config.max_shift = 2
  config.compare_with = '../study_invariance_tiny'
  return config
