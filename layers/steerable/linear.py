"""Equivariant linear maps between field types on feature vectors (no grid).

``equivariant_linear(x, weights, bias, in_type=, out_type=)`` maps
``[B, C_in]`` feature vectors of a :class:`groups.FieldType` ``in_type`` to
``[B, C_out]`` of ``out_type`` (escnn's ``nn.Linear``): ``y = x W + b``
with ``W [C_in, C_out]`` an intertwiner, ``W^T rho_in(g) = rho_out(g)
W^T`` for every ``g``. The intertwiners are
exactly the 1x1 steerable kernels, so ``W = sum_n weights[n] basis[n]`` over
the kernel basis of ``kernel_size=1`` (:func:`layers.steerable.layer_basis`,
frequency 0 only: one implementation, the same solver as the conv). The bias
sits on the trivial output fields only, as the conv's; He initialisation as
the conv's (:func:`layers.steerable.he_init`).

Layout: ``[B, C]`` only, as escnn's ``Linear`` (a vector-valued head, e.g.
an orientation predicted from pooled fields). On a map ``[B, H, W, C]`` the
same map at every pixel is :class:`~layers.steerable.SteerableConv` with
``kernel_size=1``: the same cached basis, so the same ``weights`` /
``bias`` parameters give the same numbers (tested).

Exactness: ``g`` acts on ``[B, C]`` by ``x -> x rho(g)^T``
(:class:`FiberTransform`: no pixels move, so nothing is interpolated); the
map commutes with it to float precision for *every* element, any angle of
SO(2) / O(2) included -- the irreps' matrices are exact at any angle.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from groups import base
from groups import fields as fields_lib
from groups import named
from groups import validate
from layers.steerable import basis as basis_lib
from layers.steerable import conv as conv_lib
from layers.steerable import typed

#: The layout of :func:`equivariant_linear`'s input and output.
LAYOUT = '[B, C] with C the sum of the field sizes'


def check_vectors(x: Any, field_type: fields_lib.FieldType,
                  name: str = 'x') -> jax.Array:
  """Checks ``x`` is a float ``[B, C]`` with ``C = field_type.size``."""
  validate.check_array(x, name, rank=2, layout=LAYOUT)
  if x.shape[-1] != field_type.size:
    raise ValueError(
        f'{name} must have C = {field_type.size} channels, the size of '
        f'{field_type} (layout {LAYOUT}); got shape {tuple(x.shape)}.')
  return jnp.asarray(x)


@dataclasses.dataclass(frozen=True, eq=False)
class FiberTransform(base.Transform):
  """``x -> rho(g) x`` on feature vectors ``[B, C]`` (no grid to move).

  The output action of :class:`EquivariantLinear` and its input action;
  exact for every element.
  """
  field_type: fields_lib.FieldType
  element: object

  def __post_init__(self):
    fields_lib.check_field_type(self.field_type)
    object.__setattr__(self, 'element',
                       self.field_type.group.check_element(self.element,
                                                           'element'))

  def __call__(self, x):
    x = check_vectors(x, self.field_type)
    matrix = self.field_type.matrix(self.element).astype(np.float32)
    return jnp.einsum('bc,dc->bd', x, matrix,
                      precision=jax.lax.Precision.HIGHEST).astype(x.dtype)

  def inverse(self):
    group = self.field_type.group
    return FiberTransform(self.field_type, group.inverse(self.element))

  def __repr__(self):
    return f'FiberTransform({self.field_type}, {self.element!r})'


def fiber_action(field_type: fields_lib.FieldType, g: Any) -> FiberTransform:
  """The action of ``g`` on ``[B, C]`` vectors of ``field_type``."""
  return FiberTransform(field_type, g)


def linear_basis(in_type: fields_lib.FieldType,
                 out_type: fields_lib.FieldType) -> basis_lib.KernelBasis:
  """The cached space of intertwiners ``in_type -> out_type``.

  The 1x1 steerable kernel basis (:func:`layers.steerable.layer_basis` with
  ``kernel_size=1``); its ``dense()`` is ``[n_basis, 1, 1, C_in, C_out]``.

  Raises:
    ValueError: if the types are not field types of one group, or no
      nonzero equivariant linear map exists (no irrep in common).
  """
  basis_lib.check_types(in_type, out_type)
  try:
    return basis_lib.solve(in_type, out_type, basis_lib.basis_options(1))
  except ValueError:  # the only one solve() raises: an empty basis
    raise ValueError(
        f'in_type and out_type must share an irrep for an equivariant linear '
        f'map; {in_type} and {out_type} have none in common, so the only '
        'equivariant linear map between them is 0.') from None


def linear_matrix(weights: jax.typing.ArrayLike, *,
                  in_type: fields_lib.FieldType,
                  out_type: fields_lib.FieldType) -> jax.Array:
  """The matrix ``W [C_in, C_out]`` of basis coefficients ``weights``.

  Args:
    weights: ``[n_basis]``, floating (``linear_basis(...).size``).
    in_type, out_type: as :func:`equivariant_linear`.

  Returns:
    ``[C_in, C_out]``: ``x @ W`` is equivariant for ``[B, C_in]`` rows ``x``.
  """
  basis = linear_basis(in_type, out_type)
  conv_lib.check_weights(weights, basis, space='intertwiner space')
  return basis.jax_expand(jnp.asarray(weights))[0, 0]


def equivariant_linear(x: jax.typing.ArrayLike,
                       weights: jax.typing.ArrayLike,
                       bias: jax.typing.ArrayLike | None = None, *,
                       in_type: fields_lib.FieldType,
                       out_type: fields_lib.FieldType) -> jax.Array:
  """An equivariant linear map of feature vectors (escnn ``nn.Linear``).

  Args:
    x: ``[B, C_in]``, floating, ``C_in = in_type.size`` (no grid: use
      ``SteerableConv(kernel_size=1)`` on ``[B, H, W, C]`` maps).
    weights: ``[n_basis]`` coefficients on :func:`linear_basis`.
    bias: None or ``[n_trivial_out]``, one per trivial output field.
    in_type: the :class:`groups.FieldType` of ``x``.
    out_type: the field type of the output, same group.

  Returns:
    ``[B, C_out]`` of type ``out_type``.
  """
  basis_lib.check_types(in_type, out_type)
  if getattr(x, 'ndim', None) == 4:
    raise ValueError(
        f'x must have rank 2 ({LAYOUT}); got shape {tuple(x.shape)}. On '
        '[B, H, W, C] maps the same map at every pixel is steerable_conv2d / '
        'SteerableConv with kernel_size=1 (the same basis and parameters).')
  x = check_vectors(x, in_type)
  matrix = linear_matrix(weights, in_type=in_type, out_type=out_type)
  y = jnp.matmul(x, matrix.astype(x.dtype),
                 precision=jax.lax.Precision.HIGHEST)  # [B, C_out]
  if bias is not None:
    y = y + conv_lib.bias_vector(bias, out_type, y.dtype)
  return y


class EquivariantLinear(typed.TypedModule, nn.Module):
  """Typed :func:`equivariant_linear`; owns ``weights`` and ``bias``.

  Acts on ``[B, in_type.size]`` vectors; every element acts on input and
  output by :class:`FiberTransform` (no grid), so the typed trial machinery
  (:meth:`trial`, :meth:`equivariance_errors`) works on ``[B, C]``.

  Attributes:
    in_type: input :class:`groups.FieldType`.
    out_type: output field type (sharing an irrep with ``in_type``).
    use_bias: learn a bias for the trivial output fields (if there are any).
  """
  in_type: fields_lib.FieldType
  out_type: fields_lib.FieldType
  use_bias: bool = True

  def check_types(self) -> None:
    linear_basis(self.in_type, self.out_type)
    if not isinstance(self.use_bias, (bool, np.bool_)):
      raise ValueError(f'use_bias must be a bool; got {self.use_bias!r}.')

  def basis(self) -> basis_lib.KernelBasis:
    """The layer's cached intertwiner basis (:func:`linear_basis`)."""
    return linear_basis(self.in_type, self.out_type)

  def input_action(self, element: Any) -> base.Transform:
    return FiberTransform(self.in_type, self.input_element(element))

  def output_action(self, element: Any) -> base.Transform:
    return FiberTransform(self.out_type, element)

  def check_input(self, x: jax.typing.ArrayLike) -> None:
    check_vectors(x, self.in_type)

  def default_elements(self) -> list[Any]:
    """Every element acts exactly on vectors: all of C_N / D_N; the quarter
    turns, mirrors and a 30 degree rotation of SO(2) / O(2)."""
    group = self.out_type.group
    if group.is_finite:
      return [g for g in group.elements() if g != group.identity_element]
    return typed.exact_elements(group) + [named.rotation_element(group, 30.0)]

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    """Maps ``[B, in_type.size]`` to ``[B, out_type.size]``."""
    weights, bias = conv_lib.basis_parameters(self, self.basis(),
                                              use_bias=self.use_bias)
    return equivariant_linear(x, weights, bias, in_type=self.in_type,
                              out_type=self.out_type)

  def export(self, params: dict[str, Any]) -> dict[str, np.ndarray]:
    """``{'matrix': [C_in, C_out], 'bias': [C_out]}`` float32 of trained
    ``params``: ``x @ matrix + bias`` equals the module's output."""
    if not isinstance(params, dict) or 'weights' not in params:
      raise ValueError("params must be the module's params dict with "
                       f"'weights' (and 'bias'); got {params!r:.200}.")
    exported = conv_lib.export(params['weights'], params.get('bias'),
                               in_type=self.in_type, out_type=self.out_type,
                               kernel_size=1)
    return {'matrix': exported['kernel'][0, 0], 'bias': exported['bias']}
