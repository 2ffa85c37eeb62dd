"""Typed equivariant modules: types chain, fail at construction, self-check.

Also: the per-layer measurement (experiments.layer_equivariance) on a model
defined only here, which it has never seen, and steerable models configured
by group name.
"""

import os
import shutil
import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

import experiments
from experiments import layer_equivariance
from experiments.configs import steerable as steerable_config
import groups
from layers import steerable
import models

_EXACT = 1e-5
C4 = groups.Cyclic(4)
D4 = groups.Dihedral(4)
SO2 = groups.SO2(2)
SCALARS_C4 = groups.FieldType(C4, [C4.trivial_representation])
REGULAR_C4 = groups.FieldType(C4, 2 * [C4.regular_representation])
TRIVIAL_C4_8 = groups.FieldType(C4, 8 * [C4.trivial_representation])
IRREPS_SO2 = groups.FieldType(SO2, [SO2.irrep(1), SO2.irrep(2)])


def _x(channels, size=9, batch=2, seed=0):
  return np.random.default_rng(seed).standard_normal(
      (batch, size, size, channels)).astype(np.float32)


class ChainTest(absltest.TestCase):

  def test_types_chain(self):
    net = steerable.EquivariantSequential((
        steerable.SteerableConv(SCALARS_C4, REGULAR_C4, 3),
        steerable.InnerBatchNorm(REGULAR_C4, use_running_average=True),
        steerable.PointwiseNonlinearity(REGULAR_C4, 'elu'),
        steerable.GroupPool(REGULAR_C4)))
    self.assertEqual(net.in_type, SCALARS_C4)
    self.assertEqual(net.out_type, steerable.group_pool_type(REGULAR_C4))

  def test_same_width_wrong_type_fails_at_construction_naming_both(self):
    # 2 regular C4 fields and 8 scalars are both 8 channels wide.
    self.assertEqual(REGULAR_C4.size, TRIVIAL_C4_8.size)
    with self.assertRaisesRegex(ValueError, 'layer 1 .*InnerBatchNorm.*'
                                'in_type.*8xtrivial.*layer 0 .*SteerableConv'
                                '.*out_type.*2xregular.*same width'):
      steerable.EquivariantSequential((
          steerable.SteerableConv(SCALARS_C4, REGULAR_C4, 3),
          steerable.InnerBatchNorm(TRIVIAL_C4_8)))

  def test_other_group_fails(self):
    d4_type = groups.FieldType(D4, 2 * [D4.regular_representation])
    with self.assertRaisesRegex(ValueError, 'in_type.*D4.*out_type.*C4'):
      steerable.check_chain([steerable.SteerableConv(SCALARS_C4, REGULAR_C4, 3),
                             steerable.InnerBatchNorm(d4_type)])

  def test_untyped_layer_is_refused(self):
    with self.assertRaisesRegex(ValueError, r'layers\[1\] must be a typed'):
      steerable.check_chain([steerable.SteerableConv(SCALARS_C4, REGULAR_C4, 3),
                             nn.Dense(3)])

  def test_modules_refuse_fields_they_cannot_act_on_when_built(self):
    for build in (lambda: steerable.PointwiseNonlinearity(IRREPS_SO2),
                  lambda: steerable.InnerBatchNorm(IRREPS_SO2),
                  lambda: steerable.PointwiseMaxPool(IRREPS_SO2),
                  lambda: steerable.GroupPool(IRREPS_SO2)):
      with self.assertRaisesRegex(ValueError, 'in_type must have only '
                                  'regular, quotient or trivial fields'):
        build()
    with self.assertRaisesRegex(ValueError, 'in_type must be a gated input'):
      steerable.GatedNonlinearity(IRREPS_SO2)
    with self.assertRaisesRegex(ValueError, 'subgroup must be a group name'):
      steerable.Restrict(REGULAR_C4, 'X7')
    with self.assertRaisesRegex(ValueError, 'subgroup must be a subgroup'):
      steerable.Restrict(REGULAR_C4, 'C3')
    with self.assertRaisesRegex(ValueError, 'in_type must be a groups.Field'):
      steerable.NormNonlinearity('regular')


class SelfCheckTest(parameterized.TestCase):
  """Every typed module measures its own equivariance; exact cases are."""

  @parameterized.named_parameters(
      ('conv', lambda: steerable.SteerableConv(SCALARS_C4, REGULAR_C4, 3),
       SCALARS_C4),
      ('gated', lambda: steerable.GatedNonlinearity(
          steerable.gated_input_type(IRREPS_SO2)),
       steerable.gated_input_type(IRREPS_SO2)),
      ('norm_nonlinearity', lambda: steerable.NormNonlinearity(IRREPS_SO2),
       IRREPS_SO2),
      ('norm_max_pool', lambda: steerable.NormMaxPool(IRREPS_SO2, window=3,
                                                      stride=3), IRREPS_SO2),
      ('restrict_d4_c4', lambda: steerable.Restrict(
          groups.FieldType(D4, [D4.regular_representation]), 'C4'),
       groups.FieldType(D4, [D4.regular_representation])),
      ('readout', lambda: steerable.InvariantReadout(REGULAR_C4), REGULAR_C4),
      ('sequential', lambda: steerable.EquivariantSequential((
          steerable.SteerableConv(SCALARS_C4, REGULAR_C4, 3),
          steerable.FieldGroupNorm(REGULAR_C4),
          steerable.PointwiseNonlinearity(REGULAR_C4, 'relu'),
          steerable.PointwiseBlurPool(REGULAR_C4, stride=2, padding='zeros'),
          steerable.Upsample(REGULAR_C4, factor=2, method='nearest'))),
       SCALARS_C4),
  )
  def test_exact_at_quarter_turns(self, build, in_type):
    module = build()
    x = _x(in_type.size)
    variables = module.init(jax.random.key(0), x)
    errors = module.equivariance_errors(variables, x)
    self.assertNotEmpty(errors)
    for element, error in errors.items():
      self.assertLess(error, _EXACT, element)

  def test_negative_control_pointwise_on_irreps_breaks(self):
    # The function with force=True, wrapped as if it were typed: not
    # equivariant on irrep fields (a quarter turn mixes their channels).
    def forced(x):
      return steerable.pointwise_nonlinearity(x, field_type=IRREPS_SO2,
                                              activation='relu', force=True)
    x = _x(IRREPS_SO2.size)
    g = groups.rotation_element(SO2, 90.0)
    error = groups.relative_error(forced(IRREPS_SO2.transform(g)(x)),
                                  IRREPS_SO2.transform(g)(forced(x)))
    self.assertGreater(float(np.max(error)), 0.1)


class _UserModel(nn.Module):
  """A model only this file knows: typed layers, a plain head."""

  @nn.compact
  def __call__(self, x, *, train=False):
    hidden = groups.FieldType(D4, 2 * [D4.regular_representation])
    scalars = groups.FieldType(D4, x.shape[-1] * [D4.trivial_representation])
    # Built here, the layers are this model's submodules, named as given.
    y = steerable.EquivariantSequential((
        steerable.SteerableConv(scalars, hidden, 3, name='conv'),
        steerable.InnerBatchNorm(hidden, use_running_average=not train,
                                 name='bn'),
        steerable.PointwiseNonlinearity(hidden, 'elu', name='act')))(x)
    y = steerable.InvariantReadout(hidden, name='readout')(y)
    return nn.Dense(3, name='head')(y)


class UnseenModelTest(absltest.TestCase):

  def test_layer_equivariance_on_a_model_it_has_never_seen(self):
    model = _UserModel()
    x = _x(1, size=9, batch=2, seed=3)
    variables = model.init(jax.random.key(1), x)
    actions = layer_equivariance.layer_actions(model, 90, variables=variables,
                                               x=x)
    self.assertEqual(list(actions), ['conv', 'bn', 'act', 'readout',
                                     '__call__'])
    self.assertIsInstance(actions['conv'], groups.FieldTransform)
    errors = layer_equivariance.layer_errors(model, variables, x,
                                             groups.Rot90(1), actions)
    for layer in actions:
      self.assertLess(errors[layer], _EXACT, layer)
    self.assertTrue(np.isnan(errors['head']))   # no action known: NaN
    # Negative control: the plain rotation (no channel permutation) is the
    # wrong action on regular fields and must show.
    wrong = {**actions, 'conv': groups.Rot90(1)}
    errors = layer_equivariance.layer_errors(model, variables, x,
                                             groups.Rot90(1), wrong)
    self.assertGreater(errors['conv'], 0.1)
    # 45 degrees: D4 has no such element.
    at_45 = layer_equivariance.layer_actions(model, 45, variables=variables,
                                             x=x)
    self.assertIsNone(at_45['conv'])

  def test_without_variables_only_the_output(self):
    self.assertEqual(list(layer_equivariance.layer_actions(_UserModel(), 90)),
                     ['__call__'])


class GroupByNameTest(absltest.TestCase):

  def test_any_group_is_one_option(self):
    x = jnp.asarray(_x(1, size=8, batch=2, seed=5))
    for group, nonlinearity in (('C12', 'elu'), ('D6', 'elu'),
                                ('SO2(2)', 'gated')):
      model = models.build_model('steerable_cnn', group=group,
                                 fields=(1, 1, 1, 1, 1, 1), kernel_size=3,
                                 head_width=4)
      self.assertEqual(model.layer_actions(0.0)['nonlin1'].field_type.group,
                       groups.group_by_name(group))
      self.assertEqual(model._nonlinearity(groups.group_by_name(group)),
                       nonlinearity)
    # D6 turns by multiples of 60 degrees: no action at 90; its mirror acts
    # exactly on the grid, so the logits are exactly mirror-invariant.
    model = models.build_model('steerable_cnn', group='D6',
                               fields=(1, 1, 1, 1, 1, 1), kernel_size=3,
                               head_width=4)
    self.assertIsNone(model.layer_actions(90.0)['conv1'])
    variables = model.init(jax.random.key(0), x)
    logits = model.apply(variables, x)
    mirrored = model.apply(variables, groups.Flip()(x))
    self.assertLess(float(np.max(groups.relative_error(mirrored, logits))),
                    _EXACT)

  def test_model_actions_match_the_traced_typed_layers(self):
    # What the model says about itself is what a trace of it finds.
    model = models.build_model('d16c16cnn', fields=(1, 1, 1, 1, 1, 1),
                               kernel_size=3, head_width=4)
    x = jnp.zeros((1, 8, 8, 1))
    variables = jax.eval_shape(model.init, jax.random.key(0), x)
    traced = steerable.typed_layers(model, variables, x, train=False)
    said = model.layer_actions(90.0)
    self.assertEqual(list(traced), list(said)[:len(traced)])
    self.assertEqual(list(said)[len(traced):], model.head_names())
    for name, module in traced.items():
      self.assertEqual(repr(said[name]), repr(
          steerable.rotation_actions({name: module}, 90.0)[name]))

  def test_config_group_flag_trains_any_group(self):
    # What --config.model.group=D6 does: the tiny config, one field per
    # block, four steps on offline digits.
    config = steerable_config.get_config('tiny')
    config.model.group = 'D6'
    workdir = tempfile.mkdtemp()
    self.addCleanup(shutil.rmtree, workdir, ignore_errors=True)
    experiments.run(config, os.path.join(workdir, 'run'))
    with open(os.path.join(workdir, 'run', 'config.json')) as f:
      self.assertIn('"group": "D6"', f.read())

  def test_presets_are_aliases(self):
    self.assertEqual(models.build_model('c16cnn').group, 'C16')
    self.assertEqual(models.build_model('d16c16cnn').subgroup, 'C16')

  def test_bad_group_name(self):
    x = jnp.zeros((1, 8, 8, 1))
    for group, message in (('C0', 'group must be a group name'),
                           (None, 'group must be given'),
                           ('SO2', 'group must be a group name')):
      with self.assertRaisesRegex(ValueError, message):
        models.build_model('steerable_cnn', group=group).init(
            jax.random.key(0), x)


if __name__ == '__main__':
  absltest.main()
