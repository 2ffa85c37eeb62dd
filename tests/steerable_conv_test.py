"""Steerable kernel bases and convolutions (layers/steerable).

The analytic constraint at every angle, the sampled basis under quarter
turns and mirrors, the dimensions e2cnn 0.2.3 gives (pinned; the live
comparison is tests/steerable_e2cnn_test.py), equality with today's group
convolutions for C4 / D4 regular fields, export, initialisation, bias, and
the off-grid error next to the bilinear C8 group conv. The equivariance
registry cases are in tests/cases/steerable.py.
"""

import functools
import math

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
import numpy as np

import groups
from groups import synthetic
from layers import group_conv
from layers import steerable
from layers.steerable import basis as basis_lib


def _irrep_args(irrep_id):
  return irrep_id if isinstance(irrep_id, tuple) else (irrep_id,)


def _kernel_rotation(kernel, group, g):
  """``k(g^-1 x)`` of a ``[..., k, k, C_in, C_out]`` kernel (exact g only)."""
  n, k, _, c_in, c_out = kernel.shape
  moved = group.grid_action(g)(kernel.reshape(n, k, k, c_in * c_out))
  return np.asarray(moved).reshape(kernel.shape)


class AnalyticSolutionTest(parameterized.TestCase):
  """``K(g phi) = psi_out(g) K(phi) psi_in(g)^T`` for the angular solutions."""

  @parameterized.named_parameters(
      ('C8', groups.Cyclic(8)), ('C5', groups.Cyclic(5)),
      ('D8', groups.Dihedral(8)), ('D3', groups.Dihedral(3)),
      ('SO2', groups.SO2(3)), ('O2', groups.O2(3)))
  def test_constraint_at_every_group_element_and_angle(self, group):
    rng = np.random.default_rng(0)
    phis = rng.uniform(0, 2 * math.pi, 7)
    if group.is_finite:
      elements = list(group.elements())
    elif isinstance(group, groups.SO2):
      elements = list(rng.uniform(0, 2 * math.pi, 4))
    else:
      elements = [(m, a) for m in (0, 1)
                  for a in rng.uniform(0, 2 * math.pi, 2)]
    count = 0
    for irrep_in in group.irrep_ids():
      for irrep_out in group.irrep_ids():
        for frequency in range(6):
          solutions = basis_lib.angular_solutions(group, irrep_in, irrep_out,
                                                  frequency)
          for solution in solutions:  # [A, d_out, d_in]
            count += 1

            def kernel(phi, solution=solution, frequency=frequency):
              harmonics = ([1.0] if frequency == 0 else
                           [math.cos(frequency * phi),
                            math.sin(frequency * phi)])
              return np.einsum('a,aoi->oi', harmonics, solution)

            for g in elements:
              mirror, angle = group.pose(g)
              psi_in = group.irrep_matrix(irrep_in, g)
              psi_out = group.irrep_matrix(irrep_out, g)
              for phi in phis:
                moved = angle + (math.pi - phi if mirror else phi)
                np.testing.assert_allclose(
                    kernel(moved), psi_out @ kernel(phi) @ psi_in.T,
                    atol=1e-9)
    self.assertGreater(count, 0)

  def test_aliasing_frequencies_of_c_n(self):
    # Trivial -> trivial of C_N: frequencies 0, N, 2N (cos and sin each).
    group = groups.Cyclic(4)
    counts = [len(basis_lib.angular_solutions(group, 0, 0, f))
              for f in range(9)]
    self.assertEqual(counts, [1, 0, 0, 0, 2, 0, 0, 0, 2])
    # SO(2) trivial -> irrep 2: only frequency 2.
    counts = [len(basis_lib.angular_solutions(groups.SO2(2), 0, 2, f))
              for f in range(5)]
    self.assertEqual(counts, [0, 0, 2, 0, 0])


def _types(group, reps_in, reps_out):
  return (groups.FieldType(group, reps_in), groups.FieldType(group, reps_out))


class KernelBasisTest(parameterized.TestCase):

  # Dimensions of e2cnn 0.2.3's R2Conv with default options, measured by
  # python -m benchmarks.steerable_basis (benchmarks/results/).
  @parameterized.named_parameters(
      ('C4_regular_3x3', groups.Cyclic(4), ['regular'] * 2, ['regular'] * 2,
       3, 96),
      ('C4_trivial_regular_5x5', groups.Cyclic(4), ['trivial'],
       ['regular'] * 2, 5, 22),
      ('C8_regular_5x5', groups.Cyclic(8), ['regular'], ['regular'], 5, 88),
      ('C16_regular_5x5', groups.Cyclic(16), ['regular'],
       ['regular', 'trivial'], 5, 187),
      ('D4_regular_3x3', groups.Dihedral(4), ['regular'], ['regular'], 3, 48),
      ('D5_regular_5x5', groups.Dihedral(5), ['regular'], ['regular'], 5,
       110),
      ('SO2_irreps_5x5', groups.SO2(4), ['trivial', 1], [1, 2, 3], 5, 26),
      ('SO2_irreps_7x7', groups.SO2(3), [2], ['trivial', 1], 7, 14),
  )
  def test_dimension_matches_e2cnn(self, group, fields_in, fields_out, k,
                                   e2cnn_dim):
    def rep(field):
      if field == 'regular':
        return group.regular_representation
      if field == 'trivial':
        return group.trivial_representation
      return group.irrep(field)
    in_type, out_type = _types(group, [rep(f) for f in fields_in],
                               [rep(f) for f in fields_out])
    dense = steerable.kernel_basis(in_type, out_type, k)
    self.assertEqual(dense.shape, (e2cnn_dim, k, k, in_type.size,
                                   out_type.size))
    flat = dense.reshape(len(dense), -1).astype(np.float64)
    gram = np.linalg.eigvalsh(flat @ flat.T)  # rank of the basis
    self.assertEqual(int(np.sum(gram > 1e-8 * gram.max())), e2cnn_dim)

  @parameterized.named_parameters(
      ('C8', groups.Cyclic(8)), ('C16', groups.Cyclic(16)),
      ('D8', groups.Dihedral(8)), ('SO2', groups.SO2(3)), ('O2', groups.O2(3)))
  def test_sampled_basis_commutes_with_exact_elements(self, group):
    if group.is_finite:
      reps = [group.regular_representation, group.trivial_representation]
      exact = [g for g in group.elements() if group.grid_action(g).exact]
    else:
      reps = [group.irrep(*_irrep_args(i)) for i in group.irrep_ids()]
      exact = ([q * math.pi / 2 for q in range(4)]
               if isinstance(group, groups.SO2) else
               [(m, q * math.pi / 2) for m in (0, 1) for q in range(4)])
    in_type, out_type = _types(group, reps, reps[::-1])
    basis = steerable.kernel_basis(in_type, out_type, 5)
    for g in exact:
      moved = _kernel_rotation(basis, group, g)  # k(g^-1 x)
      rho_in, rho_out = in_type.matrix(g), out_type.matrix(g)
      # k(g^-1 x) = rho_out(g)^-1 k(x) rho_in(g) in [C_in, C_out] layout.
      expected = np.einsum('nhwio,ij,ol->nhwjl', basis, rho_in, rho_out,
                           optimize=True)
      np.testing.assert_allclose(moved, expected, atol=1e-6)

  @parameterized.named_parameters(
      ('D4_mixed', groups.Dihedral(4), lambda g: (
          [g.irrep(1, 1), g.regular_representation, g.irrep(1, 1)],
          [g.trivial_representation, g.regular_representation])),
      # Regular fields hold irreps several times (copies A, B of the
      # factored expansion) and a non-identity change of basis.
      ('C6_regular', groups.Cyclic(6), lambda g: (
          2 * [g.regular_representation],
          [g.regular_representation, g.trivial_representation,
           g.regular_representation])),
      ('D6_quotient', groups.Dihedral(6), lambda g: (
          [g.quotient_representation(groups.Cyclic(3)),
           g.regular_representation],
          [g.quotient_representation(groups.Cyclic(2))])),
      # One irrep per field: the factored expansion's gather is skipped.
      ('SO2_irreps', groups.SO2(3), lambda g: (
          [g.trivial_representation, g.irrep(1), g.irrep(3)],
          [g.irrep(2), g.irrep(1), g.trivial_representation])),
      ('O2_band_limited', groups.O2(2), lambda g: (
          [steerable.band_limited_representation(g, 2)],
          [steerable.band_limited_representation(g, 2),
           g.irrep(1, 0)])))
  def test_dense_basis_and_expand_agree(self, group, fields):
    """The factored expansion (irrep space, then the change of basis)
    equals the dense basis contracted with the weights."""
    in_type, out_type = _types(group, *fields(group))
    basis = steerable.layer_basis(in_type, out_type, 5)
    weights = np.random.default_rng(0).standard_normal(basis.size)
    dense = steerable.kernel_basis(in_type, out_type, 5)
    np.testing.assert_allclose(basis.expand(weights.astype(np.float32)),
                               np.einsum('n,nhwio->hwio', weights, dense),
                               atol=1e-5)
    np.testing.assert_allclose(
        np.asarray(basis.expand(jnp.asarray(weights, jnp.float32), xp=jnp)),
        basis.expand(weights.astype(np.float32)), atol=1e-5)

  def test_bases_are_cached(self):
    group = groups.Cyclic(8)
    in_type = groups.FieldType(group, 4 * [group.regular_representation])
    first = steerable.layer_basis(in_type, in_type, 5)
    self.assertIs(first, steerable.layer_basis(
        groups.FieldType(group, 4 * [group.regular_representation]),
        in_type, 5))
    # One pair basis serves every pair of fields: 16 blocks' worth of
    # weights, one stored basis.
    self.assertLen(first.blocks, 1)
    self.assertEqual(first.size, 16 * 88)

  def test_blocks_count_their_pair_basis_without_building_it(self):
    # The expansion works in irrep space: building a layer's basis must not
    # build the dense pair bases (9 M entries per D16 regular pair), and
    # each block's count is the pair basis's length.
    options = basis_lib.basis_options(5)
    d4, so2 = groups.Dihedral(4), groups.SO2(3)
    for field_type in (
        groups.FieldType(d4, [d4.regular_representation, d4.irrep(1, 1),
                              d4.trivial_representation]),
        groups.FieldType(so2, [so2.trivial_representation, so2.irrep(1),
                               so2.irrep(2)])):
      basis_lib.representation_basis.cache_clear()
      layer = basis_lib.KernelBasis(field_type, field_type, options)
      self.assertEqual(
          basis_lib.representation_basis.cache_info().currsize, 0)
      for block in layer.blocks:
        dense = block.basis
        self.assertEqual(dense.shape, (block.count, 5, 5, block.rep_in.size,
                                       block.rep_out.size))
        np.testing.assert_array_equal(dense, basis_lib.representation_basis(
            block.rep_in, block.rep_out, options).astype(np.float32))

  def test_options(self):
    options = steerable.basis_options(5)
    self.assertEqual(options.rings, (0.0, 1.0, 2.0))
    self.assertEqual(options.widths, (0.005, 0.6, 0.4))
    self.assertEqual(options.max_frequencies, (0, 2, 2))
    self.assertEqual(steerable.basis_options(7).max_frequencies, (0, 2, 3, 2))
    custom = steerable.basis_options(5, rings=[0.0, 1.5], widths=0.5,
                                     frequency_cutoff=2.0)
    self.assertEqual(custom.widths, (0.5, 0.5))
    self.assertEqual(custom.max_frequencies, (0, 3))
    # Dilation does not change the basis (rings are in taps).
    group = groups.Cyclic(8)
    in_type = groups.FieldType(group, [group.regular_representation])
    np.testing.assert_array_equal(
        steerable.kernel_basis(in_type, in_type, 5, dilation=2),
        steerable.kernel_basis(in_type, in_type, 5))


def _random_conv(rng, in_type, out_type, k):
  basis = steerable.layer_basis(in_type, out_type, k)
  return (rng.standard_normal(basis.size) * basis.he_std()).astype(np.float32)


class GroupConvEqualityTest(parameterized.TestCase):
  """C4 / D4 regular fields: the same function as group_conv.group_conv2d."""

  @parameterized.parameters(
      (groups.Cyclic(4), 1, 'zeros', 3), (groups.Cyclic(4), 2, 'circular', 5),
      (groups.Dihedral(4), 1, 'circular', 5),
      (groups.Dihedral(4), 2, 'zeros', 3), (groups.Dihedral(4), 1, 'reflect', 3))
  def test_regular_to_regular_is_a_group_conv(self, group, stride, padding, k):
    rng = np.random.default_rng(0)
    order, c_in, c_out = group.order, 2, 3
    in_type = groups.FieldType(group, c_in * [group.regular_representation])
    out_type = groups.FieldType(group, c_out * [group.regular_representation])
    weights = _random_conv(rng, in_type, out_type, k)
    kernel = np.asarray(steerable.steerable_kernel(
        weights, in_type=in_type, out_type=out_type, kernel_size=k))
    # The group conv's filter is the steerable kernel's column for the
    # identity output element: psi[.., h, c, c'] = K[.., c G + h, c' G + 0].
    psi = kernel.reshape(k, k, c_in, order, c_out, order)[..., 0]
    psi = psi.transpose(0, 1, 3, 2, 4)  # [k, k, G, C, C']
    y = rng.standard_normal((2, 9, 9, order, c_in)).astype(np.float32)
    conv = dict(stride=stride, padding=padding)
    expected = group_conv.group_conv2d(y, psi, group=group, **conv)
    actual = steerable.steerable_conv2d(
        groups.group_map_to_fields(y), weights, in_type=in_type,
        out_type=out_type, kernel_size=k, **conv)
    np.testing.assert_allclose(groups.fields_to_group_map(actual, group),
                               expected, atol=1e-5)

  @parameterized.named_parameters(('C4', groups.Cyclic(4)),
                                  ('D4', groups.Dihedral(4)))
  def test_trivial_to_regular_is_a_lifting_conv(self, group):
    rng = np.random.default_rng(1)
    order = group.order
    in_type = groups.FieldType(group, 3 * [group.trivial_representation])
    out_type = groups.FieldType(group, 2 * [group.regular_representation])
    weights = _random_conv(rng, in_type, out_type, 5)
    kernel = np.asarray(steerable.steerable_kernel(
        weights, in_type=in_type, out_type=out_type, kernel_size=5))
    psi = kernel.reshape(5, 5, 3, 2, order)[..., 0]  # [k, k, C, C']
    x = rng.standard_normal((2, 9, 9, 3)).astype(np.float32)
    expected = group_conv.lifting_conv2d(x, psi, group=group, padding='zeros')
    actual = steerable.steerable_conv2d(x, weights, in_type=in_type,
                                        out_type=out_type, kernel_size=5)
    np.testing.assert_allclose(groups.fields_to_group_map(actual, group),
                               expected, atol=1e-5)


class ModuleTest(parameterized.TestCase):

  def _module(self, **kwargs):
    group = groups.Cyclic(8)
    in_type = groups.FieldType(group, [group.trivial_representation,
                                       group.regular_representation])
    out_type = groups.FieldType(group, [group.regular_representation,
                                        group.trivial_representation,
                                        group.irrep(1),
                                        group.trivial_representation])
    return steerable.SteerableConv(in_type, out_type, kernel_size=5,
                                   **kwargs), in_type

  @parameterized.parameters(
      dict(stride=1, padding='zeros', dilation=1),
      dict(stride=2, padding='reflect', dilation=1),
      dict(stride=1, padding='circular', dilation=2),
      dict(stride=2, padding='valid', dilation=1),
      dict(stride=1, padding='replicate', dilation=1))
  def test_export_equals_training_call(self, **conv):
    module, in_type = self._module(**conv)
    x = np.random.default_rng(0).standard_normal(
        (2, 11, 11, in_type.size)).astype(np.float32)
    variables = module.init(jax.random.PRNGKey(0), x)
    params = dict(variables['params'])
    params['bias'] = jnp.array([0.5, -1.0])
    training = jax.jit(lambda p, x: module.apply({'params': p}, x))(params, x)
    exported = module.export(params)
    self.assertEqual(exported['kernel'].shape, (5, 5, 9, 12))
    inference = jax.jit(module.exported_call)(exported, x)
    np.testing.assert_allclose(inference, training, atol=1e-5, rtol=1e-5)
    print(f'export {conv}: max |diff| '
          f'{float(np.abs(inference - training).max()):.2e}')

  def test_bias_only_on_trivial_fields(self):
    module, in_type = self._module()
    x = np.zeros((1, 7, 7, in_type.size), np.float32)
    variables = module.init(jax.random.PRNGKey(0), x)
    self.assertEqual(variables['params']['bias'].shape, (2,))
    params = dict(variables['params'], bias=jnp.array([1.0, 2.0]))
    y = np.asarray(module.apply({'params': params}, x))
    expected = np.zeros(12, np.float32)
    expected[8], expected[11] = 1.0, 2.0  # the two trivial output fields
    np.testing.assert_array_equal(y[0, 3, 3], expected)
    no_bias, _ = self._module(use_bias=False)
    self.assertNotIn('bias', no_bias.init(jax.random.PRNGKey(0), x)['params'])

  def test_gradients_reach_the_weights_and_the_bias(self):
    module, in_type = self._module()
    x = np.random.default_rng(0).standard_normal(
        (2, 9, 9, in_type.size)).astype(np.float32)
    params = module.init(jax.random.PRNGKey(0), x)['params']
    grads = jax.jit(jax.grad(lambda p: jnp.sum(
        module.apply({'params': p}, x) ** 2)))(params)
    self.assertEqual(grads['weights'].shape, params['weights'].shape)
    self.assertTrue(np.all(np.isfinite(grads['weights'])))
    self.assertGreater(float(jnp.abs(grads['weights']).max()), 0)
    self.assertGreater(float(jnp.abs(grads['bias']).max()), 0)

  def test_he_initialisation_keeps_second_moment_two(self):
    group = groups.Cyclic(8)
    field_type = groups.FieldType(group, 8 * [group.regular_representation])
    module = steerable.SteerableConv(field_type, field_type, kernel_size=5,
                                     use_bias=False)
    x = np.random.default_rng(0).standard_normal(
        (4, 16, 16, field_type.size)).astype(np.float32)
    moments = []
    for seed in range(4):
      y = module.apply(module.init(jax.random.PRNGKey(seed), x), x)
      moments.append(float(jnp.mean(y[:, 2:-2, 2:-2] ** 2)))
    print(f'He init: mean output second moment {np.mean(moments):.3f} '
          '(target 2)')
    self.assertAlmostEqual(np.mean(moments), 2.0, delta=0.4)


class OffGridComparisonTest(absltest.TestCase):
  """C8 at 45 degrees: the steerable conv vs today's bilinear group conv."""

  def test_steerable_c8_is_clearly_better_than_bilinear_c8(self):
    group = groups.Cyclic(8)
    mask = groups.inscribed_disk(19, 19)
    errors = {'bilinear': [], 'steerable': []}
    regular = group.regular_representation
    for seed in range(4):
      rng = np.random.default_rng(seed)
      x = synthetic.smooth_images(rng, (2, 19, 19, 3), cutoff=0.1)
      # Today: lifting -> ReLU -> group conv, bilinearly rotated 5x5 filters.
      disk = groups.inscribed_disk(5, 5)[:, :, None, None]
      k1 = rng.standard_normal((5, 5, 3, 4)).astype(np.float32) * disk
      k2 = rng.standard_normal((5, 5, 8, 4, 3)).astype(np.float32) * disk[
          ..., None]

      def bilinear(x, k1=k1, k2=k2):
        y = jax.nn.relu(group_conv.lifting_conv2d(x, k1, group=group,
                                                  padding='zeros'))
        return group_conv.group_conv2d(y, k2, group=group, padding='zeros')

      # Steerable: the same shape of network on regular fields.
      t_in = groups.FieldType(group, 3 * [group.trivial_representation])
      t_hid = groups.FieldType(group, 4 * [regular])
      t_out = groups.FieldType(group, 3 * [regular])
      w1, w2 = _random_conv(rng, t_in, t_hid, 5), _random_conv(rng, t_hid,
                                                                  t_out, 5)
      conv = functools.partial(steerable.steerable_conv2d, kernel_size=5)

      def steer(x, w1=w1, w2=w2):
        y = jax.nn.relu(conv(x, w1, in_type=t_in, out_type=t_hid))
        return conv(y, w2, in_type=t_hid, out_type=t_out)

      bilinear, steer = jax.jit(bilinear), jax.jit(steer)
      for g in (1, 5):  # 45 and 225 degrees (the others differ by Rot90)
        errors['bilinear'].append(np.max(groups.equivariance_error(
            bilinear, x, group.grid_action(g), group.regular_action(g),
            mask=mask)))
        errors['steerable'].append(np.max(groups.equivariance_error(
            steer, x, t_in.transform(g), t_out.transform(g), mask=mask)))
    medians = {name: float(np.median(e)) for name, e in errors.items()}
    print(f'C8 at 45 degrees, median relative error: {medians}')
    self.assertLess(medians['steerable'], medians['bilinear'] / 3)
    self.assertLess(medians['steerable'], 0.1)


if __name__ == '__main__':
  absltest.main()
