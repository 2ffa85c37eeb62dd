"""python main.py --config=experiments/configs/study_cifar_tiny.py --workdir=/tmp/sc

Smoke-test variant of study_cifar.py: two steps of a tiny APS ResNet on 64
CIFAR-10 images (needs ../shared/data/cifar10.npz). Not a result.
"""

import ml_collections

from experiments.configs import study_cifar


def get_config() -> ml_collections.ConfigDict:
  """Returns the CIFAR study shrunk for tests."""
  config = study_cifar.get_config()
  config.presets.quick = ml_collections.ConfigDict(dict(
      num_train_steps=2, batch_size=16, learning_rate=0.01, warmup_steps=1,
      train_limit=64, eval_limit=16, checkpoint_every=2, widths=(4, 4, 4),
      blocks_per_stage=1))
  config.run = ('resnet_aps',)
  config.eval_batch_size = 16
  config.log_every = 1
  config.eval_max_shift = 1
  config.consistency_max_shift = 1
  return config
