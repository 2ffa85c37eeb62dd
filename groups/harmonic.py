"""Rotations of harmonic (H-Net) feature maps: turn the grid AND the phases.

Layout (fixed here, once, for :mod:`layers.harmonic` and :mod:`models.hnet`):
a *harmonic feature map* is a complex array ``[B, H, W, M, C]`` (complex64
for float32 inputs). Axis 3 holds ``M`` streams of rotation orders
``orders = (0, 1, ..., M - 1)`` unless stated otherwise; axis 4 the ``C``
channels of each stream. A stream of order ``m`` transforms under a
counter-clockwise rotation by ``theta`` of the input as

    f_m(R_theta x) = e^{i m theta} R_theta f_m(x),

i.e. it rotates spatially like an image AND its complex phase turns by
``m theta`` (Worrall et al. 2017, "Harmonic Networks"). Its magnitude
``|f_m|`` only rotates (it is invariant to the phase factor), so magnitudes
transform by :class:`groups.Rot90` / :class:`groups.BilinearRotation`.

* :class:`HarmonicRotation` — ``k`` quarter turns: :class:`groups.Rot90` on
  axes 1, 2 and stream ``m`` times ``i^(m k)`` (``e^{i m k pi / 2}``), both
  exact (the phase factors are 1, i, -1, -i, so multiplying by them only
  swaps and negates real and imaginary parts).
* :class:`BilinearHarmonicRotation` — any angle: real and imaginary parts
  rotated by :class:`groups.BilinearRotation` (interpolated, zero fill), then
  stream ``m`` times ``e^{i m theta}``. Multiples of 90 degrees delegate to
  :class:`HarmonicRotation` and are exact.

Both keep their output action under a strided layer (a rotation stays a
rotation; the sampling grid must be centred, see :mod:`groups.rotations`).
"""

from __future__ import annotations

import dataclasses
import math
import numbers

import jax
import jax.numpy as jnp
import numpy as np

from groups import validate
from groups import base
from groups import interpolated
from groups import rotations

HARMONIC_LAYOUT = '[B, H, W, M, C]'
# i^n for n = 0..3: exact complex constants.
_QUARTER_TURN_PHASES = np.array([1, 1j, -1, -1j], np.complex64)


def check_orders(orders, name: str = 'orders') -> tuple[int, ...]:
  """Returns ``orders`` (a non-empty sequence of distinct ints) as a tuple."""
  if (isinstance(orders, (str, bytes)) or not hasattr(orders, '__len__') or
      not len(orders) or
      not all(isinstance(m, (int, np.integer)) and not isinstance(m, bool)
              for m in orders) or len(set(orders)) != len(orders)):
    raise ValueError(f'{name} must be a non-empty tuple of distinct ints (the '
                     f'rotation order of each stream on axis 3); got '
                     f'{orders!r}.')
  return tuple(int(m) for m in orders)


def check_harmonic(z, name: str = 'z', *,
                   orders: tuple[int, ...] | None = None) -> None:
  """Checks that ``z`` is a complex ``[B, H, W, M, C]``, ``M = len(orders)``."""
  validate.check_array(z, name, rank=5, layout=HARMONIC_LAYOUT,
                        floating=False)
  if not jnp.issubdtype(z.dtype, jnp.complexfloating):
    raise ValueError(
        f'{name} must be a complex harmonic feature map {HARMONIC_LAYOUT} '
        f'(complex64); got dtype {z.dtype}. A real image [B, H, W, C] is an '
        'order-0 stream: use layers.harmonic.to_harmonic(x).')
  if orders is not None and z.shape[3] != len(orders):
    raise ValueError(
        f'{name} must have M = len(orders) = {len(orders)} streams on axis 3 '
        f'(layout {HARMONIC_LAYOUT}, orders {orders}); got shape '
        f'{tuple(z.shape)}.')


def _stream_factors(phases: np.ndarray) -> np.ndarray:
  """``[M]`` complex factors as ``[1, 1, 1, M, 1]`` for broadcasting."""
  return phases.reshape(1, 1, 1, -1, 1)


@dataclasses.dataclass(frozen=True)
class HarmonicRotation(base.Transform):
  """``k`` counter-clockwise quarter turns of a harmonic map.

  Rotates axes 1, 2 like :class:`groups.Rot90` ``(k)`` and multiplies the
  stream of order ``orders[j]`` (axis 3, position ``j``) by
  ``i^(orders[j] * k)``; exact. This is the output action of a harmonic
  layer whose input is rotated by ``groups.Rot90(k)``.

  Attributes:
    k: quarter turns (int, taken mod 4).
    orders: the rotation order of each stream on axis 3; default ``(0, 1)``.
  """
  k: int = 1
  orders: tuple[int, ...] = (0, 1)

  def __post_init__(self):
    validate.integer(self.k, 'k')
    object.__setattr__(self, 'orders', check_orders(self.orders))

  def __call__(self, x):
    check_harmonic(x, 'x', orders=self.orders)
    x = rotations.Rot90(self.k)(x)
    turns = (np.asarray(self.orders) * self.k) % 4
    return x * _stream_factors(_QUARTER_TURN_PHASES[turns]).astype(x.dtype)

  def inverse(self):
    return HarmonicRotation(-self.k % 4, self.orders)


@dataclasses.dataclass(frozen=True)
class BilinearHarmonicRotation(base.Transform):
  """Counter-clockwise rotation by ``degrees`` of a harmonic map.

  Real and imaginary parts are rotated by :class:`groups.BilinearRotation`
  (bilinear, zero fill: compare on :func:`groups.inscribed_disk`), then the
  stream of order ``m`` is multiplied by ``e^{i m theta}``. Exact
  (:class:`HarmonicRotation`) for multiples of 90 degrees.

  Attributes:
    degrees: the angle (finite real number).
    orders: the rotation order of each stream on axis 3; default ``(0, 1)``.
  """
  degrees: float
  orders: tuple[int, ...] = (0, 1)

  def __post_init__(self):
    if (not isinstance(self.degrees, numbers.Real) or
        isinstance(self.degrees, bool) or not math.isfinite(self.degrees)):
      raise ValueError(
          f'degrees must be a finite real number; got {self.degrees!r}.')
    object.__setattr__(self, 'orders', check_orders(self.orders))

  @property
  def exact(self) -> bool:  # type: ignore[override]
    return float(self.degrees) % 90 == 0

  def __call__(self, x):
    if self.exact:
      return HarmonicRotation(int(self.degrees // 90), self.orders)(x)
    check_harmonic(x, 'x', orders=self.orders)
    x = jnp.asarray(x)
    real_dtype = jnp.real(x).dtype
    parts = jnp.concatenate([jnp.real(x), jnp.imag(x)], axis=-1)  # [B,H,W,M,2C]
    parts = interpolated.BilinearRotation(float(self.degrees))(parts)
    c = x.shape[-1]
    rotated = jax.lax.complex(parts[..., :c].astype(real_dtype),
                              parts[..., c:].astype(real_dtype))
    theta = math.radians(float(self.degrees))
    phases = np.exp(1j * theta * np.asarray(self.orders, np.float64))
    return rotated * _stream_factors(phases).astype(rotated.dtype)

  def inverse(self):
    """The rotation back; a true inverse only for exact angles."""
    return BilinearHarmonicRotation(-self.degrees, self.orders)
