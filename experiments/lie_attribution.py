"""Layer-wise attribution of a Flax model's Lie derivative (Gruver et al. 2023).

For ``f = f_N o ... o f_1`` the chain rule splits the end-to-end Lie
derivative into one term per layer,

    L f(x) = sum_i J_{f_N o ... o f_{i+1}}(h_i) L f_i(h_{i-1}),

each layer's own *local equivariance error* ``L f_i = J_{f_i} G_{i-1} h -
G_i f_i(h)`` carried to the output by the rest of the network
(``G_i`` the flow induced on ``h_i``). :func:`attribute` computes every term
exactly (forward-mode, no random probes) for any ``flax.linen`` model,
without editing it:

* the *leaf* modules it calls (modules that call no other module) are found
  by ``nn.intercept_methods``; each is a point where the tangent is compared
  with the ideal one: on its input (the ops between modules, e.g. a ReLU or
  a pool written as a function, form a **gap** reported as ``'before
  <path>'``) and on its output (the **layer**, ``'<path>'``); what follows
  the last leaf is ``'output'``;
* the flow induced on a tensor comes from its shape and, for typed
  equivariant modules (:mod:`layers.steerable.typed`), their field types:
  ``[B, F]`` tensors are invariant; ``[B, H, W, C]`` maps take the input
  flow at stride ``H_in / H`` (a steerable field's channels turn by
  :func:`groups.lie.fibre_of` of its type); complex ``[B, H, W, M, C]``
  H-Net maps turn stream ``m`` by ``i m``; real ``[B, H, W, G, C]`` group
  maps keep their group axis (no element of C_N / D_N is near the identity
  but the identity). Rotations, scalings and shears are scale-free: every
  map has them (about its own centre). A translation needs a whole-number
  stride ``H_in / H``; a leaf with a map without one on either side (a
  'valid' conv: 28 -> 26) is not a comparison point: it joins the gap
  around it;
* the terms are exact and *add up*: ``sum(contributions) == L f(x)`` (to
  float rounding; ``tests/lie_attribution_test.py`` checks it against
  :func:`groups.lie.lie_derivative`).

The size of each term is reported as the paper does: the batch mean of
``||term||^2`` (its Eq. 4 per layer, estimated there by random probes), and
its share of the sum of those.
"""

from __future__ import annotations

from collections.abc import Sequence
import dataclasses
import functools
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

import groups
from groups import lie
from groups import validate
from layers import steerable

OUTPUTS = ('probs', 'logits')


@dataclasses.dataclass(frozen=True)
class Attribution:
  """The terms of a model's Lie derivative at a batch.

  Attributes:
    names: one per term, in forward order: ``'before <path>'`` (the ops
      between the previous leaf modules and this one), ``'<path>'`` (the
      leaf module) and ``'output'`` (ops after the last leaf).
    kinds: ``'gap'``, ``'layer'`` or ``'output'`` per term.
    modules: the leaf module's class name ('' for gaps and the output).
    contributions: ``[T, B, ...]`` each term carried to the output.
    total: ``[B, ...]`` the end-to-end ``L f(x)``, computed separately.
  """
  names: tuple[str, ...]
  kinds: tuple[str, ...]
  modules: tuple[str, ...]
  contributions: np.ndarray
  total: np.ndarray

  def lee(self) -> np.ndarray:
    """``[T]``: batch mean of ``||term||^2`` (Eq. 4, per term)."""
    axes = tuple(range(2, self.contributions.ndim))
    return np.mean(np.sum(np.abs(self.contributions)**2, axis=axes), axis=1)

  def end_to_end(self) -> float:
    """The model's LEE: batch mean of ``||L f(x)||^2``."""
    axes = tuple(range(1, self.total.ndim))
    return float(np.mean(np.sum(np.abs(self.total)**2, axis=axes)))

  def residual(self) -> float:
    """``max |sum(contributions) - L f(x)|`` (float rounding only)."""
    return float(np.max(np.abs(self.contributions.sum(0) - self.total)))

  def rows(self, *, drop_zero: bool = True) -> list[dict[str, Any]]:
    """``{'term', 'kind', 'module', 'lee', 'share'}`` per term; ``share`` is
    the term's LEE over the sum of all terms' LEE. ``drop_zero`` leaves out
    terms below 1e-9 of the largest (exactly equivariant parts: float32
    rounding leaves ~1e-12 of them)."""
    lee = self.lee()
    total = float(lee.sum()) or 1.0
    keep = lee > 1e-9 * max(float(lee.max(initial=0.0)), 1e-30)
    return [dict(term=n, kind=k, module=m, lee=float(v), share=float(v) / total)
            for n, k, m, v, ok in zip(self.names, self.kinds, self.modules, lee,
                                      keep) if ok or not drop_zero]


@dataclasses.dataclass
class _Leaf:
  key: tuple[str, int]
  module: nn.Module
  input_shape: tuple[int, ...]
  output_shape: tuple[int, ...]
  input_complex: bool
  output_complex: bool


def _path(module: nn.Module) -> str:
  return '/'.join(module.path) or type(module).__name__


def _is_map(value: Any) -> bool:
  return isinstance(value, jax.Array) and (
      jnp.issubdtype(value.dtype, jnp.floating) or
      jnp.issubdtype(value.dtype, jnp.complexfloating)) and value.ndim >= 2


def _find_leaves(apply_fn, x) -> list[_Leaf]:
  """Leaf ``__call__``s (no module called inside them) taking and returning
  one floating array, in call order (traced, not run)."""
  calls: list[dict[str, Any]] = []
  stack: list[dict[str, Any]] = []
  seen: dict[str, int] = {}

  def record(next_fun, args, kwargs, context):
    if context.method_name != '__call__':
      return next_fun(*args, **kwargs)
    if stack:
      stack[-1]['leaf'] = False
    path = _path(context.module)
    call = dict(key=(path, seen.get(path, 0)), module=context.module,
                leaf=True, input=args[0] if args else None)
    seen[path] = seen.get(path, 0) + 1
    stack.append(call)
    try:
      out = next_fun(*args, **kwargs)
    finally:
      stack.pop()
    call['output'] = out
    calls.append(call)
    return out

  def run(x):
    with nn.intercept_methods(record):
      return apply_fn(x)

  jax.eval_shape(run, x)
  order = {c['key']: i for i, c in enumerate(calls)}
  leaves = [c for c in calls if c['leaf'] and _is_map(c['input']) and
            _is_map(c['output'])]
  # Calls complete innermost first; a leaf's position is when it completed.
  leaves.sort(key=lambda c: order[c['key']])
  return [_Leaf(c['key'], c['module'], tuple(c['input'].shape),
                tuple(c['output'].shape),
                jnp.iscomplexobj(c['input']), jnp.iscomplexobj(c['output']))
          for c in leaves]


def _tensor_flow(generator: lie.Flow, x_shape, shape, is_complex: bool,
                 field_type) -> lie.Flow | groups.Identity | None:
  """The flow ``generator`` induces on a tensor (module docstring)."""
  if len(shape) <= 3:
    return groups.Identity()
  stride_h, stride_w = x_shape[1] / shape[1], x_shape[2] / shape[2]
  if not generator.kind.startswith('translate'):
    stride_h = 1.0   # rotations, scalings, shears are scale-free
  elif stride_h != stride_w or not stride_h.is_integer() or stride_h < 1:
    return None      # e.g. after a 'valid' conv: 28 -> 26
  fibre = orders = None
  if generator.kind == 'rotate':
    if len(shape) == 5 and is_complex:
      orders = tuple(range(shape[3]))
    elif field_type is not None and field_type.size == shape[-1]:
      fibre = lie.fibre_of(field_type)
  return generator.induced(stride=int(stride_h), fibre=fibre, orders=orders)


def _field_type(module: nn.Module, side: str):
  if isinstance(module, steerable.TypedModule):
    return getattr(module, side)
  return None



def attribute(model: nn.Module, variables: Any, x: jax.typing.ArrayLike,
              generator: lie.Flow | str, *, output: str = 'probs',
              apply_kwargs: dict[str, Any] | None = None) -> Attribution:
  """Splits ``L f(x)`` of ``model`` into the terms of its leaf modules.

  Args:
    model: any ``flax.linen`` module mapping ``[B, H, W, C]`` to logits
      ``[B, K]`` (or to maps: they take the flow induced by their stride).
    variables: its variables.
    x: ``[B, H, W, C]`` floating inputs (normalised as the model expects).
    generator: a :class:`groups.lie.Flow` or a name in
      :data:`groups.lie.GENERATORS`.
    output: 'probs' (softmax of a ``[B, K]`` output, as the paper) or
      'logits' (the output as it is).
    apply_kwargs: extra keyword arguments of ``model.apply`` (default
      ``{'train': False}``).

  Returns:
    An :class:`Attribution` (NumPy arrays).
  """
  if not isinstance(model, nn.Module):
    raise ValueError(f'model must be a flax.linen.Module; got {model!r:.200}.')
  if isinstance(generator, str):
    generator = lie.flow(generator)
  if not isinstance(generator, lie.Flow):
    raise ValueError(f'generator must be a groups.lie.Flow or one of '
                     f'{lie.GENERATORS}; got {generator!r}.')
  validate.check_choice(output, 'output', OUTPUTS)
  validate.check_array(x, 'x', rank=4, layout='[B, H, W, C]')
  kwargs = {'train': False} if apply_kwargs is None else dict(apply_kwargs)
  x = jnp.asarray(x)
  key = (model, tuple(sorted(kwargs.items())), output, _flow_key(generator),
         x.shape, str(x.dtype))
  try:
    compiled = _COMPILED.get(key)
  except TypeError:   # an unhashable model or option: compiled for this call
    key = compiled = None
  if compiled is None:
    compiled = _compile(model, variables, x, generator, output, kwargs)
    if key is not None:
      if len(_COMPILED) >= _CACHE_SIZE:
        _COMPILED.pop(next(iter(_COMPILED)))
      _COMPILED[key] = compiled
  leaves, run = compiled
  result = run(variables, x)
  contributions, total = (np.asarray(a) for a in result)
  names, kinds, modules = [], [], []
  for leaf in leaves:   # every comparison point: its gap, then the leaf
    path = leaf.key[0] + (f'#{leaf.key[1]}' if leaf.key[1] else '')
    names += [f'before {path}', path]
    kinds += ['gap', 'layer']
    modules += ['', type(leaf.module).__name__]
  names.append('output')
  kinds.append('output')
  modules.append('')
  return Attribution(tuple(names), tuple(kinds), tuple(modules),
                     contributions, total)


_COMPILED: dict[Any, Any] = {}   # a few compiled attributions, newest last
_CACHE_SIZE = 16


def _flow_key(flow: lie.Flow) -> Any:
  if flow.fibre is None and flow.orders is None:
    return (flow.kind, flow.rate)
  return id(flow)


def _compile(model, variables, x, generator, output, kwargs):
  """The comparison points (leaves) and the jitted ``run(variables, x)``."""
  apply_fn = functools.partial(_apply, model, kwargs, output)
  bound = functools.partial(apply_fn, variables)
  leaves = _find_leaves(bound, x)
  out_shape = jax.eval_shape(bound, x).shape
  flows_in = [_tensor_flow(generator, x.shape, leaf.input_shape,
                           leaf.input_complex,
                           _field_type(leaf.module, 'in_type'))
              for leaf in leaves]
  flows_out = [_tensor_flow(generator, x.shape, leaf.output_shape,
                            leaf.output_complex,
                            _field_type(leaf.module, 'out_type'))
               for leaf in leaves]
  final = lie.output_flow(generator, x.shape, out_shape)
  # A comparison point needs a flow on both sides of the leaf; the others
  # (e.g. a 'valid' conv under translation) join the gap around them.
  points = [(leaf, fi, fo) for leaf, fi, fo in zip(leaves, flows_in, flows_out)
            if fi is not None and fo is not None]
  leaves, flows_in, flows_out = ([p[i] for p in points] for i in range(3))
  run = _attribute_jit(apply_fn, tuple(leaves), tuple(flows_in),
                       tuple(flows_out), generator, final)
  return leaves, run


def _apply(model, kwargs, output, variables, x):
  y = model.apply(variables, x, **kwargs)
  if output == 'probs':
    if y.ndim != 2:
      raise ValueError(f"output='probs' needs [B, K] logits; the model "
                       f"returns {tuple(y.shape)} (use output='logits').")
    y = jax.nn.softmax(y, axis=-1)
  return y


def _attribute_jit(apply_fn, leaves: Sequence[_Leaf], flows_in, flows_out,
                   generator, final):
  """The jitted computation of :func:`attribute` (static structure)."""
  keys = [leaf.key for leaf in leaves]
  index = {key: i for i, key in enumerate(keys)}

  def psi(apply, x, gammas, deltas, cut_in: bool, cut_out: bool):
    """The model with ``gamma_k`` added to leaf ``k``'s input and ``delta_k``
    to its output (optionally cutting the tangent flowing into / out of
    it); returns the output and every leaf's input and output."""
    seen: dict[str, int] = {}
    inputs: list[Any] = [None] * len(keys)
    outputs: list[Any] = [None] * len(keys)

    def intercept(next_fun, args, kwargs, context):
      if context.method_name != '__call__':
        return next_fun(*args, **kwargs)
      path = _path(context.module)
      key = (path, seen.get(path, 0))
      seen[path] = seen.get(path, 0) + 1
      k = index.get(key)
      if k is None:
        return next_fun(*args, **kwargs)
      h = args[0]
      h = (jax.lax.stop_gradient(h) if cut_in else h) + gammas[k]
      y = next_fun(h, *args[1:], **kwargs)
      y = (jax.lax.stop_gradient(y) if cut_out else y) + deltas[k]
      inputs[k], outputs[k] = h, y
      return y

    with nn.intercept_methods(intercept):
      out = apply(x)
    return out, inputs, outputs

  @jax.jit
  def run(variables, x):
    apply = functools.partial(apply_fn, variables)
    zeros_in = [jnp.zeros(l.input_shape, jnp.complex64 if l.input_complex
                          else x.dtype) for l in leaves]
    zeros_out = [jnp.zeros(l.output_shape, jnp.complex64 if l.output_complex
                           else x.dtype) for l in leaves]
    out, hs, ys = psi(apply, x, zeros_in, zeros_out, False, False)
    ideal_in = [lie.output_tangent(f, h) for f, h in zip(flows_in, hs)]
    ideal_out = [lie.output_tangent(f, y) for f, y in zip(flows_out, ys)]
    # Gaps: the ideal tangent leaves every leaf (its own tangent is cut);
    # what reaches the next leaf's input, and the output, through the ops
    # between them, minus the ideal tangent there.
    _, (t_out, t_hs, _) = lie.jvp(
        lambda x, d: psi(apply, x, zeros_in, d, False, True), (x, zeros_out),
        (generator.tangent(x), ideal_out))
    gap_errors = [t - i for t, i in zip(t_hs, ideal_in)]
    output_error = t_out - lie.output_tangent(final, out)
    # Layers: the ideal tangent enters each leaf alone (inputs cut).
    _, (_, _, t_ys) = lie.jvp(
        lambda g: psi(apply, x, g, zeros_out, True, False), (zeros_in,),
        (ideal_in,))
    layer_errors = [t - i for t, i in zip(t_ys, ideal_out)]
    if not leaves:
      return output_error[None], lie.lie_derivative(apply, x, generator, final)

    # Carry each error to the output through the whole (uncut) network:
    # source 2k is leaf k's gap (added to its input), 2k + 1 the leaf
    # (added to its output); one vmapped Jacobian-vector product.
    def carry(g, d):
      return lie.jvp(lambda g, d: psi(apply, x, g, d, False, False)[0],
                     (zeros_in, zeros_out), (g, d))[1]

    def one_hot(errors, offset):
      sources = 2 * len(leaves)
      return [jnp.zeros((sources,) + e.shape, e.dtype).at[2 * k + offset].set(e)
              for k, e in enumerate(errors)]

    carried = jax.vmap(carry)(one_hot(gap_errors, 0), one_hot(layer_errors, 1))
    contributions = jnp.concatenate([carried, output_error[None]])
    total = lie.lie_derivative(apply, x, generator, final)
    return contributions, total

  return run
