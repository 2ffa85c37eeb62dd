"""Registry cases: learnable polyphase sampling and shift-equivariant upsampling.

LPS (Rojas-Gomez et al. 2022) at test time and APS pick the polyphase
component from its content, so a circular conv net with LPD and a global
pool is exactly invariant to every circular shift, and an LPD -> LPU (or
APS -> polyphase upsampling) encoder-decoder is exactly equivariant; fixed
phase sampling (strided) breaks both; blur pooling + blur upsampling is only
approximately equivariant. The U-Net of ``models/unet.py`` is checked for
each ``downsampling``. Layouts: ``[B, H, W, C]``.
"""

import functools

import jax
import numpy as np
from hypothesis import strategies as st

import groups
from groups import testing
import layers
import models
from tests.cases import translations

CASES = testing.Registry()


def random_logit_network(rng: np.random.Generator, c_in: int, *,
                         hidden: int = 8):
  """An LPS logit network ``conv 3x3 (hidden) -> ReLU -> conv 3x3 (1)``.

  Returns ``(kernels, biases)``. The hidden biases are drawn (not zero) so
  that the ReLUs are neither all active nor all dead: in either regime the
  network is linear in its input (or constant), and after a binomial blur
  every polyphase component has the same mean, so a linear logit ties
  across components (the trap of APS with the 'l1' norm) and the choice
  would be decided by rounding.
  """
  kernels = [testing.random_kernel(rng, 3, 3, c_in, hidden),
             testing.random_kernel(rng, 3, 3, hidden, 1)]
  biases = [rng.uniform(-0.5, 0.5, hidden).astype(np.float32),
            np.zeros(1, np.float32)]
  return kernels, biases


def lps_test_time(x, network, *, filter_size=1):
  """LPD at test time: ``(y [B, H/2, W/2, C], one-hot weights [B, 4])``."""
  kernels, biases = network
  return layers.lps_downsample(x, kernels, biases=biases,
                               filter_size=filter_size, selection='argmax')


def _strided(y):
  return y[:, ::2, ::2]


def _small_input(draw, rng):
  # Few distinct shapes (H = W in 6, 8; B = 2; C in 1, 2), so that the eager
  # ops compiled for one draw are reused by the next. Not 4: the 2 x 2
  # components of a blurred 4 x 4 map can give two components exactly the
  # same logit (a tie: the first wins, whatever the shift; measured, see
  # docs/shift_invariance.md).
  return testing.random_input(draw, rng, sizes=st.integers(3, 4),
                              multiple_of=2, batch=(2, 2), channels=(1, 2),
                              square=True)


def _draw_filter_size(draw):
  return draw(st.integers(1, 4), label='filter_size')


@CASES.register('net_lpd/circular_shift', expect=testing.EXACT, bound=1e-5,
                fact='a circular conv net with LPS downsampling (test time: '
                'argmax of a shift-invariant logit network) and a global '
                'pool is exactly invariant to every circular shift')
def net_with_lpd_under_circular_shift(draw):
  rng = testing.draw_rng(draw)
  x = _small_input(draw, rng)
  network = random_logit_network(rng, 6)
  filter_size = _draw_filter_size(draw)
  downsample = lambda y: lps_test_time(  # noqa: E731
      y, network, filter_size=filter_size)[0]
  fn = translations.two_conv_net(rng, x.shape[-1], downsample=downsample)
  return testing.Trial(fn, x,
                       groups.CircularShift(*testing.draw_shift(draw, x)),
                       groups.Identity())


@CASES.register('net_strided_sampling/one_pixel_shift', expect=testing.BREAKS,
                bound=5e-3,
                fact='the same network with fixed-phase (strided) sampling '
                'in place of LPD is not invariant to a 1-pixel shift '
                '(negative control of net_lpd)')
def net_with_strided_sampling_under_one_pixel_shift(draw):
  rng = testing.draw_rng(draw)
  x = testing.random_input(draw, rng, sizes=st.integers(4, 5), multiple_of=2,
                           batch=(4, 4), channels=(2, 2), square=True)
  fn = translations.two_conv_net(rng, x.shape[-1], downsample=_strided)
  shift = draw(st.sampled_from([(1, 0), (0, 1), (1, 1)]), label='shift')
  return testing.Trial(fn, x, groups.CircularShift(*shift), groups.Identity())


def encoder_decoder(rng: np.random.Generator, c_in: int, *, down_up,
                    width: int = 4):
  """``conv -> relu -> down -> conv -> relu -> up -> conv``, circular convs.

  ``down_up(y) -> (down, up)``: the downsampled map and a function that
  upsamples a map of its size back (at the phase ``down`` kept). Returns
  ``fn: [B, H, W, c_in] -> [B, H, W, width]``.
  """
  k1 = testing.random_kernel(rng, 3, 3, c_in, width)
  k2 = testing.random_kernel(rng, 3, 3, width, width)
  k3 = testing.random_kernel(rng, 3, 3, width, width)

  def fn(x):
    y = jax.nn.relu(layers.conv2d(x, k1, padding='circular'))
    down, up = down_up(y)
    z = jax.nn.relu(layers.conv2d(down, k2, padding='circular'))
    return layers.conv2d(up(z) + y, k3, padding='circular')

  return fn


def _lps_down_up(network, filter_size):
  def down_up(y):
    down, weights = lps_test_time(y, network, filter_size=filter_size)
    return down, functools.partial(layers.lpu, weights=weights)
  return down_up


def _aps_down_up(filter_size):
  def down_up(y):
    indices = layers.aps_indices(y, filter_size=filter_size)
    down = layers.take_polyphase(y, indices, filter_size=filter_size)
    return down, functools.partial(layers.polyphase_upsample, indices=indices)
  return down_up


def _strided_down_up(y):
  zeros = np.zeros(y.shape[:1], np.int32)
  return _strided(y), functools.partial(layers.polyphase_upsample,
                                        indices=zeros)


def _blur_down_up(filter_size):
  def down_up(y):
    down = layers.blur_pool(y, filter_size=filter_size, padding='circular')
    return down, functools.partial(layers.blur_upsample,
                                   filter_size=filter_size, padding='circular')
  return down_up


@CASES.register('lpd_lpu/circular_shift', expect=testing.EXACT, bound=1e-5,
                fact='an LPD -> LPU encoder-decoder (test time; with a skip '
                'connection) is exactly equivariant to every circular shift')
def lpd_lpu_under_circular_shift(draw):
  rng = testing.draw_rng(draw)
  x = _small_input(draw, rng)
  down_up = _lps_down_up(random_logit_network(rng, 4),
                         _draw_filter_size(draw))
  fn = encoder_decoder(rng, x.shape[-1], down_up=down_up)
  return testing.Trial(fn, x,
                       groups.CircularShift(*testing.draw_shift(draw, x)))


@CASES.register('aps_polyphase_upsample/circular_shift', expect=testing.EXACT,
                bound=1e-5,
                fact='APS downsampling and polyphase upsampling at the '
                'indices APS chose make an encoder-decoder exactly '
                'equivariant to every circular shift')
def aps_polyphase_upsample_under_circular_shift(draw):
  rng = testing.draw_rng(draw)
  x = _small_input(draw, rng)
  fn = encoder_decoder(rng, x.shape[-1],
                       down_up=_aps_down_up(_draw_filter_size(draw)))
  return testing.Trial(fn, x,
                       groups.CircularShift(*testing.draw_shift(draw, x)))


@CASES.register('strided_zero_insertion/one_pixel_shift',
                expect=testing.BREAKS, bound=1e-2,
                fact='fixed-phase sampling and zero insertion (strided conv + '
                'transposed conv) are not equivariant to a 1-pixel shift '
                '(negative control)')
def strided_zero_insertion_under_one_pixel_shift(draw):
  rng = testing.draw_rng(draw)
  x = testing.random_input(draw, rng, sizes=st.integers(3, 4), multiple_of=2,
                           batch=(3, 3), channels=(2, 2), square=True)
  fn = encoder_decoder(rng, x.shape[-1], down_up=_strided_down_up)
  shift = draw(st.sampled_from([(1, 0), (0, 1), (1, 1)]), label='shift')
  return testing.Trial(fn, x, groups.CircularShift(*shift))


# Bound measured with `python -m tests.measure_registry --filter
# blur_pool_upsample --examples 200`: min 0.012, median 0.050, largest 0.142
# (the strided negative control above: median 0.43); 1.8x headroom.
@CASES.register('blur_pool_upsample/one_pixel_shift',
                expect=testing.APPROXIMATE, bound=0.25,
                fact='blur pooling + blur upsampling (filter 3-5) is only '
                'approximately equivariant to a 1-pixel shift')
def blur_pool_upsample_under_one_pixel_shift(draw):
  rng = testing.draw_rng(draw)
  x = testing.random_input(draw, rng, sizes=st.just(8), multiple_of=2,
                           batch=(4, 4), channels=(3, 3))
  filter_size = draw(st.integers(3, 5), label='filter_size')
  fn = encoder_decoder(rng, x.shape[-1], down_up=_blur_down_up(filter_size),
                       width=8)
  shift = draw(st.sampled_from([(1, 0), (0, 1), (1, 1)]), label='shift')
  return testing.Trial(fn, x, groups.CircularShift(*shift))


@CASES.register('lpd/shift_multiple_of_stride', expect=testing.EXACT,
                bound=1e-5,
                fact='LPD at test time maps a circular shift by 2t to a shift '
                'by t, like any stride-2 sampler')
def lpd_under_shift_by_stride_multiple(draw):
  rng = testing.draw_rng(draw)
  x = _small_input(draw, rng)
  network = random_logit_network(rng, x.shape[-1])
  fn = lambda y: lps_test_time(y, network)[0]  # noqa: E731
  shift = groups.CircularShift(*testing.draw_shift(draw, x, multiple_of=2))
  return testing.Trial(fn, x, shift, shift.output_action(stride=2))


# The U-Net of models/unet.py, eval mode, random weights.

_UNET_SHAPE = (2, 16, 16, 2)  # one shape: the eager ops compile once


@functools.lru_cache(maxsize=8)
def _unet(downsampling: str, seed: int):
  model = models.build_model('unet', downsampling=downsampling,
                             widths=(4, 8), out_channels=2)
  variables = model.init(jax.random.key(seed), np.zeros(_UNET_SHAPE,
                                                        np.float32))
  return jax.jit(functools.partial(model.apply, variables))


def _unet_trial(draw, downsampling, *, any_shift):
  rng = testing.draw_rng(draw)
  x = rng.standard_normal(_UNET_SHAPE).astype(np.float32)
  fn = _unet(downsampling, draw(st.integers(0, 1), label='init_seed'))
  if any_shift:
    shift = testing.draw_shift(draw, x)
  else:
    shift = draw(st.sampled_from([(1, 0), (0, 1), (1, 1)]), label='shift')
  return testing.Trial(fn, x, groups.CircularShift(*shift))


@CASES.register('unet_aps_lps/circular_shift', expect=testing.EXACT,
                bound=1e-5,
                fact="models.build_model('unet', downsampling='aps' | 'lps') "
                'is exactly equivariant to every circular shift (eval mode)')
def unet_aps_lps_under_circular_shift(draw):
  downsampling = draw(st.sampled_from(['aps', 'lps']), label='downsampling')
  return _unet_trial(draw, downsampling, any_shift=True)


@CASES.register('unet_strided/one_pixel_shift', expect=testing.BREAKS,
                bound=1e-2,
                fact="the U-Net with downsampling='strided' (fixed phase, "
                'zero insertion) is not equivariant to a 1-pixel shift')
def unet_strided_under_one_pixel_shift(draw):
  return _unet_trial(draw, 'strided', any_shift=False)


# Bound measured with `python -m tests.measure_registry --filter unet
# --examples 200`: min 0.022, median 0.035, largest 0.090 (unet_strided:
# median 0.17); 1.7x headroom. More in docs/shift_invariance.md.
@CASES.register('unet_blur/one_pixel_shift', expect=testing.APPROXIMATE,
                bound=0.15,
                fact="the U-Net with downsampling='blur' is approximately "
                'equivariant to a 1-pixel shift (closer than strided)')
def unet_blur_under_one_pixel_shift(draw):
  return _unet_trial(draw, 'blur', any_shift=False)
