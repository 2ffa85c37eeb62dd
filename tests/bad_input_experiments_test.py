"""Bad ``--config.<key>`` flags fail with the key's name (experiments/configs).

``ConfigKeyTest`` parses flags as ``main.py`` does (``lock_config=True``):
a typo in a key names the key (with a did-you-mean hint), and every config
file rejects an unknown key. :data:`BAD_INPUTS` holds the rows of the
experiments' public functions (experiments/trained_runs.py,
rotation_report.py, layer_equivariance.py, bn_recalibration.py), in the
house pattern of tests/bad_input.py.
"""

import glob
import os

from absl import flags
from absl.testing import absltest
from absl.testing import parameterized
from ml_collections import config_flags
import jax
import numpy as np

import groups
import models
from experiments import configs
from experiments import bn_recalibration as bnr
from experiments import layer_equivariance
from experiments import lie_study
from experiments import rotation_report as report
from experiments import trained_runs as runs
from experiments.configs import lie_study as lie_study_config
from experiments.configs import mnist_rot_p4cnn
from experiments.configs import train as train_config
from tests import bad_input


_CONFIGS = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), 'experiments', 'configs')

# (name, config file, override flag, regex of the error). ml_collections
# raises AttributeError for a key the locked config does not have.
_BAD_CONFIG_FLAGS = (
    ('top_level_typo', 'train.py', '--config.lerning_rate=0.1',
     r'lerning_rate.*Did you mean "learning_rate"'),
    ('nested_typo', 'train.py', '--config.model.widht=3', r"'widht'"),
    ('default_study_typo', 'study_invariance.py', '--config.quik=False',
     r'Did you mean "quick"'),
    ('tiny_typo', 'train.py:tiny', '--config.num_train_stps=2',
     r'Did you mean "num_train_steps"'),
)


def _parse_config_flags(config_file: str, *overrides: str):
  """Parses flags as main.py does; returns the config."""
  argv = ['main.py', f'--config={os.path.join(_CONFIGS, config_file)}',
          *overrides]
  flag_values = flags.FlagValues()
  config_flags.DEFINE_config_file('config', flag_values=flag_values,
                                  lock_config=True, sys_argv=argv)
  flag_values(argv)
  return flag_values.config


class ConfigKeyTest(parameterized.TestCase):

  def test_a_known_key_is_overridden(self):  # the control for the cases below
    config = _parse_config_flags('train.py', '--config.learning_rate=0.5')
    self.assertEqual(config.learning_rate, 0.5)

  def test_tiny_arg_then_overrides(self):  # --config=<file>.py:tiny --config.k=
    config = _parse_config_flags('train.py:tiny', '--config.num_train_steps=2',
                                 '--config.model.widths=(2, 2)')
    self.assertEqual((config.num_train_steps, config.model.widths), (2, (2, 2)))
    self.assertEqual(config.batch_size, 32)  # the rest stays tiny

  @parameterized.named_parameters(*_BAD_CONFIG_FLAGS)
  def test_typo_in_a_key_names_the_key(self, config_file, override, regex):
    with self.assertRaisesRegex(AttributeError, regex):
      _parse_config_flags(config_file, override)

  def test_every_config_rejects_an_unknown_key(self):
    # Every file, full (no ':') and with every accepted get_config arg.
    files = sorted(os.path.basename(path) for path in glob.glob(
        os.path.join(_CONFIGS, '*.py')) if not path.endswith('__init__.py'))
    self.assertGreaterEqual(len(files), 9)
    for config_file in files:
      for arg in ('', *configs.ARGS):
        spec = f'{config_file}:{arg}' if arg else config_file
        with self.subTest(spec), self.assertRaisesRegex(
            AttributeError, 'no_such_key'):
          _parse_config_flags(spec, '--config.no_such_key=1')

  def test_every_config_rejects_an_unknown_arg(self):
    files = sorted(os.path.basename(path) for path in glob.glob(
        os.path.join(_CONFIGS, '*.py')) if not path.endswith('__init__.py'))
    for config_file in files:
      with self.subTest(config_file), self.assertRaisesRegex(
          flags.IllegalFlagValueError,
          r"arg \(the text after ':' in --config=<file>\.py:<arg>\) must be "
          r"absent \(the full config\) or one of 'tiny'; got 'huge'"):
        _parse_config_flags(f'{config_file}:huge')


def _p4cnn(**overrides):
  """The tiny P4CNN protocol config with ``overrides`` applied."""
  config = mnist_rot_p4cnn.get_config('tiny')
  for key, value in overrides.items():
    config[key] = value
  return config


def _spec(label='p4cnn', workdir='/nonexistent/study'):
  return runs.RunSpec(label, _p4cnn(), workdir)


_MODEL = models.build_model('p4cnn', channels=1)
_FROZEN_BN = models.build_model('p4cnn', channels=1, bn_momentum=1.0)
_BN_VARIABLES = _MODEL.init(jax.random.key(0), np.zeros((1, 28, 28, 1),
                                                        np.float32))
_IMAGES = np.zeros((2, 28, 28, 1), np.float32)
_ACTIONS = {'__call__': groups.Identity()}
_TRAINED = runs.TrainedModel(*(None,) * 12)


def _lie_config(**section):
  """The Lie study's config with some ``config.lie`` fields replaced."""
  config = lie_study_config.get_config('tiny')
  config.lie = lie_study_config.lie_section(**section)
  return config


# (name, call, regex the ValueError message must match)
BAD_INPUTS = (
    # experiments/trained_runs.py: parse_run
    ('parse_run_no_label', lambda: runs.parse_run('cfg.py:runs/x'),
     r'^run must be LABEL=CONFIG\.py\[:ARG\]:WORKDIR .*; got'),
    ('parse_run_no_workdir', lambda: runs.parse_run('a=cfg.py'),
     r'^run must be LABEL=CONFIG\.py'),
    ('parse_run_not_a_py_file', lambda: runs.parse_run('a=cfg.txt:runs/x'),
     r'^run must be LABEL=CONFIG\.py'),
    ('parse_run_not_text', lambda: runs.parse_run(None),
     r'^run must be LABEL=CONFIG\.py.*; got None'),
    # parse_override
    ('parse_override_no_value', lambda: runs.parse_override('p4cnn:seed'),
     r'^override must be LABEL:KEY=VALUE'),
    ('parse_override_no_label', lambda: runs.parse_override('seed=1'),
     r'^override must be LABEL:KEY=VALUE'),
    # load_config
    ('load_config_missing_file', lambda: runs.load_config('no/such.py'),
     r'^config must be an existing config file FILE\.py\[:ARG\]'),
    ('load_config_bad_arg', lambda: runs.load_config(
        os.path.join(_CONFIGS, 'mnist_rot_p4cnn.py') + ':huge'),
     r"^arg \(the text after ':'.*got 'huge'"),
    # apply_override
    ('apply_override_unknown_key', lambda: runs.apply_override(
        _p4cnn(), 'num_train_stps', 2),
     r"^override key 'num_train_stps' names no field of the config"),
    ('apply_override_unknown_nested_key', lambda: runs.apply_override(
        _p4cnn(), 'models.p4cnn.chanels', 2),
     r"^override key 'models\.p4cnn\.chanels' names no field"),
    ('apply_override_wrong_type', lambda: runs.apply_override(
        _p4cnn(), 'num_train_steps', 'many'),
     r"^override num_train_steps='many' does not fit the config"),
    # restore
    ('restore_not_a_study_config', lambda: runs.restore(
        train_config.get_config('tiny'), 'p4cnn', '/nonexistent'),
     r"^config must be a study config \(config\.experiment = 'study'\)"),
    ('restore_unknown_label', lambda: runs.restore(
        _p4cnn(), 'hnet', '/nonexistent'),
     r"^label must be a model of config\.models; accepted: 'p4cnn'; got "
     r"'hnet'"),
    ('restore_no_checkpoint', lambda: runs.restore(
        _p4cnn(), 'p4cnn', '/nonexistent/study'),
     r'^/nonexistent/study/models/p4cnn holds no checkpoint of model '
     r"'p4cnn'"),
    # experiments/lie_study.py: check_lie_config
    ('lie_config_no_section', lambda: lie_study.check_lie_config(
        train_config.get_config()), r'^config.lie must be a ConfigDict'),
    ('lie_config_generator', lambda: lie_study.check_lie_config(
        _lie_config(generators=('translate', 'rotate'))),
     r"^config.lie.generators entries must be one of 'translate_x'"),
    ('lie_config_generators_text', lambda: lie_study.check_lie_config(
        _lie_config(layer_generators='rotate')),
     r'^config.lie.layer_generators must be a tuple of names'),
    ('lie_config_images_zero', lambda: lie_study.check_lie_config(
        _lie_config(num_images=0)), r'^config.lie.num_images must be in 1'),
    ('lie_config_figures_to', lambda: lie_study.check_lie_config(
        _lie_config(figures_to=3)), r'^config.lie.figures_to must be a folder'),
    # experiments/rotation_report.py: sweep_angles
    ('sweep_angles_zero', lambda: report.sweep_angles(0),
     r'^step_degrees must be a finite number in \(0, 360\]; got 0'),
    ('sweep_angles_above_360', lambda: report.sweep_angles(400),
     r'^step_degrees must be a finite number in \(0, 360\]'),
    ('sweep_angles_text', lambda: report.sweep_angles('5'),
     r'^step_degrees must be a finite number'),
    # accuracy_rows, layer_rows, invariance_rows
    ('accuracy_rows_limit_zero', lambda: report.accuracy_rows(
        _TRAINED, [0.0], limit=0), r'^limit must be in 1\.\.inf; got 0'),
    ('layer_rows_num_images_zero', lambda: report.layer_rows(
        _TRAINED, num_images=0), r'^num_images must be in 1\.\.inf'),
    ('invariance_rows_num_images_zero', lambda: report.invariance_rows(
        _TRAINED, num_images=0), r'^num_images must be in 1\.\.inf'),
    # experiments/layer_equivariance.py: layer_actions
    ('layer_actions_not_a_module', lambda: layer_equivariance.layer_actions('p4cnn', 90),
     r"^model must be a flax module; got 'p4cnn'"),
    ('layer_actions_degrees_nan', lambda: layer_equivariance.layer_actions(
        _MODEL, float('nan')), r'^degrees must be a finite number'),
    # layer_errors
    ('layer_errors_images_rank_3', lambda: layer_equivariance.layer_errors(
        _MODEL, {}, _IMAGES[0], groups.Rot90(1), _ACTIONS),
     r'^images must have rank 4 \(\[N, H, W, C\]\)'),
    ('layer_errors_images_int', lambda: layer_equivariance.layer_errors(
        _MODEL, {}, _IMAGES.astype(np.int32), groups.Rot90(1), _ACTIONS),
     r'^images must have a floating dtype'),
    ('layer_errors_no_images', lambda: layer_equivariance.layer_errors(
        _MODEL, {}, _IMAGES[:0], groups.Rot90(1), _ACTIONS),
     r'^images must hold at least one image'),
    ('layer_errors_transform_text', lambda: layer_equivariance.layer_errors(
        _MODEL, {}, _IMAGES, 'rot90', _ACTIONS),
     r"^transform must be a groups\.Transform.*; got 'rot90'"),
    ('layer_errors_action_text', lambda: layer_equivariance.layer_errors(
        _MODEL, {}, _IMAGES, groups.Rot90(1), {'bn1': 'rot90'}),
     r'^actions must map layer names to groups\.Transform or None'),
    ('layer_errors_batch_size_zero', lambda: layer_equivariance.layer_errors(
        _MODEL, {}, _IMAGES, groups.Rot90(1), _ACTIONS, batch_size=0),
     r'^batch_size must be in 1\.\.inf; got 0'),
    # report
    ('report_no_runs', lambda: report.report([], '/tmp/unused'),
     r'^runs must be a non-empty list of RunSpec; got \[\]'),
    ('report_one_run_not_in_a_list', lambda: report.report(
        _spec(), '/tmp/unused'), r'^runs must be a non-empty list of RunSpec'),
    ('report_repeated_label', lambda: report.report(
        [_spec(), _spec()], '/tmp/unused'),
     r"^runs must have different labels; got \['p4cnn', 'p4cnn'\]"),
    ('report_out_empty', lambda: report.report([_spec()], ''),
     r"^out must be a folder path; got ''"),
    ('report_step_negative', lambda: report.report(
        [_spec()], '/tmp/unused', step_degrees=-5),
     r'^step_degrees must be a finite number in \(0, 360\]'),
    ('report_limit_zero', lambda: report.report(
        [_spec()], '/tmp/unused', limit=0), r'^limit must be in 1\.\.inf'),
    ('report_layer_images_float', lambda: report.report(
        [_spec()], '/tmp/unused', layer_images=2.5),
     r'^layer_images must be an int; got 2\.5'),
    # specs_from_flags
    ('specs_from_flags_no_run', lambda: runs.specs_from_flags([], []),
     r'^run must be given at least once as --run=LABEL=CONFIG\.py'),
    ('specs_from_flags_override_unknown_label', lambda: runs.specs_from_flags(
        ['p4cnn=cfg.py:runs/x'], ['hnet:seed=1']),
     r'^override hnet:seed names no --run label; accepted: p4cnn'),
    ('specs_from_flags_checkpoint_unknown_label', lambda: runs.
     specs_from_flags(['p4cnn=cfg.py:runs/x'], [], ['hnet:10']),
     r'^checkpoint hnet names no --run label; accepted: p4cnn'),
    # parse_checkpoint
    ('parse_checkpoint_no_step', lambda: runs.parse_checkpoint('p4cnn'),
     r"^checkpoint must be LABEL:STEP with STEP >= 1 .*got 'p4cnn'"),
    ('parse_checkpoint_step_zero', lambda: runs.parse_checkpoint('p4cnn:0'),
     r"^checkpoint must be LABEL:STEP with STEP >= 1 .*got 'p4cnn:0'"),
    ('parse_checkpoint_not_text', lambda: runs.parse_checkpoint(9000),
     r'^checkpoint must be LABEL:STEP .*got 9000'),
    # experiments/bn_recalibration.py
    ('population_stats_no_batch_norm', lambda: bnr.population_batch_stats(
        models.build_model('mlp', hidden=(2,)), {'params': {}}, _IMAGES),
     r"^variables must hold a 'batch_stats' collection .*got collections "
     r"\['params'\]"),
    ('population_stats_images_rank_3', lambda: bnr.population_batch_stats(
        _MODEL, _BN_VARIABLES, _IMAGES[0]), r'^images must .*\[N, H, W, C\]'),
    ('population_stats_no_images', lambda: bnr.population_batch_stats(
        _MODEL, _BN_VARIABLES, _IMAGES[:0]),
     r'^images must hold at least one image; got shape \(0, 28, 28, 1\)'),
    ('population_stats_batch_size_zero', lambda: bnr.population_batch_stats(
        _MODEL, _BN_VARIABLES, _IMAGES, batch_size=0),
     r"^batch_size must be in 1\.\.inf; got 0"),
    ('population_stats_momentum_one', lambda: bnr.population_batch_stats(
        _FROZEN_BN, _BN_VARIABLES, _IMAGES),
     r'^every batch-norm layer must have momentum < 1'),
    ('count_correct_labels_wrong_length', lambda: bnr.count_correct(
        _MODEL, _BN_VARIABLES, _IMAGES, np.zeros(3, int)),
     r'^labels must be \[N\] with N = 2; got shape \(3,\)'),
    ('compare_without_train_images', lambda: bnr.compare(_TRAINED),
     r'^trained must carry its training images'),
)


class RotationReportBadInputTest(bad_input.make_test_case(BAD_INPUTS)):
  """Each row of :data:`BAD_INPUTS` is one test."""


if __name__ == '__main__':
  absltest.main()
