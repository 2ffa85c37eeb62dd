"""Flax weight initializers that compile fast on CPU: JAX's numbers, sampled flat.

``jax.nn.initializers.variance_scaling`` (flax's default ``lecun_normal``
of ``nn.Dense`` / ``nn.Conv``) samples ``random.truncated_normal(key, -2, 2,
shape)`` in the kernel's own shape. With JAX's default threefry keys
(``jax_threefry_partitionable``, on since JAX 0.5) the random bits are a
hash of each element's *linear index*, built from one iota per axis: XLA
then compiles a loop nest as deep as the kernel's rank, and on CPU that
program takes 0.5-1.5 s to compile for a ``[3, 3, 16, 16]`` kernel against
~0.3 s for the same bits drawn as one flat ``[2304]`` vector (measured in
docs/performance.md, "Compile time, third pass").

Because the bits depend only on the linear index, drawing ``prod(shape)``
values and reshaping gives *the same numbers* as drawing ``shape`` (threefry
partitionable or not, 'rbg' and 'unsafe_rbg' keys alike:
tests/initializers_test.py compares every mode and distribution with
JAX's). The initializers here do exactly that: same fans, same scale, same
distribution as ``jax.nn.initializers.variance_scaling``; only the shape of
the draw differs. equivlab's layers and models use them, so a model's
parameters are those JAX's defaults would give, and ``model.init`` with a
threefry key compiles 2-4x faster (z2cnn: 5.0 -> 1.4 s jitted).

Layout: a kernel ``[..., C_in, C_out]`` (``in_axis=-2``, ``out_axis=-1``);
every other axis, except ``batch_axis``, is receptive field.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
import math

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

MODES = ('fan_in', 'fan_out', 'fan_avg', 'fan_geo_avg')
DISTRIBUTIONS = ('truncated_normal', 'normal', 'uniform')
# Standard deviation of a standard normal truncated to (-2, 2) (JAX's).
_TRUNCATED_STD = .87962566103423978

Axes = int | Sequence[int]
Initializer = Callable[..., jax.Array]


def _size(shape: tuple[int, ...], axes: Axes) -> int:
  if isinstance(axes, int):
    return shape[axes]
  return math.prod(shape[i] for i in axes)


def fans(shape: Sequence[int], in_axis: Axes = -2, out_axis: Axes = -1,
         batch_axis: Axes = ()) -> tuple[float, float]:
  """``(fan_in, fan_out)`` of a kernel of ``shape``, as JAX computes them.

  Raises:
    ValueError: for a kernel of rank < 2 with the default ``in_axis``.
  """
  shape = tuple(int(d) for d in shape)
  if isinstance(in_axis, int) and in_axis == -2 and len(shape) < 2:
    raise ValueError(f'shape must have rank >= 2 ([..., C_in, C_out]) with '
                     f'the default in_axis=-2; got {shape}.')
  in_size = _size(shape, in_axis)
  out_size = _size(shape, out_axis)
  receptive = math.prod(shape) / in_size / out_size / _size(shape, batch_axis)
  return in_size * receptive, out_size * receptive


def variance_scaling(scale: float, mode: str, distribution: str, *,
                     in_axis: Axes = -2, out_axis: Axes = -1,
                     batch_axis: Axes = (),
                     dtype=jnp.float32) -> Initializer:
  """``jax.nn.initializers.variance_scaling``, drawn as one flat vector.

  Args:
    scale: the variance scale (> 0).
    mode: one of :data:`MODES`.
    distribution: one of :data:`DISTRIBUTIONS`.
    in_axis, out_axis, batch_axis: the kernel's axes, as JAX's.
    dtype: the default dtype of the initializer.

  Returns:
    ``init(key, shape, dtype=dtype) -> [*shape]``: the values JAX's
    initializer gives for the same key, shape and dtype (complex dtypes are
    handed to JAX's initializer unchanged).
  """
  if not isinstance(scale, (int, float)) or not scale > 0:
    raise ValueError(f'scale must be a number > 0; got {scale!r}.')
  if mode not in MODES:
    raise ValueError(f'mode must be one of {MODES}; got {mode!r}.')
  if distribution not in DISTRIBUTIONS:
    raise ValueError(f'distribution must be one of {DISTRIBUTIONS}; got '
                     f'{distribution!r}.')
  reference = jax.nn.initializers.variance_scaling(
      scale, mode, distribution, in_axis=in_axis, out_axis=out_axis,
      batch_axis=batch_axis, dtype=dtype)

  def init(key: jax.Array, shape: Sequence[int], dtype=dtype) -> jax.Array:
    shape = tuple(int(d) for d in shape)
    dtype = jnp.float32 if dtype is None else dtype
    if not jnp.issubdtype(dtype, np.floating):
      return reference(key, shape, dtype)
    fan_in, fan_out = fans(shape, in_axis, out_axis, batch_axis)
    denominator = {'fan_in': fan_in, 'fan_out': fan_out,
                   'fan_avg': (fan_in + fan_out) / 2,
                   'fan_geo_avg': (fan_in * fan_out) ** 0.5}[mode]
    variance = jnp.array(scale / denominator, dtype=dtype)
    flat = (math.prod(shape),)
    if distribution == 'truncated_normal':
      stddev = jnp.sqrt(variance) / jnp.array(_TRUNCATED_STD, dtype)
      sample = jax.random.truncated_normal(key, -2, 2, flat, dtype) * stddev
    elif distribution == 'normal':
      sample = jax.random.normal(key, flat, dtype) * jnp.sqrt(variance)
    else:
      sample = jax.random.uniform(key, flat, dtype, -1) * jnp.sqrt(
          3 * variance)
    return sample.reshape(shape)

  return init


def lecun_normal(*, in_axis: Axes = -2, out_axis: Axes = -1,
                 batch_axis: Axes = (), dtype=jnp.float32) -> Initializer:
  """flax's default kernel initializer (``nn.Dense``, ``nn.Conv``), flat."""
  return variance_scaling(1.0, 'fan_in', 'truncated_normal', in_axis=in_axis,
                          out_axis=out_axis, batch_axis=batch_axis,
                          dtype=dtype)


def he_normal(*, in_axis: Axes = -2, out_axis: Axes = -1,
              batch_axis: Axes = (), dtype=jnp.float32) -> Initializer:
  """``jax.nn.initializers.he_normal``, flat."""
  return variance_scaling(2.0, 'fan_in', 'truncated_normal', in_axis=in_axis,
                          out_axis=out_axis, batch_axis=batch_axis,
                          dtype=dtype)


def uniform(key: jax.Array, shape: Sequence[int], dtype=jnp.float32,
            minval: float = 0.0, maxval: float = 1.0) -> jax.Array:
  """``jax.random.uniform(key, shape, dtype, minval, maxval)``, drawn flat
  (the same numbers, a rank-1 program)."""
  shape = tuple(int(d) for d in shape)
  return jax.random.uniform(key, (math.prod(shape),), dtype, minval,
                            maxval).reshape(shape)


def dense(features: int, **kwargs) -> nn.Dense:
  """flax's ``nn.Dense(features, **kwargs)`` with :func:`lecun_normal` as its
  default ``kernel_init`` (the same parameters, drawn flat)."""
  kwargs.setdefault('kernel_init', lecun_normal())
  return nn.Dense(features, **kwargs)
