"""Studies (experiments/study.py) and their configs.

Smoke tests run the tiny variant of every study config: the invariance
study through ``main.py`` in a subprocess (as a user runs it), the
augmentation study next to it (for the side-by-side table), and the CIFAR
study when ``../shared/data/cifar10.npz`` is there. Exact facts hold even for
untrained weights: a circular-padding CNN with APS and a global pool gives
the same top-1 class under every circular shift.
"""

import csv
import os
import shutil
import subprocess
import sys
import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

import data
from experiments import study
from experiments import train
from experiments.configs import study_augmentation
from experiments.configs import study_cifar
from experiments.configs import study_invariance

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CIFAR_FILE = os.path.join(str(data.datasets.sources.data_dir_or_default(None)),
                          'cifar10.npz')
OUTPUTS = ('config.json', 'results.csv', 'results.md',
           'accuracy_vs_shift.png', 'robustness.png')
TIMING = ('train_seconds', 'total_seconds')


def read_rows(workdir):
  return study.read_csv(os.path.join(workdir, 'results.csv'))


def without_timing(rows):
  return [{k: v for k, v in r.items() if k not in TIMING} for r in rows]


class DigitsStudiesTest(parameterized.TestCase):
  """The tiny invariance study (via main.py) and augmentation study."""

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.tmp = tempfile.mkdtemp()
    cls.invariance_dir = os.path.join(cls.tmp, 'study_invariance_tiny')
    cls.main = subprocess.run(
        [sys.executable, os.path.join(REPO, 'main.py'),
         '--config=' + os.path.join(REPO, 'experiments', 'configs',
                                    'study_invariance.py:tiny'),
         f'--workdir={cls.invariance_dir}'],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    cls.augmentation_dir = os.path.join(cls.tmp, 'study_augmentation_tiny')
    if cls.main.returncode == 0:
      cls.augmentation_rows = study.run(study_augmentation.get_config('tiny'),
                                        cls.augmentation_dir)

  @classmethod
  def tearDownClass(cls):
    shutil.rmtree(cls.tmp, ignore_errors=True)
    super().tearDownClass()

  def setUp(self):
    super().setUp()
    self.assertEqual(self.main.returncode, 0, self.main.stderr[-3000:])

  def test_main_prints_the_tables(self):
    self.assertIn('| model | params | test acc % |', self.main.stdout)
    self.assertIn('| cnn_aps_gap |', self.main.stdout)
    self.assertIn('Accuracy (%) vs shift (pixels)', self.main.stdout)

  @parameterized.parameters('invariance_dir', 'augmentation_dir')
  def test_writes_results_plots_and_model_runs(self, name):
    workdir = getattr(self, name)
    for output in OUTPUTS:
      self.assertGreater(os.path.getsize(os.path.join(workdir, output)), 0,
                         output)
    for row in read_rows(workdir):
      model_dir = os.path.join(workdir, study.MODELS_DIR, row['label'])
      self.assertNotEmpty(train.read_metrics(model_dir))
      self.assertIn('4', os.listdir(os.path.join(model_dir,
                                                 train.CHECKPOINT_DIR)))

  def test_csv_has_one_row_per_model_and_every_metric(self):
    rows = read_rows(self.invariance_dir)
    self.assertEqual([r['label'] for r in rows], ['mlp', 'cnn_aps_gap'])
    with open(os.path.join(self.invariance_dir, 'results.csv')) as f:
      columns = next(csv.reader(f))
    for column in ('label', 'description', 'params', 'steps', 'augment',
                   'test_accuracy', 'acc_shift_0', 'acc_shift_1',
                   'acc_shift_2', 'consistency', 'consistency_circular',
                   'p_top1_change', 'mean_abs_change', 'train_seconds',
                   'p_top1_change_rescale', 'mean_abs_change_rescale',
                   'acc_scale_0.75', 'acc_scale_1.25'):
      self.assertIn(column, columns)
    for r in rows:
      self.assertEqual(r['test_accuracy'], r['acc_shift_0'])
      for key in ('consistency', 'p_top1_change', 'mean_abs_change',
                  'p_top1_change_rescale', 'mean_abs_change_rescale'):
        self.assertBetween(r[key], 0.0, 1.0)
    self.assertGreater(os.path.getsize(os.path.join(self.invariance_dir,
                                                    'jaggedness.png')), 0)

  def test_aps_with_global_pooling_is_exactly_invariant(self):
    # Digits have a black margin wider than the 1-pixel shifts, so a
    # zero-fill shift is a circular one; APS + global pool is then exact.
    aps = {r['label']: r for r in read_rows(self.invariance_dir)}[
        'cnn_aps_gap']
    self.assertEqual(aps['consistency_circular'], 1.0)
    self.assertEqual(aps['p_top1_change'], 0.0)
    self.assertLess(aps['mean_abs_change'], 1e-6)  # float rounding only

  def test_augmentation_study_compares_with_the_invariance_study(self):
    with open(os.path.join(self.augmentation_dir, 'results.md')) as f:
      text = f.read()
    self.assertIn('## Side by side with', text)
    self.assertIn('test acc % (study_invariance_tiny)', text)
    self.assertIn('| cnn_aps_gap |', text.split('## Side by side')[1])
    self.assertTrue(os.path.isfile(os.path.join(self.augmentation_dir,
                                                'comparison.png')))
    self.assertEqual({r['augment'] for r in self.augmentation_rows},
                     {'shift'})

  def test_rerunning_a_study_reuses_the_trained_models(self):
    workdir = os.path.join(self.tmp, 'rerun')
    shutil.copytree(self.augmentation_dir, workdir)
    rows = study.run(study_augmentation.get_config('tiny'), workdir)
    self.assertEqual(without_timing(rows),
                     without_timing(self.augmentation_rows))


@absltest.skipUnless(os.path.isfile(CIFAR_FILE), f'needs {CIFAR_FILE}')
class CifarStudyTest(absltest.TestCase):

  def test_tiny_cifar_study(self):
    workdir = self.enter_context(tempfile.TemporaryDirectory())
    rows = study.run(study_cifar.get_config('tiny'), workdir)
    self.assertEqual([r['label'] for r in rows], ['resnet_aps'])
    for output in OUTPUTS:
      self.assertTrue(os.path.isfile(os.path.join(workdir, output)), output)
    aps = rows[0]
    # Circular padding, APS, global pool: exact under circular shifts.
    self.assertEqual(aps['consistency_circular'], 1.0)
    self.assertEqual(aps['p_top1_change'], 0.0)
    self.assertEqual(aps['acc_shift_0'], aps['acc_shift_1'])


class StudyConfigTest(parameterized.TestCase):

  @parameterized.product(
      module=(study_invariance, study_augmentation, study_cifar),
      quick=(True, False))
  def test_every_model_of_every_study_builds(self, module, quick):
    """Each model's options are accepted and fit the data (no compile)."""
    config = module.get_config()
    config.quick = quick
    config = study.resolve_presets(config)
    study.check_study_config(config)
    channels = 3 if config.dataset == 'cifar10' else 1
    x = jnp.zeros((2, 32, 32, channels))
    for label in config.run:
      sub = study.train_config(config, label)
      train.check_config(sub)
      model = train.build_model(sub.model, num_classes=10)
      variables = jax.eval_shape(lambda x, m=model: m.init(
          jax.random.key(0), x, train=False), x)
      logits = jax.eval_shape(
          lambda v, x, m=model: m.apply(v, x, train=False), variables, x)
      self.assertEqual(logits.shape, (2, 10), label)

  @parameterized.named_parameters(
      ('object_size', 'rescale_object_size', -1,
       r'^config.rescale_object_size \(0: no rescale metrics\) must be'),
      ('factors', 'rescale_factors', (1.0, 0.0),
       r'^config.rescale_factors entries must be a finite number in \(0.0'),
      ('jagged', 'jagged_images', -2, r'^config.jagged_images must be'))
  def test_rescale_fields_are_checked(self, field, value, regex):
    config = study.resolve_presets(study_invariance.get_config())
    config[field] = value
    with self.assertRaisesRegex(ValueError, regex):
      study.check_study_config(config)

  def test_presets_fill_only_unset_fields(self):
    config = study_invariance.get_config()
    quick = study.resolve_presets(config)
    self.assertEqual(quick.num_train_steps, 500)
    self.assertEqual(quick.models.cnn_aps_gap.widths, (8, 16, 32))
    config.quick = False
    full = study.resolve_presets(config)
    self.assertEqual(full.num_train_steps, 3000)
    self.assertEqual(full.models.cnn_max_gap.widths, (32, 64, 128))
    self.assertEqual(full.models.mlp.hidden, (256, 256))
    config.num_train_steps = 7
    config.widths = (5,)
    overridden = study.resolve_presets(config)
    self.assertEqual(overridden.num_train_steps, 7)
    self.assertEqual(overridden.models.cnn_gap.widths, (5,))
    self.assertIsNone(config.get('eval_limit'))  # the input is unchanged

  def test_train_config_drops_the_description(self):
    config = study.resolve_presets(study_invariance.get_config())
    sub = study.train_config(config, 'cnn_aps_gap')
    self.assertEqual(sub.model.to_dict(), dict(
        name='cnn', widths=(8, 16, 32), downsampling='aps',
        head='global_avg', padding='circular'))
    self.assertEqual(sub.experiment, 'train')
    self.assertEqual(sub.learning_rate, config.learning_rate)

  @parameterized.named_parameters(
      ('quick', 'quick', 'yes', 'config.quick'),
      ('run_unknown', 'run', ('mlp', 'resnet'), "'resnet'"),
      ('run_repeated', 'run', ('mlp', 'mlp'), 'repeat'),
      ('run_empty', 'run', (), 'config.run'),
      ('mode', 'eval_shift_mode', 'reflect', 'config.eval_shift_mode'),
      ('max_shift', 'eval_max_shift', -1, 'config.eval_max_shift'),
  )
  def test_rejects_bad_config(self, key, value, message):
    # Not type-safe, so that a wrongly typed value reaches the checks.
    config = ml_collections.ConfigDict(study_invariance.get_config().to_dict(),
                                       type_safe=False)
    config[key] = value
    workdir = self.enter_context(tempfile.TemporaryDirectory())
    with self.assertRaisesRegex(ValueError, message):
      study.run(config, workdir)

  def test_rejects_a_preset_for_a_missing_field(self):
    config = study_invariance.get_config()
    config.presets.quick.no_such_field = 1
    with self.assertRaisesRegex(ValueError, 'no_such_field'):
      study.resolve_presets(config)


class MeasureTest(absltest.TestCase):
  """``measure`` reuses an accuracy already measured on the same images."""

  def setUp(self):
    super().setUp()
    rng = np.random.default_rng(0)
    self.images = rng.uniform(size=(10, 6, 6, 1)).astype(np.float32)
    self.labels = np.arange(10) % 3
    self.calls = 0

  def predict(self, images):
    self.calls += 1
    mean = jnp.mean(images, axis=(1, 2, 3))
    return jnp.stack([mean, 1 - mean, 0.5 * jnp.ones_like(mean)], axis=-1)

  def config(self, max_shift):
    return ml_collections.ConfigDict(dict(
        eval_max_shift=max_shift, eval_shift_mode='zeros', eval_batch_size=5,
        measure_shifts=False, rotation_angles=()))

  def test_given_accuracy_saves_the_pass_at_no_shift(self):
    row = study.measure(self.predict, self.images, self.labels,
                        self.config(0), test_accuracy=0.3)
    self.assertEqual((row['test_accuracy'], row['acc_shift_0'], self.calls),
                     (0.3, 0.3, 0))

  def test_without_it_or_with_shifts_the_accuracy_is_measured(self):
    logits = np.asarray(self.predict(self.images))
    expected = float(np.mean(np.argmax(logits, -1) == self.labels))
    row = study.measure(self.predict, self.images, self.labels,
                        self.config(0))
    self.assertAlmostEqual(row['test_accuracy'], expected)
    row = study.measure(self.predict, self.images, self.labels,
                        self.config(1), test_accuracy=0.3)
    self.assertAlmostEqual(row['test_accuracy'], expected)
    self.assertIn('acc_shift_1', row)


class TablesTest(absltest.TestCase):

  ROWS = [dict(label='a', params=1234, test_accuracy=0.5, acc_shift_0=0.5,
               acc_shift_1=0.25, acc_shift_2=0.125, consistency=0.75,
               consistency_circular=1.0, p_top1_change=0.0625,
               mean_abs_change=0.01234)]

  def test_markdown_tables(self):
    text = study.markdown_tables(self.ROWS)
    self.assertIn('| model | params | test acc % | acc @1px % | acc @2px % | '
                  'consistency % | circ. consistency % | P(top-1 change) % | '
                  'mean abs change |', text)
    self.assertIn('| a | 1,234 | 50.0 | 25.0 | 12.5 | 75.0 | 100.0 | 6.2 | '
                  '0.0123 |', text)
    self.assertIn('| a | 50.0 | 25.0 | 12.5 |', text)

  def test_comparison_table(self):
    other = [dict(self.ROWS[0], test_accuracy=0.25, acc_shift_2=0.5)]
    text = study.comparison_table(self.ROWS, other, name='aug',
                                  other_name='base')
    self.assertIn('test acc % (base) | test acc % (aug)', text)
    self.assertIn('| a | 25.0 | 50.0 | 50.0 | 12.5 |', text)

  def test_csv_round_trip(self):
    path = os.path.join(self.enter_context(tempfile.TemporaryDirectory()),
                        'r.csv')
    rows = [dict(self.ROWS[0], description='cnn(x=1)')]
    study.write_csv(rows, path)
    self.assertEqual(study.read_csv(path), rows)


if __name__ == '__main__':
  absltest.main()
