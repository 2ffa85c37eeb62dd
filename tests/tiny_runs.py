"""A finished tiny MNIST-rot P4CNN study run, for the post-hoc tools' tests."""

import os
import shutil
import tempfile
from typing import Any

from absl.testing import absltest

from experiments import study
from experiments import train
from experiments import trained_runs
from experiments.configs import mnist_rot_p4cnn


def trained_tiny_p4cnn(test: absltest.TestCase
                       ) -> tuple[str, Any, trained_runs.TrainedModel]:
  """Trains the P4CNN preset's tiny config (2 steps, offline digits) in a
  temporary study workdir that ``test`` removes afterwards.

  Returns:
    ``(workdir, train result, the restored final model)``.
  """
  workdir = tempfile.mkdtemp()
  test.addCleanup(shutil.rmtree, workdir, ignore_errors=True)
  config = mnist_rot_p4cnn.get_config('tiny')
  result = train.train(
      study.train_config(study.resolve_presets(config), 'p4cnn'),
      os.path.join(workdir, study.MODELS_DIR, 'p4cnn'))
  trained = trained_runs.restore(mnist_rot_p4cnn.get_config('tiny'), 'p4cnn',
                                 workdir)
  return workdir, result, trained
