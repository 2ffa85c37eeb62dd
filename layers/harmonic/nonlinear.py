"""Magnitudes of harmonic maps and the magnitude nonlinearity.

Layout: complex ``[B, H, W, M, C]`` (``M`` rotation orders, ``C`` channels
per order; see :mod:`groups.harmonic`).

* :func:`magnitudes` -- ``sqrt(max(|z|^2, eps))`` (``eps = 1e-4`` by
  default): equal to ``|z|`` above ``sqrt(eps) = 0.01`` and never 0, so
  ``z / |z|`` and every gradient stay finite at ``z = 0``, where the
  nonlinearities output exactly 0.
* :func:`magnitude_nonlinearity` (:class:`HNonlin`) --
  ``act(|z| + b) z / |z|`` with ``b`` per order and channel. Near ``z = 0``
  its slope is ``act(b + sqrt(eps)) / sqrt(eps)``: 1 with the default zero
  bias, up to ``100 b`` for a bias ``b > 0``.

The argument checks here are shared by :mod:`layers.harmonic.norm` and
:mod:`layers.harmonic.pooling`.
"""

from __future__ import annotations

from collections.abc import Callable
import functools
import math

import flax.linen as nn
import jax
import jax.numpy as jnp

from groups import harmonic as harmonic_groups

DEFAULT_EPS = 1e-4    # floor on |z|^2 in magnitudes

Activation = Callable[[jax.Array], jax.Array]


def check_eps(eps) -> float:
  """``eps`` as a float, or a ValueError unless it is finite and > 0."""
  if (not isinstance(eps, (int, float)) or isinstance(eps, bool) or
      not 0 < eps < math.inf):
    raise ValueError(f'eps must be a finite number > 0; got {eps!r}.')
  return float(eps)


def check_per_stream(value, name: str, z) -> jax.Array:
  """``value`` as an array, or a ValueError unless it is ``[M, C]`` of ``z``."""
  shape = tuple(z.shape[3:])
  if value is None or jnp.shape(value) != shape:
    raise ValueError(f'{name} must have shape [M, C] = {shape} (one value per '
                     f'order and channel of z); got '
                     f'{None if value is None else jnp.shape(value)}.')
  return jnp.asarray(value)


def check_activation(activation) -> None:
  """A ValueError unless ``activation`` is callable."""
  if not callable(activation):
    raise ValueError('activation must be a function R -> R>=0 such as '
                     f'jax.nn.relu; got {activation!r}.')


# The public functions below validate their arguments, then call a jitted
# core: one compile per shape and option, also when called eagerly.


def unchecked_magnitudes(z, eps):
  """:func:`magnitudes` without checks, for jitted cores."""
  squared = jnp.square(jnp.real(z)) + jnp.square(jnp.imag(z))
  # jnp.maximum's derivative compares squared == result, which under jit
  # may meet a recomputed, differently rounded operand (layers/max_reduce.py);
  # the select's derivative does not compare. Same values.
  return jnp.sqrt(jnp.where(squared > eps, squared, eps))


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
  return _magnitudes_jit(jnp.asarray(z), check_eps(eps))


_magnitudes_jit = jax.jit(unchecked_magnitudes, static_argnums=1)


@functools.partial(jax.jit, static_argnames=('activation', 'eps'))
def _magnitude_nonlinearity(z, bias, *, activation, eps):
  magnitude = unchecked_magnitudes(z, eps)
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
  bias = check_per_stream(bias, 'bias', z)
  check_activation(activation)
  return _magnitude_nonlinearity(jnp.asarray(z), bias, activation=activation,
                                 eps=check_eps(eps))


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
