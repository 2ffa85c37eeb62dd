"""experiments/mlir_context.py: a shared MLIR context lowers the same programs."""

import os
import threading
from unittest import mock

import jax
import jax.numpy as jnp
import numpy as np
from absl.testing import absltest
from jax._src.interpreters import mlir

from experiments import mlir_context


def _net(x, w):
  return jnp.tanh(jnp.einsum('bi,io->bo', x, w)).sum(axis=0) * 2.0


class SharedContextTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.was_shared = bool(mlir_context._original)  # pylint: disable=protected-access
    self.addCleanup(self._restore)

  def _restore(self):
    mlir_context.unshare()
    if self.was_shared:
      mlir_context.share()

  def test_the_suite_shares_unless_switched_off(self):
    # tests/conftest.py sets the switch, so subprocesses (main.py, the
    # notebooks, the docs runner) inherit it.
    switch = os.environ[mlir_context.SWITCH].strip().lower()
    self.assertEqual(self.was_shared, switch not in ('0', 'false', 'off', 'no'))

  def test_the_environment_switch(self):
    for value, default, shared in [('1', False, True), ('on', False, True),
                                   ('0', True, False), ('', True, True),
                                   ('', False, False), (' Off ', True, False)]:
      mlir_context.unshare()
      with mock.patch.dict(os.environ, {mlir_context.SWITCH: value}):
        self.assertEqual(mlir_context.use_from_environment(default=default),
                         shared, (value, default))
      self.assertEqual(bool(mlir_context._original), shared)  # pylint: disable=protected-access
    with mock.patch.dict(os.environ, {mlir_context.SWITCH: 'sometimes'}):
      with self.assertRaisesRegex(ValueError, 'EQUIVLAB_SHARED_MLIR must be'):
        mlir_context.use_from_environment(default=True)

  def test_same_lowered_text_and_values_as_fresh_contexts(self):
    x = np.arange(12, dtype=np.float32).reshape(3, 4) / 7
    w = np.linspace(-1, 1, 20, dtype=np.float32).reshape(4, 5)
    results = {}
    for shared in (False, True):
      mlir_context.unshare()
      if shared:
        mlir_context.share(uses=3)
      texts = []
      for _ in range(4):  # a new function object: lowered again each time
        lowered = jax.jit(lambda a, b: _net(a, b)).lower(x, w)  # pylint: disable=unnecessary-lambda
        texts.append(lowered.as_text())
      results[shared] = (texts, np.asarray(lowered.compile()(x, w)))
    self.assertEqual(results[True][0], results[False][0])
    np.testing.assert_array_equal(results[True][1], results[False][1])
    np.testing.assert_array_equal(results[True][1], np.asarray(_net(x, w)))

  def test_a_context_serves_uses_lowerings_then_a_fresh_one(self):
    mlir_context.unshare()
    self.assertTrue(mlir_context.share(uses=2))
    self.assertFalse(mlir_context.share(uses=2))  # already patched
    contexts = [mlir.make_ir_context() for _ in range(5)]
    self.assertIs(contexts[0], contexts[1])
    self.assertIsNot(contexts[1], contexts[2])
    self.assertIs(contexts[2], contexts[3])
    self.assertIsNot(contexts[3], contexts[4])

  def test_a_lowering_inside_a_lowering_gets_a_context_of_its_own(self):
    mlir_context.unshare()
    mlir_context.share(uses=100)
    outer = mlir.make_ir_context()
    with outer:  # as while JAX lowers a program in it
      inner = mlir.make_ir_context()
    self.assertIsNot(inner, outer)
    self.assertIs(mlir.make_ir_context(), outer)

  def test_eager_gather_at_compile_time_lowers_inside_a_lowering(self):
    # jnp.take's fill mode computes its bounds with eager ops while XLA's
    # gather is lowered, under ensure_compile_time_eval (as
    # layers/group_conv does): in the outer context the inner module took
    # the outer insertion point (MLIRError: "symbol's parent must have the
    # SymbolTable trait"). Indices of rank 6: inner programs of shapes no
    # other test compiles, so they are lowered here.
    mlir_context.unshare()
    mlir_context.share(uses=100)
    x = np.arange(2 * 3 * 5 * 7 * 2, dtype=np.float32).reshape(2, 3, 5, 7, 2)
    index = np.array([6, 0, 3, 2, 1, 5, 4]).reshape(1, 1, 1, 1, 1, 7)
    with jax.ensure_compile_time_eval():
      taken = np.asarray(jnp.take(x, index, axis=3))
    np.testing.assert_array_equal(taken, np.take(x, index, axis=3))

  def test_each_thread_has_its_own_context(self):
    mlir_context.unshare()
    mlir_context.share(uses=100)
    here = mlir.make_ir_context()
    there = []
    thread = threading.Thread(target=lambda: there.append(
        mlir.make_ir_context()))
    thread.start()
    thread.join()
    self.assertIs(mlir.make_ir_context(), here)
    self.assertIsNot(there[0], here)

  def test_unshare_restores_fresh_contexts(self):
    mlir_context.unshare()
    self.assertIsNot(mlir.make_ir_context(), mlir.make_ir_context())

  def test_bad_uses_are_rejected(self):
    for uses in (0, -1, 1.5, True, '8'):
      with self.assertRaisesRegex(ValueError, 'uses must be a positive'):
        mlir_context.share(uses=uses)


if __name__ == '__main__':
  absltest.main()
