"""Group convolutions over a finite group G (Cohen & Welling 2016).

Group maps are ``[B, H, W, G, C]``, axis 3 indexed by the elements of a
:class:`groups.FiniteGroup`.

* :mod:`layers.group_conv.conv` -- :func:`lifting_conv2d` (image -> group
  map) and :func:`group_conv2d` (group map -> group map), the filters they
  stack (:func:`lifting_filters`, :func:`group_filters`) and their linen
  modules :class:`LiftingConv` and :class:`GroupConv`.
* :mod:`layers.group_conv.norm` -- :func:`group_moments`,
  :func:`group_batch_norm` and :class:`GroupBatchNorm`: statistics per
  channel, shared over ``B, H, W, G``.
* :mod:`layers.group_conv.pooling` -- :func:`group_pool` (max / mean over
  ``G``) and :func:`spatial_pool` (any image pool, ``G`` folded into
  channels).

docs/rotation_groups.md has the whole story.
"""

from layers.group_conv.conv import group_conv2d
from layers.group_conv.conv import group_filters
from layers.group_conv.conv import GroupConv
from layers.group_conv.conv import lifting_conv2d
from layers.group_conv.conv import lifting_filters
from layers.group_conv.conv import LiftingConv
from layers.group_conv.norm import group_batch_norm
from layers.group_conv.norm import group_moments
from layers.group_conv.norm import GroupBatchNorm
from layers.group_conv.pooling import GROUP_REDUCTIONS
from layers.group_conv.pooling import group_pool
from layers.group_conv.pooling import spatial_pool

__all__ = [
    'group_batch_norm', 'group_conv2d', 'group_filters', 'group_moments',
    'group_pool', 'GROUP_REDUCTIONS', 'GroupBatchNorm', 'GroupConv',
    'lifting_conv2d', 'lifting_filters', 'LiftingConv', 'spatial_pool',
]
