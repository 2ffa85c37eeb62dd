"""Translations of feature maps ``[B, H, W, ...]`` and their induced actions.

Sign convention: a shift by ``(dy, dx)`` moves content ``dy`` rows down and
``dx`` columns right, i.e. ``T(x)[:, h, w] = x[:, h - dy, w - dx]``.

* :class:`CircularShift` — integer shift on the torus. A stride-1 layer
  with circular padding is exactly equivariant to it; a layer of stride
  ``s`` is exactly equivariant to shifts that are multiples of ``s`` when
  ``H`` and ``W`` are multiples of ``s``.
* :class:`ZeroFillShift` — integer shift with zeros entering at the border,
  like a digit moved on a black canvas. Zero-padded convolution is exact on
  the interior only (see :func:`interior_mask`).
* :func:`circular_shift` and :func:`zero_fill_shift` implement both (the
  classes call them), NumPy in, NumPy out, and shift each map of a batch by
  its own amount when given ``[B, 2]`` shifts (:mod:`data` uses them so).
* :class:`FourierShift` — sub-pixel shift by band-limited (periodic sinc)
  interpolation, a phase ramp in the Fourier domain. For integer amounts it
  equals :class:`CircularShift` to float precision. It is also the *ideal*
  output action of a strided layer for shifts that are not a multiple of the
  stride: a shift by 1 before a stride-2 layer should become a shift by 1/2.
"""

from __future__ import annotations

import dataclasses
import functools
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


def _shift_pairs(shifts, num: int):
  """``shifts`` as integer ``(dy, dx)`` (shape ``[2]``) or ``[N, 2]``.

  NumPy unless ``shifts`` is a JAX array (possibly traced).
  """
  xp = jnp if isinstance(shifts, jax.Array) else np
  shifts = xp.asarray(shifts)
  if not xp.issubdtype(shifts.dtype, xp.integer):
    raise ValueError(f'shifts must hold integers (a (dy, dx) pair or an [N, 2] '
                     f'array); got dtype {shifts.dtype}.')
  if shifts.shape != (2,) and shifts.shape != (num, 2):
    raise ValueError(f'shifts must be a (dy, dx) pair or an [N, 2] array with '
                     f'N = {num}; got shape {tuple(shifts.shape)}.')
  return shifts


def _source_indices(x, shifts):
  """Source rows ``[1 or N, H]`` and columns ``[1 or N, W]`` of a shift."""
  shifts = _shift_pairs(shifts, x.shape[0])
  xp = jnp if isinstance(shifts, jax.Array) else np
  shifts = shifts.reshape(-1, 2)
  rows = xp.arange(x.shape[1])[None, :] - shifts[:, 0:1]
  cols = xp.arange(x.shape[2])[None, :] - shifts[:, 1:2]
  return rows, cols


def _gather(x, rows, cols):
  """``x[n, rows[n, h], cols[n, w]]``; a single row of indices is shared."""
  if rows.shape[0] == 1:  # one shift for all: two plain takes
    return x[:, rows[0]][:, :, cols[0]]
  xp = base.array_module(x)
  batch = xp.arange(x.shape[0])[:, None, None]
  return x[batch, rows[:, :, None], cols[:, None, :]]


def _as_backend(x, shifts):
  """``x`` as JAX when ``x`` or ``shifts`` is a JAX array, else as NumPy."""
  if isinstance(x, jax.Array) or isinstance(shifts, jax.Array):
    return jnp.asarray(x)
  return np.asarray(x)


def circular_shift(x: jax.typing.ArrayLike,
                   shifts: tuple[int, int] | jax.typing.ArrayLike
                   ) -> jax.Array | np.ndarray:
  """Shifts each map on the torus: ``out[n, h, w] = x[n, h - dy, w - dx]``.

  The one circular shift of the project: :class:`CircularShift` and
  :func:`data.circular_shift` call it.

  Args:
    x: ``[B, H, W, C]`` or ``[B, H, W, G, C]`` (any dtype), NumPy or JAX.
    shifts: ``(dy, dx)`` for all maps or an int array ``[B, 2]`` (any
      integers; taken modulo ``H`` and ``W``); may be traced under ``jit``.

  Returns:
    The shape and dtype of ``x``: NumPy when both ``x`` and ``shifts`` are
    NumPy (or Python), JAX otherwise.
  """
  base.check_features(x, floating=False)
  x = _as_backend(x, shifts)
  rows, cols = _source_indices(x, shifts)
  return _gather(x, rows % x.shape[1], cols % x.shape[2])


def zero_fill_shift(x: jax.typing.ArrayLike,
                    shifts: tuple[int, int] | jax.typing.ArrayLike
                    ) -> jax.Array | np.ndarray:
  """Shifts each map with zeros entering at the border (content falls off).

  The one zero-fill shift of the project: :class:`ZeroFillShift` and
  :func:`data.zero_fill_shift` call it. Args and shapes as
  :func:`circular_shift`; a shift of ``H`` or more rows leaves all zeros.
  """
  base.check_features(x, floating=False)
  x = _as_backend(x, shifts)
  rows, cols = _source_indices(x, shifts)
  xp = base.array_module(x)
  height, width = x.shape[1:3]
  inside = (((rows >= 0) & (rows < height))[:, :, None] &
            ((cols >= 0) & (cols < width))[:, None, :])  # [1 or N, H, W]
  shifted = _gather(x, xp.clip(rows, 0, height - 1),
                    xp.clip(cols, 0, width - 1))
  inside = inside.reshape(inside.shape + (1,) * (x.ndim - 3))
  return xp.where(inside, shifted, xp.zeros((), x.dtype))


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
    return circular_shift(base.array_module(x).asarray(x),
                          (int(self.dy), int(self.dx)))

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
    return zero_fill_shift(base.array_module(x).asarray(x),
                           (int(self.dy), int(self.dx)))

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
    return fourier_shift(x, self.dy, self.dx)

  def inverse(self):
    return FourierShift(-self.dy, -self.dx)

  def output_action(self, *, stride=1):
    validate.integer(stride, 'stride', minimum=1)
    return FourierShift(self.dy / stride, self.dx / stride)


def fourier_shift(x: jax.typing.ArrayLike, dy: float | jax.Array,
                  dx: float | jax.Array) -> jax.Array:
  """Band-limited periodic shift by ``(dy, dx)`` pixels (any real amounts).

  The one Fourier shift of the project: :class:`FourierShift` calls it, and
  so do the translation flows of :mod:`groups.lie`, which differentiate it in
  the amounts. Same sign as :func:`circular_shift` (content moves ``dy``
  rows down, ``dx`` columns right).

  Args:
    x: ``[B, H, W, C]`` or ``[B, H, W, G, C]``, floating or complex.
    dy: rows; a Python number, or a traced scalar (then differentiable).
    dx: columns, likewise.

  Returns:
    The shape and dtype of ``x``. Concrete amounts build the phase ramp in
    float64 (NumPy); traced ones in the default float dtype.
  """
  base.check_signal(x)
  x = jnp.asarray(x)
  h, w = x.shape[1], x.shape[2]
  concrete = validate.is_concrete(dy) and validate.is_concrete(dx)
  xp = np if concrete else jnp
  ky = np.fft.fftfreq(h)[:, None]  # [H, 1], cycles per pixel
  kx = np.fft.fftfreq(w)[None, :]  # [1, W]
  phase = xp.exp(-2j * np.pi * (ky * (float(dy) if concrete else dy) +
                                kx * (float(dx) if concrete else dx)))
  phase = phase.reshape((1, h, w) + (1,) * (x.ndim - 3))
  return shift_spectrum(x, phase.astype(np.complex64), base.SPATIAL_AXES)


@functools.partial(jax.jit, static_argnames='axes')
def shift_spectrum(x: jax.typing.ArrayLike, phase: jax.typing.ArrayLike,
                   axes: tuple[int, ...]) -> jax.Array:
  """``ifft(fft(x) * phase)`` over ``axes``: the arithmetic of every Fourier
  shift (:func:`fourier_shift`, the shears of :mod:`groups.fourier_rotation`).

  One compiled program per shape (eagerly, its FFTs, axis moves, product
  and real part were seven programs per shape, and property tests
  draw new shapes every example); the same values as those eager ops.

  Args:
    x: floating or complex, any shape.
    phase: complex64, broadcastable to ``x`` (``e^{-2 pi i k s}`` per
      frequency ``k``); may be traced.
    axes: the axes transformed (one or two).

  Returns:
    The shape and dtype of ``x`` (the real part for a real ``x``).

  Raises:
    ValueError: when ``axes`` is not one or two distinct axes of ``x``
      (:func:`groups.validate.axes`) or ``phase`` does not broadcast to
      ``x`` (at trace time).
  """
  given, axes = axes, validate.axes(axes, 'axes', x.ndim)
  if len(axes) > 2:
    raise ValueError(f'axes must name one or two axes of x; got {given!r}.')
  try:
    np.broadcast_shapes(jnp.shape(phase), x.shape)
  except ValueError:
    raise ValueError(f'phase must broadcast to x {x.shape}; got shape '
                     f'{jnp.shape(phase)}.') from None
  spectrum = jnp.fft.fftn(x, axes=axes)
  shifted = jnp.fft.ifftn(spectrum * phase, axes=axes)
  if jnp.iscomplexobj(x):
    return shifted.astype(x.dtype)
  return shifted.real.astype(x.dtype)


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
