"""The tutorial notebooks (docs/notebooks/*.py) run top to bottom.

Each notebook is a jupytext percent-format Python file; the test runs it as a
user runs it, ``python docs/notebooks/<name>.py``, in a subprocess, in fast
mode (``EQUIVLAB_NOTEBOOK_FAST=1``: fewer images, angles and trials, a few
training steps) with figures written to a temporary folder
(``EQUIVLAB_NOTEBOOK_OUT``) and ``MPLBACKEND=Agg``. A notebook fails the
test if any cell raises, including its own ``assert`` cells that check the
numbers say what the text says. About 60-90 s for the three on 2 CPU cores.
"""

import os
import subprocess
import sys
import tempfile

from absl.testing import absltest
from absl.testing import parameterized

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOKS_DIR = os.path.join(REPO, 'docs', 'notebooks')
IMAGES_DIR = os.path.join(REPO, 'docs', 'images')
# Notebook -> the picture its full run writes to docs/images/ (committed).
NOTEBOOKS = {
    'shift_invariance': 'shift_invariance_feature_maps.png',
    'rotations': 'rotations_p4_feature_maps.png',
    'custom_layer': 'custom_layer_check.png',
}
PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
TIMEOUT_S = 300  # per notebook; fast mode takes 10-40 s


def run_notebook(name: str, out_dir: str) -> subprocess.CompletedProcess:
  env = dict(os.environ, MPLBACKEND='Agg', EQUIVLAB_NOTEBOOK_FAST='1',
             EQUIVLAB_NOTEBOOK_OUT=out_dir)
  return subprocess.run(
      [sys.executable, os.path.join(NOTEBOOKS_DIR, f'{name}.py')], cwd=REPO,
      env=env, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)


def read_cells(path: str) -> list[tuple[str, str]]:
  """``(kind, source)`` of each ``# %%`` cell; kind 'markdown' or 'code'."""
  cells = []
  with open(path) as f:
    for line in f:
      if line.startswith('# %%'):
        cells.append(['markdown' if '[markdown]' in line else 'code', ''])
      elif cells:
        cells[-1][1] += line
  return [tuple(cell) for cell in cells]


class NotebooksTest(parameterized.TestCase):

  @parameterized.named_parameters((name, name) for name in NOTEBOOKS)
  def test_runs_in_fast_mode_and_writes_its_figure(self, name):
    out_dir = self.enter_context(tempfile.TemporaryDirectory())
    result = run_notebook(name, out_dir)
    self.assertEqual(
        result.returncode, 0,
        f'docs/notebooks/{name}.py failed (fast mode); last output:\n'
        f'{result.stdout[-2000:]}\n{result.stderr[-4000:]}')
    path = os.path.join(out_dir, NOTEBOOKS[name])
    self.assertTrue(os.path.isfile(path), f'{name} did not write {path}')
    with open(path, 'rb') as f:
      self.assertEqual(f.read(8), PNG_SIGNATURE)
    self.assertIn('notebook done in', result.stdout)

  @parameterized.named_parameters((name, name) for name in NOTEBOOKS)
  def test_is_a_percent_format_notebook_with_a_committed_figure(self, name):
    path = os.path.join(NOTEBOOKS_DIR, f'{name}.py')
    cells = read_cells(path)
    kinds = [kind for kind, _ in cells]
    self.assertEqual(kinds[0], 'markdown', 'the first cell should say what it shows')
    self.assertGreaterEqual(kinds.count('markdown'), 3)
    self.assertGreaterEqual(kinds.count('code'), 3)
    with open(path) as f:
      source = f.read()
    compile(source, path, 'exec')  # a syntax error fails here, without running
    for variable in ('EQUIVLAB_NOTEBOOK_FAST', 'EQUIVLAB_NOTEBOOK_OUT'):
      self.assertIn(variable, source)
    self.assertTrue(os.path.isfile(os.path.join(IMAGES_DIR, NOTEBOOKS[name])),
                    f'docs/images/{NOTEBOOKS[name]} is missing: run '
                    f'python docs/notebooks/{name}.py')

  def test_every_notebook_is_tested(self):
    # _notebook.py is the notebooks' shared set-up, not a notebook.
    found = {f[:-3] for f in os.listdir(NOTEBOOKS_DIR)
             if f.endswith('.py') and not f.startswith('_')}
    self.assertEqual(found, set(NOTEBOOKS))
    self.assertTrue(os.path.isfile(os.path.join(NOTEBOOKS_DIR, '_notebook.py')))

  def test_jupytext_reads_them_when_installed(self):
    try:
      import jupytext  # pylint: disable=g-import-not-at-top
    except ImportError:
      self.skipTest('jupytext is optional (pip install jupytext)')
    for name in NOTEBOOKS:
      path = os.path.join(NOTEBOOKS_DIR, f'{name}.py')
      notebook = jupytext.read(path)
      self.assertEqual([c.cell_type for c in notebook.cells],
                       [kind for kind, _ in read_cells(path)])


if __name__ == '__main__':
  absltest.main()
