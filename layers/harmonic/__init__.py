"""Harmonic networks (H-Nets, Worrall et al. 2017): orders as complex streams.

A harmonic map is a complex64 ``[B, H, W, M, C]`` array; axis 3 holds the
streams of rotation orders ``0, 1, ..., M - 1``, axis 4 the channels (see
:mod:`groups.harmonic`). Rotating the input counter-clockwise by ``theta``
rotates every stream and multiplies the order-``m`` stream by
``e^{i m theta}`` (:class:`groups.harmonic.HarmonicRotation`): exact for
multiples of 90 degrees on centred grids, approximate otherwise.

* :mod:`layers.harmonic.basis` -- :func:`harmonic_basis` (ring bases
  ``R(r) e^{i m phi}``) and :func:`harmonic_filters`.
* :mod:`layers.harmonic.conv` -- :func:`harmonic_conv2d` and :class:`HConv`
  (output order = input order + filter order, one real conv2d call),
  :func:`to_harmonic`.
* :mod:`layers.harmonic.nonlinear` -- :func:`magnitudes` and
  :func:`magnitude_nonlinearity` / :class:`HNonlin`,
  ``act(|z| + b) z / |z|``.
* :mod:`layers.harmonic.norm` -- :func:`magnitude_moments` and
  :func:`magnitude_batch_norm` / :class:`HBatchNorm`,
  ``act(BN(|z|)) z / |z|``.
* :mod:`layers.harmonic.pooling` -- :func:`harmonic_mean_pool` and
  :func:`invariant_readout` (rotation-invariant magnitudes).

Exactness on the grid: the layers commute exactly with
:class:`groups.Rot90` / :class:`~groups.harmonic.HarmonicRotation` on square
grids whose sampling stays centred, i.e. a stride-``s`` conv or an
``s``-strided pool of window ``w`` sees a side ``S`` with ``(S - 1) % s == 0``
('zeros' / 'circular' padding, odd ``filter_size``) or ``(S - w) % s == 0``
('valid' pooling); see :mod:`groups.rotations`. docs/harmonic.md has the
whole story.
"""

from layers.harmonic.basis import angular_samples
from layers.harmonic.basis import default_n_rings
from layers.harmonic.basis import harmonic_basis
from layers.harmonic.basis import harmonic_filters
from layers.harmonic.basis import RING_BANDWIDTH
from layers.harmonic.basis import ring_radii
from layers.harmonic.conv import harmonic_conv2d
from layers.harmonic.conv import HARMONIC_LAYOUT
from layers.harmonic.conv import HConv
from layers.harmonic.conv import input_signature
from layers.harmonic.conv import num_filter_orders
from layers.harmonic.conv import radial_init
from layers.harmonic.conv import to_harmonic
from layers.harmonic.conv import uniform_phase_init
from layers.harmonic.nonlinear import Activation
from layers.harmonic.nonlinear import DEFAULT_EPS
from layers.harmonic.nonlinear import HNonlin
from layers.harmonic.nonlinear import magnitude_nonlinearity
from layers.harmonic.nonlinear import magnitudes
from layers.harmonic.norm import HBatchNorm
from layers.harmonic.norm import magnitude_batch_norm
from layers.harmonic.norm import magnitude_moments
from layers.harmonic.pooling import harmonic_mean_pool
from layers.harmonic.pooling import invariant_readout
from layers.harmonic.pooling import READOUTS

__all__ = [
    'Activation', 'angular_samples', 'DEFAULT_EPS', 'default_n_rings',
    'harmonic_basis', 'harmonic_conv2d', 'harmonic_filters',
    'harmonic_mean_pool', 'HARMONIC_LAYOUT', 'HBatchNorm', 'HConv', 'HNonlin',
    'input_signature', 'invariant_readout', 'magnitude_batch_norm',
    'magnitude_moments', 'magnitude_nonlinearity', 'magnitudes',
    'num_filter_orders', 'radial_init', 'READOUTS', 'RING_BANDWIDTH',
    'ring_radii', 'to_harmonic', 'uniform_phase_init',
]
