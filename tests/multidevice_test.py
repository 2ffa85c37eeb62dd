"""Data-parallel training over several devices (experiments/train/).

CPU stands in for a multi-GPU machine: a subprocess started with
``XLA_FLAGS=--xla_force_host_platform_device_count=4`` sees four CPU devices.
It trains the tiny config on one device and on all four, and tries a batch
that does not divide by four (one subprocess, ~10 s).

The multi-process test (two processes with two devices each, through
``main.py --distributed``) takes ~30 s on two cores (marked slow; it runs in
the default suite).
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap

from absl.testing import absltest
import jax
import numpy as np
import pytest

from experiments import train
from tests import resume_test

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Measured: 5.4e-7 (parameters), 4.2e-7 (batch statistics), 1.9e-7 (Adam
# moments) after 6 steps; the sums over the batch are split over devices, so
# only rounding differs.
ATOL = 1e-5

SCRIPT = textwrap.dedent('''
    import json, sys
    import jax
    import numpy as np
    from experiments import train
    from experiments.configs import train as train_config

    workdir = sys.argv[1]
    out = {'devices': jax.device_count()}
    states = {}
    for num_devices in (1, 0):  # one device, then all (0)
      config = train_config.get_config('tiny')
      config.num_devices = num_devices
      result = train.train(config, f'{workdir}/run{num_devices}')
      leaf = jax.tree.leaves(result.state.params)[0]
      out[f'metrics{num_devices}'] = result.metrics
      out[f'state_devices{num_devices}'] = len(leaf.sharding.device_set)
      out[f'replicated{num_devices}'] = leaf.sharding.is_fully_replicated
      states[num_devices] = result.state
    parallel = train.DataParallel.create(0)
    batch = parallel.put_batch(np.zeros((32, 2), np.float32))
    out['batch_shards'] = sorted(shard.data.shape[0]
                                 for shard in batch.addressable_shards)
    for part in ('params', 'batch_stats', 'opt_state'):
      out[f'max_abs_diff_{part}'] = max(
          float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
          for a, b in zip(jax.tree.leaves(getattr(states[1], part)),
                          jax.tree.leaves(getattr(states[0], part))))
    for name, overrides in (('odd_batch', dict(batch_size=30)),
                            ('too_many', dict(num_devices=5))):
      config = train_config.get_config('tiny')
      config.update(overrides)
      try:
        train.train(config, f'{workdir}/{name}')
        out[name] = 'no error'
      except ValueError as error:
        out[name] = str(error)
    print('RESULT ' + json.dumps(out))
''')


def run_script(workdir):
  env = {**os.environ, 'XLA_FLAGS': '--xla_force_host_platform_device_count=4',
         'JAX_PLATFORMS': 'cpu'}
  result = subprocess.run([sys.executable, '-c', SCRIPT, workdir], cwd=REPO,
                          env=env, capture_output=True, text=True,
                          timeout=300, check=False)
  if result.returncode:
    raise AssertionError(result.stderr[-3000:])
  line = [l for l in result.stdout.splitlines() if l.startswith('RESULT ')]
  return json.loads(line[-1][len('RESULT '):])


class FourDeviceTest(absltest.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.tmp = tempfile.mkdtemp()
    cls.out = run_script(cls.tmp)

  @classmethod
  def tearDownClass(cls):
    shutil.rmtree(cls.tmp, ignore_errors=True)
    super().tearDownClass()

  def test_uses_all_four_devices(self):
    self.assertEqual(self.out['devices'], 4)
    self.assertEqual(self.out['state_devices1'], 1)
    self.assertEqual(self.out['state_devices0'], 4)  # replicated state
    self.assertTrue(self.out['replicated0'])
    self.assertEqual(self.out['batch_shards'], [8, 8, 8, 8])  # split batch

  def test_four_devices_match_one_device(self):
    print({k: v for k, v in self.out.items() if k.startswith('max_abs')})
    for part in ('params', 'batch_stats', 'opt_state'):
      self.assertLess(self.out[f'max_abs_diff_{part}'], ATOL, part)
    one, four = self.out['metrics1'], self.out['metrics0']
    self.assertEqual(one.keys(), four.keys())
    for key in one:
      self.assertAlmostEqual(one[key], four[key], delta=1e-5, msg=key)

  def test_batch_not_divisible_by_the_devices_is_rejected(self):
    self.assertIn('config.batch_size = 30 must be divisible by the number of '
                  'devices (4', self.out['odd_batch'])
    self.assertIn('config.num_devices = 5, but this machine has only 4',
                  self.out['too_many'])


class DataParallelTest(absltest.TestCase):
  """In this process (one CPU device, unless XLA_FLAGS says otherwise)."""

  def test_one_device_mesh(self):
    parallel = train.DataParallel.create(1)
    self.assertEqual(parallel.num_devices, 1)
    parallel.check_batch_size(7, 'config.batch_size')
    x = parallel.put_batch(np.arange(6.0).reshape(3, 2))
    np.testing.assert_array_equal(np.asarray(x), np.arange(6.0).reshape(3, 2))

  def test_bad_num_devices(self):
    with self.assertRaisesRegex(ValueError, r'config.num_devices'):
      train.DataParallel.create(-1)
    with self.assertRaisesRegex(ValueError, r'config.num_devices = \d+, but'):
      train.DataParallel.create(jax.local_device_count() + 1)


def free_port():
  with socket.socket() as s:
    s.bind(('localhost', 0))
    return s.getsockname()[1]


@pytest.mark.slow  # ~30 s: three JAX processes
class TwoProcessTest(absltest.TestCase):
  """``main.py --distributed`` with 2 processes x 2 CPU devices vs 1 x 4."""

  def test_two_processes_match_one_process(self):
    tmp = self.enter_context(tempfile.TemporaryDirectory())
    env = {**os.environ,
           'XLA_FLAGS': '--xla_force_host_platform_device_count=2'}
    address = f'localhost:{free_port()}'
    command = [sys.executable, os.path.join(REPO, 'main.py'),
               '--config=experiments/configs/train.py:tiny',
               f'--workdir={tmp}/multi', '--distributed',
               f'--coordinator_address={address}', '--num_processes=2']
    processes = [subprocess.Popen(command + [f'--process_id={i}'], cwd=REPO,
                                  env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True)
                 for i in (0, 1)]
    for process in processes:
      _, stderr = process.communicate(timeout=300)
      self.assertEqual(process.returncode, 0, stderr[-3000:])
    env['XLA_FLAGS'] = '--xla_force_host_platform_device_count=4'
    single = subprocess.run(
        [sys.executable, os.path.join(REPO, 'main.py'),
         '--config=experiments/configs/train.py:tiny',
         f'--workdir={tmp}/single'], cwd=REPO, env=env, capture_output=True,
        text=True, timeout=300, check=False)
    self.assertEqual(single.returncode, 0, single.stderr[-3000:])
    a = resume_test.load_checkpoint(f'{tmp}/multi/checkpoints', 6)
    b = resume_test.load_checkpoint(f'{tmp}/single/checkpoints', 6)
    diff = max(float(np.max(np.abs(x - y)))
               for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))
    print(f'2 processes x 2 devices vs 1 x 4: max abs difference {diff:.2e}')
    self.assertLess(diff, ATOL)
    strip = resume_test.without_timing
    multi = strip(train.read_metrics(f'{tmp}/multi'))
    single_records = strip(train.read_metrics(f'{tmp}/single'))
    self.assertEqual([r['step'] for r in multi],
                     [r['step'] for r in single_records])


if __name__ == '__main__':
  absltest.main()
