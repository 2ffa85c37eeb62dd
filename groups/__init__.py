"""Transformations T and their induced actions on feature maps.

Layout: transformations act on axes 1, 2 of ``[B, H, W, C]`` and of group
feature maps ``[B, H, W, G, C]`` (see :mod:`groups.base`).
"""

from groups.base import Compose
from groups.base import FEATURE_LAYOUT
from groups.base import Identity
from groups.base import Transform
from groups.error import equivariance_error
from groups.error import relative_error
from groups.error import transformed_pair
from groups.rotations import Flip
from groups.rotations import Rot90
from groups.translations import CircularShift
from groups.translations import FourierShift
from groups.translations import interior_mask
from groups.translations import ZeroFillShift

__all__ = [
    'CircularShift', 'Compose', 'equivariance_error', 'FEATURE_LAYOUT', 'Flip',
    'FourierShift', 'Identity', 'interior_mask', 'relative_error', 'Rot90',
    'Transform', 'transformed_pair', 'ZeroFillShift',
]
