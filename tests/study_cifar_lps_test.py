"""experiments/configs/study_cifar_lps.py: its models build, its ':tiny' runs.

The full CIFAR-10 study (five 30-minute CPU trainings) is not run here; the
tiny variant trains a blur and an LPS ResNet for two steps on 64 images and
checks the columns and the exact facts that hold even untrained.
"""

import os
import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp

import data
from experiments import study
from experiments import train
from experiments.configs import study_cifar_lps

CIFAR_FILE = os.path.join(str(data.datasets.sources.data_dir_or_default(None)),
                          'cifar10.npz')


class StudyCifarLpsConfigTest(parameterized.TestCase):

  @parameterized.parameters(True, False)
  def test_every_model_builds_with_one_parameter_tree(self, quick):
    config = study_cifar_lps.get_config()
    config.quick = quick
    config = study.resolve_presets(config)
    study.check_study_config(config)
    self.assertEqual(config.run, ('strided', 'blur3', 'blur5', 'aps', 'lps'))
    x = jnp.zeros((2, 32, 32, 3))
    trees = {}
    for label in config.run:
      sub = study.train_config(config, label)
      train.check_config(sub)
      model = train.build_model(sub.model, num_classes=10)
      variables = jax.eval_shape(lambda x, m=model: m.init(
          jax.random.key(0), x, train=False), x)
      logits = jax.eval_shape(
          lambda v, x, m=model: m.apply(v, x, train=False), variables, x)
      self.assertEqual(logits.shape, (2, 10), label)
      trees[label] = {k: v for k, v in variables['params'].items()
                      if not k.startswith('lps_')}
    for label in config.run:  # same architecture: the baseline's tree
      self.assertEqual(jax.tree.structure(trees[label]),
                       jax.tree.structure(trees['strided']), label)

  def test_quick_preset_trains_every_model_the_same_steps(self):
    config = study.resolve_presets(study_cifar_lps.get_config())
    self.assertEqual(config.num_train_steps, study_cifar_lps.QUICK_STEPS)
    self.assertGreater(config.num_train_steps, 0)
    self.assertIsNone(config.eval_limit)  # all 10,000 test images
    for label in config.run:
      self.assertNotIn('train', config.models[label])


@absltest.skipUnless(os.path.isfile(CIFAR_FILE), f'needs {CIFAR_FILE}')
class TinyStudyCifarLpsTest(absltest.TestCase):

  def test_tiny_study_runs(self):
    workdir = self.enter_context(tempfile.TemporaryDirectory())
    rows = study.run(study_cifar_lps.get_config('tiny'), workdir)
    self.assertEqual([r['label'] for r in rows], ['blur3', 'lps'])
    for row in rows:
      for column in ('test_accuracy', 'consistency', 'consistency_circular',
                     'p_top1_change', 'mean_abs_change', 'params',
                     'train_seconds', 'total_seconds'):
        self.assertIn(column, row)
    lps = rows[1]
    # Circular padding, LPS at test time, global pool: exact under circular
    # shifts, trained or not.
    self.assertEqual(lps['consistency_circular'], 1.0)
    self.assertEqual(lps['p_top1_change'], 0.0)
    self.assertEqual(lps['acc_shift_0'], lps['acc_shift_1'])
    self.assertGreater(lps['params'], rows[0]['params'])  # logit networks


if __name__ == '__main__':
  absltest.main()
