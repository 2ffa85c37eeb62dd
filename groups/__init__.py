"""Transformations T and their induced actions on feature maps.

Layout: transformations act on axes 1, 2 of ``[B, H, W, C]`` and of group
feature maps ``[B, H, W, G, C]`` (see :mod:`groups.base`); finite groups
(:mod:`groups.finite`) also permute axis 3 of group maps.
"""

import importlib as _importlib
import pkgutil as _pkgutil

from groups.base import Compose
from groups.base import FEATURE_LAYOUT
from groups.base import Identity
from groups.base import Transform
from groups.continuous import O2
from groups.continuous import SO2
from groups.cyclic import Cyclic
from groups.dihedral import Dihedral
from groups.error import equivariance_error
from groups.error import relative_error
from groups.error import transformed_pair
from groups.fields import FieldTransform
from groups.fields import FieldType
from groups.fields import fields_to_group_map
from groups.fields import group_map_to_fields
from groups.finite import finite_group
from groups.finite import FiniteGroup
from groups.finite import RegularAction
from groups.fourier_rotation import FourierRotation
from groups.interpolated import BilinearRotation
from groups.interpolated import inscribed_disk
from groups.named import group_by_name
from groups.named import rotation_element
from groups.representations import direct_sum
from groups.representations import Representation
from groups.rotations import Flip
from groups.rotations import Rot90
from groups.scale import Rescale
from groups.scale import ScaleAxisRescale
from groups.translations import CircularShift
from groups.translations import FourierShift
from groups.translations import interior_mask
from groups.translations import ZeroFillShift

# A finite group registers itself when its module is imported; importing every
# module here means a new group needs one new file and no edit to this one.
for _module in _pkgutil.iter_modules(__path__):
  _importlib.import_module(f'{__name__}.{_module.name}')

__all__ = [
    'BilinearRotation', 'CircularShift', 'Compose', 'Cyclic', 'Dihedral',
    'equivariance_error', 'FEATURE_LAYOUT', 'finite_group', 'FiniteGroup',
    'Flip', 'FourierRotation', 'FourierShift', 'group_by_name', 'Identity', 'inscribed_disk',
    'interior_mask', 'RegularAction', 'relative_error', 'Rescale', 'Rot90',
    'rotation_element', 'ScaleAxisRescale', 'Transform',
    'transformed_pair', 'ZeroFillShift',
    # Steerable: representations and field types.
    'direct_sum', 'FieldTransform', 'FieldType', 'fields_to_group_map',
    'group_map_to_fields', 'O2', 'Representation', 'SO2',
]
