"""Equal-valued lowerings of the 2-D convolution and their assembly.

:func:`layers.conv2d` pads the input for 'circular' / 'reflect' /
'replicate' itself and leaves one core operation: a cross-correlation of
``x [B, H, W, C]`` with ``kernel [kh, kw, C, D]``, with zero pads (or
none), strides and dilations. That operation is a bilinear map, and there
are several ways to compute it and its two transposes (the input gradient and
the filter gradient):

* ``'xla'`` — ``lax.conv_general_dilated``; an unpadded ('VALID') conv is
  padded by one zero row and column and cropped (the project's default
  lowering: XLA:CPU runs padded convolutions on a faster path).
* ``'xla_unpadded'`` — the plain 'VALID' XLA convolution (only offered when
  there are no zero pads; otherwise it is ``'xla'``).
* ``'taps'`` — a sum over the ``kh * kw`` taps of a shifted, strided slice of
  the zero-padded input times the tap's ``[C, D]`` matrix: ``kh * kw``
  matmuls with ``B H' W'`` rows.
* ``'im2col'`` — the ``kh * kw`` slices stacked into patches
  ``[B, H', W', kh kw C]`` and one matmul with the reshaped kernel.
* ``'taps_batched'`` — ``'taps'`` with the tap matrix broadcast over the
  batch: each example is its own matmul. Its transpose in the kernel is the
  filter gradient as ``B`` short contractions (``H' W'`` long) summed,
  instead of one ``B H' W'`` long contraction with a tiny ``[C, D]`` output,
  which XLA:CPU parallelises poorly; the tuner offers it for that role only.
* ``'onednn'`` — oneDNN's convolution primitives through XLA's FFI
  (:mod:`layers.onednn`), forward and both gradients; float32 with pads
  >= 0, where the handler library could be built (else it is ``'xla'``).

Every lowering computes the same sums of the same products; only the order of
the additions differs, so two lowerings agree within the float32 reordering
bound of ``tests/float_tolerance.py``, not bit for bit.

:func:`assembled_conv` combines three choices — one lowering for the forward
pass, one whose transpose gives the input gradient and one whose transpose
gives the filter gradient — with ``jax.custom_jvp``: the tangent is
``f_input(dx, kernel) + f_filter(x, dkernel)``, which JAX transposes for
reverse mode. (``custom_jvp`` rather than ``custom_vjp`` keeps forward-mode
and higher derivatives working.) :mod:`layers.autotune` picks the three by
timing them.
"""

from __future__ import annotations

from collections.abc import Callable
import dataclasses
import functools

import jax
import jax.numpy as jnp

from layers import onednn
from layers import padding as padding_lib

LOWERINGS = ('xla', 'xla_unpadded', 'taps', 'im2col', 'taps_batched',
             'onednn')
ROLES = ('forward', 'input_grad', 'filter_grad')
_DIMENSION_NUMBERS = ('NHWC', 'HWIO', 'NHWC')


@dataclasses.dataclass(frozen=True)
class Choice:
  """Which lowering computes each part of one convolution.

  Attributes:
    forward: lowering of the output ``y = x * kernel``.
    input_grad: lowering whose transpose in ``x`` gives ``dL/dx``.
    filter_grad: lowering whose transpose in ``kernel`` gives ``dL/dkernel``.
  """
  forward: str = 'xla'
  input_grad: str = 'xla'
  filter_grad: str = 'xla'

  def __post_init__(self):
    for role in ROLES:
      if getattr(self, role) not in LOWERINGS:
        raise ValueError(f'{role} must be one of {LOWERINGS}; got '
                         f'{getattr(self, role)!r}.')

  def as_dict(self) -> dict[str, str]:
    return dataclasses.asdict(self)


DEFAULT_CHOICE = Choice()


def xla_conv(x: jax.Array, kernel: jax.Array, *, strides, padding,
             dilations) -> jax.Array:
  """``lax.conv_general_dilated`` on NHWC/HWIO; 'VALID' via a cropped pad.

  XLA:CPU (jax 0.10) runs an unpadded convolution on a generic path ~4x
  slower than a padded one, forward and backward (``benchmarks.peers``,
  'conv2d valid' rows). One zero row and column padded at the far end and
  cropped off again give the same sums of the same products on the fast
  path; XLA may add them in another order, so the two agree within float32
  rounding (not always bit for bit: ``tests/peers_test.py``).
  """
  crop = isinstance(padding, str) and padding == 'VALID'
  if crop:
    out_size = padding_lib.conv_output_size(x.shape, kernel.shape, strides=strides,
                           padding=padding, dilations=dilations)
    padding = ((0, 1), (0, 1))
  y = jax.lax.conv_general_dilated(
      x, kernel, window_strides=strides, padding=padding,
      rhs_dilation=dilations, dimension_numbers=_DIMENSION_NUMBERS)
  if crop:
    y = y[:, :out_size[0], :out_size[1]]
  return y


def xla_unpadded_conv(x: jax.Array, kernel: jax.Array, *, strides, padding,
                      dilations) -> jax.Array:
  """``lax.conv_general_dilated`` with the pads as given (no crop trick)."""
  return jax.lax.conv_general_dilated(
      x, kernel, window_strides=strides, padding=padding,
      rhs_dilation=dilations, dimension_numbers=_DIMENSION_NUMBERS)


def _tap_slices(x: jax.Array, kernel_shape, *, strides, padding,
                dilations) -> list[jax.Array]:
  """The ``kh * kw`` strided slices ``[B, H', W', C]`` of the padded input."""
  pads = padding_lib.explicit_pads(padding)
  if any(p for pair in pads for p in pair):
    x = jnp.pad(x, ((0, 0), pads[0], pads[1], (0, 0)))
  out_h, out_w = padding_lib.conv_output_size(x.shape, kernel_shape, strides=strides,
                             padding='VALID', dilations=dilations)
  (sh, sw), (dh, dw) = strides, dilations
  slices = []
  for i in range(kernel_shape[0]):
    for j in range(kernel_shape[1]):
      start = (0, i * dh, j * dw, 0)
      limit = (x.shape[0], i * dh + sh * (out_h - 1) + 1,
               j * dw + sw * (out_w - 1) + 1, x.shape[3])
      slices.append(jax.lax.slice(x, start, limit, (1, sh, sw, 1)))
  return slices


def _sum_over_taps(x: jax.Array, kernel: jax.Array, product, *, strides,
                   padding, dilations) -> jax.Array:
  """``sum_ij product(slice_ij(x), kernel[i, j])``, taps in row-major order."""
  slices = _tap_slices(x, kernel.shape, strides=strides, padding=padding,
                       dilations=dilations)
  kw = kernel.shape[1]
  y = None
  for t, patch in enumerate(slices):
    term = product(patch, kernel[t // kw, t % kw])  # [B, H', W', D]
    y = term if y is None else y + term
  return y


def taps_conv(x: jax.Array, kernel: jax.Array, *, strides, padding,
              dilations) -> jax.Array:
  """Sum over taps of ``slice_ij(x) @ kernel[i, j]`` (``kh * kw`` matmuls)."""
  return _sum_over_taps(
      x, kernel, lambda patch, tap: jnp.einsum('bhwc,cd->bhwd', patch, tap),
      strides=strides, padding=padding, dilations=dilations)


def taps_batched_conv(x: jax.Array, kernel: jax.Array, *, strides, padding,
                      dilations) -> jax.Array:
  """``'taps'`` as per-example matmuls: ``[B, C, D]`` broadcast tap matrices."""

  def product(patch, tap):
    tap = jnp.broadcast_to(tap, (x.shape[0],) + kernel.shape[2:])  # [B, C, D]
    return jnp.einsum('bhwc,bcd->bhwd', patch, tap)

  return _sum_over_taps(x, kernel, product, strides=strides, padding=padding,
                        dilations=dilations)


def im2col_conv(x: jax.Array, kernel: jax.Array, *, strides, padding,
                dilations) -> jax.Array:
  """Patches ``[B, H', W', kh kw C]`` times ``kernel [kh kw C, D]``."""
  slices = _tap_slices(x, kernel.shape, strides=strides, padding=padding,
                       dilations=dilations)
  kh, kw, c_in, c_out = kernel.shape
  patches = jnp.concatenate(slices, axis=-1)  # [B, H', W', kh kw C]
  return jnp.einsum('bhwk,kd->bhwd', patches,
                    jnp.reshape(kernel, (kh * kw * c_in, c_out)))


def onednn_supported(x_shape, kernel_shape, dtype, *, padding) -> bool:
  """Whether ``'onednn'`` computes this conv itself (else it is ``'xla'``)."""
  return (onednn.supports(x_shape, kernel_shape, dtype, padding=padding) and
          onednn.available())


def onednn_conv(x: jax.Array, kernel: jax.Array, *, strides, padding,
                dilations) -> jax.Array:
  """oneDNN's convolution (:func:`layers.onednn.conv`); XLA's where it can't.

  A conv oneDNN does not take (not float32, negative pads) or a process
  without the library (no compiler, no oneDNN, ``EQUIVLAB_ONEDNN=0``)
  computes :func:`xla_conv` instead, so a choice read from a file made on
  another machine still runs.
  """
  if not onednn_supported(x.shape, kernel.shape, x.dtype, padding=padding):
    return xla_conv(x, kernel, strides=strides, padding=padding,
                    dilations=dilations)
  return onednn.conv(x, kernel, strides=strides, padding=padding,
                     dilations=dilations)


_FUNCTIONS: dict[str, Callable[..., jax.Array]] = {
    'xla': xla_conv,
    'xla_unpadded': xla_unpadded_conv,
    'taps': taps_conv,
    'im2col': im2col_conv,
    'taps_batched': taps_batched_conv,
    'onednn': onednn_conv,
}


def lowering(name: str) -> Callable[..., jax.Array]:
  """The function ``f(x, kernel, *, strides, padding, dilations)`` of a name."""
  if name not in _FUNCTIONS:
    raise ValueError(f'name must be one of {LOWERINGS}; got {name!r}.')
  return _FUNCTIONS[name]


def candidates(padding, role: str, *, with_onednn: bool = False
               ) -> tuple[str, ...]:
  """The lowerings worth timing for ``role`` of a core conv with ``padding``.

  ``'xla_unpadded'`` differs from ``'xla'`` only for 'VALID';
  ``'taps_batched'`` only changes the filter gradient; ``'onednn'`` is
  offered when ``with_onednn`` (see :func:`onednn_supported`).
  """
  if role not in ROLES:
    raise ValueError(f'role must be one of {ROLES}; got {role!r}.')
  names = LOWERINGS
  if not (isinstance(padding, str) and padding == 'VALID'):
    names = tuple(name for name in names if name != 'xla_unpadded')
  if role != 'filter_grad':
    names = tuple(name for name in names if name != 'taps_batched')
  if not with_onednn:
    names = tuple(name for name in names if name != 'onednn')
  return names


def _hashable_padding(padding):
  if isinstance(padding, str):
    return padding
  return padding_lib.explicit_pads(padding)


def assembled_conv(x: jax.Array, kernel: jax.Array, *, choice: Choice,
                   strides, padding, dilations) -> jax.Array:
  """The core conv with ``choice``'s lowering for each of its three parts.

  Args:
    x: ``[B, H, W, C]`` (already padded for non-zero padding modes).
    kernel: ``[kh, kw, C, D]``, same dtype as ``x``.
    choice: the lowerings of the forward pass and of both gradients.
    strides: ``(sh, sw)``.
    padding: 'VALID' or zero pads ``((top, bottom), (left, right))``.
    dilations: ``(dh, dw)``.

  Returns:
    ``[B, H', W', D]``; equal to :func:`xla_conv` within float32 rounding,
    values and derivatives of any order.
  """
  options = dict(strides=tuple(strides), padding=_hashable_padding(padding),
                 dilations=tuple(dilations))
  if choice == Choice(choice.forward, choice.forward, choice.forward):
    return lowering(choice.forward)(x, kernel, **options)
  return _custom_conv(choice, tuple(sorted(options.items())))(x, kernel)


@functools.lru_cache(maxsize=None)
def _custom_conv(choice: Choice, options: tuple) -> Callable[..., jax.Array]:
  options = dict(options)
  forward = functools.partial(lowering(choice.forward), **options)
  input_part = functools.partial(lowering(choice.input_grad), **options)
  filter_part = functools.partial(lowering(choice.filter_grad), **options)

  @jax.custom_jvp
  def conv(x, kernel):
    return forward(x, kernel)

  @functools.partial(conv.defjvp, symbolic_zeros=True)
  def conv_jvp(primals, tangents):
    x, kernel = primals
    x_dot, kernel_dot = tangents
    y = forward(x, kernel)
    y_dot = None
    zero = jax.custom_derivatives.SymbolicZero
    # Linear in x_dot (kernel fixed) and in kernel_dot (x fixed): reverse
    # mode transposes exactly these, so each gradient runs on its lowering.
    if not isinstance(x_dot, zero):
      y_dot = input_part(x_dot, kernel)
    if not isinstance(kernel_dot, zero):
      term = filter_part(x, kernel_dot)
      y_dot = term if y_dot is None else y_dot + term
    if y_dot is None:
      y_dot = jnp.zeros_like(y)
    return y, y_dot

  return conv
