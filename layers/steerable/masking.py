"""A soft disk mask on steerable maps (escnn's ``MaskModule``).

Layout: ``[B, H, W, C]`` of a :class:`groups.FieldType` (:mod:`groups.fields`).

The corners of a square grid turn off it under a rotation by any angle that
is not a quarter turn, so a network that looks at them sees different
content in a rotated image. :func:`disk_mask` multiplies the map by a mask
that is 1 on the disk inscribed in the grid (:func:`groups.inscribed_disk`,
the disk the measurements compare on) shrunk by ``margin_percent`` of its
radius, and falls off smoothly outside it, as escnn's ``build_mask``:
``exp((R^2 - r^2) / sigma^2)`` at squared distance ``r^2`` from the grid
centre, ``R`` the disk's radius (``sigma = 0``: a hard 0 / 1 disk).

The mask is one scalar per pixel, so it commutes with every ``rho(g)`` (any
field type), and it is symmetric about the grid centre under quarter turns
and the mirror of a square grid: exactly equivariant to them. It is not
translation-equivariant (a circular shift moves the content, not the disk).
"""

from __future__ import annotations

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

import groups
from groups import fields as fields_lib
from groups import validate
from layers.steerable import fieldwise
from layers.steerable import typed


def _check_options(margin_percent, sigma) -> tuple[float, float]:
  margin_percent = validate.number(margin_percent, 'margin_percent',
                                   minimum=0.0, maximum=100.0)
  sigma = validate.number(sigma, 'sigma', minimum=0.0)
  return margin_percent, sigma


@functools.lru_cache(maxsize=64)
def _weights(height: int, width: int, margin_percent: float, sigma: float
             ) -> np.ndarray:
  full_radius = (min(height, width) - 1) / 2
  margin = full_radius * margin_percent / 100
  inside = groups.inscribed_disk(height, width, margin=margin)
  if sigma == 0.0:
    weights = inside.astype(np.float32)
  else:
    rows = np.arange(height)[:, None] - (height - 1) / 2
    cols = np.arange(width)[None, :] - (width - 1) / 2
    fall_off = np.exp(((full_radius - margin)**2 - rows**2 - cols**2) /
                      sigma**2)
    weights = np.where(inside, 1.0, fall_off).astype(np.float32)
  weights.setflags(write=False)
  return weights


def disk_mask_weights(height: int, width: int, *,
                      margin_percent: float = 0.0,
                      sigma: float = 2.0) -> np.ndarray:
  """The mask :func:`disk_mask` multiplies by (escnn's ``build_mask``).

  Args:
    height: ``H`` (int >= 1).
    width: ``W`` (int >= 1).
    margin_percent: shrink the inscribed radius ``(min(H, W) - 1) / 2`` by
      this percentage of it, in ``[0, 100]`` (escnn's ``margin``).
    sigma: the width of the fall-off outside the disk in pixels (>= 0):
      ``exp((R^2 - r^2) / sigma^2)``, escnn's; 0 gives a hard 0 / 1 disk.

  Returns:
    float32 ``[H, W]``: 1 on ``groups.inscribed_disk(H, W, margin=R_0 *
    margin_percent / 100)``, the fall-off elsewhere (read-only).
  """
  height = validate.integer(height, 'height', minimum=1)
  width = validate.integer(width, 'width', minimum=1)
  return _weights(height, width, *_check_options(margin_percent, sigma))


def disk_mask(x: jax.typing.ArrayLike, *, field_type: fields_lib.FieldType,
              margin_percent: float = 0.0, sigma: float = 2.0) -> jax.Array:
  """Multiplies every channel by :func:`disk_mask_weights` (any field type).

  Args:
    x: ``[B, H, W, C]``, ``C = field_type.size``; exact under quarter turns
      and the mirror when ``H == W``.
    field_type: the :class:`groups.FieldType` of ``x``.
    margin_percent, sigma: as :func:`disk_mask_weights`.

  Returns:
    ``[B, H, W, C]`` of type ``field_type``.
  """
  x = fieldwise.check_map(x, field_type)
  weights = disk_mask_weights(x.shape[1], x.shape[2],
                              margin_percent=margin_percent, sigma=sigma)
  return x * jnp.asarray(weights, x.dtype)[None, :, :, None]


class DiskMask(typed.TypedModule, nn.Module):
  """Typed :func:`disk_mask` (escnn's ``MaskModule``; any field type, no
  parameters; the mask is built for the size of each input).

  Attributes:
    in_type: the input (and output) field type.
    margin_percent: as :func:`disk_mask_weights` (escnn's ``margin``).
    sigma: as :func:`disk_mask_weights`.
  """
  in_type: fields_lib.FieldType
  margin_percent: float = 0.0
  sigma: float = 2.0

  @property
  def out_type(self) -> fields_lib.FieldType:
    return self.in_type

  def check_types(self) -> None:
    super().check_types()
    _check_options(self.margin_percent, self.sigma)

  def __call__(self, x: jax.Array) -> jax.Array:
    """Maps ``[B, H, W, in_type.size]`` to the same shape."""
    return disk_mask(x, field_type=self.in_type,
                     margin_percent=self.margin_percent, sigma=self.sigma)
