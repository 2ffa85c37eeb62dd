"""G-CNNs for rotated MNIST, after Cohen & Welling (2016), Section 8.1.

One architecture, :class:`GCNN`, over any finite group ``G`` -- a group
object or any registered name ('C8', 'D2', 'p4', 'p4m', ...; see
:func:`groups.group_by_name`), so ``build_model('p4cnn', group='D4')`` or a
config's ``group='C8'`` changes the group without a code edit. The paper's
networks are named instances (thin aliases of :class:`GCNN`):

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
equivariance). Submodules, in forward order: ``lift1``, ``bn1``,
``dropout1``, ``gconv2``, ``bn2``, ``gconv3``, ... ``bn6``, ``dropout6``,
``readout`` (the ``dropout{layer}`` only with ``dropout_rate > 0``);
:meth:`GCNN.layer_actions` gives the action a rotation induces on each.

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

_HIDDEN_LAYERS = 6   # 3x3 convs: the lifting conv, then five group convs
_POOL_AFTER = 2      # the stride-2 max pool follows this layer (no dropout)


class GCNN(nn.Module):
  """The rotated-MNIST G-CNN: ``[B, H, W, C] -> [B, num_classes]`` logits.

  Attributes:
    group: the :class:`groups.FiniteGroup` (C1 gives an ordinary CNN), or
      its name, resolved by :func:`groups.group_by_name` when the model is
      called ('C4', 'D4', 'p4', 'p4m', 'C8', 'D2', ...).
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
  group: groups.FiniteGroup | str
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
    group = self._group()
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
    conv = dict(group=group, features=self.channels, kernel_size=3,
                padding=self.padding)
    y = x
    for layer in range(1, _HIDDEN_LAYERS + 1):
      if layer == 1:
        y = group_conv.LiftingConv(**conv, name='lift1')(y)
      else:
        y = group_conv.GroupConv(**conv, name=f'gconv{layer}')(y)
      y = group_conv.GroupBatchNorm(
          use_running_average=not train, momentum=self.bn_momentum,
          epsilon=self.bn_epsilon, name=f'bn{layer}')(y)
      y = nn.relu(y)  # [B, H', W', G, channels]
      if layer == _POOL_AFTER:
        y = group_conv.spatial_pool(y, pool=functools.partial(
            pooling.max_pool, window=self.pool_window, stride=2))
      elif self.dropout_rate:
        # Named after its layer (it has no params): flax's automatic
        # 'Dropout_{n}' counted the dropouts instead.
        y = nn.Dropout(self.dropout_rate, deterministic=not train,
                       name=f'dropout{layer}')(y)
    y = group_conv.GroupConv(group=group, features=self.num_classes,
                             kernel_size=4, padding='valid', name='readout')(y)
    y = group_conv.group_pool(y, reduction='max')  # [B, H', W', classes]
    return pooling.global_max_pool(y)  # [B, classes]

  def _group(self) -> groups.FiniteGroup:
    """``group``, resolved from its name if it is one, and checked."""
    group = self.group
    if isinstance(group, str):
      group = groups.group_by_name(group)
    groups.finite.check_group(group)
    return group

  def _layer_names(self) -> list[str]:
    """The submodules whose outputs ``capture_intermediates`` records in eval
    mode, in forward order (dropout, the identity there, included)."""
    names = []
    for layer in range(1, _HIDDEN_LAYERS + 1):
      names += ['lift1' if layer == 1 else f'gconv{layer}', f'bn{layer}']
      if layer != _POOL_AFTER and self.dropout_rate:
        names.append(f'dropout{layer}')
    return names + ['readout']

  def layer_actions(self, degrees: float
                    ) -> dict[str, groups.Transform | None]:
    """The action a rotation of the input by ``degrees`` induces per layer.

    Every captured layer (see the module docstring) outputs a group map
    ``[B, H, W, G, C]``, on which the rotation acts by
    ``group.regular_action(g)`` (rotate space, permute the group axis), ``g``
    = :func:`groups.rotation_element` of ``degrees``; the logits (not listed)
    are invariant.

    Args:
      degrees: the counter-clockwise rotation of the input, in degrees.

    Returns:
      ``{submodule name: action}`` in forward order; every action is None
      where ``group`` has no rotation by ``degrees`` (p4 at 45 degrees).

    Raises:
      ValueError: for a non-finite ``degrees`` or a bad ``group``.
    """
    degrees = validate.number(degrees, 'degrees')
    group = self._group()
    g = groups.rotation_element(group, degrees)
    action = None if g is None else group.regular_action(g)
    return dict.fromkeys(self._layer_names(), action)


Z2CNN = functools.partial(GCNN, group=groups.Cyclic(1), channels=20,
                          dropout_rate=0.3)
P4CNN = functools.partial(GCNN, group=groups.Cyclic(4), channels=10)
P4MCNN = functools.partial(GCNN, group=groups.Dihedral(4), channels=7)

# Registered names; options are the :class:`GCNN` fields, e.g.
# ``build_model('p4cnn', channels=2, dropout_rate=0.0)``.
registry.register_model('z2cnn', Z2CNN)
registry.register_model('p4cnn', P4CNN)
registry.register_model('p4mcnn', P4MCNN)
