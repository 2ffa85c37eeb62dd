"""``train(config, workdir)``: restore or initialise, train, evaluate."""

from __future__ import annotations

import dataclasses
import os
import time
from typing import Any

from absl import logging
import jax
import ml_collections
import orbax.checkpoint as ocp

from experiments.train import checkpoints
from experiments.train import compiled
from experiments.train import config_checks
from experiments.train import config_history
from experiments.train import data_parallel
from experiments.train import evaluation
from experiments.train import inputs
from experiments.train import loop as loop_lib
from experiments.train import preemption
from experiments.train import state as state_lib
from experiments.train import step as step_lib
from experiments.train import workdir_lock
from experiments.train import writers
from layers import autotune


@dataclasses.dataclass
class TrainResult:
  """What :func:`train` hands to studies that probe the trained model.

  Attributes:
    metrics: final metrics, as returned by :func:`train_and_evaluate`.
    predict_fn: jitted ``images [B, H, W, C] in [0, 1] -> logits
      [B, num_classes]`` (normalisation included, ``train=False``).
    state: the final :class:`~experiments.train.state.TrainState`.
    model: the flax module.
    eval_data: the evaluation split (a :class:`data.Dataset`).
    num_train: number of training examples.
  """
  metrics: evaluation.Scalars
  predict_fn: evaluation.PredictFn
  state: state_lib.TrainState
  model: Any
  eval_data: Any
  num_train: int = 0


def train_and_evaluate(config: ml_collections.ConfigDict,
                       workdir: str) -> evaluation.Scalars:
  """Trains ``config.model`` on ``config.dataset``; returns final metrics.

  Args:
    config: see ``experiments/configs/train.py``.
    workdir: output folder; re-running with the same workdir resumes.

  Returns:
    ``{'step', 'train/loss', 'train/accuracy', 'eval/loss',
    'eval/accuracy'}`` (train entries only when this call trained).
  """
  return train(config, workdir).metrics


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
    ValueError: for a bad config (see
      :func:`~experiments.train.config_checks.check_config`), a batch size
      that does not divide by the device count, or fewer steps than the
      latest checkpoint.
    TrainingDivergedError: if the loss or the train state becomes NaN/inf;
      the checkpoints saved before are kept.
    CheckpointRestoreError: if the workdir has checkpoints but none of them
      restores.
    IncompatibleConfigError: if the config changed in keys the workdir's
      checkpoints cannot follow (model, optimiser, data shapes).
    WorkdirBusyError: if another live run holds the workdir.
    Preempted: after SIGTERM / SIGINT, once the current step is saved.
  """
  config_checks.check_config(config)
  # One run per workdir (process 0 locks for the whole run), and signals
  # stop at a step boundary instead of killing the process mid-step.
  with workdir_lock.WorkdirLock(workdir,
                                enabled=jax.process_index() == 0), \
      preemption.StopSignals() as stop:
    run, loop = start_run(config, workdir)
    initial_step = loop.step
    try:
      loop_lib.run_steps(run, loop, stop=stop)
    finally:
      run.close()  # also on errors
  metrics = final_eval(run, loop, initial_step=initial_step)
  if jax.process_index() == 0 and autotune.enabled():
    autotune.save_run_choices(workdir)
  return TrainResult(metrics=metrics,
                     predict_fn=run.predict_fn(loop.state), state=loop.state,
                     model=run.model, eval_data=run.eval_data,
                     num_train=run.train_data.images.shape[0])


def start_run(config: ml_collections.ConfigDict, workdir: str
              ) -> tuple[loop_lib.Run, loop_lib.LoopState]:
  """Loads the data, compiles, and restores or initialises the train state.

  Only process 0 writes ``config.json`` and the metrics.

  Raises:
    IncompatibleConfigError: if the config changed in keys the checkpoints
      cannot follow (checked first, before loading data or compiling).
  """
  checkpoints.quiet_orbax_logging()
  parallel = data_parallel.DataParallel.create(config.get('num_devices', 0))
  parallel.check_batch_size(config.batch_size, 'config.batch_size')
  os.makedirs(workdir, exist_ok=True)
  if has_checkpoints(workdir):  # before loading data and compiling
    config_history.check_resumable(workdir, config)
  # The conv lowerings a previous start chose (layers.autotune), before
  # anything traces a conv: same programs, bit-identical resume.
  autotune.load_run_choices(workdir)
  train_data, eval_data = inputs.load_data(config)
  functions = build_functions(config, train_data, parallel)
  warn_if_eval_batches_do_not_split(config, eval_data, parallel)
  init_key, augment_key = state_lib.seed_keys(config.seed)
  state = parallel.replicate(state_lib.create_train_state(
      init_key, functions.model, train_data.images.shape[1:], functions.tx,
      init_fn=functions.init))
  logging.info('model %s: %d parameters; data %s: %d train / %d eval images '
               '%s; %d %s device(s)', config.model.name,
               state_lib.count_params(state), config.dataset,
               train_data.images.shape[0], eval_data.images.shape[0],
               train_data.images.shape[1:], parallel.num_devices,
               parallel.platform)
  manager = checkpoints.create_manager(workdir,
                                       max_to_keep=config.max_checkpoints)
  state, initial_step = restore_or_start(config, workdir, manager, state)
  writer = (writers.MetricWriter(workdir, resume_step=initial_step)
            if jax.process_index() == 0 else writers.NullWriter())
  run = loop_lib.Run(config=config, workdir=workdir, functions=functions,
                     train_data=train_data, eval_data=eval_data,
                     augment_key=augment_key, manager=manager, writer=writer)
  return run, loop_lib.LoopState.begin(state, initial_step, workdir=workdir)


def build_functions(config: ml_collections.ConfigDict, train_data: Any,
                    parallel: data_parallel.DataParallel
                    ) -> compiled.CompiledFunctions:
  """The model of ``config`` and its compiled functions (cached)."""
  model = state_lib.build_model(config.model,
                                num_classes=train_data.num_classes)
  settings = step_lib.StepSettings.from_config(config, mean=train_data.mean,
                                               std=train_data.std)
  return compiled.compiled_functions(model, settings, parallel)


def warn_if_eval_batches_do_not_split(config: ml_collections.ConfigDict,
                                      eval_data: Any,
                                      parallel: data_parallel.DataParallel
                                      ) -> None:
  """Warns when eval batches cannot be split evenly over the devices."""
  eval_batch = min(config.eval_batch_size, eval_data.images.shape[0])
  if eval_batch % parallel.num_devices:
    logging.warning('evaluation batches of %d do not split over %d devices: '
                    'each device evaluates them whole (set '
                    'config.eval_batch_size to a multiple of %d)', eval_batch,
                    parallel.num_devices, parallel.num_devices)


def has_checkpoints(workdir: str) -> bool:
  """True if ``workdir`` holds step folders of checkpoints (intact or not)."""
  directory = checkpoints.checkpoint_dir(workdir)
  return os.path.isdir(directory) and any(
      name.isdigit() for name in os.listdir(directory))


def restore_or_start(config: ml_collections.ConfigDict, workdir: str,
                     manager: ocp.CheckpointManager,
                     state: state_lib.TrainState
                     ) -> tuple[state_lib.TrainState, int]:
  """Saves the config and restores the latest intact checkpoint, if any.

  Returns:
    ``(state, step)``: the restored state and its step, or the given
    (fresh) state and 0. The manager is closed if this raises.

  Raises:
    ValueError: if ``config.num_train_steps`` is below the latest
      checkpoint's step.
    CheckpointRestoreError: if there are checkpoints but none restores.
  """
  try:
    latest_step = manager.latest_step() or 0
    if latest_step > config.num_train_steps:
      raise ValueError(f'config.num_train_steps = {config.num_train_steps} '
                       f'is below the latest checkpoint step {latest_step} in '
                       f'{workdir}; use a new workdir.')
    state, initial_step = checkpoints.restore_or_initialize(
        manager, state, workdir=workdir)
  except BaseException:
    manager.close()
    raise
  if jax.process_index() == 0:
    changes = config_history.record_start(workdir, config,
                                          step=initial_step or None)
    writers.write_config(config, workdir)
    if changes and initial_step:
      logging.warning('resuming with a changed config (%s); every start is '
                      'in %s', ', '.join(changes), config_history.HISTORY_NAME)
  if initial_step:
    logging.info('resumed from the step-%d checkpoint in %s', initial_step,
                 workdir)
  return state, initial_step


def final_eval(run: loop_lib.Run, loop: loop_lib.LoopState, *,
               initial_step: int) -> evaluation.Scalars:
  """The metrics :func:`train` returns; evaluates a run finished before."""
  num_steps = run.config.num_train_steps
  if initial_step == num_steps:  # finished before: evaluate only
    return {'step': num_steps, **run.evaluate(loop.state)}
  if loop.start_time is not None:
    logging.info('trained steps %d..%d in %s', initial_step + 1, num_steps,
                 loop_lib.format_duration(time.perf_counter() -
                                          loop.start_time))
  return {'step': num_steps, **loop.metrics}
