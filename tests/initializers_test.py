"""layers.initializers: JAX's initializers, drawn flat, give JAX's numbers."""

from absl.testing import absltest
from absl.testing import parameterized
import flax.linen as nn
import jax
import numpy as np

from layers import initializers

KERNEL = (3, 3, 2, 4)  # [kh, kw, C_in, C_out]


def _assert_same(test, ours, theirs):
  ours, theirs = np.asarray(ours), np.asarray(theirs)
  test.assertEqual(ours.shape, theirs.shape)
  test.assertEqual(ours.dtype, theirs.dtype)
  # Measured: bit-identical on AVX-512 and with --xla_cpu_max_isa=AVX2
  # (the same bits, the same elementwise ops); a tolerance of one float32
  # rounding keeps the test honest on a CPU whose kernels round otherwise.
  np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)


class VarianceScalingTest(parameterized.TestCase):

  @parameterized.parameters(
      ('truncated_normal', 'fan_in', KERNEL, 'threefry2x32'),
      ('normal', 'fan_out', KERNEL, 'threefry2x32'),
      ('uniform', 'fan_avg', KERNEL, 'threefry2x32'),
      ('truncated_normal', 'fan_geo_avg', (5, 7), 'threefry2x32'),
      ('truncated_normal', 'fan_in', KERNEL, 'rbg'),
  )
  def test_same_numbers_as_jax(self, distribution, mode, shape, impl):
    key = jax.random.key(3, impl=impl)
    ours = initializers.variance_scaling(0.7, mode, distribution)
    theirs = jax.nn.initializers.variance_scaling(0.7, mode, distribution)
    _assert_same(self, ours(key, shape), theirs(key, shape))

  def test_batch_axis_as_the_harmonic_rings(self):
    key = jax.random.PRNGKey(1)
    shape = (2, 3, 5)  # [orders, C_in, C_out], orders a batch axis
    ours = initializers.variance_scaling(0.5, 'fan_in', 'normal',
                                         batch_axis=(0,))
    theirs = jax.nn.initializers.variance_scaling(0.5, 'fan_in', 'normal',
                                                  batch_axis=(0,))
    _assert_same(self, ours(key, shape), theirs(key, shape))

  def test_lecun_and_he_normal(self):
    key = jax.random.PRNGKey(0)
    _assert_same(self, initializers.lecun_normal()(key, KERNEL),
                 jax.nn.initializers.lecun_normal()(key, KERNEL))
    _assert_same(self, initializers.he_normal()(key, KERNEL),
                 jax.nn.initializers.he_normal()(key, KERNEL))

  def test_uniform_is_jax_uniform(self):
    key = jax.random.PRNGKey(2)
    _assert_same(self, initializers.uniform(key, KERNEL, minval=-0.3,
                                            maxval=0.5),
                 jax.random.uniform(key, KERNEL, minval=-0.3, maxval=0.5))

  def test_dense_keeps_flax_parameters(self):
    x = np.ones((2, 6), np.float32)
    key = jax.random.PRNGKey(4)
    ours = initializers.dense(5, name='head').init(key, x)
    theirs = nn.Dense(5, name='head').init(key, x)
    jax.tree.map(lambda a, b: _assert_same(self, a, b), ours, theirs)


class BadInputTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('scale', dict(scale=0.0), 'scale'),
      ('mode', dict(mode='fan_mid'), "'fan_in', 'fan_out'"),
      ('distribution', dict(distribution='laplace'), "'truncated_normal'"),
  )
  def test_rejects(self, overrides, words):
    args = dict(scale=1.0, mode='fan_in', distribution='normal')
    args.update(overrides)
    with self.assertRaisesRegex(ValueError, words):
      initializers.variance_scaling(args['scale'], args['mode'],
                                    args['distribution'])

  def test_rank_one_kernel_names_the_shape(self):
    with self.assertRaisesRegex(ValueError, 'rank >= 2'):
      initializers.lecun_normal()(jax.random.PRNGKey(0), (5,))


if __name__ == '__main__':
  absltest.main()
