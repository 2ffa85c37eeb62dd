"""Layers: pure functions on ``[B, H, W, C]`` plus thin linen modules."""

from layers.conv import Conv
from layers.conv import conv2d
from layers.group_conv import group_batch_norm
from layers.group_conv import group_conv2d
from layers.group_conv import group_filters
from layers.group_conv import group_moments
from layers.group_conv import group_pool
from layers.group_conv import GroupBatchNorm
from layers.group_conv import GroupConv
from layers.group_conv import lifting_conv2d
from layers.group_conv import lifting_filters
from layers.group_conv import LiftingConv
from layers.group_conv import spatial_pool
from layers.pooling import aps_indices
from layers.pooling import aps_pool
from layers.pooling import avg_pool
from layers.pooling import binomial_filter
from layers.pooling import blur_pool
from layers.pooling import BlurConv
from layers.pooling import global_avg_pool
from layers.pooling import global_max_pool
from layers.pooling import max_blur_pool
from layers.pooling import max_pool
from layers.pooling import polyphase_components
from layers.pooling import take_polyphase
from layers.pooling import Pool
from layers import steerable  # steerable E(2) convs
from layers.polyphase import blur_upsample
from layers.polyphase import BlurUpsample
from layers.polyphase import LPD
from layers.polyphase import lpd
from layers.polyphase import lps_downsample
from layers.polyphase import LPU
from layers.polyphase import lpu
from layers.polyphase import polyphase_logits
from layers.polyphase import polyphase_upsample
from layers.polyphase import polyphase_weights

__all__ = [
    'aps_indices', 'aps_pool', 'avg_pool', 'binomial_filter', 'blur_pool', 'BlurConv', 'Conv',
    'conv2d', 'global_avg_pool', 'global_max_pool', 'group_batch_norm',
    'group_conv2d', 'group_filters', 'group_moments', 'group_pool',
    'GroupBatchNorm', 'GroupConv', 'lifting_conv2d', 'lifting_filters',
    'LiftingConv', 'max_blur_pool', 'max_pool', 'polyphase_components', 'Pool', 'take_polyphase',
    'spatial_pool',
    'blur_upsample', 'BlurUpsample', 'LPD', 'lpd', 'lps_downsample', 'LPU',
    'lpu', 'polyphase_logits', 'polyphase_upsample', 'polyphase_weights',
]
