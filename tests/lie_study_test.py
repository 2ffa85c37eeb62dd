"""The Lie study (experiment 'lie') end to end, tiny: files, rows, tables."""

import csv
import os
import shutil
import tempfile

from absl.testing import absltest
import numpy as np

from experiments import lie_study
from experiments.configs import lie_study as lie_study_config

OUTPUTS = ('lie.csv', 'lie_layers.csv', 'lie.md', 'lie_vs_p_top1_change.png',
           'lie_layers_translate_x.png', 'results.csv', 'config.json')


class LieStudyTest(absltest.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.workdir = tempfile.mkdtemp()
    cls.figures = os.path.join(cls.workdir, 'figures')
    config = lie_study_config.get_config('tiny')
    config.lie.figures_to = cls.figures
    cls.rows = lie_study.run(config, cls.workdir)

  @classmethod
  def tearDownClass(cls):
    shutil.rmtree(cls.workdir, ignore_errors=True)
    super().tearDownClass()

  def test_writes_its_files_and_copies_the_figures(self):
    for name in OUTPUTS:
      self.assertGreater(os.path.getsize(os.path.join(self.workdir, name)), 0,
                         name)
    prefix = os.path.basename(self.workdir) + '_'
    self.assertCountEqual(os.listdir(self.figures), [
        prefix + 'lie_layers_translate_x.png',
        prefix + 'lie_vs_p_top1_change.png'])

  def test_one_row_per_model_weights_and_flow(self):
    self.assertLen(self.rows, 2 * 2 * 2)   # models x weights x flows
    for row in self.rows:
      self.assertTrue(np.isfinite(row['lee']) and row['lee'] >= 0, row)
      # Markov: half the images are >= the median, so mean >= median / 2.
      self.assertLessEqual(row['lee_median'], 2 * row['lee'] + 1e-12)
    aps = [r for r in self.rows if r['label'] == 'cnn_aps_gap' and
           r['generator'] == 'translate_x']
    mlp = [r for r in self.rows if r['label'] == 'mlp' and
           r['generator'] == 'translate_x']
    self.assertEqual({r['weights'] for r in aps}, {'init', 'trained'})
    self.assertEqual(aps[0]['p_top1_change'], 0.0)   # exact for 1-px shifts
    self.assertGreater(mlp[0]['lee'], aps[0]['lee'])

  def test_layer_rows_name_their_terms(self):
    with open(os.path.join(self.workdir, 'lie_layers.csv')) as f:
      rows = list(csv.DictReader(f))
    terms = {r['term'] for r in rows if r['label'] == 'cnn_aps_gap'}
    self.assertIn('relu0', terms)            # ReLU aliasing under sub-pixel
    self.assertNotIn('conv0', terms)         # circular stride-1: exactly 0
    with open(os.path.join(self.workdir, 'lie.md')) as f:
      text = f.read()
    self.assertIn('Layer-wise translate_x (trained)', text)


if __name__ == '__main__':
  absltest.main()
