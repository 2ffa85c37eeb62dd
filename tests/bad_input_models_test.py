"""Bad inputs to the models package raise a ValueError naming the argument.

Covers CNN, MLP, ResNet, G-CNNs, H-Nets and the model registry. One row
``(name, call, regex)`` per case, grouped by module and, within a module, by
function; the fixtures and the runner are in tests/bad_input.py.
"""

from absl.testing import absltest
import jax
import numpy as np

import groups
import models
from models import hnet
from tests import bad_input
from tests.bad_input import FILTER, FLOAT, KEY, MNIST, RANK, X, X_INT, X_TINY


# (name, call, regex the ValueError message must match)
BAD_INPUTS = (
    # models/cnn.py
    ('cnn_downsampling', lambda: models.CNN(downsampling='stride').init(
        jax.random.PRNGKey(0), X),
     r"^downsampling must be one of 'none', 'strided_conv', 'max', 'avg', "
     r"'max_blur', 'blur_conv', 'aps'; got 'stride'"),
    ('cnn_head', lambda: models.CNN(head='gap').init(
        jax.random.PRNGKey(0), X),
     r"^head must be one of 'fc', 'global_avg', 'global_max'; got 'gap'"),
    ('cnn_padding', lambda: models.CNN(padding='reflect').init(
        jax.random.PRNGKey(0), X),
     r"^padding must be one of 'circular', 'zeros'; got 'reflect'"),
    ('cnn_norm', lambda: models.CNN(norm='layer').init(
        jax.random.PRNGKey(0), X),
     r"^norm must be one of 'none', 'batch'; got 'layer'"),
    ('cnn_widths_empty', lambda: models.CNN(widths=()).init(
        jax.random.PRNGKey(0), X), r'^widths must be a non-empty tuple'),
    ('cnn_widths_0', lambda: models.CNN(widths=(4, 0)).init(
        jax.random.PRNGKey(0), X), r'^widths entries must be in 1\.\.'),
    ('cnn_filter_size_8', lambda: models.CNN(filter_size=8).init(
        jax.random.PRNGKey(0), X), r'^' + FILTER),
    ('cnn_num_classes_0', lambda: models.CNN(num_classes=0).init(
        jax.random.PRNGKey(0), X), r'^num_classes must be in 1\.\.'),
    ('cnn_x_rank', lambda: models.CNN().init(jax.random.PRNGKey(0), X[0]),
     r'^x must.*' + RANK),
    ('cnn_x_int', lambda: models.CNN().init(jax.random.PRNGKey(0), X_INT),
     r'^x ' + FLOAT),
    ('cnn_aps_grid', lambda: models.CNN(downsampling='aps').init(
        jax.random.PRNGKey(0), np.ones((1, 6, 6, 1), np.float32)),
     r"^CNN with downsampling='aps' halves the grid 2 times .* divisible by "
     r'4; got H, W = 6, 6'),
    ('cnn_x_no_channels', lambda: models.CNN(widths=(2,)).init(
        KEY, np.ones((1, 4, 4, 0), np.float32)),
     r'^x must have H, W, C >= 1'),
    ('cnn_input_too_small_circular', lambda: models.CNN(
        widths=(2, 2, 2)).init(KEY, X_TINY),
     r"^x must be larger for CNN: downsampling 2 \('max', padding "
     r"'circular'\) sees a 1x1 map from an input of H, W = 2, 2"),
    ('cnn_input_too_small_zeros', lambda: models.CNN(
        widths=(2, 2), padding='zeros', downsampling='max_blur').init(
            KEY, X_TINY),
     r"^x must be larger for CNN: downsampling 1 \('max_blur', padding "
     r"'zeros'\) sees a 2x2 map"),
    ('mlp_hidden_0', lambda: models.MLP(hidden=(8, 0)).init(
        jax.random.PRNGKey(0), X), r'^hidden entries must be in 1\.\.'),
    ('mlp_x_rank', lambda: models.MLP().init(jax.random.PRNGKey(0), X[0]),
     r'^x must.*' + RANK),
    ('mlp_num_classes_0', lambda: models.MLP(num_classes=0).init(KEY, X),
     r'^num_classes must be in 1\.\.'),
    ('residual_block_padding', lambda: models.ResidualBlock(
        features=2, padding='reflect').init(KEY, X),
     r"^padding must be one of 'circular', 'zeros'; got 'reflect'"),
    ('residual_block_features_0', lambda: models.ResidualBlock(
        features=0).init(KEY, X), r'^features must be in 1\.\.'),
    ('residual_block_downsampling', lambda: models.ResidualBlock(
        features=2, downsample=True, downsampling='pool').init(KEY, X),
     r"^downsampling must be one of 'none', 'strided_conv'"),
    ('resnet_blocks_0', lambda: models.ResNet(blocks_per_stage=0).init(
        jax.random.PRNGKey(0), X), r'^blocks_per_stage must be in 1\.\.'),
    ('resnet_downsampling', lambda: models.ResNet(downsampling='pool').init(
        jax.random.PRNGKey(0), X), r'^downsampling must be one of'),
    ('resnet_aps_grid', lambda: models.ResNet(downsampling='aps').init(
        jax.random.PRNGKey(0), np.ones((1, 6, 6, 1), np.float32)),
     r"^ResNet with downsampling='aps' halves the grid 2 times"),
    ('resnet_bn_momentum', lambda: models.ResNet(
        widths=(2,), bn_momentum=2.0).init(KEY, X),
     r'^bn_momentum must be a finite number in \[0, 1\]; got 2\.0'),
    ('resnet_input_too_small', lambda: models.ResNet(
        widths=(2, 2, 2), downsampling='max').init(KEY, X_TINY),
     r"^x must be larger for ResNet: downsampling 2 \('max', padding "
     r"'circular'\) sees a 1x1 map"),

    # models/gcnn.py
    ('gcnn_group_bad_name', lambda: models.GCNN(group='p5', channels=2).init(
        KEY, MNIST),
     r"^group must be a group name: a finite group .*got 'p5'"),
    ('gcnn_group_continuous', lambda: models.GCNN(
        group='SO2(3)', channels=2).init(KEY, MNIST),
     r'^group must be a groups\.FiniteGroup'),
    ('gcnn_group_transform', lambda: models.GCNN(
        group=groups.Rot90(1), channels=2).init(KEY, MNIST),
     r'^group must be a groups\.FiniteGroup'),
    ('gcnn_layer_actions_group_name', lambda: models.GCNN(
        group='C0', channels=2).layer_actions(90),
     r"^group must be a group name: .*got 'C0'"),
    ('gcnn_layer_actions_degrees', lambda: models.P4CNN().layer_actions('90'),
     r"^degrees must be a finite number in \(-inf, inf\); got '90'"),
    ('gcnn_channels_0', lambda: models.GCNN(
        group=groups.Cyclic(4), channels=0).init(KEY, MNIST),
     r'^channels must be in 1\.\.'),
    ('gcnn_dropout_rate', lambda: models.P4CNN(dropout_rate=1.0).init(
        jax.random.PRNGKey(0), np.ones((1, 28, 28, 1), np.float32)),
     r'^dropout_rate must be in \[0, 1\); got 1\.0'),
    ('gcnn_pool_window_0', lambda: models.P4CNN(pool_window=0).init(
        jax.random.PRNGKey(0), np.ones((1, 28, 28, 1), np.float32)),
     r'^pool_window must be in 1\.\.'),
    ('gcnn_x_rank', lambda: models.P4CNN().init(jax.random.PRNGKey(0),
                                                X[0]), r'^x must.*' + RANK),
    ('gcnn_num_classes_0', lambda: models.P4CNN(num_classes=0).init(
        KEY, MNIST), r'^num_classes must be in 1\.\.'),
    ('gcnn_padding', lambda: models.P4CNN(padding='same').init(KEY, MNIST),
     r"^padding must be one of 'circular', 'zeros', 'reflect', 'replicate', "
     r"'valid'; got 'same'"),
    ('gcnn_input_too_small_valid', lambda: models.P4CNN().init(
        KEY, np.ones((1, 27, 28, 1), np.float32)),
     r"^x must have H, W >= 28 for GCNN: padding='valid' needs 28 pixels "
     r'with pool_window=2 .*; got H, W = 27, 28'),
    ('gcnn_input_too_small_padded', lambda: models.P4CNN(
        padding='zeros', pool_window=3).init(
            KEY, np.ones((1, 8, 8, 1), np.float32)),
     r"^x must have H, W >= 9 for GCNN: padding='zeros' needs 9 pixels"),
    ('gcnn_dropout_rate_str', lambda: models.P4CNN(dropout_rate='0.3').init(
        KEY, MNIST), r"^dropout_rate must be in \[0, 1\); got '0\.3'"),
    ('gcnn_bn_momentum', lambda: models.P4CNN(bn_momentum=5.0).init(
        KEY, MNIST), r'^bn_momentum must be a finite number in \[0, 1\]'),
    ('gcnn_bn_epsilon_0', lambda: models.P4CNN(bn_epsilon=0.0).init(
        KEY, MNIST), r'^bn_epsilon must be a finite number in \(0, inf\)'),

    # models/hnet.py
    ('hnet_layer_actions_degrees', lambda: hnet.HNet().layer_actions(
        float('nan')),
     r'^degrees must be a finite number in \(-inf, inf\); got nan'),
    ('hnet_layer_actions_widths', lambda: hnet.HNet(widths=()).layer_actions(
        90),
     r'^widths must be a non-empty tuple'),
    ('hnet_downsample', lambda: hnet.HNet(downsample='max').init(
        jax.random.PRNGKey(0), X),
     r"^downsample must be one of 'mean_pool', 'stride'; got 'max'"),
    ('hnet_downsample_after', lambda: hnet.HNet(downsample_after=(7,)).init(
        jax.random.PRNGKey(0), X),
     r'^downsample_after must be a tuple of layer numbers in 1\.\.6'),
    ('hnet_widths_empty', lambda: hnet.HNet(widths=()).init(
        jax.random.PRNGKey(0), X), r'^widths must be a non-empty tuple'),
    ('hnet_pool_window_0', lambda: hnet.HNet(pool_window=0).init(
        jax.random.PRNGKey(0), X), r'^pool_window must be in 1\.\.'),
    ('hnet_x_rank', lambda: hnet.HNet().init(jax.random.PRNGKey(0), X[0]),
     r'^x must.*' + RANK),
    ('hnet_filter_size_even', lambda: hnet.HNet(filter_size=4).init(
        jax.random.PRNGKey(0), X), r'^filter_size must be odd'),
    ('hnet_padding', lambda: hnet.HNet(padding='same').init(KEY, X),
     r"^padding must be one of 'circular', 'zeros', 'reflect', 'replicate', "
     r"'valid'; got 'same'"),
    ('hnet_bn_momentum', lambda: hnet.HNet(bn_momentum=1.5).init(KEY, X),
     r'^bn_momentum must be a finite number in \[0, 1\]; got 1\.5'),
    ('hnet_bn_epsilon_0', lambda: hnet.HNet(bn_epsilon=0.0).init(KEY, X),
     r'^bn_epsilon must be a finite number in \(0, inf\)'),
    ('hnet_num_classes_0', lambda: hnet.HNet(num_classes=0).init(KEY, X),
     r'^num_classes must be in 1\.\.'),
    ('hnet_input_too_small', lambda: hnet.HNet(
        widths=(2, 2), downsample_after=(1, 2), filter_size=3).init(
            KEY, np.ones((1, 2, 2, 1), np.float32)),
     r'^x must be larger for HNet: the mean pool after layer 2 sees a 1x1 '
     r"map from an input of H, W = 2, 2, and padding='valid' needs window"),

    # models/steerable.py
    ('steerable_fields', lambda: models.build_model(
        'c8cnn', fields=(1, 1)).init(KEY, MNIST),
     r'^fields must be a tuple of 6 ints >= 1'),
    ('steerable_kernel_even', lambda: models.build_model(
        'c8cnn', kernel_size=4).init(KEY, MNIST),
     r'^kernel_size must be odd \(a centred kernel\); got 4'),
    ('steerable_head_layers_0', lambda: models.build_model(
        'c8cnn', head_layers=0).init(KEY, MNIST),
     r'^head_layers must be in 1\.\.'),
    ('steerable_head_norm_str', lambda: models.build_model(
        'c8cnn', head_norm='yes').init(KEY, MNIST),
     r"^head_norm must be True or False; got 'yes'"),
    ('steerable_dropout_rate_1', lambda: models.build_model(
        'c8cnn', dropout_rate=1.0).init(KEY, MNIST),
     r'^dropout_rate must be a finite number in \[0, 1\); got 1\.0'),
    ('steerable_x_not_square', lambda: models.build_model('c8cnn').init(
        KEY, np.zeros((1, 28, 24, 1), np.float32)),
     r'^x must be square with a side divisible by 4'),

    # models/registry.py
    ('build_model_name', lambda: models.build_model('vgg'),
     r"^name must be one of 'cnn', 'mlp', 'resnet'.*; got 'vgg'"),
    ('build_model_option', lambda: models.build_model('cnn', pool='max'),
     r"^unknown option 'pool' for model 'cnn'; accepted: num_classes, "
     r'widths'),
    ('model_options_name', lambda: models.model_options('vgg'),
     r"^name must be one of 'cnn', 'mlp', 'resnet'"),
    ('register_model_cls', lambda: models.register_model('x', object),
     r'^cls must be a flax.linen.Module subclass'),
    ('register_model_name', lambda: models.register_model('', models.CNN),
     r'^name must be a non-empty str'),
    # models/unet.py (issue 17)
    ('unet_downsampling', lambda: models.UNet(downsampling='max').init(
        KEY, X), r"^downsampling must be one of 'strided', 'blur', 'aps', "
     r"'lps'; got 'max'"),
    ('unet_widths_empty', lambda: models.UNet(widths=()).init(KEY, X),
     r'^widths must be a non-empty tuple of ints >= 1'),
    ('unet_widths_0', lambda: models.UNet(widths=(4, 0)).init(KEY, X),
     r'^widths entries must be in 1\.\.'),
    ('unet_out_channels_0', lambda: models.UNet(out_channels=0).init(KEY, X),
     r'^out_channels must be in 1\.\.'),
    ('unet_filter_size_8', lambda: models.UNet(filter_size=8).init(KEY, X),
     r'^filter_size must be in 1\.\.7'),
    ('unet_x_not_divisible', lambda: models.UNet(widths=(2, 2, 2, 2)).init(
        KEY, X), r'^x must have H and W divisible by 8 for a U-Net with 4 '
     r'levels'),
    ('unet_x_rank', lambda: models.UNet().init(KEY, X[0]), r'^x must.*' + RANK),
    ('unet_lps_train_mode', lambda: models.UNet(
        downsampling='lps', train_mode='straight', widths=(2, 2)).init(KEY, X),
     r"^train_mode must be one of 'hard', 'soft'; got 'straight'"),
    ('build_unet_option', lambda: models.build_model('unet', pool='max'),
     r"^unknown option 'pool' for model 'unet'; accepted: out_channels, "
     r'widths, downsampling'),

    # models/antialias.py (issue 17)
    ('antialias_method', lambda: models.antialias(models.CNN(),
                                                  method='max_blur'),
     r"^method must be one of 'blur', 'aps', 'lps'; got 'max_blur'"),
    ('antialias_filter_size', lambda: models.antialias(models.CNN(),
                                                       filter_size=0),
     r'^filter_size must be in 1\.\.7; got 0'),
    ('antialias_circular', lambda: models.antialias(models.CNN(),
                                                    circular='yes'),
     r"^circular must be True or False; got 'yes'"),
    ('antialias_temperature', lambda: models.antialias(
        models.CNN(), method='lps', temperature=0.0),
     r'^temperature must be a finite number in \(0\.0, inf\)'),
    ('antialias_train_mode', lambda: models.antialias(
        models.CNN(), method='lps', train_mode='straight'),
     r"^train_mode must be one of 'hard', 'soft'"),
    ('antialias_module', lambda: models.antialias(lambda x: x),
     r'^module must be a flax.linen.Module'),
    ('antialias_strided_conv_odd_grid_aps', lambda: models.antialias(
        models.CNN(downsampling='strided_conv', widths=(2, 2)),
        method='aps').init(KEY, np.ones((1, 5, 4, 2), np.float32)),
     r"^antialias\(method='aps'\) needs the stride-1 output of Conv "
     r"'conv0' to have H and W divisible by the stride 2"),
    ('antialiased_resnet_method', lambda: models.build_model(
        'antialiased_resnet', method='max').init(KEY, X),
     r"^method must be one of 'none', 'blur', 'aps', 'lps'; got 'max'"),
    ('find_strided_ops_fn', lambda: models.find_strided_ops('model', X),
     r'^fn must be a function of arrays'),
)


class ModelsBadInputTest(bad_input.make_test_case(BAD_INPUTS)):
  """Each row of :data:`BAD_INPUTS` is one test."""


if __name__ == '__main__':
  absltest.main()
