"""Tests of models.cnn (CNN, MLP, ResNet) and models.registry.

Speed: shapes and parameter counts come from ``jax.eval_shape`` (tracing, no
compile), and numeric tests fill the variables with seeded NumPy draws instead
of compiling ``model.init``; each numeric variant compiles one ``apply``.
"""

import dataclasses
import functools
import itertools

from absl.testing import absltest
from absl.testing import parameterized
import flax.linen as nn
from flax import traverse_util
import jax
import numpy as np

import groups
from groups import testing
import layers
import models
from models import cnn
from models import registry

_KEY = jax.random.key(0)


def _shapes(model, x, **kwargs):
  """``(variables, logits)`` as ShapeDtypeStructs, without compiling."""
  logits, variables = jax.eval_shape(
      functools.partial(model.init_with_output, **kwargs), _KEY, x)
  return variables, logits


def _num_params(variables) -> int:
  return sum(int(np.prod(leaf.shape))
             for leaf in jax.tree_util.tree_leaves(variables['params']))


def random_variables(model, x, *, seed: int = 0):
  """Variables of ``model`` drawn by NumPy (O(1) outputs, no init compile)."""
  shapes, _ = _shapes(model, x)
  rng = np.random.default_rng(seed)
  flat = {}
  for path, leaf in traverse_util.flatten_dict(shapes).items():
    shape, leaf_name = leaf.shape, path[-1]
    if leaf_name == 'kernel':
      value = rng.standard_normal(shape) / np.sqrt(np.prod(shape[:-1]))
    elif leaf_name == 'scale':
      value = 1 + 0.1 * rng.standard_normal(shape)
    elif leaf_name == 'var':
      value = rng.uniform(0.5, 1.5, shape)
    else:  # biases and running means
      value = 0.1 * rng.standard_normal(shape)
    flat[path] = value.astype(np.float32)
  return traverse_util.unflatten_dict(flat)


def _logits_fn(model, x, *, seed: int = 0):
  variables = random_variables(model, x, seed=seed)
  return jax.jit(lambda v: model.apply(variables, v, train=False))


@dataclasses.dataclass(frozen=True)
class _RolledShift(groups.CircularShift):
  """``groups.CircularShift`` computed by ``np.roll``.

  The same map (checked below), but eager ``jnp.roll`` compiles one XLA
  program per distinct shift (~0.2 s each), which would make "every shift of
  a 16x16 grid" cost a minute.
  """

  def __call__(self, x):
    return np.roll(np.asarray(x), (self.dy, self.dx), axis=(1, 2))


def _noise(shape, seed=0):
  return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


class ShapeTest(parameterized.TestCase):

  @parameterized.product(downsampling=cnn.DOWNSAMPLINGS, head=cnn.HEADS,
                         size=(32, 28))
  def test_cnn_logits_shape(self, downsampling, head, size):
    model = models.CNN(downsampling=downsampling, head=head)
    x = np.zeros((2, size, size, 1), np.float32)
    variables, logits = _shapes(model, x)
    self.assertEqual(logits.shape, (2, 10))
    self.assertEqual(logits.dtype, np.float32)
    self.assertEqual(set(variables), {'params'})

  @parameterized.product(downsampling=cnn.DOWNSAMPLINGS, size=(32, 28))
  def test_resnet_logits_shape(self, downsampling, size):
    model = models.ResNet(downsampling=downsampling, num_classes=7)
    x = np.zeros((2, size, size, 3), np.float32)
    variables, logits = _shapes(model, x)
    self.assertEqual(logits.shape, (2, 7))
    self.assertEqual(set(variables), {'params', 'batch_stats'})

  @parameterized.parameters(32, 28)
  def test_mlp_logits_shape(self, size):
    _, logits = _shapes(models.MLP(num_classes=3),
                        np.zeros((4, size, size, 1), np.float32))
    self.assertEqual(logits.shape, (4, 3))

  def test_parameter_trees_of_variants_line_up(self):
    x = np.zeros((1, 32, 32, 1), np.float32)
    trees = {d: jax.tree_util.tree_structure(_shapes(
        models.CNN(downsampling=d), x)[0]) for d in cnn.DOWNSAMPLINGS}
    self.assertLen(set(trees.values()), 1)

  def test_batch_norm_trains_with_mutable_batch_stats(self):
    model = models.CNN(norm='batch', widths=(4, 8))
    x = _noise((3, 16, 16, 1))
    variables = random_variables(model, x)
    logits, updates = jax.jit(functools.partial(
        model.apply, train=True, mutable=['batch_stats']))(variables, x)
    self.assertEqual(logits.shape, (3, 10))
    self.assertEqual(set(updates['batch_stats']), {'norm0', 'norm1'})

  def test_aps_on_a_grid_it_cannot_halve_raises(self):
    model = models.CNN(downsampling='aps', widths=(4, 4, 4, 4))
    with self.assertRaisesRegex(
        ValueError, r"downsampling='aps' halves the grid 3 times .* divisible "
        r'by 8; got H, W = 28, 28'):
      _shapes(model, np.zeros((1, 28, 28, 1), np.float32))
    # Other downsamplings take odd grids (floor for pools, ceil for strides).
    for downsampling in ('max', 'strided_conv', 'blur_conv'):
      _, logits = _shapes(models.CNN(downsampling=downsampling,
                                     widths=(4, 4, 4, 4)),
                          np.zeros((1, 28, 28, 1), np.float32))
      self.assertEqual(logits.shape, (1, 10))


class ParameterCountTest(parameterized.TestCase):
  """Pinned counts: a change here is a change of architecture."""

  @parameterized.named_parameters(
      # 160 + 4640 + 18496 (3x3 convs with bias) + 650 (dense 64 -> 10).
      ('cnn_default', models.CNN(), (1, 32, 32, 1), 23946),
      # The fc head sees the 8x8x64 map: 8 * 8 * 64 * 10 + 10 = 40970.
      ('cnn_fc_head', models.CNN(head='fc'), (1, 32, 32, 1), 23296 + 40970),
      # Batch norm: convs lose their bias (112) and gain scale + bias (224).
      ('cnn_batch_norm', models.CNN(norm='batch'), (1, 32, 32, 1), 24058),
      # 784 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10.
      ('mlp_default_mnist', models.MLP(), (1, 28, 28, 1), 269322),
      # stem 464, blocks 4672 + 14528 + 57728, head 650.
      ('resnet_default_cifar', models.ResNet(), (1, 32, 32, 3), 78042),
      ('resnet20_cifar', models.ResNet20(), (1, 32, 32, 3), 272474),
  )
  def test_count(self, model, shape, expected):
    variables, _ = _shapes(model, np.zeros(shape, np.float32))
    self.assertEqual(_num_params(variables), expected)

  def test_downsampling_does_not_change_the_count(self):
    x = np.zeros((1, 32, 32, 3), np.float32)
    counts = {d: _num_params(_shapes(models.ResNet(downsampling=d), x)[0])
              for d in cnn.DOWNSAMPLINGS if d != 'none'}
    self.assertEqual(set(counts.values()), {78042})


class InvarianceTest(parameterized.TestCase):
  """Exact shift invariance where the theory promises it, and its breakage."""

  @parameterized.named_parameters(
      ('cnn_stride1_global_avg', models.CNN(downsampling='none')),
      ('cnn_aps_global_avg', models.CNN(downsampling='aps')),
      ('cnn_aps_global_max_no_blur_batch_norm', models.CNN(
          downsampling='aps', head='global_max', filter_size=1,
          norm='batch')),
      ('resnet_aps', models.ResNet(downsampling='aps')),
  )
  def test_exactly_invariant_to_every_circular_shift(self, model):
    x = _noise((2, 16, 16, 1))
    fn = _logits_fn(model, x)
    for dy, dx in itertools.product(range(16), range(16)):
      testing.assert_equivariant(
          fn, _RolledShift(dy, dx), x,
          output_transform=groups.Identity(), atol=1e-5, rtol=1e-5)

  @parameterized.parameters((32, 'global_avg'), (28, 'global_max'))
  def test_aps_exactly_invariant_on_32_and_28(self, size, head):
    x = _noise((2, size, size, 1), seed=size)
    fn = _logits_fn(models.CNN(downsampling='aps', head=head), x)
    for shift in ((1, 0), (0, 1), (3, -5), (size // 2, size // 2 + 1)):
      testing.assert_equivariant(
          fn, _RolledShift(*shift), x, output_transform=groups.Identity(),
          atol=1e-5, rtol=1e-5)

  @parameterized.named_parameters(
      ('cnn_max_pool', models.CNN(downsampling='max'), (1, 0)),
      ('cnn_strided_conv', models.CNN(downsampling='strided_conv'), (1, 1)),
      ('cnn_fc_head', models.CNN(downsampling='none', head='fc'), (2, 3)),
      ('resnet_strided_conv', models.ResNet(), (1, 0)),
      ('mlp', models.MLP(), (1, 0)),
  )
  def test_negative_control_breaks(self, model, shift):
    x = _noise((4, 16, 16, 1))
    fn = _logits_fn(model, x)
    testing.assert_not_equivariant(
        fn, groups.CircularShift(*shift), x, min_error=1e-3,
        output_transform=groups.Identity())

  def test_rolled_shift_is_circular_shift(self):
    x = _noise((2, 5, 4, 3))
    for shift in ((1, 0), (-2, 3), (7, -9)):
      np.testing.assert_array_equal(_RolledShift(*shift)(x),
                                    groups.CircularShift(*shift)(x))

  def test_max_pool_is_invariant_to_shifts_by_the_total_stride(self):
    # The other half of the max-pool story: stride 4 in total, so a shift by
    # (4, 8) is exact; the 1-pixel case above breaks.
    x = _noise((2, 16, 16, 1))
    fn = _logits_fn(models.CNN(downsampling='max'), x)
    testing.assert_equivariant(fn, groups.CircularShift(4, 8), x,
                               output_transform=groups.Identity())


class PolyphaseTest(absltest.TestCase):

  def test_take_polyphase_of_aps_indices_equals_aps_pool(self):
    x = _noise((3, 8, 6, 2))
    for filter_size in (1, 3):

      @jax.jit
      def both(x, filter_size=filter_size):
        indices = layers.aps_indices(x, filter_size=filter_size)
        return (layers.take_polyphase(x, indices, filter_size=filter_size),
                layers.aps_pool(x, stride=2, filter_size=filter_size,
                                norm='l2'))

      np.testing.assert_array_equal(*both(x))


class RegistryTest(absltest.TestCase):

  def test_builds_each_model_with_options(self):
    self.assertIsInstance(registry.build_model('cnn', downsampling='aps'),
                          models.CNN)
    self.assertIsInstance(registry.build_model('mlp'), models.MLP)
    self.assertIsInstance(registry.build_model('resnet', blocks_per_stage=2),
                          models.ResNet)

  def test_lists_become_tuples(self):
    model = registry.build_model('cnn', widths=[4, 8])
    self.assertEqual(model.widths, (4, 8))

  def test_unknown_name_lists_the_registered_ones(self):
    with self.assertRaisesRegex(
        ValueError, r"^name must be one of 'cnn', 'mlp', 'resnet'.*; got "
        r"'vgg'"):
      registry.build_model('vgg')

  def test_unknown_option_lists_the_fields(self):
    with self.assertRaisesRegex(
        ValueError, r"^unknown option 'pooling' for model 'cnn'; accepted: "
        r'num_classes, widths, downsampling, head, padding, filter_size, '
        r'norm\.'):
      registry.build_model('cnn', pooling='max')

  def test_register_a_partial_and_refuse_a_clash(self):
    tiny = functools.partial(models.CNN, widths=(4,))
    self.addCleanup(registry.MODELS.pop, 'tiny_cnn_for_test', None)
    registry.register_model('tiny_cnn_for_test', tiny)
    registry.register_model('tiny_cnn_for_test', tiny)  # same: a no-op
    model = registry.build_model('tiny_cnn_for_test', head='fc')
    self.assertEqual((model.widths, model.head), ((4,), 'fc'))
    self.assertIn('widths', registry.model_options('tiny_cnn_for_test'))
    with self.assertRaisesRegex(ValueError, 'already registered'):
      registry.register_model('tiny_cnn_for_test', models.MLP)
    with self.assertRaisesRegex(ValueError, '^cls must be a flax.linen.Module'):
      registry.register_model('not_a_module', lambda: None)

  def test_register_model_as_a_class_decorator(self):
    self.addCleanup(registry.MODELS.pop, 'decorated_for_test', None)

    @registry.register_model('decorated_for_test')
    class Decorated(models.MLP):
      pass

    self.assertIs(registry.MODELS['decorated_for_test'], Decorated)
    self.assertIsInstance(registry.build_model('decorated_for_test'),
                          Decorated)
    self.assertIs(registry.MODELS['cnn'], models.CNN)

  def test_module_fields_are_the_documented_interface(self):
    self.assertEqual(registry.model_options('cnn'), (
        'num_classes', 'widths', 'downsampling', 'head', 'padding',
        'filter_size', 'norm'))
    self.assertEqual(registry.model_options('mlp'), ('num_classes', 'hidden'))
    self.assertEqual(registry.model_options('resnet'), (
        'num_classes', 'widths', 'blocks_per_stage', 'downsampling', 'head',
        'padding', 'filter_size', 'bn_momentum'))
    self.assertTrue(issubclass(models.CNN, nn.Module))


if __name__ == '__main__':
  absltest.main()
