"""Tests of the probe core (experiments/probe_harness.py), the shift probe
(experiments/shift_probe.py) and data/embedded."""

import csv
import json
import os
import shutil
import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import ml_collections
import numpy as np

import data
import groups
from experiments import probe_harness
from experiments import shift_probe
from experiments import reporting
from experiments.configs import probe as probe_config

EXACT = 1e-5  # float32 rounding of an exactly equivariant function


class ProbeRunTest(parameterized.TestCase):
  """Runs the tiny probe once and checks the files and the physics."""

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.workdir = tempfile.mkdtemp()
    cls.config = probe_config.get_config('tiny')
    cls.rows = shift_probe.run(cls.config, cls.workdir)
    cls.errors = {(r['function'], r['images'], r['shift']): r['error']
                  for r in cls.rows}
    cls.shifts = shift_probe.shift_values(cls.config.max_shift,
                                    cls.config.subpixel_shifts)

  @classmethod
  def tearDownClass(cls):
    shutil.rmtree(cls.workdir, ignore_errors=True)
    super().tearDownClass()

  def error(self, function, images, shift):
    return self.errors[(function, images, shift)]

  def test_writes_all_files(self):
    for name in ('config.json', 'results.csv', 'results.md', 'probe.png'):
      path = os.path.join(self.workdir, name)
      self.assertTrue(os.path.isfile(path), name)
      self.assertGreater(os.path.getsize(path), 0, name)
    with open(os.path.join(self.workdir, 'config.json')) as f:
      self.assertEqual(json.load(f)['max_shift'], self.config.max_shift)

  def test_csv_has_one_row_per_function_source_shift(self):
    with open(os.path.join(self.workdir, 'results.csv')) as f:
      reader = csv.DictReader(f)
      self.assertEqual(tuple(reader.fieldnames), shift_probe.CSV_COLUMNS)
      rows = list(reader)
    functions = [p.name for p in shift_probe.make_probes(
        shift_probe.init_params(np.random.default_rng(0), channels=2))]
    self.assertLen(functions, 16)
    self.assertEqual(self.shifts, [0, 0.5, 1, 2])
    self.assertLen(rows, len(functions) * 2 * len(self.shifts))
    self.assertEqual({(r['function'], r['images'], float(r['shift']))
                      for r in rows},
                     {(f, s, float(t)) for f in functions
                      for s in ('random', 'digits') for t in self.shifts})
    self.assertEqual({r['kind'] for r in rows}, set(shift_probe.KINDS))
    for r in rows:
      self.assertTrue(np.isfinite(float(r['error'])), r)
      self.assertGreaterEqual(float(r['error']), 0.0, r)

  def test_markdown_table_has_a_row_per_function_and_source(self):
    with open(os.path.join(self.workdir, 'results.md')) as f:
      text = f.read()
    table = [line for line in text.splitlines() if line.startswith('|')]
    self.assertLen(table, 2 + 16 * 2)  # header, separator, rows
    self.assertIn('t=0.5', table[0])
    self.assertIn('| conv_circular | equivariance | 1 | random |', text)

  def test_zero_shift_is_exact(self):
    for r in self.rows:
      if r['shift'] == 0:
        self.assertLess(r['error'], 1e-7, r)

  @parameterized.product(
      function=('conv_circular', 'net_stride1', 'net_aps_pool'),
      images=('random', 'digits'))
  def test_exact_at_every_integer_shift(self, function, images):
    for shift in range(self.config.max_shift + 1):
      self.assertLess(self.error(function, images, shift), EXACT, shift)

  @parameterized.parameters('random', 'digits')
  def test_max_pool_exact_only_for_multiples_of_its_stride(self, images):
    self.assertLess(self.error('max_pool_s2', images, 2), EXACT)
    self.assertGreater(self.error('max_pool_s2', images, 1), 1e-2)

  @parameterized.parameters('random', 'digits')
  def test_max_pool_net_is_not_invariant_to_odd_shifts(self, images):
    self.assertGreater(self.error('net_max_pool', images, 1), 1e-3)
    self.assertLess(self.error('net_max_pool', images, 2), EXACT)

  @parameterized.parameters('random', 'digits')
  def test_fc_head_breaks_invariance(self, images):
    self.assertGreater(self.error('net_fc_head', images, 1), 1e-2)

  def test_zero_padding_breaks_equivariance_at_the_border(self):
    self.assertGreater(self.error('conv_zeros', 'random', 1), 0.0)
    # Digits sit on a black margin wider than the shift: no border effect.
    self.assertLess(self.error('conv_zeros', 'digits', 1), EXACT)

  def test_relu_breaks_subpixel_invariance(self):
    # A circular conv commutes with any (Fourier) shift; ReLU does not.
    self.assertLess(self.error('conv_circular', 'random', 0.5), EXACT)
    self.assertGreater(self.error('net_stride1', 'random', 0.5), 1e-3)


class ProbeHelpersTest(parameterized.TestCase):

  @parameterized.parameters(
      ('horizontal', 3, groups.CircularShift(0, 3)),
      ('vertical', 3, groups.CircularShift(3, 0)),
      ('diagonal', 2, groups.CircularShift(2, 2)),
      ('horizontal', 0.5, groups.FourierShift(0.0, 0.5)),
      ('diagonal', 0.25, groups.FourierShift(0.25, 0.25)),
  )
  def test_shift_transform(self, direction, shift, expected):
    self.assertEqual(shift_probe.shift_transform(shift, direction), expected)

  def test_shift_transform_rejects_unknown_direction(self):
    with self.assertRaisesRegex(ValueError, 'direction'):
      shift_probe.shift_transform(1, 'sideways')

  def test_output_action(self):
    fn = lambda x: x
    shift = groups.CircularShift(0, 2)
    self.assertEqual(
        shift_probe.output_action(
            shift_probe.Probe('f', 'equivariance', 2, fn), shift),
        groups.CircularShift(0, 1))
    self.assertEqual(
        shift_probe.output_action(
            shift_probe.Probe('f', 'equivariance', 2, fn),
            groups.CircularShift(0, 1)),
        groups.FourierShift(0.0, 0.5))
    self.assertEqual(
        shift_probe.output_action(
            shift_probe.Probe('f', 'invariance', 2, fn), shift),
        groups.Identity())

  def test_shift_values(self):
    self.assertEqual(shift_probe.shift_values(2, (0.5, 0.25)),
                     [0, 0.25, 0.5, 1, 2])
    self.assertEqual(shift_probe.shift_values(0, ()), [0])

  @parameterized.parameters(
      ('max_shift', -1, ()), ('max_shift', 1.0, ()), ('subpixel', 1, (1.0,)),
      ('subpixel', 1, (-0.5,)), ('subpixel', 1, (float('nan'),)))
  def test_shift_values_rejects(self, name, max_shift, subpixel):
    with self.assertRaisesRegex(ValueError, name):
      shift_probe.shift_values(max_shift, subpixel)

  @parameterized.parameters((0.0, '0'), (0.1234, '0.123'), (1.5, '1.500'),
                            (1.2e-7, '1.2e-07'), (0.0049, '4.9e-03'))
  def test_format_error(self, error, expected):
    self.assertEqual(reporting.format_error(error), expected)

  def test_markdown_table(self):
    rows = [dict(function='f', kind='invariance', stride=1, images='random',
                 shift=s, error=e) for s, e in ((0, 0.0), (0.5, 0.25),
                                                (1, 3e-8))]
    self.assertEqual(
        shift_probe.markdown_table(rows).splitlines(),
        ['| function | kind | stride | images | t=0 | t=0.5 | t=1 |',
         '|---|---|---|---|---:|---:|---:|',
         '| f | invariance | 1 | random | 0 | 0.250 | 3.0e-08 |'])

  def test_params_have_lecun_scale(self):
    params = shift_probe.init_params(np.random.default_rng(0), channels=8)
    self.assertEqual(params['conv2'].shape, (3, 3, 8, 8))
    self.assertEqual(params['dense'].shape,
                     (32 * 32 * 8, shift_probe.NUM_OUTPUTS))
    self.assertAlmostEqual(float(np.std(params['dense'])),
                           1 / np.sqrt(32 * 32 * 8), delta=1e-3)

  @parameterized.named_parameters(
      ('direction', 'direction', 'up', 'config.direction'),
      ('sources', 'image_sources', ('random', 'mnist'), 'image_sources'),
      ('no_sources', 'image_sources', (), 'image_sources'),
      ('batch', 'batch_size', 0, 'config.batch_size'),
      ('channels', 'channels', 0, 'config.channels'),
      ('max_shift', 'max_shift', -2, 'max_shift'))
  def test_run_rejects_bad_config(self, key, value, message):
    config = probe_config.get_config('tiny')
    config[key] = value
    workdir = self.enter_context(tempfile.TemporaryDirectory())
    with self.assertRaisesRegex(ValueError, message):
      shift_probe.run(config, workdir)


class ProbingCoreTest(parameterized.TestCase):
  """The shared core: image sources, measurement loop, report writers."""

  def test_load_images_sources(self):
    images = probe_harness.load_images(
        ('random', 'smooth', 'digits'), batch_size=3, image_size=21,
        cutoff=0.1, digit_size=9, rng=np.random.default_rng(0))
    self.assertEqual(list(images), ['random', 'smooth', 'digits'])
    for x in images.values():
      self.assertEqual(x.shape, (3, 21, 21, 1))
      self.assertEqual(x.dtype, np.float32)
    # 'random' draws first, then 'smooth' continues the same stream.
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(
        images['random'], rng.standard_normal((3, 21, 21, 1), np.float32))
    np.testing.assert_array_equal(
        images['smooth'], groups.synthetic.smooth_images(
            rng, (3, 21, 21, 1), cutoff=0.1, region='disk', normalize=True))
    digits, _ = data.embedded_digits(canvas_size=21, digit_size=9, limit=3)
    np.testing.assert_array_equal(images['digits'], digits)

  @parameterized.named_parameters(
      ('unknown', ('noise',), 3, 'image_sources'),
      ('too_many_digits', ('digits',), 5000, 'batch_size must be <= 1797'))
  def test_load_images_rejects(self, sources, batch_size, message):
    with self.assertRaisesRegex(ValueError, message):
      probe_harness.load_images(sources, batch_size=batch_size, image_size=8,
                          digit_size=8, rng=np.random.default_rng(0))

  def test_measure_merges_network_source_and_transform_fields(self):
    images = {'a': np.ones((1, 4, 4, 1), np.float32)}
    transforms = [(dict(shift=s), groups.CircularShift(0, s)) for s in (0, 1)]

    def evaluate(name, network, x, transform):
      return [dict(kind='invariance', error=float(
          np.mean(groups.equivariance_error(network, x, transform,
                                            groups.Identity()))),
                   note=name.upper())]

    rows = probe_harness.measure({'f': lambda x: x.sum(axis=(1, 2))}, images,
                           transforms, evaluate=evaluate, network_key='fn')
    self.assertEqual(rows, [
        dict(fn='f', images='a', shift=0, kind='invariance', error=0.0,
             note='F'),
        dict(fn='f', images='a', shift=1, kind='invariance', error=0.0,
             note='F')])

  def test_pivot_table_keeps_first_seen_lines_and_sorts_columns(self):
    rows = [dict(net='b', layer=2, error=0.5), dict(net='a', layer=1,
                                                     error=0.0),
            dict(net='b', layer=1, error=2e-3)]
    self.assertEqual(
        reporting.pivot_table(rows, index=('net',), column='layer',
                              header=lambda i: f'L{i}').splitlines(),
        ['| net | L1 | L2 |', '|---|---:|---:|', '| b | 2.0e-03 | 0.500 |',
         '| a | 0 |  |'])

  def test_write_markdown_and_csv(self):
    workdir = self.enter_context(tempfile.TemporaryDirectory())
    path = os.path.join(workdir, 'results.md')
    reporting.write_markdown(path, title='T', summary='S.',
                             tables=[('', '| a |'), ('More', '| b |')])
    with open(path) as f:
      self.assertEqual(f.read(), '# T\n\nS.\n\n| a |\n\n## More\n\n| b |\n')
    path = os.path.join(workdir, 'results.csv')
    reporting.write_csv([dict(shift=0.5, error=0.1)], path,
                        formats={'shift': lambda s: f'{s:g}px'})
    with open(path) as f:
      self.assertEqual(f.read().splitlines(), ['shift,error', '0.5px,0.1'])

  @parameterized.named_parameters(
      ('batch', 'batch_size', 0, 'config.batch_size'),
      ('sources', 'image_sources', ('smooth', 'mnist'), 'image_sources'),
      ('cutoff', 'cutoff', 0.0, 'config.cutoff'))
  def test_check_config(self, key, value, message):
    config = ml_collections.ConfigDict(dict(
        batch_size=2, image_sources=('smooth',), cutoff=0.1))
    probe_harness.check_config(config,
                               image_sources=probe_harness.IMAGE_SOURCES)
    config[key] = value
    with self.assertRaisesRegex(ValueError, message):
      probe_harness.check_config(config, image_sources=('smooth', 'digits'))


class EmbeddedDigitsTest(parameterized.TestCase):

  def test_shapes_range_and_labels(self):
    images, labels = data.embedded_digits()
    self.assertEqual(images.shape, (1797, 32, 32, 1))
    self.assertEqual(images.dtype, np.float32)
    self.assertEqual(labels.shape, (1797,))
    self.assertEqual(labels.dtype, np.int64)
    self.assertEqual(images.min(), 0.0)
    self.assertLessEqual(images.max(), 1.0)
    self.assertGreater(images.max(), 0.9)
    self.assertEqual(set(labels.tolist()), set(range(10)))

  def test_limit_takes_the_first_digits(self):
    images, labels = data.embedded_digits(limit=7, canvas_size=20,
                                          digit_size=16)
    self.assertEqual(images.shape, (7, 20, 20, 1))
    np.testing.assert_array_equal(labels, np.arange(7))

  def test_digit_is_centred_on_a_black_canvas(self):
    images, _ = data.embedded_digits(canvas_size=32, digit_size=24, limit=50)
    # 4 black pixels on every side.
    for border in (images[:, :4], images[:, -4:], images[:, :, :4],
                   images[:, :, -4:]):
      self.assertEqual(np.abs(border).max(), 0.0)
    # The average digit's centre of mass is near the canvas centre (15.5).
    mass = images[..., 0].mean(axis=0)
    grid = np.arange(32)
    row = (mass.sum(axis=1) * grid).sum() / mass.sum()
    col = (mass.sum(axis=0) * grid).sum() / mass.sum()
    self.assertAlmostEqual(row, 15.5, delta=1.5)
    self.assertAlmostEqual(col, 15.5, delta=1.5)

  def test_native_size_keeps_the_pixel_values(self):
    images, _ = data.embedded_digits(canvas_size=8, digit_size=8, limit=3)
    from sklearn import datasets  # pylint: disable=g-import-not-at-top
    expected = datasets.load_digits().images[:3] / 16.0
    np.testing.assert_allclose(images[..., 0], expected, rtol=1e-6)

  @parameterized.named_parameters(
      ('digit_too_big', dict(canvas_size=16, digit_size=24), 'digit_size'),
      ('zero_canvas', dict(canvas_size=0), 'canvas_size'),
      ('float_digit', dict(digit_size=8.0), 'digit_size'),
      ('bool_canvas', dict(canvas_size=True), 'canvas_size'),
      ('zero_limit', dict(limit=0), 'limit'),
      ('float_limit', dict(limit=2.5), 'limit'))
  def test_rejects_bad_arguments(self, kwargs, name):
    with self.assertRaisesRegex(ValueError, name):
      data.embedded_digits(**kwargs)


if __name__ == '__main__':
  absltest.main()
