"""Per-layer rotation equivariance of a (trained) model, in eval mode.

For each intermediate map ``f_l`` a model captures (flax
``capture_intermediates``), the relative error
``mean ||f_l(R x) - A_l f_l(x)|| / ||A_l f_l(x)||`` over a batch, where ``A_l``
is the action the rotation ``R`` induces on layer ``l``'s representation
(:func:`layer_actions`). The actions come from the model itself, never from
names kept here:

* a model with a ``layer_actions(degrees)`` method says them
  (:class:`models.GCNN`: the regular action where the angle is a group
  element, else None; :class:`models.HNet`: rotate space and multiply
  order-``m`` streams by ``e^{i m theta}``; :class:`models.SteerableCNN`:
  each typed layer's ``out_type`` action);
* any other model built from typed equivariant modules
  (:mod:`layers.steerable.typed`) is traced once and each typed module's
  ``out_type`` gives its action (:func:`layers.steerable.typed_layers`);
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
from groups import scale
from groups import validate
from experiments.train import inputs
from layers import steerable

LAYER_BATCH = 64                  # images per captured forward pass


def layer_actions(model: Any, degrees: float, *, variables: Any = None,
                  x: Any = None) -> dict[str, groups.Transform | None]:
  """The action a rotation by ``degrees`` induces on each layer's output.

  Args:
    model: a flax module. If it has a ``layer_actions(degrees)`` method
      (the G-CNNs, H-Nets and steerable CNNs of :mod:`models` do), that
      method gives the actions; otherwise, with ``variables`` and ``x``,
      every typed equivariant module it calls gives its ``out_type``'s
      action; otherwise only the output is measured.
    degrees: the counter-clockwise rotation of the input.
    variables: the model's variables (only for a model without
      ``layer_actions``: it is traced, not run, with ``train=False``).
    x: an example input ``[B, H, W, C]`` for that trace.

  Returns:
    ``{submodule path: action}`` in forward order, ending with
    ``'__call__'`` (the logits: :class:`groups.Identity`); an action is None
    where the layer's representation has no element for this angle (e.g.
    p4 at 45 degrees).
  """
  degrees = validate.number(degrees, 'degrees')
  if not isinstance(model, flax.linen.Module):
    raise ValueError(f'model must be a flax module; got {model!r}.')
  if callable(getattr(model, 'layer_actions', None)):
    actions = dict(model.layer_actions(degrees))
  elif variables is not None and x is not None:
    validate.check_array(x, 'x', rank=4, layout='[B, H, W, C]')
    typed = steerable.typed_layers(model, variables, np.asarray(x),
                                   train=False)
    actions = steerable.rotation_actions(typed, degrees)
  else:
    actions = {}
  return {**actions, '__call__': groups.Identity()}


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
        mask=_compare_mask(transform, actions[name], output.shape))
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


def _compare_mask(transform: groups.Transform, action: groups.Transform,
                  shape: tuple[int, ...]) -> np.ndarray | None:
  """Where ``action`` predicts a map of ``shape``: everywhere for exact
  transforms and vectors; else the inscribed disk (interpolated rotations),
  and on a scale map ``[B, H, W, S, C]`` under a rescale only the scales
  whose partner is in the set (:func:`groups.scale.partner_mask`)."""
  if transform.exact or len(shape) < 4:
    return None
  disk = groups.inscribed_disk(shape[1], shape[2])
  if isinstance(action, groups.ScaleAxisRescale) and len(shape) == 5:
    return scale.partner_mask(*shape[1:4], action.k) & disk[:, :, None]
  return disk


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
