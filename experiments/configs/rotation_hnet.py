"""python main.py --config=experiments/configs/rotation_hnet.py --workdir=runs/rotation_hnet

Measured (seed 0; first 5,000 of the 50,000 MNIST-rot test images; 2 CPU
cores): test error after 300 steps (this command, 4 min 24 s) H-Net 12.0 %,
CNN 40.1 %; after 1000 steps (add --config.num_train_steps=1000; 8 min 39 s)
4.6 / 20.7 %. Accuracy vs angle and the comparison with the paper:
docs/results.md.

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

Smoke test, ``python main.py --config=experiments/configs/rotation_hnet.py:tiny
--workdir=/tmp/rh``: a 4-layer H-Net of width 2 (3x3 filters, 2 rings), one
step of batch 16 on 32 offline 16 x 16 digits, measured at 0 and 90 degrees
(~5 s, mostly compiles). The CNN is left out to keep the test fast
(``--config.run`` can add it back; its widths here are (4, 4));
tests/rotation_test.py builds both models of the full config. Not a result.
"""

import ml_collections

from experiments import configs
from experiments.configs import rotation_gcnn


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  """Returns the rotated-MNIST H-Net vs CNN study config (quick mode).

  Training and measurement settings are those of rotation_gcnn.py's full
  config; only the models differ.

  Args:
    arg: None for the full config, 'tiny' for the smoke test the tests run.

  Raises:
    ValueError: for any other ``arg``.
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
  if configs.is_tiny(arg):
    configs.shrink_rotation_study(config, canvas_size=16)
    config.models.hnet.widths = (2, 2, 2, 2)
    config.models.hnet.n_rings = 2
    config.models.hnet.filter_size = 3
    config.models.cnn.widths = (4, 4)
    config.run = ('hnet',)
  return config
