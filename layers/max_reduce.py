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

:func:`max_reduce` gives the same values as ``jnp.max`` (its forward pass is
``jnp.max``), but its derivative (a ``jax.custom_jvp``) is that of a
*selection*: the tangent of the first maximal entry, found by a chain of
``where(v > best, ...)`` over the reduced entries (few entries, not
already the last axes) or an ``argmax`` (many entries, or the last axes), as
a 0/1 mask; reverse mode gets one select of the
cotangent. A recomputed, differently rounded operand in the backward pass
can then only move the gradient between entries within rounding of the
maximum; it always reaches exactly one entry. On ties it goes to the first
maximal entry in row-major order of the reduced axes (as PyTorch's max pool
and ``lax.reduce_window``'s gradient do), not shared among them.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from groups import validate

#: Reductions over at most this many entries find their first maximal entry
#: by a chain of selects (one elementwise fusion, no transpose) unless the
#: reduced axes are already last; larger ones, and those, by an argmax over
#: the reduced axes moved last (no move needed for the last axes). The chain
#: is fused into every consumer of the mask, evaluated once per entry of the
#: operand; with a 16-entry group axis last and a batch norm recomputed in the
#: same kernel, LLVM compiled that one kernel for 4.6 s (c16cnn's train step,
#: docs/performance.md), where the argmax is one small reduction.
UNROLL_LIMIT = 32
METHODS = ('auto', 'chain', 'argmax')


def max_reduce(x: jax.typing.ArrayLike, axis: int | Sequence[int], *,
               method: str = 'auto') -> jax.Array:
  """Max of floating ``x`` over ``axis``; gradient to one maximal entry.

  Args:
    x: any shape, floating.
    axis: an axis or a non-empty sequence of distinct axes of ``x``
      (negative counts from the end), each of size >= 1.
    method: how the gradient's first maximal entry is found: 'chain' (of
      selects), 'argmax' (over the merged reduced axes), or 'auto' (the
      chain for at most :data:`UNROLL_LIMIT` entries on axes that are not
      already last, else the argmax; module doc). The same entry either
      way; tests compare the two.

  Returns:
    ``x`` with ``axis`` removed: ``jnp.max(x, axis)``.
  """
  x = jnp.asarray(x)
  if not jnp.issubdtype(x.dtype, jnp.floating):
    raise ValueError(f'x must be floating; got dtype {x.dtype}.')
  axes = validate.axes(axis, 'axis', x.ndim)
  if 0 in (x.shape[a] for a in axes):
    raise ValueError(f'axis {axis!r} of x (shape {x.shape}) has size 0: '
                     'the max of no entries is undefined.')
  if not isinstance(method, str) or method not in METHODS:
    raise ValueError(f'method must be one of {METHODS}; got {method!r}.')
  if method == 'auto':
    sizes = math.prod(x.shape[a] for a in axes)
    last = tuple(range(x.ndim - len(axes), x.ndim))
    method = ('chain' if sizes <= UNROLL_LIMIT and tuple(sorted(axes)) != last
              else 'argmax')
  return _selecting_max(x, axes, method)


@functools.partial(jax.custom_jvp, nondiff_argnums=(1, 2))
def _selecting_max(x, axes, method):
  return jnp.max(x, axis=axes)


@_selecting_max.defjvp
def _selecting_max_jvp(axes, method, primals, tangents):
  """The tangent of the first maximal entry: ``sum(where(first, t, 0))``, a
  linear map whose transpose is one select (no comparison with the
  result, which a recomputed operand could fail)."""
  (x,), (t,) = primals, tangents
  first = _first_max_mask(x, axes, method)
  return (_selecting_max(x, axes, method),
          jnp.sum(jnp.where(first, t, jnp.zeros_like(t)), axis=axes))


def _first_max_mask(x, axes, method):
  """Boolean, shape of ``x``: True at the first maximal entry (row-major
  over ``axes``; the first NaN if any) of each reduced slice."""
  sizes = tuple(x.shape[a] for a in axes)
  if method == 'chain':
    best = index = None
    for k, where in enumerate(np.ndindex(*sizes)):
      slicer = [slice(None)] * x.ndim
      for a, i in zip(axes, where):
        slicer[a] = int(i)
      value = x[tuple(slicer)]
      if best is None:
        best, index = value, jnp.zeros(value.shape, jnp.int32)
      else:
        # The first strictly larger entry (or the first NaN) wins.
        take = (value > best) | (jnp.isnan(value) & ~jnp.isnan(best))
        best = jnp.where(take, value, best)
        index = jnp.where(take, k, index)
  else:
    kept = [a for a in range(x.ndim) if a not in axes]
    flat = jnp.transpose(x, kept + list(axes)).reshape(
        [x.shape[a] for a in kept] + [-1])
    index = jnp.argmax(flat, axis=-1).astype(jnp.int32)  # the first NaN too
  # The row-major position of every entry within its reduced slice.
  position = np.zeros([x.shape[a] if a in axes else 1
                       for a in range(x.ndim)], np.int32)
  stride = 1
  for a, size in zip(reversed(axes), reversed(sizes)):
    shape = [1] * x.ndim
    shape[a] = size
    position = position + stride * np.arange(size, dtype=np.int32).reshape(
        shape)
    stride *= size
  return position == jnp.expand_dims(index, axes)
