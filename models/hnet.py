"""Harmonic Networks for rotated MNIST, after Worrall et al. (2017), Sec. 5.1.

One architecture, :class:`HNet`; the registered models are named instances:

* ``'hnet'`` (:data:`HNET`, the class defaults) — the paper's MNIST-rot
  model as in the authors' ``MNIST-rot/mnist_model.py``: seven 5x5 harmonic
  convs with rotation orders 0 and 1 and 4 rings, widths 8, 8, 16, 16, 32,
  32 (``n_filters=8``, ``filter_gain=2``), 'SAME' ('zeros') padding. Odd
  layers are followed by a magnitude ReLU with a bias (:class:`HNonlin`),
  even ones by magnitude batch norm + ReLU (:class:`HBatchNorm`); 2x2 mean
  pooling (stride 2) after layers 2 and 4. The read-out conv (no phase)
  maps to 10 channels, whose magnitudes are summed over orders, averaged over
  space, plus a bias: ``[B, 10]`` logits. 22,826 parameters (the paper
  reports 33k for its code, which also allocates unused ring weights for
  negative orders).
* ``'hnet_deep'`` (:data:`HNET_DEEP`) — deeper and strided: nine harmonic
  convs, widths 8, 8, 8, 16, 16, 16, 32, 32, 32, and stride-2 convs (layers 4
  and 7) instead of mean pooling; same read-out.

Layout: inputs ``[B, H, W, C]`` float; hidden features are harmonic maps
``[B, H', W', 2, width]`` complex64 (orders 0 and 1, see
:mod:`groups.harmonic`); logits ``[B, num_classes]``.

Exactness: in eval mode (running statistics) the logits are *exactly*
invariant (up to float rounding) to :class:`groups.Rot90` of square inputs
whose sampling grids stay centred at every downsampling: a 2x2 stride-2 mean
pool needs an even side, a 3x3 one ('valid') an odd side, a stride-2 conv an
odd side. So ``'hnet'`` is exact on 28 x 28 (it pools 28 and 14) but not on
odd sizes; ``HNet(pool_window=3)`` is exact on 23, 31, 39, ... (sides 8 n + 7:
it pools 31 and 15); ``'hnet_deep'`` on 29, 33, ... (sides 4 n + 1: its
strided convs see 29 and 15). Other angles are approximate
(tests/hnet_test.py states the measured error for 45 degrees).
"""

from __future__ import annotations

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp

import groups
from groups import harmonic as harmonic_groups
from groups import validate
from layers import conv as conv_lib
from layers import harmonic
from layers import pooling
from models import registry

DOWNSAMPLINGS = ('mean_pool', 'stride')


@registry.register_model('hnet')
class HNet(nn.Module):
  """Harmonic network: ``[B, H, W, C]`` images -> ``[B, num_classes]`` logits.

  Layer ``i`` (1-based) is an :class:`layers.harmonic.HConv` of ``widths[i-1]``
  channels per order, followed by :class:`~layers.harmonic.HNonlin` (odd
  ``i``) or :class:`~layers.harmonic.HBatchNorm` (even ``i``). After each
  layer in ``downsample_after`` the grid is halved: by a ``pool_window``
  mean pool of stride 2 (``downsample='mean_pool'``) or by giving the next
  conv stride 2 (``downsample='stride'``). Submodules: ``hconv{i}``,
  ``nonlin{i}`` / ``bn{i}``, ``readout``; parameter ``bias``.
  :meth:`layer_actions` gives the action a rotation induces on each.

  Attributes:
    widths: channels per order of the hidden harmonic convs.
    num_classes: outputs.
    filter_size: odd filter size (5 in the paper).
    max_order: highest rotation order of the hidden streams (1).
    n_rings: rings of each radial profile (4 in the paper's MNIST run).
    downsample: 'mean_pool' or 'stride'.
    downsample_after: 1-based layers followed by a 2x downsampling.
    pool_window: window of the stride-2 mean pool (2 in the paper; see the
      module docstring for which input sizes stay exact).
    padding: padding of every conv ('zeros' = the paper's 'SAME', or
      'circular').
    bn_momentum: decay of the batch-norm running averages (0.99, the
      authors' value).
    bn_epsilon: batch-norm epsilon (1e-3, the authors' value).
  """
  widths: tuple[int, ...] = (8, 8, 16, 16, 32, 32)
  num_classes: int = 10
  filter_size: int = 5
  max_order: int = 1
  n_rings: int | None = 4
  downsample: str = 'mean_pool'
  downsample_after: tuple[int, ...] = (2, 4)
  pool_window: int = 2
  padding: str = 'zeros'
  bn_momentum: float = 0.99
  bn_epsilon: float = 1e-3

  def _check(self) -> tuple[int, ...]:
    widths = validate.widths(self.widths, 'widths',
                             meaning='channels per order of each layer')
    validate.integer(self.num_classes, 'num_classes', minimum=1)
    validate.check_choice(self.downsample, 'downsample', DOWNSAMPLINGS)
    validate.integer(self.pool_window, 'pool_window', minimum=1)
    validate.check_choice(self.padding, 'padding', conv_lib.CONV_PADDINGS)
    validate.number(self.bn_momentum, 'bn_momentum', minimum=0, maximum=1)
    validate.number(self.bn_epsilon, 'bn_epsilon', minimum=0,
                     exclusive_minimum=True)
    if (isinstance(self.downsample_after, str) or
        not hasattr(self.downsample_after, '__iter__') or
        any(not isinstance(i, int) or isinstance(i, bool) or
            not 1 <= i <= len(widths) for i in self.downsample_after)):
      raise ValueError(
          f'downsample_after must be a tuple of layer numbers in 1..'
          f'{len(widths)} (len(widths)); got {self.downsample_after!r}.')
    return widths

  @nn.compact
  def __call__(self, x: jax.Array, *, train: bool = False) -> jax.Array:
    """Maps ``x`` ``[B, H, W, C]`` to logits ``[B, num_classes]``.

    Args:
      x: ``[B, H, W, C]`` floating images.
      train: normalise with batch statistics and update the running ones
        (needs ``mutable=['batch_stats']``); False uses running statistics.

    Returns:
      ``[B, num_classes]`` float32 logits.
    """
    conv_lib.check_nhwc(x)
    widths = self._check()
    conv = dict(filter_size=self.filter_size, max_order=self.max_order,
                n_rings=self.n_rings, padding=self.padding)
    z = x
    for i, width in enumerate(widths, start=1):
      strided = self.downsample == 'stride' and i - 1 in self.downsample_after
      z = harmonic.HConv(width, stride=2 if strided else 1, **conv,
                         name=f'hconv{i}')(z)  # [B, H', W', M, width]
      if i % 2:
        z = harmonic.HNonlin(name=f'nonlin{i}')(z)
      else:
        z = harmonic.HBatchNorm(use_running_average=not train,
                                momentum=self.bn_momentum,
                                epsilon=self.bn_epsilon, name=f'bn{i}')(z)
      if self.downsample == 'mean_pool' and i in self.downsample_after:
        try:
          z = harmonic.harmonic_mean_pool(z, window=self.pool_window,
                                          stride=2)
        except ValueError as error:
          raise ValueError(
              f'x must be larger for HNet: the mean pool after layer {i} '
              f'sees a {z.shape[1]}x{z.shape[2]} map from an input of H, W '
              f'= {x.shape[1]}, {x.shape[2]}, and {error}') from error
    z = harmonic.HConv(self.num_classes, use_phase=False, **conv,
                       name='readout')(z)  # [B, H', W', M, classes]
    features = harmonic.invariant_readout(z, reduction='sum')  # [B,H,W,cls]
    bias = self.param('bias', nn.initializers.zeros_init(),
                      (self.num_classes,), jnp.float32)
    return pooling.global_avg_pool(features) + bias

  def _layer_names(self) -> list[str]:
    """The submodules whose outputs ``capture_intermediates`` records in eval
    mode, in forward order."""
    names = []
    for i in range(1, len(self._check()) + 1):
      names += [f'hconv{i}', f'nonlin{i}' if i % 2 else f'bn{i}']
    return names + ['readout']

  def layer_actions(self, degrees: float
                    ) -> dict[str, groups.Transform | None]:
    """The action a rotation of the input by ``degrees`` induces per layer.

    Every captured layer outputs a harmonic map ``[B, H, W, M, C]`` with
    orders ``0 .. max_order``, on which the rotation acts by
    :class:`groups.harmonic.BilinearHarmonicRotation`: rotate every stream
    (bilinear; exact at multiples of 90 degrees) and multiply order ``m`` by
    ``e^{i m theta}``. The logits (not listed) are invariant.

    Args:
      degrees: the counter-clockwise rotation of the input, in degrees.

    Returns:
      ``{submodule name: action}`` in forward order: ``hconv{i}``,
      ``nonlin{i}`` (odd ``i``) or ``bn{i}`` (even ``i``), ``readout``.

    Raises:
      ValueError: for a non-finite ``degrees`` or a bad model field.
    """
    degrees = validate.number(degrees, 'degrees')
    max_order = validate.integer(self.max_order, 'max_order', minimum=0)
    action = harmonic_groups.BilinearHarmonicRotation(
        degrees, tuple(range(max_order + 1)))
    return dict.fromkeys(self._layer_names(), action)


HNET = HNet
HNET_DEEP = functools.partial(
    HNet, widths=(8, 8, 8, 16, 16, 16, 32, 32, 32), downsample='stride',
    downsample_after=(3, 6))

registry.register_model('hnet_deep', HNET_DEEP)
