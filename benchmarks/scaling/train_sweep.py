"""The training-step sweep: images per second of whole models vs batch.

One jitted training step of a registered model, built by the training code
itself (:mod:`experiments.train`): ``state.build_model`` with
``num_classes = train_num_classes``, ``state.create_train_state`` (an 'rbg'
key from ``state.seed_keys(seed)``, as runs do), ``step.make_optimizer`` and
``step.train_step`` — input normalisation, the model in training mode (batch
statistics, updated 'batch_stats' returned), the mean softmax cross-entropy,
its gradient and an Adam update, plus the step's loss / accuracy / learning
rate. Settings: Adam at a constant 1e-3, no weight decay, no augmentation,
mean 0 and std 1 (the normalisation still runs). The images are uniform in
[0, 1), ``[B, H, W, C] = [B, *train_image_shape]``, the labels uniform
integers; each timed call takes the same initial state to a new one
(nothing is donated), so every call does the same work.

One sweep, ``train_batch``: ``B`` over ``train_batches`` for each model of
``train_models`` (default 'p4cnn', 'hnet' and 'c16cnn' on 28x28x1, 10
classes). Its rows carry ``images_per_s = B / time``, the upper panel of
the PNG. Initialising a model (once per model and process) is part of
building its first point: ``setup_s`` in the rows.
"""

from __future__ import annotations

from collections.abc import Callable
import functools
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from benchmarks.scaling import problems
from experiments.train import state as state_lib
from experiments.train import step as step_lib

LAYER = 'train'
LEARNING_RATE = 1e-3


def settings(channels: int) -> step_lib.StepSettings:
  """Adam at a constant rate, no augmentation, identity normalisation."""
  return step_lib.StepSettings(
      optimizer='adam', learning_rate=LEARNING_RATE, momentum=0.0,
      weight_decay=0.0, schedule='constant', warmup_steps=0,
      num_train_steps=1, augment='none', max_shift=0, shift_mode='zeros',
      max_angle=0.0, mean=(0.0,) * channels, std=(1.0,) * channels)


@functools.lru_cache(maxsize=None)
def _model_and_state(name: str, options: tuple[tuple[str, Any], ...],
                     image_shape: tuple[int, int, int], num_classes: int,
                     seed: int):
  """``(jitted step, initial TrainState, step key)`` of one model, cached.

  The batch size is not an argument: the points of one model share its
  initial state and jitted step (one compile per batch shape).
  """
  model_config = ml_collections.ConfigDict({'name': name, **dict(options)})
  model = state_lib.build_model(model_config, num_classes=num_classes)
  step_settings = settings(image_shape[-1])
  init_key, step_key = state_lib.seed_keys(seed)
  state = state_lib.create_train_state(
      init_key, model, image_shape, step_lib.make_optimizer(step_settings))
  step = jax.jit(functools.partial(step_lib.train_step, model=model,
                                   settings=step_settings))
  return step, state, step_key


def points(config: problems.ScalingConfig
           ) -> dict[str, list[problems.Point]]:
  """The ``train_batch`` sweep: every model at every batch size."""
  h, w, c = config.train_image_shape
  if h != w:
    raise ValueError(f'train_image_shape must be square; got '
                     f'{config.train_image_shape}.')
  return {'train_batch': [
      problems.Point(LAYER, batch=b, size=h, channels=c, model=name)
      for name in config.train_models for b in config.train_batches]}


def build(point: problems.Point, config: problems.ScalingConfig
          ) -> tuple[Callable[..., Any], tuple[Any, ...]]:
  """One jitted training step of ``point.model`` and its arguments.

  Returns:
    ``(step, (state, images, labels, key))``: images ``[B, H, W, C]`` in
    [0, 1), labels ``[B]`` int32; ``step(*args)`` returns the new train
    state and the batch's ``{'loss', 'accuracy', 'learning_rate'}``.
  """
  options = config.train_model_options.get(point.model, {})
  options = tuple(sorted((key, tuple(value) if isinstance(value, list)
                          else value) for key, value in options.items()))
  step, state, key = _model_and_state(
      point.model, options,
      tuple(config.train_image_shape), config.train_num_classes,
      config.seed)
  rng = np.random.default_rng(config.seed)
  shape = (point.batch,) + tuple(config.train_image_shape)
  images = jnp.asarray(rng.uniform(0.0, 1.0, shape).astype(np.float32))
  labels = jnp.asarray(rng.integers(0, config.train_num_classes,
                                    point.batch).astype(np.int32))
  return step, (state, images, labels, key)


def series(point: problems.Point, sweep: str) -> str:
  del sweep  # one sweep
  return point.model


def describe(point: problems.Point) -> str:
  return (f'{f"{LAYER} {point.model}":<13s} B={point.batch:<3d} '
          f'S={point.size:<3d} C={point.channels:<3d}')


FAMILY = problems.register(LAYER, problems.Family(
    sweeps={'train_batch': problems.Sweep(
        'batch', 'batch B (training step)', top='images_per_s')},
    layers=(LAYER,), points=points, build=build, series=series,
    describe=describe, gflop_limit=lambda config: config.train_max_gflop))
