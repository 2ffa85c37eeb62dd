"""python main.py --config=experiments/configs/study_augmentation.py

The models of study_invariance.py trained with random-shift augmentation
(each of dy, dx uniform in -4..4 px, zero fill); ``results.md`` adds a
side-by-side table with runs/study_invariance when that study has run.

MEASURED (quick mode, seed 0, 2 shared CPU cores, 167 s wall;
runs/study_augmentation/results.md), without -> with augmentation:

  model             test acc     acc@6px      consistency   P(top-1 change)
  mlp               97.5 -> 94.2  11.6 -> 54.0  30.1 -> 92.5   5.7 -> 3.6
  cnn_strided_fc    97.2 -> 98.6  12.0 -> 69.9  34.5 -> 97.5   6.5 -> 1.0
  cnn_max_fc        98.6 -> 99.2  13.6 -> 75.9  37.9 -> 98.1   4.3 -> 0.1
  cnn_gap           69.4 -> 74.7  69.8 -> 74.4   100 -> 100    0.0 -> 0.0
  cnn_strided_gap   91.6 -> 90.8  51.5 -> 82.0  43.2 -> 92.8  23.5 -> 4.6
  cnn_max_gap       92.2 -> 91.4  82.7 -> 86.9  83.8 -> 94.7  11.6 -> 2.8
  cnn_max_blur_gap  87.7 -> 88.0  83.3 -> 85.1  98.6 -> 97.5   1.0 -> 2.5
  cnn_aps_gap       89.7 -> 89.7  83.9 -> 84.1   100 -> 100    0.0 -> 0.0
  (%.)

Reading: augmentation buys invariance within the trained range (FC-head
nets: ~98% up to 4 px) but not beyond it (54-76% at 6 px), and leaves the
architecturally invariant nets (cnn_gap, APS) where they were.

Smoke test, ``python main.py
--config=experiments/configs/study_augmentation.py:tiny --workdir=/tmp/sa``
(seconds); compares with ``../study_invariance_tiny`` when that workdir
exists. Not a result.
"""

import ml_collections

from experiments import configs
from experiments.configs import study_invariance


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  """Returns the invariance study with shift augmentation.

  Args:
    arg: None for the full config, 'tiny' for the smoke test the tests run.

  Raises:
    ValueError: for any other ``arg``.
  """
  config = study_invariance.get_config()
  config.title = 'Where does invariance come from? (shift augmentation)'
  config.augment = 'shift'
  config.max_shift = 4          # each of dy, dx uniform in -4..4 px
  config.shift_mode = 'zeros'   # the digit moves on its black canvas
  # Side-by-side table with study (a) when runs/study_invariance exists
  # (relative to this study's workdir).
  config.compare_with = '../study_invariance'
  if configs.is_tiny(arg):
    configs.shrink_digits_study(config)
    config.run = ('cnn_aps_gap',)
    config.max_shift = 2
    config.compare_with = '../study_invariance_tiny'
  return config
