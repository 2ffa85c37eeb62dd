"""Typed scale-equivariant modules: thin linen wrappers with in/out types.

Every module is built from its input :class:`groups.scale.ScaleType` and
exposes ``in_type`` / ``out_type``, so a chain of them is checked at
construction by :class:`layers.steerable.EquivariantSequential` (the one
typed container): a scale conv after a projection, or a scale set whose
ratio is not the input's, fails when built, naming both types. The action of
a rescale by ``ratio**k`` is ``type.transform(k)``: :class:`groups.Rescale`
on plain maps, :class:`groups.ScaleAxisRescale` on scale maps.

Modules: :class:`ScaleLiftingConv`, :class:`ScaleConv` (bases 'hermite' or
'disco', :mod:`layers.scale.basis`), :class:`ScaleProjection`,
:class:`ScaleBatchNorm` (statistics shared by all scales, per channel:
normalising each scale on its own would make the map's scale axis
inconsistent, so it would not commute with the shift), :class:`ScalePool`,
:class:`ScaleNonlinearity`.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from groups import scale as scale_lib
from groups import validate
from layers.scale import basis as basis_lib
from layers import batch_statistics
from layers import pooling
from layers.scale import conv as conv_lib
from layers.steerable import typed

NONLINEARITIES = {'relu': jax.nn.relu, 'elu': jax.nn.elu,
                  'gelu': jax.nn.gelu, 'tanh': jnp.tanh}


class ScaleModule(typed.TypedModule):
  """Mixin of the typed scale modules: checks scale types and measures
  equivariance under rescales by ``ratio**k``."""

  def check_types(self) -> None:
    scale_lib.check_scale_type(self.in_type, 'in_type')
    scale_lib.check_scale_type(self.out_type, 'out_type')

  def default_elements(self) -> list[int]:
    """Rescales by ``ratio`` and ``1 / ratio`` (``k = 1, -1``): approximate
    by nature (no non-trivial rescale is exact on a grid); smooth inputs
    with room around the content give the meaningful figures."""
    return [1, -1]

  def compare_mask(self, element: int, shape: tuple[int, ...]
                   ) -> np.ndarray | None:
    """On scale maps, the scales whose partner is in the set."""
    if not self.out_type.num_scales:
      return None
    return scale_lib.partner_mask(*shape[1:4], element)


def _basis_options(module) -> dict[str, Any]:
  options = dict(effective_size=module.effective_size,
                 max_order=module.max_order, mult=module.mult)
  if module.basis == 'disco':
    options['min_scale'] = module.min_scale
  return options


def _check_scales(module, expected: int | None) -> None:
  """The module's ``scales`` must be geometric with the input's ratio (2 %)
  and, for a scale-to-scale layer, as many as the input has."""
  ratio = scale_lib.geometric_ratio(module.scales, 'scales')
  if len(module.scales) > 1 and abs(ratio / module.in_type.ratio - 1) > 0.02:
    raise ValueError(
        f'scales must have the ratio of in_type {module.in_type!r} (to 2 %); '
        f'got {tuple(module.scales)} (ratio {ratio:.4g}).')
  if expected is not None and len(module.scales) != expected:
    raise ValueError(f'scales must have S = {expected} entries (in_type '
                     f'{module.in_type!r}); got {len(module.scales)}.')
  validate.check_choice(module.basis, 'basis', basis_lib.BASES)
  size = validate.integer(module.kernel_size, 'kernel_size', minimum=1)
  if size % 2 == 0:
    raise ValueError(f'kernel_size must be odd; got {size}.')


class _ScaleConvBase(ScaleModule, nn.Module):
  """Fields and basis shared by the two convolutions (attributes: see
  :class:`ScaleLiftingConv`)."""
  in_type: scale_lib.ScaleType
  out_channels: int
  kernel_size: int
  scales: tuple[float, ...]
  basis: str = 'hermite'
  effective_size: int = 7
  max_order: int = 4
  mult: float = 1.4
  min_scale: float = 1.9
  stride: int = 1
  padding: str = 'zeros'
  use_bias: bool = True

  def check_types(self) -> None:
    validate.integer(self.out_channels, 'out_channels', minimum=1)
    super().check_types()

  @property
  def out_type(self) -> scale_lib.ScaleType:
    return scale_lib.ScaleType(self.out_channels, self.in_type.ratio,
                               len(self.scales))

  def kernel_basis(self) -> np.ndarray:
    """``[F, S, k, k]`` float32 (cached per argument set)."""
    return basis_lib.make_basis(self.basis, self.kernel_size,
                                tuple(self.scales), **_basis_options(self))

  def _finish(self, y: jax.Array) -> jax.Array:
    if self.use_bias:
      y = y + self.param('bias', nn.initializers.zeros, (self.out_channels,))
    return y


class ScaleLiftingConv(_ScaleConvBase):
  """Image ``[B, H, W, C]`` -> scale map ``[B, H', W', S, out_channels]``
  (:func:`layers.scale.lifting_conv`; SESN's ``SESConv_Z2_H``).

  Attributes:
    in_type: a plain :class:`groups.scale.ScaleType` (``num_scales=0``).
    out_channels, kernel_size: outputs per scale; odd kernel side.
    scales: the basis's scales (geometric, the input type's ratio).
    basis: 'hermite' (SESN) or 'disco' (solved).
    effective_size, max_order, mult, min_scale: basis options
      (:mod:`layers.scale.basis`; ``min_scale`` for 'disco' only).
    stride, padding: of the convolution ('zeros' as the papers).
    use_bias: one bias per output channel, shared by the scales.
  """

  def check_types(self) -> None:
    super().check_types()
    if self.in_type.num_scales:
      raise ValueError(f'in_type must be a plain image type (num_scales=0) '
                       f'for a lifting conv; got {self.in_type!r} (use '
                       'ScaleConv between scale maps).')
    _check_scales(self, None)

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    self.in_type.check_features(x, 'x')
    basis = self.kernel_basis()
    weight = self.param('weight', conv_lib.fan_in_init(
        self.in_type.channels * basis.shape[0]),
        (basis.shape[0], self.in_type.channels, self.out_channels))
    return self._finish(conv_lib.lifting_conv(
        x, weight, basis, stride=self.stride, padding=self.padding))


class ScaleConv(_ScaleConvBase):
  """Scale map -> scale map (:func:`layers.scale.scale_conv`; SESN's
  ``SESConv_H_H``). Attributes as :class:`ScaleLiftingConv`, plus
  ``scale_size`` (neighbouring input scales mixed per output scale, >= 1;
  SESN's MNIST models use 1)."""
  scale_size: int = 1

  def check_types(self) -> None:
    super().check_types()
    if not self.in_type.num_scales:
      raise ValueError(f'in_type must be a scale map type (num_scales >= 1) '
                       f'for a scale conv; got {self.in_type!r} (use '
                       'ScaleLiftingConv on images).')
    _check_scales(self, self.in_type.num_scales)
    validate.integer(self.scale_size, 'scale_size', minimum=1,
                     maximum=self.in_type.num_scales)

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    self.in_type.check_features(x, 'x')
    basis = self.kernel_basis()
    fan_in = self.in_type.channels * self.scale_size * basis.shape[0]
    weight = self.param('weight', conv_lib.fan_in_init(fan_in),
                        (self.scale_size, basis.shape[0],
                         self.in_type.channels, self.out_channels))
    return self._finish(conv_lib.scale_conv(
        x, weight, basis, stride=self.stride, padding=self.padding))


class ScaleProjection(ScaleModule, nn.Module):
  """Scale map -> plain map: max or mean over scales (invariant to the
  shift of the scale axis; SESN's ``SESMaxProjection``)."""
  in_type: scale_lib.ScaleType
  reduction: str = 'max'

  def check_types(self) -> None:
    super().check_types()
    if not self.in_type.num_scales:
      raise ValueError(f'in_type must be a scale map type to project; got '
                       f'{self.in_type!r}.')
    validate.check_choice(self.reduction, 'reduction', conv_lib.PROJECTIONS)

  @property
  def out_type(self) -> scale_lib.ScaleType:
    return scale_lib.ScaleType(self.in_type.channels, self.in_type.ratio)

  def __call__(self, x: jax.Array) -> jax.Array:
    self.in_type.check_features(x, 'x')
    return conv_lib.scale_projection(x, reduction=self.reduction)


class _SameType:
  """``out_type`` is ``in_type`` (pointwise and per-channel modules)."""

  @property
  def out_type(self) -> scale_lib.ScaleType:
    return self.in_type


class ScaleBatchNorm(_SameType, ScaleModule, nn.Module):
  """Batch norm of plain or scale maps, one mean and variance per channel
  over batch, space *and scales* (SESN's ``BatchNorm3d``)."""
  in_type: scale_lib.ScaleType
  use_running_average: bool = False
  momentum: float = 0.9
  epsilon: float = 1e-5

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    self.in_type.check_features(x, 'x')
    return batch_statistics.BatchNorm(
        use_running_average=self.use_running_average, momentum=self.momentum,
        epsilon=self.epsilon, name='bn')(x)


class ScaleNonlinearity(_SameType, ScaleModule, nn.Module):
  """A pointwise nonlinearity ('relu', 'elu', 'gelu', 'tanh')."""
  in_type: scale_lib.ScaleType
  function: str = 'relu'

  def check_types(self) -> None:
    super().check_types()
    validate.check_choice(self.function, 'function', tuple(NONLINEARITIES))

  def __call__(self, x: jax.Array) -> jax.Array:
    self.in_type.check_features(x, 'x')
    return NONLINEARITIES[self.function](x)


class ScalePool(_SameType, ScaleModule, nn.Module):
  """Spatial max / average pooling of every scale alike (plain maps too):
  :func:`layers.scale.scale_pool`, :func:`layers.max_pool`."""
  in_type: scale_lib.ScaleType
  reduction: str = 'max'
  window: int = 2
  stride: int | None = None
  padding: str = 'valid'

  def check_types(self) -> None:
    super().check_types()
    validate.check_choice(self.reduction, 'reduction', conv_lib.POOLS)

  def __call__(self, x: jax.Array) -> jax.Array:
    self.in_type.check_features(x, 'x')
    options = dict(window=self.window, stride=self.stride,
                   padding=self.padding)
    if self.in_type.num_scales:
      return conv_lib.scale_pool(x, reduction=self.reduction, **options)
    pool = pooling.max_pool if self.reduction == 'max' else pooling.avg_pool
    return pool(x, **options)
