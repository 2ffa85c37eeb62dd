"""Rescaling about the grid centre: band-limited, anti-aliased.

:func:`rescale` is the project's one rescaling. Output pixel ``p`` reads the
input at ``c + (p - c) / s`` (``c = ((H - 1) / 2, (W - 1) / 2)``, ``s`` the
factor: ``s > 1`` magnifies), from the input's *trigonometric interpolant*
(the band-limited signal whose samples are the pixels), one axis after the
other. Which kernel, and why:

* **band-limited (sinc on the torus)** rather than bilinear or bicubic: it is
  exact at ``s = 1`` and at integer positions, differentiable in ``s`` with
  the spectral derivative as its generator (the ``'scale'`` flow of
  :mod:`groups.lie` is ``rescale(x, e^t, boundary='periodic')``), and it
  adds no blur of its own, so what a model does to a rescaled image is not
  mixed with what it does to a blurred one (the reason
  :class:`groups.FourierRotation` exists for rotations);
* **anti-aliased when shrinking**: a factor ``s < 1`` first removes the
  frequencies above the new Nyquist limit, ``s / 2`` cycles per pixel (an
  ideal low-pass, ramped linearly over the bin above it so that the result
  is continuous in ``s``; shrinking by less than one pixel per image keeps
  every bin); without it the shrunk image aliases, as every strided layer
  does;
* the price is ringing (Gibbs) at sharp edges, as for any sinc resampling.

``boundary='zeros'`` (the default) reads zeros where the source position
falls outside the grid, so a magnified image loses its margin and a shrunk
one gains a black one (the content itself is periodic only in the
interpolant); ``'periodic'`` keeps the torus (what the Lie flow needs).

Layout: ``[B, H, W, ...]`` (axes 1, 2), floating or complex; the factor is
one number for the batch or ``[B]`` per map, and may be traced.
"""

from __future__ import annotations

import dataclasses
import math
import numbers

import jax
import jax.numpy as jnp
import numpy as np

from groups import base
from groups import validate

BOUNDARIES = ('zeros', 'periodic')


def _check_factors(factors, num: int):
  """``factors`` as a ``[1]`` or ``[B]`` array: float64 NumPy when concrete,
  a JAX array when traced."""
  concrete = validate.is_concrete(factors)
  xp = np if concrete else jnp
  if concrete and (np.asarray(factors).dtype == bool or not np.issubdtype(
      np.asarray(factors).dtype, np.number)):
    raise ValueError(f'factors must be finite numbers > 0 (s > 1 magnifies); '
                     f'got {factors!r}.')
  factors = xp.asarray(factors, np.float64 if concrete else jnp.float32)
  if factors.ndim == 0:
    factors = factors[None]
  if factors.ndim != 1 or factors.shape[0] not in (1, num):
    raise ValueError(f'factors must be a number or a [B] array with B = {num}; '
                     f'got shape {tuple(factors.shape)}.')
  if concrete and not np.all(np.isfinite(factors) & (factors > 0)):
    raise ValueError(f'factors must be finite numbers > 0 (s > 1 magnifies); '
                     f'got {factors.tolist()}.')
  return factors


def _axis_matrices(n: int, factors, boundary: str):
  """``[F, n, n]``: row ``p`` of each resamples one axis for its factor.

  Concrete factors build it in float64 (NumPy), traced ones in float32.
  """
  xp = np if validate.is_concrete(factors) else jnp
  centre = (n - 1) / 2
  frequencies = np.fft.fftfreq(n) * n                        # [n] integers
  source = centre + (xp.arange(n)[None] - centre) / factors[:, None]  # [F, n]
  # Anti-aliasing: frequencies up to half a bin above the new Nyquist limit
  # s n / 2 are kept, then a linear ramp to 0 over one bin: continuous in s,
  # and nothing changes for s >= 1 - 1 / n (so d/ds at s = 1 is the
  # band-limited derivative from both sides).
  weights = xp.clip(factors[:, None] * n / 2 - np.abs(frequencies)[None]
                    + 1.5, 0, 1)                          # [F, n]
  # x~(q) = sum_j x_j (1/n) sum_k w_k cos(2 pi k (q - j) / n): split the
  # cosine of a difference, so memory stays [F, n, n].
  angle_q = 2 * np.pi * source[:, :, None] * frequencies[None, None] / n
  angle_j = 2 * np.pi * np.outer(np.arange(n), frequencies) / n   # [n, n]
  extra = {} if xp is np else {'precision': jax.lax.Precision.HIGHEST}
  matrix = (xp.einsum('fpk,fk,jk->fpj', xp.cos(angle_q), weights,
                      np.cos(angle_j), **extra) +
            xp.einsum('fpk,fk,jk->fpj', xp.sin(angle_q), weights,
                      np.sin(angle_j), **extra)) / n
  if boundary == 'zeros':
    inside = (source >= -0.5) & (source <= n - 0.5)
    matrix = xp.where(inside[:, :, None], matrix, 0.0)
  return matrix


def rescale_matrix(n: int, factor: float, boundary: str = 'zeros'
                   ) -> np.ndarray:
  """The float64 ``[n, n]`` matrix :func:`rescale` applies along each
  spatial axis of side ``n`` (rows: output positions), for a concrete
  ``factor > 0``; ``rescale_matrix(n, s)[rows]`` gives only some outputs."""
  n = validate.integer(n, 'n', minimum=1)
  factor = validate.number(factor, 'factor', minimum=0.0,
                           exclusive_minimum=True)
  validate.check_choice(boundary, 'boundary', BOUNDARIES)
  return _axis_matrices(n, np.array([factor], np.float64), boundary)[0]


def rescale(x: jax.typing.ArrayLike, factors: float | jax.typing.ArrayLike,
            *, boundary: str = 'zeros') -> jax.Array:
  """Rescales each map about the grid centre by ``factors`` (module doc).

  Args:
    x: ``[B, H, W, ...]`` floating or complex.
    factors: ``s > 0`` (``s > 1`` magnifies), one for all maps or ``[B]``;
      may be traced (then differentiable).
    boundary: 'zeros' (content from outside the grid is 0) or 'periodic'.

  Returns:
    An array of the shape and dtype of ``x``.
  """
  base.check_signal(x)
  validate.check_choice(boundary, 'boundary', BOUNDARIES)
  x = jnp.asarray(x)
  factors = _check_factors(factors, x.shape[0])
  rows = _axis_matrices(x.shape[1], factors, boundary)    # [F, H, H]
  cols = _axis_matrices(x.shape[2], factors, boundary)    # [F, W, W]
  rows, cols = rows.astype(x.real.dtype), cols.astype(x.real.dtype)
  hp = jax.lax.Precision.HIGHEST
  if factors.shape[0] == 1:
    y = jnp.einsum('ph,bhw...->bpw...', rows[0], x, precision=hp)
    return jnp.einsum('qw,bpw...->bpq...', cols[0], y,
                      precision=hp).astype(x.dtype)
  y = jnp.einsum('bph,bhw...->bpw...', rows, x, precision=hp)
  return jnp.einsum('bqw,bpw...->bpq...', cols, y, precision=hp).astype(
      x.dtype)


@dataclasses.dataclass(frozen=True)
class Rescale(base.Transform):
  """Rescale by ``factor`` about the grid centre (:func:`rescale`, zeros
  outside). Exact only for ``factor == 1``; ``inverse()`` rescales by
  ``1 / factor`` (a true inverse only when nothing left the grid and, when
  shrinking, nothing was above the new Nyquist limit)."""
  factor: float

  def __post_init__(self):
    if (not isinstance(self.factor, numbers.Real) or
        isinstance(self.factor, bool) or not math.isfinite(self.factor) or
        self.factor <= 0):
      raise ValueError(f'factor must be a finite number > 0 (> 1 magnifies); '
                       f'got {self.factor!r}.')

  @property
  def exact(self) -> bool:  # type: ignore[override]
    return float(self.factor) == 1.0

  def __call__(self, x):
    return rescale(x, float(self.factor))

  def inverse(self):
    return Rescale(1 / float(self.factor))


def scale_index_shift(factor: float, ratio: float) -> int:
  """``k`` with ``factor == ratio**k`` (to 1e-6 relative), or a ValueError.

  A scale-equivariant map over scales ``sigma_i = sigma_0 ratio**i`` sees a
  rescale by ``ratio**k`` as a shift of its scale axis by ``k``; other
  factors fall between its scales.
  """
  factor = validate.number(factor, 'factor', minimum=0.0,
                           exclusive_minimum=True)
  ratio = validate.number(ratio, 'ratio', minimum=1.0, exclusive_minimum=True)
  k = round(math.log(factor) / math.log(ratio))
  if not math.isclose(ratio**k, factor, rel_tol=1e-6):
    raise ValueError(
        f'factor must be an integer power of the scale ratio {ratio:g} to act '
        f'on a scale axis (1, {ratio:g}, {ratio**2:g}, ... or their '
        f'inverses); got {factor:g}.')
  return k


@dataclasses.dataclass(frozen=True)
class ScaleAxisRescale(base.Transform):
  """What a rescale by ``ratio**k`` induces on a scale-equivariant map.

  On ``[B, H, W, S, C]`` (axis 3: scales ``sigma_i = sigma_0 ratio**i``)
  it rescales space by ``ratio**k`` (:func:`rescale`) and shifts the scale
  axis by ``k``: the response at scale ``sigma`` of the rescaled input is
  the response at ``sigma / ratio**k`` of the input, so ``out[..., i, :] =
  in[..., i - k, :]``, with zeros where ``i - k`` leaves ``0..S-1`` (a
  finite set of scales is only equivariant away from its ends).
  """
  k: int
  ratio: float

  def __post_init__(self):
    validate.integer(self.k, 'k', minimum=None)
    validate.number(self.ratio, 'ratio', minimum=1.0, exclusive_minimum=True)

  @property
  def exact(self) -> bool:  # type: ignore[override]
    return self.k == 0

  def __call__(self, x):
    _check_scale_map(x)
    return shift_scale_axis(rescale(x, float(self.ratio)**self.k), self.k)

  def inverse(self):
    return ScaleAxisRescale(-self.k, self.ratio)


def _check_scale_map(x) -> None:
  base.check_signal(x)
  if np.ndim(x) != 5:
    raise ValueError(f'x must be a scale map [B, H, W, S, C] (axis 3: '
                     f'scales); got shape {tuple(np.shape(x))}.')


def _has_partner(num_scales: int, k: int) -> np.ndarray:
  """``[S]`` bool: scale ``i`` has its partner ``i - k`` in ``0..S-1``."""
  index = np.arange(num_scales)
  return (index - k >= 0) & (index - k < num_scales)


def shift_scale_axis(x: jax.typing.ArrayLike, k: int) -> jax.Array:
  """``out[..., i, :] = x[..., i - k, :]`` on a scale map ``[B, H, W, S, C]``,
  zeros where ``i - k`` leaves ``0..S-1`` (the scale-axis half of
  :class:`ScaleAxisRescale`)."""
  _check_scale_map(x)
  k = validate.integer(k, 'k', minimum=None)
  x = jnp.asarray(x)
  if k == 0:
    return x
  keep = _has_partner(x.shape[3], k)
  return jnp.where(keep[:, None], jnp.roll(x, k, axis=3),
                   jnp.zeros((), x.dtype))


def on_canvas(x: jax.typing.ArrayLike, canvas: int) -> jax.Array:
  """Azulay & Weiss's canvas: ``x`` ``[B, H, W, ...]`` centred on a black
  ``canvas x canvas`` grid, so that a rescale of the object (by a factor up
  to ``canvas / max(H, W)``) loses nothing at the border.

  Raises:
    ValueError: unless ``canvas >= max(H, W)`` and the margins are whole
      (``canvas - H`` and ``canvas - W`` even: the centre stays a centre).
  """
  base.check_features(x)
  x = jnp.asarray(x)
  canvas = validate.integer(canvas, 'canvas', minimum=1)
  height, width = x.shape[1:3]
  if canvas < max(height, width) or (canvas - height) % 2 or (
      canvas - width) % 2:
    raise ValueError(
        f'canvas must be at least max(H, W) = {max(height, width)} with '
        f'canvas - H and canvas - W even (a centred object); got {canvas} '
        f'for H, W = {height}, {width}.')
  top, left = (canvas - height) // 2, (canvas - width) // 2
  widths = [(0, 0), (top, top), (left, left)] + [(0, 0)] * (x.ndim - 3)
  return jnp.pad(x, widths)


@dataclasses.dataclass(frozen=True)
class ScaleGroup:
  """The discrete rescalings ``{ratio**k}`` a scale-equivariant stack sees.

  Elements are integers ``k`` (a rescale by ``ratio**k``; ``k > 0``
  magnifies); none but ``k = 0`` acts exactly on a pixel grid.
  """
  ratio: float
  is_finite = False
  identity_element = 0

  def element_name(self, k: int) -> str:
    return f'rescale x{float(self.ratio)**int(k):.4g} (k={int(k)})'


@dataclasses.dataclass(frozen=True)
class ScaleType:
  """The field type of a scale-equivariant layer's input or output.

  ``num_scales == 0``: an ordinary map ``[B, H, W, channels]`` (an image, or
  a projection over scales), on which a rescale by ``ratio**k`` acts as
  :class:`Rescale`; ``num_scales = S >= 1``: a scale map
  ``[B, H, W, S, channels]`` over scales ``sigma_0 ratio**i``, on which it
  acts as :class:`ScaleAxisRescale` (rescale space, shift axis 3 by ``k``).
  Two layers chain when their types are equal: same channels, ratio and
  number of scales.
  """
  channels: int
  ratio: float
  num_scales: int = 0

  def __post_init__(self):
    validate.integer(self.channels, 'channels', minimum=1)
    validate.number(self.ratio, 'ratio', minimum=1.0, exclusive_minimum=True)
    validate.integer(self.num_scales, 'num_scales', minimum=0)

  @property
  def size(self) -> int:
    """Channels per position (and per scale): the last axis."""
    return int(self.channels)

  @property
  def group(self) -> ScaleGroup:
    return ScaleGroup(float(self.ratio))

  @property
  def layout(self) -> str:
    return ('[B, H, W, C]' if not self.num_scales else '[B, H, W, S, C]')

  def __repr__(self) -> str:
    axis = (f'{self.num_scales} scales x ' if self.num_scales else 'plain, ')
    return f'ScaleType({axis}{self.channels} channels, ratio {self.ratio:.4g})'

  def transform(self, k: int) -> base.Transform:
    """What a rescale of the *input image* by ``ratio**k`` does here."""
    k = validate.integer(k, 'k', minimum=None)
    if not self.num_scales:
      return Rescale(float(self.ratio)**k)
    return ScaleAxisRescale(k, float(self.ratio))

  def check_features(self, x, name: str = 'x') -> None:
    """Raises ValueError unless ``x`` has this type's layout and sizes."""
    rank = 5 if self.num_scales else 4
    shape = tuple(np.shape(x))
    want = ((self.num_scales, self.channels) if self.num_scales else
            (self.channels,))
    if len(shape) != rank or shape[3:] != want:
      sizes = (f'S = {self.num_scales}, C = {self.channels}' if
               self.num_scales else f'C = {self.channels}')
      raise ValueError(f'{name} must be {self.layout} with {sizes} for '
                       f'{self!r}; got shape {shape}.')


def check_scale_type(scale_type, name: str = 'scale_type') -> None:
  """Raises ValueError unless ``scale_type`` is a :class:`ScaleType`."""
  if not isinstance(scale_type, ScaleType):
    raise ValueError(f'{name} must be a groups.scale.ScaleType (channels, '
                     f'ratio, num_scales); got {scale_type!r:.200}.')


def geometric_ratio(scales, name: str = 'scales') -> float:
  """The common ratio of increasing ``scales`` (to 2 % relative, as the
  papers round their scales to two decimals), or a ValueError."""
  try:
    values = [float(s) for s in scales]
    if any(isinstance(s, bool) for s in scales):
      values = None
  except (TypeError, ValueError):
    values = None
  if not values or not all(math.isfinite(v) and v > 0 for v in values):
    raise ValueError(f'{name} must be a sequence of finite numbers > 0 '
                     f'(sigma_0 < sigma_1 < ...); got {scales!r}.')
  if len(values) == 1:
    return math.sqrt(2.0)
  ratios = [b / a for a, b in zip(values, values[1:])]
  if min(ratios) <= 1 or max(ratios) > min(ratios) * 1.02:
    raise ValueError(f'{name} must increase geometrically (sigma_i = '
                     f'sigma_0 r^i, to 2 %); got {values} (ratios '
                     f'{[round(r, 4) for r in ratios]}).')
  return float((values[-1] / values[0])**(1 / (len(values) - 1)))


def partner_mask(height: int, width: int, num_scales: int, k: int
                 ) -> np.ndarray:
  """``[H, W, S]`` bool: True at the scales ``i`` whose partner ``i - k``
  is in the set -- where :class:`ScaleAxisRescale` ``(k, .)`` predicts a
  scale map (the others receive responses from outside the set)."""
  for name, value in (('height', height), ('width', width),
                      ('num_scales', num_scales)):
    validate.integer(value, name, minimum=1)
  k = validate.integer(k, 'k', minimum=None)
  return np.broadcast_to(_has_partner(num_scales, k),
                         (height, width, num_scales)).copy()
