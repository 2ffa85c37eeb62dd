"""Supervised training and evaluation of an image classifier.

``train_and_evaluate(config, workdir)`` trains ``config.model`` on
``config.dataset`` and returns the final metrics. Everything a run produces
lives in ``workdir``::

  config.json         the config of the latest (re)start
  metrics.jsonl       one JSON object per logging event: {"step": s, ...}
  events.out.tfevents.*   the same scalars for TensorBoard (tensorboardX)
  checkpoints/<step>/ orbax checkpoints of the train state (the last few)

Look at the curves with ``tensorboard --logdir <workdir>`` (TensorBoard is
not a dependency; any install of it reads these files).

Restore-or-initialise: a run that finds a checkpoint in ``workdir`` resumes
from the latest one, so re-running the same command after an interruption
continues where it stopped, and re-running a finished run only evaluates.
Resumed runs are bit-for-bit identical to uninterrupted ones
(``tests/train_test.py``): the batch of step ``s`` and its augmentation key
are functions of ``(config.seed, s)`` only; a resumed run first drops the
metrics logged after its checkpoint; and training metrics, averaged over
logging intervals, also close an interval at every checkpoint step. Only
``perf/steps_per_sec`` differs.

Inputs are images ``[B, H, W, C]`` in [0, 1]; the model sees them normalised
with the training set's per-channel mean and std (see :func:`make_apply_fn`).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging as pylogging
import math
import numbers
import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from absl import logging
import flax
from flax.training import train_state
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import orbax.checkpoint as ocp

import data
from experiments import metrics as metrics_lib
from models import registry

OPTIMIZERS = ('adam', 'sgd')
SCHEDULES = ('cosine', 'constant')
AUGMENTATIONS = ('none', 'shift', 'rotate')
SHIFT_MODES = ('zeros', 'circular')
METRICS_FILE = 'metrics.jsonl'
# XLA's RngBitGenerator rather than threefry: the same numbers for the same
# seed, JAX version and backend, and ~10x faster to compile on CPU (a jitted
# init of the study's CNNs: ~1 s instead of ~10 s).
PRNG_IMPL = 'rbg'
CHECKPOINT_DIR = 'checkpoints'

Scalars = dict[str, float]
PredictFn = Callable[[jax.typing.ArrayLike], jax.Array]


class TrainState(train_state.TrainState):
  """Optax train state plus the model's 'batch_stats' (empty dict if none)."""
  batch_stats: Any = flax.struct.field(default_factory=dict)


@dataclasses.dataclass
class TrainResult:
  """What :func:`train` hands to studies that probe the trained model.

  Attributes:
    metrics: final metrics, as returned by :func:`train_and_evaluate`.
    predict_fn: jitted ``images [B, H, W, C] in [0, 1] -> logits
      [B, num_classes]`` (normalisation included, ``train=False``).
    state: the final :class:`TrainState`.
    model: the flax module.
    eval_data: the evaluation split (a :class:`data.Dataset`).
    num_train: number of training examples.
  """
  metrics: Scalars
  predict_fn: PredictFn
  state: TrainState
  model: Any
  eval_data: Any
  num_train: int = 0


# ---------------------------------------------------------------------------
# Argument checks (ValueError naming the field and what is accepted).
# ---------------------------------------------------------------------------


def check_int(value: Any, name: str, *, minimum: int = 0) -> int:
  """Returns ``value`` as an int, or raises ValueError naming ``name``."""
  if (not isinstance(value, numbers.Integral) or isinstance(value, bool) or
      value < minimum):
    raise ValueError(f'{name} must be an int >= {minimum}; got {value!r}.')
  return int(value)


def check_float(value: Any, name: str, *, minimum: float = 0.0) -> float:
  """Returns ``value`` as a float, or raises ValueError naming ``name``."""
  if (not isinstance(value, numbers.Real) or isinstance(value, bool) or
      not math.isfinite(value) or value < minimum):
    raise ValueError(f'{name} must be a finite number >= {minimum}; got '
                     f'{value!r}.')
  return float(value)


def check_choice(value: Any, name: str, choices: Sequence[str]) -> str:
  """Returns ``value`` if it is one of ``choices``, else raises ValueError."""
  if value not in choices:
    raise ValueError(f'{name} must be one of {", ".join(map(repr, choices))}; '
                     f'got {value!r}.')
  return value


def check_config(config: ml_collections.ConfigDict) -> None:
  """Validates the training fields of ``config`` (see configs/train.py).

  Raises:
    ValueError: naming the first bad field and the accepted values.
  """
  if not isinstance(config.get('model'), ml_collections.ConfigDict) or (
      not config.model.get('name')):
    raise ValueError('config.model must be a ConfigDict with a name (e.g. '
                     "ConfigDict(dict(name='cnn', widths=(16, 32)))); got "
                     f'{config.get("model")!r}.')
  for name in ('num_train_steps', 'batch_size', 'eval_batch_size',
               'log_every', 'checkpoint_every', 'max_checkpoints'):
    check_int(config[name], f'config.{name}', minimum=1)
  for name in ('seed', 'warmup_steps', 'eval_every'):
    check_int(config[name], f'config.{name}', minimum=0)
  for name in ('train_limit', 'eval_limit'):
    if config.get(name) is not None:
      check_int(config[name], f'config.{name}', minimum=1)
  for name in ('learning_rate', 'momentum', 'weight_decay'):
    check_float(config[name], f'config.{name}')
  check_choice(config.optimizer, 'config.optimizer', OPTIMIZERS)
  check_choice(config.schedule, 'config.schedule', SCHEDULES)
  check_choice(config.augment, 'config.augment', AUGMENTATIONS)
  check_choice(config.shift_mode, 'config.shift_mode', SHIFT_MODES)
  check_int(config.max_shift, 'config.max_shift', minimum=0)
  check_float(config.max_angle, 'config.max_angle')
  if config.warmup_steps > config.num_train_steps:
    raise ValueError(f'config.warmup_steps must be <= config.num_train_steps '
                     f'= {config.num_train_steps}; got {config.warmup_steps}.')


# ---------------------------------------------------------------------------
# Building blocks.
# ---------------------------------------------------------------------------


def load_data(config: ml_collections.ConfigDict) -> tuple[Any, Any]:
  """``(train, eval)`` :class:`data.Dataset` s as the config describes."""
  common = dict(data_dir=config.get('data_dir'),
                source=config.get('data_source', 'auto'), seed=config.seed,
                canvas_size=config.get('canvas_size'))
  train_data = data.load_dataset(config.dataset, split='train',
                                 limit=config.get('train_limit'), **common)
  eval_data = data.load_dataset(config.dataset,
                                split=config.get('eval_split', 'test'),
                                limit=config.get('eval_limit'), **common)
  return train_data, eval_data


def build_model(model_config: ml_collections.ConfigDict, *,
                num_classes: int) -> Any:
  """``registry.build_model(name, **kwargs)``; num_classes from the data.

  Lists in the config become tuples so the module stays hashable.
  """
  kwargs = {k: tuple(v) if isinstance(v, list) else v
            for k, v in model_config.to_dict().items() if k != 'name'}
  kwargs.setdefault('num_classes', num_classes)
  return registry.build_model(model_config.name, **kwargs)


def learning_rate_schedule(config: ml_collections.ConfigDict | StepSettings
                           ) -> optax.Schedule:
  """Linear warmup from 0 over ``warmup_steps``, then cosine decay to 0 at
  ``num_train_steps`` or a constant rate."""
  peak = config.learning_rate
  warmup = config.warmup_steps
  if config.schedule == 'cosine':
    decay = optax.cosine_decay_schedule(
        peak, decay_steps=max(config.num_train_steps - warmup, 1))
  else:
    decay = optax.constant_schedule(peak)
  if warmup == 0:
    return decay
  return optax.join_schedules(
      [optax.linear_schedule(0.0, peak, warmup), decay], boundaries=[warmup])


def make_optimizer(config: ml_collections.ConfigDict | StepSettings
                   ) -> optax.GradientTransformation:
  """Adam(W) or SGD with (Nesterov-free) momentum on the schedule."""
  schedule = learning_rate_schedule(config)
  if config.optimizer == 'adam':
    if config.weight_decay:
      return optax.adamw(schedule, weight_decay=config.weight_decay)
    return optax.adam(schedule)
  sgd = optax.sgd(schedule, momentum=config.momentum or None)
  if config.weight_decay:
    return optax.chain(optax.add_decayed_weights(config.weight_decay), sgd)
  return sgd


def normalize(images: jax.typing.ArrayLike, mean: Sequence[float],
              std: Sequence[float]) -> jax.Array:
  """``(images - mean) / std`` per channel; images ``[B, H, W, C]``."""
  mean = jnp.asarray(mean, jnp.float32)
  std = jnp.asarray(std, jnp.float32)
  return (jnp.asarray(images, jnp.float32) - mean) / std


def create_train_state(key: jax.Array, model: Any,
                       image_shape: tuple[int, int, int],
                       tx: optax.GradientTransformation, *,
                       init_fn: Callable[..., Any] | None = None
                       ) -> TrainState:
  """Initialises the model on one dummy image ``[1, H, W, C]``.

  Args:
    key: PRNG key of the initialisers.
    model: the flax module.
    image_shape: ``(H, W, C)``.
    tx: the optimiser.
    init_fn: a jitted ``model.init(key, x, train=False)`` to reuse; by
      default one is compiled here (jitted: eager init compiles every
      initialiser op on its own, seconds on CPU).
  """
  if init_fn is None:
    init_fn = jax.jit(functools.partial(model.init, train=False))
  variables = init_fn(key, jnp.zeros((1,) + tuple(image_shape), jnp.float32))
  return TrainState.create(apply_fn=model.apply, params=variables['params'],
                           tx=tx,
                           batch_stats=variables.get('batch_stats', {}))


def _variables(state: TrainState) -> dict[str, Any]:
  variables = {'params': state.params}
  if state.batch_stats:
    variables['batch_stats'] = state.batch_stats
  return variables


def make_apply_fn(model: Any, *, mean: Sequence[float], std: Sequence[float]
                  ) -> Callable[[Any, jax.typing.ArrayLike], jax.Array]:
  """Jitted ``(variables, images [B, H, W, C] in [0, 1]) -> logits [B, K]``.

  Normalises with ``mean``/``std`` and runs the model in eval mode. The
  variables are an argument, not constants baked into the computation, so
  one compile serves every set of weights and every batch of one shape.
  """
  @jax.jit
  def apply(variables, images):
    return model.apply(variables, normalize(images, mean, std), train=False)
  return apply


def make_predict_fn(model: Any, state: TrainState, *, mean: Sequence[float],
                    std: Sequence[float],
                    apply_fn: Callable[..., jax.Array] | None = None
                    ) -> PredictFn:
  """``images [B, H, W, C] in [0, 1] -> logits [B, K]`` for ``state``'s weights.

  Args:
    model: the flax module.
    state: its train state (params and batch statistics).
    mean: per-channel mean of the training images.
    std: per-channel std of the training images.
    apply_fn: a :func:`make_apply_fn` result to reuse (saves a compile).
  """
  if apply_fn is None:
    apply_fn = make_apply_fn(model, mean=mean, std=std)
  return functools.partial(apply_fn, _variables(state))


def augment(key: jax.Array, images: jax.Array, *,
            config: ml_collections.ConfigDict | StepSettings) -> jax.Array:
  """Random shift or rotation of a batch ``[B, H, W, C]`` (inside jit)."""
  if config.augment == 'shift':
    return data.augment_shift(key, images, max_shift=config.max_shift,
                              mode=config.shift_mode)
  if config.augment == 'rotate':
    return data.augment_rotate(key, images, max_angle=config.max_angle)
  return images


def train_step(state: TrainState, images: jax.Array, labels: jax.Array,
               key: jax.Array, *, model: Any,
               config: ml_collections.ConfigDict | StepSettings,
               mean: Sequence[float], std: Sequence[float],
               schedule: optax.Schedule
               ) -> tuple[TrainState, dict[str, jax.Array]]:
  """One optimiser step on a batch; images ``[B, H, W, C]`` in [0, 1].

  ``key`` drives the augmentation and, through ``fold_in(key, 1)``, the
  model's 'dropout' rng stream (unused by models without dropout).

  Returns:
    The new state and ``{'loss', 'accuracy', 'learning_rate'}`` of the batch
    (before the update).
  """
  images = normalize(augment(key, images, config=config), mean, std)
  # The augmentation draws from `key` itself; dropout (if the model has any)
  # from a key folded out of it.
  rngs = {'dropout': jax.random.fold_in(key, 1)}

  def loss_fn(params):
    variables = {**_variables(state), 'params': params}
    if state.batch_stats:
      logits, updates = model.apply(variables, images, train=True, rngs=rngs,
                                    mutable=['batch_stats'])
    else:
      logits, updates = model.apply(variables, images, train=True,
                                    rngs=rngs), {}
    loss = optax.softmax_cross_entropy_with_integer_labels(
        logits, labels).mean()
    return loss, (logits, updates)

  (loss, (logits, updates)), grads = jax.value_and_grad(
      loss_fn, has_aux=True)(state.params)
  state = state.apply_gradients(grads=grads)
  if updates:
    state = state.replace(batch_stats=updates['batch_stats'])
  accuracy = jnp.mean(jnp.argmax(logits, axis=-1) == labels)
  return state, {'loss': loss, 'accuracy': accuracy,
                 'learning_rate': schedule(state.step - 1)}


@dataclasses.dataclass(frozen=True)
class StepSettings:
  """The hashable config fields that shape the optimiser and the train step.

  Two runs with equal settings and equal models share compiled functions
  (see :func:`compiled_functions`).
  """
  optimizer: str
  learning_rate: float
  momentum: float
  weight_decay: float
  schedule: str
  warmup_steps: int
  num_train_steps: int
  augment: str
  max_shift: int
  shift_mode: str
  max_angle: float
  mean: tuple[float, ...]
  std: tuple[float, ...]

  @classmethod
  def from_config(cls, config: ml_collections.ConfigDict, *,
                  mean: Sequence[float], std: Sequence[float]
                  ) -> StepSettings:
    fields = [f.name for f in dataclasses.fields(cls)
              if f.name not in ('mean', 'std')]
    return cls(**{name: config[name] for name in fields},
               mean=tuple(float(m) for m in mean),
               std=tuple(float(s) for s in std))


@dataclasses.dataclass(frozen=True)
class CompiledFunctions:
  """Jitted functions of one (model, settings) pair.

  Attributes:
    model: the module the functions close over (the first equal one seen:
      ``TrainState.apply_fn`` is a bound method, compared by identity when
      jit checks its cache).
    tx: the optimiser (one object, so train states share a tree structure).
    init: ``(key, x) -> variables``.
    step: :func:`train_step` with the settings bound.
    apply: :func:`make_apply_fn`'s ``(variables, images) -> logits``.
  """
  model: Any
  tx: optax.GradientTransformation
  init: Callable[..., Any]
  step: Callable[..., Any]
  apply: Callable[..., jax.Array]


@functools.lru_cache(maxsize=8)
def compiled_functions(model: Any,
                       settings: StepSettings) -> CompiledFunctions:
  """Builds (once per process for equal arguments) the jitted functions.

  Re-running or resuming a run in the same process, as tests and studies
  do, then reuses the compiled code instead of compiling it again.
  """
  return CompiledFunctions(
      model=model, tx=make_optimizer(settings),
      init=jax.jit(functools.partial(model.init, train=False)),
      step=jax.jit(functools.partial(
          train_step, model=model, config=settings, mean=settings.mean,
          std=settings.std, schedule=learning_rate_schedule(settings))),
      apply=make_apply_fn(model, mean=settings.mean, std=settings.std))


def batch_indices(step: int, *, num_examples: int, batch_size: int,
                  seed: int) -> np.ndarray:
  """Example indices of training step ``step`` (0-based), ``[batch_size]``.

  Epoch ``e`` visits a permutation drawn from ``(seed, e)``; the last
  ``num_examples % batch_size`` examples of each permutation are skipped.
  A pure function of its arguments, which makes resumed runs identical.
  """
  steps_per_epoch = num_examples // batch_size
  if steps_per_epoch < 1:
    raise ValueError(f'batch_size must be <= the number of training examples '
                     f'({num_examples}); got {batch_size}.')
  epoch, index = divmod(step, steps_per_epoch)
  order = _permutation(seed, epoch, num_examples)
  return order[index * batch_size:(index + 1) * batch_size]


@functools.lru_cache(maxsize=2)
def _permutation(seed: int, epoch: int, num_examples: int) -> np.ndarray:
  return np.random.default_rng([seed, epoch]).permutation(num_examples)


def evaluate(predict_fn: PredictFn, images: np.ndarray, labels: np.ndarray,
             *, batch_size: int) -> Scalars:
  """Mean cross-entropy and accuracy over a whole split.

  Args:
    predict_fn: ``[B, H, W, C] -> logits [B, K]``.
    images: ``[N, H, W, C]`` in [0, 1].
    labels: ``[N]`` ints.
    batch_size: examples per call (the last batch is zero-padded, so
      ``predict_fn`` compiles once).

  Returns:
    ``{'loss': float, 'accuracy': float}``.
  """
  logits = metrics_lib.predict(predict_fn, images, batch_size=batch_size)
  labels = np.asarray(labels)
  log_probs = np.log(metrics_lib.softmax(logits))
  loss = -np.take_along_axis(log_probs, labels[:, None], axis=-1).mean()
  return {'loss': float(loss),
          'accuracy': metrics_lib.accuracy(logits, labels)}


# ---------------------------------------------------------------------------
# Metrics writer: JSON lines + TensorBoard event files + log.
# ---------------------------------------------------------------------------


class MetricWriter:
  """Writes scalars to ``metrics.jsonl`` and TensorBoard event files.

  On a resumed run (``resume_step`` given) it first drops the JSON lines
  with ``step > resume_step`` (written after the checkpoint it resumes
  from) and tells TensorBoard to purge those steps, so the files read as if
  the run had never been interrupted.
  """

  def __init__(self, workdir: str, *, resume_step: int = 0):
    self._path = os.path.join(workdir, METRICS_FILE)
    if resume_step and os.path.exists(self._path):
      with open(self._path) as f:
        kept = [line for line in f
                if line.strip() and json.loads(line)['step'] <= resume_step]
      with open(self._path, 'w') as f:
        f.writelines(kept)
    elif not resume_step and os.path.exists(self._path):
      os.remove(self._path)  # a fresh run owns the file
    import tensorboardX  # pylint: disable=g-import-not-at-top
    self._tb = tensorboardX.SummaryWriter(
        workdir, purge_step=resume_step + 1 if resume_step else None)

  def write_scalars(self, step: int, scalars: Mapping[str, float]) -> None:
    scalars = {k: float(v) for k, v in scalars.items()}
    with open(self._path, 'a') as f:
      f.write(json.dumps({'step': int(step), **scalars}) + '\n')
    for name, value in scalars.items():
      self._tb.add_scalar(name, value, global_step=int(step))

  def close(self) -> None:
    self._tb.close()


def read_metrics(workdir: str) -> list[dict[str, float]]:
  """The records of ``workdir/metrics.jsonl`` (an empty list if missing)."""
  path = os.path.join(workdir, METRICS_FILE)
  if not os.path.exists(path):
    return []
  with open(path) as f:
    return [json.loads(line) for line in f if line.strip()]


# ---------------------------------------------------------------------------
# The training loop.
# ---------------------------------------------------------------------------


class _DropOrbaxInfo(pylogging.Filter):
  """Drops orbax's INFO records (several per save/restore) from the log."""

  def filter(self, record: pylogging.LogRecord) -> bool:
    return (record.levelno > pylogging.INFO or
            f'{os.sep}orbax{os.sep}' not in record.pathname)


def quiet_orbax_logging() -> None:
  """Keeps orbax's warnings but not its per-checkpoint INFO lines."""
  absl_logger = logging.get_absl_logger()
  if not any(isinstance(f, _DropOrbaxInfo) for f in absl_logger.filters):
    absl_logger.addFilter(_DropOrbaxInfo())


def _write_config(config: ml_collections.ConfigDict, workdir: str) -> None:
  path = os.path.join(workdir, 'config.json')
  text = config.to_json(indent=2)
  if os.path.exists(path):
    with open(path) as f:
      if json.load(f) != json.loads(text):
        logging.warning('config differs from the one saved in %s; resuming '
                        'with the new one', path)
  with open(path, 'w') as f:
    f.write(text)


def _format_duration(seconds: float) -> str:
  seconds = int(round(seconds))
  minutes, seconds = divmod(seconds, 60)
  hours, minutes = divmod(minutes, 60)
  return f'{hours}:{minutes:02d}:{seconds:02d}' if hours else (
      f'{minutes}:{seconds:02d}')


def train(config: ml_collections.ConfigDict, workdir: str) -> TrainResult:
  """Trains (or resumes, or just re-evaluates) and returns the trained model.

  Args:
    config: see ``experiments/configs/train.py``.
    workdir: output folder (created if missing); holds the checkpoints that
      make re-running the same command resume.

  Returns:
    A :class:`TrainResult`; ``metrics`` holds ``step``, ``train/loss``,
    ``train/accuracy`` (mean over the last logging interval; absent if this
    call trained no step), ``eval/loss`` and ``eval/accuracy``.
  """
  check_config(config)
  quiet_orbax_logging()
  os.makedirs(workdir, exist_ok=True)
  manager = ocp.CheckpointManager(
      os.path.abspath(os.path.join(workdir, CHECKPOINT_DIR)),
      options=ocp.CheckpointManagerOptions(
          max_to_keep=config.max_checkpoints, create=True))
  initial_step = manager.latest_step() or 0
  if initial_step > config.num_train_steps:
    manager.close()
    raise ValueError(f'config.num_train_steps = {config.num_train_steps} is '
                     f'below the latest checkpoint step {initial_step} in '
                     f'{workdir}; use a new workdir.')
  _write_config(config, workdir)

  train_data, eval_data = load_data(config)
  model = build_model(config.model, num_classes=train_data.num_classes)
  init_key, augment_key = jax.random.split(
      jax.random.key(config.seed, impl=PRNG_IMPL))
  image_shape = train_data.images.shape[1:]
  num_examples = train_data.images.shape[0]
  mean, std = tuple(train_data.mean), tuple(train_data.std)
  functions = compiled_functions(
      model, StepSettings.from_config(config, mean=mean, std=std))
  model = functions.model
  state = create_train_state(init_key, model, image_shape, functions.tx,
                             init_fn=functions.init)
  num_params = sum(x.size for x in jax.tree.leaves(state.params))
  logging.info('model %s: %d parameters; data %s: %d train / %d eval images '
               '%s', config.model.name, num_params, config.dataset,
               train_data.images.shape[0], eval_data.images.shape[0],
               image_shape)

  if initial_step:
    state = manager.restore(initial_step,
                            args=ocp.args.StandardRestore(state))
    logging.info('resumed from the step-%d checkpoint in %s', initial_step,
                 workdir)

  step_fn, apply_fn = functions.step, functions.apply
  writer = MetricWriter(workdir, resume_step=initial_step)

  def run_eval(state):
    return evaluate(make_predict_fn(model, state, mean=mean, std=std,
                                    apply_fn=apply_fn),
                    eval_data.images, eval_data.labels,
                    batch_size=config.eval_batch_size)

  metrics: Scalars = {}
  pending: list[dict[str, jax.Array]] = []
  # Throughput excludes evaluation and checkpointing time ("paused").
  tick, tick_step, paused = time.perf_counter(), initial_step, 0.0
  start_time = None
  for step in range(initial_step, config.num_train_steps):
    idx = batch_indices(step, num_examples=num_examples,
                        batch_size=config.batch_size, seed=config.seed)
    state, batch_metrics = step_fn(
        state, train_data.images[idx], train_data.labels[idx],
        jax.random.fold_in(augment_key, step))
    pending.append(batch_metrics)
    done = step + 1
    last = done == config.num_train_steps
    if start_time is None:
      start_time = time.perf_counter()  # after the first step's compile
    # Train metrics average over the steps since the last log; checkpoint
    # steps end an interval too, so a resumed run logs the same averages.
    if (done % config.log_every == 0 or done % config.checkpoint_every == 0
        or last):
      logged = jax.device_get(pending)
      pending = []
      now = time.perf_counter()
      steps_per_sec = (done - tick_step) / max(now - tick - paused, 1e-9)
      tick, tick_step, paused = now, done, 0.0
      metrics = {f'train/{k}': float(np.mean([m[k] for m in logged]))
                 for k in ('loss', 'accuracy')}
      writer.write_scalars(done, {
          **metrics, 'train/learning_rate': logged[-1]['learning_rate'],
          'perf/steps_per_sec': steps_per_sec})
      eta = (config.num_train_steps - done) / steps_per_sec
      logging.info('step %d/%d: loss %.4f, accuracy %.3f, %.1f steps/s, '
                   'ETA %s', done, config.num_train_steps,
                   metrics['train/loss'], metrics['train/accuracy'],
                   steps_per_sec, _format_duration(eta))
    pause_start = time.perf_counter()
    if (config.eval_every and done % config.eval_every == 0) or last:
      eval_metrics = {f'eval/{k}': v for k, v in run_eval(state).items()}
      writer.write_scalars(done, eval_metrics)
      metrics.update(eval_metrics)
      logging.info('step %d: eval loss %.4f, accuracy %.4f', done,
                   eval_metrics['eval/loss'], eval_metrics['eval/accuracy'])
    if done % config.checkpoint_every == 0 or last:
      manager.save(done, args=ocp.args.StandardSave(state))
    paused += time.perf_counter() - pause_start
  manager.wait_until_finished()
  manager.close()
  writer.close()

  if initial_step == config.num_train_steps:  # finished before: evaluate only
    metrics = {f'eval/{k}': v for k, v in run_eval(state).items()}
  elif start_time is not None:
    logging.info('trained steps %d..%d in %s', initial_step + 1,
                 config.num_train_steps,
                 _format_duration(time.perf_counter() - start_time))
  metrics = {'step': config.num_train_steps, **metrics}
  return TrainResult(metrics=metrics,
                     predict_fn=make_predict_fn(model, state, mean=mean,
                                                std=std, apply_fn=apply_fn),
                     state=state, model=model, eval_data=eval_data,
                     num_train=num_examples)


def train_and_evaluate(config: ml_collections.ConfigDict,
                       workdir: str) -> Scalars:
  """Trains ``config.model`` on ``config.dataset``; returns final metrics.

  Args:
    config: see ``experiments/configs/train.py``.
    workdir: output folder; re-running with the same workdir resumes.

  Returns:
    ``{'step', 'train/loss', 'train/accuracy', 'eval/loss',
    'eval/accuracy'}`` (train entries only when this call trained).
  """
  return train(config, workdir).metrics
