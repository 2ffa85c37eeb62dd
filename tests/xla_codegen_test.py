"""XLA:CPU code generation computes P4CNN's training gradient correctly.

Found on 6 Dec 2026 (jax / jaxlib 0.10.2, AVX-512 EPYC): with XLA:CPU's
default MLIR fusion emitters, the *jitted* gradient of ``p4cnn``'s training
loss is wrong in the layers before its max pool (batch-norm scale and bias
of blocks 1-2, ``gconv2``, ``lift1``: relative errors 0.9-2.5 against the
same gradient computed op by op, which agrees with finite differences); the
forward pass and the later layers agree. With the older loop emitters
(``--xla_cpu_use_fusion_emitters=false``, :func:`experiments.runtime.
use_fast_compile`, the default of ``main.py`` and of this suite) it agrees
to 3e-6. ``docs/performance.md``, "Compile time, fourth pass";
``python -m benchmarks.codegen_gradients`` checks every classifier: all agree
under both code generations except p4mcnn, whose jitted gradient is wrong
under both (cause open, not pinned here: a test asserting a known-wrong
gradient would only freeze the bug).
"""

from absl.testing import absltest

from benchmarks import codegen_gradients


class P4cnnGradientTest(absltest.TestCase):

  def test_default_code_generation_gradient_equals_op_by_op(self):
    # This process compiles as main.py does (tests/conftest.py).
    error, leaf = codegen_gradients.gradient_disagreement('p4cnn')
    self.assertLess(error, 1e-4, leaf)

  def test_xla_fusion_emitters_still_miscompile_it(self):
    # The reason for the default: with XLA's own emitters the gradient is
    # wrong. When an XLA update fixes it this fails: then re-measure
    # benchmarks/fast_compile.py and reconsider main.py's default.
    error, leaf = codegen_gradients.measure_in_process(
        'p4cnn', 'xla_default', batch=2)
    self.assertGreater(error, 0.1, f'{leaf}: XLA fixed it?')


if __name__ == '__main__':
  absltest.main()
