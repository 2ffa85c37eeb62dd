"""Fourier pointwise nonlinearities (``layers/steerable/fourier.py``).

Exact tier (float32, 1e-5): C_N and D_N regular fields and a C_N irrep field
sampled on all group elements, every element; SO(2) / O(2) band-limited
fields at the sampled rotations (and mirrors). Approximate tier: SO(2) at an
angle between the samples, with the measured error falling as the samples
grow (measured on these draws: 0.447, 0.038, 0.0062, 0.00068 for 7, 14,
28, 56 samples, band limit 3, ELU; the bounds are about 1.5-2x those). Negative control: 7 samples
of a band limit 3 field, between them, must break (> 0.1).
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
  x = np.random.default_rng(seed).standard_normal(
      (4, 2, 2, field_type.size)).astype(np.float32)
  fn = jax.jit(lambda x: steerable.fourier_pointwise(
      x, field_type=field_type, activation=activation, samples=samples))
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


if __name__ == '__main__':
  absltest.main()
