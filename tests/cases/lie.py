"""Registry cases: local (Lie-derivative) equivariance under continuous flows.

Each case passes a :class:`groups.lie.Flow` where the other families pass a
finite transformation, so the compared pair is ``(J_f(x) G x, G' f(x))``
and their difference the Lie derivative ``L f(x)`` (see :mod:`groups.lie`).

Exact on the grid (float32 rounding; the bound 1e-4 because the spectral
derivative of white noise reaches ~30 per pixel and the FFTs round at ~1e-6
of that): a stride-1 circular conv under translations (both circulant), the
global average under every divergence-free flow (the grid sum of a spectral
derivative weighted by the other coordinate is zero), 1x1 convs under every
flow (they mix channels only), and 1x1 steerable convs between SO(2) / O(2)
fields under rotation with the fibre generators (intertwiners commute with
the Lie algebra too). Approximate: harmonic and SO(2)-steerable 5x5 convs
under rotation (their filters are sampled on the grid). Must break: ReLU
and stride-2 max pooling under translation (aliasing: the nonlinearity and
the subsampling leave the band limit), an ordinary conv and a p4 lifting
conv (exact only at quarter turns) under rotation. Layouts ``[B, H, W, C]``.
"""

import functools

import jax
import numpy as np
from hypothesis import strategies as st

import groups
from groups import lie
from groups import testing
import layers
from layers import group_conv
from tests.cases import harmonic as harmonic_cases
from tests.cases import steerable as steerable_cases

CASES = testing.Registry()
LIE_EXACT = 1e-4
TRANSLATIONS = ('translate_x', 'translate_y')
DIVERGENCE_FREE = ('translate_x', 'translate_y', 'rotate', 'shear_x',
                   'shear_y')


def draw_flow(draw, names=lie.GENERATORS) -> lie.Flow:
  return lie.flow(draw(st.sampled_from(names), label='generator'))


def small_input(draw, rng, **kwargs):
  """White noise ``[2, N, N, C]``, ``N`` in {6, 8}, ``C`` in {1, 2}: few
  shapes, so the ops compiled for one draw serve the next."""
  kwargs.setdefault('sizes', st.sampled_from((3, 4)))
  return testing.random_input(draw, rng, multiple_of=2, batch=(2, 2),
                              channels=(1, 2), square=True, **kwargs)


def smooth_input(draw, rng):
  """A smooth ``[2, 17, 17, 1]`` input vanishing near the border (0.15
  cycles/pixel, :func:`groups.testing.smooth_input`)."""
  return testing.smooth_input(draw, rng, size=17, cutoff=0.15)


@CASES.register('conv_circular/translation_flow', expect=testing.EXACT,
                bound=LIE_EXACT,
                fact='a stride-1 circular conv has zero Lie derivative along '
                'continuous (band-limited) translations: conv and spectral '
                'derivative are both circulant')
def circular_conv_translation_flow(draw):
  rng = testing.draw_rng(draw)
  x = small_input(draw, rng)
  size = draw(st.integers(1, 4), label='k')
  kernel = testing.random_kernel(rng, size, size, x.shape[-1], 3)
  fn = functools.partial(layers.conv2d, kernel=kernel, padding='circular')
  return testing.Trial(fn, x, draw_flow(draw, TRANSLATIONS))


@CASES.register('global_avg_pool/divergence_free_flows', expect=testing.EXACT,
                bound=LIE_EXACT,
                fact='the global average of a map is locally invariant to '
                'translations, rotations and shears (on the torus the grid '
                'sum of v d/du and u d/dv of a band-limited map is zero)')
def global_pool_divergence_free_flows(draw):
  rng = testing.draw_rng(draw)
  x = small_input(draw, rng)
  return testing.Trial(layers.global_avg_pool, x,
                       draw_flow(draw, DIVERGENCE_FREE), groups.Identity())


@CASES.register('conv1x1/any_flow', expect=testing.EXACT, bound=LIE_EXACT,
                fact='a 1x1 conv (channel mixing) commutes with every flow, '
                'scaling included: the flows act on each channel alike')
def pointwise_conv_any_flow(draw):
  rng = testing.draw_rng(draw)
  x = small_input(draw, rng)
  kernel = testing.random_kernel(rng, 1, 1, x.shape[-1], 4)
  fn = functools.partial(layers.conv2d, kernel=kernel, padding='circular')
  return testing.Trial(fn, x, draw_flow(draw))


def _rotation_flow(field_type: groups.FieldType) -> lie.Flow:
  return lie.Flow('rotate', fibre=lie.fibre_of(field_type))


@CASES.register('steerable_conv1x1/rotation_flow', expect=testing.EXACT,
                bound=LIE_EXACT,
                fact='a 1x1 steerable conv between SO(2) / O(2) fields is '
                'locally rotation-equivariant: grid generator plus the '
                'fields\' Lie algebra elements (d rho / d theta)')
def steerable_pointwise_rotation_flow(draw):
  rng = testing.draw_rng(draw)
  group = steerable_cases.draw_group(draw, steerable_cases._CONTINUOUS_GROUPS)  # pylint: disable=protected-access
  in_type = steerable_cases.draw_field_type(draw, group, hub=True)
  out_type = steerable_cases.draw_field_type(draw, group, label='out_fields',
                                             hub=True)
  x = steerable_cases.random_field_map(
      rng, small_input(draw, rng).shape, in_type)
  fn = steerable_cases.random_steerable_conv(rng, in_type, out_type, 1,
                                             use_bias=False)
  return testing.Trial(fn, x, _rotation_flow(in_type),
                       _rotation_flow(out_type))


# Measured errors: docs/generated/registry_errors.md; ~2x headroom.
@CASES.register('hconv/rotation_flow', expect=testing.APPROXIMATE, bound=0.03,
                fact='a harmonic conv (5x5, orders 0-1) on smooth inputs is '
                'approximately locally rotation-equivariant: streams turn and '
                'order m gains i m (its filters are sampled on the grid)')
def hconv_rotation_flow(draw):
  rng = testing.draw_rng(draw)
  x = smooth_input(draw, rng)
  fn = harmonic_cases.random_hconv(rng, c_in=1, c_out=2, max_order=1,
                                   filter_size=5)
  return testing.Trial(fn, x, lie.flow('rotate'),
                       lie.flow('rotate').induced(orders=(0, 1)))


@CASES.register('steerable_conv_so2/rotation_flow',
                expect=testing.APPROXIMATE, bound=0.3,
                fact='an SO(2)-steerable 5x5 conv on smooth inputs is '
                'approximately locally rotation-equivariant (sampled kernel '
                'basis), fibres turned by their Lie algebra elements')
def steerable_rotation_flow(draw):
  rng = testing.draw_rng(draw)
  group = groups.SO2(3)
  in_type = groups.FieldType(group, [group.trivial_representation])
  out_type = steerable_cases.draw_field_type(draw, group, hub=True)
  x = smooth_input(draw, rng)
  fn = steerable_cases.random_steerable_conv(rng, in_type, out_type, 5,
                                             use_bias=False)
  return testing.Trial(fn, x, _rotation_flow(in_type),
                       _rotation_flow(out_type))


@CASES.register('relu/translation_flow', expect=testing.BREAKS, bound=0.3,
                fact='negative control: a ReLU is not locally '
                'translation-equivariant on the grid: it leaves the band '
                'limit, so its spectral derivative differs (aliasing)')
def relu_translation_flow(draw):
  rng = testing.draw_rng(draw)
  x = small_input(draw, rng)
  return testing.Trial(jax.nn.relu, x, draw_flow(draw, TRANSLATIONS))


@CASES.register('max_pool_stride2/translation_flow', expect=testing.BREAKS,
                bound=0.3,
                fact='negative control: a stride-2 max pool is far from '
                'mapping a translation by t to one by t / 2 (aliasing)')
def strided_max_pool_translation_flow(draw):
  rng = testing.draw_rng(draw)
  x = small_input(draw, rng)
  flow = draw_flow(draw, TRANSLATIONS)
  fn = functools.partial(layers.max_pool, window=2, padding='circular')
  return testing.Trial(fn, x, flow, flow.induced(stride=2))


@CASES.register('conv/rotation_flow', expect=testing.BREAKS, bound=0.3,
                fact='negative control of the rotation facts: an ordinary '
                '5x5 conv (a plain CNN layer) on the same smooth inputs is '
                'far from locally rotation-equivariant')
def generic_conv_rotation_flow(draw):
  rng = testing.draw_rng(draw)
  x = smooth_input(draw, rng)
  kernel = testing.random_kernel(rng, 5, 5, 1, 4)
  fn = functools.partial(layers.conv2d, kernel=kernel, padding='zeros')
  return testing.Trial(fn, x, lie.flow('rotate'))


@CASES.register('lifting_conv_p4/rotation_flow', expect=testing.BREAKS,
                bound=0.3,
                fact='negative control: a p4 lifting conv is exact at quarter '
                'turns only; under small rotations (group axis kept) it is as '
                'far from equivariant as an ordinary conv')
def p4_lifting_rotation_flow(draw):
  rng = testing.draw_rng(draw)
  x = smooth_input(draw, rng)
  p4 = groups.Cyclic(4)
  kernel = testing.random_kernel(rng, 5, 5, 1, 3)
  fn = functools.partial(group_conv.lifting_conv2d, kernel=kernel, group=p4,
                         padding='zeros')
  return testing.Trial(fn, x, lie.flow('rotate'))



