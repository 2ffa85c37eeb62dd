"""The training loop: steps, logging intervals, evaluation and checkpoints.

:func:`run_steps` trains a :class:`Run` from its :class:`LoopState` to
``config.num_train_steps``. Resumed runs are bit-for-bit identical to
uninterrupted ones: the batch of step ``s`` and its augmentation key are
functions of ``(config.seed, s)`` only, and training metrics, averaged over
logging intervals, also close an interval at every checkpoint step (a
resumed run starts at one). Only ``perf/steps_per_sec`` differs.

A loss or train state that becomes NaN/inf stops the run with a
:class:`TrainingDivergedError`; such a state is never evaluated or
checkpointed, and the checkpoints saved before it are kept.

SIGTERM / SIGINT (:mod:`experiments.train.preemption`) stop the loop after the
current step: :func:`stop_early` saves a verified checkpoint of that step and
the per-step metrics of the open logging interval (``pending_metrics.json``),
so the resumed run logs the same interval means as an uninterrupted one.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from typing import Any

from absl import logging
import jax
import ml_collections
import numpy as np
import orbax.checkpoint as ocp

from experiments.train import checkpoints
from experiments.train import compiled
from experiments.train import data_parallel
from experiments.train import evaluation
from experiments.train import inputs
from experiments.train import preemption
from experiments.train import state as state_lib
from experiments.train import writers
from layers import autotune


PENDING_METRICS_FILE = 'pending_metrics.json'


class TrainingDivergedError(FloatingPointError):
  """The training loss or the train state became NaN or infinite."""


@dataclasses.dataclass(frozen=True)
class Run:
  """What stays fixed while a run trains.

  Attributes:
    config: the training config (see ``experiments/configs/train.py``).
    workdir: the run's output folder.
    functions: the compiled functions (with their model and device mesh).
    train_data: the training split (a :class:`data.Dataset`).
    eval_data: the evaluation split.
    augment_key: folded with a step's index: that step's augmentation and
      dropout key.
    manager: the checkpoint manager of the workdir.
    writer: a :class:`~experiments.train.writers.MetricWriter` on process 0,
      else a :class:`~experiments.train.writers.NullWriter`.
  """
  config: ml_collections.ConfigDict
  workdir: str
  functions: compiled.CompiledFunctions
  train_data: Any
  eval_data: Any
  augment_key: jax.Array
  manager: ocp.CheckpointManager
  writer: writers.MetricWriter | writers.NullWriter

  @property
  def model(self) -> Any:
    return self.functions.model

  @property
  def parallel(self) -> data_parallel.DataParallel:
    return self.functions.parallel

  def predict_fn(self, state: state_lib.TrainState) -> evaluation.PredictFn:
    """``images [B, H, W, C] in [0, 1] -> logits`` with ``state``'s weights."""
    return evaluation.make_predict_fn(
        self.model, state, mean=tuple(self.train_data.mean),
        std=tuple(self.train_data.std), apply_fn=self.functions.apply,
        parallel=self.parallel)

  def evaluate(self, state: state_lib.TrainState) -> evaluation.Scalars:
    """``{'eval/loss', 'eval/accuracy'}`` of ``state`` on the eval split."""
    scalars = evaluation.evaluate(
        self.predict_fn(state), self.eval_data.images, self.eval_data.labels,
        batch_size=self.config.eval_batch_size)
    return {f'eval/{k}': v for k, v in scalars.items()}

  def is_due(self, step: int, every: int) -> bool:
    """True at multiples of ``every`` (never if 0) and at the last step."""
    return (bool(every) and step % every == 0
            ) or step == self.config.num_train_steps

  def close(self) -> None:
    """Finishes writing the checkpoint in flight; closes the files."""
    self.manager.wait_until_finished()
    self.manager.close()
    self.writer.close()


@dataclasses.dataclass
class LoopState:
  """What changes from step to step.

  Attributes:
    state: the train state after ``step`` steps.
    step: the number of steps done.
    checked_step: the state was checked to be finite after this step.
    pending: each step's metrics (on device) since the last logging step.
    metrics: the last interval's mean train metrics and the last eval.
    interval_start: ``time.perf_counter()`` at the last logging step.
    interval_step: the step of the last log.
    paused: seconds spent evaluating and checkpointing since the last log
      (throughput excludes them).
    start_time: ``time.perf_counter()`` after the first step of this call
      (its compile included); None before.
  """
  state: state_lib.TrainState
  step: int
  checked_step: int
  interval_step: int
  interval_start: float
  pending: list[dict[str, jax.Array]] = dataclasses.field(default_factory=list)
  metrics: evaluation.Scalars = dataclasses.field(default_factory=dict)
  paused: float = 0.0
  start_time: float | None = None

  @classmethod
  def begin(cls, state: state_lib.TrainState, step: int, *,
            workdir: str) -> LoopState:
    """The loop state of a run (re)starting after ``step`` steps.

    A run stopped early at ``step`` left the metrics of its open logging
    interval in ``workdir``; they are taken back, as if it had not stopped.
    """
    return cls(state=state, step=step, checked_step=step, interval_step=step,
               interval_start=time.perf_counter(),
               pending=read_pending_metrics(workdir, step))


def read_pending_metrics(workdir: str, step: int
                         ) -> list[dict[str, np.ndarray]]:
  """The per-step metrics :func:`stop_early` saved at ``step`` ([] if none)."""
  path = os.path.join(workdir, PENDING_METRICS_FILE)
  if not os.path.exists(path):
    return []
  with open(path) as f:
    saved = json.load(f)
  if saved.get('step') != step:  # from another stop; this restart is clean
    return []
  # float32 -> JSON (the exact float64 value) -> float32: bit-exact.
  return [{k: np.asarray(v, np.float32) for k, v in record.items()}
          for record in saved['records']]


def write_pending_metrics(run: Run, loop: LoopState) -> None:
  """Saves the metrics of the steps since the last log (process 0)."""
  if jax.process_index() != 0:
    return
  records = [{k: float(v) for k, v in record.items()}
             for record in jax.device_get(loop.pending)]
  path = os.path.join(run.workdir, PENDING_METRICS_FILE)
  with open(path + '.tmp', 'w') as f:
    json.dump({'step': loop.step, 'records': records}, f)
  os.replace(path + '.tmp', path)  # atomic: a second signal cannot tear it


def run_steps(run: Run, loop: LoopState, *,
              stop: preemption.StopSignals | None = None) -> None:
  """Trains up to ``config.num_train_steps``, logging, evaluating and
  checkpointing on the way.

  Args:
    run: what stays fixed.
    loop: the loop state, advanced in place.
    stop: polled after every step; when it holds a signal (on any process),
      the run checkpoints that step and raises :class:`Preempted`.

  Raises:
    TrainingDivergedError: if the loss or the train state becomes NaN/inf.
    preemption.Preempted: after a stop signal, once the step is saved.
  """
  config = run.config
  while loop.step < config.num_train_steps:
    take_step(run, loop)
    # Train metrics average over the steps since the last log; checkpoint
    # steps end an interval too, so a resumed run logs the same averages.
    if (run.is_due(loop.step, config.log_every) or
        run.is_due(loop.step, config.checkpoint_every)):
      log_interval(run, loop)
    pause_start = time.perf_counter()
    maybe_evaluate(run, loop)
    maybe_checkpoint(run, loop)
    loop.paused += time.perf_counter() - pause_start
    # Also after the last step: the run is complete, but whatever runs next
    # in this process (a study's next model) must not swallow the request.
    if stop is not None and stop.agreed(jax.process_count()):
      stop_early(run, loop, signal_name=stop.signal_name or 'a signal')


def stop_early(run: Run, loop: LoopState, *, signal_name: str) -> None:
  """Checkpoints ``loop.step`` with its open interval, then stops the run.

  Raises:
    preemption.Preempted: always, after the checkpoint is written.
  """
  check_state(run, loop)  # never save a NaN/inf state
  write_pending_metrics(run, loop)
  if run.manager.latest_step() != loop.step:  # not already saved
    save(run, loop)
  run.manager.wait_until_finished()
  logging.warning('%s: stopped after step %d/%d; checkpoint saved.',
                  signal_name, loop.step, run.config.num_train_steps)
  raise preemption.Preempted(loop.step, signal_name, run.workdir)


def take_step(run: Run, loop: LoopState) -> None:
  """One train step on the batch of step ``loop.step``."""
  parallel, data = run.parallel, run.train_data
  index = inputs.batch_indices(
      loop.step, num_examples=data.images.shape[0],
      batch_size=run.config.batch_size, seed=run.config.seed)
  loop.state, batch_metrics = run.functions.step(
      loop.state, parallel.put_batch(data.images[index]),
      parallel.put_batch(data.labels[index]),
      jax.random.fold_in(run.augment_key, loop.step))
  loop.pending.append(batch_metrics)
  loop.step += 1
  if loop.start_time is None:
    loop.start_time = time.perf_counter()  # after the first step's compile


def log_interval(run: Run, loop: LoopState) -> None:
  """Checks and logs the mean train metrics of the steps since the last log.

  Raises:
    TrainingDivergedError: if a loss of the interval or the state is NaN/inf.
  """
  logged = jax.device_get(loop.pending)
  loop.pending = []
  first_step = loop.step - len(logged) + 1
  for offset, record in enumerate(logged):
    if not np.isfinite(record['loss']):
      raise diverged(run, f'the training loss is {float(record["loss"])} at '
                          f'step {first_step + offset}')
  check_state(run, loop)
  now = time.perf_counter()
  steps_per_sec = (loop.step - loop.interval_step) / max(
      now - loop.interval_start - loop.paused, 1e-9)
  loop.interval_start, loop.interval_step, loop.paused = now, loop.step, 0.0
  loop.metrics = {f'train/{k}': float(np.mean([m[k] for m in logged]))
                  for k in ('loss', 'accuracy')}
  run.writer.write_scalars(loop.step, {
      **loop.metrics, 'train/learning_rate': logged[-1]['learning_rate'],
      'perf/steps_per_sec': steps_per_sec})
  num_steps = run.config.num_train_steps
  logging.info('step %d/%d: loss %.4f, accuracy %.3f, %.1f steps/s, ETA %s',
               loop.step, num_steps, loop.metrics['train/loss'],
               loop.metrics['train/accuracy'], steps_per_sec,
               format_duration((num_steps - loop.step) / steps_per_sec))


def check_state(run: Run, loop: LoopState) -> None:
  """Raises :class:`TrainingDivergedError` if the state holds NaN/inf.

  Called at logging, evaluation and checkpoint steps: one small reduction,
  not one per step, and the compiled train step stays as it was. The loss
  alone is not enough: ReLU and max pooling can hide NaN weights.
  """
  if loop.step != loop.checked_step and not bool(
      run.functions.all_finite(loop.state)):
    raise diverged(run, f'the train state (parameters, batch statistics or '
                        f'optimiser state) holds NaN/inf after step '
                        f'{loop.step} (it was finite after step '
                        f'{loop.checked_step})')
  loop.checked_step = loop.step


def maybe_evaluate(run: Run, loop: LoopState) -> None:
  """Evaluates at multiples of ``config.eval_every`` and at the end."""
  if not run.is_due(loop.step, run.config.eval_every):
    return
  check_state(run, loop)  # never evaluate a NaN/inf state
  eval_metrics = run.evaluate(loop.state)
  run.writer.write_scalars(loop.step, eval_metrics)
  loop.metrics.update(eval_metrics)
  logging.info('step %d: eval loss %.4f, accuracy %.4f', loop.step,
               eval_metrics['eval/loss'], eval_metrics['eval/accuracy'])


def maybe_checkpoint(run: Run, loop: LoopState) -> None:
  """Saves at multiples of ``config.checkpoint_every`` and at the end."""
  if not run.is_due(loop.step, run.config.checkpoint_every):
    return
  check_state(run, loop)  # never save a NaN/inf state
  save(run, loop)


def save(run: Run, loop: LoopState) -> None:
  """Checkpoints ``loop.state``, with the conv lowerings it was computed with.

  With autotuning on (``layers.autotune``), the choices go beside the
  checkpoints, so a resumed run compiles the same programs and stays
  bit-identical to an uninterrupted one.
  """
  checkpoints.save_checkpoint(run.manager, loop.step, loop.state)
  if jax.process_index() == 0 and autotune.enabled():
    autotune.save_run_choices(run.workdir)


def diverged(run: Run, what: str) -> TrainingDivergedError:
  """The error that stops a run; ``what`` says what became NaN/inf."""
  run.manager.wait_until_finished()
  last_good = run.manager.latest_step()
  if last_good:
    kept = (f'The last good checkpoint, step {last_good} in '
            f'{os.fspath(run.manager.directory)}, is kept; re-running the '
            f'same command resumes from it (and diverges again unless the '
            f'config changes).')
  else:
    kept = 'No checkpoint had been saved yet.'
  return TrainingDivergedError(
      f'Training diverged: {what}. Stopped without saving that state. '
      f'{kept} Try a lower config.learning_rate (now '
      f'{run.config.learning_rate:g}), more config.warmup_steps (now '
      f'{run.config.warmup_steps}), or check the data for NaN/inf.')


def format_duration(seconds: float) -> str:
  """``'m:ss'``, or ``'h:mm:ss'`` from one hour on."""
  seconds = int(round(seconds))
  minutes, seconds = divmod(seconds, 60)
  hours, minutes = divmod(minutes, 60)
  return f'{hours}:{minutes:02d}:{seconds:02d}' if hours else (
      f'{minutes}:{seconds:02d}')
