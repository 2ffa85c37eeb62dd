"""Batch norms' hand-written derivatives equal JAX's chain rule.

layers/batch_statistics.py (and the norm batch norm's own rule in
layers/steerable/norm.py) write out the training-mode gradient of a batch
norm. Each module here is differentiated in training mode, its batch
statistics and running averages included, and compared with ``jax.grad``
of the same step built from the public functions (moments, then the
normalisation with those moments): values and gradients with respect to the
input and the parameters agree to float32 rounding.
"""

from absl.testing import absltest
from absl.testing import parameterized
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

import groups
from layers import batch_statistics
from layers import group_conv
from layers import harmonic
from layers import steerable

C8 = groups.Cyclic(8)
D4 = groups.Dihedral(4)
SO2 = groups.SO2(3)
# Irrep blocks mixing trivial and other channels (C8 / D4 regular fields,
# whose change of basis is not the identity), irrep fields alone (SO(2)).
MIXED_C8 = groups.FieldType(C8, [C8.regular_representation, C8.irrep(1),
                                 C8.trivial_representation, C8.irrep(4)])
MIXED_D4 = groups.FieldType(D4, [
    D4.regular_representation, D4.quotient_representation(groups.Cyclic(4)),
    D4.trivial_representation])
IRREPS_SO2 = groups.FieldType(SO2, [SO2.trivial_representation, SO2.irrep(1),
                                    SO2.irrep(2)])
REGULAR_C8 = groups.FieldType(C8, [C8.regular_representation] * 3)
MOMENTUM = 0.9


def _random(shape, seed, dtype=np.float32):
  rng = np.random.default_rng(seed)
  if np.issubdtype(dtype, np.complexfloating):
    return jnp.asarray(rng.normal(size=shape) + 1j * rng.normal(size=shape),
                       dtype)
  return jnp.asarray(rng.normal(size=shape) * 2 + 0.5, dtype)


def _functional(value, seed):
  """A fixed random linear functional of ``value`` (real part)."""
  weights = _random(value.shape, seed, value.dtype)
  return jnp.sum(jnp.real(value * jnp.conj(weights)))


def _assert_close(actual, expected):
  for a, e in zip(jax.tree.leaves(actual), jax.tree.leaves(expected)):
    scale = float(jnp.max(jnp.abs(e)))
    np.testing.assert_allclose(np.asarray(a), np.asarray(e), rtol=0,
                               atol=2e-6 * max(scale, 1.0))


def _compare(step, reference, x, params):
  """``step`` and ``reference``: ``(x, params) -> (out, running mean,
  running var)``; their values, the gradients of a linear functional of
  all three outputs with respect to ``x`` and ``params`` (reverse mode),
  and the three outputs' tangents along a random direction (forward
  mode)."""
  def loss(fn):
    def value(x, params):
      out, mean, var = fn(x, params)
      return (_functional(out, 1) + _functional(mean, 2) +
              _functional(var, 3))
    return value
  tangents = (_random(x.shape, 5, x.dtype),
              jax.tree.map(lambda p: _random(p.shape, 6), params))

  def both(fn):  # one compiled program per side: values, grad, jvp
    return jax.jit(lambda x, params: (
        fn(x, params), jax.grad(loss(fn), argnums=(0, 1))(x, params),
        jax.jvp(fn, (x, params), tangents)[1]))
  _assert_close(both(step)(x, params), both(reference)(x, params))


def _module_step(module, stats):
  def step(x, params):
    out, updates = module.apply({'params': params, 'batch_stats': stats}, x,
                                use_running_average=False,
                                mutable=['batch_stats'])
    return out, updates['batch_stats']['mean'], updates['batch_stats']['var']
  return step


def _running(stats, mean, var):
  return (MOMENTUM * stats['mean'] + (1 - MOMENTUM) * mean,
          MOMENTUM * stats['var'] + (1 - MOMENTUM) * var)


def _init(module, x):
  variables = module.init(jax.random.key(0), x, use_running_average=False)
  params = jax.tree.map(lambda p: p + _random(p.shape, 7), variables['params'])
  stats = jax.tree.map(lambda s: s + 0.25, variables['batch_stats'])
  return params, stats


class NormaliseTest(parameterized.TestCase):
  """The shared core against ``jax.grad`` of its formula."""

  @parameterized.parameters(((0, 1, 2), True), ((0, 1, 2, 4), False),
                            ((0, 3), True))
  def test_values_and_gradients(self, axes, affine):
    x = _random((3, 4, 5, 2, 3), 0)
    kept = tuple(d for i, d in enumerate(x.shape) if i not in axes)
    params = ({'scale': _random(kept, 4), 'bias': _random(kept, 5)}
              if affine else {})

    def step(x, params):
      return batch_statistics.normalise(
          x, params.get('scale'), params.get('bias'), axes=axes,
          epsilon=1e-5)

    def reference(x, params):
      mean = jnp.mean(x, axis=axes)
      centred = x - jnp.expand_dims(mean, axes)
      var = jnp.mean(jnp.square(centred), axis=axes)
      factor = jax.lax.rsqrt(var + 1e-5)
      if affine:
        factor = factor * params['scale']
      out = centred * jnp.expand_dims(factor, axes)
      if affine:
        out = out + jnp.expand_dims(params['bias'], axes)
      return out, mean, var
    _compare(step, reference, x, params)

  def test_rejects_bad_arguments(self):
    x = jnp.zeros((2, 3))
    with self.assertRaisesRegex(ValueError, 'x must be floating; got dtype'):
      batch_statistics.normalise(jnp.zeros((2, 3), jnp.int32), None, None,
                                 axes=(0,), epsilon=1e-5)
    for axes, message in (
        ((), 'be an int or a non-empty sequence of ints'),
        (('a',), 'be an int or a non-empty sequence of ints'),
        ((2,), r'name distinct axes of a rank-2 array \(-2..1\)'),
        ((0, 0), r'name distinct axes of a rank-2 array \(-2..1\)')):
      with self.assertRaisesRegex(ValueError, f'axes must {message}'):
        batch_statistics.normalise(x, None, None, axes=axes, epsilon=1e-5)
    with self.assertRaisesRegex(ValueError, r'scale must have the shape of x '
                                r'without axes \(0,\), \(3,\)'):
      batch_statistics.normalise(x, jnp.ones(2), None, axes=(0,),
                                 epsilon=1e-5)
    for epsilon in (0, True, float('nan')):
      with self.assertRaisesRegex(ValueError, r'epsilon must be a finite '
                                  r'number in \(0, inf\)'):
        batch_statistics.normalise(x, None, None, axes=(0,), epsilon=epsilon)


class ModulesTest(parameterized.TestCase):
  """Every batch norm that uses a hand-written gradient, in training mode."""

  def test_batch_norm(self):
    module = batch_statistics.BatchNorm(momentum=MOMENTUM)
    x = _random((2, 5, 5, 3), 0)
    params, stats = _init(module, x)

    def reference(x, params):
      mean = jnp.mean(x, axis=(0, 1, 2))
      var = jnp.mean(jnp.square(x - mean), axis=(0, 1, 2))
      out = ((x - mean) * jax.lax.rsqrt(var + 1e-5) * params['scale'] +
             params['bias'])
      return (out,) + _running(stats, mean, var)
    _compare(_module_step(module, stats), reference, x, params)

  def test_batch_norm_is_a_drop_in_for_flax(self):
    # Same variables (names, shapes, initial values) and auto-names, and the
    # same evaluation-mode output bit for bit: flax checkpoints restore.
    x = _random((2, 5, 5, 3), 0)

    class Both(nn.Module):
      ours: bool

      @nn.compact
      def __call__(self, x, train):
        cls = batch_statistics.BatchNorm if self.ours else nn.BatchNorm
        return cls(use_running_average=not train, momentum=MOMENTUM)(x)
    theirs = Both(False).init(jax.random.key(0), x, False)
    ours = Both(True).init(jax.random.key(0), x, False)
    self.assertEqual(jax.tree.map(lambda v: v.tolist(), theirs),
                     jax.tree.map(lambda v: v.tolist(), ours))
    trained = jax.tree.map(lambda v: v + _random(v.shape, 3), theirs)
    np.testing.assert_array_equal(Both(True).apply(trained, x, False),
                                  Both(False).apply(trained, x, False))
    for train in (True, False):
      with self.assertRaisesRegex(ValueError, 'x must be a floating array'):
        batch_statistics.BatchNorm().init(
            jax.random.key(0), jnp.zeros(3), use_running_average=not train)
      for name, value, accepted in (('momentum', 1.5, r'\[0, 1\]'),
                                    ('epsilon', 0.0, r'\(0, inf\)')):
        with self.assertRaisesRegex(ValueError, f'{name} must be a finite '
                                    f'number in {accepted}'):
          batch_statistics.BatchNorm(**{name: value}).init(
              jax.random.key(0), x, use_running_average=not train)

  def test_group_batch_norm(self):
    module = group_conv.GroupBatchNorm(momentum=MOMENTUM)
    x = _random((2, 5, 5, 4, 3), 0)
    params, stats = _init(module, x)

    def reference(x, params):
      mean, var = group_conv.group_moments(x)
      out = group_conv.group_batch_norm(x, mean=mean, var=var,
                                        scale=params['scale'],
                                        bias=params['bias'])
      return (out,) + _running(stats, mean, var)
    _compare(_module_step(module, stats), reference, x, params)

  def test_inner_batch_norm(self):
    module = steerable.InnerBatchNorm(in_type=REGULAR_C8, momentum=MOMENTUM)
    x = _random((2, 5, 5, REGULAR_C8.size), 0)
    params, stats = _init(module, x)

    def reference(x, params):
      mean, var = steerable.inner_moments(x, field_type=REGULAR_C8)
      out = steerable.inner_batch_norm(
          x, field_type=REGULAR_C8, mean=mean, var=var,
          scale=params['scale'], bias=params['bias'])
      return (out,) + _running(stats, mean, var)
    _compare(_module_step(module, stats), reference, x, params)

  @parameterized.parameters((MIXED_C8, False), (MIXED_C8, True),
                            (MIXED_D4, False), (IRREPS_SO2, True))
  def test_norm_batch_norms(self, field_type, per_irrep):
    cls = steerable.GNormBatchNorm if per_irrep else steerable.NormBatchNorm
    module = cls(in_type=field_type, momentum=MOMENTUM)
    x = _random((2, 5, 5, field_type.size), 0)
    params, stats = _init(module, x)

    def reference(x, params):
      mean, var = steerable.norm_moments(x, field_type=field_type,
                                         per_irrep=per_irrep)
      out = steerable.norm_batch_norm(
          x, field_type=field_type, mean=mean, var=var,
          scale=params['scale'], bias=params['bias'], per_irrep=per_irrep)
      return (out,) + _running(stats, mean, var)
    _compare(_module_step(module, stats), reference, x, params)

  def test_harmonic_batch_norm(self):
    module = harmonic.HBatchNorm(momentum=MOMENTUM)
    z = _random((2, 5, 5, 2, 3), 0, np.complex64)
    params, stats = _init(module, z)

    def reference(z, params):
      mean, var = harmonic.magnitude_moments(z)
      out = harmonic.magnitude_batch_norm(
          z, mean=mean, var=var, scale=params['scale'], bias=params['bias'])
      return (out,) + _running(stats, mean, var)
    _compare(_module_step(module, stats), reference, z, params)


if __name__ == '__main__':
  absltest.main()
