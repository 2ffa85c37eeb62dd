"""Checks of a training config before a run creates its workdir or loads data.

Each check raises a ``ValueError`` naming the field (``config.<key>``) and what
is accepted, through the shared validators of :mod:`groups.validate`.
"""

from __future__ import annotations

import ml_collections

import data
from groups import validate
from models import registry

OPTIMIZERS = ('adam', 'sgd')
OPTIMIZER_STATES = ('flat', 'tree')
SCHEDULES = ('cosine', 'constant', 'step')
AUGMENTATIONS = ('none', 'shift', 'rotate', 'rescale')
SHIFT_MODES = ('zeros', 'circular')

# Config fields by the values they accept.
POSITIVE_INT_FIELDS = ('num_train_steps', 'batch_size', 'eval_batch_size',
                       'log_every', 'checkpoint_every', 'max_checkpoints')
NON_NEGATIVE_INT_FIELDS = ('seed', 'warmup_steps', 'eval_every', 'max_shift')
# Positive ints, or None for "all" / "the data set's own".
OPTIONAL_INT_FIELDS = ('train_limit', 'eval_limit', 'canvas_size')
NON_NEGATIVE_NUMBER_FIELDS = ('learning_rate', 'momentum', 'weight_decay',
                              'max_angle')
CHOICE_FIELDS = (('optimizer', OPTIMIZERS), ('schedule', SCHEDULES),
                 ('augment', AUGMENTATIONS), ('shift_mode', SHIFT_MODES))
NUM_DEVICES_NAME = 'config.num_devices (0: all devices)'


def check_config(config: ml_collections.ConfigDict) -> None:
  """Validates the training fields of ``config`` (see configs/train.py).

  Raises:
    ValueError: naming the first bad field and the accepted values.
  """
  check_model_config(config.get('model'))
  for name in POSITIVE_INT_FIELDS:
    validate.integer(config[name], f'config.{name}', minimum=1)
  for name in NON_NEGATIVE_INT_FIELDS:
    validate.integer(config[name], f'config.{name}', minimum=0)
  for name in OPTIONAL_INT_FIELDS:
    if config.get(name) is not None:
      validate.integer(config[name], f'config.{name}', minimum=1)
  for name in NON_NEGATIVE_NUMBER_FIELDS:
    validate.number(config[name], f'config.{name}', minimum=0)
  if config.learning_rate <= 0:
    raise ValueError(f'config.learning_rate must be > 0; got '
                     f'{config.learning_rate!r}.')
  if config.momentum >= 1:
    raise ValueError(f'config.momentum must be in [0, 1) (SGD momentum); got '
                     f'{config.momentum!r}.')
  if config.warmup_steps > config.num_train_steps:
    raise ValueError(f'config.warmup_steps must be <= config.num_train_steps '
                     f'= {config.num_train_steps}; got {config.warmup_steps}.')
  for name, choices in CHOICE_FIELDS:
    validate.check_choice(config[name], f'config.{name}', choices)
  # Older configs lack it: 'tree' (experiments/train/step.py StepSettings).
  validate.check_choice(config.get('optimizer_state', 'tree'),
                        'config.optimizer_state', OPTIMIZER_STATES)
  validate.integer(config.get('lr_decay_every', 0), 'config.lr_decay_every',
                   minimum=1 if config.schedule == 'step' else 0)
  validate.integer(config.get('lr_decay_start', 0), 'config.lr_decay_start',
                   minimum=0)
  validate.number(config.get('lr_decay_factor', 0.1),
                  'config.lr_decay_factor', minimum=0, maximum=1,
                  exclusive_minimum=True)
  data.transforms.check_rotation_order(config.get('rotate_order', 1),
                                       'config.rotate_order')
  check_scale_factors(config)
  validate.integer(config.get('num_devices', 0), NUM_DEVICES_NAME, minimum=0)
  check_data_config(config)
  check_model_options(config.model)


def check_scale_factors(config: ml_collections.ConfigDict) -> None:
  """Checks ``min_scale_factor`` and ``max_scale_factor`` (augment='rescale';
  defaults 0.5 and 2.0 when missing): finite, > 0, min <= max."""
  low, high = (validate.number(config.get(name, default), f'config.{name}',
                               minimum=0, exclusive_minimum=True)
               for name, default in (('min_scale_factor', 0.5),
                                     ('max_scale_factor', 2.0)))
  if high < low:
    raise ValueError(f'config.max_scale_factor must be >= '
                     f'config.min_scale_factor = {low:g}; got {high:g}.')


def check_data_config(config: ml_collections.ConfigDict) -> None:
  """Checks the data set, source and evaluation split names."""
  validate.check_choice(config.dataset, 'config.dataset', data.DATASETS)
  validate.check_choice(config.get('data_source', 'auto'),
                        'config.data_source', data.SOURCES)
  validate.check_choice(config.get('eval_split', 'test'), 'config.eval_split',
                        data.SPLITS[config.dataset])
  train_split = config.get('train_split', 'train')
  if not isinstance(train_split, str):
    raise ValueError(f"config.train_split must be a split name, or names "
                     f"joined by '+' (e.g. 'train+validation'); got "
                     f"{train_split!r}.")
  names = train_split.split('+')
  for name in names:
    validate.check_choice(name, "config.train_split (names joined by '+')",
                          data.SPLITS[config.dataset])
  if len(set(names)) != len(names):
    raise ValueError(f'config.train_split must not repeat a split; got '
                     f'{train_split!r}.')
  if config.get('eval_split', 'test') in names:
    raise ValueError(f'config.train_split = {train_split!r} contains '
                     f'config.eval_split = {config.get("eval_split", "test")!r}'
                     f': the model would be evaluated on its training images.')


def check_model_config(model_config: object) -> None:
  """Raises unless ``model_config`` is a ConfigDict with a ``name``."""
  if not isinstance(model_config, ml_collections.ConfigDict) or (
      not model_config.get('name')):
    raise ValueError('config.model must be a ConfigDict with a name (e.g. '
                     "ConfigDict(dict(name='cnn', widths=(16, 32)))); got "
                     f'{model_config!r}.')


def check_model_options(model_config: ml_collections.ConfigDict) -> None:
  """Checks the model name and its options against :mod:`models.registry`."""
  name = model_config.name
  validate.check_choice(name, 'config.model.name', tuple(registry.MODELS))
  accepted = registry.model_options(name)
  unknown = sorted(set(model_config) - {'name'} - set(accepted))
  if unknown:
    raise ValueError(
        f'config.model has unknown option(s) {", ".join(unknown)} for model '
        f'{name!r}; accepted: {", ".join(accepted)}.')
