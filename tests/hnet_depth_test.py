"""Smoke test of experiments/hnet_depth.py with the tiny config."""

import csv
import os
import shutil
import tempfile

from absl.testing import absltest

import experiments
from experiments import hnet_depth
from experiments.configs import hnet_depth_tiny


class HNetDepthTest(absltest.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.workdir = tempfile.mkdtemp()
    cls.config = hnet_depth_tiny.get_config()
    # A quarter turn: exact for the H-Net on the odd grids (13 -> 7), so the
    # run doubles as a physics check; 45 degrees is the default config's.
    cls.config.angle = 90.0
    cls.rows = hnet_depth.run(cls.config, cls.workdir)

  @classmethod
  def tearDownClass(cls):
    shutil.rmtree(cls.workdir, ignore_errors=True)
    super().tearDownClass()

  def test_dispatch(self):
    self.assertIs(experiments.EXPERIMENTS['hnet_depth'], hnet_depth.run)

  def test_writes_all_files_with_one_row_per_layer(self):
    for name in ('config.json', 'results.csv', 'results.md',
                 'hnet_depth.png'):
      path = os.path.join(self.workdir, name)
      self.assertTrue(os.path.isfile(path), name)
      self.assertGreater(os.path.getsize(path), 0, name)
    with open(os.path.join(self.workdir, 'results.csv')) as f:
      reader = csv.DictReader(f)
      self.assertEqual(tuple(reader.fieldnames), hnet_depth.CSV_COLUMNS)
      rows = list(reader)
    self.assertLen(rows, len(hnet_depth.NETWORKS) * 2 * self.config.depth)
    sides = {(r['network'], r['layer']): int(r['side']) for r in rows}
    self.assertEqual(sides[('hnet', '2')], 13)
    self.assertEqual(sides[('hnet_strided', '2')], 7)
    with open(os.path.join(self.workdir, 'results.md')) as f:
      text = f.read()
    self.assertIn('| hnet | smooth | equivariance |', text)
    self.assertIn('CNN error / H-Net error', text)

  def test_quarter_turn_is_exact_for_the_hnet_only(self):
    for r in self.rows:
      if r['network'].startswith('hnet'):
        self.assertLess(r['error'], 1e-5, r)
      elif r['kind'] == 'equivariance':
        self.assertGreater(r['error'], 1e-2, r)

  def test_bad_config(self):
    config = hnet_depth_tiny.get_config()
    config.stride_layers = (5,)
    with self.assertRaisesRegex(ValueError, r'config.stride_layers must hold'):
      hnet_depth.run(config, self.workdir)


if __name__ == '__main__':
  absltest.main()
