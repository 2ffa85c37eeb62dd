"""Measuring how far a function is from equivariance: ``f(T x)`` vs ``T' f(x)``."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from groups import base
from groups import lie


def relative_error(actual: jax.typing.ArrayLike,
                   expected: jax.typing.ArrayLike, *,
                   mask: np.ndarray | None = None) -> jax.Array:
  """Per-example relative L2 error ``||actual - expected|| / ||expected||``.

  Args:
    actual: array ``[B, ...]``.
    expected: array of the same shape.
    mask: optional boolean ``[H, W]`` over axes 1, 2 (rank >= 3 only), or
      ``[H, W, S]`` over axes 1-3 of a scale / group map (e.g. the scales
      that have a partner under a rescale); only True positions count.

  Returns:
    ``[B]`` float32 errors; an example whose ``expected`` is all zero uses an
    absolute norm instead (finite inputs never give NaN). A NaN or Inf in
    ``actual`` or ``expected`` makes that example's error NaN or Inf, so an
    assertion ``error <= bound`` fails on it rather than passing.
  """
  actual = jnp.asarray(actual)
  expected = jnp.asarray(expected)
  if actual.shape != expected.shape:
    raise ValueError(f'actual and expected must have the same shape; got '
                     f'{actual.shape} and {expected.shape}.')
  if actual.ndim < 1:
    raise ValueError('actual must have a batch axis [B, ...]; got a scalar.')
  m = None
  if mask is not None:
    mask = np.asarray(mask, bool)
    if not _mask_fits(mask, actual.shape):
      raise ValueError(f'mask must have shape [H, W] = {actual.shape[1:3]} of '
                       f'a [B, H, W, ...] output (or [H, W, S] = '
                       f'{actual.shape[1:4]} of a scale or group map); got '
                       f'{mask.shape}.')
    m = mask.reshape((1,) + mask.shape + (1,) * (actual.ndim - 1 - mask.ndim))
  return _relative_error(actual, expected, m)


@jax.jit
def _relative_error(actual: jax.Array, expected: jax.Array,
                    mask: jax.Array | None) -> jax.Array:
  """:func:`relative_error` as ONE compiled program per shape (eagerly, its
  eight elementwise ops and reductions were eight programs per shape)."""
  diff = jnp.abs(actual - expected)
  ref = jnp.abs(expected)
  if mask is not None:
    diff = jnp.where(mask, diff, 0)
    ref = jnp.where(mask, ref, 0)
  axes = tuple(range(1, actual.ndim))
  num = jnp.sqrt(jnp.sum(jnp.square(diff), axis=axes))
  den = jnp.sqrt(jnp.sum(jnp.square(ref), axis=axes))
  return (num / jnp.where(den > 0, den, 1.0)).astype(jnp.float32)


def _mask_fits(mask: np.ndarray, shape: tuple[int, ...]) -> bool:
  """A mask over axes 1, 2 (``[H, W]``) or 1-3 (``[H, W, S]``)."""
  return (mask.ndim in (2, 3) and len(shape) > mask.ndim and
          mask.shape == tuple(shape[1:1 + mask.ndim]))


def transformed_pair(fn: Callable[[jax.Array], jax.Array], x: jax.typing.ArrayLike,
                     transform: base.Transform,
                     output_transform: base.Transform | None = None
                     ) -> tuple[jax.Array, jax.Array]:
  """Returns ``(f(T x), T' f(x))``; ``T'`` defaults to ``T`` (stride 1).

  ``transform`` may also be a :class:`groups.lie.Flow`: the pair is then
  ``(J_f(x) G x, G' f(x))`` (:func:`groups.lie.tangent_pair`), whose
  difference is the Lie derivative, so every error and assertion built on
  this pair measures local equivariance too.
  """
  if isinstance(transform, lie.Flow):
    return lie.tangent_pair(fn, x, transform, output_transform)
  if not callable(fn):
    raise ValueError(f'fn must be a function of [B, H, W, ...] arrays; got '
                     f'{fn!r}.')
  if not isinstance(transform, base.Transform):
    raise ValueError(f'transform must be a groups Transform (or a groups.lie.'
                     f'Flow); got {transform!r}.')
  if output_transform is None:
    output_transform = transform
  if not isinstance(output_transform, base.Transform):
    raise ValueError('output_transform must be a groups Transform; got '
                     f'{output_transform!r}.')
  if isinstance(x, jax.Array):
    return fn(transform(x)), output_transform(fn(x))
  # A NumPy input: exact transforms act on it in NumPy (module doc of
  # groups.base), and arrays go to the device with device_put (jnp.asarray
  # of a NumPy array compiles a copy program per shape: JAX stages it as an
  # op). Property tests draw new shapes every example, so eager programs of
  # the transforms were a large part of what they compiled.
  x = np.asarray(x)
  x_device = jax.device_put(x)
  moved = transform(x) if transform.exact else transform(x_device)
  y = fn(x_device)
  expected = (output_transform(np.asarray(y)) if output_transform.exact
              else output_transform(y))
  return fn(_on_device(moved)), _on_device(expected)


def _on_device(x) -> jax.Array:
  return x if isinstance(x, jax.Array) else jax.device_put(x)


def equivariance_error(fn: Callable[[jax.Array], jax.Array],
                       x: jax.typing.ArrayLike, transform: base.Transform,
                       output_transform: base.Transform | None = None, *,
                       mask: np.ndarray | None = None) -> jax.Array:
  """Per-example relative error ``||f(T x) - T' f(x)|| / ||T' f(x)||``, ``[B]``.

  Args:
    fn: function of ``[B, H, W, ...]``.
    x: input ``[B, H, W, C]`` (or a group map ``[B, H, W, G, C]``).
    transform: ``T``, acting on the input.
    output_transform: ``T'``, acting on the output; defaults to ``T``. Pass
      ``groups.Identity()`` to measure invariance, or
      ``transform.output_action(stride=s)`` for a layer of stride ``s``.
    mask: optional boolean ``[H', W']`` of output positions that count.

  Returns:
    ``[B]`` float32 relative errors (0 for an exactly equivariant ``fn``, up
    to float rounding).
  """
  actual, expected = transformed_pair(fn, x, transform, output_transform)
  return relative_error(actual, expected, mask=mask)
