"""python main.py --config=experiments/configs/study_cifar.py

CIFAR-10, small ResNet (circular padding, batch norm, global average pool):
strided convs (baseline) vs blur pool (Zhang 2019, 'blur_conv') vs APS
(Chaman & Dokmanic 2021). SGD + momentum 0.9, weight decay 5e-4, cosine
schedule, random shifts of up to 4 px with zero fill (random crops of a
zero-padded image; no flips).

Measured (the default quick mode: ResNet-8 widths (16, 32, 64), 300 steps
of batch 64 on the first 10000 training images, 1000 test images; seed 0;
388 s on 2 CPU cores): table in docs/results.md and the run's results.md.
300 steps is far from converged (~40 % accuracy): the run shows the pipeline
and the invariance gap (APS exactly consistent under circular shifts, blur
~10x fewer top-1 flips than strided), not accuracy.

Full run for a GPU (``--config.quick=False``): ResNet-20 (3 blocks per
stage), all 50000 training images, batch 128, lr 0.1 with 391 warmup steps,
39100 steps (100 epochs), the whole test set; checkpoints every 3910 steps,
so re-running the command resumes. Not measured here (no GPU in this
session).

Smoke test, ``python main.py --config=experiments/configs/study_cifar.py:tiny
--workdir=/tmp/sc``: two steps of a tiny APS ResNet on 64 CIFAR-10 images
(needs ../shared/data/cifar10.npz). Not a result.
"""

import ml_collections
from ml_collections import config_dict

from experiments import configs
from experiments.configs import train


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  """Returns the CIFAR-10 ResNet study config (short CPU run by default).

  Args:
    arg: None for the full config, 'tiny' for the smoke test the tests run.

  Raises:
    ValueError: for any other ``arg``.
  """
  config = train.get_config()
  config.experiment = 'study'
  config.title = 'CIFAR-10 ResNet: strided vs blur vs APS'
  config.quick = True
  config.dataset = 'cifar10'

  # Fields left None come from presets.quick (short CPU run) or presets.full
  # (the GPU run).
  for name, kind in (('num_train_steps', int), ('batch_size', int),
                     ('learning_rate', float), ('warmup_steps', int),
                     ('train_limit', int), ('eval_limit', int),
                     ('checkpoint_every', int)):
    config[name] = config_dict.placeholder(kind)
  config.widths = config_dict.placeholder(tuple)
  config.blocks_per_stage = config_dict.placeholder(int)
  config.presets = ml_collections.ConfigDict(dict(
      quick=dict(num_train_steps=300, batch_size=64, learning_rate=0.05,
                 warmup_steps=30, train_limit=10000, eval_limit=1000,
                 checkpoint_every=300, widths=(16, 32, 64),
                 blocks_per_stage=1),
      # 100 epochs of 50000 images at batch 128 (391 steps per epoch),
      # ResNet-20 (3 blocks per stage), the whole test set.
      full=dict(num_train_steps=39100, batch_size=128, learning_rate=0.1,
                warmup_steps=391, train_limit=None, eval_limit=None,
                checkpoint_every=3910, widths=(16, 32, 64),
                blocks_per_stage=3),
  ))
  config.optimizer = 'sgd'
  config.momentum = 0.9
  config.weight_decay = 5e-4
  config.schedule = 'cosine'
  # Random crops with 4 pixels of zero padding (no flips).
  config.augment = 'shift'
  config.max_shift = 4
  config.shift_mode = 'zeros'
  config.eval_batch_size = 250
  config.eval_every = 0
  config.log_every = 50
  config.max_checkpoints = 2

  def resnet(downsampling, description):
    return dict(name='resnet', widths=config.get_ref('widths'),
                blocks_per_stage=config.get_ref('blocks_per_stage'),
                downsampling=downsampling, padding='circular',
                description=description)

  config.models = ml_collections.ConfigDict(dict(
      resnet_strided=resnet('strided_conv', 'ResNet, strided convs'),
      resnet_blur=resnet('blur_conv', 'ResNet, blur pool (Zhang)'),
      resnet_aps=resnet('aps', 'ResNet, APS (Chaman & Dokmanic)'),
  ))
  config.run = ('resnet_strided', 'resnet_blur', 'resnet_aps')

  # What to measure on the test split: circular shifts (no canvas to move
  # on); consistency is reported for zero-fill crops and circular shifts.
  config.eval_max_shift = 4
  config.eval_shift_mode = 'circular'
  config.consistency_max_shift = 4
  config.rotation_angles = ()
  config.compare_with = ''
  if configs.is_tiny(arg):
    config.presets.quick = ml_collections.ConfigDict(dict(
        num_train_steps=2, batch_size=16, learning_rate=0.01, warmup_steps=1,
        train_limit=64, eval_limit=16, checkpoint_every=2, widths=(4, 4, 4),
        blocks_per_stage=1))
    config.run = ('resnet_aps',)
    config.eval_batch_size = 16
    config.log_every = 1
    config.eval_max_shift = 1
    config.consistency_max_shift = 1
  return config
