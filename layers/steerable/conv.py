"""The steerable convolution: weights on a solved kernel basis, one conv.

``steerable_conv2d(x, weights, bias, in_type=..., out_type=..., kernel_size=k)``
maps a steerable map ``[B, H, W, C_in]`` of field type ``in_type`` to one of
``out_type``, ``[B, H', W', C_out]``: the kernel ``[k, k, C_in, C_out]`` is
``sum_n weights[n] basis[n]`` over the layer's :class:`KernelBasis` (solved
once per (types, options) and cached), applied by ONE :func:`layers.conv2d`
call with its stride, dilation and padding. A bias is added to the trivial
(scalar) output fields only: a constant on any other field would not
transform with ``rho_out``.

Exactness (as the README's rules for p4): ``f(g . x) = g . f(x)`` holds to
float precision for quarter turns and the left-right mirror (whenever the
group contains them) when the sampling grid is symmetric about the centre --
square input, square odd kernel, a centred padding ('zeros', 'circular',
'reflect', 'replicate'; 'valid' too), and for stride ``s`` ``(H - 1) % s ==
0``. Every other angle is approximate: the basis is band-limited, so the
error is small on smooth inputs inside the inscribed disk (docs/steerable.md
states the measured bound).

For inference, :func:`export` expands the kernel once: ``conv2d(x,
kernel) + bias`` then equals the training-mode call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from groups import fields as fields_lib
from groups import validate
from layers import conv as conv_lib
from layers.steerable import basis as basis_lib
from layers.steerable import fieldwise
from layers.steerable import typed


def check_weights(weights, basis: basis_lib.KernelBasis, *,
                  space: str = 'kernel space') -> None:
  """Checks ``weights`` ``[n_basis]`` has one coefficient per element of
  ``basis`` (``space`` names what the basis spans in the message)."""
  validate.check_array(weights, 'weights', rank=1, layout='[n_basis]')
  if weights.shape[0] != basis.size:
    raise ValueError(
        f'weights must have n_basis = {basis.size} entries, the dimension of '
        f'the {space} from {basis.in_type} to {basis.out_type}; got '
        f'shape {tuple(weights.shape)}.')


def bias_vector(bias, out_type: fields_lib.FieldType, dtype) -> jax.Array:
  """Scatters ``[n_trivial]`` onto the trivial channels of ``[C_out]``."""
  trivial = out_type.trivial_channels()
  validate.check_array(bias, 'bias', rank=1, layout='[n_trivial_out]')
  if bias.shape[0] != len(trivial):
    raise ValueError(
        f'bias must have one entry per trivial output field ({len(trivial)} '
        f'in {out_type}); got shape {tuple(bias.shape)}.')
  return fieldwise.on_channels(jnp.asarray(bias, dtype), trivial,
                               out_type.size)


def steerable_kernel(weights: jax.typing.ArrayLike, *,
                     in_type: fields_lib.FieldType,
                     out_type: fields_lib.FieldType, kernel_size: int,
                     rings: Sequence[float] | None = None,
                     widths: float | Sequence[float] | None = None,
                     frequency_cutoff: Any = None) -> jax.Array:
  """The conv kernel ``[k, k, C_in, C_out]`` of basis coefficients ``weights``.

  Args:
    weights: ``[n_basis]``, floating.
    in_type, out_type, kernel_size, rings, widths, frequency_cutoff: as
      :func:`steerable_conv2d`.
  """
  basis = basis_lib.layer_basis(in_type, out_type, kernel_size, rings=rings,
                                widths=widths,
                                frequency_cutoff=frequency_cutoff)
  check_weights(weights, basis)
  return basis.jax_expand(jnp.asarray(weights))


def steerable_conv2d(x: jax.typing.ArrayLike, weights: jax.typing.ArrayLike,
                     bias: jax.typing.ArrayLike | None = None, *,
                     in_type: fields_lib.FieldType,
                     out_type: fields_lib.FieldType, kernel_size: int,
                     stride: int | tuple[int, int] = 1,
                     padding: str = 'zeros',
                     dilation: int | tuple[int, int] = 1,
                     rings: Sequence[float] | None = None,
                     widths: float | Sequence[float] | None = None,
                     frequency_cutoff: Any = None) -> jax.Array:
  """Equivariant convolution between two field types.

  Args:
    x: ``[B, H, W, C_in]``, floating, ``C_in = in_type.size`` (layout of
      :mod:`groups.fields`).
    weights: ``[n_basis]``, coefficients on the layer's kernel basis
      (``layer_basis(...).size``).
    bias: None or ``[n_trivial_out]``, one per trivial output field.
    in_type: :class:`groups.FieldType` of ``x``.
    out_type: field type of the output, same group.
    kernel_size: ``k`` (int >= 1; the default rings give an empty basis for
      ``k = 2``).
    stride, padding, dilation: as :func:`layers.conv2d` (padding 'zeros' by
      default).
    rings, widths, frequency_cutoff: the basis options of
      :func:`layers.steerable.basis_options`.

  Returns:
    ``[B, H', W', C_out]`` with ``H', W'`` as :func:`layers.conv2d`.
  """
  basis_lib.check_types(in_type, out_type)
  conv_lib.check_nhwc(x)
  in_type.check_features(x)
  kernel = steerable_kernel(weights, in_type=in_type, out_type=out_type,
                            kernel_size=kernel_size, rings=rings,
                            widths=widths, frequency_cutoff=frequency_cutoff)
  x = jnp.asarray(x)
  y = conv_lib.conv2d(x, kernel.astype(x.dtype), stride=stride,
                      padding=padding, dilation=dilation)
  if bias is not None:
    y = y + bias_vector(bias, out_type, y.dtype)
  return y


def export(weights: jax.typing.ArrayLike,
           bias: jax.typing.ArrayLike | None = None, *,
           in_type: fields_lib.FieldType, out_type: fields_lib.FieldType,
           kernel_size: int, rings=None, widths=None,
           frequency_cutoff=None) -> dict[str, np.ndarray]:
  """Precomputes the plain conv kernel for inference.

  Returns:
    ``{'kernel': [k, k, C_in, C_out], 'bias': [C_out]}`` float32 NumPy
    arrays; ``layers.conv2d(x, kernel, stride=..., padding=...,
    dilation=...) + bias`` equals :func:`steerable_conv2d` with the same
    arguments.
  """
  kernel = steerable_kernel(weights, in_type=in_type, out_type=out_type,
                            kernel_size=kernel_size, rings=rings,
                            widths=widths, frequency_cutoff=frequency_cutoff)
  full_bias = (jnp.zeros((out_type.size,), kernel.dtype) if bias is None
               else bias_vector(bias, out_type, kernel.dtype))
  return {'kernel': np.asarray(kernel), 'bias': np.asarray(full_bias)}


def exported_conv2d(x: jax.typing.ArrayLike, exported: dict[str, Any], *,
                    stride: int | tuple[int, int] = 1, padding: str = 'zeros',
                    dilation: int | tuple[int, int] = 1) -> jax.Array:
  """``conv2d(x, kernel) + bias`` of an :func:`export` ed dict."""
  if not isinstance(exported, dict) or set(exported) != {'kernel', 'bias'}:
    raise ValueError("exported must be the dict {'kernel', 'bias'} returned "
                     f'by layers.steerable.export; got {exported!r}.')
  return conv_lib.conv2d(x, exported['kernel'], stride=stride,
                         padding=padding, dilation=dilation) + jnp.asarray(
                             exported['bias'])


def he_init(basis: basis_lib.KernelBasis) -> Callable:
  """A flax initializer ``(key, shape, dtype) -> [n_basis]`` (He, per basis)."""
  std = basis.he_std()

  def init(key, shape, dtype=jnp.float32):
    if tuple(shape) != (basis.size,):
      raise ValueError(f'shape must be ({basis.size},); got {shape}.')
    return jax.random.normal(key, shape, dtype) * jnp.asarray(std, dtype)
  return init


def basis_parameters(module: nn.Module, basis: basis_lib.KernelBasis, *,
                     use_bias: bool) -> tuple[jax.Array, jax.Array | None]:
  """A typed layer's ``weights [n_basis]`` (He initialisation on ``basis``)
  and, if ``use_bias`` and ``basis.out_type`` has trivial fields, ``bias
  [n_trivial]`` (zeros); call it inside ``module``'s compact ``__call__``."""
  weights = module.param('weights', he_init(basis), (basis.size,),
                         jnp.float32)
  bias = None
  n_trivial = len(basis.out_type.trivial_channels())
  if use_bias and n_trivial:
    bias = module.param('bias', nn.initializers.zeros_init(), (n_trivial,),
                        jnp.float32)
  return weights, bias


class KernelParameters:
  """Mixin of the steerable convs (:class:`SteerableConv`,
  :class:`~layers.steerable.SteerableConvTranspose`): the cached basis of
  ``in_type -> out_type``, the ``weights`` and ``bias`` parameters and their
  export. No fields of its own: the module defines ``in_type``,
  ``out_type``, ``kernel_size``, ``use_bias`` and the basis options."""

  def _options(self) -> dict[str, Any]:
    return dict(in_type=self.in_type, out_type=self.out_type,
                kernel_size=self.kernel_size, rings=self.rings,
                widths=self.widths, frequency_cutoff=self.frequency_cutoff)

  def basis(self) -> basis_lib.KernelBasis:
    """The layer's cached :class:`KernelBasis` (``in_type -> out_type``)."""
    options = self._options()
    return basis_lib.layer_basis(
        options.pop('in_type'), options.pop('out_type'),
        options.pop('kernel_size'), **options)

  def _parameters(self) -> tuple[jax.Array, jax.Array | None]:
    """``(weights, bias)`` of :func:`basis_parameters`, made in the module's
    compact ``__call__``."""
    return basis_parameters(self, self.basis(), use_bias=self.use_bias)

  def export(self, params: dict[str, Any]) -> dict[str, np.ndarray]:
    """The plain kernel ``[k, k, C_in, C_out]`` and bias ``[C_out]`` of
    trained ``params`` (see :func:`export`), for ``exported_call``."""
    if not isinstance(params, dict) or 'weights' not in params:
      raise ValueError("params must be the module's params dict with "
                       f"'weights' (and 'bias'); got {params!r:.200}.")
    return export(params['weights'], params.get('bias'), **self._options())


class SteerableConv(KernelParameters, typed.TypedModule, nn.Module):
  """Typed :func:`steerable_conv2d`; owns ``weights`` and ``bias``.

  Attributes:
    in_type: input :class:`groups.FieldType`.
    out_type: output field type.
    kernel_size: ``k``.
    stride, padding, dilation: as :func:`layers.conv2d`.
    use_bias: learn a bias for the trivial output fields (if there are any).
    rings, widths, frequency_cutoff: basis options (e2cnn's defaults).
  """
  in_type: fields_lib.FieldType
  out_type: fields_lib.FieldType
  kernel_size: int = 3
  stride: int | tuple[int, int] = 1
  padding: str = 'zeros'
  dilation: int | tuple[int, int] = 1
  use_bias: bool = True
  rings: tuple[float, ...] | None = None
  widths: float | tuple[float, ...] | None = None
  frequency_cutoff: Any = None

  def check_types(self) -> None:
    basis_lib.check_types(self.in_type, self.out_type)

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    """Maps ``[B, H, W, in_type.size]`` to ``[B, H', W', out_type.size]``."""
    weights, bias = self._parameters()
    return steerable_conv2d(x, weights, bias, stride=self.stride,
                            padding=self.padding, dilation=self.dilation,
                            **self._options())

  def exported_call(self, exported: dict[str, Any], x) -> jax.Array:
    """Applies an exported kernel with this layer's stride/padding/dilation."""
    return exported_conv2d(x, exported, stride=self.stride,
                           padding=self.padding, dilation=self.dilation)
