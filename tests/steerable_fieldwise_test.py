"""layers.steerable.fieldwise's constant channel lookups: gathers' values,
products' derivatives (no scatter-add in a gradient)."""

import re

from absl.testing import absltest
import jax
import jax.numpy as jnp
import numpy as np

from layers.steerable import fieldwise

CHANNELS = np.array([4, 0, 2])


class ChannelLookupTest(absltest.TestCase):

  def test_values_equal_the_gather_and_its_inverse(self):
    values = np.random.default_rng(0).standard_normal((2, 3)).astype(
        np.float32)
    placed = fieldwise.on_channels(values, CHANNELS, 6)
    expected = np.zeros((2, 6), np.float32)
    expected[:, CHANNELS] = values
    np.testing.assert_array_equal(placed, expected)
    np.testing.assert_array_equal(fieldwise.take_channels(placed, CHANNELS),
                                  values)

  def test_gradients_are_exact_and_compile_without_scatter(self):
    x = np.random.default_rng(1).standard_normal((5, 6)).astype(np.float32)
    weights = np.arange(1.0, 4.0, dtype=np.float32)
    # The weights are an argument: XLA folds the gradient of a constant.
    loss = lambda v, w: jnp.sum(fieldwise.take_channels(v, CHANNELS) * w)
    grad = jax.jit(jax.grad(loss))
    expected = np.zeros_like(x)
    expected[:, CHANNELS] = weights
    np.testing.assert_array_equal(grad(x, weights), expected)
    hlo = grad.lower(x, weights).compile().as_text()
    self.assertIsNone(re.search(r'\bscatter\(', hlo))

  def test_identity_lookup_returns_its_input(self):
    x = jnp.ones((2, 3))
    self.assertIs(fieldwise.take_channels(x, np.arange(3)), x)
    self.assertIs(fieldwise.on_channels(x, np.arange(3), 3), x)

  def test_rejects_bad_channels_and_lengths(self):
    with self.assertRaisesRegex(ValueError, r'channels must lie in \[0, 6\)'):
      fieldwise.on_channels(jnp.ones(2), np.array([0, 6]), 6)
    with self.assertRaisesRegex(ValueError, 'channels must be integers'):
      fieldwise.take_channels(jnp.ones(6), np.array([0.5]))
    with self.assertRaisesRegex(ValueError, 'values must have 3 entries'):
      fieldwise.on_channels(jnp.ones(2), CHANNELS, 6)


if __name__ == '__main__':
  absltest.main()
