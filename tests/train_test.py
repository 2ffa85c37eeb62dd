"""Training loop (experiments/train/): files, resume, config checks.

One tiny run (6 steps of a batch-norm CNN on 256 digits) is shared by the
file checks; the resume test copies its workdir, deletes the last
checkpoint (as if the run had died after step 3) and re-runs: parameters,
batch statistics and logged metrics must match bit for bit. Runs whose loss
or state becomes NaN stop with a TrainingDivergedError and keep their good
checkpoints (DivergenceTest). SIGKILL, damaged checkpoints:
tests/resume_test.py; several devices: tests/multidevice_test.py.
"""

import copy
import glob
import json
import os
import shutil
import struct
import tempfile
from unittest import mock

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp
from tensorboardX.proto import event_pb2

from experiments import train
from experiments.configs import train as train_config

TIMING_KEYS = ('perf/steps_per_sec',)


def read_event_tags(workdir):
  """Scalar tags in the TensorBoard event files of ``workdir``."""
  tags = set()
  for path in glob.glob(os.path.join(workdir, 'events.out.tfevents.*')):
    with open(path, 'rb') as f:
      content = f.read()
    offset = 0
    while offset < len(content):  # TFRecord: length, crc, data, crc
      (length,) = struct.unpack('<Q', content[offset:offset + 8])
      event = event_pb2.Event.FromString(
          content[offset + 12:offset + 12 + length])
      tags.update(v.tag for v in event.summary.value)
      offset += 12 + length + 4
  return tags


def without_timing(records):
  return [{k: v for k, v in r.items() if k not in TIMING_KEYS}
          for r in records]


def step_settings(config):
  """The step settings of ``config`` (inputs left unnormalised)."""
  return train.StepSettings.from_config(config, mean=(0.0,), std=(1.0,))


def assert_trees_equal(test, a, b):
  leaves_a, tree_a = jax.tree.flatten(a)
  leaves_b, tree_b = jax.tree.flatten(b)
  test.assertEqual(tree_a, tree_b)
  for x, y in zip(leaves_a, leaves_b):
    np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


class TinyRunTestCase(parameterized.TestCase):
  """Trains ``train.py:tiny`` (with ``CONFIG_CHANGES``) once per class into
  ``cls.workdir``."""
  CONFIG_CHANGES = {}

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.tmp = tempfile.mkdtemp()
    cls.config = train_config.get_config('tiny')
    cls.config.update(cls.CONFIG_CHANGES)
    cls.workdir = os.path.join(cls.tmp, 'run')
    cls.result = train.train(cls.config, cls.workdir)
    cls.records = train.read_metrics(cls.workdir)

  @classmethod
  def tearDownClass(cls):
    shutil.rmtree(cls.tmp, ignore_errors=True)
    super().tearDownClass()


class TrainRunTest(TinyRunTestCase):

  def test_returns_final_metrics(self):
    metrics = self.result.metrics
    self.assertEqual(set(metrics), {'step', 'train/loss', 'train/accuracy',
                                    'eval/loss', 'eval/accuracy'})
    self.assertEqual(metrics['step'], 6)
    for key in ('train/loss', 'train/accuracy', 'eval/loss', 'eval/accuracy'):
      self.assertTrue(np.isfinite(metrics[key]), key)
    # The last train record averages steps 5 and 6; the last eval is final.
    self.assertEqual(self.records[-1], {'step': 6, **{
        k: v for k, v in metrics.items() if k.startswith('eval/')}})

  def test_writes_config_metrics_events_and_checkpoints(self):
    with open(os.path.join(self.workdir, 'config.json')) as f:
      self.assertEqual(json.load(f)['num_train_steps'], 6)
    # log_every=2, checkpoint_every=3 (also ends a logging interval),
    # eval_every=3.
    train_steps = [r['step'] for r in self.records if 'train/loss' in r]
    eval_steps = [r['step'] for r in self.records if 'eval/loss' in r]
    self.assertEqual(train_steps, [2, 3, 4, 6])
    self.assertEqual(eval_steps, [3, 6])
    self.assertEqual(
        read_event_tags(self.workdir),
        {'train/loss', 'train/accuracy', 'train/learning_rate',
         'perf/steps_per_sec', 'eval/loss', 'eval/accuracy'})
    self.assertEqual(sorted(os.listdir(os.path.join(
        self.workdir, train.CHECKPOINT_DIR))), ['3', '6'])

  def test_batch_norm_statistics_are_trained(self):
    stats = self.result.state.batch_stats
    self.assertIn('norm0', stats)
    self.assertGreater(float(jnp.abs(stats['norm0']['mean']).max()), 0.0)

  def test_predict_fn_matches_the_reported_accuracy(self):
    data = self.result.eval_data
    logits = np.asarray(self.result.predict_fn(data.images))
    self.assertEqual(logits.shape, (64, 10))
    self.assertAlmostEqual(
        float(np.mean(np.argmax(logits, 1) == data.labels)),
        self.result.metrics['eval/accuracy'])

  def test_resume_after_interruption_is_identical(self):
    workdir = os.path.join(self.tmp, 'interrupted')
    shutil.copytree(self.workdir, workdir)
    # As if the process had died after saving the step-3 checkpoint.
    shutil.rmtree(os.path.join(workdir, train.CHECKPOINT_DIR, '6'))
    resumed = train.train(self.config, workdir)
    assert_trees_equal(self, resumed.state.params, self.result.state.params)
    assert_trees_equal(self, resumed.state.batch_stats,
                       self.result.state.batch_stats)
    assert_trees_equal(self, resumed.state.opt_state,
                       self.result.state.opt_state)
    self.assertEqual(resumed.metrics, self.result.metrics)
    self.assertEqual(without_timing(train.read_metrics(workdir)),
                     without_timing(self.records))

  def test_fewer_steps_than_the_latest_checkpoint_is_rejected(self):
    workdir = os.path.join(self.tmp, 'shorter')
    shutil.copytree(self.workdir, workdir)
    config = train_config.get_config('tiny')
    config.num_train_steps = 4
    with self.assertRaisesRegex(ValueError, 'num_train_steps'):
      train.train(config, workdir)

  def test_rerunning_a_finished_run_only_evaluates(self):
    workdir = os.path.join(self.tmp, 'finished')
    shutil.copytree(self.workdir, workdir)
    metrics = train.train_and_evaluate(self.config, workdir)
    self.assertEqual(metrics, {k: v for k, v in self.result.metrics.items()
                               if not k.startswith('train/')})
    self.assertEqual(train.read_metrics(workdir), self.records)


class DivergenceTest(absltest.TestCase):
  """A NaN/inf loss or state stops the run and keeps the good checkpoints."""

  def test_huge_learning_rate_stops_at_the_first_nan_loss(self):
    workdir = self.enter_context(tempfile.TemporaryDirectory())
    config = train_config.get_config('tiny')
    # Warmup: step 1 changes nothing, step 2 makes the weights ~1e29 (still
    # finite) and the logits of step 3 overflow.
    config.learning_rate = 1e30
    config.model.norm = 'none'
    config.checkpoint_every = 1
    with self.assertRaisesRegex(
        train.TrainingDivergedError,
        r'the training loss is nan at step 3\. Stopped without saving that '
        r'state\. The last good checkpoint, step 2 in .*, is kept.*lower '
        r'config\.learning_rate \(now 1e\+30\)'):
      train.train(config, workdir)
    checkpoint_dir = os.path.join(workdir, train.CHECKPOINT_DIR)
    self.assertEqual(sorted(os.listdir(checkpoint_dir)), ['1', '2'])
    manager = ocp.CheckpointManager(checkpoint_dir)
    state = manager.restore(2)
    manager.close()
    self.assertTrue(all(np.isfinite(x).all() for x in jax.tree.leaves(state)))

  def test_nan_in_the_data_stops_at_the_next_check(self):
    workdir = self.enter_context(tempfile.TemporaryDirectory())
    config = train_config.get_config('tiny')  # log_every=2, checkpoint_every=3
    train_data, eval_data = train.load_data(config)
    images = train_data.images.copy()
    images[train.batch_indices(3, num_examples=len(images), batch_size=32,
                               seed=0)] = np.nan  # the batch of step 4 only
    # Datasets reject NaN when built; this stands for a source that yields
    # one anyway.
    poisoned = copy.copy(train_data)
    object.__setattr__(poisoned, 'images', images)
    with mock.patch.object(train.inputs, 'load_data',
                           return_value=(poisoned, eval_data)):
      # ReLU hides the NaN from the loss; the state check catches it at
      # the next logging step.
      with self.assertRaisesRegex(
          train.TrainingDivergedError,
          r'holds NaN/inf after step 4 \(it was finite after step 3\)\. '
          r'.*last good checkpoint, step 3 in'):
        train.train(config, workdir)
    self.assertEqual(os.listdir(os.path.join(workdir, train.CHECKPOINT_DIR)),
                     ['3'])
    self.assertEqual([r['step'] for r in train.read_metrics(workdir)],
                     [2, 3, 3])  # nothing logged for the NaN interval


class TrainHelpersTest(parameterized.TestCase):

  def test_batch_indices_visit_every_example_once_per_epoch(self):
    epoch = np.concatenate([train.batch_indices(s, num_examples=10,
                                                batch_size=3, seed=0)
                            for s in range(3)])  # 3 steps of 3 = 9 of 10
    self.assertLen(set(epoch.tolist()), 9)
    next_epoch = train.batch_indices(3, num_examples=10, batch_size=3, seed=0)
    np.testing.assert_array_equal(
        next_epoch, train.batch_indices(3, num_examples=10, batch_size=3,
                                        seed=0))
    self.assertFalse(np.array_equal(
        train.batch_indices(0, num_examples=10, batch_size=3, seed=1),
        train.batch_indices(0, num_examples=10, batch_size=3, seed=0)))

  def test_batch_larger_than_the_data_is_rejected(self):
    with self.assertRaisesRegex(ValueError, 'batch_size'):
      train.batch_indices(0, num_examples=4, batch_size=8, seed=0)

  def test_learning_rate_schedules(self):
    config = train_config.get_config('tiny')
    config.learning_rate, config.warmup_steps = 1.0, 2
    config.num_train_steps = 6
    cosine = train.learning_rate_schedule(step_settings(config))
    np.testing.assert_allclose(
        [float(cosine(s)) for s in (0, 1, 2, 4, 6)],
        [0.0, 0.5, 1.0, 0.5, 0.0], atol=1e-6)
    config.schedule = 'constant'
    constant = train.learning_rate_schedule(step_settings(config))
    np.testing.assert_allclose([float(constant(s)) for s in (1, 2, 6)],
                               [0.5, 1.0, 1.0], atol=1e-6)

  @parameterized.named_parameters(
      ('shift', 'shift', 'augment_shift', dict(max_shift=3, mode='circular')),
      ('rotate', 'rotate', 'augment_rotate', dict(max_angle=0.5, order=1)),
      ('rotate_nearest', 'rotate', 'augment_rotate',
       dict(max_angle=0.5, order=0), 0),
      ('rescale', 'rescale', 'augment_rescale',
       dict(min_factor=0.5, max_factor=2.0)))
  def test_augment_calls_the_data_augmentation(self, kind, function, kwargs,
                                               rotate_order=1):
    config = train_config.get_config('tiny')
    config.augment, config.max_shift, config.shift_mode = kind, 3, 'circular'
    config.max_angle, config.rotate_order = 0.5, rotate_order
    key, images = jax.random.key(0), jnp.zeros((2, 4, 4, 1))
    with mock.patch.object(train.step.data, function,
                           return_value='augmented') as augment:
      self.assertEqual(train.augment(key, images,
                                     settings=step_settings(config)),
                       'augmented')
    augment.assert_called_once_with(key, images, **kwargs)

  def test_no_augmentation_is_the_identity(self):
    config = train_config.get_config('tiny')
    images = jnp.ones((2, 4, 4, 1))
    self.assertIs(train.augment(jax.random.key(0), images,
                                settings=step_settings(config)), images)

  def test_metric_writer_drops_records_after_the_resume_step(self):
    workdir = self.enter_context(tempfile.TemporaryDirectory())
    writer = train.MetricWriter(workdir)
    for step in range(1, 6):
      writer.write_scalars(step, {'a': step})
    writer.close()
    train.MetricWriter(workdir, resume_step=3).close()
    self.assertEqual([r['step'] for r in train.read_metrics(workdir)],
                     [1, 2, 3])
    train.MetricWriter(workdir).close()  # a fresh run starts a new file
    self.assertEqual(train.read_metrics(workdir), [])

  @parameterized.named_parameters(
      ('optimizer', 'optimizer', 'rmsprop', 'config.optimizer'),
      ('schedule', 'schedule', 'linear', 'config.schedule'),
      ('augment', 'augment', 'flip', 'config.augment'),
      ('shift_mode', 'shift_mode', 'reflect', 'config.shift_mode'),
      ('steps', 'num_train_steps', 0, 'config.num_train_steps'),
      ('batch', 'batch_size', -1, 'config.batch_size'),
      ('lr', 'learning_rate', -1.0, 'config.learning_rate'),
      ('lr_zero', 'learning_rate', 0.0, 'config.learning_rate must be > 0'),
      ('momentum_one', 'momentum', 1.0, r'config.momentum must be in \[0, 1\)'),
      ('warmup', 'warmup_steps', 100, 'config.warmup_steps'),
      ('limit', 'train_limit', 0, 'config.train_limit'),
      ('angle', 'max_angle', float('inf'), 'config.max_angle'),
      ('rotate_order', 'rotate_order', 3, r'config.rotate_order must be one '
       r'of 0 \(nearest\), 1 \(bilinear\); got 3'),
      ('rotate_order_bool', 'rotate_order', True, 'config.rotate_order'),
      ('devices', 'num_devices', -1, 'config.num_devices'),
      ('dataset', 'dataset', 'mnits', "config.dataset must be one of 'digits'"),
      ('source', 'data_source', 'web', 'config.data_source'),
      ('eval_split', 'eval_split', 'validation', "config.eval_split must be "
       "one of 'train', 'test'"),
      ('canvas', 'canvas_size', 0, 'config.canvas_size'),
  )
  def test_rejects_bad_config(self, key, value, message):
    config = train_config.get_config('tiny')
    config[key] = value
    workdir = self.enter_context(tempfile.TemporaryDirectory())
    with self.assertRaisesRegex(ValueError, message):
      train.train_and_evaluate(config, workdir)

  def test_rejects_a_model_without_name(self):
    config = train_config.get_config('tiny')
    config.model.name = ''
    with self.assertRaisesRegex(ValueError, 'config.model'):
      train.check_config(config)

  def test_rejects_an_unknown_model_or_model_option(self):
    config = train_config.get_config('tiny')
    config.model.name = 'cnnn'
    with self.assertRaisesRegex(ValueError,
                                "^config.model.name must be one of .*'cnn'"):
      train.check_config(config)
    config = train_config.get_config('tiny')
    config.model.widht = 3
    with self.assertRaisesRegex(
        ValueError, r"^config.model has unknown option\(s\) widht for model "
        r"'cnn'; accepted: .*widths"):
      train.check_config(config)


if __name__ == '__main__':
  absltest.main()
