"""G-CNNs for rotated MNIST, after Cohen & Welling (2016), Section 8.1.

One architecture, :class:`GCNN`, over any finite group ``G``; the paper's
networks are named instances:

* :data:`Z2CNN` — the baseline: ``G = C1`` (the trivial group, so the lifting
  and group convs are ordinary convs), 20 channels, dropout 0.3.
* :data:`P4CNN` — ``G = C4`` (p4), 10 channels per rotation, so each hidden
  layer has ``10 * 4 * 10 * 9 = 3600`` weights, as the Z2CNN's
  ``20 * 20 * 9``.
* :data:`P4MCNN` — ``G = D4`` (p4m), 7 channels per element
  (``7 * 8 * 7 * 9 = 3528`` weights per layer).

Layers (as tscohen/gconv_experiments ``MNIST_ROT/models``): six 3x3 convs
(lifting, then five group convs), each conv -> batch norm -> ReLU (batch
statistics shared over the group axis); 2x2 max pooling after layer 2; a 4x4
group conv to ``num_classes`` channels as the read-out; then max over the
group axis and max over space. The 3x3 convs use ``padding`` ('valid' as in
the paper: 28 -> 26 -> 24 -> 12 -> 10 -> 8 -> 6 -> 4 -> 1); the read-out is
always 'valid' (a padded 4x4 filter is off-centre and would break
equivariance).

Exactness: with ``G`` = C4 or D4 the logits are *exactly* invariant to every
element of ``G`` acting on the input (eval mode: running statistics, no
dropout) when each sampling grid is symmetric about the centre. The 3x3
convs and the 'valid' read-out always are; the ``w x w`` stride-2 max pool is
when ``(S - w)`` is even, ``S`` the side of the map it pools. With the paper's
``pool_window=2`` that means an even map: 28 x 28 inputs are exact (the pool
sees 24 x 24), odd inputs are not (e.g. 29 -> 25: the last row and column are
dropped, and a rotation moves them to the first); ``pool_window=3`` makes odd
inputs exact instead.
"""

from __future__ import annotations

import functools

import flax.linen as nn
import jax

import groups
from groups import validate
from layers import conv as conv_lib
from layers import group_conv
from layers import pooling
from models import registry


class GCNN(nn.Module):
  """The rotated-MNIST G-CNN: ``[B, H, W, C] -> [B, num_classes]`` logits.

  Attributes:
    group: the :class:`groups.FiniteGroup` (C1 gives an ordinary CNN).
    channels: channels per group element in the six hidden layers.
    num_classes: outputs of the read-out.
    padding: padding of the 3x3 convs, as :func:`layers.conv2d`; with the
      default pool, 'valid' needs inputs of at least 28 x 28, padded modes at
      least 8 x 8.
    pool_window: window of the stride-2 max pool after layer 2 (2 in the
      paper; see the module docstring for which sizes stay exact).
    dropout_rate: dropout after layers 1, 3, 4, 5 and 6 in training (0.3 in
      the paper's Z2CNN, none in its P4CNN).
    bn_momentum: decay of the batch-norm running averages (0.9, as the
      Chainer default the paper's code used).
    bn_epsilon: batch-norm epsilon (Chainer's 2e-5).
  """
  group: groups.FiniteGroup
  channels: int
  num_classes: int = 10
  padding: str = 'valid'
  pool_window: int = 2
  dropout_rate: float = 0.0
  bn_momentum: float = 0.9
  bn_epsilon: float = 2e-5

  @nn.compact
  def __call__(self, x: jax.Array, *, train: bool = False) -> jax.Array:
    """Maps ``[B, H, W, C]`` images to ``[B, num_classes]`` logits.

    Args:
      x: ``[B, H, W, C]`` floating images.
      train: use batch statistics (and update the running ones in the
        'batch_stats' collection) and dropout (needs a 'dropout' rng).

    Returns:
      ``[B, num_classes]`` logits.
    """
    conv_lib.check_nhwc(x)
    groups.finite.check_group(self.group)
    validate.integer(self.channels, 'channels', minimum=1)
    validate.integer(self.num_classes, 'num_classes', minimum=1)
    validate.check_choice(self.padding, 'padding', conv_lib.CONV_PADDINGS)
    pool_window = validate.integer(self.pool_window, 'pool_window',
                                    minimum=1)
    if not (isinstance(self.dropout_rate, (int, float)) and
            not isinstance(self.dropout_rate, bool) and
            0 <= self.dropout_rate < 1):
      raise ValueError(
          f'dropout_rate must be in [0, 1); got {self.dropout_rate!r}.')
    validate.number(self.bn_momentum, 'bn_momentum', minimum=0, maximum=1)
    validate.number(self.bn_epsilon, 'bn_epsilon', minimum=0,
                     exclusive_minimum=True)
    # Six 3x3 convs (two before the stride-2 pool, four after) and the 4x4
    # 'valid' read-out: padded convs keep the side, 'valid' ones take 2.
    shrink = 2 if self.padding == 'valid' else 0
    min_side = pool_window + 2 * shrink + 2 * (4 * shrink + 4 - 1)
    if min(x.shape[1:3]) < min_side:
      raise ValueError(
          f'x must have H, W >= {min_side} for GCNN: padding='
          f'{self.padding!r} needs {min_side} pixels with pool_window='
          f'{pool_window} (six 3x3 convs, a stride-2 pool, a 4x4 valid '
          f'read-out); got H, W = {x.shape[1]}, {x.shape[2]}.')
    conv = dict(group=self.group, features=self.channels, kernel_size=3,
                padding=self.padding)
    y = x
    for layer in range(1, 7):
      if layer == 1:
        y = group_conv.LiftingConv(**conv, name='lift1')(y)
      else:
        y = group_conv.GroupConv(**conv, name=f'gconv{layer}')(y)
      y = group_conv.GroupBatchNorm(
          use_running_average=not train, momentum=self.bn_momentum,
          epsilon=self.bn_epsilon, name=f'bn{layer}')(y)
      y = nn.relu(y)  # [B, H', W', G, channels]
      if layer == 2:
        y = group_conv.spatial_pool(y, pool=functools.partial(
            pooling.max_pool, window=self.pool_window, stride=2))
      elif self.dropout_rate:
        y = nn.Dropout(self.dropout_rate, deterministic=not train)(y)
    y = group_conv.GroupConv(group=self.group, features=self.num_classes,
                             kernel_size=4, padding='valid', name='readout')(y)
    y = group_conv.group_pool(y, reduction='max')  # [B, H', W', classes]
    return pooling.global_max_pool(y)  # [B, classes]


Z2CNN = functools.partial(GCNN, group=groups.Cyclic(1), channels=20,
                          dropout_rate=0.3)
P4CNN = functools.partial(GCNN, group=groups.Cyclic(4), channels=10)
P4MCNN = functools.partial(GCNN, group=groups.Dihedral(4), channels=7)

# Registered names; options are the :class:`GCNN` fields, e.g.
# ``build_model('p4cnn', channels=2, dropout_rate=0.0)``.
registry.register_model('z2cnn', Z2CNN)
registry.register_model('p4cnn', P4CNN)
registry.register_model('p4mcnn', P4MCNN)
