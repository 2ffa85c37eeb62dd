"""Pooling and rotation-invariant read-outs of harmonic maps.

* :func:`harmonic_mean_pool` -- mean pooling of real and imaginary parts.
* :func:`invariant_readout` -- rotation-invariant real maps: the
  magnitudes (:func:`layers.harmonic.magnitudes`) summed over orders or
  stacked along channels.

Layout: complex ``[B, H, W, M, C]``.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from groups import validate
from groups import harmonic as harmonic_groups
from layers import pooling
from layers.harmonic import nonlinear
from layers.harmonic.nonlinear import DEFAULT_EPS

READOUTS = ('sum', 'stack')


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
  magnitude = nonlinear.magnitudes(z, eps=eps)
  if reduction == 'sum':
    return jnp.sum(magnitude, axis=3)
  return magnitude.reshape(magnitude.shape[:3] + (-1,))
