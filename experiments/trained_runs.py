"""Finished study runs: naming them on the command line and restoring them.

Post-hoc tools (:mod:`experiments.rotation_report`) analyse models that the
study runner (``python main.py --config=... --workdir=...``) trained, without
training or evaluating anything again. This module turns a
``--run=LABEL=CONFIG.py[:ARG]:WORKDIR`` flag (and ``--override=LABEL:KEY=
VALUE`` for each ``--config.KEY=VALUE`` the run was trained with) into a
:class:`RunSpec`, checks that the run finished (:func:`finished_run`: its
latest checkpoint is step ``num_train_steps``) and restores it
(:func:`restore`) into a :class:`TrainedModel`: the model, its variables, a
``predict_fn`` and the test split. Restoring runs the trainer's start-up with
the model's workdir locked, as re-running a finished study does: it appends
to the workdir's ``config_history.jsonl``, rewrites its ``config.json`` and
adds a TensorBoard event file; nothing else changes.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
import dataclasses
import importlib.util
import os
from typing import Any

from absl import app
from absl import flags
from absl import logging
import ml_collections
import numpy as np

from groups import validate
from experiments import metrics
from experiments import study
from experiments import train
from experiments.train import checkpoints
from experiments.train import config_history
from experiments.train import state as state_lib
from experiments.train import trainer
from experiments.train import workdir_lock

RUN_FORMAT = 'LABEL=CONFIG.py[:ARG]:WORKDIR'


@dataclasses.dataclass(frozen=True)
class RunSpec:
  """Model ``label`` of the study ``config`` (as its file gives it, presets
  unresolved) trained in ``workdir``; ``source`` names the config file;
  ``step`` a kept checkpoint to restore instead of the final one."""
  label: str
  config: ml_collections.ConfigDict
  workdir: str
  source: str = ''
  step: int | None = None


@dataclasses.dataclass
class TrainedModel:
  """A restored model and its test split (``images [N, H, W, C]`` in [0, 1]).

  ``predict_fn`` normalises inside (raw images -> logits); ``model.apply``
  needs the images normalised with ``mean`` / ``std`` first.
  ``train_images`` is the run's training split, in [0, 1], not augmented.
  """
  label: str
  name: str
  model: Any
  variables: dict[str, Any]
  predict_fn: metrics.PredictFn
  images: np.ndarray
  labels: np.ndarray
  mean: tuple[float, ...]
  std: tuple[float, ...]
  step: int
  batch_size: int
  params: int
  train_images: np.ndarray | None = None


# ---------------------------------------------------------------------------
# Which runs: flags and config files.
# ---------------------------------------------------------------------------


def parse_run(text: str) -> tuple[str, str, str]:
  """``'LABEL=CONFIG.py[:ARG]:WORKDIR'`` -> ``(label, config, workdir)``.

  The workdir is the text after the last ':'; the config keeps its ``:ARG``.
  """
  label, _, rest = (text if isinstance(text, str) else '').partition('=')
  config, _, workdir = rest.rpartition(':')
  if (not label or not workdir or
      not config.partition(':')[0].endswith('.py')):
    raise ValueError(f'run must be {RUN_FORMAT} (e.g. p4cnn=experiments/'
                     f'configs/mnist_rot_p4cnn.py:runs/mnist_rot_p4cnn); got '
                     f'{text!r}.')
  return label, config, workdir


def parse_override(text: str) -> tuple[str, str, Any]:
  """``'LABEL:KEY=VALUE'`` -> ``(label, key, value)``; VALUE a Python literal
  (else kept as text), as ``--config.KEY=VALUE`` on ``main.py``."""
  label, _, rest = (text if isinstance(text, str) else '').partition(':')
  key, sep, value = rest.partition('=')
  if not label or not key or not sep:
    raise ValueError('override must be LABEL:KEY=VALUE (e.g. p4cnn:num_train_'
                     f'steps=9375); got {text!r}.')
  try:
    return label, key, ast.literal_eval(value)
  except (ValueError, SyntaxError):
    return label, key, value


def load_config(path: str) -> ml_collections.ConfigDict:
  """``get_config(arg)`` of a config file given as ``FILE.py[:ARG]``."""
  file, _, arg = (path if isinstance(path, str) else '').partition(':')
  if not file.endswith('.py') or not os.path.isfile(file):
    raise ValueError(f'config must be an existing config file FILE.py[:ARG]; '
                     f'got {path!r}.')
  spec = importlib.util.spec_from_file_location(
      f'_trained_runs_config_{abs(hash(file))}', file)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  if not callable(getattr(module, 'get_config', None)):
    raise ValueError(f'config file {file} must define get_config(arg).')
  return module.get_config(arg) if arg else module.get_config()


def apply_override(config: ml_collections.ConfigDict, key: str,
                   value: Any) -> None:
  """Sets the (dotted) ``key`` of ``config``, which must exist, to ``value``."""
  *parents, leaf = key.split('.')
  node = config
  for part in parents:
    node = node.get(part) if isinstance(node, ml_collections.ConfigDict) else {}
  if not isinstance(node, ml_collections.ConfigDict) or leaf not in node:
    raise ValueError(f'override key {key!r} names no field of the config; '
                     f'top-level fields: {", ".join(sorted(config))}.')
  try:
    node[leaf] = value
  except (TypeError, ValueError) as error:
    raise ValueError(f'override {key}={value!r} does not fit the config: '
                     f'{error}') from error


# ---------------------------------------------------------------------------
# Restoring a trained model.
# ---------------------------------------------------------------------------


def kept_checkpoint_steps(model_workdir: str) -> list[int]:
  """The checkpoint steps in ``model_workdir``, ascending (empty if none)."""
  directory = checkpoints.checkpoint_dir(model_workdir)
  return sorted(int(n) for n in (os.listdir(directory) if os.path.isdir(
      directory) else ()) if n.isdigit())


def latest_checkpoint_step(model_workdir: str) -> int | None:
  """The newest checkpoint step in ``model_workdir`` (None if none)."""
  steps = kept_checkpoint_steps(model_workdir)
  return steps[-1] if steps else None


def finished_run(config: ml_collections.ConfigDict, label: str, workdir: str
                 ) -> tuple[ml_collections.ConfigDict, str]:
  """``(training config, model workdir)`` of a finished run, or a ValueError.

  Reads nothing but the config and the checkpoint folder names.
  """
  if not isinstance(config, ml_collections.ConfigDict) or (
      config.get('experiment') != 'study'):
    raise ValueError('config must be a study config (config.experiment = '
                     f"'study'); got {type(config).__name__}.")
  config = study.resolve_presets(config)
  if label not in config.models:
    raise ValueError(f'label must be a model of config.models; accepted: '
                     f'{", ".join(map(repr, config.models))}; got {label!r}.')
  sub = study.train_config(config, label)
  train.check_config(sub)
  model_dir = os.path.join(workdir, study.MODELS_DIR, label)
  step = latest_checkpoint_step(model_dir)
  if step is None:
    raise ValueError(f'{model_dir} holds no checkpoint of model {label!r}: '
                     'train it first with the study command (main.py).')
  if step != sub.num_train_steps:
    raise ValueError(
        f'the run in {model_dir} is unfinished or was trained with other '
        f'settings: its latest checkpoint is step {step}, the config says '
        f'num_train_steps = {sub.num_train_steps}. Finish it with the study '
        f'command, or pass its overrides (--override={label}:'
        f'num_train_steps={step} if it was trained for {step} steps).')
  return sub, model_dir


def restore(config: ml_collections.ConfigDict, label: str,
            workdir: str, *, step: int | None = None) -> TrainedModel:
  """Restores model ``label`` of a finished study in ``workdir``.

  Args:
    config: the study config it was trained with (as its file gives it,
      with the same overrides).
    label: a key of ``config.models``.
    workdir: the study's workdir (the model is in ``workdir/models/label``).
    step: None for the final model; else an earlier checkpoint the finished
      run kept (``config.max_checkpoints`` of them, every
      ``checkpoint_every`` steps).

  Raises:
    ValueError: if ``label`` is not a model of the config, the model has no
      checkpoint, its latest checkpoint is not step ``num_train_steps`` (an
      unfinished run, or other overrides), ``step`` is not a kept
      checkpoint, or the config cannot restore it.
    WorkdirBusyError: if a live run holds the model's workdir.
  """
  sub, model_dir = finished_run(config, label, workdir)
  if step is not None:
    step = validate.integer(step, 'step', minimum=1)
    kept = kept_checkpoint_steps(model_dir)
    if step not in kept:
      raise ValueError(f'step must be a checkpoint kept in {model_dir}; '
                       f'accepted: {", ".join(map(str, kept))}; got {step}.')
  previous = config_history.previous_config(model_dir) or {}
  changes = config_history.diff(previous, config_history.flatten(sub))
  if previous and changes:
    logging.warning('%s: the config differs from the one it was trained '
                    'with in %s', label, ', '.join(changes))
  with workdir_lock.WorkdirLock(model_dir):
    try:
      run, loop = trainer.start_run(sub, model_dir)
    except config_history.IncompatibleConfigError as error:
      raise ValueError(f'config of {label!r} does not match its checkpoints '
                       f'(same config file and overrides?): {error}') from error
    state = loop.state
    if step is not None and step != loop.step:
      state = checkpoints.restore_checkpoint(run.manager, step, state)
    run.close()
  if loop.step != sub.num_train_steps:
    raise ValueError(f'restored step {loop.step} of {model_dir}, not step '
                     f'{sub.num_train_steps} (a newer checkpoint failed).')
  return TrainedModel(
      label=label, name=sub.model.name, model=run.model,
      variables=state_lib.model_variables(state),
      predict_fn=run.predict_fn(state),
      images=np.asarray(run.eval_data.images),
      labels=np.asarray(run.eval_data.labels),
      mean=tuple(float(v) for v in run.train_data.mean),
      std=tuple(float(v) for v in run.train_data.std),
      step=loop.step if step is None else step,
      batch_size=int(sub.eval_batch_size),
      params=state_lib.count_params(state),
      train_images=np.asarray(run.train_data.images))


# The flags every post-hoc tool shares (defined once: absl refuses a flag
# defined by two modules of one program).
RUN_FLAG = flags.DEFINE_multi_string('run', None,
                                     f'{RUN_FORMAT}, once per model.')
OVERRIDE_FLAG = flags.DEFINE_multi_string(
    'override', [], 'LABEL:KEY=VALUE: a --config.KEY=VALUE the run of LABEL '
    'was trained with.')
CHECKPOINT_FLAG = flags.DEFINE_multi_string(
    'checkpoint', [], 'LABEL:STEP: restore the kept checkpoint STEP of the '
    'run of LABEL instead of its final model.')
OUT_FLAG = flags.DEFINE_string('out', None, 'Output folder.')


def out_from_flags() -> str:
  """``--out``, which must be given."""
  if not OUT_FLAG.value:
    raise ValueError('out must be given: --out=<folder>.')
  return OUT_FLAG.value


def restored_from_flags(argv: Sequence[str]
                        ) -> tuple[str, list[TrainedModel]]:
  """``--out`` and the restored models of ``--run`` (with ``--override``
  and ``--checkpoint``), for a post-hoc tool's ``main(argv)``.

  Every flag is checked before any model is restored.

  Raises:
    app.UsageError: for extra arguments or a bad flag.
  """
  if len(argv) > 1:
    raise app.UsageError(f'Too many command-line arguments: {argv[1:]}.')
  try:
    out = out_from_flags()
    specs = specs_from_flags()
  except ValueError as error:
    raise app.UsageError(str(error)) from error
  return out, [restore(spec.config, spec.label, spec.workdir, step=spec.step)
               for spec in specs]


def parse_checkpoint(text: str) -> tuple[str, int]:
  """``'LABEL:STEP'`` -> ``(label, step)``."""
  label, _, step = (text if isinstance(text, str) else '').partition(':')
  if not label or not step.isdigit() or int(step) < 1:
    raise ValueError('checkpoint must be LABEL:STEP with STEP >= 1 (e.g. '
                     f'p4cnn:9000); got {text!r}.')
  return label, int(step)


def specs_from_flags(run_flags: Sequence[str] | None = None,
                     override_flags: Sequence[str] | None = None,
                     checkpoint_flags: Sequence[str] | None = None
                     ) -> list[RunSpec]:
  """The :class:`RunSpec` s of ``--run``, ``--override`` and
  ``--checkpoint`` values: the parsed command-line flags when ``run_flags``
  is None, else the given lists (None: none)."""
  if run_flags is None:
    run_flags = RUN_FLAG.value
    override_flags = OVERRIDE_FLAG.value
    checkpoint_flags = CHECKPOINT_FLAG.value
  override_flags = override_flags or ()
  checkpoint_flags = checkpoint_flags or ()
  if not run_flags:
    raise ValueError(f'run must be given at least once as --run={RUN_FORMAT}.')
  parsed = [parse_run(text) for text in run_flags]
  overrides = [parse_override(text) for text in override_flags]
  labels = [label for label, _, _ in parsed]
  for label, key, _ in overrides:
    if label not in labels:
      raise ValueError(f'override {label}:{key} names no --run label; '
                       f'accepted: {", ".join(labels)}.')
  steps = dict(parse_checkpoint(text) for text in checkpoint_flags)
  for label in steps:
    if label not in labels:
      raise ValueError(f'checkpoint {label} names no --run label; '
                       f'accepted: {", ".join(labels)}.')
  specs = []
  for label, config_path, workdir in parsed:
    config = load_config(config_path)
    for other, key, value in overrides:
      if other == label:
        apply_override(config, key, value)
    specs.append(RunSpec(label, config, workdir, source=config_path,
                         step=steps.get(label)))
  return specs

