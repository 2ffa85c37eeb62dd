"""tests/suite_figures.py reads pytest's output as pytest writes it."""

from absl.testing import absltest

from tests import suite_figures

# The tail of a real `python -m pytest --durations=20` run (shortened).
OUTPUT = """\
============================= slowest 20 durations =============================
43.18s setup    tests/docs_examples_test.py::DocsExamplesTest::test_every_fence_names_a_language
38.95s call     tests/scale_report_test.py::ReportTest::test_tiny_study_report
0.50s teardown tests/main_test.py::MainTest::test_cluster_flags_need_distributed
=========================== short test summary info ============================
SKIPPED [5] tests/steerable_e2cnn_test.py:31: e2cnn / torch are not installed
== 2432 passed, 14 skipped, 57 warnings, 64 subtests passed in 870.96s (0:14:30) ==
"""


class SuiteFiguresTest(absltest.TestCase):

  def test_summary_counts_and_seconds(self):
    counts, seconds = suite_figures.parse_summary(OUTPUT)
    self.assertEqual(counts, {'passed': 2432, 'skipped': 14, 'warnings': 57,
                              'subtests passed': 64})
    self.assertEqual(seconds, 870.96)
    self.assertEqual(suite_figures.count_tests(counts), 2446)

  def test_slowest_phases_become_a_table(self):
    rows = suite_figures.parse_slowest(OUTPUT)
    self.assertEqual(rows[0], (43.18, 'setup', 'tests/docs_examples_test.py::'
                               'DocsExamplesTest::'
                               'test_every_fence_names_a_language'))
    self.assertEqual([phase for _, phase, _ in rows],
                     ['setup', 'call', 'teardown'])
    table = suite_figures.slowest_table(rows)
    self.assertIn('The 3 slowest test phases', table)
    self.assertIn('| 39.0 | call | `tests/scale_report_test.py::ReportTest::'
                  'test_tiny_study_report` |', table)


if __name__ == '__main__':
  absltest.main()
