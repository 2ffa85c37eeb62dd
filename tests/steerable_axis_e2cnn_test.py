"""The reflection axis matches e2cnn's ``FlipRot2dOnR2(N, axis=...)``.

For D4 / D8, regular -> regular and trivial -> regular, at axes 0, pi/4 and
pi/2, e2cnn 0.2.3's ``R2Conv`` over ``FlipRot2dOnR2(N, axis=a)`` and
equivlab's over ``groups.Dihedral(N, axis=a)`` (the same angle: both measure
the mirror line from the x axis, counter-clockwise, y up) give bases of the
same dimension and rank whose joint rank is the same number, and every
e2cnn basis kernel lies in equivlab's span (largest relative residual
printed; measured 4.8e-08); so do O(2) irrep fields at pi/4 and 0.3 and D4
regular fields at the off-grid axis 0.3 (7.7e-08). The bases are not the same vectors (as at the
default axis, tests/steerable_e2cnn_test.py), so the outputs are compared
after mapping e2cnn's filter on our basis (least squares), as
tests/steerable_transposed_e2cnn_test.py does. Negative control: e2cnn's
axis pi/4 against equivlab's 3pi/4 (the mirror image line) leaves its
kernels outside our span (residual ~1).

e2cnn caches basis expansions process-wide under a key that ignores the
axis, so its layers are built with ``recompute=True``
(:func:`benchmarks.steerable_basis.e2cnn_conv`). Without torch / e2cnn it is
skipped, saying why.
"""

import math

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from benchmarks import steerable_basis
from layers import steerable

_AXES = (('0', 0.0), ('pi_4', math.pi / 4), ('pi_2', math.pi / 2))
# (group, input fields, output fields, kernel size)
_PAIRS = (
    (('D', 4), ['regular'], ['regular'], 3),
    (('D', 4), ['trivial'], ['regular'], 5),
    (('D', 8), ['regular'], ['regular'], 5),
    (('D', 8), ['trivial'], ['regular'], 5),
)


class E2cnnReflectionAxisTest(parameterized.TestCase):

  def setUp(self):
    super().setUp()
    self.peers = steerable_basis.import_e2cnn()
    if self.peers is None:
      self.skipTest('e2cnn / torch are not installed (pip install -r '
                    'benchmarks/requirements-bench.txt); the reflection axis '
                    'is compared with e2cnn only where it is.')

  @parameterized.named_parameters(
      (f'{spec[0]}{spec[1]}_{fields_in[0]}_axis_{label}', spec, fields_in,
       fields_out, k, axis)
      for label, axis in _AXES
      for spec, fields_in, fields_out, k in _PAIRS)
  def test_same_kernel_space(self, spec, fields_in, fields_out, k, axis):
    row = steerable_basis.compare_pair(*self.peers, spec, fields_in,
                                       fields_out, k, axis=axis)
    print(row)
    self.assertEqual(row['equivlab_dim'], row['e2cnn_dim'])
    self.assertEqual(row['equivlab_rank'], row['e2cnn_rank'])
    self.assertEqual(row['joint_rank'], row['equivlab_rank'])
    self.assertLess(row['max_residual'], 1e-5)

  @parameterized.named_parameters(
      ('O2_axis_pi_4', ('O2', 3), math.pi / 4),
      ('O2_axis_0_3', ('O2', 3), 0.3),
      ('D4_axis_0_3', ('D', 4), 0.3))
  def test_same_kernel_space_o2_and_off_grid_axes(self, spec, axis):
    fields = (([('irrep', 1, 1), ('irrep', 1, 0)],
               [('irrep', 0, 0), ('irrep', 1, 2)]) if spec[0] == 'O2' else
              (['regular'], ['regular']))
    row = steerable_basis.compare_pair(*self.peers, spec, *fields, 5,
                                       axis=axis)
    print(row)
    self.assertEqual(row['equivlab_dim'], row['e2cnn_dim'])
    self.assertEqual(row['joint_rank'], row['equivlab_rank'])
    self.assertLess(row['max_residual'], 1e-5)

  def test_mirror_image_axis_is_another_space(self):
    row = steerable_basis.compare_pair(
        *self.peers, ('D', 4), ['trivial'], ['regular'], 5,
        axis=3 * math.pi / 4, their_axis=math.pi / 4)
    print(row)
    self.assertGreater(row['max_residual'], 0.5)

  @parameterized.named_parameters(('D4', ('D', 4), 3), ('D8', ('D', 8), 5))
  def test_same_output_at_axis_pi_4(self, spec, k):
    torch, e2cnn = self.peers
    axis = math.pi / 4
    group = steerable_basis.make_group(spec, axis)
    fields_in, fields_out = ['trivial', 'regular'], ['regular']
    in_type = steerable_basis.field_type(group, fields_in)
    out_type = steerable_basis.field_type(group, fields_out)
    layer = steerable_basis.e2cnn_conv(e2cnn, spec, fields_in, fields_out, k,
                                       axis)
    torch.manual_seed(0)
    with torch.no_grad():
      layer.weights.normal_()
      their_filter, _ = layer.expand_parameters()   # [C_out, C_in, k, k]
    kernel = their_filter.numpy().transpose(2, 3, 1, 0)   # [k, k, Ci, Co]
    ours = steerable.layer_basis(in_type, out_type, k)
    dense = ours.dense().reshape(ours.size, -1).T.astype(np.float64)
    weights, *_ = np.linalg.lstsq(dense, kernel.reshape(-1).astype(
        np.float64), rcond=None)
    residual = (np.linalg.norm(dense @ weights - kernel.reshape(-1)) /
                np.linalg.norm(kernel))
    self.assertLess(residual, 1e-5)
    x = np.random.default_rng(0).standard_normal(
        (2, 9, 9, in_type.size)).astype(np.float32)
    with torch.no_grad():
      theirs = layer(e2cnn.nn.GeometricTensor(
          torch.from_numpy(x.transpose(0, 3, 1, 2)), layer.in_type))
    theirs = theirs.tensor.numpy().transpose(0, 2, 3, 1)
    mine = np.asarray(steerable.steerable_conv2d(
        x, weights.astype(np.float32), in_type=in_type, out_type=out_type,
        kernel_size=k, padding='valid'))   # R2Conv's padding=0
    difference = float(np.abs(mine - theirs).max())
    print(f'{group}: largest |ours - e2cnn| = {difference:.2g} (largest '
          f'|e2cnn| {np.abs(theirs).max():.2g}), kernel residual '
          f'{residual:.2g}')
    self.assertLess(difference, 1e-4 * max(1.0, np.abs(theirs).max()))


if __name__ == '__main__':
  absltest.main()
