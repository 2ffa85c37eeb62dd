"""The G-CNNs' jitted training gradients equal their op-by-op ones.

Found on 6 Dec 2026 (jax / jaxlib 0.10.2, AVX-512 EPYC): the *jitted*
gradient of ``p4mcnn``'s training loss was wrong (relative 1.33, ``bn2``
and the layers before its 2x2 max pool) under both XLA:CPU code
generations, ``p4cnn``'s (relative 2.49) under XLA's default fusion
emitters; op by op both agreed with finite differences. The cause was JAX's
derivative of ``jnp.max``, which routes the gradient through
``operand == max``: under jit XLA recomputed the pooled operand (a
training-mode batch norm's output) in backward fusions with other rounding,
and windows lost their gradient. :func:`layers.max_reduce.max_reduce` (a
selection's derivative) fixed both; ``python -m benchmarks.codegen_gradients``
checks every classifier (``benchmarks/results/codegen_gradients.md``).
These two cases failed before the fix.
"""

from absl.testing import absltest

from benchmarks import codegen_gradients


class GcnnGradientTest(absltest.TestCase):

  def test_p4mcnn_jitted_gradient_equals_op_by_op(self):
    # This process compiles as main.py does (tests/conftest.py); p4mcnn's
    # gradient was wrong under both code generations.
    error, leaf = codegen_gradients.gradient_disagreement('p4mcnn')
    self.assertLess(error, 1e-4, leaf)

  def test_p4cnn_under_xla_fusion_emitters_equals_op_by_op(self):
    error, leaf = codegen_gradients.measure_in_process(
        'p4cnn', 'xla_default', batch=2)
    self.assertLess(error, 1e-4, leaf)


if __name__ == '__main__':
  absltest.main()
