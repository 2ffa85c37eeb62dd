"""A steerable U-Net: regular fields of C_N / D_N, polyphase down/upsampling.

``models.build_model('steerable_unet', group='C4', downsampling='aps')``
maps scalar images ``[B, H, W, C]`` to a dense scalar prediction ``[B, H, W,
out_channels]``. The layout is ``models/unet.py``'s: each level is two 3x3
steerable convs (:class:`layers.steerable.SteerableConv`) to ``widths[i]``
regular fields with a pointwise nonlinearity (ELU by default: a ReLU
network this narrow is sometimes dead everywhere, a constant map); between levels the grid is halved,
and in the decoder doubled again, by a pair of operations chosen by
``downsampling``; the decoder concatenates the skip's fields; a 1x1
steerable conv gives trivial (invariant) output fields.

============  ===================================  ============================
downsampling   down (stride 2) / convs               up (x2)
============  ===================================  ============================
'aps'         :func:`layers.aps_indices` /          :func:`layers.
              :func:`layers.take_polyphase`;        polyphase_upsample` at the
              circular convs, even grids            kept phase, then a conv
'centred'     phase 0 of an odd grid (the           :class:`layers.steerable.
              centred samples); zero-padded         SteerableConvTranspose`
              convs                                 (stride 2, padding 1)
'strided'     phase 0 of an even grid               zero insertion at phase 0,
              (a strided conv); circular convs      then a conv
============  ===================================  ============================

Exactness (registered in tests/cases/steerable_unet.py):

* 'aps': every circular shift by any integer ``(dy, dx)`` -- the sampler
  keeps the same content whatever the shift and the upsampler puts it back
  (the plain U-Net's argument) -- *and* every quarter turn, on even grids:
  a quarter turn of an even torus maps the polyphase components onto one
  another (component ``(0, 0)`` of the turned map is the turned component
  ``(1, 0)``, and so on), regular fields only permute their channels, so
  the norms APS compares are the same numbers up to summation order, the
  same content is kept, and the kept component turns as the coarse grid.
  (As for the plain U-Net: components that tie within APS's tolerance and
  are exact shifts of one another -- constant or periodic maps -- are the
  exception.)
* 'centred': quarter turns on odd grids with ``(H - 1) % 2**(L - 1) == 0``
  (``L = len(widths)``): every sampling grid is symmetric about the centre
  (the conv rule; the transposed conv's output ``2 h - 1`` is centred). Not
  shift-equivariant: zero padding and fixed phases.
* 'strided': neither (the negative control): a 1-pixel shift or a quarter
  turn of an even grid moves the content onto the phases it drops.

Submodules: ``enc{i}_conv{j}``, ``dec{i}_up_conv``, ``dec{i}_conv{j}``,
``out_conv`` (and the parameter-free ``enc{i}_relu{j}``, ``dec{i}_relu_up``,
``dec{i}_relu{j}``, whatever the activation).
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

import groups
from groups import validate
from layers import conv as conv_lib
from layers import polyphase
from layers import pooling
from layers import steerable
from models import registry

DOWNSAMPLINGS = ('aps', 'centred', 'strided')


@registry.register_model('steerable_unet')
class SteerableUNet(nn.Module):
  """U-Net of regular fields with equivariant down/upsampling pairs.

  Attributes:
    out_channels: trivial output fields (channels of the dense prediction).
    widths: regular fields per level; ``len(widths) - 1`` halvings.
    group: a finite rotation (-reflection) group or its name ('C4', 'C8',
      'D4', ...); the hidden fields are its regular representation.
    downsampling: 'aps' | 'centred' | 'strided' (module docstring).
    kernel_size: of the steerable convs (odd, >= 3).
    filter_size: binomial blur before APS's choice (1..7; 1 = none).
    activation: the pointwise nonlinearity (a ``jax.nn`` name: 'elu',
      'relu', ...), per channel of the regular fields.
  """
  out_channels: int = 1
  widths: tuple[int, ...] = (2, 4, 8)
  group: Any = 'C4'
  downsampling: str = 'aps'
  kernel_size: int = 3
  filter_size: int = 1
  activation: str = 'elu'

  def _check(self, x) -> tuple[Any, tuple[int, ...]]:
    """Checks the options and ``x``; ``(group, widths)``."""
    validate.integer(self.out_channels, 'out_channels', minimum=1)
    widths = validate.widths(self.widths, 'widths',
                             meaning='regular fields per level')
    validate.check_choice(self.downsampling, 'downsampling', DOWNSAMPLINGS)
    group = groups.group_by_name(self.group, 'group')
    if not group.is_finite:
      raise ValueError(
          f'group must be finite (C_N or D_N: the hidden fields are regular); '
          f'got {group}.')
    k = validate.integer(self.kernel_size, 'kernel_size', minimum=3)
    if k % 2 == 0:
      raise ValueError(f'kernel_size must be odd (a centred kernel); got {k}.')
    pooling.binomial_filter(self.filter_size)  # validates filter_size
    conv_lib.check_nhwc(x)
    multiple = 2**(len(widths) - 1)
    h, w = x.shape[1:3]
    if self.downsampling == 'centred':
      if (h - 1) % multiple or (w - 1) % multiple:
        raise ValueError(
            f"x must have H - 1 and W - 1 divisible by {multiple} with "
            f"downsampling='centred' and {len(widths)} levels (odd grids "
            f'whose every halving keeps the centre); got H, W = {h}, {w}.')
    elif h % multiple or w % multiple:
      raise ValueError(
          f'x must have H and W divisible by {multiple} with downsampling='
          f'{self.downsampling!r} and {len(widths)} levels (each halving '
          f'needs an even grid); got H, W = {h}, {w}.')
    return group, widths

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    """Maps ``x`` ``[B, H, W, C]`` (scalars) to ``[B, H, W, out_channels]``."""
    group, widths = self._check(x)
    padding = 'zeros' if self.downsampling == 'centred' else 'circular'
    k = self.kernel_size
    types = [groups.FieldType(group, w * [group.regular_representation])
             for w in widths]
    field_type = groups.FieldType(group, x.shape[-1] *
                                  [group.trivial_representation])

    def conv_relu(x, in_type, out_type, name, relu_name):
      x = steerable.SteerableConv(in_type, out_type, k, padding=padding,
                                  name=name)(x)
      return steerable.PointwiseNonlinearity(out_type, self.activation,
                                             name=relu_name)(x)

    skips, ups = [], []
    for i, hidden in enumerate(types):
      for j in range(2):
        x = conv_relu(x, field_type, hidden, f'enc{i}_conv{j}',
                      f'enc{i}_relu{j}')
        field_type = hidden
      if i == len(types) - 1:
        break
      skips.append(x)
      x, up = self._down(x)
      ups.append(up)
    for i in reversed(range(len(types) - 1)):
      hidden = types[i]
      if self.downsampling == 'centred':
        x = steerable.SteerableConvTranspose(
            field_type, hidden, k, stride=2, padding=(k - 1) // 2,
            name=f'dec{i}_up_conv')(x)   # [B, 2 h - 1, 2 w - 1, C]
        x = steerable.PointwiseNonlinearity(hidden, self.activation,
                                            name=f'dec{i}_relu_up')(x)
      else:
        x = conv_relu(ups[i](x), field_type, hidden, f'dec{i}_up_conv',
                      f'dec{i}_relu_up')
      x = jnp.concatenate([x, skips[i]], axis=-1)
      field_type = groups.FieldType(group, 2 * list(hidden.representations))
      for j in range(2):
        x = conv_relu(x, field_type, hidden, f'dec{i}_conv{j}',
                      f'dec{i}_relu{j}')
        field_type = hidden
    out_type = groups.FieldType(group, self.out_channels *
                                [group.trivial_representation])
    return steerable.SteerableConv(field_type, out_type, 1,
                                   name='out_conv')(x)

  def _down(self, x: jax.Array):
    """``(downsampled x, up)``; ``up`` maps the level below to ``x``'s grid
    (unused with 'centred', whose decoder upsamples with a transposed conv)."""
    if self.downsampling == 'aps':
      indices = pooling.aps_indices(x, filter_size=self.filter_size)
      down = pooling.take_polyphase(x, indices, filter_size=self.filter_size)
      return down, lambda y: polyphase.polyphase_upsample(y, indices)
    phase0 = jnp.zeros(x.shape[:1], jnp.int32)
    return x[:, ::2, ::2], lambda y: polyphase.polyphase_upsample(y, phase0)
