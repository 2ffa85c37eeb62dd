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
    return down, functools.partial(layers.lps_upsample, weights=weights)
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


# Measured errors (and the strided negative control's above):
# docs/generated/registry_errors.md; ~1.8x headroom.
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


# Measured errors (and unet_strided's):
# docs/generated/registry_errors.md; ~1.7x headroom.
# More in docs/shift_invariance.md.
@CASES.register('unet_blur/one_pixel_shift', expect=testing.APPROXIMATE,
                bound=0.15,
                fact="the U-Net with downsampling='blur' is approximately "
                'equivariant to a 1-pixel shift (closer than strided)')
def unet_blur_under_one_pixel_shift(draw):
  return _unet_trial(draw, 'blur', any_shift=False)


# Ties on purpose. A circular shift permutes the polyphase components, so a
# tie of the largest logit (LPS) or norm (APS) resolved by index (the first,
# jnp.argmax) keeps another phase after an odd shift; the samplers break
# ties by the components' content (layers.pooling.shift_consistent_argmax).


def dead_logit_network(rng: np.random.Generator, c_in: int, *,
                       hidden: int = 4):
  """A logit network whose ReLUs are all dead: every logit is the last bias,
  so all components tie exactly (what dead ReLUs do in a trained LPD)."""
  kernels, biases = random_logit_network(rng, c_in, hidden=hidden)
  biases[0] = np.full(hidden, -1e4, np.float32)
  return kernels, biases


def permuted_components_input(rng: np.random.Generator, *, batch: int,
                              size: int, channels: int) -> np.ndarray:
  """``[B, 2 size, 2 size, C]`` whose four polyphase components are random
  pixel permutations of one random component: their norms and sorted values
  tie exactly, and they are not circular shifts of one another."""
  base = rng.standard_normal((batch, size * size, channels)).astype(np.float32)
  x = np.zeros((batch, 2 * size, 2 * size, channels), np.float32)
  for p in range(4):
    order = np.arange(size * size) if p == 0 else rng.permutation(size * size)
    x[:, p // 2::2, p % 2::2] = base[:, order].reshape(batch, size, size,
                                                        channels)
  return x


def _tied_input(draw, rng, kind):
  size = draw(st.integers(3, 4), label='component_size')
  channels = draw(st.integers(1, 2), label='channels')
  if kind == 'permuted':
    return permuted_components_input(rng, batch=2, size=size,
                                     channels=channels)
  return rng.standard_normal((2, 2 * size, 2 * size, channels)).astype(
      np.float32)


def _down_relu_up(down_up):
  def fn(x):
    down, up = down_up(x)
    return up(jax.nn.relu(down))
  return fn


def _first_index_lps_down_up(network):
  def down_up(y):
    kernels, biases = network
    logits = layers.polyphase_logits(y, kernels, biases=biases)
    weights = layers.polyphase_weights(logits)  # no components: first index
    return (layers.mix_polyphase(y, weights),
            functools.partial(layers.lps_upsample, weights=weights))
  return down_up


@CASES.register('lps_tied_logits/circular_shift', expect=testing.EXACT,
                bound=1e-5,
                fact='LPS down -> up is exactly equivariant to every circular '
                'shift when all logits tie (dead ReLUs), on noise and on '
                'inputs whose components are pixel permutations of one '
                'another: ties are broken by content, not index')
def lps_tied_logits_under_circular_shift(draw):
  rng = testing.draw_rng(draw)
  kind = draw(st.sampled_from(['noise', 'permuted']), label='input')
  x = _tied_input(draw, rng, kind)
  network = dead_logit_network(rng, x.shape[-1])
  fn = _down_relu_up(_lps_down_up(network, 1))
  return testing.Trial(fn, x,
                       groups.CircularShift(*testing.draw_shift(draw, x)))


@CASES.register('aps_tied_norms/circular_shift', expect=testing.EXACT,
                bound=1e-5,
                fact='APS down -> polyphase upsampling is exactly equivariant '
                'to every circular shift when the component norms tie '
                '(components that are pixel permutations of one another)')
def aps_tied_norms_under_circular_shift(draw):
  rng = testing.draw_rng(draw)
  x = _tied_input(draw, rng, 'permuted')
  fn = _down_relu_up(_aps_down_up(1))
  return testing.Trial(fn, x,
                       groups.CircularShift(*testing.draw_shift(draw, x)))


@CASES.register('first_index_ties/one_pixel_shift', expect=testing.BREAKS,
                bound=0.5,
                fact='the same tied LPS sampler with ties resolved to the '
                'first index (jnp.argmax) is not equivariant to a 1-pixel '
                'shift (negative control of lps_tied_logits)')
def first_index_ties_under_one_pixel_shift(draw):
  rng = testing.draw_rng(draw)
  kind = draw(st.sampled_from(['noise', 'permuted']), label='input')
  x = _tied_input(draw, rng, kind)
  network = dead_logit_network(rng, x.shape[-1])
  fn = _down_relu_up(_first_index_lps_down_up(network))
  shift = draw(st.sampled_from([(1, 0), (0, 1), (1, 1)]), label='shift')
  return testing.Trial(fn, x, groups.CircularShift(*shift))


@functools.lru_cache(maxsize=4)
def _unet_dead_logits(seed: int):
  """The LPS U-Net with every LPD's hidden ReLUs dead: all logits tie."""
  model = models.build_model('unet', downsampling='lps', widths=(4, 8),
                             out_channels=2)
  variables = model.init(jax.random.key(seed), np.zeros(_UNET_SHAPE,
                                                        np.float32))
  params = dict(variables['params'])
  for name in [n for n in params if n.startswith('lpd')]:
    lpd_params = dict(params[name])
    lpd_params['logit_conv0_bias'] = np.full_like(
        lpd_params['logit_conv0_bias'], -1e4)
    params[name] = lpd_params
  variables = {**variables, 'params': params}
  return jax.jit(functools.partial(model.apply, variables))


@CASES.register('unet_lps_tied_logits/circular_shift', expect=testing.EXACT,
                bound=1e-5,
                fact="the LPS U-Net (eval mode) whose LPDs' logits all tie "
                '(dead ReLUs) is exactly equivariant to every circular shift')
def unet_lps_tied_logits_under_circular_shift(draw):
  rng = testing.draw_rng(draw)
  x = rng.standard_normal(_UNET_SHAPE).astype(np.float32)
  fn = _unet_dead_logits(draw(st.integers(0, 1), label='init_seed'))
  return testing.Trial(fn, x,
                       groups.CircularShift(*testing.draw_shift(draw, x)))
