"""python main.py --config=experiments/configs/study_rotation_tiny.py --workdir=/tmp/sr

Smoke-test variant of study_rotation.py: the CNN with and without rotation
augmentation, tiny widths, two steps on 32 offline digits (28 x 28). Not a
result.
"""

import ml_collections

from experiments.configs import study_rotation


def get_config() -> ml_collections.ConfigDict:
  """Returns the rotation study shrunk for tests."""
  config = study_rotation.get_config()
  config.dataset = 'digits'
  config.canvas_size = 28
  config.presets.quick = ml_collections.ConfigDict(dict(
      num_train_steps=2, train_limit=32, eval_limit=16))
  config.batch_size = 16
  config.run = ('cnn', 'cnn_rotaug')
  for label in config.run:
    config.models[label].widths = (4, 4)
  config.eval_batch_size = 16
  config.warmup_steps = 0
  config.log_every = 1
  config.checkpoint_every = 1
  config.consistency_max_shift = 1
  config.rotation_angles = (0.0, 90.0)
  return config
