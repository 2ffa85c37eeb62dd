"""python main.py --config=experiments/configs/lie_study.py

Local equivariance (Lie derivative, Gruver et al. 2023) of six of the
default study's eight models (MLP; CNN with max pool and an FC head; with a
global average and no downsampling, max pool, max-blur pool, APS), at
initialisation and trained: end-to-end LEE of the
softmax along translations, rotation and scaling, its layer-wise split
(which op breaks local equivariance most), and its relation to Azulay &
Weiss's P(top-1 change) under 1-pixel shifts across models. The models are
trained as in the default study's quick mode, with fewer steps (300) so
that the whole run fits two minutes on 2 CPU cores. The longer setting:
all eight (``--config.run`` with the strided ones), and
experiments/configs/lie_rotation.py for the rotation models.

Measured: docs/lie_derivative.md (the table, the figures, the command).

Smoke test, ``python main.py --config=experiments/configs/lie_study.py:tiny
--workdir=/tmp/lie``: two models, a few steps on 128 digits, 8 images.
Not a result.
"""

import ml_collections

from experiments import configs
from experiments.configs import study_invariance


def lie_section(**overrides) -> ml_collections.ConfigDict:
  """The ``config.lie`` fields of :mod:`experiments.lie_study`."""
  section = dict(
      generators=('translate_x', 'translate_y', 'rotate', 'scale'),
      layer_generators=('translate_x', 'rotate'),
      num_images=256,     # test images for the end-to-end LEE
      layer_images=64,    # test images for the layer-wise split
      figures_to='',      # also write the PNGs here (e.g. docs/images)
  )
  section.update(overrides)
  return ml_collections.ConfigDict(section)


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  """The default study's models plus the Lie measurements.

  Args:
    arg: None for the full config, 'tiny' for the smoke test the tests run.
  """
  tiny = configs.is_tiny(arg)
  config = study_invariance.get_config('tiny' if tiny else None)
  config.experiment = 'lie'
  config.title = 'Local equivariance of the invariance study\'s models'
  config.presets.quick.num_train_steps = 300 if not tiny else 4
  config.rescale_object_size = 0     # the study's rescale measures: not here
  config.jagged_images = 0
  # The layer-wise split along translation only: rotation's doubles the
  # compile time (lie_rotation.py splits both).
  config.lie = lie_section(layer_generators=('translate_x',))
  if not tiny:
    # Six of the eight (two minutes): add the strided ones with
    # --config.run="('mlp','cnn_strided_fc',...)".
    config.run = ('mlp', 'cnn_max_fc', 'cnn_gap', 'cnn_max_gap',
                  'cnn_max_blur_gap', 'cnn_aps_gap')
  if tiny:
    config.lie = lie_section(num_images=8, layer_images=4,
                             generators=('translate_x', 'rotate'),
                             layer_generators=('translate_x',))
  return config
