"""layers.max_reduce: jnp.max's values, a selection's gradient."""

import functools

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
import numpy as np

from layers.max_reduce import max_reduce

# Both code paths of max_reduce: the select chain and the argmax.
PATHS = (('chain', 'chain'), ('argmax', 'argmax'))
AXES = (0, -1, (1, 2), (0, 3), (0, 1, 2, 3))


def _one_hot_first_max(x, axis):
  """Reference gradient of sum(max(x, axis)): 1 at the first maximal entry
  of each reduced slice (row-major order of the reduced axes)."""
  axes = tuple(a % x.ndim for a in np.atleast_1d(axis))
  kept = [a for a in range(x.ndim) if a not in axes]
  order = kept + list(axes)
  moved = np.transpose(x, order)
  flat = moved.reshape(moved.shape[:len(kept)] + (-1,))
  hot = np.zeros_like(flat)
  np.put_along_axis(hot, np.argmax(flat, axis=-1)[..., None], 1.0, axis=-1)
  return np.transpose(hot.reshape(moved.shape), np.argsort(order))


class MaxReduceTest(parameterized.TestCase):

  @parameterized.product(path=PATHS, axis=AXES)
  def test_values_and_gradients(self, path, axis):
    # Integers drawn from a small range: many ties, all exactly representable.
    x = np.random.default_rng(0).integers(-3, 3, (2, 3, 4, 5)).astype(
        np.float32)
    fn = functools.partial(max_reduce, axis=axis, method=path[1])
    np.testing.assert_array_equal(jax.jit(fn)(x), np.max(x, axis=axis))
    grad = jax.jit(jax.grad(lambda v: fn(v).sum()))(x)
    np.testing.assert_array_equal(grad, _one_hot_first_max(x, axis))

  @parameterized.named_parameters(*PATHS)
  def test_tied_window_sends_its_gradient_to_the_first_entry(self, limit):
    grad = jax.grad(lambda v: max_reduce(v, (0, 1), method=limit))(
        jnp.zeros((2, 2)))
    np.testing.assert_array_equal(grad, [[1.0, 0.0], [0.0, 0.0]])

  @parameterized.named_parameters(*PATHS)
  def test_nan_and_infinities_as_jnp_max(self, limit):
    x = np.array([[1.0, np.nan, 3.0, np.nan], [-np.inf, -np.inf, -np.inf, 2.0],
                  [np.inf, 1.0, np.inf, 0.0]], np.float32)
    np.testing.assert_array_equal(
        max_reduce(x, -1, method=limit), np.max(x, axis=-1))
    grad = jax.grad(lambda v: max_reduce(v, -1, method=limit).sum())(x)
    # One entry per row takes the gradient: the first NaN, the 2, the first
    # +inf.
    np.testing.assert_array_equal(
        grad, [[0, 1, 0, 0], [0, 0, 0, 1], [1, 0, 0, 0]])

  @parameterized.named_parameters(*PATHS)
  def test_forward_mode_is_the_selected_entrys_tangent(self, limit):
    x = np.random.default_rng(1).standard_normal((3, 4, 5)).astype(np.float32)
    t = np.random.default_rng(2).standard_normal(x.shape).astype(np.float32)
    _, tangent = jax.jvp(
        lambda v: max_reduce(v, (0, 2), method=limit), (x,), (t,))
    expected = (_one_hot_first_max(x, (0, 2)) * t).sum(axis=(0, 2))
    np.testing.assert_allclose(tangent, expected, rtol=0, atol=0)

  def test_rejects_bad_arguments(self):
    x = jnp.zeros((2, 3))
    for axis, message in (
        (2, r'axis must name distinct axes of a rank-2 array \(-2..1\)'),
        ((0, -2), 'distinct'), ((), 'non-empty sequence of ints'),
        (1.0, 'an int or a non-empty')):
      with self.subTest(axis=axis):
        with self.assertRaisesRegex(ValueError, message):
          max_reduce(x, axis)
    with self.assertRaisesRegex(ValueError, 'x must be floating; got dtype'):
      max_reduce(jnp.zeros((2, 3), jnp.int32), 0)
    with self.assertRaisesRegex(ValueError, 'has size 0'):
      max_reduce(jnp.zeros((0, 3)), 0)
    with self.assertRaisesRegex(ValueError, "method must be one of .'auto'"):
      max_reduce(x, 0, method='select')

  def test_auto_takes_the_argmax_on_last_axes_and_the_chain_elsewhere(self):
    # The chain fused into a consumer is evaluated once per entry of x; on
    # the last axes the argmax needs no transpose (layers/max_reduce.py).
    x = jnp.zeros((2, 3, 4))
    for axis, argmax in ((-1, True), ((1, 2), True), (1, False),
                         ((0, 1), False), (0, False)):
      with self.subTest(axis=axis):
        jaxpr = jax.make_jaxpr(jax.grad(
            lambda v, a=axis: max_reduce(v, a).sum()))(x)
        self.assertEqual('argmax' in str(jaxpr), argmax)
    # Many entries: the argmax wherever they are.
    self.assertIn('argmax', str(jax.make_jaxpr(jax.grad(
        lambda v: max_reduce(v, 0).sum()))(jnp.zeros((40, 2)))))


if __name__ == '__main__':
  absltest.main()
