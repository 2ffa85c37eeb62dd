"""The kernel space equals e2cnn's (runs where torch and e2cnn are installed).

For pairs of field types, e2cnn 0.2.3's ``R2Conv`` (default rings, widths and
frequency cut-off) and ``layers.steerable`` give bases of the same dimension
and rank, and every e2cnn basis kernel lies in equivlab's span (relative
residual ~1e-7). The full table (14 pairs) is made by
``python -m benchmarks.steerable_basis`` and committed in
benchmarks/results/steerable_basis.md; this test checks a fast subset.
Without torch / e2cnn it is skipped, saying why.
"""

from absl.testing import absltest
from absl.testing import parameterized

from benchmarks import steerable_basis

# A subset of steerable_basis.PAIRS: one per group family, mixed fields.
_PAIRS = [steerable_basis.PAIRS[i] for i in (0, 4, 8, 11, 13)]


class E2cnnKernelSpaceTest(parameterized.TestCase):

  def setUp(self):
    super().setUp()
    self.peers = steerable_basis.import_e2cnn()
    if self.peers is None:
      self.skipTest('e2cnn / torch are not installed (pip install -r '
                    'benchmarks/requirements-bench.txt); the kernel spaces '
                    'are compared with e2cnn only where it is.')

  @parameterized.named_parameters(
      (f'{spec[0]}{spec[1]}_{i}', spec, fields_in, fields_out, k)
      for i, (spec, fields_in, fields_out, k) in enumerate(_PAIRS))
  def test_same_kernel_space(self, spec, fields_in, fields_out, k):
    row = steerable_basis.compare_pair(*self.peers, spec, fields_in,
                                       fields_out, k)
    print(row)
    self.assertEqual(row['equivlab_dim'], row['e2cnn_dim'])
    self.assertEqual(row['equivlab_rank'], row['e2cnn_rank'])
    self.assertEqual(row['joint_rank'], row['equivlab_rank'])
    self.assertLess(row['max_residual'], 1e-5)


if __name__ == '__main__':
  absltest.main()
