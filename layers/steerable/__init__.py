"""Steerable E(2) convolutions (e2cnn-style) between field types.

* :mod:`layers.steerable.basis` -- kernel bases solved per pair of irreps and
  lifted to any representation; :func:`kernel_basis` returns
  ``[n_basis, k, k, C_in, C_out]``.
* :mod:`layers.steerable.conv` -- :func:`steerable_conv2d` (a pure function)
  and :class:`SteerableConv` (linen), with He initialisation on the basis,
  bias on trivial fields and :func:`export` for inference.
* :mod:`layers.steerable.nonlinear` -- pointwise (regular / quotient
  fields), norm, gated and concatenated nonlinearities (issue 15).
* :mod:`layers.steerable.norm` -- inner, norm and gnorm batch norm, and a
  per-example (group-norm style) variant.
* :mod:`layers.steerable.pooling` -- spatial max / avg / blur pools per
  field, norm max pooling, group and norm pooling, invariant read-out.
* :mod:`layers.steerable.restriction` -- restriction to a subgroup
  (D16 -> C16, O(2) -> SO(2), C16 -> C4) and equivariant upsampling.

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
# issue 15: the toolbox (nonlinearities, batch norms, pools, restriction)
from layers.steerable.fieldwise import is_permutation_representation
from layers.steerable.fieldwise import is_signed_permutation_representation
from layers.steerable.nonlinear import concatenated_field_type
from layers.steerable.nonlinear import concatenated_nonlinearity
from layers.steerable.nonlinear import gated_input_type
from layers.steerable.nonlinear import gated_nonlinearity
from layers.steerable.nonlinear import GatedNonlinearity
from layers.steerable.nonlinear import norm_nonlinearity
from layers.steerable.nonlinear import NormNonlinearity
from layers.steerable.nonlinear import pointwise_nonlinearity
from layers.steerable.nonlinear import PointwiseNonlinearity
from layers.steerable.norm import field_group_norm
from layers.steerable.norm import FieldGroupNorm
from layers.steerable.norm import gnorm_batch_norm
from layers.steerable.norm import GNormBatchNorm
from layers.steerable.norm import inner_batch_norm
from layers.steerable.norm import inner_moments
from layers.steerable.norm import InnerBatchNorm
from layers.steerable.norm import norm_batch_norm
from layers.steerable.norm import norm_moments
from layers.steerable.norm import NormBatchNorm
from layers.steerable.pooling import group_pool
from layers.steerable.pooling import group_pool_type
from layers.steerable.pooling import invariant_map
from layers.steerable.pooling import invariant_readout
from layers.steerable.pooling import norm_max_blur_pool
from layers.steerable.pooling import norm_max_pool
from layers.steerable.pooling import norm_pool
from layers.steerable.pooling import pointwise_avg_pool
from layers.steerable.pooling import pointwise_blur_pool
from layers.steerable.pooling import pointwise_max_blur_pool
from layers.steerable.pooling import pointwise_max_pool
from layers.steerable.restriction import restrict
from layers.steerable.restriction import restrict_field_type
from layers.steerable.restriction import restrict_representation
from layers.steerable.restriction import subgroup_embedding
from layers.steerable.restriction import upsample

__all__ = [
    'basis_options', 'BasisOptions', 'export', 'exported_conv2d', 'he_init',
    'kernel_basis', 'KernelBasis', 'layer_basis', 'steerable_conv2d',
    'steerable_kernel', 'SteerableConv',
    # issue 15
    'concatenated_field_type', 'concatenated_nonlinearity',
    'field_group_norm', 'FieldGroupNorm', 'gated_input_type',
    'gated_nonlinearity', 'GatedNonlinearity', 'gnorm_batch_norm',
    'GNormBatchNorm', 'group_pool', 'group_pool_type', 'inner_batch_norm',
    'inner_moments', 'InnerBatchNorm', 'invariant_map', 'invariant_readout',
    'is_permutation_representation', 'is_signed_permutation_representation',
    'norm_batch_norm', 'norm_max_blur_pool', 'norm_max_pool', 'norm_moments',
    'norm_nonlinearity', 'norm_pool', 'NormBatchNorm', 'NormNonlinearity',
    'pointwise_avg_pool', 'pointwise_blur_pool', 'pointwise_max_blur_pool',
    'pointwise_max_pool', 'pointwise_nonlinearity', 'PointwiseNonlinearity',
    'restrict', 'restrict_field_type', 'restrict_representation',
    'subgroup_embedding', 'upsample',
]
