"""Smoke tests of the benchmark scripts: they run and write their files.

Tiny shapes through function arguments; nothing here checks a time (the
benchmarks print figures, no test times anything).
"""

import csv
import dataclasses
import math
import os
import tempfile

from absl.testing import absltest

from benchmarks import blur_formulations
from benchmarks import compile_time
from benchmarks import fast_compile
from benchmarks import scaling
import models

_CONV_SWEEPS = ('size', 'batch', 'channels', 'group_order', 'streams')
_NEW_SWEEPS = ('steerable_order', 'steerable_fields', 'train_batch')
# Five compiled points: gconv C4 and hconv at the base and at S = 12, and
# lifting C4; every conv sweep is there, the size sweep with two points.
_TINY_SCALING = scaling.ScalingConfig(
    sizes=(8, 12), batches=(1,), channels=(2,), group_orders=(4,),
    max_orders=(1,), base_size=8, base_batch=1, base_channels=2,
    spatial_group_orders=(4,), base_max_order=1, harmonic_filter_size=3,
    n_rings=2, sweeps=_CONV_SWEEPS, peak_matmul_size=0, rounds=1,
    time_budget_s=0.0, min_repeats=1, max_repeats=1)


def _read_csv(path):
  with open(path, newline='') as f:
    return list(csv.DictReader(f))


class ScalingTest(absltest.TestCase):

  def test_run_writes_csv_table_and_png(self):
    out = self.enter_context(tempfile.TemporaryDirectory())
    result = scaling.run(_TINY_SCALING, out_dir=out, verbose=False)
    for path in result['paths'].values():
      self.assertTrue(os.path.isfile(path), path)
      self.assertGreater(os.path.getsize(path), 0, path)
    rows = _read_csv(result['paths']['csv'])
    sweeps = {row['sweep'] for row in rows}
    self.assertEqual(sweeps, set(_CONV_SWEEPS))
    # 2 layers x (2 + 1 + 1) spatial points, gconv + lifting, 1 order.
    self.assertLen(rows, 2 * 4 + 2 + 1)
    for row in rows:
      self.assertGreater(float(row['mem_mib']), 0)
      self.assertGreater(float(row['gflop']), 0)
    exponents = {(e['sweep'], e['series']): e for e in
                 _read_csv(result['paths']['exponents_csv'])}
    self.assertLen(exponents, 2 * 3 + 2 + 1)
    size_sweep = exponents[('size', 'gconv C4')]
    self.assertBetween(float(size_sweep['memory_exponent']), 1.0, 2.5)
    self.assertBetween(float(size_sweep['flop_exponent']), 1.5, 2.5)
    with open(result['paths']['png'], 'rb') as f:
      self.assertEqual(f.read(8), b'\x89PNG\r\n\x1a\n')

  def test_quick_steerable_and_training_sweeps(self):
    # --quick's one point per new sweep: steerable C4 with 4 regular fields
    # (the same point in both sweeps) and a p4cnn training step at B = 16.
    out = self.enter_context(tempfile.TemporaryDirectory())
    config = dataclasses.replace(scaling.QUICK, sweeps=_NEW_SWEEPS)
    result = scaling.run(config, out_dir=out, verbose=False)
    rows = _read_csv(result['paths']['csv'])
    self.assertEqual([row['sweep'] for row in rows], list(_NEW_SWEEPS))
    self.assertEqual([row['series'] for row in rows],
                     ['steerable C_N, F=4', 'steerable C4', 'p4cnn'])
    for row in rows[:2]:
      self.assertEqual(row['layer'], 'steerable')
      self.assertEqual((row['group_order'], row['fields'], row['channels']),
                       ('4', '4', '4'))
    train = rows[2]
    self.assertEqual((train['layer'], train['model'], train['batch'],
                      train['size'], train['channels']),
                     ('train', 'p4cnn', '16', '28', '1'))
    self.assertAlmostEqual(float(train['images_per_s']),
                           16e3 / float(train['time_ms']), places=3)
    for row in rows:
      self.assertEqual(set(row), set(rows[0]))  # one header for every sweep
      self.assertGreater(float(row['gflop']), 0)
      self.assertGreater(float(row['mem_mib']), 0)
      self.assertGreater(int(row['repeats']), 0)
    # A training step (Adam moments, batch norm) outweighs a small conv.
    self.assertGreater(float(train['gflop']), float(rows[0]['gflop']))
    exponents = _read_csv(result['paths']['exponents_csv'])
    self.assertEqual([(e['sweep'], e['timed']) for e in exponents],
                     [(sweep, '1/1') for sweep in _NEW_SWEEPS])
    with open(result['paths']['markdown']) as f:
      self.assertIn('## Training steps', f.read())
    with open(result['paths']['png'], 'rb') as f:
      self.assertEqual(f.read(8), b'\x89PNG\r\n\x1a\n')

  def test_full_sweeps_have_the_issue_points(self):
    points = scaling.sweep_points(scaling.FULL)
    self.assertEqual(list(points)[-3:], list(_NEW_SWEEPS))
    self.assertEqual(
        [(p.group_order, p.fields, p.batch, p.size)
         for p in points['steerable_order']],
        [(4, 8, 8, 32), (8, 8, 8, 32), (16, 8, 8, 32)])
    self.assertEqual([(p.group_order, p.fields)
                      for p in points['steerable_fields']],
                     [(8, 2), (8, 4), (8, 8), (8, 16)])
    self.assertEqual([(p.model, p.batch) for p in points['train_batch']],
                     [(m, b) for m in ('p4cnn', 'hnet', 'c16cnn')
                      for b in (16, 32, 64, 128)])
    self.assertEqual({(p.size, p.channels) for p in points['train_batch']},
                     {(28, 1)})

  def test_sweep_selection_and_registry_reject_bad_names(self):
    with self.assertRaisesRegex(ValueError, 'sweeps must be among'):
      scaling.sweep_points(dataclasses.replace(scaling.QUICK,
                                               sweeps=('nope',)))
    with self.assertRaises(SystemExit):
      scaling.main(['--quick', '--sweeps=nope'])
    family = scaling.FAMILIES['steerable']
    with self.assertRaisesRegex(ValueError, 'steerable_order'):
      scaling.register('another', family._replace(layers=('other',)))
    self.assertNotIn('another', scaling.FAMILIES)

  def test_growth_exponent_recovers_a_power_law(self):
    self.assertAlmostEqual(
        scaling.growth_exponent([1, 2, 4, 8], [3, 12, 48, 192]), 2.0)
    self.assertTrue(math.isnan(scaling.growth_exponent([4], [1.0])))

  def test_main_parses_flags(self):
    with self.assertRaises(SystemExit):
      scaling.main(['--no-such-flag'])


class FastCompileTest(absltest.TestCase):

  def test_both_settings_in_fresh_processes_write_the_table(self):
    out = self.enter_context(tempfile.TemporaryDirectory())
    rows = fast_compile.run(['mlp'], rounds=1, steps=1, batch=2, out_dir=out,
                            verbose=False)
    self.assertLen(rows, 1)
    for setting in fast_compile.SETTINGS:
      self.assertGreater(rows[0][f'{setting}_compile_s'], 0)
      self.assertGreater(rows[0][f'{setting}_step_ms'], 0)
    # Same weights and data: the two codegens agree to rounding.
    self.assertLess(rows[0]['loss_rel_diff'], 1e-5)
    self.assertEqual([r['model'] for r in _read_csv(
        os.path.join(out, 'fast_compile.csv'))], ['mlp'])
    self.assertTrue(os.path.isfile(os.path.join(out, 'fast_compile.md')))

  def test_bad_arguments(self):
    with self.assertRaisesRegex(ValueError, 'models must be registered'):
      fast_compile.run(['no_such_model'], out_dir=None)
    with self.assertRaisesRegex(ValueError, 'rounds must be'):
      fast_compile.run(['mlp'], rounds=0, out_dir=None)


class CompileTimeTest(absltest.TestCase):

  def test_run_writes_csv_and_table(self):
    out = self.enter_context(tempfile.TemporaryDirectory())
    # cnn with batch norm: the training step's mutable batch statistics.
    result = compile_time.run(
        ['mlp', 'cnn'], out_dir=out, batch_size=2,
        options={'mlp': {'hidden': (4,)},
                 'cnn': {'widths': (2,), 'norm': 'batch'}},
        image_shapes={'mlp': (8, 8, 1)}, verbose=False)
    rows = _read_csv(result['paths']['csv'])
    self.assertEqual([row['model'] for row in rows], ['mlp', 'cnn'])
    self.assertEqual(rows[0]['input'], '8x8x1')
    self.assertEqual(rows[1]['input'], '32x32x1')  # MODEL_INPUTS
    self.assertEqual(int(rows[0]['params']), 8 * 8 * 4 + 4 + 4 * 10 + 10)
    for row in rows:
      for column in compile_time.COLUMNS[3:]:
        self.assertGreater(float(row[column]), 0, column)
    self.assertTrue(os.path.isfile(result['paths']['markdown']))

  def test_regressions_name_the_model_and_the_criterion(self):
    baseline = [{'model': 'cnn', 'train_fusions': '90', 'train_compile_s': '1'},
                {'model': 'big', 'train_fusions': '100',
                 'train_compile_s': '2'}]
    same = [{'model': 'cnn', 'train_fusions': 90, 'train_compile_s': 3.0},
            {'model': 'big', 'train_fusions': 140, 'train_compile_s': 6.0}]
    # A 3x slower machine slows both alike: no regression.
    self.assertEqual(compile_time.regressions(same, baseline), [])
    worse = [{'model': 'cnn', 'train_fusions': 90, 'train_compile_s': 1.0},
             {'model': 'big', 'train_fusions': 160, 'train_compile_s': 6.0},
             {'model': 'new', 'train_fusions': 999, 'train_compile_s': 9.0}]
    failures = compile_time.regressions(worse, baseline)
    self.assertLen(failures, 2)   # 'new' has no baseline: skipped
    self.assertIn('big: 160 fused kernels', failures[0])
    self.assertIn("big: train compile 6.0x cnn's, baseline 2.0x", failures[1])

  def test_before_needs_a_revision_and_default_options(self):
    folder = self.enter_context(tempfile.TemporaryDirectory())
    with self.assertRaisesRegex(ValueError, 'before must be a git revision'):
      compile_time.export_revision('no-such-revision', folder)
    with self.assertRaisesRegex(ValueError, 'options and image_shapes'):
      compile_time.run(['mlp'], out_dir=folder, before='HEAD',
                       options={'mlp': {'hidden': (4,)}}, verbose=False)
    # A revision unpacks into a tree the benchmark can run from.
    compile_time.export_revision('HEAD', folder)
    self.assertTrue(os.path.isfile(
        os.path.join(folder, 'benchmarks', 'compile_time.py')))

  def test_default_models_are_the_classifiers(self):
    names = compile_time.default_models()
    self.assertNotIn('unet', names)  # no num_classes: no label loss
    self.assertNotIn('steerable_cnn', names)  # needs group=...
    self.assertContainsSubset(['cnn', 'p4cnn', 'hnet', 'c16cnn'], names)
    for name in names:  # what measure_model passes
      models.build_model(name, num_classes=3)


class BlurFormulationsTest(absltest.TestCase):
  """Each formulation the benchmark times is the same function as
  ``layers.blur_pool``: values and input gradient, odd and even sizes,
  filter sizes 2, 3, 5, 7, strides 2 and 3."""

  def test_every_formulation_equals_blur_pool(self):
    shapes = [(2, 9, 7, 3, 2, 2), (2, 9, 7, 3, 5, 2), (2, 10, 12, 3, 3, 3),
              (1, 17, 16, 2, 7, 2)]
    rows = blur_formulations.run(shapes, rounds=1, repeats=1)
    self.assertLen(rows, len(shapes) * len(blur_formulations.candidates()))
    for row in rows:
      self.assertLess(row['max_abs_diff'], 1e-5, row)
      self.assertGreater(row['ms'], 0, row)

  def test_negative_control_a_wrong_filter_is_caught(self):
    wrong = {'wrong': lambda x, k, s: blur_formulations.phase(x, k + 1, s)}
    rows = blur_formulations.run([(1, 9, 9, 2, 3, 2)], rounds=1, repeats=1,
                                 formulations=wrong)
    self.assertGreater(rows[0]['max_abs_diff'], 1e-2)


if __name__ == '__main__':
  absltest.main()
