"""Whole-model export: a trained steerable model as a plain Flax model.

``export_model(model, variables, x, train=False)`` returns ``(exported,
plain_variables)`` with ``exported.apply(plain_variables, x, train=False)``
equal to ``model.apply(variables, x, train=False)`` (eval mode: running
batch-norm statistics), for any flax model built from the typed steerable
modules -- :class:`models.steerable.SteerableCNN` and its presets, the
steerable U-Net, an :class:`~layers.steerable.EquivariantSequential`, a
user's own module -- found by interception, as :func:`typed_layers` does:
no submodule names, no edits to the model.

What becomes of each typed module (the plan, :attr:`ExportedModel.plan`):

* :class:`~layers.steerable.SteerableConv` and
  :class:`~layers.steerable.SteerableConvTranspose`: ``'conv'`` -- the kernel
  ``[k, k, C_in, C_out]`` expanded once from the basis coefficients
  (:func:`layers.steerable.export`), applied by :func:`layers.conv2d` /
  :func:`layers.steerable.conv2d_transpose` with the layer's stride,
  padding and dilation, plus a bias ``[C_out]``.
* a batch norm (:class:`~layers.steerable.InnerBatchNorm`,
  :class:`~layers.steerable.NormBatchNorm`,
  :class:`~layers.steerable.GNormBatchNorm`) in eval mode is an affine map of
  each pixel's channels, ``y -> y M + c``: inner batch norm a per-channel
  scale (``M`` diagonal), norm batch norm a per-field factor (``M = Q D
  Q^T`` with ``D`` constant on each field: diagonal), gnorm a factor per
  irrep block (``M`` block diagonal, channels of a field mixed). It is
  ``'folded'`` into the conv that produces its input -- ``K' = K M``, ``b' =
  b M + c``, exact up to float rounding -- when the trace shows that conv's
  output is used by the norm and by nothing else (and both are called
  once); otherwise it stays as a plain op: ``'affine'`` (``y * scale +
  bias``, params ``scale [C]``, ``bias [C]``) when ``M`` is diagonal,
  ``'channel_mix'`` (``y @ kernel + bias``, a 1x1 conv, ``kernel [C, C]``)
  when it is not.
* everything else (nonlinearities, pools, restriction, read-outs, flax's own
  ``nn.Dense`` / ``nn.Dropout``, the per-channel
  ``layers.batch_statistics.BatchNorm``, concatenations) runs as
  before, with its variables copied unchanged: these are plain functions of
  plain per-field or per-channel arrays (a norm nonlinearity's bias, a
  dense kernel), none of them basis coefficients.

The exported model runs the model's own forward code under a method
interceptor that replaces those modules' calls, so skip connections,
concatenations and heads need no description; under ``jax.jit`` that code
is traced once and the compiled program holds plain convolutions only.
Layout: ``[B, H, W, C]`` maps; the kernels are :func:`layers.conv2d`'s
``[kh, kw, C_in, C_out]``.

Measured (tests/steerable_export_test.py, float32, random batch-norm
statistics): the exported outputs equal the model's to a relative max error
of 1e-7 to 7e-7 (0 for the U-Nets, which have no norms; docs/steerable.md
lists each model's figure).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
import dataclasses
from typing import Any

from flax import traverse_util
import flax.linen as nn
import jax
from jax.extend import core as jax_core
import jax.numpy as jnp
import numpy as np

from layers.steerable import conv as conv_lib
from layers.steerable import fieldwise
from layers.steerable import inner_norm
from layers.steerable import norm as norm_lib
from layers.steerable import transposed
from layers.steerable import typed

#: The plan's kinds, per module path.
KINDS = ('conv', 'folded', 'affine', 'channel_mix')

_CONVS = (conv_lib.SteerableConv, transposed.SteerableConvTranspose)
_NORMS = (inner_norm.InnerBatchNorm, norm_lib.NormBatchNorm)  # + GNorm
# Relative size of an off-diagonal entry of M still called diagonal: norm
# batch norm's M = Q D Q^T is diagonal up to the float32 rounding of Q.
_DIAGONAL_RTOL = 1e-6


@dataclasses.dataclass(frozen=True, eq=False)
class _Program:
  """The model whose forward code the exported model runs (a hashable box,
  so flax does not adopt the model as a submodule of :class:`ExportedModel`)."""
  model: nn.Module
  method: str | None


class ExportedModel(nn.Module):
  """A steerable model with plain kernels: ``apply(plain_variables, ...)``.

  Built by :func:`export_model`; call it with the arguments the model was
  exported with (``exported.apply(plain_variables, x, train=False)``, ``x``
  ``[B, H, W, C]``). It owns no initializers: its variables are the ones
  :func:`export_model` returns, and ``rngs`` are not passed on (inference).

  Attributes:
    program: the original model (its forward code) and method.
    plan: ``((path, kind, partner), ...)`` for every replaced module:
      ``kind`` one of :data:`KINDS`; ``partner`` the path of the norm folded
      into a conv, or of the conv a ``'folded'`` norm went into, else ''.
  """
  program: _Program
  plan: tuple[tuple[str, str, str], ...]

  @property
  def model(self) -> nn.Module:
    """The original (steerable) model."""
    return self.program.model

  def kinds(self) -> dict[str, str]:
    """``{module path: kind}`` of the replaced modules, in call order."""
    return {path: kind for path, kind, _ in self.plan}

  def __call__(self, *args, **kwargs):
    """The model's output for ``args`` (``x`` ``[B, H, W, C]``, ...)."""
    variables = self.variables
    plan = {path: (kind, partner) for path, kind, partner in self.plan}
    produced = {}   # conv path -> its output (folded norms check it)

    def replace(next_fun, call_args, call_kwargs, context):
      module = context.module
      if context.method_name != '__call__' or module.scope is None:
        return next_fun(*call_args, **call_kwargs)
      path = '/'.join(module.path)
      if path not in plan:
        return next_fun(*call_args, **call_kwargs)
      kind, partner = plan[path]
      params = _subtree(variables.get('params', {}), module.path)
      x = call_args[0]
      if kind == 'conv':
        if not isinstance(module, _CONVS):
          raise ValueError(_moved(path, module, 'a steerable conv'))
        produced[path] = module.exported_call(
            {'kernel': params['kernel'], 'bias': params['bias']}, x)
        return produced[path]
      if not isinstance(module, _NORMS):
        raise ValueError(_moved(path, module, 'a steerable batch norm'))
      if kind == 'folded':
        if produced.get(partner) is not x:
          raise ValueError(
              f"the batch norm '{path}' was folded into the conv '{partner}'"
              ', but now its input is not that conv\'s output: the model\'s '
              'data flow differs from the one it was exported with (other '
              'call arguments?); export it again with these arguments.')
        return x
      if kind == 'affine':
        return x * params['scale'] + params['bias']
      return jnp.einsum('...c,cd->...d', x, params['kernel'],
                        precision=jax.lax.Precision.HIGHEST) + params['bias']

    with nn.intercept_methods(replace):
      return self.program.model.apply(variables, *args,
                                      method=self.program.method, **kwargs)


def _moved(path, module, expected):
  return (f"the module at '{path}' is a {type(module).__name__}, not "
          f'{expected} as when the model was exported; export this model '
          'again.')


def _subtree(tree: Mapping[str, Any], path: tuple[str, ...]) -> Any:
  for name in path:
    tree = tree.get(name, {}) if isinstance(tree, Mapping) else {}
  return tree


def _to_dicts(tree: Any) -> Any:
  """Nested plain dicts (copies) of a (Frozen)Dict tree; leaves as they are."""
  if isinstance(tree, Mapping):
    return {key: _to_dicts(value) for key, value in tree.items()}
  return tree


@dataclasses.dataclass
class _Call:
  path: str
  module: nn.Module
  inputs: Any = None
  output: Any = None
  marker: int = -1   # index of its optimization_barrier in the trace


def _use_running_average(module, call_args, call_kwargs) -> bool | None:
  value = call_kwargs.get('use_running_average',
                          call_args[1] if len(call_args) > 1 else None)
  return module.use_running_average if value is None else value


def _trace(model, variables, args, method, kwargs
           ) -> tuple[list[_Call], dict[int, int] | None]:
  """The typed modules' calls, in order, and which conv output feeds which
  norm alone (``{conv call index: norm call index}``; None when the trace
  cannot tell, then nothing is folded)."""
  calls: list[_Call] = []
  markers: list[int] = []   # the call index of each barrier, in order

  def mark(value, index):
    markers.append(index)
    calls[index].marker = len(markers) - 1
    return jax.lax.optimization_barrier(value)

  def record(next_fun, call_args, call_kwargs, context):
    module = context.module
    if (context.method_name != '__call__' or
        not isinstance(module, typed.TypedModule) or
        isinstance(module, typed.EquivariantSequential)):
      return next_fun(*call_args, **call_kwargs)
    path = '/'.join(module.path)
    calls.append(_Call(path, module))
    index = len(calls) - 1
    if isinstance(module, _NORMS):
      if not _use_running_average(module, call_args, call_kwargs):
        raise _NotExportable(
            f"the batch norm '{path}' ({type(module).__name__}) runs in "
            'training mode (batch statistics); export the model in eval '
            'mode, with the arguments that make it use the running '
            "statistics (train=False for models.steerable; "
            'use_running_average=True when the norm is built).')
      x = mark(call_args[0], index)
      calls[index].inputs = call_args[0]
      return next_fun(x, *call_args[1:], **call_kwargs)
    output = next_fun(*call_args, **call_kwargs)
    if isinstance(module, _CONVS):
      output = mark(output, index)
      calls[index].output = output
    return output

  def apply(variables, *args):
    return model.apply(variables, *args, method=method, **kwargs)

  with nn.intercept_methods(record):
    jaxpr = jax.make_jaxpr(apply)(variables, *args).jaxpr
  barriers = [eqn for eqn in jaxpr.eqns
              if eqn.primitive.name == 'optimization_barrier']
  if len(barriers) != len(markers):  # nested transforms, or the model's own
    return calls, None
  uses: dict[Any, int] = {}
  for eqn in jaxpr.eqns:
    for var in eqn.invars:
      if isinstance(var, jax_core.Var):
        uses[var] = uses.get(var, 0) + 1
  for var in jaxpr.outvars:
    if isinstance(var, jax_core.Var):
      uses[var] = uses.get(var, 0) + 1
  counts: dict[str, int] = {}
  for call in calls:
    counts[call.path] = counts.get(call.path, 0) + 1
  folds = {}
  for norm_index, norm_call in enumerate(calls):
    if not isinstance(norm_call.module, _NORMS):
      continue
    for conv_index, conv_call in enumerate(calls[:norm_index]):
      if conv_call.output is not norm_call.inputs:
        continue
      conv_var = barriers[conv_call.marker].outvars[0]
      if (counts[conv_call.path] == 1 and counts[norm_call.path] == 1 and
          uses.get(conv_var, 0) == 1 and
          barriers[norm_call.marker].invars[0] is conv_var):
        folds[conv_index] = norm_index
  return calls, folds


class _NotExportable(ValueError):
  """A ValueError of the export itself (passed on as it is)."""


def norm_affine(module: nn.Module, params: Mapping[str, Any],
                batch_stats: Mapping[str, Any]
                ) -> tuple[np.ndarray, np.ndarray]:
  """A steerable batch norm in eval mode as ``y -> y @ matrix + offset``.

  Args:
    module: an :class:`~layers.steerable.InnerBatchNorm`,
      :class:`~layers.steerable.NormBatchNorm` or
      :class:`~layers.steerable.GNormBatchNorm`.
    params: its params (``scale``, ``bias`` as it uses them).
    batch_stats: its running ``mean`` and ``var``.

  Returns:
    ``(matrix [C, C], offset [C])`` float64, ``C = in_type.size``: the
    norm of a pixel's channels ``y [C]`` is ``y @ matrix + offset``.
  """
  field_type = module.in_type
  size = field_type.size
  mean = np.asarray(batch_stats['mean'], np.float64)
  var = np.asarray(batch_stats['var'], np.float64)
  scale = params.get('scale') if module.use_scale else None
  bias = params.get('bias') if module.use_bias else None
  factor = 1.0 / np.sqrt(var + module.epsilon)
  if scale is not None:
    factor = factor * np.asarray(scale, np.float64)
  if isinstance(module, inner_norm.InnerBatchNorm):
    field_of = fieldwise.field_index(field_type)
    per_channel = factor[field_of]
    offset = -per_channel * mean[field_of]
    if bias is not None:
      offset = offset + np.asarray(bias, np.float64)[field_of]
    return np.diag(per_channel), offset
  # pylint: disable-next=protected-access
  q, block_of, trivial, _ = norm_lib._irreps_basis(field_type,
                                                   module.per_irrep)
  q = np.asarray(q, np.float64)
  per_channel = factor[block_of]
  shift = np.zeros(size)   # in the irreps basis, on the trivial components
  if len(trivial):
    shift[trivial] = -per_channel[trivial] * mean
    if bias is not None:
      shift[trivial] += np.asarray(bias, np.float64)
  # z = y Q; z -> z D + shift; y' = z Q^T (norm.py's _to/_from_irreps).
  return q @ np.diag(per_channel) @ q.T, shift @ q.T


def _is_diagonal(matrix: np.ndarray) -> bool:
  off = matrix - np.diag(np.diag(matrix))
  return bool(np.max(np.abs(off), initial=0.0) <=
              _DIAGONAL_RTOL * np.max(np.abs(matrix), initial=0.0))


def export_model(model: nn.Module, variables: Mapping[str, Any], *args,
                 method: str | Callable | None = None, **kwargs
                 ) -> tuple[ExportedModel, dict[str, Any]]:
  """Exports a trained steerable model to plain kernels for inference.

  Args:
    model: a flax module built from typed steerable modules (any model of
      :mod:`models.steerable`, the steerable U-Net, an
      :class:`~layers.steerable.EquivariantSequential`, your own).
    variables: its trained variables (``params`` and the running
      ``batch_stats``).
    *args: an example of the call's positional arguments: ``x`` ``[B, H, W,
      C]`` (an array or ``jax.ShapeDtypeStruct``; only its shape matters,
      the model is traced abstractly).
    method: the method to export (default ``__call__``; a name).
    **kwargs: the call's keyword arguments, in eval mode (``train=False``).

  Returns:
    ``(exported, plain_variables)``: ``exported.apply(plain_variables, *x,
    **kwargs)`` equals ``model.apply(variables, *x, **kwargs)`` for inputs
    of the example's layout. ``plain_variables`` has, at each steerable
    conv, ``{'kernel': [k, k, C_in, C_out], 'bias': [C_out]}`` (a folded
    norm's affine included); at each norm left standing ``{'scale',
    'bias'}`` ``[C]`` or ``{'kernel': [C, C], 'bias': [C]}``; the folded
    norms are gone (params and batch_stats); the rest is copied.

  Raises:
    ValueError: naming what: ``model`` not a flax module, ``variables``
      without ``params``, no example input, variables or an input the model
      cannot be applied to (the model's own error quoted), a steerable batch
      norm in training mode, a typed module with basis coefficients
      (``weights``) that has no plain form here, or a model without any
      steerable conv.
  """
  if not isinstance(model, nn.Module):
    raise ValueError(f'model must be a flax.linen.Module; got '
                     f'{type(model).__name__} {model!r:.200}.')
  if model.scope is not None:
    raise ValueError('model must be unbound (the module definition, as '
                     'model.apply takes it); got a bound module.')
  if not isinstance(variables, Mapping) or 'params' not in variables:
    raise ValueError(
        "variables must be the model's variables, a dict with 'params' (and "
        "'batch_stats'), as model.init returns; got "
        f'{type(variables).__name__} {variables!r:.200}.')
  if not args:
    raise ValueError('an example input must be given: export_model(model, '
                     'variables, x) with x [B, H, W, C] (an array or a '
                     'jax.ShapeDtypeStruct).')
  if method is not None and not isinstance(method, str):
    raise ValueError(f'method must be a method name (str) or None; got '
                     f'{method!r:.200}.')
  try:
    calls, folds = _trace(model, variables, args, method, kwargs)
  except _NotExportable:
    raise
  except Exception as error:  # the model's own error, quoted
    raise ValueError(
        f'cannot export {type(model).__name__}: applying it to the given '
        f'variables and input failed ({type(error).__name__}: '
        f'{str(error)[:600]}); pass the variables model.init gave (with '
        "'params' and 'batch_stats') and an input of its layout.") from error
  folds = folds or {}
  plain = _to_dicts(variables)
  params, stats = plain['params'], plain.get('batch_stats', {})
  folded_into = {norm: conv for conv, norm in folds.items()}
  plan = []
  done = set()
  for index, call in enumerate(calls):
    module, path = call.module, tuple(call.module.path)
    if call.path in done:
      continue
    if isinstance(module, _CONVS):
      exported = module.export(_subtree(variables['params'], path))
      kernel = np.asarray(exported['kernel'], np.float64)
      bias = np.asarray(exported['bias'], np.float64)
      partner = ''
      if index in folds:
        norm_call = calls[folds[index]]
        matrix, offset = norm_affine(
            norm_call.module,
            _subtree(variables['params'], tuple(norm_call.module.path)),
            _subtree(variables.get('batch_stats', {}),
                     tuple(norm_call.module.path)))
        kernel = np.einsum('hwio,oc->hwic', kernel, matrix)
        bias = bias @ matrix + offset
        partner = norm_call.path
      _put(params, path, {'kernel': kernel.astype(np.float32),
                          'bias': bias.astype(np.float32)})
      plan.append((call.path, 'conv', partner))
    elif isinstance(module, _NORMS):
      _drop(stats, path)
      if index in folded_into:
        _drop(params, path)
        plan.append((call.path, 'folded', calls[folded_into[index]].path))
      else:
        matrix, offset = norm_affine(
            module, _subtree(variables['params'], path),
            _subtree(variables.get('batch_stats', {}), path))
        if _is_diagonal(matrix):
          entry, kind = {'scale': np.diag(matrix).astype(np.float32)}, 'affine'
        else:
          entry, kind = {'kernel': matrix.astype(np.float32)}, 'channel_mix'
        entry['bias'] = offset.astype(np.float32)
        _put(params, path, entry)
        plan.append((call.path, kind, ''))
    else:
      own = _subtree(params, path)
      if isinstance(own, Mapping) and 'weights' in own and not isinstance(
          own['weights'], Mapping):
        raise ValueError(
            f"cannot export the module '{call.path}' "
            f'({type(module).__name__}): it holds basis coefficients '
            "('weights') and export_model knows a plain form only for "
            'SteerableConv, SteerableConvTranspose and the steerable batch '
            'norms.')
    done.add(call.path)
  if not any(kind == 'conv' for _, kind, _ in plan):
    raise ValueError(
        f'cannot export {type(model).__name__}: it calls no steerable conv '
        '(SteerableConv / SteerableConvTranspose), so there is nothing to '
        'expand; it is a plain model already.')
  if 'batch_stats' in plain:
    plain['batch_stats'] = _prune(stats)
    if not plain['batch_stats']:
      del plain['batch_stats']
  plain['params'] = _prune(params)
  exported_model = ExportedModel(_Program(model, method), tuple(plan))
  return exported_model, plain


def _put(tree: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
  for name in path[:-1]:
    tree = tree.setdefault(name, {})
  tree[path[-1]] = value


def _drop(tree: dict[str, Any], path: tuple[str, ...]) -> None:
  for name in path[:-1]:
    tree = tree.get(name, {})
  if isinstance(tree, dict):
    tree.pop(path[-1], None)


def _prune(tree: Any) -> Any:
  """Drops empty dicts (left where whole modules were folded away)."""
  if not isinstance(tree, dict):
    return tree
  pruned = {key: _prune(value) for key, value in tree.items()}
  return {key: value for key, value in pruned.items()
          if not (isinstance(value, dict) and not value)}


def steerable_leaves(variables: Mapping[str, Any]) -> list[str]:
  """The paths of basis coefficients (leaves named ``weights``) in a tree:
  ``[]`` for exported variables."""
  found = []
  for path, _ in traverse_util.flatten_dict(_to_dicts(variables)).items():
    if path[-1] == 'weights':
      found.append('/'.join(path))
  return found
