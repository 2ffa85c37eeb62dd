"""Lifting and group convolutions over a finite group G (Cohen & Welling 2016).

Layouts: images ``[B, H, W, C]``; group feature maps ``[B, H, W, G, C]``, axis
3 indexed by the elements of ``G`` (a :class:`groups.FiniteGroup`).

* :func:`lifting_conv2d` — ``[B, H, W, C] -> [B, H', W', G, C']``: correlate
  with the filter transformed by each ``g``,
  ``out[p, g] = sum_q x[p + q] psi[g^-1 q]``.
* :func:`group_conv2d` — ``[B, H, W, G, C] -> [B, H', W', G, C']``:
  ``out[p, g] = sum_{q, h} y[p + q, h] psi[g^-1 q, g^-1 h]``.

Both transform the one learned filter by every ``g`` with the group's own
action on feature maps (``grid_action`` for the lifting filter
``[k, k, C, C']``, ``regular_action`` for the group filter
``[k, k, G, C, C']``), stack the ``|G|`` results along the output-channel axis
and do the work in ONE :func:`layers.conv2d` call. They are equivariant,
``f(g . x) == g . f(x)`` with ``g`` acting on outputs by
``group.regular_action(g)`` (exactly for p4 / p4m, approximately for groups
with interpolated rotations), when the sampling grid is symmetric about the
grid centre: square inputs, square filters, and for stride ``s`` or a padded
even filter see the rule in :mod:`groups.rotations`.

:class:`LiftingConv` and :class:`GroupConv` are their linen modules. The
layers that keep equivariance on group maps besides pointwise
nonlinearities -- pools and batch norm -- are in
:mod:`layers.group_conv.pooling` and :mod:`layers.group_conv.norm`.
"""

from __future__ import annotations

from collections.abc import Callable
import functools
import math

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from groups import validate
from groups import finite
from layers import conv as conv_lib
from layers import initializers


def _check_square_kernel(kernel, layout: str) -> None:
  if min(kernel.shape) < 1:
    raise ValueError(f'kernel must have every size >= 1 (layout {layout}); '
                     f'got kernel shape {tuple(kernel.shape)}.')
  if kernel.shape[0] != kernel.shape[1]:
    raise ValueError(
        f'kernel must be square (kh == kw; layout {layout}) so that every '
        f'group element maps it to a filter of the same shape; got kernel '
        f'shape {tuple(kernel.shape)}.')


@functools.lru_cache(maxsize=128)
def _tap_maps(group: finite.FiniteGroup, tap_shape: tuple[int, ...]
              ) -> tuple[np.ndarray | None, np.ndarray]:
  """How each element moves the taps of a filter, found by acting on a basis.

  Args:
    group: the group.
    tap_shape: ``(k, k)`` for a lifting filter (moved by ``grid_action``) or
      ``(k, k, G)`` for a group filter (moved by ``regular_action``).

  Returns:
    ``(sources, None)`` when every element permutes the taps (exact groups):
    ``sources[g, j]``, ``[G, n]``, is the tap that ``g`` moves to tap ``j``.
    Otherwise ``(None, matrices)``: ``matrices[g, i, j]``, ``[G, n, n]``, is
    the weight of tap ``i`` in tap ``j`` of the filter transformed by ``g``.
  """
  n = math.prod(tap_shape)
  basis = np.eye(n, dtype=np.float32).reshape((n,) + tap_shape + (1,))
  act = group.regular_action if len(tap_shape) == 3 else group.grid_action
  with jax.ensure_compile_time_eval():  # constants, also when traced by jit
    matrices = np.stack([np.asarray(act(g)(basis)).reshape(n, n)
                         for g in group.elements()])
  is_permutation = (np.all((matrices == 0) | (matrices == 1)) and
                    np.all(matrices.sum(axis=1) == 1))
  if is_permutation:
    return np.argmax(matrices, axis=1), None
  return None, matrices


def _transform_by_every_element(kernel: jax.Array, group: finite.FiniteGroup,
                                tap_shape: tuple[int, ...]) -> jax.Array:
  """``[G, *kernel.shape]``: ``kernel`` moved by each element (taps first)."""
  sources, matrices = _tap_maps(group, tap_shape)
  taps = kernel.reshape(math.prod(tap_shape), -1)  # [n, C * C']
  if sources is not None:  # a gather: exact, whatever the matmul precision
    moved = taps[sources]
  else:
    moved = jnp.einsum('gij,ic->gjc', matrices.astype(taps.dtype), taps)
  return moved.reshape((group.order,) + kernel.shape)


def lifting_filters(kernel: jax.typing.ArrayLike, *,
                    group: finite.FiniteGroup) -> jax.Array:
  """Stacks ``grid_action(g)(kernel)`` for every ``g`` along the output axis.

  The filter is moved as an image ``[k, k]`` (``C x C'`` channels) by the
  group's own grid action; the map from taps to taps is computed once per
  ``(group, k)`` and cached, so a call is one gather (exact groups) or one
  matrix product (interpolated ones).

  Args:
    kernel: ``[k, k, C, C']``, floating.
    group: a :class:`groups.FiniteGroup`.

  Returns:
    ``[k, k, C, G * C']``, output channel ``g * C' + c'`` is filter ``c'``
    transformed by ``g``.
  """
  finite.check_group(group)
  layout = '[k, k, C, C_out]'
  validate.check_array(kernel, 'kernel', rank=4, layout=layout)
  _check_square_kernel(kernel, layout)
  k, _, c_in, _ = kernel.shape
  moved = _transform_by_every_element(jnp.asarray(kernel), group, (k, k))
  moved = moved.transpose(1, 2, 3, 0, 4)  # [k, k, C, G, C']
  return moved.reshape(k, k, c_in, -1)


def group_filters(kernel: jax.typing.ArrayLike, *,
                  group: finite.FiniteGroup) -> jax.Array:
  """Stacks ``regular_action(g)(kernel)`` for every ``g`` along the output axis.

  The filter is moved as a group map ``[k, k, G]`` (rotated/flipped and its
  group axis permuted), cached as in :func:`lifting_filters`.

  Args:
    kernel: ``[k, k, G, C, C']``, floating, ``G = |group|``.
    group: a :class:`groups.FiniteGroup`.

  Returns:
    ``[k, k, G * C, G * C']``; input channel ``h * C + c`` reads element
    ``h``, channel ``c`` of a folded group map.
  """
  layout = '[k, k, G, C, C_out]'
  finite.check_group(group)
  validate.check_array(kernel, 'kernel', rank=5, layout=layout)
  _check_square_kernel(kernel, layout)
  k, _, g_in, c_in, _ = kernel.shape
  if g_in != group.order:
    raise ValueError(
        f'kernel must have G = |{group}| = {group.order} on axis 2 (layout '
        f'{layout}); got kernel shape {tuple(kernel.shape)}.')
  moved = _transform_by_every_element(jnp.asarray(kernel), group,
                                      (k, k, g_in))
  moved = moved.transpose(1, 2, 3, 4, 0, 5)  # [k, k, G_in, C, G_out, C']
  return moved.reshape(k, k, g_in * c_in, -1)


def lifting_conv2d(x: jax.typing.ArrayLike, kernel: jax.typing.ArrayLike, *,
                 group: finite.FiniteGroup,
                 stride: int | tuple[int, int] = 1, padding: str = 'circular',
                 dilation: int | tuple[int, int] = 1) -> jax.Array:
  """Lifts an image to a group map: one filter per group element.

  Args:
    x: ``[B, H, W, C]``, floating.
    kernel: ``[k, k, C, C']``, floating, square.
    group: a :class:`groups.FiniteGroup`, e.g. ``groups.Cyclic(4)`` (p4).
    stride: as :func:`layers.conv2d`.
    padding: as :func:`layers.conv2d`.
    dilation: as :func:`layers.conv2d`.

  Returns:
    ``[B, H', W', G, C']`` with ``H', W'`` as :func:`layers.conv2d`.
  """
  conv_lib.check_nhwc(x)
  filters = lifting_filters(kernel, group=group)
  out = conv_lib.conv2d(x, filters, stride=stride, padding=padding,
                        dilation=dilation)  # [B, H', W', G*C']
  return out.reshape(out.shape[:3] + (group.order, -1))


def group_conv2d(y: jax.typing.ArrayLike, kernel: jax.typing.ArrayLike, *,
               group: finite.FiniteGroup,
               stride: int | tuple[int, int] = 1, padding: str = 'circular',
               dilation: int | tuple[int, int] = 1) -> jax.Array:
  """Convolves a group map with a filter on the group.

  Args:
    y: ``[B, H, W, G, C]``, floating, ``G = |group|``.
    kernel: ``[k, k, G, C, C']``, floating, square.
    group: the :class:`groups.FiniteGroup` of ``y``.
    stride: as :func:`layers.conv2d`.
    padding: as :func:`layers.conv2d`.
    dilation: as :func:`layers.conv2d`.

  Returns:
    ``[B, H', W', G, C']`` with ``H', W'`` as :func:`layers.conv2d`.
  """
  finite.check_group_map(y, group)
  filters = group_filters(kernel, group=group)
  if filters.shape[2] != y.shape[3] * y.shape[4]:
    raise ValueError(
        f'kernel must have C = y.shape[-1] = {y.shape[4]} input channels '
        f'(layout [k, k, G, C, C_out]); got kernel shape '
        f'{tuple(jnp.shape(kernel))}.')
  b, h, w, g, c = y.shape
  out = conv_lib.conv2d(jnp.reshape(y, (b, h, w, g * c)), filters,
                        stride=stride, padding=padding,
                        dilation=dilation)  # [B, H', W', G*C']
  return out.reshape(out.shape[:3] + (g, -1))


class _GroupConvModule(nn.Module):
  """Fields and parameter handling shared by :class:`LiftingConv` and :class:`GroupConv`.

  Attributes:
    group: a :class:`groups.FiniteGroup`.
    features: output channels ``C'`` per group element.
    kernel_size: ``k`` (square filters).
    stride: int or ``(sh, sw)``.
    padding: see :func:`layers.conv2d`.
    dilation: int or ``(dh, dw)``.
    use_bias: add a learned ``[C']`` bias, shared over ``G`` (keeps
      equivariance).
  """
  group: finite.FiniteGroup
  features: int
  kernel_size: int = 3
  stride: int | tuple[int, int] = 1
  padding: str = 'circular'
  dilation: int | tuple[int, int] = 1
  use_bias: bool = True
  kernel_init: Callable = initializers.lecun_normal()
  bias_init: Callable = nn.initializers.zeros_init()

  def _convolve(self, conv_fn, x: jax.Array,
                input_axes: tuple[int, ...]) -> jax.Array:
    """Creates ``kernel [k, k, *input_axes, C']`` (and bias), applies ``conv_fn``."""
    validate.integer(self.features, 'features', minimum=1)
    k = validate.integer(self.kernel_size, 'kernel_size', minimum=1)
    # fan_in of lecun_normal is k * k * prod(input_axes): every axis but the
    # last counts as receptive field.
    kernel = self.param('kernel', self.kernel_init,
                        (k, k) + input_axes + (self.features,), jnp.float32)
    out = conv_fn(x, kernel, group=self.group, stride=self.stride,
                  padding=self.padding, dilation=self.dilation)
    if self.use_bias:
      out = out + self.param('bias', self.bias_init, (self.features,),
                             jnp.float32)
    return out


class LiftingConv(_GroupConvModule):
  """Linen wrapper of :func:`lifting_conv2d`; owns ``kernel`` and ``bias``.

  ``kernel`` is ``[k, k, C, C']``, ``bias`` ``[C']``; maps ``[B, H, W, C]``
  to ``[B, H', W', G, features]``. Attributes: see :class:`_GroupConvModule`.
  """

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    """Maps ``[B, H, W, C]`` to ``[B, H', W', G, features]``."""
    conv_lib.check_nhwc(x)
    finite.check_group(self.group)
    return self._convolve(lifting_conv2d, x, (x.shape[-1],))


class GroupConv(_GroupConvModule):
  """Linen wrapper of :func:`group_conv2d`; owns ``kernel`` and ``bias``.

  ``kernel`` is ``[k, k, G, C, C']``, ``bias`` ``[C']``; maps
  ``[B, H, W, G, C]`` to ``[B, H', W', G, features]``.
  """

  @nn.compact
  def __call__(self, y: jax.Array) -> jax.Array:
    """Maps ``[B, H, W, G, C]`` to ``[B, H', W', G, features]``."""
    finite.check_group_map(y, self.group)
    return self._convolve(group_conv2d, y, (self.group.order, y.shape[-1]))
