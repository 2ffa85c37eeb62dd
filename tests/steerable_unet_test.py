"""The steerable U-Net (models/steerable_unet.py).

Shapes, submodules and the pinned parameter count, bad options, a gradient
step, and the default three-level APS model's exactness under a quarter
turn and a shift (the registry cases, tests/cases/steerable_unet.py, draw
two-level models).
"""

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
import numpy as np

import groups
from groups import testing
import models
from layers import steerable
from models import steerable_unet


def _input(size, channels=1, seed=0):
  return np.random.default_rng(seed).standard_normal(
      (2, size, size, channels)).astype(np.float32)


class SteerableUNetTest(parameterized.TestCase):

  @parameterized.named_parameters(('aps', 'aps', 8), ('strided', 'strided', 8),
                                  ('centred', 'centred', 9))
  def test_dense_output_and_submodules(self, downsampling, size):
    model = models.build_model('steerable_unet', widths=(2, 3, 2),
                               group='C4', downsampling=downsampling,
                               out_channels=3)
    x = _input(size, channels=2)
    variables = model.init(jax.random.PRNGKey(0), x)
    self.assertEqual(model.apply(variables, x).shape, (2, size, size, 3))
    params = variables['params']
    self.assertEqual(sorted(params), sorted(
        [f'enc{i}_conv{j}' for i in range(3) for j in range(2)] +
        [f'dec{i}_{name}' for i in range(2)
         for name in ('up_conv', 'conv0', 'conv1')] + ['out_conv']))
    c4 = groups.Cyclic(4)
    regular = lambda n: groups.FieldType(c4, n * [c4.regular_representation])
    # The up conv maps level 1's 3 fields to level 0's 2, the transposed
    # conv's basis for 'centred' being the conv's.
    self.assertEqual(params['dec0_up_conv']['weights'].shape,
                     (steerable.layer_basis(regular(3), regular(2), 3).size,))

  def test_pinned_parameter_count(self):
    model = steerable_unet.SteerableUNet()   # C4, widths (2, 4, 8), aps
    variables = model.init(jax.random.PRNGKey(0), _input(8))
    count = sum(v.size for v in jax.tree_util.tree_leaves(variables))
    # Basis coefficients of the 13 convs plus the output's one bias (the
    # hidden regular fields have no trivial field, hence no bias).
    self.assertEqual(count, 5391)

  def test_default_aps_model_is_exact_under_quarter_turns_and_shifts(self):
    c8 = groups.Cyclic(8)
    model = steerable_unet.SteerableUNet(group=c8, out_channels=2)
    x = _input(16, seed=1)
    variables = model.init(jax.random.PRNGKey(1), x)
    fn = jax.jit(lambda x: model.apply(variables, x))
    scalars = groups.FieldType(c8, [c8.trivial_representation])
    outputs = groups.FieldType(c8, 2 * [c8.trivial_representation])
    testing.assert_equivariant(fn, scalars.transform(2), x,
                               output_transform=outputs.transform(2))
    testing.assert_equivariant(fn, groups.CircularShift(3, -5), x)
    testing.assert_not_equivariant(
        jax.jit(lambda x: steerable_unet.SteerableUNet(
            group=c8, out_channels=2, downsampling='strided').apply(
                variables, x)), scalars.transform(2), x,
        output_transform=outputs.transform(2), min_error=0.01)

  def test_gradient_step_is_finite_and_nonzero(self):
    model = steerable_unet.SteerableUNet(widths=(2, 2), downsampling='centred')
    x = _input(7)
    variables = model.init(jax.random.PRNGKey(2), x)

    def loss(params):
      return jnp.mean(model.apply({'params': params}, x)**2)

    grads = jax.jit(jax.grad(loss))(variables['params'])
    leaves = jax.tree_util.tree_leaves(grads)
    self.assertTrue(all(np.all(np.isfinite(g)) for g in leaves))
    self.assertGreater(sum(float(jnp.abs(g).sum()) for g in leaves), 0.0)

  @parameterized.named_parameters(
      ('aps_odd_grid', dict(), 9, ['x', 'divisible by 4', '9']),
      ('centred_even_grid', dict(downsampling='centred'), 8,
       ['x', 'H - 1', 'divisible by 4', "'centred'"]),
      ('downsampling_name', dict(downsampling='blur'), 8,
       ['downsampling', "'aps'", "'centred'"]),
      ('continuous_group', dict(group='SO2(3)'), 8, ['group', 'finite']),
      ('group_name', dict(group='X4'), 8, ['group']),
      ('even_kernel', dict(kernel_size=4), 8, ['kernel_size', 'odd']),
      ('kernel_too_small', dict(kernel_size=1), 8, ['kernel_size']),
      ('widths_empty', dict(widths=()), 8, ['widths', 'non-empty']),
      ('widths_entry', dict(widths=(2, 0)), 8, ['widths entries']),
      ('out_channels', dict(out_channels=0), 8, ['out_channels']),
      ('filter_size', dict(filter_size=9), 8, ['filter_size']),
      ('activation', dict(activation='relu2'), 8, ['activation', "'elu'"]))
  def test_bad_options_raise_naming_the_argument(self, options, size, words):
    model = steerable_unet.SteerableUNet(**options)
    x = jax.ShapeDtypeStruct((1, size, size, 1), np.float32)
    with self.assertRaises(ValueError) as raised:
      jax.eval_shape(model.init, jax.random.PRNGKey(0), x)
    for word in words:
      self.assertIn(word, str(raised.exception))


if __name__ == '__main__':
  absltest.main()
