"""python main.py --config=experiments/configs/study_augmentation.py

The models of study_invariance.py trained with random-shift augmentation
(each of dy, dx uniform in -4..4 px, zero fill); ``results.md`` adds a
side-by-side table with runs/study_invariance when that study has run.

Measured (quick mode, seed 0; 167 s on 2 CPU cores): the side-by-side table
is in docs/results.md and the run's results.md. In short: augmentation buys
invariance within the trained range (FC-head nets stay near 98 % up to 4 px)
but not beyond it (54-76 % at 6 px), and leaves the architecturally
invariant nets (cnn_gap, APS) where they were.

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
