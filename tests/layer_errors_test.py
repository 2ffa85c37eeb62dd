"""Per-layer equivariance errors of a model (experiments.layer_equivariance).

:func:`~experiments.layer_equivariance.layer_errors` compares every captured
layer's output with the action it is given; here the actions come from each
output's shape (a map ``[B, h, w, C]`` of an ``H x W`` input gets
``transform.output_action(stride=H // h)``, an output ``[B, K]`` the
identity), so the checks hold for any plain CNN.
"""

from absl.testing import absltest
import flax
import jax
import numpy as np

import groups
import models
from experiments import layer_equivariance


def shape_actions(model, variables, x, transform):
  """``{layer: action}`` from the shape of each captured output on ``x``."""
  _, state = model.apply(variables, x, train=False, capture_intermediates=True,
                         mutable=['intermediates'])
  flat = flax.traverse_util.flatten_dict(state['intermediates'], sep='/')
  actions = {}
  for path, value in flat.items():
    name, output = path.removesuffix('/__call__') or '__call__', value[0]
    if output.ndim >= 4 and x.shape[1] % output.shape[1] == 0:
      actions[name] = transform.output_action(stride=x.shape[1] //
                                              output.shape[1])
    elif output.ndim == 2:
      actions[name] = groups.Identity()
  return actions


class LayerErrorsTest(absltest.TestCase):
  """Exact where the theory says so, broken after a stride-2 pool."""

  def _errors(self, downsampling, transform):
    model = models.CNN(widths=(4, 8), downsampling=downsampling)
    x = np.random.default_rng(0).random((4, 16, 16, 1)).astype(np.float32)
    variables = model.init(jax.random.key(0, impl='rbg'), x)
    return layer_equivariance.layer_errors(
        model, variables, x, transform,
        shape_actions(model, variables, x, transform))

  def test_stride1_cnn_is_exact_at_every_layer(self):
    errors = self._errors('none', groups.CircularShift(3, -2))
    self.assertEqual(sorted(errors), ['__call__', 'conv0', 'conv1', 'head',
                                      'pool', 'relu0', 'relu1'])
    for path, error in errors.items():
      self.assertLess(error, 1e-5, path)

  def test_max_pool_breaks_after_the_pool_and_aps_restores_the_logits(self):
    shift = groups.CircularShift(0, 1)
    max_errors = self._errors('max', shift)
    aps_errors = self._errors('aps', shift)
    self.assertLess(max_errors['conv0'], 1e-5)      # before any pooling
    self.assertGreater(max_errors['conv1'], 1e-2)   # after a stride-2 pool
    self.assertGreater(max_errors['__call__'], 1e-3)
    self.assertLess(aps_errors['__call__'], 1e-5)   # APS: invariant logits

  def test_rejects_a_non_transform(self):
    with self.assertRaisesRegex(ValueError, 'transform must be'):
      layer_equivariance.layer_errors(
          models.CNN(), {}, np.zeros((1, 8, 8, 1), np.float32), 'shift', {})


if __name__ == '__main__':
  absltest.main()
