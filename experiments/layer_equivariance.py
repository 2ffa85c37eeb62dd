"""Per-layer rotation equivariance of a (trained) model, in eval mode.

For each intermediate map ``f_l`` a model captures (flax
``capture_intermediates``), the relative error
``mean ||f_l(R x) - A_l f_l(x)|| / ||A_l f_l(x)||`` over a batch, where ``A_l``
is the action the rotation ``R`` induces on layer ``l``'s representation
(:func:`layer_actions`):

* G-CNNs (:class:`models.GCNN`): the regular action (rotate space, permute
  the group axis) where the angle is a group element; otherwise none, and
  the hidden layers are NaN (P4CNN at 45 degrees);
* H-Nets: rotate space and multiply order-``m`` streams by ``e^{i m theta}``;
* steerable CNNs (:class:`models.SteerableCNN`): ``groups.FieldTransform`` of
  the layer's field type (the subgroup's after a restriction);
* any other model: only the logits.

The logits' entry ``'__call__'`` is the invariance error
``||f(Rx) - f(x)|| / ||f(x)||``. Exact rotations (multiples of 90 degrees)
compare whole maps; interpolated ones compare each map on its inscribed disk
(:func:`groups.inscribed_disk`: the corners of a square turn off the grid).
Used by :mod:`experiments.rotation_report`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
import functools
import math
from typing import Any

import flax
import jax
import numpy as np

import groups
from groups import harmonic as harmonic_groups
from groups import validate
from experiments.train import inputs
from layers import steerable
import models
from models import steerable as steerable_models

LAYER_BATCH = 64                  # images per captured forward pass


def rotation_element(group: Any, degrees: float) -> Any:
  """The element of ``group`` that rotates by ``degrees``, or None if none.

  C_N / D_N: ``k`` with ``360 k / N = degrees`` (mod 360); SO(2): radians;
  O(2): ``(0, radians)``.
  """
  if isinstance(group, (groups.Cyclic, groups.Dihedral)):
    turns = degrees * group.n / 360
    if abs(turns - round(turns)) > 1e-9:
      return None
    return int(round(turns)) % group.n
  if isinstance(group, groups.SO2):
    return math.radians(degrees)
  if isinstance(group, groups.O2):
    return (0, math.radians(degrees))
  return None


def layer_actions(model: Any, degrees: float
                  ) -> dict[str, groups.Transform | None]:
  """The action a rotation by ``degrees`` induces on each layer's output.

  Args:
    model: a :class:`models.GCNN` (z2cnn, p4cnn, p4mcnn), :class:`models.HNet`
      (hnet, hnet_deep) or :class:`models.SteerableCNN` (c8cnn, c16cnn,
      d16cnn, d16c16cnn, so2cnn, o2cnn); any other flax module gets only the
      invariance of its output.
    degrees: the counter-clockwise rotation of the input.

  Returns:
    ``{submodule name: action}`` in forward order, ending with ``'__call__'``
    (the logits: :class:`groups.Identity`); an action is None where the
    layer's representation has no element for this angle (e.g. p4 at 45
    degrees).
  """
  degrees = validate.number(degrees, 'degrees')
  if isinstance(model, models.GCNN):
    actions = _gcnn_actions(model, degrees)
  elif isinstance(model, models.HNet):
    orders = tuple(range(model.max_order + 1))
    action = harmonic_groups.BilinearHarmonicRotation(degrees, orders)
    names = [name for i in range(1, len(model.widths) + 1)
             for name in (f'hconv{i}', f'nonlin{i}' if i % 2 else f'bn{i}')]
    actions = dict.fromkeys(names + ['readout'], action)
  elif isinstance(model, models.SteerableCNN):
    actions = _steerable_actions(model, degrees)
  elif isinstance(model, flax.linen.Module):
    actions = {}
  else:
    raise ValueError(f'model must be a flax module; got {model!r}.')
  return {**actions, '__call__': groups.Identity()}


def _gcnn_actions(model: models.GCNN, degrees: float) -> dict[str, Any]:
  g = rotation_element(model.group, degrees)
  action = None if g is None else model.group.regular_action(g)
  names, dropouts = [], 0
  for layer in range(1, 7):
    names += ['lift1' if layer == 1 else f'gconv{layer}', f'bn{layer}']
    if layer != 2 and model.dropout_rate:  # identity in eval mode
      names.append(f'Dropout_{dropouts}')
      dropouts += 1
  return dict.fromkeys(names + ['readout'], action)


def _steerable_actions(model: models.SteerableCNN,
                       degrees: float) -> dict[str, Any]:
  actions, group = {}, model.group
  for index, units in enumerate(model.fields, start=1):
    if index == model.restrict_at:
      group = model.subgroup
    g = rotation_element(group, degrees)
    out_type = steerable_models.hidden_type(group, units)
    conv_type = (steerable.gated_input_type(out_type)
                 if model.nonlinearity == 'gated' else out_type)
    actions[f'conv{index}'] = actions[f'bn{index}'] = (
        None if g is None else conv_type.transform(g))
    if model.nonlinearity == 'norm':
      actions[f'nonlin{index}'] = None if g is None else out_type.transform(g)
  for index in range(1, model.head_layers + 2):  # the invariant head
    names = ([f'head_dropout{index}'] if model.dropout_rate else []) + (
        ['logits'] if index > model.head_layers else
        [f'dense{index}'] + ([f'head_bn{index}'] if model.head_norm else []))
    actions.update(dict.fromkeys(names, groups.Identity()))
  return actions


def layer_errors(model: Any, variables: Any, images: np.ndarray,
                 transform: groups.Transform,
                 actions: Mapping[str, groups.Transform | None], *,
                 mean: Sequence[float] = (0.0,),
                 std: Sequence[float] = (1.0,),
                 batch_size: int = LAYER_BATCH) -> dict[str, float]:
  """Mean ``||f_l(T x) - A_l f_l(x)|| / ||A_l f_l(x)||`` of every layer ``l``.

  Args:
    model: a flax module; its submodules' outputs ``f_l`` are captured
      (``capture_intermediates``, ``train=False``).
    variables: ``{'params', 'batch_stats'}``.
    images: ``[N, H, W, C]`` floating, raw: ``T`` acts on them, then both
      are normalised with the per-channel ``mean`` and ``std``.
    transform: ``T``, e.g. ``groups.BilinearRotation(45.0)``. Exact ones
      compare whole maps, others each map's inscribed disk.
    actions: ``{layer: A_l}`` (:func:`layer_actions`); None, or a captured
      layer left out, gives NaN.
    mean: per-channel mean the model's inputs are normalised with.
    std: per-channel std.
    batch_size: images per forward pass.

  Returns:
    ``{layer: error}``, the layers of ``actions`` first (in their order).

  Raises:
    ValueError: for a bad argument or an action naming no captured layer.
  """
  validate.check_array(images, 'images', rank=4, layout='[N, H, W, C]')
  if images.shape[0] < 1:
    raise ValueError(f'images must hold at least one image [N, H, W, C]; got '
                     f'shape {images.shape}.')
  if not isinstance(transform, groups.Transform):
    raise ValueError(f'transform must be a groups.Transform, e.g. groups.'
                     f'BilinearRotation(45.0); got {transform!r}.')
  if not isinstance(actions, Mapping) or not all(
      a is None or isinstance(a, groups.Transform) for a in actions.values()):
    raise ValueError('actions must map layer names to groups.Transform or '
                     f'None (see layer_actions); got {actions!r}.')
  size = min(validate.integer(batch_size, 'batch_size', minimum=1),
             images.shape[0])
  try:
    capture = _capture_fn(model)
  except TypeError:  # an unhashable module: compiled for this call only
    capture = jax.jit(functools.partial(_capture, model))

  @jax.jit  # one compile for all layers instead of one per eager op
  def compare(before, after):
    return {name: groups.relative_error(
        after[name], actions[name](output),
        mask=None if transform.exact or output.ndim < 4 else
        groups.inscribed_disk(output.shape[1], output.shape[2]))
            for name, output in before.items()
            if actions.get(name) is not None}

  per_layer: dict[str, list[np.ndarray]] = {}
  for start in range(0, images.shape[0], size):
    chunk = np.asarray(images[start:start + size], np.float32)
    valid = chunk.shape[0]  # the last chunk is zero-padded: one compile
    chunk = np.concatenate([chunk, np.zeros((size - valid,) + chunk.shape[1:],
                                            np.float32)])
    before = capture(variables, inputs.normalize(chunk, mean, std))
    after = capture(variables,
                    inputs.normalize(transform(chunk), mean, std))
    unknown = [name for name in actions if name not in before]
    if unknown:
      raise ValueError(f'actions name layers the model does not have: '
                       f'{unknown}; captured: {sorted(before)}.')
    for name, error in compare(before, after).items():
      per_layer.setdefault(name, []).append(np.asarray(error)[:valid])
  names = list(actions) + sorted(n for n in before if n not in actions)
  return {n: float(np.mean(np.concatenate(per_layer[n])))
          if n in per_layer else math.nan for n in names}


def _capture(model: Any, variables: Any, x: jax.Array) -> dict[str, Any]:
  """``{layer: output}`` of ``model`` on ``x`` in eval mode (the first call
  of each submodule; the logits under ``'__call__'``)."""
  _, state = model.apply(variables, x, train=False, capture_intermediates=True,
                         mutable=['intermediates'])
  flat = flax.traverse_util.flatten_dict(state['intermediates'], sep='/')
  return {path.removesuffix('/__call__') or '__call__': value[0]
          for path, value in flat.items()}


@functools.lru_cache(maxsize=8)
def _capture_fn(model: Any):
  """:func:`_capture` jitted once per model (variables are an argument)."""
  return jax.jit(functools.partial(_capture, model))
