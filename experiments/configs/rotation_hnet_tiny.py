"""python main.py --config=experiments/configs/rotation_hnet_tiny.py --workdir=/tmp/rh

Smoke-test variant of rotation_hnet.py: a 4-layer H-Net of width 2 (3x3
filters, 2 rings), one step of batch 16 on 32 offline 16 x 16 digits,
measured at 0 and 90 degrees (~5 s, mostly compiles). The CNN is left out
to keep the test fast (``--config.run`` can add it back; its widths here
are (4, 4)); tests/rotation_test.py builds both models of the full config.
Not a result.
"""

import ml_collections

from experiments import configs
from experiments.configs import rotation_hnet


def get_config() -> ml_collections.ConfigDict:
  """Returns the H-Net rotation study shrunk for tests."""
  config = configs.shrink_rotation_study(rotation_hnet.get_config(), canvas_size=16)
  config.models.hnet.widths = (2, 2, 2, 2)
  config.models.hnet.n_rings = 2
  config.models.hnet.filter_size = 3
  config.models.cnn.widths = (4, 4)
  config.run = ('hnet',)
  return config
