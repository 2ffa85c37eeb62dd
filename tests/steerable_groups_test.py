"""Representations and field types (groups/representations.py, fields.py).

Axioms for every family and several N: homomorphism, orthogonality,
characters (Schur orthogonality), the regular representation's
decomposition with multiplicities, quotients, direct sums and changes of
basis; field types acting on ``[B, H, W, C]`` and their relation to group
maps ``[B, H, W, G, C]``; e2cnn's matrices where e2cnn is installed.
"""

import itertools
import math

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

import groups

_FINITE = [groups.Cyclic(n) for n in (1, 2, 3, 4, 5, 8)] + [
    groups.Dihedral(n) for n in (1, 2, 3, 4, 5, 8)]
_CONTINUOUS = [groups.SO2(4), groups.O2(4)]


def _named(group_list):
  return [(str(g), g) for g in group_list]


def _sample_elements(group, count=6, seed=0):
  if group.is_finite:
    return list(group.elements())
  rng = np.random.default_rng(seed)
  angles = rng.uniform(-math.pi, 2 * math.pi, count)
  if isinstance(group, groups.SO2):
    return list(angles)
  return [(int(m), float(a)) for m, a in zip(rng.integers(0, 2, count),
                                             angles)]


def _representations(group):
  reps = [group.irrep(*(i if isinstance(i, tuple) else (i,)))
          for i in group.irrep_ids()]
  reps.append(group.trivial_representation)
  if group.is_finite:
    reps.append(group.regular_representation)
    reps.append(group.quotient_representation(groups.Cyclic(1)))
    if group.n % 2 == 0:
      reps.append(group.quotient_representation(groups.Cyclic(2)))
    if isinstance(group, groups.Dihedral):
      reps.append(group.quotient_representation(groups.Cyclic(group.n)))
  total = groups.direct_sum(*reps[:3])
  rotation = np.linalg.qr(np.random.default_rng(1).standard_normal(
      (total.size, total.size)))[0]
  reps += [total, total.change_basis(rotation)]
  return reps


def _endomorphism_dim(group, irrep_id) -> int:
  """1 for real-type irreps; 2 for the 2-d irreps of C_N / SO(2)."""
  cyclic = isinstance(group, (groups.Cyclic, groups.SO2))
  return 2 if cyclic and group.irrep_size(irrep_id) == 2 else 1


class RepresentationAxiomsTest(parameterized.TestCase):

  @parameterized.named_parameters(_named(_FINITE + _CONTINUOUS))
  def test_homomorphism_and_orthogonality(self, group):
    elements = _sample_elements(group)
    for rep in _representations(group):
      for g, h in itertools.product(elements, elements):
        np.testing.assert_allclose(rep(group.compose(g, h)), rep(g) @ rep(h),
                                   atol=1e-9, err_msg=f'{rep} {g} {h}')
      for g in elements:
        np.testing.assert_allclose(rep(g) @ rep(g).T, np.eye(rep.size),
                                   atol=1e-9)
        np.testing.assert_allclose(rep(group.inverse(g)), rep(g).T,
                                   atol=1e-9)
      np.testing.assert_allclose(rep(group.identity_element),
                                 np.eye(rep.size), atol=1e-12)

  @parameterized.named_parameters(_named(_FINITE))
  def test_irreducible_characters_are_orthogonal(self, group):
    ids = group.irrep_ids()
    chars = np.array([[group.irrep(*(i if isinstance(i, tuple) else (i,)))
                       .character(g) for g in group.elements()] for i in ids])
    gram = chars @ chars.T / group.order
    expected = np.diag([_endomorphism_dim(group, i) for i in ids])
    np.testing.assert_allclose(gram, expected, atol=1e-9)

  @parameterized.named_parameters(_named(_FINITE))
  def test_regular_representation(self, group):
    rep = group.regular_representation
    self.assertEqual(rep.size, group.order)
    for g in group.elements():  # rho(g) e_h = e_{gh}: a permutation
      expected = np.zeros((group.order, group.order))
      for h in group.elements():
        expected[group.compose(g, h), h] = 1
      np.testing.assert_allclose(rep(g), expected, atol=1e-9)
      self.assertAlmostEqual(rep.character(g),
                             group.order if g == 0 else 0, places=9)
    # Each irrep occurs dim / dim End times (1 for the 2-d irreps of C_N,
    # 2 for those of D_N), as the characters say.
    expected = {i: group.irrep_size(i) // _endomorphism_dim(group, i)
                for i in group.irrep_ids()}
    self.assertEqual(rep.multiplicities(), expected)

  def test_known_decompositions(self):
    self.assertEqual(groups.Cyclic(8).regular_representation.multiplicities(),
                     {0: 1, 1: 1, 2: 1, 3: 1, 4: 1})
    self.assertEqual(
        groups.Dihedral(4).regular_representation.multiplicities(),
        {(0, 0): 1, (1, 0): 1, (1, 1): 2, (0, 2): 1, (1, 2): 1})
    d8 = groups.Dihedral(8)
    self.assertEqual(
        d8.quotient_representation(groups.Cyclic(8)).multiplicities(),
        {(0, 0): 1, (1, 0): 1})  # D_N / C_N: trivial + the mirror's sign
    c8 = groups.Cyclic(8)
    self.assertEqual(
        c8.quotient_representation(groups.Cyclic(2)).multiplicities(),
        {0: 1, 2: 1, 4: 1})  # C8 / C2: frequencies that C2 fixes

  @parameterized.named_parameters(_named([g for g in _FINITE
                                          if g.n % 2 == 0]))  # C2 inside
  def test_quotient_characters_count_fixed_cosets(self, group):
    rep = group.quotient_representation(groups.Cyclic(2))
    self.assertEqual(rep.size, group.order // 2)
    for g in group.elements():
      matrix = rep(g)
      self.assertTrue(np.allclose(matrix, np.round(matrix), atol=1e-9))
      self.assertAlmostEqual(rep.character(g), np.trace(np.round(matrix)),
                             places=9)

  def test_representation_from_matrices_and_equality(self):
    group = groups.Dihedral(3)
    regular = group.regular_representation
    rebuilt = group.representation([regular(g) for g in group.elements()])
    for g in group.elements():
      np.testing.assert_allclose(rebuilt(g), regular(g), atol=1e-9)
    self.assertEqual(regular, group.regular_representation)
    self.assertEqual(hash(regular), hash(group.regular_representation))
    self.assertNotEqual(regular, group.irrep(1, 1))

  def test_change_of_basis_conjugates(self):
    group = groups.SO2(2)
    rep = groups.direct_sum(group.irrep(1), group.irrep(2))
    p = np.linalg.qr(np.random.default_rng(0).standard_normal((4, 4)))[0]
    changed = rep.change_basis(p)
    for g in (0.3, 1.7):
      np.testing.assert_allclose(changed(g), p @ rep(g) @ p.T, atol=1e-12)

  def test_continuous_irreps(self):
    so2, o2 = groups.SO2(3), groups.O2(3)
    self.assertEqual(so2.irrep_ids(), (0, 1, 2, 3))
    self.assertEqual(o2.irrep_ids(), ((0, 0), (1, 0), (1, 1), (1, 2), (1, 3)))
    np.testing.assert_allclose(so2.irrep(2)(0.4), [
        [math.cos(0.8), -math.sin(0.8)], [math.sin(0.8), math.cos(0.8)]])
    np.testing.assert_allclose(o2.irrep(1, 0)((1, 0.4)), [[-1.0]])
    np.testing.assert_allclose(o2.irrep(1, 1)((1, 0.0)), np.diag([1., -1.]))


class FieldTypeTest(parameterized.TestCase):

  def _x(self, field_type, size=5, seed=0):
    return np.random.default_rng(seed).standard_normal(
        (2, size, size, field_type.size)).astype(np.float32)

  @parameterized.named_parameters(_named([groups.Cyclic(4),
                                          groups.Dihedral(4)]))
  def test_transform_is_an_exact_homomorphism(self, group):
    field_type = groups.FieldType(group, [
        group.regular_representation, group.trivial_representation,
        group.irrep(*((1, 1) if isinstance(group, groups.Dihedral) else (1,)))
    ])
    x = self._x(field_type)
    for g, h in itertools.product(group.elements(), group.elements()):
      both = field_type.transform(g)(field_type.transform(h)(x))
      np.testing.assert_array_equal(
          both, field_type.transform(group.compose(g, h))(x))
    for g in group.elements():
      transform = field_type.transform(g)
      self.assertTrue(transform.exact)
      np.testing.assert_array_equal(transform.inverse()(transform(x)), x)

  @parameterized.named_parameters(_named([groups.Cyclic(4),
                                          groups.Dihedral(4)]))
  def test_regular_fields_are_reshaped_group_maps(self, group):
    channels = 3
    y = np.random.default_rng(0).standard_normal(
        (2, 5, 5, group.order, channels)).astype(np.float32)
    fields = groups.group_map_to_fields(y)  # [B, H, W, C * G]
    self.assertEqual(fields.shape, (2, 5, 5, channels * group.order))
    np.testing.assert_array_equal(fields[..., 1 * group.order + 2],
                                  y[..., 2, 1])  # channel c * G + h
    np.testing.assert_array_equal(groups.fields_to_group_map(fields, group), y)
    field_type = groups.FieldType(group,
                                  channels * [group.regular_representation])
    for g in group.elements():
      np.testing.assert_array_equal(
          field_type.transform(g)(fields),
          groups.group_map_to_fields(group.regular_action(g)(y)))

  def test_layout_and_helpers(self):
    group = groups.Cyclic(8)
    field_type = groups.FieldType(group, [group.irrep(1),
                                          group.trivial_representation,
                                          group.regular_representation])
    self.assertEqual(field_type.size, 11)
    self.assertEqual(field_type.offsets, (0, 2, 3))
    np.testing.assert_array_equal(field_type.trivial_channels(), [2])
    self.assertEqual(len(field_type + field_type), 6)
    self.assertEqual(field_type, groups.FieldType(
        group, list(field_type.representations)))
    # 45 degrees: interpolated grid, vector fields turned by rho(g).
    transform = field_type.transform(1)
    self.assertFalse(transform.exact)
    x = np.zeros((1, 5, 5, 11), np.float32)
    x[0, 2, 2, :2] = [1.0, 0.0]  # a unit x-vector at the centre
    out = np.asarray(transform(x))[0, 2, 2, :2]
    np.testing.assert_allclose(out, [math.sqrt(0.5), math.sqrt(0.5)],
                               atol=1e-6)

  def test_continuous_group_transform(self):
    group = groups.O2(2)
    field_type = groups.FieldType(group, [group.irrep(1, 1),
                                          group.irrep(1, 0)])
    x = self._x(field_type, size=7)
    quarter = field_type.transform((1, math.pi / 2))
    self.assertTrue(quarter.exact)
    np.testing.assert_allclose(quarter.inverse()(quarter(x)), x, atol=1e-6)


class E2cnnConventionsTest(parameterized.TestCase):
  """Same matrices as e2cnn 0.2.3 (runs where torch / e2cnn are installed)."""

  def setUp(self):
    super().setUp()
    # pylint: disable-next=g-import-not-at-top
    from benchmarks import steerable_basis
    peers = steerable_basis.import_e2cnn()
    if peers is None:
      self.skipTest('e2cnn / torch are not installed (pip install -r '
                    'benchmarks/requirements-bench.txt); the comparison with '
                    'e2cnn is skipped.')
    self.e2cnn = peers[1]

  @parameterized.parameters(1, 2, 3, 4, 5, 8)
  def test_finite_groups_match(self, n):
    e2cnn_group = self.e2cnn.group
    for group, theirs in ((groups.Cyclic(n), e2cnn_group.cyclic_group(n)),
                          (groups.Dihedral(n), e2cnn_group.dihedral_group(n))):
      elements = list(theirs.elements)  # same order as equivlab's ints
      for g in group.elements():
        np.testing.assert_allclose(group.regular_representation(g),
                                   theirs.regular_representation(elements[g]),
                                   atol=1e-7)
      for irrep in theirs.irreps.values():
        frequency = irrep.attributes['frequency']
        key = ((frequency,) if isinstance(group, groups.Cyclic) else
               (irrep.attributes['flip_frequency'], frequency))
        for g in group.elements():
          np.testing.assert_allclose(group.irrep(*key)(g),
                                     irrep(elements[g]), atol=1e-7)

  def test_quotients_match(self):
    gspaces = self.e2cnn.gspaces
    for gspace, group, subgroup_id, subgroup in (
        (gspaces.Rot2dOnR2(8), groups.Cyclic(8), 2, groups.Cyclic(2)),
        (gspaces.FlipRot2dOnR2(8), groups.Dihedral(8), (None, 8),
         groups.Cyclic(8)),
        (gspaces.FlipRot2dOnR2(8), groups.Dihedral(8), (0, 4),
         groups.Dihedral(4))):
      theirs = gspace.quotient_repr(subgroup_id)
      ours = group.quotient_representation(subgroup)
      elements = list(gspace.fibergroup.elements)
      for g in group.elements():
        np.testing.assert_allclose(ours(g), theirs(elements[g]), atol=1e-7)

  def test_continuous_irreps_match(self):
    e2cnn_group = self.e2cnn.group
    so2, o2 = e2cnn_group.so2_group(3), e2cnn_group.o2_group(3)
    for angle in (0.3, 2.0, -1.1):
      for k in range(4):
        np.testing.assert_allclose(groups.SO2(3).irrep(k)(angle),
                                   so2.irrep(k)(angle), atol=1e-7)
      for mirror in (0, 1):
        for j, k in groups.O2(3).irrep_ids():
          np.testing.assert_allclose(groups.O2(3).irrep(j, k)((mirror, angle)),
                                     o2.irrep(j, k)((mirror, angle)),
                                     atol=1e-7)


if __name__ == '__main__':
  absltest.main()
