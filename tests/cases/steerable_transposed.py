"""Registry cases: the transposed steerable convolution (issue 30).

``layers.steerable.steerable_conv2d_transpose`` applies the conv's kernel
(the basis from ``in_type`` to ``out_type``) as a transposed convolution,
upsampling by its stride (layers/steerable/transposed.py).

* Exact tier: quarter turns and the mirror (C4, C8, D4, D8, SO(2), O(2),
  any fields) whenever the grids stay centred -- odd square input, odd
  kernel, stride 1 with any padding, or stride 2 with PyTorch's integer
  padding and no output padding; circular shifts by any ``t`` of the input,
  the output shifted by ``s t`` ('circular' padding, stride 1 / 2 / 3).
* Negative controls: an unconstrained kernel; the stride-2 output compared
  with an unscaled shift; the off-centre ``s H`` grids of 'zeros' /
  'circular' at stride 2 (and ``output_padding = 1``) under rotations by
  90, 180, 270 degrees (the diagonal mirrors stay exact there: they swap
  rows and columns without reversing them).

Small draws (grids 5-9, batch 2, 1-3 fields): every case runs 8 examples
with and without jit.
"""

import functools

import numpy as np
from hypothesis import strategies as st

import groups
from groups import testing
from layers import steerable
from tests.cases import steerable as steerable_cases

CASES = testing.Registry()

_ROTATION_GROUPS = {
    'C4': groups.Cyclic(4), 'C8': groups.Cyclic(8),
    'D4': groups.Dihedral(4), 'D8': groups.Dihedral(8),
    'SO2': groups.SO2(3), 'O2': groups.O2(3),
}


def random_transposed_conv(rng, in_type, out_type, kernel_size, *,
                           use_bias: bool = True, **options):
  """A transposed steerable conv with He weights and a random bias.

  The negative controls leave the bias out (``use_bias=False``): a constant
  on the trivial fields is invariant and would only dilute their error.
  """
  basis = steerable.layer_basis(in_type, out_type, kernel_size)
  bias = None
  if use_bias:
    bias = rng.standard_normal(len(out_type.trivial_channels())).astype(
        np.float32)
  return functools.partial(
      steerable.steerable_conv2d_transpose,
      weights=steerable_cases.random_weights(rng, basis), bias=bias,
      in_type=in_type, out_type=out_type, kernel_size=kernel_size, **options)


def draw_types(draw, table):
  group = steerable_cases.draw_group(draw, table)
  in_type = steerable_cases.draw_field_type(draw, group, label='in_fields',
                                            hub=True)
  out_type = steerable_cases.draw_field_type(draw, group, label='out_fields')
  return group, in_type, out_type


def draw_odd_size(draw) -> int:
  return draw(st.sampled_from([5, 7, 9]), label='size')


# Measured errors: docs/generated/registry_errors.md.
@CASES.register('steerable_transposed/quarter_turns_and_flips',
                expect=testing.EXACT, bound=1e-5,
                fact='a transposed steerable conv between any field types of '
                'C4, C8, D4, D8, SO(2), O(2) commutes with quarter turns and '
                'the mirror on centred grids (odd square input, kernel 3 / 5, '
                'dilation 1 / 2; stride 1 with zeros / circular / integer '
                'padding, stride 2 with integer padding 0-2)')
def transposed_conv_under_quarter_turns(draw):
  rng = testing.draw_rng(draw)
  group, in_type, out_type = draw_types(draw, _ROTATION_GROUPS)
  kernel_size = draw(st.sampled_from([3, 5]), label='kernel_size')
  dilation = draw(st.sampled_from([1, 2]), label='dilation')
  stride = draw(st.sampled_from([1, 2]), label='stride')
  paddings = [0, 1, 2] + (['zeros', 'circular'] if stride == 1 else [])
  padding = draw(st.sampled_from(paddings), label='padding')
  size = draw_odd_size(draw)
  x = steerable_cases.random_field_map(rng, (2, size, size), in_type)
  fn = random_transposed_conv(rng, in_type, out_type, kernel_size,
                              stride=stride, padding=padding,
                              dilation=dilation)
  g = draw(st.sampled_from(steerable_cases.exact_elements(group)), label='g')
  return testing.Trial(fn, x, in_type.transform(g), out_type.transform(g))


# Measured errors: docs/generated/registry_errors.md.
@CASES.register('steerable_transposed/circular_shift_times_stride',
                expect=testing.EXACT, bound=1e-5,
                fact="a transposed steerable conv with padding='circular' "
                'and stride s = 1, 2, 3 maps a circular shift of the input by '
                '(dy, dx) (any integers) to the shift of its s H x s W output '
                'by (s dy, s dx), any grid (5-9, not square), any fields')
def transposed_conv_under_circular_shifts(draw):
  rng = testing.draw_rng(draw)
  _, in_type, out_type = draw_types(draw, {
      **_ROTATION_GROUPS, 'C16': groups.Cyclic(16)})
  stride = draw(st.sampled_from([1, 2, 3]), label='stride')
  kernel_size = draw(st.sampled_from([3, 5]), label='kernel_size')
  height = draw(st.integers(5, 9), label='H')
  width = draw(st.integers(5, 9), label='W')
  x = steerable_cases.random_field_map(rng, (2, height, width), in_type)
  fn = random_transposed_conv(rng, in_type, out_type, kernel_size,
                              stride=stride, padding='circular')
  dy, dx = testing.draw_shift(draw, x)
  return testing.Trial(fn, x, groups.CircularShift(dy, dx),
                       groups.CircularShift(stride * dy, stride * dx))


# Measured errors: docs/generated/registry_errors.md.
@CASES.register('steerable_transposed/unconstrained_kernel_breaks',
                expect=testing.BREAKS, bound=0.1,
                fact='a transposed conv with a free kernel between the same '
                'C4 / D4 regular fields (stride 1 / 2, centred integer '
                'padding) does not commute with quarter turns (negative '
                'control)')
def unconstrained_transposed_conv_under_quarter_turns(draw):
  rng = testing.draw_rng(draw)
  group = steerable_cases.draw_group(
      draw, {'C4': groups.Cyclic(4), 'D4': groups.Dihedral(4)})
  in_type = groups.FieldType(group, [group.regular_representation])
  out_type = groups.FieldType(group, 2 * [group.regular_representation])
  kernel = testing.random_kernel(rng, 3, 3, in_type.size, out_type.size)
  stride = draw(st.sampled_from([1, 2]), label='stride')
  x = steerable_cases.random_field_map(rng, (2, draw_odd_size(draw)) * 2,
                                       in_type)
  fn = functools.partial(steerable.conv2d_transpose, kernel=kernel,
                         stride=stride, padding=1)
  g = draw(st.sampled_from(steerable_cases.exact_elements(group)), label='g')
  return testing.Trial(fn, x, in_type.transform(g), out_type.transform(g))


# Measured errors: docs/generated/registry_errors.md.
@CASES.register('steerable_transposed/unscaled_shift_breaks',
                expect=testing.BREAKS, bound=0.1,
                fact="the stride-2 circular transposed conv's output is not "
                'the input shift (dy, dx) applied unscaled (it moves by '
                '(2 dy, 2 dx); negative control of the shift fact)')
def transposed_conv_unscaled_shift(draw):
  rng = testing.draw_rng(draw)
  _, in_type, out_type = draw_types(draw, _ROTATION_GROUPS)
  size = draw(st.integers(5, 9), label='size')
  x = steerable_cases.random_field_map(rng, (2, size, size), in_type)
  fn = random_transposed_conv(rng, in_type, out_type, 3, stride=2,
                              padding='circular', use_bias=False)
  dy, dx = testing.draw_shift(draw, x, nonzero=True)
  return testing.Trial(fn, x, groups.CircularShift(dy, dx),
                       groups.CircularShift(dy, dx))


# Measured errors: docs/generated/registry_errors.md.
@CASES.register('steerable_transposed/off_centre_grid_breaks',
                expect=testing.BREAKS, bound=0.1,
                fact="at stride 2 the s H x s W output of padding='zeros' / "
                "'circular' (and PyTorch's output_padding=1) is not centred "
                'on the input, so even a steerable kernel does not commute '
                'with the rotations by 90, 180, 270 degrees (negative control '
                'of the centring rule)')
def transposed_conv_off_centre(draw):
  rng = testing.draw_rng(draw)
  group, in_type, out_type = draw_types(draw, _ROTATION_GROUPS)
  options = draw(st.sampled_from([
      dict(padding='zeros'), dict(padding='circular'),
      dict(padding=1, output_padding=1)]), label='padding')
  x = steerable_cases.random_field_map(rng, (2, draw_odd_size(draw)) * 2,
                                       in_type)
  fn = random_transposed_conv(rng, in_type, out_type, 3, stride=2,
                              use_bias=False, **options)
  # Rotations only: the diagonal mirrors (D_N, O(2)) swap rows and columns
  # without reversing them, which the scatter s q + offset commutes with on
  # any grid, centred or not.
  rotations = steerable_cases.exact_elements(group)[:3]
  g = draw(st.sampled_from(rotations), label='g')
  return testing.Trial(fn, x, in_type.transform(g), out_type.transform(g))
