"""Bad input to representations, field types, kernel bases and the conv.

Each raises a ValueError that names the argument (and, where it helps, the
accepted values), before any XLA trace.
"""

import math

from absl.testing import absltest
from absl.testing import parameterized
import jax
import numpy as np

import groups
from layers import steerable
import models

C8 = groups.Cyclic(8)
D8 = groups.Dihedral(8)
SO2 = groups.SO2(3)
REGULAR = groups.FieldType(C8, [C8.regular_representation])
SCALAR = groups.FieldType(C8, [C8.trivial_representation])


MIXED = groups.FieldType(C8, [C8.regular_representation, C8.irrep(1),
                              C8.trivial_representation])  # C = 11


# An induced field: 4 blocks (cosets of C2 in C8) of C2's sign irrep; C = 4.
INDUCED = groups.FieldType(C8, [steerable.induced_representation(
    C8, groups.Cyclic(2), groups.Cyclic(2).irrep(1))])


def _regular():
  return np.ones((1, 5, 5, 8), np.float32)


def _induced():
  return np.ones((1, 4, 4, 4), np.float32)


def _mixed():
  return np.ones((1, 5, 5, 11), np.float32)


def _model(name, size=28, **options):
  """Traces ``init`` only (the checks run before any layer is built)."""
  model = models.build_model(name, **options)
  x = jax.ShapeDtypeStruct((1, size, size, 1), np.float32)
  return jax.eval_shape(model.init, jax.random.PRNGKey(0), x)


def _conv(**overrides):
  args = dict(x=np.zeros((1, 7, 7, 8), np.float32),
              weights=np.zeros(88, np.float32), in_type=REGULAR,
              out_type=REGULAR, kernel_size=5)
  args.update(overrides)
  x, weights = args.pop('x'), args.pop('weights')
  bias = args.pop('bias', None)
  return steerable.steerable_conv2d(x, weights, bias, **args)


def _transposed(**overrides):
  """:func:`steerable.steerable_conv2d_transpose` of ``_conv``'s layer."""
  args = dict(x=np.zeros((1, 7, 7, 8), np.float32),
              weights=np.zeros(88, np.float32), in_type=REGULAR,
              out_type=REGULAR, kernel_size=5)
  args.update(overrides)
  x, weights = args.pop('x'), args.pop('weights')
  bias = args.pop('bias', None)
  return steerable.steerable_conv2d_transpose(x, weights, bias, **args)


# (name, call, words the message must contain)
_CASES = (
    ('unknown_irrep', lambda: C8.irrep(5), ['irrep', '[0, 1, 2, 3, 4]']),
    ('unknown_dihedral_irrep', lambda: D8.irrep(0, 1), ['irrep', '(1, 1)']),
    ('irrep_of_band_limit', lambda: SO2.irrep(4), ['irrep', 'SO2(3)']),
    ('regular_of_so2', lambda: SO2.regular_representation,
     ['finite', 'regular']),
    ('quotient_not_dividing', lambda: C8.quotient_representation(
        groups.Cyclic(3)), ['subgroup', 'dividing']),
    ('quotient_dihedral_in_cyclic', lambda: C8.quotient_representation(
        groups.Dihedral(2)), ['subgroup']),
    ('quotient_of_o2', lambda: groups.O2(2).quotient_representation(
        groups.Cyclic(2)), ['finite']),
    ('negative_max_frequency', lambda: groups.SO2(-1), ['max_frequency']),
    ('bad_element', lambda: C8.regular_representation(9), ['g', 'C8']),
    ('bad_o2_element', lambda: groups.O2(2).irrep(1, 1)((2, 0.0)),
     ['O(2)', 'mirror']),
    ('bad_angle', lambda: SO2.irrep(1)(math.inf), ['angle']),
    # The reflection axis of D_N / O(2) (tests/steerable_axis_test.py).
    ('axis_not_finite', lambda: groups.Dihedral(4, axis=math.nan),
     ['axis', 'finite angle in radians']),
    ('axis_infinite_o2', lambda: groups.O2(2, axis=math.inf),
     ['axis', 'finite angle in radians']),
    ('axis_not_numeric', lambda: groups.Dihedral(4, axis='pi/4'),
     ['axis', 'radians', "'pi/4'"]),
    ('axis_bool', lambda: groups.O2(2, axis=True), ['axis', 'radians']),
    ('axis_on_cyclic', lambda: groups.group_by_name('C8', axis=0.0),
     ['axis', 'C8 has no reflections']),
    ('axis_on_so2', lambda: groups.group_by_name(SO2, axis=0.0),
     ['axis', 'SO2(3) has no reflections']),
    ('axis_off_grid_for_p4m', lambda: groups.group_by_name('p4m', axis=0.3),
     ['axis', "'p4m'", '0, pi/4, pi/2, 3pi/4', 'exact grid action']),
    ('reflection_off_the_mirror_lines', lambda: D8.reflection(0.1),
     ['axis', 'mirror line of D8', '0.1']),
    ('restrict_to_subgroup_axis_off_the_mirror_lines',
     lambda: steerable.restrict_field_type(groups.FieldType(
         D8, [D8.regular_representation]), groups.Dihedral(4, axis=0.1)),
     ['subgroup.axis', 'mirror line of D8']),
    ('quotient_by_subgroup_axis_off_the_mirror_lines',
     lambda: D8.quotient_representation(groups.Dihedral(2, axis=0.1)),
     ['subgroup.axis', 'mirror line of D8']),
    ('not_orthogonal', lambda: C8.irrep(1).change_basis(np.ones((2, 2))),
     ['matrix', 'orthogonal']),
    ('sum_of_groups', lambda: groups.direct_sum(C8.irrep(1), D8.irrep(1, 1)),
     ['same group']),
    ('not_a_homomorphism', lambda: groups.Cyclic(2).representation(
        [np.eye(1), 2 * np.eye(1)]), ['homomorphism']),
    ('field_type_unknown_group', lambda: groups.FieldType(
        'C8', [C8.regular_representation]), ['group', 'SO2']),
    ('field_type_finite_group_without_reps', lambda: groups.FieldType(
        groups.Rot90(1), []), ['group']),
    ('field_type_not_a_list', lambda: groups.FieldType(
        C8, C8.regular_representation), ['representations', 'list']),
    ('field_type_wrong_group', lambda: groups.FieldType(
        C8, [D8.regular_representation]), ['representations[0]', 'C8']),
    ('field_type_not_a_rep', lambda: groups.FieldType(C8, ['regular']),
     ['representations[0]', 'Representation']),
    ('transform_channels', lambda: REGULAR.transform(1)(
        np.zeros((1, 5, 5, 3), np.float32)), ['x', 'C = 8']),
    ('types_of_two_groups', lambda: _conv(
        out_type=groups.FieldType(D8, [D8.regular_representation])),
     ['in_type and out_type', 'same group']),
    ('not_a_field_type', lambda: _conv(in_type=C8.regular_representation),
     ['in_type', 'FieldType']),
    ('channels_mismatch', lambda: _conv(x=np.zeros((1, 7, 7, 3), np.float32)),
     ['x', 'C = 8']),
    ('weights_length', lambda: _conv(weights=np.zeros(10, np.float32)),
     ['weights', 'n_basis = 88']),
    ('bias_on_no_trivial_field', lambda: _conv(bias=np.zeros(1, np.float32)),
     ['bias', 'trivial']),
    ('kernel_size_2', lambda: _conv(kernel_size=2),
     ['kernel_size=2', 'empty', 'pitfall', 'radius 0']),
    ('empty_basis', lambda: steerable.kernel_basis(
        groups.FieldType(groups.O2(2), [groups.O2(2).trivial_representation]),
        groups.FieldType(groups.O2(2), [groups.O2(2).irrep(1, 0)]), 5),
     ['empty kernel basis']),
    ('kernel_size_0', lambda: _conv(kernel_size=0), ['kernel_size']),
    ('aliasing_cutoff', lambda: steerable.kernel_basis(
        SCALAR, REGULAR, 5, frequency_cutoff=4.0),
     ['frequency_cutoff aliases', 'radius 1']),
    ('aliasing_callable', lambda: steerable.kernel_basis(
        SCALAR, REGULAR, 5, frequency_cutoff=lambda r: 3 if r else 1),
     ['frequency_cutoff aliases', 'radius 0']),
    ('negative_cutoff', lambda: steerable.kernel_basis(
        SCALAR, REGULAR, 5, frequency_cutoff=-1.0), ['frequency_cutoff']),
    ('ring_outside', lambda: steerable.kernel_basis(
        SCALAR, REGULAR, 5, rings=[0, 4]), ['rings[1]']),
    ('widths_count', lambda: steerable.kernel_basis(
        SCALAR, REGULAR, 5, widths=[0.5]), ['widths', 'one per ring']),
    ('width_zero', lambda: steerable.kernel_basis(
        SCALAR, REGULAR, 5, widths=0.0), ['widths']),
    ('dilation', lambda: steerable.kernel_basis(
        SCALAR, REGULAR, 5, dilation=0), ['dilation']),
    ('padding', lambda: _conv(padding='same'), ['padding', 'circular']),
    ('export_params', lambda: steerable.SteerableConv(
        REGULAR, REGULAR).export({}), ['params', 'weights']),
    ('exported_dict', lambda: steerable.exported_conv2d(
        np.zeros((1, 5, 5, 8), np.float32), {'kernel': 1}), ['exported']),
    # issue 15: the toolbox (layers/steerable/nonlinear, norm, pooling,
    # restriction) and models/steerable.py.
    ('pointwise_on_irrep', lambda: steerable.pointwise_nonlinearity(
        _mixed(), field_type=MIXED),
     ['field_type', 'field 1', 'irrep(1)', 'norm_nonlinearity', 'force']),
    ('pointwise_activation_name', lambda: steerable.pointwise_nonlinearity(
        _regular(), field_type=REGULAR, activation='relu2'),
     ['activation', "'elu'"]),
    ('pointwise_activation_type', lambda: steerable.pointwise_nonlinearity(
        _regular(), field_type=REGULAR, activation=3), ['activation']),
    ('pointwise_force_type', lambda: steerable.pointwise_nonlinearity(
        _regular(), field_type=REGULAR, force='yes'), ['force', 'bool']),
    ('pointwise_channels', lambda: steerable.pointwise_nonlinearity(
        _mixed(), field_type=REGULAR), ['x', 'C = 8']),
    ('pointwise_not_a_type', lambda: steerable.pointwise_nonlinearity(
        _regular(), field_type=C8.regular_representation),
     ['field_type', 'FieldType']),
    ('norm_nonlinearity_bias', lambda: steerable.norm_nonlinearity(
        _mixed(), np.zeros(2, np.float32), field_type=MIXED),
     ['bias', '[F] = (3,)']),
    ('norm_nonlinearity_epsilon', lambda: steerable.norm_nonlinearity(
        _mixed(), field_type=MIXED, epsilon=0.0), ['epsilon']),
    ('norm_nonlinearity_activation', lambda: steerable.norm_nonlinearity(
        _mixed(), field_type=MIXED, activation=None), ['activation']),
    ('gated_channels', lambda: steerable.gated_nonlinearity(
        _mixed(), gated_type=MIXED),
     ['x', 'C = 14', '4xtrivial']),
    ('gated_not_a_type', lambda: steerable.gated_nonlinearity(
        _mixed(), gated_type='irreps'), ['gated_type', 'FieldType']),
    ('gated_activation', lambda: steerable.gated_nonlinearity(
        np.zeros((1, 3, 3, 14), np.float32), gated_type=MIXED,
        activation='sigmoid2'), ['activation']),
    ('concatenated_on_rotation_irrep', lambda:
     steerable.concatenated_nonlinearity(_mixed(), field_type=MIXED),
     ['field_type', 'signed permutation', 'field 1']),
    ('fourier_irrep_too_often', lambda: steerable.fourier_pointwise(
        np.ones((1, 3, 3, 4), np.float32), field_type=groups.FieldType(
            C8, [groups.direct_sum(C8.irrep(0), C8.irrep(0))] * 2)),
     ['irrep', '2 times', 'dimension 1', 'norm_nonlinearity']),
    ('fourier_samples_for_finite_group', lambda: steerable.fourier_pointwise(
        _regular(), field_type=REGULAR, samples=8),
     ['samples must be None', 'finite group']),
    ('fourier_too_few_samples', lambda: steerable.fourier_pointwise(
        np.ones((1, 3, 3, 7), np.float32), field_type=groups.FieldType(
            SO2, [groups.direct_sum(*[SO2.irrep(k) for k in range(4)])]),
        samples=5), ['samples must be enough', 'at least 2 x 3 + 1']),
    ('fourier_samples_type', lambda: steerable.fourier_pointwise(
        np.ones((1, 3, 3, 7), np.float32), field_type=groups.FieldType(
            SO2, [groups.direct_sum(*[SO2.irrep(k) for k in range(4)])]),
        samples=8.0), ['samples']),
    ('fourier_activation', lambda: steerable.fourier_pointwise(
        _regular(), field_type=REGULAR, activation='elu2'), ['activation']),
    ('fourier_channels', lambda: steerable.fourier_pointwise(
        _mixed(), field_type=REGULAR), ['x', 'C = 8']),
    ('fourier_module_field', lambda: steerable.FourierPointwise(
        in_type=groups.FieldType(
            C8, [groups.direct_sum(C8.irrep(0), C8.irrep(0))])),
     ['irrep', '2 times', 'norm_nonlinearity']),
    ('quotient_fourier_subgroup_not_dividing', lambda:
     steerable.quotient_fourier_pointwise(
         _regular(), field_type=REGULAR, subgroup=groups.Cyclic(3)),
     ['subgroup', 'Cyclic(M)', 'M dividing N']),
    ('quotient_fourier_dihedral_in_so2', lambda:
     steerable.quotient_fourier_representation(SO2, groups.Dihedral(1)),
     ['subgroup', 'SO2(3)']),
    ('quotient_fourier_subgroup_not_a_group', lambda:
     steerable.QuotientFourierPointwise(in_type=REGULAR, subgroup='flip'),
     ['subgroup', "'flip'"]),
    ('quotient_fourier_field_not_on_quotient', lambda:
     steerable.quotient_fourier_pointwise(
         np.ones((1, 3, 3, 1), np.float32), field_type=groups.FieldType(
             groups.O2(2), [groups.O2(2).irrep(1, 0)]),
         subgroup=groups.Dihedral(1), samples=8),
     ['irrep (1, 0)', 'fixed by the subgroup',
      'quotient_fourier_representation']),
    ('quotient_fourier_samples_for_finite_group', lambda:
     steerable.quotient_fourier_pointwise(
         _regular(), field_type=REGULAR, subgroup=groups.Cyclic(2),
         samples=8), ['samples must be None', 'finite group']),
    ('quotient_fourier_too_few_cosets', lambda:
     steerable.quotient_fourier_pointwise(
         np.ones((1, 3, 3, 5), np.float32), field_type=groups.FieldType(
             groups.SO2(4), [steerable.quotient_fourier_representation(
                 groups.SO2(4), groups.Cyclic(2))]),
         subgroup=groups.Cyclic(2), samples=8),
     ['samples must be enough', '8 group elements (4 distinct samples)']),
    ('quotient_fourier_normalize', lambda:
     steerable.quotient_fourier_pointwise(
         _regular(), field_type=REGULAR, subgroup=groups.Cyclic(2),
         normalize='yes'), ['normalize', 'bool']),
    ('quotient_fourier_max_frequency', lambda:
     steerable.quotient_fourier_representation(
         SO2, groups.Cyclic(2), max_frequency=5), ['max_frequency', '0..3']),
    ('quotient_fourier_channels', lambda:
     steerable.quotient_fourier_pointwise(
         _mixed(), field_type=REGULAR, subgroup=groups.Cyclic(2)),
     ['x', 'C = 8']),
    ('quotient_fourier_activation', lambda:
     steerable.quotient_fourier_pointwise(
         _regular(), field_type=REGULAR, subgroup=groups.Cyclic(2),
         activation='elu2'), ['activation']),
    ('inner_moments_on_irrep', lambda: steerable.inner_moments(
        _mixed(), field_type=MIXED), ['inner batch norm', 'norm_batch_norm']),
    ('inner_batch_norm_mean_shape', lambda: steerable.inner_batch_norm(
        _regular(), field_type=REGULAR, mean=np.zeros(2, np.float32),
        var=np.ones(1, np.float32)), ['mean', '[F] = (1,)']),
    ('inner_batch_norm_negative_var', lambda: steerable.inner_batch_norm(
        _regular(), field_type=REGULAR, mean=np.zeros(1, np.float32),
        var=-np.ones(1, np.float32)), ['var', '>= 0']),
    ('inner_batch_norm_epsilon', lambda: steerable.inner_batch_norm(
        _regular(), field_type=REGULAR, mean=np.zeros(1, np.float32),
        var=np.ones(1, np.float32), epsilon=0), ['epsilon']),
    ('inner_batch_norm_scale_shape', lambda: steerable.inner_batch_norm(
        _regular(), field_type=REGULAR, mean=np.zeros(1, np.float32),
        var=np.ones(1, np.float32), scale=np.ones((1, 1), np.float32)),
     ['scale']),
    ('norm_batch_norm_var_shape', lambda: steerable.norm_batch_norm(
        _mixed(), field_type=MIXED, mean=np.zeros(2, np.float32),
        var=np.ones(2, np.float32)), ['var', 'n_blocks', '(3,)']),
    ('norm_batch_norm_bias_shape', lambda: steerable.norm_batch_norm(
        _mixed(), field_type=MIXED, mean=np.zeros(2, np.float32),
        var=np.ones(3, np.float32), bias=np.zeros(3, np.float32)),
     ['bias', 'n_trivial', '(2,)']),
    ('gnorm_per_irrep_fixed', lambda: steerable.gnorm_batch_norm(
        _mixed(), field_type=MIXED, mean=np.zeros(2, np.float32),
        var=np.ones(7, np.float32), per_irrep=False), ['per_irrep']),
    ('field_group_norm_scale', lambda: steerable.field_group_norm(
        _mixed(), field_type=MIXED, scale=np.ones(1, np.float32)),
     ['scale', 'n_blocks']),
    ('norm_moments_per_irrep', lambda: steerable.norm_moments(
        _mixed(), field_type=MIXED, per_irrep='yes'), ['per_irrep', 'bool']),
    ('norm_moments_axes', lambda: steerable.norm_moments(
        _mixed(), field_type=MIXED, axes=(0, 1)), ['axes', '(1, 2)']),
    ('norm_batch_norm_per_irrep', lambda: steerable.norm_batch_norm(
        _mixed(), field_type=MIXED, mean=np.zeros(2, np.float32),
        var=np.ones(3, np.float32), per_irrep=1), ['per_irrep', 'bool']),
    ('field_group_norm_per_irrep', lambda: steerable.field_group_norm(
        _mixed(), field_type=MIXED, per_irrep=None), ['per_irrep']),
    ('norm_nonlinearity_module_use_bias', lambda: steerable.NormNonlinearity(
        MIXED, use_bias='no').init(jax.random.PRNGKey(0), _mixed()),
     ['use_bias', 'bool']),
    ('field_group_norm_epsilon', lambda: steerable.field_group_norm(
        _mixed(), field_type=MIXED, epsilon=-1.0), ['epsilon']),
    ('batch_norm_module_momentum', lambda: steerable.InnerBatchNorm(
        REGULAR, momentum=2.0, use_running_average=True).init(
            jax.random.PRNGKey(0), _regular()), ['momentum']),
    ('inner_batch_norm_module_on_irrep', lambda: steerable.InnerBatchNorm(
        MIXED, use_running_average=False).init(
            jax.random.PRNGKey(0), _mixed()), ['in_type', 'NormBatchNorm']),
    ('max_pool_on_irrep', lambda: steerable.pointwise_max_pool(
        _mixed(), field_type=MIXED, window=2), ['field_type', 'norm_max_pool']),
    ('max_pool_window', lambda: steerable.pointwise_max_pool(
        _regular(), field_type=REGULAR, window=0), ['window']),
    ('max_pool_padding', lambda: steerable.pointwise_max_pool(
        _regular(), field_type=REGULAR, window=2, padding='zeros'),
     ['padding', "'same'"]),
    ('max_blur_pool_on_irrep', lambda: steerable.pointwise_max_blur_pool(
        _mixed(), field_type=MIXED), ['norm_max_blur_pool']),
    ('max_blur_pool_force', lambda: steerable.pointwise_max_blur_pool(
        _regular(), field_type=REGULAR, force=1), ['force']),
    ('avg_pool_channels', lambda: steerable.pointwise_avg_pool(
        _regular(), field_type=MIXED, window=2), ['x', 'C = 11']),
    ('blur_pool_filter_size', lambda: steerable.pointwise_blur_pool(
        _mixed(), field_type=MIXED, filter_size=9), ['filter_size']),
    ('blur_pool_padding', lambda: steerable.pointwise_blur_pool(
        _mixed(), field_type=MIXED, padding='valid'), ['padding']),
    ('norm_max_pool_padding', lambda: steerable.norm_max_pool(
        _mixed(), field_type=MIXED, window=2, padding='circular'),
     ['padding', "'valid', 'same'"]),
    ('norm_max_pool_window_too_large', lambda: steerable.norm_max_pool(
        _mixed(), field_type=MIXED, window=9), ['window', 'fit']),
    ('norm_max_pool_stride', lambda: steerable.norm_max_pool(
        _mixed(), field_type=MIXED, window=2, stride=(1, 2, 3)), ['stride']),
    ('group_pool_on_irrep', lambda: steerable.group_pool(
        _mixed(), field_type=MIXED), ['group pooling', 'norm_pool']),
    ('group_pool_reduction', lambda: steerable.group_pool(
        _regular(), field_type=REGULAR, reduction='sum'),
     ['reduction', "'max', 'mean'"]),
    ('invariant_map_reduction', lambda: steerable.invariant_map(
        _mixed(), field_type=MIXED, reduction='min'), ['reduction']),
    ('invariant_readout_spatial', lambda: steerable.invariant_readout(
        _mixed(), field_type=MIXED, spatial='sum'), ['spatial', "'mean'"]),
    ('norm_pool_not_a_type', lambda: steerable.norm_pool(
        _mixed(), field_type=None), ['field_type', 'FieldType']),
    ('restrict_not_dividing', lambda: steerable.restrict_field_type(
        REGULAR, groups.Cyclic(3)), ['subgroup', 'dividing', 'Cyclic(M)']),
    ('restrict_dihedral_in_cyclic', lambda: steerable.restrict_field_type(
        REGULAR, groups.Dihedral(4)), ['subgroup', 'C8']),
    ('restrict_so2_in_so2', lambda: steerable.restrict_field_type(
        groups.FieldType(SO2, [SO2.irrep(1)]), groups.SO2(3)),
     ['subgroup', 'SO2(3)']),
    ('restrict_band_limit', lambda: steerable.restrict_field_type(
        groups.FieldType(groups.O2(3), [groups.O2(3).irrep(1, 3)]),
        groups.SO2(2)), ['subgroup', 'max_frequency >= 3']),
    ('restrict_not_a_type', lambda: steerable.restrict_field_type(
        C8.regular_representation, groups.Cyclic(4)), ['field_type']),
    ('restrict_channels', lambda: steerable.restrict(
        _mixed(), field_type=REGULAR, subgroup=groups.Cyclic(4)),
     ['x', 'C = 8']),
    ('upsample_factor', lambda: steerable.upsample(
        _mixed(), field_type=MIXED, factor=0), ['factor']),
    ('upsample_method', lambda: steerable.upsample(
        _mixed(), field_type=MIXED, method='bicubic'),
     ['method', "'nearest', 'bilinear'"]),
    ('model_fields_length', lambda: _model('c8cnn', fields=(1, 2)),
     ['fields', '6 ints']),
    ('model_fields_entry', lambda: _model('c8cnn', fields=(1, 1, 1, 1, 1, 0)),
     ['fields entries']),
    ('model_elu_on_so2', lambda: _model('so2cnn', nonlinearity='elu'),
     ['nonlinearity', "'gated' or 'norm'"]),
    ('model_nonlinearity', lambda: _model('c8cnn', nonlinearity='relu'),
     ['nonlinearity', "'elu', 'gated', 'norm'"]),
    ('model_input_size', lambda: _model('c8cnn', size=30),
     ['x', 'divisible by 4', '30']),
    ('model_kernel_even', lambda: _model('c8cnn', kernel_size=4),
     ['kernel_size', 'odd']),
    ('model_restrict_without_subgroup', lambda: _model(
        'd16cnn', restrict_at=5), ['subgroup', 'restrict_at']),
    ('model_subgroup_without_restrict', lambda: _model(
        'd16cnn', subgroup=groups.Cyclic(16)), ['restrict_at']),
    ('model_restrict_at_range', lambda: _model(
        'd16c16cnn', restrict_at=7), ['restrict_at', '2..6']),
    ('model_bad_subgroup', lambda: _model(
        'c8cnn', restrict_at=5, subgroup=groups.Dihedral(8)), ['subgroup']),
    ('model_group', lambda: _model('c8cnn', group=groups.Rot90(1)),
     ['group', "'C12'", "'SO2(F)'"]),
    ('model_group_name', lambda: _model('steerable_cnn', group='C0'),
     ['group', 'n >= 1']),
    ('model_no_group', lambda: _model('steerable_cnn'), ['group', 'None']),
    ('model_subgroup_name', lambda: _model('d16c16cnn', subgroup='X'),
     ['subgroup', 'group name']),
    ('model_num_classes', lambda: _model('c8cnn', num_classes=0),
     ['num_classes']),
    ('model_head_width', lambda: _model('c8cnn', head_width=0),
     ['head_width']),
    ('model_bn_momentum', lambda: _model('c8cnn', bn_momentum=1.5),
     ['bn_momentum']),
    # layers/steerable/typed.py and the typed modules: at construction.
    ('typed_module_in_type_text', lambda: steerable.NormPool('C8'),
     ['in_type', 'groups.FieldType']),
    ('typed_sequential_empty', lambda: steerable.EquivariantSequential(()),
     ['layers', 'non-empty']),
    ('typed_sequential_untyped_layer', lambda: steerable.EquivariantSequential(
        (steerable.NormPool(MIXED), jax.nn.relu)), ['layers[1]', 'typed']),
    ('typed_sequential_mismatch', lambda: steerable.EquivariantSequential(
        (steerable.NormNonlinearity(MIXED), steerable.NormNonlinearity(
            groups.FieldType(MIXED.group, MIXED.size * [
                MIXED.group.trivial_representation])))),
     ['layer 1', 'layer 0', 'in_type', 'out_type', 'same width']),
    ('typed_upsample_factor', lambda: steerable.Upsample(MIXED, factor=0),
     ['factor', '1..inf', 'got 0']),
    ('typed_upsample_method', lambda: steerable.Upsample(MIXED, method='cubic'),
     ['method', "'nearest'"]),
    ('typed_readout_spatial_avg', lambda: steerable.InvariantReadout(
        MIXED, spatial='avg'), ['spatial', "'mean'", "'max'"]),
    ('typed_group_pool_on_irrep', lambda: steerable.GroupPool(MIXED),
     ['in_type', 'NormPool']),
    ('typed_restrict_no_subgroup', lambda: steerable.Restrict(MIXED),
     ['subgroup', 'group name', 'None']),
    ('typed_gated_odd_type', lambda: steerable.GatedNonlinearity(MIXED),
     ['in_type', 'gated_input_type']),
    ('typed_batch_norm_momentum', lambda: steerable.NormBatchNorm(
        MIXED, momentum=2.0), ['momentum']),
    # issue 30: the transposed conv (layers/steerable/transposed.py).
    ('transpose_padding_name', lambda: _transposed(padding='same'),
     ['padding', "'zeros'", "'circular'", 'PyTorch']),
    ('transpose_padding_negative', lambda: _transposed(padding=-1),
     ['padding', '>= 0']),
    ('transpose_output_padding_with_mode', lambda: _transposed(
        output_padding=1, stride=2), ['output_padding', 'must be 0',
                                      "'zeros'", 's H x s W']),
    ('transpose_output_padding_too_large', lambda: _transposed(
        padding=1, stride=2, output_padding=2),
     ['output_padding', 'max(stride, dilation) = 2']),
    ('transpose_output_padding_negative', lambda: _transposed(
        padding=1, output_padding=-1), ['output_padding', '>= 0']),
    ('transpose_stride', lambda: _transposed(stride=0), ['stride', '>= 1']),
    ('transpose_dilation', lambda: _transposed(dilation=(1, 2, 3)),
     ['dilation', 'pair of ints']),
    ('transpose_empty_output', lambda: _transposed(padding=9),
     ['padding=(9, 9)', 'crops the whole output']),
    ('transpose_kernel_size', lambda: _transposed(kernel_size=0),
     ['kernel_size']),
    ('transpose_channels', lambda: _transposed(
        x=np.zeros((1, 7, 7, 3), np.float32)), ['x', 'C = 8']),
    ('transpose_weights_length', lambda: _transposed(
        weights=np.zeros(10, np.float32)), ['weights', 'n_basis = 88']),
    ('transpose_bias_on_no_trivial_field', lambda: _transposed(
        bias=np.zeros(1, np.float32)), ['bias', 'trivial']),
    ('transpose_types_of_two_groups', lambda: _transposed(
        out_type=groups.FieldType(D8, [D8.regular_representation])),
     ['in_type and out_type', 'same group']),
    ('transpose_kernel_channels', lambda: steerable.conv2d_transpose(
        _regular(), np.zeros((3, 3, 4, 2), np.float32)),
     ['kernel', 'C_in = x.shape[-1] = 8']),
    ('transpose_kernel_rank', lambda: steerable.conv2d_transpose(
        _regular(), np.zeros((3, 3, 8), np.float32)),
     ['kernel', '[kh, kw, C_in, C_out]']),
    ('transpose_exported_dict', lambda: steerable.exported_conv2d_transpose(
        _regular(), {'kernel': 1}), ['exported']),
    ('typed_transpose_padding', lambda: steerable.SteerableConvTranspose(
        REGULAR, REGULAR, padding='reflect'), ['padding', "'circular'"]),
    ('typed_transpose_output_padding', lambda:
     steerable.SteerableConvTranspose(REGULAR, REGULAR, stride=2, padding=1,
                                      output_padding=3),
     ['output_padding', 'max(stride, dilation)']),
    ('typed_transpose_kernel_size', lambda: steerable.SteerableConvTranspose(
        REGULAR, REGULAR, kernel_size=1.5), ['kernel_size', 'int']),
    ('typed_transpose_use_bias', lambda: steerable.SteerableConvTranspose(
        REGULAR, REGULAR, use_bias='yes'), ['use_bias', 'bool']),
    ('typed_transpose_types', lambda: steerable.SteerableConvTranspose(
        REGULAR, groups.FieldType(D8, [D8.regular_representation])),
     ['in_type and out_type', 'same group']),
    ('typed_transpose_export_params', lambda:
     steerable.SteerableConvTranspose(REGULAR, REGULAR).export({}),
     ['params', 'weights']),
    # issue 30: dropout, the disk mask, D_N -> C_N reflection pooling
    # (layers/steerable/dropout.py, masking.py, reflection_pool.py).
    ('field_dropout_rate', lambda: steerable.field_dropout(
        _mixed(), jax.random.key(0), field_type=MIXED, rate=1.5),
     ['rate', '[0.0, 1.0]', '1.5']),
    ('field_dropout_no_rng', lambda: steerable.field_dropout(
        _mixed(), field_type=MIXED, rate=0.5),
     ['rng', 'PRNG key', 'jax.random.key', 'deterministic=False']),
    ('field_dropout_rng_not_a_key', lambda: steerable.field_dropout(
        _mixed(), 0, field_type=MIXED), ['rng', 'jax.random.PRNGKey']),
    ('field_dropout_deterministic', lambda: steerable.field_dropout(
        _mixed(), field_type=MIXED, deterministic='yes'),
     ['deterministic', 'bool']),
    ('field_dropout_per_pixel', lambda: steerable.field_dropout(
        _mixed(), jax.random.key(0), field_type=MIXED, per_pixel=1),
     ['per_pixel', 'bool']),
    ('field_dropout_channels', lambda: steerable.field_dropout(
        _regular(), field_type=MIXED, deterministic=True), ['x', 'C = 11']),
    ('pointwise_dropout_on_irrep', lambda: steerable.pointwise_dropout(
        _mixed(), jax.random.key(0), field_type=MIXED),
     ['field_type', 'regular, quotient or trivial', 'field 1', 'irrep(1)',
      'field_dropout']),
    ('pointwise_dropout_rate', lambda: steerable.pointwise_dropout(
        _regular(), jax.random.key(0), field_type=REGULAR, rate=-0.1),
     ['rate', '[0.0, 1.0]']),
    ('pointwise_dropout_not_a_type', lambda: steerable.pointwise_dropout(
        _regular(), field_type=C8.regular_representation),
     ['field_type', 'FieldType']),
    ('typed_field_dropout_rate', lambda: steerable.FieldDropout(
        MIXED, rate=2.0), ['rate', '[0.0, 1.0]']),
    ('typed_field_dropout_per_pixel', lambda: steerable.FieldDropout(
        MIXED, per_pixel='no'), ['per_pixel', 'bool']),
    ('typed_field_dropout_deterministic', lambda: steerable.FieldDropout(
        MIXED, deterministic=0), ['deterministic', 'bool']),
    ('typed_field_dropout_rng_collection', lambda: steerable.FieldDropout(
        MIXED, rng_collection=''), ['rng_collection', "'dropout'"]),
    ('typed_field_dropout_call_deterministic', lambda: steerable.FieldDropout(
        MIXED, rate=0.5).apply({}, _mixed(), deterministic='train'),
     ['deterministic', 'bool']),
    ('typed_field_dropout_mode_missing', lambda: steerable.FieldDropout(
        MIXED).apply({}, _mixed()), ['deterministic']),
    ('typed_pointwise_dropout_on_irrep', lambda: steerable.PointwiseDropout(
        MIXED), ['in_type', 'field 1', 'FieldDropout']),
    ('disk_mask_margin', lambda: steerable.disk_mask(
        _mixed(), field_type=MIXED, margin_percent=150.0),
     ['margin_percent', '[0.0, 100.0]']),
    ('disk_mask_sigma', lambda: steerable.disk_mask(
        _mixed(), field_type=MIXED, sigma=-1.0), ['sigma', '[0.0, inf)']),
    ('disk_mask_channels', lambda: steerable.disk_mask(
        _regular(), field_type=MIXED), ['x', 'C = 11']),
    ('disk_mask_weights_height', lambda: steerable.disk_mask_weights(0, 5),
     ['height', '1..inf']),
    ('disk_mask_weights_width', lambda: steerable.disk_mask_weights(5, 2.5),
     ['width', 'int']),
    ('typed_disk_mask_sigma', lambda: steerable.DiskMask(
        MIXED, sigma=float('nan')), ['sigma', 'finite']),
    ('typed_disk_mask_margin', lambda: steerable.DiskMask(
        MIXED, margin_percent=-5.0), ['margin_percent']),
    ('reflection_pool_of_cyclic', lambda: steerable.reflection_pool(
        _regular(), field_type=REGULAR),
     ['field_type', 'groups.Dihedral(N)', 'regular fields', 'C8']),
    ('reflection_pool_quotient_field', lambda: steerable.reflection_pool(
        np.ones((1, 5, 5, 2), np.float32), field_type=groups.FieldType(
            D8, [D8.quotient_representation(groups.Cyclic(8))])),
     ['field_type', 'D8 regular fields', 'field 0', 'quotient']),
    ('reflection_pool_reduction', lambda: steerable.reflection_pool(
        np.ones((1, 5, 5, 16), np.float32), field_type=groups.FieldType(
            D8, [D8.regular_representation]), reduction='sum'),
     ['reduction', "'max', 'mean'"]),
    ('reflection_pool_channels', lambda: steerable.reflection_pool(
        _regular(), field_type=groups.FieldType(
            D8, [D8.regular_representation])), ['x', 'C = 16']),
    ('reflection_pool_type_not_a_type', lambda:
     steerable.reflection_pool_type(D8.regular_representation),
     ['field_type', 'FieldType']),
    ('typed_reflection_pool_of_cyclic', lambda: steerable.ReflectionPool(
        REGULAR), ['in_type', 'groups.Dihedral(N)', 'C8']),
    ('typed_reflection_pool_reduction', lambda: steerable.ReflectionPool(
        groups.FieldType(D8, [D8.regular_representation]), reduction='min'),
     ['reduction', "'max'"]),
    # the equivariant linear map (layers/steerable/linear.py)
    ('linear_no_common_irrep', lambda: steerable.EquivariantLinear(
        SCALAR, groups.FieldType(C8, [C8.irrep(1)])),
     ['in_type and out_type', 'share an irrep']),
    ('linear_groups_differ', lambda: steerable.equivariant_linear(
        np.ones((1, 8), np.float32), np.zeros(8, np.float32),
        in_type=REGULAR, out_type=groups.FieldType(
            D8, [D8.regular_representation])), ['same group']),
    ('linear_x_rank', lambda: steerable.equivariant_linear(
        _regular(), np.zeros(8, np.float32), in_type=REGULAR,
        out_type=REGULAR), ['x', 'rank 2', '[B, C]']),
    ('linear_x_channels', lambda: steerable.equivariant_linear(
        np.ones((1, 11), np.float32), np.zeros(8, np.float32),
        in_type=REGULAR, out_type=REGULAR), ['x', 'C = 8']),
    ('linear_x_integer', lambda: steerable.equivariant_linear(
        np.ones((1, 8), np.int32), np.zeros(8, np.float32),
        in_type=REGULAR, out_type=REGULAR), ['x', 'floating']),
    ('linear_weights_size', lambda: steerable.equivariant_linear(
        np.ones((1, 8), np.float32), np.zeros(9, np.float32),
        in_type=REGULAR, out_type=REGULAR), ['weights', 'n_basis = 8']),
    ('linear_bias_size', lambda: steerable.equivariant_linear(
        np.ones((1, 8), np.float32), np.zeros(1, np.float32),
        np.zeros(3, np.float32), in_type=REGULAR, out_type=SCALAR),
     ['bias', 'trivial output field']),
    ('linear_in_type', lambda: steerable.linear_basis(
        C8.regular_representation, REGULAR), ['in_type', 'FieldType']),
    ('typed_linear_use_bias', lambda: steerable.EquivariantLinear(
        REGULAR, REGULAR, use_bias='yes'), ['use_bias', 'bool']),
    ('typed_linear_export_params', lambda: steerable.EquivariantLinear(
        REGULAR, REGULAR).export({}), ['params', "'weights'"]),
    ('typed_linear_map_input', lambda: steerable.EquivariantLinear(
        REGULAR, REGULAR).init(jax.random.PRNGKey(0), _regular()),
     ['x', 'rank 2', 'SteerableConv', 'kernel_size=1']),
    ('fiber_action_rank', lambda: steerable.fiber_action(REGULAR, 1)(
        _regular()), ['x', 'rank 2']),
    ('fiber_action_element', lambda: steerable.fiber_action(REGULAR, 9),
     ['element', 'C8']),
    # escnn's other gated nonlinearities (layers/steerable/gated.py)
    ('gated2_gates_channels', lambda: steerable.gated_nonlinearity2(
        np.ones((1, 5, 5, 2), np.float32), _mixed(), gated_type=MIXED),
     ['gates', 'C = 3']),
    ('gated2_gates_grid', lambda: steerable.gated_nonlinearity2(
        np.ones((1, 3, 3, 3), np.float32), _mixed(), gated_type=MIXED),
     ['gates', '[B, H, W]', '(1, 5, 5)']),
    ('gated2_x_channels', lambda: steerable.gated_nonlinearity2(
        np.ones((1, 5, 5, 3), np.float32), _regular(), gated_type=MIXED),
     ['x', 'C = 11']),
    ('gated2_bias_shape', lambda: steerable.gated_nonlinearity2(
        np.ones((1, 5, 5, 3), np.float32), _mixed(), np.zeros(2),
        gated_type=MIXED), ['bias', '[F]', '(3,)']),
    ('gated2_activation', lambda: steerable.gated_nonlinearity2(
        np.ones((1, 5, 5, 3), np.float32), _mixed(), gated_type=MIXED,
        activation='swish2'), ['activation', 'sigmoid']),
    ('gated2_gated_type', lambda: steerable.gate_field_type(
        C8.irrep(1)), ['gated_type', 'FieldType']),
    ('typed_gated2_use_bias', lambda: steerable.GatedNonlinearity2(
        MIXED, use_bias=1), ['use_bias', 'bool']),
    ('typed_gated2_activation', lambda: steerable.GatedNonlinearity2(
        MIXED, activation='nope'), ['activation']),
    ('typed_gated2_trial_pair', lambda: steerable.GatedNonlinearity2(
        MIXED).trial({}, _mixed(), 1), ['x', 'pair', 'gates']),
    ('uniform_change_of_basis', lambda:
     steerable.uniform_gated_representation(C8.regular_representation),
     ['gated', 'change of basis']),
    ('uniform_not_a_representation', lambda:
     steerable.uniform_gated_representation(REGULAR),
     ['gated', 'Representation']),
    ('uniform_not_uniform', lambda: steerable.uniform_gated_type(
        groups.FieldType(C8, [
            steerable.uniform_gated_representation(C8.irrep(1)),
            steerable.uniform_gated_representation(C8.irrep(2))])),
     ['in_type', 'uniform']),
    ('uniform_no_trivial_gates', lambda: steerable.uniform_gated_type(
        groups.FieldType(C8, [groups.representations.direct_sum(
            C8.irrep(1), C8.irrep(2))])),
     ['in_type', 'n trivial gate irreps']),
    ('uniform_bias_shape', lambda: steerable.gated_nonlinearity_uniform(
        np.ones((1, 5, 5, 6), np.float32), np.zeros(2), field_type=(
            groups.FieldType(C8, 2 * [
                steerable.uniform_gated_representation(C8.irrep(1))]))),
     ['bias', '[F, n_gates]', '(2, 1)']),
    ('uniform_x_channels', lambda: steerable.gated_nonlinearity_uniform(
        _regular(), field_type=groups.FieldType(C8, [
            steerable.uniform_gated_representation(C8.irrep(1))])),
     ['x', 'C = 3']),
    ('typed_uniform_regular', lambda: steerable.GatedNonlinearityUniform(
        REGULAR), ['in_type', 'n trivial gate irreps']),
    ('typed_uniform_use_bias', lambda: steerable.GatedNonlinearityUniform(
        groups.FieldType(C8, [steerable.uniform_gated_representation(
            C8.irrep(1))]), use_bias=None), ['use_bias', 'bool']),
    # induced representations and their layers (induction.py, induced.py)
    ('induced_not_a_subgroup', lambda: steerable.induced_representation(
        C8, groups.Cyclic(3), groups.Cyclic(3).trivial_representation),
     ['subgroup', 'C8', 'Cyclic(M)']),
    ('induced_dihedral_in_cyclic', lambda: steerable.induced_representation(
        C8, groups.Dihedral(2), groups.Dihedral(2).trivial_representation),
     ['subgroup', 'C8']),
    ('induced_infinite_index', lambda: steerable.induced_representation(
        SO2, groups.Cyclic(4), groups.Cyclic(4).trivial_representation),
     ['subgroup', 'finitely many cosets', 'infinitely many']),
    ('induced_infinite_index_o2', lambda: steerable.induced_representation(
        groups.O2(3), groups.Dihedral(2),
        groups.Dihedral(2).trivial_representation),
     ['subgroup', 'finitely many cosets', 'SO2(F) in O2']),
    ('induced_rep_of_another_group', lambda: steerable.induced_representation(
        C8, groups.Cyclic(2), groups.Cyclic(4).irrep(1)),
     ['rep', 'subgroup C2', 'C4']),
    ('induced_rep_not_a_representation', lambda:
     steerable.induced_representation(C8, groups.Cyclic(2), 'trivial'),
     ['rep', 'Representation']),
    ('induced_group_not_a_group', lambda: steerable.induced_representation(
        8, groups.Cyclic(2), groups.Cyclic(2).irrep(1)), ['group', "'C8'"]),
    ('induced_subgroup_unknown_name', lambda:
     steerable.induced_representation(C8, 'C2x', groups.Cyclic(2).irrep(1)),
     ['subgroup', 'group name']),
    ('induced_o2_band_limit', lambda: steerable.induced_representation(
        groups.O2(1), SO2, SO2.irrep(3)), ['group', 'max_frequency >= 3',
                                           'O2(1)']),
    ('induced_norm_on_plain_field', lambda:
     steerable.induced_norm_nonlinearity(_regular(), field_type=REGULAR),
     ['field_type', 'induced fields', 'field 0', 'NormNonlinearity']),
    ('induced_norm_activation', lambda: steerable.induced_norm_nonlinearity(
        _induced(), field_type=INDUCED, activation='squish'),
     ['activation', "'squash'", "'relu'"]),
    ('induced_norm_bias_shape', lambda: steerable.induced_norm_nonlinearity(
        _induced(), np.ones(4), field_type=INDUCED), ['bias', '[F]', '(1,)']),
    ('induced_norm_channels', lambda: steerable.induced_norm_nonlinearity(
        _regular(), field_type=INDUCED), ['x', 'C = 4']),
    ('typed_induced_norm_on_plain_field', lambda:
     steerable.InducedNormNonlinearity(MIXED),
     ['in_type', 'induced fields', 'field 0']),
    ('typed_induced_norm_use_bias', lambda: steerable.InducedNormNonlinearity(
        INDUCED, use_bias='yes'), ['use_bias', 'bool']),
    ('induced_gate_type_plain', lambda: steerable.induced_gate_type(REGULAR),
     ['gated_type', 'induced fields']),
    ('induced_gated_x_channels', lambda: steerable.induced_gated_nonlinearity(
        _induced(), gated_type=INDUCED),
     ['x', 'C = 8', 'induced[C2][trivial]']),
    ('induced_gated_bias_shape', lambda: steerable.induced_gated_nonlinearity(
        np.ones((1, 4, 4, 8), np.float32), np.ones(2), gated_type=INDUCED),
     ['bias', '[F]']),
    ('typed_induced_gated_without_gates', lambda:
     steerable.InducedGatedNonlinearity(INDUCED + INDUCED),
     ['in_type', 'induced gated input type', 'Ind_H^G(trivial)']),
    ('typed_induced_gated_trivial_gates', lambda:
     steerable.InducedGatedNonlinearity(SCALAR + INDUCED),
     ['in_type', 'induced gated input type']),
    ('induced_batch_norm_trivial_irrep', lambda:
     steerable.InducedNormBatchNorm(groups.FieldType(C8, [
         steerable.induced_representation(
             C8, groups.Cyclic(2), groups.Cyclic(2).trivial_representation)])),
     ['in_type', 'no trivial irrep', 'field 0', 'NormBatchNorm']),
    ('induced_batch_norm_plain_field', lambda: steerable.InducedNormBatchNorm(
        REGULAR), ['in_type', 'induced fields']),
    ('induced_batch_norm_var_shape', lambda:
     steerable.induced_norm_batch_norm(_induced(), field_type=INDUCED,
                                       var=np.ones(2)), ['var', '[F]']),
    ('induced_batch_norm_negative_var', lambda:
     steerable.induced_norm_batch_norm(_induced(), field_type=INDUCED,
                                       var=-np.ones(1)), ['var', '>= 0']),
    ('induced_norm_pool_plain_field', lambda: steerable.induced_norm_pool(
        _regular(), field_type=REGULAR), ['field_type', 'induced fields']),
    ('induced_norm_max_pool_window', lambda: steerable.induced_norm_max_pool(
        _induced(), field_type=INDUCED, window=5), ['window', 'fit']),
    ('typed_induced_norm_max_pool_padding', lambda:
     steerable.InducedNormMaxPool(INDUCED, padding='zeros'),
     ['padding', "'valid'"]),
    ('typed_induced_norm_pool_plain_field', lambda: steerable.InducedNormPool(
        MIXED), ['in_type', 'induced norm pooling']),
)


class BadInputTest(parameterized.TestCase):

  @parameterized.named_parameters(*_CASES)
  def test_raises_value_error_naming_the_argument(self, call, words):
    with self.assertRaises(ValueError) as raised:
      call()
    message = str(raised.exception)
    for word in words:
      self.assertIn(word, message)

  def test_dense_basis_too_large_points_to_expand(self):
    group = groups.Cyclic(16)
    big = groups.FieldType(group, 64 * [group.regular_representation])
    with self.assertRaisesRegex(ValueError, 'expand'):
      steerable.kernel_basis(big, big, 5)


if __name__ == '__main__':
  absltest.main()
