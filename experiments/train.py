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
Resumed runs are bit-for-bit identical to uninterrupted ones, also after a
SIGKILL (``tests/train_test.py``, ``tests/resume_test.py``): the batch of
step ``s`` and its augmentation key are functions of ``(config.seed, s)``
only; a resumed run first drops the metrics logged after its checkpoint;
and training metrics, averaged over logging intervals, also close an
interval at every checkpoint step. Only ``perf/steps_per_sec`` differs.

Reliability:

* Checkpoints are verified: each records a SHA-256 of the train state in
  its orbax metadata, and a checkpoint that fails to read back or to match
  its hash is set aside (``corrupt_checkpoints/``) with a warning, and the
  previous one is used (:func:`restore_or_initialize`). Orbax reads arrays
  with TensorStore (OCDBT/zarr) and metadata as JSON; nothing is unpickled.
* A loss or train state that becomes NaN/inf stops the run with a
  :class:`TrainingDivergedError`; such a state is never checkpointed.

Data parallelism (:class:`DataParallel`): the batch is split over a 1-D
device mesh (axis ``'batch'``: ``config.num_devices``, 0 = all devices,
every process's in a multi-process run) and the train state is replicated.
``config.batch_size`` must divide by the device count. In a multi-process
run (``main.py --distributed``) every process builds the same global batch
and feeds its own devices their rows (``batch_size / process_count`` per
process); only process 0 writes ``config.json`` and the metrics.

Inputs are images ``[B, H, W, C]`` in [0, 1]; the model sees them normalised
with the training set's per-channel mean and std (see :func:`make_apply_fn`).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
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
from jax.experimental import multihost_utils
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
# Checkpoints that failed to restore are moved here (never deleted).
CORRUPT_CHECKPOINT_DIR = 'corrupt_checkpoints'
# Key of the train state's SHA-256 in each checkpoint's orbax custom metadata.
CHECKSUM_KEY = 'state_sha256'
# The one mesh axis: data parallelism splits the batch over it.
BATCH_AXIS = 'batch'

Scalars = dict[str, float]
PredictFn = Callable[[jax.typing.ArrayLike], jax.Array]


class TrainState(train_state.TrainState):
  """Optax train state plus the model's 'batch_stats' (empty dict if none)."""
  batch_stats: Any = flax.struct.field(default_factory=dict)


class TrainingDivergedError(FloatingPointError):
  """The training loss or the train state became NaN or infinite."""


class CheckpointRestoreError(RuntimeError):
  """Checkpoints exist in the workdir but none of them can be restored."""


class CorruptCheckpointError(ValueError):
  """A checkpoint read back, but not as it was written."""


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
  if config.learning_rate <= 0:
    raise ValueError(f'config.learning_rate must be > 0; got '
                     f'{config.learning_rate!r}.')
  if config.momentum >= 1:
    raise ValueError(f'config.momentum must be in [0, 1) (SGD momentum); got '
                     f'{config.momentum!r}.')
  check_choice(config.optimizer, 'config.optimizer', OPTIMIZERS)
  check_choice(config.schedule, 'config.schedule', SCHEDULES)
  check_choice(config.augment, 'config.augment', AUGMENTATIONS)
  check_choice(config.shift_mode, 'config.shift_mode', SHIFT_MODES)
  check_int(config.max_shift, 'config.max_shift', minimum=0)
  check_float(config.max_angle, 'config.max_angle')
  check_int(config.get('num_devices', 0), 'config.num_devices (0: all devices)',
            minimum=0)
  # Data and model names too, before a run creates its workdir or loads data.
  check_choice(config.dataset, 'config.dataset', data.DATASETS)
  check_choice(config.get('data_source', 'auto'), 'config.data_source',
               data.SOURCES)
  check_choice(config.get('eval_split', 'test'), 'config.eval_split',
               data.SPLITS[config.dataset])
  if config.get('canvas_size') is not None:
    check_int(config.canvas_size, 'config.canvas_size', minimum=1)
  model_name = config.model.name
  check_choice(model_name, 'config.model.name', tuple(registry.MODELS))
  unknown = sorted(set(config.model) - {'name'} -
                   set(registry.model_options(model_name)))
  if unknown:
    raise ValueError(
        f'config.model has unknown option(s) {", ".join(unknown)} for model '
        f'{model_name!r}; accepted: '
        f'{", ".join(registry.model_options(model_name))}.')
  if config.warmup_steps > config.num_train_steps:
    raise ValueError(f'config.warmup_steps must be <= config.num_train_steps '
                     f'= {config.num_train_steps}; got {config.warmup_steps}.')


# ---------------------------------------------------------------------------
# Data parallelism.
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class DataParallel:
  """Data parallelism over a 1-D device mesh with the axis ``'batch'``.

  Batches ``[B, ...]`` are split along ``B`` over the devices; the train
  state is replicated on every device. One device is the plain
  single-device case (the same numbers as without a mesh).

  Attributes:
    mesh: the mesh; its devices in ``jax.devices()`` order, so in a
      multi-process run each process owns a contiguous block of the batch.
  """
  mesh: jax.sharding.Mesh

  @classmethod
  def create(cls, num_devices: int = 0) -> DataParallel:
    """A mesh over ``num_devices`` devices.

    Args:
      num_devices: 0 for every device (of every process in a multi-process
        run), else the first ``num_devices`` local devices (single-process
        runs only).

    Raises:
      ValueError: if ``num_devices`` is negative, more than the local
        devices, or not 0 in a multi-process run.
    """
    check_int(num_devices, 'config.num_devices (0: all devices)', minimum=0)
    if num_devices == 0:
      devices = jax.devices()
    elif jax.process_count() > 1:
      raise ValueError(
          f'config.num_devices must be 0 (all {jax.device_count()} devices of '
          f'the {jax.process_count()} processes) in a multi-process run; got '
          f'{num_devices}.')
    else:
      devices = jax.local_devices()
      if num_devices > len(devices):
        raise ValueError(
            f'config.num_devices = {num_devices}, but this machine has only '
            f'{len(devices)} {devices[0].platform} device(s): {devices}; use '
            f'0 (all) or at most {len(devices)}.')
      devices = devices[:num_devices]
    return cls(jax.sharding.Mesh(np.asarray(devices), (BATCH_AXIS,)))

  @property
  def num_devices(self) -> int:
    return self.mesh.size

  @property
  def batch_sharding(self) -> jax.sharding.NamedSharding:
    """Splits the leading (batch) axis over the devices."""
    return jax.sharding.NamedSharding(
        self.mesh, jax.sharding.PartitionSpec(BATCH_AXIS))

  @property
  def replicated(self) -> jax.sharding.NamedSharding:
    """A full copy on every device."""
    return jax.sharding.NamedSharding(self.mesh, jax.sharding.PartitionSpec())

  def check_batch_size(self, batch_size: int, name: str) -> None:
    """Raises ValueError unless ``batch_size`` divides by the device count."""
    if batch_size % self.num_devices:
      raise ValueError(
          f'{name} = {batch_size} must be divisible by the number of devices '
          f'({self.num_devices}: the batch is split evenly over them); change '
          f'{name} or set config.num_devices.')

  def put_batch(self, array: jax.typing.ArrayLike) -> jax.Array:
    """``array [B, ...]`` split over the devices, or replicated if ``B``
    does not divide by the device count (evaluation of odd batches).

    In a multi-process run every process passes the same global batch.
    """
    sharding = (self.batch_sharding if np.shape(array)[0] % self.num_devices
                == 0 else self.replicated)
    return jax.device_put(array, sharding)

  def replicate(self, tree: Any) -> Any:
    """Every leaf of ``tree`` copied to every device of the mesh."""
    return jax.device_put(tree, self.replicated)


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


def seed_keys(seed: int) -> tuple[jax.Array, jax.Array]:
  """``(init_key, augment_key)`` of a run: its parameter initialisation, and
  (folded with the step) each step's augmentation and dropout."""
  init_key, augment_key = jax.random.split(jax.random.key(seed,
                                                          impl=PRNG_IMPL))
  return init_key, augment_key


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


def make_apply_fn(model: Any, *, mean: Sequence[float], std: Sequence[float],
                  parallel: DataParallel | None = None
                  ) -> Callable[[Any, jax.typing.ArrayLike], jax.Array]:
  """Jitted ``(variables, images [B, H, W, C] in [0, 1]) -> logits [B, K]``.

  Normalises with ``mean``/``std`` and runs the model in eval mode. The
  variables are an argument, not constants baked into the computation, so
  one compile serves every set of weights and every batch of one shape.
  With ``parallel``, the logits come back replicated on its mesh (readable
  by every process); place the images with ``parallel.put_batch``.
  """
  def apply(variables, images):
    return model.apply(variables, normalize(images, mean, std), train=False)
  if parallel is None:
    return jax.jit(apply)
  return jax.jit(apply, out_shardings=parallel.replicated)


def make_predict_fn(model: Any, state: TrainState, *, mean: Sequence[float],
                    std: Sequence[float],
                    apply_fn: Callable[..., jax.Array] | None = None,
                    parallel: DataParallel | None = None) -> PredictFn:
  """``images [B, H, W, C] in [0, 1] -> logits [B, K]`` for ``state``'s weights.

  Args:
    model: the flax module.
    state: its train state (params and batch statistics).
    mean: per-channel mean of the training images.
    std: per-channel std of the training images.
    apply_fn: a :func:`make_apply_fn` result to reuse (saves a compile).
    parallel: the mesh ``state`` lives on; batches are split over it (or
      replicated when their size does not divide by its device count).
  """
  if apply_fn is None:
    apply_fn = make_apply_fn(model, mean=mean, std=std, parallel=parallel)
  variables = _variables(state)
  if parallel is None:
    return functools.partial(apply_fn, variables)

  def predict(images: jax.typing.ArrayLike) -> jax.Array:
    return apply_fn(variables, parallel.put_batch(images))
  return predict


def augment(key: jax.Array, images: jax.Array, *,
            config: ml_collections.ConfigDict | StepSettings) -> jax.Array:
  """Random shift or rotation of a batch ``[B, H, W, C]`` (inside jit)."""
  if config.augment == 'shift':
    return data.augment_shift(key, images, max_shift=config.max_shift,
                              mode=config.shift_mode)
  if config.augment == 'rotate':
    return data.augment_rotate(key, images, max_angle=config.max_angle)
  return images


def all_finite(tree: Any) -> jax.Array:
  """True iff no floating-point leaf of ``tree`` holds a NaN or an inf."""
  checks = [jnp.all(jnp.isfinite(leaf)) for leaf in jax.tree.leaves(tree)
            if jnp.issubdtype(jnp.result_type(leaf), jnp.inexact)]
  return jnp.all(jnp.stack(checks)) if checks else jnp.asarray(True)


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
    init: ``(key, x) -> variables``, replicated on the mesh.
    step: :func:`train_step` with the settings bound: state and key
      replicated, images and labels split over the batch axis.
    apply: :func:`make_apply_fn`'s ``(variables, images) -> logits``.
    all_finite: ``tree -> bool``: no NaN/inf in any floating leaf.
    parallel: the mesh the functions run on.
  """
  model: Any
  tx: optax.GradientTransformation
  init: Callable[..., Any]
  step: Callable[..., Any]
  apply: Callable[..., jax.Array]
  all_finite: Callable[[Any], jax.Array]
  parallel: DataParallel


@functools.lru_cache(maxsize=8)
def compiled_functions(model: Any, settings: StepSettings,
                       parallel: DataParallel | None = None
                       ) -> CompiledFunctions:
  """Builds (once per process for equal arguments) the jitted functions.

  Re-running or resuming a run in the same process, as tests and studies
  do, then reuses the compiled code instead of compiling it again.

  Args:
    model: the flax module.
    settings: the optimiser and step settings.
    parallel: the device mesh (default: one device).
  """
  if parallel is None:
    parallel = DataParallel.create(1)
  replicated, batch = parallel.replicated, parallel.batch_sharding
  return CompiledFunctions(
      model=model, tx=make_optimizer(settings),
      init=jax.jit(functools.partial(model.init, train=False),
                   out_shardings=replicated),
      step=jax.jit(
          functools.partial(
              train_step, model=model, config=settings, mean=settings.mean,
              std=settings.std, schedule=learning_rate_schedule(settings)),
          in_shardings=(replicated, batch, batch, replicated),
          out_shardings=(replicated, replicated)),
      apply=make_apply_fn(model, mean=settings.mean, std=settings.std,
                          parallel=parallel),
      all_finite=jax.jit(all_finite, out_shardings=replicated),
      parallel=parallel)


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


class NullWriter:
  """A :class:`MetricWriter` that writes nothing (processes other than 0)."""

  def write_scalars(self, step: int, scalars: Mapping[str, float]) -> None:
    del step, scalars

  def close(self) -> None:
    pass


def read_metrics(workdir: str) -> list[dict[str, float]]:
  """The records of ``workdir/metrics.jsonl`` (an empty list if missing)."""
  path = os.path.join(workdir, METRICS_FILE)
  if not os.path.exists(path):
    return []
  with open(path) as f:
    return [json.loads(line) for line in f if line.strip()]


# ---------------------------------------------------------------------------
# Checkpoints: verified restore-or-initialise.
# ---------------------------------------------------------------------------


def state_checksum(state: Any) -> str:
  """SHA-256 (hex) of every leaf of ``state``: key path, dtype, shape, bytes.

  Saved in each checkpoint's metadata and compared on restore, because
  TensorStore checksums its index (a truncated or flipped b-tree is
  detected) but not the bytes of large arrays.
  """
  digest = hashlib.sha256()
  leaves, _ = jax.tree_util.tree_flatten_with_path(jax.device_get(state))
  for path, leaf in leaves:
    array = np.ascontiguousarray(leaf)
    digest.update(f'{jax.tree_util.keystr(path)}|{array.dtype}|'
                  f'{array.shape};'.encode())
    digest.update(array.tobytes())
  return digest.hexdigest()


def _describe_error(error: BaseException) -> str:
  """``Type: message``, without TensorStore's long JSON spec."""
  message = str(error).split(' [tensorstore_spec')[0].strip()
  if len(message) > 400:
    message = message[:400] + '...'
  return f'{type(error).__name__}: {message}'


def restore_checkpoint(manager: ocp.CheckpointManager, step: int,
                       template: TrainState) -> TrainState:
  """Restores checkpoint ``step`` and checks it against its checksum.

  Args:
    manager: the run's checkpoint manager.
    step: a step of ``manager.all_steps()``.
    template: a train state with the right structure, dtypes and shardings.

  Returns:
    The restored train state (the template's shardings).

  Raises:
    CorruptCheckpointError: if the checkpoint's metadata is unreadable or
      the restored state does not match its checksum; other exceptions
      from orbax / TensorStore if the files cannot be read.
  """
  state = manager.restore(step, args=ocp.args.StandardRestore(template))
  metadata = manager.metadata(step)  # after restore: its handler is known
  expected = (metadata.custom_metadata or {}).get(CHECKSUM_KEY)
  if expected is None and metadata.commit_timestamp_nsecs is None:
    raise CorruptCheckpointError(
        'its metadata file (_CHECKPOINT_METADATA) is missing or unreadable')
  if expected is None:  # written before checksums existed
    logging.info('checkpoint %d has no checksum; restored it unverified',
                 step)
    return state
  actual = state_checksum(state)
  if actual != expected:
    raise CorruptCheckpointError(
        f'the restored state does not match the checksum saved with it '
        f'(sha256 {actual[:16]}... instead of {expected[:16]}...)')
  return state


def _set_aside(checkpoint_dir: str, steps: Sequence[int],
               workdir: str) -> None:
  """Moves unreadable checkpoints to ``workdir/corrupt_checkpoints/``."""
  if jax.process_index() == 0:
    target_dir = os.path.join(workdir, CORRUPT_CHECKPOINT_DIR)
    os.makedirs(target_dir, exist_ok=True)
    for step in steps:
      target = os.path.join(target_dir, str(step))
      suffix = 0
      while os.path.exists(target):
        suffix += 1
        target = os.path.join(target_dir, f'{step}.{suffix}')
      os.rename(os.path.join(checkpoint_dir, str(step)), target)
      logging.warning('moved the unreadable checkpoint %d to %s', step,
                      target)
  if jax.process_count() > 1:
    multihost_utils.sync_global_devices('equivlab_set_aside_checkpoints')


def restore_or_initialize(manager: ocp.CheckpointManager,
                          state: TrainState, *, workdir: str
                          ) -> tuple[TrainState, int]:
  """The newest checkpoint that restores intact, or ``(state, 0)`` if none.

  A checkpoint that fails (unreadable, truncated or missing files, wrong
  checksum) is reported with a warning naming its step and the error; the
  next older one is tried. Failed checkpoints newer than the restored one
  are moved to ``workdir/corrupt_checkpoints/`` so that the run can write
  those steps again.

  Args:
    manager: the run's checkpoint manager.
    state: freshly initialised state; the template for restoring.
    workdir: the run's folder.

  Returns:
    ``(state, step)``; step 0 (and ``state`` itself) if there are no
    checkpoints.

  Raises:
    CheckpointRestoreError: if there are checkpoints but none restores.
  """
  checkpoint_dir = os.fspath(manager.directory)
  failed = []
  for step in sorted(manager.all_steps(), reverse=True):
    try:
      restored = restore_checkpoint(manager, step, state)
    except Exception as error:  # pylint: disable=broad-exception-caught
      failed.append((step, _describe_error(error)))
      logging.warning('checkpoint %d in %s cannot be restored (%s); trying '
                      'an earlier one', step, checkpoint_dir, failed[-1][1])
      continue
    if failed:
      _set_aside(checkpoint_dir, [s for s, _ in failed], workdir)
      manager.reload()
      logging.warning('resuming from checkpoint %d instead of %d: the steps '
                      'after %d are trained again', step, failed[0][0], step)
    return restored, step
  if failed:
    details = '; '.join(f'step {s}: {e}' for s, e in failed)
    raise CheckpointRestoreError(
        f'none of the {len(failed)} checkpoints in {checkpoint_dir} can be '
        f'restored ({details}). If the model, optimiser or data changed, use '
        f'a new --workdir; to start this run afresh, delete {checkpoint_dir}.')
  return state, 0


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


def _diverged_message(what: str, *, config: ml_collections.ConfigDict,
                      last_good: int | None, checkpoint_dir: str) -> str:
  if last_good:
    kept = (f'The last good checkpoint, step {last_good} in {checkpoint_dir}, '
            f'is kept; re-running the same command resumes from it (and '
            f'diverges again unless the config changes).')
  else:
    kept = 'No checkpoint had been saved yet.'
  return (f'Training diverged: {what}. Stopped without saving that state. '
          f'{kept} Try a lower config.learning_rate (now '
          f'{config.learning_rate:g}), more config.warmup_steps (now '
          f'{config.warmup_steps}), or check the data for NaN/inf.')


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

  Raises:
    ValueError: for a bad config (see :func:`check_config`), a batch size
      that does not divide by the device count, or fewer steps than the
      latest checkpoint.
    TrainingDivergedError: if the loss or the train state becomes NaN/inf;
      the checkpoints saved before are kept.
    CheckpointRestoreError: if the workdir has checkpoints but none of them
      restores.
  """
  check_config(config)
  quiet_orbax_logging()
  parallel = DataParallel.create(config.get('num_devices', 0))
  parallel.check_batch_size(config.batch_size, 'config.batch_size')
  is_primary = jax.process_index() == 0  # writes config and metrics
  os.makedirs(workdir, exist_ok=True)

  train_data, eval_data = load_data(config)
  model = build_model(config.model, num_classes=train_data.num_classes)
  init_key, augment_key = seed_keys(config.seed)
  image_shape = train_data.images.shape[1:]
  num_examples = train_data.images.shape[0]
  mean, std = tuple(train_data.mean), tuple(train_data.std)
  functions = compiled_functions(
      model, StepSettings.from_config(config, mean=mean, std=std), parallel)
  model = functions.model
  eval_batch = min(config.eval_batch_size, eval_data.images.shape[0])
  if eval_batch % parallel.num_devices:
    logging.warning('evaluation batches of %d do not split over %d devices: '
                    'each device evaluates them whole (set '
                    'config.eval_batch_size to a multiple of %d)', eval_batch,
                    parallel.num_devices, parallel.num_devices)
  state = parallel.replicate(create_train_state(
      init_key, model, image_shape, functions.tx, init_fn=functions.init))
  num_params = sum(x.size for x in jax.tree.leaves(state.params))
  logging.info('model %s: %d parameters; data %s: %d train / %d eval images '
               '%s; %d %s device(s)', config.model.name, num_params,
               config.dataset, train_data.images.shape[0],
               eval_data.images.shape[0], image_shape, parallel.num_devices,
               parallel.mesh.devices.flat[0].platform)

  checkpoint_dir = os.path.abspath(os.path.join(workdir, CHECKPOINT_DIR))
  manager = ocp.CheckpointManager(
      checkpoint_dir,
      options=ocp.CheckpointManagerOptions(
          max_to_keep=config.max_checkpoints, create=True,
          # Half-written checkpoints of a killed run: removed, not resumed.
          cleanup_tmp_directories=True))
  try:
    latest_step = manager.latest_step() or 0
    if latest_step > config.num_train_steps:
      raise ValueError(f'config.num_train_steps = {config.num_train_steps} '
                       f'is below the latest checkpoint step {latest_step} in '
                       f'{workdir}; use a new workdir.')
    if is_primary:
      _write_config(config, workdir)
    state, initial_step = restore_or_initialize(manager, state,
                                                workdir=workdir)
  except BaseException:
    manager.close()
    raise
  if initial_step:
    logging.info('resumed from the step-%d checkpoint in %s', initial_step,
                 workdir)

  step_fn, apply_fn = functions.step, functions.apply
  writer = (MetricWriter(workdir, resume_step=initial_step) if is_primary
            else NullWriter())

  def run_eval(state):
    return evaluate(make_predict_fn(model, state, mean=mean, std=std,
                                    apply_fn=apply_fn, parallel=parallel),
                    eval_data.images, eval_data.labels,
                    batch_size=config.eval_batch_size)

  def diverged(what):
    manager.wait_until_finished()
    return TrainingDivergedError(_diverged_message(
        what, config=config, last_good=manager.latest_step(),
        checkpoint_dir=checkpoint_dir))

  checked_step = initial_step  # the state was finite after this step

  def check_state(done):
    # At logging, evaluation and checkpoint steps: one small reduction, not
    # one per step, and the compiled train step stays as it was. The loss
    # alone is not enough: ReLU and max pooling can hide NaN weights.
    nonlocal checked_step
    if done != checked_step and not bool(functions.all_finite(state)):
      raise diverged(f'the train state (parameters, batch statistics or '
                     f'optimiser state) holds NaN/inf after step {done} (it '
                     f'was finite after step {checked_step})')
    checked_step = done

  metrics: Scalars = {}
  pending: list[dict[str, jax.Array]] = []
  # Throughput excludes evaluation and checkpointing time ("paused").
  tick, tick_step, paused = time.perf_counter(), initial_step, 0.0
  start_time = None
  try:
    for step in range(initial_step, config.num_train_steps):
      idx = batch_indices(step, num_examples=num_examples,
                          batch_size=config.batch_size, seed=config.seed)
      state, batch_metrics = step_fn(
          state, parallel.put_batch(train_data.images[idx]),
          parallel.put_batch(train_data.labels[idx]),
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
        for offset, record in enumerate(logged):
          if not np.isfinite(record['loss']):
            raise diverged(f'the training loss is {float(record["loss"])} at '
                           f'step {done - len(logged) + offset + 1}')
        check_state(done)
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
      evaluate_now = (config.eval_every and done % config.eval_every == 0
                      ) or last
      save_now = done % config.checkpoint_every == 0 or last
      if evaluate_now or save_now:
        check_state(done)  # never evaluate or save a NaN/inf state
      if evaluate_now:
        eval_metrics = {f'eval/{k}': v for k, v in run_eval(state).items()}
        writer.write_scalars(done, eval_metrics)
        metrics.update(eval_metrics)
        logging.info('step %d: eval loss %.4f, accuracy %.4f', done,
                     eval_metrics['eval/loss'], eval_metrics['eval/accuracy'])
      if save_now:
        manager.save(done, args=ocp.args.StandardSave(state),
                     custom_metadata={CHECKSUM_KEY: state_checksum(state)})
      paused += time.perf_counter() - pause_start
  finally:
    # Also on errors and Ctrl-C: finish writing the checkpoint in flight.
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
                                                std=std, apply_fn=apply_fn,
                                                parallel=parallel),
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
