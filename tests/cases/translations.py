"""Registry cases: translations, and 90-degree rotations of ordinary convs.

Convolution and local pooling under circular, zero-fill and sub-pixel shifts
(strided layers map a shift by ``s t`` to a shift by ``t``); whole networks
made invariant by global pooling or APS, and broken by strided pooling; and
ordinary convs under 90-degree rotations and flips (exact with a
D4-symmetric kernel, broken without). Layouts: ``[B, H, W, C]``.
"""

import functools

import jax
import numpy as np
from hypothesis import strategies as st

import groups
from groups import synthetic
from groups import testing
import layers

CASES = testing.Registry()


def two_conv_net(rng: np.random.Generator, c_in: int, *, downsample=None,
                 head=layers.global_avg_pool, width: int = 6, kernel: int = 3):
  """``conv -> relu -> downsample -> conv -> relu -> head``, circular convs.

  Returns ``fn: [B, H, W, c_in] -> head output``.
  """
  k1 = testing.random_kernel(rng, kernel, kernel, c_in, width)
  k2 = testing.random_kernel(rng, kernel, kernel, width, width)

  def fn(x):
    y = jax.nn.relu(layers.conv2d(x, k1, padding='circular'))
    if downsample is not None:
      y = downsample(y)
    y = jax.nn.relu(layers.conv2d(y, k2, padding='circular'))
    return head(y)

  return fn


# Convolution.


def _draw_conv(draw, rng, x, *, padding, stride=1, kernel_sizes=(1, 5)):
  """A random conv of ``x``; returns ``(fn, dilated kernel size)``."""
  kh = draw(st.integers(*kernel_sizes), label='kh')
  kw = draw(st.integers(*kernel_sizes), label='kw')
  dilation = draw(st.integers(1, 2), label='dilation')
  c_out = draw(st.integers(1, 3), label='C_out')
  kernel = testing.random_kernel(rng, kh, kw, x.shape[-1], c_out)
  fn = functools.partial(layers.conv2d, kernel=kernel, stride=stride,
                         padding=padding, dilation=dilation)
  return fn, (dilation * (kh - 1) + 1, dilation * (kw - 1) + 1)


@CASES.register('conv_circular/circular_shift', expect=testing.EXACT,
                bound=1e-5,
                fact='a stride-1 circular conv (odd or even kernel, dilated '
                'or not) commutes with every circular shift')
def circular_conv_under_circular_shift(draw):
  rng = testing.draw_rng(draw)
  x = testing.random_input(draw, rng)
  fn, _ = _draw_conv(draw, rng, x, padding='circular')
  return testing.Trial(fn, x,
                       groups.CircularShift(*testing.draw_shift(draw, x)))


@CASES.register('conv_circular/subpixel_shift', expect=testing.EXACT,
                bound=1e-5,
                fact='a circular conv and a Fourier sub-pixel shift are both '
                'circulant, so they commute exactly (linear layers only)')
def circular_conv_under_subpixel_shift(draw):
  rng = testing.draw_rng(draw)
  x = testing.random_input(draw, rng)
  fn, _ = _draw_conv(draw, rng, x, padding='circular')
  dy = draw(st.floats(-2, 2, allow_nan=False), label='dy')
  dx = draw(st.floats(-2, 2, allow_nan=False), label='dx')
  return testing.Trial(fn, x, groups.FourierShift(dy, dx))


@CASES.register('conv_padded/interior', expect=testing.EXACT, bound=1e-5,
                fact="a 'zeros'/'reflect'/'replicate' conv commutes with a "
                'zero-fill shift on the interior (receptive field inside the '
                'grid)')
def padded_conv_under_zero_fill_shift_on_interior(draw):
  rng = testing.draw_rng(draw)
  padding = draw(st.sampled_from(['zeros', 'reflect', 'replicate']))
  x = testing.random_input(draw, rng, sizes=st.integers(9, 14))
  fn, (ky, kx) = _draw_conv(draw, rng, x, padding=padding,
                            kernel_sizes=(1, 4))
  shift = (draw(st.integers(-2, 2), label='dy'),
           draw(st.integers(-2, 2), label='dx'))
  mask = groups.interior_mask(x.shape[1], x.shape[2], shift=shift,
                              margin=(ky // 2, kx // 2))
  return testing.Trial(fn, x, groups.ZeroFillShift(*shift), mask=mask)


@CASES.register('conv_zeros/border', expect=testing.BREAKS, bound=1e-2,
                fact="a 'zeros'-padded conv is not circular-shift "
                'equivariant: the border rows/columns differ (negative '
                'control of the interior test)')
def zero_padded_conv_under_circular_shift(draw):
  rng = testing.draw_rng(draw)
  x = testing.random_input(draw, rng, batch=(2, 3))
  fn, _ = _draw_conv(draw, rng, x, padding='zeros', kernel_sizes=(3, 5))
  dy = draw(st.integers(1, x.shape[1] - 1), label='dy')
  return testing.Trial(fn, x, groups.CircularShift(dy, 0))


def _strided_input(draw, rng, stride, batch=(1, 3)):
  return testing.random_input(draw, rng, sizes=st.integers(2, 5),
                              multiple_of=stride, batch=batch)


@CASES.register('conv_strided/shift_multiple_of_stride', expect=testing.EXACT,
                bound=1e-5,
                fact='a stride-s circular conv maps a shift by s*t to a shift '
                'by t (H, W multiples of s)')
def strided_conv_under_shift_by_stride_multiple(draw):
  rng = testing.draw_rng(draw)
  stride = draw(st.integers(2, 3), label='stride')
  x = _strided_input(draw, rng, stride)
  fn, _ = _draw_conv(draw, rng, x, padding='circular', stride=stride)
  shift = groups.CircularShift(*testing.draw_shift(draw, x,
                                                   multiple_of=stride))
  return testing.Trial(fn, x, shift, shift.output_action(stride=stride))


def _one_pixel_shift(draw, stride):
  """A shift with one component not a multiple of ``stride``."""
  d = draw(st.integers(1, stride - 1), label='d')
  return groups.CircularShift(*draw(st.sampled_from([(d, 0), (0, d), (d, d)]),
                                    label='direction'))


@CASES.register('conv_strided/shift_not_multiple', expect=testing.BREAKS,
                bound=1e-2,
                fact='a stride-s conv aliases: a shift that is not a multiple '
                'of s is not a (sub-pixel) shift of the output')
def strided_conv_under_shift_not_multiple_of_stride(draw):
  rng = testing.draw_rng(draw)
  stride = draw(st.integers(2, 3), label='stride')
  x = _strided_input(draw, rng, stride, batch=(2, 3))
  fn, _ = _draw_conv(draw, rng, x, padding='circular', stride=stride,
                     kernel_sizes=(1, 3))
  shift = _one_pixel_shift(draw, stride)
  return testing.Trial(fn, x, shift, shift.output_action(stride=stride))


# Local pooling.

_LOCAL_POOLS = {
    'max_pool': lambda window, stride: functools.partial(
        layers.max_pool, window=window, stride=stride, padding='circular'),
    'avg_pool': lambda window, stride: functools.partial(
        layers.avg_pool, window=window, stride=stride, padding='circular'),
    'blur_pool': lambda window, stride: functools.partial(
        layers.blur_pool, filter_size=window, stride=stride,
        padding='circular'),
    'max_blur_pool': lambda window, stride: functools.partial(
        layers.max_blur_pool, window=window, stride=stride,
        padding='circular'),
}


@CASES.register('local_pool/shift_multiple_of_stride', expect=testing.EXACT,
                bound=1e-5,
                fact='circular max/avg/blur/max-blur pooling with stride s '
                'maps a shift by s*t to a shift by t (every shift when s = 1)')
def local_pool_under_shift_by_stride_multiple(draw):
  rng = testing.draw_rng(draw)
  name = draw(st.sampled_from(sorted(_LOCAL_POOLS)), label='pool')
  window = draw(st.integers(1, 4), label='window')
  stride = draw(st.integers(1, 3), label='stride')
  # A circular max/avg window must fit in the grid (a larger one raises).
  x = testing.random_input(
      draw, rng, sizes=st.integers(max(2, -(-window // stride)), 5),
      multiple_of=stride)
  shift = groups.CircularShift(*testing.draw_shift(draw, x,
                                                   multiple_of=stride))
  return testing.Trial(_LOCAL_POOLS[name](window, stride), x, shift,
                       shift.output_action(stride=stride))


@CASES.register('max_avg_pool/shift_not_multiple', expect=testing.BREAKS,
                bound=1e-2,
                fact='max/avg pooling with stride s >= 2 breaks under a shift '
                'that is not a multiple of s (e.g. 1 pixel): aliasing')
def max_avg_pool_under_shift_not_multiple_of_stride(draw):
  rng = testing.draw_rng(draw)
  name = draw(st.sampled_from(['max_pool', 'avg_pool']), label='pool')
  stride = draw(st.integers(2, 3), label='stride')
  window = draw(st.integers(stride, 4), label='window')
  # H, W > window: a window spanning the whole torus is trivially invariant.
  x = testing.random_input(draw, rng, sizes=st.integers(3, 5),
                           multiple_of=stride, batch=(2, 3))
  shift = _one_pixel_shift(draw, stride)
  return testing.Trial(_LOCAL_POOLS[name](window, stride), x, shift,
                       shift.output_action(stride=stride))


# Invariance of whole networks.

_GLOBAL_POOLS = {'avg': layers.global_avg_pool, 'max': layers.global_max_pool}


@CASES.register('net_stride1_global_pool/circular_shift', expect=testing.EXACT,
                bound=1e-5,
                fact='stride-1 circular convs + ReLU + global avg/max pooling '
                'are exactly invariant to every circular shift')
def stride1_net_with_global_pool_under_circular_shift(draw):
  rng = testing.draw_rng(draw)
  x = testing.random_input(draw, rng)
  head = _GLOBAL_POOLS[draw(st.sampled_from(sorted(_GLOBAL_POOLS)))]
  kernel = draw(st.integers(1, 4), label='kernel')
  fn = two_conv_net(rng, x.shape[-1], head=head, kernel=kernel)
  return testing.Trial(fn, x,
                       groups.CircularShift(*testing.draw_shift(draw, x)),
                       groups.Identity())


@CASES.register('net_max_pool/one_pixel_shift', expect=testing.BREAKS,
                bound=5e-3,
                fact='one stride-2 max pool between the convs and a 1-pixel '
                'shift breaks the invariance of global pooling')
def net_with_max_pool_under_one_pixel_shift(draw):
  rng = testing.draw_rng(draw)
  x = testing.random_input(draw, rng, sizes=st.integers(4, 8), multiple_of=2,
                           batch=(4, 6))
  fn = two_conv_net(rng, x.shape[-1], downsample=_LOCAL_POOLS['max_pool'](2, 2))
  return testing.Trial(fn, x, _one_pixel_shift(draw, 2), groups.Identity())


@CASES.register('net_aps_pool/circular_shift', expect=testing.EXACT,
                bound=1e-5,
                fact='replacing the stride-2 pool by APS (any blur, any norm) '
                'makes the network exactly invariant to every circular shift '
                'again')
def net_with_aps_pool_under_circular_shift(draw):
  rng = testing.draw_rng(draw)
  x = testing.random_input(draw, rng, sizes=st.integers(2, 6), multiple_of=2)
  filter_size = draw(st.integers(1, 5), label='filter_size')
  # After a binomial blur every polyphase component of a non-negative (ReLU)
  # map has the same sum, so 'l1' ties exactly and rounding picks the phase;
  # aps_pool's docstring says so. 'l1' is tested without blur.
  norms = ['l2', 'linf'] if filter_size > 1 else layers.pooling.APS_NORMS
  aps = functools.partial(layers.aps_pool, stride=2, filter_size=filter_size,
                          norm=draw(st.sampled_from(norms), label='norm'))
  fn = two_conv_net(rng, x.shape[-1], downsample=aps)
  return testing.Trial(fn, x,
                       groups.CircularShift(*testing.draw_shift(draw, x)),
                       groups.Identity())


# Measured errors (4 x 16 x 16 x 3 inputs):
# docs/generated/registry_errors.md; ~2.5x headroom.
# See the blur-vs-max comparison in
# registry_test.py for the figure against max pooling.
@CASES.register('net_max_blur_pool/one_pixel_shift',
                expect=testing.APPROXIMATE, bound=0.06,
                fact='anti-aliasing (MaxBlurPool, filter 3-5) does not '
                'restore exact invariance, but keeps the 1-pixel error small')
def net_with_max_blur_pool_under_one_pixel_shift(draw):
  rng = testing.draw_rng(draw)
  x = testing.random_input(draw, rng, sizes=st.just(8), multiple_of=2,
                           batch=(4, 4), channels=(3, 3))
  pool = functools.partial(layers.max_blur_pool, stride=2, padding='circular',
                           filter_size=draw(st.integers(3, 5)))
  # 16 channels: with 6, some draws leave almost every unit dead and the
  # relative error of a near-zero output is meaningless.
  fn = two_conv_net(rng, x.shape[-1], downsample=pool, width=16)
  return testing.Trial(fn, x, _one_pixel_shift(draw, 2), groups.Identity())


# Inputs band-limited to 1/8 cycle/pixel, shifts up to 1/2 pixel. Measured
# errors: docs/generated/registry_errors.md.
@CASES.register('conv_relu/subpixel_shift', expect=testing.APPROXIMATE,
                bound=0.15,
                fact='conv + ReLU is only approximately equivariant to '
                'sub-pixel shifts of smooth inputs: ReLU creates frequencies '
                'above Nyquist')
def conv_relu_under_subpixel_shift(draw):
  rng = testing.draw_rng(draw)
  x = synthetic.low_pass(
      testing.random_input(draw, rng, sizes=st.integers(16, 24)),
      cutoff=0.125)
  kernel = testing.random_kernel(rng, 3, 3, x.shape[-1], 4)
  fn = lambda x: jax.nn.relu(layers.conv2d(x, kernel))  # noqa: E731
  dy = draw(st.floats(-0.5, 0.5, allow_nan=False), label='dy')
  dx = draw(st.floats(-0.5, 0.5, allow_nan=False), label='dx')
  return testing.Trial(fn, x, groups.FourierShift(dy, dx))


# Ordinary convs under 90-degree rotations and flips (exact on the grid).

_D4_ELEMENTS = [groups.Rot90(k) for k in range(4)] + [
    groups.Flip().then(groups.Rot90(k)) for k in range(4)]


def _symmetrised_kernel(kernel: np.ndarray) -> np.ndarray:
  """Averages ``[k, k, C_in, C_out]`` over the 8 rotations/flips (D4)."""
  images = [np.rot90(kernel, r, axes=(0, 1)) for r in range(4)]
  images += [np.flip(image, axis=1) for image in images]
  return np.mean(images, axis=0)


@CASES.register('conv_isotropic/rot90_flip', expect=testing.EXACT, bound=1e-5,
                fact='a circular conv with a D4-symmetric odd kernel commutes '
                'with every 90-degree rotation and flip of a square grid')
def isotropic_conv_under_rot90_and_flip(draw):
  rng = testing.draw_rng(draw)
  x = testing.random_input(draw, rng, square=True)
  size = draw(st.sampled_from([1, 3, 5]), label='kernel')
  kernel = _symmetrised_kernel(
      testing.random_kernel(rng, size, size, x.shape[-1], 3))
  fn = functools.partial(layers.conv2d, kernel=kernel, padding='circular')
  return testing.Trial(fn, x, draw(st.sampled_from(_D4_ELEMENTS), label='g'))


@CASES.register('conv_generic/rot90', expect=testing.BREAKS, bound=1e-2,
                fact='an ordinary conv (unconstrained 3x3 kernel) is not '
                'rotation-equivariant (negative control)')
def generic_conv_under_rot90(draw):
  rng = testing.draw_rng(draw)
  x = testing.random_input(draw, rng, sizes=st.integers(5, 9), batch=(2, 3),
                           square=True)
  kernel = testing.random_kernel(rng, 3, 3, x.shape[-1], 3)
  fn = functools.partial(layers.conv2d, kernel=kernel, padding='circular')
  return testing.Trial(fn, x, groups.Rot90(draw(st.integers(1, 3),
                                                label='k')))


@CASES.register('net_global_pool/rot90_flip', expect=testing.EXACT,
                bound=1e-5,
                fact='D4-symmetric circular convs + ReLU + global pooling are '
                'invariant to 90-degree rotations and flips')
def isotropic_net_with_global_pool_under_rot90_and_flip(draw):
  rng = testing.draw_rng(draw)
  x = testing.random_input(draw, rng, square=True)
  k1 = _symmetrised_kernel(testing.random_kernel(rng, 3, 3, x.shape[-1], 4))
  k2 = _symmetrised_kernel(testing.random_kernel(rng, 3, 3, 4, 4))

  def fn(x):
    y = jax.nn.relu(layers.conv2d(x, k1, padding='circular'))
    return layers.global_max_pool(jax.nn.relu(layers.conv2d(y, k2)))

  return testing.Trial(fn, x, draw(st.sampled_from(_D4_ELEMENTS), label='g'),
                       groups.Identity())
