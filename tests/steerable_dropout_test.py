"""Tests for dropout, the disk mask and reflection pooling (issue 30):
layers/steerable/dropout.py, masking.py, reflection_pool.py.

Fixed seeds pin the behaviour (training vs evaluation, the law of the mask,
the mask's values, which channels are pooled); the equivariance facts are
drawn by hypothesis in tests/cases/steerable_masking.py, and bad input is in
tests/steerable_bad_input_test.py.
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
D8 = groups.Dihedral(8)
SO2 = groups.SO2(3)
MIXED_C8 = groups.FieldType(C8, [
    C8.regular_representation, C8.irrep(1), C8.trivial_representation,
    C8.irrep(4), C8.irrep(2)])  # sizes 8, 2, 1, 1, 2
PERMUTATION_C8 = groups.FieldType(C8, [
    C8.regular_representation, C8.trivial_representation,
    C8.quotient_representation(groups.Cyclic(2))])


def _fast_key(seed):
  """An 'rbg' key: jitted (equivariance_errors), it compiles ~10x faster
  than threefry's on CPU; the facts do not depend on the bits' source."""
  return jax.random.key(seed, impl='rbg')


def _map(field_type, size=5, batch=2, seed=0):
  rng = np.random.default_rng(seed)
  return rng.standard_normal((batch, size, size, field_type.size)).astype(
      np.float32)


def _field_values(y, field_type):
  """``[(field index, y[..., channels of the field])]``."""
  return [(i, y[..., o:o + r.size]) for i, (o, r) in enumerate(
      zip(field_type.offsets, field_type.representations))]


class FieldDropoutTest(parameterized.TestCase):

  def test_eval_mode_is_the_identity(self):
    x = _map(MIXED_C8)
    np.testing.assert_array_equal(steerable.field_dropout(
        x, field_type=MIXED_C8, rate=0.9, deterministic=True), x)
    module = steerable.FieldDropout(MIXED_C8, rate=0.9, deterministic=True)
    np.testing.assert_array_equal(module.apply({}, x), x)  # no rng needed

  def test_rate_zero_is_the_identity_without_rng(self):
    x = _map(MIXED_C8)
    np.testing.assert_array_equal(
        steerable.field_dropout(x, field_type=MIXED_C8, rate=0.0), x)

  def test_rate_one_drops_everything(self):
    y = steerable.field_dropout(_map(MIXED_C8), jax.random.key(0),
                                field_type=MIXED_C8, rate=1.0)
    self.assertTrue(np.all(np.asarray(y) == 0))

  def test_whole_fields_are_kept_and_scaled_or_dropped(self):
    x = _map(MIXED_C8, batch=4) + 3.0   # no zeros in x
    rate = 0.4
    y = np.asarray(steerable.field_dropout(x, jax.random.key(1),
                                           field_type=MIXED_C8, rate=rate))
    ratio = y / x
    kept = dropped = 0
    for i, values in _field_values(ratio, MIXED_C8):
      for b in range(x.shape[0]):
        field = values[b]   # [H, W, size]: one draw for all of it
        if np.all(field == 0):
          dropped += 1
        else:
          np.testing.assert_allclose(field, 1 / (1 - rate), rtol=1e-6,
                                     err_msg=f'field {i}, example {b}')
          kept += 1
    self.assertGreater(kept, 0)
    self.assertGreater(dropped, 0)

  def test_per_pixel_draws_per_pixel_but_whole_fields(self):
    x = _map(MIXED_C8, size=6) + 3.0
    y = np.asarray(steerable.field_dropout(
        x, jax.random.key(2), field_type=MIXED_C8, rate=0.5, per_pixel=True))
    ratio = y / x
    for i, values in _field_values(ratio, MIXED_C8):
      # Within a field at a pixel: one value; across pixels: both values.
      np.testing.assert_array_equal(values.min(-1), values.max(-1),
                                    err_msg=f'field {i}')
      self.assertLen(np.unique(values.round(4)), 2, f'field {i}')

  @parameterized.named_parameters(('shared', False), ('per_pixel', True))
  def test_drop_rate_is_rate(self, per_pixel):
    field_type = groups.FieldType(C8, 64 * [C8.irrep(1)])
    x = np.ones((64, 3, 3, field_type.size), np.float32)
    rate = 0.3
    y = np.asarray(steerable.field_dropout(
        x, jax.random.key(3), field_type=field_type, rate=rate,
        per_pixel=per_pixel))
    dropped = np.mean(y == 0)
    # 4096 (shared) or 36864 (per pixel) draws: std <= 0.0072.
    self.assertAlmostEqual(dropped, rate, delta=0.03)

  def test_scaling_keeps_the_mean(self):
    field_type = groups.FieldType(C8, 32 * [C8.regular_representation])
    x = np.ones((32, 4, 4, field_type.size), np.float32)
    means = [float(jnp.mean(steerable.field_dropout(
        x, jax.random.key(seed), field_type=field_type, rate=0.5,
        per_pixel=True))) for seed in range(4)]
    # 4 x 16384 draws of {0, 2}: the mean's std is 0.004.
    self.assertAlmostEqual(np.mean(means), 1.0, delta=0.02)

  def test_module_draws_from_the_dropout_stream(self):
    x = _map(MIXED_C8, batch=8)
    module = steerable.FieldDropout(MIXED_C8, rate=0.5)
    params = module.init(jax.random.key(0), x, deterministic=True)
    self.assertEqual(params, {})   # no parameters
    first = module.apply({}, x, deterministic=False,
                         rngs={'dropout': jax.random.key(5)})
    again = module.apply({}, x, deterministic=False,
                         rngs={'dropout': jax.random.key(5)})
    other = module.apply({}, x, deterministic=False,
                         rngs={'dropout': jax.random.key(6)})
    np.testing.assert_array_equal(first, again)
    self.assertFalse(np.array_equal(first, other))
    with self.assertRaisesRegex(Exception, 'dropout'):
      module.apply({}, x, deterministic=False)   # no rng: flax's error

  def test_custom_rng_collection_and_explicit_rng(self):
    x = _map(MIXED_C8, batch=8)
    module = steerable.FieldDropout(MIXED_C8, rate=0.5,
                                    rng_collection='noise')
    named = module.apply({}, x, deterministic=False,
                         rngs={'noise': jax.random.key(7)})
    self.assertTrue(np.any(np.asarray(named) == 0))
    key = jax.random.key(8)
    explicit = module.apply({}, x, deterministic=False, rng=key)
    np.testing.assert_array_equal(explicit, steerable.field_dropout(
        x, key, field_type=MIXED_C8, rate=0.5))

  def test_constructor_or_call_decides_the_mode(self):
    x = _map(MIXED_C8)
    train = steerable.FieldDropout(MIXED_C8, rate=0.5, deterministic=False)
    y = train.apply({}, x, rngs={'dropout': jax.random.key(0)})
    self.assertTrue(np.any(np.asarray(y) == 0))
    with self.assertRaisesRegex(ValueError, 'deterministic'):
      train.apply({}, x, deterministic=True)   # flax: not both

  def test_jit_and_gradient(self):
    x = _map(MIXED_C8)
    module = steerable.FieldDropout(MIXED_C8, rate=0.5)

    @jax.jit
    def loss(x, key):
      return jnp.sum(module.apply({}, x, deterministic=False,
                                  rngs={'dropout': key}))
    grad = np.asarray(jax.grad(loss)(x, jax.random.key(0)))
    self.assertTrue(set(np.unique(grad)) <= {0.0, 2.0})
    self.assertTrue(np.all(np.isfinite(grad)))

  def test_fixed_rng_is_exactly_equivariant_to_every_exact_element(self):
    x = _map(MIXED_C8, size=7)
    module = steerable.FieldDropout(MIXED_C8, rate=0.5)
    errors = module.equivariance_errors({}, x, deterministic=False,
                                        rngs={'dropout': _fast_key(0)})
    self.assertEqual(set(errors), {'r2', 'r4', 'r6'})
    self.assertLess(max(errors.values()), 1e-6)
    per_pixel = steerable.FieldDropout(MIXED_C8, rate=0.5, per_pixel=True)
    errors = per_pixel.equivariance_errors(
        {}, x, deterministic=False, rngs={'dropout': _fast_key(0)})
    self.assertGreater(min(errors.values()), 0.3)   # a fixed mask stays put

  def test_any_field_type_of_a_continuous_group(self):
    field_type = groups.FieldType(SO2, [SO2.irrep(1), SO2.irrep(3),
                                        SO2.trivial_representation])
    module = steerable.FieldDropout(field_type, rate=0.5)
    x = _map(field_type, size=7)
    errors = module.equivariance_errors(
        {}, x, elements=[0.3, math.pi / 2, 2.0], deterministic=False,
        rngs={'dropout': _fast_key(1)})
    self.assertLess(max(errors.values()), 1e-6)   # off the grid too


class PointwiseDropoutTest(absltest.TestCase):

  def test_eval_mode_and_rate_zero_are_the_identity(self):
    x = _map(PERMUTATION_C8)
    np.testing.assert_array_equal(steerable.pointwise_dropout(
        x, field_type=PERMUTATION_C8, deterministic=True), x)
    np.testing.assert_array_equal(steerable.pointwise_dropout(
        x, field_type=PERMUTATION_C8, rate=0.0), x)
    module = steerable.PointwiseDropout(PERMUTATION_C8)
    np.testing.assert_array_equal(module.apply({}, x, deterministic=True), x)

  def test_channels_drop_independently_at_rate(self):
    field_type = groups.FieldType(C8, 16 * [C8.regular_representation])
    x = np.ones((16, 6, 6, field_type.size), np.float32)
    rate = 0.25
    y = np.asarray(steerable.pointwise_dropout(
        x, jax.random.key(0), field_type=field_type, rate=rate))
    np.testing.assert_allclose(np.unique(y), [0.0, 1 / (1 - rate)],
                               rtol=1e-6)
    self.assertAlmostEqual(np.mean(y == 0), rate, delta=0.02)  # 73728 draws
    self.assertAlmostEqual(float(np.mean(y)), 1.0, delta=0.02)
    # Not whole fields: within a regular field, some channels kept, some not.
    per_field = (y.reshape(16, 6, 6, 16, 8) == 0).mean(-1)
    self.assertTrue(np.any((per_field > 0) & (per_field < 1)))

  def test_refuses_rotation_irreps_accepts_permutations(self):
    with self.assertRaisesRegex(ValueError, 'field 1'):
      steerable.PointwiseDropout(MIXED_C8)
    d4 = groups.FieldType(D4, [D4.regular_representation,
                               D4.quotient_representation(groups.Cyclic(4)),
                               D4.trivial_representation])
    self.assertEqual(steerable.PointwiseDropout(d4).out_type, d4)

  def test_fixed_rng_breaks_a_quarter_turn(self):
    module = steerable.PointwiseDropout(PERMUTATION_C8, rate=0.5)
    errors = module.equivariance_errors(
        {}, _map(PERMUTATION_C8, size=7), deterministic=False,
        rngs={'dropout': _fast_key(0)})
    self.assertGreater(min(errors.values()), 0.3)   # in distribution only


def _escnn_build_mask(s, margin, sigma):
  """escnn's ``build_mask`` (masking_module.py), transcribed as a loop."""
  mask = np.zeros((s, s))
  c = (s - 1) / 2
  t = (c - margin / 100.0 * c)**2
  for i in range(s):
    for j in range(s):
      r = (i - c)**2 + (j - c)**2
      mask[i, j] = math.exp((t - r) / sigma**2) if r > t else 1.0
  return mask


class DiskMaskTest(parameterized.TestCase):

  @parameterized.product(size=(5, 8, 9), margin=(0.0, 20.0),
                         sigma=(1.0, 2.0))
  def test_weights_match_escnn(self, size, margin, sigma):
    np.testing.assert_allclose(
        steerable.disk_mask_weights(size, size, margin_percent=margin,
                                    sigma=sigma),
        _escnn_build_mask(size, margin, sigma), rtol=1e-6)

  def test_sigma_zero_is_the_inscribed_disk(self):
    for margin in (0.0, 30.0):
      np.testing.assert_array_equal(
          steerable.disk_mask_weights(7, 9, margin_percent=margin, sigma=0.0),
          groups.inscribed_disk(7, 9, margin=3 * margin / 100))

  def test_multiplies_every_channel_by_the_weights(self):
    x = _map(MIXED_C8, size=7)
    weights = steerable.disk_mask_weights(7, 7, sigma=1.5)
    y = steerable.DiskMask(MIXED_C8, sigma=1.5).apply({}, x)
    np.testing.assert_allclose(y, x * weights[None, :, :, None], rtol=1e-6)
    self.assertEqual(weights[3, 3], 1.0)
    self.assertAlmostEqual(weights[0, 0], math.exp((9 - 18) / 1.5**2),
                           places=6)   # a corner: r^2 = 18, R^2 = 9

  def test_exact_under_quarter_turns_and_mirrors(self):
    field_type = groups.FieldType(D8, [D8.regular_representation,
                                       D8.irrep(1, 1)])
    module = steerable.DiskMask(field_type, margin_percent=10.0)
    errors = module.equivariance_errors({}, _map(field_type, size=8))
    self.assertLen(errors, 7)   # 3 turns, 4 mirrors
    self.assertEqual(max(errors.values()), 0.0)


class ReflectionPoolTest(parameterized.TestCase):

  @parameterized.named_parameters(('max', 'max', np.maximum),
                                  ('mean', 'mean', lambda a, b: (a + b) / 2))
  def test_pools_each_rotation_with_its_mirror_image(self, reduction, pool):
    field_type = groups.FieldType(D4, 2 * [D4.regular_representation])
    x = _map(field_type)
    y = np.asarray(steerable.reflection_pool(x, field_type=field_type,
                                             reduction=reduction))
    self.assertEqual(y.shape, (2, 5, 5, 8))
    for i in range(2):
      for k in range(4):   # element r^k is channel k, r^k f channel k + 4
        np.testing.assert_allclose(
            y[..., 4 * i + k], pool(x[..., 8 * i + k], x[..., 8 * i + k + 4]),
            rtol=1e-6)

  def test_is_a_max_over_the_mirror_axis_of_a_group_map(self):
    """Agrees with the G-CNN layout: ``[B, H, W, G, C]``, ``G = 2N``."""
    group_map = np.random.default_rng(0).standard_normal(
        (2, 5, 5, 8, 3)).astype(np.float32)
    field_type = groups.FieldType(D4, 3 * [D4.regular_representation])
    pooled = steerable.reflection_pool(groups.group_map_to_fields(group_map),
                                       field_type=field_type)
    expected = group_map.reshape(2, 5, 5, 2, 4, 3).max(axis=3)
    np.testing.assert_array_equal(
        groups.fields_to_group_map(pooled, groups.Cyclic(4)), expected)

  def test_types_and_the_embedding(self):
    field_type = groups.FieldType(D8, 3 * [D8.regular_representation])
    module = steerable.ReflectionPool(field_type)
    self.assertEqual(module.out_type, groups.FieldType(
        groups.Cyclic(8), 3 * [groups.Cyclic(8).regular_representation]))
    self.assertEqual(module.input_element(3), 3)   # r^3 of C8 is r^3 of D8
    errors = module.equivariance_errors({}, _map(field_type, size=6))
    self.assertEqual(set(errors), {'r2', 'r4', 'r6'})
    self.assertEqual(max(errors.values()), 0.0)

  def test_chains_a_d8_conv_to_a_c8_conv(self):
    c8 = groups.Cyclic(8)
    scalar = groups.FieldType(D8, [D8.trivial_representation])
    hidden = groups.FieldType(D8, 2 * [D8.regular_representation])
    cyclic = groups.FieldType(c8, 2 * [c8.regular_representation])
    net = steerable.EquivariantSequential((
        steerable.SteerableConv(scalar, hidden, kernel_size=3),
        steerable.ReflectionPool(hidden),
        steerable.SteerableConv(cyclic, cyclic, kernel_size=3)))
    x = _map(scalar, size=7)
    variables = net.init(jax.random.key(0), x)
    errors = net.equivariance_errors(variables, x)   # C8's quarter turns
    self.assertLess(max(errors.values()), 1e-5)
    with self.assertRaisesRegex(ValueError, 'types must chain'):
      steerable.EquivariantSequential((
          steerable.ReflectionPool(hidden),
          steerable.SteerableConv(hidden, hidden, kernel_size=3)))


if __name__ == '__main__':
  absltest.main()
