"""experiments.runtime: the huge-page re-execution of entry points."""

import os
import subprocess
import sys
from unittest import mock

from absl.testing import absltest

from experiments import runtime

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class CompilationCacheDirTest(absltest.TestCase):

  def test_default_is_per_user(self):
    self.assertEqual(runtime.compilation_cache_dir({'HOME': '/h'}),
                     os.path.join(os.path.expanduser('~'), '.cache',
                                  'equivlab', 'jax'))
    self.assertEqual(
        runtime.compilation_cache_dir({'XDG_CACHE_HOME': '/x'}),
        os.path.join('/x', 'equivlab', 'jax'))

  def test_switch_moves_or_disables_it(self):
    self.assertEqual(runtime.compilation_cache_dir(
        {runtime.CACHE_SWITCH: '/tmp/c'}), '/tmp/c')
    for off in ('0', 'off', 'False'):
      self.assertIsNone(runtime.compilation_cache_dir(
          {runtime.CACHE_SWITCH: off}))


class FastCompileTest(absltest.TestCase):

  def test_adds_the_flag_by_default_or_when_asked(self):
    flag = runtime.FAST_COMPILE_FLAG
    self.assertEqual(runtime.fast_compile_xla_flags({}, default=True), flag)
    self.assertIsNone(runtime.fast_compile_xla_flags({}, default=False))
    self.assertEqual(runtime.fast_compile_xla_flags(
        {runtime.FAST_COMPILE_SWITCH: '1', 'XLA_FLAGS': '--a=1'},
        default=False), f'--a=1 {flag}')

  def test_switch_off_and_explicit_flags_win(self):
    for off in ('0', 'off', 'False'):
      self.assertIsNone(runtime.fast_compile_xla_flags(
          {runtime.FAST_COMPILE_SWITCH: off}, default=True))
    self.assertIsNone(runtime.fast_compile_xla_flags(
        {'XLA_FLAGS': '--xla_cpu_use_fusion_emitters=true'}, default=True))

  def test_child_environment_decides_its_own_code_generation(self):
    flag = runtime.FAST_COMPILE_FLAG
    parent = {'XLA_FLAGS': f'--a=1 {flag}', 'OTHER': 'x'}
    child = runtime.without_fast_compile(parent, setting=False)
    self.assertEqual(child['XLA_FLAGS'], '--a=1')   # other flags kept
    self.assertEqual(child[runtime.FAST_COMPILE_SWITCH], '0')
    self.assertEqual(child['OTHER'], 'x')
    self.assertEqual(parent['XLA_FLAGS'], f'--a=1 {flag}')  # a copy
    self.assertEqual(runtime.without_fast_compile(
        parent, setting=True)[runtime.FAST_COMPILE_SWITCH], '1')
    self.assertNotIn(runtime.FAST_COMPILE_SWITCH,
                     runtime.without_fast_compile(parent, setting=None))

  def test_too_late_once_the_backend_runs(self):
    import jax  # pylint: disable=g-import-not-at-top
    jax.numpy.zeros(1).block_until_ready()   # the backend has started
    with mock.patch.dict(os.environ, {'XLA_FLAGS': ''}):
      os.environ.pop(runtime.FAST_COMPILE_SWITCH, None)
      with self.assertRaisesRegex(RuntimeError, 'before the first JAX'):
        runtime.use_fast_compile(default=True)
      self.assertEqual(os.environ['XLA_FLAGS'], '')

  def test_the_suite_runs_with_it(self):
    # tests/conftest.py turns it on before any computation (unless
    # EQUIVLAB_FAST_COMPILE=0 or XLA_FLAGS names the option).
    if os.environ.get(runtime.FAST_COMPILE_SWITCH, '').lower() in (
        '0', 'off', 'false', 'no'):
      self.skipTest('EQUIVLAB_FAST_COMPILE=0')
    self.assertIn('xla_cpu_use_fusion_emitters', os.environ['XLA_FLAGS'])


class HugePagesEnvironmentTest(absltest.TestCase):

  def test_adds_the_tunable(self):
    env = runtime.huge_pages_environment({'PATH': '/bin'}, (2, 36))
    self.assertEqual(env, {'PATH': '/bin', 'GLIBC_TUNABLES': runtime.TUNABLE})

  def test_appends_to_other_tunables(self):
    env = runtime.huge_pages_environment(
        {'GLIBC_TUNABLES': 'glibc.malloc.arena_max=2'}, (2, 35))
    self.assertEqual(env['GLIBC_TUNABLES'],
                     f'glibc.malloc.arena_max=2:{runtime.TUNABLE}')

  def test_keeps_the_process(self):
    # Already set (by the user, any value, or an earlier re-exec), opted
    # out, an old glibc, or no glibc: no re-execution.
    for environ, libc in (
        ({'GLIBC_TUNABLES': 'glibc.malloc.hugetlb=0'}, (2, 36)),
        ({'GLIBC_TUNABLES': runtime.TUNABLE}, (2, 36)),
        ({runtime.SWITCH: '0'}, (2, 36)),
        ({}, (2, 34)),
        ({}, None)):
      self.assertIsNone(runtime.huge_pages_environment(environ, libc),
                        msg=f'{environ} {libc}')

  def test_bad_switch(self):
    with self.assertRaisesRegex(ValueError, 'EQUIVLAB_HUGE_PAGES must be 0 or '
                                '1; got .yes.'):
      runtime.huge_pages_environment({runtime.SWITCH: 'yes'}, (2, 36))

  def test_reexecutes_once_with_the_same_arguments(self):
    code = ('import os, sys; from experiments import runtime; '
            'runtime.use_huge_pages(); '
            'print(os.environ.get("GLIBC_TUNABLES"), sys.argv[1:])')
    env = {k: v for k, v in os.environ.items()
           if k not in ('GLIBC_TUNABLES', runtime.SWITCH)}
    out = subprocess.run([sys.executable, '-c', code, 'a', '--b=1'],
                         cwd=_ROOT, env=env, capture_output=True, text=True,
                         check=True).stdout.strip()
    libc = runtime.glibc_version()
    on = (sys.platform.startswith('linux') and libc is not None and
          libc >= (2, 35))
    expected = runtime.TUNABLE if on else None
    self.assertEqual(out, f"{expected} ['a', '--b=1']")


if __name__ == '__main__':
  absltest.main()
