"""Tests for layers.autotune: switches, caching, the choice file, resume.

The tuner times candidates, but no test asserts on a time: only that a
choice, once made (or loaded), is reused, stored and restored, and that tuned
convolutions compute the same function. tests/conftest.py turns tuning off;
these tests opt in with ``autotune.settings``.
"""

import functools
import json
import os
import subprocess
import sys
import tempfile

from absl.testing import absltest
import jax
import jax.numpy as jnp
import numpy as np

import layers
from layers import autotune
from layers import conv as conv_lib
from layers import conv_lowering

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_OPTIONS = dict(strides=(1, 1), padding=((1, 1), (1, 1)), dilations=(1, 1))


def _grads(x, kernel):
  """The output and both gradients of a fixed projection of conv2d."""
  def loss(x, kernel):
    y = layers.conv2d(x, kernel, padding='zeros')
    return jnp.sum(y * jnp.cos(y))
  return jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))(x, kernel)


def _inputs(seed=0):
  rng = np.random.default_rng(seed)
  return (rng.standard_normal((2, 8, 8, 3)).astype(np.float32),
          rng.standard_normal((3, 3, 3, 4)).astype(np.float32))


class _TempDirTest(absltest.TestCase):

  def _tempdir(self) -> str:
    tmp = tempfile.TemporaryDirectory()
    self.addCleanup(tmp.cleanup)
    return tmp.name


class AutotuneTest(_TempDirTest):

  def setUp(self):
    super().setUp()
    self.cache = os.path.join(self._tempdir(), 'choices.json')
    autotune.clear()
    # Tuning itself is under test: the backend that tunes ('auto'), whatever
    # $EQUIVLAB_CONV_BACKEND forces for the rest of the suite.
    self.enter_context(autotune.settings(cache_file=self.cache, min_flops=0,
                                         repeats=1, backend='auto'))
    self.addCleanup(autotune.clear)

  def test_off_in_tests_and_then_choose_returns_the_backends_lowering(self):
    self.assertFalse(autotune.enabled())
    with autotune.settings(backend='xla'):
      self.assertIsNone(autotune.choose((2, 8, 8, 3), (3, 3, 3, 4), 'float32',
                                        **_OPTIONS))
    with autotune.settings(backend='auto'):
      self.assertEqual(
          autotune.choose((2, 8, 8, 3), (3, 3, 3, 4), 'float32', **_OPTIONS),
          autotune.ONEDNN_CHOICE if conv_lowering.onednn.available() else
          None)

  def test_environment_variable_switches_when_settings_say_none(self):
    with autotune.settings(enabled=None):
      for value, expected in (('1', True), ('0', False), ('off', False),
                              ('on', True)):
        with absltest.mock.patch.dict(os.environ,
                                      {autotune.ENV_VAR: value}):
          self.assertEqual(autotune.enabled(), expected, value)
      with autotune.settings(enabled=True):
        with absltest.mock.patch.dict(os.environ, {autotune.ENV_VAR: '0'}):
          self.assertTrue(autotune.enabled())

  def test_off_is_the_backends_lowering_bit_for_bit(self):
    x, kernel = _inputs()
    for backend, choice in (('xla', conv_lowering.DEFAULT_CHOICE),
                            ('auto', autotune.ONEDNN_CHOICE)):
      with autotune.settings(backend=backend):
        off = _grads(x, kernel)
      with autotune.settings(force=choice):
        forced = _grads(x, kernel)
      jax.tree.map(np.testing.assert_array_equal, off, forced)

  def test_tunes_once_stores_the_choice_and_reads_it_back(self):
    x, kernel = _inputs()
    with autotune.settings(enabled=True):
      first = _grads(x, kernel)
      exported = autotune.export_choices()
      self.assertLen(exported['choices'], 1)
      (key, roles), = exported['choices'].items()
      self.assertEqual(set(roles), set(conv_lowering.ROLES))
      self.assertIn(key, autotune.timings())
      again = _grads(x, kernel)
      self.assertEqual(autotune.export_choices(), exported)
      with open(self.cache) as f:
        stored = json.load(f)
      self.assertEqual(stored['machines'][autotune.machine_key()],
                       exported['choices'])
      # A new process (here: memory cleared) takes the file's choice untimed.
      autotune.clear()
      choice = autotune.choose((2, 8, 8, 3), (3, 3, 3, 4), 'float32',
                               **_OPTIONS)
      self.assertEqual(choice.as_dict(), roles)
      self.assertEmpty(autotune.timings())
    jax.tree.map(np.testing.assert_array_equal, first, again)

  def test_tuned_conv_equals_untuned_within_rounding(self):
    x, kernel = _inputs(1)
    untuned = _grads(x, kernel)
    with autotune.settings(enabled=True):
      tuned = _grads(x, kernel)
    jax.tree.map(functools.partial(np.testing.assert_allclose, rtol=1e-5,
                                   atol=1e-4), tuned, untuned)

  def test_small_convolutions_keep_the_default_untimed(self):
    for backend, default in (
        ('xla', conv_lowering.DEFAULT_CHOICE),
        ('auto', autotune.ONEDNN_CHOICE if conv_lowering.onednn.available()
         else conv_lowering.DEFAULT_CHOICE)):
      with autotune.settings(enabled=True, min_flops=1e12, backend=backend):
        choice = autotune.choose((2, 8, 8, 3), (3, 3, 3, 4), 'float32',
                                 **_OPTIONS)
      self.assertEqual(choice, default)
    self.assertEmpty(autotune.timings())

  def test_loaded_choices_are_pinned_and_not_written_to_the_file(self):
    key = autotune.conv_key((2, 8, 8, 3), (3, 3, 3, 4), 'float32', **_OPTIONS)
    pinned = conv_lowering.Choice('taps', 'im2col', 'taps')
    autotune.load_choices({'choices': {key: pinned.as_dict()}})
    self.assertFalse(autotune.enabled())  # no 'enabled' key: unchanged
    with autotune.settings(enabled=True):
      self.assertEqual(
          autotune.choose((2, 8, 8, 3), (3, 3, 3, 4), 'float32', **_OPTIONS),
          pinned)
      autotune.choose((2, 9, 9, 3), (3, 3, 3, 4), 'float32', **_OPTIONS)
    with open(self.cache) as f:
      stored = json.load(f)['machines'][autotune.machine_key()]
    self.assertNotIn(key, stored)
    self.assertLen(stored, 1)

  def test_load_restores_the_switch_of_the_export(self):
    with autotune.settings(enabled=True):
      exported = autotune.export_choices()
    self.assertTrue(exported['enabled'])
    with autotune.settings(enabled=False):
      autotune.load_choices(exported)
      self.assertTrue(autotune.enabled())
      autotune.load_choices(dict(exported, enabled=False))
      self.assertFalse(autotune.enabled())

  def test_run_choices_round_trip_through_the_workdir(self):
    workdir = self._tempdir()
    self.assertFalse(autotune.load_run_choices(workdir))
    key = autotune.conv_key((2, 8, 8, 3), (3, 3, 3, 4), 'float32', **_OPTIONS)
    pinned = conv_lowering.Choice('im2col', 'taps', 'xla')
    autotune.load_choices({'choices': {key: pinned.as_dict()}})
    path = autotune.save_run_choices(workdir)
    self.assertEqual(os.path.basename(path), autotune.RUN_FILE)
    autotune.clear()
    self.assertTrue(autotune.load_run_choices(workdir))
    self.assertEqual(autotune.export_choices()['choices'],
                     {key: pinned.as_dict()})

  def test_tuning_inside_jit_grad_and_vmap(self):
    x, kernel = _inputs(2)
    with autotune.settings(enabled=True):
      fn = jax.jit(jax.vmap(jax.grad(
          lambda x, k: jnp.sum(conv_lib.conv2d(x[None], k) ** 2), argnums=1),
                            in_axes=(0, None)))
      self.assertEqual(fn(x, kernel).shape, (2, 3, 3, 3, 4))

  def test_unwritable_file_does_not_stop_tuning(self):
    blocker = os.path.join(self._tempdir(), 'file')
    with open(blocker, 'w') as f:
      f.write('not a directory')
    with autotune.settings(enabled=True,
                           cache_file=os.path.join(blocker, 'c.json')):
      self.assertIsNotNone(autotune.choose((2, 8, 8, 3), (3, 3, 3, 4),
                                           'float32', **_OPTIONS))

  def test_margin_keeps_the_default_unless_clearly_slower(self):
    def fake_race(calls, *, repeats, keep):
      del repeats, keep
      fake = {'xla': 10.0, 'xla_unpadded': 9.5, 'taps': 9.2, 'im2col': 4.0,
              'taps_batched': 9.9}
      return {name: fake[name] for name in calls}
    with absltest.mock.patch.object(autotune, '_race', fake_race):
      choice, times = autotune.tune((1, 6, 6, 2), (3, 3, 2, 2), 'float32',
                                    repeats=1, margin=0.1, **_OPTIONS)
      self.assertEqual(choice, conv_lowering.Choice('im2col', 'im2col',
                                                    'im2col'))
      self.assertEqual(set(times['filter_grad']),
                       {'xla', 'taps', 'im2col', 'taps_batched'})
      choice, _ = autotune.tune((1, 6, 6, 2), (3, 3, 2, 2), 'float32',
                                repeats=1, margin=0.7, **_OPTIONS)
      self.assertEqual(choice, conv_lowering.DEFAULT_CHOICE)

  def test_race_never_drops_the_default_after_a_slow_warm_up(self):
    # A fake clock: each call advances it by its scripted duration.
    clock = [0.0]
    durations = {'xla': iter([100.0] + [1.0] * 5),    # a spike, then fast
                 'taps': iter([2.0] * 6), 'im2col': iter([50.0] * 6)}

    def call(name):
      def run():
        clock[0] += next(durations[name])
      return run

    with absltest.mock.patch.object(autotune.time, 'perf_counter',
                                    lambda: clock[0]):
      times = autotune._race({name: call(name) for name in durations},  # pylint: disable=protected-access
                             repeats=5, keep='xla')
    self.assertEqual(times, {'xla': 1e3, 'taps': 2e3, 'im2col': 50e3})

  def test_configure_and_load_reject_bad_values(self):
    with self.assertRaisesRegex(ValueError, r'^settings must be among'):
      autotune.configure(enabeld=True)
    with self.assertRaisesRegex(ValueError, r'^enabled must be True'):
      autotune.configure(enabled='yes')
    with self.assertRaisesRegex(ValueError, r'^repeats must be an int'):
      autotune.configure(repeats=0)
    with self.assertRaisesRegex(ValueError, r'^margin must be in'):
      autotune.configure(margin=1.5)
    with self.assertRaisesRegex(ValueError, r'^min_flops must be >= 0'):
      autotune.configure(min_flops='many')
    with self.assertRaisesRegex(ValueError, r'^force must be a Choice'):
      autotune.configure(force='taps')
    with self.assertRaisesRegex(ValueError, r'^mapping must be an '):
      autotune.load_choices({'x': 1})
    with self.assertRaisesRegex(ValueError, r'^mapping choices\['):
      autotune.load_choices({'choices': {'k': {'forward': 'xla'}}})
    with self.assertRaisesRegex(ValueError, r"^mapping\['enabled'\]"):
      autotune.load_choices({'choices': {}, 'enabled': 'yes'})
    with self.assertRaisesRegex(ValueError, r'^forward must be one of'):
      autotune.load_choices({'choices': {'k': {
          'forward': 'fft', 'input_grad': 'xla', 'filter_grad': 'xla'}}})


_RESUME_SCRIPT = '''
import json, sys
import jax, jax.numpy as jnp, numpy as np
from layers import autotune
import layers
autotune.configure(enabled=True, cache_file='', min_flops=0, repeats=1)
if sys.argv[1] != '-':
  autotune.load_choices(json.load(open(sys.argv[1])))
rng = np.random.default_rng(0)
x = rng.standard_normal((2, 8, 8, 3)).astype(np.float32)
k = rng.standard_normal((3, 3, 3, 4)).astype(np.float32)
g = jax.jit(jax.grad(lambda k: jnp.sum(
    jnp.sin(layers.conv2d(x, k, padding='reflect')))))(k)
json.dump(autotune.export_choices(), open(sys.argv[2], 'w'))
np.save(sys.argv[3], np.asarray(g))
'''


class ResumeTest(_TempDirTest):

  def test_a_process_that_loads_the_choices_is_bit_identical(self):
    # Pin a non-default choice so that a mismatch would be visible, then
    # check the round trip run 1 -> export -> run 2 -> same bits.
    tmp = self._tempdir()
    script = os.path.join(tmp, 'resume.py')
    with open(script, 'w') as f:
      f.write(_RESUME_SCRIPT)
    env = dict(os.environ, PYTHONPATH=_ROOT, EQUIVLAB_AUTOTUNE='1',
               EQUIVLAB_CONV_BACKEND='auto')
    first_choices = os.path.join(tmp, 'c1.json')
    subprocess.run([sys.executable, script, '-', first_choices,
                    os.path.join(tmp, 'g1.npy')], check=True, env=env,
                   cwd=_ROOT)
    with open(first_choices) as f:
      exported = json.load(f)
    self.assertLen(exported['choices'], 1)
    subprocess.run([sys.executable, script, first_choices,
                    os.path.join(tmp, 'c2.json'),
                    os.path.join(tmp, 'g2.npy')], check=True, env=env,
                   cwd=_ROOT)
    with open(os.path.join(tmp, 'c2.json')) as f:
      self.assertEqual(json.load(f)['choices'], exported['choices'])
    np.testing.assert_array_equal(np.load(os.path.join(tmp, 'g1.npy')),
                                  np.load(os.path.join(tmp, 'g2.npy')))


if __name__ == '__main__':
  absltest.main()
