"""Smoke tests of ``main.py`` run as a user runs it, in a subprocess."""

import csv
import json
import os
import re
import subprocess
import sys
import tempfile

from absl.testing import absltest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAIN = os.path.join(REPO, 'main.py')
TEST_CONFIG = os.path.join('experiments', 'configs', 'probe.py') + ':tiny'


def run_main(*flags: str, cwd: str = REPO,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
  return subprocess.run([sys.executable, MAIN, *flags], cwd=cwd,
                        capture_output=True, text=True, timeout=120,
                        check=False, env=env)


class MainTest(absltest.TestCase):
  """Subprocess runs (~3 s of imports, plus ~5 s of compiles for a run)."""

  def test_test_config_with_override_writes_results(self):
    workdir = self.enter_context(tempfile.TemporaryDirectory())
    result = run_main(f'--config={TEST_CONFIG}', f'--workdir={workdir}',
                      '--config.max_shift=1')
    self.assertEqual(result.returncode, 0, result.stderr[-3000:])
    for name in ('config.json', 'results.csv', 'results.md', 'probe.png'):
      self.assertTrue(os.path.isfile(os.path.join(workdir, name)), name)
    self.assertIn('| conv_circular | equivariance |', result.stdout)
    # The override replaced the tiny config's max_shift=2.
    with open(os.path.join(workdir, 'results.csv')) as f:
      shifts = {float(row['shift']) for row in csv.DictReader(f)}
    self.assertEqual(shifts, {0.0, 0.5, 1.0})
    with open(os.path.join(workdir, 'config.json')) as f:
      self.assertEqual(json.load(f)['max_shift'], 1)

  def test_second_run_loads_its_programs_from_the_cache(self):
    cache = self.enter_context(tempfile.TemporaryDirectory())
    env = {**os.environ, 'EQUIVLAB_COMPILATION_CACHE': cache}
    logs = []
    for run in range(2):
      workdir = self.enter_context(tempfile.TemporaryDirectory())
      result = run_main('--config=experiments/configs/train.py:tiny',
                        f'--workdir={workdir}', env=env)
      self.assertEqual(result.returncode, 0, result.stderr[-3000:])
      logs.append([line for line in result.stderr.splitlines()
                   if 'compilation cache:' in line][-1])
      del run
    counts = [tuple(int(n) for n in re.search(
        r'(\d+) programs loaded, (\d+) compiled and stored', log).groups())
              for log in logs]
    (loaded_first, stored_first), (loaded_second, _) = counts
    self.assertEqual(loaded_first, 0)
    self.assertGreater(stored_first, 0)
    # Every program the first run stored is loaded by the second. (Whether
    # the second run stores none depends on the machine's load: a program
    # that compiled just under CACHE_MIN_COMPILE_SECONDS the first time may
    # take just over it the second; the full suite on 2 cores hit that.)
    self.assertGreaterEqual(loaded_second, stored_first)
    self.assertTrue(os.listdir(cache))

  def test_unknown_experiment_fails_clearly(self):
    # Run from another folder with an absolute config path and no --workdir:
    # main creates the default <cwd>/runs/<config stem>_<arg> before failing.
    cwd = self.enter_context(tempfile.TemporaryDirectory())
    result = run_main(f'--config={os.path.join(REPO, TEST_CONFIG)}',
                      '--config.experiment=no_such_experiment', cwd=cwd)
    self.assertNotEqual(result.returncode, 0)
    self.assertIn("unknown experiment 'no_such_experiment'", result.stderr)
    self.assertIn("accepted: 'probe'", result.stderr)
    self.assertTrue(os.path.isdir(os.path.join(cwd, 'runs', 'probe_tiny')))

  def test_cluster_flags_need_distributed(self):
    # Fails before any experiment runs (--distributed is tested, with two
    # processes, in tests/multidevice_test.py::TwoProcessTest).
    result = run_main(f'--config={TEST_CONFIG}', '--num_processes=2',
                      '--process_id=0')
    self.assertNotEqual(result.returncode, 0)
    self.assertIn('--num_processes, --process_id given without '
                  '--distributed', result.stderr)

  def test_typo_in_a_config_key_is_a_one_line_error(self):
    cwd = self.enter_context(tempfile.TemporaryDirectory())
    result = run_main(f'--config={os.path.join(REPO, TEST_CONFIG)}',
                      '--config.max_shfit=3', cwd=cwd)
    self.assertEqual(result.returncode, 1)
    self.assertEqual(result.stderr.strip().splitlines()[-1],
                     "FATAL Flags parsing error: unknown config key "
                     "'max_shfit'. Did you mean \"max_shift\" "
                     "instead of \"max_shfit\"?")
    self.assertNotIn('Traceback', result.stderr)
    self.assertEqual(os.listdir(cwd), [])  # nothing ran


if __name__ == '__main__':
  absltest.main()
