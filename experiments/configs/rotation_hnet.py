"""python main.py --config=experiments/configs/rotation_hnet.py --workdir=runs/rotation_hnet

MEASURED RESULT (seed 0, Adam 3e-3 cosine, batch 64, no augmentation; test
error on the first 5,000 of the 50,000 MNIST-rot test images; 2 shared CPU
cores; wall time of the whole command incl. measuring):
  300 steps (this command, 4 min 24 s): H-Net 12.0 %, CNN 40.1 %.
  1000 steps (add --config.num_train_steps=1000; 8 min 39 s): H-Net 4.6 %,
    CNN 20.7 %. Paper (full run): H-Net 1.69 %.
  Accuracy vs angle (1000 steps): H-Net 95.4-95.6 % at every angle,
  identical at 0, 90, 180, 270 degrees (exact quarter-turn invariance); the
  CNN 79.2-79.6 % at multiples of 90 degrees but 76.7-77.7 % in between
  (bilinear resampling hurts it). Speed: H-Net ~3, CNN ~18 steps/s; the full
  preset is estimated at ~1.6 h (not run).

H-Net vs a CNN of about the same size on rotated MNIST (Worrall et al.
2017, Sec. 5.1, report 1.69 % test error after a full run). Both models are
trained the same way with the study runner (:mod:`experiments.study`),
which measures test accuracy and accuracy vs rotation of the test images by
``rotation_angles`` (degrees; bilinear, zero fill): ``results.md``,
``results.csv``, ``accuracy_vs_rotation.png``.

* ``hnet``: the registered paper model, 22,826 parameters.
* ``cnn``: :class:`models.CNN`, 3x3 convs of widths 20, 40, 40 with batch
  norm, max pooling and a global-average head, 'zeros' padding: 22,390
  parameters (1.9 % fewer). (Z2CNN of ``rotation_gcnn.py``, 21,750
  parameters, is a second equal-size baseline.)

Presets: ``quick`` (default) is the short CPU run measured above
(``num_train_steps`` 300, batch 64, evaluated on the first 5,000 of the
50,000 test images); ``--config.quick=False`` trains 6,000 steps of batch
128 and evaluates on all 50k. Offline: ``--config.dataset=digits``.
"""

import ml_collections

from experiments.configs import rotation_gcnn


def get_config() -> ml_collections.ConfigDict:
  """Returns the rotated-MNIST H-Net vs CNN study config (quick mode).

  Training and measurement settings are rotation_gcnn.py's; only the models
  differ.
  """
  config = rotation_gcnn.get_config()
  config.title = 'H-Net vs an equal-size CNN on rotated MNIST'
  config.models = ml_collections.ConfigDict(dict(
      hnet=dict(name='hnet', widths=(8, 8, 16, 16, 32, 32),
                description='H-Net (Worrall 2017), orders 0-1, 5x5, '
                            '22,826 params'),
      cnn=dict(name='cnn', widths=(20, 40, 40), downsampling='max',
               head='global_avg', padding='zeros', norm='batch',
               description='CNN 3x3 (20, 40, 40), batch norm, max pool, '
                           'global avg, 22,390 params'),
  ))
  config.run = ('hnet', 'cnn')
  return config
