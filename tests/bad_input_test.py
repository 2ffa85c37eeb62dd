"""Every bad input raises a ValueError that names the offending argument."""

from absl.testing import absltest
from absl.testing import parameterized
import jax
import numpy as np

import groups
import layers

_X = np.ones((1, 4, 4, 2), np.float32)  # [B, H, W, C]
_X_INT = np.ones((1, 4, 4, 2), np.int32)
_X_ODD = np.ones((1, 5, 4, 2), np.float32)
_X_ODD_W = np.ones((1, 4, 5, 2), np.float32)
_X_TINY = np.ones((1, 2, 2, 2), np.float32)
_KERNEL = np.ones((3, 3, 2, 3), np.float32)  # [kh, kw, C_in, C_out]
_BIG_KERNEL = np.ones((5, 5, 2, 3), np.float32)

_RANK = r'rank 4 \(\[B, H, W, C\]\)'
_FLOAT = r'must have a floating dtype'
_FILTER = r'filter_size must be in 1\.\.7'
_BLUR_PAD = (r"padding must be one of 'reflect', 'replicate', 'zeros', "
             r"'circular'; got")
_POOL_PAD = r"padding must be one of 'valid', 'circular', 'same'; got"

# (name, call, regex the ValueError message must match)
_BAD_INPUTS = (
    # Rank of x (and of the kernel).
    ('conv2d_x_rank', lambda: layers.conv2d(_X[0], _KERNEL),
     r'^x must.*' + _RANK),
    ('conv2d_x_rank5', lambda: layers.conv2d(_X[None], _KERNEL),
     r'^x must.*' + _RANK),
    ('conv2d_kernel_rank', lambda: layers.conv2d(_X, _KERNEL[0]),
     r'^kernel must have rank 4 \(\[kh, kw, C_in, C_out\]\)'),
    ('max_pool_rank', lambda: layers.max_pool(_X[0], window=2),
     r'^x must.*' + _RANK),
    ('avg_pool_rank', lambda: layers.avg_pool(_X[0], window=2),
     r'^x must.*' + _RANK),
    ('blur_pool_rank', lambda: layers.blur_pool(_X[0]), r'^x must.*' + _RANK),
    ('max_blur_pool_rank', lambda: layers.max_blur_pool(_X[0]),
     r'^x must.*' + _RANK),
    ('aps_pool_rank', lambda: layers.aps_pool(_X[0]), r'^x must.*' + _RANK),
    ('polyphase_rank', lambda: layers.polyphase_components(_X[0]),
     r'^x must.*' + _RANK),
    ('global_avg_pool_rank', lambda: layers.global_avg_pool(_X[0]),
     r'^x must.*' + _RANK),
    ('global_max_pool_rank', lambda: layers.global_max_pool(_X[..., None]),
     r'^x must.*' + _RANK),
    ('conv_module_rank', lambda: layers.Conv(features=2).init(
        jax.random.PRNGKey(0), _X[0]), r'^x must.*' + _RANK),
    ('shift_rank', lambda: groups.CircularShift(1, 0)(_X[0]),
     r'^x must have rank 4 or 5'),
    ('rot90_rank', lambda: groups.Rot90(1)(_X[0, 0]),
     r'^x must have rank 4 or 5'),
    ('not_an_array', lambda: layers.conv2d([[1.0]], _KERNEL),
     r'^x must be an array'),
    # Integer dtypes where a float is needed.
    ('conv2d_x_int', lambda: layers.conv2d(_X_INT, _KERNEL), r'^x ' + _FLOAT),
    ('conv2d_kernel_int', lambda: layers.conv2d(_X, _KERNEL.astype(np.int32)),
     r'^kernel ' + _FLOAT),
    ('max_pool_int', lambda: layers.max_pool(_X_INT, window=2),
     r'^x ' + _FLOAT),
    ('avg_pool_int', lambda: layers.avg_pool(_X_INT, window=2),
     r'^x ' + _FLOAT),
    ('blur_pool_int', lambda: layers.blur_pool(_X_INT), r'^x ' + _FLOAT),
    ('max_blur_pool_int', lambda: layers.max_blur_pool(_X_INT),
     r'^x ' + _FLOAT),
    ('aps_pool_int', lambda: layers.aps_pool(_X_INT), r'^x ' + _FLOAT),
    ('global_avg_pool_int', lambda: layers.global_avg_pool(_X_INT),
     r'^x ' + _FLOAT),
    ('fourier_shift_int', lambda: groups.FourierShift(0.5, 0)(_X_INT),
     r'^x ' + _FLOAT),
    # Window, stride and dilation below 1 (or not ints).
    ('max_pool_window_0', lambda: layers.max_pool(_X, window=0),
     r'^window must be >= 1'),
    ('avg_pool_window_0', lambda: layers.avg_pool(_X, window=(2, 0)),
     r'^window must be >= 1'),
    ('max_pool_stride_0', lambda: layers.max_pool(_X, window=2, stride=0),
     r'^stride must be >= 1'),
    ('avg_pool_stride_0', lambda: layers.avg_pool(_X, window=2, stride=(0, 1)),
     r'^stride must be >= 1'),
    ('max_pool_window_triple', lambda: layers.max_pool(_X, window=(2, 2, 2)),
     r'^window must be an int or a pair of ints'),
    ('conv2d_stride_0', lambda: layers.conv2d(_X, _KERNEL, stride=0),
     r'^stride must be >= 1'),
    ('conv2d_stride_float', lambda: layers.conv2d(_X, _KERNEL, stride=1.5),
     r'^stride must be an int or a pair of ints'),
    ('conv2d_dilation_0', lambda: layers.conv2d(_X, _KERNEL, dilation=0),
     r'^dilation must be >= 1'),
    ('blur_pool_stride_0', lambda: layers.blur_pool(_X, stride=0),
     r'^stride must be in 1\.\.'),
    ('max_blur_pool_window_0', lambda: layers.max_blur_pool(_X, window=0),
     r'^window must be >= 1'),
    ('max_blur_pool_stride_0', lambda: layers.max_blur_pool(_X, stride=0),
     r'^stride must be in 1\.\.'),
    ('aps_pool_stride_0', lambda: layers.aps_pool(_X, stride=0),
     r'^stride must be in 1\.\.'),
    ('polyphase_stride_0', lambda: layers.polyphase_components(_X, stride=0),
     r'^stride must be in 1\.\.'),
    ('conv_module_kernel_size_0', lambda: layers.Conv(
        features=2, kernel_size=0).init(jax.random.PRNGKey(0), _X),
     r'^kernel_size must be >= 1'),
    # Binomial filter sizes outside 1..7.
    ('blur_pool_filter_0', lambda: layers.blur_pool(_X, filter_size=0),
     r'^' + _FILTER),
    ('blur_pool_filter_8', lambda: layers.blur_pool(_X, filter_size=8),
     r'^' + _FILTER),
    ('aps_pool_filter_0', lambda: layers.aps_pool(_X, filter_size=0),
     r'^' + _FILTER),
    ('aps_pool_filter_8', lambda: layers.aps_pool(_X, filter_size=8),
     r'^' + _FILTER),
    ('binomial_filter_0', lambda: layers.binomial_filter(0), r'^' + _FILTER),
    ('binomial_filter_8', lambda: layers.binomial_filter(8), r'^' + _FILTER),
    ('max_blur_pool_filter_0', lambda: layers.max_blur_pool(_X, filter_size=0),
     r'^' + _FILTER),
    ('max_blur_pool_filter_8', lambda: layers.max_blur_pool(_X, filter_size=8),
     r'^' + _FILTER),
    # Unknown choices.
    ('conv2d_padding', lambda: layers.conv2d(_X, _KERNEL, padding='same'),
     r"^padding must be one of 'circular', 'zeros', 'reflect', 'replicate', "
     r"'valid'; got 'same'"),
    ('max_pool_padding', lambda: layers.max_pool(_X, window=2, padding='zeros'),
     r'^' + _POOL_PAD + " 'zeros'"),
    ('avg_pool_padding', lambda: layers.avg_pool(_X, window=2,
                                                 padding='SAME'),
     r'^' + _POOL_PAD + " 'SAME'"),
    ('blur_pool_padding', lambda: layers.blur_pool(_X, padding='zero'),
     r'^' + _BLUR_PAD + " 'zero'"),
    ('max_blur_pool_padding', lambda: layers.max_blur_pool(_X, padding='valid'),
     r'^' + _BLUR_PAD + " 'valid'"),
    ('conv_module_padding', lambda: layers.Conv(
        features=2, padding='wrap').init(jax.random.PRNGKey(0), _X),
     r'^padding must be one of'),
    ('aps_pool_norm', lambda: layers.aps_pool(_X, norm='l3'),
     r"^norm must be one of 'l1', 'l2', 'linf'; got 'l3'"),
    # Polyphase split of a grid that the stride does not divide.
    ('aps_pool_h_not_divisible', lambda: layers.aps_pool(_X_ODD),
     r'H and W divisible by stride=2; got H, W = 5, 4'),
    ('aps_pool_w_not_divisible', lambda: layers.aps_pool(_X, stride=3),
     r'H and W divisible by stride=3; got H, W = 4, 4'),
    ('polyphase_w_not_divisible',
     lambda: layers.polyphase_components(_X_ODD_W),
     r'H and W divisible by stride=2; got H, W = 4, 5'),
    # Windows and kernels that do not fit.
    ('conv2d_valid_kernel_too_big', lambda: layers.conv2d(
        _X, _BIG_KERNEL, padding='valid'),
     r"^padding='valid' needs the \(dilated\) kernel \(5, 5\) to fit"),
    ('conv2d_valid_dilated_kernel_too_big', lambda: layers.conv2d(
        _X, _KERNEL, padding='valid', dilation=(1, 2)),
     r"^padding='valid' needs the \(dilated\) kernel \(3, 5\) to fit"),
    ('max_pool_valid_window_too_big', lambda: layers.max_pool(_X, window=5),
     r"^padding='valid' needs window \(5, 5\) to fit"),
    ('avg_pool_valid_window_too_big', lambda: layers.avg_pool(
        _X, window=(2, 5), stride=1),
     r"^padding='valid' needs window \(2, 5\)"),
    ('conv2d_kernel_c_in', lambda: layers.conv2d(
        _X, np.ones((3, 3, 3, 1), np.float32)),
     r'^kernel must have C_in = x.shape\[-1\] = 2 input channels'),
    ('conv2d_kernel_empty', lambda: layers.conv2d(
        _X, np.ones((0, 3, 2, 1), np.float32)),
     r'^kernel must have spatial sizes kh, kw >= 1'),
    ('conv2d_reflect_too_big', lambda: layers.conv2d(
        _X_TINY, np.ones((5, 5, 2, 1), np.float32), padding='reflect'),
     r"^padding='reflect' needs each pad smaller than the input"),
    ('blur_pool_reflect_too_big', lambda: layers.blur_pool(
        _X_TINY, filter_size=7), r"^padding='reflect' needs each pad smaller"),
    # Transforms.
    ('circular_shift_float', lambda: groups.CircularShift(0.5, 0),
     r'^dy must be an int; got 0.5'),
    ('zero_fill_shift_float', lambda: groups.ZeroFillShift(0, 1.0),
     r'^dx must be an int; got 1.0'),
    ('fourier_shift_nan', lambda: groups.FourierShift(float('nan'), 0),
     r'^dy must be a finite real number; got nan'),
    ('fourier_shift_inf', lambda: groups.FourierShift(0, float('inf')),
     r'^dx must be a finite real number; got inf'),
    ('rot90_float', lambda: groups.Rot90(1.5), r'^k must be an int; got 1.5'),
    ('zero_fill_output_action', lambda: groups.ZeroFillShift(1, 0)
     .output_action(stride=2), r'stride must divide the shift'),
    ('output_action_stride_0', lambda: groups.CircularShift(1, 0)
     .output_action(stride=0), r'^stride must be in 1\.\.'),
    ('rot90_output_action_stride_0', lambda: groups.Rot90(1)
     .output_action(stride=0), r'^stride must be in 1\.\.'),
    ('compose_empty', lambda: groups.Compose(()),
     r'^transforms must be a non-empty tuple of Transform'),
    ('interior_mask_margin', lambda: groups.interior_mask(
        4, 4, shift=(0, 0), margin=-1), r'^margin must be >= 0'),
    ('interior_mask_height', lambda: groups.interior_mask(
        0, 4, shift=(0, 0), margin=1), r'^height must be in 1\.\.'),
    # Error metrics.
    ('relative_error_shapes', lambda: groups.relative_error(
        np.ones((2, 3)), np.ones((2, 4))),
     r'^actual and expected must have the same shape'),
    ('relative_error_mask_shape', lambda: groups.relative_error(
        _X, _X, mask=np.ones((3, 4), bool)),
     r'^mask must have shape \[H, W\] = \(4, 4\)'),
    ('equivariance_error_transform', lambda: groups.equivariance_error(
        lambda v: v, _X, 'shift'), r'^transform must be a groups Transform'),
    # Modules.
    ('conv_module_features_0', lambda: layers.Conv(features=0).init(
        jax.random.PRNGKey(0), _X), r'^features must be in 1\.\.'),
)


class BadInputTest(parameterized.TestCase):

  @parameterized.named_parameters(*_BAD_INPUTS)
  def test_raises_value_error_naming_the_argument(self, call, regex):
    with self.assertRaisesRegex(ValueError, regex):
      call()


if __name__ == '__main__':
  absltest.main()
