"""tests.compile_profile: the pytest plugin's files and their report."""

import os
import subprocess
import sys
import tempfile
import textwrap

from absl.testing import absltest

from tests import compile_profile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class CompileProfileTest(absltest.TestCase):

  def test_plugin_records_a_tests_compiles_and_reports_them(self):
    with tempfile.TemporaryDirectory() as folder:
      test_file = os.path.join(folder, 'tiny_test.py')
      with open(test_file, 'w', encoding='utf-8') as f:
        f.write(textwrap.dedent('''
            import jax, jax.numpy as jnp
            def test_two_programs():
              jax.jit(lambda x: x * 2)(jnp.ones(3))
              jax.jit(lambda x: x + 1)(jnp.ones(4))
            '''))
      out = os.path.join(folder, 'profile')
      result = subprocess.run(
          [sys.executable, '-m', 'pytest', '-q', '-n', '0', '-p',
           'tests.compile_profile', f'--compile-profile={out}',
           '-p', 'no:cacheprovider', '--rootdir', folder, test_file],
          cwd=REPO, capture_output=True, text=True, timeout=300,
          check=False, env={**os.environ, 'PYTHONPATH': REPO})
      self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
      rows = compile_profile.read(out)
      programs = [program for path, program, _ in rows
                  if path.endswith('tiny_test.py')]
      self.assertEqual(programs.count('jit(<lambda>)'), 2, rows)
      text = compile_profile.report(rows, top=5)
      self.assertIn('| test file |', text)
      self.assertIn('`jit(<lambda>)`', text)

  def test_empty_folder_says_how_to_fill_it(self):
    with tempfile.TemporaryDirectory() as folder:
      with self.assertRaisesRegex(ValueError, '--compile-profile'):
        compile_profile.read(folder)

  def test_top_must_be_positive(self):
    with self.assertRaisesRegex(ValueError, 'top'):
      compile_profile.report([('a_test.py', 'jit(f)', 0.1)], top=0)


if __name__ == '__main__':
  absltest.main()
