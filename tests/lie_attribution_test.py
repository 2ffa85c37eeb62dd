"""Layer-wise Lie derivatives (experiments.lie_attribution) of any flax model.

The terms must add up to the end-to-end Lie derivative computed separately
by groups.lie; exactly equivariant layers must get zero terms; models the
attribution has never seen (a home-made one with functional ops, typed
steerable fields with fibre generators, an H-Net's complex streams) work
without edits.
"""

from absl.testing import absltest
from absl.testing import parameterized
import flax.linen as nn
import jax
import numpy as np

import groups
from groups import lie
from experiments import lie_attribution
from layers import steerable
import models

X = np.random.default_rng(0).standard_normal((3, 16, 16, 1)).astype(
    np.float32)
# Terms add up to float32 rounding of probabilities' derivatives (~1e-3).
ADD_UP = 1e-6


def _init(model, x=X):
  return model.init(jax.random.key(0), x)


def _check_adds_up(test, attribution, model, variables, generator):
  total = lie.lie_derivative(
      lambda v: jax.nn.softmax(model.apply(variables, v, train=False)), X,
      lie.flow(generator) if isinstance(generator, str) else generator)
  np.testing.assert_allclose(attribution.total, total, atol=ADD_UP)
  test.assertLess(attribution.residual(), ADD_UP)
  test.assertGreater(attribution.end_to_end(), 0.0)


class CNNTest(parameterized.TestCase):

  @parameterized.product(downsampling=('max', 'max_blur', 'aps'),
                         generator=('translate_x', 'rotate'))
  def test_terms_add_up(self, downsampling, generator):
    model = models.build_model('cnn', widths=(4, 6), downsampling=downsampling)
    variables = _init(model)
    attribution = lie_attribution.attribute(model, variables, X, generator)
    _check_adds_up(self, attribution, model, variables, generator)
    self.assertEqual(attribution.names[-1], 'output')
    self.assertIn('down0', attribution.names)

  def test_circular_convs_have_zero_translation_terms(self):
    # Stride-1 circular convs and the global average are exactly locally
    # translation-equivariant / invariant; only the ReLUs break it.
    model = models.build_model('cnn', widths=(4, 6), downsampling='none')
    attribution = lie_attribution.attribute(model, _init(model), X,
                                            'translate_x')
    lee = dict(zip(attribution.names, attribution.lee()))
    for name in ('conv0', 'conv1', 'pool', 'head'):
      self.assertLess(lee[name], 1e-12 * attribution.end_to_end(), name)
    self.assertGreater(lee['relu0'], 0.1 * attribution.end_to_end())
    self.assertEqual({row['term'] for row in attribution.rows()},
                     {'relu0', 'relu1'})

  def test_fc_head_breaks_where_global_pooling_does_not(self):
    fc = models.build_model('cnn', widths=(4, 6), downsampling='none',
                            head='fc')
    attribution = lie_attribution.attribute(fc, _init(fc), X, 'translate_x')
    shares = {row['term']: row['share'] for row in attribution.rows()}
    # The flatten of the FC head: 20 % of the sum at initialisation (the
    # global average of test_circular_convs... has exactly none).
    self.assertGreater(shares['pool'], 0.1)


class HomeMade(nn.Module):
  """A model attribution has never seen: ops between modules are functions."""

  @nn.compact
  def __call__(self, x, train=False):
    del train
    x = nn.Conv(4, (3, 3), name='first')(x)
    x = nn.relu(x)[:, ::2, ::2]             # a gap: ReLU then subsampling
    x = nn.Conv(4, (3, 3), name='second')(x)
    return nn.Dense(5, name='dense')(x.mean(axis=(1, 2)))


class AnyModelTest(absltest.TestCase):

  def test_functional_ops_form_gaps(self):
    model = HomeMade()
    variables = _init(model)
    attribution = lie_attribution.attribute(model, variables, X, 'scale')
    _check_adds_up(self, attribution, model, variables, 'scale')
    self.assertEqual(attribution.names,
                     ('before first', 'first', 'before second', 'second',
                      'before dense', 'dense', 'output'))
    self.assertEqual(attribution.kinds[2], 'gap')
    lee = dict(zip(attribution.names, attribution.lee()))
    self.assertEqual(lee['before first'], 0.0)   # nothing before it
    self.assertGreater(lee['before second'], 0.0)

  def test_logits_output(self):
    model = HomeMade()
    variables = _init(model)
    attribution = lie_attribution.attribute(model, variables, X, 'shear_x',
                                            output='logits')
    total = lie.lie_derivative(lambda v: model.apply(variables, v), X,
                               lie.flow('shear_x'))
    np.testing.assert_allclose(attribution.contributions.sum(0), total,
                               atol=1e-5)

  def test_steerable_fields_turn_their_fibres(self):
    # 1x1 steerable convs between SO(2) irreps are exactly locally
    # rotation-equivariant once the fibre generators are used; the norm
    # nonlinearity (pointwise, nonlinear) is not.
    so2 = groups.SO2(2)
    scalars = groups.FieldType(so2, [so2.irrep(0)])
    irreps = groups.FieldType(so2, [so2.irrep(0), so2.irrep(1), so2.irrep(2)])
    model = _Typed(scalars, irreps)
    variables = _init(model)
    attribution = lie_attribution.attribute(model, variables, X, 'rotate')
    _check_adds_up(self, attribution, model, variables, 'rotate')
    lee = dict(zip(attribution.names, attribution.lee()))
    self.assertLess(lee['pointwise'], 1e-10 * attribution.end_to_end())
    self.assertGreater(lee['norm'], 1e-6 * attribution.end_to_end())

  def test_valid_convs_join_the_gap_under_translation(self):
    # P4CNN's 'valid' convs shrink 28 -> 26 -> ...: no whole-number stride,
    # so no translation comparison point there; the terms still add up.
    x = np.random.default_rng(1).standard_normal((2, 28, 28, 1)).astype(
        np.float32)
    model = models.build_model('p4cnn', channels=2)
    variables = model.init(jax.random.key(0), x)
    attribution = lie_attribution.attribute(model, variables, x,
                                            'translate_x')
    self.assertNotIn('gconv2', attribution.names)
    self.assertLess(attribution.residual(), ADD_UP)

  def test_hnet_streams(self):
    model = models.build_model('hnet', widths=(2, 2), downsample_after=(),
                               filter_size=3, n_rings=2)
    variables = _init(model)
    attribution = lie_attribution.attribute(model, variables, X, 'rotate')
    _check_adds_up(self, attribution, model, variables, 'rotate')


class _Typed(nn.Module):
  """scalars -> 3x3 conv -> 1x1 conv -> norm nonlinearity -> invariants."""
  scalars: groups.FieldType
  irreps: groups.FieldType

  @nn.compact
  def __call__(self, x, train=False):
    del train
    x = steerable.SteerableConv(self.scalars, self.irreps, 3, name='conv')(x)
    x = steerable.SteerableConv(self.irreps, self.irreps, 1, name='pointwise')(x)
    x = steerable.NormNonlinearity(self.irreps, name='norm')(x)
    x = steerable.InvariantReadout(self.irreps, name='readout')(x)
    return nn.Dense(3, name='dense')(x)


class BadInputTest(absltest.TestCase):

  def test_bad_arguments_name_themselves(self):
    model = HomeMade()
    variables = _init(model)
    for call, regex in (
        (lambda: lie_attribution.attribute(model, variables, X, 'spin'),
         r'^generator must be one of'),
        (lambda: lie_attribution.attribute(model, variables, X, 'rotate',
                                           output='probabilities'),
         r'^output must be one of'),
        (lambda: lie_attribution.attribute(model, variables, X[0], 'rotate'),
         r'^x must'),
        (lambda: lie_attribution.attribute('cnn', variables, X, 'rotate'),
         r'^model must be a flax.linen.Module'),
    ):
      with self.assertRaisesRegex(ValueError, regex):
        call()


if __name__ == '__main__':
  absltest.main()
