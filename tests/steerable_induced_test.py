"""Induced representations and their layers (layers/steerable/induction.py,
induced.py).

Equivariance itself is the registry's (tests/cases/steerable_induced.py);
here: the representation against its definition (blocks ``rho(h)`` where
``g r_j = r_i h``), Frobenius' character formula and reciprocity, the
quotient and regular representations as special cases, equality; the
layers against loops written from escnn's definitions; the typed modules'
parameters, running statistics and a checked chain.
"""

import math

import jax
import numpy as np
from absl.testing import absltest
from absl.testing import parameterized

import groups
from layers import steerable

C1, C2, C4, C8 = (groups.Cyclic(n) for n in (1, 2, 4, 8))
D1, D2, D4, D8 = (groups.Dihedral(n) for n in (1, 2, 4, 8))
SO2, O2 = groups.SO2(3), groups.O2(3)
KEY = jax.random.key(0, impl='rbg')

# (G, H): every kind of pair, small.
_FINITE_PAIRS = (('c8_c2', C8, C2), ('c8_c4', C8, C4), ('c4_c1', C4, C1),
                 ('d4_d1', D4, D1), ('d8_d4', D8, D4), ('d4_c2', D4, C2),
                 ('d4_d2', D4, D2), ('c4_c4', C4, C4))
_O2_ANGLES = (0.0, 0.3, math.pi / 2, 2.0, -1.1)


def _irreps(group):
  return [group.irrep(*i) if isinstance(i, tuple) else group.irrep(i)
          for i in group.irrep_ids()]


def _o2_elements():
  return [(m, a) for m in (0, 1) for a in _O2_ANGLES]


def _reference_matrix(group, subgroup, rho, representatives, g):
  """``Ind(g)`` from the definition, finding each ``h = r_i^-1 g r_j`` in
  ``H`` by search (independent of the module's coset table)."""
  iota = steerable.subgroup_embedding(group, subgroup)
  d, n = rho.size, len(representatives)
  out = np.zeros((n * d, n * d))
  for j, r_j in enumerate(representatives):
    found = 0
    for i, r_i in enumerate(representatives):
      h_in_g = group.compose(group.inverse(r_i), group.compose(g, r_j))
      if group.is_finite:
        hs = [h for h in subgroup.elements() if iota(h) == h_in_g]
      else:  # O(2) > SO(2): h is a rotation
        hs = [h_in_g[1]] if h_in_g[0] == 0 else []
      for h in hs:
        out[i * d:(i + 1) * d, j * d:(j + 1) * d] = rho(h)
        found += 1
    assert found == 1, (g, j)
  return out


class InducedRepresentationTest(parameterized.TestCase):

  @parameterized.named_parameters(*_FINITE_PAIRS)
  def test_finite_matrices_are_the_definition(self, group, subgroup):
    for rho in _irreps(subgroup):
      ind = steerable.induced_representation(group, subgroup, rho)
      self.assertEqual(ind.size, group.order // subgroup.order * rho.size)
      self.assertEqual(ind.num_cosets, group.order // subgroup.order)
      self.assertEqual(ind.block_size, rho.size)
      for g in group.elements():
        expected = _reference_matrix(group, subgroup, rho,
                                     ind.representatives, g)
        np.testing.assert_allclose(ind(g), expected, atol=1e-12)
        np.testing.assert_allclose(ind.block_matrix(g), expected,
                                   atol=1e-12)

  def test_o2_matrices_are_the_definition(self):
    for rho in _irreps(SO2):
      ind = steerable.induced_representation(O2, SO2, rho)
      self.assertEqual(ind.representatives, ((0, 0.0), (1, 0.0)))
      self.assertEqual((ind.num_cosets, ind.block_size), (2, rho.size))
      for g in _o2_elements():
        np.testing.assert_allclose(
            ind(g), _reference_matrix(O2, SO2, rho, ind.representatives, g),
            atol=1e-12)
      a, b = (1, 0.4), (0, 2.5)   # a homomorphism, also off the samples
      np.testing.assert_allclose(ind(O2.compose(a, b)), ind(a) @ ind(b),
                                 atol=1e-12)

  def test_representatives_are_the_smallest_of_their_cosets(self):
    ind = steerable.induced_representation(D4, D1, D1.irrep(1, 0))
    self.assertEqual(ind.representatives, (0, 1, 2, 3))
    self.assertEqual(ind.coset_of(6), (2, 1))   # r^2 f = r^2 . f
    self.assertEqual(steerable.induced_representation(
        C8, C2, C2.trivial_representation).representatives, (0, 1, 2, 3))

  @parameterized.named_parameters(*_FINITE_PAIRS)
  def test_frobenius_character_formula(self, group, subgroup):
    # chi_Ind(g) = 1/|H| sum over x in G with x^-1 g x in H of
    # chi_rho(x^-1 g x): no representatives involved.
    iota = steerable.subgroup_embedding(group, subgroup)
    inverse_iota = {iota(h): h for h in subgroup.elements()}
    for rho in _irreps(subgroup):
      ind = steerable.induced_representation(group, subgroup, rho)
      for g in group.elements():
        total = 0.0
        for x in group.elements():
          conjugate = group.compose(group.inverse(x), group.compose(g, x))
          if conjugate in inverse_iota:
            total += rho.character(inverse_iota[conjugate])
        self.assertAlmostEqual(ind.character(g), total / subgroup.order,
                               places=9)

  @parameterized.named_parameters(*_FINITE_PAIRS)
  def test_frobenius_reciprocity(self, group, subgroup):
    # <chi_Ind rho, chi_psi>_G = <chi_rho, chi_psi|H>_H for every irrep psi:
    # the decomposition's multiplicities (times dim End psi).
    iota = steerable.subgroup_embedding(group, subgroup)
    for rho in _irreps(subgroup):
      ind = steerable.induced_representation(group, subgroup, rho)
      counts = ind.multiplicities()
      for psi in _irreps(group):
        on_g = np.mean([ind.character(g) * psi.character(g)
                        for g in group.elements()])
        on_h = np.mean([rho.character(h) * psi.character(iota(h))
                        for h in subgroup.elements()])
        self.assertAlmostEqual(on_g, on_h, places=9)
        end = np.mean([psi.character(g)**2 for g in group.elements()])
        self.assertAlmostEqual(counts.get(psi.irreps[0], 0) * end, on_g,
                               places=9)

  def test_o2_character_and_irreps(self):
    for k in range(4):
      ind = steerable.induced_representation(O2, SO2, SO2.irrep(k))
      expected = ((0, 0), (1, 0)) if k == 0 else ((1, k), (1, k))
      self.assertEqual(ind.irreps, expected)
      for angle in _O2_ANGLES:   # 2 chi_rho on rotations, 0 on mirrors
        self.assertAlmostEqual(ind.character((0, angle)),
                               2 * SO2.irrep(k).character(angle), places=9)
        self.assertAlmostEqual(ind.character((1, angle)), 0.0, places=9)

  @parameterized.named_parameters(*_FINITE_PAIRS)
  def test_trivial_rep_induces_the_quotient(self, group, subgroup):
    ind = steerable.induced_representation(group, subgroup,
                                           subgroup.trivial_representation)
    quotient = group.quotient_representation(subgroup)
    self.assertEqual(ind.multiplicities(), quotient.multiplicities())
    self.assertEqual(ind, quotient)   # the same matrices: same coset order
    self.assertEqual(hash(ind), hash(quotient))
    for g in group.elements():
      np.testing.assert_allclose(ind(g), quotient(g), atol=1e-12)

  def test_trivial_subgroup_induces_the_regular_representation(self):
    for group in (C8, D4):
      ind = steerable.induced_representation(group, C1,
                                             C1.trivial_representation)
      self.assertEqual(ind, group.regular_representation)
      self.assertEqual(ind.num_cosets, group.order)

  def test_equality_is_representation_equality(self):
    # Equality is Representation's (irreps and change of basis): Ind_{C1}^{C4}
    # of the trivial rep equals C4's regular representation, so its field
    # type chains with a regular one, and keeps its blocks (of 1 channel).
    # Ind_{C4}^{C4} of the regular rep has the same matrices in blocks of 4.
    small = steerable.induced_representation(C4, C1,
                                             C1.trivial_representation)
    whole = steerable.induced_representation(C4, C4,
                                             C4.regular_representation)
    self.assertEqual(small, C4.regular_representation)
    self.assertEqual(groups.FieldType(C4, [small]),
                     groups.FieldType(C4, [C4.regular_representation]))
    self.assertEqual((small.block_size, whole.block_size), (1, 4))
    for g in C4.elements():
      np.testing.assert_allclose(small(g), whole(g), atol=1e-12)
    self.assertFalse(steerable.is_induced(small.change_basis(np.eye(4))))
    self.assertFalse(steerable.is_induced(C4.regular_representation))

  def test_cached_and_named(self):
    ind = steerable.induced_representation(C8, C2, C2.irrep(1))
    self.assertIs(steerable.induced_representation('C8', 'C2', C2.irrep(1)),
                  ind)
    self.assertEqual(repr(ind), 'C8.induced[C2][irrep(1)]')
    self.assertEqual(ind.subgroup, C2)  # an equal group cached earlier may be another object
    self.assertEqual(ind.inducing, C2.irrep(1))


def _field(group, subgroup, rho):
  return steerable.induced_representation(group, subgroup, rho)


# Mixed block sizes (1 and 2) in one type: the non-uniform code paths.
MIXED = groups.FieldType(C8, [_field(C8, C2, C2.irrep(1)),
                              _field(C8, C4, C4.irrep(1)),
                              _field(C8, C2, C2.irrep(1))])   # 4 + 4 + 4
UNIFORM = groups.FieldType(O2, 2 * [_field(O2, SO2, SO2.irrep(2))])


def _blocks(field_type):
  """``[(field, channels)]`` of every block, from the representations."""
  out, offset = [], 0
  for f, rep in enumerate(field_type.representations):
    for _ in range(rep.num_cosets):
      out.append((f, np.arange(offset, offset + rep.block_size)))
      offset += rep.block_size
  return out


def _map(field_type, batch=2, size=3, seed=0):
  return np.random.default_rng(seed).standard_normal(
      (batch, size, size, field_type.size)).astype(np.float32)


class InducedLayersTest(parameterized.TestCase):

  @parameterized.named_parameters(('mixed', MIXED), ('uniform', UNIFORM))
  def test_norm_nonlinearity_is_a_norm_nonlinearity_per_block(self, ftype):
    x = _map(ftype)
    bias = np.linspace(0.3, 1.2, len(ftype)).astype(np.float32)
    relu = steerable.induced_norm_nonlinearity(x, bias, field_type=ftype)
    squash = steerable.induced_norm_nonlinearity(x, field_type=ftype,
                                                 activation='squash')
    expected_relu, expected_squash = np.zeros_like(x), np.zeros_like(x)
    for f, channels in _blocks(ftype):
      block = x[..., channels]
      n = np.linalg.norm(block, axis=-1, keepdims=True)
      expected_relu[..., channels] = block * np.maximum(n - bias[f], 0) / n
      expected_squash[..., channels] = block / (1 + n)
    np.testing.assert_allclose(relu, expected_relu, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(squash, expected_squash, rtol=1e-5, atol=1e-6)

  def test_gated_nonlinearity_gates_each_block(self):
    in_type = steerable.induced_gated_input_type(MIXED)
    gates_type = steerable.induced_gate_type(MIXED)
    self.assertEqual(gates_type.representations[0],
                     C8.quotient_representation(C2))
    self.assertEqual(steerable.induced_gated_type_of(in_type), MIXED)
    x = _map(in_type)
    bias = np.array([0.5, -0.2, 0.1], np.float32)
    out = steerable.induced_gated_nonlinearity(x, bias, gated_type=MIXED)
    n_gates = gates_type.size   # 4 + 2 + 4 gates, one per block
    self.assertEqual(n_gates, len(_blocks(MIXED)))
    expected = np.zeros((*x.shape[:3], MIXED.size), np.float32)
    for b, (f, channels) in enumerate(_blocks(MIXED)):
      gate = 1 / (1 + np.exp(-(x[..., b:b + 1] - bias[f])))
      expected[..., channels] = x[..., n_gates + channels] * gate
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)

  def test_batch_norm_divides_blocks_by_the_field_variance(self):
    ftype = groups.FieldType(C8, [_field(C8, C4, C4.irrep(1)),
                                  _field(C8, C2, C2.irrep(1))])
    x = _map(ftype, batch=3)
    var = steerable.induced_norm_moments(x, field_type=ftype)
    for f, (lo, hi) in enumerate(((0, 4), (4, 8))):
      # mean squared norm per channel: over B, H, W and the field's blocks
      self.assertAlmostEqual(float(var[f]),
                             float(np.mean(x[..., lo:hi]**2)), places=5)
    scale = np.array([2.0, 0.5], np.float32)
    out = steerable.induced_norm_batch_norm(x, field_type=ftype, var=var,
                                            scale=scale, epsilon=1e-5)
    factor = np.repeat(scale / np.sqrt(np.asarray(var) + 1e-5), 4)
    np.testing.assert_allclose(out, x * factor, rtol=1e-5)

  def test_pools_take_the_largest_block_norm(self):
    x = _map(MIXED, size=4)
    pooled = steerable.induced_norm_pool(x, field_type=MIXED)
    norms = np.stack([np.linalg.norm(x[..., ch], axis=-1)
                      for _, ch in _blocks(MIXED)], axis=-1)
    fields = np.array([f for f, _ in _blocks(MIXED)])
    expected = np.stack([norms[..., fields == f].max(axis=-1)
                         for f in range(len(MIXED))], axis=-1)
    np.testing.assert_allclose(pooled, expected, rtol=1e-5)
    out = steerable.induced_norm_max_pool(x, field_type=MIXED, window=2)
    self.assertEqual(out.shape, (2, 2, 2, MIXED.size))
    for _, channels in _blocks(MIXED):
      for i in range(2):
        for j in range(2):
          window = x[:, 2 * i:2 * i + 2, 2 * j:2 * j + 2][..., channels]
          window = window.reshape(2, 4, len(channels))
          best = np.argmax(np.linalg.norm(window, axis=-1), axis=1)
          np.testing.assert_allclose(out[:, i, j][..., channels],
                                     window[np.arange(2), best], rtol=1e-6)


class InducedModulesTest(absltest.TestCase):

  def test_a_checked_chain_is_exactly_equivariant(self):
    # D4 > D1 (4 blocks of the sign) and D4 > C2 (4 blocks of irrep 1):
    # conv -> gated -> conv -> norm nonlinearity -> batch norm -> max pool
    # -> induced norm pool; quarter turns and mirrors on an even grid.
    scalar = groups.FieldType(D4, [D4.trivial_representation])
    gated = groups.FieldType(D4, [_field(D4, D1, D1.irrep(1, 0)),
                                  _field(D4, C2, C2.irrep(1))])
    chain = steerable.EquivariantSequential((
        steerable.SteerableConv(scalar, steerable.induced_gated_input_type(
            gated), 3),
        steerable.InducedGatedNonlinearity(
            steerable.induced_gated_input_type(gated)),
        steerable.SteerableConv(gated, gated, 3),
        steerable.InducedNormNonlinearity(gated),
        steerable.InducedNormBatchNorm(gated, use_running_average=True),
        steerable.InducedNormMaxPool(gated, window=2),
        steerable.InducedNormPool(gated)))
    self.assertEqual(chain.out_type,
                     groups.FieldType(D4, 2 * [D4.trivial_representation]))
    x = _map(scalar, size=6, seed=1)
    variables = chain.init(KEY, x)
    params = jax.tree.map(np.shape, variables['params'])
    self.assertEqual(params['layers_1']['bias'], (2,))
    self.assertEqual(params['layers_3']['log_bias'], (2,))
    self.assertEqual(params['layers_4']['scale'], (2,))
    self.assertEqual(
        jax.tree.map(np.shape, variables['batch_stats']['layers_4']),
        {'mean': (0,), 'var': (2,)})
    errors = chain.equivariance_errors(variables, x)
    self.assertLen(errors, 7)
    self.assertLess(max(errors.values()), 1e-5)

  def test_batch_norm_module_keeps_running_variances(self):
    ftype = UNIFORM
    x = _map(ftype, batch=3)
    module = steerable.InducedNormBatchNorm(ftype, momentum=0.5)
    variables = module.init(KEY, x, use_running_average=False)
    out, state = module.apply(variables, x, use_running_average=False,
                              mutable=['batch_stats'])
    var = steerable.induced_norm_moments(x, field_type=ftype)
    np.testing.assert_allclose(state['batch_stats']['var'],
                               0.5 + 0.5 * np.asarray(var), rtol=1e-6)
    np.testing.assert_allclose(out, steerable.induced_norm_batch_norm(
        x, field_type=ftype, var=var), rtol=1e-6)
    evaluated = module.apply({**variables, **state}, x,
                             use_running_average=True)
    np.testing.assert_allclose(evaluated, steerable.induced_norm_batch_norm(
        x, field_type=ftype, var=state['batch_stats']['var']), rtol=1e-6)

  def test_norm_nonlinearity_module_starts_at_bias_one(self):
    x = _map(MIXED)
    module = steerable.InducedNormNonlinearity(MIXED)
    variables = module.init(KEY, x)
    np.testing.assert_array_equal(variables['params']['log_bias'],
                                  np.zeros(3))
    np.testing.assert_allclose(module.apply(variables, x),
                               steerable.induced_norm_nonlinearity(
                                   x, np.ones(3), field_type=MIXED))
    plain = steerable.InducedNormNonlinearity(MIXED, 'squash', use_bias=False)
    self.assertEqual(plain.init(KEY, x), {})


if __name__ == '__main__':
  absltest.main()
