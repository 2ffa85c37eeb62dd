"""The transposed steerable convolution (e2cnn's ``R2ConvTransposed``).

``steerable_conv2d_transpose(x, weights, in_type=..., out_type=...,
kernel_size=k, stride=s)`` maps a steerable map ``[B, H, W, C_in]`` of
field type ``in_type`` to one of ``out_type``, ``[B, H', W', C_out]``,
upsampling by ``s``: every input pixel ``q`` adds ``kernel[i, j]^T x[q]``
at output pixel ``s q + d (i, j) - p`` (a scatter; PyTorch's
``conv_transpose2d``).

**Which kernel.** The kernel ``[k, k, C_in, C_out]`` is the conv's: the
same :class:`~layers.steerable.KernelBasis` from ``in_type`` to
``out_type`` (:func:`layers.steerable.steerable_kernel`), as e2cnn's
``R2ConvTransposed`` builds it (``BlocksBasisExpansion(in_type, out_type)``,
then only the torch layout is transposed). A scatter with ``K(u)`` is a
correlation with the point-reflected kernel ``K(-u)``
(:func:`conv2d_transpose` computes it so, on the zero-inserted input), and
``K(-u)`` satisfies the same constraint ``K(g u) = rho_out(g) K(u)
rho_in(g)^-1``: the point reflection ``-I`` commutes with every rotation and
mirror. Hence the layer is equivariant exactly where the conv is. Seen from
the other side, it is the adjoint of a steerable conv from ``out_type`` to
``in_type`` whose kernel is ``K`` with its channel axes swapped (``K^T(g u)
= rho_in(g) K^T(u) rho_out(g)^-1``, orthogonal representations): the
kernel spaces of the two directions are transposes of each other (tested).

**Output size** (per axis; ``k_eff = d (k - 1) + 1``):

* ``padding=p`` (an int or a pair, PyTorch's implicit padding: ``p`` rows
  cropped from each side of the full output): ``H' = (H - 1) s - 2 p +
  d (k - 1) + 1 + output_padding``, i.e. ``(H - 1) s - 2 p + k +
  output_padding`` without dilation -- PyTorch's and e2cnn's formula, with
  PyTorch's rule ``output_padding < max(s, d)``.
* ``padding='zeros'`` (default) or ``'circular'``: ``H' = s H``, the exact
  adjoint of ``layers.conv2d(., K^T, stride=s, padding=mode, dilation=d)``
  on an ``s H x s W`` grid. For 'zeros' and an odd ``k_eff`` it is
  ``padding=(k_eff - 1) // 2, output_padding=s - 1``; 'circular' wraps the
  scatter around the ``s H x s W`` torus, so a circular shift of the input
  by ``t`` shifts the output by ``s t``, exactly, for every ``t``.

**Exactness** (as the conv's rule): quarter turns and the mirror commute
with the layer to float precision when the grids stay centred -- a square
input, an odd ``k_eff``, and either ``s = 1`` (any padding), or an integer
padding with ``output_padding = 0`` (any ``s``: the input's centre pixel
lands on the output's, ``H' = (H - 1) s - 2 p + k_eff`` is odd for odd
``H``). 'zeros' / 'circular' at ``s > 1`` give an even ``s H`` grid whose
centre is ``(s - 1) / 2`` pixels off the image of the input's: the
rotations are not exact (a registered negative control); the diagonal
mirrors of D_N still are (they swap rows and columns without reversing
them). e2cnn warns that transposed convolutions
produce artefacts and suggests upsampling + conv
(:func:`layers.steerable.upsample`); the artefacts are the checkerboard of
the zero insertion, not a loss of equivariance on these grids.

Layout ``[B, H, W, C]``; the weights are those of a conv between the same
types (``layer_basis(in_type, out_type, k).size``); a bias lives on the
trivial output fields only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax
from jax import lax
import jax.numpy as jnp
import numpy as np

from groups import fields as fields_lib
from groups import validate
from layers import conv as conv_lib
from layers import padding as padding_lib
from layers.steerable import basis as basis_lib
from layers.steerable import conv as steerable_conv
from layers.steerable import typed

#: Padding modes of the transposed conv (besides PyTorch's integer padding).
TRANSPOSE_PADDINGS = ('zeros', 'circular')


def _check_padding(padding) -> tuple[int, int] | str:
  """``padding`` as a mode or ``(ph, pw)`` ints >= 0."""
  if isinstance(padding, str):
    if padding in TRANSPOSE_PADDINGS:
      return padding
  else:
    try:
      return validate.pair(padding, 'padding', minimum=0)
    except ValueError:
      pass
  raise ValueError(
      "padding must be 'zeros', 'circular' (output s H x s W, the adjoint of "
      'layers.conv2d with that padding and stride), or an int / pair of ints '
      ">= 0 (PyTorch's implicit padding of conv_transpose2d); got "
      f'{padding!r}.')


def check_options(*, stride, padding, output_padding, dilation
                  ) -> tuple[tuple[int, int], Any, tuple[int, int],
                             tuple[int, int]]:
  """Validates the options of :func:`conv2d_transpose`.

  Args:
    stride, padding, output_padding, dilation: as :func:`conv2d_transpose`.

  Returns:
    ``(strides, padding, output_paddings, dilations)``: pairs of ints, and
    the padding mode or its pair.
  """
  strides = validate.pair(stride, 'stride')
  dilations = validate.pair(dilation, 'dilation')
  padding = _check_padding(padding)
  try:
    output_paddings = validate.pair(output_padding, 'output_padding',
                                    minimum=0)
  except ValueError as error:
    raise ValueError(f'{error} output_padding adds rows / columns at the '
                     'bottom / right of the output (PyTorch).') from None
  if isinstance(padding, str):
    if output_paddings != (0, 0):
      raise ValueError(
          f'output_padding must be 0 with padding={padding!r}, whose output '
          f'is exactly s H x s W; got {output_padding!r}. Use an integer '
          'padding for PyTorch\'s (H - 1) s - 2 p + k + output_padding.')
  else:
    for axis in range(2):
      limit = max(strides[axis], dilations[axis])
      if output_paddings[axis] >= limit:
        raise ValueError(
            f'output_padding must be smaller than max(stride, dilation) = '
            f'{limit} on every axis (PyTorch\'s rule: larger values only add '
            f'zeros); got output_padding={output_padding!r}, stride='
            f'{stride!r}, dilation={dilation!r}.')
  return strides, padding, output_paddings, dilations


def output_size(size: int, *, kernel_size: int, stride: int = 1,
                padding: int | str = 'zeros', output_padding: int = 0,
                dilation: int = 1) -> int:
  """``H'`` of :func:`conv2d_transpose` along one axis of size ``H``.

  ``(H - 1) s - 2 p + d (k - 1) + 1 + output_padding`` for an integer
  padding ``p`` (PyTorch's ``conv_transpose2d``); ``s H`` for 'zeros' and
  'circular'.
  """
  if isinstance(padding, str):
    return stride * size
  return ((size - 1) * stride - 2 * padding + dilation * (kernel_size - 1) +
          1 + output_padding)


def _output_sizes(x_shape, kernel_hw, strides, padding, output_paddings,
                  dilations) -> list[int]:
  """``[H', W']`` of validated options; raises if the output is empty."""
  sizes = [output_size(x_shape[1 + axis], kernel_size=kernel_hw[axis],
                       stride=strides[axis],
                       padding=padding if isinstance(padding, str) else
                       padding[axis], output_padding=output_paddings[axis],
                       dilation=dilations[axis]) for axis in range(2)]
  if min(sizes) < 1:
    raise ValueError(
        f'padding={padding!r} crops the whole output: (H - 1) s - 2 p + '
        f'd (k - 1) + 1 + output_padding = {tuple(sizes)} for H, W = '
        f'{tuple(x_shape[1:3])}; use a smaller padding.')
  return sizes


def conv2d_transpose(x: jax.typing.ArrayLike, kernel: jax.typing.ArrayLike,
                     *, stride: int | tuple[int, int] = 1,
                     padding: int | tuple[int, int] | str = 'zeros',
                     output_padding: int | tuple[int, int] = 0,
                     dilation: int | tuple[int, int] = 1) -> jax.Array:
  """The transposed convolution of ``x`` with ``kernel`` (any kernel).

  Input pixel ``q`` adds ``x[q] @ kernel[i, j]`` (``[C_in] @ [C_in,
  C_out]``) at output pixel ``s q + d (i, j) - p``: PyTorch's
  ``conv_transpose2d(x, w)`` with ``w = kernel.transpose(2, 3, 0, 1)``
  ``[C_in, C_out, kh, kw]``. Computed as :func:`layers.conv2d` ('valid')
  of the zero-inserted, padded input with the point-reflected kernel, so it
  runs on the project's conv backend and differentiates like it.

  Args:
    x: ``[B, H, W, C_in]``, floating.
    kernel: ``[kh, kw, C_in, C_out]``, floating (the layout of
      :func:`layers.conv2d`, mapping ``C_in`` to ``C_out``).
    stride: int or ``(sh, sw)`` >= 1: the upsampling factor.
    padding: 'zeros' (default) | 'circular' -- output ``(s H, s W)``, the
      adjoint of ``layers.conv2d(., kernel^T, stride=s, padding=mode,
      dilation=d)`` -- or an int / pair >= 0, PyTorch's padding (module doc).
    output_padding: int or pair >= 0, extra rows / columns at the bottom /
      right; below ``max(s, d)``; 0 with a padding mode.
    dilation: int or ``(dh, dw)`` >= 1.

  Returns:
    ``[B, H', W', C_out]``; ``H' = (H - 1) s - 2 p + d (kh - 1) + 1 +
    output_padding`` for an integer padding, ``s H`` for a mode.

  Raises:
    ValueError: naming the argument, for a wrong rank, dtype or channel
      count, an unknown padding, a stride / dilation < 1, an output padding
      PyTorch refuses, or an empty output.
  """
  conv_lib.check_nhwc(x)
  validate.check_array(kernel, 'kernel', rank=4,
                        layout='[kh, kw, C_in, C_out]')
  kernel = jnp.asarray(kernel)
  if min(kernel.shape) < 1:
    raise ValueError('kernel must have kh, kw, C_in, C_out >= 1 (layout [kh, '
                     f'kw, C_in, C_out]); got shape {tuple(kernel.shape)}.')
  if kernel.shape[2] != x.shape[3]:
    raise ValueError(
        f'kernel must have C_in = x.shape[-1] = {x.shape[3]} input channels '
        f'(layout [kh, kw, C_in, C_out]); got kernel shape '
        f'{tuple(kernel.shape)}.')
  strides, padding, output_paddings, dilations = check_options(
      stride=stride, padding=padding, output_padding=output_padding,
      dilation=dilation)
  x = jnp.asarray(x)
  effective = [d * (k - 1) + 1 for d, k in zip(dilations, kernel.shape[:2])]
  sizes = _output_sizes(x.shape, kernel.shape[:2], strides, padding,
                        output_paddings, dilations)
  zero = jnp.zeros((), x.dtype)
  if isinstance(padding, str):
    # Zero insertion onto the s H x s W grid (phase 0), then the pads of a
    # correlation with the reflected kernel: (hi, lo), the conv's reversed.
    grid = lax.pad(x, zero, [(0, 0, 0), (0, strides[0] - 1, strides[0] - 1),
                             (0, strides[1] - 1, strides[1] - 1), (0, 0, 0)])
    pads = tuple(padding_lib.same_pads(e)[::-1] for e in effective)
    grid = padding_lib.pad_spatial(grid, pads, mode=padding)
  else:
    # The full output is the correlation of the zero-inserted input padded
    # by k_eff - 1 on each side; PyTorch's padding crops p of it per side
    # (a negative pad of lax.pad crops).
    edges = []
    for axis in range(2):
      before = effective[axis] - 1 - padding[axis]
      inserted = (x.shape[1 + axis] - 1) * strides[axis] + 1
      after = sizes[axis] + effective[axis] - 1 - inserted - before
      edges.append((before, after, strides[axis] - 1))
    grid = lax.pad(x, zero, [(0, 0, 0), *edges, (0, 0, 0)])
  reflected = kernel[::-1, ::-1].astype(x.dtype)
  return conv_lib.conv2d(grid, reflected, padding='valid',
                         dilation=dilations)


def steerable_conv2d_transpose(
    x: jax.typing.ArrayLike, weights: jax.typing.ArrayLike,
    bias: jax.typing.ArrayLike | None = None, *,
    in_type: fields_lib.FieldType, out_type: fields_lib.FieldType,
    kernel_size: int, stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] | str = 'zeros',
    output_padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    rings: Sequence[float] | None = None,
    widths: float | Sequence[float] | None = None,
    frequency_cutoff: Any = None) -> jax.Array:
  """Equivariant transposed convolution between two field types.

  The kernel is the conv's (:func:`layers.steerable.steerable_kernel` of
  the same arguments), applied by :func:`conv2d_transpose` (module doc: why
  that is equivariant, the output size and the exactness rule).

  Args:
    x: ``[B, H, W, C_in]``, floating, ``C_in = in_type.size``.
    weights: ``[n_basis]``, coefficients on the kernel basis from
      ``in_type`` to ``out_type`` (``layer_basis(...).size``).
    bias: None or ``[n_trivial_out]``, one per trivial output field.
    in_type: :class:`groups.FieldType` of ``x``.
    out_type: field type of the output, same group.
    kernel_size: ``k`` (the default rings give an empty basis for ``k =
      2``).
    stride, padding, output_padding, dilation: as :func:`conv2d_transpose`.
    rings, widths, frequency_cutoff: the basis options of
      :func:`layers.steerable.basis_options`.

  Returns:
    ``[B, H', W', C_out]``, ``H'`` as :func:`conv2d_transpose`.
  """
  basis_lib.check_types(in_type, out_type)
  conv_lib.check_nhwc(x)
  in_type.check_features(x)
  kernel_size = validate.integer(kernel_size, 'kernel_size', minimum=1)
  _output_sizes(np.shape(x), (kernel_size, kernel_size), *check_options(
      stride=stride, padding=padding, output_padding=output_padding,
      dilation=dilation))
  kernel = steerable_conv.steerable_kernel(
      weights, in_type=in_type, out_type=out_type, kernel_size=kernel_size,
      rings=rings, widths=widths, frequency_cutoff=frequency_cutoff)
  x = jnp.asarray(x)
  y = conv2d_transpose(x, kernel.astype(x.dtype), stride=stride,
                       padding=padding, output_padding=output_padding,
                       dilation=dilation)
  if bias is not None:
    # pylint: disable-next=protected-access
    y = y + steerable_conv.bias_vector(bias, out_type, y.dtype)
  return y


def exported_conv2d_transpose(
    x: jax.typing.ArrayLike, exported: dict[str, Any], *,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] | str = 'zeros',
    output_padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1) -> jax.Array:
  """``conv2d_transpose(x, kernel) + bias`` of an :func:`layers.steerable.
  export` ed dict (the same export as the conv's: the kernel is the same)."""
  if not isinstance(exported, dict) or set(exported) != {'kernel', 'bias'}:
    raise ValueError("exported must be the dict {'kernel', 'bias'} returned "
                     'by layers.steerable.export or SteerableConvTranspose.'
                     f'export; got {exported!r:.200}.')
  return conv2d_transpose(x, exported['kernel'], stride=stride,
                          padding=padding, output_padding=output_padding,
                          dilation=dilation) + jnp.asarray(exported['bias'])


class SteerableConvTranspose(steerable_conv.KernelParameters, typed.TypedModule,
                             nn.Module):
  """Typed :func:`steerable_conv2d_transpose`; owns ``weights`` and ``bias``.

  The parameters are those of a :class:`~layers.steerable.SteerableConv`
  between the same types (He initialisation on the basis, as e2cnn's
  ``generalized_he_init`` for its ``R2ConvTransposed``). The types and
  every option are checked at construction.

  Attributes:
    in_type: input :class:`groups.FieldType`.
    out_type: output field type.
    kernel_size: ``k``.
    stride, padding, output_padding, dilation: as :func:`conv2d_transpose`
      (default 'zeros': output ``s H x s W``).
    use_bias: learn a bias for the trivial output fields (if there are any).
    rings, widths, frequency_cutoff: basis options (e2cnn's defaults).
  """
  in_type: fields_lib.FieldType
  out_type: fields_lib.FieldType
  kernel_size: int = 3
  stride: int | tuple[int, int] = 1
  padding: int | tuple[int, int] | str = 'zeros'
  output_padding: int | tuple[int, int] = 0
  dilation: int | tuple[int, int] = 1
  use_bias: bool = True
  rings: tuple[float, ...] | None = None
  widths: float | tuple[float, ...] | None = None
  frequency_cutoff: Any = None

  def check_types(self) -> None:
    basis_lib.check_types(self.in_type, self.out_type)
    validate.integer(self.kernel_size, 'kernel_size', minimum=1)
    check_options(stride=self.stride, padding=self.padding,
                  output_padding=self.output_padding, dilation=self.dilation)
    if not isinstance(self.use_bias, bool):
      raise ValueError(f'use_bias must be a bool; got {self.use_bias!r}.')

  def _geometry(self) -> dict[str, Any]:
    return dict(stride=self.stride, padding=self.padding,
                output_padding=self.output_padding, dilation=self.dilation)

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    """Maps ``[B, H, W, in_type.size]`` to ``[B, H', W', out_type.size]``."""
    weights, bias = self._parameters()
    return steerable_conv2d_transpose(x, weights, bias, **self._geometry(),
                                      **self._options())

  def exported_call(self, exported: dict[str, Any], x) -> jax.Array:
    """Applies an exported kernel with this layer's stride / padding."""
    return exported_conv2d_transpose(x, exported, **self._geometry())
