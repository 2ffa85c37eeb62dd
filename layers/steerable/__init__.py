"""Steerable E(2) convolutions (e2cnn-style) between field types.

* :mod:`layers.steerable.basis` -- kernel bases solved per pair of irreps and
  lifted to any representation; :func:`kernel_basis` returns
  ``[n_basis, k, k, C_in, C_out]``.
* :mod:`layers.steerable.conv` -- :func:`steerable_conv2d` (a pure function)
  and :class:`SteerableConv` (linen), with He initialisation on the basis,
  bias on trivial fields and :func:`export` for inference.

Field types and representations live in ``groups`` (:mod:`groups.fields`,
:mod:`groups.representations`); docs/steerable.md has the whole story.
"""

from layers.steerable.basis import basis_options
from layers.steerable.basis import BasisOptions
from layers.steerable.basis import kernel_basis
from layers.steerable.basis import KernelBasis
from layers.steerable.basis import layer_basis
from layers.steerable.conv import export
from layers.steerable.conv import exported_conv2d
from layers.steerable.conv import he_init
from layers.steerable.conv import steerable_conv2d
from layers.steerable.conv import steerable_kernel
from layers.steerable.conv import SteerableConv

__all__ = [
    'basis_options', 'BasisOptions', 'export', 'exported_conv2d', 'he_init',
    'kernel_basis', 'KernelBasis', 'layer_basis', 'steerable_conv2d',
    'steerable_kernel', 'SteerableConv',
]
