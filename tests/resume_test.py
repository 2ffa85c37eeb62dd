"""Interrupted and damaged runs (experiments/train/).

* ``KillAndRestartTest``: ``python main.py`` is killed with SIGKILL at a
  seeded random step (the parent watches ``metrics.jsonl``) and the same
  command is run again; its final checkpoint and metrics must equal those of
  an uninterrupted run of the same command bit for bit. The two first runs go
  side by side (two CPU cores); ~15 s in all.
* ``CorruptCheckpointTest``: a truncated data file, a deleted metadata file
  or bytes that changed without the storage noticing make the latest
  checkpoint unusable: the run warns, uses the previous one and ends as an
  uninterrupted run does; if no checkpoint restores, it stops with an error.
* Checkpoints load without pickle.
"""

import glob
import json
import os
import pickle
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from unittest import mock

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp

from experiments import train
from tests import train_test

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMING_KEYS = ('perf/steps_per_sec',)
NUM_STEPS = 60
# The step after which the run is killed: seeded, so a failure replays.
KILL_STEP = random.Random(7).randrange(6, 40)
OVERRIDES = (f'--config.num_train_steps={NUM_STEPS}', '--config.log_every=1',
             '--config.checkpoint_every=5', '--config.eval_every=10',
             '--config.max_checkpoints=2', '--config.warmup_steps=5')


def main_command(workdir, overrides=OVERRIDES):
  return [sys.executable, os.path.join(REPO, 'main.py'),
          '--config=experiments/configs/train.py:tiny', f'--workdir={workdir}',
          *overrides]


def subprocess_env(cache_dir):
  """Shares compiled code between the runs (a persistent cache): the restart
  then skips most of its compile time. Same executables, same numbers."""
  return {**os.environ, 'JAX_COMPILATION_CACHE_DIR': cache_dir,
          'JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS': '0'}


def start(workdir, log_path, env, overrides=OVERRIDES):
  log = open(log_path, 'w')  # pylint: disable=consider-using-with
  process = subprocess.Popen(main_command(workdir, overrides), cwd=REPO,
                             stdout=log, stderr=subprocess.STDOUT, env=env)
  process.log = log
  return process


def log_tail(process, lines=30):
  """The last ``lines`` lines of the log of a process from :func:`start`."""
  process.log.flush()
  with open(process.log.name) as f:
    return ''.join(f.readlines()[-lines:])


def last_logged_step(workdir):
  try:
    with open(os.path.join(workdir, train.METRICS_FILE)) as f:
      lines = f.read().splitlines()
  except FileNotFoundError:
    return 0
  steps = []
  for line in lines:
    try:
      steps.append(json.loads(line)['step'])
    except ValueError:  # a line being written
      pass
  return max(steps, default=0)


def without_timing(records):
  return [{k: v for k, v in r.items() if k not in TIMING_KEYS}
          for r in records]


def load_checkpoint(checkpoint_dir, step):
  """The NumPy tree of checkpoint ``step``, whatever devices wrote it."""
  path = os.path.join(checkpoint_dir, str(step), 'default')
  checkpointer = ocp.StandardCheckpointer()
  metadata = checkpointer.metadata(path)
  metadata = getattr(metadata, 'item_metadata', metadata)
  metadata = getattr(metadata, 'tree', metadata)
  device = jax.sharding.SingleDeviceSharding(jax.devices()[0])
  template = jax.tree.map(
      lambda m: jax.ShapeDtypeStruct(m.shape, m.dtype, sharding=device),
      metadata)
  tree = jax.device_get(checkpointer.restore(path, template))
  checkpointer.close()
  return tree


def assert_trees_equal(test, a, b):
  leaves_a, tree_a = jax.tree.flatten(a)
  leaves_b, tree_b = jax.tree.flatten(b)
  test.assertEqual(tree_a, tree_b)
  for x, y in zip(leaves_a, leaves_b):
    np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def checksum(checkpoint_dir, step):
  manager = ocp.CheckpointManager(checkpoint_dir)
  value = manager.metadata(step).custom_metadata[train.CHECKSUM_KEY]
  manager.close()
  return value


class KillAndRestartTest(absltest.TestCase):

  def test_sigkill_then_same_command_matches_an_uninterrupted_run(self):
    tmp = self.enter_context(tempfile.TemporaryDirectory())
    reference_dir = os.path.join(tmp, 'reference')
    killed_dir = os.path.join(tmp, 'killed')
    env = subprocess_env(os.path.join(tmp, 'jax_cache'))
    reference = start(reference_dir, os.path.join(tmp, 'reference.log'), env)
    victim = start(killed_dir, os.path.join(tmp, 'killed.log'), env)
    deadline = time.monotonic() + 120
    while (last_logged_step(killed_dir) < KILL_STEP and victim.poll() is None
           and time.monotonic() < deadline):
      time.sleep(0.001)
    if victim.poll() is not None:  # ended before it could be killed
      self.fail(f'the run to kill exited by itself with status '
                f'{victim.returncode} after logging step '
                f'{last_logged_step(killed_dir)}; its log ends:\n'
                f'{log_tail(victim)}')
    # Not os.kill: if the run ended since poll(), send_signal does nothing
    # and the status check below reports it with the log.
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    seen = last_logged_step(killed_dir)
    saved = sorted(int(d) for d in os.listdir(
        os.path.join(killed_dir, train.CHECKPOINT_DIR)) if d.isdigit())
    self.assertEqual(victim.returncode, -signal.SIGKILL,
                     f'the run was not killed (it logged step {seen}); its '
                     f'log ends:\n{log_tail(victim)}')
    victim.log.close()
    self.assertBetween(seen, KILL_STEP, NUM_STEPS - 1)
    self.assertNotIn(NUM_STEPS, saved)

    restarted = subprocess.run(main_command(killed_dir), cwd=REPO, env=env,
                               capture_output=True, text=True, timeout=120,
                               check=False)
    self.assertEqual(reference.wait(timeout=120), 0)
    reference.log.close()
    self.assertEqual(restarted.returncode, 0, restarted.stderr[-3000:])
    # SIGKILL left run.lock naming the dead run: taken over with a warning.
    self.assertIn(f'Took over the lock of PID {victim.pid} ', restarted.stderr)
    print(f'killed after step {KILL_STEP} (logged up to {seen}; checkpoints '
          f'{saved}); ' + ' '.join(line.split('] ')[-1] for line in
                                   restarted.stderr.splitlines()
                                   if 'resumed from' in line))

    checkpoints = [os.path.join(d, train.CHECKPOINT_DIR)
                   for d in (reference_dir, killed_dir)]
    for checkpoint_dir in checkpoints:  # no half-written checkpoint left
      self.assertEqual(sorted(os.listdir(checkpoint_dir)),
                       [str(NUM_STEPS - 5), str(NUM_STEPS)])
    assert_trees_equal(self, load_checkpoint(checkpoints[0], NUM_STEPS),
                       load_checkpoint(checkpoints[1], NUM_STEPS))
    self.assertEqual(checksum(checkpoints[0], NUM_STEPS),
                     checksum(checkpoints[1], NUM_STEPS))
    reference_records = train.read_metrics(reference_dir)
    self.assertLen([r for r in reference_records if 'train/loss' in r],
                   NUM_STEPS)
    self.assertEqual(without_timing(train.read_metrics(killed_dir)),
                     without_timing(reference_records))


def data_files(step_dir):
  """The OCDBT files that hold the arrays of one checkpoint."""
  return [p for p in glob.glob(os.path.join(step_dir, 'default', '**', 'd',
                                            '*'), recursive=True)
          if os.path.isfile(p)]


def truncate_data(step_dir):
  for path in data_files(step_dir):
    with open(path, 'r+b') as f:
      f.truncate(os.path.getsize(path) // 2)


def delete_array_metadata(step_dir):
  os.remove(os.path.join(step_dir, 'default', '_METADATA'))


def delete_checkpoint_metadata(step_dir):
  os.remove(os.path.join(step_dir, '_CHECKPOINT_METADATA'))


def tamper_checksum(step_dir):
  """Stands for array bytes that changed without TensorStore noticing."""
  path = os.path.join(step_dir, '_CHECKPOINT_METADATA')
  with open(path) as f:
    metadata = json.load(f)
  metadata['custom_metadata'][train.CHECKSUM_KEY] = '0' * 64
  with open(path, 'w') as f:
    json.dump(metadata, f)


class CorruptCheckpointTest(train_test.TinyRunTestCase):
  """One tiny run (checkpoints 3 and 6) whose copies are damaged."""

  def copy_run(self, name):
    workdir = os.path.join(self.tmp, name)
    shutil.copytree(self.workdir, workdir)
    return workdir

  @parameterized.named_parameters(
      ('truncated_data_file', truncate_data, 'OUT_OF_RANGE'),
      ('deleted_array_metadata', delete_array_metadata, 'Error'),
      ('deleted_checkpoint_metadata', delete_checkpoint_metadata,
       '_CHECKPOINT_METADATA'),
      ('changed_bytes', tamper_checksum, 'checksum'))
  def test_damaged_latest_checkpoint_falls_back_to_the_previous(
      self, damage, error):
    workdir = self.copy_run(damage.__name__)
    checkpoint_dir = os.path.join(workdir, train.CHECKPOINT_DIR)
    damage(os.path.join(checkpoint_dir, '6'))
    with self.assertLogs('absl', level='WARNING') as logs:
      resumed = train.train(self.config, workdir)
    warnings = '\n'.join(logs.output)
    self.assertRegex(warnings, r'checkpoint 6 in \S+ cannot be restored')
    self.assertIn(error, warnings)
    self.assertIn('resuming from checkpoint 3 instead of 6', warnings)
    # Trained 4..6 again: the same result, and the metrics of steps 4..6
    # are written once.
    assert_trees_equal(self, resumed.state, self.result.state)
    self.assertEqual(without_timing(train.read_metrics(workdir)),
                     without_timing(self.records))
    self.assertEqual(sorted(os.listdir(checkpoint_dir)), ['3', '6'])
    self.assertEqual(os.listdir(os.path.join(
        workdir, train.CORRUPT_CHECKPOINT_DIR)), ['6'])

  def test_no_restorable_checkpoint_is_an_error(self):
    workdir = self.copy_run('all_damaged')
    for step in ('3', '6'):
      truncate_data(os.path.join(workdir, train.CHECKPOINT_DIR, step))
    with self.assertRaisesRegex(
        train.CheckpointRestoreError,
        r'none of the 2 checkpoints .*step 6: .*; step 3: .*new --workdir'):
      train.train(self.config, workdir)
    self.assertFalse(os.path.exists(os.path.join(
        workdir, train.CORRUPT_CHECKPOINT_DIR)))

  def test_half_written_checkpoint_is_ignored_and_removed(self):
    workdir = self.copy_run('half_written')
    checkpoint_dir = os.path.join(workdir, train.CHECKPOINT_DIR)
    # What an async save killed mid-write leaves behind.
    shutil.copytree(os.path.join(checkpoint_dir, '6'), os.path.join(
        checkpoint_dir, '9.orbax-checkpoint-tmp-1234567890'))
    metrics = train.train_and_evaluate(self.config, workdir)
    self.assertEqual(metrics['eval/accuracy'],
                     self.result.metrics['eval/accuracy'])
    self.assertEqual(sorted(os.listdir(checkpoint_dir)), ['3', '6'])

  def test_checkpoints_restore_without_pickle(self):
    # Arrays are TensorStore (OCDBT) files, metadata is JSON.
    for path in glob.glob(os.path.join(self.workdir, train.CHECKPOINT_DIR,
                                       '**'), recursive=True):
      if os.path.isfile(path):
        with open(path, 'rb') as f:
          head = f.read(2)
        self.assertNotEqual(head[:1], b'\x80', f'{path} looks pickled')
        if head[:1] == b'{':
          with open(path) as f:
            json.load(f)
    refuse = mock.Mock(side_effect=AssertionError('pickle used'))
    with mock.patch.object(pickle, 'load', refuse), \
         mock.patch.object(pickle, 'loads', refuse), \
         mock.patch.object(pickle, 'Unpickler', refuse):
      manager = ocp.CheckpointManager(os.path.join(self.workdir,
                                                   train.CHECKPOINT_DIR))
      restored = train.restore_checkpoint(manager, 6, self.result.state)
      manager.close()
    assert_trees_equal(self, restored, self.result.state)
    refuse.assert_not_called()
    with open(os.path.join(self.workdir, 'config.json')) as f:
      self.assertEqual(json.load(f)['seed'], 0)


class ChecksumTest(absltest.TestCase):
  """Bytes of a large array changed on disk: only the checksum sees it."""

  def test_flipped_byte_in_a_large_array_is_detected(self):
    directory = self.enter_context(tempfile.TemporaryDirectory())
    rng = np.random.default_rng(0)
    tree = {'w': jnp.asarray(rng.normal(size=(64, 64)).astype(np.float32)),
            'step': jnp.asarray(3)}
    manager = ocp.CheckpointManager(directory)
    for step in (1, 2):
      manager.save(step, args=ocp.args.StandardSave(tree), custom_metadata={
          train.CHECKSUM_KEY: train.state_checksum(tree)})
    manager.wait_until_finished()
    manager.close()
    path = max(data_files(os.path.join(directory, '2')), key=os.path.getsize)
    with open(path, 'r+b') as f:  # one bit in the middle of the array
      f.seek(os.path.getsize(path) // 2)
      byte = f.read(1)
      f.seek(-1, os.SEEK_CUR)
      f.write(bytes([byte[0] ^ 1]))
    manager = ocp.CheckpointManager(directory)
    raw = manager.restore(2, args=ocp.args.StandardRestore(tree))
    self.assertFalse(np.array_equal(raw['w'], tree['w']))  # orbax: no error
    with self.assertRaisesRegex(train.CorruptCheckpointError, 'checksum'):
      train.restore_checkpoint(manager, 2, tree)
    workdir = self.enter_context(tempfile.TemporaryDirectory())
    with self.assertLogs('absl', level='WARNING'):
      restored, step = train.restore_or_initialize(manager, tree,
                                                   workdir=workdir)
    manager.close()
    self.assertEqual(step, 1)
    assert_trees_equal(self, restored, tree)
    self.assertEqual(os.listdir(directory), ['1'])


if __name__ == '__main__':
  absltest.main()
