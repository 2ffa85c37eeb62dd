"""Fourier pointwise nonlinearities (``layers/steerable/fourier.py``).

Exact tier (float32, 1e-5): C_N and D_N regular fields and a C_N irrep field
sampled on all group elements, every element; SO(2) / O(2) band-limited
fields at the sampled rotations (and mirrors). Approximate tier: SO(2) at an
angle between the samples, with the measured error falling as the samples
grow (measured on these draws: 0.447, 0.038, 0.0062, 0.00068 for 7, 14,
28, 56 samples, band limit 3, ELU; the bounds are about 1.5-2x those). Negative control: 7 samples
of a band limit 3 field, between them, must break (> 0.1).

Quotient fields (``layers/steerable/fourier_quotient.py``, :class:`QuotientTest`):
the identity activation gives the input back; C_N / D_N quotient fields are
exact on every element; an O(2) / flip field (band limit 3, ELU, 0.3 rad and
its mirror image) measured 0.447, 0.040, 0.0066, 0.00088 for 7, 14, 28, 56
samples; a direct NumPy loop of the definition agrees.
"""

import math

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
import numpy as np

import groups
from layers import steerable

C8 = groups.Cyclic(8)
D4 = groups.Dihedral(4)
SO2 = groups.SO2(3)
O2 = groups.O2(2)
SO2_FIELD = steerable.band_limited_representation(SO2, 3)
O2_FIELD = steerable.band_limited_representation(O2, 2)


def _error(field_type, elements, samples=None, activation='elu', seed=0):
  """Max over ``elements`` of ``|f(rho(h) x) - rho(h) f(x)| / |rho(h) f(x)|``."""
  return _max_error(lambda x: steerable.fourier_pointwise(
      x, field_type=field_type, activation=activation, samples=samples),
                    field_type, elements, seed)


def _max_error(layer, field_type, elements, seed):
  """That error of ``layer`` (jitted) on a seeded ``[4, 2, 2, C]`` input."""
  x = np.random.default_rng(seed).standard_normal(
      (4, 2, 2, field_type.size)).astype(np.float32)
  fn = jax.jit(layer)
  errors = []
  for h in elements:
    matrix = field_type.matrix(h).astype(np.float32)
    expected = fn(x) @ matrix.T
    errors.append(float(jnp.max(jnp.abs(fn(x @ matrix.T) - expected)) /
                        jnp.max(jnp.abs(expected))))
  return max(errors)


class ExactTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('c8_regular', groups.FieldType(C8, 3 * [C8.regular_representation])),
      ('c8_irreps', groups.FieldType(C8, [C8.irrep(0), C8.irrep(1),
                                          C8.irrep(3)])),
      ('d4_regular', groups.FieldType(D4, 2 * [D4.regular_representation])),
  )
  def test_finite_groups_on_every_element(self, field_type):
    self.assertLess(_error(field_type, field_type.group.elements()), 1e-5)
    self.assertLess(_error(field_type, field_type.group.elements(),
                           activation='relu'), 1e-5)

  def test_so2_and_o2_at_the_sampled_rotations(self):
    so2 = groups.FieldType(SO2, 2 * [SO2_FIELD])
    o2 = groups.FieldType(O2, 2 * [O2_FIELD])
    for samples in (7, 16):
      step = 2 * math.pi / samples
      self.assertLess(_error(so2, [step, 3 * step], samples=samples), 1e-5)
      self.assertLess(_error(o2, [(1, step), (0, 2 * step)],
                             samples=samples), 1e-5)

  def test_a_trivial_field_is_the_activation_itself(self):
    field_type = groups.FieldType(C8, [C8.trivial_representation])
    x = np.linspace(-2, 2, 12, dtype=np.float32).reshape(1, 2, 6, 1)
    np.testing.assert_allclose(
        steerable.fourier_pointwise(x, field_type=field_type), jax.nn.elu(x),
        rtol=1e-6, atol=1e-6)

  def test_module_and_sequential(self):
    field_type = groups.FieldType(C8, 2 * [C8.regular_representation])
    model = steerable.EquivariantSequential([
        steerable.FourierPointwise(in_type=field_type, activation='relu'),
        steerable.FourierPointwise(in_type=field_type)])
    x = np.random.default_rng(1).standard_normal((1, 3, 3, 16)).astype(
        np.float32)
    expected = steerable.fourier_pointwise(
        steerable.fourier_pointwise(x, field_type=field_type,
                                    activation='relu'), field_type=field_type)
    np.testing.assert_allclose(model.apply({}, x), expected, rtol=1e-6,
                               atol=1e-6)


class ApproximateTest(absltest.TestCase):

  def test_so2_between_the_samples_improves_with_more_samples(self):
    field_type = groups.FieldType(SO2, 2 * [SO2_FIELD])
    bounds = {7: 0.7, 14: 0.06, 28: 0.012, 56: 0.0015}
    errors = {n: _error(field_type, [0.3], samples=n) for n in bounds}
    for n, bound in bounds.items():
      self.assertLess(errors[n], bound, errors)
    self.assertLess(errors[56], errors[14] / 10, errors)

  def test_negative_control_few_samples_between_them_break(self):
    field_type = groups.FieldType(SO2, 2 * [SO2_FIELD])
    self.assertGreater(_error(field_type, [0.3], samples=7), 0.1)

  def test_default_samples(self):
    # The smallest multiple of 4 >= 2 (2 L + 1): quarter turns sampled.
    self.assertLen(steerable.sample_elements(SO2), 16)
    self.assertLen(steerable.sample_elements(groups.SO2(1)), 8)
    self.assertLen(steerable.sample_elements(O2, 6), 12)
    self.assertEqual(steerable.sample_elements(D4), tuple(range(8)))


def _quotient_error(field_type, subgroup, elements, samples=None,
                    activation='elu'):
  """:func:`_error` of :func:`steerable.quotient_fourier_pointwise`."""
  return _max_error(lambda x: steerable.quotient_fourier_pointwise(
      x, field_type=field_type, subgroup=subgroup, activation=activation,
      samples=samples), field_type, elements, seed=0)


def _quotient_type(group, subgroup, copies=2):
  return groups.FieldType(group, copies * [
      steerable.quotient_fourier_representation(group, subgroup)])


FLIP = groups.Dihedral(1)
O2_3 = groups.O2(3)
SO2_4 = groups.SO2(4)


class QuotientTest(parameterized.TestCase):

  def test_quotient_representations(self):
    # Functions on G / H: |G| / |H| dimensions for finite G; escnn's
    # spectral quotient irreps for SO(2) / O(2).
    for group, subgroup, size in [(C8, groups.Cyclic(2), 4), (D4, FLIP, 4),
                                  (D4, groups.Cyclic(4), 2),
                                  (D4, groups.Cyclic(2), 4)]:
      self.assertEqual(steerable.quotient_fourier_representation(
          group, subgroup).size, size)
    self.assertEqual(steerable.quotient_fourier_representation(
        SO2_4, groups.Cyclic(2)).irreps, (0, 2, 4))
    self.assertEqual(steerable.quotient_fourier_representation(
        O2_3, FLIP).irreps, ((0, 0), (1, 1), (1, 2), (1, 3)))
    self.assertEqual(steerable.quotient_fourier_representation(
        O2_3, groups.SO2(0)).irreps, ((0, 0), (1, 0)))
    self.assertEqual(steerable.quotient_fourier_representation(
        O2_3, groups.Cyclic(1)), steerable.band_limited_representation(O2_3, 3))

  @parameterized.named_parameters(
      ('c8_mod_c2', C8, groups.Cyclic(2)),
      ('d4_mod_flip', D4, FLIP),
      ('d4_mod_c4', D4, groups.Cyclic(4)),
      ('d4_mod_c2', D4, groups.Cyclic(2)),
  )
  def test_finite_quotients_on_every_element(self, group, subgroup):
    field_type = _quotient_type(group, subgroup)
    for activation in ('elu', 'relu'):
      self.assertLess(_quotient_error(field_type, subgroup, group.elements(),
                                      activation=activation), 1e-5)
    # The permutation field of the cosets (groups' quotient_representation).
    permutation = groups.FieldType(group, [group.quotient_representation(
        subgroup)])
    self.assertLess(_quotient_error(permutation, subgroup, group.elements()),
                    1e-5)

  def test_so2_o2_quotients_at_the_sampled_rotations(self):
    for samples in (12, 16):
      step = 2 * math.pi / samples
      self.assertLess(_quotient_error(
          _quotient_type(SO2_4, groups.Cyclic(2)), groups.Cyclic(2),
          [step, 5 * step], samples=samples), 1e-5)
      self.assertLess(_quotient_error(
          _quotient_type(O2_3, FLIP), FLIP, [(1, step), (0, 3 * step)],
          samples=samples), 1e-5)

  @parameterized.named_parameters(
      ('c8_mod_c2', C8, groups.Cyclic(2), None),
      ('d4_mod_flip', D4, FLIP, None),
      ('so2_mod_c2', SO2_4, groups.Cyclic(2), 12),
      ('o2_mod_flip', O2_3, FLIP, 9),
      ('o2_mod_c2', O2_3, groups.Cyclic(2), 16),
      ('o2_mod_so2', O2_3, groups.SO2(3), 8),
  )
  def test_identity_activation_gives_the_input(self, group, subgroup,
                                               samples):
    field_type = _quotient_type(group, subgroup)
    x = np.random.default_rng(2).standard_normal(
        (2, 3, 3, field_type.size)).astype(np.float32)
    for normalize in (False, True):
      np.testing.assert_allclose(steerable.quotient_fourier_pointwise(
          x, field_type=field_type, subgroup=subgroup,
          activation=lambda v: v, samples=samples, normalize=normalize),
                                 x, rtol=1e-5, atol=1e-5)

  def test_o2_mod_flip_between_the_samples_improves_with_more_samples(self):
    field_type = _quotient_type(O2_3, FLIP)
    # Measured: 0.447, 0.040, 0.0066, 0.00088 (7, 14, 28, 56 samples).
    bounds = {7: 0.7, 14: 0.06, 28: 0.01, 56: 0.0015}
    errors = {n: _quotient_error(field_type, FLIP, [0.3, (1, 0.3)],
                                 samples=n) for n in bounds}
    for n, bound in bounds.items():
      self.assertLess(errors[n], bound, errors)
    values = [errors[n] for n in sorted(errors)]
    self.assertEqual(values, sorted(values, reverse=True), errors)
    self.assertLess(errors[56], errors[14] / 10, errors)
    self.assertGreater(errors[7], 0.1, errors)  # the fewest: it breaks

  def test_so2_mod_c2_counts_cosets_not_rotations(self):
    # 14 rotations of SO(2) are 7 cosets of C2, as many as 7 rotations:
    # the same samples, the same error (measured 0.135 for both; 0.020 for
    # 28 rotations, 0.0020 for 56).
    field_type = _quotient_type(SO2_4, groups.Cyclic(2))
    errors = {n: _quotient_error(field_type, groups.Cyclic(2), [0.3],
                                 samples=n) for n in (7, 14, 28, 56)}
    self.assertAlmostEqual(errors[7], errors[14], places=5)
    self.assertLess(errors[28], errors[14] / 4, errors)
    self.assertLess(errors[56], errors[28] / 4, errors)
    self.assertLess(errors[56], 0.004, errors)

  @parameterized.named_parameters(('so2_mod_c2', 'so2'), ('o2_mod_flip', 'o2'))
  def test_agrees_with_a_numpy_loop_of_the_definition(self, which):
    # f(t) = x_0 + sqrt(2) sum_k (cos(k t) x_2k-1 + sin(k t) x_2k) on the
    # coset representatives t (SO(2) / C2: t in [0, pi), O(2) / flip: t in
    # [0, 2 pi)), ELU, then least squares back.
    samples = 12
    if which == 'so2':
      group, subgroup, frequencies = SO2_4, groups.Cyclic(2), (2, 4)
      angles = [2 * math.pi * n / samples for n in range(samples // 2)]
    else:
      group, subgroup, frequencies = O2_3, FLIP, (1, 2, 3)
      angles = [2 * math.pi * n / samples for n in range(samples)]
    field_type = _quotient_type(group, subgroup, copies=1)
    x = np.random.default_rng(3).standard_normal(
        (2, 2, 3, field_type.size)).astype(np.float32)
    rows = np.array([[1.0] + [v for k in frequencies for v in (
        math.sqrt(2) * math.cos(k * t), math.sqrt(2) * math.sin(k * t))]
                     for t in angles])
    expected = np.zeros(x.shape)
    for index in np.ndindex(*x.shape[:3]):
      values = rows @ x[index].astype(np.float64)
      activated = np.where(values > 0, values, np.expm1(values))
      expected[index] = np.linalg.lstsq(rows, activated, rcond=None)[0]
    np.testing.assert_allclose(steerable.quotient_fourier_pointwise(
        x, field_type=field_type, subgroup=subgroup, samples=samples),
                               expected, rtol=1e-5, atol=1e-5)

  def test_normalize(self):
    # Unit-norm w: the same for ReLU (positively homogeneous), not for ELU.
    field_type = _quotient_type(O2_3, FLIP)
    x = np.random.default_rng(4).standard_normal(
        (2, 2, 2, field_type.size)).astype(np.float32)

    def apply(activation, normalize):
      return np.asarray(steerable.quotient_fourier_pointwise(
          x, field_type=field_type, subgroup=FLIP, activation=activation,
          samples=16, normalize=normalize))
    np.testing.assert_allclose(apply('relu', True), apply('relu', False),
                               rtol=1e-5, atol=1e-5)
    self.assertGreater(np.max(np.abs(apply('elu', True) -
                                     apply('elu', False))), 1e-2)

  def test_trivial_subgroup_is_fourier_pointwise(self):
    field_type = groups.FieldType(O2, 2 * [O2_FIELD])
    x = np.random.default_rng(5).standard_normal(
        (2, 2, 2, field_type.size)).astype(np.float32)
    np.testing.assert_allclose(
        steerable.quotient_fourier_pointwise(
            x, field_type=field_type, subgroup=groups.Cyclic(1), samples=12),
        steerable.fourier_pointwise(x, field_type=field_type, samples=12),
        rtol=1e-5, atol=1e-5)

  def test_module_and_sequential(self):
    field_type = _quotient_type(D4, FLIP)
    model = steerable.EquivariantSequential([
        steerable.QuotientFourierPointwise(in_type=field_type, subgroup=FLIP,
                                           activation='relu'),
        steerable.QuotientFourierPointwise(in_type=field_type, subgroup=FLIP)])
    x = np.random.default_rng(6).standard_normal(
        (1, 3, 3, field_type.size)).astype(np.float32)
    expected = steerable.quotient_fourier_pointwise(
        steerable.quotient_fourier_pointwise(
            x, field_type=field_type, subgroup=FLIP, activation='relu'),
        field_type=field_type, subgroup=FLIP)
    np.testing.assert_allclose(model.apply({}, x), expected, rtol=1e-6,
                               atol=1e-6)


if __name__ == '__main__':
  absltest.main()
