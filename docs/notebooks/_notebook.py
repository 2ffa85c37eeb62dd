"""Set-up shared by the tutorial notebooks (not a notebook itself).

Each notebook starts with ``from _notebook import FAST, OUT, START, show``
(``ROOT`` is the checkout): importing this module finds the equivlab checkout and puts it on ``sys.path``
(so ``import groups`` works from any working directory), reads the notebooks'
environment variables and starts the clock.

* ``EQUIVLAB_NOTEBOOK_FAST=1``: smoke-test mode (``FAST``), what
  ``tests/notebooks_test.py`` runs;
* ``EQUIVLAB_NOTEBOOK_OUT=<folder>``: where figures go (``OUT``; default
  ``docs/images/``);
* ``EQUIVLAB_COMPILATION_CACHE``: JAX's persistent compilation cache, on by
  default (``experiments.runtime.use_compilation_cache``), so a notebook's
  second execution loads its compiled programs; a path moves it, ``0``
  turns it off;
* ``EQUIVLAB_SHARED_MLIR=1``: one MLIR context for many lowerings
  (``experiments.mlir_context``; the tests turn it on).

It is found because Python puts the script's folder on ``sys.path``
(``python docs/notebooks/<name>.py``) and Jupyter starts the kernel in the
notebook's folder.
"""

import os
import pathlib
import sys
import time


def find_repo_root() -> pathlib.Path:
  """The checkout holding ``groups/``, found upwards from this file."""
  start = pathlib.Path(__file__).resolve().parent
  for folder in (start, *start.parents):
    if (folder / 'groups' / '__init__.py').is_file():
      return folder
  raise RuntimeError(f'no equivlab checkout above {start}')


ROOT = find_repo_root()
if str(ROOT) not in sys.path:
  sys.path.insert(0, str(ROOT))
from experiments import mlir_context  # pylint: disable=g-import-not-at-top,wrong-import-position
from experiments import runtime  # pylint: disable=g-import-not-at-top,wrong-import-position
CACHE = runtime.use_compilation_cache()
mlir_context.use_from_environment(default=False)
FAST = os.environ.get('EQUIVLAB_NOTEBOOK_FAST', '') not in ('', '0')
OUT = pathlib.Path(os.environ.get('EQUIVLAB_NOTEBOOK_OUT') or
                   ROOT / 'docs' / 'images')
OUT.mkdir(parents=True, exist_ok=True)
START = time.perf_counter()


def show(fig, name=None):
  """Saves ``fig`` as ``OUT/name`` (if named), shows it in Jupyter, closes it."""
  from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top
  if name:
    fig.savefig(OUT / name, dpi=110, bbox_inches='tight')
    print(f'wrote {OUT / name}')
  if 'ipykernel' in sys.modules:
    from IPython.display import display  # only inside Jupyter
    display(fig)
  plt.close(fig)
