"""experiments/bn_recalibration.py: population batch-norm statistics."""

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
import numpy as np

import models
from experiments import bn_recalibration as bnr
from experiments import trained_runs
from experiments.configs import mnist_rot_p4cnn
from tests import tiny_runs


def _model(name):
  if name == 'p4cnn':   # GroupBatchNorm, momentum 0.9
    return models.build_model('p4cnn', channels=2, bn_momentum=0.9), 28
  return models.build_model('cnn', widths=(3, 4), norm='batch'), 12


def _batch(seed, size, n=6):
  # Far from the initial running statistics (mean 0, variance 1).
  rng = np.random.default_rng(seed)
  return (3 * rng.standard_normal((n, size, size, 1)) + 2).astype(np.float32)


def _init(model, size):
  return model.init(jax.random.key(0), jnp.zeros((1, size, size, 1)),
                    train=False)


class PopulationStatsTest(parameterized.TestCase):

  @parameterized.parameters('p4cnn', 'cnn')
  def test_one_batch_makes_inference_equal_training_mode(self, name):
    model, size = _model(name)
    variables = _init(model, size)
    x = _batch(0, size)
    training, _ = model.apply(variables, x, train=True,
                              mutable=['batch_stats'])
    stats = bnr.population_batch_stats(model, variables, x, batch_size=6)
    recalibrated = model.apply({**variables, 'batch_stats': stats}, x,
                               train=False)
    scale = float(jnp.max(jnp.abs(training)))
    np.testing.assert_allclose(recalibrated, training, atol=1e-5 * scale)
    # Negative control: the initial running statistics are not the batch's.
    stale = model.apply(variables, x, train=False)
    self.assertGreater(float(jnp.max(jnp.abs(stale - training))), 0.1 * scale)

  def test_batches_are_averaged_by_size(self):
    model, size = _model('cnn')
    variables = _init(model, size)
    a, b = _batch(1, size, n=4), _batch(2, size, n=2)
    both = bnr.population_batch_stats(model, variables,
                                      np.concatenate([a, b]), batch_size=4)
    first = bnr.population_batch_stats(model, variables, a, batch_size=4)
    second = bnr.population_batch_stats(model, variables, b, batch_size=4)
    expected = jax.tree.map(lambda u, v: (4 * u + 2 * v) / 6, first, second)
    jax.tree.map(lambda u, v: np.testing.assert_allclose(u, v, rtol=1e-5,
                                                         atol=1e-6),
                 both, expected)

  def test_the_momentum_does_not_matter(self):
    x = _batch(3, 28)
    results = []
    for momentum in (0.5, 0.9, 0.99):
      model = models.build_model('p4cnn', channels=2, bn_momentum=momentum)
      results.append(bnr.population_batch_stats(model, _init(model, 28), x))
    for other in results[1:]:
      jax.tree.map(lambda u, v: np.testing.assert_allclose(u, v, rtol=1e-4,
                                                           atol=1e-5),
                   results[0], other)

  def test_count_correct_matches_argmax(self):
    model, size = _model('cnn')
    variables = _init(model, size)
    x = _batch(4, size, n=7)
    predicted = np.argmax(model.apply(variables, x, train=False), axis=-1)
    labels = np.arange(7) % 10
    self.assertEqual(bnr.count_correct(model, variables, x, labels,
                                       batch_size=3),
                     int(np.sum(predicted == labels)))


class CompareTrainedRunTest(absltest.TestCase):

  def test_running_row_is_the_study_evaluation(self):
    workdir, result, trained = tiny_runs.trained_tiny_p4cnn(self)
    self.assertEqual(trained.train_images.shape[1:], trained.images.shape[1:])
    rows = bnr.compare(trained, batch_size=8)
    self.assertEqual([r['statistics'] for r in rows],
                     ['running average', 'population (recomputed)'])
    self.assertAlmostEqual(rows[0]['test_error'],
                           1 - float(result.metrics['eval/accuracy']),
                           places=6)
    for row in rows:
      self.assertEqual(row['n'], len(trained.labels))
      self.assertBetween(row['test_error'], row['ci_low'] - 1e-12,
                         row['ci_high'] + 1e-12)
    # An earlier checkpoint the run kept (tiny: every step, two kept).
    earlier = trained_runs.restore(mnist_rot_p4cnn.get_config('tiny'),
                                   'p4cnn', workdir, step=1)
    self.assertEqual((earlier.step, trained.step), (1, 2))
    differ = jax.tree.map(lambda u, v: bool(np.any(u != v)),
                          earlier.variables['params'],
                          trained.variables['params'])
    self.assertTrue(any(jax.tree.leaves(differ)))
    with self.assertRaisesRegex(ValueError, r'^step must be a checkpoint '
                                r'kept in .*; accepted: 1, 2; got 3\.'):
      trained_runs.restore(mnist_rot_p4cnn.get_config('tiny'), 'p4cnn',
                           workdir, step=3)


if __name__ == '__main__':
  absltest.main()
