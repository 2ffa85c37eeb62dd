"""Translations of feature maps ``[B, H, W, ...]`` and their induced actions.

Sign convention: a shift by ``(dy, dx)`` moves content ``dy`` rows down and
``dx`` columns right, i.e. ``T(x)[:, h, w] = x[:, h - dy, w - dx]``.

* :class:`CircularShift` — integer shift on the torus (``jnp.roll``). A
  stride-1 layer with circular padding is exactly equivariant to it; a layer
  of stride ``s`` is exactly equivariant to shifts that are multiples of
  ``s`` when ``H`` and ``W`` are multiples of ``s``.
* :class:`ZeroFillShift` — integer shift with zeros entering at the border,
  like a digit moved on a black canvas. Zero-padded convolution is exact on
  the interior only (see :func:`interior_mask`).
* :class:`FourierShift` — sub-pixel shift by band-limited (periodic sinc)
  interpolation, a phase ramp in the Fourier domain. For integer amounts it
  equals :class:`CircularShift` to float precision. It is also the *ideal*
  output action of a strided layer for shifts that are not a multiple of the
  stride: a shift by 1 before a stride-2 layer should become a shift by 1/2.
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


def _check_amount(value, name: str, *, integral: bool) -> None:
  ok_types = (numbers.Integral,) if integral else (numbers.Real,)
  if (not isinstance(value, ok_types) or isinstance(value, bool) or
      not math.isfinite(value)):
    kind = 'an int' if integral else 'a finite real number'
    raise ValueError(f'{name} must be {kind}; got {value!r}.')


@dataclasses.dataclass(frozen=True)
class _IntegerShift(base.Transform):
  """Shared fields and checks of the integer shifts."""
  dy: int
  dx: int

  def __post_init__(self):
    _check_amount(self.dy, 'dy', integral=True)
    _check_amount(self.dx, 'dx', integral=True)

  def inverse(self):
    return type(self)(-self.dy, -self.dx)

  def _divisible(self, stride) -> bool:
    validate.integer(stride, 'stride', minimum=1)
    return self.dy % stride == 0 and self.dx % stride == 0


@dataclasses.dataclass(frozen=True)
class CircularShift(_IntegerShift):
  """Integer circular shift by ``(dy, dx)`` pixels."""

  def __call__(self, x):
    base.check_features(x)
    return jnp.roll(jnp.asarray(x), (int(self.dy), int(self.dx)),
                    axis=base.SPATIAL_AXES)

  def output_action(self, *, stride=1):
    """A shift by ``t`` becomes ``t / stride``: exact when divisible, else ideal.

    Args:
      stride: total stride of the layer (int >= 1).

    Returns:
      ``CircularShift(dy // stride, dx // stride)`` when both amounts are
      multiples of ``stride``; otherwise the ideal sub-pixel
      ``FourierShift(dy / stride, dx / stride)``, which a strided layer can
      only approximate (aliasing).
    """
    if self._divisible(stride):
      return CircularShift(self.dy // stride, self.dx // stride)
    return FourierShift(self.dy / stride, self.dx / stride)


@dataclasses.dataclass(frozen=True)
class ZeroFillShift(_IntegerShift):
  """Integer shift by ``(dy, dx)``; content leaving the grid is lost, zeros enter.

  ``inverse()`` shifts back; exact only on content that stayed on the grid.
  """

  def __call__(self, x):
    base.check_features(x)
    x = jnp.asarray(x)
    h, w = x.shape[1], x.shape[2]
    dy, dx = int(self.dy), int(self.dx)
    if abs(dy) >= h or abs(dx) >= w:
      return jnp.zeros_like(x)
    # Pad on the side content moves to, then crop back to [H, W].
    pads = [(0, 0)] * x.ndim
    pads[1] = (max(dy, 0), max(-dy, 0))
    pads[2] = (max(dx, 0), max(-dx, 0))
    padded = jnp.pad(x, pads)
    return padded[:, max(-dy, 0):max(-dy, 0) + h, max(-dx, 0):max(-dx, 0) + w]

  def output_action(self, *, stride=1):
    if not self._divisible(stride):
      raise ValueError(
          f'ZeroFillShift({self.dy}, {self.dx}) has no grid action on the '
          f'output of a stride-{stride} layer; stride must divide the shift '
          '(use CircularShift, whose output action falls back to FourierShift).')
    return ZeroFillShift(self.dy // stride, self.dx // stride)


@dataclasses.dataclass(frozen=True)
class FourierShift(base.Transform):
  """Sub-pixel periodic shift by ``(dy, dx)`` via the Fourier shift theorem.

  ``T(x) = Re(IFFT2(FFT2(x) * exp(-2 pi i (k_y dy / H + k_x dx / W))))`` over
  axes 1, 2. Exact for band-limited periodic signals; for integer amounts it
  equals ``CircularShift`` up to float rounding (~1e-6 in float32).
  """
  dy: float
  dx: float

  def __post_init__(self):
    _check_amount(self.dy, 'dy', integral=False)
    _check_amount(self.dx, 'dx', integral=False)

  @property
  def exact(self) -> bool:  # type: ignore[override]
    return float(self.dy).is_integer() and float(self.dx).is_integer()

  def __call__(self, x):
    base.check_features(x, floating=True)
    x = jnp.asarray(x)
    h, w = x.shape[1], x.shape[2]
    ky = np.fft.fftfreq(h)[:, None]  # [H, 1], cycles per pixel
    kx = np.fft.fftfreq(w)[None, :]  # [1, W]
    phase = np.exp(-2j * np.pi * (ky * self.dy + kx * self.dx))  # [H, W]
    phase = phase.reshape((1, h, w) + (1,) * (x.ndim - 3))
    spectrum = jnp.fft.fft2(x, axes=base.SPATIAL_AXES)
    shifted = jnp.fft.ifft2(spectrum * phase.astype(np.complex64),
                            axes=base.SPATIAL_AXES)
    return shifted.real.astype(x.dtype)

  def inverse(self):
    return FourierShift(-self.dy, -self.dx)

  def output_action(self, *, stride=1):
    validate.integer(stride, 'stride', minimum=1)
    return FourierShift(self.dy / stride, self.dx / stride)


def interior_mask(height: int, width: int, *, shift: tuple[int, int],
                  margin: int | tuple[int, int]) -> np.ndarray:
  """Output positions where a zero-padded stride-1 layer commutes with a shift.

  For ``f`` with receptive-field radius ``margin`` (e.g. ``k // 2`` for a
  ``k x k`` conv with 'zeros' padding) and ``T = ZeroFillShift(*shift)``,
  ``f(T x)`` equals ``T f(x)`` wherever the receptive field of the position
  lies inside the grid both before and after the shift.

  Args:
    height: output height ``H`` (int >= 1).
    width: output width ``W`` (int >= 1).
    shift: the ``(dy, dx)`` shift.
    margin: receptive-field radius, an int or ``(my, mx)``, >= 0.

  Returns:
    A boolean ``[H, W]`` array, True on the interior.
  """
  height = validate.integer(height, 'height', minimum=1)
  width = validate.integer(width, 'width', minimum=1)
  my, mx = validate.pair(margin, 'margin', minimum=0)
  sy, sx = validate.pair(shift, 'shift', minimum=None)
  rows = np.arange(height)
  cols = np.arange(width)
  row_ok = ((rows >= my) & (rows < height - my) &
            (rows - sy >= my) & (rows - sy < height - my))
  col_ok = ((cols >= mx) & (cols < width - mx) &
            (cols - sx >= mx) & (cols - sx < width - mx))
  return row_ok[:, None] & col_ok[None, :]
