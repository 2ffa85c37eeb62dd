"""Whole-model export (layers/steerable/model_export.py).

Every registered steerable model (tiny widths, 2 examples of 8x8 or 9x9)
with random running statistics, norm parameters and biases, so each fold
really moves numbers: the exported model's output equals the model's in
eval mode to the measured tolerance, its variables hold no basis
coefficients, and the norms are folded where that is exact. User models: an
EquivariantSequential with inner, norm and gnorm batch norms (folded, left
as a per-channel affine, left as a channel mix), and a residual block whose
conv output is used twice (so its norm must not be folded). Negative
controls: a perturbed fold and training mode. Bad inputs name what is
wrong.
"""

import functools
from typing import Any

from absl.testing import absltest
from absl.testing import parameterized
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

import groups
import models
from layers import steerable
from layers.steerable import model_export
from models import registry
from models import steerable as steerable_models
from models import steerable_unet

_TINY_CNN = dict(fields=(1, 1, 1, 1, 1, 1), head_width=8)
# name -> (build_model options, grid side). Every registered steerable model
# (test_every_registered_steerable_model_is_covered) and each U-Net
# downsampling (centred: the transposed conv).
CASES = {
    'steerable_cnn': (dict(group='SO2(2)', nonlinearity='norm', **_TINY_CNN),
                      8),
    'c8cnn': (_TINY_CNN, 8),
    'c16cnn': (_TINY_CNN, 8),
    'd16cnn': (_TINY_CNN, 8),
    'd16c16cnn': (_TINY_CNN, 8),
    'so2cnn': (_TINY_CNN, 8),
    'o2cnn': (_TINY_CNN, 8),
    'steerable_unet': (dict(widths=(1, 2), group='C4'), 8),
    'steerable_unet_centred': (dict(widths=(1, 2), group='D4',
                                    downsampling='centred'), 9),
    'steerable_unet_strided': (dict(widths=(1, 2), group='C4',
                                    downsampling='strided'), 8),
}
# Measured max |exported - model| / max |model| (float32, this file's draws,
# 2-core AVX-512 EPYC, oneDNN conv backend): steerable_cnn (SO(2), norm)
# 2.4e-7, c8cnn 1.9e-7, c16cnn 1.3e-7, d16cnn 1.5e-7, d16c16cnn 5.6e-7,
# so2cnn 9.9e-8, o2cnn 2.2e-7, the three U-Nets 0 (no norms: the same
# kernel, the same conv), the user EquivariantSequential with gnorm 7.2e-7.
# The bound is ~7x the largest.
TOLERANCE = 5e-6


def _input(size: int, seed: int = 0) -> np.ndarray:
  return np.random.default_rng(seed).standard_normal(
      (2, size, size, 1)).astype(np.float32)


def _randomised(variables: Any, seed: int, batch_stats: Any = None) -> Any:
  """Random running statistics, norm scales and biases (else init's mean 0,
  var 1, scale 1, bias 0 make most folds the identity).

  With ``batch_stats`` (a batch's own statistics) the running ones are
  those, perturbed (variance x0.7..1.4, mean +-0.3 std), so the tiny deep
  models stay alive (their outputs depend on the input); else drawn.
  """
  rng = np.random.default_rng(seed)
  if batch_stats is not None:
    variables = {**variables, 'batch_stats': batch_stats}

  def draw(path, leaf):
    name = path[-1].key
    if name == 'var':
      base = np.asarray(leaf) if batch_stats is not None else 1.0
      return jnp.asarray(base * rng.uniform(0.7, 1.4, leaf.shape),
                         leaf.dtype)
    if name == 'mean' and batch_stats is not None:
      return leaf + jnp.asarray(rng.normal(0.0, 0.3, leaf.shape),
                                leaf.dtype)
    if name == 'scale':
      return jnp.asarray(rng.uniform(0.5, 2.0, leaf.shape), leaf.dtype)
    if name in ('mean', 'bias'):
      return jnp.asarray(rng.normal(0.0, 0.5, leaf.shape), leaf.dtype)
    return leaf
  return jax.tree_util.tree_map_with_path(draw, variables)


def _batch_stats(model, variables, x) -> Any:
  """The statistics of batch ``x`` at every norm (momentum 0)."""
  if 'batch_stats' not in variables:
    return None
  model = model.clone(bn_momentum=0.0)
  _, updated = model.apply(variables, x, train=True, mutable=['batch_stats'])
  return updated['batch_stats']


def _relative_error(actual, expected) -> float:
  expected = np.asarray(expected)
  return float(np.max(np.abs(np.asarray(actual) - expected)) /
               np.max(np.abs(expected)))


def _eval_kwargs(model) -> dict[str, Any]:
  return ({'train': False} if isinstance(model, steerable_models.SteerableCNN)
          else {})


@functools.lru_cache(maxsize=None)
def _exported(case: str):
  """``(model, variables, x, exported, plain, model out, exported out)``,
  built and compiled once per case for every test that uses it."""
  options, size = CASES[case]
  model = models.build_model(case.split('_centred')[0].split('_strided')[0],
                             **options)
  x = _input(size)
  kwargs = _eval_kwargs(model)
  variables = model.init(jax.random.PRNGKey(0), x, **kwargs)
  variables = _randomised(variables, 1, _batch_stats(model, variables, x))
  exported, plain = model_export.export_model(model, variables, x, **kwargs)
  expected = jax.jit(functools.partial(model.apply, **kwargs))(variables, x)
  actual = jax.jit(functools.partial(exported.apply, **kwargs))(plain, x)
  return model, variables, x, exported, plain, expected, actual


def _typed_sequential(norms_after_pool: bool = True):
  c4 = groups.Cyclic(4)
  scalar = groups.FieldType(c4, [c4.trivial_representation])
  regular = groups.FieldType(c4, 2 * [c4.regular_representation])
  layers = [steerable.SteerableConv(scalar, regular, 3),
            steerable.GNormBatchNorm(regular, use_running_average=True),
            steerable.PointwiseNonlinearity(regular, 'elu')]
  if norms_after_pool:
    layers += [
        steerable.NormBatchNorm(regular, use_running_average=True),
        steerable.GNormBatchNorm(regular, use_running_average=True)]
  layers += [steerable.SteerableConv(regular, regular, 3),
             steerable.InnerBatchNorm(regular, use_running_average=True)]
  return steerable.EquivariantSequential(tuple(layers)), scalar, regular


class _Residual(nn.Module):
  """conv -> inner batch norm, plus the conv's output again: the norm must
  stay a separate op (folding it would change the skip)."""
  in_type: Any
  out_type: Any

  @nn.compact
  def __call__(self, x):
    y = steerable.SteerableConv(self.in_type, self.out_type, 3,
                                name='conv')(x)
    z = steerable.InnerBatchNorm(self.out_type, use_running_average=True,
                                 name='bn')(y)
    return z + y


class _CoefficientLayer(steerable.TypedModule, nn.Module):
  """A typed module with basis coefficients export_model has no form for."""
  in_type: Any

  @property
  def out_type(self):
    return self.in_type

  @nn.compact
  def __call__(self, x):
    return x * self.param('weights', nn.initializers.ones_init(), (1,))


class RegisteredModelsTest(parameterized.TestCase):

  def test_every_registered_steerable_model_is_covered(self):
    steerable_names = {
        name for name, factory in registry.MODELS.items()
        if issubclass(registry._module_class(factory),  # pylint: disable=protected-access
                      (steerable_models.SteerableCNN,
                       steerable_unet.SteerableUNet))}
    self.assertContainsSubset(steerable_names, set(CASES))

  @parameterized.named_parameters((case, case) for case in CASES)
  def test_exported_output_equals_the_model_in_eval_mode(self, case):
    *_, expected, actual = _exported(case)
    self.assertEqual(actual.shape, expected.shape)
    # The model is alive (its output depends on the input), so equal
    # outputs say something.
    self.assertGreater(_relative_error(expected[0], expected[1]), 5e-3)
    self.assertLess(_relative_error(actual, expected), TOLERANCE)

  @parameterized.named_parameters((case, case) for case in CASES)
  def test_variables_hold_plain_kernels_only(self, case):
    _, variables, _, exported, plain, *_ = _exported(case)
    self.assertNotEmpty(model_export.steerable_leaves(variables))
    self.assertEqual(model_export.steerable_leaves(plain), [])
    kinds = exported.kinds()
    for path, kind in kinds.items():
      entry = plain['params']
      for name in path.split('/'):
        entry = entry[name] if kind != 'folded' else entry.get(name, {})
      if kind == 'conv':
        self.assertEqual(set(entry), {'kernel', 'bias'})
        self.assertEqual(entry['kernel'].ndim, 4)
        self.assertEqual(entry['bias'].shape, entry['kernel'].shape[-1:])
      elif kind == 'folded':
        self.assertEqual(entry, {})
    if case.startswith('steerable_unet'):
      self.assertEqual(set(kinds.values()), {'conv'})
    else:   # conv -> batch norm in every block: all six folded
      self.assertEqual(list(kinds.values()), 6 * ['conv', 'folded'])
      self.assertNotIn('batch_stats', plain)

  def test_a_perturbed_fold_differs(self):
    # Negative control: conv1's kernel without its batch norm folded in.
    model, variables, x, exported, plain, expected, _ = _exported('c8cnn')
    unfolded = dict(plain['params'])
    unfolded['conv1'] = steerable.SteerableConv(
        groups.FieldType(groups.Cyclic(8),
                         [groups.Cyclic(8).trivial_representation]),
        steerable_models.hidden_type('C8', 1), 5).export(
            variables['params']['conv1'])
    wrong = exported.apply({**plain, 'params': unfolded}, x, train=False)
    self.assertGreater(_relative_error(wrong, expected), 100 * TOLERANCE)
    del model

  def test_train_mode_is_refused(self):
    model, variables, x, *_ = _exported('c8cnn')
    with self.assertRaisesRegex(ValueError, r"batch norm 'bn1'.*training"):
      model_export.export_model(model, variables, x, train=True)


class UserModelsTest(absltest.TestCase):

  def test_sequential_folds_inner_and_gnorm_and_keeps_the_others(self):
    model, _, _ = _typed_sequential()
    x = _input(7)
    variables = _randomised(model.init(jax.random.PRNGKey(0), x), 2)
    exported, plain = model_export.export_model(model, variables, x)
    self.assertEqual(exported.kinds(), {
        'layers_0': 'conv', 'layers_1': 'folded', 'layers_3': 'affine',
        'layers_4': 'channel_mix', 'layers_5': 'conv', 'layers_6': 'folded'})
    self.assertEqual(set(plain['params']['layers_3']), {'scale', 'bias'})
    self.assertEqual(plain['params']['layers_4']['kernel'].shape, (8, 8))
    self.assertNotIn('batch_stats', plain)
    self.assertLess(_relative_error(exported.apply(plain, x),
                                    model.apply(variables, x)), TOLERANCE)

  def test_a_conv_output_used_twice_keeps_its_norm(self):
    _, scalar, regular = _typed_sequential()
    model = _Residual(scalar, regular)
    x = _input(7)
    variables = _randomised(model.init(jax.random.PRNGKey(0), x), 3)
    exported, plain = model_export.export_model(model, variables, x)
    self.assertEqual(exported.kinds(), {'conv': 'conv', 'bn': 'affine'})
    expected = model.apply(variables, x)
    self.assertLess(_relative_error(exported.apply(plain, x), expected),
                    TOLERANCE)
    # Folding it anyway (the conv's kernel times the norm) is wrong here.
    matrix, offset = model_export.norm_affine(
        steerable.InnerBatchNorm(regular, use_running_average=True),
        variables['params']['bn'], variables['batch_stats']['bn'])
    folded = {'kernel': np.einsum('hwio,oc->hwic',
                                  plain['params']['conv']['kernel'], matrix),
              'bias': plain['params']['conv']['bias'] @ matrix + offset}
    wrong = steerable.exported_conv2d(x, folded, padding='zeros') * 2
    self.assertGreater(_relative_error(wrong, expected), 100 * TOLERANCE)


class BadInputTest(absltest.TestCase):

  def test_not_a_module(self):
    with self.assertRaisesRegex(ValueError, 'model must be a flax'):
      model_export.export_model(lambda x: x, {'params': {}}, _input(8))

  def test_variables_without_params(self):
    model, _, x, *_ = _exported('c8cnn')
    with self.assertRaisesRegex(ValueError, "variables must be .*'params'"):
      model_export.export_model(model, {'batch_stats': {}}, x, train=False)

  def test_no_example_input(self):
    model, variables, *_ = _exported('c8cnn')
    with self.assertRaisesRegex(ValueError, 'an example input must be given'):
      model_export.export_model(model, variables, train=False)

  def test_variables_of_another_model(self):
    model, _, x, *_ = _exported('c8cnn')
    _, other, *_ = _exported('c16cnn')
    with self.assertRaisesRegex(ValueError,
                                'cannot export SteerableCNN: applying it'):
      model_export.export_model(model, other, x, train=False)

  def test_missing_batch_stats(self):
    model, variables, x, *_ = _exported('c8cnn')
    with self.assertRaisesRegex(ValueError, "applying it .*'batch_stats'"):
      model_export.export_model(model, {'params': variables['params']}, x,
                                train=False)

  def test_a_typed_module_with_coefficients_but_no_plain_form(self):
    _, scalar, regular = _typed_sequential()
    model = steerable.EquivariantSequential(
        (steerable.SteerableConv(scalar, regular, 3),
         _CoefficientLayer(regular)))
    x = _input(7)
    variables = model.init(jax.random.PRNGKey(0), x)
    with self.assertRaisesRegex(
        ValueError, "module 'layers_1' \\(_CoefficientLayer\\).*'weights'"):
      model_export.export_model(model, variables, x)

  def test_a_model_without_steerable_convs(self):
    _, _, regular = _typed_sequential()
    model = steerable.EquivariantSequential(
        (steerable.PointwiseNonlinearity(regular, 'elu'),))
    x = np.ones((1, 5, 5, regular.size), np.float32)
    with self.assertRaisesRegex(ValueError, 'calls no steerable conv'):
      model_export.export_model(model, {'params': {}}, x)

  def test_a_method_that_is_not_a_name(self):
    model, variables, x, *_ = _exported('c8cnn')
    with self.assertRaisesRegex(ValueError, 'method must be a method name'):
      model_export.export_model(model, variables, x, method=print,
                                train=False)


if __name__ == '__main__':
  absltest.main()
