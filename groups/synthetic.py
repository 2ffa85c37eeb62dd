"""Synthetic images for equivariance measurements: smooth, band-limited, windowed.

Interpolated rotations and sub-pixel shifts commute with a layer only up to the
resampling error, which is small for smooth content away from the border. These
helpers make such inputs; experiments (probes) and tests draw from them, so a
measured bound and the experiment that quotes it see the same kind of image.

Layout: every function takes and returns float32 ``[B, H, W, C]`` NumPy arrays.
"""

from __future__ import annotations

import numpy as np

from groups import validate

REGIONS = ('square', 'disk')


def low_pass(x: np.ndarray, *, cutoff: float, region: str = 'square',
             normalize: bool = False) -> np.ndarray:
  """Ideal low-pass of ``x`` ``[B, H, W, C]`` (FFT over axes 1, 2).

  Args:
    x: ``[B, H, W, C]`` real images.
    cutoff: kept spatial frequencies, in cycles per pixel (Nyquist is 0.5).
    region: ``'square'`` keeps ``|fy| < cutoff and |fx| < cutoff``;
      ``'disk'`` keeps ``hypot(fy, fx) < cutoff``.
    normalize: divide the result by its standard deviation (over all axes).

  Returns:
    float32 ``[B, H, W, C]``.
  """
  x = np.asarray(x)
  validate.check_array(x, 'x', rank=4, layout='[B, H, W, C]')
  cutoff = validate.number(cutoff, 'cutoff', minimum=0.0,
                           exclusive_minimum=True)
  validate.check_choice(region, 'region', REGIONS)
  fy = np.abs(np.fft.fftfreq(x.shape[1]))[:, None]
  fx = np.abs(np.fft.fftfreq(x.shape[2]))[None, :]
  if region == 'square':
    keep = (fy < cutoff) & (fx < cutoff)
  else:
    keep = np.hypot(fy, fx) < cutoff
  spectrum = np.fft.fft2(x, axes=(1, 2)) * keep[None, :, :, None]
  out = np.real(np.fft.ifft2(spectrum, axes=(1, 2)))
  if normalize:
    out = out / out.std()
  return out.astype(np.float32)


def radial_window(x: np.ndarray, *, fraction: float = 0.7) -> np.ndarray:
  """``x`` ``[B, H, W, C]`` times the bump ``(1 - (r / R)^2)^2`` (0 beyond R).

  ``r`` is the distance to the grid centre and ``R = fraction`` of the
  inscribed disk's radius ``(min(H, W) - 1) / 2``, so the content stays on
  the grid under any rotation about the centre.
  """
  x = np.asarray(x)
  validate.check_array(x, 'x', rank=4, layout='[B, H, W, C]')
  fraction = validate.number(fraction, 'fraction', minimum=0.0,
                             exclusive_minimum=True, maximum=1.0)
  h, w = x.shape[1:3]
  radius = np.hypot(*np.meshgrid(np.arange(h) - (h - 1) / 2,
                                 np.arange(w) - (w - 1) / 2, indexing='ij'))
  scale = fraction * (min(h, w) - 1) / 2
  if scale == 0:  # a 1-pixel grid: the window is that pixel
    bump = np.ones((h, w))
  else:
    bump = np.clip(1 - (radius / scale)**2, 0, None)**2
  return (x * bump[None, :, :, None]).astype(np.float32)


def smooth_images(rng: np.random.Generator, shape: tuple[int, int, int, int],
                  *, cutoff: float, region: str = 'square',
                  normalize: bool = False,
                  window: float | None = 0.7) -> np.ndarray:
  """White noise ``[B, H, W, C]``, low-passed, then radially windowed.

  Args:
    rng: NumPy generator for the noise.
    shape: ``(B, H, W, C)``.
    cutoff, region, normalize: as in :func:`low_pass`.
    window: ``fraction`` of :func:`radial_window`, or None for no window.

  Returns:
    float32 ``[B, H, W, C]``.
  """
  if len(shape) != 4:
    raise ValueError(f'shape must be (B, H, W, C); got {shape!r}.')
  for name, size in zip('BHWC', shape):
    validate.integer(size, f'shape[{name}]', minimum=1)
  x = rng.standard_normal(shape).astype(np.float32)
  x = low_pass(x, cutoff=cutoff, region=region, normalize=normalize)
  return x if window is None else radial_window(x, fraction=window)
