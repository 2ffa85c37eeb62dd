"""Spatial padding of ``[B, H, W, ...]`` arrays, shared by convs and pools."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from groups import validate

# Padding name -> jnp.pad / np.pad mode.
PAD_MODES = {
    'circular': 'wrap',
    'zeros': 'constant',
    'reflect': 'reflect',     # mirror without repeating the edge (torch ReflectionPad2d)
    'replicate': 'edge',      # repeat the edge pixel (torch ReplicationPad2d)
}
PADDINGS = tuple(PAD_MODES)


def same_pads(size: int) -> tuple[int, int]:
  """Pads ``(lo, hi)`` = ``(floor((size-1)/2), ceil((size-1)/2))`` for a window.

  With these pads a stride-``s`` window over ``H`` pixels gives ``ceil(H / s)``
  outputs, and output ``i`` is centred on input ``s * i`` (odd windows) — the
  convention of antialiased-cnns and of 'SAME' convolutions.
  """
  size = validate.integer(size, 'size', minimum=1)
  return (size - 1) // 2, size - 1 - (size - 1) // 2


def explicit_pads(padding) -> tuple[tuple[int, int], tuple[int, int]]:
  """Zero pads ``((top, bottom), (left, right))`` of 'VALID' or given pads."""
  if isinstance(padding, str):  # only 'VALID' reaches here
    return ((0, 0), (0, 0))
  return tuple(tuple(int(p) for p in pair) for pair in padding)


def conv_output_size(x_shape, kernel_shape, *, strides, padding,
                     dilations) -> tuple[int, int]:
  """``(H', W')`` of a convolution of ``x [B, H, W, C]`` with ``kernel [kh,
  kw, ...]``, zero ``padding`` ('VALID' or pads), strides and dilations."""
  pads = explicit_pads(padding)
  sizes = []
  for axis in range(2):
    padded = x_shape[1 + axis] + sum(pads[axis])
    effective = dilations[axis] * (kernel_shape[axis] - 1) + 1
    sizes.append((padded - effective) // strides[axis] + 1)
  return tuple(sizes)


def check_pads_fit(pads: tuple[tuple[int, int], tuple[int, int]],
                   spatial_shape: tuple[int, int], *, mode: str) -> None:
  """Raises ValueError if 'reflect' pads are not smaller than ``(H, W)``."""
  (top, bottom), (left, right) = pads
  if mode == 'reflect' and (max(top, bottom) >= spatial_shape[0] or
                            max(left, right) >= spatial_shape[1]):
    raise ValueError(
        f"padding='reflect' needs each pad smaller than the input: pads "
        f'{pads} for H, W = {tuple(spatial_shape)}; use a larger input or '
        'another padding.')


def pad_spatial(x: jax.typing.ArrayLike, pads: tuple[tuple[int, int],
                                                     tuple[int, int]], *,
                mode: str) -> jax.Array:
  """Pads axes 1 (H) and 2 (W) of ``x`` ``[B, H, W, ...]``.

  Args:
    x: array ``[B, H, W, ...]``.
    pads: ``((top, bottom), (left, right))`` non-negative ints.
    mode: one of 'circular', 'zeros', 'reflect', 'replicate'.

  Returns:
    ``[B, H + top + bottom, W + left + right, ...]``.
  """
  validate.check_choice(mode, 'padding', PADDINGS)
  validate.check_array(x, 'x', rank=(3, 4, 5), layout='[B, H, W, ...]',
                        floating=False)
  if min(x.shape[1:3]) < 1:
    raise ValueError(f'x must have H, W >= 1 (layout [B, H, W, ...]); got '
                     f'shape {tuple(x.shape)}.')
  if (not isinstance(pads, (tuple, list)) or len(pads) != 2 or
      not all(isinstance(p, (tuple, list)) and len(p) == 2 for p in pads)):
    raise ValueError(f'pads must be ((top, bottom), (left, right)); got '
                     f'{pads!r}.')
  (top, bottom), (left, right) = (validate.pair(p, 'pads', minimum=0)
                                  for p in pads)
  x = jnp.asarray(x)
  if not top and not bottom and not left and not right:
    return x
  check_pads_fit(pads, x.shape[1:3], mode=mode)
  widths = [(0, 0), (top, bottom), (left, right)] + [(0, 0)] * (x.ndim - 3)
  return jnp.pad(x, widths, mode=PAD_MODES[mode])
