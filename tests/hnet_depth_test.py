"""Smoke test of experiments/hnet_depth.py with the tiny config (:tiny)."""

import csv
import os
import shutil
import tempfile

from absl.testing import absltest

import experiments
from experiments import hnet_depth
from experiments.configs import hnet_depth as hnet_depth_config


class HNetDepthTest(absltest.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.workdir = tempfile.mkdtemp()
    cls.config = hnet_depth_config.get_config('tiny')
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

  def test_tiny_config_shrinks_only_the_sizes(self):
    full = hnet_depth_config.get_config()
    self.assertEqual(full.depth, 6)
    self.assertEqual(full.image_sources, ('smooth', 'digits'))
    self.assertEqual(self.config.depth, 2)
    self.assertEqual(self.config.angle, 90.0)  # set by setUpClass
    self.assertEqual(hnet_depth_config.get_config('tiny').angle, full.angle)

  def test_config_rejects_unknown_arg(self):
    with self.assertRaisesRegex(ValueError, "arg .*'tiny'.*got 'huge'"):
      hnet_depth_config.get_config('huge')

  def test_bad_config(self):
    config = hnet_depth_config.get_config('tiny')
    config.stride_layers = (5,)
    with self.assertRaisesRegex(ValueError, r'config.stride_layers must hold'):
      hnet_depth.run(config, self.workdir)

  def test_bad_config_names_the_key(self):
    for key, value, message in (
        ('filter_size', 4, 'config.filter_size must be odd'),
        ('max_order', -1, r'config.max_order must be in 0\.\.'),
        ('angle', float('nan'), 'config.angle must be a finite number'),
        ('cutoff', 0.7, r'config.cutoff .*\(0.0, 0.5\]'),
        ('image_sources', ('random',), 'config.image_sources')):
      with self.subTest(key):
        config = hnet_depth_config.get_config('tiny')
        config[key] = value
        with self.assertRaisesRegex(ValueError, message):
          hnet_depth.run(config, self.workdir)


if __name__ == '__main__':
  absltest.main()
