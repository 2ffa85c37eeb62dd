"""python main.py --config=experiments/configs/lie_rotation.py

The longer Lie-derivative setting: the rotation study's models (a CNN, the
same CNN with rotation augmentation, a P4CNN, an H-Net) and a C8 steerable
CNN, trained on upright MNIST digits (quick preset: 300 steps on 10,000), then
measured as :mod:`experiments.configs.lie_study` does: LEE along
translations, rotation and scaling at initialisation and trained, and the
layer-wise split along rotation and translation.

Measured: docs/lie_derivative.md.

Smoke test: ``...lie_rotation.py:tiny`` (two small CNNs, two steps).
"""

import ml_collections

from experiments import configs
from experiments.configs import lie_study
from experiments.configs import study_rotation


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  """The rotation study's models plus a steerable C8 CNN, with Lie fields."""
  tiny = configs.is_tiny(arg)
  config = study_rotation.get_config('tiny' if tiny else None)
  config.experiment = 'lie'
  config.title = 'Local equivariance of rotation models'
  config.eval_max_shift = 1      # P(top-1 change) needs 1-pixel shifts
  config.rotation_angles = (0.0, 45.0, 90.0)
  if not tiny:
    config.models.c8cnn = dict(name='c8cnn',
                               description='steerable C8 CNN (regular fields)')
    config.run = config.run + ('c8cnn',)
  config.lie = lie_study.lie_section(layer_generators=('rotate',
                                                       'translate_x'))
  if tiny:
    config.lie = lie_study.lie_section(num_images=4, layer_images=2,
                                       generators=('rotate',),
                                       layer_generators=('rotate',))
  return config
