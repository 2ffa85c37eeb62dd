"""Every bad input raises a ValueError that names the offending argument."""

from absl.testing import absltest
from absl.testing import parameterized
import jax
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
     r'^epsilon must be > 0'),
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
     r'^eps must be a number > 0; got 0'),
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
         var=np.ones((1, 2)), epsilon=0), r'^epsilon must be a number > 0'),
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
)


class BadInputTest(parameterized.TestCase):

  @parameterized.named_parameters(*_BAD_INPUTS)
  def test_raises_value_error_naming_the_argument(self, call, regex):
    with self.assertRaisesRegex(ValueError, regex):
      call()


if __name__ == '__main__':
  absltest.main()
