"""Bad inputs to the layers package raise a ValueError naming the argument.

Covers convolution, padding, pooling, group and harmonic convolution. One row
``(name, call, regex)`` per case, grouped by module and, within a module, by
function; the fixtures and the runner are in tests/bad_input.py.
"""

from absl.testing import absltest
import jax
import numpy as np

import groups
import layers
from layers import group_conv
from layers import harmonic as harmonic_layers
from tests import bad_input
from tests.bad_input import (BIG_KERNEL, BLUR_PAD, FILTER, FLOAT, KERNEL, KEY,
                             POOL_PAD, RANK, X, X_INT, X_ODD, X_ODD_W, X_TINY,
                             Y, Z)


# (name, call, regex the ValueError message must match)
BAD_INPUTS = (
    # layers/conv.py
    ('conv_module_rank', lambda: layers.Conv(features=2).init(
        jax.random.PRNGKey(0), X[0]), r'^x must.*' + RANK),
    ('conv_module_kernel_size_0', lambda: layers.Conv(
        features=2, kernel_size=0).init(jax.random.PRNGKey(0), X),
     r'^kernel_size must be >= 1'),
    ('conv_module_padding', lambda: layers.Conv(
        features=2, padding='wrap').init(jax.random.PRNGKey(0), X),
     r'^padding must be one of'),
    ('conv_module_features_0', lambda: layers.Conv(features=0).init(
        jax.random.PRNGKey(0), X), r'^features must be in 1\.\.'),
    ('conv_module_x_int', lambda: layers.Conv(features=2).init(KEY, X_INT),
     r'^x ' + FLOAT),
    ('conv2d_x_rank', lambda: layers.conv2d(X[0], KERNEL),
     r'^x must.*' + RANK),
    ('conv2d_x_rank5', lambda: layers.conv2d(X[None], KERNEL),
     r'^x must.*' + RANK),
    ('conv2d_kernel_rank', lambda: layers.conv2d(X, KERNEL[0]),
     r'^kernel must have rank 4 \(\[kh, kw, C_in, C_out\]\)'),
    ('not_an_array', lambda: layers.conv2d([[1.0]], KERNEL),
     r'^x must be an array'),
    ('conv2d_x_int', lambda: layers.conv2d(X_INT, KERNEL), r'^x ' + FLOAT),
    ('conv2d_kernel_int', lambda: layers.conv2d(X, KERNEL.astype(np.int32)),
     r'^kernel ' + FLOAT),
    ('conv2d_stride_0', lambda: layers.conv2d(X, KERNEL, stride=0),
     r'^stride must be >= 1'),
    ('conv2d_stride_float', lambda: layers.conv2d(X, KERNEL, stride=1.5),
     r'^stride must be an int or a pair of ints'),
    ('conv2d_dilation_0', lambda: layers.conv2d(X, KERNEL, dilation=0),
     r'^dilation must be >= 1'),
    ('conv2d_padding', lambda: layers.conv2d(X, KERNEL, padding='same'),
     r"^padding must be one of 'circular', 'zeros', 'reflect', 'replicate', "
     r"'valid'; got 'same'"),
    ('conv2d_valid_kernel_too_big', lambda: layers.conv2d(
        X, BIG_KERNEL, padding='valid'),
     r"^padding='valid' needs the \(dilated\) kernel \(5, 5\) to fit"),
    ('conv2d_valid_dilated_kernel_too_big', lambda: layers.conv2d(
        X, KERNEL, padding='valid', dilation=(1, 2)),
     r"^padding='valid' needs the \(dilated\) kernel \(3, 5\) to fit"),
    ('conv2d_kernel_c_in', lambda: layers.conv2d(
        X, np.ones((3, 3, 3, 1), np.float32)),
     r'^kernel must have C_in = x.shape\[-1\] = 2 input channels'),
    ('conv2d_kernel_empty', lambda: layers.conv2d(
        X, np.ones((0, 3, 2, 1), np.float32)),
     r'^kernel must have spatial sizes kh, kw >= 1'),
    ('conv2d_reflect_too_big', lambda: layers.conv2d(
        X_TINY, np.ones((5, 5, 2, 1), np.float32), padding='reflect'),
     r"^padding='reflect' needs each pad smaller than the input"),
    ('conv2d_x_no_channels', lambda: layers.conv2d(
        np.ones((1, 4, 4, 0), np.float32), np.ones((3, 3, 0, 2), np.float32)),
     r'^x must have H, W, C >= 1 \(layout \[B, H, W, C\]\); got shape '
     r'\(1, 4, 4, 0\)'),
    ('conv2d_x_empty_grid', lambda: layers.conv2d(
        np.ones((1, 0, 4, 2), np.float32), KERNEL),
     r'^x must have H, W, C >= 1'),
    ('conv2d_kernel_no_outputs', lambda: layers.conv2d(
        X, np.ones((3, 3, 2, 0), np.float32)),
     r'^kernel must have C_out >= 1 output channels'),
    ('conv2d_padding_none', lambda: layers.conv2d(X, KERNEL, padding=None),
     r"^padding must be one of 'circular', .*; got None"),
    ('conv2d_dilation_negative', lambda: layers.conv2d(
        X, KERNEL, dilation=-1), r'^dilation must be >= 1; got -1'),
    ('conv2d_stride_bool', lambda: layers.conv2d(X, KERNEL, stride=True),
     r'^stride must be an int or a pair of ints; got True'),
    ('conv2d_x_complex', lambda: layers.conv2d(
        X.astype(np.complex64), KERNEL), r'^x ' + FLOAT),

    # layers/group_conv/
    ('group_batch_norm_mean_shape', lambda: group_conv.group_batch_norm(
        X[..., None], mean=np.zeros(3), var=np.ones(1)),
     r'^mean must have shape \[C\] = \(1,\); got \(3,\)'),
    ('group_batch_norm_epsilon', lambda: group_conv.group_batch_norm(
        X[..., None], mean=np.zeros(1), var=np.ones(1), epsilon=0.0),
     r'^epsilon must be a finite number in \(0, inf\)'),
    ('group_batch_norm_epsilon_inf', lambda: group_conv.group_batch_norm(
        Y, mean=np.zeros(2), var=np.ones(2), epsilon=float('inf')),
     r'^epsilon must be a finite number in \(0, inf\); got inf'),
    ('group_batch_norm_epsilon_str', lambda: group_conv.group_batch_norm(
        Y, mean=np.zeros(2), var=np.ones(2), epsilon='1e-5'),
     r"^epsilon must be a finite number in \(0, inf\); got '1e-5'"),
    ('group_batch_norm_var_negative', lambda: group_conv.group_batch_norm(
        Y, mean=np.zeros(2), var=-np.ones(2)),
     r'^var must be >= 0 \(a variance\)'),
    ('group_conv_y_rank', lambda: group_conv.group_conv2d(
        X, np.ones((3, 3, 4, 2, 1), np.float32), group=groups.Cyclic(4)),
     r'^y must have rank 5 \(\[B, H, W, G, C\]\)'),
    ('group_conv_y_order', lambda: group_conv.group_conv2d(
        np.ones((1, 4, 4, 8, 2), np.float32),
        np.ones((3, 3, 4, 2, 1), np.float32), group=groups.Cyclic(4)),
     r'^y must have G = \|C4\| = 4 on axis 3'),
    ('group_conv_kernel_order', lambda: group_conv.group_conv2d(
        np.ones((1, 4, 4, 4, 2), np.float32),
        np.ones((3, 3, 8, 2, 1), np.float32), group=groups.Cyclic(4)),
     r'^kernel must have G = \|C4\| = 4 on axis 2'),
    ('group_conv_kernel_channels', lambda: group_conv.group_conv2d(
        np.ones((1, 4, 4, 4, 2), np.float32),
        np.ones((3, 3, 4, 3, 1), np.float32), group=groups.Cyclic(4)),
     r'^kernel must have C = y\.shape\[-1\] = 2 input channels'),
    ('group_conv_stride_0', lambda: group_conv.group_conv2d(
        np.ones((1, 4, 4, 4, 2), np.float32),
        np.ones((3, 3, 4, 2, 1), np.float32), group=groups.Cyclic(4),
        stride=0), r'^stride must be >= 1'),
    ('group_conv_kernel_empty', lambda: group_conv.group_conv2d(
        Y, np.ones((3, 3, 4, 0, 1), np.float32), group=groups.Cyclic(4)),
     r'^kernel must have every size >= 1'),
    ('group_conv_y_int', lambda: group_conv.group_conv2d(
        Y.astype(np.int32), np.ones((3, 3, 4, 2, 1), np.float32),
        group=groups.Cyclic(4)), r'^y ' + FLOAT),
    ('group_conv_padding', lambda: group_conv.group_conv2d(
        Y, np.ones((3, 3, 4, 2, 1), np.float32), group=groups.Cyclic(4),
        padding='same'), r"^padding must be one of 'circular', 'zeros'"),
    ('group_filters_kernel_rank', lambda: group_conv.group_filters(
        KERNEL, group=groups.Cyclic(4)),
     r'^kernel must have rank 5 \(\[k, k, G, C, C_out\]\)'),
    ('group_moments_rank', lambda: group_conv.group_moments(X),
     r'^y must have rank 5'),
    ('group_pool_reduction', lambda: group_conv.group_pool(
        X[..., None], reduction='sum'),
     r"^reduction must be one of 'max', 'mean'; got 'sum'"),
    ('group_pool_rank', lambda: group_conv.group_pool(X),
     r'^y must have rank 5 \(\[B, H, W, G, C\]\)'),
    ('group_batch_norm_module_rank', lambda: group_conv.GroupBatchNorm(
        use_running_average=True).init(jax.random.PRNGKey(0), X),
     r'^y must have rank 5'),
    ('group_batch_norm_module_momentum', lambda: group_conv.GroupBatchNorm(
        use_running_average=False, momentum=2.0).init(KEY, Y),
     r'^momentum must be a finite number in \[0, 1\]; got 2\.0'),
    ('group_conv_module_order', lambda: group_conv.GroupConv(
        group=groups.Dihedral(4), features=2).init(
            jax.random.PRNGKey(0), np.ones((1, 4, 4, 4, 2), np.float32)),
     r'^y must have G = \|D4\| = 8 on axis 3'),
    ('group_conv_module_group_name', lambda: group_conv.GroupConv(
        group='p4', features=2).init(KEY, Y),
     r'^group must be a groups\.FiniteGroup'),
    ('lifting_conv_x_rank', lambda: group_conv.lifting_conv2d(
        X[..., None], KERNEL, group=groups.Cyclic(4)), r'^x must.*' + RANK),
    ('lifting_conv_group_name', lambda: group_conv.lifting_conv2d(
        X, KERNEL, group='p4'),
     r"^group must be a groups\.FiniteGroup .*; got 'p4'"),
    ('lifting_conv_kernel_rank', lambda: group_conv.lifting_conv2d(
        X, KERNEL[..., None], group=groups.Cyclic(4)),
     r'^kernel must have rank 4 \(\[k, k, C, C_out\]\)'),
    ('lifting_conv_kernel_not_square', lambda: group_conv.lifting_conv2d(
        X, np.ones((3, 2, 2, 1), np.float32), group=groups.Cyclic(4)),
     r'^kernel must be square \(kh == kw'),
    ('lifting_conv_x_int', lambda: group_conv.lifting_conv2d(
        X_INT, KERNEL, group=groups.Cyclic(4)), r'^x ' + FLOAT),
    ('lifting_conv_padding', lambda: group_conv.lifting_conv2d(
        X, KERNEL, group=groups.Cyclic(4), padding='same'),
     r"^padding must be one of 'circular', 'zeros'"),
    ('lifting_conv_kernel_empty', lambda: group_conv.lifting_conv2d(
        X, np.ones((0, 0, 2, 1), np.float32), group=groups.Cyclic(4)),
     r'^kernel must have every size >= 1 \(layout \[k, k, C, C_out\]\)'),
    ('lifting_conv_kernel_channels', lambda: group_conv.lifting_conv2d(
        X, np.ones((3, 3, 3, 1), np.float32), group=groups.Cyclic(4)),
     r'^kernel must have C_in = x\.shape\[-1\] = 2 input channels'),
    ('lifting_conv_valid_kernel_too_big', lambda: group_conv.lifting_conv2d(
        X, np.ones((5, 5, 2, 1), np.float32), group=groups.Cyclic(4),
        padding='valid'), r"^padding='valid' needs the \(dilated\) kernel"),
    ('lifting_filters_group_none', lambda: group_conv.lifting_filters(
        KERNEL, group=None), r'^group must be a groups\.FiniteGroup'),
    ('lifting_conv_module_features_0', lambda: group_conv.LiftingConv(
        group=groups.Cyclic(4), features=0).init(jax.random.PRNGKey(0), X),
     r'^features must be in 1\.\.'),
    ('lifting_conv_module_kernel_size_pair', lambda: group_conv.LiftingConv(
        group=groups.Cyclic(4), features=2, kernel_size=(3, 3)).init(
            KEY, X), r'^kernel_size must be an int; got \(3, 3\)'),
    ('spatial_pool_not_a_function', lambda: group_conv.spatial_pool(
        X[..., None], pool='max'), r'^pool must be a function'),
    ('spatial_pool_not_per_channel', lambda: group_conv.spatial_pool(
        Y, pool=layers.global_avg_pool),
     r"^pool must map \[B, H, W, C\] to \[B, H', W', C\] \(per channel\); "
     r'got shape \(1, 8\)'),

    # layers/harmonic/
    ('harmonic_basis_orders_0', lambda: harmonic_layers.harmonic_basis(
        3, num_orders=0), r'^num_orders must be in 1\.\.'),
    ('harmonic_basis_rings_0', lambda: harmonic_layers.harmonic_basis(
        3, num_orders=2, n_rings=0), r'^n_rings must be in 1\.\.'),
    ('hconv_x_rank', lambda: harmonic_layers.harmonic_conv2d(
        X[0], np.ones((2, 2, 2, 3), np.float32), filter_size=3),
     r'^z must be a real image \[B, H, W, C\] or a complex harmonic map'),
    ('hconv_x_real_rank5', lambda: harmonic_layers.harmonic_conv2d(
        X[None], np.ones((2, 2, 2, 3), np.float32), filter_size=3),
     r'^z must be a complex harmonic feature map \[B, H, W, M, C\]'),
    ('hconv_x_int', lambda: harmonic_layers.harmonic_conv2d(
        X_INT, np.ones((2, 2, 2, 3), np.float32), filter_size=3),
     r'^z ' + FLOAT),
    ('hconv_filter_size_even', lambda: harmonic_layers.harmonic_conv2d(
        X, np.ones((2, 2, 2, 3), np.float32), filter_size=4),
     r'^filter_size must be odd \(a centre pixel to rotate about\); got 4'),
    ('hconv_filter_size_0', lambda: harmonic_layers.harmonic_conv2d(
        X, np.ones((2, 2, 2, 3), np.float32), filter_size=0),
     r'^filter_size must be in 1\.\.'),
    ('hconv_radial_rank', lambda: harmonic_layers.harmonic_conv2d(
        X, np.ones((2, 2, 2), np.float32), filter_size=3),
     r'^radial must have rank 4 \(\[F, n_rings, C_in, C_out\]\)'),
    ('hconv_radial_c_in', lambda: harmonic_layers.harmonic_conv2d(
        X, np.ones((2, 2, 3, 3), np.float32), filter_size=3),
     r'^radial must have shape \[F, n_rings, C_in, C_out\] with F = '
     r'num_filter_orders\(max_order=1, M_in=1\) = 2 and C_in = 2'),
    ('hconv_radial_orders', lambda: harmonic_layers.harmonic_conv2d(
        X, np.ones((2, 2, 2, 3), np.float32), filter_size=3, max_order=2),
     r'^radial must have shape .* F = num_filter_orders\(max_order=2'),
    ('hconv_phase_shape', lambda: harmonic_layers.harmonic_conv2d(
        X, np.ones((2, 2, 2, 3), np.float32), np.ones((2, 2, 2), np.float32),
        filter_size=3), r'^phase must have shape \[F, C_in, C_out\] = '
     r'\(2, 2, 3\)'),
    ('hconv_max_order_negative', lambda: harmonic_layers.harmonic_conv2d(
        X, np.ones((2, 2, 2, 3), np.float32), filter_size=3, max_order=-1),
     r'^max_order must be in 0\.\.'),
    ('hconv_padding', lambda: harmonic_layers.harmonic_conv2d(
        X, np.ones((2, 2, 2, 3), np.float32), filter_size=3,
        padding='same'), r"^padding must be one of 'circular', 'zeros', "
     r"'reflect', 'replicate', 'valid'; got 'same'"),
    ('hconv_stride_0', lambda: harmonic_layers.harmonic_conv2d(
        X, np.ones((2, 2, 2, 3), np.float32), filter_size=3, stride=0),
     r'^stride must be >= 1'),
    ('hconv_radial_no_outputs', lambda: harmonic_layers.harmonic_conv2d(
        X, np.ones((2, 2, 2, 0), np.float32), filter_size=3),
     r'^radial must have every size >= 1 \(\[F, n_rings, C_in, C_out\]\)'),
    ('hconv_dilation_0', lambda: harmonic_layers.harmonic_conv2d(
        X, np.ones((2, 2, 2, 3), np.float32), filter_size=3, dilation=0),
     r'^dilation must be >= 1'),
    ('hconv_valid_kernel_too_big', lambda: harmonic_layers.harmonic_conv2d(
        X, np.ones((2, 2, 2, 3), np.float32), filter_size=5,
        padding='valid'), r"^padding='valid' needs the \(dilated\) kernel"),
    ('hconv_z_complex_image', lambda: harmonic_layers.harmonic_conv2d(
        X.astype(np.complex64), np.ones((2, 2, 2, 3), np.float32),
        filter_size=3), r'^z ' + FLOAT),
    ('harmonic_filters_even', lambda: harmonic_layers.harmonic_filters(
        np.ones((2, 2, 2, 3), np.float32), filter_size=4),
     r'^filter_size must be odd'),
    ('harmonic_filters_radial_int', lambda: harmonic_layers.harmonic_filters(
        np.ones((2, 2, 2, 3), np.int32), filter_size=3), r'^radial ' + FLOAT),
    ('harmonic_mean_pool_window_too_big',
     lambda: harmonic_layers.harmonic_mean_pool(
         X[:, :, :, None].astype(np.complex64), window=5),
     r"^padding='valid' needs window \(5, 5\) to fit"),
    ('harmonic_mean_pool_padding', lambda: harmonic_layers.harmonic_mean_pool(
        X[:, :, :, None].astype(np.complex64), window=2, padding='zeros'),
     r'^' + POOL_PAD + " 'zeros'"),
    ('harmonic_mean_pool_circular_window_too_big',
     lambda: harmonic_layers.harmonic_mean_pool(Z, window=5,
                                                padding='circular'),
     r"^padding='circular' needs window \(5, 5\) to fit in the input "
     r'H, W = \(4, 4\)'),
    ('harmonic_mean_pool_stride_0', lambda: harmonic_layers.harmonic_mean_pool(
        Z, window=2, stride=0), r'^stride must be >= 1'),
    ('hbatchnorm_module_momentum', lambda: harmonic_layers.HBatchNorm(
        use_running_average=False, momentum=-1.0).init(KEY, Z),
     r'^momentum must be a finite number in \[0, 1\]; got -1\.0'),
    ('hbatchnorm_module_real_image', lambda: harmonic_layers.HBatchNorm(
        use_running_average=True).init(KEY, X), r'^z must have rank 5'),
    ('hconv_module_features_0', lambda: harmonic_layers.HConv(0).init(
        jax.random.PRNGKey(0), X), r'^features must be in 1\.\.'),
    ('hconv_module_filter_size_even', lambda: harmonic_layers.HConv(
        2, filter_size=6).init(jax.random.PRNGKey(0), X),
     r'^filter_size must be odd'),
    ('hconv_module_n_rings_0', lambda: harmonic_layers.HConv(
        2, filter_size=3, n_rings=0).init(KEY, X),
     r'^n_rings must be in 1\.\.'),
    ('hnonlin_module_real_image', lambda: harmonic_layers.HNonlin().init(
        jax.random.PRNGKey(0), X), r'^z must have rank 5'),
    ('hnonlin_module_activation', lambda: harmonic_layers.HNonlin(
        activation='relu').init(KEY, Z), r'^activation must be a function'),
    ('invariant_readout_reduction', lambda: harmonic_layers.invariant_readout(
        X[:, :, :, None].astype(np.complex64), reduction='max'),
     r"^reduction must be one of 'sum', 'stack'; got 'max'"),
    ('magnitude_batch_norm_var_shape',
     lambda: harmonic_layers.magnitude_batch_norm(
         X[:, :, :, None].astype(np.complex64), mean=np.zeros((1, 2)),
         var=np.ones(2)), r'^var must have shape \[M, C\] = \(1, 2\)'),
    ('magnitude_batch_norm_epsilon_0',
     lambda: harmonic_layers.magnitude_batch_norm(
         X[:, :, :, None].astype(np.complex64), mean=np.zeros((1, 2)),
         var=np.ones((1, 2)), epsilon=0),
     r'^epsilon must be a finite number > 0'),
    ('magnitude_batch_norm_epsilon_inf',
     lambda: harmonic_layers.magnitude_batch_norm(
         Z, mean=np.zeros((1, 2)), var=np.ones((1, 2)),
         epsilon=float('inf')),
     r'^epsilon must be a finite number > 0; got inf'),
    ('magnitude_batch_norm_var_negative',
     lambda: harmonic_layers.magnitude_batch_norm(
         Z, mean=np.zeros((1, 2)), var=-np.ones((1, 2))),
     r'^var must be >= 0 \(a variance\)'),
    ('magnitude_moments_real', lambda: harmonic_layers.magnitude_moments(
        X[None]), r'^z must be a complex harmonic feature map'),
    ('magnitude_nonlinearity_bias_shape',
     lambda: harmonic_layers.magnitude_nonlinearity(
         X[:, :, :, None].astype(np.complex64), np.zeros(2, np.float32)),
     r'^bias must have shape \[M, C\] = \(1, 2\)'),
    ('magnitude_nonlinearity_activation',
     lambda: harmonic_layers.magnitude_nonlinearity(
         X[:, :, :, None].astype(np.complex64), np.zeros((1, 2), np.float32),
         activation='relu'), r'^activation must be a function'),
    ('magnitudes_real', lambda: harmonic_layers.magnitudes(X[None]),
     r'^z must be a complex harmonic feature map'),
    ('magnitudes_rank', lambda: harmonic_layers.magnitudes(
        X.astype(np.complex64)), r'^z must have rank 5 \(\[B, H, W, M, C\]\)'),
    ('magnitudes_eps_0', lambda: harmonic_layers.magnitudes(
        X[:, :, :, None].astype(np.complex64), eps=0),
     r'^eps must be a finite number > 0; got 0'),
    ('magnitudes_eps_inf', lambda: harmonic_layers.magnitudes(
        Z, eps=float('inf')), r'^eps must be a finite number > 0; got inf'),
    ('magnitudes_eps_nan', lambda: harmonic_layers.magnitudes(
        Z, eps=float('nan')), r'^eps must be a finite number > 0; got nan'),
    ('num_filter_orders_negative', lambda: harmonic_layers.num_filter_orders(
        -1, 1), r'^max_order must be in 0\.\.'),
    ('radial_init_streams_0', lambda: harmonic_layers.radial_init(0),
     r'^streams_in must be in 1\.\.'),
    ('ring_radii_order_negative', lambda: harmonic_layers.ring_radii(-1, 2),
     r'^order must be in 0\.\.'),
    ('to_harmonic_rank', lambda: harmonic_layers.to_harmonic(X[None]),
     r'^x must.*' + RANK),

    # layers/padding.py
    ('pad_spatial_negative_pad', lambda: layers.padding.pad_spatial(
        X, ((-1, 0), (0, 0)), mode='zeros'), r'^pads must be >= 0'),
    ('pad_spatial_pads_shape', lambda: layers.padding.pad_spatial(
        X, (1, 1), mode='zeros'),
     r'^pads must be \(\(top, bottom\), \(left, right\)\)'),
    ('pad_spatial_x_rank', lambda: layers.padding.pad_spatial(
        X[0, 0], ((1, 1), (1, 1)), mode='zeros'),
     r'^x must have rank 3 or 4 or 5'),
    ('pad_spatial_empty_grid', lambda: layers.padding.pad_spatial(
        np.ones((1, 0, 4, 1), np.float32), ((1, 1), (0, 0)),
        mode='replicate'), r'^x must have H, W >= 1'),
    ('pad_spatial_mode', lambda: layers.padding.pad_spatial(
        X, ((1, 1), (0, 0)), mode='wrap'),
     r"^padding must be one of 'circular', 'zeros', 'reflect', 'replicate'"),
    ('same_pads_0', lambda: layers.padding.same_pads(0),
     r'^size must be in 1\.\.'),

    # layers/pooling.py
    ('aps_indices_norm', lambda: layers.aps_indices(X, norm='l0'),
     r"^norm must be one of 'l1', 'l2', 'linf'; got 'l0'"),
    ('aps_indices_rank', lambda: layers.aps_indices(X[0]),
     r'^x must.*' + RANK),
    ('aps_pool_rank', lambda: layers.aps_pool(X[0]), r'^x must.*' + RANK),
    ('aps_pool_int', lambda: layers.aps_pool(X_INT), r'^x ' + FLOAT),
    ('aps_pool_stride_0', lambda: layers.aps_pool(X, stride=0),
     r'^stride must be in 1\.\.'),
    ('aps_pool_filter_0', lambda: layers.aps_pool(X, filter_size=0),
     r'^' + FILTER),
    ('aps_pool_filter_8', lambda: layers.aps_pool(X, filter_size=8),
     r'^' + FILTER),
    ('aps_pool_norm', lambda: layers.aps_pool(X, norm='l3'),
     r"^norm must be one of 'l1', 'l2', 'linf'; got 'l3'"),
    ('aps_pool_h_not_divisible', lambda: layers.aps_pool(X_ODD),
     r'^x must have H and W divisible by stride=2 for the polyphase split; '
     r'got H, W = 5, 4'),
    ('aps_pool_w_not_divisible', lambda: layers.aps_pool(X, stride=3),
     r'^x must have H and W divisible by stride=3 .*; got H, W = 4, 4'),
    ('avg_pool_rank', lambda: layers.avg_pool(X[0], window=2),
     r'^x must.*' + RANK),
    ('avg_pool_int', lambda: layers.avg_pool(X_INT, window=2),
     r'^x ' + FLOAT),
    ('avg_pool_window_0', lambda: layers.avg_pool(X, window=(2, 0)),
     r'^window must be >= 1'),
    ('avg_pool_stride_0', lambda: layers.avg_pool(X, window=2, stride=(0, 1)),
     r'^stride must be >= 1'),
    ('avg_pool_padding', lambda: layers.avg_pool(X, window=2,
                                                 padding='SAME'),
     r'^' + POOL_PAD + " 'SAME'"),
    ('avg_pool_valid_window_too_big', lambda: layers.avg_pool(
        X, window=(2, 5), stride=1),
     r"^padding='valid' needs window \(2, 5\)"),
    ('avg_pool_circular_window_too_big', lambda: layers.avg_pool(
        X, window=(2, 9), stride=1, padding='circular'),
     r"^padding='circular' needs window \(2, 9\) to fit in the input "
     r'H, W = \(4, 4\)'),
    ('binomial_filter_0', lambda: layers.binomial_filter(0), r'^' + FILTER),
    ('binomial_filter_8', lambda: layers.binomial_filter(8), r'^' + FILTER),
    ('binomial_filter_float', lambda: layers.binomial_filter(3.0),
     r'^filter_size must be an int; got 3\.0'),
    ('blur_pool_rank', lambda: layers.blur_pool(X[0]), r'^x must.*' + RANK),
    ('blur_pool_int', lambda: layers.blur_pool(X_INT), r'^x ' + FLOAT),
    ('blur_pool_stride_0', lambda: layers.blur_pool(X, stride=0),
     r'^stride must be in 1\.\.'),
    ('blur_pool_filter_0', lambda: layers.blur_pool(X, filter_size=0),
     r'^' + FILTER),
    ('blur_pool_filter_8', lambda: layers.blur_pool(X, filter_size=8),
     r'^' + FILTER),
    ('blur_pool_padding', lambda: layers.blur_pool(X, padding='zero'),
     r'^' + BLUR_PAD + " 'zero'"),
    ('blur_pool_reflect_too_big', lambda: layers.blur_pool(
        X_TINY, filter_size=7), r"^padding='reflect' needs each pad smaller"),
    ('blur_pool_stride_pair', lambda: layers.blur_pool(X, stride=(2, 2)),
     r'^stride must be an int; got \(2, 2\)'),
    ('blur_conv_activation_not_a_function', lambda: layers.BlurConv(
        features=2, activation='relu').init(KEY, X),
     r'^activation must be a function'),
    ('blur_conv_features_0', lambda: layers.BlurConv(features=0).init(
        KEY, X), r'^features must be in 1\.\.'),
    ('blur_conv_blur_padding', lambda: layers.BlurConv(
        features=2, blur_padding='same').init(KEY, X),
     r'^' + BLUR_PAD + " 'same'"),
    ('global_avg_pool_rank', lambda: layers.global_avg_pool(X[0]),
     r'^x must.*' + RANK),
    ('global_avg_pool_int', lambda: layers.global_avg_pool(X_INT),
     r'^x ' + FLOAT),
    ('global_max_pool_rank', lambda: layers.global_max_pool(X[..., None]),
     r'^x must.*' + RANK),
    ('global_max_pool_no_channels', lambda: layers.global_max_pool(
        np.ones((1, 4, 4, 0), np.float32)), r'^x must have H, W, C >= 1'),
    ('max_blur_pool_rank', lambda: layers.max_blur_pool(X[0]),
     r'^x must.*' + RANK),
    ('max_blur_pool_int', lambda: layers.max_blur_pool(X_INT),
     r'^x ' + FLOAT),
    ('max_blur_pool_window_0', lambda: layers.max_blur_pool(X, window=0),
     r'^window must be >= 1'),
    ('max_blur_pool_stride_0', lambda: layers.max_blur_pool(X, stride=0),
     r'^stride must be in 1\.\.'),
    ('max_blur_pool_filter_0', lambda: layers.max_blur_pool(X, filter_size=0),
     r'^' + FILTER),
    ('max_blur_pool_filter_8', lambda: layers.max_blur_pool(X, filter_size=8),
     r'^' + FILTER),
    ('max_blur_pool_padding', lambda: layers.max_blur_pool(X, padding='valid'),
     r'^' + BLUR_PAD + " 'valid'"),
    ('max_blur_pool_circular_window_too_big', lambda: layers.max_blur_pool(
        X, window=5, padding='circular'),
     r"^padding='circular' needs window \(5, 5\) to fit"),
    ('max_pool_rank', lambda: layers.max_pool(X[0], window=2),
     r'^x must.*' + RANK),
    ('max_pool_int', lambda: layers.max_pool(X_INT, window=2),
     r'^x ' + FLOAT),
    ('max_pool_window_0', lambda: layers.max_pool(X, window=0),
     r'^window must be >= 1'),
    ('max_pool_stride_0', lambda: layers.max_pool(X, window=2, stride=0),
     r'^stride must be >= 1'),
    ('max_pool_window_triple', lambda: layers.max_pool(X, window=(2, 2, 2)),
     r'^window must be an int or a pair of ints'),
    ('max_pool_padding', lambda: layers.max_pool(X, window=2, padding='zeros'),
     r'^' + POOL_PAD + " 'zeros'"),
    ('max_pool_valid_window_too_big', lambda: layers.max_pool(X, window=5),
     r"^padding='valid' needs window \(5, 5\) to fit"),
    ('max_pool_circular_window_too_big', lambda: layers.max_pool(
        X, window=5, padding='circular'),
     r"^padding='circular' needs window \(5, 5\) to fit in the input "
     r"H, W = \(4, 4\); use a smaller window or padding='same'"),
    ('max_pool_no_channels', lambda: layers.max_pool(
        np.ones((1, 4, 4, 0), np.float32), window=2),
     r'^x must have H, W, C >= 1'),
    ('polyphase_rank', lambda: layers.polyphase_components(X[0]),
     r'^x must.*' + RANK),
    ('polyphase_stride_0', lambda: layers.polyphase_components(X, stride=0),
     r'^stride must be in 1\.\.'),
    ('polyphase_w_not_divisible',
     lambda: layers.polyphase_components(X_ODD_W),
     r'^x must have H and W divisible by stride=2 .*; got H, W = 4, 5'),
    ('pool_module_fn_not_a_function', lambda: layers.Pool(fn='max').init(
        KEY, X), r"^fn must be a function \[B, H, W, C\] -> "),
    ('take_polyphase_index_too_big', lambda: layers.take_polyphase(
        X, np.array([4])),
     r'^indices must be in 0\.\.3 \(stride\*\*2 - 1\); got 4\.\.4'),
    ('take_polyphase_index_negative', lambda: layers.take_polyphase(
        X, np.array([-1])), r'^indices must be in 0\.\.3'),
    ('take_polyphase_float_indices', lambda: layers.take_polyphase(
        X, np.array([0.0])),
     r'^indices must be an int array of shape \[B\] = \[1\]'),
    ('take_polyphase_not_divisible', lambda: layers.take_polyphase(
        X_ODD, np.array([0])), r'^x must have H and W divisible by stride=2'),
    # layers/polyphase.py (issue 17)
    ('blur_upsample_rank', lambda: layers.blur_upsample(X[0]),
     r'^x must.*' + RANK),
    ('blur_upsample_int', lambda: layers.blur_upsample(X_INT),
     r'^x ' + FLOAT),
    ('blur_upsample_stride_0', lambda: layers.blur_upsample(X, stride=0),
     r'^stride must be in 1\.\.'),
    ('blur_upsample_filter_8', lambda: layers.blur_upsample(
        X, filter_size=8), r'^' + FILTER),
    ('blur_upsample_padding', lambda: layers.blur_upsample(
        X, padding='same'), r'^' + BLUR_PAD + " 'same'"),
    ('blur_upsample_module_padding', lambda: layers.BlurUpsample(
        padding='wrap').init(KEY, X), r'^' + BLUR_PAD + " 'wrap'"),
    ('mix_polyphase_weights_shape', lambda: layers.mix_polyphase(
        X, np.ones((1, 3), np.float32)),
     r'^weights must have shape \[B, P\] = \[1, 4\] \(P = stride\*\*2 '
     r'phases\); got \(1, 3\)'),
    ('mix_polyphase_weights_rank', lambda: layers.mix_polyphase(
        X, np.ones((4,), np.float32)),
     r'^weights must have rank 2 \(\[B, P\]\)'),
    ('mix_polyphase_weights_int', lambda: layers.mix_polyphase(
        X, np.ones((1, 4), np.int32)),
     r'^weights ' + FLOAT),
    ('mix_polyphase_not_divisible', lambda: layers.mix_polyphase(
        X_ODD, np.ones((1, 4), np.float32)),
     r'^x must have H and W divisible by stride=2'),
    ('mix_polyphase_filter_8', lambda: layers.mix_polyphase(
        X, np.ones((1, 4), np.float32), filter_size=8), r'^' + FILTER),
    ('lpd_module_train_mode', lambda: layers.LPD(train_mode='gumbel').init(
        KEY, X), r"^train_mode must be one of 'hard', 'soft'; got 'gumbel'"),
    ('lpd_module_temperature_0', lambda: layers.LPD(temperature=0.0).init(
        KEY, X), r'^temperature must be a finite number in \(0\.0, inf\)'),
    ('lpd_module_hidden_int', lambda: layers.LPD(hidden=8).init(KEY, X),
     r'^hidden must be a tuple of ints >= 1'),
    ('lpd_module_hidden_0', lambda: layers.LPD(hidden=(0,)).init(KEY, X),
     r'^hidden entries must be in 1\.\.'),
    ('lpd_module_kernel_size_0', lambda: layers.LPD(kernel_size=0).init(
        KEY, X), r'^kernel_size must be in 1\.\.'),
    ('lpd_module_train_without_rng', lambda: layers.LPD().init(
        {'params': KEY}, X, train=True),
     r"^LPD\(train=True\) draws Gumbel noise from the rng stream 'dropout'"),
    ('lpd_module_x_rank', lambda: layers.LPD().init(KEY, X[0]),
     r'^x must.*' + RANK),
    ('lpd_module_x_odd', lambda: layers.LPD().init(KEY, X_ODD),
     r'^x must have H and W divisible by stride=2'),
    ('lps_downsample_selection', lambda: layers.lps_downsample(
        X, [np.ones((3, 3, 2, 1), np.float32)], selection='max'),
     r"^selection must be one of 'argmax', 'softmax', 'gumbel_soft', "
     r"'gumbel_hard'; got 'max'"),
    ('lps_upsample_x_rank', lambda: layers.lps_upsample(
        X[0], np.ones((1, 4), np.float32)),
     r'^x must.*' + RANK),
    ('lps_upsample_weights_shape', lambda: layers.lps_upsample(
        X, np.ones((1, 9), np.float32)),
     r'^weights must have shape \[B, P\] = \[1, 4\]'),
    ('lps_upsample_stride_0', lambda: layers.lps_upsample(
        X, np.ones((1, 4), np.float32), stride=0),
     r'^stride must be in 1\.\.'),
    ('polyphase_weights_components_shape', lambda: layers.polyphase_weights(
        np.zeros((1, 4), np.float32), components=np.zeros((4, 2, 3, 3, 1))),
     r'^components must be \[P, B, h, w, C\] with \[P, B\] = the shape of '
     r'scores \(4, 1\); got \(4, 2, 3, 3, 1\)'),
    ('lpu_module_weights_shape', lambda: layers.LPU(stride=3).init(
        KEY, X, np.ones((1, 4), np.float32)),
     r'^weights must have shape \[B, P\] = \[1, 9\]'),
    ('polyphase_logits_kernels_empty', lambda: layers.polyphase_logits(
        X, []), r'^kernels must be a non-empty sequence of conv kernels'),
    ('polyphase_logits_last_c_out', lambda: layers.polyphase_logits(
        X, [KERNEL]), r'^kernels\[-1\] must have C_out = 1'),
    ('polyphase_logits_last_rank', lambda: layers.polyphase_logits(
        X, [np.ones((3, 2, 1), np.float32)]),
     r'^kernels\[-1\] must have rank 4'),
    ('polyphase_logits_kernel_c_in', lambda: layers.polyphase_logits(
        X, [np.ones((3, 3, 3, 1), np.float32)]),
     r'^kernel must have C_in = x.shape\[-1\] = 2 input channels'),
    ('polyphase_logits_biases', lambda: layers.polyphase_logits(
        X, [np.ones((3, 3, 2, 1), np.float32)], biases=[]),
     r'^biases must be None or a sequence of 1 bias vectors'),
    ('polyphase_logits_not_divisible', lambda: layers.polyphase_logits(
        X_ODD_W, [np.ones((3, 3, 2, 1), np.float32)]),
     r'^x must have H and W divisible by stride=2'),
    ('polyphase_upsample_index_too_big', lambda: layers.polyphase_upsample(
        X, np.array([4])),
     r'^indices must be in 0\.\.3 \(stride\*\*2 - 1\); got 4\.\.4'),
    ('polyphase_upsample_float_indices', lambda: layers.polyphase_upsample(
        X, np.array([0.0])),
     r'^indices must be an int array of shape \[B\] = \[1\]'),
    ('polyphase_upsample_indices_shape', lambda: layers.polyphase_upsample(
        X, np.array([0, 1])),
     r'^indices must be an int array of shape \[B\] = \[1\]; got \(2,\)'),
    ('polyphase_upsample_int_x', lambda: layers.polyphase_upsample(
        X_INT, np.array([0])), r'^x ' + FLOAT),
    ('polyphase_weights_rank', lambda: layers.polyphase_weights(
        np.ones((4,), np.float32)), r'^logits must have rank 2 \(\[B, P\]\)'),
    ('polyphase_weights_selection', lambda: layers.polyphase_weights(
        np.ones((1, 4), np.float32), selection='hard'),
     r"^selection must be one of 'argmax', 'softmax'"),
    ('polyphase_weights_temperature', lambda: layers.polyphase_weights(
        np.ones((1, 4), np.float32), selection='softmax', temperature=-1.0),
     r'^temperature must be a finite number in \(0\.0, inf\); got -1\.0'),
    ('polyphase_weights_no_key', lambda: layers.polyphase_weights(
        np.ones((1, 4), np.float32), selection='gumbel_hard'),
     r"^key must be a PRNG key for selection='gumbel_hard' \(Gumbel "
     r'noise\); got None'),
)


class LayersBadInputTest(bad_input.make_test_case(BAD_INPUTS)):
  """Each row of :data:`BAD_INPUTS` is one test."""


if __name__ == '__main__':
  absltest.main()
