"""Steerable E(2) CNNs for rotated MNIST, in the style of e2cnn's examples.

One architecture, :class:`SteerableCNN`, over any group of
:mod:`groups.representations`; the registered models are named sizes:

==============  =======================================================  ======
name            hidden fields (per conv layer 1..6)                      params
==============  =======================================================  ======
``c8cnn``       C8 regular: 4, 8, 8, 12, 12, 16                          48,366
``c16cnn``      C16 regular: 3, 6, 6, 8, 8, 12                           47,713
``d16cnn``      D16 regular: 2, 4, 4, 6, 6, 8                            47,772
``d16c16cnn``   D16 regular 2, 4, 4, 6, then restricted to C16 (Weiler   77,880
                & Cesa's D16|5 C16): C16 regular 12, 16
``so2cnn``      SO(2) irreps 0..3 (one each per unit), gated             63,534
                nonlinearities: 4, 8, 8, 12, 12, 16 units
``o2cnn``       O(2) irreps (0,0), (1,1), (1,2), (1,3) per unit, gated   38,702
                nonlinearities: 4, 8, 8, 12, 12, 16 units
==============  =======================================================  ======

(``tests/steerable_models_test.py`` pins the counts.) Each block is a 5x5
:class:`~layers.steerable.SteerableConv` ('zeros' padding) -> batch norm ->
nonlinearity: for finite groups :class:`~layers.steerable.InnerBatchNorm`
and a pointwise ELU on regular fields; for SO(2) / O(2) ``'gated'`` (the conv
also produces one trivial gate per field; :class:`~layers.steerable.
NormBatchNorm`, then :func:`~layers.steerable.gated_nonlinearity`) or
``'norm'`` (:class:`~layers.steerable.NormBatchNorm`, then
:class:`~layers.steerable.NormNonlinearity`, ReLU of the norm minus a learned
bias). After blocks 2 and 4 an anti-aliased pool halves the grid: a 3-tap
binomial blur at stride 1, then a 2x2 average pool. The read-out is
invariant: :func:`~layers.steerable.invariant_map` (max over each regular
field, the norm of each irrep field), a global average over space, then a
dense layer of ``head_width`` units, ELU and a dense layer to
``num_classes`` logits. ``restrict_at=5`` with ``subgroup`` restricts the
field type before block 5 (:func:`~layers.steerable.restrict_field_type`), so
blocks 5-6 are only ``subgroup``-equivariant.

Input ``[B, 28, 28, C]`` (any ``H = W`` divisible by 4, at least 8).
**Exactness**: in eval mode (running statistics) the logits are exactly
invariant, to float rounding, to the quarter turns (and, for D_N / O(2)
models, the mirror) of square inputs whose side is divisible by 4: the
convs are odd and centred, and each 2x2 stride-2 pool sees an even grid
(28 -> 14 -> 7), so every sampling grid is symmetric about the centre (the
README's p4 rule; an odd grid would need a stride-2 *blur* pool instead).
Every other angle is approximate (docs/steerable.md states the measured 45
degree error against P4CNN and the H-Net).
"""

from __future__ import annotations

import functools
from typing import Any

import flax.linen as nn
import jax

import groups
from groups import validate
from layers import conv as conv_lib
from layers import steerable
from models import registry

NONLINEARITIES = ('elu', 'gated', 'norm')


def unit_representations(group) -> list:
  """The representations of one field unit of ``group``'s hidden layers.

  A regular field for C_N / D_N; irreps of frequency 0..3 (one each, the
  trivial one first) for SO(2) / O(2).
  """
  if group.is_finite:
    return [group.regular_representation]
  if isinstance(group, groups.O2):
    return [group.trivial_representation] + [
        group.irrep(1, k) for k in range(1, min(3, group.max_frequency) + 1)]
  return [group.trivial_representation] + [
      group.irrep(k) for k in range(1, min(3, group.max_frequency) + 1)]


def hidden_type(group, units: int) -> groups.FieldType:
  return groups.FieldType(group, units * unit_representations(group))


class SteerableCNN(nn.Module):
  """Steerable CNN: ``[B, H, W, C]`` images -> ``[B, num_classes]`` logits.

  Submodules ``conv{i}``, ``bn{i}``, ``nonlin{i}`` (norm nonlinearity),
  ``dense{j}``, ``head_bn{j}`` (``head_norm``), ``head_dropout{j}``
  (``dropout_rate``), ``logits``.

  Attributes:
    group: the symmetry group of blocks 1..6 (``groups.Cyclic(8)``,
      ``groups.Dihedral(16)``, ``groups.SO2(3)``, ...).
    fields: six field-unit counts, one per conv block (after
      ``restrict_at``, units of ``subgroup``).
    num_classes: outputs.
    kernel_size: odd conv size (5).
    nonlinearity: 'elu' (pointwise, finite groups), 'gated' or 'norm'
      (any group).
    restrict_at: None, or the block (2..6) from which ``subgroup`` is used.
    subgroup: the subgroup after restriction (e.g. ``groups.Cyclic(16)``).
    head_width: units of each hidden dense layer of the head.
    head_layers: hidden dense layers of the head (>= 1), each followed by
      ELU (and batch norm before it with ``head_norm``).
    head_norm: batch norm after each hidden dense layer (e2cnn's
      ``E2SFCNN`` head: ``head_layers=2, head_width=96, head_norm=True,
      dropout_rate=0.3``).
    dropout_rate: dropout before every dense layer of the head in training,
      in [0, 1) (0: none).
    bn_momentum: decay of the batch-norm running averages.
  """
  group: Any
  fields: tuple[int, ...] = (4, 8, 8, 12, 12, 16)
  num_classes: int = 10
  kernel_size: int = 5
  nonlinearity: str = 'elu'
  restrict_at: int | None = None
  subgroup: Any = None
  head_width: int = 64
  head_layers: int = 1
  head_norm: bool = False
  dropout_rate: float = 0.0
  bn_momentum: float = 0.9

  def _check(self, x) -> tuple[int, ...]:
    conv_lib.check_nhwc(x)
    if not isinstance(self.group, groups.representations.RepresentationGroup):
      raise ValueError(
          'group must be a group with representations (groups.Cyclic(N), '
          'groups.Dihedral(N), groups.SO2(F), groups.O2(F)); got '
          f'{self.group!r}.')
    if (isinstance(self.fields, str) or not hasattr(self.fields, '__len__')
        or len(self.fields) != 6):
      raise ValueError('fields must be a tuple of 6 ints >= 1 (field units '
                       f'per conv block); got {self.fields!r}.')
    fields = tuple(validate.integer(f, 'fields entries', minimum=1)
                   for f in self.fields)
    validate.integer(self.num_classes, 'num_classes', minimum=1)
    k = validate.integer(self.kernel_size, 'kernel_size', minimum=1)
    if k % 2 == 0:
      raise ValueError(f'kernel_size must be odd (a centred kernel); got {k}.')
    validate.check_choice(self.nonlinearity, 'nonlinearity', NONLINEARITIES)
    validate.integer(self.head_width, 'head_width', minimum=1)
    validate.integer(self.head_layers, 'head_layers', minimum=1)
    if not isinstance(self.head_norm, bool):
      raise ValueError(f'head_norm must be True or False; got '
                       f'{self.head_norm!r}.')
    validate.number(self.dropout_rate, 'dropout_rate', minimum=0, maximum=1,
                    exclusive_maximum=True)
    validate.number(self.bn_momentum, 'bn_momentum', minimum=0, maximum=1)
    if self.restrict_at is not None:
      validate.integer(self.restrict_at, 'restrict_at', minimum=2, maximum=6)
      if self.subgroup is None:
        raise ValueError('subgroup must be given with restrict_at (e.g. '
                         'groups.Cyclic(16) for D16); got None.')
      steerable.subgroup_embedding(self.group, self.subgroup)  # checks it
    elif self.subgroup is not None:
      raise ValueError(f'restrict_at must be given with subgroup '
                       f'{self.subgroup}; got None.')
    for group in (self.group, self.subgroup):
      if (group is not None and self.nonlinearity == 'elu' and
          not group.is_finite):
        raise ValueError(
            f"nonlinearity must be 'gated' or 'norm' for {group} (a "
            "pointwise 'elu' needs regular fields of a finite group).")
    h, w = x.shape[1:3]
    if h != w or h % 4 or h < 8:
      raise ValueError(
          'x must be square with a side divisible by 4 and >= 8 (two 2x2 '
          f'stride-2 pools on even grids, e.g. 28); got H, W = {h}, {w}.')
    return fields

  def _block(self, y, in_type, group, units, index, train):
    out_type = hidden_type(group, units)
    conv_type = out_type
    if self.nonlinearity == 'gated':
      conv_type = steerable.gated_input_type(out_type)
    y = steerable.SteerableConv(in_type, conv_type, self.kernel_size,
                                name=f'conv{index}')(y)
    norm = (steerable.InnerBatchNorm if self.nonlinearity == 'elu' else
            steerable.NormBatchNorm)
    y = norm(conv_type, use_running_average=not train,
             momentum=self.bn_momentum, name=f'bn{index}')(y)
    if self.nonlinearity == 'elu':
      y = steerable.pointwise_nonlinearity(y, field_type=out_type,
                                           activation='elu')
    elif self.nonlinearity == 'gated':
      y = steerable.gated_nonlinearity(y, gated_type=out_type)
    else:
      y = steerable.NormNonlinearity(out_type, name=f'nonlin{index}')(y)
    return y, out_type

  @nn.compact
  def __call__(self, x: jax.Array, *, train: bool = False) -> jax.Array:
    """Maps ``x`` ``[B, H, W, C]`` to logits ``[B, num_classes]``.

    Args:
      x: ``[B, H, W, C]`` floating images, ``H = W`` divisible by 4.
      train: batch statistics (and update the running ones in
        'batch_stats'); False uses the running statistics.

    Returns:
      ``[B, num_classes]`` float32 logits.
    """
    fields = self._check(x)
    group = self.group
    field_type = groups.FieldType(group,
                                  x.shape[-1] * [group.trivial_representation])
    y = x
    for index, units in enumerate(fields, start=1):
      if index == self.restrict_at:
        field_type = steerable.restrict_field_type(field_type, self.subgroup)
        group = self.subgroup
      y, field_type = self._block(y, field_type, group, units, index, train)
      if index in (2, 4):  # anti-aliased, exact on even grids
        y = steerable.pointwise_blur_pool(y, field_type=field_type, stride=1,
                                          padding='zeros')
        y = steerable.pointwise_avg_pool(y, field_type=field_type, window=2)
    y = steerable.invariant_readout(y, field_type=field_type)
    for index in range(1, self.head_layers + 2):
      if self.dropout_rate:
        y = nn.Dropout(self.dropout_rate, deterministic=not train,
                       name=f'head_dropout{index}')(y)
      if index == self.head_layers + 1:
        return nn.Dense(self.num_classes, name='logits')(y)
      y = nn.Dense(self.head_width, name=f'dense{index}')(y)
      if self.head_norm:
        y = nn.BatchNorm(use_running_average=not train,
                         momentum=self.bn_momentum, name=f'head_bn{index}')(y)
      y = nn.elu(y)


C8CNN = functools.partial(SteerableCNN, group=groups.Cyclic(8))
C16CNN = functools.partial(SteerableCNN, group=groups.Cyclic(16),
                           fields=(3, 6, 6, 8, 8, 12))
D16CNN = functools.partial(SteerableCNN, group=groups.Dihedral(16),
                           fields=(2, 4, 4, 6, 6, 8))
D16C16CNN = functools.partial(SteerableCNN, group=groups.Dihedral(16),
                              fields=(2, 4, 4, 6, 12, 16), restrict_at=5,
                              subgroup=groups.Cyclic(16))
SO2CNN = functools.partial(SteerableCNN, group=groups.SO2(3),
                           nonlinearity='gated')
O2CNN = functools.partial(SteerableCNN, group=groups.O2(3),
                          nonlinearity='gated')

# Registered names; options are the :class:`SteerableCNN` fields, e.g.
# ``build_model('c8cnn', fields=(1, 1, 1, 1, 1, 1))``.
registry.register_model('c8cnn', C8CNN)
registry.register_model('c16cnn', C16CNN)
registry.register_model('d16cnn', D16CNN)
registry.register_model('d16c16cnn', D16C16CNN)
registry.register_model('so2cnn', SO2CNN)
registry.register_model('o2cnn', O2CNN)
