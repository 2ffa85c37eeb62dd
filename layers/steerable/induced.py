"""escnn's induced layers: norms, gates and pools per block of induced fields.

A field of an induced representation ``Ind_H^G rho``
(:func:`layers.steerable.induced_representation`) is ``n = [G : H]`` blocks
of ``d = dim rho`` channels, one per coset; ``g`` moves block ``j`` to block
``i`` and multiplies it by the orthogonal ``rho(h)`` (``g r_j = r_i h``). So
each block's norm is carried to another block's norm, and a function of the
norm of each block, with parameters shared by the blocks of a field, commutes
with every ``g`` -- exactly, because each layer acts per pixel (the pools on
centred windows):

* :func:`induced_norm_nonlinearity` (escnn ``InducedNormNonLinearity``):
  each block keeps its direction, its norm ``n`` becomes
  ``activation(n - b)`` with one bias ``b`` per field shared by its blocks
  ('relu': escnn's 'n_relu'; 'sigmoid': 'n_sigmoid'; 'squash': ``t / (1 +
  t)``). Finer than :func:`norm_nonlinearity` (one norm per field), coarser
  than a pointwise one (which needs ``rho(h)`` to be permutations).
* :func:`induced_gated_nonlinearity` (escnn ``InducedGatedNonLinearity1``):
  block ``c`` of gated field ``i`` times ``activation(gate_{i, c} - b_i)``;
  the gate of field ``i`` is a field of ``Ind_H^G(trivial)`` -- the quotient
  representation ``G / H``, one scalar per coset, in the same coset order
  (:func:`induced_gate_type`) -- so the gates move with the blocks.
* :func:`induced_norm_batch_norm` (escnn ``InducedNormBatchNorm``): every
  block divided by the root of the mean squared norm per channel
  ``E |x_block|^2 / d``, averaged over the batch, the grid and the field's
  blocks (one variance and one scale per field). As escnn, no mean is
  subtracted and no bias added, so fields containing the trivial irrep
  (``rho`` containing ``H``'s trivial one) are refused: use
  :func:`norm_batch_norm` for those.
* :func:`induced_norm_pool` (escnn ``InducedNormPool``): the largest block
  norm of each field, one invariant (trivial) field per field.
* :func:`induced_norm_max_pool`: a spatial max pool that keeps, for each
  block, the window position of largest block norm (:func:`norm_max_pool`
  per block; escnn has no such pool).

Layout: ``[B, H, W, C]`` of a :class:`groups.FieldType` whose fields are all
induced (a ``ValueError`` names the first that is not). The per-block
arithmetic is the per-field arithmetic of :mod:`layers.steerable.nonlinear`,
:mod:`~layers.steerable.pooling` and :mod:`~layers.steerable.fieldwise` run on
:func:`layers.steerable.induction.blocks_type` (the blocks as fields).

Differences from escnn, on purpose: the gated bias starts at 0 (escnn:
``randn``) and the batch norm normalises with the batch's statistics in
training (escnn: with the running variance after updating it, Bessel
corrected) -- as equivlab's other gated layers and batch norms do.
"""

from __future__ import annotations

from collections.abc import Callable
import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from groups import fields as fields_lib
from groups import validate
from layers.max_reduce import max_reduce
from layers.steerable import fieldwise
from layers.steerable import induction
from layers.steerable import nonlinear
from layers.steerable import norm as norm_lib
from layers.steerable import pooling
from layers.steerable import typed

Activation = nonlinear.Activation

#: Names :func:`induced_norm_nonlinearity` accepts: ``jax.nn`` activations and
#: escnn's 'squash' (``t / (1 + t)``; meant without a bias, as escnn uses it).
NORM_ACTIVATIONS = fieldwise.ACTIVATIONS + ('squash',)


def _squash(t: jax.Array) -> jax.Array:
  return t / (1.0 + t)


def _norm_activation(activation) -> Callable[[jax.Array], jax.Array]:
  if isinstance(activation, str):
    validate.check_choice(activation, 'activation', NORM_ACTIVATIONS)
    if activation == 'squash':
      return _squash
  return fieldwise.activation_fn(activation)


def _blocks(field_type: fields_lib.FieldType, what: str,
            name: str = 'field_type'):
  """``(blocks_type, block_fields)`` of an induced field type."""
  induction.check_induced_fields(field_type, what=what, name=name)
  return (induction.blocks_type(induction.block_sizes(field_type)),
          induction.block_fields(field_type))


# ------------------------------------------------------------ nonlinearities


def induced_norm_nonlinearity(x: jax.typing.ArrayLike,
                              bias: jax.typing.ArrayLike | None = None, *,
                              field_type: fields_lib.FieldType,
                              activation: Activation = 'relu',
                              epsilon: float = 1e-6) -> jax.Array:
  """Each block's norm ``n`` becomes ``activation(n - bias_field)``.

  ``out_block = x_block * activation(n - b) / n`` (0 where ``n <=
  epsilon``): :func:`norm_nonlinearity` on every block of every induced
  field, the field's bias shared by its blocks (escnn's
  ``InducedNormNonLinearity``).

  Args:
    x: ``[B, H, W, C]`` of type ``field_type``.
    bias: None or ``[F]``, one per field (the module: ``exp(log_bias)``).
    field_type: a :class:`groups.FieldType` of induced fields only.
    activation: a ``jax.nn`` name, 'squash' (``t / (1 + t)``), or a
      function of the shifted norms.
    epsilon: norms at most this are treated as 0 (> 0).

  Returns:
    ``[B, H, W, C]`` of type ``field_type``.
  """
  blocks, fields = _blocks(field_type, 'an induced norm nonlinearity')
  x = fieldwise.check_map(x, field_type)
  fn = _norm_activation(activation)
  fieldwise.check_field_vector(bias, 'bias', len(field_type), 'F')
  block_bias = None if bias is None else jnp.take(jnp.asarray(bias), fields)
  return nonlinear.norm_nonlinearity(x, block_bias, field_type=blocks,
                                     activation=fn, epsilon=epsilon)


def induced_gate_type(gated_type: fields_lib.FieldType
                      ) -> fields_lib.FieldType:
  """The gates of :func:`induced_gated_nonlinearity`: for each induced field
  ``Ind_H^G rho`` one field of ``Ind_H^G(trivial)`` (``G / H``'s quotient
  representation: a scalar per coset, in the field's coset order)."""
  induction.check_induced_fields(gated_type, what='an induced gated '
                                 'nonlinearity', name='gated_type')
  group = gated_type.group
  return fields_lib.FieldType(group, [
      induction.induced_representation(group, rep.subgroup,
                                       rep.subgroup.trivial_representation)
      for rep in gated_type.representations])


def induced_gated_input_type(gated_type: fields_lib.FieldType
                             ) -> fields_lib.FieldType:
  """``induced_gate_type(gated_type)`` followed by ``gated_type``: the type a
  conv must produce before :func:`induced_gated_nonlinearity`."""
  return induced_gate_type(gated_type) + gated_type


def induced_gated_type_of(in_type: fields_lib.FieldType
                          ) -> fields_lib.FieldType:
  """The gated fields of an :func:`induced_gated_input_type`: its second
  half.

  Raises:
    ValueError: unless ``in_type`` is ``n`` gate fields then ``n`` induced
      fields, gate ``i`` the ``Ind_H^G(trivial)`` of gated field ``i``'s
      ``H``.
  """
  fields_lib.check_field_type(in_type, 'in_type')
  n, odd = divmod(len(in_type), 2)
  gated = fields_lib.FieldType(in_type.group,
                               in_type.representations[n:]) if n else None
  ok = not odd and n and all(induction.is_induced(r)
                             for r in gated.representations)
  if ok:
    gates = induced_gate_type(gated).representations
    mismatch = [i for i in range(n)
                if in_type.representations[i] != gates[i]]
    ok = not mismatch
  if not ok:
    raise ValueError(
        'in_type must be an induced gated input type: n gate fields, gate i '
        'the quotient representation Ind_H^G(trivial) of gated field i\'s '
        'subgroup H, followed by the n induced gated fields '
        '(steerable.induced_gated_input_type(gated_type)); got '
        f'{in_type}.')
  return gated


def induced_gated_nonlinearity(x: jax.typing.ArrayLike,
                               bias: jax.typing.ArrayLike | None = None, *,
                               gated_type: fields_lib.FieldType,
                               activation: Activation = 'sigmoid'
                               ) -> jax.Array:
  """Block ``c`` of field ``i`` times ``activation(gate_{i, c} - bias_i)``.

  Args:
    x: ``[B, H, W, G + C]`` of type ``induced_gated_input_type(gated_type)``:
      ``G`` gate channels (one per block: field ``i``'s ``num_cosets``
      gates), then the gated fields.
    bias: None or ``[F]``, one per gated field, shared by its cosets.
    gated_type: the induced :class:`groups.FieldType` of the gated fields.
    activation: applied to the gates ('sigmoid', escnn's).

  Returns:
    ``[B, H, W, C]`` of type ``gated_type`` (the gates are dropped).
  """
  blocks, fields = _blocks(gated_type, 'an induced gated nonlinearity',
                           name='gated_type')
  in_type = induced_gated_input_type(gated_type)
  x = fieldwise.check_map(x, in_type,
                          type_name='induced_gated_input_type(gated_type)')
  fn = fieldwise.activation_fn(activation)
  fieldwise.check_field_vector(bias, 'bias', len(gated_type), 'F')
  n_gates = len(fields)  # one per block
  gates = x[..., :n_gates]  # [B, H, W, n_blocks]
  if bias is not None:
    gates = gates - jnp.take(jnp.asarray(bias, gates.dtype), fields)
  return x[..., n_gates:] * fieldwise.expand_fields(
      fn(gates).astype(x.dtype), blocks)


# --------------------------------------------------------------- batch norm


def _check_no_trivial(field_type: fields_lib.FieldType, name: str) -> None:
  trivial = field_type.group.trivial_representation.irreps[0]
  for i, rep in enumerate(field_type.representations):
    if trivial in rep.irreps:
      raise ValueError(
          f'{name} must have no trivial irrep in any field for induced norm '
          'batch norm (as escnn, it subtracts no mean, which is only '
          'right when rho has no trivial component); field '
          f'{i} is {rep}, which contains it (its rho contains the subgroup\'s '
          'trivial representation). Use NormBatchNorm / norm_batch_norm for '
          'it.')


def induced_norm_moments(x: jax.typing.ArrayLike, *,
                         field_type: fields_lib.FieldType) -> jax.Array:
  """``E |x_block|^2 / d`` per field, over ``B, H, W`` and its blocks.

  Returns:
    ``var [F]``.
  """
  blocks, fields = _blocks(field_type, 'induced norm batch norm')
  _check_no_trivial(field_type, 'field_type')
  x = fieldwise.check_map(x, field_type)
  per_block = jnp.mean(fieldwise.field_norms(x, blocks), axis=(0, 1, 2))
  per_block = per_block / fieldwise.field_sizes(blocks).astype(np.float32)
  counts = np.bincount(fields, minlength=len(field_type)).astype(np.float32)
  return jax.ops.segment_sum(per_block, fields,
                             num_segments=len(field_type)) / counts


def induced_norm_batch_norm(x: jax.typing.ArrayLike, *,
                            field_type: fields_lib.FieldType,
                            var: jax.typing.ArrayLike,
                            scale: jax.typing.ArrayLike | None = None,
                            epsilon: float = 1e-5) -> jax.Array:
  """``x * scale / sqrt(var + epsilon)``, one factor per field (all blocks).

  Args:
    x: ``[B, H, W, C]`` of type ``field_type``.
    field_type: induced fields without a trivial irrep.
    var: ``[F]`` (:func:`induced_norm_moments`, or running averages).
    scale: None or ``[F]``.
    epsilon: added to ``var`` (> 0).

  Returns:
    ``[B, H, W, C]`` of type ``field_type``.
  """
  induction.check_induced_fields(field_type, what='induced norm batch norm')
  _check_no_trivial(field_type, 'field_type')
  x = fieldwise.check_map(x, field_type)
  n = len(field_type)
  epsilon = validate.number(epsilon, 'epsilon', minimum=0,
                            exclusive_minimum=True)
  fieldwise.check_field_vector(var, 'var', n, 'F')
  fieldwise.check_field_vector(scale, 'scale', n, 'F')
  if validate.is_concrete(var) and np.any(np.asarray(var) < 0):
    raise ValueError(f'var must be >= 0 (a variance); got {var!r}.')
  factor = jax.lax.rsqrt(jnp.asarray(var) + epsilon)
  if scale is not None:
    factor = factor * scale
  return x * fieldwise.expand_fields(factor.astype(x.dtype), field_type)


# -------------------------------------------------------------------- pools


def induced_norm_pool(x: jax.typing.ArrayLike, *,
                      field_type: fields_lib.FieldType) -> jax.Array:
  """The largest block norm of every field (escnn's ``InducedNormPool``).

  Returns:
    ``[B, H, W, F]`` of type ``group_pool_type(field_type)`` (invariant).
  """
  blocks, fields = _blocks(field_type, 'induced norm pooling')
  norms = pooling.norm_pool(x, field_type=blocks)  # [B, H, W, n_blocks]
  return _max_per_field(norms, fields, len(field_type))


@functools.lru_cache(maxsize=256)
def _field_blocks(fields: tuple[int, ...], n_fields: int) -> np.ndarray:
  """``[F, max blocks]`` block indices of each field, padded with
  ``n_blocks`` (a column of zeros: norms are >= 0)."""
  fields = np.asarray(fields)
  width = int(np.bincount(fields, minlength=n_fields).max())
  out = np.full((n_fields, width), len(fields), np.int32)
  for f in range(n_fields):
    members = np.flatnonzero(fields == f)
    out[f, :len(members)] = members
  return out


def _max_per_field(norms, fields, n_fields):
  index = _field_blocks(tuple(int(f) for f in fields), n_fields)
  padded = jnp.concatenate(
      [norms, jnp.zeros(norms.shape[:-1] + (1,), norms.dtype)], axis=-1)
  return max_reduce(jnp.take(padded, index, axis=-1), -1)


def induced_norm_max_pool(x: jax.typing.ArrayLike, *,
                          field_type: fields_lib.FieldType,
                          window: int | tuple[int, int],
                          stride: int | tuple[int, int] | None = None,
                          padding: str = 'valid') -> jax.Array:
  """In each window, each *block*'s vector of largest norm.

  :func:`norm_max_pool` per block; exact under quarter turns and the mirror
  when the windows are centred (``(H - window) % stride == 0``).

  Args:
    x: ``[B, H, W, C]`` of type ``field_type`` (induced fields).
    field_type: its :class:`groups.FieldType`.
    window, stride, padding: as :func:`norm_max_pool`.

  Returns:
    ``[B, H', W', C]`` of type ``field_type``.
  """
  blocks, _ = _blocks(field_type, 'an induced norm max pool')
  x = fieldwise.check_map(x, field_type)
  return pooling.norm_max_pool(x, field_type=blocks, window=window,
                               stride=stride, padding=padding)


# -------------------------------------------------------------- typed modules


class _InducedModule(typed.TypedModule, nn.Module):
  """A typed module of induced fields: ``out_type`` is ``in_type``."""
  in_type: fields_lib.FieldType

  #: What the layer is, for the ValueError of a non-induced field.
  what = 'an induced layer'

  @property
  def out_type(self) -> fields_lib.FieldType:
    return self.in_type

  def check_types(self) -> None:
    super().check_types()
    induction.check_induced_fields(self.in_type, what=self.what,
                                   name='in_type')


class InducedNormNonlinearity(_InducedModule):
  """Typed :func:`induced_norm_nonlinearity`; owns ``log_bias [F]``.

  The bias is ``exp(log_bias)`` (positive, 1 at initialisation), as escnn.

  Attributes:
    in_type: induced fields only (checked at construction).
    activation: a ``jax.nn`` name, 'squash' or a function ('relu').
    use_bias: learn the bias (else ``activation(n)``; escnn ``bias=False``).
  """
  activation: Activation = 'relu'
  use_bias: bool = True
  what = 'an induced norm nonlinearity'

  def check_types(self) -> None:
    super().check_types()
    _norm_activation(self.activation)
    fieldwise.check_bool(self.use_bias, 'use_bias')

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    bias = None
    if self.use_bias:
      bias = jnp.exp(self.param('log_bias', nn.initializers.zeros_init(),
                                (len(self.in_type),), jnp.float32))
    return induced_norm_nonlinearity(x, bias, field_type=self.in_type,
                                     activation=self.activation)


class InducedGatedNonlinearity(typed.TypedModule, nn.Module):
  """Typed :func:`induced_gated_nonlinearity`; owns ``bias [F]`` (zeros).

  Attributes:
    in_type: ``induced_gated_input_type(gated)``: ``n`` quotient gate fields,
      then the ``n`` induced gated fields; ``out_type`` is the gated fields
      (:func:`induced_gated_type_of`).
    activation: applied to the gates ('sigmoid').
    use_bias: learn ``bias``, subtracted from the gates.
  """
  in_type: fields_lib.FieldType
  activation: Activation = 'sigmoid'
  use_bias: bool = True

  @property
  def out_type(self) -> fields_lib.FieldType:
    return induced_gated_type_of(self.in_type)

  def check_types(self) -> None:
    super().check_types()
    fieldwise.activation_fn(self.activation)
    fieldwise.check_bool(self.use_bias, 'use_bias')

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    gated = self.out_type
    bias = None
    if self.use_bias:
      bias = self.param('bias', nn.initializers.zeros_init(), (len(gated),),
                        jnp.float32)
    return induced_gated_nonlinearity(x, bias, gated_type=gated,
                                      activation=self.activation)


class InducedNormBatchNorm(norm_lib.FieldBatchNorm):
  """Linen :func:`induced_norm_batch_norm` (escnn ``InducedNormBatchNorm``).

  'batch_stats': ``var [F]`` (and an empty ``mean``, kept by
  :class:`FieldBatchNorm`); params ``scale [F]``; no bias. Induced fields
  without a trivial irrep only (checked at construction).
  """

  def check_types(self) -> None:
    super().check_types()
    induction.check_induced_fields(self.in_type,
                                   what='induced norm batch norm',
                                   name='in_type')
    _check_no_trivial(self.in_type, 'in_type')

  def _sizes(self):
    return 0, len(self.in_type)

  def _moments(self, x):
    return (jnp.zeros((0,), jnp.float32),
            induced_norm_moments(x, field_type=self.in_type))

  def _apply(self, x, mean, var, scale, bias):
    del mean, bias  # none: the fields have no invariant component
    return induced_norm_batch_norm(x, field_type=self.in_type, var=var,
                                   scale=scale, epsilon=self.epsilon)


class InducedNormPool(typed.TypedModule, nn.Module):
  """Typed :func:`induced_norm_pool`: one trivial field per field (the
  largest block norm); ``out_type`` is ``group_pool_type(in_type)``."""
  in_type: fields_lib.FieldType

  @property
  def out_type(self) -> fields_lib.FieldType:
    return pooling.group_pool_type(self.in_type)

  def check_types(self) -> None:
    super().check_types()
    induction.check_induced_fields(self.in_type, what='induced norm pooling',
                                   name='in_type')

  def __call__(self, x: jax.Array) -> jax.Array:
    return induced_norm_pool(x, field_type=self.in_type)


class InducedNormMaxPool(_InducedModule):
  """Typed :func:`induced_norm_max_pool`; ``window``, ``stride``,
  ``padding`` as :func:`norm_max_pool`."""
  window: int | tuple[int, int] = 2
  stride: int | tuple[int, int] | None = None
  padding: str = 'valid'
  what = 'an induced norm max pool'

  def check_types(self) -> None:
    super().check_types()
    validate.pair(self.window, 'window')
    if self.stride is not None:
      validate.pair(self.stride, 'stride')
    validate.check_choice(self.padding, 'padding', pooling.NORM_POOL_PADDINGS)

  def __call__(self, x: jax.Array) -> jax.Array:
    return induced_norm_max_pool(x, field_type=self.in_type,
                                 window=self.window, stride=self.stride,
                                 padding=self.padding)
