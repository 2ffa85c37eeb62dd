"""main.py's exit statuses (experiments/cli.py), one per kind of stop.

In process: ``experiments.run`` is replaced by a stub that raises the stop,
so each test takes milliseconds. The process tests in
``tests/reliability_test.py`` check the same codes through ``python main.py``.
"""

import os
import subprocess
import sys
import tempfile
from unittest import mock

from absl.testing import absltest
import ml_collections

from experiments import cli
from experiments.train import config_history
from experiments.train import preemption
from experiments.train import workdir_lock
from tests import reliability_test  # its lock-holder script


class ExitCodeTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.workdir = self.enter_context(tempfile.TemporaryDirectory())
    self.config = ml_collections.ConfigDict({'experiment': 'train'})

  def exit_status(self, error=None):
    def run(config, workdir):
      del config, workdir
      if error is not None:
        raise error
      return 'done'
    with mock.patch('experiments.run', run):
      with self.assertRaises(SystemExit) as stop:
        cli.run_experiment(self.config, self.workdir)
    return stop.exception.code

  def test_codes_are_distinct_and_documented(self):
    codes = {cli.BUSY_EXIT_CODE, cli.INCOMPATIBLE_EXIT_CODE,
             cli.REQUEUE_EXIT_CODE, 0, 1}
    self.assertLen(codes, 5)
    self.assertEqual((cli.BUSY_EXIT_CODE, cli.INCOMPATIBLE_EXIT_CODE,
                      cli.REQUEUE_EXIT_CODE), (69, 78, 75))
    with open(os.path.join(os.path.dirname(__file__), '..', 'docs',
                           'reliability.md')) as f:
      text = f.read()
    for code in ('69 (`EX_UNAVAILABLE`)', '78 (`EX_CONFIG`)',
                 '75 (`EX_TEMPFAIL`'):
      self.assertIn(code, text)

  def test_busy_workdir_exits_with_busy_code(self):
    holder = subprocess.Popen(
        [sys.executable, '-c', reliability_test.HOLDER_SCRIPT, workdir_lock.__file__, self.workdir],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
      self.assertEqual(holder.stdout.readline().strip(), 'locked')
      self.assertEqual(self.exit_status(), cli.BUSY_EXIT_CODE)
    finally:
      holder.stdin.close()
      holder.wait()

  def test_incompatible_config_exits_with_its_own_code(self):
    error = config_history.IncompatibleConfigError('model.widths changed')
    self.assertEqual(self.exit_status(error), cli.INCOMPATIBLE_EXIT_CODE)

  def test_preempted_exits_with_requeue_code(self):
    self.assertEqual(self.exit_status(preemption.Preempted(3, 'SIGTERM', '.')),
                     cli.REQUEUE_EXIT_CODE)

  def test_finished_run_returns_its_result(self):
    with mock.patch('experiments.run', lambda config, workdir: 'done'):
      self.assertEqual(cli.run_experiment(self.config, self.workdir), 'done')


if __name__ == '__main__':
  absltest.main()
