"""Harmonic (H-Net) feature-map operations besides the convolution.

Split from :mod:`layers.harmonic`, which re-exports every public name here,
so ``layers.harmonic.magnitude_batch_norm`` etc. keep working. Layout: complex
``[B, H, W, M, C]`` (``M`` rotation orders, ``C`` channels per order; see
:mod:`groups.harmonic`).

* :func:`magnitude_nonlinearity` (:class:`HNonlin`) —
  ``act(|z| + b) z / |z|`` with ``b`` per order and channel.
* :func:`magnitude_batch_norm` (:class:`HBatchNorm`) — batch norm of the
  magnitudes (statistics per order and channel over ``B, H, W``), then
  ``act``, then back onto the phases: ``act(BN(|z|)) z / |z|``.
* :func:`harmonic_mean_pool` — mean pooling of real and imaginary parts.
* :func:`magnitudes` / :func:`invariant_readout` — rotation-invariant maps:
  ``|z|`` per stream, summed over orders or stacked along channels.

Magnitudes are ``sqrt(max(|z|^2, eps))`` (``eps = 1e-4`` by default): equal
to ``|z|`` above ``sqrt(eps) = 0.01`` and never 0, so ``z / |z|`` and every
gradient stay finite at ``z = 0``, where the nonlinearities output exactly 0.
"""

from __future__ import annotations

from collections.abc import Callable
import functools
import math

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from groups import validate
from groups import harmonic as harmonic_groups
from layers import pooling

READOUTS = ('sum', 'stack')
DEFAULT_EPS = 1e-4    # floor on |z|^2 in magnitudes

Activation = Callable[[jax.Array], jax.Array]


# --------------------------------------------------------------------------
# Magnitudes, nonlinearity, batch norm, pooling, read-outs.
# --------------------------------------------------------------------------


def _check_eps(eps) -> float:
  if (not isinstance(eps, (int, float)) or isinstance(eps, bool) or
      not 0 < eps < math.inf):
    raise ValueError(f'eps must be a finite number > 0; got {eps!r}.')
  return float(eps)


def _check_variance(var) -> None:
  if validate.is_concrete(var) and np.any(np.asarray(var) < 0):
    raise ValueError(f'var must be >= 0 (a variance); got {var!r}.')


def _check_per_stream(value, name: str, z) -> jax.Array:
  shape = tuple(z.shape[3:])
  if value is None or jnp.shape(value) != shape:
    raise ValueError(f'{name} must have shape [M, C] = {shape} (one value per '
                     f'order and channel of z); got '
                     f'{None if value is None else jnp.shape(value)}.')
  return jnp.asarray(value)


def _check_activation(activation) -> None:
  if not callable(activation):
    raise ValueError('activation must be a function R -> R>=0 such as '
                     f'jax.nn.relu; got {activation!r}.')


# The public functions below validate their arguments, then call a jitted
# core: one compile per shape and option, also when called eagerly.


def _magnitudes(z, eps):
  squared = jnp.square(jnp.real(z)) + jnp.square(jnp.imag(z))
  return jnp.sqrt(jnp.maximum(squared, eps))


def magnitudes(z: jax.typing.ArrayLike, *, eps: float = DEFAULT_EPS
               ) -> jax.Array:
  """``sqrt(max(|z|^2, eps))``: rotation-invariant, never 0.

  Args:
    z: complex ``[B, H, W, M, C]``.
    eps: floor on ``|z|^2`` (> 0).

  Returns:
    real ``[B, H, W, M, C]``.
  """
  harmonic_groups.check_harmonic(z)
  return _magnitudes_jit(jnp.asarray(z), _check_eps(eps))


_magnitudes_jit = jax.jit(_magnitudes, static_argnums=1)


@functools.partial(jax.jit, static_argnames=('activation', 'eps'))
def _magnitude_nonlinearity(z, bias, *, activation, eps):
  magnitude = _magnitudes(z, eps)
  return z * (activation(magnitude + bias) / magnitude)


def magnitude_nonlinearity(z: jax.typing.ArrayLike,
                           bias: jax.typing.ArrayLike, *,
                           activation: Activation = jax.nn.relu,
                           eps: float = DEFAULT_EPS) -> jax.Array:
  """``activation(|z| + bias) * z / |z|``: acts on magnitudes, keeps phases.

  Args:
    z: complex ``[B, H, W, M, C]``.
    bias: ``[M, C]`` real, one per order and channel.
    activation: maps reals to non-negative reals (default ReLU).
    eps: floor on ``|z|^2`` (see :func:`magnitudes`); 0 maps to 0.

  Returns:
    complex ``[B, H, W, M, C]``, equivariant like ``z``.
  """
  harmonic_groups.check_harmonic(z)
  bias = _check_per_stream(bias, 'bias', z)
  _check_activation(activation)
  return _magnitude_nonlinearity(jnp.asarray(z), bias, activation=activation,
                                 eps=_check_eps(eps))


@functools.partial(jax.jit, static_argnames=('eps',))
def _magnitude_moments(z, *, eps):
  magnitude = _magnitudes(z, eps)
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
  return _magnitude_moments(jnp.asarray(z), eps=_check_eps(eps))


@functools.partial(jax.jit, static_argnames=('epsilon', 'activation', 'eps'))
def _magnitude_batch_norm(z, mean, var, scale, bias, *, epsilon, activation,
                          eps):
  magnitude = _magnitudes(z, eps)
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
  mean = _check_per_stream(mean, 'mean', z)
  var = _check_per_stream(var, 'var', z)
  scale = None if scale is None else _check_per_stream(scale, 'scale', z)
  bias = None if bias is None else _check_per_stream(bias, 'bias', z)
  if (not isinstance(epsilon, (int, float)) or isinstance(epsilon, bool) or
      not 0 < epsilon < math.inf):
    raise ValueError(f'epsilon must be a finite number > 0; got {epsilon!r}.')
  _check_variance(var)
  _check_activation(activation)
  return _magnitude_batch_norm(jnp.asarray(z), mean, var, scale, bias,
                               epsilon=float(epsilon), activation=activation,
                               eps=_check_eps(eps))


@functools.partial(jax.jit, static_argnames=('window', 'stride', 'padding'))
def _harmonic_mean_pool(z, *, window, stride, padding):
  b, h, w, m, c = z.shape
  flat = z.reshape(b, h, w, m * c)
  parts = jnp.concatenate([jnp.real(flat), jnp.imag(flat)], axis=-1)
  pooled = pooling.avg_pool(parts, window=window, stride=stride,
                            padding=padding)  # [B, H', W', 2 M C]
  pooled = pooled.reshape(pooled.shape[:3] + (2, m, c))
  return jax.lax.complex(pooled[:, :, :, 0], pooled[:, :, :, 1])


def harmonic_mean_pool(z: jax.typing.ArrayLike, *,
                       window: int | tuple[int, int],
                       stride: int | tuple[int, int] | None = None,
                       padding: str = 'valid') -> jax.Array:
  """Mean pooling of real and imaginary parts (:func:`layers.avg_pool`).

  Args:
    z: complex ``[B, H, W, M, C]``.
    window: int or ``(wh, ww)``, as :func:`layers.avg_pool`.
    stride: int or ``(sh, sw)``; defaults to ``window``.
    padding: 'valid', 'circular' or 'same', as :func:`layers.avg_pool`.

  Returns:
    complex ``[B, H', W', M, C]``; equivariant like ``z`` when the pooling
    windows are centred (``(H - window) % stride == 0`` for 'valid').
  """
  harmonic_groups.check_harmonic(z)
  window = validate.pair(window, 'window')
  stride = window if stride is None else validate.pair(stride, 'stride')
  validate.check_choice(padding, 'padding', pooling.POOL_PADDINGS)
  if padding in ('valid', 'circular') and (window[0] > z.shape[1] or
                                           window[1] > z.shape[2]):
    raise ValueError(f'padding={padding!r} needs window {window} to fit in '
                     f'the input H, W = {tuple(z.shape[1:3])}; use a smaller '
                     "window or padding='same'.")
  return _harmonic_mean_pool(jnp.asarray(z), window=window, stride=stride,
                             padding=padding)


def invariant_readout(z: jax.typing.ArrayLike, *, reduction: str = 'sum',
                      eps: float = DEFAULT_EPS) -> jax.Array:
  """Rotation-invariant real features from a harmonic map.

  Args:
    z: complex ``[B, H, W, M, C]``.
    reduction: 'sum' (magnitudes summed over orders, ``[B, H, W, C]``) or
      'stack' (magnitudes of every order along channels, ``[B, H, W, M C]``,
      channel ``m C + c``).
    eps: floor on ``|z|^2``.

  Returns:
    real ``[B, H, W, C]`` or ``[B, H, W, M C]``; they only rotate with the
    input (:class:`groups.Rot90`), so global pooling makes them invariant.
  """
  validate.check_choice(reduction, 'reduction', READOUTS)
  magnitude = magnitudes(z, eps=eps)
  if reduction == 'sum':
    return jnp.sum(magnitude, axis=3)
  return magnitude.reshape(magnitude.shape[:3] + (-1,))


# --------------------------------------------------------------------------
# Linen modules.
# --------------------------------------------------------------------------


class HNonlin(nn.Module):
  """Linen wrapper of :func:`magnitude_nonlinearity`; owns ``bias [M, C]``.

  The bias starts at 0, where the nonlinearity is the identity with slope 1
  at ``z = 0`` (the authors drew it at random or set 1e-2; a bias ``b > 0``
  makes the slope at 0 about ``b / sqrt(eps)``).
  """
  activation: Activation = jax.nn.relu
  eps: float = DEFAULT_EPS
  bias_init: Callable = nn.initializers.zeros_init()

  @nn.compact
  def __call__(self, z: jax.Array) -> jax.Array:
    harmonic_groups.check_harmonic(z)
    bias = self.param('bias', self.bias_init, tuple(z.shape[3:]), jnp.float32)
    return magnitude_nonlinearity(z, bias, activation=self.activation,
                                  eps=self.eps)


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
    shape = tuple(z.shape[3:])
    running_mean = self.variable('batch_stats', 'mean', jnp.zeros, shape,
                                 jnp.float32)
    running_var = self.variable('batch_stats', 'var', jnp.ones, shape,
                                jnp.float32)
    if use_running_average:
      mean, var = running_mean.value, running_var.value
    else:
      mean, var = magnitude_moments(z, eps=self.eps)
      if not self.is_initializing():
        running_mean.value = (self.momentum * running_mean.value +
                              (1 - self.momentum) * mean)
        running_var.value = (self.momentum * running_var.value +
                             (1 - self.momentum) * var)
    scale = (self.param('scale', nn.initializers.ones_init(), shape,
                        jnp.float32) if self.use_scale else None)
    bias = (self.param('bias', nn.initializers.zeros_init(), shape,
                       jnp.float32) if self.use_bias else None)
    return magnitude_batch_norm(z, mean=mean, var=var, scale=scale, bias=bias,
                                epsilon=self.epsilon,
                                activation=self.activation, eps=self.eps)
