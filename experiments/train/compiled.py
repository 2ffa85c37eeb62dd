"""The jitted functions of a run, compiled once per (model, settings, mesh).

Re-running or resuming a run in the same process, as tests and studies do,
reuses the compiled code instead of compiling it again.
"""

from __future__ import annotations

from collections.abc import Callable
import dataclasses
import functools
from typing import Any

import jax
import optax

from experiments.train import data_parallel
from experiments.train import evaluation
from experiments.train import state as state_lib
from experiments.train import step as step_lib


@dataclasses.dataclass(frozen=True)
class CompiledFunctions:
  """Jitted functions of one (model, settings) pair.

  Attributes:
    model: the module the functions close over (the first equal one seen:
      ``TrainState.apply_fn`` is a bound method, compared by identity when
      jit checks its cache).
    tx: the optimiser (one object, so train states share a tree structure).
    init: ``(key, x) -> variables``, replicated on the mesh.
    step: :func:`~experiments.train.step.train_step` with the settings
      bound: state and key replicated, images and labels split over the
      batch axis.
    apply: :func:`~experiments.train.evaluation.make_apply_fn`'s
      ``(variables, images) -> logits``.
    all_finite: ``tree -> bool``: no NaN/inf in any floating leaf.
    parallel: the mesh the functions run on.
  """
  model: Any
  tx: optax.GradientTransformation
  init: Callable[..., Any]
  step: Callable[..., Any]
  apply: evaluation.ApplyFn
  all_finite: Callable[[Any], jax.Array]
  parallel: data_parallel.DataParallel


@functools.lru_cache(maxsize=8)
def compiled_functions(model: Any, settings: step_lib.StepSettings,
                       parallel: data_parallel.DataParallel | None = None
                       ) -> CompiledFunctions:
  """Builds (once per process for equal arguments) the jitted functions.

  Args:
    model: the flax module.
    settings: the optimiser and step settings.
    parallel: the device mesh (default: one device).
  """
  if parallel is None:
    parallel = data_parallel.DataParallel.create(1)
  replicated, batch = parallel.replicated, parallel.batch_sharding
  return CompiledFunctions(
      model=model, tx=step_lib.make_optimizer(settings),
      init=jax.jit(functools.partial(model.init, train=False),
                   out_shardings=replicated),
      step=jax.jit(
          functools.partial(step_lib.train_step, model=model,
                            settings=settings),
          in_shardings=(replicated, batch, batch, replicated),
          out_shardings=(replicated, replicated)),
      apply=evaluation.make_apply_fn(model, mean=settings.mean,
                                     std=settings.std, parallel=parallel),
      all_finite=jax.jit(state_lib.all_finite, out_shardings=replicated),
      parallel=parallel)
