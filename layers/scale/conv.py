"""Scale convolutions (SESN / DISCO): pure functions on scale maps.

A scale map is ``[B, H, W, S, C]``: axis 3 holds the responses at the
scales ``sigma_0 r^i`` of a kernel basis ``[F, S, k, k]``
(:mod:`layers.scale.basis`); the same learned weights mix the basis at every
scale. A rescale of the input by ``r^k`` rescales such a map and shifts its
scale axis by ``k`` (:class:`groups.ScaleAxisRescale`), up to the basis's
own equivariance error (:func:`layers.scale.basis.equivariance_errors`) and
away from the ends of the scale set.

* :func:`lifting_conv` -- image ``[B, H, W, C]`` -> ``[B, H', W', S, O]``
  (SESN's ``SESConv_Z2_H``): the scale-``s`` output is the input convolved
  with ``sum_f w[f] psi[f, s]``.
* :func:`scale_conv` -- ``[B, H, W, S, C]`` -> ``[B, H', W', S, O]``
  (``SESConv_H_H``): output scale ``s`` sums, over ``i < scale_size``, input
  scale ``s + i`` convolved with ``sum_f w[i, f] psi[f, s]``; scales past
  the largest read zeros (SESN pads the scale axis so).
* :func:`scale_projection` -- max or mean over scales -> ``[B, H, W, C]``
  (``SESMaxProjection``): invariant to the shift of the scale axis.
* :func:`scale_pool` -- a spatial pool applied to every scale alike.

Weights: ``[F, C, O]`` (lifting) and ``[Q, F, C, O]`` (scale conv, ``Q`` the
scale size). Convolutions go through :func:`layers.conv2d` (padding modes
'zeros' | 'circular' | ...; strides).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from groups import validate
from layers import conv as conv_lib
from layers import initializers
from layers.max_reduce import max_reduce
from layers import pooling

PROJECTIONS = ('max', 'mean')
POOLS = ('max', 'avg')
SCALE_LAYOUT = '[B, H, W, S, C]'


def check_basis(basis: jax.typing.ArrayLike) -> None:
  """Raises ValueError unless ``basis`` is ``[F, S, k, k]`` floating."""
  validate.check_array(basis, 'basis', rank=4, layout='[F, S, k, k]')
  shape = np.shape(basis)
  if min(shape) < 1 or shape[2] != shape[3]:
    raise ValueError(f'basis must be [F, S, k, k] with square kernels and '
                     f'every size >= 1; got shape {shape}.')


def check_scale_map(x: jax.typing.ArrayLike, name: str = 'x') -> None:
  """Raises ValueError unless ``x`` is a floating ``[B, H, W, S, C]``."""
  validate.check_array(x, name, rank=5, layout=SCALE_LAYOUT)


def scale_kernels(weight: jax.Array, basis: jax.Array) -> jax.Array:
  """``[..., F, C, O]`` weights x ``[F, S, k, k]`` basis ->
  ``[..., S, k, k, C, O]`` kernels (one per scale, HWIO)."""
  return jnp.einsum('...fco,fshw->...shwco', weight,
                    jnp.asarray(basis, weight.dtype))


def _check_weight(weight, basis, rank: int, layout: str, channels: int):
  validate.check_array(weight, 'weight', rank=rank, layout=layout)
  if np.shape(weight)[-3] != np.shape(basis)[0]:
    raise ValueError(f'weight must have F = {np.shape(basis)[0]} basis '
                     f'functions (layout {layout}); got shape '
                     f'{np.shape(weight)}.')
  if np.shape(weight)[-2] != channels:
    raise ValueError(f'weight must have C = {channels} input channels (the '
                     f"input's last axis; layout {layout}); got shape "
                     f'{np.shape(weight)}.')


def lifting_conv(x: jax.typing.ArrayLike, weight: jax.typing.ArrayLike,
                 basis: jax.typing.ArrayLike, *, stride: int = 1,
                 padding: str = 'zeros') -> jax.Array:
  """Image to scale map: one conv per scale with the same weights.

  Args:
    x: ``[B, H, W, C]`` floating.
    weight: ``[F, C, O]``.
    basis: ``[F, S, k, k]``.
    stride: spatial stride, >= 1.
    padding: a :func:`layers.conv2d` padding ('zeros' as SESN).

  Returns:
    ``[B, H', W', S, O]``.
  """
  conv_lib.check_nhwc(x)
  check_basis(basis)
  _check_weight(weight, basis, 3, '[F, C, O]', np.shape(x)[3])
  weight = jnp.asarray(weight)
  kernels = scale_kernels(weight, basis)              # [S, k, k, C, O]
  num_scales, size = kernels.shape[0], kernels.shape[1]
  out_channels = weight.shape[-1]
  hwio = jnp.moveaxis(kernels, 0, 3).reshape(
      size, size, weight.shape[1], num_scales * out_channels)
  y = conv_lib.conv2d(x, hwio, stride=stride, padding=padding)
  return y.reshape(y.shape[:3] + (num_scales, out_channels))


def scale_conv(x: jax.typing.ArrayLike, weight: jax.typing.ArrayLike,
               basis: jax.typing.ArrayLike, *, stride: int = 1,
               padding: str = 'zeros') -> jax.Array:
  """Scale map to scale map (module docstring).

  Args:
    x: ``[B, H, W, S, C]`` floating, ``S`` the basis's scales.
    weight: ``[Q, F, C, O]``, ``Q >= 1`` the scale size (how many
      neighbouring scales each output mixes; SESN's MNIST models use 1).
    basis: ``[F, S, k, k]``.
    stride, padding: as :func:`lifting_conv`.

  Returns:
    ``[B, H', W', S, O]``.
  """
  check_scale_map(x)
  check_basis(basis)
  x = jnp.asarray(x)
  _check_weight(weight, basis, 4, '[Q, F, C, O]', x.shape[4])
  if x.shape[3] != np.shape(basis)[1]:
    raise ValueError(f'x must have S = {np.shape(basis)[1]} scales (the '
                     f"basis's; layout {SCALE_LAYOUT}); got shape "
                     f'{tuple(x.shape)}.')
  weight = jnp.asarray(weight)
  kernels = scale_kernels(weight, basis)           # [Q, S, k, k, C, O]
  num_mixed, num_scales = kernels.shape[:2]
  outputs = []
  for s in range(num_scales):
    taken = [i for i in range(num_mixed) if s + i < num_scales]
    inputs = jnp.concatenate([x[:, :, :, s + i] for i in taken], axis=-1)
    kernel = jnp.concatenate([kernels[i, s] for i in taken], axis=2)
    outputs.append(conv_lib.conv2d(inputs, kernel, stride=stride,
                                   padding=padding))
  return jnp.stack(outputs, axis=3)


def scale_projection(x: jax.typing.ArrayLike, *, reduction: str = 'max'
                     ) -> jax.Array:
  """``[B, H, W, S, C]`` -> ``[B, H, W, C]``: max or mean over scales."""
  check_scale_map(x)
  validate.check_choice(reduction, 'reduction', PROJECTIONS)
  x = jnp.asarray(x)
  return max_reduce(x, 3) if reduction == 'max' else x.mean(axis=3)


def scale_pool(x: jax.typing.ArrayLike, *, reduction: str = 'max',
               window: int = 2, stride: int | None = None,
               padding: str = 'valid') -> jax.Array:
  """A spatial max / average pool of every scale of ``[B, H, W, S, C]``
  (SESN's ``MaxPool3d([1, 2, 2])``, DISCO's ``AvgPool3d``)."""
  check_scale_map(x)
  validate.check_choice(reduction, 'reduction', POOLS)
  x = jnp.asarray(x)
  b, h, w, s, c = x.shape
  pool = pooling.max_pool if reduction == 'max' else pooling.avg_pool
  y = pool(x.reshape(b, h, w, s * c), window=window,
           stride=window if stride is None else stride, padding=padding)
  return y.reshape(y.shape[:3] + (s, c))


def fan_in_init(fan_in: int):
  """SESN's ``kaiming_uniform_(a=sqrt 5)``: uniform in +-1 / sqrt(fan_in),
  ``fan_in`` = input channels x scale size x basis functions."""
  bound = 1 / np.sqrt(fan_in)

  def init(key, shape, dtype=jnp.float32):
    return initializers.uniform(key, shape, dtype, -bound, bound)
  return init
