"""Pools of group maps ``[B, H, W, G, C]`` that keep equivariance.

* :func:`group_pool` -- max / mean over the group axis ``G``: invariant to
  its permutation, so the ``[B, H, W, C]`` result transforms by
  ``group.grid_action(g)`` only.
* :func:`spatial_pool` -- any per-channel ``[B, H, W, C]`` pooling applied
  with ``G`` folded into channels.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from groups import validate
from layers import pooling as pooling_lib
from layers.max_reduce import max_reduce

GROUP_REDUCTIONS = pooling_lib.REDUCTIONS


def group_pool(y: jax.typing.ArrayLike, *, reduction: str = 'max'
               ) -> jax.Array:
  """Pools over the group axis: ``[B, H, W, G, C] -> [B, H, W, C]``.

  The result transforms by the spatial part of ``g`` only
  (``group.grid_action(g)``), so global spatial pooling after it gives
  G-invariant features.

  Args:
    y: ``[B, H, W, G, C]``, floating.
    reduction: 'max' or 'mean'.

  Returns:
    ``[B, H, W, C]``.
  """
  validate.check_array(y, 'y', rank=5, layout='[B, H, W, G, C]')
  validate.check_choice(reduction, 'reduction', GROUP_REDUCTIONS)
  reduce = max_reduce if reduction == 'max' else jnp.mean
  return reduce(jnp.asarray(y), axis=3)


def spatial_pool(y: jax.typing.ArrayLike, *,
                 pool: Callable[[jax.Array], jax.Array]) -> jax.Array:
  """Applies an image pooling to every group element: ``G`` folded into ``C``.

  Args:
    y: ``[B, H, W, G, C]``, floating.
    pool: ``[B, H, W, C] -> [B, H', W', C]``, e.g.
      ``functools.partial(layers.max_pool, window=2)``; it must act on each
      channel separately (all of layers.pooling's local pools do).

  Returns:
    ``[B, H', W', G, C]``.
  """
  validate.check_array(y, 'y', rank=5, layout='[B, H, W, G, C]')
  if not callable(pool):
    raise ValueError(f'pool must be a function [B, H, W, C] -> '
                     f'[B, H\', W\', C]; got {pool!r}.')
  b, h, w, g, c = y.shape
  out = pool(jnp.reshape(y, (b, h, w, g * c)))  # [B, H', W', G*C]
  if jnp.ndim(out) != 4 or jnp.shape(out)[::3] != (b, g * c):
    raise ValueError(f'pool must map [B, H, W, C] to [B, H\', W\', C] '
                     f'(per channel); got shape {jnp.shape(out)} from '
                     f'{(b, h, w, g * c)}.')
  return out.reshape(out.shape[:3] + (g, c))
