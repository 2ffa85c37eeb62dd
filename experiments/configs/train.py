"""python main.py --config=experiments/configs/train.py --workdir=runs/train

Trains one classifier (default: a small CNN with max pooling and a global
average head on the embedded digits) and logs metrics to
runs/train/metrics.jsonl and TensorBoard (``tensorboard --logdir runs``).
Re-running the same command resumes from the latest checkpoint.
Any field can be overridden, e.g. ``--config.dataset=mnist
--config.model.downsampling=aps --config.augment=shift``.

Several GPUs: the batch is split over all local devices by default
(``--config.num_devices=N`` for the first N); ``batch_size`` must divide by
the device count. A cluster: ``main.py --distributed`` on every host (see
README, "Reliability and scale").

Smoke test, ``python main.py --config=experiments/configs/train.py:tiny
--workdir=/tmp/t``: a few steps of a tiny CNN (batch norm) on 256 digits
(seconds). Not a result.
"""

import ml_collections

from experiments import configs


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  """Returns the default training config; ``arg='tiny'``: the smoke test.

  Args:
    arg: None for the full config, 'tiny' for the one the tests use.

  Raises:
    ValueError: for any other ``arg``.
  """
  config = ml_collections.ConfigDict()
  config.experiment = 'train'
  config.seed = 0
  # Data parallelism: 0 = every device (of every process); N = the first N
  # local devices. The batch is split over them; batch_size must divide.
  config.num_devices = 0

  # Data (data.load_dataset).
  config.dataset = 'digits'   # | 'mnist' | 'cifar10' | 'mnist_rot' | ...
  config.data_dir = ml_collections.config_dict.placeholder(str)
  config.data_source = 'auto'
  config.canvas_size = ml_collections.config_dict.placeholder(int)
  config.train_limit = ml_collections.config_dict.placeholder(int)
  config.eval_limit = ml_collections.config_dict.placeholder(int)
  config.eval_split = 'test'
  # Split(s) to train on; '+' joins several ('train+validation': all 12000
  # MNIST-rot digits).
  config.train_split = 'train'

  # Model (models.registry.build_model(name, **fields)); num_classes comes
  # from the data set unless given.
  config.model = ml_collections.ConfigDict(dict(
      name='cnn', widths=(16, 32, 64), downsampling='max', head='global_avg',
      padding='circular', filter_size=3, norm='none'))

  # Optimisation.
  config.optimizer = 'adam'   # | 'sgd' (with momentum)
  # 'flat': the optimiser's state is one vector over all parameters (fewer
  # kernels to compile); 'tree': one array per parameter (workdirs from
  # before this option; experiments/train/step.py make_optimizer).
  config.optimizer_state = 'flat'
  config.learning_rate = 5e-3
  config.momentum = 0.9       # sgd only
  config.weight_decay = 0.0   # decoupled (adamw) for adam
  config.schedule = 'cosine'  # | 'constant' | 'step'; after a linear warmup
  config.lr_decay_every = 0    # 'step': x lr_decay_factor every this many steps
  config.lr_decay_factor = 0.1
  config.lr_decay_start = 0    # 'step': steps at the peak before decaying
  config.warmup_steps = 50
  config.num_train_steps = 1000
  config.batch_size = 64

  # Augmentation inside the jitted step.
  config.augment = 'none'     # | 'shift' | 'rotate' | 'rescale'
  config.max_shift = 4        # pixels, per axis (augment='shift')
  config.shift_mode = 'zeros'  # | 'circular'
  config.max_angle = 0.0      # radians (augment='rotate'); pi = any angle
  config.rotate_order = 1     # augment='rotate': 1 bilinear | 0 nearest
  # augment='rescale': factors uniform in [min, max] (SESN's "+" models,
  # extra_scaling=0.5: 0.5 .. 2).
  config.min_scale_factor = 0.5
  config.max_scale_factor = 2.0

  # Evaluation, logging, checkpoints.
  config.eval_batch_size = 256
  config.eval_every = 200     # steps; 0: only at the end
  config.log_every = 100
  config.checkpoint_every = 200
  config.max_checkpoints = 3
  if configs.is_tiny(arg):  # the smoke test
    config.model.widths = (4, 4)
    config.model.norm = 'batch'   # exercises the 'batch_stats' path
    config.train_limit = 256
    config.eval_limit = 64
    config.batch_size = 32
    config.eval_batch_size = 64
    config.warmup_steps = 2
    config.num_train_steps = 6
    config.eval_every = 3
    config.log_every = 2
    config.checkpoint_every = 3
  return config
