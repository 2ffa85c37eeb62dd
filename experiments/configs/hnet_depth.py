"""python main.py --config=experiments/configs/hnet_depth.py

Measured (seed 0, 8 images of 41 x 41, 45 degrees, 6 layers of 5x5
filters; runs/hnet_depth/results.md; ~11 s on 2 CPU cores). Relative error
of the feature maps after layer 1: H-Net 0.078 vs CNN 0.481 on smooth
images (6.2x lower), 0.126 vs 0.494 on digits (3.9x). The gap shrinks with
depth: after layer 6, 0.31 vs 0.94 (3.0x) and 0.39 vs 1.02 (2.6x); faster
with two stride-2 layers: 0.53 vs 1.15 (2.1x), 0.69 vs 1.19 (1.7x).
Spatial means of the invariant features: H-Net 0.024 -> 0.061 vs CNN
0.075 -> 0.146 (smooth); on digits the H-Net starts 1.7x lower (0.029 vs
0.050) but is level by layer 5 and worse at layer 6 (0.200 vs 0.152; the
strided one from layer 4). Magnitude ReLUs and strided sampling alias on
the grid, so the continuous-rotation guarantee erodes with depth.

Smoke test, ``python main.py --config=experiments/configs/hnet_depth.py:tiny
--workdir=/tmp/h``: 2 small layers on 2 smooth 13 x 13 images (seconds).
Not a result.
"""

import ml_collections

from experiments import configs


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  """Returns the H-Net vs CNN depth-study config; ``arg='tiny'``: smoke test.

  Args:
    arg: None for the full config, 'tiny' for the one the tests use.

  Raises:
    ValueError: for any other ``arg``.
  """
  config = ml_collections.ConfigDict()
  config.experiment = 'hnet_depth'
  config.seed = 0
  config.batch_size = 8
  config.image_size = 41           # 4 n + 1: strided convs stay centred
  config.image_sources = ('smooth', 'digits')
  config.cutoff = 0.1              # low-pass of the 'smooth' images, cycles/px
  config.angle = 45.0              # degrees, counter-clockwise
  config.depth = 6
  config.stride_layers = (2, 4)    # stride 2 here in the *_strided networks
  config.filter_size = 5
  config.n_rings = 4               # the paper's MNIST setting
  config.max_order = 1
  config.hnet_width = 8            # channels per rotation order
  config.cnn_width = 16
  if configs.is_tiny(arg):
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
