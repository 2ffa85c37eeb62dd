"""Tests for groups.testing: the assertions, Case/Trial/Registry, imports."""

import functools
import os
import subprocess
import sys
from unittest import mock

import hypothesis
import jax
import numpy as np
from absl.testing import absltest
from absl.testing import parameterized
from hypothesis import strategies as st

import groups
from groups import structural_jit
from groups import testing
import layers


def _draw_shifted_relu(draw):
  x = testing.random_input(draw, testing.draw_rng(draw))
  return testing.Trial(jax.nn.relu, x,
                       groups.CircularShift(*testing.draw_shift(draw, x)))


class AssertionsTest(parameterized.TestCase):
  """The assertions themselves must be able to fail."""

  def setUp(self):
    super().setUp()
    self.x = np.random.default_rng(0).standard_normal((2, 8, 8, 3)).astype(
        np.float32)

  def test_assert_equivariant_passes_for_a_circular_conv(self):
    kernel = testing.random_kernel(np.random.default_rng(1), 3, 3, 3, 2)
    conv = lambda x: layers.conv2d(x, kernel, padding='circular')  # noqa: E731
    testing.assert_equivariant(conv, groups.CircularShift(2, -3), self.x)

  def test_assert_equivariant_fails_for_a_stride2_max_pool(self):
    pool = functools.partial(layers.max_pool, window=2, padding='circular')
    shift = groups.CircularShift(0, 1)
    with self.assertRaises(AssertionError):
      testing.assert_equivariant(pool, shift, self.x,
                                 output_transform=shift.output_action(
                                     stride=2))

  def test_assert_equivariant_compares_only_the_mask(self):
    # Zeroing columns 0..3 commutes with a 1-pixel shift right everywhere
    # but on column 0, which receives column 7.
    keep = (np.arange(8) >= 4).astype(np.float32)[None, None, :, None]
    fn = lambda v: v * keep  # noqa: E731
    mask = np.zeros((8, 8), bool)
    mask[:, 1:4] = True
    shift = groups.CircularShift(0, 1)
    testing.assert_equivariant(fn, shift, self.x, mask=mask)
    with self.assertRaises(AssertionError):
      testing.assert_equivariant(fn, shift, self.x)

  def test_assert_not_equivariant_fails_for_an_equivariant_map(self):
    with self.assertRaises(AssertionError):
      testing.assert_not_equivariant(jax.nn.relu, groups.CircularShift(1, 2),
                                     self.x, min_error=1e-3)

  def test_assert_approximately_equivariant_fails_above_the_bound(self):
    with self.assertRaisesRegex(AssertionError, 'exceeds the documented'):
      testing.assert_approximately_equivariant(
          lambda x: x[:, ::2, ::2], groups.CircularShift(1, 0), self.x,
          bound=0.1,
          output_transform=groups.CircularShift(1, 0).output_action(stride=2))

  @parameterized.named_parameters(
      ('atol_negative', lambda x: testing.assert_equivariant(
          jax.nn.relu, groups.Flip(), x, atol=-1.0), r'^atol must be'),
      ('mask_shape', lambda x: testing.assert_equivariant(
          jax.nn.relu, groups.Flip(), x, mask=np.ones((3, 3), bool)),
       r'^mask must be a boolean \[H, W\] = \(8, 8\)'),
      ('mask_dtype', lambda x: testing.assert_equivariant(
          jax.nn.relu, groups.Flip(), x, mask=np.ones((8, 8))),
       r'^mask must be a boolean'),
      ('bound_nan', lambda x: testing.assert_approximately_equivariant(
          jax.nn.relu, groups.Flip(), x, bound=float('nan')),
       r'^bound must be a finite number'),
      ('min_error_0', lambda x: testing.assert_not_equivariant(
          jax.nn.relu, groups.Flip(), x, min_error=0.0),
       r'^min_error must be a finite number in \(0.0, inf\)'),
      ('transform_str', lambda x: testing.assert_equivariant(
          jax.nn.relu, 'flip', x), r'^transform must be a groups Transform'),
  )
  def test_bad_arguments_raise_value_error(self, call, regex):
    with self.assertRaisesRegex(ValueError, regex):
      call(self.x)


class RegistryTest(parameterized.TestCase):

  def setUp(self):
    super().setUp()
    self.registry = testing.Registry()
    self.registry.register('relu/circular_shift', expect=testing.EXACT,
                           bound=1e-5, fact='ReLU is pointwise')(
                               _draw_shifted_relu)

  def test_register_returns_the_function_and_keeps_the_order(self):
    draw_fn = self.registry.register(
        'relu/flip', expect=testing.EXACT, bound=1e-5,
        fact='ReLU is pointwise')(_draw_shifted_relu)
    self.assertIs(draw_fn, _draw_shifted_relu)
    self.assertLen(self.registry, 2)
    self.assertEqual([case.name for case in self.registry],
                     ['relu/circular_shift', 'relu/flip'])
    self.assertIn('relu/flip', self.registry)
    self.assertEqual(self.registry['relu/flip'].expect, testing.EXACT)

  def test_register_rejects_unknown_expectation_and_duplicates(self):
    with self.assertRaisesRegex(ValueError, '^expect must be one of'):
      self.registry.register('x', expect='roughly', bound=1.0, fact='x')
    with self.assertRaisesRegex(ValueError, 'already exists'):
      self.registry.register('relu/circular_shift', expect=testing.EXACT,
                             bound=1.0, fact='x')

  @parameterized.named_parameters(
      ('name_empty', dict(name=''), r'^name must be a non-empty str'),
      ('bound_0', dict(bound=0.0), r'^bound must be a finite number'),
      ('bound_str', dict(bound='1e-5'), r'^bound must be a finite number'),
      ('fact_empty', dict(fact=''), r'^fact must be a non-empty str'),
  )
  def test_register_rejects_bad_fields(self, changes, regex):
    fields = dict(name='y', expect=testing.BREAKS, bound=1e-2, fact='y')
    fields.update(changes)
    with self.assertRaisesRegex(ValueError, regex):
      self.registry.register(fields.pop('name'), **fields)

  def test_concatenation_rejects_a_name_in_two_registries(self):
    merged = testing.Registry([*self.registry])
    self.assertEqual(merged.names(), self.registry.names())
    with self.assertRaisesRegex(ValueError, 'already exists'):
      testing.Registry([*self.registry, *self.registry])

  def test_trial_rejects_a_transform_that_is_not_one(self):
    with self.assertRaisesRegex(ValueError, '^transform must be a groups'):
      testing.Trial(jax.nn.relu, np.ones((1, 2, 2, 1)), 'flip')

  @hypothesis.given(data=st.data())
  @hypothesis.settings(max_examples=3)
  def test_check_runs_a_drawn_case(self, data):
    case = self.registry['relu/circular_shift']
    testing.check(case, case.draw(data.draw))
    broken = testing.Case('relu/circular_shift', case.draw, testing.BREAKS,
                          1e-2, 'a wrong claim')
    with self.assertRaises(AssertionError):
      testing.check(broken, case.draw(data.draw))


class DrawingTest(absltest.TestCase):

  @hypothesis.given(data=st.data())
  @hypothesis.settings(max_examples=5)
  def test_inputs_and_shifts_have_the_documented_shapes(self, data):
    rng = testing.draw_rng(data.draw)
    x = testing.random_input(data.draw, rng, multiple_of=2, square=True)
    self.assertEqual(x.dtype, np.float32)
    self.assertEqual(x.shape[1], x.shape[2])
    self.assertEqual(x.shape[1] % 2, 0)
    dy, dx = testing.draw_shift(data.draw, x, multiple_of=2, nonzero=True)
    self.assertEqual((dy % 2, dx % 2), (0, 0))
    self.assertFalse(dy % x.shape[1] == 0 and dx % x.shape[2] == 0)
    odd = testing.odd_square_input(data.draw, rng)
    self.assertEqual(odd.shape[1] % 2, 1)
    group = groups.Dihedral(8)
    y = testing.random_group_map(rng, odd, group)
    self.assertEqual(y.shape[3], group.order)
    g = testing.draw_element(data.draw, group, interpolated_only=True)
    self.assertFalse(group.grid_action(g).exact)


class JitByStructureTest(absltest.TestCase):
  """testing.jit_by_structure: one program per jaxpr, never a wrong one."""

  def setUp(self):
    super().setUp()
    self.x = np.arange(6, dtype=np.float32).reshape(2, 3)

  def _closure(self, scale):
    weight = np.full((3, 3), scale, np.float32)
    return lambda x: {'y': x @ weight, 'z': x * 2.0}

  def test_closures_share_one_program_and_keep_their_weights(self):
    # An empty cache for the test (restored after it): the cache keeps at
    # most _STRUCTURES_KEPT programs, and a worker that ran the registry
    # first has it full, so counting growth there would see no growth.
    with mock.patch.dict(structural_jit._BY_STRUCTURE, clear=True):  # pylint: disable=protected-access
      for scale in (1.0, 2.0, 3.0):
        fn = self._closure(scale)
        out = testing.jit_by_structure(fn)(self.x)
        np.testing.assert_allclose(out['y'], fn(self.x)['y'])
        np.testing.assert_allclose(out['z'], 2 * self.x)
      self.assertLen(structural_jit._BY_STRUCTURE, 1)  # pylint: disable=protected-access

  def test_constants_of_a_nested_jit_are_part_of_the_key(self):
    # A nested jax.jit keeps its closed-over array inside its own jaxpr,
    # which the printed jaxpr does not show.
    def nested(scale):
      weight = np.full((3,), scale, np.float32)
      return lambda x: jax.jit(lambda y: y * weight)(x)
    for scale in (1.0, 5.0):
      np.testing.assert_allclose(
          testing.jit_by_structure(nested(scale))(self.x), self.x * scale)

  def test_a_callback_is_not_shared(self):
    def with_callback(offset):
      def fn(x):
        return jax.pure_callback(
            lambda y: (y + offset).astype(np.float32),
            jax.ShapeDtypeStruct(x.shape, x.dtype), x)
      return fn
    for offset in (1.0, 7.0):
      np.testing.assert_allclose(
          testing.jit_by_structure(with_callback(offset))(self.x),
          self.x + offset)

  def test_derivatives_under_jvp(self):
    fn = self._closure(3.0)
    jitted = testing.jit_by_structure(lambda x: fn(x)['y'])
    _, tangent = jax.jvp(jitted, (self.x,), (np.ones_like(self.x),))
    np.testing.assert_allclose(tangent, np.full((2, 3), 9.0))

  def test_refuses_a_non_callable(self):
    with self.assertRaisesRegex(ValueError, 'fn must be'):
      testing.jit_by_structure(3)


class ImportTest(absltest.TestCase):

  def test_import_groups_does_not_import_hypothesis(self):
    code = ('import sys, groups; from groups import testing; '
            "assert 'hypothesis' not in sys.modules, 'hypothesis imported'")
    result = subprocess.run([sys.executable, '-c', code], capture_output=True,
                            text=True, check=False,
                            cwd=os.path.dirname(os.path.dirname(
                                os.path.abspath(__file__))))
    self.assertEqual(result.returncode, 0, result.stderr)


if __name__ == '__main__':
  absltest.main()
