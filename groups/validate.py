"""Argument checks shared by every package (groups is the lowest layer).

Public: layers, models, data and experiments import these checks, and a
user's own layer can use them to fail the same way.

Each check raises a ``ValueError`` that names the argument and says what is
accepted, so a user never has to read an XLA trace to find a wrong shape.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
import math
import numbers
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


def check_array(x: Any, name: str, *, rank: int | Collection[int],
                layout: str, floating: bool = True) -> None:
  """Checks that ``x`` is an array of the given rank (and float dtype)."""
  ranks = (rank,) if isinstance(rank, int) else tuple(rank)
  if not hasattr(x, 'shape') or not hasattr(x, 'dtype'):
    raise ValueError(
        f'{name} must be an array with layout {layout}; got {type(x).__name__}.')
  if x.ndim not in ranks:
    raise ValueError(
        f'{name} must have rank {" or ".join(map(str, ranks))} ({layout}); '
        f'got shape {tuple(x.shape)} (rank {x.ndim}).')
  if floating and not jnp.issubdtype(x.dtype, jnp.floating):
    raise ValueError(
        f'{name} must have a floating dtype (float16/bfloat16/float32/float64); '
        f'got {x.dtype}. Convert with x.astype(jnp.float32).')


def is_concrete(x: Any) -> bool:
  """False for values traced by ``jax.jit`` (their contents are unknown)."""
  return not isinstance(x, jax.core.Tracer)


def check_finite(x: Any, name: str, *, layout: str) -> None:
  """Raises unless every entry of a concrete array ``x`` is finite.

  Traced values (inside ``jax.jit``) cannot be inspected and pass; integer
  and boolean arrays are always finite.
  """
  if not is_concrete(x):
    return
  values = np.asarray(x)
  if not (np.issubdtype(values.dtype, np.floating) or
          np.issubdtype(values.dtype, np.complexfloating)):
    return
  finite = np.isfinite(values)
  if not finite.all():
    nans = int(np.isnan(values).sum())
    raise ValueError(
        f'{name} must be finite (layout {layout}); got {nans} NaN and '
        f'{finite.size - int(finite.sum()) - nans} infinite values.')


def number(value: Any, name: str, *, minimum: float | None = None,
           maximum: float | None = None, exclusive_minimum: bool = False,
           exclusive_maximum: bool = False) -> float:
  """Returns ``value`` (a finite real number within the bounds) as a float."""
  ok = (isinstance(value, (numbers.Real, np.floating, np.integer)) and
        not isinstance(value, (bool, np.bool_)) and math.isfinite(value))
  if ok and minimum is not None:
    ok = value > minimum if exclusive_minimum else value >= minimum
  if ok and maximum is not None:
    ok = value < maximum if exclusive_maximum else value <= maximum
  if not ok:
    low = '(-inf' if minimum is None else (
        f'({minimum}' if exclusive_minimum else f'[{minimum}')
    high = 'inf)' if maximum is None else (
        f'{maximum})' if exclusive_maximum else f'{maximum}]')
    raise ValueError(
        f'{name} must be a finite number in {low}, {high}; got {value!r}.')
  return float(value)


def check_callable(value: Any, name: str, *, what: str) -> None:
  """Raises unless ``value`` is callable; ``what`` describes the signature."""
  if not callable(value):
    raise ValueError(f'{name} must be a function {what}; got {value!r}.')


def check_choice(value: Any, name: str, choices: Sequence[str]) -> None:
  if value not in choices:
    raise ValueError(
        f'{name} must be one of {", ".join(map(repr, choices))}; got {value!r}.')


def pair(value: Any, name: str, *,
         minimum: int | None = 1) -> tuple[int, int]:
  """Returns ``value`` (an int or a 2-sequence of ints) as a pair of ints."""
  if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
    values = (int(value), int(value))
  elif (isinstance(value, Sequence) and len(value) == 2 and
        all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
            for v in value)):
    values = (int(value[0]), int(value[1]))
  else:
    raise ValueError(f'{name} must be an int or a pair of ints; got {value!r}.')
  if minimum is not None and min(values) < minimum:
    raise ValueError(f'{name} must be >= {minimum}; got {value!r}.')
  return values


def axes(value: Any, name: str, ndim: int) -> tuple[int, ...]:
  """Returns ``value`` (an axis or a non-empty sequence of distinct axes of
  a rank-``ndim`` array, negative counting from the end) as a tuple of
  non-negative axes, in the order given."""
  if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
    items = (value,)
  else:
    items = tuple(value) if isinstance(value, (tuple, list)) else ()
  if not items or not all(isinstance(a, (int, np.integer)) and
                          not isinstance(a, bool) for a in items):
    raise ValueError(f'{name} must be an int or a non-empty sequence of '
                     f'ints; got {value!r}.')
  out = tuple(int(a) + ndim if int(a) < 0 else int(a) for a in items)
  if any(not 0 <= a < ndim for a in out) or len(set(out)) != len(out):
    raise ValueError(f'{name} must name distinct axes of a rank-{ndim} '
                     f'array (-{ndim}..{ndim - 1}); got {value!r}.')
  return out


def widths(value: Any, name: str, *, meaning: str,
           allow_empty: bool = False) -> tuple[int, ...]:
  """Returns ``value``, a (non-empty unless ``allow_empty``) sequence of ints
  >= 1 such as a model's channels per layer, as a tuple of ints; ``meaning``
  says what an entry counts in the message (e.g. 'channels per layer')."""
  if (isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or
      (not value and not allow_empty)):
    raise ValueError(
        f'{name} must be a {"" if allow_empty else "non-empty "}tuple of ints '
        f'>= 1 ({meaning}); got {value!r}.')
  return tuple(integer(v, f'{name} entries', minimum=1) for v in value)


def integer(value: Any, name: str, *, minimum: int | None = None,
            maximum: int | None = None) -> int:
  if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
    raise ValueError(f'{name} must be an int; got {value!r}.')
  if (minimum is not None and value < minimum) or (
      maximum is not None and value > maximum):
    bounds = f'{minimum if minimum is not None else "-inf"}..'
    bounds += f'{maximum if maximum is not None else "inf"}'
    raise ValueError(f'{name} must be in {bounds}; got {value!r}.')
  return int(value)
