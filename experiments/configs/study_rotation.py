"""python main.py --config=experiments/configs/study_rotation.py

Study (c): where does *rotation* invariance come from? A CNN, the same CNN
trained with random-rotation augmentation, a P4CNN (Cohen & Welling 2016) and
an H-Net (Worrall et al. 2017), all trained on UPRIGHT MNIST digits and tested
on rotated ones (accuracy vs angle, bilinear rotation of the test images).

Measured (quick preset, seed 0; 324 s on 2 CPU cores): accuracy vs angle in
docs/results.md and the run's results.md. In short: the CNN drops from 92.5 %
upright to 14.3 % at 90 degrees; P4CNN is exact at multiples of 90 degrees
(96.2 %) and dips to 73.6 % at 45; the H-Net stays within 82.9-87.5 % at
every angle.

Presets: ``quick`` (default) trains 300 Adam steps of batch 64 on the first
10,000 MNIST training digits and tests on the first 2,000 test digits;
``--config.quick=False`` trains 3,000 steps on all 60,000 and tests on all
10,000. Offline without ../shared/data: ``--config.dataset=digits
--config.canvas_size=28``. The augmented CNN differs from the plain one
only by its ``train`` override (``augment='rotate'``, any angle): a study
model entry may override any training field this way.

Smoke test, ``python main.py
--config=experiments/configs/study_rotation.py:tiny --workdir=/tmp/sr``: the
CNN with and without rotation augmentation, tiny widths, two steps on 32
offline digits (28 x 28). Not a result.
"""

import math

import ml_collections
from ml_collections import config_dict

from experiments import configs
from experiments.configs import train

_CNN = dict(name='cnn', widths=(20, 40, 40), downsampling='max',
            head='global_avg', padding='zeros', norm='batch')


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  """Returns the rotation study config (quick mode by default).

  Args:
    arg: None for the full config, 'tiny' for the smoke test the tests run.

  Raises:
    ValueError: for any other ``arg``.
  """
  config = train.get_config()
  config.experiment = 'study'
  config.title = 'Rotation invariance: architecture vs augmentation'
  config.quick = True
  config.dataset = 'mnist'

  config.num_train_steps = config_dict.placeholder(int)
  config.train_limit = config_dict.placeholder(int)
  config.eval_limit = config_dict.placeholder(int)
  config.presets = ml_collections.ConfigDict(dict(
      quick=dict(num_train_steps=300, train_limit=10000, eval_limit=2000),
      full=dict(num_train_steps=3000, train_limit=None, eval_limit=None),
  ))
  config.batch_size = 64
  config.optimizer = 'adam'
  config.learning_rate = 3e-3
  config.schedule = 'cosine'
  config.warmup_steps = 30
  config.augment = 'none'
  config.eval_every = 0
  config.log_every = 50
  config.checkpoint_every = 1000
  config.max_checkpoints = 1

  config.models = ml_collections.ConfigDict(dict(
      cnn=dict(**_CNN, description='CNN 3x3 (20, 40, 40), BN, max pool, '
               'global avg'),
      cnn_rotaug=dict(**_CNN, train=dict(augment='rotate', max_angle=math.pi),
                      description='the same CNN + random rotations in '
                      'training'),
      p4cnn=dict(name='p4cnn', channels=10,
                 description='P4CNN: p4 group convs, 10 x 4 channels'),
      hnet=dict(name='hnet', widths=(8, 8, 16, 16, 32, 32),
                description='H-Net: orders 0-1, 5x5'),
  ))
  config.run = ('cnn', 'cnn_rotaug', 'p4cnn', 'hnet')

  config.rotation_angles = (0.0, 15.0, 30.0, 45.0, 60.0, 90.0, 135.0, 180.0,
                            270.0)
  config.eval_max_shift = 0
  config.eval_shift_mode = 'zeros'
  config.consistency_max_shift = 2
  config.compare_with = ''
  if configs.is_tiny(arg):
    configs.shrink_rotation_study(config, canvas_size=28, num_train_steps=2)
    config.run = ('cnn', 'cnn_rotaug')
    for label in config.run:
      config.models[label].widths = (4, 4)
  return config
