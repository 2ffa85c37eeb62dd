"""Magnitude batch norm of harmonic maps (H-Nets' batch norm + activation).

* :func:`magnitude_moments` -- mean and variance of the magnitudes per order
  and channel over ``B, H, W``.
* :func:`magnitude_batch_norm` (:class:`HBatchNorm`) -- batch norm of the
  magnitudes, then ``act``, then back onto the phases:
  ``act(BN(|z|)) z / |z|``.

Layout: complex ``[B, H, W, M, C]``; magnitudes as
:func:`layers.harmonic.magnitudes`.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from groups import validate
from groups import harmonic as harmonic_groups
from layers import batch_statistics
from layers import running_average
from layers.harmonic import nonlinear
from layers.harmonic.nonlinear import Activation
from layers.harmonic.nonlinear import DEFAULT_EPS


def _check_variance(var) -> None:
  if validate.is_concrete(var) and np.any(np.asarray(var) < 0):
    raise ValueError(f'var must be >= 0 (a variance); got {var!r}.')


@functools.partial(jax.jit, static_argnames=('eps',))
def _magnitude_moments(z, *, eps):
  magnitude = nonlinear.unchecked_magnitudes(z, eps)
  mean = jnp.mean(magnitude, axis=(0, 1, 2))
  return mean, jnp.mean(jnp.square(magnitude - mean), axis=(0, 1, 2))


def magnitude_moments(z: jax.typing.ArrayLike, *, eps: float = DEFAULT_EPS
                      ) -> tuple[jax.Array, jax.Array]:
  """Mean and variance of :func:`magnitudes` over ``B, H, W``, each ``[M, C]``.

  Args:
    z: complex ``[B, H, W, M, C]``.
    eps: floor on ``|z|^2``.

  Returns:
    ``(mean, var)``, each real ``[M, C]``.
  """
  harmonic_groups.check_harmonic(z)
  return _magnitude_moments(jnp.asarray(z), eps=nonlinear.check_eps(eps))


@functools.partial(jax.jit, static_argnames=('epsilon', 'activation', 'eps'))
def _magnitude_batch_norm(z, mean, var, scale, bias, *, epsilon, activation,
                          eps):
  magnitude = nonlinear.unchecked_magnitudes(z, eps)
  normed = (magnitude - mean) * jax.lax.rsqrt(var + epsilon)
  if scale is not None:
    normed = normed * scale
  if bias is not None:
    normed = normed + bias
  return z * (activation(normed) / magnitude)


def magnitude_batch_norm(z: jax.typing.ArrayLike, *,
                         mean: jax.typing.ArrayLike,
                         var: jax.typing.ArrayLike,
                         scale: jax.typing.ArrayLike | None = None,
                         bias: jax.typing.ArrayLike | None = None,
                         epsilon: float = 1e-3,
                         activation: Activation = jax.nn.relu,
                         eps: float = DEFAULT_EPS) -> jax.Array:
  """``activation(BN(|z|)) * z / |z|`` with statistics per order and channel.

  Args:
    z: complex ``[B, H, W, M, C]``.
    mean: ``[M, C]`` (batch statistics from :func:`magnitude_moments`, or
      running averages).
    var: ``[M, C]``, >= 0.
    scale: ``[M, C]`` or None (1).
    bias: ``[M, C]`` or None (0).
    epsilon: added to ``var`` (> 0; 1e-3 as the authors' code).
    activation: applied to the normalised magnitudes (ReLU, as the authors'
      ``batch_norm``); must map to non-negative reals.
    eps: floor on ``|z|^2``.

  Returns:
    complex ``[B, H, W, M, C]``.
  """
  harmonic_groups.check_harmonic(z)
  mean = nonlinear.check_per_stream(mean, 'mean', z)
  var = nonlinear.check_per_stream(var, 'var', z)
  scale = (None if scale is None else
           nonlinear.check_per_stream(scale, 'scale', z))
  bias = (None if bias is None else
          nonlinear.check_per_stream(bias, 'bias', z))
  _check_variance(var)
  return _magnitude_batch_norm(jnp.asarray(z), mean, var, scale, bias,
                               **_options(epsilon, activation, eps))


def _options(epsilon, activation, eps) -> dict[str, Any]:
  """The validated static options of the jitted cores."""
  if (not isinstance(epsilon, (int, float)) or isinstance(epsilon, bool) or
      not 0 < epsilon < math.inf):
    raise ValueError(f'epsilon must be a finite number > 0; got {epsilon!r}.')
  nonlinear.check_activation(activation)
  return dict(epsilon=float(epsilon), activation=activation,
              eps=nonlinear.check_eps(eps))


@functools.partial(jax.jit, static_argnames=('epsilon', 'activation', 'eps'))
def _batch_magnitude_norm(z, scale, bias, *, epsilon, activation, eps):
  """``(magnitude_batch_norm(z, magnitude_moments(z)), mean, var)`` with
  the magnitudes and their centred values computed once (the same
  operations, so the same values; fewer kernels in a gradient)."""
  magnitude = nonlinear.unchecked_magnitudes(z, eps)
  normed, mean, var = batch_statistics.normalise(
      magnitude, scale, bias, axes=(0, 1, 2), epsilon=epsilon)
  return z * (activation(normed) / magnitude), mean, var


class HBatchNorm(nn.Module):
  """Linen wrapper of :func:`magnitude_batch_norm` (BN + activation).

  Owns ``scale`` and ``bias`` ``[M, C]`` and running ``mean`` / ``var``
  ``[M, C]`` in 'batch_stats'. With ``use_running_average=False`` it
  normalises with the batch's :func:`magnitude_moments` and updates the
  running averages (``momentum`` = the authors' decay 0.99).
  """
  use_running_average: bool | None = None
  momentum: float = 0.99
  epsilon: float = 1e-3
  activation: Activation = jax.nn.relu
  eps: float = DEFAULT_EPS
  use_scale: bool = True
  use_bias: bool = True

  @nn.compact
  def __call__(self, z: jax.Array,
               use_running_average: bool | None = None) -> jax.Array:
    harmonic_groups.check_harmonic(z)
    validate.number(self.momentum, 'momentum', minimum=0, maximum=1)
    use_running_average = nn.merge_param(
        'use_running_average', self.use_running_average, use_running_average)
    running_mean, running_var, scale, bias = (
        batch_statistics.channel_variables(
            self, tuple(z.shape[3:]), use_scale=self.use_scale,
            use_bias=self.use_bias))
    if use_running_average:
      return magnitude_batch_norm(
          z, mean=running_mean.value, var=running_var.value, scale=scale,
          bias=bias, epsilon=self.epsilon, activation=self.activation,
          eps=self.eps)
    # magnitude_batch_norm(z, magnitude_moments(z)) in one core.
    out, mean, var = _batch_magnitude_norm(
        jnp.asarray(z), scale, bias,
        **_options(self.epsilon, self.activation, self.eps))
    running_average.update(self, self.momentum, (running_mean, mean),
                           (running_var, var))
    return out
