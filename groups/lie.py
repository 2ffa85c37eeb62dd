"""Local equivariance: the Lie derivative of any function along a flow.

A finite test asks whether ``f(T x) == T' f(x)`` for one transformation ``T``
(a 1-pixel shift, a 45 degree turn). The *Lie derivative* (Gruver, Finzi,
Goldblum & Wilson, "The Lie Derivative for Measuring Learned Equivariance",
ICLR 2023) asks it for an infinitesimal one: for a one-parameter family
``T_t`` (``T_0`` the identity) acting on inputs and ``T'_t`` on outputs,

    L f(x) = d/dt [ T'_{-t} f(T_t x) ]  at t = 0
           = J_f(x) (G x) - G' f(x),

where ``G x = d/dt T_t x`` and ``G' y = d/dt T'_t y`` at ``t = 0`` are the
generators. ``L f = 0`` for a function equivariant to every ``T_t``; for an
invariant output (logits) ``G' = 0`` and ``L f = J_f(x) G x``. JAX computes
it with one ``jax.jvp``; no step size is chosen.

**The flows** (:class:`Flow`, by name in :data:`GENERATORS`) act on maps
``[B, H, W, ...]`` (axes 1, 2) *on the torus, by band-limited (trigonometric)
interpolation*, so they are differentiable in ``t`` and their generators are
exact spectral derivatives:

=============  ============================================================
'translate_x'  content moves ``t`` pixels right (:func:`translations.fourier_shift`).
'translate_y'  content moves ``t`` pixels down (row index; as ``CircularShift(dy, dx)``).
'rotate'       counter-clockwise by ``t`` radians about the grid centre
               (three periodic shears, :func:`fourier_rotation.rotate_periodic`).
'scale'        magnified by ``e^t`` about the grid centre
               (:func:`scale.rescale`, periodic boundary).
'shear_x'      the row at height ``v`` (up from the centre) moves ``t v`` right.
'shear_y'      the column at ``u`` (right of the centre) moves ``t u`` up.
=============  ============================================================

Units: pixels (translations), radians (rotation), log-scale (scale), pixels
per pixel (shears). With ``u, v`` the coordinates about the centre, each
generator is ``G x = -w . grad x`` for the flow's velocity field ``w``
(``(1, 0)``, ``(-v, u)``, ``(u, v)``, ``(v, 0)``...), the gradient spectral.
Why band-limited: on the torus a circular stride-1 convolution commutes with
the spectral derivative exactly, and the global sum of a spectral derivative
is zero, so the facts of the exact tier hold to float rounding; what breaks
local equivariance is then exactly what breaks band-limits: pointwise
nonlinearities and subsampling (aliasing), as in Azulay & Weiss. (The
paper's code uses bilinear ``grid_sample``, whose derivative at ``t = 0`` is
a one-sided finite difference.)

**Induced flows.** ``flow.induced(stride=s)`` is the flow on the output of a
layer of total stride ``s``: a translation by ``t`` becomes ``t / s``;
rotations, scalings and shears are scale-free and stay the same (about the
output grid's centre). A flow may also act on the *fibre* (the non-spatial
axes): ``fibre`` is a real ``[C, C]`` generator on the channel axis of a
steerable field (:func:`fibre_of`: ``d/dtheta rho(theta)`` at 0 for SO(2) /
O(2) representations; 0 for the finite groups C_N / D_N, whose only element
near the identity is the identity, so a regular field's group axis stays put),
or ``orders`` multiplies stream ``m`` of a complex harmonic map
``[B, H, W, M, C]`` by ``i m`` (H-Nets).

**The metric** (:func:`local_equivariance_error`): per example, the squared
L2 norm of ``L f(x)`` over all output axes (``reduction='sum_squares'``);
its batch mean is the paper's local equivariance error, Eq. 4,
``LEE = E_x ||L f(x)||^2`` (the paper applies it to softmax probabilities;
so do the studies here). The paper's end-to-end script ``lee/e2e_lee.py``
instead takes ``L f(x).abs().mean(-1)`` (its issue 6): ``reduction=
'mean_abs'`` reproduces that.

Finite-transformation tests accept a :class:`Flow` wherever they take a
``groups.Transform`` (:func:`groups.equivariance_error`,
:mod:`groups.testing`): the compared pair is then ``(J_f(x) G x, G' f(x))``,
the two terms of ``L f``, and ``groups.Identity()`` as the output action
means ``G' = 0`` (invariance).
"""

from __future__ import annotations

from collections.abc import Callable
import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from groups import base
from groups import fields
from groups import fourier_rotation
from groups import harmonic
from groups import scale
from groups import translations
from groups import validate

GENERATORS = ('translate_x', 'translate_y', 'rotate', 'scale', 'shear_x',
              'shear_y')
REDUCTIONS = ('sum_squares', 'mean_abs')
# Step of the float64 central difference that gives d rho / d theta at 0 for
# a continuous group (error ~ k^3 h^2 / 6 ~ 1e-12 for frequency k <= 10).
_FIBRE_STEP = 1e-6


def _check_map(x: Any, name: str = 'x') -> jax.Array:
  """``x`` as a floating or complex ``[B, H, W, ...]`` JAX array."""
  base.check_signal(x, name)
  return jnp.asarray(x)


def _spatial_flow(kind: str, x: jax.Array, t: jax.Array) -> jax.Array:
  centre_h, centre_w = (x.shape[1] - 1) / 2, (x.shape[2] - 1) / 2
  if kind == 'translate_x':
    return translations.fourier_shift(x, 0.0, t)
  if kind == 'translate_y':
    return translations.fourier_shift(x, t, 0.0)
  if kind == 'rotate':
    return fourier_rotation.rotate_periodic(x, t, (centre_h, centre_w))
  if kind == 'scale':
    return scale.rescale(x, jnp.exp(t), boundary='periodic')
  if kind == 'shear_x':  # shift along columns by t * (centre_h - row)
    return fourier_rotation.shear(x, -t, 2, 1, centre_h)
  # shear_y: shift along rows by -t * (column - centre_w): up by t u.
  return fourier_rotation.shear(x, -t, 1, 2, centre_w)


@dataclasses.dataclass(frozen=True, eq=False)
class Flow:
  """A differentiable one-parameter family ``T_t`` of maps ``[B, H, W, ...]``.

  Attributes:
    kind: one of :data:`GENERATORS` (module docstring).
    rate: ``T_t`` moves at ``rate`` times the unit speed (a translation
      induced on a stride-``s`` output has ``rate = 1 / s``), > 0.
    fibre: optional real ``[C, C]`` generator acting on the last axis (a
      steerable field's channels): ``T_t`` multiplies each fibre by
      ``expm(t * fibre)``.
    orders: optional rotation orders of the streams on axis 3 of a complex
      harmonic map ``[B, H, W, M, C]``: stream ``m`` turns by ``e^{i m t}``.
  """
  kind: str
  rate: float = 1.0
  fibre: np.ndarray | None = None
  orders: tuple[int, ...] | None = None

  def __post_init__(self):
    validate.check_choice(self.kind, 'kind', GENERATORS)
    validate.number(self.rate, 'rate', minimum=0.0, exclusive_minimum=True)
    if self.fibre is not None:
      fibre = np.asarray(self.fibre, np.float64)
      if fibre.ndim != 2 or fibre.shape[0] != fibre.shape[1] or not np.all(
          np.isfinite(fibre)):
        raise ValueError(f'fibre must be a finite real [C, C] matrix; got '
                         f'{np.shape(self.fibre)}.')
      object.__setattr__(self, 'fibre', fibre)
    if self.orders is not None:
      object.__setattr__(self, 'orders', harmonic.check_orders(self.orders))
    if self.fibre is not None and self.orders is not None:
      raise ValueError('a Flow acts on steerable channels (fibre) or on '
                       'harmonic streams (orders), not both.')

  def __repr__(self):
    extra = '' if self.rate == 1 else f', rate={self.rate:g}'
    if self.fibre is not None:
      extra += f', fibre=[{len(self.fibre)}x{len(self.fibre)}]'
    if self.orders is not None:
      extra += f', orders={self.orders}'
    return f'Flow({self.kind!r}{extra})'

  def _check(self, x: jax.Array) -> None:
    if self.fibre is not None and x.shape[-1] != len(self.fibre):
      raise ValueError(
          f'x must have C = {len(self.fibre)} channels for {self!r} (its '
          f'fibre generator); got shape {tuple(x.shape)}.')
    if self.orders is not None and (
        x.ndim != 5 or x.shape[3] != len(self.orders) or
        not jnp.iscomplexobj(x)):
      raise ValueError(
          f'x must be a complex harmonic map [B, H, W, M, C] with M = '
          f'{len(self.orders)} streams for {self!r}; got {x.dtype} '
          f'{tuple(x.shape)}.')

  def __call__(self, x: jax.typing.ArrayLike,
               t: float | jax.Array) -> jax.Array:
    """``T_t x`` for ``x`` ``[B, H, W, ...]``; differentiable in ``t``."""
    x = _check_map(x)
    self._check(x)
    t = jnp.asarray(t, jnp.float32) if validate.is_concrete(t) else t
    y = _spatial_flow(self.kind, x, self.rate * t)
    if self.fibre is not None:
      rotation = jax.scipy.linalg.expm(t * self.fibre.astype(np.float32))
      y = jnp.einsum('...c,dc->...d', y, rotation.astype(y.dtype),
                     precision=jax.lax.Precision.HIGHEST)
    if self.orders is not None:
      phase = jnp.exp(1j * t * np.asarray(self.orders, np.float32))
      y = y * phase.astype(y.dtype)[:, None]
    return y

  def tangent(self, x: jax.typing.ArrayLike) -> jax.Array:
    """``G x = d/dt T_t x`` at ``t = 0`` (the shape and dtype of ``x``)."""
    x = _check_map(x)
    return jax.jvp(lambda t: self(x, t), (jnp.float32(0),),
                   (jnp.float32(1),))[1]

  def induced(self, *, stride: int = 1, fibre: np.ndarray | None = None,
              orders: tuple[int, ...] | None = None) -> 'Flow':
    """The flow on the output of a stride-``stride`` layer.

    Args:
      stride: the layer's total stride (int >= 1): translations slow down
        by it; the other flows are scale-free.
      fibre: the output's channel generator (see :func:`fibre_of`), if any.
      orders: the output's harmonic stream orders, if any.
    """
    stride = validate.integer(stride, 'stride', minimum=1)
    rate = self.rate / stride if self.kind.startswith('translate') else (
        self.rate)
    return Flow(self.kind, rate, fibre, orders)

  def output_action(self, *, stride: int = 1) -> 'Flow':
    """:meth:`induced` without a fibre (the :class:`groups.Transform`
    spelling, so a flow goes where a transform goes)."""
    return self.induced(stride=stride)

  def finite(self, t: float) -> 'FlowStep':
    """``T_t`` for one concrete ``t``, as a :class:`groups.Transform`."""
    return FlowStep(self, validate.number(t, 't'))


@dataclasses.dataclass(frozen=True, eq=False)
class FlowStep(base.Transform):
  """``T_t`` of a :class:`Flow` at a fixed ``t``, as a finite transform
  (for finite-difference checks and plots; inexact unless ``t == 0``)."""
  flow: Flow
  t: float

  @property
  def exact(self) -> bool:  # type: ignore[override]
    return self.t == 0

  def __call__(self, x):
    return self.flow(x, self.t)

  def inverse(self):
    return FlowStep(self.flow, -self.t)


def flow(name: str) -> Flow:
  """The flow called ``name`` (one of :data:`GENERATORS`)."""
  validate.check_choice(name, 'generator', GENERATORS)
  return Flow(name)


def fibre_of(field_type: fields.FieldType, kind: str = 'rotate'
             ) -> np.ndarray | None:
  """The generator a flow ``kind`` induces on the channels of ``field_type``.

  Only rotations act on fibres. For SO(2) / O(2) field types it is
  ``d/dtheta rho(theta)`` at ``theta = 0`` (float64 central difference; the
  representation's Lie algebra element, e.g. ``k [[0, -1], [1, 0]]`` on the
  frequency-``k`` irrep). For finite groups (C_N, D_N) it is 0 (None): no
  element but the identity is near it, so fields keep their channels while
  the grid turns; their equivariance to small turns is then only
  approximate, which is what the Lie derivative measures.
  """
  fields.check_field_type(field_type)
  validate.check_choice(kind, 'kind', GENERATORS)
  group = field_type.group
  if kind != 'rotate' or getattr(group, 'is_finite', True):
    return None
  element = (lambda a: (0, a)) if isinstance(group.identity_element, tuple) \
      else (lambda a: a)
  matrix = (field_type.matrix(element(_FIBRE_STEP)) -
            field_type.matrix(element(-_FIBRE_STEP))) / (2 * _FIBRE_STEP)
  matrix[np.abs(matrix) < 1e-6] = 0.0
  return None if not matrix.any() else matrix


def _calls_custom_vjp(jaxpr) -> bool:
  """Whether ``jaxpr`` (or one nested in it) calls a ``custom_vjp``."""
  for eqn in jaxpr.eqns:
    if eqn.primitive.name.startswith('custom_vjp'):
      return True
    for param in eqn.params.values():
      for sub in (param if isinstance(param, (tuple, list)) else (param,)):
        inner = getattr(sub, 'jaxpr', sub)
        if hasattr(inner, 'eqns') and _calls_custom_vjp(inner):
          return True
  return False


def jvp(fn: Callable[..., Any], primals: tuple[Any, ...],
        tangents: tuple[Any, ...]) -> tuple[Any, Any]:
  """``jax.jvp``, also through ``jax.custom_vjp`` functions.

  Forward mode cannot enter a ``custom_vjp`` (e.g. :func:`layers.blur_pool`'s
  matmul path, or a user's op); there the Jacobian-vector product is the
  transpose of the VJP (``jax.linear_transpose`` of ``u -> u^T J``: the
  double-backward trick of the paper's code, exact, ~2x the cost). Which
  path is taken is decided on ``fn``'s jaxpr (under ``jit`` forward mode
  fails late, where no ``try`` could catch it).
  """
  if not _calls_custom_vjp(jax.make_jaxpr(fn)(*primals).jaxpr):
    return jax.jvp(fn, primals, tangents)
  out, pullback = jax.vjp(fn, *primals)
  push = jax.linear_transpose(pullback, out)
  return out, push(tuple(tangents))[0]


def output_tangent(output: Flow | base.Identity, y: jax.Array) -> jax.Array:
  """``G' y``: the flow's tangent, or zeros for ``groups.Identity()`` (an
  invariant output)."""
  if isinstance(output, base.Identity):
    return jnp.zeros_like(y)
  return output.tangent(y)


def _check_flows(generator: Any, output: Any) -> Any:
  if not isinstance(generator, Flow):
    raise ValueError(f'generator must be a groups.lie.Flow, e.g. '
                     f"groups.lie.flow('rotate') (one of {GENERATORS}); got "
                     f'{generator!r}.')
  if output is None:
    return generator
  if not isinstance(output, (Flow, base.Identity)):
    raise ValueError('output must be a groups.lie.Flow (the induced flow on '
                     'the output) or groups.Identity() (an invariant output); '
                     f'got {output!r}.')
  return output


def tangent_pair(fn: Callable[[jax.Array], jax.Array],
                 x: jax.typing.ArrayLike, generator: Flow,
                 output: Flow | base.Identity | None = None
                 ) -> tuple[jax.Array, jax.Array]:
  """``(J_f(x) G x, G' f(x))``: the two terms of ``L f(x)``.

  Args:
    fn: function of ``x``.
    x: ``[B, H, W, C]`` (or ``[B, H, W, G, C]``), floating.
    generator: the flow ``T_t`` on inputs.
    output: ``T'_t`` on outputs: a :class:`Flow`, ``groups.Identity()``
      (invariant output, ``G' = 0``), or None (the same flow).

  Returns:
    Two arrays of the shape of ``fn(x)``.
  """
  validate.check_callable(fn, 'fn', what='of [B, H, W, ...] arrays')
  output = _check_flows(generator, output)
  x = _check_map(x)
  y, moved = jvp(fn, (x,), (generator.tangent(x),))
  return moved, output_tangent(output, y)


def output_flow(generator: Flow, x_shape: tuple[int, ...],
                y_shape: tuple[int, ...]) -> Flow | base.Identity:
  """The flow ``generator`` induces on an output of shape ``y_shape``.

  ``[B, F]`` (or any rank <= 3) outputs are invariant (:class:`groups.
  Identity`); ``[B, H', W', ...]`` maps take the induced flow of stride
  ``H / H'``, which must be a whole number, the same for both axes.
  """
  if len(y_shape) <= 3:
    return base.Identity()
  strides = {x_shape[axis] / y_shape[axis] for axis in base.SPATIAL_AXES}
  stride = strides.pop()
  if strides or not float(stride).is_integer() or stride < 1:
    raise ValueError(
        f'fn maps [B, H, W, ...] = {tuple(x_shape)} to {tuple(y_shape)}, which '
        f'has no induced {generator.kind!r} flow (needs H / H\' = W / W\' a '
        'whole number); pass output= explicitly.')
  if generator.kind == 'rotate' and len(y_shape) == 5:
    raise ValueError(
        f'fn returns a group map {tuple(y_shape)}: say how a rotation acts on '
        "its axis 3 (output=groups.lie.flow('rotate').induced(orders=...) for "
        'harmonic maps, or output=Flow(...) with the group axis kept).')
  return generator.induced(stride=int(stride))


def lie_derivative(fn: Callable[[jax.Array], jax.Array],
                   x: jax.typing.ArrayLike, generator: Flow,
                   output: Flow | base.Identity | str | None = 'auto'
                   ) -> jax.Array:
  """``L f(x) = J_f(x) G x - G' f(x)``, the shape of ``fn(x)``.

  Args:
    fn: a function of ``x`` (e.g. ``lambda x: model.apply(v, x)``).
    x: ``[B, H, W, C]`` floating inputs.
    generator: the input flow, e.g. ``groups.lie.flow('translate_x')``.
    output: the output flow: ``'auto'`` (invariant for ``[B, F]`` outputs,
      else :func:`output_flow`), a :class:`Flow`, or ``groups.Identity()``.

  Returns:
    ``L f(x)``: zero where ``fn`` is locally equivariant at ``x``.
  """
  if isinstance(output, str):
    validate.check_choice(output, 'output', ('auto',))
    _check_flows(generator, None)
    x = _check_map(x)
    y_shape = jax.eval_shape(fn, x).shape
    output = output_flow(generator, x.shape, y_shape)
  moved, expected = tangent_pair(fn, x, generator, output)
  return moved - expected


def local_equivariance_error(fn: Callable[[jax.Array], jax.Array],
                             x: jax.typing.ArrayLike, generator: Flow,
                             output: Flow | base.Identity | str | None = 'auto',
                             *, reduction: str = 'sum_squares') -> jax.Array:
  """Per-example size of ``L f(x)``, ``[B]``; the batch mean is the LEE.

  Args:
    fn, x, generator, output: as in :func:`lie_derivative`.
    reduction: 'sum_squares' (``||L f(x)||^2`` over all output axes: the
      paper's Eq. 4) or 'mean_abs' (the mean of ``|L f(x)|``, as the
      paper's ``lee/e2e_lee.py``).

  Returns:
    ``[B]`` float32.
  """
  validate.check_choice(reduction, 'reduction', REDUCTIONS)
  derivative = lie_derivative(fn, x, generator, output)
  axes = tuple(range(1, derivative.ndim))
  magnitude = jnp.abs(derivative)
  if reduction == 'sum_squares':
    return jnp.sum(jnp.square(magnitude), axis=axes).astype(jnp.float32)
  return jnp.mean(magnitude, axis=axes).astype(jnp.float32)
