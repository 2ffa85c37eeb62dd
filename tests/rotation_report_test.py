"""Tests for experiments.rotation_report on trained tiny rotated-MNIST models.

The class set-up trains P4CNN, the H-Net and the steerable C16 CNN with
their tiny configs (as the study runner trains them, without its
measurements: offline digits, a few steps each) in a temporary folder, then
runs the report on them once (16 digits, 90-degree steps, 8 digits for the
per-layer errors). The checks: the files and their
columns; the quarter turn is exact (< 1e-4) at every layer of every model;
P4CNN has no action at 45 degrees (NaN) but its logits are measured; a
wrong action (a plain Rot90 without the group-axis shift) must fail on
P4CNN; unfinished and missing runs are refused before anything is written.
The restricted D16 -> C16 model (no tiny config) is checked on its own with
NumPy-filled variables. Bad arguments: tests/bad_input_experiments_test.py.
"""

import csv
import math
import os
import shutil
import tempfile

from absl import app
from absl import flags
from absl.testing import absltest
import jax
import jax.numpy as jnp
import numpy as np

import groups
from experiments import layer_equivariance
from experiments import rotation_report
from experiments import study
from experiments import train
from experiments import trained_runs
from experiments.configs import mnist_rot_hnet
from experiments.configs import mnist_rot_p4cnn
from experiments.configs import mnist_rot_steerable
import models

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_CONFIGS = {'p4cnn': mnist_rot_p4cnn, 'hnet': mnist_rot_hnet,
            'c16cnn': mnist_rot_steerable}
_EXACT = 1e-4   # the quarter turn on 28 x 28 (16 x 16 for the tiny H-Net)


def _read_csv(path):
  with open(path, newline='') as f:
    return list(csv.DictReader(f))


def _spec(label, workdir, **overrides):
  config = _CONFIGS[label].get_config('tiny')
  for key, value in overrides.items():
    trained_runs.apply_override(config, key, value)
  return trained_runs.RunSpec(label, config, workdir, source=f'{label}:tiny')


class RotationReportTest(absltest.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.dir = tempfile.mkdtemp()
    cls.workdirs = {}
    for label, module in _CONFIGS.items():   # trained as study.run does
      cls.workdirs[label] = os.path.join(cls.dir, label)
      config = study.resolve_presets(module.get_config('tiny'))
      train.train(study.train_config(config, label),
                  os.path.join(cls.workdirs[label], study.MODELS_DIR, label))
    cls.out = os.path.join(cls.dir, 'out')
    cls.rows = rotation_report.report(
        [_spec(label, cls.workdirs[label]) for label in _CONFIGS], cls.out,
        step_degrees=90, limit=16, layer_images=8, command='the command')
    cls.layers = {(r['model'], r['layer'], r['transform']): r['relative_error']
                  for r in cls.rows['layers']}

  @classmethod
  def tearDownClass(cls):
    shutil.rmtree(cls.dir, ignore_errors=True)
    super().tearDownClass()

  def _errors(self, model, transform):
    return {layer: e for (m, layer, t), e in self.layers.items()
            if m == model and t == transform}

  def test_writes_every_output_with_its_columns(self):
    for name in rotation_report.OUTPUTS:
      self.assertTrue(os.path.isfile(os.path.join(self.out, name)), name)
    accuracy = _read_csv(os.path.join(self.out, 'accuracy_vs_angle.csv'))
    self.assertEqual(list(accuracy[0])[:7], ['model', 'angle', 'accuracy',
                                             'error', 'ci_low', 'ci_high', 'n'])
    self.assertLen(accuracy, 3 * 5)   # 0, 45, 90, 180, 270 per model
    layers = _read_csv(os.path.join(self.out, 'layer_errors.csv'))
    self.assertEqual(list(layers[0])[:4], ['model', 'layer', 'transform',
                                           'relative_error'])
    with open(os.path.join(self.out, 'report.md')) as f:
      text = f.read()
    for fragment in ('Command: `the command`', 'wall time', 'AVX',
                     '## Test error vs rotation', '## Invariance of the logits',
                     '## Per-layer equivariance error', '| c16cnn | conv6 |'):
      self.assertIn(fragment, text)

  def test_invariance_under_bilinear_and_fourier_rotations(self):
    rows = _read_csv(os.path.join(self.out, 'invariance.csv'))
    self.assertEqual(list(rows[0]), ['model', 'interpolation', 'transform',
                                     'relative_error', 'standard_error', 'n'])
    self.assertLen(rows, 3 * len(rotation_report.INVARIANCE_TRANSFORMS))
    at = {(r['model'], r['interpolation'], r['transform']):
          float(r['relative_error']) for r in self.rows['invariance']}
    for label in _CONFIGS:
      for kind in ('bilinear', 'fourier'):
        # Both resamplings are exact quarter turns: invariant to rounding.
        self.assertLess(at[(label, kind, 'rot90')], _EXACT, (label, kind))
        # Negative control: 45 degrees is not a symmetry of the grid.
        self.assertGreater(at[(label, kind, 'rot45')], _EXACT, (label, kind))
    with open(os.path.join(self.out, 'report.md')) as f:
      self.assertIn('## Invariance of the logits: bilinear vs Fourier',
                    f.read())

  def test_error_rows_with_wilson_intervals(self):
    for row in self.rows['accuracy']:
      self.assertEqual(row['n'], 16)
      self.assertAlmostEqual(row['error'], 1 - row['accuracy'])
      self.assertBetween(row['error'], row['ci_low'], row['ci_high'])
    by_angle = {(r['model'], r['angle']): r['error']
                for r in self.rows['accuracy']}
    self.assertEqual(sorted({a for _, a in by_angle}),
                     [0.0, 45.0, 90.0, 180.0, 270.0])
    for label in _CONFIGS:   # exactly invariant: the same predictions
      for angle in (90.0, 180.0, 270.0):
        self.assertEqual(by_angle[(label, angle)], by_angle[(label, 0.0)])

  def test_quarter_turn_is_exact_at_every_layer(self):
    # c16cnn: every typed layer (conv, bn, nonlin x 6, blur and pool x 2,
    # readout), the two dense layers and the logits.
    for label, count in (('p4cnn', 14), ('hnet', 10), ('c16cnn', 26)):
      errors = self._errors(label, 'rot90')
      self.assertLen(errors, count, label)   # every captured layer has one
      for layer, error in errors.items():
        self.assertLess(error, _EXACT, f'{label}/{layer}')   # NaN fails too

  def test_p4cnn_has_no_action_at_45_degrees_but_its_logits_are_measured(self):
    errors = self._errors('p4cnn', 'rot45')
    hidden = [e for layer, e in errors.items() if layer != '__call__']
    self.assertLen(hidden, 13)
    self.assertTrue(all(math.isnan(e) for e in hidden))
    self.assertGreater(errors['__call__'], _EXACT)   # only approximate
    self.assertTrue(math.isfinite(errors['__call__']))

  def test_hnet_and_steerable_are_approximate_at_45_degrees(self):
    for label in ('hnet', 'c16cnn'):
      errors = self._errors(label, 'rot45')
      values = np.array(list(errors.values()))
      self.assertTrue(np.all(np.isfinite(values)), label)
      self.assertGreater(values.max(), _EXACT, label)   # not exact
      self.assertLess(values.max(), 1.0, label)   # and not unrelated

  def test_plain_rot90_on_p4cnn_group_maps_must_fail(self):
    trained = trained_runs.restore(mnist_rot_p4cnn.get_config('tiny'),
                                      'p4cnn', self.workdirs['p4cnn'])
    right = layer_equivariance.layer_actions(trained.model, 90)
    wrong = {layer: groups.Rot90(1) if layer != '__call__' else action
             for layer, action in right.items()}   # no group-axis shift
    errors = layer_equivariance.layer_errors(
        trained.model, trained.variables, trained.images[:8],
        groups.Rot90(1), wrong, mean=trained.mean, std=trained.std)
    for layer, error in errors.items():
      if layer == '__call__':
        self.assertLess(error, _EXACT)   # the logits do not see the action
      else:
        self.assertGreater(error, 0.1, layer)

  def test_unfinished_run_is_refused_before_anything_is_written(self):
    model_dir = os.path.join(self.workdirs['p4cnn'], 'models', 'p4cnn')
    before = sorted(os.listdir(model_dir))
    with open(os.path.join(model_dir, 'config_history.jsonl')) as f:
      history = f.read()
    with self.assertRaisesRegex(ValueError, r'unfinished .* latest checkpoint '
                                r'is step 2, the config says num_train_steps '
                                r'= 5.*--override=p4cnn:num_train_steps=2'):
      rotation_report.report(
          [_spec('p4cnn', self.workdirs['p4cnn'], num_train_steps=5)],
          os.path.join(self.dir, 'unfinished'), limit=16)
    self.assertEqual(sorted(os.listdir(model_dir)), before)
    with open(os.path.join(model_dir, 'config_history.jsonl')) as f:
      self.assertEqual(f.read(), history)

  def test_missing_run_is_refused_and_not_created(self):
    workdir = os.path.join(self.dir, 'never_trained')
    with self.assertRaisesRegex(ValueError, r'holds no checkpoint of model '
                                r"'hnet': train it first"):
      trained_runs.restore(mnist_rot_hnet.get_config('tiny'), 'hnet',
                              workdir)
    self.assertFalse(os.path.exists(workdir))

  def test_command_line_rejects_bad_flags_before_any_work(self):
    cases = (
        (['--run=p4cnn=runs/p4', '--out=x'],
         r'^run must be LABEL=CONFIG\.py\[:ARG\]:WORKDIR'),
        ([f'--run=p4cnn={_REPO}/experiments/configs/mnist_rot_p4cnn.py:tiny:'
          f'{self.workdirs["p4cnn"]}', '--out=x', '--override=hnet:seed=1'],
         r'^override hnet:seed names no --run label; accepted: p4cnn'),
        (['--run=a=b.py:c', '--out=x', '--step_degrees=0'],
         r'^step_degrees must be a finite number in \(0, 360\]'),
        (['--run=a=b.py:c'], r'^out must be given'),
    )
    for argv, regex in cases:
      flags.FLAGS(['rotation_report'] + argv)
      try:
        with self.subTest(argv[0]), self.assertRaisesRegex(app.UsageError,
                                                           regex):
          rotation_report.main(['rotation_report'])
      finally:
        flags.FLAGS.unparse_flags()


class RestoredFromFlagsTest(absltest.TestCase):
  """The flag checks every post-hoc tool shares, before any restore."""

  def test_refuses_extra_arguments_and_missing_flags(self):
    for argv, flag_values, regex in (
        (['tool', 'extra'], ['--run=a=b.py:c', '--out=x'],
         r'^Too many command-line arguments'),
        (['tool'], ['--run=a=b.py:c'], r'^out must be given'),
        (['tool'], ['--out=x'], r'^run must be given at least once'),
        (['tool'], ['--run=p4cnn=runs/p4', '--out=x'],
         r'^run must be LABEL=CONFIG\.py\[:ARG\]:WORKDIR')):
      flags.FLAGS(['tool'] + flag_values)
      try:
        with self.subTest(flag_values[-1]), self.assertRaisesRegex(
            app.UsageError, regex):
          trained_runs.restored_from_flags(argv)
      finally:
        flags.FLAGS.unparse_flags()


def _numpy_variables(model, shape):
  """Variables of ``model`` filled from NumPy (no initialiser compiles)."""
  rng = np.random.default_rng(0)

  def fill(path, leaf):
    if path[-1].key == 'var':
      return jnp.asarray(rng.uniform(0.5, 2.0, leaf.shape), jnp.float32)
    return jnp.asarray(0.3 * rng.standard_normal(leaf.shape), jnp.float32)
  shapes = jax.eval_shape(model.init, jax.random.PRNGKey(0),
                          jax.ShapeDtypeStruct(shape, jnp.float32))
  return jax.tree_util.tree_map_with_path(fill, shapes)


class RestrictedSteerableTest(absltest.TestCase):
  """d16c16cnn: blocks 5-6 carry C16 fields after the D16 ones."""

  def test_actions_follow_the_restriction_and_are_exact_at_quarter_turns(self):
    # 8 x 8 and 3 x 3 kernels: the smallest exact case (pools 8 -> 4 -> 2).
    model = models.build_model('d16c16cnn', fields=(1, 1, 1, 1, 1, 1),
                               kernel_size=3, head_width=8)
    variables = _numpy_variables(model, (1, 8, 8, 1))
    images = np.random.default_rng(1).random((2, 8, 8, 1), np.float32)
    actions = layer_equivariance.layer_actions(model, 90)
    self.assertEqual(str(actions['conv4'].field_type.group), 'D16')
    self.assertEqual(str(actions['conv5'].field_type.group), 'C16')
    self.assertEqual(actions['conv5'].element, 4)   # 90 degrees of C16
    errors = layer_equivariance.layer_errors(model, variables, images,
                                          groups.Rot90(1), actions)
    self.assertLen(errors, 27)   # c16cnn's 26 and the restriction
    for layer, error in errors.items():
      self.assertLess(error, _EXACT, layer)
    at_45 = layer_equivariance.layer_actions(model, 45)
    self.assertEqual((at_45['conv1'].element, at_45['conv6'].element), (2, 2))
    self.assertIsNone(layer_equivariance.layer_actions(
        models.build_model('p4cnn'), 45)['bn3'])


if __name__ == '__main__':
  absltest.main()
