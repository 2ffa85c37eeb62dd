"""The papers' MNIST-rot protocols: mnist_rot_p4cnn.py and mnist_rot_hnet.py.

The full configs are checked without training: they resolve, pass the
config checks, train on all 12,000 train + validation digits and test on
all 50,000, with the optimiser, schedule, batch and model of the authors'
code (the sources are in the configs' docstrings). The tiny configs run
through the study runner on offline digits (a few steps each). Also here:
the pieces these protocols added to the training package, each small:
``train_split`` with '+' (several splits joined), the 'step' learning-rate
schedule, and the 95 % binomial interval of the test error in the study's
results.
"""

import dataclasses
import math
import os
import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
import numpy as np

import data
from experiments import metrics
from experiments import study
from experiments import train
from experiments.configs import mnist_rot_hnet
from experiments.configs import mnist_rot_p4cnn
from experiments.configs import mnist_rot_steerable
from experiments.configs import train as train_config_lib
from experiments.train import inputs
from experiments.train import step as step_lib

OUTPUTS = ('config.json', 'results.csv', 'results.md',
           'accuracy_vs_rotation.png')


def _num_params(config, label):
  model = train.build_model(study.train_config(config, label).model,
                            num_classes=10)
  shapes = jax.eval_shape(
      model.init, jax.random.PRNGKey(0),
      jax.ShapeDtypeStruct((1, 28, 28, 1), jnp.float32))
  return sum(x.size for x in jax.tree.leaves(shapes['params']))


def _schedule(config, label):
  sub = study.train_config(config, label)
  settings = step_lib.StepSettings.from_config(sub, mean=(0.0,), std=(1.0,))
  return step_lib.learning_rate_schedule(settings)


class ProtocolConfigsTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('p4cnn', mnist_rot_p4cnn, 'p4cnn', 24680,
       dict(optimizer='adam', learning_rate=1e-3, schedule='constant',
            batch_size=128, weight_decay=0.0, augment='rotate',
            rotate_order=1)),
      ('hnet', mnist_rot_hnet, 'hnet', 22826,
       dict(optimizer='adam', learning_rate=0.0076, schedule='step',
            lr_decay_factor=0.1, batch_size=46, weight_decay=0.0,
            augment='none')),
      ('steerable', mnist_rot_steerable, 'c16cnn', 47713,
       dict(optimizer='adam', learning_rate=0.015, schedule='step',
            lr_decay_factor=0.8, batch_size=64, weight_decay=0.0,
            augment='rotate', max_angle=math.pi, rotate_order=0)))
  def test_full_config_is_the_protocol(self, module, label, params, fields):
    config = study.resolve_presets(module.get_config())
    study.check_study_config(config)
    self.assertEqual(tuple(config.run), (label,))
    sub = study.train_config(config, label)
    train.check_config(sub)
    self.assertEqual((sub.dataset, sub.train_split, sub.eval_split,
                      sub.eval_limit, sub.warmup_steps),
                     ('mnist_rot', 'train+validation', 'test', None, 0))
    for key, value in fields.items():
      self.assertEqual(sub[key], value, key)
    self.assertEqual(_num_params(config, label), params)
    self.assertLessEqual(sub.num_train_steps, module.PAPER_STEPS)
    self.assertEqual(sub.num_train_steps, module.BUDGET_STEPS)
    name = module.__name__.rsplit('.', 1)[-1]
    self.assertTrue(module.__doc__.startswith(
        f'python main.py --config=experiments/configs/{name}.py'))

  def test_p4cnn_augmentation_is_the_authors_pi_degrees(self):
    config = study.resolve_presets(mnist_rot_p4cnn.get_config())
    self.assertAlmostEqual(math.degrees(config.max_angle), math.pi)
    self.assertEqual(config.models.p4cnn.dropout_rate, 0.0)
    self.assertEqual(mnist_rot_p4cnn.PAPER_STEPS, 100 * 12000 // 128)

  def test_steerable_alternatives_build_with_their_stated_sizes(self):
    config = study.resolve_presets(mnist_rot_steerable.get_config())
    for label, params in (('d16c16cnn', 77880), ('c16cnn_e2head', 58145)):
      self.assertIn(f'{params:,} params',
                    config.models[label].description, label)
      self.assertEqual(_num_params(config, label), params, label)
    self.assertEqual(config.models.c16cnn_e2head.dropout_rate, 0.3)

  def test_hnet_rate_drops_tenfold_after_each_quarter(self):
    self.assertEqual(mnist_rot_hnet.PAPER_STEPS, 200 * (12000 // 46))
    config = study.resolve_presets(mnist_rot_hnet.get_config())
    n = config.num_train_steps
    self.assertEqual(config.lr_decay_every, n // 4)
    schedule = _schedule(config, 'hnet')
    for k, expected in ((0, 0.0076), (n // 4 - 1, 0.0076),
                        (n // 4, 0.00076), (n // 2, 0.000076),
                        (3 * n // 4, 0.0000076), (n - 1, 0.0000076)):
      self.assertAlmostEqual(float(schedule(k)), expected, delta=1e-9,
                             msg=k)
    # The decay follows a command-line change of the step count.
    longer = mnist_rot_hnet.get_config()
    longer.num_train_steps = mnist_rot_hnet.PAPER_STEPS
    self.assertEqual(study.resolve_presets(longer).lr_decay_every, 13000)

  def test_steerable_schedule_is_e2cnns_exponential(self):
    # Constant for 15 of 40 epochs, then x0.8 after every epoch.
    self.assertEqual(mnist_rot_steerable.PAPER_STEPS, 40 * (12000 // 64))
    longer = mnist_rot_steerable.get_config()
    longer.num_train_steps = mnist_rot_steerable.PAPER_STEPS
    config = study.resolve_presets(longer)
    self.assertEqual((config.lr_decay_every, config.lr_decay_start),
                     (187, 15 * 187))
    schedule = _schedule(config, 'c16cnn')
    for epoch, expected in ((0, 0.015), (15, 0.015), (16, 0.015 * 0.8),
                            (39, 0.015 * 0.8 ** 24)):
      for k in (epoch * 187, epoch * 187 + 186):
        self.assertAlmostEqual(float(schedule(k)), expected, delta=1e-9,
                               msg=(epoch, k))
    # The budget preset keeps the stages in proportion.
    budget = study.resolve_presets(mnist_rot_steerable.get_config())
    n = budget.num_train_steps
    self.assertEqual((budget.lr_decay_every, budget.lr_decay_start),
                     (n // 40, n * 15 // 40))

  @parameterized.named_parameters(
      ('p4cnn', mnist_rot_p4cnn, 'p4cnn', 2, True),
      ('hnet', mnist_rot_hnet, 'hnet', 4, False),
      ('steerable', mnist_rot_steerable, 'c16cnn', 4, True))
  def test_tiny_study_runs(self, module, label, steps, exact_at_90):
    workdir = tempfile.mkdtemp()
    rows = study.run(module.get_config('tiny'), workdir)
    for name in OUTPUTS:
      self.assertTrue(os.path.isfile(os.path.join(workdir, name)), name)
    (row,) = rows
    self.assertEqual((row['label'], row['steps'], row['num_eval']),
                     (label, steps, 16))
    self.assertAlmostEqual(row['test_error'], 1 - row['test_accuracy'])
    self.assertBetween(row['test_error'], row['test_error_ci95_low'],
                       row['test_error_ci95_high'])
    for key in study.SHIFT_METRICS:   # measure_shifts=False: not measured
      self.assertTrue(math.isnan(row[key]), key)
    if exact_at_90:   # P4CNN on 28 x 28: the logits are exactly invariant
      self.assertEqual(row['acc_rot_90'], row['acc_rot_0'])
    with open(os.path.join(workdir, 'results.md')) as f:
      self.assertIn('95 % binomial (Wilson) interval', f.read())
    self.assertLen(train.read_metrics(
        os.path.join(workdir, study.MODELS_DIR, label)), steps + 1)


class TrainSplitTest(parameterized.TestCase):

  def test_joined_splits_are_concatenated_in_order(self):
    config = train_config_lib.get_config()
    config.dataset = 'digits'
    config.train_split = 'train+test'
    config.eval_split = 'train'
    common = dict(data_dir=None, source='auto', seed=0, canvas_size=None)
    joined = inputs.load_train_data(config, **common)
    parts = [data.load_dataset('digits', split=s, **common)
             for s in ('train', 'test')]
    np.testing.assert_array_equal(
        joined.images, np.concatenate([p.images for p in parts]))
    np.testing.assert_array_equal(
        joined.labels, np.concatenate([p.labels for p in parts]))
    self.assertEqual((joined.split, joined.mean), ('train+test',
                                                   parts[0].mean))
    config.train_limit = 1500   # a prefix of the joined set
    self.assertLen(inputs.load_train_data(config, **common).labels, 1500)

  def test_default_is_the_train_split(self):
    config = train_config_lib.get_config()
    self.assertEqual(config.train_split, 'train')
    del config['train_split']   # an older config: still 'train'
    common = dict(data_dir=None, source='auto', seed=0, canvas_size=None)
    self.assertEqual(inputs.load_train_data(config, **common).split, 'train')

  @parameterized.named_parameters(
      ('unknown', 'train+valid', "config.train_split"),
      ('repeated', 'train+train', 'must not repeat'),
      ('eval_split', 'train+test', 'evaluated on its training images'))
  def test_rejects_bad_train_split(self, value, message):
    config = train_config_lib.get_config()
    config.train_split = value
    with self.assertRaisesRegex(ValueError, message):
      train.check_config(config)


class StepScheduleTest(parameterized.TestCase):

  def _settings(self, **fields):
    config = train_config_lib.get_config()
    config.update(fields)
    return step_lib.StepSettings.from_config(config, mean=(0.0,), std=(1.0,))

  def test_staircase_after_warmup(self):
    schedule = step_lib.learning_rate_schedule(self._settings(
        schedule='step', learning_rate=1.0, warmup_steps=2,
        lr_decay_every=3, lr_decay_factor=0.5, num_train_steps=10))
    np.testing.assert_allclose(
        [float(schedule(k)) for k in range(10)],
        [0.0, 0.5, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25])

  def test_staircase_starts_late(self):
    # e2cnn's 'exponential' schedule: the peak for lr_decay_start steps
    # after the warmup, then x factor every lr_decay_every steps.
    schedule = step_lib.learning_rate_schedule(self._settings(
        schedule='step', learning_rate=1.0, warmup_steps=0, lr_decay_start=4,
        lr_decay_every=2, lr_decay_factor=0.5, num_train_steps=10))
    np.testing.assert_allclose(
        [float(schedule(k)) for k in range(10)],
        [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25])

  def test_studies_pass_every_step_setting(self):
    # A StepSettings field the study runner did not copy into each model's
    # training config would silently take its default.
    names = {f.name for f in dataclasses.fields(step_lib.StepSettings)}
    self.assertEmpty(names - {'mean', 'std'} - set(study.TRAIN_FIELDS) -
                     set(study.OPTIONAL_TRAIN_FIELDS))

  def test_older_configs_keep_their_settings(self):
    config = train_config_lib.get_config()
    del config['lr_decay_every']
    del config['lr_decay_factor']
    del config['lr_decay_start']
    settings = step_lib.StepSettings.from_config(config, mean=(0.0,),
                                                 std=(1.0,))
    self.assertEqual((settings.lr_decay_every, settings.lr_decay_factor,
                      settings.lr_decay_start), (0, 0.1, 0))

  @parameterized.named_parameters(
      ('step_needs_interval', dict(schedule='step', lr_decay_every=0),
       'config.lr_decay_every'),
      ('negative_interval', dict(lr_decay_every=-1), 'config.lr_decay_every'),
      ('negative_start', dict(lr_decay_start=-1), 'config.lr_decay_start'),
      ('zero_factor', dict(lr_decay_factor=0.0), 'config.lr_decay_factor'),
      ('factor_above_one', dict(lr_decay_factor=2.0),
       'config.lr_decay_factor'))
  def test_rejects_bad_step_fields(self, fields, message):
    config = train_config_lib.get_config()
    config.update(fields)
    with self.assertRaisesRegex(ValueError, message):
      train.check_config(config)


class BinomialIntervalTest(parameterized.TestCase):

  @parameterized.named_parameters(
      # Wilson 95 % intervals, computed by hand from the formula.
      ('half', 50, 100, 0.40383, 0.59617),
      ('p4cnn_paper_rate', 1140, 50000, 0.021528, 0.024145),
      ('zero', 0, 50000, 0.0, 7.6823e-05),
      ('all', 16, 16, 0.80639, 1.0))
  def test_wilson_interval(self, errors, num, low, high):
    got = metrics.binomial_interval(errors, num)
    np.testing.assert_allclose(got, (low, high), rtol=2e-4, atol=1e-9)

  def test_study_row_fields(self):
    row = study.test_error_interval(0.9772, 50000)
    self.assertEqual(row['num_eval'], 50000)
    self.assertAlmostEqual(row['test_error'], 0.0228)
    self.assertLess(row['test_error_ci95_low'], 0.0228)
    self.assertGreater(row['test_error_ci95_high'], 0.0228)
    self.assertIn('2.28 | 2.15 – 2.41', study.error_table(
        [dict(row, label='p4cnn')]))

  @parameterized.named_parameters(
      ('too_many', 3, 2, 'errors must be <= num'),
      ('no_images', 0, 0, 'num must be an int >= 1'),
      ('negative', -1, 5, 'errors must be an int >= 0'))
  def test_rejects_bad_counts(self, errors, num, message):
    with self.assertRaisesRegex(ValueError, message):
      metrics.binomial_interval(errors, num)


if __name__ == '__main__':
  absltest.main()
