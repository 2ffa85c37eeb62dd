"""Layers: pure functions on ``[B, H, W, C]`` plus thin linen modules.

One rule for what lives where:

* translation layers -- convolution (:mod:`layers.conv`), pools, blur pools
  and APS (:mod:`layers.pooling`), learnable polyphase sampling and
  up-sampling (:mod:`layers.polyphase`) -- are exported here by name:
  ``layers.conv2d``, ``layers.max_pool``, ``layers.BlurConv``, ...;
* each rotation family is a subpackage with the same module split (conv /
  nonlinear / norm / pooling, as it has them) and is used through it, never
  re-exported here:

  - :mod:`layers.group_conv` -- lifting and group convolutions over finite
    groups (``layers.group_conv.lifting_conv2d``, ``.GroupConv``,
    ``.group_pool``, ...);
  - :mod:`layers.harmonic` -- harmonic networks (``layers.harmonic.HConv``,
    ``.HNonlin``, ``.invariant_readout``, ...);
  - :mod:`layers.steerable` -- steerable E(2) convolutions between field
    types (``layers.steerable.SteerableConv``, ``.group_pool``, ...);
  - :mod:`layers.scale` -- scale convolutions over a set of scales (SESN /
    DISCO bases: ``layers.scale.ScaleLiftingConv``, ``.ScaleConv``, ...).

So every name here means one thing: the families' ``group_pool`` and
``invariant_readout`` are different functions and are always qualified.
"""

from layers.conv import Conv
from layers.conv import conv2d
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
# The rotation families, as subpackages (see the module docstring).
from layers import group_conv
from layers import harmonic
from layers import steerable
from layers import scale
from layers.polyphase import blur_upsample
from layers.polyphase import BlurUpsample
from layers.polyphase import LPD
from layers.polyphase import lps_downsample
from layers.polyphase import lps_upsample
from layers.polyphase import LPU
from layers.polyphase import mix_polyphase
from layers.polyphase import polyphase_logits
from layers.polyphase import polyphase_upsample
from layers.polyphase import polyphase_weights

__all__ = [
    'aps_indices', 'aps_pool', 'avg_pool', 'binomial_filter', 'blur_pool', 'BlurConv', 'Conv',
    'conv2d', 'global_avg_pool', 'global_max_pool', 'group_conv', 'harmonic',
    'max_blur_pool', 'max_pool', 'polyphase_components', 'Pool', 'scale', 'steerable',
    'take_polyphase',
    'blur_upsample', 'BlurUpsample', 'LPD', 'lps_downsample', 'lps_upsample', 'LPU',
    'mix_polyphase', 'polyphase_logits', 'polyphase_upsample', 'polyphase_weights',
]
