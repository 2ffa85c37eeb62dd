"""Tiny H-Net depth study for smoke tests (a few seconds on CPU).

  python main.py --config=experiments/configs/hnet_depth_tiny.py
"""

import ml_collections

from experiments.configs import hnet_depth


def get_config() -> ml_collections.ConfigDict:
  """Returns the depth study with 2 small layers on 13 x 13 smooth images."""
  config = hnet_depth.get_config()
  config.image_sources = ('smooth',)
  config.batch_size = 2
  config.image_size = 13
  config.depth = 2
  config.stride_layers = (2,)
  config.filter_size = 3
  config.n_rings = 2
  config.hnet_width = 2
  config.cnn_width = 4
  return config
