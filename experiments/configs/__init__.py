"""Experiment configs: one ``get_config(arg=None)`` per file; helpers here.

Every config file serves the full run and a small smoke-test run (big_vision
style): ``--config=experiments/configs/<name>.py`` is the full run,
``--config=experiments/configs/<name>.py:tiny`` the tiny one (ml_collections
passes the text after ':' to ``get_config``). In Python:
``train.get_config('tiny')``.
"""

import ml_collections

#: The values ``get_config(arg)`` accepts besides None.
ARGS = ('tiny',)


def is_tiny(arg: str | None) -> bool:
  """Whether ``get_config(arg)`` should return the tiny smoke-test variant.

  Args:
    arg: the text after ':' in ``--config=<file>.py:<arg>``; None (no ':')
      or '' for the full config, 'tiny' for the smoke-test one.

  Raises:
    ValueError: for any other ``arg``, naming the accepted values.
  """
  if arg is None or arg == '':
    return False
  if arg in ARGS:
    return True
  raise ValueError(
      f"arg (the text after ':' in --config=<file>.py:<arg>) must be absent "
      f"(the full config) or one of {', '.join(map(repr, ARGS))}; "
      f'got {arg!r}.')


def shrink_digits_study(config: ml_collections.ConfigDict
                        ) -> ml_collections.ConfigDict:
  """Shrinks a digits study config into a smoke test (returns ``config``).

  Quick preset of 4 steps with widths (4, 4) and an MLP of 8 hidden units on
  128 training and 32 test digits; runs 'mlp' and 'cnn_aps_gap'. Callers
  may narrow ``run`` further.
  """
  config.presets.quick = ml_collections.ConfigDict(dict(
      num_train_steps=4, widths=(4, 4), mlp_hidden=(8,), eval_limit=32))
  config.run = ('mlp', 'cnn_aps_gap')
  config.train_limit = 128
  config.batch_size = 32
  config.eval_batch_size = 32
  config.warmup_steps = 1
  config.log_every = 2
  config.checkpoint_every = 2
  config.eval_max_shift = 2
  config.consistency_max_shift = 1
  return config


def shrink_rotation_study(config: ml_collections.ConfigDict, *,
                          canvas_size: int, num_train_steps: int = 1
                          ) -> ml_collections.ConfigDict:
  """Shrinks a rotation study config into a smoke test (returns ``config``).

  Offline digits on a ``canvas_size`` canvas, ``num_train_steps`` steps of
  batch 16 on 32 digits, 16 test digits measured at 0 and 90 degrees, a
  checkpoint and a log line every step. Models and ``run`` stay for the
  caller to shrink.
  """
  config.dataset = 'digits'
  config.canvas_size = canvas_size
  config.presets.quick = ml_collections.ConfigDict(dict(
      num_train_steps=num_train_steps, train_limit=32, eval_limit=16))
  config.batch_size = 16
  config.eval_batch_size = 16
  config.warmup_steps = 0
  config.log_every = 1
  config.checkpoint_every = 1
  config.consistency_max_shift = 1
  config.rotation_angles = (0.0, 90.0)
  return config


def mnist_rot_protocol(config: ml_collections.ConfigDict, *, title: str,
                       num_train_steps: int, checkpoint_every: int
                       ) -> ml_collections.ConfigDict:
  """Sets what the papers' MNIST-rot protocols share (returns ``config``).

  Train on all 12,000 train + validation digits, test the final model once
  on all 50,000 test digits (test error with its 95 % interval, accuracy at
  45 and 90 degrees; the study runner's shift metrics are skipped: each is
  1-3 more passes over 50k), no warmup, no weight decay, one seed, no
  presets. The caller sets the optimiser, schedule, batch, augmentation and
  models (``experiments/configs/mnist_rot_*.py``).
  """
  config.title = title
  config.quick = False
  config.presets = ml_collections.ConfigDict(dict(
      quick=ml_collections.ConfigDict(), full=ml_collections.ConfigDict()))
  config.dataset = 'mnist_rot'
  config.train_split = 'train+validation'
  config.eval_split = 'test'
  config.eval_limit = None
  config.warmup_steps = 0
  config.weight_decay = 0.0
  config.num_train_steps = num_train_steps
  config.seed = 0
  config.eval_every = 0
  config.measure_shifts = False
  config.rotation_angles = (45.0, 90.0)
  config.checkpoint_every = checkpoint_every
  config.max_checkpoints = 2
  return config


def shrink_mnist_rot_protocol(config: ml_collections.ConfigDict, *,
                              canvas_size: int, num_train_steps: int
                              ) -> ml_collections.ConfigDict:
  """A protocol config's smoke test: offline digits (see
  :func:`shrink_rotation_study`), ``num_train_steps`` steps, 16 test digits."""
  shrink_rotation_study(config, canvas_size=canvas_size,
                        num_train_steps=num_train_steps)
  config.quick = True
  config.train_split = 'train'   # the offline digits have no validation
  config.eval_limit = None       # from presets.quick: 16 digits
  config.num_train_steps = num_train_steps
  return config
