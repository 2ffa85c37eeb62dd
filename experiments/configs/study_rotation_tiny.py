"""python main.py --config=experiments/configs/study_rotation_tiny.py --workdir=/tmp/sr

Smoke-test variant of study_rotation.py: the CNN with and without rotation
augmentation, tiny widths, two steps on 32 offline digits (28 x 28). Not a
result.
"""

import ml_collections

from experiments import configs
from experiments.configs import study_rotation


def get_config() -> ml_collections.ConfigDict:
  """Returns the rotation study shrunk for tests."""
  config = configs.shrink_rotation_study(
      study_rotation.get_config(), canvas_size=28, num_train_steps=2)
  config.run = ('cnn', 'cnn_rotaug')
  for label in config.run:
    config.models[label].widths = (4, 4)
  return config
