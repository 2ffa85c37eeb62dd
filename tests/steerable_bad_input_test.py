"""Bad input to representations, field types, kernel bases and the conv.

Each raises a ValueError that names the argument (and, where it helps, the
accepted values), before any XLA trace.
"""

import math

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

import groups
from layers import steerable

C8 = groups.Cyclic(8)
D8 = groups.Dihedral(8)
SO2 = groups.SO2(3)
REGULAR = groups.FieldType(C8, [C8.regular_representation])
SCALAR = groups.FieldType(C8, [C8.trivial_representation])


def _conv(**overrides):
  args = dict(x=np.zeros((1, 7, 7, 8), np.float32),
              weights=np.zeros(88, np.float32), in_type=REGULAR,
              out_type=REGULAR, kernel_size=5)
  args.update(overrides)
  x, weights = args.pop('x'), args.pop('weights')
  bias = args.pop('bias', None)
  return steerable.steerable_conv2d(x, weights, bias, **args)


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
