"""Scale-equivariant convolutions (SESN, DISCO) over a set of scales.

A scale map is ``[B, H, W, S, C]`` (axis 3: responses at scales
``sigma_0 r^i``); a rescale of the input by ``r^k`` rescales it and shifts
axis 3 by ``k`` (:class:`groups.ScaleAxisRescale`), approximately: how
closely is the basis's business (docs/scale.md).

* :mod:`layers.scale.basis` -- :func:`hermite_basis` (SESN's
  Hermite-Gaussians), :func:`disco_basis` (solved for discrete-scale
  equivariance by least squares), :func:`equivariance_errors`,
  :func:`dilate`, :func:`scale_set`.
* :mod:`layers.scale.conv` -- pure functions :func:`lifting_conv`,
  :func:`scale_conv`, :func:`scale_projection`, :func:`scale_pool`.
* :mod:`layers.scale.modules` -- typed linen modules (``in_type`` /
  ``out_type`` :class:`groups.scale.ScaleType`, chained by
  :class:`layers.steerable.EquivariantSequential`):
  :class:`ScaleLiftingConv`, :class:`ScaleConv`, :class:`ScaleProjection`,
  :class:`ScaleBatchNorm`, :class:`ScaleNonlinearity`, :class:`ScalePool`.
"""

from layers.scale.basis import BASES
from layers.scale.basis import dilate
from layers.scale.basis import disco_basis
from layers.scale.basis import equivariance_errors
from layers.scale.basis import hermite_basis
from layers.scale.basis import make_basis
from layers.scale.basis import scale_set
from layers.scale.conv import lifting_conv
from layers.scale.conv import PROJECTIONS
from layers.scale.conv import scale_conv
from layers.scale.conv import scale_kernels
from layers.scale.conv import SCALE_LAYOUT
from layers.scale.conv import scale_pool
from layers.scale.conv import scale_projection
from layers.scale.modules import ScaleBatchNorm
from layers.scale.modules import ScaleConv
from layers.scale.modules import ScaleLiftingConv
from layers.scale.modules import ScaleModule
from layers.scale.modules import ScaleNonlinearity
from layers.scale.modules import ScalePool
from layers.scale.modules import ScaleProjection

__all__ = [
    'BASES', 'dilate', 'disco_basis', 'equivariance_errors', 'hermite_basis',
    'lifting_conv', 'make_basis', 'PROJECTIONS', 'scale_conv',
    'scale_kernels', 'SCALE_LAYOUT', 'scale_pool', 'scale_projection',
    'scale_set', 'ScaleBatchNorm', 'ScaleConv', 'ScaleLiftingConv',
    'ScaleModule', 'ScaleNonlinearity', 'ScalePool', 'ScaleProjection',
]
