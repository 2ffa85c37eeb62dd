"""Rotated-MNIST configs: rotation_gcnn.py and rotation_hnet.py.

One smoke test per config runs its tiny variant through the study runner
(one training step per model on offline digits) and checks the outputs and
one exact fact that holds even for (nearly) untrained weights: in eval mode
P4CNN gives the same logits for an image and its 90-degree rotation on a
28 x 28 canvas, so its accuracy at 90 degrees equals its accuracy at 0. The
tiny configs train only some of the models (each costs ~5 s of compiles);
the full configs are checked without training: every model they name builds
with the parameter count their docstrings state.
"""

import os
import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp

from experiments import study
from experiments import train
from experiments.configs import rotation_gcnn
from experiments.configs import rotation_hnet

OUTPUTS = ('config.json', 'results.csv', 'results.md',
           'accuracy_vs_rotation.png')


def _num_params(config, label, image_shape=(28, 28, 1)):
  model = train.build_model(study.train_config(config, label).model,
                            num_classes=10)
  shapes = jax.eval_shape(
      model.init, jax.random.PRNGKey(0),
      jax.ShapeDtypeStruct((1,) + image_shape, jnp.float32))
  return sum(x.size for x in jax.tree.leaves(shapes['params']))


class RotationConfigsTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('gcnn', rotation_gcnn, dict(z2cnn=21750, p4cnn=24680, p4mcnn=26799)),
      ('hnet', rotation_hnet, dict(hnet=22826, cnn=22390)))
  def test_full_config_models_and_sizes(self, module, counts):
    config = study.resolve_presets(module.get_config())
    study.check_study_config(config)
    self.assertEqual(config.dataset, 'mnist_rot')
    self.assertEqual(tuple(config.run), tuple(counts))
    self.assertIn(90.0, config.rotation_angles)
    self.assertIn(45.0, config.rotation_angles)
    for label, count in counts.items():
      train.check_config(study.train_config(config, label))
      self.assertEqual(_num_params(config, label), count, label)
    name = module.__name__.rsplit('.', 1)[-1]
    self.assertTrue(module.__doc__.startswith(
        f'python main.py --config=experiments/configs/{name}.py'))

  @parameterized.named_parameters(
      ('gcnn', rotation_gcnn, ('p4cnn',), ('p4cnn',)),
      ('hnet', rotation_hnet, ('hnet',), ()))
  def test_tiny_study_runs_one_step(self, module, labels, exact_at_90):
    workdir = tempfile.mkdtemp()
    rows = study.run(module.get_config('tiny'), workdir)
    for name in OUTPUTS:
      self.assertTrue(os.path.isfile(os.path.join(workdir, name)), name)
    self.assertEqual([r['label'] for r in rows], list(labels))
    for row in rows:
      self.assertEqual(row['steps'], 1)
      for key in ('acc_rot_0', 'acc_rot_90'):
        self.assertBetween(row[key], 0.0, 1.0)
      if row['label'] in exact_at_90:
        self.assertEqual(row['acc_rot_90'], row['acc_rot_0'], row['label'])
    with open(os.path.join(workdir, 'results.md')) as f:
      self.assertIn('Accuracy (%) vs rotation', f.read())


if __name__ == '__main__':
  absltest.main()
