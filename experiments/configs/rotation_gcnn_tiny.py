"""python main.py --config=experiments/configs/rotation_gcnn_tiny.py --workdir=/tmp/rg

Smoke-test variant of rotation_gcnn.py: P4CNN with 2 channels per rotation,
one step of batch 16 on 32 offline digits (28 x 28), measured at 0 and 90
degrees (~6 s, mostly compiles). Each model costs ~5 s, so Z2CNN and P4MCNN
(also shrunk to 2 channels) are left out of ``run``; add them with
``--config.run``. tests/rotation_test.py builds every model of the full
config instead. Not a result.
"""

import ml_collections

from experiments import configs
from experiments.configs import rotation_gcnn


def get_config() -> ml_collections.ConfigDict:
  """Returns the G-CNN rotation study shrunk for tests."""
  config = configs.shrink_rotation_study(rotation_gcnn.get_config(), canvas_size=28)
  config.run = ('p4cnn',)
  for label in config.models:
    config.models[label].channels = 2
  return config
