"""Study (c), rotation: per-model training overrides and a smoke run."""

import math
import os
import tempfile

from absl.testing import absltest

from experiments import study
from experiments.configs import study_rotation


class StudyRotationTest(absltest.TestCase):

  def test_model_train_overrides_apply_to_that_model_only(self):
    config = study_rotation.get_config()
    plain = study.train_config(config, 'cnn')
    augmented = study.train_config(config, 'cnn_rotaug')
    self.assertEqual(plain.augment, 'none')
    self.assertEqual(augmented.augment, 'rotate')
    self.assertEqual(augmented.max_angle, math.pi)
    self.assertNotIn('train', augmented.model)
    self.assertEqual(plain.model.to_dict(), augmented.model.to_dict())

  def test_unknown_override_is_a_clear_error(self):
    config = study_rotation.get_config()
    config.models.cnn.train = dict(augmnet='rotate')
    with self.assertRaisesRegex(ValueError,
                                r'config.models.cnn.train.augmnet .*accepted'):
      study.train_config(config, 'cnn')

  def test_tiny_study_runs(self):
    workdir = tempfile.mkdtemp()
    rows = study.run(study_rotation.get_config('tiny'), workdir)
    self.assertEqual([r['label'] for r in rows], ['cnn', 'cnn_rotaug'])
    for name in ('results.md', 'results.csv', 'accuracy_vs_rotation.png'):
      self.assertTrue(os.path.isfile(os.path.join(workdir, name)), name)
    for row in rows:
      self.assertBetween(row['acc_rot_90'], 0.0, 1.0)


if __name__ == '__main__':
  absltest.main()
