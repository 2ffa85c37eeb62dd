"""A max reduction whose gradient goes to exactly one maximal entry.

``jnp.max``'s derivative (JAX's ``reduce_max`` JVP rule) routes the
cotangent through the mask ``operand == max``, dividing it among the
entries equal to the result. That comparison is between two floats that,
under ``jax.jit``, XLA may compute in *different* fusions: when the operand
is cheap to recompute (e.g. a training-mode batch norm's output), the
backward fusions recompute it, and a recomputation rounded differently from
the forward pass's makes the mask all-false in a window, so that window's
gradient is silently dropped (or split). P4MCNN's jitted training gradient
was wrong by a relative 1.33 this way, under both XLA:CPU code generations
(jax 0.10.2; ``python -m benchmarks.codegen_gradients``,
``tests/xla_codegen_test.py``); op by op it was right.

:func:`max_reduce` gives the same values as ``jnp.max`` (it selects one
entry; NaN propagates), but its derivative is that of a *selection*: a chain
of ``where(v > best, v, best)`` over the reduced entries (few entries) or an
``argmax`` and a gather (many). Recomputing the comparison in the backward
pass can only move the cotangent between entries within rounding of the
maximum; it always reaches exactly one entry. On ties it goes to the first
maximal entry in row-major order of the reduced axes (as PyTorch's max pool
and ``lax.reduce_window``'s gradient do), not shared among them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

#: Reductions over at most this many entries are a chain of selects (one
#: elementwise fusion, no transpose); larger ones an argmax and a gather.
UNROLL_LIMIT = 32


def _axes(axis: int | Sequence[int], ndim: int) -> tuple[int, ...]:
  if isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
    items = (axis,)
  else:
    items = tuple(axis) if isinstance(axis, (tuple, list)) else ()
  if not items or not all(isinstance(a, (int, np.integer)) and
                          not isinstance(a, bool) for a in items):
    raise ValueError(f'axis must be an int or a non-empty sequence of ints; '
                     f'got {axis!r}.')
  axes = tuple(int(a) + ndim if int(a) < 0 else int(a) for a in items)
  if any(not 0 <= a < ndim for a in axes) or len(set(axes)) != len(axes):
    raise ValueError(f'axis must name distinct axes of a rank-{ndim} array '
                     f'(-{ndim}..{ndim - 1}); got {axis!r}.')
  return axes


def max_reduce(x: jax.typing.ArrayLike, axis: int | Sequence[int], *,
               unroll_limit: int = UNROLL_LIMIT) -> jax.Array:
  """Max of floating ``x`` over ``axis``; gradient to one maximal entry.

  Args:
    x: any shape, floating.
    axis: an axis or a non-empty sequence of distinct axes of ``x``
      (negative counts from the end), each of size >= 1.
    unroll_limit: reductions over at most this many entries use the select
      chain, larger ones the argmax (module doc); the same numbers either
      way. Tests set it to compare the two.

  Returns:
    ``x`` with ``axis`` removed: ``jnp.max(x, axis)``.
  """
  x = jnp.asarray(x)
  if not jnp.issubdtype(x.dtype, jnp.floating):
    raise ValueError(f'x must be floating; got dtype {x.dtype}.')
  axes = _axes(axis, x.ndim)
  sizes = tuple(x.shape[a] for a in axes)
  if 0 in sizes:
    raise ValueError(f'axis {axis!r} of x (shape {x.shape}) has size 0: '
                     'the max of no entries is undefined.')
  if math.prod(sizes) <= unroll_limit:
    best = None
    for where in np.ndindex(*sizes):
      index = [slice(None)] * x.ndim
      for a, i in zip(axes, where):
        index[a] = int(i)
      value = x[tuple(index)]
      if best is None:
        best = value
      else:
        # The first strictly larger entry (or the first NaN) wins.
        take = (value > best) | (jnp.isnan(value) & ~jnp.isnan(best))
        best = jnp.where(take, value, best)
    return best
  kept = [a for a in range(x.ndim) if a not in axes]
  flat = jnp.transpose(x, kept + list(axes)).reshape(
      [x.shape[a] for a in kept] + [-1])
  first = jnp.argmax(flat, axis=-1, keepdims=True)  # the first NaN, if any
  return jnp.take_along_axis(flat, first, axis=-1)[..., 0]
