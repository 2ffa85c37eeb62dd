"""Same seed and config give the same run; different seeds differ.

Two in-process runs of the tiny config (6 steps; the second reuses the
first's compiled code) and parameter initialisations for three seeds.
Across processes, ``tests/resume_test.py`` compares two ``main.py`` runs of
one command bit for bit.
"""

import os
import tempfile

from absl.testing import absltest
import jax
import numpy as np

from experiments import train
from experiments.configs import train as train_config

TIMING_KEYS = ('perf/steps_per_sec',)


def without_timing(records):
  return [{k: v for k, v in r.items() if k not in TIMING_KEYS}
          for r in records]


def initial_params(seed):
  """The parameters a run with ``config.seed = seed`` starts from."""
  config = train_config.get_config('tiny')
  train_data, _ = train.load_data(config)
  model = train.build_model(config.model, num_classes=train_data.num_classes)
  functions = train.compiled_functions(model, train.StepSettings.from_config(
      config, mean=train_data.mean, std=train_data.std))  # as train() does
  init_key, _ = train.seed_keys(seed)
  state = train.create_train_state(init_key, functions.model,
                                   train_data.images.shape[1:], functions.tx,
                                   init_fn=functions.init)
  return jax.device_get(state.params)


class DeterminismTest(absltest.TestCase):

  def test_same_seed_and_config_give_identical_runs(self):
    tmp = self.enter_context(tempfile.TemporaryDirectory())
    config = train_config.get_config('tiny')
    first = train.train(config, os.path.join(tmp, 'first'))
    second = train.train(config, os.path.join(tmp, 'second'))
    self.assertEqual(first.metrics, second.metrics)
    self.assertEqual(
        without_timing(train.read_metrics(os.path.join(tmp, 'first'))),
        without_timing(train.read_metrics(os.path.join(tmp, 'second'))))
    self.assertEqual(train.state_checksum(first.state),
                     train.state_checksum(second.state))
    config.seed = 1
    other = train.train(config, os.path.join(tmp, 'other_seed'))
    self.assertNotEqual(other.metrics['train/loss'],
                        first.metrics['train/loss'])

  def test_different_seeds_give_different_initialisations(self):
    seed0, seed0_again, seed1 = (initial_params(s) for s in (0, 0, 1))
    for a, b, c in zip(jax.tree.leaves(seed0), jax.tree.leaves(seed0_again),
                       jax.tree.leaves(seed1)):
      np.testing.assert_array_equal(a, b)
    kernels = [(path, a, c) for (path, a), c in zip(
        jax.tree_util.tree_flatten_with_path(seed0)[0],
        jax.tree.leaves(seed1)) if 'kernel' in jax.tree_util.keystr(path)]
    self.assertNotEmpty(kernels)
    for path, a, c in kernels:
      self.assertFalse(np.array_equal(a, c), jax.tree_util.keystr(path))


if __name__ == '__main__':
  absltest.main()
