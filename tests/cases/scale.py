"""Registry cases: rescaling (groups.scale).

Exact: a 1x1 conv commutes with every rescale (the rescale acts on each
channel alike, by the same matrices). Approximate: the Gaussian scale space
(blur by sigma_i = sigma_0 r^i, a fixed lifting to ``[B, H, W, S, C]``), the
textbook scale-equivariant map: blurring a magnified image by sigma equals
magnifying the image blurred by sigma / s, so a rescale by r^k shifts its
scale axis by k (:class:`groups.ScaleAxisRescale`); off only by the
rescale's resampling and the finite grid. Must break: the same lifting
without the shift of the scale axis, and an ordinary 5x5 conv.
Layouts ``[B, H, W, C]`` and scale maps ``[B, H, W, S, C]``.
"""

import functools

import jax.numpy as jnp
import numpy as np
from hypothesis import strategies as st

import groups
from groups import testing
import layers

CASES = testing.Registry()
RATIO = 2**0.5       # scales sigma_0 r^i of the scale space
SIGMAS = tuple(1.0 * RATIO**i for i in range(5))


def gaussian_scale_space(x, sigmas=SIGMAS):
  """``[B, H, W, C] -> [B, H, W, S, C]``: periodic Gaussian blurs (Fourier
  domain) of widths ``sigmas`` (pixels)."""
  x = jnp.asarray(x)
  ky = np.fft.fftfreq(x.shape[1])[:, None]
  kx = np.fft.fftfreq(x.shape[2])[None, :]
  spectrum = jnp.fft.fft2(x, axes=(1, 2))
  out = []
  for sigma in sigmas:
    gain = np.exp(-2 * np.pi**2 * sigma**2 * (ky**2 + kx**2))
    out.append(jnp.fft.ifft2(spectrum * gain[None, :, :, None],
                             axes=(1, 2)).real)
  return jnp.stack(out, axis=3).astype(x.dtype)


def smooth_input(draw, rng):
  """``[2, 33, 33, 1]`` smooth images (0.12 cycles/px) vanishing outside
  the middle third: room to magnify by 2 without losing content."""
  return testing.smooth_input(draw, rng, size=33, cutoff=0.12, window=0.45)


@CASES.register('conv1x1/rescale', expect=testing.EXACT, bound=1e-5,
                fact='a 1x1 conv commutes with every rescale (magnifying or '
                'shrinking, anti-aliased): both act on different axes')
def pointwise_conv_rescale(draw):
  rng = testing.draw_rng(draw)
  x = testing.random_input(draw, rng, sizes=st.sampled_from((7, 8)),
                           batch=(2, 2), square=True)
  kernel = testing.random_kernel(rng, 1, 1, x.shape[-1], 3)
  fn = functools.partial(layers.conv2d, kernel=kernel, padding='circular')
  factor = draw(st.sampled_from((0.6, 0.8, 1.25, 1.7)), label='factor')
  return testing.Trial(fn, x, groups.Rescale(factor))


# Measured errors: docs/generated/registry_errors.md; ~2x headroom.
@CASES.register('gaussian_scale_space/rescale', expect=testing.APPROXIMATE,
                bound=0.05,
                fact='the Gaussian scale space (sigma_0 r^i, r = sqrt 2) maps '
                'a rescale by r^k (k = -1, 1, 2) to a rescale plus a shift '
                'of its scale axis by k, on smooth images (compared at the '
                'scales whose partner is in the set)')
def scale_space_rescale(draw):
  rng = testing.draw_rng(draw)
  x = smooth_input(draw, rng)
  k = draw(st.sampled_from((-1, 1, 2)), label='k')
  return testing.Trial(gaussian_scale_space, x, groups.Rescale(RATIO**k),
                       groups.ScaleAxisRescale(k, RATIO),
                       mask=partner_mask(x, k))


@CASES.register('gaussian_scale_space/rescale_without_scale_shift',
                expect=testing.BREAKS, bound=0.1,
                fact='negative control: the same scale space and rescale '
                'compared without shifting the scale axis')
def scale_space_rescale_unshifted(draw):
  rng = testing.draw_rng(draw)
  x = smooth_input(draw, rng)
  k = draw(st.sampled_from((-1, 1, 2)), label='k')
  return testing.Trial(gaussian_scale_space, x, groups.Rescale(RATIO**k),
                       groups.ScaleAxisRescale(0, RATIO),
                       mask=partner_mask(x, k))


def partner_mask(x, k: int, num: int = len(SIGMAS)) -> np.ndarray:
  """``[H, W, S]``: True at the scales ``i`` with ``i - k`` in the set."""
  index = np.arange(num)
  keep = (index - k >= 0) & (index - k < num)
  return np.broadcast_to(keep, x.shape[1:3] + (num,)).copy()


@CASES.register('conv/rescale', expect=testing.BREAKS, bound=0.1,
                fact='negative control: an ordinary 5x5 conv does not commute '
                'with a rescale by r^k of the same smooth images')
def generic_conv_rescale(draw):
  rng = testing.draw_rng(draw)
  x = smooth_input(draw, rng)
  kernel = testing.random_kernel(rng, 5, 5, 1, 4)
  fn = functools.partial(layers.conv2d, kernel=kernel, padding='zeros')
  k = draw(st.sampled_from((-1, 1, 2)), label='k')
  return testing.Trial(fn, x, groups.Rescale(RATIO**k))
