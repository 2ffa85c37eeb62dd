"""Argument checks shared by every package (groups is the lowest layer).

Each check raises a ``ValueError`` that names the argument and says what is
accepted, so a user never has to read an XLA trace to find a wrong shape.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

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
