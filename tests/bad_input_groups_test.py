"""Bad inputs to the groups package raise a ValueError naming the argument.

Covers transformations, finite groups, harmonic rotations, error metrics. One
row ``(name, call, regex)`` per case, grouped by module and, within a module,
by function; the fixtures and the runner are in tests/bad_input.py.
"""

from absl.testing import absltest
import numpy as np

import groups
from groups import harmonic as harmonic_groups
from groups import lie
from groups import scale
from tests import bad_input
from tests.bad_input import FLOAT, X, X_INT


# (name, call, regex the ValueError message must match)
BAD_INPUTS = (
    # groups/base.py
    ('compose_empty', lambda: groups.Compose(()),
     r'^transforms must be a non-empty tuple of Transform'),
    ('compose_not_a_sequence', lambda: groups.Compose(groups.Flip()),
     r'^transforms must be a non-empty tuple of Transform; got Flip\(\)'),
    ('identity_scalar', lambda: groups.Identity()(1.0),
     r'^x must have a batch axis'),

    # groups/cyclic.py
    ('cyclic_order_0', lambda: groups.Cyclic(0), r'^n must be in 1\.\.'),
    ('group_element_out_of_range', lambda: groups.Cyclic(4).regular_action(4),
     r'^g must be an element of C4, an int in 0\.\.3; got 4'),
    ('regular_action_order', lambda: groups.Cyclic(4).regular_action(1)(
        X[..., None]), r'^x must have G = \|C4\| = 4 on axis 3'),
    ('cyclic_inverse_out_of_range', lambda: groups.Cyclic(4).inverse(4),
     r'^a must be an element of C4, an int in 0\.\.3; got 4'),

    # groups/dihedral.py
    ('dihedral_order_float', lambda: groups.Dihedral(1.5),
     r'^n must be an int; got 1\.5'),
    ('group_compose_out_of_range', lambda: groups.Dihedral(4).compose(0, 8),
     r'^b must be an element of D4, an int in 0\.\.7; got 8'),

    # groups/error.py
    ('equivariance_error_transform', lambda: groups.equivariance_error(
        lambda v: v, X, 'shift'), r'^transform must be a groups Transform'),
    ('equivariance_error_output_transform', lambda: groups.equivariance_error(
        lambda v: v, X, groups.Flip(), 'flip'),
     r'^output_transform must be a groups Transform'),
    ('relative_error_shapes', lambda: groups.relative_error(
        np.ones((2, 3)), np.ones((2, 4))),
     r'^actual and expected must have the same shape'),
    ('relative_error_mask_shape', lambda: groups.relative_error(
        X, X, mask=np.ones((3, 4), bool)),
     r'^mask must have shape \[H, W\] = \(4, 4\)'),
    ('transformed_pair_fn', lambda: groups.transformed_pair(
        'relu', X, groups.Flip()), r'^fn must be a function'),

    # groups/finite.py
    ('finite_group_unknown_name', lambda: groups.finite_group('Q8'),
     r"^name must be a finite group name: one of \['C', 'D'\].*got 'Q8'"),
    ('finite_group_order_0', lambda: groups.finite_group('C0'),
     r'^name must be a finite group name'),
    ('finite_group_not_a_str', lambda: groups.finite_group(4),
     r'^name must be a finite group name'),
    ('regular_action_group_name', lambda: groups.RegularAction('p4', 0),
     r'^group must be a groups\.FiniteGroup'),

    # groups/harmonic.py
    ('bilinear_harmonic_rotation_nan',
     lambda: harmonic_groups.BilinearHarmonicRotation(float('nan')),
     r'^degrees must be a finite real number; got nan'),
    ('harmonic_rotation_orders_empty', lambda: harmonic_groups.HarmonicRotation(
        1, ()), r'^orders must be a non-empty tuple of distinct ints'),
    ('harmonic_rotation_orders_repeated',
     lambda: harmonic_groups.HarmonicRotation(1, (0, 0)),
     r'^orders must be a non-empty tuple of distinct ints'),
    ('harmonic_rotation_k_float', lambda: harmonic_groups.HarmonicRotation(
        1.5), r'^k must be an int; got 1.5'),
    ('harmonic_rotation_streams', lambda: harmonic_groups.HarmonicRotation(
        1, (0, 1, 2))(X[:, :, :, None].astype(np.complex64)),
     r'^x must have M = len\(orders\) = 3 streams on axis 3'),
    ('harmonic_rotation_real', lambda: harmonic_groups.HarmonicRotation(1)(
        X[None]), r'^x must be a complex harmonic feature map'),

    # groups/interpolated.py
    ('bilinear_rotation_nan', lambda: groups.BilinearRotation(float('nan')),
     r'^degrees must be a finite real number; got nan'),
    ('bilinear_rotation_int', lambda: groups.BilinearRotation(45)(X_INT),
     r'^x ' + FLOAT),
    ('bilinear_rotation_str', lambda: groups.BilinearRotation('45'),
     r"^degrees must be a finite real number; got '45'"),
    # groups/fourier_rotation.py
    ('fourier_rotation_nan', lambda: groups.FourierRotation(float('nan')),
     r'^degrees must be a finite real number; got nan'),
    ('fourier_rotation_int', lambda: groups.FourierRotation(45.0)(X_INT),
     r'^x ' + FLOAT),
    ('fourier_rotation_non_square', lambda: groups.FourierRotation(45.0)(
        np.zeros((1, 4, 5, 1), np.float32)),
     r'^x must have a square grid \(H == W\) for a Fourier rotation by 45.0 '
     r'degrees; got H=4, W=5'),
    ('inscribed_disk_margin', lambda: groups.inscribed_disk(4, 4, margin=-1),
     r'^margin must be a real number >= 0'),
    ('inscribed_disk_margin_too_big', lambda: groups.inscribed_disk(
        4, 4, margin=2),
     r'^margin must be at most the inscribed radius \(min\(H, W\) - 1\) / 2 '
     r'= 1\.5 of the 4x4 grid; got 2'),
    ('inscribed_disk_margin_inf', lambda: groups.inscribed_disk(
        4, 4, margin=float('inf')), r'^margin must be at most'),
    ('inscribed_disk_margin_nan', lambda: groups.inscribed_disk(
        4, 4, margin=float('nan')), r'^margin must be a real number >= 0'),

    # groups/rotations.py
    ('flip_rank', lambda: groups.Flip()(X[0]), r'^x must have rank 4 or 5'),
    ('rot90_rank', lambda: groups.Rot90(1)(X[0, 0]),
     r'^x must have rank 4 or 5'),
    ('rot90_float', lambda: groups.Rot90(1.5), r'^k must be an int; got 1.5'),
    ('rot90_output_action_stride_0', lambda: groups.Rot90(1)
     .output_action(stride=0), r'^stride must be in 1\.\.'),

    # groups/lie.py
    ('lie_flow_name', lambda: lie.flow('spin'),
     r"^generator must be one of 'translate_x', 'translate_y', 'rotate'"),
    ('lie_flow_rate', lambda: lie.Flow('rotate', rate=0.0),
     r'^rate must be a finite number in \(0.0, inf\); got 0.0'),
    ('lie_flow_fibre_shape', lambda: lie.Flow('rotate', fibre=np.ones(3)),
     r'^fibre must be a finite real \[C, C\] matrix'),
    ('lie_flow_orders', lambda: lie.Flow('rotate', orders='01'),
     r'^orders must be a non-empty tuple of distinct ints'),
    ('lie_flow_fibre_channels', lambda: lie.Flow(
        'rotate', fibre=np.zeros((3, 3)))(X, 0.1),
     r'^x must have C = 3 channels'),
    ('lie_flow_orders_real_map', lambda: lie.Flow(
        'rotate', orders=(0, 1))(X[..., None], 0.1),
     r'^x must be a complex harmonic map'),
    ('lie_flow_int_input', lambda: lie.flow('scale').tangent(X_INT), FLOAT),
    ('lie_derivative_generator', lambda: lie.lie_derivative(
        lambda v: v, X, groups.Rot90(1)),
     r'^generator must be a groups.lie.Flow'),
    ('lie_derivative_output', lambda: lie.lie_derivative(
        lambda v: v, X, lie.flow('rotate'), output='same'),
     r"^output must be one of 'auto'"),
    ('lie_derivative_output_type', lambda: lie.tangent_pair(
        lambda v: v, X, lie.flow('rotate'), groups.Rot90(1)),
     r'^output must be a groups.lie.Flow'),
    ('lie_derivative_no_induced_flow', lambda: lie.lie_derivative(
        lambda v: v[:, :3], X, lie.flow('translate_x')),
     r'^fn maps \[B, H, W, ...\] = \(1, 4, 4, 2\) to \(1, 3, 4, 2\), which has '
     r"no induced 'translate_x' flow"),
    ('lie_derivative_group_map', lambda: lie.lie_derivative(
        lambda v: v[..., None], X, lie.flow('rotate')),
     r'^fn returns a group map'),
    ('lie_error_reduction', lambda: lie.local_equivariance_error(
        lambda v: v, X, lie.flow('rotate'), reduction='max'),
     r"^reduction must be one of 'sum_squares', 'mean_abs'"),
    ('lie_fibre_of_not_a_type', lambda: lie.fibre_of(groups.SO2(2)),
     r'^field_type must be a groups.FieldType'),

    # groups/scale.py
    ('rescale_factor_zero', lambda: scale.rescale(X, 0.0),
     r'^factors must be finite numbers > 0'),
    ('rescale_factor_text', lambda: scale.rescale(X, 'big'),
     r'^factors must be finite numbers > 0'),
    ('rescale_factors_shape', lambda: scale.rescale(X, np.ones(3)),
     r'^factors must be a number or a \[B\] array with B = 1'),
    ('rescale_boundary', lambda: scale.rescale(X, 2.0, boundary='reflect'),
     r"^boundary must be one of 'zeros', 'periodic'"),
    ('rescale_int_input', lambda: scale.rescale(X_INT, 2.0), FLOAT),
    ('rescale_matrix_size', lambda: scale.rescale_matrix(0, 2.0),
     r'^n must be in 1\.\.inf; got 0'),
    ('rescale_matrix_factor', lambda: scale.rescale_matrix(5, 0.0),
     r'^factor must be a finite number in \(0\.0, inf\)'),
    ('rescale_matrix_boundary',
     lambda: scale.rescale_matrix(5, 2.0, boundary='reflect'),
     r"^boundary must be one of 'zeros', 'periodic'"),
    ('rescale_transform_factor', lambda: groups.Rescale(-1.0),
     r'^factor must be a finite number > 0'),
    ('scale_axis_rank', lambda: groups.ScaleAxisRescale(1, 2.0)(X),
     r'^x must be a scale map \[B, H, W, S, C\]'),
    ('scale_axis_ratio', lambda: groups.ScaleAxisRescale(1, 1.0),
     r'^ratio must be a finite number in \(1.0, inf\)'),
    ('scale_index_shift_between', lambda: scale.scale_index_shift(1.5, 2.0),
     r'^factor must be an integer power of the scale ratio 2'),
    ('on_canvas_too_small', lambda: scale.on_canvas(X, 3),
     r'^canvas must be at least max\(H, W\) = 4'),
    ('on_canvas_odd_margin', lambda: scale.on_canvas(X, 7),
     r'^canvas must be at least max\(H, W\) = 4 with canvas - H'),

    # groups/translations.py
    ('shift_rank', lambda: groups.CircularShift(1, 0)(X[0]),
     r'^x must have rank 4 or 5'),
    ('circular_shift_float', lambda: groups.CircularShift(0.5, 0),
     r'^dy must be an int; got 0.5'),
    ('output_action_stride_0', lambda: groups.CircularShift(1, 0)
     .output_action(stride=0), r'^stride must be in 1\.\.'),
    ('circular_shift_output_action_stride_bool', lambda: groups.CircularShift(
        1, 0).output_action(stride=True), r'^stride must be an int; got True'),
    ('fourier_shift_int', lambda: groups.FourierShift(0.5, 0)(X_INT),
     r'^x ' + FLOAT),
    ('fourier_shift_nan', lambda: groups.FourierShift(float('nan'), 0),
     r'^dy must be a finite real number; got nan'),
    ('fourier_shift_inf', lambda: groups.FourierShift(0, float('inf')),
     r'^dx must be a finite real number; got inf'),
    ('interior_mask_margin', lambda: groups.interior_mask(
        4, 4, shift=(0, 0), margin=-1), r'^margin must be >= 0'),
    ('interior_mask_height', lambda: groups.interior_mask(
        0, 4, shift=(0, 0), margin=1), r'^height must be in 1\.\.'),
    ('interior_mask_shift_float', lambda: groups.interior_mask(
        4, 4, shift=(0.5, 0), margin=1),
     r'^shift must be an int or a pair of ints'),
    ('zero_fill_shift_float', lambda: groups.ZeroFillShift(0, 1.0),
     r'^dx must be an int; got 1.0'),
    ('zero_fill_output_action', lambda: groups.ZeroFillShift(1, 0)
     .output_action(stride=2), r'stride must divide the shift'),
)


class GroupsBadInputTest(bad_input.make_test_case(BAD_INPUTS)):
  """Each row of :data:`BAD_INPUTS` is one test."""


if __name__ == '__main__':
  absltest.main()
