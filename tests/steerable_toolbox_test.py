"""Tests for the steerable toolbox (issue 15): nonlinearities, batch norms,
pools, invariants, restriction and upsampling (layers/steerable/).

Two kinds of checks: the full action ``field_type.transform(g)`` for the
elements exact on the grid (quarter turns, the mirror), and, for per-pixel
layers at *any* angle, the fibre action alone (``x -> x rho(g)^T`` at every
pixel, no grid motion), which a per-pixel layer must commute with exactly.
The registry cases (tests/cases/steerable.py) draw the same facts with
hypothesis; these fixed-seed tests pin the details.
"""

import math

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
import numpy as np

import groups
from groups import testing
from layers import steerable

C4 = groups.Cyclic(4)
C8 = groups.Cyclic(8)
D4 = groups.Dihedral(4)
SO2 = groups.SO2(3)
O2 = groups.O2(3)

PERMUTATION_C8 = groups.FieldType(C8, [
    C8.regular_representation, C8.trivial_representation,
    C8.quotient_representation(groups.Cyclic(2))])
PERMUTATION_D4 = groups.FieldType(D4, [
    D4.regular_representation,
    D4.quotient_representation(groups.Cyclic(4)), D4.trivial_representation])
MIXED_C8 = groups.FieldType(C8, [
    C8.regular_representation, C8.irrep(1), C8.irrep(2),
    C8.trivial_representation, C8.irrep(4)])
IRREPS_SO2 = groups.FieldType(SO2, [SO2.trivial_representation, SO2.irrep(1),
                                    SO2.irrep(2), SO2.irrep(3)])
IRREPS_O2 = groups.FieldType(O2, [O2.trivial_representation, O2.irrep(1, 0),
                                  O2.irrep(1, 1), O2.irrep(1, 3)])


def _map(field_type, size=6, batch=2, seed=0, shift=0.0):
  rng = np.random.default_rng(seed)
  return (rng.standard_normal((batch, size, size, field_type.size)) +
          shift).astype(np.float32)


def _fibre(field_type, g):
  """``x -> x rho(g)^T`` at every pixel (no grid motion)."""
  matrix = field_type.matrix(g).astype(np.float32)
  return lambda x: jnp.einsum('...c,dc->...d', x, matrix,
                              precision=jax.lax.Precision.HIGHEST)


def _angles(group):
  if group.is_finite:  # every element, the off-grid ones included
    return list(group.elements())[1:]
  if isinstance(group, groups.O2):
    return [(0, 0.3), (1, 1.1), (1, 2.5), (0, 4.0)]
  return [0.3, 1.1, 2.5, 4.0]


def _quarter_turns(group):
  if isinstance(group, groups.SO2):
    return [math.pi / 2, math.pi, 3 * math.pi / 2]
  if isinstance(group, groups.O2):
    return [(1, 0.0), (0, math.pi / 2), (1, math.pi)]
  return [g for g in group.elements() if g and group.grid_action(g).exact]


def _assert_fibre_equivariant(test, fn, in_type, out_type, x, atol=1e-5):
  y = np.asarray(fn(x))
  for g in _angles(in_type.group):
    np.testing.assert_allclose(fn(_fibre(in_type, g)(x)),
                               _fibre(out_type, g)(y), atol=atol, rtol=1e-5,
                               err_msg=f'g={g}')
  del test


def _assert_grid_equivariant(fn, in_type, out_type, x, atol=1e-5):
  for g in _quarter_turns(in_type.group):
    testing.assert_equivariant(fn, in_type.transform(g), x,
                               output_transform=out_type.transform(g),
                               atol=atol)


class NonlinearityTest(parameterized.TestCase):

  @parameterized.named_parameters(('relu_c8', PERMUTATION_C8, 'relu'),
                                  ('elu_d4', PERMUTATION_D4, 'elu'),
                                  ('callable_c8', PERMUTATION_C8, jnp.tanh))
  def test_pointwise_on_permutation_fields_is_exact(self, field_type,
                                                    activation):
    fn = lambda x: steerable.pointwise_nonlinearity(
        x, field_type=field_type, activation=activation)
    _assert_grid_equivariant(fn, field_type, field_type, _map(field_type))

  def test_pointwise_relu_on_irrep_is_refused(self):
    with self.assertRaisesRegex(ValueError, r'field 1 is C8\.irrep\(1\).*'
                                'norm_nonlinearity or gated_nonlinearity'):
      steerable.pointwise_nonlinearity(_map(MIXED_C8), field_type=MIXED_C8)

  def test_forced_pointwise_relu_on_irrep_breaks(self):
    field_type = groups.FieldType(C8, [C8.irrep(1)])
    fn = lambda x: steerable.pointwise_nonlinearity(
        x, field_type=field_type, force=True)
    errors = testing.assert_not_equivariant(
        fn, field_type.transform(2), _map(field_type), min_error=0.1)
    self.assertGreater(errors.mean(), 0.3)

  @parameterized.named_parameters(('so2', IRREPS_SO2), ('c8', MIXED_C8))
  def test_norm_nonlinearity_any_angle_and_quarter_turns(self, field_type):
    bias = np.linspace(0.1, 0.9, len(field_type)).astype(np.float32)
    fn = lambda x: steerable.norm_nonlinearity(x, bias,
                                               field_type=field_type)
    x = _map(field_type)
    _assert_fibre_equivariant(self, fn, field_type, field_type, x)
    _assert_grid_equivariant(fn, field_type, field_type, x)

  def test_norm_nonlinearity_keeps_direction_and_maps_the_norm(self):
    field_type = groups.FieldType(SO2, [SO2.irrep(1)])
    x = np.array([3.0, 4.0], np.float32).reshape(1, 1, 1, 2)
    y = steerable.norm_nonlinearity(x, np.array([1.0], np.float32),
                                    field_type=field_type)
    np.testing.assert_allclose(y.reshape(-1), [2.4, 3.2], rtol=1e-6)
    zero = steerable.norm_nonlinearity(np.zeros_like(x), None,
                                       field_type=field_type)
    np.testing.assert_array_equal(zero, 0.0)
    grads = jax.grad(lambda x: steerable.norm_nonlinearity(
        x, None, field_type=field_type).sum())(np.zeros_like(x))
    self.assertTrue(np.all(np.isfinite(grads)))

  @parameterized.named_parameters(('o2', IRREPS_O2), ('c8', MIXED_C8))
  def test_gated_any_angle_and_quarter_turns(self, gated_type):
    in_type = steerable.gated_input_type(gated_type)
    self.assertEqual(in_type.size, len(gated_type) + gated_type.size)
    fn = lambda x: steerable.gated_nonlinearity(x, gated_type=gated_type)
    x = _map(in_type)
    _assert_fibre_equivariant(self, fn, in_type, gated_type, x)
    _assert_grid_equivariant(fn, in_type, gated_type, x)

  def test_gated_multiplies_by_sigmoid_of_its_gate(self):
    gated_type = groups.FieldType(SO2, [SO2.irrep(1), SO2.irrep(2)])
    x = _map(steerable.gated_input_type(gated_type), size=1)
    y = steerable.gated_nonlinearity(x, gated_type=gated_type)
    gates = jax.nn.sigmoid(x[..., :2])
    np.testing.assert_allclose(y[..., :2], x[..., 2:4] * gates[..., :1],
                               rtol=1e-6)
    np.testing.assert_allclose(y[..., 2:], x[..., 4:] * gates[..., 1:],
                               rtol=1e-6)

  @parameterized.named_parameters(
      ('d4', groups.FieldType(D4, [D4.irrep(1, 0), D4.irrep(1, 1),
                                   D4.irrep(0, 2)])),
      ('o2_sign', groups.FieldType(O2, [O2.irrep(1, 0),
                                        O2.trivial_representation])))
  def test_concatenated_is_exact(self, field_type):
    out_type = steerable.concatenated_field_type(field_type)
    self.assertEqual(out_type.size, 2 * field_type.size)
    for rep in out_type.representations:  # ReLU may follow
      self.assertTrue(steerable.is_permutation_representation(rep))
    fn = lambda x: steerable.concatenated_nonlinearity(x,
                                                       field_type=field_type)
    _assert_grid_equivariant(fn, field_type, out_type, _map(field_type))

  def test_concatenated_refuses_rotation_irreps(self):
    with self.assertRaisesRegex(ValueError, 'signed permutation'):
      steerable.concatenated_field_type(MIXED_C8)

  def test_modules(self):
    x = _map(IRREPS_SO2)
    module = steerable.NormNonlinearity(IRREPS_SO2)
    variables = module.init(jax.random.PRNGKey(0), x)
    self.assertEqual(variables['params']['log_bias'].shape, (4,))
    np.testing.assert_allclose(
        module.apply(variables, x),
        steerable.norm_nonlinearity(x, np.ones(4, np.float32),
                                    field_type=IRREPS_SO2), rtol=1e-6)
    gated = steerable.GatedNonlinearity(steerable.gated_input_type(IRREPS_SO2))
    self.assertEqual(gated.out_type, IRREPS_SO2)
    z = _map(steerable.gated_input_type(IRREPS_SO2))
    self.assertEqual(gated.apply({}, z).shape, x.shape)
    pointwise = steerable.PointwiseNonlinearity(PERMUTATION_C8, 'elu')
    np.testing.assert_array_equal(
        pointwise.apply({}, _map(PERMUTATION_C8)),
        jax.nn.elu(_map(PERMUTATION_C8)))


def _inner(field_type):
  def fn(x):
    mean, var = steerable.inner_moments(x, field_type=field_type)
    return steerable.inner_batch_norm(x, field_type=field_type, mean=mean,
                                      var=var)
  return fn


def _norm(field_type, per_irrep=False):
  def fn(x):
    mean, var = steerable.norm_moments(x, field_type=field_type,
                                       per_irrep=per_irrep)
    return steerable.norm_batch_norm(x, field_type=field_type, mean=mean,
                                     var=var, per_irrep=per_irrep)
  return fn


class BatchNormTest(parameterized.TestCase):

  @parameterized.named_parameters(('c8', PERMUTATION_C8),
                                  ('d4', PERMUTATION_D4))
  def test_inner_batch_norm_is_exact(self, field_type):
    _assert_grid_equivariant(_inner(field_type), field_type, field_type,
                             _map(field_type, shift=1.0))

  @parameterized.named_parameters(
      ('norm_so2', IRREPS_SO2, False), ('gnorm_o2', IRREPS_O2, True),
      ('gnorm_c8', MIXED_C8, True))
  def test_norm_batch_norm_any_angle_and_quarter_turns(self, field_type,
                                                       per_irrep):
    fn = _norm(field_type, per_irrep)
    x = _map(field_type, shift=1.0)
    _assert_fibre_equivariant(self, fn, field_type, field_type, x)
    _assert_grid_equivariant(fn, field_type, field_type, x)

  def test_field_group_norm_is_equivariant(self):
    fn = lambda x: steerable.field_group_norm(x, field_type=MIXED_C8)
    x = _map(MIXED_C8, shift=1.0)
    _assert_fibre_equivariant(self, fn, MIXED_C8, MIXED_C8, x)
    _assert_grid_equivariant(fn, MIXED_C8, MIXED_C8, x)

  def test_norm_equals_inner_on_permutation_fields(self):
    x = _map(PERMUTATION_C8, shift=1.0)
    np.testing.assert_allclose(_norm(PERMUTATION_C8)(x),
                               _inner(PERMUTATION_C8)(x), atol=2e-6)

  def test_normalised_statistics(self):
    x = 3.0 * _map(IRREPS_SO2, size=8, batch=4, shift=1.0)
    y = _norm(IRREPS_SO2)(x)
    mean, var = steerable.norm_moments(y, field_type=IRREPS_SO2)
    np.testing.assert_allclose(mean, 0.0, atol=1e-5)  # the trivial field
    np.testing.assert_allclose(var, 1.0, rtol=1e-4)
    y = _inner(PERMUTATION_C8)(3.0 * _map(PERMUTATION_C8, shift=1.0))
    mean, var = steerable.inner_moments(y, field_type=PERMUTATION_C8)
    np.testing.assert_allclose(mean, 0.0, atol=1e-5)
    np.testing.assert_allclose(var, 1.0, rtol=1e-4)

  def test_mean_only_on_trivial_components(self):
    # A constant vector field is not centred (its mean is not invariant).
    field_type = groups.FieldType(SO2, [SO2.irrep(1)])
    x = np.ones((2, 3, 3, 2), np.float32)
    mean, var = steerable.norm_moments(x, field_type=field_type)
    self.assertEqual(mean.shape, (0,))
    np.testing.assert_allclose(var, [1.0])

  def test_inner_batch_norm_refuses_irreps(self):
    with self.assertRaisesRegex(ValueError, 'norm_batch_norm'):
      steerable.inner_moments(_map(MIXED_C8), field_type=MIXED_C8)

  @parameterized.named_parameters(
      ('inner', steerable.InnerBatchNorm, PERMUTATION_C8, (3, 3), (3, 3)),
      ('norm', steerable.NormBatchNorm, MIXED_C8, (2, 5), (5, 2)),
      ('gnorm', steerable.GNormBatchNorm, MIXED_C8, (2, 9), (9, 2)))
  def test_modules_keep_running_statistics(self, module_cls, field_type,
                                           stats, params):
    module = module_cls(field_type, momentum=0.5)
    x = _map(field_type, shift=2.0)
    variables = module.init(jax.random.PRNGKey(0), x,
                            use_running_average=False)
    self.assertEqual((variables['batch_stats']['mean'].shape[0],
                      variables['batch_stats']['var'].shape[0]), stats)
    self.assertEqual((variables['params']['scale'].shape[0],
                      variables['params']['bias'].shape[0]), params)
    _, updates = module.apply(variables, x, use_running_average=False,
                              mutable=['batch_stats'])
    self.assertFalse(np.allclose(updates['batch_stats']['mean'], 0.0))
    variables = {**variables, **updates}
    fn = lambda x: module.apply(variables, x, use_running_average=True)
    _assert_grid_equivariant(fn, field_type, field_type, x)

  def test_field_group_norm_module(self):
    module = steerable.FieldGroupNorm(IRREPS_SO2)
    x = _map(IRREPS_SO2)
    variables = module.init(jax.random.PRNGKey(0), x)
    self.assertEqual(variables['params']['scale'].shape, (4,))
    self.assertNotIn('batch_stats', variables)


class PoolingTest(parameterized.TestCase):

  def test_pointwise_max_pool_even_grid_is_exact(self):
    fn = lambda x: steerable.pointwise_max_pool(x, field_type=PERMUTATION_D4,
                                                window=2)
    _assert_grid_equivariant(fn, PERMUTATION_D4, PERMUTATION_D4,
                             _map(PERMUTATION_D4, size=8))

  def test_pointwise_max_pool_refuses_irreps_and_breaks_when_forced(self):
    with self.assertRaisesRegex(ValueError, 'norm_max_pool'):
      steerable.pointwise_max_pool(_map(MIXED_C8), field_type=MIXED_C8,
                                   window=2)
    field_type = groups.FieldType(C8, [C8.irrep(1)])
    fn = lambda x: steerable.pointwise_max_pool(x, field_type=field_type,
                                                window=2, force=True)
    testing.assert_not_equivariant(fn, field_type.transform(2),
                                   _map(field_type, size=8), min_error=0.1)

  @parameterized.named_parameters(('so2', IRREPS_SO2), ('c8', MIXED_C8))
  def test_norm_max_pool(self, field_type):
    fn = lambda x: steerable.norm_max_pool(x, field_type=field_type,
                                           window=2)
    x = _map(field_type, size=8)
    _assert_fibre_equivariant(self, fn, field_type, field_type, x)
    _assert_grid_equivariant(fn, field_type, field_type, x)
    blur = lambda x: steerable.norm_max_blur_pool(x, field_type=field_type)
    _assert_grid_equivariant(blur, field_type, field_type, x)
    self.assertEqual(blur(x).shape, (2, 4, 4, field_type.size))

  def test_norm_max_pool_picks_the_largest_vector(self):
    field_type = groups.FieldType(SO2, [SO2.irrep(1)])
    x = np.zeros((1, 2, 2, 2), np.float32)
    x[0, 0, 0] = [3.0, 0.0]
    x[0, 1, 1] = [-2.0, 2.5]  # norm 3.2, largest; its x part is negative
    y = steerable.norm_max_pool(x, field_type=field_type, window=2)
    np.testing.assert_array_equal(y.reshape(-1), [-2.0, 2.5])

  @parameterized.named_parameters(('odd_stride2', 9, 2), ('stride1', 6, 1))
  def test_blur_and_avg_pools_on_any_field(self, size, stride):
    fn = lambda x: steerable.pointwise_blur_pool(x, field_type=MIXED_C8,
                                                 stride=stride)
    _assert_grid_equivariant(fn, MIXED_C8, MIXED_C8, _map(MIXED_C8, size))
    avg = lambda x: steerable.pointwise_avg_pool(
        steerable.pointwise_blur_pool(x, field_type=MIXED_C8, stride=1,
                                      padding='zeros'),
        field_type=MIXED_C8, window=2)
    _assert_grid_equivariant(avg, MIXED_C8, MIXED_C8, _map(MIXED_C8, 8))

  def test_max_blur_pool_even_grid_is_exact(self):
    fn = lambda x: steerable.pointwise_max_blur_pool(
        x, field_type=PERMUTATION_C8)
    _assert_grid_equivariant(fn, PERMUTATION_C8, PERMUTATION_C8,
                             _map(PERMUTATION_C8, size=8))

  @parameterized.named_parameters(('max', 'max'), ('mean', 'mean'))
  def test_group_pool_is_invariant_per_pixel(self, reduction):
    out_type = steerable.group_pool_type(PERMUTATION_D4)
    fn = lambda x: steerable.group_pool(x, field_type=PERMUTATION_D4,
                                        reduction=reduction)
    x = _map(PERMUTATION_D4)
    self.assertEqual(fn(x).shape, (2, 6, 6, 3))
    _assert_grid_equivariant(fn, PERMUTATION_D4, out_type, x)

  def test_invariant_map_and_readout(self):
    out_type = steerable.group_pool_type(MIXED_C8)
    x = _map(MIXED_C8, size=7)
    fn = lambda x: steerable.invariant_map(x, field_type=MIXED_C8)
    _assert_grid_equivariant(fn, MIXED_C8, out_type, x)
    _assert_fibre_equivariant(self, fn, MIXED_C8, out_type, x)
    readout = lambda x: steerable.invariant_readout(x, field_type=MIXED_C8)
    for g in _quarter_turns(C8):
      testing.assert_equivariant(readout, MIXED_C8.transform(g), x,
                                 output_transform=groups.Identity())
    np.testing.assert_allclose(
        steerable.norm_pool(x, field_type=MIXED_C8)[..., 1],
        np.linalg.norm(x[..., 8:10], axis=-1), rtol=1e-5)


class RestrictionTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('d16_c16', groups.Dihedral(16), groups.Cyclic(16)),
      ('c16_c4', groups.Cyclic(16), groups.Cyclic(4)),
      ('d8_d4', groups.Dihedral(8), groups.Dihedral(4)),
      ('o2_so2', O2, groups.SO2(3)),
      ('o2_d4', O2, D4),
      ('so2_c4', SO2, C4))
  def test_restricted_type_acts_as_the_embedded_element(self, group,
                                                        subgroup):
    if group.is_finite:
      reps = [group.regular_representation, group.trivial_representation,
              group.irrep(*((1, 1) if isinstance(group, groups.Dihedral)
                            else (1,)))]
    else:
      reps = list(IRREPS_O2.representations if group == O2 else
                  IRREPS_SO2.representations)
    field_type = groups.FieldType(group, reps)
    restricted = steerable.restrict_field_type(field_type, subgroup)
    self.assertEqual(restricted.size, field_type.size)
    self.assertEqual(restricted.group, subgroup)
    iota = steerable.subgroup_embedding(group, subgroup)
    x = _map(field_type, size=5)
    elements = (list(subgroup.elements()) if subgroup.is_finite else
                [0.4, math.pi / 2, 2.0])
    for h in elements:
      np.testing.assert_allclose(restricted.transform(h)(x),
                                 field_type.transform(iota(h))(x), atol=1e-6,
                                 err_msg=f'h={h}')
    np.testing.assert_array_equal(
        steerable.restrict(x, field_type=field_type, subgroup=subgroup), x)

  def test_restricted_regular_fields_stay_pointwise(self):
    d16 = groups.Dihedral(16)
    restricted = steerable.restrict_field_type(
        groups.FieldType(d16, [d16.regular_representation]),
        groups.Cyclic(16))
    self.assertTrue(steerable.is_permutation_representation(
        restricted.representations[0]))

  def test_conv_after_restriction_is_c16_but_not_d16_equivariant(self):
    d16, c16 = groups.Dihedral(16), groups.Cyclic(16)
    field_type = groups.FieldType(d16, [d16.regular_representation])
    restricted = steerable.restrict_field_type(field_type, c16)
    out_type = groups.FieldType(c16, [c16.regular_representation])
    basis = steerable.layer_basis(restricted, out_type, 3)
    weights = np.random.default_rng(0).standard_normal(basis.size).astype(
        np.float32) * basis.he_std().astype(np.float32)
    fn = lambda x: steerable.steerable_conv2d(
        x, weights, in_type=restricted, out_type=out_type, kernel_size=3)
    x = _map(field_type, size=7)
    testing.assert_equivariant(fn, restricted.transform(4), x,
                               output_transform=out_type.transform(4))
    # The mirror of D16 (element 16) has no image in C16: as a control,
    # the D16 action on the input is not matched by any C16 output action.
    errors = [np.mean(groups.equivariance_error(
        fn, x, field_type.transform(16), out_type.transform(h)))
              for h in (0, 8)]
    self.assertGreater(min(errors), 0.1)


class UpsampleTest(parameterized.TestCase):

  @parameterized.named_parameters(('nearest_odd', 'nearest', 5),
                                  ('bilinear_even', 'bilinear', 6))
  def test_upsample_is_exact_on_any_field(self, method, size):
    fn = lambda x: steerable.upsample(x, field_type=MIXED_C8, method=method)
    x = _map(MIXED_C8, size)
    self.assertEqual(fn(x).shape, (2, 2 * size, 2 * size, MIXED_C8.size))
    _assert_grid_equivariant(fn, MIXED_C8, MIXED_C8, x)
    _assert_grid_equivariant(
        lambda x: steerable.upsample(x, field_type=IRREPS_O2, method=method,
                                     factor=3), IRREPS_O2, IRREPS_O2,
        _map(IRREPS_O2, size))

  def test_nearest_repeats_pixels(self):
    field_type = groups.FieldType(C4, [C4.trivial_representation])
    x = np.arange(4, dtype=np.float32).reshape(1, 2, 2, 1)
    y = steerable.upsample(x, field_type=field_type, method='nearest')
    np.testing.assert_array_equal(y[0, :, :, 0], [[0, 0, 1, 1], [0, 0, 1, 1],
                                                  [2, 2, 3, 3], [2, 2, 3, 3]])


if __name__ == '__main__':
  absltest.main()
