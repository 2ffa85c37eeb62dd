"""experiments/unet_demo.py: a tiny run end to end, and its measurements."""

import os
import shutil
import tempfile

from absl.testing import absltest
import numpy as np

from experiments import reporting
from experiments import unet_demo

# Two levels (one halving) on a 16x16 torus; 10 steps move both models off
# their initial near-0.5 output, so the plain net's errors are well above 0.
TINY = unet_demo.Settings(steps=10, batch_size=8, learning_rate=1e-2,
                          canvas_size=16, digit_size=8, plain_widths=(2, 4),
                          steerable_widths=(1, 2), test_limit=8, log_every=5)


class TinyRunTest(absltest.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.out = tempfile.mkdtemp(prefix='unet_demo_test_')
    cls.lines = []
    cls.rows = unet_demo.run(TINY, cls.out, log=cls.lines.append)

  @classmethod
  def tearDownClass(cls):
    shutil.rmtree(cls.out, ignore_errors=True)
    super().tearDownClass()

  def _errors(self, model, kind):
    return {r['amount']: r['equivariance_error'] for r in self.rows
            if r['model'] == model and r['kind'] == kind}

  def test_writes_every_output(self):
    for name in unet_demo.OUTPUTS:
      path = os.path.join(self.out, name)
      self.assertTrue(os.path.isfile(path), name)
      self.assertGreater(os.path.getsize(path), 100, name)
    with open(os.path.join(self.out, 'equivariance_errors.png'), 'rb') as f:
      self.assertEqual(f.read(8), b'\x89PNG\r\n\x1a\n')
    written = reporting.read_csv(os.path.join(self.out, 'results.csv'))
    # Per model: as given, 7 shifts, 3 quarter turns, 45 degrees.
    self.assertLen(written, 2 * 12)
    self.assertEqual([r['model'] for r in written],
                     ['plain'] * 12 + ['steerable'] * 12)
    with open(os.path.join(self.out, 'results.md')) as f:
      text = f.read()
    self.assertIn('| model | params | train s |', text)
    self.assertIn('steerable (`steerable_unet`', text)
    self.assertTrue(any('step 10/10' in line for line in self.lines))

  def test_steerable_unet_is_exact_under_shifts_and_quarter_turns(self):
    shifts = self._errors('steerable', 'shift')
    turns = self._errors('steerable', 'quarter_turn')
    self.assertEqual(sorted(shifts), list(range(1, 8)))
    self.assertEqual(sorted(turns), [90, 180, 270])
    for amount, error in {**shifts, **turns}.items():
      self.assertLess(error, 1e-5, amount)

  def test_plain_unet_is_not(self):
    shifts = self._errors('plain', 'shift')
    # Odd shifts move content onto the phase the strided conv drops
    # (measured 0.018); a quarter turn meets unconstrained kernels (0.48).
    for s in (1, 3, 5, 7):
      self.assertGreater(shifts[s], 1e-3, s)
    for error in self._errors('plain', 'quarter_turn').values():
      self.assertGreater(error, 1e-2)
    # One halving: shifts by a multiple of its stride 2 are exact.
    for s in (2, 4, 6):
      self.assertLess(shifts[s], 1e-5, s)

  def test_45_degrees_is_approximate_for_both(self):
    for model in unet_demo.MODEL_NAMES:
      (error,) = self._errors(model, 'rotation').values()
      self.assertGreater(error, 1e-3, model)

  def test_steerable_scores_do_not_change_under_exact_transformations(self):
    own = [r for r in self.rows if r['model'] == 'steerable']
    for r in own:
      if r['kind'] in ('shift', 'quarter_turn'):
        self.assertEqual(r['iou'], own[0]['iou'])
        self.assertEqual(r['pixel_error'], own[0]['pixel_error'])


class ScoresTest(absltest.TestCase):

  def test_pixel_error_and_iou(self):
    clean = np.zeros((1, 4, 4, 1), np.float32)
    clean[0, :2, :2] = 1.0            # 4 foreground pixels
    probabilities = np.zeros_like(clean)
    probabilities[0, :2, :1] = 0.9    # 2 of them found
    probabilities[0, 3, 3] = 0.7      # 1 false positive
    scores = unet_demo.segmentation_scores(probabilities, clean)
    self.assertAlmostEqual(scores['pixel_error'], 3 / 16)
    self.assertAlmostEqual(scores['iou'], 2 / 5)

  def test_settings_reject_an_odd_canvas(self):
    with self.assertRaisesRegex(ValueError, 'canvas_size must be even'):
      unet_demo.Settings(canvas_size=15, digit_size=8)


if __name__ == '__main__':
  absltest.main()
