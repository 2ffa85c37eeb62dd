"""The model and its train state: building, initialising, checking.

Initialisation keys come from ``config.seed`` alone (:func:`seed_keys`), so
the same config starts from the same parameters.
"""

from __future__ import annotations

from collections.abc import Callable
import functools
from typing import Any

import flax
from flax.training import train_state
import jax
import jax.numpy as jnp
import ml_collections
import optax

from models import registry

# XLA's RngBitGenerator rather than threefry: the same numbers for the same
# seed, JAX version and backend, and ~10x faster to compile on CPU (a jitted
# init of the study's CNNs: ~1 s instead of ~10 s).
PRNG_IMPL = 'rbg'


class TrainState(train_state.TrainState):
  """Optax train state plus the model's 'batch_stats' (empty dict if none)."""
  batch_stats: Any = flax.struct.field(default_factory=dict)


def build_model(model_config: ml_collections.ConfigDict, *,
                num_classes: int) -> Any:
  """``registry.build_model(name, **kwargs)``; num_classes from the data.

  Lists in the config become tuples so the module stays hashable.
  """
  kwargs = {k: tuple(v) if isinstance(v, list) else v
            for k, v in model_config.to_dict().items() if k != 'name'}
  kwargs.setdefault('num_classes', num_classes)
  return registry.build_model(model_config.name, **kwargs)


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


def model_variables(state: TrainState) -> dict[str, Any]:
  """``{'params', 'batch_stats'}`` of ``state`` for ``model.apply``
  (without 'batch_stats' when the model has none)."""
  variables = {'params': state.params}
  if state.batch_stats:
    variables['batch_stats'] = state.batch_stats
  return variables


def count_params(state: TrainState) -> int:
  """Number of scalars in ``state.params``."""
  return sum(x.size for x in jax.tree.leaves(state.params))


def all_finite(tree: Any) -> jax.Array:
  """True iff no floating-point leaf of ``tree`` holds a NaN or an inf."""
  checks = [jnp.all(jnp.isfinite(leaf)) for leaf in jax.tree.leaves(tree)
            if jnp.issubdtype(jnp.result_type(leaf), jnp.inexact)]
  return jnp.all(jnp.stack(checks)) if checks else jnp.asarray(True)
