"""Tests for groups.finite / cyclic / dihedral / interpolated.

The axiom and homomorphism tests run on every registered family
(``groups.finite.families()``), so a new group added in its own file is
checked here without editing this file.
"""

import dataclasses
import itertools
import math

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
import numpy as np

import groups
from groups import finite
from groups import synthetic

_SIZES = (1, 2, 3, 4, 8)
_ALL_GROUPS = [family(n) for family in finite.families().values()
               for n in _SIZES]
_EXACT_GROUPS = [group for group in _ALL_GROUPS if group.exact]
_INTERPOLATED_GROUPS = [groups.Cyclic(8), groups.Dihedral(8)]


def _named(group_list):
  return [(str(group), group) for group in group_list]


def _random(shape, seed=0):
  return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


class GroupAxiomsTest(parameterized.TestCase):

  @parameterized.named_parameters(_named(_ALL_GROUPS))
  def test_closure(self, group):
    table = group.multiplication_table()
    self.assertEqual(table.shape, (group.order, group.order))
    self.assertTrue(np.all((table >= 0) & (table < group.order)))

  @parameterized.named_parameters(_named(_ALL_GROUPS))
  def test_associativity(self, group):
    table = group.multiplication_table()
    # (a b) c == a (b c) for every triple, vectorised: [G, G, G].
    left = table[table[:, :, None], np.arange(group.order)[None, None, :]]
    right = table[np.arange(group.order)[:, None, None], table[None, :, :]]
    np.testing.assert_array_equal(left, right)

  @parameterized.named_parameters(_named(_ALL_GROUPS))
  def test_identity(self, group):
    for a in group.elements():
      self.assertEqual(group.compose(group.identity, a), a)
      self.assertEqual(group.compose(a, group.identity), a)

  @parameterized.named_parameters(_named(_ALL_GROUPS))
  def test_inverse(self, group):
    for a in group.elements():
      self.assertEqual(group.compose(a, group.inverse(a)), group.identity)
      self.assertEqual(group.compose(group.inverse(a), a), group.identity)

  @parameterized.named_parameters(_named(_ALL_GROUPS))
  def test_regular_permutations_are_a_homomorphism(self, group):
    # Acting on the group axis alone: permuting by a after b is permuting by
    # ab, and each permutation is a bijection of 0..|G|-1.
    for a, b in itertools.product(group.elements(), repeat=2):
      perm_a, perm_b = group.permutation(a), group.permutation(b)
      self.assertCountEqual(perm_a, group.elements())
      np.testing.assert_array_equal(
          perm_b[perm_a], group.permutation(group.compose(a, b)))

  @parameterized.named_parameters(_named(_ALL_GROUPS))
  def test_len_and_names(self, group):
    self.assertLen(group, group.order)
    names = [group.element_name(g) for g in group.elements()]
    self.assertLen(set(names), group.order)
    self.assertEqual(groups.finite_group(str(group)), group)

  def test_orders(self):
    self.assertEqual(groups.Cyclic(8).order, 8)
    self.assertEqual(groups.Dihedral(8).order, 16)
    self.assertEqual(groups.Dihedral(1).order, 2)

  def test_dihedral_is_not_abelian_and_mirrors_are_involutions(self):
    d4 = groups.Dihedral(4)
    r, f = 1, 4
    self.assertNotEqual(d4.compose(r, f), d4.compose(f, r))
    self.assertEqual(d4.compose(f, d4.compose(r, f)), d4.inverse(r))  # f r f
    for mirror in range(4, 8):
      self.assertEqual(d4.inverse(mirror), mirror)


class GridActionTest(parameterized.TestCase):

  @parameterized.named_parameters(_named(_EXACT_GROUPS))
  def test_grid_action_is_a_homomorphism(self, group):
    x = _random((2, 5, 5, 3))
    for a, b in itertools.product(group.elements(), repeat=2):
      np.testing.assert_array_equal(
          group.grid_action(a)(group.grid_action(b)(x)),
          group.grid_action(group.compose(a, b))(x))

  @parameterized.named_parameters(_named(_EXACT_GROUPS))
  def test_regular_action_is_a_homomorphism(self, group):
    y = _random((2, 4, 4, group.order, 2))
    for a, b in itertools.product(group.elements(), repeat=2):
      np.testing.assert_array_equal(
          group.regular_action(a)(group.regular_action(b)(y)),
          group.regular_action(group.compose(a, b))(y))

  @parameterized.named_parameters(_named(_EXACT_GROUPS))
  def test_grid_action_is_faithful(self, group):
    # Distinct elements move a generic image differently.
    x = _random((1, 5, 5, 1))
    images = {np.asarray(group.grid_action(g)(x)).tobytes()
              for g in group.elements()}
    self.assertLen(images, group.order)

  @parameterized.named_parameters(_named(_INTERPOLATED_GROUPS))
  def test_interpolated_grid_action_is_nearly_a_homomorphism(self, group):
    # On a smooth image supported well inside the inscribed disk, rotating by
    # 45 then by 45 degrees is close to rotating by 90: measured 0.089.
    x = _smooth_bump(np.random.default_rng(0), 25)
    mask = groups.inscribed_disk(25, 25)
    worst = 0.0
    for a, b in itertools.product(group.elements(), repeat=2):
      actual = group.grid_action(a)(group.grid_action(b)(x))
      expected = group.grid_action(group.compose(a, b))(x)
      worst = max(worst, float(groups.relative_error(actual, expected,
                                                     mask=mask).max()))
    self.assertLess(worst, 0.15)
    self.assertGreater(worst, 1e-3)  # interpolation is not exact

  def test_p4_and_p4m_elements_are_rot90_and_flips(self):
    x = _random((1, 5, 5, 2))
    for k in range(4):
      np.testing.assert_array_equal(groups.Cyclic(4).grid_action(k)(x),
                                    groups.Rot90(k)(x))
      np.testing.assert_array_equal(groups.Dihedral(4).grid_action(k)(x),
                                    groups.Rot90(k)(x))
      np.testing.assert_array_equal(
          groups.Dihedral(4).grid_action(4 + k)(x),
          groups.Rot90(k)(groups.Flip()(x)))

  def test_c8_even_elements_are_exact_quarter_turns(self):
    c8 = groups.Cyclic(8)
    self.assertEqual(c8.grid_action(2), groups.Rot90(1))
    self.assertEqual(c8.grid_action(1), groups.BilinearRotation(45.0))
    self.assertFalse(c8.exact)
    self.assertTrue(groups.Cyclic(4).exact)
    self.assertTrue(groups.Dihedral(4).exact)


def _smooth_bump(rng, n):
  x = synthetic.low_pass(rng.standard_normal((2, n, n, 2)).astype(np.float32),
                         cutoff=0.1)
  radius = np.hypot(*np.meshgrid(np.arange(n) - (n - 1) / 2,
                                 np.arange(n) - (n - 1) / 2, indexing='ij'))
  bump = np.clip(1 - (radius / (0.35 * (n - 1)))**2, 0, None)**2
  return (x * bump[None, :, :, None]).astype(np.float32)


class RegularActionTest(parameterized.TestCase):

  def test_permutes_the_group_axis_by_the_inverse(self):
    # (g . y)[h] = y[g^-1 h]: a C4 rotation by 1 rolls the group axis by 1.
    y = _random((1, 3, 3, 4, 2))
    np.testing.assert_array_equal(
        groups.Cyclic(4).regular_action(1)(y),
        np.roll(np.rot90(y, 1, axes=(1, 2)), 1, axis=3))

  def test_acts_spatially_on_images(self):
    x = _random((2, 5, 5, 3))
    np.testing.assert_array_equal(groups.Dihedral(4).regular_action(5)(x),
                                  groups.Dihedral(4).grid_action(5)(x))

  @parameterized.parameters(0, 1, 5, 6)
  def test_inverse_undoes(self, g):
    action = groups.Dihedral(4).regular_action(g)
    y = _random((1, 4, 4, 8, 1))
    np.testing.assert_array_equal(action.inverse()(action(y)), y)

  def test_exact_flag_and_output_action(self):
    self.assertTrue(groups.Dihedral(4).regular_action(5).exact)
    self.assertFalse(groups.Cyclic(8).regular_action(1).exact)
    self.assertTrue(groups.Cyclic(8).regular_action(2).exact)
    action = groups.Cyclic(4).regular_action(1)
    self.assertIs(action.output_action(stride=2), action)
    self.assertEqual(repr(groups.Dihedral(4).regular_action(5)),
                     'RegularAction(D4, r1f)')

  def test_jit(self):
    action = groups.Cyclic(8).regular_action(3)
    y = _random((1, 7, 7, 8, 2))
    np.testing.assert_allclose(jax.jit(action)(y), action(y), atol=1e-6)


class BilinearRotationTest(parameterized.TestCase):

  @parameterized.parameters(0, 90, 180, 270, -90, 450)
  def test_multiples_of_90_are_rot90(self, degrees):
    x = _random((2, 5, 6, 2))  # non-square: Rot90 swaps H and W
    np.testing.assert_array_equal(groups.BilinearRotation(degrees)(x),
                                  groups.Rot90(degrees // 90)(x))
    self.assertTrue(groups.BilinearRotation(degrees).exact)

  @parameterized.parameters(90, 180, 270)
  def test_interpolation_path_agrees_with_rot90(self, degrees):
    # The bilinear resampling alone (groups.interpolated.rotate, radians),
    # without BilinearRotation's exact shortcut.
    from groups import interpolated  # pylint: disable=g-import-not-at-top
    x = _random((1, 5, 5, 1))
    out = interpolated.rotate(jnp.asarray(x), math.radians(degrees))
    np.testing.assert_allclose(out, np.rot90(x, degrees // 90, axes=(1, 2)),
                               atol=1e-6)

  def test_one_angle_per_map_of_a_group_map(self):
    from groups import interpolated  # pylint: disable=g-import-not-at-top
    x = _random((2, 9, 9, 4, 2))  # [B, H, W, G, C]
    out = interpolated.rotate(x, np.radians([30.0, -100.0]))
    self.assertIsInstance(out, np.ndarray)
    for n, degrees in enumerate((30.0, -100.0)):
      np.testing.assert_allclose(
          out[n:n + 1], groups.BilinearRotation(degrees)(x[n:n + 1]), atol=1e-6)

  def test_counter_clockwise(self):
    # A dot right of centre moves up-right (row decreases) under +45 degrees.
    x = np.zeros((1, 9, 9, 1), np.float32)
    x[0, 4, 8, 0] = 1.0
    y = np.asarray(groups.BilinearRotation(45.0)(x))[0, :, :, 0]
    row, col = np.unravel_index(np.argmax(y), y.shape)
    self.assertLess(row, 4)
    self.assertGreater(col, 4)

  def test_rotation_and_back_is_close_on_smooth_images(self):
    x = _smooth_bump(np.random.default_rng(1), 21)
    t = groups.BilinearRotation(30.0)
    error = groups.relative_error(t.inverse()(t(x)), x)
    # Two bilinear resamplings low-pass the image: measured 0.114.
    self.assertLess(float(error.max()), 0.2)
    self.assertFalse(t.exact)

  def test_keeps_shape_and_dtype(self):
    x = _random((2, 5, 7, 4, 3))
    y = groups.BilinearRotation(10.0)(x)
    self.assertEqual(y.shape, x.shape)
    self.assertEqual(y.dtype, x.dtype)


class InscribedDiskTest(absltest.TestCase):

  def test_hand_checked(self):
    expected = np.array([[0, 0, 1, 0, 0],
                         [0, 1, 1, 1, 0],
                         [1, 1, 1, 1, 1],
                         [0, 1, 1, 1, 0],
                         [0, 0, 1, 0, 0]], bool)
    np.testing.assert_array_equal(groups.inscribed_disk(5, 5), expected)
    plus = np.zeros((5, 5), bool)
    plus[2, 1:4] = plus[1:4, 2] = True
    np.testing.assert_array_equal(groups.inscribed_disk(5, 5, margin=1), plus)
    self.assertEqual(groups.inscribed_disk(4, 6).shape, (4, 6))


class RegistrationTest(absltest.TestCase):

  def test_finite_group_names(self):
    self.assertEqual(groups.finite_group('p4'), groups.Cyclic(4))
    self.assertEqual(groups.finite_group('p4m'), groups.Dihedral(4))
    self.assertEqual(groups.finite_group('C8'), groups.Cyclic(8))
    self.assertEqual(groups.finite_group('D1'), groups.Dihedral(1))
    self.assertEqual(str(groups.Dihedral(8)), 'D8')

  def test_a_new_group_registers_itself(self):

    @dataclasses.dataclass(frozen=True)
    class Mirror(finite.FiniteGroup):
      """Z_2 acting by a left-right flip (n is ignored; 'M1')."""
      symbol = 'Mtest'
      n: int = 1

      @property
      def order(self):
        return 2

      def compose(self, a, b):
        return (a + b) % 2

      def inverse(self, a):
        return a

      def grid_action(self, g):
        return groups.Flip() if g else groups.Identity()

    self.addCleanup(finite._FAMILIES.pop, 'Mtest')
    self.assertEqual(groups.finite_group('Mtest1'), Mirror(1))
    self.assertIn('Mtest', finite.families())

  def test_duplicate_symbol_raises(self):
    with self.assertRaisesRegex(ValueError, "name 'C' of Clash is already"):

      class Clash(finite.FiniteGroup):  # pylint: disable=unused-variable
        symbol = 'C'


if __name__ == '__main__':
  absltest.main()
