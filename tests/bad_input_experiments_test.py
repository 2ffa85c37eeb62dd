"""Bad ``--config.<key>`` flags fail with the key's name (experiments/configs).

``ConfigKeyTest`` parses flags as ``main.py`` does (``lock_config=True``):
a typo in a key names the key (with a did-you-mean hint), and every config
file rejects an unknown key.
"""

import glob
import os

from absl import flags
from absl.testing import absltest
from absl.testing import parameterized
from ml_collections import config_flags

from experiments import configs


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



if __name__ == '__main__':
  absltest.main()
