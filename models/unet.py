"""A small U-Net whose down/upsampling pairs are shift-equivariant by design.

``models.build_model('unet', downsampling=...)`` maps ``[B, H, W, C]`` to a
dense prediction ``[B, H, W, out_channels]``. Each level is two 3x3 circular
convs with ReLU; between levels the grid is halved and, in the decoder,
doubled again by a *pair* of operations chosen by ``downsampling``:

===========  =================================  ==============================
downsampling  down (stride 2)                    up (x2)
===========  =================================  ==============================
'strided'    keep phase 0, ``y[:, ::2, ::2]``   zero insertion at phase 0
             (a strided conv)                   (a transposed conv)
'blur'       :func:`layers.blur_pool`           :func:`layers.blur_upsample`
             (binomial ``filter_size``)         (zero insertion + blur)
'aps'        :func:`layers.aps_indices` /       :func:`layers.polyphase_upsample`
             :func:`layers.take_polyphase`      at the indices APS chose
'lps'        :class:`layers.LPD` (learned)      :func:`layers.lps_upsample`
                                                with LPD's weights
===========  =================================  ==============================

With 'aps' and 'lps' (eval mode for 'lps') the output is *exactly*
equivariant to every circular shift of the input: the down-sampler keeps
the same content whatever the shift, and the up-sampler puts it back where
it came from (Chaman & Dokmanic 2021; Rojas-Gomez et al. 2022). This holds
when norms or logits tie too (ties are broken by the components' content,
:func:`layers.pooling.shift_consistent_argmax`), with one exception: at a
level where the tied components are exact circular shifts of one another
(e.g. a constant or periodic feature map), the first is kept, and the
output can be off by that shift. 'blur' is
approximately equivariant, 'strided' is not (errors measured in
docs/shift_invariance.md and registered in tests/cases/polyphase.py).

Submodules: ``enc{i}_conv{j}``, ``dec{i}_up_conv``, ``dec{i}_conv{j}``,
``lpd{i}`` (only with 'lps'), ``out_conv``. ``H`` and ``W`` must be
multiples of ``2**(len(widths) - 1)``.
"""

from __future__ import annotations


import flax.linen as nn
import jax
import jax.numpy as jnp

from groups import validate
from layers import conv as conv_lib
from layers import polyphase
from layers import pooling
from models import registry

DOWNSAMPLINGS = ('strided', 'blur', 'aps', 'lps')


@registry.register_model('unet')
class UNet(nn.Module):
  """U-Net with a choice of shift-(non)equivariant down/upsampling pairs.

  Attributes:
    out_channels: channels of the output map.
    widths: channels per level; ``len(widths) - 1`` halvings.
    downsampling: 'strided' | 'blur' | 'aps' | 'lps' (module docstring).
    filter_size: binomial taps of the blur in 'blur' (down and up) and of
      the blur before the polyphase choice in 'aps' / 'lps' (1..7; 1 = none).
    lps_hidden: hidden channels of each LPD's logit network.
    temperature: LPD's Gumbel-softmax temperature (training).
    train_mode: LPD's training mode, 'hard' (straight-through) or 'soft'.
  """
  out_channels: int = 1
  widths: tuple[int, ...] = (16, 32, 64)
  downsampling: str = 'aps'
  filter_size: int = 3
  lps_hidden: tuple[int, ...] = (8,)
  temperature: float = 1.0
  train_mode: str = 'hard'

  def _conv(self, features: int, name: str, kernel_size: int = 3):
    return conv_lib.Conv(features, kernel_size=kernel_size,
                         padding='circular', name=name)

  @nn.compact
  def __call__(self, x: jax.Array, *, train: bool = False) -> jax.Array:
    """Maps ``x`` ``[B, H, W, C]`` to ``[B, H, W, out_channels]``."""
    validate.integer(self.out_channels, 'out_channels', minimum=1)
    widths = validate.widths(self.widths, 'widths',
                             meaning='channels per level')
    validate.check_choice(self.downsampling, 'downsampling', DOWNSAMPLINGS)
    pooling.binomial_filter(self.filter_size)  # validates filter_size
    conv_lib.check_nhwc(x)
    multiple = 2**(len(widths) - 1)
    if x.shape[1] % multiple or x.shape[2] % multiple:
      raise ValueError(
          f'x must have H and W divisible by {multiple} for a U-Net with '
          f'{len(widths)} levels (each halving needs an even grid); got H, W '
          f'= {x.shape[1]}, {x.shape[2]}. Pad or crop the input, or use '
          'fewer widths.')
    skips, ups = [], []
    for i, width in enumerate(widths):
      for j in range(2):
        x = nn.relu(self._conv(width, f'enc{i}_conv{j}')(x))
      if i == len(widths) - 1:
        break
      skips.append(x)
      x, up = self._down(x, i, train)
      ups.append(up)
    for i in reversed(range(len(widths) - 1)):
      x = ups[i](x)
      x = nn.relu(self._conv(widths[i], f'dec{i}_up_conv')(x))
      x = jnp.concatenate([x, skips[i]], axis=-1)
      for j in range(2):
        x = nn.relu(self._conv(widths[i], f'dec{i}_conv{j}')(x))
    return self._conv(self.out_channels, 'out_conv', kernel_size=1)(x)

  def _down(self, x: jax.Array, level: int, train: bool):
    """``(downsampled x, up)``; ``up`` maps the level below to ``x``'s grid."""
    if self.downsampling == 'strided':
      phase0 = jnp.zeros(x.shape[:1], jnp.int32)
      return x[:, ::2, ::2], lambda y: polyphase.polyphase_upsample(y, phase0)
    if self.downsampling == 'blur':
      down = pooling.blur_pool(x, stride=2, filter_size=self.filter_size,
                               padding='circular', method='slices')
      return down, lambda y: polyphase.blur_upsample(
          y, filter_size=self.filter_size, padding='circular')
    if self.downsampling == 'aps':
      indices = pooling.aps_indices(x, filter_size=self.filter_size)
      down = pooling.take_polyphase(x, indices, filter_size=self.filter_size)
      return down, lambda y: polyphase.polyphase_upsample(y, indices)
    down, weights = polyphase.LPD(
        filter_size=self.filter_size, hidden=tuple(self.lps_hidden),
        temperature=self.temperature, train_mode=self.train_mode,
        name=f'lpd{level}')(x, train=train)
    return down, lambda y: polyphase.lps_upsample(y, weights)
