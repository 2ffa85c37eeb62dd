"""python main.py --config=experiments/configs/study_cifar_lps.py --workdir=runs/study_cifar_lps

CIFAR-10, one ResNet-8 (widths (16, 32, 64), circular padding, batch norm,
global average pool) downsampled five ways, all through the drop-in
``models.antialias`` on the same strided network (model
'antialiased_resnet'; same parameter tree, same seed, so the same initial
weights): the strided baseline, BlurPool with filter 3 and 5 (Zhang 2019),
APS (Chaman & Dokmanic 2021) and LPS (Rojas-Gomez et al. 2022; Gumbel-softmax
while training, argmax at test). SGD + momentum 0.9, weight decay 5e-4,
cosine schedule, random crops (shifts of up to 4 px, zero fill, no flips);
evaluated on all 10,000 test images: accuracy, random-crop (zero fill) and
circular-shift consistency, P(top-1 change) and mean absolute change of the
top-1 probability under 1-pixel shifts, parameters, wall time
(``results.md`` / ``results.csv``: ``params``, ``train_seconds``,
``total_seconds``).

Measured (seed 0, 29 Nov 2026; docs/shift_invariance.md, results/
study_cifar_lps/): test accuracy strided 56.2 %, blur3 60.7 %, blur5 59.5 %,
APS 56.7 %, LPS 57.7 %; circular-shift consistency 89.5 / 97.0 / 98.0 / 100 /
100 %; the slowest model (LPS) 25.5 min on one core; the study 81.5 min.

Budget (default, ``quick=True``): every model must finish in <= 30 minutes
(1800 s) on 2 CPU cores, training and evaluation. Measured with
``python -m benchmarks.study_cifar_lps_speed --steps 8 --eval_images 200``
(the jitted training step on real batches of 64 after one compiling step,
and every metric of the study on 200 test images scaled to 10,000; on
../shared/data/cifar10.npz, 2 CPU cores shared with ~6 other jobs, load
~13). Wall time was inflated 2-8x by the other jobs, so the budget uses the
process CPU time (user + system, all threads), which bounds the wall time
of the same work on a quiet 2-core machine from above:

  model     params   s/step wall  s/step CPU  eval 10,000 wall  eval CPU
  strided   78,042      1.820       0.221         1038 s         240 s
  blur3     78,042      1.526       0.360          896 s         303 s
  blur5     78,042      1.068       0.355         1077 s         325 s
  aps       78,042      0.594       0.370          507 s         341 s
  lps       85,116      0.984       0.544          774 s         728 s

Every model trains the same number of steps (fair comparison), set by the
slowest, LPS: 1800 s - 728 s (evaluation) - 60 s (data loading, init,
compiles; estimated) - 10% margin (180 s) = 832 s of training; 832 / 0.544 s = 1529
steps -> ``num_train_steps = 1500`` (96,000 images, ~1.9 epochs). Per model
(CPU seconds): strided 1500 x 0.221 + 240 + 60 = 632 s (10.5 min), blur3
903 s (15.1 min), blur5 918 s (15.3 min), aps 956 s (15.9 min), lps
1500 x 0.544 + 728 + 60 = 1604 s (26.7 min); the whole study ~84 min.

Full run for a GPU (``--config.quick=False``): ResNet-20, all 50,000
training images, batch 128, lr 0.1, 39,100 steps (100 epochs), as
``study_cifar.py``'s full preset. Not measured.

Smoke test, ``python main.py --config=experiments/configs/study_cifar_lps.py:tiny
--workdir=/tmp/scl``: two steps of tiny blur and LPS ResNets on 64 CIFAR-10
images (needs ../shared/data/cifar10.npz; seconds). Not a result.
"""

import ml_collections

from experiments import configs
from experiments.configs import study_cifar

# The steps every model trains for in the quick (CPU) preset; see the budget
# arithmetic in the module docstring.
QUICK_STEPS = 1500


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  """Returns the CIFAR-10 strided / blur / APS / LPS study config.

  Args:
    arg: None for the full config, 'tiny' for the smoke test the tests run.

  Raises:
    ValueError: for any other ``arg``.
  """
  tiny = configs.is_tiny(arg)
  config = study_cifar.get_config()
  config.title = 'CIFAR-10 ResNet-8: strided vs BlurPool vs APS vs LPS'
  config.presets.quick = ml_collections.ConfigDict(dict(
      num_train_steps=QUICK_STEPS, batch_size=64, learning_rate=0.05,
      warmup_steps=100, train_limit=None, eval_limit=None,
      checkpoint_every=500, widths=(16, 32, 64), blocks_per_stage=1))
  config.eval_batch_size = 500
  config.log_every = 100

  def resnet(method, description, filter_size=3):
    return dict(name='antialiased_resnet', widths=config.get_ref('widths'),
                blocks_per_stage=config.get_ref('blocks_per_stage'),
                padding='circular', method=method, filter_size=filter_size,
                description=description)

  config.models = ml_collections.ConfigDict(dict(
      strided=resnet('none', 'ResNet-8, strided convs (baseline)'),
      blur3=resnet('blur', 'ResNet-8, BlurPool filter 3', 3),
      blur5=resnet('blur', 'ResNet-8, BlurPool filter 5', 5),
      aps=resnet('aps', 'ResNet-8, APS (no blur)', 1),
      lps=resnet('lps', 'ResNet-8, LPS (no blur)', 1),
  ))
  config.run = ('strided', 'blur3', 'blur5', 'aps', 'lps')
  if tiny:
    config.presets.quick = ml_collections.ConfigDict(dict(
        num_train_steps=2, batch_size=16, learning_rate=0.01, warmup_steps=1,
        train_limit=64, eval_limit=16, checkpoint_every=2, widths=(4, 4, 4),
        blocks_per_stage=1))
    config.run = ('blur3', 'lps')
    config.eval_batch_size = 16
    config.log_every = 1
    config.eval_max_shift = 1
    config.consistency_max_shift = 1
  return config
