"""The transposed conv equals e2cnn's ``R2ConvTransposed`` (where installed).

e2cnn 0.2.3 builds ``R2ConvTransposed``'s filter with the basis of
``R2Conv(in_type, out_type)`` and applies it with torch's
``conv_transpose2d``; ``layers.steerable.steerable_conv2d_transpose`` uses
the basis of ``layer_basis(in_type, out_type)``. The two bases span the
same space (tests/steerable_e2cnn_test.py) but are not the same vectors,
so the coefficients are mapped: e2cnn's filter for random weights is
projected on our basis (least squares; the residual is checked), and both
layers then run on the same input (strides 1-3, paddings 0-2, output
paddings 0-2). Measured (this file prints it; float32, torch 2.13, e2cnn
0.2.3): largest absolute difference of the outputs 9.5e-7 with outputs up
to 3.9 in size, kernel residual below 1e-7. Without torch / e2cnn it is
skipped, saying why.
"""

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from benchmarks import steerable_basis
from layers import steerable

# (group, input fields, output fields, kernel size). A bias is compared
# where the output has trivial fields and otherwise only irreps without a
# trivial component: e2cnn biases every trivial irrep of every field (a
# regular field's mean too), equivlab trivial fields only; elsewhere the
# layers run without bias.
_PAIRS = (
    (('C', 4), ['regular'], ['regular', 'regular'], 3),
    (('C', 8), ['trivial', ('irrep', 1)], ['trivial', ('irrep', 2)], 5),
    (('D', 4), ['regular'], [('quotient', 'C', 4), ('irrep', 1, 1)], 3),
    (('SO2', 3), [('irrep', 1)], ['trivial', ('irrep', 2)], 5),
)
# (stride, padding, output_padding)
_GEOMETRIES = ((1, 1, 0), (1, 0, 0), (2, 1, 0), (2, 1, 1), (2, 2, 1),
               (3, 0, 2))


class E2cnnTransposedConvTest(parameterized.TestCase):

  def setUp(self):
    super().setUp()
    self.peers = steerable_basis.import_e2cnn()
    if self.peers is None:
      self.skipTest('e2cnn / torch are not installed (pip install -r '
                    'benchmarks/requirements-bench.txt); the transposed conv '
                    'is compared with e2cnn only where it is.')

  @parameterized.named_parameters(
      (f'{spec[0]}{spec[1]}_{i}', spec, fields_in, fields_out, k)
      for i, (spec, fields_in, fields_out, k) in enumerate(_PAIRS))
  def test_same_output_as_r2conv_transposed(self, spec, fields_in,
                                            fields_out, k):
    torch, e2cnn = self.peers
    group = steerable_basis.make_group(spec)
    in_type = steerable_basis.field_type(group, fields_in)
    out_type = steerable_basis.field_type(group, fields_out)
    gspace = steerable_basis.e2cnn_gspace(e2cnn, spec)
    their_types = [e2cnn.nn.FieldType(gspace, [
        steerable_basis.e2cnn_representation(gspace, spec, f)
        for f in fields]) for fields in (fields_in, fields_out)]
    ours = steerable.layer_basis(in_type, out_type, k)
    dense = ours.dense().reshape(ours.size, -1).T.astype(np.float64)
    rng = np.random.default_rng(0)
    worst = worst_residual = scale = 0.0
    for stride, padding, output_padding in _GEOMETRIES:
      torch.manual_seed(0)
      n_trivial = len(out_type.trivial_channels())
      layer = e2cnn.nn.R2ConvTransposed(
          *their_types, k, padding=padding, output_padding=output_padding,
          stride=stride, bias=n_trivial > 0)
      bias = None
      with torch.no_grad():
        if n_trivial:
          bias = rng.standard_normal(n_trivial).astype(np.float32)
          layer.bias.copy_(torch.from_numpy(bias))
        their_filter, _ = layer.expand_parameters()   # [C_in, C_out, k, k]
      kernel = their_filter.numpy().transpose(2, 3, 0, 1)  # [k, k, Ci, Co]
      weights, *_ = np.linalg.lstsq(dense, kernel.reshape(-1).astype(
          np.float64), rcond=None)
      residual = (np.linalg.norm(dense @ weights - kernel.reshape(-1)) /
                  np.linalg.norm(kernel))
      self.assertLess(residual, 1e-5)
      worst_residual = max(worst_residual, residual)
      x = rng.standard_normal((2, 7, 6, in_type.size)).astype(np.float32)
      with torch.no_grad():
        theirs = layer(e2cnn.nn.GeometricTensor(
            torch.from_numpy(x.transpose(0, 3, 1, 2)), their_types[0]))
      theirs = theirs.tensor.numpy().transpose(0, 2, 3, 1)
      mine = np.asarray(steerable.steerable_conv2d_transpose(
          x, weights.astype(np.float32), bias, in_type=in_type,
          out_type=out_type, kernel_size=k, stride=stride, padding=padding,
          output_padding=output_padding))
      self.assertEqual(mine.shape, theirs.shape)
      difference = float(np.abs(mine - theirs).max())
      worst = max(worst, difference)
      scale = max(scale, float(np.abs(theirs).max()))
      self.assertLess(difference, 1e-4 * max(1.0, np.abs(theirs).max()))
    print(f'{group} {fields_in} -> {fields_out}, {k}x{k}: largest |ours - '
          f'e2cnn| = {worst:.2g} (largest |e2cnn| {scale:.2g}), kernel '
          f'residual {worst_residual:.2g}')


if __name__ == '__main__':
  absltest.main()
