"""Plain CNNs, an MLP baseline and small ResNets with a choice of downsampling.

Which part of a CNN gives translation invariance? Each model here exposes the
choices as fields, so a study can vary one at a time:

* ``downsampling`` — how the grid is halved between stages:

  ===============  ==========================================================
  'none'           no downsampling (stride 1 everywhere).
  'strided_conv'   the stage's conv has stride 2 (the usual CNN / ResNet).
  'max', 'avg'     2x2 max / average pooling with stride 2.
  'max_blur'       :func:`layers.max_blur_pool` (Zhang 2019): max with
                   stride 1, binomial blur (``filter_size`` taps), subsample.
  'blur_conv'      Zhang's recipe for a strided conv: conv stride 1 -> ReLU ->
                   :func:`layers.blur_pool` (stride 2).
  'aps'            :func:`layers.aps_pool` (Chaman & Dokmanic 2021): blur
                   (``filter_size``), keep the polyphase component of largest
                   l2 norm.
  ===============  ==========================================================

* ``head`` — 'fc' (flatten, then a dense layer: position-dependent) or
  'global_avg' / 'global_max' (global pooling, then a dense layer).
* ``padding`` — 'circular' (the grid is a torus) or 'zeros' (the usual
  'SAME' conv). The blur of 'max_blur' / 'blur_conv' pads circularly with
  'circular' and by reflection (antialiased-cnns' default) with 'zeros'; the
  blur inside 'aps' is always circular (:func:`layers.aps_pool`).

Exact facts (``tests/cnn_test.py``), circular padding, float32, eval mode:
``downsampling='none'`` and ``'aps'`` with a global head give logits
*exactly* invariant to every circular shift of the input; 'max' (and the
other fixed-phase downsamplings) break under a 1-pixel shift, and so does the
'fc' head under any shift. APS needs ``H`` and ``W`` divisible by
``2**(stages - 1)`` (each polyphase split needs an even grid): 32 and 28 are
fine for the default three stages; other sizes raise a ValueError saying so
(pad or crop the input, e.g. ``load_dataset(..., canvas_size=32)``).

All models map ``x`` ``[B, H, W, C]`` (float) to logits ``[B, num_classes]``
with ``model.apply(variables, x, train=False)``. With ``norm='batch'``
(always in :class:`ResNet`) training needs ``mutable=['batch_stats']``;
``train=False`` uses the running statistics.
"""

from __future__ import annotations

import functools

import flax.linen as nn
import jax

from groups import validate
from layers import batch_statistics
from layers import conv as conv_lib
from layers import initializers
from layers import pooling
from models import registry

DOWNSAMPLINGS = ('none', 'strided_conv', 'max', 'avg', 'max_blur',
                 'blur_conv', 'aps')
HEADS = ('fc', 'global_avg', 'global_max')
PADDINGS = ('circular', 'zeros')
NORMS = ('none', 'batch')
APS_NORM = 'l2'  # l1 ties after a blur of a ReLU map (see layers.aps_pool)


# --------------------------------------------------------------------------
# Option checks and shared pieces.
# --------------------------------------------------------------------------


def _check_common(module, *, with_norm: bool = True) -> None:
  validate.integer(module.num_classes, 'num_classes', minimum=1)
  validate.widths(module.widths, 'widths', meaning='channels per layer')
  validate.check_choice(module.downsampling, 'downsampling', DOWNSAMPLINGS)
  validate.check_choice(module.head, 'head', HEADS)
  validate.check_choice(module.padding, 'padding', PADDINGS)
  pooling.binomial_filter(module.filter_size)  # validates filter_size 1..7
  if with_norm:
    validate.check_choice(module.norm, 'norm', NORMS)


def _check_aps_grid(x, downsampling: str, halvings: int, model: str) -> None:
  if downsampling != 'aps' or halvings == 0:
    return
  multiple = 2**halvings
  height, width = x.shape[1:3]
  if height % multiple or width % multiple:
    raise ValueError(
        f"{model} with downsampling='aps' halves the grid {halvings} times "
        f'(polyphase splits need even grids) and needs H and W divisible by '
        f'{multiple}; got H, W = {height}, {width}. Pad or crop the input '
        '(e.g. load_dataset(..., canvas_size=...)), use fewer stages, or '
        'another downsampling.')


def _check_bn_momentum(momentum) -> None:
  validate.number(momentum, 'bn_momentum', minimum=0, maximum=1)


def _input_too_small(error: ValueError, x_shape, model: str, stage: int,
                     map_shape, downsampling: str,
                     padding: str) -> ValueError:
  """A ValueError naming ``x``: a downsampling found the map too small."""
  return ValueError(
      f'x must be larger for {model}: downsampling {stage} '
      f'({downsampling!r}, padding {padding!r}) sees a '
      f'{map_shape[1]}x{map_shape[2]} map from an input of H, W = '
      f'{x_shape[1]}, {x_shape[2]}, and {error} Use a larger input or fewer '
      'stages.')


def _blur_padding(padding: str) -> str:
  return 'circular' if padding == 'circular' else 'reflect'


def downsample(x: jax.Array, *, downsampling: str, padding: str = 'circular',
               filter_size: int = 3) -> jax.Array:
  """Halves the grid of ``x`` ``[B, H, W, C]`` the way ``downsampling`` says.

  'none' and 'strided_conv' return ``x`` (a strided conv downsamples by
  itself); the others are the parameter-free pools of the module docstring.

  Returns:
    ``[B, H', W', C]`` with ``H' = H / 2`` for even ``H``.
  """
  validate.check_choice(downsampling, 'downsampling', DOWNSAMPLINGS)
  validate.check_choice(padding, 'padding', PADDINGS)
  pool_padding = 'circular' if padding == 'circular' else 'valid'
  if downsampling in ('none', 'strided_conv'):
    return x
  if downsampling == 'max':
    return pooling.max_pool(x, window=2, stride=2, padding=pool_padding)
  if downsampling == 'avg':
    return pooling.avg_pool(x, window=2, stride=2, padding=pool_padding)
  if downsampling == 'max_blur':
    return pooling.max_blur_pool(x, window=2, stride=2,
                                 filter_size=filter_size,
                                 padding=_blur_padding(padding))
  if downsampling == 'blur_conv':
    return pooling.blur_pool(x, stride=2, filter_size=filter_size,
                             padding=_blur_padding(padding))
  return pooling.aps_pool(x, stride=2, filter_size=filter_size, norm=APS_NORM)


def _apply_head(x: jax.Array, head: str, num_classes: int) -> jax.Array:
  """``[B, H, W, C] -> [B, num_classes]``; call inside a compact method."""
  if head == 'fc':
    pool = _flatten                        # [B, H * W * C]
  elif head == 'global_avg':
    pool = pooling.global_avg_pool         # [B, C]
  else:
    pool = pooling.global_max_pool         # [B, C]
  features = pooling.Pool(pool, name='pool')(x)
  return initializers.dense(num_classes, name='head')(features)


def _flatten(x: jax.Array) -> jax.Array:
  return x.reshape(x.shape[0], -1)


# --------------------------------------------------------------------------
# CNN.
# --------------------------------------------------------------------------


@registry.register_model('cnn')
class CNN(nn.Module):
  """Stages of conv 3x3 -> [batch norm] -> ReLU -> downsample, then a head.

  One stage per entry of ``widths``; every stage but the last is followed by
  a 2x downsampling (``downsampling``; for 'strided_conv' the stage's conv
  has stride 2 instead). Submodules: ``conv{i}``, ``norm{i}`` (with
  ``norm='batch'``) and ``head`` (the dense layer), whatever the choices, so
  parameter trees of variants line up; the parameter-free ops are modules
  too (``relu{i}``, ``down{i}``, ``pool``: the global pool or the flatten of
  the head), so per-layer measurements (:mod:`experiments.lie_attribution`)
  see each of them.

  Attributes:
    num_classes: outputs.
    widths: channels of each stage's conv.
    downsampling: see the module docstring.
    head: 'fc', 'global_avg' or 'global_max'.
    padding: 'circular' or 'zeros', for every conv (and the pools).
    filter_size: binomial taps of the blur in 'max_blur', 'blur_conv' and
      'aps' (1..7; 1 means no blur).
    norm: 'none' or 'batch' (batch norm after each conv, no conv bias).
  """
  num_classes: int = 10
  widths: tuple[int, ...] = (16, 32, 64)
  downsampling: str = 'max'
  head: str = 'global_avg'
  padding: str = 'circular'
  filter_size: int = 3
  norm: str = 'none'

  @nn.compact
  def __call__(self, x: jax.Array, *, train: bool = False) -> jax.Array:
    """Maps ``x`` ``[B, H, W, C]`` to logits ``[B, num_classes]``."""
    _check_common(self)
    conv_lib.check_nhwc(x)
    widths = validate.widths(self.widths, 'widths',
                             meaning='channels per layer')
    _check_aps_grid(x, self.downsampling, len(widths) - 1, 'CNN')
    input_shape = x.shape
    for i, width in enumerate(widths):
      last = i == len(widths) - 1
      stride = 2 if self.downsampling == 'strided_conv' and not last else 1
      x = conv_lib.Conv(width, kernel_size=3, stride=stride,
                        padding=self.padding, use_bias=self.norm == 'none',
                        name=f'conv{i}')(x)
      if self.norm == 'batch':
        x = batch_statistics.BatchNorm(use_running_average=not train,
                                       momentum=0.9, name=f'norm{i}')(x)
      x = pooling.Pool(nn.relu, name=f'relu{i}')(x)
      if not last and self.downsampling not in ('none', 'strided_conv'):
        try:
          x = pooling.Pool(functools.partial(
              downsample, downsampling=self.downsampling, padding=self.padding,
              filter_size=self.filter_size), name=f'down{i}')(x)
        except ValueError as error:
          raise _input_too_small(error, input_shape, 'CNN', i + 1, x.shape,
                                 self.downsampling, self.padding) from error
    return _apply_head(x, self.head, self.num_classes)


# --------------------------------------------------------------------------
# MLP.
# --------------------------------------------------------------------------


@registry.register_model('mlp')
class MLP(nn.Module):
  """Flatten -> (dense -> ReLU) per hidden width -> dense to ``num_classes``.

  The no-convolution baseline: it sees absolute pixel positions, so nothing
  about it is shift-invariant. Submodules ``dense{i}`` and ``head``.

  Attributes:
    num_classes: outputs.
    hidden: widths of the hidden layers (may be empty: a linear classifier).
  """
  num_classes: int = 10
  hidden: tuple[int, ...] = (256, 256)

  @nn.compact
  def __call__(self, x: jax.Array, *, train: bool = False) -> jax.Array:
    """Maps ``x`` ``[B, H, W, C]`` to logits ``[B, num_classes]``."""
    del train  # no dropout or batch norm
    validate.integer(self.num_classes, 'num_classes', minimum=1)
    hidden = validate.widths(self.hidden, 'hidden',
                             meaning='channels per layer', allow_empty=True)
    conv_lib.check_nhwc(x)
    x = x.reshape(x.shape[0], -1)  # [B, H * W * C]
    for i, width in enumerate(hidden):
      x = nn.relu(initializers.dense(width, name=f'dense{i}')(x))
    return initializers.dense(self.num_classes, name='head')(x)


# --------------------------------------------------------------------------
# ResNet.
# --------------------------------------------------------------------------


class ResidualBlock(nn.Module):
  """Basic residual block: two 3x3 convs with batch norm, plus a shortcut.

  Without downsampling: ``relu(bn(conv(relu(bn(conv(x))))) + shortcut(x))``;
  the shortcut is the identity, or a 1x1 conv + batch norm when the channels
  change. With downsampling (``downsample=True``):

  * 'strided_conv' — the first conv has stride 2, the shortcut is a 1x1 conv
    with stride 2 + batch norm (He et al. 2016).
  * 'max', 'avg', 'max_blur', 'blur_conv' — the first conv has stride 1 and
    the pool follows its ReLU; the shortcut pools ``x`` the same way ('max_blur'
    and 'blur_conv' use :func:`layers.blur_pool` there, as antialiased-cnns'
    ``BasicBlock``), then a 1x1 conv + batch norm.
  * 'aps' — like 'blur_conv' with APS in place of the blur pool; the shortcut
    keeps the *same* polyphase component as the main path (Chaman &
    Dokmanic's residual connection), so the block is exactly equivariant to
    circular shifts (up to the induced integer shift).

  Submodules: ``conv1``, ``norm1``, ``conv2``, ``norm2``, and
  ``shortcut_conv``, ``shortcut_norm`` when there is a projection.
  """
  features: int
  downsample: bool = False
  downsampling: str = 'strided_conv'
  padding: str = 'circular'
  filter_size: int = 3
  bn_momentum: float = 0.9

  @nn.compact
  def __call__(self, x: jax.Array, *, train: bool = False) -> jax.Array:
    """Maps ``[B, H, W, C]`` to ``[B, H', W', features]``.

    ``H' = H / 2`` (even ``H``) when ``downsample``, else ``H' = H``.
    """
    conv_lib.check_nhwc(x)
    validate.integer(self.features, 'features', minimum=1)
    validate.check_choice(self.downsampling, 'downsampling', DOWNSAMPLINGS)
    validate.check_choice(self.padding, 'padding', PADDINGS)
    pooling.binomial_filter(self.filter_size)  # validates filter_size 1..7
    _check_bn_momentum(self.bn_momentum)
    norm = functools.partial(batch_statistics.BatchNorm,
                             use_running_average=not train,
                             momentum=self.bn_momentum)
    conv = functools.partial(conv_lib.Conv, padding=self.padding,
                             use_bias=False)
    mode = self.downsampling if self.downsample else 'none'
    strided = mode == 'strided_conv'
    y = conv(self.features, kernel_size=3, stride=2 if strided else 1,
             name='conv1')(x)
    y = nn.relu(norm(name='norm1')(y))
    shortcut = x
    if mode == 'aps':
      indices = pooling.aps_indices(y, filter_size=self.filter_size)
      y = pooling.take_polyphase(y, indices, filter_size=self.filter_size)
      shortcut = pooling.take_polyphase(x, indices,
                                        filter_size=self.filter_size)
    elif mode not in ('none', 'strided_conv'):
      y = downsample(y, downsampling=mode, padding=self.padding,
                     filter_size=self.filter_size)
      short_mode = 'blur_conv' if mode == 'max_blur' else mode
      shortcut = downsample(x, downsampling=short_mode, padding=self.padding,
                            filter_size=self.filter_size)
    y = conv(self.features, kernel_size=3, name='conv2')(y)
    y = norm(name='norm2')(y)
    if mode != 'none' or x.shape[-1] != self.features:
      shortcut = conv(self.features, kernel_size=1, stride=2 if strided else 1,
                      name='shortcut_conv')(shortcut)
      shortcut = norm(name='shortcut_norm')(shortcut)
    return nn.relu(y + shortcut)


@registry.register_model('resnet')
class ResNet(nn.Module):
  """A small CIFAR-style ResNet (He et al. 2016, Sec. 4.2), any downsampling.

  Stem: conv 3x3 (``widths[0]``) -> batch norm -> ReLU. Then one stage per
  entry of ``widths``, each of ``blocks_per_stage`` :class:`ResidualBlock`;
  the first block of every stage but the first halves the grid (with
  ``downsampling``, as antialiased-cnns and the APS paper do to the strided
  convs of a ResNet). Then ``head``. Submodules: ``stem_conv``,
  ``stem_norm``, ``stage{s}_block{b}``, ``head``.

  Attributes:
    num_classes: outputs.
    widths: channels per stage.
    blocks_per_stage: residual blocks per stage (1 keeps it fast on CPU;
      ResNet-20 is 3).
    downsampling: see :class:`ResidualBlock` ('none' keeps full resolution).
    head: 'global_avg' (the ResNet default), 'global_max' or 'fc'.
    padding: 'circular' or 'zeros' for every conv.
    filter_size: binomial taps of the blur in 'max_blur', 'blur_conv', 'aps'.
    bn_momentum: batch-norm running-average momentum.
  """
  num_classes: int = 10
  widths: tuple[int, ...] = (16, 32, 64)
  blocks_per_stage: int = 1
  downsampling: str = 'strided_conv'
  head: str = 'global_avg'
  padding: str = 'circular'
  filter_size: int = 3
  bn_momentum: float = 0.9

  @nn.compact
  def __call__(self, x: jax.Array, *, train: bool = False) -> jax.Array:
    """Maps ``x`` ``[B, H, W, C]`` to logits ``[B, num_classes]``."""
    _check_common(self, with_norm=False)
    validate.integer(self.blocks_per_stage, 'blocks_per_stage', minimum=1)
    _check_bn_momentum(self.bn_momentum)
    conv_lib.check_nhwc(x)
    widths = validate.widths(self.widths, 'widths',
                             meaning='channels per layer')
    _check_aps_grid(x, self.downsampling, len(widths) - 1, 'ResNet')
    input_shape = x.shape
    x = conv_lib.Conv(widths[0], kernel_size=3, padding=self.padding,
                      use_bias=False, name='stem_conv')(x)
    x = batch_statistics.BatchNorm(use_running_average=not train,
                                   momentum=self.bn_momentum,
                                   name='stem_norm')(x)
    x = nn.relu(x)
    for s, width in enumerate(widths):
      for b in range(self.blocks_per_stage):
        downsamples = s > 0 and b == 0 and self.downsampling != 'none'
        block = ResidualBlock(
            width, downsample=downsamples, downsampling=self.downsampling,
            padding=self.padding, filter_size=self.filter_size,
            bn_momentum=self.bn_momentum, name=f'stage{s}_block{b}')
        if not downsamples:
          x = block(x, train=train)
          continue
        try:
          x = block(x, train=train)
        except ValueError as error:
          raise _input_too_small(error, input_shape, 'ResNet', s, x.shape,
                                 self.downsampling, self.padding) from error
    return _apply_head(x, self.head, self.num_classes)


# Named sizes.
ResNet8 = functools.partial(ResNet, blocks_per_stage=1)
ResNet14 = functools.partial(ResNet, blocks_per_stage=2)
ResNet20 = functools.partial(ResNet, blocks_per_stage=3)
