"""The equivariant linear map and the separate / uniform gated
nonlinearities (layers/steerable/linear.py, gated.py).

Equivariance itself is the registry's (tests/cases/steerable_linear.py);
here: the intertwiner space is all of it (checked against an independent
null space), the map equals a 1x1 steerable conv with the same parameters,
bias and initialisation, export, and the gated variants against loops
written from escnn's definitions.
"""

import chex
import jax
import jax.numpy as jnp
import numpy as np
from absl.testing import absltest
from absl.testing import parameterized

import groups
from layers import steerable

C4 = groups.Cyclic(4)
C8 = groups.Cyclic(8)
D4 = groups.Dihedral(4)
SO2 = groups.SO2(3)
O2 = groups.O2(3)
KEY = jax.random.key(0, impl='rbg')


def _sigmoid(v):
  return 1 / (1 + np.exp(-v))


def _intertwiner_dimension(in_type, out_type) -> int:
  """``dim {W: W^T rho_in(g) = rho_out(g) W^T for all g}`` of a finite
  group, as a null space over every element (independent of the basis
  solver)."""
  group = in_type.group
  c_in, c_out = in_type.size, out_type.size
  rows = []
  for g in group.elements():
    # W^T [c_out, c_in]: vec(rho_out W^T - W^T rho_in) = (rho_out (x) I -
    # I (x) rho_in^T) vec(W^T), row-major vec.
    rows.append(np.kron(out_type.matrix(g), np.eye(c_in)) -
                np.kron(np.eye(c_out), in_type.matrix(g).T))
  singular = np.linalg.svd(np.concatenate(rows), compute_uv=False)
  return int(np.sum(singular < 1e-8)) + max(0, c_in * c_out - len(singular))


class LinearBasisTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('c4_regular', groups.FieldType(C4, [C4.regular_representation]),
       groups.FieldType(C4, [C4.regular_representation]), 4),
      ('d4_regular', groups.FieldType(D4, [D4.regular_representation]),
       groups.FieldType(D4, [D4.regular_representation]), 8),
      ('so2_vector', groups.FieldType(SO2, [SO2.irrep(1)]),
       groups.FieldType(SO2, [SO2.irrep(1)]), 2),
      ('o2_vector', groups.FieldType(O2, [O2.irrep(1, 1)]),
       groups.FieldType(O2, [O2.irrep(1, 1)]), 1),
      ('so2_mixed', groups.FieldType(SO2, [SO2.irrep(1), SO2.irrep(0),
                                           SO2.irrep(1)]),
       groups.FieldType(SO2, [SO2.irrep(1), SO2.irrep(2)]), 4),
  )
  def test_dimension_is_the_number_of_intertwiners(self, in_type, out_type,
                                                   expected):
    self.assertEqual(steerable.linear_basis(in_type, out_type).size, expected)

  @parameterized.named_parameters(
      ('c4_mixed', C4, [C4.regular_representation, C4.irrep(1),
                        C4.trivial_representation],
       [C4.quotient_representation(groups.Cyclic(2)), C4.irrep(2),
        C4.irrep(1)]),
      ('d4_mixed', D4, [D4.regular_representation, D4.irrep(1, 0)],
       [D4.irrep(1, 1), D4.quotient_representation(groups.Cyclic(4)),
        D4.trivial_representation]),
      ('c8_regular', C8, 2 * [C8.regular_representation],
       [C8.irrep(3), C8.regular_representation]),
  )
  def test_basis_spans_every_intertwiner(self, group, reps_in, reps_out):
    in_type = groups.FieldType(group, reps_in)
    out_type = groups.FieldType(group, reps_out)
    dense = steerable.linear_basis(in_type, out_type).dense()[:, 0, 0]
    self.assertEqual(len(dense), _intertwiner_dimension(in_type, out_type))
    # Every element is an intertwiner and they are independent, so they
    # span the whole space.
    for g in group.elements():
      for w in dense:
        np.testing.assert_allclose(w.T @ in_type.matrix(g),
                                   out_type.matrix(g) @ w.T, atol=1e-6)
    self.assertEqual(np.linalg.matrix_rank(dense.reshape(len(dense), -1)),
                     len(dense))

  def test_no_common_irrep_is_refused(self):
    with self.assertRaisesRegex(ValueError, 'share an irrep'):
      steerable.linear_basis(groups.FieldType(C8, [C8.irrep(1)]),
                             groups.FieldType(C8, [C8.irrep(2)]))


class EquivariantLinearTest(chex.TestCase):

  def setUp(self):
    super().setUp()
    self.in_type = groups.FieldType(C8, [C8.regular_representation,
                                         C8.irrep(1)])
    self.out_type = groups.FieldType(C8, [C8.trivial_representation,
                                          C8.irrep(1),
                                          C8.trivial_representation])
    self.x = np.random.default_rng(0).standard_normal(
        (3, self.in_type.size)).astype(np.float32)

  def test_equals_a_1x1_steerable_conv_with_the_same_parameters(self):
    linear = steerable.EquivariantLinear(self.in_type, self.out_type)
    variables = linear.init(KEY, self.x)
    variables = jax.tree.map(lambda v: v + 0.3, variables)  # nonzero bias
    conv = steerable.SteerableConv(self.in_type, self.out_type,
                                   kernel_size=1)
    maps = np.random.default_rng(1).standard_normal(
        (2, 3, 4, self.in_type.size)).astype(np.float32)
    self.assertEqual(jax.tree.map(jnp.shape, conv.init(KEY, maps)),
                     jax.tree.map(jnp.shape, variables))
    expected = conv.apply(variables, maps)
    actual = linear.apply(variables, maps.reshape(-1, self.in_type.size))
    np.testing.assert_allclose(actual.reshape(expected.shape), expected,
                               atol=1e-5)

  def test_bias_only_on_trivial_fields(self):
    linear = steerable.EquivariantLinear(self.in_type, self.out_type)
    variables = linear.init(KEY, self.x)
    self.assertEqual(variables['params']['bias'].shape, (2,))
    bias = np.array([1.5, -2.0], np.float32)
    variables = {'params': {**variables['params'], 'bias': bias}}
    y = linear.apply(variables, np.zeros_like(self.x))
    np.testing.assert_allclose(y, np.tile([1.5, 0, 0, -2.0], (3, 1)))
    no_trivial = groups.FieldType(C8, [C8.irrep(1)])
    self.assertNotIn('bias', steerable.EquivariantLinear(
        self.in_type, no_trivial).init(KEY, self.x)['params'])
    self.assertNotIn('bias', steerable.EquivariantLinear(
        self.in_type, self.out_type, use_bias=False).init(
            KEY, self.x)['params'])

  def test_he_initialisation(self):
    wide = groups.FieldType(C8, 8 * [C8.regular_representation])
    linear = steerable.EquivariantLinear(wide, wide)
    weights = linear.init(KEY, np.zeros((1, wide.size), np.float32))[
        'params']['weights']
    basis = steerable.linear_basis(wide, wide)
    self.assertEqual(weights.shape, (basis.size,))  # 8 * 8 * 8 = 512
    ratio = np.asarray(weights) / basis.he_std()
    self.assertAlmostEqual(float(np.std(ratio)), 1.0, delta=0.1)
    # He: a ReLU of unit-variance inputs keeps unit second moment.
    x = np.random.default_rng(2).standard_normal(
        (4096, wide.size)).astype(np.float32)
    y = linear.apply({'params': {'weights': weights}}, x)
    self.assertAlmostEqual(float(np.mean(np.square(y))), 2.0, delta=0.5)

  def test_export(self):
    linear = steerable.EquivariantLinear(self.in_type, self.out_type)
    variables = jax.tree.map(lambda v: v + 0.5, linear.init(KEY, self.x))
    exported = linear.export(variables['params'])
    self.assertEqual(exported['matrix'].shape,
                     (self.in_type.size, self.out_type.size))
    np.testing.assert_allclose(self.x @ exported['matrix'] +
                               exported['bias'],
                               linear.apply(variables, self.x), atol=1e-5)

  @chex.variants(with_jit=True, without_jit=True)
  def test_pure_function_matches_matrix(self):
    basis = steerable.linear_basis(self.in_type, self.out_type)
    weights = np.random.default_rng(3).standard_normal(basis.size).astype(
        np.float32)
    fn = self.variant(lambda x, w: steerable.equivariant_linear(
        x, w, in_type=self.in_type, out_type=self.out_type))
    matrix = steerable.linear_matrix(weights, in_type=self.in_type,
                                     out_type=self.out_type)
    np.testing.assert_allclose(
        fn(self.x, weights), self.x @ np.asarray(matrix), atol=1e-5)
    np.testing.assert_allclose(
        matrix, np.tensordot(weights, basis.dense()[:, 0, 0], 1), atol=1e-5)

  def test_equivariance_errors_on_vectors_any_angle(self):
    in_type = groups.FieldType(O2, [O2.irrep(1, 1), O2.irrep(1, 2),
                                    O2.trivial_representation])
    out_type = groups.FieldType(O2, [O2.irrep(1, 2), O2.irrep(0, 0)])
    linear = steerable.EquivariantLinear(in_type, out_type)
    x = np.random.default_rng(4).standard_normal((2, in_type.size)).astype(
        np.float32)
    variables = linear.init(KEY, x)
    errors = linear.equivariance_errors(
        variables, x, elements=[(0, 0.3), (1, 1.234), (1, 5.0)])
    self.assertLen(errors, 3)
    self.assertLess(max(errors.values()), 1e-5)
    self.assertLess(max(linear.equivariance_errors(variables, x).values()),
                    1e-5)  # default: quarter turns, mirrors and 30 degrees
    self.assertIn('(0, 0.5235987755982988)',
                  linear.equivariance_errors(variables, x))

  def test_a_sequential_of_linear_maps_runs_on_vectors(self):
    hidden = groups.FieldType(C8, 2 * [C8.regular_representation])
    model = steerable.EquivariantSequential((
        steerable.EquivariantLinear(self.in_type, hidden),
        steerable.EquivariantLinear(hidden, self.out_type)))
    variables = model.init(KEY, self.x)
    self.assertEqual(model.apply(variables, self.x).shape,
                     (3, self.out_type.size))
    errors = model.equivariance_errors(variables, self.x,
                                       elements=range(1, 8))
    self.assertLen(errors, 7)  # every non-identity element of C8
    self.assertLess(max(errors.values()), 1e-5)
    with self.assertRaisesRegex(ValueError, 'rank 2'):
      model.apply(variables, self.x[:, None, None])

  def test_fiber_transform_moves_no_pixels_and_inverts(self):
    field_type = groups.FieldType(SO2, [SO2.irrep(2), SO2.irrep(0)])
    action = steerable.fiber_action(field_type, 0.7)
    x = np.array([[1.0, 0.0, 3.0]], np.float32)
    np.testing.assert_allclose(
        action(x), [[np.cos(1.4), np.sin(1.4), 3.0]], atol=1e-6)
    np.testing.assert_allclose(action.inverse()(action(x)), x, atol=1e-6)
    self.assertTrue(action.exact)


class GatedNonlinearity2Test(chex.TestCase):

  def setUp(self):
    super().setUp()
    rng = np.random.default_rng(5)
    self.gated_type = groups.FieldType(SO2, [SO2.irrep(1), SO2.irrep(0),
                                             SO2.irrep(2)])
    self.gates = rng.standard_normal((2, 3, 3, 3)).astype(np.float32)
    self.x = rng.standard_normal((2, 3, 3, 5)).astype(np.float32)
    self.bias = np.array([0.5, -1.0, 2.0], np.float32)

  @chex.variants(with_jit=True, without_jit=True)
  def test_field_i_times_its_gate(self):
    fn = self.variant(lambda gates, x, bias: steerable.gated_nonlinearity2(
        gates, x, bias, gated_type=self.gated_type))
    y = np.asarray(fn(self.gates, self.x, self.bias))
    gate = _sigmoid(self.gates - self.bias)  # [B, H, W, F]
    np.testing.assert_allclose(y[..., 0:2], self.x[..., 0:2] * gate[..., :1],
                               rtol=1e-5)
    np.testing.assert_allclose(y[..., 2:3], self.x[..., 2:3] * gate[..., 1:2],
                               rtol=1e-5)
    np.testing.assert_allclose(y[..., 3:5], self.x[..., 3:5] * gate[..., 2:],
                               rtol=1e-5)

  def test_equals_the_one_input_gated_nonlinearity(self):
    joined = np.concatenate([self.gates, self.x], axis=-1)
    np.testing.assert_allclose(
        steerable.gated_nonlinearity2(self.gates, self.x,
                                      gated_type=self.gated_type),
        steerable.gated_nonlinearity(joined, gated_type=self.gated_type),
        rtol=1e-6)

  def test_module(self):
    module = steerable.GatedNonlinearity2(self.gated_type)
    self.assertEqual(module.out_type, self.gated_type)
    self.assertEqual(module.gate_type, groups.FieldType(
        SO2, 3 * [SO2.trivial_representation]))
    variables = module.init(KEY, self.gates, self.x)
    np.testing.assert_array_equal(variables['params']['bias'], np.zeros(3))
    variables = {'params': {'bias': self.bias}}
    np.testing.assert_allclose(
        module.apply(variables, self.gates, self.x),
        steerable.gated_nonlinearity2(self.gates, self.x, self.bias,
                                      gated_type=self.gated_type))
    errors = module.equivariance_errors(variables, (self.gates, self.x))
    self.assertLen(errors, 3)
    self.assertLess(max(errors.values()), 1e-6)
    trial = module.trial(variables, (self.gates, self.x), np.pi / 2)
    self.assertEqual(trial.x.shape, (2, 3, 3, 8))
    self.assertEmpty(steerable.GatedNonlinearity2(
        self.gated_type, use_bias=False).init(KEY, self.gates, self.x))

  def test_relu_activation(self):
    y = steerable.gated_nonlinearity2(self.gates, self.x,
                                      gated_type=self.gated_type,
                                      activation='relu')
    np.testing.assert_allclose(
        y[..., 2], self.x[..., 2] * np.maximum(self.gates[..., 1], 0))


class GatedNonlinearityUniformTest(chex.TestCase):

  def setUp(self):
    super().setUp()
    gated = groups.representations.direct_sum(D4.irrep(1, 1), D4.irrep(1, 0))
    self.field = steerable.uniform_gated_representation(gated)
    self.in_type = groups.FieldType(D4, 2 * [self.field])
    rng = np.random.default_rng(6)
    self.x = rng.standard_normal((2, 3, 3, self.in_type.size)).astype(
        np.float32)
    self.bias = rng.standard_normal((2, 2)).astype(np.float32)

  def test_types(self):
    self.assertEqual(self.field.irreps, ((0, 0), (0, 0), (1, 1), (1, 0)))
    self.assertEqual(self.in_type.size, 10)
    out_type = steerable.uniform_gated_type(self.in_type)
    self.assertEqual(out_type.representations, 2 * (
        groups.representations.direct_sum(D4.irrep(1, 1), D4.irrep(1, 0)),))
    vector = groups.FieldType(C8, [steerable.uniform_gated_representation(
        C8.irrep(1))])
    self.assertEqual(steerable.uniform_gated_type(vector),
                     groups.FieldType(C8, [C8.irrep(1)]))

  @chex.variants(with_jit=True, without_jit=True)
  def test_each_irrep_times_its_gate(self):
    fn = self.variant(lambda x, bias: steerable.gated_nonlinearity_uniform(
        x, bias, field_type=self.in_type))
    y = np.asarray(fn(self.x, self.bias))
    self.assertEqual(y.shape, (2, 3, 3, 6))
    for f in range(2):
      block = self.x[..., 5 * f:5 * f + 5]  # gates 0, 1; irrep (1, 1); (1, 0)
      gate = _sigmoid(block[..., :2] - self.bias[f])
      np.testing.assert_allclose(y[..., 3 * f:3 * f + 2],
                                 block[..., 2:4] * gate[..., :1], rtol=1e-5)
      np.testing.assert_allclose(y[..., 3 * f + 2], block[..., 4] *
                                 gate[..., 1], rtol=1e-5)

  def test_module_and_a_conv_before_it(self):
    module = steerable.GatedNonlinearityUniform(self.in_type)
    variables = module.init(KEY, self.x)
    self.assertEqual(variables['params']['bias'].shape, (2, 2))
    scalars = groups.FieldType(D4, 2 * [D4.trivial_representation])
    model = steerable.EquivariantSequential((
        steerable.SteerableConv(scalars, self.in_type, kernel_size=3),
        steerable.GatedNonlinearityUniform(self.in_type)))
    maps = np.random.default_rng(7).standard_normal((2, 7, 7, 2)).astype(
        np.float32)
    variables = model.init(KEY, maps)
    errors = model.equivariance_errors(variables, maps)
    self.assertLen(errors, 7)
    self.assertLess(max(errors.values()), 1e-5)


if __name__ == '__main__':
  absltest.main()
