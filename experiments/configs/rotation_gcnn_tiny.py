"""python main.py --config=experiments/configs/rotation_gcnn_tiny.py --workdir=/tmp/rg

Smoke-test variant of rotation_gcnn.py: P4CNN with 2 channels per rotation,
one step of batch 16 on 32 offline digits (28 x 28), measured at 0 and 90
degrees (~6 s, mostly compiles). Each model costs ~5 s, so Z2CNN and P4MCNN
(also shrunk to 2 channels) are left out of ``run``; add them with
``--config.run``. tests/rotation_test.py builds every model of the full
config instead. Not a result.
"""

import ml_collections

from experiments.configs import rotation_gcnn


def get_config() -> ml_collections.ConfigDict:
  """Returns the G-CNN rotation study shrunk for tests."""
  config = rotation_gcnn.get_config()
  config.dataset = 'digits'
  config.canvas_size = 28
  config.presets.quick = ml_collections.ConfigDict(dict(
      num_train_steps=1, batch_size=16, eval_limit=16))
  config.run = ('p4cnn',)
  for label in config.models:
    config.models[label].channels = 2
  config.train_limit = 32
  config.eval_batch_size = 16
  config.warmup_steps = 0
  config.log_every = 1
  config.checkpoint_every = 1
  config.consistency_max_shift = 1
  config.rotation_angles = (0.0, 90.0)
  return config
