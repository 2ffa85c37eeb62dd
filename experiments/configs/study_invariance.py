"""python main.py      (the default config; same as
python main.py --config=experiments/configs/study_invariance.py)

Where does translation invariance come from? Eight models trained the same
way on centred digits (the embedded scikit-learn digits, 24 px on a 32 px
black canvas; ``--config.dataset=mnist`` for MNIST), then tested on digits
moved on their canvas. Quick mode (default): widths (8, 16, 32), 500 Adam
steps of batch 64; ``--config.quick=False``: widths (32, 64, 128), 3000 steps.

MEASURED (quick mode, seed 0, 2 shared CPU cores, 152 s wall for the whole
command; 359 test digits; runs/study_invariance/results.md):

  model             test acc  acc@3px  acc@6px  consistency  P(top-1 change)
  mlp                 97.5     45.1     11.6       30.1          5.7
  cnn_strided_fc      97.2     53.2     12.0       34.5          6.5
  cnn_max_fc          98.6     58.6     13.6       37.9          4.3
  cnn_gap             69.4     69.4     69.8      100.0          0.0
  cnn_strided_gap     91.6     69.7     51.5       43.2         23.5
  cnn_max_gap         92.2     84.9     82.7       83.8         11.6
  cnn_max_blur_gap    87.7     87.6     83.3       98.6          1.0
  cnn_aps_gap         89.7     89.7     83.9      100.0          0.0
  (%; accuracy at a shift = mean over moves right/down/left/up, zero fill;
  consistency: two random shifts in [-4, 4]^2; P(top-1 change): 1-pixel
  shift right or down.)

Reading: convolutions alone give no invariance — with an FC head (or an MLP)
accuracy falls from ~98% to 45-59% at 3 px. A global average pool makes the
net invariant only as far as its downsampling allows: without downsampling
(cnn_gap) and with APS it is exact (consistency 100%, P(change) 0), but the
stride-1 net is weak (69%, a 7x7 receptive field); strided convs and max pool
are exactly invariant only to multiples of their total stride (4 px: the
accuracy comes back at 4 px) and alias in between; a blur before
subsampling (max_blur) nearly removes that (P(change) 11.6% -> 1.0%).

Smoke test, ``python main.py
--config=experiments/configs/study_invariance.py:tiny --workdir=/tmp/si``:
two models, a few steps on 128 digits (seconds). Not a result.
"""

import ml_collections
from ml_collections import config_dict

from experiments import configs
from experiments.configs import train


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  """Returns the invariance study config (quick mode by default).

  Args:
    arg: None for the full config, 'tiny' for the smoke test the tests run.

  Raises:
    ValueError: for any other ``arg``.
  """
  config = train.get_config()
  config.experiment = 'study'
  config.title = 'Where does invariance come from?'
  config.quick = True

  # Fields left None come from presets.quick (quick=True) or presets.full.
  config.num_train_steps = config_dict.placeholder(int)
  config.widths = config_dict.placeholder(tuple)       # every CNN
  config.mlp_hidden = config_dict.placeholder(tuple)
  config.eval_limit = config_dict.placeholder(int)
  config.presets = ml_collections.ConfigDict(dict(
      # eval_limit only matters for MNIST (the digits test split has 359).
      quick=dict(num_train_steps=500, widths=(8, 16, 32), mlp_hidden=(64,),
                 eval_limit=1000),
      full=dict(num_train_steps=3000, widths=(32, 64, 128),
                mlp_hidden=(256, 256), eval_limit=None),
  ))
  config.learning_rate = 5e-3
  config.warmup_steps = 30
  config.eval_every = 0          # evaluate once, at the end
  config.log_every = 100
  config.checkpoint_every = 1000
  config.max_checkpoints = 1

  widths = config.get_ref('widths')

  def cnn(downsampling, head, description):
    return dict(name='cnn', widths=widths, downsampling=downsampling,
                head=head, padding='circular', description=description)

  config.models = ml_collections.ConfigDict(dict(
      mlp=dict(name='mlp', hidden=config.get_ref('mlp_hidden'),
               description='MLP (no convolution)'),
      cnn_strided_fc=cnn('strided_conv', 'fc', 'CNN, strided conv, FC head'),
      cnn_max_fc=cnn('max', 'fc', 'CNN, max pool, FC head'),
      cnn_gap=cnn('none', 'global_avg',
                  'all-conv, no downsampling, global avg pool'),
      cnn_strided_gap=cnn('strided_conv', 'global_avg',
                          'all-conv, strided conv, global avg pool'),
      cnn_max_gap=cnn('max', 'global_avg', 'CNN, max pool, global avg pool'),
      cnn_max_blur_gap=cnn('max_blur', 'global_avg',
                           'CNN, max-blur pool (Zhang), global avg pool'),
      cnn_aps_gap=cnn('aps', 'global_avg',
                      'CNN, APS pool (Chaman), global avg pool'),
  ))
  config.run = ('mlp', 'cnn_strided_fc', 'cnn_max_fc', 'cnn_gap',
                'cnn_strided_gap', 'cnn_max_gap', 'cnn_max_blur_gap',
                'cnn_aps_gap')

  # What to measure on the test split.
  config.eval_max_shift = 6          # accuracy vs shift 0..6 px
  config.eval_shift_mode = 'zeros'   # digits move on their black canvas
  config.consistency_max_shift = 4   # Zhang's consistency
  config.rotation_angles = ()        # degrees; none here
  config.compare_with = ''           # another study's workdir
  if configs.is_tiny(arg):
    configs.shrink_digits_study(config)
  return config
