"""Bad inputs to the scale family raise a ValueError naming the argument.

Covers groups.scale's types (ScaleType, geometric_ratio, partner_mask),
layers.scale (bases, pure functions, typed modules) and models.scale. One
row ``(name, call, regex)`` per case; the runner is in tests/bad_input.py.
"""

from absl.testing import absltest
import numpy as np

from groups import scale as scale_lib
from layers import scale
import models
from tests import bad_input
from tests.bad_input import FLOAT, KEY, RANK, X, X_INT

T_IMAGE = scale_lib.ScaleType(2, 2.0)                # X's channels
T_MAP = scale_lib.ScaleType(3, 2.0, 2)
BASIS = np.ones((9, 2, 3, 3), np.float32)            # [F, S, k, k]
MAP = np.ones((1, 4, 4, 2, 3), np.float32)           # [B, H, W, S, C]
W_LIFT = np.ones((9, 2, 3), np.float32)              # [F, C, O]
W_CONV = np.ones((1, 9, 3, 3), np.float32)           # [Q, F, C, O]
LIFT = dict(kernel_size=3, scales=(1.0, 2.0), effective_size=3)


def _init(module, x):
  return module.init(KEY, x)


BAD_INPUTS = (
    # groups/scale.py: the types.
    ('scale_type_channels', lambda: scale_lib.ScaleType(0, 2.0),
     r'^channels must be in 1\.\.'),
    ('scale_type_ratio', lambda: scale_lib.ScaleType(1, 1.0),
     r'^ratio must be'),
    ('scale_type_num_scales', lambda: scale_lib.ScaleType(1, 2.0, -1),
     r'^num_scales must be in 0\.\.'),
    ('scale_type_features', lambda: T_MAP.check_features(X),
     r'^x must be \[B, H, W, S, C\] with S = 2, C = 3'),
    ('scale_type_transform_k', lambda: T_MAP.transform(0.5),
     r'^k must be an int'),
    ('check_scale_type', lambda: scale_lib.check_scale_type('C8', 'in_type'),
     r'^in_type must be a groups\.scale\.ScaleType'),
    ('geometric_ratio_not_geometric', lambda: scale_lib.geometric_ratio(
        (1.0, 2.0, 3.0)), r'^scales must increase geometrically'),
    ('geometric_ratio_text', lambda: scale_lib.geometric_ratio('abc'),
     r'^scales must be a sequence of finite numbers > 0'),
    ('geometric_ratio_bool', lambda: scale_lib.geometric_ratio((True, 2.0)),
     r'^scales must be a sequence of finite numbers > 0'),
    ('partner_mask_scales', lambda: scale_lib.partner_mask(4, 4, 0, 1),
     r'^num_scales must be in 1\.\.'),
    # layers/scale/basis.py
    ('hermite_even_size', lambda: scale.hermite_basis(4, (1.0, 2.0)),
     r'^size must be odd'),
    ('hermite_effective_size', lambda: scale.hermite_basis(
        5, (1.0, 2.0), effective_size=7), r'^effective_size must be <= size'),
    ('hermite_scales', lambda: scale.hermite_basis(5, (2.0, 1.0)),
     r'^scales must increase geometrically'),
    ('hermite_mult', lambda: scale.hermite_basis(
        5, (1.0, 2.0), effective_size=3, mult=1.0),
     r'^mult must be'),
    ('hermite_max_order', lambda: scale.hermite_basis(
        5, (1.0, 2.0), effective_size=3, max_order=-1), r'^max_order must be in 0\.\.'),
    ('hermite_spread_scales', lambda: scale.hermite_basis(
        5, (1.0, 4.0), effective_size=3),
     r'^scales must not be so spread'),
    ('disco_min_scale', lambda: scale.disco_basis(
        5, (1.0, 2.0), effective_size=3, min_scale=0.0), r'^min_scale must'),
    ('disco_dilate_integer', lambda: scale.disco_basis(
        5, (1.0, 2.0), effective_size=3, dilate_integer='yes'),
     r'^dilate_integer must be True or False'),
    ('make_basis_kind', lambda: scale.make_basis('bspline', 5, (1.0, 2.0)),
     r"^basis must be one of 'hermite', 'disco'"),
    ('dilate_too_big', lambda: scale.dilate(np.ones((3, 3)), 3, 5),
     r'^size must hold the dilated kernel'),
    ('equivariance_errors_scales', lambda: scale.equivariance_errors(
        BASIS, (1.0, 2.0, 4.0)), r'^scales must have one entry per basis'),
    ('equivariance_errors_images', lambda: scale.equivariance_errors(
        BASIS, (1.0, 2.0), np.ones((1, 8, 6, 1), np.float32)),
     r'^images must be square single-channel'),
    ('equivariance_errors_small_images', lambda: scale.equivariance_errors(
        BASIS, (1.0, 2.0), np.ones((1, 8, 8, 1), np.float32)),
     r'^images must be large enough'),
    # layers/scale/conv.py
    ('lifting_x_rank', lambda: scale.lifting_conv(MAP, W_LIFT, BASIS),
     r'^x must.*' + RANK),
    ('lifting_x_int', lambda: scale.lifting_conv(X_INT, W_LIFT, BASIS),
     r'^x ' + FLOAT),
    ('lifting_basis_rank', lambda: scale.lifting_conv(X, W_LIFT, BASIS[0]),
     r'^basis must have rank 4 \(\[F, S, k, k\]\)'),
    ('lifting_basis_not_square', lambda: scale.lifting_conv(
        X, W_LIFT, BASIS[..., :2]), r'^basis must be \[F, S, k, k\] with '
     'square kernels'),
    ('lifting_weight_funcs', lambda: scale.lifting_conv(X, W_LIFT[:4], BASIS),
     r'^weight must have F = 9 basis functions'),
    ('lifting_weight_channels', lambda: scale.lifting_conv(
        X, W_LIFT[:, :1], BASIS), r'^weight must have C = 2 input channels'),
    ('scale_conv_x_rank', lambda: scale.scale_conv(X, W_CONV, BASIS),
     r'^x must have rank 5 \(\[B, H, W, S, C\]\)'),
    ('scale_conv_x_int', lambda: scale.scale_conv(
        MAP.astype(np.int32), W_CONV, BASIS), r'^x ' + FLOAT),
    ('scale_conv_scales', lambda: scale.scale_conv(
        MAP, W_CONV, np.ones((9, 3, 3, 3), np.float32)),
     r'^x must have S = 3 scales'),
    ('scale_conv_weight_rank', lambda: scale.scale_conv(MAP, W_CONV[0],
                                                        BASIS),
     r'^weight must have rank 4 \(\[Q, F, C, O\]\)'),
    ('projection_reduction', lambda: scale.scale_projection(
        MAP, reduction='sum'), r"^reduction must be one of 'max', 'mean'"),
    ('scale_pool_reduction', lambda: scale.scale_pool(MAP, reduction='min'),
     r"^reduction must be one of 'max', 'avg'"),
    # layers/scale/modules.py
    ('lifting_module_on_scale_map', lambda: scale.ScaleLiftingConv(
        T_MAP, 2, **LIFT), r'^in_type must be a plain image type'),
    ('lifting_module_type', lambda: scale.ScaleLiftingConv('image', 2,
                                                           **LIFT),
     r'^in_type must be a groups\.scale\.ScaleType'),
    ('lifting_module_ratio', lambda: scale.ScaleLiftingConv(
        T_IMAGE, 2, kernel_size=3, scales=(1.0, 1.5), effective_size=3),
     r'^scales must have the ratio of in_type'),
    ('lifting_module_even_kernel', lambda: scale.ScaleLiftingConv(
        T_IMAGE, 2, kernel_size=4, scales=(1.0, 2.0)),
     r'^kernel_size must be odd'),
    ('lifting_module_basis', lambda: scale.ScaleLiftingConv(
        T_IMAGE, 2, basis='fb', **LIFT), r"^basis must be one of"),
    ('lifting_module_out_channels', lambda: scale.ScaleLiftingConv(
        T_IMAGE, 0, **LIFT), r'^out_channels must be in 1\.\.'),
    ('lifting_module_input', lambda: _init(scale.ScaleLiftingConv(
        T_IMAGE, 2, **LIFT), MAP), r'^x must be \[B, H, W, C\] with C = 2'),
    ('scale_conv_module_on_image', lambda: scale.ScaleConv(T_IMAGE, 2,
                                                           **LIFT),
     r'^in_type must be a scale map type'),
    ('scale_conv_module_num_scales', lambda: scale.ScaleConv(
        T_MAP, 2, kernel_size=3, scales=(1.0, 2.0, 4.0), effective_size=3),
     r'^scales must have S = 2 entries'),
    ('scale_conv_module_scale_size', lambda: scale.ScaleConv(
        T_MAP, 2, scale_size=3, **LIFT), r'^scale_size must be in 1\.\.2'),
    ('projection_module_on_image', lambda: scale.ScaleProjection(T_IMAGE),
     r'^in_type must be a scale map type to project'),
    ('projection_module_reduction', lambda: scale.ScaleProjection(
        T_MAP, 'sum'), r"^reduction must be one of 'max', 'mean'"),
    ('nonlinearity_module_function', lambda: scale.ScaleNonlinearity(
        T_MAP, 'swish'), r"^function must be one of 'relu', 'elu'"),
    ('pool_module_reduction', lambda: scale.ScalePool(T_MAP, 'min'),
     r"^reduction must be one of 'max', 'avg'"),
    ('batch_norm_module_input', lambda: _init(scale.ScaleBatchNorm(T_MAP), X),
     r'^x must be \[B, H, W, S, C\] with S = 2, C = 3'),
    # models/scale.py
    ('model_basis', lambda: _init(models.build_model(
        'scale_cnn', basis='bspline'), X), r"^basis must be one of"),
    ('model_pool', lambda: _init(models.build_model(
        'sesn_mnist', pool='min'), X), r"^pool must be one of 'max', 'avg'"),
    ('model_head', lambda: _init(models.build_model(
        'sesn_mnist', head='gap'), X), r"^head must be one of 'sesn', 'disco'"),
    ('model_upsample', lambda: _init(models.build_model(
        'sesn_mnist', upsample=3), X), r'^upsample must be in 1\.\.2'),
    ('model_widths', lambda: _init(models.build_model(
        'sesn_mnist', widths=(8, 16)), X), r'^widths must be three channel'),
    ('model_dropout', lambda: _init(models.build_model(
        'sesn_mnist', dropout_rate=1.0), X), r'^dropout_rate must be in '),
    ('model_scales', lambda: _init(models.build_model(
        'sesn_mnist', scales=(1.0, 3.0, 4.0)), X),
     r'^scales must increase geometrically'),
    ('model_input_rank', lambda: _init(models.build_model('cnn_mnist_scale'),
                                       X[0]), r'^x must.*' + RANK),
)


class ScaleBadInputTest(bad_input.make_test_case(BAD_INPUTS)):
  """Each row of :data:`BAD_INPUTS` is one test."""


if __name__ == '__main__':
  absltest.main()
