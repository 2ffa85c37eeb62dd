"""One run per workdir, preemption-safe stops and config history, for real.

Most tests start ``python main.py`` processes (as a user or a scheduler
does) with the helpers of :mod:`tests.resume_test`, sharing one persistent
JAX compilation cache:

* ``StopAndRestartTest``: an uninterrupted run and two runs stopped at
  seeded steps go side by side: one by SIGTERM, one by SIGINT followed by
  SIGTERM while its checkpoint is being saved. Each stop exits 75 with one
  message and leaves a checkpoint of its step, its metrics (with the open
  logging interval) and a released lock; the same command resumes and ends
  bit-identical to the uninterrupted run (final checkpoint and
  ``metrics.jsonl`` without timing columns). Copies of the finished run are
  restarted with a compatible change past a lock left by a SIGKILLed
  process (taken over with a warning; the change is recorded in the
  history) and with a checkpoint-breaking change (one message naming the
  keys, before anything is loaded).
* ``WorkdirLockProcessTest``: a second run on a busy workdir exits 69 before
  touching anything; a study locks each model's workdir.
* ``TwoProcessLockTest`` (slow): ``--distributed`` with two processes takes
  one lock, process 0's.

The in-process tests at the end (lock re-entrancy, pending metrics round
trip, StopSignals, a signal in the last step, config diffs) take seconds.
"""

import fcntl
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import types
from unittest import mock

from absl.testing import absltest
import jax.numpy as jnp
import numpy as np
import pytest

from experiments import cli
from experiments import train
from experiments.configs import study_invariance
from experiments.configs import train as train_configs
from experiments.train import config_history
from experiments.train import loop as loop_lib
from experiments.train import preemption
from experiments.train import workdir_lock
from tests import multidevice_test
from tests import resume_test

REPO = resume_test.REPO
NUM_STEPS = 60
# Train metrics are averaged over intervals that end at steps 20, 25, 40, 50
# and 60; an evaluation every step makes each step visible in metrics.jsonl.
LOG_EVERY, CHECKPOINT_EVERY = 25, 20
OVERRIDES = (f'--config.num_train_steps={NUM_STEPS}',
             f'--config.log_every={LOG_EVERY}',
             f'--config.checkpoint_every={CHECKPOINT_EVERY}',
             '--config.eval_every=1', '--config.max_checkpoints=2',
             '--config.warmup_steps=5')
# Signals are sent once these steps are logged (seeded, so a failure
# replays); the runs stop a step or two later, inside the interval 26..39,
# so the stop leaves an open interval behind.
_RNG = random.Random(16)
SIGTERM_STEP = _RNG.randrange(27, 34)
SIGINT_STEP = _RNG.randrange(27, 34)
STOPPED = re.compile(r'Stopped by (SIG\w+) after step (\d+)')
TIMEOUT = 180

# A process that takes a workdir's lock with the real WorkdirLock (loaded
# from its file: no JAX import), says so, and holds it until stdin closes.
HOLDER_SCRIPT = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location('workdir_lock', sys.argv[1])
module = sys.modules['workdir_lock'] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
with module.WorkdirLock(sys.argv[2]):
  print('locked', flush=True)
  sys.stdin.read()
"""


def env_with_cache(tmp):
  return resume_test.subprocess_env(os.path.join(tmp, 'jax_cache'))


def start_holder(workdir):
  """A process holding ``workdir``'s lock (until its stdin is closed)."""
  holder = subprocess.Popen(
      [sys.executable, '-c', HOLDER_SCRIPT, workdir_lock.__file__, workdir],
      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
  line = holder.stdout.readline().strip()
  if line != 'locked':
    holder.kill()
    raise AssertionError(f'the lock holder did not start: {line!r}')
  return holder


def read_lock(workdir):
  with open(os.path.join(workdir, workdir_lock.LOCK_NAME)) as f:
    text = f.read().strip()
  return json.loads(text) if text else None


def fatal_lines(stderr):
  return [line for line in stderr.splitlines() if line.startswith('FATAL')]


def wait_for_step(test, process, workdir, step):
  """Waits until ``workdir``'s run logged ``step``; fails with its log if it
  ended first."""
  deadline = time.monotonic() + TIMEOUT
  while resume_test.last_logged_step(workdir) < step:
    if process.poll() is not None:
      test.fail(f'the run ended (status {process.returncode}) before step '
                f'{step}; its log ends:\n{resume_test.log_tail(process)}')
    if time.monotonic() > deadline:
      test.fail(f'no step {step} after {TIMEOUT} s')
    time.sleep(0.001)


def finish(process):
  """Waits for a process from ``resume_test.start``; returns (status, log)."""
  try:
    process.wait(timeout=TIMEOUT)
  finally:
    process.log.close()
  with open(process.log.name) as f:
    return process.returncode, f.read()


def run_main(workdir, env, overrides=OVERRIDES, config=None):
  command = resume_test.main_command(workdir, overrides)
  if config is not None:
    command[2] = f'--config={config}'
  return subprocess.run(command, cwd=REPO, env=env, capture_output=True,
                        text=True, timeout=TIMEOUT, check=False)


def interval_start(step):
  """The last step <= ``step`` that closed a train-metrics interval."""
  return max(s for s in range(step + 1)
             if s % LOG_EVERY == 0 or s % CHECKPOINT_EVERY == 0)


class StopAndRestartTest(absltest.TestCase):
  """Runs stopped by SIGTERM / SIGINT at seeded steps, then the same
  command again; restarts of the finished run with changed configs."""

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.tmp = tempfile.mkdtemp()
    cls.env = env = env_with_cache(cls.tmp)
    cls.dirs = {name: os.path.join(cls.tmp, name)
                for name in ('reference', 'sigterm', 'sigint')}
    processes = {name: resume_test.start(
        workdir, os.path.join(cls.tmp, f'{name}.log'), env, OVERRIDES)
                 for name, workdir in cls.dirs.items()}
    try:
      cls.stop_and_resume(processes, env)
    except BaseException:
      for process in processes.values():
        process.kill()
      shutil.rmtree(cls.tmp, ignore_errors=True)
      raise

  @classmethod
  def stop_and_resume(cls, processes, env):
    cls.stops, cls.pending, cls.stopped_metrics = {}, {}, {}
    test = cls('setUpClass')  # for fail() in the helpers
    # Each run gets its signals in order, each once the condition before it
    # holds; both runs are watched at once. The second signal of 'sigint'
    # goes as soon as its stop has begun: the pending metrics are written
    # just before the checkpoint is saved.
    pending_path = os.path.join(cls.dirs['sigint'],
                                loop_lib.PENDING_METRICS_FILE)
    plan = {
        'sigterm': [(lambda: resume_test.last_logged_step(
            cls.dirs['sigterm']) >= SIGTERM_STEP, signal.SIGTERM)],
        'sigint': [(lambda: resume_test.last_logged_step(
            cls.dirs['sigint']) >= SIGINT_STEP, signal.SIGINT),
                   (lambda: os.path.exists(pending_path), signal.SIGTERM)],
    }
    deadline = time.monotonic() + TIMEOUT
    while any(plan.values()):
      for name, steps in plan.items():
        if not steps:
          continue
        process = processes[name]
        if process.poll() is not None or time.monotonic() > deadline:
          test.fail(f'{name}: the run ended (status {process.returncode}) '
                    f'or timed out before its signal {steps[0][1].name}; its '
                    f'log ends:\n{resume_test.log_tail(process)}')
        if steps[0][0]():
          process.send_signal(steps.pop(0)[1])
      time.sleep(0.0005)
    for name, process in processes.items():
      cls.stops[name] = finish(process)
      if name != 'reference':
        with open(os.path.join(cls.dirs[name],
                               loop_lib.PENDING_METRICS_FILE)) as f:
          cls.pending[name] = json.load(f)
        cls.stopped_metrics[name] = train.read_metrics(cls.dirs[name])
    # The same command again, both at once.
    resumes = {name: resume_test.start(
        cls.dirs[name], os.path.join(cls.tmp, f'{name}.resume.log'), env,
        OVERRIDES) for name in ('sigterm', 'sigint')}
    cls.resumes = {name: finish(process)
                   for name, process in resumes.items()}

  @classmethod
  def tearDownClass(cls):
    shutil.rmtree(cls.tmp, ignore_errors=True)
    super().tearDownClass()

  def stopped_step(self, name, signal_name):
    status, log = self.stops[name]
    self.assertEqual(status, preemption.REQUEUE_EXIT_CODE, log[-3000:])
    match = STOPPED.search(log)
    self.assertIsNotNone(match, log[-3000:])
    self.assertEqual(match.group(1), signal_name)
    step = int(match.group(2))
    self.assertBetween(step, SIGTERM_STEP if name == 'sigterm' else
                       SIGINT_STEP, NUM_STEPS - 1)
    # The one message a user sees, naming the step and what to do.
    self.assertIn(f'Run the same command again to resume from step {step}.',
                  log)
    self.assertNotIn('Traceback', log)
    return step

  def assert_stop_left_a_resumable_run(self, name, step):
    workdir = self.dirs[name]
    # The checkpoint of that step was saved and verified like the others
    # (the resumed run restored it, checksum compared).
    status, log = self.resumes[name]
    self.assertEqual(status, 0, log[-3000:])
    self.assertIn(f'resumed from the step-{step} checkpoint', log)
    self.assertNotIn('cannot be restored', log)
    # The lock was released by the stopped run, not taken over.
    self.assertNotIn('Took over the lock', log)
    self.assertIsNone(read_lock(workdir))
    # The metrics up to the stop were written; the open interval's per-step
    # metrics were kept for the resumed run.
    reference = resume_test.without_timing(
        train.read_metrics(self.dirs['reference']))
    self.assertEqual(resume_test.without_timing(self.stopped_metrics[name]),
                     [r for r in reference if r['step'] <= step])
    pending = self.pending[name]
    self.assertEqual(pending['step'], step)
    self.assertLen(pending['records'], step - interval_start(step))
    print(f'{name}: stopped after step {step} (signal sent once step '
          f'{SIGTERM_STEP if name == "sigterm" else SIGINT_STEP} was logged)'
          f', {len(pending["records"])} steps of an open interval saved')

  def assert_matches_the_uninterrupted_run(self, name):
    checkpoints = [os.path.join(self.dirs[n], train.CHECKPOINT_DIR)
                   for n in ('reference', name)]
    for checkpoint_dir in checkpoints:
      self.assertEqual(sorted(os.listdir(checkpoint_dir), key=int),
                       [str(NUM_STEPS - CHECKPOINT_EVERY), str(NUM_STEPS)])
    resume_test.assert_trees_equal(
        self, resume_test.load_checkpoint(checkpoints[0], NUM_STEPS),
        resume_test.load_checkpoint(checkpoints[1], NUM_STEPS))
    self.assertEqual(resume_test.checksum(checkpoints[0], NUM_STEPS),
                     resume_test.checksum(checkpoints[1], NUM_STEPS))
    reference = train.read_metrics(self.dirs['reference'])
    self.assertLen([r for r in reference if 'eval/loss' in r], NUM_STEPS)
    self.assertEqual(resume_test.without_timing(
        train.read_metrics(self.dirs[name])),
                     resume_test.without_timing(reference))

  def test_reference_run_finished(self):
    status, log = self.stops['reference']
    self.assertEqual(status, 0, log[-3000:])
    self.assertIsNone(read_lock(self.dirs['reference']))

  def test_sigterm_stops_at_a_step_and_the_same_command_resumes_exactly(self):
    step = self.stopped_step('sigterm', 'SIGTERM')
    self.assert_stop_left_a_resumable_run('sigterm', step)
    self.assert_matches_the_uninterrupted_run('sigterm')

  def test_second_signal_during_the_save_does_not_corrupt_it(self):
    step = self.stopped_step('sigint', 'SIGINT')
    status, log = self.stops['sigint']
    # The SIGTERM arrived while the checkpoint was being saved, and the
    # stop went on.
    self.assertIn('also received SIGTERM while stopping: ignored', log)
    self.assert_stop_left_a_resumable_run('sigint', step)
    self.assert_matches_the_uninterrupted_run('sigint')


  def copy_reference(self, name):
    workdir = os.path.join(self.tmp, name)
    shutil.copytree(self.dirs['reference'], workdir)
    return workdir

  def test_compatible_change_resumes_past_a_stale_lock_and_is_recorded(self):
    workdir = self.copy_reference('compatible')
    # A run killed by SIGKILL (or a crashed machine) leaves run.lock naming
    # it; here a process holding the real lock is killed.
    holder = start_holder(workdir)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    self.assertEqual(read_lock(workdir)['pid'], holder.pid)
    history = config_history.read_history(workdir)
    result = run_main(workdir, self.env, OVERRIDES + (
        f'--config.num_train_steps={NUM_STEPS + 10}',
        '--config.learning_rate=0.001'))
    self.assertEqual(result.returncode, 0, result.stderr[-3000:])
    self.assertRegex(result.stderr, rf'Took over the lock of PID {holder.pid} '
                                    r'on host .* ended without releasing it')
    self.assertIsNone(read_lock(workdir))
    self.assertIn(f'resumed from the step-{NUM_STEPS} checkpoint',
                  result.stderr)
    self.assertIn('resuming with a changed config (learning_rate, '
                  'num_train_steps)', result.stderr)
    self.assertLen(history, 1)
    self.assertEqual((history[0]['step'], history[0]['changes']), (None, {}))
    new = config_history.read_history(workdir)
    self.assertEqual(new[0], history[0])  # kept
    self.assertLen(new, 2)
    self.assertEqual(new[1]['step'], NUM_STEPS)
    self.assertEqual(new[1]['changes'], {
        'learning_rate': [0.005, 0.001],
        'num_train_steps': [NUM_STEPS, NUM_STEPS + 10]})
    self.assertEqual(new[1]['config']['learning_rate'], 0.001)
    self.assertIn('--config.learning_rate=0.001', new[1]['command'])

  def test_checkpoint_breaking_change_is_one_message_before_restore(self):
    workdir = self.copy_reference('incompatible')
    checkpoint_dir = os.path.join(workdir, train.CHECKPOINT_DIR)
    before = {path: os.path.getmtime(os.path.join(checkpoint_dir, path))
              for path in os.listdir(checkpoint_dir)}
    history = config_history.read_history(workdir)
    result = run_main(workdir, self.env, OVERRIDES + (
        '--config.model.widths=(8, 8)', '--config.optimizer=sgd'))
    self.assertEqual(result.returncode, cli.INCOMPATIBLE_EXIT_CODE,
                     result.stderr[-3000:])
    fatal = fatal_lines(result.stderr)
    self.assertLen(fatal, 1, result.stderr[-3000:])
    self.assertIn("model.widths: [4, 4] -> [8, 8]; optimizer: 'adam' -> "
                  "'sgd'", fatal[0])
    self.assertIn('Use a new --workdir', fatal[0])
    self.assertNotIn('Traceback', result.stderr)
    # Reported before loading data, compiling or restoring anything.
    self.assertNotIn('parameters; data', result.stderr)
    self.assertEqual({path: os.path.getmtime(os.path.join(checkpoint_dir,
                                                          path))
                      for path in os.listdir(checkpoint_dir)}, before)
    self.assertEqual(config_history.read_history(workdir), history)  # kept
    self.assertIsNone(read_lock(workdir))
    print(fatal[0])


class WorkdirLockProcessTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.tmp = self.enter_context(tempfile.TemporaryDirectory())
    self.env = env_with_cache(self.tmp)

  def test_second_run_on_a_busy_workdir_stops_at_once(self):
    workdir = os.path.join(self.tmp, 'busy')
    overrides = ('--config.num_train_steps=100000', '--config.log_every=1',
                 '--config.eval_every=0', '--config.checkpoint_every=1000')
    first = resume_test.start(workdir, os.path.join(self.tmp, 'first.log'),
                              self.env, overrides)
    wait_for_step(self, first, workdir, 1)
    # Paused (it keeps its lock) so that the second run gets the CPU.
    first.send_signal(signal.SIGSTOP)
    history = config_history.read_history(workdir)
    second = run_main(workdir, self.env, overrides)
    still_running = first.poll() is None
    first.send_signal(signal.SIGTERM)
    first.send_signal(signal.SIGCONT)
    status, log = finish(first)
    self.assertTrue(still_running, log[-3000:])
    self.assertEqual(second.returncode, cli.BUSY_EXIT_CODE,
                     second.stderr[-3000:])
    fatal = fatal_lines(second.stderr)
    self.assertLen(fatal, 1, second.stderr[-3000:])
    self.assertStartsWith(
        fatal[0], f'FATAL workdir {workdir!r} is in use by PID {first.pid} ')
    self.assertIn('pass another --workdir', fatal[0])
    self.assertNotIn('Traceback', second.stderr)
    # It stopped before loading data or writing anything.
    self.assertNotIn('parameters; data', second.stderr)
    self.assertEqual(config_history.read_history(workdir), history)
    # The first run went on undisturbed and stopped cleanly on SIGTERM.
    self.assertEqual(status, preemption.REQUEUE_EXIT_CODE, log[-3000:])
    self.assertIsNone(read_lock(workdir))
    print(fatal[0])

  def test_a_study_locks_each_models_workdir(self):
    config = study_invariance.get_config('tiny')
    workdir = os.path.join(self.tmp, 'study')
    label = config.run[0]
    holder = start_holder(os.path.join(workdir, 'models', label))
    try:
      result = run_main(workdir, self.env, (), config=os.path.join(
          'experiments', 'configs', 'study_invariance.py:tiny'))
    finally:
      holder.stdin.close()
      holder.wait()
    self.assertEqual(result.returncode, cli.BUSY_EXIT_CODE,
                     result.stderr[-3000:])
    fatal = fatal_lines(result.stderr)
    self.assertLen(fatal, 1, result.stderr[-3000:])
    self.assertIn(f"{os.path.join('models', label)}' is in use by PID "
                  f'{holder.pid} ', fatal[0])
    self.assertIsNone(read_lock(workdir))  # the study's own lock, released


@pytest.mark.slow  # ~20 s: two JAX processes
class TwoProcessLockTest(absltest.TestCase):
  """``main.py --distributed``, 2 processes: one lock, process 0's."""

  def test_only_process_zero_locks_the_shared_workdir(self):
    tmp = self.enter_context(tempfile.TemporaryDirectory())
    workdir = os.path.join(tmp, 'multi')
    env = env_with_cache(tmp)
    command = resume_test.main_command(workdir, (
        '--config.num_train_steps=40', '--config.log_every=1',
        '--config.eval_every=0', '--config.checkpoint_every=20')) + [
            '--distributed', f'--coordinator_address=localhost:{multidevice_test.free_port()}',
            '--num_processes=2']
    processes = [subprocess.Popen(
        command + [f'--process_id={i}'], cwd=REPO, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                 for i in (0, 1)]
    try:
      deadline = time.monotonic() + TIMEOUT
      while (resume_test.last_logged_step(workdir) < 1 and
             time.monotonic() < deadline and
             all(p.poll() is None for p in processes)):
        time.sleep(0.01)
      holder = read_lock(workdir)
    finally:
      outputs = [p.communicate(timeout=TIMEOUT)[1] for p in processes]
    for process, stderr in zip(processes, outputs):
      self.assertEqual(process.returncode, 0, stderr[-3000:])
      self.assertNotIn('FATAL', stderr)
    self.assertIsNotNone(holder, 'run.lock was empty while the run trained')
    self.assertEqual(holder['pid'], processes[0].pid)
    self.assertIsNone(read_lock(workdir))
    self.assertEqual(resume_test.last_logged_step(workdir), 40)


# ---------------------------------------------------------------------------
# In-process unit tests.
# ---------------------------------------------------------------------------


class WorkdirLockTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.workdir = self.enter_context(tempfile.TemporaryDirectory())
    self.path = os.path.join(self.workdir, workdir_lock.LOCK_NAME)

  def other_process_could_lock(self):
    """Whether a new open file description gets the flock (as another
    process's would)."""
    fd = os.open(self.path, os.O_RDWR)
    try:
      fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
      return False
    finally:
      os.close(fd)
    return True

  def test_nested_locks_on_one_workdir_share_one_lock(self):
    with workdir_lock.WorkdirLock(self.workdir) as outer:
      self.assertEqual(read_lock(self.workdir)['pid'], os.getpid())
      # Another path spelling of the same folder nests too.
      with workdir_lock.WorkdirLock(os.path.join(self.workdir, '.', '')):
        self.assertFalse(self.other_process_could_lock())
      self.assertTrue(outer.held)
      self.assertFalse(self.other_process_could_lock())
      self.assertEqual(read_lock(self.workdir)['pid'], os.getpid())
    self.assertFalse(outer.held)
    self.assertTrue(self.other_process_could_lock())
    self.assertIsNone(read_lock(self.workdir))  # emptied, not deleted

  def test_acquire_twice_on_one_object_is_one_level(self):
    lock = workdir_lock.WorkdirLock(self.workdir)
    lock.acquire()
    lock.acquire()
    lock.release()
    self.assertTrue(self.other_process_could_lock())

  def test_held_by_another_holder_raises_naming_it(self):
    fd = os.open(self.path, os.O_RDWR | os.O_CREAT)
    self.addCleanup(os.close, fd)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.write(fd, json.dumps(dict(host='elsewhere', pid=4242, start_time=0.0,
                                 command='main.py --workdir=x')).encode())
    with self.assertRaisesRegex(
        workdir_lock.WorkdirBusyError,
        r"is in use by PID 4242 on host 'elsewhere', .*command: main.py "
        r'--workdir=x\. .*pass another --workdir'):
      workdir_lock.WorkdirLock(self.workdir).acquire()
    fcntl.flock(fd, fcntl.LOCK_UN)
    with workdir_lock.WorkdirLock(self.workdir):  # free again
      pass

  def test_stale_holder_is_taken_over_with_a_warning(self):
    with open(self.path, 'w') as f:
      json.dump(dict(host='h', pid=4243, start_time=0.0, command='c'), f)
    with self.assertLogs('absl', level='WARNING') as logs:
      with workdir_lock.WorkdirLock(self.workdir):
        self.assertEqual(read_lock(self.workdir)['pid'], os.getpid())
    self.assertIn('Took over the lock of PID 4243', logs.output[0])

  def test_a_workdir_recreated_under_a_live_run_is_still_refused(self):
    # A live holder in another process; the workdir is deleted and made
    # again, so run.lock inside it is a new, unlocked file. The guard beside
    # the workdir still refuses a second run, naming the holder.
    workdir = os.path.join(self.workdir, 'run')
    holder = start_holder(workdir)
    try:
      shutil.rmtree(workdir)
      os.makedirs(workdir)
      with self.assertRaisesRegex(
          workdir_lock.WorkdirBusyError,
          rf"workdir {re.escape(repr(workdir))} is in use by PID "
          rf'{holder.pid} '):
        workdir_lock.WorkdirLock(workdir).acquire()
      # Without the guard it would have started: nothing locks the new file.
      self.path = os.path.join(workdir, workdir_lock.LOCK_NAME)
      open(self.path, 'a').close()  # what a run without the guard creates
      self.assertTrue(self.other_process_could_lock())
    finally:
      holder.stdin.close()
      holder.wait()
    # The holder ended: the guard is gone and the workdir is free again.
    self.assertEqual(os.listdir(self.workdir), ['run'])
    with workdir_lock.WorkdirLock(workdir):
      self.assertIn('.run.run.lock', os.listdir(self.workdir))
    self.assertEqual(os.listdir(self.workdir), ['run'])

  def test_a_guard_deleted_between_open_and_flock_is_not_kept(self):
    workdir = os.path.join(self.workdir, 'run')
    guard = os.path.join(self.workdir, '.run.' + workdir_lock.LOCK_NAME)
    real_flock = fcntl.flock
    calls = []

    def flock_after_unlink(fd, operation):
      # The first flock on the guard finds its file deleted (as a holder's
      # release does) and a new one in its place.
      if not calls and os.path.exists(guard):
        calls.append(os.fstat(fd).st_ino)
        os.unlink(guard)
        open(guard, 'w').close()
      return real_flock(fd, operation)

    with mock.patch.object(workdir_lock.fcntl, 'flock', flock_after_unlink):
      with workdir_lock.WorkdirLock(workdir):
        fd = workdir_lock._HELD[os.path.realpath(
            os.path.join(workdir, workdir_lock.LOCK_NAME))][2]
        self.assertNotEqual(os.fstat(fd).st_ino, calls[0])
        self.assertEqual(os.fstat(fd).st_ino, os.stat(guard).st_ino)

  def test_disabled_lock_does_nothing(self):
    with workdir_lock.WorkdirLock(self.workdir, enabled=False) as lock:
      self.assertFalse(lock.held)
    self.assertFalse(os.path.exists(self.path))

  def test_empty_workdir_is_a_value_error(self):
    with self.assertRaisesRegex(ValueError, 'workdir must be'):
      workdir_lock.WorkdirLock('')


class PendingMetricsTest(absltest.TestCase):

  def test_round_trip_is_bit_exact(self):
    workdir = self.enter_context(tempfile.TemporaryDirectory())
    values = np.random.default_rng(0).normal(size=(3, 3)).astype(np.float32)
    pending = [{'loss': jnp.asarray(v[0]), 'accuracy': jnp.asarray(v[1]),
                'learning_rate': jnp.asarray(v[2])} for v in values]
    run = types.SimpleNamespace(workdir=workdir)
    loop = types.SimpleNamespace(step=33, pending=pending)
    loop_lib.write_pending_metrics(run, loop)
    read = loop_lib.read_pending_metrics(workdir, 33)
    self.assertLen(read, 3)
    for original, restored in zip(pending, read):
      self.assertEqual(set(restored), set(original))
      for key, value in original.items():
        self.assertEqual(restored[key].dtype, np.float32)
        self.assertEqual(restored[key].tobytes(), np.asarray(value).tobytes())
    # Resuming from another step (an older checkpoint) ignores them.
    self.assertEqual(loop_lib.read_pending_metrics(workdir, 30), [])
    self.assertEqual(loop_lib.read_pending_metrics(
        os.path.join(workdir, 'none'), 33), [])
    self.assertFalse(os.path.exists(os.path.join(
        workdir, loop_lib.PENDING_METRICS_FILE + '.tmp')))


class StopSignalsTest(absltest.TestCase):

  def test_signals_are_recorded_inside_and_restored_after(self):
    before = signal.getsignal(signal.SIGINT)
    with self.assertLogs('absl', level='WARNING') as logs:
      with preemption.StopSignals() as stop:
        self.assertFalse(stop.agreed(1))
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGINT)
        self.assertTrue(stop.agreed(1))
        self.assertEqual(stop.signal_name, 'SIGTERM')
    self.assertIn('also received SIGINT while stopping', logs.output[0])
    self.assertIs(signal.getsignal(signal.SIGINT), before)

  def test_preempted_message_says_how_to_resume(self):
    stop = preemption.Preempted(12, 'SIGTERM', '/tmp/w')
    self.assertEqual(str(stop), 'Stopped by SIGTERM after step 12: checkpoint '
                     'and metrics of step 12 are saved in /tmp/w. Run the '
                     'same command again to resume from step 12.')
    self.assertEqual(preemption.REQUEUE_EXIT_CODE, 75)


class LastStepSignalTest(absltest.TestCase):

  def test_a_signal_during_the_last_step_still_stops(self):
    # Else a study would train its next model after a SIGTERM.
    config = train_configs.get_config('tiny')
    workdir = self.enter_context(tempfile.TemporaryDirectory())
    polls = []

    def agreed(stop, process_count):
      del stop, process_count
      polls.append(len(polls) + 1)
      return polls[-1] == config.num_train_steps  # after the last step

    with mock.patch.object(preemption.StopSignals, 'agreed', agreed), \
        self.assertRaises(preemption.Preempted) as stop:
      train.train(config, workdir)
    self.assertEqual(stop.exception.step, config.num_train_steps)
    self.assertEqual(sorted(os.listdir(os.path.join(
        workdir, train.CHECKPOINT_DIR))), ['3', '6'])
    self.assertIsNone(read_lock(workdir))
    with self.assertNoLogs('absl', level='WARNING'):  # evaluates only
      metrics = train.train_and_evaluate(config, workdir)
    self.assertEqual(metrics['step'], config.num_train_steps)


class ConfigHistoryTest(absltest.TestCase):

  def test_checkpoint_breaking_keys(self):
    changes = config_history.diff(
        {'model.widths': [4], 'learning_rate': 0.1, 'optimizer': 'adam',
         'dataset': 'digits', 'num_train_steps': 6},
        {'model.widths': [8], 'learning_rate': 0.2, 'optimizer': 'adam',
         'dataset': 'mnist', 'num_train_steps': 8, 'model.norm': 'batch'})
    self.assertEqual(set(changes), {'model.widths', 'learning_rate',
                                    'dataset', 'num_train_steps',
                                    'model.norm'})
    self.assertEqual(config_history.checkpoint_breaking(changes),
                     ['dataset', 'model.norm', 'model.widths'])
    self.assertEqual(changes['model.norm'], [None, 'batch'])

  def test_history_records_each_start(self):
    workdir = self.enter_context(tempfile.TemporaryDirectory())
    config = train_configs.get_config('tiny')
    self.assertEqual(config_history.record_start(workdir, config, step=None),
                     {})
    config.learning_rate = 0.5
    self.assertEqual(config_history.record_start(workdir, config, step=3),
                     {'learning_rate': [0.005, 0.5]})
    config_history.check_resumable(workdir, config)  # compatible
    config.weight_decay = 0.1
    with self.assertRaisesRegex(config_history.IncompatibleConfigError,
                                r'weight_decay: 0\.0 -> 0\.1'):
      config_history.check_resumable(workdir, config)
    self.assertLen(config_history.read_history(workdir), 2)


if __name__ == '__main__':
  absltest.main()
