"""Supervised training and evaluation of an image classifier.

``train_and_evaluate(config, workdir)`` trains ``config.model`` on
``config.dataset`` and returns the final metrics. Everything a run produces
lives in ``workdir``::

  config.json             the config of the latest (re)start
  metrics.jsonl           one JSON object per logging event: {"step": s, ...}
  events.out.tfevents.*   the same scalars for TensorBoard (tensorboardX)
  checkpoints/<step>/     orbax checkpoints of the train state (the last few)
  corrupt_checkpoints/    checkpoints that failed to restore (if any)

Look at the curves with ``tensorboard --logdir <workdir>`` (TensorBoard is
not a dependency; any install of it reads these files).

Restore-or-initialise: a run that finds a checkpoint in ``workdir`` resumes
from the latest one, so re-running the same command after an interruption
continues where it stopped, and re-running a finished run only evaluates.
Resumed runs are bit-for-bit identical to uninterrupted ones, also after a
SIGKILL (``tests/train_test.py``, ``tests/resume_test.py``): the batch of
step ``s`` and its augmentation key are functions of ``(config.seed, s)``
only; a resumed run first drops the metrics logged after its checkpoint;
and training metrics, averaged over logging intervals, also close an
interval at every checkpoint step. Only ``perf/steps_per_sec`` differs.

Reliability:

* Checkpoints are verified: each records a SHA-256 of the train state in
  its orbax metadata, and a checkpoint that fails to read back or to match
  its hash is set aside (``corrupt_checkpoints/``) with a warning, and the
  previous one is used (:func:`restore_or_initialize`). Orbax reads arrays
  with TensorStore (OCDBT/zarr) and metadata as JSON; nothing is unpickled.
* A loss or train state that becomes NaN/inf stops the run with a
  :class:`TrainingDivergedError`; such a state is never checkpointed.

Data parallelism (:class:`DataParallel`): the batch is split over a 1-D
device mesh (axis ``'batch'``: ``config.num_devices``, 0 = all devices,
every process's in a multi-process run) and the train state is replicated.
``config.batch_size`` must divide by the device count. In a multi-process
run (``main.py --distributed``) every process builds the same global batch
and feeds its own devices their rows (``batch_size / process_count`` per
process); only process 0 writes ``config.json`` and the metrics.

Inputs are images ``[B, H, W, C]`` in [0, 1]; the model sees them normalised
with the training set's per-channel mean and std (see :func:`make_apply_fn`).

Modules, in the order a run uses them:

  config_checks   check_config: every field named in its ValueError
  data_parallel   DataParallel: the device mesh and batch placement
  inputs          load_data, batch_indices (the batch of each step), normalize
  state           TrainState, build_model, seed_keys, create_train_state
  step            StepSettings, learning_rate_schedule, make_optimizer,
                  augment, train_step
  evaluation      make_apply_fn, make_predict_fn, evaluate
  compiled        compiled_functions: the jitted functions, cached
  checkpoints     verified save and restore_or_initialize
  writers         MetricWriter (metrics.jsonl + TensorBoard), read_metrics
  loop            run_steps and the steps of the loop; TrainingDivergedError
  trainer         train, train_and_evaluate, TrainResult
"""

from experiments.train.checkpoints import CHECKPOINT_DIR
from experiments.train.checkpoints import CHECKSUM_KEY
from experiments.train.checkpoints import CheckpointRestoreError
from experiments.train.checkpoints import CORRUPT_CHECKPOINT_DIR
from experiments.train.checkpoints import CorruptCheckpointError
from experiments.train.checkpoints import restore_checkpoint
from experiments.train.checkpoints import restore_or_initialize
from experiments.train.checkpoints import state_checksum
from experiments.train.compiled import compiled_functions
from experiments.train.compiled import CompiledFunctions
from experiments.train.config_checks import AUGMENTATIONS
from experiments.train.config_checks import check_config
from experiments.train.config_checks import OPTIMIZERS
from experiments.train.config_checks import SCHEDULES
from experiments.train.config_checks import SHIFT_MODES
from experiments.train.data_parallel import BATCH_AXIS
from experiments.train.data_parallel import DataParallel
from experiments.train.evaluation import evaluate
from experiments.train.evaluation import make_apply_fn
from experiments.train.evaluation import make_predict_fn
from experiments.train.evaluation import PredictFn
from experiments.train.evaluation import Scalars
from experiments.train.inputs import batch_indices
from experiments.train.inputs import load_data
from experiments.train.inputs import normalize
from experiments.train.loop import TrainingDivergedError
from experiments.train.state import all_finite
from experiments.train.state import build_model
from experiments.train.state import create_train_state
from experiments.train.state import PRNG_IMPL
from experiments.train.state import seed_keys
from experiments.train.state import TrainState
from experiments.train.step import augment
from experiments.train.step import learning_rate_schedule
from experiments.train.step import make_optimizer
from experiments.train.step import StepSettings
from experiments.train.step import train_step
from experiments.train.trainer import train
from experiments.train.trainer import train_and_evaluate
from experiments.train.trainer import TrainResult
from experiments.train.writers import METRICS_FILE
from experiments.train.writers import MetricWriter
from experiments.train.writers import NullWriter
from experiments.train.writers import read_metrics
