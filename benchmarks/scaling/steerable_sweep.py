"""Steerable-conv sweeps: a k x k conv between regular fields of C_N.

:func:`layers.steerable.steerable_conv2d` from ``F`` regular fields of
``groups.Cyclic(N)`` to ``F`` regular fields (``[B, S, S, N F]`` in and
out, zero padding, no bias), forward + backward as the conv sweeps: the
VJP with respect to the input and to the basis coefficients ``weights
[n_basis]``, so every call expands the kernel from its basis, as in
training. Two sweeps from the base point ``B = base_batch``, ``S =
base_size``:

* ``steerable_order`` — ``N`` over ``steerable_orders`` (C4, C8, C16) at
  ``F = steerable_base_fields`` (8: the shapes of the ``group_order``
  sweep's ``gconv C_N`` with ``C = 8``, there with 3x3 filters);
* ``steerable_fields`` — ``F`` over ``steerable_fields`` (2, 4, 8, 16) at
  ``N = steerable_base_order`` (C8).

Solving a basis (cached per field types) is part of building the point:
``setup_s`` in the rows, not ``lower_s`` / ``compile_s``.
"""

from __future__ import annotations

from collections.abc import Callable
import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import groups
from benchmarks.scaling import problems
from layers import steerable

LAYER = 'steerable'


def regular_type(order: int, fields: int) -> groups.FieldType:
  """``fields`` regular fields of C_``order``: ``order * fields`` channels."""
  group = groups.Cyclic(order)
  return groups.FieldType(group, fields * [group.regular_representation])


def points(config: problems.ScalingConfig
           ) -> dict[str, list[problems.Point]]:
  """The ``steerable_order`` and ``steerable_fields`` sweeps."""
  def point(order, fields):
    # channels per group element = fields, as the gconv points' C.
    return problems.Point(LAYER, batch=config.base_batch,
                          size=config.base_size, channels=fields,
                          group_order=order, fields=fields)
  return {
      'steerable_order': [point(n, config.steerable_base_fields)
                          for n in config.steerable_orders],
      'steerable_fields': [point(config.steerable_base_order, f)
                           for f in config.steerable_fields],
  }


def build(point: problems.Point, config: problems.ScalingConfig
          ) -> tuple[Callable[..., Any], tuple[jax.Array, ...]]:
  """The jitted forward + backward of a steerable point and its arguments.

  Returns:
    ``(fn, (x, weights, cotangent))``: ``x`` and ``cotangent`` ``[B, S, S,
    N F]``, ``weights`` ``[n_basis]`` (He-initialised); ``fn`` returns the
    output ``[B, S, S, N F]`` and the gradients w.r.t. ``x`` and
    ``weights``.
  """
  field_type = regular_type(point.group_order, point.fields)
  k = config.steerable_kernel_size
  basis = steerable.layer_basis(field_type, field_type, k)  # solved, cached
  rng = np.random.default_rng(config.seed)
  b, s, c = point.batch, point.size, field_type.size
  x = jnp.asarray(rng.standard_normal((b, s, s, c), np.float32))
  weights = jnp.asarray(rng.standard_normal(basis.size, np.float32) *
                        basis.he_std())
  cotangent = jnp.asarray(rng.standard_normal((b, s, s, c), np.float32))
  layer = functools.partial(steerable.steerable_conv2d, in_type=field_type,
                            out_type=field_type, kernel_size=k,
                            padding='zeros')
  return problems.forward_backward(layer), (x, weights, cotangent)


def series(point: problems.Point, sweep: str) -> str:
  if sweep == 'steerable_order':
    return f'{LAYER} C_N, F={point.fields}'
  return f'{LAYER} C{point.group_order}'


def describe(point: problems.Point) -> str:
  return (f'{f"{LAYER} C{point.group_order}":<13s} B={point.batch:<3d} '
          f'S={point.size:<3d} F={point.fields:<3d}')


FAMILY = problems.register(LAYER, problems.Family(
    sweeps={
        'steerable_order': problems.Sweep(
            'group_order', 'group order N (C_N), steerable regular fields'),
        'steerable_fields': problems.Sweep(
            'fields', 'regular fields F (steerable)'),
    },
    layers=(LAYER,), points=points, build=build, series=series,
    describe=describe, gflop_limit=lambda config: config.max_gflop))
