"""The transposed steerable convolution (layers/steerable/transposed.py).

The output size (PyTorch's formula, ``s H`` for the padding modes), the
scatter against ``jax.lax.conv_transpose`` and a NumPy loop, the adjoint of
the conv, which kernel it uses (the conv's, point-reflected when written as
a correlation, still in the kernel space; its channel transpose in the
space of the opposite direction), gradients, and the typed module. The
equivariance facts are registry cases (tests/cases/steerable_transposed.py);
the comparison with e2cnn's ``R2ConvTransposed`` is
tests/steerable_transposed_e2cnn_test.py.
"""

import itertools

from absl.testing import absltest
from absl.testing import parameterized
import jax
from jax import lax
import jax.numpy as jnp
import numpy as np

import groups
import layers
from layers import steerable
from layers.steerable import transposed

C4 = groups.Cyclic(4)
D4 = groups.Dihedral(4)
C8 = groups.Cyclic(8)
REGULAR_C4 = groups.FieldType(C4, [C4.regular_representation])
MIXED_C4 = groups.FieldType(C4, [C4.trivial_representation, C4.irrep(1),
                                 C4.regular_representation])  # C = 7
D4_TYPE = groups.FieldType(D4, [D4.regular_representation, D4.irrep(1, 1)])
D4_OUT = groups.FieldType(D4, [D4.trivial_representation, D4.irrep(1, 1),
                               D4.quotient_representation(groups.Cyclic(4))])


def _weights(rng, in_type, out_type, k):
  basis = steerable.layer_basis(in_type, out_type, k)
  return (rng.standard_normal(basis.size) * basis.he_std()).astype(
      np.float32)


def _scatter(x, kernel, *, stride, padding, output_padding, dilation):
  """NumPy loop: ``x[q] @ kernel[i, j]`` added at ``s q + d (i, j) - p``."""
  b, h, w, _ = x.shape
  kh, kw, _, c_out = kernel.shape
  if isinstance(padding, str):
    lo = [(dilation * (k - 1)) // 2 for k in (kh, kw)]
    size = (stride * h, stride * w)
  else:
    lo = [padding, padding]
    size = tuple(transposed.output_size(
        n, kernel_size=k, stride=stride, padding=padding,
        output_padding=output_padding, dilation=dilation)
                 for n, k in ((h, kh), (w, kw)))
  y = np.zeros((b,) + size + (c_out,), np.float64)
  for qy, qx, i, j in itertools.product(range(h), range(w), range(kh),
                                        range(kw)):
    oy = stride * qy + dilation * i - lo[0]
    ox = stride * qx + dilation * j - lo[1]
    if padding == 'circular':
      oy, ox = oy % size[0], ox % size[1]
    elif not (0 <= oy < size[0] and 0 <= ox < size[1]):
      continue
    y[:, oy, ox] += x[:, qy, qx].astype(np.float64) @ kernel[i, j]
  return y


_GEOMETRIES = (
    # (name, stride, padding, output_padding, dilation, kernel size)
    ('s1_zeros', 1, 'zeros', 0, 1, 3),
    ('s2_zeros', 2, 'zeros', 0, 1, 3),
    ('s2_zeros_even_k', 2, 'zeros', 0, 1, 4),
    ('s3_circular', 3, 'circular', 0, 1, 5),
    ('s2_circular_even_k_dilated', 2, 'circular', 0, 2, 2),
    ('s1_p0', 1, 0, 0, 1, 3),
    ('s2_p1', 2, 1, 0, 1, 3),
    ('s2_p1_op1', 2, 1, 1, 1, 5),
    ('s2_p2_dilated', 2, 2, 0, 2, 3),
    ('s1_p1_op1_dilated', 1, 1, 1, 2, 3),
    ('s3_p0_op2', 3, 0, 2, 1, 4),
)


class OutputSizeTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('s1_p1_k3', 7, 3, 1, 1, 0, 1, 7),
      ('s2_p1_k3', 7, 3, 2, 1, 0, 1, 13),      # (7-1)2 - 2 + 3
      ('s2_p1_k3_op1', 7, 3, 2, 1, 1, 1, 14),
      ('s2_p0_k4', 5, 4, 2, 0, 0, 1, 12),      # (5-1)2 + 4
      ('s3_p2_k5_op2', 4, 5, 3, 2, 2, 1, 12),  # (4-1)3 - 4 + 5 + 2
      ('s1_p0_k3_d2', 5, 3, 1, 0, 0, 2, 9),    # 4 + 2 (3-1) + 1
      ('zeros_s2', 5, 3, 2, 'zeros', 0, 1, 10),
      ('circular_s3', 5, 5, 3, 'circular', 0, 2, 15))
  def test_pytorch_formula_and_s_h_for_modes(self, size, k, stride, padding,
                                              output_padding, dilation,
                                              expected):
    self.assertEqual(transposed.output_size(
        size, kernel_size=k, stride=stride, padding=padding,
        output_padding=output_padding, dilation=dilation), expected)
    x = np.zeros((1, size, size + 1, 2), np.float32)
    kernel = np.zeros((k, k, 2, 3), np.float32)
    y = steerable.conv2d_transpose(x, kernel, stride=stride, padding=padding,
                                   output_padding=output_padding,
                                   dilation=dilation)
    width = transposed.output_size(
        size + 1, kernel_size=k, stride=stride, padding=padding,
        output_padding=output_padding, dilation=dilation)
    self.assertEqual(y.shape, (1, expected, width, 3))

  def test_zeros_mode_is_pytorch_padding_lo_with_output_padding_s_minus_1(
      self):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 5, 4, 3)).astype(np.float32)
    kernel = rng.standard_normal((5, 5, 3, 2)).astype(np.float32)
    np.testing.assert_allclose(
        steerable.conv2d_transpose(x, kernel, stride=2, padding='zeros'),
        steerable.conv2d_transpose(x, kernel, stride=2, padding=2,
                                   output_padding=1), atol=1e-6)


class ConvTransposeTest(parameterized.TestCase):

  @parameterized.named_parameters(*_GEOMETRIES)
  def test_equals_a_numpy_scatter(self, stride, padding, output_padding,
                                  dilation, k):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 4, 5, 3)).astype(np.float32)
    kernel = rng.standard_normal((k, k, 3, 2)).astype(np.float32)
    options = dict(stride=stride, padding=padding,
                   output_padding=output_padding, dilation=dilation)
    actual = steerable.conv2d_transpose(x, kernel, **options)
    expected = _scatter(x, kernel, **options)
    self.assertEqual(actual.shape, expected.shape)
    np.testing.assert_allclose(actual, expected, atol=1e-5)

  @parameterized.named_parameters(
      *[g for g in _GEOMETRIES if not isinstance(g[2], str)])
  def test_equals_lax_conv_transpose(self, stride, padding, output_padding,
                                     dilation, k):
    """``lax.conv_transpose(transpose_kernel=True)`` of the swapped kernel
    (the gradient of a conv ``C_out -> C_in``), PyTorch's cropping given as
    pads of the dilated input."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 6, 5, 3)).astype(np.float32)
    kernel = rng.standard_normal((k, k, 3, 4)).astype(np.float32)
    effective = dilation * (k - 1) + 1
    pads = [(effective - 1 - padding,
             effective - 1 - padding + output_padding)] * 2
    expected = lax.conv_transpose(
        x, np.swapaxes(kernel, 2, 3), (stride, stride), pads,
        rhs_dilation=(dilation, dilation),
        dimension_numbers=('NHWC', 'HWIO', 'NHWC'), transpose_kernel=True)
    np.testing.assert_allclose(
        steerable.conv2d_transpose(x, kernel, stride=stride, padding=padding,
                                   output_padding=output_padding,
                                   dilation=dilation), expected, atol=1e-5)

  @parameterized.product(padding=['zeros', 'circular'], stride=[1, 2, 3],
                         k=[2, 3, 4, 5], dilation=[1, 2])
  def test_adjoint_of_conv2d_with_the_same_mode(self, padding, stride, k,
                                                dilation):
    """``<conv2d(z, K^T), y> == <z, conv2d_transpose(y, K)>``."""
    rng = np.random.default_rng(3)
    y = rng.standard_normal((2, 4, 3, 3)).astype(np.float32)
    kernel = rng.standard_normal((k, k, 3, 2)).astype(np.float32)
    z = rng.standard_normal((2, 4 * stride, 3 * stride, 2)).astype(np.float32)
    up = steerable.conv2d_transpose(y, kernel, stride=stride, padding=padding,
                                    dilation=dilation)
    down = layers.conv2d(z, np.swapaxes(kernel, 2, 3), stride=stride,
                         padding=padding, dilation=dilation)
    self.assertEqual(up.shape, z.shape)
    self.assertEqual(down.shape, y.shape)
    left, right = float(jnp.vdot(up, z)), float(jnp.vdot(y, down))
    self.assertAlmostEqual(left, right, delta=1e-4 * abs(left) + 1e-4)


class WhichKernelTest(parameterized.TestCase):
  """The transposed conv uses the conv's basis ``in_type -> out_type``."""

  @parameterized.named_parameters(('C4', MIXED_C4, REGULAR_C4, 5),
                                  ('D4', D4_TYPE, D4_OUT, 3))
  def test_stride_1_is_the_conv_with_the_point_reflected_kernel(
      self, in_type, out_type, k):
    rng = np.random.default_rng(4)
    weights = _weights(rng, in_type, out_type, k)
    kernel = np.asarray(steerable.steerable_kernel(
        weights, in_type=in_type, out_type=out_type, kernel_size=k))
    x = rng.standard_normal((2, 7, 7, in_type.size)).astype(np.float32)
    np.testing.assert_allclose(
        steerable.steerable_conv2d_transpose(
            x, weights, in_type=in_type, out_type=out_type, kernel_size=k),
        layers.conv2d(x, kernel[::-1, ::-1], padding='zeros'), atol=1e-5)
    # K(-u) lies in the same kernel space: -I commutes with every g.
    dense = steerable.layer_basis(in_type, out_type, k).dense()
    dense = dense.reshape(len(dense), -1).T
    reflected = kernel[::-1, ::-1].reshape(-1)
    coefficients = np.linalg.lstsq(dense, reflected, rcond=None)[0]
    residual = np.linalg.norm(dense @ coefficients - reflected)
    self.assertLess(residual / np.linalg.norm(reflected), 1e-5)

  @parameterized.named_parameters(('C4_s2_zeros', MIXED_C4, REGULAR_C4, 5, 2,
                                   'zeros'),
                                  ('D4_s3_circular', D4_TYPE, D4_OUT, 3, 3,
                                   'circular'))
  def test_adjoint_of_the_steerable_conv_out_to_in(self, in_type, out_type,
                                                   k, stride, padding):
    """``K^T`` is in the basis ``out_type -> in_type``: with those
    coefficients, the steerable conv ``out -> in`` is the adjoint."""
    rng = np.random.default_rng(5)
    weights = _weights(rng, in_type, out_type, k)
    kernel = np.asarray(steerable.steerable_kernel(
        weights, in_type=in_type, out_type=out_type, kernel_size=k))
    backward = steerable.layer_basis(out_type, in_type, k)
    dense = backward.dense().reshape(backward.size, -1).T
    swapped = np.swapaxes(kernel, 2, 3).reshape(-1)
    coefficients = np.linalg.lstsq(dense, swapped, rcond=None)[0]
    self.assertLess(np.linalg.norm(dense @ coefficients - swapped) /
                    np.linalg.norm(swapped), 1e-5)
    y = rng.standard_normal((2, 5, 5, in_type.size)).astype(np.float32)
    z = rng.standard_normal((2, 5 * stride, 5 * stride,
                             out_type.size)).astype(np.float32)
    up = steerable.steerable_conv2d_transpose(
        y, weights, in_type=in_type, out_type=out_type, kernel_size=k,
        stride=stride, padding=padding)
    down = steerable.steerable_conv2d(
        z, coefficients.astype(np.float32), in_type=out_type,
        out_type=in_type, kernel_size=k, stride=stride, padding=padding)
    left, right = float(jnp.vdot(up, z)), float(jnp.vdot(y, down))
    self.assertAlmostEqual(left, right, delta=1e-4 * abs(left))


class SteerableConvTransposeTest(parameterized.TestCase):

  def test_bias_only_on_trivial_fields(self):
    rng = np.random.default_rng(6)
    weights = _weights(rng, REGULAR_C4, MIXED_C4, 3)
    x = rng.standard_normal((1, 5, 5, 4)).astype(np.float32)
    options = dict(in_type=REGULAR_C4, out_type=MIXED_C4, kernel_size=3,
                   stride=2)
    difference = (steerable.steerable_conv2d_transpose(
        x, weights, np.array([2.5], np.float32), **options) -
                  steerable.steerable_conv2d_transpose(x, weights, **options))
    np.testing.assert_allclose(difference[..., 0], 2.5, atol=1e-6)
    np.testing.assert_allclose(difference[..., 1:], 0.0, atol=1e-6)

  def test_gradients_reach_weights_bias_and_input_as_the_adjoint(self):
    rng = np.random.default_rng(7)
    weights = _weights(rng, REGULAR_C4, MIXED_C4, 3)
    bias = np.zeros(1, np.float32)
    x = rng.standard_normal((2, 4, 4, 4)).astype(np.float32)
    target = rng.standard_normal((2, 8, 8, 7)).astype(np.float32)
    options = dict(in_type=REGULAR_C4, out_type=MIXED_C4, kernel_size=3,
                   stride=2, padding='circular')

    def loss(weights, bias, x):
      y = steerable.steerable_conv2d_transpose(x, weights, bias, **options)
      return jnp.sum(y * target)

    grads = jax.jit(jax.grad(loss, argnums=(0, 1, 2)))(weights, bias, x)
    for grad in grads:
      self.assertTrue(np.all(np.isfinite(grad)))
      self.assertGreater(float(jnp.abs(grad).max()), 0.0)
    np.testing.assert_allclose(grads[1], [target[..., 0].sum()], rtol=1e-5)
    kernel = steerable.steerable_kernel(weights, in_type=REGULAR_C4,
                                        out_type=MIXED_C4, kernel_size=3)
    np.testing.assert_allclose(
        grads[2], layers.conv2d(target, jnp.swapaxes(kernel, 2, 3), stride=2,
                                padding='circular'), atol=1e-4)

  def test_module_types_parameters_and_output(self):
    module = steerable.SteerableConvTranspose(D4_TYPE, D4_OUT, kernel_size=3,
                                              stride=2, padding=1)
    self.assertEqual(module.in_type, D4_TYPE)
    self.assertEqual(module.out_type, D4_OUT)
    x = np.random.default_rng(8).standard_normal(
        (2, 5, 5, D4_TYPE.size)).astype(np.float32)
    variables = module.init(jax.random.PRNGKey(0), x)
    params = variables['params']
    self.assertEqual(params['weights'].shape,
                     (steerable.layer_basis(D4_TYPE, D4_OUT, 3).size,))
    self.assertEqual(params['bias'].shape, (1,))
    y = module.apply(variables, x)
    self.assertEqual(y.shape, (2, 9, 9, D4_OUT.size))   # (5-1)2 - 2 + 3
    np.testing.assert_allclose(y, steerable.steerable_conv2d_transpose(
        x, params['weights'], params['bias'], in_type=D4_TYPE,
        out_type=D4_OUT, kernel_size=3, stride=2, padding=1), atol=1e-6)
    exported = module.export(params)
    self.assertEqual(exported['kernel'].shape, (3, 3, D4_TYPE.size,
                                                D4_OUT.size))
    np.testing.assert_allclose(module.exported_call(exported, x), y,
                               atol=1e-5)
    errors = module.equivariance_errors(variables, x)
    self.assertLen(errors, 7)    # the non-identity elements of D4
    self.assertLess(max(errors.values()), 1e-5)

  def test_module_off_centre_grid_is_not_exact(self):
    module = steerable.SteerableConvTranspose(REGULAR_C4, REGULAR_C4,
                                              stride=2)  # 'zeros': 2 H
    x = np.random.default_rng(9).standard_normal((2, 5, 5, 4)).astype(
        np.float32)
    errors = module.equivariance_errors(
        module.init(jax.random.PRNGKey(0), x), x)
    self.assertGreater(min(errors.values()), 0.1)

  def test_chains_in_an_equivariant_sequential(self):
    hidden = groups.FieldType(C8, 2 * [C8.regular_representation])
    scalar = groups.FieldType(C8, [C8.trivial_representation])
    net = steerable.EquivariantSequential((
        steerable.SteerableConv(scalar, hidden, 3, stride=2),
        steerable.PointwiseNonlinearity(hidden),
        steerable.SteerableConvTranspose(hidden, scalar, 3, stride=2,
                                         padding=1)))
    self.assertEqual(net.out_type, scalar)
    x = np.random.default_rng(10).standard_normal((2, 9, 9, 1)).astype(
        np.float32)
    variables = net.init(jax.random.PRNGKey(1), x)
    self.assertEqual(net.apply(variables, x).shape, (2, 9, 9, 1))
    self.assertLess(max(net.equivariance_errors(variables, x).values()),
                    1e-5)
    with self.assertRaisesRegex(ValueError, 'layer 1'):
      steerable.EquivariantSequential((
          steerable.SteerableConv(scalar, hidden, 3),
          steerable.SteerableConvTranspose(scalar, hidden, 3)))


if __name__ == '__main__':
  absltest.main()
