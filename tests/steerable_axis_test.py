"""The reflection axis of D_N and O(2) (``axis=``; GitHub issue 30, item 3).

Same abstract group, irreps and element numbering at every axis; only the
plane action changes (the mirror reflects across the line at ``axis``):
grid actions, kernel bases (the default basis sampled at turned taps),
subgroup embeddings (restriction, quotients, reflection pooling) and model
export follow it; equality includes it. The registry facts are in
tests/cases/steerable_axis.py, the comparison with e2cnn's
``FlipRot2dOnR2(N, axis=...)`` in tests/steerable_axis_e2cnn_test.py.
"""

import math

from absl.testing import absltest
from absl.testing import parameterized
import jax
import numpy as np

import groups
from groups import representations as reps_lib
from groups import synthetic
from layers import group_conv
from layers import steerable
from layers.steerable import model_export

_GRID_AXES = (0.0, math.pi / 4, math.pi / 2, 3 * math.pi / 4)


def _reflect(point, axis):
  """The reflection of ``(x, y)`` across the line at ``axis``."""
  c, s = math.cos(2 * axis), math.sin(2 * axis)
  x, y = point
  return (c * x + s * y, s * x - c * y)


def _hot_pixel(size, point):
  """``[1, size, size, 1]`` zeros with a one at plane point ``(x, y)``
  (x right, y up, origin at the grid centre)."""
  centre = (size - 1) // 2
  image = np.zeros((1, size, size, 1), np.float32)
  image[0, centre - point[1], centre + point[0], 0] = 1
  return image


def _where(image):
  centre = (image.shape[1] - 1) // 2
  row, col = np.argwhere(np.asarray(image)[0, :, :, 0] > 0.5)[0]
  return (int(col) - centre, centre - int(row))


class GroupTest(parameterized.TestCase):

  def test_default_axis_is_todays_group(self):
    self.assertEqual(groups.Dihedral(4, axis=math.pi / 2), groups.Dihedral(4))
    self.assertEqual(groups.O2(3, axis=math.pi / 2), groups.O2(3))
    self.assertEqual(str(groups.Dihedral(4)), 'D4')
    self.assertEqual(repr(groups.Dihedral(4)), 'Dihedral(n=4)')
    self.assertEqual(str(groups.O2(3)), 'O2(3)')
    self.assertEqual(groups.Dihedral(4).axis_offset, 0.0)
    self.assertEqual(groups.Cyclic(4).axis_offset, 0.0)

  def test_axis_is_a_line_mod_pi_and_grid_axes_are_snapped(self):
    quarter = groups.Dihedral(4, axis=math.pi / 4)
    for same in (5 * math.pi / 4, -3 * math.pi / 4, math.pi / 4 + 1e-12,
                 np.float32(math.pi / 4)):
      other = groups.Dihedral(4, axis=same)
      self.assertEqual(other, quarter)
      self.assertEqual(hash(other), hash(quarter))
    self.assertEqual(str(quarter), 'D4(axis=pi/4)')
    self.assertEqual(str(groups.O2(2, axis=0.3 + math.pi)), 'O2(2, axis=0.3)')
    self.assertNotEqual(quarter, groups.Dihedral(4))
    self.assertNotEqual(groups.O2(3, axis=0.0), groups.O2(3))

  def test_field_types_of_two_axes_do_not_chain(self):
    a, b = groups.Dihedral(4, axis=math.pi / 4), groups.Dihedral(4)
    regular_a = groups.FieldType(a, [a.regular_representation])
    regular_b = groups.FieldType(b, [b.regular_representation])
    self.assertNotEqual(regular_a, regular_b)
    with self.assertRaisesRegex(ValueError, 'in_type'):
      steerable.check_chain([steerable.SteerableConv(regular_a, regular_a, 3),
                             steerable.SteerableConv(regular_b, regular_b, 3)])

  @parameterized.parameters(1, 4, 8)
  def test_abstract_group_and_irreps_do_not_depend_on_the_axis(self, n):
    default, turned = groups.Dihedral(n), groups.Dihedral(n, axis=0.3)
    np.testing.assert_array_equal(default.multiplication_table(),
                                  turned.multiplication_table())
    for irrep in default.irrep_ids():
      for g in default.elements():
        np.testing.assert_array_equal(default.irrep_matrix(irrep, g),
                                      turned.irrep_matrix(irrep, g))

  @parameterized.product(axis=_GRID_AXES, n=(1, 2, 4, 8))
  def test_mirrors_reflect_across_their_lines_on_the_grid(self, axis, n):
    group = groups.Dihedral(n, axis=axis)
    self.assertEqual(group.axis, axis)
    point = (3, 1)
    for turns in range(n):
      line = axis + math.pi * turns / n   # r^k f reflects across it
      action = group.grid_action(turns + n)
      self.assertEqual(action.exact, reps_lib.is_grid_axis(
          reps_lib.check_axis(line)))
      if action.exact:
        moved = _where(action(_hot_pixel(9, point)))
        np.testing.assert_allclose(moved, _reflect(point, line), atol=1e-9)

  @parameterized.parameters(*_GRID_AXES)
  def test_o2_mirror_reflects_across_its_line(self, axis):
    group = groups.O2(2, axis=axis)
    for angle in (0.0, math.pi / 2, math.pi, 3 * math.pi / 2):
      action = group.grid_action((1, angle))
      self.assertTrue(action.exact)
      moved = _where(action(_hot_pixel(9, (3, 1))))
      np.testing.assert_allclose(moved, _reflect((3, 1), axis + angle / 2),
                                 atol=1e-9)

  def test_off_grid_axis_is_interpolated_and_approximately_right(self):
    size, axis = 21, 0.3
    rows, cols = np.mgrid[:size, :size]
    x, y = cols - 10, 10 - rows
    centre = (4.0, 1.5)
    blob = np.exp(-((x - centre[0])**2 + (y - centre[1])**2) / 4.0)
    for group, mirror in ((groups.Dihedral(4, axis=axis), 4),
                          (groups.O2(2, axis=axis), (1, 0.0))):
      action = group.grid_action(mirror)
      self.assertFalse(action.exact)
      self.assertFalse(group.exact if group.is_finite else False)
      moved = np.asarray(action(blob[None, :, :, None].astype(np.float32)))
      weights = moved[0, :, :, 0]
      centroid = (np.sum(weights * x) / weights.sum(),
                  np.sum(weights * y) / weights.sum())
      np.testing.assert_allclose(centroid, _reflect(centre, axis), atol=0.05)

  @parameterized.parameters(*_GRID_AXES)
  def test_grid_action_is_an_exact_homomorphism_on_grid_axes(self, axis):
    group = groups.Dihedral(4, axis=axis)
    self.assertTrue(group.exact)
    image = np.random.default_rng(0).standard_normal((1, 7, 7, 2)).astype(
        np.float32)
    for a in group.elements():
      for b in group.elements():
        np.testing.assert_array_equal(
            group.grid_action(group.compose(a, b))(image),
            group.grid_action(a)(group.grid_action(b)(image)))

  def test_reflection_element(self):
    quarter = groups.Dihedral(4, axis=math.pi / 4)
    self.assertEqual(quarter.reflection(math.pi / 4), 4)      # f
    self.assertEqual(quarter.reflection(math.pi / 2), 5)      # r f
    self.assertEqual(groups.Dihedral(4).reflection(math.pi / 4), 7)
    self.assertEqual(groups.O2(2).reflection(0.0), (1, math.pi))
    self.assertEqual(groups.O2(2, axis=0.3).reflection(0.3), (1, 0.0))
    with self.assertRaisesRegex(ValueError, 'axis.*mirror line of D4'):
      groups.Dihedral(4).reflection(0.1)

  def test_group_by_name_sets_the_axis(self):
    self.assertEqual(groups.group_by_name('D8', axis=math.pi / 4),
                     groups.Dihedral(8, axis=math.pi / 4))
    self.assertEqual(groups.group_by_name('O2(3)', axis=0.0),
                     groups.O2(3, axis=0.0))
    self.assertEqual(groups.group_by_name('p4m', axis=math.pi / 4),
                     groups.Dihedral(4, axis=math.pi / 4))
    self.assertEqual(groups.group_by_name(groups.Dihedral(2), axis=0.0),
                     groups.Dihedral(2, axis=0.0))
    self.assertEqual(groups.group_by_name('D8'), groups.Dihedral(8))


class BasisTest(parameterized.TestCase):

  @parameterized.parameters('D4', 'D8', 'O2')
  def test_axis_zero_basis_is_the_default_basis_turned(self, family):
    """k_a(p) = k(R(-d) p), d = a - pi/2: for a = 0, tap [i, j] of the
    axis-0 basis is tap [k - 1 - j, i] of the default one (exactly: a
    quarter turn permutes the taps)."""
    make = {'D4': lambda a: groups.Dihedral(4, axis=a),
            'D8': lambda a: groups.Dihedral(8, axis=a),
            'O2': lambda a: groups.O2(3, axis=a)}[family]
    bases = []
    for axis in (math.pi / 2, 0.0):
      group = make(axis)
      if group.is_finite:
        fields = ([group.trivial_representation, group.irrep(1, 1)],
                  [group.regular_representation])
      else:
        fields = ([group.trivial_representation, group.irrep(1, 1)],
                  [group.irrep(1, 1), group.irrep(1, 2), group.irrep(1, 0)])
      bases.append(steerable.kernel_basis(groups.FieldType(group, fields[0]),
                                          groups.FieldType(group, fields[1]),
                                          5))
    default, turned = bases
    self.assertEqual(default.shape, turned.shape)
    k = default.shape[1]
    rows, cols = np.meshgrid(np.arange(k), np.arange(k), indexing='ij')
    np.testing.assert_allclose(turned, default[:, k - 1 - cols, rows],
                               atol=1e-6)

  def test_off_grid_axis_conv_is_nearly_equivariant_to_its_mirror(self):
    """At axis 0.3 the mirror is interpolated: smooth input, inscribed
    disk; the layer of the default axis is far off under that mirror."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 19, 19, 1)).astype(np.float32)
    x = np.asarray(synthetic.radial_window(synthetic.low_pass(x, cutoff=0.1),
                                           fraction=0.7))
    disk = groups.inscribed_disk(19, 19)
    errors = {}
    for axis in (0.3, math.pi / 2):
      group = groups.Dihedral(4, axis=axis)
      in_type = groups.FieldType(group, [group.trivial_representation])
      out_type = groups.FieldType(group, [group.regular_representation])
      basis = steerable.layer_basis(in_type, out_type, 5)
      weights = rng.standard_normal(basis.size).astype(np.float32)

      def fn(x, weights=weights, in_type=in_type, out_type=out_type):
        return steerable.steerable_conv2d(x, weights, in_type=in_type,
                                          out_type=out_type, kernel_size=5)
      tested = groups.Dihedral(4, axis=0.3)   # the mirror across 0.3
      tested_in = groups.FieldType(tested, [tested.trivial_representation])
      tested_out = groups.FieldType(tested, [tested.regular_representation])
      actual = fn(tested_in.transform(4)(x))
      expected = tested_out.transform(4)(fn(x))
      errors[axis] = float(np.max(groups.relative_error(actual, expected,
                                                        mask=disk)))
    print(errors)
    self.assertLess(errors[0.3], 0.2)
    self.assertGreater(errors[math.pi / 2], 3 * errors[0.3])


def _check_embedding_moves_the_grid_alike(test, group, subgroup):
  iota = steerable.subgroup_embedding(group, subgroup)
  image = np.random.default_rng(0).standard_normal((1, 7, 7, 1)).astype(
      np.float32)
  elements = (subgroup.elements() if subgroup.is_finite else
              [(m, a) for m in (0, 1) for a in (0.0, math.pi / 2)])
  for h in elements:
    test.assertEqual(group.grid_action(iota(h)).exact,
                     subgroup.grid_action(h).exact)
    np.testing.assert_allclose(group.grid_action(iota(h))(image),
                               subgroup.grid_action(h)(image), atol=1e-6)


class SubgroupTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('d8_d4_same_axis', groups.Dihedral(8, axis=math.pi / 4),
       groups.Dihedral(4, axis=math.pi / 4)),
      ('d8_flip_other_line', groups.Dihedral(8, axis=math.pi / 4),
       groups.Dihedral(1)),
      ('d8_d2_axis_0', groups.Dihedral(8), groups.Dihedral(2, axis=0.0)),
      ('d4_c4', groups.Dihedral(4, axis=math.pi / 4), groups.Cyclic(4)),
      ('o2_d4_axis_0', groups.O2(3, axis=math.pi / 4),
       groups.Dihedral(4, axis=0.0)),
      ('o2_d2_off_grid', groups.O2(3, axis=0.3),
       groups.Dihedral(2, axis=0.3)),
      ('o2_default_d1_diagonal', groups.O2(3),
       groups.Dihedral(1, axis=3 * math.pi / 4)))
  def test_embedded_elements_move_the_grid_as_the_subgroups_do(
      self, group, subgroup):
    _check_embedding_moves_the_grid_alike(self, group, subgroup)

  def test_restricted_layer_is_exact_for_the_subgroups_mirror(self):
    group = groups.Dihedral(8, axis=math.pi / 4)
    subgroup = groups.Dihedral(1)    # the left-right mirror: r^2 f of group
    field_type = groups.FieldType(group, [group.regular_representation,
                                          group.irrep(1, 1)])
    restricted = steerable.restrict_field_type(field_type, subgroup)
    rho = field_type.representations[0]
    np.testing.assert_allclose(restricted.representations[0](1),
                               rho(group.reflection(math.pi / 2)), atol=1e-12)
    module = steerable.Restrict(field_type, subgroup)
    x = np.random.default_rng(0).standard_normal(
        (1, 7, 7, field_type.size)).astype(np.float32)
    variables = module.init(jax.random.PRNGKey(0), x)
    errors = module.equivariance_errors(variables, x)
    self.assertLess(max(errors.values()), 1e-6)

  def test_subgroup_axis_off_the_groups_mirror_lines_is_refused(self):
    with self.assertRaisesRegex(ValueError, 'subgroup.axis.*mirror line'):
      steerable.restrict_field_type(groups.FieldType(
          groups.Dihedral(4), [groups.Dihedral(4).regular_representation]),
                                    groups.Dihedral(2, axis=0.3))

  def test_quotient_by_the_mirror_follows_the_axis(self):
    group = groups.Dihedral(4, axis=math.pi / 4)
    own = group.quotient_representation(groups.Dihedral(1, axis=math.pi / 4))
    np.testing.assert_allclose(
        [own(g) for g in group.elements()],
        [groups.Dihedral(4).quotient_representation(groups.Dihedral(1))(g)
         for g in range(8)])
    # Dihedral(1) is the left-right mirror, r f in this group: it fixes the
    # coset H = {e, r f} (the first, holding e), f does not.
    other = group.quotient_representation(groups.Dihedral(1))
    np.testing.assert_allclose(other(5)[:, 0], np.eye(4)[0], atol=1e-12)
    self.assertFalse(np.allclose(other(4)[:, 0], np.eye(4)[0]))
    np.testing.assert_allclose(own(4)[:, 0], np.eye(4)[0], atol=1e-12)

  @parameterized.parameters(math.pi / 4, 0.0)
  def test_reflection_pool_is_exact_under_the_groups_mirror(self, axis):
    group = groups.Dihedral(4, axis=axis)
    in_type = groups.FieldType(group, 2 * [group.regular_representation])
    quotient = group.quotient_representation(groups.Dihedral(1, axis=axis))
    pooled_type = groups.FieldType(group, 2 * [quotient])
    x = np.random.default_rng(0).standard_normal(
        (1, 7, 7, in_type.size)).astype(np.float32)
    pool = lambda x: steerable.reflection_pool(x, field_type=in_type)
    for g in group.elements():
      np.testing.assert_array_equal(pool(in_type.transform(g)(x)),
                                    pooled_type.transform(g)(pool(x)))

  def test_group_conv_over_the_diagonal_mirror_is_exact(self):
    group = groups.Dihedral(4, axis=math.pi / 4)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 7, 7, 2)).astype(np.float32)
    kernel = rng.standard_normal((3, 3, 2, 3)).astype(np.float32)
    lift = lambda x: group_conv.lifting_conv2d(x, kernel, group=group)
    for g in group.elements():
      np.testing.assert_allclose(lift(group.grid_action(g)(x)),
                                 group.regular_action(g)(lift(x)), atol=1e-5)


class ExportTest(absltest.TestCase):

  def test_exported_model_keeps_the_axis(self):
    group = groups.Dihedral(4, axis=math.pi / 4)
    scalar = groups.FieldType(group, [group.trivial_representation])
    regular = groups.FieldType(group, 2 * [group.regular_representation])
    model = steerable.EquivariantSequential((
        steerable.SteerableConv(scalar, regular, 3),
        steerable.InnerBatchNorm(regular, use_running_average=True),
        steerable.PointwiseNonlinearity(regular, 'elu'),
        steerable.SteerableConv(regular, regular, 3)))
    x = np.random.default_rng(0).standard_normal((2, 9, 9, 1)).astype(
        np.float32)
    variables = model.init(jax.random.PRNGKey(0), x)
    exported, plain = model_export.export_model(model, variables, x)
    expected = model.apply(variables, x)
    actual = exported.apply(plain, x)
    np.testing.assert_allclose(actual, expected, atol=1e-5)
    mirrored = exported.apply(plain, scalar.transform(4)(x))   # f: diagonal
    np.testing.assert_allclose(mirrored, regular.transform(4)(actual),
                               atol=1e-5)


if __name__ == '__main__':
  absltest.main()
