"""Tests for groups: translations, rotations, composition, masks and errors."""

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
import numpy as np

import groups
from groups import interpolated
from groups import translations
import layers


def _random(shape, seed=0):
  return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def zero_fill_shift_reference(x, dy, dx):
  """out[:, h, w] = x[:, h - dy, w - dx] where that is on the grid, else 0."""
  out = np.zeros_like(x)
  height, width = x.shape[1:3]
  for h in range(height):
    for w in range(width):
      if 0 <= h - dy < height and 0 <= w - dx < width:
        out[:, h, w] = x[:, h - dy, w - dx]
  return out


class ShiftFunctionsTest(absltest.TestCase):
  """translations.circular_shift / zero_fill_shift: one amount per map."""

  def test_per_map_shifts_of_group_maps_match_the_transforms(self):
    from groups import translations  # pylint: disable=g-import-not-at-top
    x = _random((3, 5, 6, 4, 2))  # [B, H, W, G, C]
    shifts = np.array([[1, -2], [0, 7], [-6, 3]])
    for n, (dy, dx) in enumerate(shifts):
      np.testing.assert_array_equal(
          translations.circular_shift(x, shifts)[n:n + 1],
          np.roll(x[n:n + 1], (dy, dx), axis=(1, 2)))
      shifted = jax.jit(translations.zero_fill_shift)(x, jnp.asarray(shifts))
      np.testing.assert_array_equal(
          shifted[n:n + 1], zero_fill_shift_reference(x[n:n + 1], dy, dx))
    self.assertIsInstance(translations.circular_shift(x, (1, 1)), np.ndarray)
    with self.assertRaisesRegex(ValueError,
                                r'^shifts must be a \(dy, dx\) pair'):
      translations.zero_fill_shift(x, np.zeros((2, 2), int))


class CircularShiftTest(parameterized.TestCase):

  @parameterized.parameters((1, 0), (0, 2), (-1, 3), (5, -7), (0, 0))
  def test_is_np_roll(self, dy, dx):
    x = _random((2, 4, 5, 3))
    np.testing.assert_array_equal(groups.CircularShift(dy, dx)(x),
                                  np.roll(x, (dy, dx), axis=(1, 2)))

  def test_sign_convention(self):
    x = _random((1, 4, 5, 1))
    y = np.asarray(groups.CircularShift(1, 2)(x))
    for h in range(4):
      for w in range(5):
        self.assertEqual(y[0, h, w, 0], x[0, (h - 1) % 4, (w - 2) % 5, 0])

  def test_composition_adds(self):
    x = _random((1, 5, 6, 2))
    a, b = groups.CircularShift(2, -1), groups.CircularShift(-4, 3)
    np.testing.assert_array_equal(b(a(x)), groups.CircularShift(-2, 2)(x))
    np.testing.assert_array_equal(a.then(b)(x), groups.CircularShift(-2, 2)(x))

  def test_inverse_undoes(self):
    x = _random((2, 4, 5, 3))
    t = groups.CircularShift(3, -2)
    np.testing.assert_array_equal(t.inverse()(t(x)), x)
    self.assertEqual(t.inverse(), groups.CircularShift(-3, 2))

  def test_accepts_numpy_integers(self):
    x = _random((1, 3, 3, 1))
    np.testing.assert_array_equal(
        groups.CircularShift(np.int64(1), np.int32(2))(x),
        np.roll(x, (1, 2), axis=(1, 2)))


class ZeroFillShiftTest(parameterized.TestCase):

  @parameterized.parameters((1, 0), (0, -2), (-2, 3), (3, 1), (4, 0), (0, -5),
                            (-9, 9), (0, 0))
  def test_matches_numpy_reference(self, dy, dx):
    x = _random((2, 4, 5, 2))
    np.testing.assert_array_equal(groups.ZeroFillShift(dy, dx)(x),
                                  zero_fill_shift_reference(x, dy, dx))

  @parameterized.parameters((4, 0), (0, 5), (-4, 1), (2, -5), (10, 10))
  def test_shift_off_the_grid_gives_zeros(self, dy, dx):
    x = _random((1, 4, 5, 2))
    np.testing.assert_array_equal(groups.ZeroFillShift(dy, dx)(x),
                                  np.zeros_like(x))

  def test_inverse_restores_the_interior(self):
    x = _random((1, 5, 5, 1))
    t = groups.ZeroFillShift(1, -2)
    back = np.asarray(t.inverse()(t(x)))
    np.testing.assert_array_equal(back[:, :4, 2:], x[:, :4, 2:])
    np.testing.assert_array_equal(back[:, 4:], 0)
    np.testing.assert_array_equal(back[:, :, :2], 0)


class FourierShiftTest(parameterized.TestCase):

  @parameterized.parameters(((8, 8), 1, -3), ((7, 6), 2, 5), ((5, 9), -4, 0))
  def test_integer_amounts_equal_circular_shift(self, hw, dy, dx):
    x = _random((2,) + hw + (3,))
    np.testing.assert_allclose(groups.FourierShift(dy, dx)(x),
                               groups.CircularShift(dy, dx)(x), atol=1e-5)

  def test_successive_shifts_add(self):
    # Odd sizes: no Nyquist bin, whose real part does not compose exactly.
    x = _random((2, 7, 9, 2))
    a, b = groups.FourierShift(0.3, -1.25), groups.FourierShift(0.45, 0.5)
    np.testing.assert_allclose(b(a(x)), groups.FourierShift(0.75, -0.75)(x),
                               atol=1e-5)

  @parameterized.parameters((0.5, 0.0), (0.0, -0.5), (0.5, 1.5), (-0.25, 0.75))
  def test_sub_pixel_shift_of_a_smooth_signal(self, dy, dx):
    height, width = 8, 10
    h = np.arange(height)[:, None]
    w = np.arange(width)[None, :]

    def signal(h, w):  # band-limited: frequencies 1/8 and 2/10 cycles/px
      return (np.cos(2 * np.pi * (h / height + 2 * w / width) + 0.3)
              + 0.5 * np.sin(2 * np.pi * 2 * w / width))

    x = signal(h, w)[None, :, :, None].astype(np.float32)
    expected = signal(h - dy, w - dx)[None, :, :, None]
    np.testing.assert_allclose(groups.FourierShift(dy, dx)(x), expected,
                               atol=1e-5)

  def test_preserves_dtype(self):
    x = _random((1, 4, 4, 1))
    self.assertEqual(groups.FourierShift(0.5, 0)(x).dtype, jnp.float32)

  def test_inverse_undoes(self):
    x = _random((1, 5, 7, 2))
    t = groups.FourierShift(0.4, -1.3)
    np.testing.assert_allclose(t.inverse()(t(x)), x, atol=1e-5)


class ExactFlagTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('circular', groups.CircularShift(1, 2), True),
      ('zero_fill', groups.ZeroFillShift(1, 2), True),
      ('fourier_integer', groups.FourierShift(1, -2), True),
      ('fourier_integer_float', groups.FourierShift(1.0, 2.0), True),
      ('fourier_half', groups.FourierShift(0.5, 0), False),
      ('rot90', groups.Rot90(1), True),
      ('flip', groups.Flip(), True),
      ('identity', groups.Identity(), True),
      ('compose_exact', groups.Compose((groups.Rot90(1),
                                        groups.CircularShift(1, 0))), True),
      ('compose_inexact', groups.Compose((groups.Rot90(1),
                                          groups.FourierShift(0, 0.5))), False),
  )
  def test_exact(self, transform, exact):
    self.assertEqual(transform.exact, exact)


def _numpy_path_cases():
  """Exact actions with a NumPy path, and inputs of their layout."""
  c4, d4 = groups.Cyclic(4), groups.Dihedral(4)
  # A field whose 90-degree matrix is no signed permutation: a rotated basis.
  angle = 0.3
  basis = np.array([[np.cos(angle), -np.sin(angle)],
                    [np.sin(angle), np.cos(angle)]])
  turned = groups.Representation(d4, 'turned', [(1, 1)], basis)
  fields = groups.FieldType(d4, [turned, d4.regular_representation])
  return [
      ('circular', groups.CircularShift(1, -2), (2, 5, 6, 3)),
      ('zero_fill', groups.ZeroFillShift(2, 1), (2, 5, 6, 3)),
      ('rot90', groups.Rot90(3), (2, 5, 5, 3)),
      ('flip', groups.Flip(), (2, 5, 6, 3)),
      ('identity', groups.Identity(), (2, 5)),
      ('compose', groups.Compose((groups.Rot90(1), groups.Flip())),
       (2, 5, 5, 3)),
      ('regular_c4', c4.regular_action(1), (2, 5, 5, 4, 3)),
      ('regular_d4', d4.regular_action(5), (2, 5, 5, 8, 3)),
      ('fields_d4', groups.FieldTransform(fields, 3), (2, 5, 5, 10)),
  ]


class NumpyPathTest(parameterized.TestCase):
  """Exact actions map NumPy to NumPy (nothing compiled), JAX to JAX, with
  the same values (groups.base module doc)."""

  @parameterized.named_parameters(*_numpy_path_cases())
  def test_numpy_in_numpy_out_with_the_values_of_jax(self, transform, shape):
    x = _random(shape)
    on_numpy, on_jax = transform(x), transform(jnp.asarray(x))
    self.assertIsInstance(on_numpy, np.ndarray)
    self.assertIsInstance(on_jax, jax.Array)
    np.testing.assert_allclose(on_numpy, on_jax, rtol=1e-6, atol=1e-6)

  def test_transformed_pair_from_numpy_equals_from_jax(self):
    transform = groups.Dihedral(4).regular_action(3)
    x = _random((2, 5, 5, 8, 3))
    fn = lambda y: jnp.tanh(y) * 2.0  # commutes with any permutation
    for a, b in zip(groups.transformed_pair(fn, x, transform),
                    groups.transformed_pair(fn, jnp.asarray(x), transform)):
      self.assertIsInstance(a, jax.Array)
      np.testing.assert_array_equal(a, b)


class ApproximateActionProgramTest(parameterized.TestCase):
  """The interpolated actions on a JAX map run their arithmetic as one
  compiled program per shape (translations.shift_spectrum,
  interpolated._resample_jit) with the values of the op-by-op computation
  (jax.disable_jit) to float rounding: measured (7 Dec 2026, AVX-512) at most
  2.7e-7 of the largest value; the bound is 1e-6."""

  @parameterized.named_parameters(
      ('fourier_shift', groups.FourierShift(0.5, -1.25)),
      ('fourier_shift_complex', groups.FourierShift(-0.3, 2.0), True),
      ('fourier_rotation', groups.FourierRotation(30.0)),
      ('bilinear_rotation', groups.BilinearRotation(-17.0)),
      ('bilinear_rotation_group_map', groups.BilinearRotation(45.0), False,
       (2, 7, 7, 4, 2)),
  )
  def test_values_of_the_op_by_op_computation(self, transform, complex_=False,
                                              shape=(2, 7, 7, 3)):
    x = _random(shape)
    if complex_:
      x = (x + 1j * _random(shape, seed=1)).astype(np.complex64)
    x = jax.device_put(x)
    with jax.disable_jit():
      expected = np.asarray(transform(x))
    actual = transform(x)
    self.assertIsInstance(actual, jax.Array)
    self.assertEqual(actual.dtype, x.dtype)
    np.testing.assert_allclose(actual, expected, rtol=0,
                               atol=1e-6 * np.abs(expected).max())

  def test_shift_spectrum_refuses_bad_axes_and_phases(self):
    x = _random((1, 4, 4, 2))
    phase = np.ones((1, 4, 4, 1), np.complex64)
    for axes in ((1, 1), (4,)):
      with self.assertRaisesRegex(ValueError, 'axes must name distinct axes'):
        translations.shift_spectrum(x, phase, axes)
    with self.assertRaisesRegex(ValueError, 'axes must name one or two'):
      translations.shift_spectrum(x, phase, (0, 1, 2))
    with self.assertRaisesRegex(ValueError, 'phase must broadcast'):
      translations.shift_spectrum(x, phase[..., :3, :], (1, 2))

  def test_one_program_per_shape_whatever_the_amount(self):
    # A shape no other test uses (13 is outside the registry's sizes), so
    # each program compiles here once.
    x = jax.device_put(_random((1, 13, 11, 5)))
    programs = (translations.shift_spectrum, interpolated._resample_jit)
    # pylint: disable=protected-access
    before = [p._cache_size() for p in programs]
    for amount in (0.5, -1.25, 2.0):
      groups.FourierShift(amount, -amount)(x)
      groups.BilinearRotation(10.0 * amount)(x)
    self.assertEqual([p._cache_size() - n
                      for p, n in zip(programs, before)], [1, 1])


class OutputActionTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('circular_stride1', groups.CircularShift(3, -1), 1,
       groups.CircularShift(3, -1)),
      ('circular_divisible', groups.CircularShift(4, -2), 2,
       groups.CircularShift(2, -1)),
      ('circular_divisible_3', groups.CircularShift(-3, 6), 3,
       groups.CircularShift(-1, 2)),
      ('circular_not_divisible', groups.CircularShift(1, 2), 2,
       groups.FourierShift(0.5, 1.0)),
      ('circular_negative_odd', groups.CircularShift(-3, 0), 2,
       groups.FourierShift(-1.5, 0.0)),
      ('zero_fill_divisible', groups.ZeroFillShift(2, -4), 2,
       groups.ZeroFillShift(1, -2)),
      ('fourier', groups.FourierShift(1, 0.5), 2,
       groups.FourierShift(0.5, 0.25)),
      ('rot90', groups.Rot90(1), 2, groups.Rot90(1)),
      ('flip', groups.Flip(), 3, groups.Flip()),
      ('compose', groups.Compose((groups.CircularShift(2, 2),
                                  groups.Rot90(3))), 2,
       groups.Compose((groups.CircularShift(1, 1), groups.Rot90(3)))),
  )
  def test_output_action(self, transform, stride, expected):
    action = transform.output_action(stride=stride)
    self.assertEqual(type(action), type(expected))
    self.assertEqual(action, expected)

  def test_not_divisible_action_is_inexact(self):
    self.assertFalse(groups.CircularShift(1, 0).output_action(stride=2).exact)

  def test_zero_fill_not_divisible_raises(self):
    with self.assertRaisesRegex(ValueError, 'stride'):
      groups.ZeroFillShift(1, 2).output_action(stride=2)

  def test_circular_conv_with_stride_uses_the_induced_action(self):
    # conv stride 2, circular padding, H and W even: a shift by 2 becomes 1.
    x = _random((1, 8, 6, 2))
    kernel = _random((3, 3, 2, 2), seed=1)
    conv = lambda v: layers.conv2d(v, kernel, stride=2, padding='circular')
    t = groups.CircularShift(2, -4)
    np.testing.assert_allclose(conv(t(x)), t.output_action(stride=2)(conv(x)),
                               atol=1e-5)


class RotationTest(parameterized.TestCase):

  @parameterized.parameters(-1, 0, 1, 2, 3, 5)
  def test_rot90_is_np_rot90(self, k):
    x = _random((2, 4, 5, 3))
    np.testing.assert_array_equal(groups.Rot90(k)(x),
                                  np.rot90(x, k, axes=(1, 2)))

  def test_rot90_direction_is_counter_clockwise(self):
    x = np.zeros((1, 3, 3, 1), np.float32)
    x[0, 0, 2, 0] = 1.0  # top right
    y = np.asarray(groups.Rot90(1)(x))
    self.assertEqual(y[0, 0, 0, 0], 1.0)  # moves to the top left

  @parameterized.parameters(1, 2, 3)
  def test_four_quarter_turns_are_identity(self, k):
    x = _random((1, 4, 4, 2))
    t = groups.Rot90(k)
    np.testing.assert_array_equal(t(t(t(t(x)))), x)

  @parameterized.parameters(1, 2, 3, -1, 6)
  def test_rot90_inverse(self, k):
    x = _random((1, 3, 5, 2))
    t = groups.Rot90(k)
    np.testing.assert_array_equal(t.inverse()(t(x)), x)
    np.testing.assert_array_equal(t(t.inverse()(x)), x)

  def test_flip(self):
    x = _random((2, 3, 4, 2))
    np.testing.assert_array_equal(groups.Flip()(x), x[:, :, ::-1])
    np.testing.assert_array_equal(groups.Flip()(groups.Flip()(x)), x)
    self.assertEqual(groups.Flip().inverse(), groups.Flip())

  def test_flip_rot90_relation(self):
    # Dihedral relation: F R F = R^-1.
    x = _random((1, 4, 4, 1))
    f, r = groups.Flip(), groups.Rot90(1)
    np.testing.assert_array_equal(f(r(f(x))), r.inverse()(x))


class GroupMapTest(parameterized.TestCase):
  """Transformations act on the spatial axes of [B, H, W, G, C] maps."""

  def setUp(self):
    super().setUp()
    self.x = _random((2, 4, 5, 4, 3))  # [B, H, W, G, C]

  def test_circular_shift(self):
    np.testing.assert_array_equal(groups.CircularShift(1, -2)(self.x),
                                  np.roll(self.x, (1, -2), axis=(1, 2)))

  def test_zero_fill_shift(self):
    np.testing.assert_array_equal(
        groups.ZeroFillShift(-1, 2)(self.x),
        zero_fill_shift_reference(self.x, -1, 2))

  def test_fourier_shift(self):
    np.testing.assert_allclose(groups.FourierShift(2, 1)(self.x),
                               np.roll(self.x, (2, 1), axis=(1, 2)), atol=1e-5)

  def test_rot90(self):
    np.testing.assert_array_equal(groups.Rot90(1)(self.x),
                                  np.rot90(self.x, 1, axes=(1, 2)))

  def test_flip(self):
    np.testing.assert_array_equal(groups.Flip()(self.x), self.x[:, :, ::-1])


class ComposeTest(parameterized.TestCase):

  def test_applies_left_to_right(self):
    x = _random((1, 4, 5, 1))
    shift, rot = groups.CircularShift(1, 0), groups.Rot90(1)
    np.testing.assert_array_equal(groups.Compose((shift, rot))(x),
                                  rot(shift(x)))
    np.testing.assert_array_equal(shift.then(rot)(x), rot(shift(x)))
    # The two orders differ, so the test above pins the order.
    self.assertFalse(np.array_equal(rot(shift(x)), shift(rot(x))))

  def test_inverse_reverses_the_order(self):
    x = _random((1, 4, 5, 2))
    t = groups.Compose((groups.CircularShift(1, -2), groups.Rot90(1),
                        groups.Flip()))
    np.testing.assert_array_equal(t.inverse()(t(x)), x)
    self.assertEqual(
        t.inverse(),
        groups.Compose((groups.Flip(), groups.Rot90(3),
                        groups.CircularShift(-1, 2))))


class InteriorMaskTest(parameterized.TestCase):

  def test_hand_checked_case(self):
    # H=5, W=6, shift (1, -2), margin 1: rows h with 1 <= h <= 3 and
    # 1 <= h-1 <= 3 -> {2, 3}; cols w with 1 <= w <= 4 and 1 <= w+2 <= 4
    # -> {1, 2}.
    expected = np.zeros((5, 6), bool)
    expected[2:4, 1:3] = True
    np.testing.assert_array_equal(
        groups.interior_mask(5, 6, shift=(1, -2), margin=1), expected)

  def test_no_shift_no_margin_is_everything(self):
    self.assertTrue(np.all(groups.interior_mask(3, 4, shift=(0, 0),
                                                margin=0)))

  def test_pair_margin(self):
    expected = np.zeros((4, 5), bool)
    expected[0:4, 2:3] = True
    np.testing.assert_array_equal(
        groups.interior_mask(4, 5, shift=(0, 0), margin=(0, 2)), expected)

  @parameterized.parameters(((1, -2), 3), ((-2, 1), 3), ((1, 1), (2, 4)))
  def test_zero_padded_conv_is_equivariant_on_the_mask(self, shift, kernel):
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    x = _random((1, 9, 10, 2))
    weights = _random((kh, kw, 2, 1), seed=1)
    conv = lambda v: layers.conv2d(v, weights, padding='zeros')
    t = groups.ZeroFillShift(*shift)
    # Even kernels reach further on the bottom/right, so the larger half wins.
    mask = groups.interior_mask(9, 10, shift=shift, margin=(kh // 2, kw // 2))
    self.assertTrue(mask.any())
    error = groups.equivariance_error(conv, x, t, mask=mask)
    np.testing.assert_allclose(error, 0.0, atol=1e-6)
    self.assertGreater(float(groups.equivariance_error(conv, x, t)[0]), 1e-3)


class ErrorTest(parameterized.TestCase):

  def test_relative_error_shape_and_zero(self):
    x = _random((3, 4, 5, 2))
    error = groups.relative_error(x, x)
    self.assertEqual(error.shape, (3,))
    self.assertEqual(error.dtype, jnp.float32)
    np.testing.assert_array_equal(error, 0.0)

  def test_relative_error_value(self):
    expected = _random((2, 3, 3, 1))
    actual = expected.copy()
    actual[1] *= 3.0  # error ||2e|| / ||e|| = 2 for the second example only
    np.testing.assert_allclose(groups.relative_error(actual, expected),
                               [0.0, 2.0], rtol=1e-6)

  def test_rank_two_outputs(self):
    expected = _random((2, 5))
    np.testing.assert_allclose(groups.relative_error(-expected, expected),
                               [2.0, 2.0], rtol=1e-6)

  def test_masked_error_ignores_outside_positions(self):
    expected = _random((2, 4, 4, 3))
    actual = expected.copy()
    actual[:, 0, :] += 10.0  # differs only on the first row
    mask = np.ones((4, 4), bool)
    mask[0] = False
    np.testing.assert_allclose(
        groups.relative_error(actual, expected, mask=mask), 0.0, atol=1e-7)
    self.assertTrue(np.all(groups.relative_error(actual, expected) > 1.0))

  def test_masked_error_on_group_maps(self):
    expected = _random((1, 3, 3, 4, 2))
    actual = expected.copy()
    actual[:, 2, 2] = 0.0
    mask = np.ones((3, 3), bool)
    mask[2, 2] = False
    np.testing.assert_allclose(
        groups.relative_error(actual, expected, mask=mask), 0.0, atol=1e-7)

  def test_all_zero_expected_is_absolute_and_finite(self):
    actual = np.zeros((2, 2, 2, 1), np.float32)
    actual[1, 0, 0, 0] = 3.0
    actual[1, 1, 1, 0] = 4.0
    error = groups.relative_error(actual, np.zeros_like(actual))
    self.assertFalse(np.any(np.isnan(error)))
    np.testing.assert_allclose(error, [0.0, 5.0], rtol=1e-6)

  def test_equivariance_error(self):
    x = _random((2, 6, 6, 2))
    kernel = _random((3, 3, 2, 3), seed=1)
    conv = lambda v: layers.conv2d(v, kernel, padding='circular')
    t = groups.CircularShift(2, -1)
    error = groups.equivariance_error(conv, x, t)
    self.assertEqual(error.shape, (2,))
    np.testing.assert_allclose(error, 0.0, atol=1e-6)
    # Negative control: a position-dependent map is not shift-equivariant.
    ramp = jnp.arange(6.0)[None, :, None, None]
    self.assertTrue(np.all(
        groups.equivariance_error(lambda v: v * ramp, x, t) > 0.1))

  def test_equivariance_error_with_output_transform(self):
    x = _random((2, 6, 6, 1))
    pool = lambda v: layers.max_pool(v, window=2, padding='circular')
    t = groups.CircularShift(2, 4)
    error = groups.equivariance_error(pool, x, t, t.output_action(stride=2))
    np.testing.assert_allclose(error, 0.0, atol=1e-7)
    # The stride-1 action is the wrong output action for a stride-2 pool.
    self.assertTrue(np.all(groups.equivariance_error(pool, x, t) > 0.1))

  def test_transformed_pair(self):
    x = _random((1, 4, 4, 1))
    actual, expected = groups.transformed_pair(jnp.square, x,
                                               groups.Rot90(1))
    np.testing.assert_allclose(actual, expected, atol=1e-7)
    np.testing.assert_allclose(actual, np.rot90(x**2, 1, axes=(1, 2)),
                               atol=1e-7)


class JitTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('circular', groups.CircularShift(1, 2)),
      ('zero_fill', groups.ZeroFillShift(-1, 1)),
      ('fourier', groups.FourierShift(0.5, -0.25)),
      ('rot90', groups.Rot90(3)),
      ('flip', groups.Flip()),
  )
  def test_jit_matches_eager(self, transform):
    x = _random((1, 4, 6, 2))
    np.testing.assert_allclose(jax.jit(transform)(x), transform(x), atol=1e-6)


if __name__ == '__main__':
  absltest.main()
