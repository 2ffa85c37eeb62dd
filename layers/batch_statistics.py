"""Batch normalisation with its batch's statistics, and a hand-written gradient.

:func:`normalise` is the training-mode step every batch norm here shares:
``out = (x - mean) / sqrt(var + epsilon) * scale + bias`` with the mean and
(biased) variance of ``x`` over ``axes``. Differentiated by JAX, that step
is ~15 XLA kernels in a training step's program (forward and backward of the
centring, of both reductions and of the scale), each compiled on its own.
Its derivative here (a ``jax.custom_jvp``, so forward mode works too) is
written so that reverse mode gives the textbook gradient (Ioffe & Szegedy
2015, §3): with ``c = x - mean``, ``r = 1 / sqrt(var + epsilon)`` and ``N``
the count reduced over,

    d bias  = sum(g)                    d scale = r * sum(g * c)
    d x     = r * scale * (g - sum(g) / N - c * r**2 * sum(g * c) / N)

(plus ``d mean / N + 2 c d var / N`` where the returned statistics are
differentiated too): two reductions and one elementwise pass backward, two
reductions and one pass forward. The values are those of JAX's gradient up
to float rounding (``sum(c) = 0`` is used exactly, where JAX's chain rule
carries its rounding); tests/batch_statistics_test.py checks them against
``jax.grad`` of the same formula.

Layout: any ``x``; ``axes`` are reduced, the other axes keep one statistic,
scale and bias each (``scale`` and ``bias`` have the shape of ``x`` without
``axes``). :class:`BatchNorm` is the plain per-channel batch norm of
``[..., C]`` built on it, a drop-in for ``flax.linen.BatchNorm`` (same
variables and names, same evaluation-mode arithmetic).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from groups import validate
from layers import running_average


def normalise(x: jax.Array, scale: jax.Array | None,
              bias: jax.Array | None, *, axes: Sequence[int],
              epsilon: float) -> tuple[jax.Array, jax.Array, jax.Array]:
  """``(out, mean, var)``: ``x`` normalised by its own statistics.

  Args:
    x: any floating array, e.g. ``[B, H, W, C]`` with ``axes=(0, 1, 2)``.
    scale: None (1) or the shape of ``x`` without ``axes``.
    bias: None (0) or the same shape.
    axes: the axes reduced over (statistics are shared along them).
    epsilon: added to the variance (> 0).

  Returns:
    ``out`` (the shape of ``x``), ``mean`` and ``var`` (the shape of ``x``
    without ``axes``; ``var`` is the biased variance).
  """
  x = jnp.asarray(x)
  if not jnp.issubdtype(x.dtype, jnp.floating):
    raise ValueError(f'x must be floating; got dtype {x.dtype}.')
  axes = tuple(sorted(validate.axes(axes, 'axes', x.ndim)))
  kept = tuple(d for i, d in enumerate(x.shape) if i not in axes)
  for name, value in (('scale', scale), ('bias', bias)):
    if value is not None and jnp.shape(value) != kept:
      raise ValueError(f'{name} must have the shape of x without axes '
                       f'{axes}, {kept}; got {jnp.shape(value)}.')
  epsilon = validate.number(epsilon, 'epsilon', minimum=0,
                            exclusive_minimum=True)
  return _normalise(x, scale, bias, axes, float(epsilon))


def _stat(value, axes):
  """A statistic ``[kept]`` -> broadcastable against ``x``."""
  return jnp.expand_dims(value, axes)


def _forward(x, scale, bias, axes, epsilon):
  """``(out, mean, var)`` and ``(centred, r, factor)``."""
  mean = jnp.mean(x, axis=axes)
  centred = x - _stat(mean, axes)
  var = jnp.mean(jnp.square(centred), axis=axes)
  r = jax.lax.rsqrt(var + epsilon)
  factor = r if scale is None else r * scale
  out = centred * _stat(factor.astype(x.dtype), axes)
  if bias is not None:
    out = out + _stat(bias.astype(x.dtype), axes)
  return (out, mean, var), (centred, r, factor)


@functools.partial(jax.custom_jvp, nondiff_argnums=(3, 4))
def _normalise(x, scale, bias, axes, epsilon):
  return _forward(x, scale, bias, axes, epsilon)[0]


@_normalise.defjvp
def _normalise_jvp(axes, epsilon, primals, tangents):
  """The tangent map, written so that its transpose (reverse mode) is the
  textbook gradient: ``sum(c) = 0`` drops the mean's term from the
  variance's tangent, and the mean's term of the output is a per-channel
  vector broadcast once, so the backward pass reduces ``g`` and ``g * c``
  and nothing else."""
  x, scale, bias = primals
  dx, d_scale, d_bias = tangents
  outputs, (centred, r, factor) = _forward(x, scale, bias, axes, epsilon)
  d_mean = jnp.mean(dx, axis=axes)
  d_var = 2 * jnp.mean(centred * dx, axis=axes)
  d_factor = -0.5 * r * r * d_var * factor
  if scale is not None:
    d_factor = d_factor + r * d_scale
  d_out = (dx * _stat(factor.astype(x.dtype), axes) -
           _stat((d_mean * factor).astype(x.dtype), axes) +
           centred * _stat(d_factor.astype(x.dtype), axes))
  if bias is not None:
    d_out = d_out + _stat(d_bias.astype(x.dtype), axes)
  return outputs, (d_out, d_mean, d_var)


def channel_variables(module: nn.Module, shape: int | tuple[int, ...], *,
                      use_scale: bool, use_bias: bool
                      ) -> tuple[Any, Any, Any, Any]:
  """``(running_mean, running_var, scale, bias)`` of a batch norm with one
  statistic per entry of ``shape`` (``C`` channels, or a tuple such as the
  harmonic norm's ``[M, C]``), declared in ``module`` as flax's
  ``nn.BatchNorm`` declares them: 'batch_stats' ``mean`` / ``var``
  (variables, initialised to 0 / 1), params ``scale`` / ``bias`` (arrays, 1 /
  0, or None when not used); all float32 of that shape."""
  shape = (shape,) if isinstance(shape, int) else tuple(shape)
  running_mean = module.variable('batch_stats', 'mean', jnp.zeros, shape,
                                 jnp.float32)
  running_var = module.variable('batch_stats', 'var', jnp.ones, shape,
                                jnp.float32)
  scale = (module.param('scale', nn.initializers.ones_init(), shape,
                        jnp.float32) if use_scale else None)
  bias = (module.param('bias', nn.initializers.zeros_init(), shape,
                       jnp.float32) if use_bias else None)
  return running_mean, running_var, scale, bias


class BatchNorm(nn.Module):
  """Batch norm of ``[..., C]`` per channel: ``flax.linen.BatchNorm``'s
  variables (params ``scale``, ``bias``; 'batch_stats' ``mean``, ``var``;
  all ``[C]`` float32, initialised to 1, 0, 0, 1) and defaults, so a model
  that swaps one for the other keeps its checkpoints and its auto-names
  (``BatchNorm_0``, ...).

  Evaluation mode (``use_running_average=True``) computes exactly what flax
  does: ``(x - mean) * (rsqrt(var + epsilon) * scale) + bias``. Training mode
  normalises with the batch's mean and variance over every axis but the last
  by :func:`normalise` (its written-out gradient; the variance as the mean
  of squared deviations, where flax's default takes ``E[x^2] - E[x]^2``, the
  same up to float rounding) and moves the running averages as flax does
  (:func:`layers.running_average.update`; not while initialising).

  Attributes:
    use_running_average: evaluation mode; may be overridden per call.
    momentum: decay of the running averages, in [0, 1].
    epsilon: added to the variance (> 0).
    use_scale: learn a scale per channel.
    use_bias: learn a bias per channel.
  """
  use_running_average: bool | None = None
  momentum: float = 0.99
  epsilon: float = 1e-5
  use_scale: bool = True
  use_bias: bool = True

  @nn.compact
  def __call__(self, x: jax.Array,
               use_running_average: bool | None = None) -> jax.Array:
    """Normalises ``x`` ``[..., C]`` (rank >= 2); returns the same shape."""
    x = self._check_input(x)
    validate.number(self.momentum, 'momentum', minimum=0, maximum=1)
    epsilon = validate.number(self.epsilon, 'epsilon', minimum=0,
                              exclusive_minimum=True)
    use_running_average = nn.merge_param(
        'use_running_average', self.use_running_average, use_running_average)
    running_mean, running_var, scale, bias = channel_variables(
        self, x.shape[-1], use_scale=self.use_scale, use_bias=self.use_bias)
    if use_running_average:
      return self._evaluate(x, running_mean.value, running_var.value, scale,
                            bias, epsilon)
    out, mean, var = normalise(x, scale, bias,
                               axes=tuple(range(x.ndim - 1)),
                               epsilon=epsilon)
    running_average.update(self, self.momentum, (running_mean, mean),
                           (running_var, var))
    return out

  def _check_input(self, x) -> jax.Array:
    """``x`` as an array; ValueError unless it is a floating ``[..., C]``
    of rank >= 2 (a subclass may ask for a layout)."""
    x = jnp.asarray(x)
    if x.ndim < 2 or not jnp.issubdtype(x.dtype, jnp.floating):
      raise ValueError(f'x must be a floating array [..., C] of rank >= 2; '
                       f'got shape {x.shape}, dtype {x.dtype}.')
    return x

  def _evaluate(self, x, mean, var, scale, bias, epsilon) -> jax.Array:
    """Evaluation mode with the running statistics: flax's arithmetic,
    ``(x - mean) * (rsqrt(var + epsilon) * scale) + bias``."""
    factor = jax.lax.rsqrt(var + epsilon)
    if scale is not None:
      factor = factor * scale
    out = (x - mean) * factor
    return out if bias is None else out + bias
