"""models.antialias on a ResNet written the flax-examples way (defined here only).

The model uses ``nn.Conv(strides=2)`` (stem, first block of each stage and its
``conv_proj`` shortcut) and ``nn.max_pool(strides=2)``; nothing in it knows
about equivlab. The converted models keep its parameter tree, load its
weights, leave no strided op behind, and are more (blur) or exactly (APS,
LPS with circular padding) invariant to a 1-pixel circular shift.
"""

import functools
from collections.abc import Callable, Sequence
from typing import Any

from absl.testing import absltest
from absl.testing import parameterized
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

import groups
from layers import initializers
import models

ModuleDef = Any


class ResNetBlock(nn.Module):
  """flax/examples/imagenet/models.py's ResNetBlock, verbatim in spirit."""
  filters: int
  conv: ModuleDef
  norm: ModuleDef
  act: Callable
  strides: tuple[int, int] = (1, 1)

  @nn.compact
  def __call__(self, x):
    residual = x
    y = self.conv(self.filters, (3, 3), self.strides)(x)
    y = self.norm()(y)
    y = self.act(y)
    y = self.conv(self.filters, (3, 3))(y)
    y = self.norm(scale_init=nn.initializers.zeros_init())(y)
    if residual.shape != y.shape:
      residual = self.conv(self.filters, (1, 1), self.strides,
                           name='conv_proj')(residual)
      residual = self.norm(name='norm_proj')(residual)
    return self.act(residual + y)


class ResNet(nn.Module):
  """flax-examples ResNet (small stem for 32x32 inputs)."""
  stage_sizes: Sequence[int] = (1, 1, 1)
  num_classes: int = 10
  num_filters: int = 8
  padding: str = 'SAME'

  @nn.compact
  def __call__(self, x, train: bool = True):
    # flax's default kernel init, drawn flat (layers.initializers: the same
    # weights; the jitted init compiles in seconds, not ~17 s).
    conv = functools.partial(nn.Conv, use_bias=False, padding=self.padding,
                             kernel_init=initializers.lecun_normal())
    norm = functools.partial(nn.BatchNorm, use_running_average=not train,
                             momentum=0.9, epsilon=1e-5)
    x = conv(self.num_filters, (3, 3), (2, 2), name='conv_init')(x)
    x = norm(name='bn_init')(x)
    x = nn.relu(x)
    x = nn.max_pool(x, (3, 3), strides=(2, 2), padding='SAME')
    for i, block_size in enumerate(self.stage_sizes):
      for j in range(block_size):
        strides = (2, 2) if i > 0 and j == 0 else (1, 1)
        x = ResNetBlock(self.num_filters * 2**i, strides=strides, conv=conv,
                        norm=norm, act=nn.relu)(x)
    x = jnp.mean(x, axis=(1, 2))
    return initializers.dense(self.num_classes)(x)


def _shapes(tree):
  return jax.tree.map(jnp.shape, tree)


class AntialiasTest(parameterized.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    rng = np.random.default_rng(0)
    cls.x = rng.standard_normal((6, 32, 32, 3)).astype(np.float32)
    cls.model = ResNet(padding='CIRCULAR')
    variables = jax.jit(functools.partial(cls.model.init, train=False))(
        jax.random.key(0), cls.x[:1])
    # Non-trivial batch statistics and a non-zero last-BN scale, as after
    # training (zero init would make every block an identity map).
    cls.variables = jax.tree.map(
        lambda v: v + 0.3 * rng.standard_normal(v.shape).astype(v.dtype),
        variables)
    cls.variables['batch_stats'] = jax.tree.map(
        jnp.abs, cls.variables['batch_stats'])

  def converted(self, method, filter_size=3):
    """The converted model and its variables: the original ones + new LPS."""
    smooth = models.antialias(self.model, method=method,
                              filter_size=filter_size, circular=True)
    if method != 'lps':  # no new parameters: the original variables as is
      return smooth, self.variables
    fresh = jax.jit(functools.partial(smooth.init, train=False))(
        jax.random.key(1), self.x[:1])
    params = {**fresh['params'], **self.variables['params']}  # old weights
    return smooth, {**self.variables, 'params': params}

  def invariance_error(self, model, variables):
    fn = jax.jit(lambda x: model.apply(variables, x, train=False))
    return float(np.mean(groups.equivariance_error(
        fn, self.x, groups.CircularShift(1, 1), groups.Identity())))

  @parameterized.parameters('blur', 'aps', 'lps')
  def test_parameter_tree_is_the_original(self, method):
    smooth = models.antialias(self.model, method=method, circular=True)
    fresh = jax.eval_shape(functools.partial(smooth.init, train=False),
                           jax.random.key(1), self.x[:1])
    added = sorted(set(fresh['params']) - set(self.variables['params']))
    if method == 'lps':
      # Stem conv, max pool, and one per downsampling block (the shortcut
      # shares the block's choice).
      self.assertEqual(added, ['lps_ResNetBlock_1_Conv_0',
                               'lps_ResNetBlock_2_Conv_0', 'lps_conv_init',
                               'lps_max_pool0'])
    else:
      self.assertEqual(added, [])
    fresh['params'] = {k: v for k, v in fresh['params'].items()
                       if k not in added}
    self.assertEqual(_shapes(fresh), _shapes(self.variables))

  @parameterized.parameters('blur', 'aps', 'lps')
  def test_no_strided_op_is_left(self, method):
    # conv_init, max_pool, 2 x (conv + conv_proj)
    self.assertLen(models.find_strided_ops(
        lambda x: self.model.apply(self.variables, x, train=False), self.x),
                   6)
    smooth = models.antialias(self.model, method=method, circular=True)
    variables = jax.eval_shape(functools.partial(smooth.init, train=False),
                               jax.random.key(1), self.x[:1])
    self.assertEqual(models.find_strided_ops(
        lambda v, x: smooth.apply(v, x, train=False), variables, self.x), [])

  def test_original_weights_run_and_invariance_improves(self):
    errors = {'original': self.invariance_error(self.model, self.variables)}
    for method, filter_size in (('blur', 3), ('blur', 5), ('aps', 1),
                                ('lps', 3)):
      smooth, variables = self.converted(method, filter_size)
      errors[f'{method}{filter_size}'] = self.invariance_error(smooth,
                                                               variables)
    print(f'1-pixel circular-shift invariance error: {errors}')
    # Measured: original 0.364, blur3 0.130, blur5 0.128, aps1 0, lps3
    # 2.8e-8 (the final mean over a 2x2 grid, summed in another order).
    self.assertGreater(errors['original'], 0.1)
    self.assertLess(errors['blur3'], 0.5 * errors['original'])
    self.assertLess(errors['blur5'], 0.5 * errors['original'])
    self.assertLess(errors['aps1'], 1e-5)
    self.assertLess(errors['lps3'], 1e-5)

  def test_lps_gradients_flow_in_training(self):
    smooth, variables = self.converted('lps')

    def loss(params):
      out, _ = smooth.apply({**variables, 'params': params}, self.x[:2],
                            train=True, rngs={'dropout': jax.random.key(2)},
                            mutable=['batch_stats'])
      return jnp.sum(out**2)

    grads = jax.jit(jax.grad(loss))(variables['params'])
    self.assertGreater(float(jnp.abs(
        grads['lps_conv_init']['logit_conv0_kernel']).sum()), 0.0)
    self.assertGreater(float(jnp.abs(grads['conv_init']['kernel']).sum()), 0)


class _LocalNet(nn.Module):
  @nn.compact
  def __call__(self, x):
    return nn.ConvLocal(2, (3, 3), strides=2)(x)


class _UnevenNet(nn.Module):
  @nn.compact
  def __call__(self, x):
    return nn.Conv(2, (3, 3), strides=(2, 1))(x)


class _ValidPoolNet(nn.Module):
  @nn.compact
  def __call__(self, x):
    return nn.max_pool(x, (2, 2), strides=(2, 2))


class UnsupportedTest(parameterized.TestCase):
  X = np.ones((1, 8, 8, 2), np.float32)

  @parameterized.named_parameters(
      ('conv_local', _LocalNet(), 'blur',
       r"^antialias cannot rewrite ConvLocal 'ConvLocal_0' with strides 2"),
      ('uneven_strides', _UnevenNet(), 'blur',
       r"^antialias needs equal strides along H and W; Conv 'Conv_0' has "
       r'strides \(2, 1\)'),
      ('aps_valid_pool', _ValidPoolNet(), 'aps',
       r"^antialias\(method='aps'\) needs the stride-1 output of nn.max_pool "
       r"in '<root>' to have H and W divisible by the stride 2"),
  )
  def test_clear_error(self, model, method, regex):
    with self.assertRaisesRegex(ValueError, regex):
      models.antialias(model, method=method).init(jax.random.key(0), self.X)

  def test_valid_pool_works_with_circular(self):
    out = models.antialias(_ValidPoolNet(), method='aps', circular=True).init(
        jax.random.key(0), self.X)
    self.assertEqual(out, {})

  def test_pools_are_restored_after_the_call(self):
    max_pool, avg_pool = nn.max_pool, nn.avg_pool
    models.antialias(_ValidPoolNet(), method='blur').init(jax.random.key(0),
                                                          self.X)
    self.assertIs(nn.max_pool, max_pool)
    self.assertIs(nn.avg_pool, avg_pool)


if __name__ == '__main__':
  absltest.main()
