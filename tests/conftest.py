"""pytest set-up: import path and reproducible hypothesis profiles.

Every run is derandomized (examples derive from the test's name), so a failure
replays with the same command. ``EQUIVLAB_HYPOTHESIS=thorough`` draws more
examples (still derandomized) for a deeper local check.
"""

import atexit
import os
import shutil
import sys
import tempfile

import hypothesis

# Fixed conv lowering, so separate processes compute bit-identical results;
# tests of layers.autotune opt in with autotune.settings(enabled=True).
os.environ['EQUIVLAB_AUTOTUNE'] = '0'
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Subprocess runs of main.py compile as before and leave the user's
# persistent compilation cache alone (tests/main_test.py turns it on in a
# temporary folder to test it). EQUIVLAB_TEST_CACHE=1 instead gives the run
# ONE cache in a temporary folder, made by the process that starts the run
# (the xdist controller, or a serial run) and removed when it exits: the
# workers and every main.py / notebook subprocess load what another compiled
# (same HLO, same executable, same numbers). Off by default: measured on the
# full suite it did not pay for its writes (docs/testing.md).
# XLA:CPU's older loop emitters: the suite's compiles take ~1/3 less time
# (experiments.runtime.use_fast_compile; EQUIVLAB_FAST_COMPILE=0 keeps XLA's
# default). Set before any JAX computation; workers and subprocesses inherit
# XLA_FLAGS.
from experiments import runtime as _runtime  # pylint: disable=g-import-not-at-top,wrong-import-position
_runtime.use_fast_compile(default=True)
# LLVM at -O0 (XLA's backend optimisation level; the HLO passes, fusion
# decisions included, are the same): the suite compiles thousands of small
# programs and runs each a few times, so LLVM's optimisation is 25-40 % of
# its time (docs/testing.md, "Fifth pass"). EQUIVLAB_TEST_OPT_LEVEL=2 (or 1,
# 3) compiles as main.py does; an XLA_FLAGS that names the option wins.
_OPT_LEVEL = os.environ.get('EQUIVLAB_TEST_OPT_LEVEL', '0').strip()
if _OPT_LEVEL not in ('0', '1', '2', '3'):
  raise ValueError("EQUIVLAB_TEST_OPT_LEVEL must be '0', '1', '2' or '3'; "
                   f'got {_OPT_LEVEL!r}.')
if 'xla_backend_optimization_level' not in os.environ.get('XLA_FLAGS', ''):
  os.environ['XLA_FLAGS'] = (os.environ.get('XLA_FLAGS', '') +
                             f' --xla_backend_optimization_level={_OPT_LEVEL}'
                             ).strip()

# One MLIR context for 64 lowerings instead of one per lowering (~4 ms of
# every program the suite compiles; experiments/mlir_context.py), here and,
# through the environment, in the main.py / notebook / docs subprocesses.
# EQUIVLAB_SHARED_MLIR=0 keeps JAX's fresh context per lowering.
from experiments import mlir_context as _mlir_context  # pylint: disable=g-import-not-at-top,wrong-import-position
os.environ.setdefault(_mlir_context.SWITCH, '1')
_mlir_context.use_from_environment(default=True)

_RUN_CACHE = 'EQUIVLAB_TEST_CACHE_DIR'
if os.environ.get('EQUIVLAB_TEST_CACHE', '').lower() in ('1', 'on', 'true',
                                                         'yes'):
  if _RUN_CACHE not in os.environ:
    os.environ[_RUN_CACHE] = tempfile.mkdtemp(prefix='equivlab-tests-jax-')
    atexit.register(shutil.rmtree, os.environ[_RUN_CACHE], True)
  os.environ['EQUIVLAB_COMPILATION_CACHE'] = os.environ[_RUN_CACHE]
  _runtime.use_compilation_cache()
else:
  os.environ.setdefault('EQUIVLAB_COMPILATION_CACHE', '0')

_COMMON = dict(
    derandomize=True,
    deadline=None,
    print_blob=True,
    database=None,
    suppress_health_check=[hypothesis.HealthCheck.too_slow,
                           hypothesis.HealthCheck.differing_executors],
)
hypothesis.settings.register_profile('ci', max_examples=8, **_COMMON)
hypothesis.settings.register_profile('thorough', max_examples=200, **_COMMON)
hypothesis.settings.load_profile(os.environ.get('EQUIVLAB_HYPOTHESIS', 'ci'))


def _is_full_default_run(config) -> bool:
  """``python -m pytest`` as CI runs it: default paths, nothing deselected."""
  return (config.args_source == config.ArgsSource.TESTPATHS and
          not config.option.keyword and not config.option.markexpr and
          not config.option.deselect and
          not getattr(config.option, 'lf', False) and
          not hasattr(config, 'workerinput'))  # the xdist controller only


def pytest_configure(config):
  """One garbage collection, not five, when pytest last looks for exceptions
  raised in finalizers (its unraisable-exception check, at the end of each
  process). A full collection of a worker's heap takes ~1.4 s after a full
  run (thousands of compiled programs and traces in JAX's caches), and the
  four more that pytest makes by default (for finalizers that free more
  cycles) came to ~6 s at the end of every full run (docs/testing.md,
  "Seventh pass"). Finalizer exceptions during the tests are reported as
  they happen, as before."""
  try:
    from _pytest import unraisableexception  # pylint: disable=g-import-not-at-top
    config.stash[unraisableexception.gc_collect_iterations_key] = 1
  except (ImportError, AttributeError):  # a pytest without the setting
    pass


def pytest_sessionfinish(session, exitstatus):
  """Fails a full default run whose test count the docs do not state.

  The count lives in one place, docs/testing.md ("Running the tests"),
  written by ``python -m tests.suite_figures``; see that module.
  """
  del exitstatus  # the count is checked whatever the tests gave
  if not _is_full_default_run(session.config) or not session.testscollected:
    return
  from tests import suite_figures  # pylint: disable=g-import-not-at-top
  message = suite_figures.count_mismatch(session.testscollected)
  if message:
    reporter = session.config.pluginmanager.get_plugin('terminalreporter')
    if reporter is not None:
      reporter.write_line(message, red=True, bold=True)
    session.exitstatus = 1
