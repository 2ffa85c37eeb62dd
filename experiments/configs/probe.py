"""python main.py --config=experiments/configs/probe.py

Equivariance probe (no training, ~12 s on 2 CPU cores): how shift-equivariant /
-invariant are CNN building blocks with random weights? Measured with seed 0,
16 images per source, horizontal shifts (full table in
runs/probe/results.md; relative errors, mean over the batch):

* Circular stride-1 conv: exact (0.0) at every integer shift, 2e-7 at
  sub-pixel shifts. Zero padding: 0.20 on random images at any shift, but 0
  on digits up to shift 3 (the black margin hides the border).
* Stride-2 layers are exact at even shifts. At shift 1, against the ideal
  half-pixel output shift (random / digits): strided conv 1.50 / 0.12,
  max pool 0.50 / 0.13, avg pool 0.51 / 0.09, blur pool 0.26 / 0.05,
  max-blur pool 0.13 / 0.03.
* Invariance of conv-relu-DOWN-conv-relu-global-average nets at shift 1
  (random / digits): no downsampling 5e-8 / 4e-8, APS 2e-8 / 2e-8 (exact),
  strided conv 0.072 / 0.063, max pool 0.035 / 0.045, avg pool
  0.025 / 0.034, blur pool 0.010 / 0.022, max-blur pool 0.005 / 0.018; an FC
  head instead of global pooling: 1.29 / 0.53.
* Sub-pixel (0.5 px) shifts break every net by 0.03-0.07, APS included:
  ReLU does not commute with a band-limited shift.

Smoke test, ``python main.py --config=experiments/configs/probe.py:tiny
--workdir=/tmp/probe_tiny``: a small batch, few shifts and channels (a few
seconds). Not a result.
"""

import ml_collections

from experiments import configs


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  """Returns the default probe config; ``arg='tiny'``: the smoke test.

  Args:
    arg: None for the full config, 'tiny' for the smoke test the tests run.

  Raises:
    ValueError: for any other ``arg``.
  """
  config = ml_collections.ConfigDict()
  config.experiment = 'probe'
  config.seed = 0
  config.batch_size = 16         # images per source
  config.channels = 8            # conv channels (all kernels 3x3)
  config.max_shift = 4           # integer shifts 0..max_shift (CircularShift)
  config.subpixel_shifts = (0.25, 0.5)  # FourierShift amounts
  config.direction = 'horizontal'       # | 'vertical' | 'diagonal'
  config.image_sources = ('random', 'digits')
  if configs.is_tiny(arg):
    config.batch_size = 2
    config.channels = 4
    config.max_shift = 2
    config.subpixel_shifts = (0.5,)
  return config
