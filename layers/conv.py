"""2-D convolution on ``[B, H, W, C]`` with explicit padding modes.

The padding mode decides which symmetry survives at the border:

* 'circular' — the grid is a torus; a stride-1 conv is *exactly* equivariant
  to every circular shift (any kernel size, odd or even, any dilation).
* 'zeros' — the usual 'SAME' conv; equivariant to shifts only away from the
  border (see :func:`groups.interior_mask`).
* 'reflect' / 'replicate' — mirror or repeat the edge; also exact only on
  the interior.
* 'valid' — no padding; the output shrinks by ``dilation * (k - 1)``.

For padded modes the pads are ``(floor((k_eff-1)/2), ceil((k_eff-1)/2))`` with
``k_eff = dilation * (k - 1) + 1``, so the output is ``ceil(H / stride)`` and
an even kernel is anchored like PyTorch/antialiased-cnns.

How the convolution is computed is chosen by :mod:`layers.autotune`: by
default oneDNN's primitives (:mod:`layers.onednn`, the library PyTorch
calls on CPUs) for every float32 convolution, where that library could be
built, else XLA's (padded) convolution; ``EQUIVLAB_CONV_BACKEND=xla`` keeps
XLA. With tuning on, the forward pass and each gradient run on whichever
lowering (XLA's conv, tap matmuls, im2col, oneDNN) was measured fastest.
"""

from __future__ import annotations

from collections.abc import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp

from groups import validate
from layers import autotune
from layers import conv_lowering
from layers import initializers
from layers import padding as padding_lib

CONV_PADDINGS = ('circular', 'zeros', 'reflect', 'replicate', 'valid')


def check_nhwc(x: jax.typing.ArrayLike, name: str = 'x') -> None:
  """Checks that ``x`` is a float ``[B, H, W, C]`` array with H, W, C >= 1.

  An empty batch (``B = 0``) is allowed and gives an empty output.
  """
  validate.check_array(x, name, rank=4, layout='[B, H, W, C]')
  if min(x.shape[1:]) < 1:
    raise ValueError(f'{name} must have H, W, C >= 1 (layout [B, H, W, C]); '
                     f'got shape {tuple(x.shape)}.')


def conv2d(x: jax.typing.ArrayLike, kernel: jax.typing.ArrayLike, *,
           stride: int | tuple[int, int] = 1, padding: str = 'circular',
           dilation: int | tuple[int, int] = 1) -> jax.Array:
  """Convolves ``x`` with ``kernel`` (cross-correlation, as in every DL library).

  Args:
    x: input ``[B, H, W, C_in]``, floating.
    kernel: ``[kh, kw, C_in, C_out]``, floating; odd or even sizes.
    stride: int or ``(sh, sw)``, >= 1.
    padding: 'circular' | 'zeros' | 'reflect' | 'replicate' | 'valid'.
    dilation: int or ``(dh, dw)``, >= 1 (atrous convolution).

  Returns:
    ``[B, H', W', C_out]`` with ``H' = ceil(H / sh)`` for padded modes and
    ``H' = floor((H - dh (kh - 1) - 1) / sh) + 1`` for 'valid'. A stride
    larger than the input gives one output row/column. With 'circular' a
    kernel larger than the input is the convolution on the torus: the input
    repeats periodically, so taps that land on the same pixel add up.

  Raises:
    ValueError: on a wrong rank or dtype, an empty kernel or channel axis,
      mismatched channels, an unknown padding, a stride/dilation < 1, a kernel
      larger than a 'valid' input, or pads of 'reflect' not smaller than the
      input.
  """
  check_nhwc(x)
  validate.check_array(kernel, 'kernel', rank=4,
                        layout='[kh, kw, C_in, C_out]')
  validate.check_choice(padding, 'padding', CONV_PADDINGS)
  strides = validate.pair(stride, 'stride')
  dilations = validate.pair(dilation, 'dilation')
  x = jnp.asarray(x)
  kernel = jnp.asarray(kernel)
  if min(kernel.shape[:2]) < 1:
    raise ValueError(
        'kernel must have spatial sizes kh, kw >= 1 (layout [kh, kw, C_in, '
        f'C_out]); got kernel shape {kernel.shape}.')
  if kernel.shape[3] < 1:
    raise ValueError(
        'kernel must have C_out >= 1 output channels (layout [kh, kw, C_in, '
        f'C_out]); got kernel shape {kernel.shape}.')
  if kernel.shape[2] != x.shape[3]:
    raise ValueError(
        f'kernel must have C_in = x.shape[-1] = {x.shape[3]} input channels '
        f'(layout [kh, kw, C_in, C_out]); got kernel shape {kernel.shape}.')
  effective = [d * (k - 1) + 1 for d, k in zip(dilations, kernel.shape[:2])]
  if padding == 'valid':
    if effective[0] > x.shape[1] or effective[1] > x.shape[2]:
      raise ValueError(
          f"padding='valid' needs the (dilated) kernel {tuple(effective)} to "
          f'fit in the input H, W = {x.shape[1:3]}; use a padded mode or a '
          'larger input.')
    pads = ((0, 0), (0, 0))
  else:
    pads = tuple(padding_lib.same_pads(k) for k in effective)
  lax_padding = 'VALID'
  if padding == 'zeros':
    lax_padding = pads  # let XLA pad with zeros inside the conv
  elif padding != 'valid':
    x = padding_lib.pad_spatial(x, pads, mode=padding)
  return _lower(x, kernel.astype(x.dtype), strides=strides,
                padding=lax_padding, dilations=dilations)


def _lower(x: jax.Array, kernel: jax.Array, *, strides, padding,
           dilations) -> jax.Array:
  """The core convolution on the lowering :func:`layers.autotune.choose` picks.

  With tuning off (the default) that is oneDNN's (``'onednn'``) where the
  backend allows and the library is available, else :func:`_lax_conv`, the
  fixed XLA lowering; with it on, the forward pass and both gradients each
  run on the lowering measured fastest for these shapes on this machine
  (:mod:`layers.conv_lowering`).
  """
  choice = autotune.choose(x.shape, kernel.shape, x.dtype, strides=strides,
                           padding=padding, dilations=dilations)
  if choice is None:
    return _lax_conv(x, kernel, strides=strides, padding=padding,
                     dilations=dilations)
  return conv_lowering.assembled_conv(x, kernel, choice=choice,
                                      strides=strides, padding=padding,
                                      dilations=dilations)


def _lax_conv(x: jax.Array, kernel: jax.Array, *, strides, padding,
              dilations) -> jax.Array:
  """The default lowering: :func:`layers.conv_lowering.xla_conv`.

  A module attribute so that ``benchmarks.peers.previous_lowering`` can
  swap in the unpadded XLA convolution of before the speed work.
  """
  return conv_lowering.xla_conv(x, kernel, strides=strides, padding=padding,
                                dilations=dilations)


class Conv(nn.Module):
  """Linen wrapper of :func:`conv2d`: owns ``kernel [kh, kw, C_in, C_out]`` and bias.

  Attributes:
    features: number of output channels ``C_out``.
    kernel_size: int or ``(kh, kw)``.
    stride: int or ``(sh, sw)``.
    padding: see :func:`conv2d`.
    dilation: int or ``(dh, dw)``.
    use_bias: add a learned per-channel bias (a constant: keeps equivariance).
  """
  features: int
  kernel_size: int | tuple[int, int] = 3
  stride: int | tuple[int, int] = 1
  padding: str = 'circular'
  dilation: int | tuple[int, int] = 1
  use_bias: bool = True
  kernel_init: Callable = initializers.lecun_normal()
  bias_init: Callable = nn.initializers.zeros_init()

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    """Maps ``[B, H, W, C_in]`` to ``[B, H', W', features]``."""
    check_nhwc(x)
    validate.integer(self.features, 'features', minimum=1)
    kh, kw = validate.pair(self.kernel_size, 'kernel_size')
    kernel = self.param('kernel', self.kernel_init,
                        (kh, kw, x.shape[-1], self.features), jnp.float32)
    y = conv2d(x, kernel, stride=self.stride, padding=self.padding,
               dilation=self.dilation)
    if self.use_bias:
      y = y + self.param('bias', self.bias_init, (self.features,), jnp.float32)
    return y
