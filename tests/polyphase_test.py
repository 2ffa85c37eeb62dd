"""layers/polyphase.py (LPS, polyphase and blur upsampling) and models/unet.py.

The equivariance facts (exact invariance / equivariance at test time, the
negative controls) are registry cases in tests/cases/polyphase.py; this file
checks the pieces: exact one-hot selections, round trips, gradients in
training mode, deterministic ties, and the U-Net's shapes and options.
"""

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
import numpy as np

import layers
import models

X = np.random.default_rng(0).standard_normal((3, 8, 8, 2)).astype(np.float32)


def _kernels(seed=1, c_in=2):
  rng = np.random.default_rng(seed)
  return [rng.standard_normal((3, 3, c_in, 4)).astype(np.float32) / 4,
          rng.standard_normal((3, 3, 4, 1)).astype(np.float32) / 4]


class PolyphaseTest(parameterized.TestCase):

  def test_argmax_lpd_is_take_polyphase_of_the_best_logit(self):
    logits = layers.polyphase_logits(X, _kernels(), filter_size=3)
    self.assertEqual(logits.shape, (3, 4))
    y, weights = layers.lps_downsample(X, _kernels(), filter_size=3)
    indices = jnp.argmax(logits, axis=-1)
    np.testing.assert_array_equal(weights, jax.nn.one_hot(indices, 4))
    np.testing.assert_array_equal(
        y, layers.take_polyphase(X, indices, filter_size=3))

  def test_logits_are_bitwise_permuted_by_a_circular_shift(self):
    shifted = np.roll(X, (3, 5), axis=(1, 2))
    logits = np.asarray(layers.polyphase_logits(X, _kernels()))
    logits_shifted = np.asarray(layers.polyphase_logits(shifted, _kernels()))
    # A shift by (3, 5) maps phase (i, j) to ((i + 1) % 2, (j + 1) % 2).
    np.testing.assert_array_equal(logits_shifted[:, [3, 2, 1, 0]], logits)

  def test_ties_resolve_to_the_first_component(self):
    constant = np.ones((2, 4, 4, 2), np.float32)
    _, weights = layers.lps_downsample(constant, _kernels())
    np.testing.assert_array_equal(weights, [[1, 0, 0, 0], [1, 0, 0, 0]])

  @parameterized.parameters('gumbel_hard', 'gumbel_soft', 'softmax')
  def test_weights_sum_to_one(self, selection):
    logits = layers.polyphase_logits(X, _kernels())
    weights = layers.polyphase_weights(logits, selection=selection,
                                       temperature=0.5,
                                       key=jax.random.key(0))
    np.testing.assert_allclose(np.sum(weights, axis=-1), 1.0, rtol=1e-6)
    if selection == 'gumbel_hard':
      self.assertTrue(set(np.unique(np.asarray(weights))) <= {0.0, 1.0})

  @parameterized.parameters('hard', 'soft')
  def test_gradients_flow_to_the_logit_network_in_training(self, mode):
    module = layers.LPD(filter_size=3, train_mode=mode)
    variables = module.init(jax.random.key(0), X)

    def loss(params):
      y, weights = module.apply({'params': params}, X, train=True,
                                rngs={'dropout': jax.random.key(1)})
      up = layers.lps_upsample(y, weights)
      return jnp.sum(up * X) + jnp.sum(y**2)

    grads = jax.grad(loss)(variables['params'])
    norm = float(jnp.abs(grads['logit_conv0_kernel']).sum())
    self.assertTrue(np.isfinite(norm))
    self.assertGreater(norm, 0.0)

  def test_eval_mode_is_deterministic_and_train_mode_samples(self):
    module = layers.LPD()
    variables = module.init(jax.random.key(0), X)
    a = module.apply(variables, X)[1]
    np.testing.assert_array_equal(a, module.apply(variables, X)[1])
    draws = {tuple(np.argmax(module.apply(
        variables, X, train=True, rngs={'dropout': jax.random.key(k)})[1],
                             axis=-1).tolist()) for k in range(8)}
    self.assertGreater(len(draws), 1)

  def test_lpu_puts_lpd_back_at_its_phase(self):
    y, weights = layers.lps_downsample(X, _kernels())
    up = layers.lps_upsample(y, weights)
    self.assertEqual(up.shape, X.shape)
    np.testing.assert_array_equal(layers.mix_polyphase(up, weights), y)
    # Every other phase is zero: up keeps exactly the samples LPD kept.
    self.assertEqual(int(np.count_nonzero(up)), np.count_nonzero(y))

  def test_polyphase_upsample_inverts_take_polyphase(self):
    indices = layers.aps_indices(X)
    down = layers.take_polyphase(X, indices)
    up = layers.polyphase_upsample(down, indices)
    np.testing.assert_array_equal(layers.take_polyphase(up, indices), down)
    kept = np.asarray(layers.lps_upsample(np.ones_like(down),
                                 jax.nn.one_hot(indices, 4)))
    np.testing.assert_array_equal(up, X * kept)

  @parameterized.parameters(2, 3, 4, 5)
  def test_blur_upsample_keeps_a_constant(self, filter_size):
    constant = np.full((1, 4, 4, 1), 2.5, np.float32)
    np.testing.assert_allclose(
        layers.blur_upsample(constant, filter_size=filter_size), 2.5,
        rtol=1e-6)

  def test_blur_upsample_filter_2_is_nearest_neighbour(self):
    y = layers.blur_upsample(X, filter_size=2)
    # Pads (0, 1): each output averages itself and its next neighbour.
    np.testing.assert_allclose(y[:, ::2, ::2], X, rtol=1e-6)
    np.testing.assert_allclose(y[:, 1::2, 1::2], np.roll(X, (-1, -1), (1, 2)),
                               rtol=1e-6)


class UNetTest(parameterized.TestCase):

  @parameterized.parameters('strided', 'blur', 'aps', 'lps')
  def test_shapes_and_parameters(self, downsampling):
    model = models.build_model('unet', downsampling=downsampling,
                               widths=(4, 8), out_channels=3)
    variables = model.init(jax.random.key(0), X)
    self.assertEqual(model.apply(variables, X).shape, (3, 8, 8, 3))
    params = sum(x.size for x in jax.tree.leaves(variables['params']))
    # Pinned: 76 + 148 (enc0) + 296 + 584 (enc1) + 292 (dec0_up_conv) +
    # 292 + 148 (dec0) + 15 (out_conv) = 1851; 'lps' adds one logit network
    # (3x3x4x8 + 8 + 3x3x8x1 + 1 = 369).
    self.assertEqual(params, 1851 + (369 if downsampling == 'lps' else 0))

  def test_lps_unet_trains(self):
    model = models.build_model('unet', downsampling='lps', widths=(4, 8))
    variables = model.init(jax.random.key(0), X)

    def loss(params):
      out = model.apply({'params': params}, X, train=True,
                        rngs={'dropout': jax.random.key(1)})
      return jnp.mean((out - X[..., :1])**2)

    grads = jax.jit(jax.grad(loss))(variables['params'])
    self.assertGreater(float(jnp.abs(
        grads['lpd0']['logit_conv0_kernel']).sum()), 0.0)


if __name__ == '__main__':
  absltest.main()
