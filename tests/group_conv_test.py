"""Tests for layers.group_conv: references, every group element, modules."""

import functools
import itertools

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
import numpy as np

import groups
import layers
from layers import group_conv
from tests import float_tolerance

_P4 = groups.Cyclic(4)
_P4M = groups.Dihedral(4)


def _random(shape, seed=0):
  return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


class TrivialGroupTest(parameterized.TestCase):
  """Over C1 (one element) both convolutions are ordinary convolutions."""

  @parameterized.parameters(('circular', 1, 3), ('zeros', 2, 4),
                            ('valid', 2, 3), ('reflect', 1, 1))
  def test_lifting_conv_over_c1_is_conv2d(self, padding, stride, kernel_size):
    x = _random((2, 7, 6, 3))
    kernel = _random((kernel_size, kernel_size, 3, 4), seed=1)
    out = group_conv.lifting_conv2d(x, kernel, group=groups.Cyclic(1),
                                    stride=stride, padding=padding)
    conv = functools.partial(layers.conv2d, stride=stride, padding=padding)
    # The same products, possibly summed in another order (another program):
    # equal within the float32 reordering bound, not bit for bit.
    float_tolerance.assert_same_sums(
        out[:, :, :, 0], conv(x, kernel), conv(np.abs(x), np.abs(kernel)),
        terms=kernel_size**2 * 3)

  def test_group_conv_over_c1_is_conv2d(self):
    y = _random((2, 7, 6, 1, 3))
    kernel = _random((3, 3, 1, 3, 4), seed=1)
    out = group_conv.group_conv2d(y, kernel, group=groups.Cyclic(1),
                                  padding='zeros', dilation=2)
    conv = functools.partial(layers.conv2d, padding='zeros', dilation=2)
    float_tolerance.assert_same_sums(
        out[:, :, :, 0], conv(y[:, :, :, 0], kernel[:, :, 0]),
        conv(np.abs(y[:, :, :, 0]), np.abs(kernel[:, :, 0])), terms=3 * 3 * 3)


class P4ReferenceTest(parameterized.TestCase):
  """Against filters turned with np.rot90, group axes rolled with np.roll."""

  def test_lifting_conv_channel_g_uses_the_filter_rotated_by_g(self):
    x = _random((2, 6, 6, 2))
    kernel = _random((3, 3, 2, 5), seed=1)
    out = group_conv.lifting_conv2d(x, kernel, group=_P4, padding='zeros')
    self.assertEqual(out.shape, (2, 6, 6, 4, 5))
    for g in range(4):
      np.testing.assert_allclose(
          out[:, :, :, g],
          layers.conv2d(x, np.rot90(kernel, g, axes=(0, 1)), padding='zeros'),
          atol=1e-5)

  def test_group_conv_matches_rotated_and_rolled_filters(self):
    # out[p, g] = sum_{q, h} y[p + q, h] psi[g^-1 q, g^-1 h]; for C4,
    # psi[g^-1 q, h - g] is np.rot90 by g and np.roll by g on the group axis.
    y = _random((2, 5, 5, 4, 3))
    kernel = _random((3, 3, 4, 3, 2), seed=1)
    out = group_conv.group_conv2d(y, kernel, group=_P4, padding='circular')
    for g in range(4):
      psi = np.roll(np.rot90(kernel, g, axes=(0, 1)), g, axis=2)
      expected = layers.conv2d(y.reshape(2, 5, 5, 12), psi.reshape(3, 3, 12, 2),
                               padding='circular')
      np.testing.assert_allclose(out[:, :, :, g], expected, atol=1e-5)

  def test_filters_stack_group_major(self):
    kernel = _random((3, 3, 2, 5))
    filters = group_conv.lifting_filters(kernel, group=_P4M)
    self.assertEqual(filters.shape, (3, 3, 2, 8 * 5))
    np.testing.assert_array_equal(filters[..., 5 * 5:6 * 5],
                                  np.rot90(np.flip(kernel, 1), 1, axes=(0, 1)))
    group_kernel = _random((3, 3, 8, 2, 5))
    self.assertEqual(group_conv.group_filters(group_kernel, group=_P4M).shape,
                     (3, 3, 16, 40))


class EveryElementTest(parameterized.TestCase):
  """f(g x) == g f(x) for every element of p4 and p4m (deterministic)."""

  # Stride 2 keeps the sampling grid symmetric only when (H - 1) is even.
  @parameterized.product(group=[_P4, _P4M],
                         padding_size_stride=[('zeros', 5, 2),
                                              ('circular', 6, 1)])
  def test_lifting_then_group_conv(self, group, padding_size_stride):
    padding, size, stride = padding_size_stride
    x = _random((2, size, size, 2))
    k1 = _random((3, 3, 2, 3), seed=1) / np.sqrt(3 * 3 * 2)
    k2 = _random((3, 3, group.order, 3, 2), seed=2) / np.sqrt(
        3 * 3 * group.order * 3)

    @jax.jit
    def fn(x):
      y = group_conv.lifting_conv2d(x, k1, group=group, padding=padding)
      return group_conv.group_conv2d(jax.nn.relu(y), k2, group=group,
                                     padding=padding, stride=stride)

    for g in group.elements():
      actual, expected = groups.transformed_pair(
          fn, x, group.grid_action(g), group.regular_action(g))
      np.testing.assert_allclose(actual, expected, atol=1e-5, rtol=1e-5,
                                 err_msg=f'{group} element {g}')

  def test_without_the_group_permutation_the_property_fails(self):
    # Negative control of the regular representation: rotating the output
    # without permuting its group axis is not what the layer does.
    x = _random((2, 5, 5, 2))
    kernel = _random((3, 3, 2, 3), seed=1)
    fn = functools.partial(group_conv.lifting_conv2d, kernel=kernel, group=_P4M,
                           padding='zeros')
    for g in range(1, 8):
      error = groups.equivariance_error(fn, x, _P4M.grid_action(g))
      self.assertGreater(float(error.mean()), 0.1)

  def test_stride_2_on_an_even_grid_breaks(self):
    x = _random((2, 6, 6, 2))
    kernel = _random((3, 3, 2, 3), seed=1)
    fn = functools.partial(group_conv.lifting_conv2d, kernel=kernel, group=_P4,
                           stride=2, padding='zeros')
    error = groups.equivariance_error(fn, x, _P4.grid_action(1),
                                      _P4.regular_action(1))
    self.assertGreater(float(error.mean()), 0.1)


class GroupPoolTest(parameterized.TestCase):

  def test_values(self):
    y = _random((2, 3, 3, 4, 5))
    np.testing.assert_array_equal(group_conv.group_pool(y), y.max(axis=3))
    np.testing.assert_allclose(group_conv.group_pool(y, reduction='mean'),
                               y.mean(axis=3), rtol=1e-6)

  @parameterized.parameters('max', 'mean')
  def test_turns_the_regular_action_into_the_grid_action(self, reduction):
    y = _random((2, 5, 5, 8, 3))
    for g in _P4M.elements():
      np.testing.assert_allclose(
          group_conv.group_pool(_P4M.regular_action(g)(y), reduction=reduction),
          _P4M.grid_action(g)(group_conv.group_pool(y, reduction=reduction)),
          atol=1e-6)

  def test_spatial_pool_pools_each_group_element(self):
    y = _random((2, 6, 6, 4, 3))
    pool = functools.partial(layers.max_pool, window=2)
    out = group_conv.spatial_pool(y, pool=pool)
    self.assertEqual(out.shape, (2, 3, 3, 4, 3))
    for g in range(4):
      np.testing.assert_array_equal(out[:, :, :, g], pool(y[:, :, :, g]))


class GroupBatchNormTest(parameterized.TestCase):

  def test_moments_are_shared_over_the_group_axis(self):
    y = _random((2, 3, 3, 4, 5)) * 3 + 1
    mean, var = group_conv.group_moments(y)
    np.testing.assert_allclose(mean, y.mean(axis=(0, 1, 2, 3)), rtol=1e-5)
    np.testing.assert_allclose(var, y.var(axis=(0, 1, 2, 3)), rtol=1e-5)

  def test_pure_function(self):
    y = _random((2, 3, 3, 4, 2))
    out = group_conv.group_batch_norm(y, mean=np.array([1., -1.]),
                                      var=np.array([4., 1.]),
                                      scale=np.array([2., 1.]),
                                      bias=np.array([0., 3.]), epsilon=1e-12)
    np.testing.assert_allclose(out[..., 0], (y[..., 0] - 1) / 2 * 2, atol=1e-5)
    np.testing.assert_allclose(out[..., 1], y[..., 1] + 1 + 3, atol=1e-5)

  def test_module_training_and_inference(self):
    y = _random((4, 5, 5, 4, 3)) * 2 + 5
    norm = group_conv.GroupBatchNorm(momentum=0.5)
    variables = norm.init(jax.random.PRNGKey(0), y, use_running_average=False)
    self.assertEqual(jax.tree_util.tree_map(jnp.shape, variables),
                     {'params': {'scale': (3,), 'bias': (3,)},
                      'batch_stats': {'mean': (3,), 'var': (3,)}})
    out, updates = norm.apply(variables, y, use_running_average=False,
                              mutable=['batch_stats'])
    np.testing.assert_allclose(np.mean(out, axis=(0, 1, 2, 3)), 0, atol=1e-4)
    np.testing.assert_allclose(np.var(out, axis=(0, 1, 2, 3)), 1, atol=1e-3)
    mean, var = group_conv.group_moments(y)
    np.testing.assert_allclose(updates['batch_stats']['mean'], 0.5 * mean,
                               rtol=1e-5)
    np.testing.assert_allclose(updates['batch_stats']['var'],
                               0.5 + 0.5 * var, rtol=1e-5)
    inference = norm.apply({**variables, **updates}, y,
                           use_running_average=True)
    np.testing.assert_allclose(
        inference, group_conv.group_batch_norm(y, mean=0.5 * mean,
                                               var=0.5 + 0.5 * var), rtol=1e-4)

  def test_training_mode_is_equivariant(self):
    y = _random((2, 5, 5, 8, 3))
    norm = group_conv.GroupBatchNorm(use_running_average=False)
    variables = norm.init(jax.random.PRNGKey(0), y)

    def fn(y):
      return norm.apply(variables, y, mutable=['batch_stats'])[0]

    for g in (1, 6):
      action = _P4M.regular_action(g)
      np.testing.assert_allclose(fn(action(y)), action(fn(y)), atol=1e-5)


def _shapes(module, *inputs):
  return jax.tree_util.tree_map(
      jnp.shape, jax.eval_shape(module.init, jax.random.PRNGKey(0), *inputs))


class ModuleTest(parameterized.TestCase):

  def test_lifting_conv_module_is_the_pure_function_plus_bias(self):
    x = _random((2, 7, 7, 3))
    module = group_conv.LiftingConv(group=_P4M, features=5, padding='zeros')
    self.assertEqual(_shapes(module, x),
                     {'params': {'kernel': (3, 3, 3, 5), 'bias': (5,)}})
    params = {'kernel': _random((3, 3, 3, 5), seed=1),
              'bias': _random((5,), seed=2)}
    out = module.apply({'params': params}, x)
    self.assertEqual(out.shape, (2, 7, 7, 8, 5))
    np.testing.assert_allclose(
        out, group_conv.lifting_conv2d(x, params['kernel'], group=_P4M,
                                       padding='zeros') + params['bias'],
        atol=1e-5)

  @parameterized.parameters((_P4, 4), (_P4M, 8), (groups.Cyclic(8), 8))
  def test_group_conv_param_shapes(self, group, order):
    y = _random((1, 5, 5, order, 3))
    module = group_conv.GroupConv(group=group, features=2, kernel_size=5,
                                  stride=2, use_bias=False)
    self.assertEqual(_shapes(module, y),
                     {'params': {'kernel': (5, 5, order, 3, 2)}})
    out = module.apply({'params': {'kernel': _random((5, 5, order, 3, 2))}},
                       y)
    self.assertEqual(out.shape, (1, 3, 3, order, 2))

  def test_group_conv_init_scale_uses_the_whole_fan_in(self):
    # lecun_normal: variance 1 / (k * k * G * C).
    module = group_conv.GroupConv(group=_P4M, features=32, use_bias=False)
    kernel = module.init(jax.random.PRNGKey(0), np.ones(
        (1, 3, 3, 8, 16), np.float32))['params']['kernel']
    self.assertAlmostEqual(float(np.var(kernel)) * 3 * 3 * 8 * 16, 1.0,
                           delta=0.1)


class InterpolatedGroupTest(absltest.TestCase):

  def test_c8_exact_elements_are_exact(self):
    # Quarter turns of C8 are Rot90: exact even though C8 is not.
    c8 = groups.Cyclic(8)
    x = _random((2, 7, 7, 2))
    kernel = _random((3, 3, 2, 3), seed=1)
    fn = functools.partial(group_conv.lifting_conv2d, kernel=kernel, group=c8,
                           padding='zeros')
    for g in (0, 2, 4, 6):
      actual, expected = groups.transformed_pair(
          fn, x, c8.grid_action(g), c8.regular_action(g))
      np.testing.assert_allclose(actual, expected, atol=1e-5)

  def test_c8_filters_at_45_degrees_are_interpolated(self):
    kernel = np.zeros((3, 3, 1, 1), np.float32)
    kernel[1, 2] = 1.0  # one tap right of centre
    filters = np.asarray(group_conv.lifting_filters(kernel,
                                                    group=groups.Cyclic(8)))
    rotated = filters[:, :, 0, 1]  # element 1: 45 degrees counter-clockwise
    self.assertGreater(rotated[0, 2], 0)  # weight moves up-right
    self.assertLess(rotated.max(), 1.0)  # spread over several taps


if __name__ == '__main__':
  absltest.main()
