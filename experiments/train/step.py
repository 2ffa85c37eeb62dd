"""One training step and the optimiser it uses.

:class:`StepSettings` holds every config field the step, the optimiser and
the learning-rate schedule read; it is the one type those functions take
(build it with :meth:`StepSettings.from_config`). Being hashable, it also
keys the cache of compiled functions (:mod:`experiments.train.compiled`).
"""

from __future__ import annotations

from collections.abc import Sequence
import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections
import optax

import data
from experiments.train import inputs
from experiments.train import state as state_lib


@dataclasses.dataclass(frozen=True)
class StepSettings:
  """The hashable config fields that shape the optimiser and the train step.

  Two runs with equal settings and equal models share compiled functions
  (see :func:`experiments.train.compiled.compiled_functions`). The fields
  are the config's of the same names (see ``experiments/configs/train.py``),
  plus the per-channel ``mean`` and ``std`` of the training images.
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
  # schedule='step' only: multiply the rate by lr_decay_factor every
  # lr_decay_every steps after the warmup and lr_decay_start more steps at
  # the peak rate (a staircase).
  lr_decay_every: int = 0
  lr_decay_factor: float = 0.1
  lr_decay_start: int = 0
  # augment='rotate' only: 1 bilinear, 0 nearest neighbour (data.rotate).
  rotate_order: int = 1
  # augment='rescale' only: factors uniform in [min, max] (> 1 magnifies).
  min_scale_factor: float = 0.5
  max_scale_factor: float = 2.0
  # How the optimiser holds its state: 'flat' (one vector over all
  # parameters, optax.flatten; configs/train.py sets it) or 'tree' (one
  # array per parameter: configs from before the field, whose checkpoints
  # hold that layout).
  optimizer_state: str = 'tree'

  @classmethod
  def from_config(cls, config: ml_collections.ConfigDict, *,
                  mean: Sequence[float], std: Sequence[float]
                  ) -> StepSettings:
    """The settings of a (checked) training config.

    Args:
      config: a training config (see ``experiments/configs/train.py``).
      mean: per-channel mean of the training images.
      std: per-channel std of the training images.
    """
    fields = [f.name for f in dataclasses.fields(cls)
              if f.name not in ('mean', 'std')]
    # Fields with a default may be missing from older configs.
    return cls(**{name: config[name] for name in fields if name in config},
               mean=tuple(float(m) for m in mean),
               std=tuple(float(s) for s in std))


def learning_rate_schedule(settings: StepSettings) -> optax.Schedule:
  """Linear warmup from 0 over ``warmup_steps``, then cosine decay to 0 at
  ``num_train_steps``, a constant rate, or ('step') the rate times
  ``lr_decay_factor ** (k // lr_decay_every)`` at ``k >= 0`` steps after
  the warmup and ``lr_decay_start`` steps more (the peak rate before)."""
  peak = settings.learning_rate
  warmup = settings.warmup_steps
  if settings.schedule == 'cosine':
    decay = optax.cosine_decay_schedule(
        peak, decay_steps=max(settings.num_train_steps - warmup, 1))
  elif settings.schedule == 'step':
    decay = optax.exponential_decay(
        peak, transition_steps=settings.lr_decay_every,
        decay_rate=settings.lr_decay_factor, staircase=True,
        transition_begin=settings.lr_decay_start)
  else:
    decay = optax.constant_schedule(peak)
  if warmup == 0:
    return decay
  return optax.join_schedules(
      [optax.linear_schedule(0.0, peak, warmup), decay], boundaries=[warmup])


def make_optimizer(settings: StepSettings) -> optax.GradientTransformation:
  """Adam(W) or SGD with (Nesterov-free) momentum on the schedule.

  With ``settings.optimizer_state == 'flat'`` (configs/train.py's default)
  the optimiser works on one vector of all parameters (``optax.flatten``):
  the same update per element, in fewer kernels. XLA:CPU does not fuse
  sibling outputs, so each parameter array's first moment, second moment
  and new value are three kernels to compile; flat, the moments are one
  vector and only the new value stays per array (docs/performance.md,
  "Compile time, seventh pass"). ``'tree'`` keeps one state array per
  parameter, as checkpoints written before the option have it.
  """
  schedule = learning_rate_schedule(settings)
  if settings.optimizer == 'adam':
    if settings.weight_decay:
      tx = optax.adamw(schedule, weight_decay=settings.weight_decay)
    else:
      tx = optax.adam(schedule)
  else:
    tx = optax.sgd(schedule, momentum=settings.momentum or None)
    if settings.weight_decay:
      tx = optax.chain(optax.add_decayed_weights(settings.weight_decay), tx)
  return optax.flatten(tx) if settings.optimizer_state == 'flat' else tx


def augment(key: jax.Array, images: jax.Array, *,
            settings: StepSettings) -> jax.Array:
  """Random shift, rotation or rescale of a batch ``[B, H, W, C]`` (inside
  jit)."""
  if settings.augment == 'shift':
    return data.augment_shift(key, images, max_shift=settings.max_shift,
                              mode=settings.shift_mode)
  if settings.augment == 'rotate':
    return data.augment_rotate(key, images, max_angle=settings.max_angle,
                               order=settings.rotate_order)
  if settings.augment == 'rescale':
    return data.augment_rescale(
        key, images, min_factor=settings.min_scale_factor,
        max_factor=settings.max_scale_factor)
  return images


def train_step(state: state_lib.TrainState, images: jax.Array,
               labels: jax.Array, key: jax.Array, *, model: Any,
               settings: StepSettings
               ) -> tuple[state_lib.TrainState, dict[str, jax.Array]]:
  """One optimiser step on a batch; images ``[B, H, W, C]`` in [0, 1].

  ``key`` drives the augmentation and, through ``fold_in(key, 1)``, the
  model's 'dropout' rng stream (unused by models without dropout).

  Args:
    state: the train state (its optimiser: ``make_optimizer(settings)``).
    images: ``[B, H, W, C]`` in [0, 1].
    labels: ``[B]`` ints.
    key: this step's PRNG key.
    model: the flax module.
    settings: augmentation, normalisation and schedule.

  Returns:
    The new state and ``{'loss', 'accuracy', 'learning_rate'}`` of the batch
    (before the update).
  """
  images = inputs.normalize(augment(key, images, settings=settings),
                            settings.mean, settings.std)
  # The augmentation draws from `key` itself; dropout (if the model has any)
  # from a key folded out of it.
  rngs = {'dropout': jax.random.fold_in(key, 1)}

  def loss_fn(params):
    variables = {**state_lib.model_variables(state), 'params': params}
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
  learning_rate = learning_rate_schedule(settings)(state.step - 1)
  return state, {'loss': loss, 'accuracy': accuracy,
                 'learning_rate': learning_rate}
