"""Typed equivariant modules: every layer knows its input and output field types.

escnn's habit (``escnn/nn/modules/equivariant_module.py``,
``sequential_module.py``), in linen:

* every steerable module (:class:`~layers.steerable.SteerableConv`, the
  nonlinearities, norms, pools, restriction and up-sampling) is built from
  its input :class:`groups.FieldType` and exposes ``in_type`` and
  ``out_type`` (:class:`TypedModule`); a module that cannot act on its
  ``in_type`` (a pointwise ELU on irrep fields, say) fails when it is
  *constructed*, with a ``ValueError`` naming the type;
* :class:`EquivariantSequential` checks at construction that each layer's
  ``in_type`` is the previous layer's ``out_type`` -- the same group and the
  same representations in the same order, not just the same width -- and
  names the first mismatch by position, layer name and both types;
* every typed module measures its own equivariance
  (:meth:`TypedModule.equivariance_errors`), and :func:`typed_layers` finds
  the typed modules inside *any* flax model (by interception, without
  editing the model), so per-layer measurements need no submodule names.

Layout: ``[B, H, W, C]`` steerable maps (:mod:`groups.fields`); a module
whose output is invariant and has no grid (:class:`InvariantReadout`,
``[B, F]``) says so through :meth:`TypedModule.output_action`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
import functools
from typing import Any

import flax.linen as nn
import jax
import numpy as np

import groups
from groups import base
from groups import fields as fields_lib
from groups import named
from groups import representations as reps_lib
from groups import scale as scale_lib
from groups import testing


class TypedModule:
  """Mixin of the typed steerable modules (no fields of its own).

  A subclass is a linen module with an ``in_type`` field and an ``out_type``
  (a field or a property); :meth:`check_types` runs at construction, so a
  type the module cannot act on fails there, not when it is first called.
  """

  def __post_init__(self):
    self.check_types()
    super().__post_init__()

  def check_types(self) -> None:
    """Checks ``in_type`` and ``out_type`` are field types (a subclass adds
    what it needs of them, calling this first)."""
    fields_lib.check_field_type(self.in_type, 'in_type')
    fields_lib.check_field_type(self.out_type, 'out_type')

  def output_action(self, element: Any) -> base.Transform:
    """The action of ``element`` (of ``out_type.group``) on the output."""
    return self.out_type.transform(element)

  def input_element(self, element: Any) -> Any:
    """``element`` of ``out_type.group`` as one of ``in_type.group`` (the
    same element, except after a restriction: its embedding)."""
    return element

  def input_action(self, element: Any) -> base.Transform:
    """The action of ``element`` (of ``out_type.group``) on the input
    (``in_type``'s field transform of :meth:`input_element`; a module whose
    input has no grid, :class:`~layers.steerable.EquivariantLinear`, acts on
    the fibres only)."""
    return self.in_type.transform(self.input_element(element))

  def check_input(self, x: jax.typing.ArrayLike) -> None:
    """Checks ``x`` is an input of ``in_type`` (``[B, H, W, C]`` maps by
    default)."""
    self.in_type.check_features(x, 'x')

  def trial(self, variables: Any, x: jax.typing.ArrayLike, element: Any,
            **call_kwargs) -> testing.Trial:
    """A registry :class:`groups.testing.Trial` of this module at ``element``.

    ``f = apply(variables, .)``, ``T`` the input action of ``element`` (of
    ``out_type.group``; embedded after a restriction), ``T'`` its output
    action: a registry case of a typed module is a draw of ``x``, the
    parameters and ``element``, then ``return module.trial(...)``.
    """
    return testing.Trial(
        functools.partial(self.apply, variables, **call_kwargs),
        np.asarray(x), self.input_action(element),
        self.output_action(element))

  def equivariance_errors(self, variables: Any, x: jax.typing.ArrayLike, *,
                          elements: Iterable[Any] | None = None,
                          **call_kwargs) -> dict[str, float]:
    """``max_b ||f(g x) - g f(x)|| / ||g f(x)||`` for each ``g``.

    Args:
      variables: the module's variables (``module.init(key, x)``).
      x: ``[B, H, W, in_type.size]`` input (``[B, in_type.size]`` for a
        module without a grid, :meth:`check_input`).
      elements: elements of ``out_type.group`` (after a restriction the
        input moves by their embedding); default :meth:`default_elements`
        (:func:`exact_elements`: the quarter turns and mirrors the group
        has, which act exactly on a square grid).
      **call_kwargs: passed to ``apply`` (e.g. ``use_running_average``).

    Returns:
      ``{element name: largest relative error over the batch}``; exact
      elements give float32 rounding (~1e-6) on a centred, symmetric grid.
    """
    self.check_input(x)
    group = self.out_type.group
    elements = (self.default_elements() if elements is None else
                list(elements))
    apply = jax.jit(functools.partial(self.apply, variables, **call_kwargs))
    fx = apply(x)
    errors = {}
    for g in elements:
      expected = self.output_action(g)(fx)
      actual = apply(self.input_action(g)(x))
      error = groups.relative_error(actual, expected,
                                    mask=self.compare_mask(g, fx.shape))
      errors[_element_name(group, g)] = float(np.max(error))
    return errors

  def default_elements(self) -> list[Any]:
    """The elements :meth:`equivariance_errors` uses by default:
    :func:`exact_elements` of ``out_type.group``."""
    return exact_elements(self.out_type.group)

  def compare_mask(self, element: Any, shape: tuple[int, ...]
                   ) -> np.ndarray | None:
    """Where the output action of ``element`` predicts an output of
    ``shape`` (None: everywhere)."""
    del element, shape
    return None


def _element_name(group, g) -> str:
  namer = getattr(group, 'element_name', None)
  return namer(g) if namer else repr(g)


def exact_elements(group: Any) -> list[Any]:
  """The non-identity elements of ``group`` that act exactly on the grid.

  Quarter turns (and, for D_N / O(2), the mirror and its products with
  them) -- the elements an exact test of a square, centred layer uses.
  """
  if group.is_finite:
    return [g for g in group.elements()
            if g != group.identity_element and group.grid_action(g).exact]
  turns = [named.rotation_element(group, 90.0 * k) for k in (1, 2, 3)]
  if isinstance(group, groups.O2):
    # (1, t) acts as R(t + 2 d) F: the group's own mirror on a grid axis,
    # else the elements that act as the left-right flip (and then 90°).
    start = (0.0 if reps_lib.is_grid_axis(group.axis) else
             -2 * group.axis_offset % (2 * np.pi))
    turns += [(1, start), (1, start + np.pi / 2)]
  return turns


#: What a typed module's ``in_type`` / ``out_type`` may be: steerable field
#: types, or the scale family's types (:mod:`layers.scale.modules`).
TYPE_CLASSES = (fields_lib.FieldType, scale_lib.ScaleType)


def check_typed(module: Any, name: str) -> None:
  """Checks ``module`` exposes ``in_type`` and ``out_type`` field types."""
  if not (isinstance(getattr(module, 'in_type', None), TYPE_CLASSES)
          and isinstance(getattr(module, 'out_type', None), TYPE_CLASSES)):
    raise ValueError(
        f'{name} must be a typed equivariant module with in_type and '
        'out_type field types (layers.steerable.SteerableConv, '
        'InnerBatchNorm, PointwiseNonlinearity, layers.scale.ScaleConv, '
        f'...); got {type(module).__name__} {module!r:.200}.')


def _label(index: int, module: Any) -> str:
  name = getattr(module, 'name', None)
  return f'layer {index} ({type(module).__name__}' + (
      f" '{name}')" if name else ')')


def check_chain(layers: Sequence[Any]) -> None:
  """Checks every layer's ``in_type`` is the previous layer's ``out_type``.

  Raises:
    ValueError: naming the first mismatch: both layers and both types.
  """
  if isinstance(layers, nn.Module) or not isinstance(layers, Sequence) or (
      not layers):
    raise ValueError('layers must be a non-empty sequence of typed '
                     f'equivariant modules; got {layers!r:.200}.')
  for index, layer in enumerate(layers):
    check_typed(layer, f'layers[{index}]')
  for index in range(1, len(layers)):
    before, after = layers[index - 1], layers[index]
    if after.in_type != before.out_type:
      width = (' (the same width: the representations differ)'
               if after.in_type.size == before.out_type.size else '')
      raise ValueError(
          f'{_label(index, after)} has in_type {after.in_type}, but '
          f'{_label(index - 1, before)} gives out_type {before.out_type}'
          f'{width}; the types must chain.')


class EquivariantSequential(TypedModule, nn.Module):
  """Typed layers applied in order; the chain is checked at construction.

  ``EquivariantSequential((SteerableConv(t0, t1, 5), InnerBatchNorm(t1),
  PointwiseNonlinearity(t1, 'elu')))`` maps ``[B, H, W, t0.size]`` to
  ``[B, H', W', t1.size]``; putting a layer whose ``in_type`` is not the
  previous ``out_type`` there raises a ``ValueError`` naming both.

  Each layer is called with the array only (set batch norms'
  ``use_running_average`` when building them, as flax's ``nn.Sequential``).

  Attributes:
    layers: the typed modules (their parameters live under ``layers_{i}``,
      or under the names they were given when built inside a parent's
      compact method).
  """
  layers: Sequence[nn.Module]

  def check_types(self) -> None:
    check_chain(self.layers)

  @property
  def in_type(self) -> fields_lib.FieldType:
    return self.layers[0].in_type

  @property
  def out_type(self) -> fields_lib.FieldType:
    return self.layers[-1].out_type

  def output_action(self, element: Any) -> base.Transform:
    return self.layers[-1].output_action(element)

  def input_element(self, element: Any) -> Any:
    for layer in reversed(self.layers):
      element = layer.input_element(element)
    return element

  def input_action(self, element: Any) -> base.Transform:
    first = self.layers[0]
    if not isinstance(first, TypedModule):
      return super().input_action(element)
    for layer in reversed(self.layers[1:]):
      element = layer.input_element(element)
    return first.input_action(element)

  def check_input(self, x: jax.typing.ArrayLike) -> None:
    first = self.layers[0]
    if isinstance(first, TypedModule):
      first.check_input(x)
    else:
      self.in_type.check_features(x, 'x')

  def __call__(self, x: jax.Array) -> jax.Array:
    """Maps ``[B, H, W, in_type.size]`` (the first layer's input layout)
    through every layer."""
    self.check_input(x)
    for layer in self.layers:
      x = layer(x)
    return x


def typed_layers(model: nn.Module, variables: Any, *args,
                 method: str | Callable | None = None,
                 **kwargs) -> dict[str, TypedModule]:
  """The typed modules ``model.apply(variables, *args, **kwargs)`` calls.

  Runs the model abstractly (``jax.eval_shape``: no arithmetic) with a
  method interceptor, so it works for any flax model built from typed
  modules, without names or edits.

  Returns:
    ``{submodule path ('a/b'): module}`` in call order, the paths those of
    ``capture_intermediates``; a module called twice keeps its first call.
  """
  if not isinstance(model, nn.Module):
    raise ValueError(f'model must be a flax.linen.Module; got {model!r:.200}.')
  found: dict[str, TypedModule] = {}

  def record(next_fun, call_args, call_kwargs, context):
    module = context.module
    if (context.method_name == '__call__' and isinstance(module, TypedModule)
        and not isinstance(module, EquivariantSequential)):
      found.setdefault('/'.join(module.path), module)
    return next_fun(*call_args, **call_kwargs)

  def apply(variables, *args):
    return model.apply(variables, *args, method=method, **kwargs)

  with nn.intercept_methods(record):   # variables may be abstract too
    jax.eval_shape(apply, variables, *args)
  return found


def rotation_actions(layers: dict[str, TypedModule], degrees: float
                     ) -> dict[str, base.Transform | None]:
  """``{path: action}`` of a rotation by ``degrees`` on each layer's output.

  The element is taken in each layer's own output group (the subgroup after
  a restriction); None where that group has no such rotation (C4 at 45
  degrees).
  """
  actions = {}
  for path, module in layers.items():
    g = named.rotation_element(module.out_type.group, degrees)
    actions[path] = None if g is None else module.output_action(g)
  return actions
