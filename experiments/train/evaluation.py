"""Prediction with a train state's weights, and evaluation on a whole split."""

from __future__ import annotations

from collections.abc import Callable, Sequence
import functools
from typing import Any

import jax
import numpy as np

from experiments import metrics as metrics_lib
from experiments.train import data_parallel
from experiments.train import inputs
from experiments.train import state as state_lib

Scalars = dict[str, float]
PredictFn = Callable[[jax.typing.ArrayLike], jax.Array]
ApplyFn = Callable[[Any, jax.typing.ArrayLike], jax.Array]


def make_apply_fn(model: Any, *, mean: Sequence[float], std: Sequence[float],
                  parallel: data_parallel.DataParallel | None = None
                  ) -> ApplyFn:
  """Jitted ``(variables, images [B, H, W, C] in [0, 1]) -> logits [B, K]``.

  Normalises with ``mean``/``std`` and runs the model in eval mode. The
  variables are an argument, not constants baked into the computation, so
  one compile serves every set of weights and every batch of one shape.
  With ``parallel``, the logits come back replicated on its mesh (readable
  by every process); place the images with ``parallel.put_batch``.
  """
  def apply(variables, images):
    return model.apply(variables, inputs.normalize(images, mean, std),
                       train=False)
  if parallel is None:
    return jax.jit(apply)
  return jax.jit(apply, out_shardings=parallel.replicated)


def make_predict_fn(model: Any, state: state_lib.TrainState, *,
                    mean: Sequence[float], std: Sequence[float],
                    apply_fn: ApplyFn | None = None,
                    parallel: data_parallel.DataParallel | None = None
                    ) -> PredictFn:
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
  variables = state_lib.model_variables(state)
  if parallel is None:
    return functools.partial(apply_fn, variables)

  def predict(images: jax.typing.ArrayLike) -> jax.Array:
    return apply_fn(variables, parallel.put_batch(images))
  return predict


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
