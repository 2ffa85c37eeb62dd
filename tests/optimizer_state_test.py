"""config.optimizer_state: the optimiser's state as one vector or a tree.

'flat' (optax.flatten, the default of configs/train.py) must take the same
steps as 'tree' (one state array per parameter), compile fewer kernels, and
leave the runs recorded before the option resumable: their configs lack the
key, which stands for 'tree' (config_history.LEGACY_VALUES).
"""

import json
import os
import shutil

from absl.testing import absltest
from absl.testing import parameterized
import jax
import numpy as np
import optax

from benchmarks import compile_time
from experiments import train
from experiments.configs import train as train_config
from experiments.train import config_history
from tests import train_test

# A parameter tree of six arrays of four ranks (shapes of a small CNN).
SHAPES = {'conv0': {'kernel': (3, 3, 1, 4), 'bias': (4,)},
          'conv1': {'kernel': (3, 3, 4, 8), 'bias': (8,)},
          'dense': {'kernel': (8, 10), 'bias': (10,)}}


def random_tree(seed, scale=1.0):
  rng = np.random.default_rng(seed)
  return jax.tree.map(
      lambda shape: (scale * rng.standard_normal(shape)).astype(np.float32),
      SHAPES, is_leaf=lambda s: isinstance(s, tuple))


def optimizer(layout, **changes):
  config = train_config.get_config('tiny')
  config.update(dict(optimizer_state=layout, warmup_steps=0, **changes))
  return train.make_optimizer(train_test.step_settings(config))


class FlatStateTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('adam', {}),
      ('adamw', dict(weight_decay=0.01)),
      ('sgd_momentum', dict(optimizer='sgd')),
      ('sgd_weight_decay', dict(optimizer='sgd', weight_decay=0.01)))
  def test_flat_takes_the_steps_of_the_tree(self, changes):
    params = {layout: random_tree(0) for layout in ('flat', 'tree')}
    for layout in params:
      tx = optimizer(layout, **changes)
      state = tx.init(params[layout])
      # Gradients with entries near 0, where Adam's update is most sensitive.
      for step in range(3):
        grads = random_tree(step + 1, scale=10.0 ** -(3 * step))
        updates, state = tx.update(grads, state, params[layout])
        params[layout] = optax.apply_updates(params[layout], updates)
      moments = [leaf for leaf in jax.tree.leaves(state) if leaf.ndim]
      if layout == 'flat':  # one vector per moment
        size = sum(np.prod(s) for s in jax.tree.leaves(
            SHAPES, is_leaf=lambda s: isinstance(s, tuple)))
        self.assertTrue(moments)
        self.assertTrue(all(m.shape == (size,) for m in moments))
      else:
        self.assertLen(moments, 6 * (2 if changes.get('optimizer') != 'sgd'
                                     else 1))
    for a, b in zip(jax.tree.leaves(params['flat']),
                    jax.tree.leaves(params['tree'])):
      np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)

  def test_flat_compiles_fewer_kernels(self):
    params = random_tree(0)
    kernels = {}
    for layout in ('flat', 'tree'):
      tx = optimizer(layout)

      def step(params, state, grads, tx=tx):
        updates, state = tx.update(grads, state, params)
        return optax.apply_updates(params, updates), state
      compiled = jax.jit(step).lower(params, tx.init(params), params).compile()
      kernels[layout] = compile_time.fusion_count(compiled)
    # Tree: two moments and the update per array (3 x 6) and the schedule's
    # scalars; flat: the update of each array, the same scalars and a few
    # kernels over the vector (measured: 22 and 14).
    self.assertGreaterEqual(kernels['tree'], 18)
    self.assertLessEqual(kernels['flat'], kernels['tree'] - 8)
    print(f'fused kernels of one Adam update of 6 arrays: {kernels}')

  def test_unknown_layout_is_rejected(self):
    config = train_config.get_config('tiny')
    config.optimizer_state = 'nested'
    with self.assertRaisesRegex(ValueError, r"config.optimizer_state must be "
                                r"one of 'flat', 'tree'; got 'nested'"):
      train.check_config(config)


class RunFromBeforeTheOptionTest(train_test.TinyRunTestCase):
  """A tiny run trained with tree state, its records stripped of the key."""
  CONFIG_CHANGES = {'optimizer_state': 'tree'}

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    # What a run of the code before the option recorded: no such key.
    history = os.path.join(cls.workdir, config_history.HISTORY_NAME)
    with open(history) as f:
      entries = [json.loads(line) for line in f]
    with open(history, 'w') as f:
      for entry in entries:
        del entry['config']['optimizer_state']
        f.write(json.dumps(entry) + '\n')

  def copy(self, name):
    workdir = os.path.join(self.tmp, name)
    shutil.copytree(self.workdir, workdir)
    return workdir

  def test_the_new_default_is_refused_naming_the_key(self):
    config = train_config.get_config('tiny')  # optimizer_state='flat'
    with self.assertRaisesRegex(config_history.IncompatibleConfigError,
                                r"optimizer_state: 'tree' -> 'flat'"):
      train.train(config, self.copy('refused'))

  def test_tree_resumes_and_a_config_without_the_key_means_tree(self):
    config = train_config.get_config('tiny')
    del config['optimizer_state']
    config_history.check_resumable(self.workdir, config)
    config.optimizer_state = 'tree'
    config_history.check_resumable(self.workdir, config)
    # As if the old run had died after its step-3 checkpoint: the resumed
    # run ends bit-identical to the uninterrupted one.
    workdir = self.copy('resumed')
    shutil.rmtree(os.path.join(workdir, train.CHECKPOINT_DIR, '6'))
    resumed = train.train(config, workdir)
    for part in ('params', 'batch_stats', 'opt_state'):
      train_test.assert_trees_equal(self, getattr(resumed.state, part),
                                    getattr(self.result.state, part))
    last = config_history.read_history(workdir)[-1]
    self.assertEqual((last['step'], last['changes']), (3, {}))


if __name__ == '__main__':
  absltest.main()
