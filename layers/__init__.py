"""Layers: pure functions on ``[B, H, W, C]`` plus thin linen modules."""

from layers.conv import Conv
from layers.conv import conv2d
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
from layers.pooling import Pool

__all__ = [
    'aps_pool', 'avg_pool', 'binomial_filter', 'blur_pool', 'BlurConv', 'Conv',
    'conv2d', 'global_avg_pool', 'global_max_pool', 'max_blur_pool', 'max_pool',
    'polyphase_components', 'Pool',
]
