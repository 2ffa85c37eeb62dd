"""Tests for models.gcnn: pinned sizes and exact rotation invariance.

Parameters are filled from NumPy on shapes found by ``jax.eval_shape``:
drawing them with flax's initializers compiles the random-number code once per
distinct shape, which costs more here than all the other checks together.
"""

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
import numpy as np

import groups
import models
from models import gcnn
from models import registry
from tests import captured_layers

_MNIST = (2, 28, 28, 1)


def _shapes(model, input_shape):
  x = jax.ShapeDtypeStruct(input_shape, jnp.float32)
  return jax.eval_shape(model.init, jax.random.PRNGKey(0), x)


def _random_variables(model, input_shape, seed=0):
  """Variables of ``model`` with random kernels, biases and running stats."""
  rng = np.random.default_rng(seed)

  def fill(path, leaf):
    name = path[-1].key
    if name == 'kernel':  # variance 1 / fan_in
      value = rng.standard_normal(leaf.shape) / np.sqrt(
          np.prod(leaf.shape[:-1]))
    elif name == 'var':
      value = rng.uniform(0.5, 2.0, leaf.shape)
    elif name == 'scale':
      value = rng.uniform(0.5, 2.0, leaf.shape)
    else:  # bias, running mean
      value = 0.1 * rng.standard_normal(leaf.shape)
    return jnp.asarray(value, jnp.float32)

  return jax.tree_util.tree_map_with_path(fill, _shapes(model, input_shape))


def _count(tree):
  return sum(int(np.prod(leaf.shape))
             for leaf in jax.tree_util.tree_leaves(tree))


class ParamCountTest(parameterized.TestCase):

  # Z2CNN: 6 convs (bias) + 6 BN (scale, bias) + 4x4 read-out:
  # (9*20 + 20) + 5*(9*20*20 + 20) + 6*2*20 + (16*20*10 + 10) = 21750.
  # P4CNN: (9*10 + 10) + 5*(9*4*10*10 + 10) + 6*2*10 + (16*4*10*10 + 10).
  # P4MCNN: (9*7 + 7) + 5*(9*8*7*7 + 7) + 6*2*7 + (16*8*7*10 + 10).
  @parameterized.named_parameters(('Z2CNN', models.Z2CNN, 21750),
                                  ('P4CNN', models.P4CNN, 24680),
                                  ('P4MCNN', models.P4MCNN, 26799))
  def test_pinned_parameter_counts(self, model, count):
    self.assertEqual(_count(_shapes(model(), _MNIST)['params']), count)

  def test_p4cnn_layer_shapes(self):
    shapes = jax.tree_util.tree_map(lambda leaf: leaf.shape,
                                    _shapes(models.P4CNN(), _MNIST))
    self.assertEqual(shapes['params']['lift1']['kernel'], (3, 3, 1, 10))
    self.assertEqual(shapes['params']['gconv2']['kernel'], (3, 3, 4, 10, 10))
    self.assertEqual(shapes['params']['readout']['kernel'], (4, 4, 4, 10, 10))
    self.assertEqual(shapes['params']['bn6'], {'scale': (10,), 'bias': (10,)})
    self.assertEqual(shapes['batch_stats']['bn1'],
                     {'mean': (10,), 'var': (10,)})

  def test_hidden_layers_have_about_as_many_weights_as_z2cnn(self):
    z2 = 3 * 3 * 20 * 20
    self.assertEqual(3 * 3 * 4 * 10 * 10, z2)  # P4CNN
    self.assertLess(abs(3 * 3 * 8 * 7 * 7 - z2) / z2, 0.03)  # P4MCNN


class ShapeTest(parameterized.TestCase):

  @parameterized.parameters(((2, 28, 28, 1), 'valid'),
                            ((3, 40, 36, 1), 'valid'),
                            ((2, 16, 16, 3), 'zeros'),
                            ((1, 9, 9, 1), 'circular'))
  def test_logits_shape(self, input_shape, padding):
    model = models.P4CNN(padding=padding)
    variables = _shapes(model, input_shape)
    logits = jax.eval_shape(model.apply, variables,
                            jax.ShapeDtypeStruct(input_shape, jnp.float32))
    self.assertEqual(logits.shape, (input_shape[0], 10))

  def test_valid_padding_needs_28_pixels(self):
    with self.assertRaisesRegex(ValueError, "padding='valid' needs"):
      _shapes(models.P4CNN(), (1, 27, 27, 1))


class InvarianceTest(parameterized.TestCase):
  """Eval-mode logits under the input action of every group element."""

  def _max_error(self, model, input_shape, elements):
    variables = _random_variables(model, input_shape)
    fn = jax.jit(lambda x: model.apply(variables, x))
    x = np.random.default_rng(1).standard_normal(input_shape).astype(
        np.float32)
    self.assertGreater(float(np.std(fn(x))), 1e-3)  # not a dead network
    error = max(float(groups.equivariance_error(
        fn, x, transform, groups.Identity()).max()) for transform in elements)
    print(f'{self._testMethodName}: input {input_shape}, largest relative '
          f'invariance error {error:.2g}')
    return error

  def test_p4cnn_is_exactly_invariant_on_28x28(self):
    # 28 -> 26 -> 24: the 2x2 pool sees an even map, whose windows a
    # rotation about the centre maps onto windows. Measured: 2.3e-6 (float
    # rounding; `pytest -s` prints it).
    p4 = groups.Cyclic(4)
    self.assertLess(self._max_error(
        models.P4CNN(), _MNIST, [p4.grid_action(g) for g in (1, 2, 3)]), 1e-5)

  def test_p4mcnn_is_exactly_invariant_on_28x28(self):
    # Measured: 1.7e-6.
    d4 = groups.Dihedral(4)
    self.assertLess(self._max_error(
        models.P4MCNN(), _MNIST,
        [d4.grid_action(g) for g in range(1, 8)]), 1e-5)

  def test_p4cnn_with_3x3_pool_is_exactly_invariant_on_odd_inputs(self):
    # 29 -> 27 -> 25: a 3x3 stride-2 pool has centred windows on odd maps.
    # Measured: 9.9e-7.
    self.assertLess(self._max_error(
        models.P4CNN(pool_window=3), (2, 29, 29, 1), [groups.Rot90(1)]),
                    1e-5)

  def test_p4cnn_with_2x2_pool_is_not_invariant_on_odd_inputs(self):
    # 29 -> 25: the 2x2 pool drops the last row and column, which a rotation
    # brings to the first. Measured: 0.51.
    self.assertGreater(self._max_error(
        models.P4CNN(), (2, 29, 29, 1), [groups.Rot90(1)]), 0.05)

  def test_z2cnn_is_not_invariant(self):
    # Negative control: the ordinary CNN. Measured: 0.55.
    self.assertGreater(self._max_error(
        models.Z2CNN(), _MNIST, [groups.Rot90(1)]), 0.05)


class TrainModeTest(absltest.TestCase):

  def test_train_step_updates_batch_stats_and_uses_dropout(self):
    model = models.Z2CNN(padding='zeros')  # dropout 0.3
    input_shape = (2, 12, 12, 1)
    variables = _random_variables(model, input_shape)
    x = np.random.default_rng(1).standard_normal(input_shape).astype(
        np.float32)

    @jax.jit
    def train(x, seed):
      return model.apply(variables, x, train=True, mutable=['batch_stats'],
                         rngs={'dropout': jax.random.PRNGKey(seed)})

    logits, updates = train(x, 0)
    self.assertEqual(logits.shape, (2, 10))
    self.assertFalse(np.allclose(updates['batch_stats']['bn1']['mean'],
                                 variables['batch_stats']['bn1']['mean']))
    self.assertFalse(np.allclose(train(x, 1)[0], logits))  # new dropout mask


class RegistryTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('z2cnn', 'z2cnn', groups.Cyclic(1), 20, 0.3),
      ('p4cnn', 'p4cnn', groups.Cyclic(4), 10, 0.0),
      ('p4mcnn', 'p4mcnn', groups.Dihedral(4), 7, 0.0))
  def test_build_model_by_name(self, name, group, channels, dropout_rate):
    model = registry.build_model(name)
    self.assertIsInstance(model, gcnn.GCNN)
    self.assertEqual((model.group, model.channels, model.dropout_rate),
                     (group, channels, dropout_rate))
    self.assertIs(models.MODELS[name], getattr(gcnn, name.upper()))

  @parameterized.parameters('z2cnn', 'p4cnn', 'p4mcnn')
  def test_build_model_options_reach_the_module(self, name):
    model = registry.build_model(name, channels=2, num_classes=3,
                                 dropout_rate=0.0)
    self.assertEqual((model.channels, model.num_classes), (2, 3))
    shapes = _shapes(model, _MNIST)
    self.assertEqual(shapes['params']['lift1']['kernel'].shape[-1], 2)
    logits = jax.eval_shape(model.apply, shapes,
                            jax.ShapeDtypeStruct(_MNIST, jnp.float32))
    self.assertEqual(logits.shape, (2, 3))

  def test_unknown_option_names_the_fields(self):
    with self.assertRaisesRegex(ValueError, 'channels'):
      registry.build_model('p4cnn', width=3)

  def test_registration_is_idempotent(self):
    registry.register_model('p4cnn', gcnn.P4CNN)
    self.assertIs(registry.MODELS['p4cnn'], gcnn.P4CNN)


def _legacy_actions(model, degrees):
  """experiments/layer_equivariance.py's G-CNN actions before issue 27.

  Submodule names hard-coded there: 'lift1', 'gconv{layer}', 'bn{layer}',
  and flax's automatic 'Dropout_{n}', n counting the dropouts, which the
  model now names 'dropout{layer}' (no parameters: the trees are unchanged).
  """
  g = groups.rotation_element(model.group, degrees)
  action = None if g is None else model.group.regular_action(g)
  names = []
  for layer in range(1, 7):
    names += ['lift1' if layer == 1 else f'gconv{layer}', f'bn{layer}']
    if layer != 2 and model.dropout_rate:  # identity in eval mode
      names.append(f'dropout{layer}')      # was f'Dropout_{n}'
  return dict.fromkeys(names + ['readout'], action)


class LayerActionsTest(parameterized.TestCase):

  @parameterized.product(name=('p4cnn', 'p4mcnn', 'z2cnn'),
                         degrees=(90.0, 45.0))
  def test_same_actions_as_the_experiment_had(self, name, degrees):
    model = registry.build_model(name)
    actions = model.layer_actions(degrees)
    expected = _legacy_actions(model, degrees)
    self.assertEqual(list(actions), list(expected))
    self.assertEqual([repr(a) for a in actions.values()],
                     [repr(a) for a in expected.values()])
    self.assertEqual([type(a) for a in actions.values()],
                     [type(a) for a in expected.values()])

  def test_what_the_actions_are(self):
    p4 = models.P4CNN().layer_actions(90)
    self.assertLen(p4, 13)  # 6 convs, 6 batch norms, the read-out
    self.assertTrue(all(a == groups.Cyclic(4).regular_action(1)
                        for a in p4.values()))
    self.assertTrue(all(a is None
                        for a in models.P4CNN().layer_actions(45).values()))
    d8 = models.GCNN(group='D8', channels=2).layer_actions(-45)
    self.assertEqual(d8['readout'], groups.Dihedral(8).regular_action(7))
    self.assertIn('dropout6', models.Z2CNN().layer_actions(0))
    self.assertNotIn('dropout2', models.Z2CNN().layer_actions(0))  # a pool

  @parameterized.parameters('p4cnn', 'z2cnn')
  def test_names_every_captured_layer_in_forward_order(self, name):
    model = registry.build_model(name, channels=2)
    self.assertEqual(list(model.layer_actions(90)),
                     captured_layers.captured_layers(model, _MNIST))

  def test_dropout_names_leave_the_parameter_tree_unchanged(self):
    with_dropout = _shapes(models.Z2CNN(), _MNIST)
    without = _shapes(models.Z2CNN(dropout_rate=0.0), _MNIST)
    self.assertEqual(jax.tree_util.tree_structure(with_dropout),
                     jax.tree_util.tree_structure(without))

  def test_bad_degrees(self):
    with self.assertRaisesRegex(ValueError, '^degrees must be a finite'):
      models.P4CNN().layer_actions(float('nan'))


class GroupByNameTest(parameterized.TestCase):

  @parameterized.named_parameters(('C8', 'C8', groups.Cyclic(8)),
                                  ('D2', 'D2', groups.Dihedral(2)),
                                  ('p4m', 'p4m', groups.Dihedral(4)))
  def test_group_by_name_builds_the_same_model(self, name, group):
    by_name = registry.build_model('p4cnn', group=name, channels=2)
    by_object = registry.build_model('p4cnn', group=group, channels=2)
    shapes = _shapes(by_name, _MNIST)
    self.assertEqual(
        jax.tree_util.tree_map(lambda leaf: leaf.shape, shapes),
        jax.tree_util.tree_map(lambda leaf: leaf.shape,
                               _shapes(by_object, _MNIST)))
    self.assertEqual(shapes['params']['gconv2']['kernel'].shape,
                     (3, 3, group.order, 2, 2))
    self.assertEqual(by_name.layer_actions(180),
                     by_object.layer_actions(180))

  def test_d2_by_name_is_exactly_invariant(self):
    model = models.GCNN(group='D2', channels=2)
    variables = _random_variables(model, _MNIST)
    x = np.random.default_rng(1).standard_normal(_MNIST).astype(np.float32)
    fn = jax.jit(lambda x: model.apply(variables, x))
    d2 = groups.Dihedral(2)
    error = max(float(groups.equivariance_error(
        fn, x, d2.grid_action(g), groups.Identity()).max())
                for g in range(1, d2.order))
    self.assertLess(error, 1e-5)


if __name__ == '__main__':
  absltest.main()
