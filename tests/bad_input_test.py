"""Every bad input raises a ValueError that names the offending argument.

``_BAD_INPUTS`` lists one row per case (layers, groups, models, data);
``ConfigKeyTest`` checks that a typo in a ``--config.<key>`` flag fails with
the key's name, as ``main.py`` parses flags (``lock_config=True``).
"""

import glob
import os

from absl import flags
from absl.testing import absltest
from absl.testing import parameterized
import jax
from ml_collections import config_flags
import numpy as np

import data
import groups
from groups import harmonic as harmonic_groups
import layers
from layers import harmonic as harmonic_layers
import models
from models import hnet

_X = np.ones((1, 4, 4, 2), np.float32)  # [B, H, W, C]
_X_INT = np.ones((1, 4, 4, 2), np.int32)
_X_ODD = np.ones((1, 5, 4, 2), np.float32)
_X_ODD_W = np.ones((1, 4, 5, 2), np.float32)
_X_TINY = np.ones((1, 2, 2, 2), np.float32)
_KERNEL = np.ones((3, 3, 2, 3), np.float32)  # [kh, kw, C_in, C_out]
_BIG_KERNEL = np.ones((5, 5, 2, 3), np.float32)
_Y = np.ones((1, 4, 4, 4, 2), np.float32)  # p4 group map [B, H, W, G, C]
_Z = _X[:, :, :, None].astype(np.complex64)  # harmonic map [B, H, W, M, C]
_MNIST = np.ones((1, 28, 28, 1), np.float32)
_KEY = jax.random.PRNGKey(0)


def _dataset(**fields):
  """A valid 2-example data set with ``fields`` replaced."""
  defaults = dict(images=np.zeros((2, 4, 4, 1), np.float32),
                  labels=np.array([0, 1]), num_classes=10, name='x',
                  mean=(0.0,), std=(1.0,))
  return data.Dataset(**{**defaults, **fields})


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
     r'^x must have H and W divisible by stride=2 for the polyphase split; '
     r'got H, W = 5, 4'),
    ('aps_pool_w_not_divisible', lambda: layers.aps_pool(_X, stride=3),
     r'^x must have H and W divisible by stride=3 .*; got H, W = 4, 4'),
    ('polyphase_w_not_divisible',
     lambda: layers.polyphase_components(_X_ODD_W),
     r'^x must have H and W divisible by stride=2 .*; got H, W = 4, 5'),
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
    # Models (models.cnn, models.registry): options are checked at call.
    ('cnn_downsampling', lambda: models.CNN(downsampling='stride').init(
        jax.random.PRNGKey(0), _X),
     r"^downsampling must be one of 'none', 'strided_conv', 'max', 'avg', "
     r"'max_blur', 'blur_conv', 'aps'; got 'stride'"),
    ('cnn_head', lambda: models.CNN(head='gap').init(
        jax.random.PRNGKey(0), _X),
     r"^head must be one of 'fc', 'global_avg', 'global_max'; got 'gap'"),
    ('cnn_padding', lambda: models.CNN(padding='reflect').init(
        jax.random.PRNGKey(0), _X),
     r"^padding must be one of 'circular', 'zeros'; got 'reflect'"),
    ('cnn_norm', lambda: models.CNN(norm='layer').init(
        jax.random.PRNGKey(0), _X),
     r"^norm must be one of 'none', 'batch'; got 'layer'"),
    ('cnn_widths_empty', lambda: models.CNN(widths=()).init(
        jax.random.PRNGKey(0), _X), r'^widths must be a non-empty tuple'),
    ('cnn_widths_0', lambda: models.CNN(widths=(4, 0)).init(
        jax.random.PRNGKey(0), _X), r'^widths entries must be in 1\.\.'),
    ('cnn_filter_size_8', lambda: models.CNN(filter_size=8).init(
        jax.random.PRNGKey(0), _X), r'^' + _FILTER),
    ('cnn_num_classes_0', lambda: models.CNN(num_classes=0).init(
        jax.random.PRNGKey(0), _X), r'^num_classes must be in 1\.\.'),
    ('cnn_x_rank', lambda: models.CNN().init(jax.random.PRNGKey(0), _X[0]),
     r'^x must.*' + _RANK),
    ('cnn_x_int', lambda: models.CNN().init(jax.random.PRNGKey(0), _X_INT),
     r'^x ' + _FLOAT),
    ('cnn_aps_grid', lambda: models.CNN(downsampling='aps').init(
        jax.random.PRNGKey(0), np.ones((1, 6, 6, 1), np.float32)),
     r"^CNN with downsampling='aps' halves the grid 2 times .* divisible by "
     r'4; got H, W = 6, 6'),
    ('mlp_hidden_0', lambda: models.MLP(hidden=(8, 0)).init(
        jax.random.PRNGKey(0), _X), r'^hidden entries must be in 1\.\.'),
    ('mlp_x_rank', lambda: models.MLP().init(jax.random.PRNGKey(0), _X[0]),
     r'^x must.*' + _RANK),
    ('resnet_blocks_0', lambda: models.ResNet(blocks_per_stage=0).init(
        jax.random.PRNGKey(0), _X), r'^blocks_per_stage must be in 1\.\.'),
    ('resnet_downsampling', lambda: models.ResNet(downsampling='pool').init(
        jax.random.PRNGKey(0), _X), r'^downsampling must be one of'),
    ('resnet_aps_grid', lambda: models.ResNet(downsampling='aps').init(
        jax.random.PRNGKey(0), np.ones((1, 6, 6, 1), np.float32)),
     r"^ResNet with downsampling='aps' halves the grid 2 times"),
    ('build_model_name', lambda: models.build_model('vgg'),
     r"^name must be one of 'cnn', 'mlp', 'resnet'.*; got 'vgg'"),
    ('build_model_option', lambda: models.build_model('cnn', pool='max'),
     r"^unknown option 'pool' for model 'cnn'; accepted: num_classes, "
     r'widths'),
    ('register_model_cls', lambda: models.register_model('x', object),
     r'^cls must be a flax.linen.Module subclass'),
    ('register_model_name', lambda: models.register_model('', models.CNN),
     r'^name must be a non-empty str'),
    # Data (data.load_dataset and data.transforms).
    ('load_dataset_name', lambda: data.load_dataset('svhn', split='train'),
     r"^name must be one of 'digits', 'digits_translated', 'mnist', "
     r"'mnist_translated', 'mnist_rot', 'cifar10'; got 'svhn'"),
    ('load_dataset_split', lambda: data.load_dataset('digits', split='val'),
     r"^split must be one of 'train', 'test' for 'digits'; got 'val'"),
    ('load_dataset_source', lambda: data.load_dataset(
        'mnist', split='test', source='http'),
     r"^source must be one of 'auto', 'npz', 'tfds'; got 'http'"),
    ('load_dataset_limit_0', lambda: data.load_dataset(
        'digits', split='test', limit=0), r'^limit must be in 1\.\.'),
    ('load_dataset_canvas', lambda: data.load_dataset(
        'digits_translated', split='test', canvas_size=8),
     r'^canvas_size must be >= 24'),
    ('place_on_canvas_offsets', lambda: data.place_on_canvas(
        _X, canvas_size=5, offsets=(2, 0)),
     r'^offsets must be in 0\.\.1 \(rows\)'),
    ('place_on_canvas_offsets_shape', lambda: data.place_on_canvas(
        _X, canvas_size=5, offsets=np.zeros((1, 3), np.int64)),
     r'^offsets must be a \(dy, dx\) pair or an \[N, 2\] array'),
    ('random_offsets_canvas', lambda: data.random_offsets(
        2, image_size=5, canvas_size=4),
     r'^canvas_size must be at least image_size'),
    ('circular_shift_rank', lambda: data.circular_shift(_X[0], (1, 1)),
     r'^images must have rank 4 \(\[N, H, W, C\]\)'),
    ('circular_shift_float_shifts', lambda: data.circular_shift(
        _X, (0.5, 1.0)), r'^shifts must hold integers'),
    ('rotate_order', lambda: data.rotate(_X, 0.1, order=2),
     r'^order must be one of 0 \(nearest\), 1 \(bilinear\)'),
    ('rotate_int', lambda: data.rotate(_X_INT, 0.1),
     r'^images ' + _FLOAT),
    ('rotate_nan', lambda: data.rotate(_X, float('nan')),
     r'^angles must be finite'),
    ('augment_shift_mode', lambda: data.augment_shift(
        jax.random.PRNGKey(0), _X, max_shift=1, mode='wrap'),
     r"^mode must be one of 'zeros', 'circular'; got 'wrap'"),
    ('augment_rotate_inf', lambda: data.augment_rotate(
        jax.random.PRNGKey(0), _X, max_angle=float('inf')),
     r'^max_angle must be a finite real number >= 0'),
    # Finite groups, lifting / group convolution, G-CNNs (issue #3). Group
    # maps are [B, H, W, G, C]; _X is [1, 4, 4, 2].
    ('lifting_conv_x_rank', lambda: layers.lifting_conv2d(
        _X[..., None], _KERNEL, group=groups.Cyclic(4)), r'^x must.*' + _RANK),
    ('lifting_conv_group_name', lambda: layers.lifting_conv2d(
        _X, _KERNEL, group='p4'),
     r"^group must be a groups\.FiniteGroup .*; got 'p4'"),
    ('lifting_conv_kernel_rank', lambda: layers.lifting_conv2d(
        _X, _KERNEL[..., None], group=groups.Cyclic(4)),
     r'^kernel must have rank 4 \(\[k, k, C, C_out\]\)'),
    ('lifting_conv_kernel_not_square', lambda: layers.lifting_conv2d(
        _X, np.ones((3, 2, 2, 1), np.float32), group=groups.Cyclic(4)),
     r'^kernel must be square \(kh == kw'),
    ('lifting_conv_x_int', lambda: layers.lifting_conv2d(
        _X_INT, _KERNEL, group=groups.Cyclic(4)), r'^x ' + _FLOAT),
    ('lifting_conv_padding', lambda: layers.lifting_conv2d(
        _X, _KERNEL, group=groups.Cyclic(4), padding='same'),
     r"^padding must be one of 'circular', 'zeros'"),
    ('group_conv_y_rank', lambda: layers.group_conv2d(
        _X, np.ones((3, 3, 4, 2, 1), np.float32), group=groups.Cyclic(4)),
     r'^y must have rank 5 \(\[B, H, W, G, C\]\)'),
    ('group_conv_y_order', lambda: layers.group_conv2d(
        np.ones((1, 4, 4, 8, 2), np.float32),
        np.ones((3, 3, 4, 2, 1), np.float32), group=groups.Cyclic(4)),
     r'^y must have G = \|C4\| = 4 on axis 3'),
    ('group_conv_kernel_order', lambda: layers.group_conv2d(
        np.ones((1, 4, 4, 4, 2), np.float32),
        np.ones((3, 3, 8, 2, 1), np.float32), group=groups.Cyclic(4)),
     r'^kernel must have G = \|C4\| = 4 on axis 2'),
    ('group_conv_kernel_channels', lambda: layers.group_conv2d(
        np.ones((1, 4, 4, 4, 2), np.float32),
        np.ones((3, 3, 4, 3, 1), np.float32), group=groups.Cyclic(4)),
     r'^kernel must have C = y\.shape\[-1\] = 2 input channels'),
    ('group_conv_stride_0', lambda: layers.group_conv2d(
        np.ones((1, 4, 4, 4, 2), np.float32),
        np.ones((3, 3, 4, 2, 1), np.float32), group=groups.Cyclic(4),
        stride=0), r'^stride must be >= 1'),
    ('group_pool_reduction', lambda: layers.group_pool(
        _X[..., None], reduction='sum'),
     r"^reduction must be one of 'max', 'mean'; got 'sum'"),
    ('group_pool_rank', lambda: layers.group_pool(_X),
     r'^y must have rank 5 \(\[B, H, W, G, C\]\)'),
    ('spatial_pool_not_a_function', lambda: layers.spatial_pool(
        _X[..., None], pool='max'), r'^pool must be a function'),
    ('group_moments_rank', lambda: layers.group_moments(_X),
     r'^y must have rank 5'),
    ('group_batch_norm_mean_shape', lambda: layers.group_batch_norm(
        _X[..., None], mean=np.zeros(3), var=np.ones(1)),
     r'^mean must have shape \[C\] = \(1,\); got \(3,\)'),
    ('group_batch_norm_epsilon', lambda: layers.group_batch_norm(
        _X[..., None], mean=np.zeros(1), var=np.ones(1), epsilon=0.0),
     r'^epsilon must be a finite number in \(0, inf\)'),
    ('lifting_conv_module_features_0', lambda: layers.LiftingConv(
        group=groups.Cyclic(4), features=0).init(jax.random.PRNGKey(0), _X),
     r'^features must be in 1\.\.'),
    ('group_conv_module_order', lambda: layers.GroupConv(
        group=groups.Dihedral(4), features=2).init(
            jax.random.PRNGKey(0), np.ones((1, 4, 4, 4, 2), np.float32)),
     r'^y must have G = \|D4\| = 8 on axis 3'),
    ('group_batch_norm_module_rank', lambda: layers.GroupBatchNorm(
        use_running_average=True).init(jax.random.PRNGKey(0), _X),
     r'^y must have rank 5'),
    ('cyclic_order_0', lambda: groups.Cyclic(0), r'^n must be in 1\.\.'),
    ('dihedral_order_float', lambda: groups.Dihedral(1.5),
     r'^n must be an int; got 1\.5'),
    ('finite_group_unknown_name', lambda: groups.finite_group('Q8'),
     r"^name must be a finite group name: one of \['C', 'D'\].*got 'Q8'"),
    ('finite_group_order_0', lambda: groups.finite_group('C0'),
     r'^name must be a finite group name'),
    ('group_element_out_of_range', lambda: groups.Cyclic(4).regular_action(4),
     r'^g must be an element of C4, an int in 0\.\.3; got 4'),
    ('group_compose_out_of_range', lambda: groups.Dihedral(4).compose(0, 8),
     r'^b must be an element of D4, an int in 0\.\.7; got 8'),
    ('regular_action_order', lambda: groups.Cyclic(4).regular_action(1)(
        _X[..., None]), r'^x must have G = \|C4\| = 4 on axis 3'),
    ('bilinear_rotation_nan', lambda: groups.BilinearRotation(float('nan')),
     r'^degrees must be a finite real number; got nan'),
    ('bilinear_rotation_int', lambda: groups.BilinearRotation(45)(_X_INT),
     r'^x ' + _FLOAT),
    ('inscribed_disk_margin', lambda: groups.inscribed_disk(4, 4, margin=-1),
     r'^margin must be a real number >= 0'),
    ('gcnn_dropout_rate', lambda: models.P4CNN(dropout_rate=1.0).init(
        jax.random.PRNGKey(0), np.ones((1, 28, 28, 1), np.float32)),
     r'^dropout_rate must be in \[0, 1\); got 1\.0'),
    ('gcnn_pool_window_0', lambda: models.P4CNN(pool_window=0).init(
        jax.random.PRNGKey(0), np.ones((1, 28, 28, 1), np.float32)),
     r'^pool_window must be in 1\.\.'),
    ('gcnn_x_rank', lambda: models.P4CNN().init(jax.random.PRNGKey(0),
                                                _X[0]), r'^x must.*' + _RANK),
    ('gcnn_group_name', lambda: models.GCNN(group='p4', channels=2).init(
        jax.random.PRNGKey(0), np.ones((1, 28, 28, 1), np.float32)),
     r'^group must be a groups\.FiniteGroup'),
    # Harmonic networks (issue #4): layers.harmonic, groups.harmonic,
    # models.hnet. Harmonic maps are complex [B, H, W, M, C]; _X is
    # [1, 4, 4, 2], so a radial [F=2, n_rings=2, C_in=2, C_out=3] fits it.
    ('hconv_x_rank', lambda: harmonic_layers.harmonic_conv2d(
        _X[0], np.ones((2, 2, 2, 3), np.float32), filter_size=3),
     r'^z must be a real image \[B, H, W, C\] or a complex harmonic map'),
    ('hconv_x_real_rank5', lambda: harmonic_layers.harmonic_conv2d(
        _X[None], np.ones((2, 2, 2, 3), np.float32), filter_size=3),
     r'^z must be a complex harmonic feature map \[B, H, W, M, C\]'),
    ('hconv_x_int', lambda: harmonic_layers.harmonic_conv2d(
        _X_INT, np.ones((2, 2, 2, 3), np.float32), filter_size=3),
     r'^z ' + _FLOAT),
    ('hconv_filter_size_even', lambda: harmonic_layers.harmonic_conv2d(
        _X, np.ones((2, 2, 2, 3), np.float32), filter_size=4),
     r'^filter_size must be odd \(a centre pixel to rotate about\); got 4'),
    ('hconv_filter_size_0', lambda: harmonic_layers.harmonic_conv2d(
        _X, np.ones((2, 2, 2, 3), np.float32), filter_size=0),
     r'^filter_size must be in 1\.\.'),
    ('hconv_radial_rank', lambda: harmonic_layers.harmonic_conv2d(
        _X, np.ones((2, 2, 2), np.float32), filter_size=3),
     r'^radial must have rank 4 \(\[F, n_rings, C_in, C_out\]\)'),
    ('hconv_radial_c_in', lambda: harmonic_layers.harmonic_conv2d(
        _X, np.ones((2, 2, 3, 3), np.float32), filter_size=3),
     r'^radial must have shape \[F, n_rings, C_in, C_out\] with F = '
     r'num_filter_orders\(max_order=1, M_in=1\) = 2 and C_in = 2'),
    ('hconv_radial_orders', lambda: harmonic_layers.harmonic_conv2d(
        _X, np.ones((2, 2, 2, 3), np.float32), filter_size=3, max_order=2),
     r'^radial must have shape .* F = num_filter_orders\(max_order=2'),
    ('hconv_phase_shape', lambda: harmonic_layers.harmonic_conv2d(
        _X, np.ones((2, 2, 2, 3), np.float32), np.ones((2, 2, 2), np.float32),
        filter_size=3), r'^phase must have shape \[F, C_in, C_out\] = '
     r'\(2, 2, 3\)'),
    ('hconv_max_order_negative', lambda: harmonic_layers.harmonic_conv2d(
        _X, np.ones((2, 2, 2, 3), np.float32), filter_size=3, max_order=-1),
     r'^max_order must be in 0\.\.'),
    ('hconv_padding', lambda: harmonic_layers.harmonic_conv2d(
        _X, np.ones((2, 2, 2, 3), np.float32), filter_size=3,
        padding='same'), r"^padding must be one of 'circular', 'zeros', "
     r"'reflect', 'replicate', 'valid'; got 'same'"),
    ('hconv_stride_0', lambda: harmonic_layers.harmonic_conv2d(
        _X, np.ones((2, 2, 2, 3), np.float32), filter_size=3, stride=0),
     r'^stride must be >= 1'),
    ('harmonic_basis_orders_0', lambda: harmonic_layers.harmonic_basis(
        3, num_orders=0), r'^num_orders must be in 1\.\.'),
    ('harmonic_basis_rings_0', lambda: harmonic_layers.harmonic_basis(
        3, num_orders=2, n_rings=0), r'^n_rings must be in 1\.\.'),
    ('to_harmonic_rank', lambda: harmonic_layers.to_harmonic(_X[None]),
     r'^x must.*' + _RANK),
    ('magnitudes_real', lambda: harmonic_layers.magnitudes(_X[None]),
     r'^z must be a complex harmonic feature map'),
    ('magnitudes_rank', lambda: harmonic_layers.magnitudes(
        _X.astype(np.complex64)), r'^z must have rank 5 \(\[B, H, W, M, C\]\)'),
    ('magnitudes_eps_0', lambda: harmonic_layers.magnitudes(
        _X[:, :, :, None].astype(np.complex64), eps=0),
     r'^eps must be a finite number > 0; got 0'),
    ('magnitude_nonlinearity_bias_shape',
     lambda: harmonic_layers.magnitude_nonlinearity(
         _X[:, :, :, None].astype(np.complex64), np.zeros(2, np.float32)),
     r'^bias must have shape \[M, C\] = \(1, 2\)'),
    ('magnitude_nonlinearity_activation',
     lambda: harmonic_layers.magnitude_nonlinearity(
         _X[:, :, :, None].astype(np.complex64), np.zeros((1, 2), np.float32),
         activation='relu'), r'^activation must be a function'),
    ('magnitude_batch_norm_var_shape',
     lambda: harmonic_layers.magnitude_batch_norm(
         _X[:, :, :, None].astype(np.complex64), mean=np.zeros((1, 2)),
         var=np.ones(2)), r'^var must have shape \[M, C\] = \(1, 2\)'),
    ('magnitude_batch_norm_epsilon_0',
     lambda: harmonic_layers.magnitude_batch_norm(
         _X[:, :, :, None].astype(np.complex64), mean=np.zeros((1, 2)),
         var=np.ones((1, 2)), epsilon=0),
     r'^epsilon must be a finite number > 0'),
    ('harmonic_mean_pool_window_too_big',
     lambda: harmonic_layers.harmonic_mean_pool(
         _X[:, :, :, None].astype(np.complex64), window=5),
     r"^padding='valid' needs window \(5, 5\) to fit"),
    ('harmonic_mean_pool_padding', lambda: harmonic_layers.harmonic_mean_pool(
        _X[:, :, :, None].astype(np.complex64), window=2, padding='zeros'),
     r'^' + _POOL_PAD + " 'zeros'"),
    ('invariant_readout_reduction', lambda: harmonic_layers.invariant_readout(
        _X[:, :, :, None].astype(np.complex64), reduction='max'),
     r"^reduction must be one of 'sum', 'stack'; got 'max'"),
    ('hconv_module_features_0', lambda: harmonic_layers.HConv(0).init(
        jax.random.PRNGKey(0), _X), r'^features must be in 1\.\.'),
    ('hconv_module_filter_size_even', lambda: harmonic_layers.HConv(
        2, filter_size=6).init(jax.random.PRNGKey(0), _X),
     r'^filter_size must be odd'),
    ('hnonlin_module_real_image', lambda: harmonic_layers.HNonlin().init(
        jax.random.PRNGKey(0), _X), r'^z must have rank 5'),
    ('harmonic_rotation_orders_empty', lambda: harmonic_groups.HarmonicRotation(
        1, ()), r'^orders must be a non-empty tuple of distinct ints'),
    ('harmonic_rotation_orders_repeated',
     lambda: harmonic_groups.HarmonicRotation(1, (0, 0)),
     r'^orders must be a non-empty tuple of distinct ints'),
    ('harmonic_rotation_k_float', lambda: harmonic_groups.HarmonicRotation(
        1.5), r'^k must be an int; got 1.5'),
    ('harmonic_rotation_streams', lambda: harmonic_groups.HarmonicRotation(
        1, (0, 1, 2))(_X[:, :, :, None].astype(np.complex64)),
     r'^x must have M = len\(orders\) = 3 streams on axis 3'),
    ('harmonic_rotation_real', lambda: harmonic_groups.HarmonicRotation(1)(
        _X[None]), r'^x must be a complex harmonic feature map'),
    ('bilinear_harmonic_rotation_nan',
     lambda: harmonic_groups.BilinearHarmonicRotation(float('nan')),
     r'^degrees must be a finite real number; got nan'),
    ('hnet_downsample', lambda: hnet.HNet(downsample='max').init(
        jax.random.PRNGKey(0), _X),
     r"^downsample must be one of 'mean_pool', 'stride'; got 'max'"),
    ('hnet_downsample_after', lambda: hnet.HNet(downsample_after=(7,)).init(
        jax.random.PRNGKey(0), _X),
     r'^downsample_after must be a tuple of layer numbers in 1\.\.6'),
    ('hnet_widths_empty', lambda: hnet.HNet(widths=()).init(
        jax.random.PRNGKey(0), _X), r'^widths must be a non-empty tuple'),
    ('hnet_pool_window_0', lambda: hnet.HNet(pool_window=0).init(
        jax.random.PRNGKey(0), _X), r'^pool_window must be in 1\.\.'),
    ('hnet_x_rank', lambda: hnet.HNet().init(jax.random.PRNGKey(0), _X[0]),
     r'^x must.*' + _RANK),
    ('hnet_filter_size_even', lambda: hnet.HNet(filter_size=4).init(
        jax.random.PRNGKey(0), _X), r'^filter_size must be odd'),
    # Issue #7 (bad-input audit): every gap found by calling the public API
    # with bad input. Sizes: empty axes, windows/inputs too small, non-finite
    # or out-of-range numbers, unknown names, wrong types.
    ('conv2d_x_no_channels', lambda: layers.conv2d(
        np.ones((1, 4, 4, 0), np.float32), np.ones((3, 3, 0, 2), np.float32)),
     r'^x must have H, W, C >= 1 \(layout \[B, H, W, C\]\); got shape '
     r'\(1, 4, 4, 0\)'),
    ('conv2d_x_empty_grid', lambda: layers.conv2d(
        np.ones((1, 0, 4, 2), np.float32), _KERNEL),
     r'^x must have H, W, C >= 1'),
    ('conv2d_kernel_no_outputs', lambda: layers.conv2d(
        _X, np.ones((3, 3, 2, 0), np.float32)),
     r'^kernel must have C_out >= 1 output channels'),
    ('conv2d_padding_none', lambda: layers.conv2d(_X, _KERNEL, padding=None),
     r"^padding must be one of 'circular', .*; got None"),
    ('conv2d_dilation_negative', lambda: layers.conv2d(
        _X, _KERNEL, dilation=-1), r'^dilation must be >= 1; got -1'),
    ('conv2d_stride_bool', lambda: layers.conv2d(_X, _KERNEL, stride=True),
     r'^stride must be an int or a pair of ints; got True'),
    ('conv2d_x_complex', lambda: layers.conv2d(
        _X.astype(np.complex64), _KERNEL), r'^x ' + _FLOAT),
    ('same_pads_0', lambda: layers.padding.same_pads(0),
     r'^size must be in 1\.\.'),
    ('pad_spatial_negative_pad', lambda: layers.padding.pad_spatial(
        _X, ((-1, 0), (0, 0)), mode='zeros'), r'^pads must be >= 0'),
    ('pad_spatial_pads_shape', lambda: layers.padding.pad_spatial(
        _X, (1, 1), mode='zeros'),
     r'^pads must be \(\(top, bottom\), \(left, right\)\)'),
    ('pad_spatial_x_rank', lambda: layers.padding.pad_spatial(
        _X[0, 0], ((1, 1), (1, 1)), mode='zeros'),
     r'^x must have rank 3 or 4 or 5'),
    ('pad_spatial_empty_grid', lambda: layers.padding.pad_spatial(
        np.ones((1, 0, 4, 1), np.float32), ((1, 1), (0, 0)),
        mode='replicate'), r'^x must have H, W >= 1'),
    ('pad_spatial_mode', lambda: layers.padding.pad_spatial(
        _X, ((1, 1), (0, 0)), mode='wrap'),
     r"^padding must be one of 'circular', 'zeros', 'reflect', 'replicate'"),
    ('max_pool_circular_window_too_big', lambda: layers.max_pool(
        _X, window=5, padding='circular'),
     r"^padding='circular' needs window \(5, 5\) to fit in the input "
     r"H, W = \(4, 4\); use a smaller window or padding='same'"),
    ('avg_pool_circular_window_too_big', lambda: layers.avg_pool(
        _X, window=(2, 9), stride=1, padding='circular'),
     r"^padding='circular' needs window \(2, 9\) to fit in the input "
     r'H, W = \(4, 4\)'),
    ('max_blur_pool_circular_window_too_big', lambda: layers.max_blur_pool(
        _X, window=5, padding='circular'),
     r"^padding='circular' needs window \(5, 5\) to fit"),
    ('max_pool_no_channels', lambda: layers.max_pool(
        np.ones((1, 4, 4, 0), np.float32), window=2),
     r'^x must have H, W, C >= 1'),
    ('global_max_pool_no_channels', lambda: layers.global_max_pool(
        np.ones((1, 4, 4, 0), np.float32)), r'^x must have H, W, C >= 1'),
    ('blur_pool_stride_pair', lambda: layers.blur_pool(_X, stride=(2, 2)),
     r'^stride must be an int; got \(2, 2\)'),
    ('binomial_filter_float', lambda: layers.binomial_filter(3.0),
     r'^filter_size must be an int; got 3\.0'),
    ('aps_indices_norm', lambda: layers.aps_indices(_X, norm='l0'),
     r"^norm must be one of 'l1', 'l2', 'linf'; got 'l0'"),
    ('aps_indices_rank', lambda: layers.aps_indices(_X[0]),
     r'^x must.*' + _RANK),
    ('take_polyphase_index_too_big', lambda: layers.take_polyphase(
        _X, np.array([4])),
     r'^indices must be in 0\.\.3 \(stride\*\*2 - 1\); got 4\.\.4'),
    ('take_polyphase_index_negative', lambda: layers.take_polyphase(
        _X, np.array([-1])), r'^indices must be in 0\.\.3'),
    ('take_polyphase_float_indices', lambda: layers.take_polyphase(
        _X, np.array([0.0])),
     r'^indices must be an int array of shape \[B\] = \[1\]'),
    ('take_polyphase_not_divisible', lambda: layers.take_polyphase(
        _X_ODD, np.array([0])), r'^x must have H and W divisible by stride=2'),
    ('pool_module_fn_not_a_function', lambda: layers.Pool(fn='max').init(
        _KEY, _X), r"^fn must be a function \[B, H, W, C\] -> "),
    ('blur_conv_activation_not_a_function', lambda: layers.BlurConv(
        features=2, activation='relu').init(_KEY, _X),
     r'^activation must be a function'),
    ('blur_conv_features_0', lambda: layers.BlurConv(features=0).init(
        _KEY, _X), r'^features must be in 1\.\.'),
    ('blur_conv_blur_padding', lambda: layers.BlurConv(
        features=2, blur_padding='same').init(_KEY, _X),
     r'^' + _BLUR_PAD + " 'same'"),
    ('conv_module_x_int', lambda: layers.Conv(features=2).init(_KEY, _X_INT),
     r'^x ' + _FLOAT),
    ('lifting_filters_group_none', lambda: layers.lifting_filters(
        _KERNEL, group=None), r'^group must be a groups\.FiniteGroup'),
    ('lifting_conv_kernel_empty', lambda: layers.lifting_conv2d(
        _X, np.ones((0, 0, 2, 1), np.float32), group=groups.Cyclic(4)),
     r'^kernel must have every size >= 1 \(layout \[k, k, C, C_out\]\)'),
    ('lifting_conv_kernel_channels', lambda: layers.lifting_conv2d(
        _X, np.ones((3, 3, 3, 1), np.float32), group=groups.Cyclic(4)),
     r'^kernel must have C_in = x\.shape\[-1\] = 2 input channels'),
    ('lifting_conv_valid_kernel_too_big', lambda: layers.lifting_conv2d(
        _X, np.ones((5, 5, 2, 1), np.float32), group=groups.Cyclic(4),
        padding='valid'), r"^padding='valid' needs the \(dilated\) kernel"),
    ('group_filters_kernel_rank', lambda: layers.group_filters(
        _KERNEL, group=groups.Cyclic(4)),
     r'^kernel must have rank 5 \(\[k, k, G, C, C_out\]\)'),
    ('group_conv_kernel_empty', lambda: layers.group_conv2d(
        _Y, np.ones((3, 3, 4, 0, 1), np.float32), group=groups.Cyclic(4)),
     r'^kernel must have every size >= 1'),
    ('group_conv_y_int', lambda: layers.group_conv2d(
        _Y.astype(np.int32), np.ones((3, 3, 4, 2, 1), np.float32),
        group=groups.Cyclic(4)), r'^y ' + _FLOAT),
    ('group_conv_padding', lambda: layers.group_conv2d(
        _Y, np.ones((3, 3, 4, 2, 1), np.float32), group=groups.Cyclic(4),
        padding='same'), r"^padding must be one of 'circular', 'zeros'"),
    ('spatial_pool_not_per_channel', lambda: layers.spatial_pool(
        _Y, pool=layers.global_avg_pool),
     r"^pool must map \[B, H, W, C\] to \[B, H', W', C\] \(per channel\); "
     r'got shape \(1, 8\)'),
    ('group_batch_norm_epsilon_inf', lambda: layers.group_batch_norm(
        _Y, mean=np.zeros(2), var=np.ones(2), epsilon=float('inf')),
     r'^epsilon must be a finite number in \(0, inf\); got inf'),
    ('group_batch_norm_epsilon_str', lambda: layers.group_batch_norm(
        _Y, mean=np.zeros(2), var=np.ones(2), epsilon='1e-5'),
     r"^epsilon must be a finite number in \(0, inf\); got '1e-5'"),
    ('group_batch_norm_var_negative', lambda: layers.group_batch_norm(
        _Y, mean=np.zeros(2), var=-np.ones(2)),
     r'^var must be >= 0 \(a variance\)'),
    ('group_batch_norm_module_momentum', lambda: layers.GroupBatchNorm(
        use_running_average=False, momentum=2.0).init(_KEY, _Y),
     r'^momentum must be a finite number in \[0, 1\]; got 2\.0'),
    ('lifting_conv_module_kernel_size_pair', lambda: layers.LiftingConv(
        group=groups.Cyclic(4), features=2, kernel_size=(3, 3)).init(
            _KEY, _X), r'^kernel_size must be an int; got \(3, 3\)'),
    ('group_conv_module_group_name', lambda: layers.GroupConv(
        group='p4', features=2).init(_KEY, _Y),
     r'^group must be a groups\.FiniteGroup'),
    ('harmonic_filters_even', lambda: harmonic_layers.harmonic_filters(
        np.ones((2, 2, 2, 3), np.float32), filter_size=4),
     r'^filter_size must be odd'),
    ('harmonic_filters_radial_int', lambda: harmonic_layers.harmonic_filters(
        np.ones((2, 2, 2, 3), np.int32), filter_size=3), r'^radial ' + _FLOAT),
    ('hconv_radial_no_outputs', lambda: harmonic_layers.harmonic_conv2d(
        _X, np.ones((2, 2, 2, 0), np.float32), filter_size=3),
     r'^radial must have every size >= 1 \(\[F, n_rings, C_in, C_out\]\)'),
    ('hconv_dilation_0', lambda: harmonic_layers.harmonic_conv2d(
        _X, np.ones((2, 2, 2, 3), np.float32), filter_size=3, dilation=0),
     r'^dilation must be >= 1'),
    ('hconv_valid_kernel_too_big', lambda: harmonic_layers.harmonic_conv2d(
        _X, np.ones((2, 2, 2, 3), np.float32), filter_size=5,
        padding='valid'), r"^padding='valid' needs the \(dilated\) kernel"),
    ('hconv_z_complex_image', lambda: harmonic_layers.harmonic_conv2d(
        _X.astype(np.complex64), np.ones((2, 2, 2, 3), np.float32),
        filter_size=3), r'^z ' + _FLOAT),
    ('magnitudes_eps_inf', lambda: harmonic_layers.magnitudes(
        _Z, eps=float('inf')), r'^eps must be a finite number > 0; got inf'),
    ('magnitudes_eps_nan', lambda: harmonic_layers.magnitudes(
        _Z, eps=float('nan')), r'^eps must be a finite number > 0; got nan'),
    ('magnitude_moments_real', lambda: harmonic_layers.magnitude_moments(
        _X[None]), r'^z must be a complex harmonic feature map'),
    ('magnitude_batch_norm_epsilon_inf',
     lambda: harmonic_layers.magnitude_batch_norm(
         _Z, mean=np.zeros((1, 2)), var=np.ones((1, 2)),
         epsilon=float('inf')),
     r'^epsilon must be a finite number > 0; got inf'),
    ('magnitude_batch_norm_var_negative',
     lambda: harmonic_layers.magnitude_batch_norm(
         _Z, mean=np.zeros((1, 2)), var=-np.ones((1, 2))),
     r'^var must be >= 0 \(a variance\)'),
    ('harmonic_mean_pool_circular_window_too_big',
     lambda: harmonic_layers.harmonic_mean_pool(_Z, window=5,
                                                padding='circular'),
     r"^padding='circular' needs window \(5, 5\) to fit in the input "
     r'H, W = \(4, 4\)'),
    ('harmonic_mean_pool_stride_0', lambda: harmonic_layers.harmonic_mean_pool(
        _Z, window=2, stride=0), r'^stride must be >= 1'),
    ('radial_init_streams_0', lambda: harmonic_layers.radial_init(0),
     r'^streams_in must be in 1\.\.'),
    ('ring_radii_order_negative', lambda: harmonic_layers.ring_radii(-1, 2),
     r'^order must be in 0\.\.'),
    ('num_filter_orders_negative', lambda: harmonic_layers.num_filter_orders(
        -1, 1), r'^max_order must be in 0\.\.'),
    ('hconv_module_n_rings_0', lambda: harmonic_layers.HConv(
        2, filter_size=3, n_rings=0).init(_KEY, _X),
     r'^n_rings must be in 1\.\.'),
    ('hnonlin_module_activation', lambda: harmonic_layers.HNonlin(
        activation='relu').init(_KEY, _Z), r'^activation must be a function'),
    ('hbatchnorm_module_momentum', lambda: harmonic_layers.HBatchNorm(
        use_running_average=False, momentum=-1.0).init(_KEY, _Z),
     r'^momentum must be a finite number in \[0, 1\]; got -1\.0'),
    ('hbatchnorm_module_real_image', lambda: harmonic_layers.HBatchNorm(
        use_running_average=True).init(_KEY, _X), r'^z must have rank 5'),
    ('compose_not_a_sequence', lambda: groups.Compose(groups.Flip()),
     r'^transforms must be a non-empty tuple of Transform; got Flip\(\)'),
    ('transformed_pair_fn', lambda: groups.transformed_pair(
        'relu', _X, groups.Flip()), r'^fn must be a function'),
    ('equivariance_error_output_transform', lambda: groups.equivariance_error(
        lambda v: v, _X, groups.Flip(), 'flip'),
     r'^output_transform must be a groups Transform'),
    ('inscribed_disk_margin_too_big', lambda: groups.inscribed_disk(
        4, 4, margin=2),
     r'^margin must be at most the inscribed radius \(min\(H, W\) - 1\) / 2 '
     r'= 1\.5 of the 4x4 grid; got 2'),
    ('inscribed_disk_margin_inf', lambda: groups.inscribed_disk(
        4, 4, margin=float('inf')), r'^margin must be at most'),
    ('inscribed_disk_margin_nan', lambda: groups.inscribed_disk(
        4, 4, margin=float('nan')), r'^margin must be a real number >= 0'),
    ('interior_mask_shift_float', lambda: groups.interior_mask(
        4, 4, shift=(0.5, 0), margin=1),
     r'^shift must be an int or a pair of ints'),
    ('flip_rank', lambda: groups.Flip()(_X[0]), r'^x must have rank 4 or 5'),
    ('identity_scalar', lambda: groups.Identity()(1.0),
     r'^x must have a batch axis'),
    ('bilinear_rotation_str', lambda: groups.BilinearRotation('45'),
     r"^degrees must be a finite real number; got '45'"),
    ('regular_action_group_name', lambda: groups.RegularAction('p4', 0),
     r'^group must be a groups\.FiniteGroup'),
    ('finite_group_not_a_str', lambda: groups.finite_group(4),
     r'^name must be a finite group name'),
    ('cyclic_inverse_out_of_range', lambda: groups.Cyclic(4).inverse(4),
     r'^a must be an element of C4, an int in 0\.\.3; got 4'),
    ('circular_shift_output_action_stride_bool', lambda: groups.CircularShift(
        1, 0).output_action(stride=True), r'^stride must be an int; got True'),
    ('cnn_x_no_channels', lambda: models.CNN(widths=(2,)).init(
        _KEY, np.ones((1, 4, 4, 0), np.float32)),
     r'^x must have H, W, C >= 1'),
    ('cnn_input_too_small_circular', lambda: models.CNN(
        widths=(2, 2, 2)).init(_KEY, _X_TINY),
     r"^x must be larger for CNN: downsampling 2 \('max', padding "
     r"'circular'\) sees a 1x1 map from an input of H, W = 2, 2"),
    ('cnn_input_too_small_zeros', lambda: models.CNN(
        widths=(2, 2), padding='zeros', downsampling='max_blur').init(
            _KEY, _X_TINY),
     r"^x must be larger for CNN: downsampling 1 \('max_blur', padding "
     r"'zeros'\) sees a 2x2 map"),
    ('mlp_num_classes_0', lambda: models.MLP(num_classes=0).init(_KEY, _X),
     r'^num_classes must be in 1\.\.'),
    ('resnet_bn_momentum', lambda: models.ResNet(
        widths=(2,), bn_momentum=2.0).init(_KEY, _X),
     r'^bn_momentum must be a finite number in \[0, 1\]; got 2\.0'),
    ('resnet_input_too_small', lambda: models.ResNet(
        widths=(2, 2, 2), downsampling='max').init(_KEY, _X_TINY),
     r"^x must be larger for ResNet: downsampling 2 \('max', padding "
     r"'circular'\) sees a 1x1 map"),
    ('residual_block_padding', lambda: models.ResidualBlock(
        features=2, padding='reflect').init(_KEY, _X),
     r"^padding must be one of 'circular', 'zeros'; got 'reflect'"),
    ('residual_block_features_0', lambda: models.ResidualBlock(
        features=0).init(_KEY, _X), r'^features must be in 1\.\.'),
    ('residual_block_downsampling', lambda: models.ResidualBlock(
        features=2, downsample=True, downsampling='pool').init(_KEY, _X),
     r"^downsampling must be one of 'none', 'strided_conv'"),
    ('gcnn_channels_0', lambda: models.GCNN(
        group=groups.Cyclic(4), channels=0).init(_KEY, _MNIST),
     r'^channels must be in 1\.\.'),
    ('gcnn_num_classes_0', lambda: models.P4CNN(num_classes=0).init(
        _KEY, _MNIST), r'^num_classes must be in 1\.\.'),
    ('gcnn_padding', lambda: models.P4CNN(padding='same').init(_KEY, _MNIST),
     r"^padding must be one of 'circular', 'zeros', 'reflect', 'replicate', "
     r"'valid'; got 'same'"),
    ('gcnn_input_too_small_valid', lambda: models.P4CNN().init(
        _KEY, np.ones((1, 27, 28, 1), np.float32)),
     r"^x must have H, W >= 28 for GCNN: padding='valid' needs 28 pixels "
     r'with pool_window=2 .*; got H, W = 27, 28'),
    ('gcnn_input_too_small_padded', lambda: models.P4CNN(
        padding='zeros', pool_window=3).init(
            _KEY, np.ones((1, 8, 8, 1), np.float32)),
     r"^x must have H, W >= 9 for GCNN: padding='zeros' needs 9 pixels"),
    ('gcnn_dropout_rate_str', lambda: models.P4CNN(dropout_rate='0.3').init(
        _KEY, _MNIST), r"^dropout_rate must be in \[0, 1\); got '0\.3'"),
    ('gcnn_bn_momentum', lambda: models.P4CNN(bn_momentum=5.0).init(
        _KEY, _MNIST), r'^bn_momentum must be a finite number in \[0, 1\]'),
    ('gcnn_bn_epsilon_0', lambda: models.P4CNN(bn_epsilon=0.0).init(
        _KEY, _MNIST), r'^bn_epsilon must be a finite number in \(0, inf\)'),
    ('hnet_padding', lambda: hnet.HNet(padding='same').init(_KEY, _X),
     r"^padding must be one of 'circular', 'zeros', 'reflect', 'replicate', "
     r"'valid'; got 'same'"),
    ('hnet_bn_momentum', lambda: hnet.HNet(bn_momentum=1.5).init(_KEY, _X),
     r'^bn_momentum must be a finite number in \[0, 1\]; got 1\.5'),
    ('hnet_bn_epsilon_0', lambda: hnet.HNet(bn_epsilon=0.0).init(_KEY, _X),
     r'^bn_epsilon must be a finite number in \(0, inf\)'),
    ('hnet_num_classes_0', lambda: hnet.HNet(num_classes=0).init(_KEY, _X),
     r'^num_classes must be in 1\.\.'),
    ('hnet_input_too_small', lambda: hnet.HNet(
        widths=(2, 2), downsample_after=(1, 2), filter_size=3).init(
            _KEY, np.ones((1, 2, 2, 1), np.float32)),
     r'^x must be larger for HNet: the mean pool after layer 2 sees a 1x1 '
     r"map from an input of H, W = 2, 2, and padding='valid' needs window"),
    ('model_options_name', lambda: models.model_options('vgg'),
     r"^name must be one of 'cnn', 'mlp', 'resnet'"),
    # Data sets: NaN/Inf, empty data, labels out of range, bad statistics.
    ('dataset_images_nan', lambda: _dataset(
        images=np.full((2, 4, 4, 1), np.nan, np.float32)),
     r'^images must be finite \(layout \[N, H, W, C\]\); got 32 NaN and 0 '
     r'infinite values'),
    ('dataset_images_inf', lambda: _dataset(
        images=np.full((2, 4, 4, 1), np.inf, np.float32)),
     r'^images must be finite .*; got 0 NaN and 32 infinite values'),
    ('dataset_empty', lambda: _dataset(
        images=np.zeros((0, 4, 4, 1), np.float32),
        labels=np.zeros(0, np.int64)),
     r'^images must hold at least one example .*; got shape \(0, 4, 4, 1\)'),
    ('dataset_images_0_to_255', lambda: _dataset(
        images=np.full((2, 4, 4, 1), 255.0, np.float32)),
     r'^images must be in \[0, 1\] \(divide 8-bit images by 255\); got '
     r'values in \[255, 255\]'),
    ('dataset_images_uint8', lambda: _dataset(
        images=np.zeros((2, 4, 4, 1), np.uint8)), r'^images ' + _FLOAT),
    ('dataset_labels_out_of_range', lambda: _dataset(
        labels=np.array([0, 10])),
     r'^labels must be in 0\.\.9 \(num_classes = 10\); got 0\.\.10'),
    ('dataset_labels_negative', lambda: _dataset(labels=np.array([-1, 0])),
     r'^labels must be in 0\.\.9 .*; got -1\.\.0'),
    ('dataset_labels_float', lambda: _dataset(labels=np.array([0.0, 1.0])),
     r'^labels must have shape \[N\] = \(2,\) and an int dtype; got float64'),
    ('dataset_labels_list', lambda: _dataset(labels=[0, 1]),
     r'^labels must have shape \[N\] = \(2,\) and an int dtype; got list'),
    ('dataset_num_classes_0', lambda: _dataset(num_classes=0),
     r'^num_classes must be in 1\.\.'),
    ('dataset_std_0', lambda: _dataset(std=(0.0,)),
     r'^std must be > 0 per channel'),
    ('dataset_mean_nan', lambda: _dataset(mean=(float('nan'),)),
     r'^mean must have one value per channel \(1\), each finite'),
    ('dataset_angles_shape', lambda: _dataset(angles=np.zeros(3)),
     r'^angles must be None or finite radians of shape \[N\] = \(2,\)'),
    ('dataset_offsets_shape', lambda: _dataset(offsets=np.zeros((2,), int)),
     r'^offsets must be None or an int array \[N, 2\]'),
    ('load_dataset_limit_negative', lambda: data.load_dataset(
        'digits', split='test', limit=-1), r'^limit must be in 1\.\.'),
    ('load_dataset_limit_float', lambda: data.load_dataset(
        'digits', split='test', limit=2.0), r'^limit must be an int'),
    ('load_dataset_seed_negative', lambda: data.load_dataset(
        'digits', split='test', seed=-1), r'^seed must be in 0\.\.'),
    ('load_dataset_canvas_0', lambda: data.load_dataset(
        'digits', split='test', canvas_size=0),
     r'^canvas_size must be in 1\.\.'),
    ('load_dataset_max_shift_negative', lambda: data.load_dataset(
        'digits_translated', split='test', max_shift=-1),
     r'^max_shift must be in 0\.\.'),
    ('load_dataset_max_shift_wrong_set', lambda: data.load_dataset(
        'digits', split='test', max_shift=2),
     r"^max_shift applies only to 'digits_translated', 'mnist_translated'"),
    ('load_dataset_download_not_bool', lambda: data.load_dataset(
        'digits', split='test', download='yes'),
     r'^download must be True or False'),
    ('load_dataset_data_dir_type', lambda: data.load_dataset(
        'mnist', split='test', data_dir=3), r'^data_dir must be a path'),
    ('load_dataset_source_for_digits', lambda: data.load_dataset(
        'digits', split='test', source='npz'), r"^source must be 'auto' for"),
    ('load_dataset_canvas_smaller_than_mnist', lambda: data.load_dataset(
        'mnist', split='test', canvas_size=20),
     r"^canvas_size must be >= the image size 28 for 'mnist'; got 20"),
    ('load_dataset_name_case', lambda: data.load_dataset(
        'MNIST', split='test'), r"^name must be one of 'digits'"),
    ('raw_npz_path_name', lambda: data.sources.npz_path('svhn', None),
     r"^name must be one of 'mnist', 'cifar10' \(raw data sets\); got 'svhn'"),
    ('raw_load_npz_split', lambda: data.sources.load_npz('mnist', 'val', None),
     r"^split must be one of 'train', 'test'; got 'val'"),
    ('raw_load_raw_source', lambda: data.sources.load_raw(
        'mnist', 'train', source='http', data_dir=None),
     r"^source must be one of 'auto', 'npz', 'tfds'; got 'http'"),
    ('raw_pixel_moments_rank', lambda: data.sources.pixel_moments(
        np.ones((4, 4))), r'^images must be a NumPy array \[N, H, W, C\]'),
    ('embedded_digits_canvas_0', lambda: data.embedded_digits(canvas_size=0),
     r'^canvas_size must be a positive int'),
    ('embedded_digits_digit_too_big', lambda: data.embedded_digits(
        canvas_size=8, digit_size=9), r'^digit_size must be <= canvas_size'),
    ('place_on_canvas_nan', lambda: data.place_on_canvas(
        _X * np.nan, canvas_size=5, offsets=(0, 0)),
     r'^images must be finite'),
    ('place_on_canvas_canvas_0', lambda: data.place_on_canvas(
        _X, canvas_size=0, offsets=(0, 0)), r'^canvas_size must be >= 1'),
    ('random_offsets_num_negative', lambda: data.random_offsets(
        -1, image_size=4, canvas_size=5), r'^num must be in 0\.\.'),
    ('random_translate_max_shift_negative', lambda: data.random_translate(
        _X, canvas_size=5, max_shift=-1), r'^max_shift must be in 0\.\.'),
    ('circular_shift_inf', lambda: data.circular_shift(
        _X * np.inf, (1, 0)), r'^images must be finite'),
    ('zero_fill_shift_empty_grid', lambda: data.zero_fill_shift(
        np.ones((1, 0, 4, 1), np.float32), (1, 0)),
     r'^images must have H, W, C >= 1'),
    ('rotate_angles_inf', lambda: data.rotate(_X, np.array([np.inf])),
     r'^angles must be finite \(radians\); got 1 non-finite values'),
    ('rotate_angles_shape', lambda: data.rotate(_X, np.zeros(3)),
     r'^angles must be a scalar or an \[N\] array with N = 1'),
    ('augment_shift_key', lambda: data.augment_shift(0, _X, max_shift=1),
     r'^key must be a jax\.random key'),
    ('augment_rotate_order', lambda: data.augment_rotate(
        _KEY, _X, max_angle=1.0, order=3), r'^order must be one of 0'),
)


class BadInputTest(parameterized.TestCase):

  @parameterized.named_parameters(*_BAD_INPUTS)
  def test_raises_value_error_naming_the_argument(self, call, regex):
    with self.assertRaisesRegex(ValueError, regex):
      call()


_CONFIGS = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), 'experiments', 'configs')

# (name, config file, override flag, regex of the error). ml_collections
# raises AttributeError for a key the locked config does not have.
_BAD_CONFIG_FLAGS = (
    ('top_level_typo', 'train.py', '--config.lerning_rate=0.1',
     r'lerning_rate.*Did you mean "learning_rate"'),
    ('nested_typo', 'train.py', '--config.model.widht=3', r"'widht'"),
    ('default_study_typo', 'study_invariance.py', '--config.quik=False',
     r'Did you mean "quick"'),
)


def _parse_config_flags(config_file: str, *overrides: str):
  """Parses flags as main.py does; returns the config."""
  argv = ['main.py', f'--config={os.path.join(_CONFIGS, config_file)}',
          *overrides]
  flag_values = flags.FlagValues()
  config_flags.DEFINE_config_file('config', flag_values=flag_values,
                                  lock_config=True, sys_argv=argv)
  flag_values(argv)
  return flag_values.config


class ConfigKeyTest(parameterized.TestCase):

  def test_a_known_key_is_overridden(self):  # the control for the cases below
    config = _parse_config_flags('train.py', '--config.learning_rate=0.5')
    self.assertEqual(config.learning_rate, 0.5)

  @parameterized.named_parameters(*_BAD_CONFIG_FLAGS)
  def test_typo_in_a_key_names_the_key(self, config_file, override, regex):
    with self.assertRaisesRegex(AttributeError, regex):
      _parse_config_flags(config_file, override)

  def test_every_config_rejects_an_unknown_key(self):
    files = sorted(os.path.basename(path) for path in glob.glob(
        os.path.join(_CONFIGS, '*.py')) if not path.endswith('__init__.py'))
    self.assertGreater(len(files), 10)
    for config_file in files:
      with self.subTest(config_file), self.assertRaisesRegex(
          AttributeError, 'no_such_key'):
        _parse_config_flags(config_file, '--config.no_such_key=1')


if __name__ == '__main__':
  absltest.main()
