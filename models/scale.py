"""Scale-equivariant CNNs for MNIST-scale (SESN, DISCO) and their CNN peer.

One architecture, :class:`ScaleCNN`, after the authors' MNIST models
(github.com/ISosnovik/sesn ``models/mnist_ses.py`` ``MNIST_SES_V``,
``models/mnist_cnn.py``; github.com/ISosnovik/disco
``models/mnist_disco_models.py``): three conv blocks of 32, 63, 95 channels
(conv, ReLU, 2x2 pool, batch norm; the last block: conv, projection over
scales, ReLU, pool to 2 x 2, batch norm), then ``Linear(4 * 95, 256)`` (no
bias), batch norm, ReLU, dropout 0.7, ``Linear(256, 10)``. The scale blocks
are typed modules (:mod:`layers.scale.modules`) chained by
:class:`layers.steerable.EquivariantSequential`, so a wrong type fails when
the model is built. Registered sizes:

* ``'sesn_mnist'`` -- SESN's ``mnist_ses_vector_28``: Hermite basis 'B'
  (``mult=1.5``, ``max_order=4``, 49 functions: ``effective_size=7``),
  3 scales ``1.5 * sqrt(3)^i`` = (1.5, 2.6, 4.5), 13 x 13 kernels, max
  pooling; 28 x 28 input.
* ``'disco_mnist'`` -- DISCO's ``mnist_disco``: the input doubled to
  56 x 56 (nearest), a solved basis (:func:`layers.scale.disco_basis`,
  ``min_scale=1.9``, ``mult=1.5``), 4 scales ``2^(i/3)`` = (1, 1.26,
  1.59, 2), 15 x 15 kernels, average pooling, the head pool
  ``MaxPool(7, stride 1)`` then ``AvgPool(2, stride 4)``.
* ``'cnn_mnist_scale'`` -- SESN's ``mnist_cnn_28``: the same network with
  plain 7 x 7 convs (``basis=None``).

All three have 494,549 parameters (a basis of 49 functions has as many
weights per channel pair as a 7 x 7 kernel), as the papers' models do.

Layout: ``[B, H, W, C]`` images -> ``[B, num_classes]`` logits; scale maps
``[B, H, W, S, C]`` inside.
"""

from __future__ import annotations

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp

import groups
from groups import scale as scale_lib
from groups import validate
from layers import batch_statistics
from layers import conv as conv_lib
from layers import initializers
from layers import scale
from layers import steerable
from models import registry

HEADS = ('sesn', 'disco')


class ScaleCNN(nn.Module):
  """SESN / DISCO MNIST network (module docstring).

  Submodules, in forward order: ``lift``, ``relu1``, ``pool1``, ``bn1``,
  ``conv2``, ``relu2``, ``pool2``, ``bn2``, ``conv3``, ``project``,
  ``relu3``, ``pool3``, ``bn3`` (the typed scale trunk; with ``basis=None``
  the same names hold plain convs and layers), then ``dense``,
  ``head_bn``, ``dropout``, ``logits``.

  Attributes:
    basis: 'hermite', 'disco', or None for plain convs (a CNN).
    scales: the scales (geometric); ignored with ``basis=None``.
    kernel_size: odd kernel side (7 for the plain CNN).
    effective_size, max_order, mult, min_scale: basis options
      (:mod:`layers.scale.basis`).
    widths: channels of the three blocks.
    hidden: units of the hidden dense layer.
    dropout_rate: before the last layer, in [0, 1).
    pool: 'max' or 'avg' for the blocks' 2 x 2 pools.
    head: 'sesn' (``MaxPool(4, padding 'same')``: 7 -> 2) or 'disco'
      (``MaxPool(7, stride 1)``, ``AvgPool(2, stride 4)``: 14 -> 2).
    upsample: integer input magnification (nearest), 1 or 2.
    projection: 'max' or 'mean' over scales.
    num_classes: outputs.
    bn_momentum: decay of the batch-norm running averages (torch's 0.1).
  """
  basis: str | None = 'hermite'
  scales: tuple[float, ...] = (1.5, 2.6, 4.5)
  kernel_size: int = 13
  effective_size: int = 7
  max_order: int = 4
  mult: float = 1.5
  min_scale: float = 1.9
  widths: tuple[int, int, int] = (32, 63, 95)
  hidden: int = 256
  dropout_rate: float = 0.7
  pool: str = 'max'
  head: str = 'sesn'
  upsample: int = 1
  projection: str = 'max'
  num_classes: int = 10
  bn_momentum: float = 0.9

  def _check_options(self) -> None:
    if self.basis is not None:
      validate.check_choice(self.basis, 'basis', scale.BASES)
    validate.check_choice(self.pool, 'pool', scale.conv.POOLS)
    validate.check_choice(self.head, 'head', HEADS)
    validate.integer(self.upsample, 'upsample', minimum=1, maximum=2)
    if len(tuple(self.widths)) != 3:
      raise ValueError(f'widths must be three channel counts; got '
                       f'{self.widths!r}.')
    for width in self.widths:
      validate.integer(width, 'widths', minimum=1)
    validate.integer(self.hidden, 'hidden', minimum=1)
    validate.number(self.dropout_rate, 'dropout_rate', minimum=0.0,
                    maximum=1.0)
    if self.dropout_rate >= 1:
      raise ValueError(f'dropout_rate must be in [0, 1); got '
                       f'{self.dropout_rate}.')

  @nn.nowrap
  def ratio(self) -> float:
    """The scales' ratio: the rescale ``ratio**k`` the layer actions use
    (the plain CNN keeps the default scales only for this, so that its
    layers are measured under the same rescale as the SESN's)."""
    return scale_lib.geometric_ratio(self.scales, 'scales')

  @nn.nowrap
  def equivariant_layers(self, in_channels: int, *, train: bool = False
                         ) -> list[nn.Module]:
    """The typed trunk, in order (built unbound it describes the layers:
    :meth:`layer_actions`). The chain is checked."""
    self._check_options()
    t = scale_lib.ScaleType(in_channels, self.ratio())
    layers = []
    conv_options = dict(kernel_size=self.kernel_size,
                        scales=tuple(self.scales), basis=self.basis,
                        effective_size=self.effective_size,
                        max_order=self.max_order, mult=self.mult,
                        min_scale=self.min_scale)
    for index, width in enumerate(self.widths, start=1):
      if self.basis is None:
        conv = _PlainConv(t, width, self.kernel_size,
                          name='lift' if index == 1 else f'conv{index}')
      elif index == 1:
        conv = scale.ScaleLiftingConv(t, width, name='lift', **conv_options)
      else:
        conv = scale.ScaleConv(t, width, name=f'conv{index}', **conv_options)
      layers.append(conv)
      t = conv.out_type
      if index == 3:
        if t.num_scales:
          layers.append(scale.ScaleProjection(t, self.projection,
                                              name='project'))
          t = layers[-1].out_type
      layers.append(scale.ScaleNonlinearity(t, 'relu', name=f'relu{index}'))
      if index < 3:
        layers.append(scale.ScalePool(t, self.pool, 2, name=f'pool{index}'))
      elif self.head == 'sesn':
        layers.append(scale.ScalePool(t, 'max', 4, padding='same',
                                      name='pool3'))
      else:
        layers += [scale.ScalePool(t, 'max', 7, stride=1, name='pool3'),
                   scale.ScalePool(t, 'avg', 2, stride=4, name='pool3b')]
      layers.append(scale.ScaleBatchNorm(
          t, use_running_average=not train, momentum=self.bn_momentum,
          name=f'bn{index}'))
    steerable.check_chain(layers)
    return layers

  @nn.nowrap
  def layer_actions(self, k: int) -> dict[str, groups.Transform | None]:
    """``{submodule: action}`` of a rescale of the input by ``ratio**k``
    on each trunk output (its ``out_type`` action; None on the 2 x 2 maps
    after the last pool), the head invariant (the identity)."""
    actions = {layer.name: layer.output_action(k)
               for layer in self.equivariant_layers(1)}
    # After the last pool the maps are 2 x 2: a rescale of the image has no
    # meaningful action on them (the head is measured as invariance).
    for name in ('pool3', 'pool3b', 'bn3'):
      if name in actions:
        actions[name] = None
    actions.update(dict.fromkeys(('dense', 'head_bn', 'dropout', 'logits'),
                                 groups.Identity()))
    return actions

  @nn.compact
  def __call__(self, x: jax.Array, *, train: bool = False) -> jax.Array:
    """Maps ``x`` ``[B, H, W, C]`` (28 x 28 for the registered sizes) to
    logits ``[B, num_classes]``; ``train`` uses batch statistics and
    dropout."""
    conv_lib.check_nhwc(x)
    if self.upsample > 1:
      x = jnp.repeat(jnp.repeat(x, self.upsample, axis=1), self.upsample,
                     axis=2)
    y = x
    for layer in self.equivariant_layers(x.shape[-1], train=train):
      y = layer(y)
    y = y.reshape(y.shape[0], -1)
    y = initializers.dense(self.hidden, use_bias=False, name='dense')(y)
    y = batch_statistics.BatchNorm(use_running_average=not train,
                                   momentum=self.bn_momentum, epsilon=1e-5,
                                   name='head_bn')(y)
    y = nn.relu(y)
    y = nn.Dropout(self.dropout_rate, deterministic=not train,
                   name='dropout')(y)
    return initializers.dense(self.num_classes, name='logits')(y)


class _PlainConv(scale.ScaleModule, nn.Module):
  """An ordinary conv on plain maps, typed so the CNN peer shares the
  trunk (not equivariant to rescales: its ``out_type`` only says the
  layout)."""
  in_type: scale_lib.ScaleType
  out_channels: int
  kernel_size: int

  @property
  def out_type(self) -> scale_lib.ScaleType:
    return scale_lib.ScaleType(self.out_channels, self.in_type.ratio)

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    self.in_type.check_features(x, 'x')
    fan_in = self.in_type.channels * self.kernel_size**2
    kernel = self.param('kernel', scale.conv.fan_in_init(fan_in),
                        (self.kernel_size, self.kernel_size,
                         self.in_type.channels, self.out_channels))
    bias = self.param('bias', nn.initializers.zeros, (self.out_channels,))
    return conv_lib.conv2d(x, kernel, padding='zeros') + bias


SESN_MNIST = functools.partial(ScaleCNN, basis='hermite',
                               scales=(1.5, 2.6, 4.5), kernel_size=13,
                               mult=1.5)
DISCO_MNIST = functools.partial(ScaleCNN, basis='disco',
                                scales=(1.0, 1.26, 1.59, 2.0), kernel_size=15,
                                mult=1.5, min_scale=1.9, pool='avg',
                                head='disco', upsample=2)
CNN_MNIST_SCALE = functools.partial(ScaleCNN, basis=None, kernel_size=7)

registry.register_model('scale_cnn', ScaleCNN)
registry.register_model('sesn_mnist', SESN_MNIST)
registry.register_model('disco_mnist', DISCO_MNIST)
registry.register_model('cnn_mnist_scale', CNN_MNIST_SCALE)
