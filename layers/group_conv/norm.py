"""Batch norm of group maps ``[B, H, W, G, C]``, statistics shared over G.

* :func:`group_moments` -- per-channel mean and variance over
  ``B, H, W, G``.
* :func:`group_batch_norm` (:class:`GroupBatchNorm`) -- normalises every
  group element with the same ``[C]`` statistics and parameters, so the map
  stays equivariant.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from groups import validate
from layers import batch_statistics


def group_moments(y: jax.typing.ArrayLike) -> tuple[jax.Array, jax.Array]:
  """Per-channel mean and variance over ``B, H, W, G`` of ``[B, H, W, G, C]``.

  Shared over the group axis, so a transformed input (pixels and group axis
  permuted) has the same statistics.

  Returns:
    ``(mean, var)``, each ``[C]``.
  """
  validate.check_array(y, 'y', rank=5, layout='[B, H, W, G, C]')
  y = jnp.asarray(y)
  mean = jnp.mean(y, axis=(0, 1, 2, 3))
  var = jnp.mean(jnp.square(y - mean), axis=(0, 1, 2, 3))
  return mean, var


def group_batch_norm(y: jax.typing.ArrayLike, *, mean: jax.typing.ArrayLike,
                     var: jax.typing.ArrayLike,
                     scale: jax.typing.ArrayLike | None = None,
                     bias: jax.typing.ArrayLike | None = None,
                     epsilon: float = 1e-5) -> jax.Array:
  """Normalises a group map per channel, the same for every group element.

  ``out = (y - mean) / sqrt(var + epsilon) * scale + bias``.

  Every statistic and parameter is ``[C]``, shared by all group elements and
  positions, so the map stays equivariant. Use :func:`group_moments` for
  batch statistics (training) or running averages (inference).

  Args:
    y: ``[B, H, W, G, C]``, floating.
    mean: ``[C]``.
    var: ``[C]``, >= 0.
    scale: ``[C]`` or None (1).
    bias: ``[C]`` or None (0).
    epsilon: added to ``var``, > 0.

  Returns:
    ``[B, H, W, G, C]``.
  """
  validate.check_array(y, 'y', rank=5, layout='[B, H, W, G, C]')
  channels = y.shape[-1]
  for name, value in (('mean', mean), ('var', var), ('scale', scale),
                      ('bias', bias)):
    if value is not None and jnp.shape(value) != (channels,):
      raise ValueError(f'{name} must have shape [C] = ({channels},); got '
                       f'{jnp.shape(value)}.')
  epsilon = validate.number(epsilon, 'epsilon', minimum=0,
                             exclusive_minimum=True)
  if validate.is_concrete(var) and np.any(np.asarray(var) < 0):
    raise ValueError(f'var must be >= 0 (a variance); got {var!r}.')
  out = (jnp.asarray(y) - mean) * jax.lax.rsqrt(jnp.asarray(var) + epsilon)
  if scale is not None:
    out = out * scale
  if bias is not None:
    out = out + bias
  return out


class GroupBatchNorm(batch_statistics.BatchNorm):
  """Batch norm of group maps ``[B, H, W, G, C]`` with statistics shared over G.

  Training (``use_running_average=False``) normalises with the batch's
  :func:`group_moments` (:class:`~layers.batch_statistics.BatchNorm`'s
  training step over ``B, H, W, G``) and updates the running averages in
  the 'batch_stats' collection; inference uses the running averages
  (:func:`group_batch_norm`). Both are
  equivariant: the statistics do not change when ``g`` permutes pixels and
  group elements.

  Attributes (those of :class:`layers.batch_statistics.BatchNorm`):
    use_running_average: inference mode; may be overridden per call.
    momentum: decay of the running averages.
    epsilon: added to the variance.
    use_scale: learn a ``[C]`` scale.
    use_bias: learn a ``[C]`` bias.
  """

  def _check_input(self, y) -> jax.Array:
    validate.check_array(y, 'y', rank=5, layout='[B, H, W, G, C]')
    return jnp.asarray(y)

  def _evaluate(self, y, mean, var, scale, bias, epsilon) -> jax.Array:
    # This module's own evaluation arithmetic, as before it shared the rest.
    return group_batch_norm(y, mean=mean, var=var, scale=scale, bias=bias,
                            epsilon=epsilon)
