"""Expanding a steerable kernel from its weights, in irrep space.

:meth:`layers.steerable.basis.KernelBasis.expand` maps the ``[n_basis]``
weights of a layer to its kernel ``[k, k, C_in, C_out]``. Contracting them
with the dense basis ``[n_basis, k, k, C_in, C_out]`` is what the basis is,
but as a compiled program it is slow: XLA carries the dense basis as a
constant of every layer (360 MB of StableHLO for d16cnn) and the contraction
is most of the expansion's FLOPs. :class:`ExpansionPlan` builds the same
kernel from the irrep pairs' sampled elements and each field's change of
basis (docs/performance.md, "Compile time, second pass").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from groups import fields as fields_lib
from layers.steerable import fieldwise


class _Side:
  """One side (input or output) of an :class:`ExpansionPlan`.

  Every irrep copy of every field gets a slot ``(type, copy)``: ``types``
  are the distinct irreps, each field's copies of a type are numbered on
  from the previous fields'. ``index [C]`` is the padded irrep-space
  position (``(type * copies + copy) * width + component``) of every
  channel's irrep-basis coordinate, field-major; ``groups`` lists, per
  distinct representation with a non-identity change of basis, its
  channels and ``Q`` (applied after the gather).
  """

  def __init__(self, field_type: fields_lib.FieldType):
    group = field_type.group
    self.types = list(dict.fromkeys(
        i for rep in field_type.representations for i in rep.irreps))
    self.width = max(group.irrep_size(t) for t in self.types)
    counts = [0] * len(self.types)
    self.slots = []  # per field: [(type, copy)] of its irreps, in order
    for rep in field_type.representations:
      slots = []
      for irrep in rep.irreps:
        t = self.types.index(irrep)
        slots.append((t, counts[t]))
        counts[t] += 1
      self.slots.append(slots)
    self.copies = max(counts)
    self.index = np.zeros(field_type.size, np.int32)
    for offset, rep, slots in zip(field_type.offsets,
                                  field_type.representations, self.slots):
      channel = offset
      for irrep, (t, copy) in zip(rep.irreps, slots):
        size = group.irrep_size(irrep)
        start = (t * self.copies + copy) * self.width
        self.index[channel:channel + size] = np.arange(start, start + size)
        channel += size
    self.groups = []
    for rep, channels in fieldwise.groups_of_fields(field_type):
      q = rep.change_of_basis
      if not np.array_equal(q, np.eye(len(q))):
        self.groups.append((channels, q.astype(np.float32)))
    self.padded = len(self.types) * self.copies * self.width

  def change_basis(self, kernel, axis: int, xp):
    """Applies each field's ``Q`` along ``axis`` (channels of this side)."""
    for channels, q in self.groups:
      every = np.array_equal(channels, np.arange(kernel.shape[axis]))
      part = kernel if every else fieldwise.take(kernel, channels, axis, xp)
      shape = part.shape
      # [..., F * c, ...] -> [..., F, c, ...]: Q on the c axis, in place.
      part = part.reshape(shape[:axis] + (-1, len(q)) + shape[axis + 1:])
      letters = 'abcdefgh'[:part.ndim]
      moved = letters[:axis + 1] + 'z' + letters[axis + 2:]
      part = xp.einsum(f'{letters},z{letters[axis + 1]}->{moved}', part,
                       xp.asarray(q, part.dtype))
      part = part.reshape(shape)
      if every:
        kernel = part
      elif len(channels) == kernel.shape[axis]:
        kernel = fieldwise.take(part, np.argsort(channels), axis, xp)
      else:
        kernel = _put(kernel, channels, part, axis, xp)
    return kernel


def _put(kernel, channels, part, axis, xp):
  """``kernel`` with ``part`` on ``channels`` of ``axis`` (a gather: the
  rest keep their values)."""
  size = kernel.shape[axis]
  rest = np.setdiff1d(np.arange(size), channels)
  order = np.argsort(np.concatenate([rest, channels]))
  both = xp.concatenate([fieldwise.take(kernel, rest, axis, xp), part],
                        axis=axis)
  return fieldwise.take(both, order, axis, xp)


class ExpansionPlan:
  """How :meth:`~layers.steerable.basis.KernelBasis.expand` builds a layer's
  kernel in irrep space.

  ``basis[(a, b, n)] = Q_in[:, a] E_ab[n] Q_out[:, b]^T`` for the irreps
  ``a``, ``b`` of a pair of fields, so instead of contracting the weights
  with the dense basis (36 MB for one D16 regular -> regular pair: an HLO
  constant per layer that XLA compiled for seconds, and most of the
  expansion's FLOPs) the whole layer is expanded in three steps:

  1. the weights are gathered into ``[S, T, A, B, N]`` (``S``, ``T``: the
     distinct irreps of the input / output type; ``A``, ``B``: the copies
     of each over all fields; ``N``: elements per irrep pair; zero where a
     pair has fewer or no elements);
  2. one contraction with ``irreps [S, T, N, k, k, X, Y]`` (the sampled
     irrep-pair elements, zero-padded to the largest irrep sizes ``X``,
     ``Y``) gives the kernel in the padded irrep basis;
  3. a gather per side puts every channel's irrep coordinate in place, and
     each field's change of basis ``Q`` is applied (skipped for irrep
     fields, where it is the identity).
  """

  def __init__(self, in_type: fields_lib.FieldType,
               out_type: fields_lib.FieldType, blocks: Sequence[Any],
               size: int, kernel_size: int,
               elements: Callable[[Any, Any], np.ndarray]):
    """Plans the expansion of a :class:`~layers.steerable.basis.KernelBasis`.

    Args:
      in_type, out_type: its field types.
      blocks: its :class:`~layers.steerable.basis.Block` s (offsets and
        channels of every pair of representations, in weight order).
      size: ``n_basis``.
      kernel_size: ``k``.
      elements: ``(irrep_in, irrep_out) -> [n, k, k, d_in, d_out]``, the
        sampled elements of an irrep pair (``basis.irreps_basis``), in the
        order ``representation_basis`` uses.
    """
    k = kernel_size
    self.inputs, self.outputs = _Side(in_type), _Side(out_type)
    ins, outs = self.inputs, self.outputs
    pairs = [[elements(s, t) for t in outs.types] for s in ins.types]
    n_max = max(len(e) for row in pairs for e in row)
    self.irreps = np.zeros((len(ins.types), len(outs.types), n_max, k, k,
                            ins.width, outs.width), np.float32)
    for s, row in enumerate(pairs):
      for t, sampled in enumerate(row):
        n, _, _, d_s, d_t = sampled.shape
        self.irreps[s, t, :n, :, :, :d_s, :d_t] = sampled
    self.index = np.full((len(ins.types), len(outs.types), ins.copies,
                          outs.copies, n_max), size, np.int32)
    field_in = fieldwise.field_index(in_type)
    field_out = fieldwise.field_index(out_type)
    for block in blocks:
      d, c_in, c_out = block.count, block.rep_in.size, block.rep_out.size
      fields_in = field_in[block.in_channels[::c_in]]
      fields_out = field_out[block.out_channels[::c_out]]
      rep_in = in_type.representations[fields_in[0]]
      rep_out = out_type.representations[fields_out[0]]
      start = 0
      for a, irrep_in in enumerate(rep_in.irreps):  # representation_basis
        for b, irrep_out in enumerate(rep_out.irreps):
          n = len(elements(irrep_in, irrep_out))
          for i, f_in in enumerate(fields_in):
            s, copy_in = ins.slots[f_in][a]
            for o, f_out in enumerate(fields_out):
              t, copy_out = outs.slots[f_out][b]
              first = block.offset + (i * block.m_out + o) * d + start
              self.index[s, t, copy_in, copy_out, :n] = np.arange(
                  first, first + n)
          start += n

  def expand(self, weights, xp=np):
    """``[n_basis]`` weights -> the kernel ``[k, k, C_in, C_out]``."""
    k = self.irreps.shape[3]
    gathered = fieldwise.take(weights, self.index, 0, xp).reshape(
        self.index.shape)
    kernel = xp.einsum('stabn,stnhwxy->hwsaxtby', gathered,
                       xp.asarray(self.irreps, dtype=weights.dtype))
    kernel = kernel.reshape(k, k, self.inputs.padded, self.outputs.padded)
    kernel = fieldwise.take(fieldwise.take(kernel, self.inputs.index, 2, xp),
                            self.outputs.index, 3, xp)
    kernel = self.inputs.change_basis(kernel, 2, xp)
    return self.outputs.change_basis(kernel, 3, xp)
