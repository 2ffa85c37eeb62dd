"""Steerable E(2) convolutions (e2cnn-style) between field types.

Every layer comes twice: a pure function on ``[B, H, W, C]`` arrays that
takes the :class:`groups.FieldType` as a keyword, and a typed linen module
built from its input field type, exposing ``in_type`` and ``out_type``
(:mod:`layers.steerable.typed`; :class:`EquivariantSequential` checks that
the types chain when it is built).

* :mod:`layers.steerable.basis` -- kernel bases solved per pair of irreps and
  lifted to any representation; :func:`kernel_basis` returns
  ``[n_basis, k, k, C_in, C_out]``.
* :mod:`layers.steerable.conv` -- :func:`steerable_conv2d` and
  :class:`SteerableConv`, with He initialisation on the basis, bias on
  trivial fields and :func:`export` for inference.
* :mod:`layers.steerable.transposed` -- :func:`steerable_conv2d_transpose`
  and :class:`SteerableConvTranspose` (e2cnn's ``R2ConvTransposed``): the
  conv's kernel basis, applied as a transposed convolution
  (:func:`conv2d_transpose`) that upsamples by its stride.
* :mod:`layers.steerable.nonlinear` -- pointwise (regular / quotient
  fields), norm, gated and concatenated nonlinearities.
* :mod:`layers.steerable.gated` -- escnn's other gated nonlinearities:
  gates as a separate input (:func:`gated_nonlinearity2`) and uniform
  fields gating each irrep (:func:`gated_nonlinearity_uniform`).
* :mod:`layers.steerable.linear` -- :func:`equivariant_linear` and
  :class:`EquivariantLinear` (escnn's ``nn.Linear``) on ``[B, C]``
  vectors, weights on the 1x1 kernel basis (the intertwiners).
* :mod:`layers.steerable.fourier` -- Fourier pointwise nonlinearities
  (escnn's FourierELU): sample each field on group elements, act, project
  back; exact on C_N / D_N, approximate between the sampled SO(2) angles.
* :mod:`layers.steerable.fourier_quotient` -- the same on quotient fields
  (functions on ``G / H``, escnn's QuotientFourierELU): each coset sampled
  once, ``w`` fixed by ``H``.
* :mod:`layers.steerable.induction` -- induced representations
  ``Ind_H^G rho`` (:func:`induced_representation`: C_M / D_M in C_N / D_N,
  SO(2) in O(2)), blocks of ``dim rho`` channels, one per coset;
  :mod:`layers.steerable.induced` -- escnn's induced norm / gated
  nonlinearities, norm batch norm and norm pools acting per block.
* :mod:`layers.steerable.inner_norm` -- inner batch norm (pointwise fields).
* :mod:`layers.steerable.norm` -- norm and gnorm batch norm, a per-example
  (group-norm style) variant, and the typed batch norms' base class.
* :mod:`layers.steerable.pooling` -- spatial max / avg / blur pools per
  field, norm max pooling, group and norm pooling, invariant read-out.
* :mod:`layers.steerable.restriction` -- restriction to a subgroup
  (D16 -> C16, O(2) -> SO(2), C16 -> C4) and equivariant upsampling.
* :mod:`layers.steerable.reflection_pool` -- D_N regular -> C_N regular
  fields by a max / mean over each mirror coset ``{r^k, r^k f}``.
* :mod:`layers.steerable.dropout` -- field dropout (whole fields, any type)
  and pointwise dropout (permutation fields), flax's ``nn.Dropout`` rules.
* :mod:`layers.steerable.masking` -- a soft disk mask (escnn's
  ``MaskModule``) on the disk inscribed in the grid.
* :mod:`layers.steerable.model_export` -- :func:`export_model`: a trained
  model built from typed modules as plain kernels (batch norms folded) for
  inference.
* :mod:`layers.steerable.typed` -- the typed-module mixin, the checked
  sequential container, and :func:`typed_layers` (the typed modules inside
  any flax model, for per-layer measurements).

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
from layers.steerable.dropout import field_dropout
from layers.steerable.dropout import FieldDropout
from layers.steerable.dropout import pointwise_dropout
from layers.steerable.dropout import PointwiseDropout
from layers.steerable.fieldwise import is_permutation_representation
from layers.steerable.fieldwise import is_signed_permutation_representation
from layers.steerable.fourier import band_limited_representation
from layers.steerable.fourier import check_fourier_fields
from layers.steerable.fourier import fourier_pointwise
from layers.steerable.fourier import FourierPointwise
from layers.steerable.fourier import sample_elements
from layers.steerable.fourier_quotient import check_quotient_fourier_fields
from layers.steerable.fourier_quotient import quotient_fourier_pointwise
from layers.steerable.fourier_quotient import quotient_fourier_representation
from layers.steerable.fourier_quotient import QuotientFourierPointwise
from layers.steerable.fourier_quotient import subgroup_elements
from layers.steerable.gated import gate_field_type
from layers.steerable.gated import gated_nonlinearity2
from layers.steerable.gated import gated_nonlinearity_uniform
from layers.steerable.gated import GatedNonlinearity2
from layers.steerable.gated import GatedNonlinearityUniform
from layers.steerable.gated import uniform_gated_representation
from layers.steerable.gated import uniform_gated_type
from layers.steerable.induced import induced_gate_type
from layers.steerable.induced import induced_gated_input_type
from layers.steerable.induced import induced_gated_nonlinearity
from layers.steerable.induced import induced_gated_type_of
from layers.steerable.induced import induced_norm_batch_norm
from layers.steerable.induced import induced_norm_max_pool
from layers.steerable.induced import induced_norm_moments
from layers.steerable.induced import induced_norm_nonlinearity
from layers.steerable.induced import induced_norm_pool
from layers.steerable.induced import InducedGatedNonlinearity
from layers.steerable.induced import InducedNormBatchNorm
from layers.steerable.induced import InducedNormMaxPool
from layers.steerable.induced import InducedNormNonlinearity
from layers.steerable.induced import InducedNormPool
from layers.steerable.induction import check_induced_fields
from layers.steerable.induction import induced_representation
from layers.steerable.induction import InducedRepresentation
from layers.steerable.induction import is_induced
from layers.steerable.linear import equivariant_linear
from layers.steerable.linear import EquivariantLinear
from layers.steerable.linear import fiber_action
from layers.steerable.linear import FiberTransform
from layers.steerable.linear import linear_basis
from layers.steerable.linear import linear_matrix
from layers.steerable.masking import disk_mask
from layers.steerable.masking import disk_mask_weights
from layers.steerable.masking import DiskMask
from layers.steerable.model_export import export_model
from layers.steerable.model_export import ExportedModel
from layers.steerable.nonlinear import concatenated_field_type
from layers.steerable.nonlinear import concatenated_nonlinearity
from layers.steerable.nonlinear import ConcatenatedNonlinearity
from layers.steerable.nonlinear import gated_input_type
from layers.steerable.nonlinear import gated_nonlinearity
from layers.steerable.nonlinear import gated_type_of
from layers.steerable.nonlinear import GatedNonlinearity
from layers.steerable.nonlinear import norm_nonlinearity
from layers.steerable.nonlinear import NormNonlinearity
from layers.steerable.nonlinear import pointwise_nonlinearity
from layers.steerable.nonlinear import PointwiseNonlinearity
from layers.steerable.inner_norm import inner_batch_norm
from layers.steerable.inner_norm import inner_moments
from layers.steerable.inner_norm import InnerBatchNorm
from layers.steerable.norm import field_group_norm
from layers.steerable.norm import FieldBatchNorm
from layers.steerable.norm import FieldGroupNorm
from layers.steerable.norm import gnorm_batch_norm
from layers.steerable.norm import GNormBatchNorm
from layers.steerable.norm import norm_batch_norm
from layers.steerable.norm import norm_moments
from layers.steerable.norm import NormBatchNorm
from layers.steerable.pooling import group_pool
from layers.steerable.pooling import group_pool_type
from layers.steerable.pooling import GroupPool
from layers.steerable.pooling import invariant_map
from layers.steerable.pooling import invariant_readout
from layers.steerable.pooling import InvariantMap
from layers.steerable.pooling import InvariantReadout
from layers.steerable.pooling import norm_max_blur_pool
from layers.steerable.pooling import norm_max_pool
from layers.steerable.pooling import norm_pool
from layers.steerable.pooling import NormMaxBlurPool
from layers.steerable.pooling import NormMaxPool
from layers.steerable.pooling import NormPool
from layers.steerable.pooling import pointwise_avg_pool
from layers.steerable.pooling import pointwise_blur_pool
from layers.steerable.pooling import pointwise_max_blur_pool
from layers.steerable.pooling import pointwise_max_pool
from layers.steerable.pooling import PointwiseAvgPool
from layers.steerable.pooling import PointwiseBlurPool
from layers.steerable.pooling import PointwiseMaxBlurPool
from layers.steerable.pooling import PointwiseMaxPool
from layers.steerable.reflection_pool import reflection_pool
from layers.steerable.reflection_pool import reflection_pool_type
from layers.steerable.reflection_pool import ReflectionPool
from layers.steerable.restriction import restrict
from layers.steerable.restriction import Restrict
from layers.steerable.restriction import restrict_field_type
from layers.steerable.restriction import restrict_representation
from layers.steerable.restriction import subgroup_embedding
from layers.steerable.restriction import upsample
from layers.steerable.restriction import Upsample
from layers.steerable.transposed import conv2d_transpose
from layers.steerable.transposed import exported_conv2d_transpose
from layers.steerable.transposed import steerable_conv2d_transpose
from layers.steerable.transposed import SteerableConvTranspose
from layers.steerable.typed import check_chain
from layers.steerable.typed import EquivariantSequential
from layers.steerable.typed import exact_elements
from layers.steerable.typed import rotation_actions
from layers.steerable.typed import typed_layers
from layers.steerable.typed import TypedModule

__all__ = [
    # kernel bases and the conv
    'basis_options', 'BasisOptions', 'export', 'exported_conv2d', 'he_init',
    'kernel_basis', 'KernelBasis', 'layer_basis', 'steerable_conv2d',
    'steerable_kernel', 'SteerableConv',
    # the equivariant linear map of [B, C] vectors
    'equivariant_linear', 'EquivariantLinear', 'fiber_action',
    'FiberTransform', 'linear_basis', 'linear_matrix',
    # whole-model export (plain kernels, norms folded)
    'export_model', 'ExportedModel',
    # the transposed conv
    'conv2d_transpose', 'exported_conv2d_transpose',
    'steerable_conv2d_transpose', 'SteerableConvTranspose',
    # nonlinearities
    'band_limited_representation', 'check_fourier_fields',
    'fourier_pointwise', 'FourierPointwise',
    'sample_elements', 'check_quotient_fourier_fields',
    'quotient_fourier_pointwise', 'quotient_fourier_representation',
    'QuotientFourierPointwise', 'subgroup_elements',
    'concatenated_field_type', 'concatenated_nonlinearity',
    'ConcatenatedNonlinearity', 'gated_input_type', 'gated_nonlinearity',
    'gated_type_of', 'GatedNonlinearity', 'is_permutation_representation',
    'is_signed_permutation_representation', 'norm_nonlinearity',
    'NormNonlinearity', 'pointwise_nonlinearity', 'PointwiseNonlinearity',
    'gate_field_type', 'gated_nonlinearity2', 'gated_nonlinearity_uniform',
    'GatedNonlinearity2', 'GatedNonlinearityUniform',
    'uniform_gated_representation', 'uniform_gated_type',
    # norms
    'field_group_norm', 'FieldBatchNorm', 'FieldGroupNorm',
    'gnorm_batch_norm', 'GNormBatchNorm', 'inner_batch_norm',
    'inner_moments', 'InnerBatchNorm', 'norm_batch_norm', 'norm_moments',
    'NormBatchNorm',
    # pools and invariants
    'group_pool', 'group_pool_type', 'GroupPool', 'invariant_map',
    'invariant_readout', 'InvariantMap', 'InvariantReadout',
    'norm_max_blur_pool', 'norm_max_pool', 'norm_pool', 'NormMaxBlurPool',
    'NormMaxPool', 'NormPool', 'pointwise_avg_pool', 'pointwise_blur_pool',
    'pointwise_max_blur_pool', 'pointwise_max_pool', 'PointwiseAvgPool',
    'PointwiseBlurPool', 'PointwiseMaxBlurPool', 'PointwiseMaxPool',
    # induced representations and their layers
    'check_induced_fields', 'induced_gate_type', 'induced_gated_input_type',
    'induced_gated_nonlinearity', 'induced_gated_type_of',
    'induced_norm_batch_norm', 'induced_norm_max_pool', 'induced_norm_moments',
    'induced_norm_nonlinearity', 'induced_norm_pool', 'induced_representation',
    'InducedGatedNonlinearity', 'InducedNormBatchNorm', 'InducedNormMaxPool',
    'InducedNormNonlinearity', 'InducedNormPool', 'InducedRepresentation',
    'is_induced',
    # D_N -> C_N pooling, dropout, the disk mask
    'reflection_pool', 'reflection_pool_type', 'ReflectionPool',
    'field_dropout', 'FieldDropout', 'pointwise_dropout', 'PointwiseDropout',
    'disk_mask', 'disk_mask_weights', 'DiskMask',
    # restriction and upsampling
    'restrict', 'Restrict', 'restrict_field_type', 'restrict_representation',
    'subgroup_embedding', 'upsample', 'Upsample',
    # typed modules
    'check_chain', 'EquivariantSequential', 'exact_elements',
    'rotation_actions', 'typed_layers', 'TypedModule',
]
