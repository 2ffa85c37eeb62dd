"""Steerable E(2) CNNs for rotated MNIST, in the style of e2cnn's examples.

One architecture, :class:`SteerableCNN`, over any group of
:mod:`groups.representations`, chosen by name:
``build_model('steerable_cnn', group='C12')`` (or ``'D6'``, ``'SO2(3)'``,
``'O2(2)'``, ...; in a config ``--config.model.group=C12``). The other
registered models are named sizes of it (thin aliases):

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
NormBatchNorm`, then :class:`~layers.steerable.GatedNonlinearity`) or
``'norm'`` (:class:`~layers.steerable.NormBatchNorm`, then
:class:`~layers.steerable.NormNonlinearity`, ReLU of the norm minus a learned
bias). After blocks 2 and 4 an anti-aliased pool halves the grid: a 3-tap
binomial blur at stride 1, then a 2x2 average pool. The read-out is
invariant: :class:`~layers.steerable.InvariantReadout` (max over each regular
field, the norm of each irrep field), a global average over space, then a
dense layer of ``head_width`` units, ELU and a dense layer to
``num_classes`` logits. ``restrict_at=5`` with ``subgroup`` restricts the
field type before block 5 (:class:`~layers.steerable.Restrict`), so
blocks 5-6 are only ``subgroup``-equivariant. Every layer up to the read-out
is a typed module (``in_type`` / ``out_type``; :meth:`SteerableCNN.
equivariant_layers`), so :meth:`SteerableCNN.layer_actions` derives each
layer's induced action from its type.

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
from layers import batch_statistics
from layers import conv as conv_lib
from layers import initializers
from layers import steerable
from models import registry

NONLINEARITIES = ('elu', 'gated', 'norm', 'fourier')


def unit_representations(group, nonlinearity: str | None = None) -> list:
  """The representations of one field unit of ``group``'s hidden layers.

  A regular field for C_N / D_N; irreps of frequency 0..3 (one each, the
  trivial one first) for SO(2) / O(2); with ``nonlinearity='fourier'`` one
  field holding those irreps together, the band-limited "regular" field a
  Fourier nonlinearity samples (O(2): each 2-d irrep twice, and its sign
  irrep).
  """
  group = groups.group_by_name(group)
  if group.is_finite:
    return [group.regular_representation]
  if nonlinearity == 'fourier':
    return [steerable.band_limited_representation(
        group, min(3, group.max_frequency))]
  if isinstance(group, groups.O2):
    return [group.trivial_representation] + [
        group.irrep(1, k) for k in range(1, min(3, group.max_frequency) + 1)]
  return [group.trivial_representation] + [
      group.irrep(k) for k in range(1, min(3, group.max_frequency) + 1)]


def hidden_type(group, units: int,
                nonlinearity: str | None = None) -> groups.FieldType:
  group = groups.group_by_name(group)
  return groups.FieldType(group,
                          units * unit_representations(group, nonlinearity))


class SteerableCNN(nn.Module):
  """Steerable CNN: ``[B, H, W, C]`` images -> ``[B, num_classes]`` logits.

  Built from typed modules (:mod:`layers.steerable.typed`), whose chain is
  checked when the model is first called. Submodules, in forward order:
  ``conv{i}``, ``bn{i}``, ``nonlin{i}`` (blocks 1..6), ``restrict{i}``
  before block ``restrict_at``, ``blur{i}`` and ``pool{i}`` after blocks 2
  and 4, ``readout``; then the head: ``head_dropout{j}`` (``dropout_rate``),
  ``dense{j}``, ``head_bn{j}`` (``head_norm``), ``logits``.

  Attributes:
    group: the symmetry group of blocks 1..6: a name ('C8', 'C12', 'D16',
      'SO2(3)', 'O2(3)': :func:`groups.group_by_name`) or a group object.
    fields: six field-unit counts, one per conv block (after
      ``restrict_at``, units of ``subgroup``).
    num_classes: outputs.
    kernel_size: odd conv size (5).
    nonlinearity: 'elu' (pointwise, finite groups), 'gated', 'norm' or
      'fourier' (a Fourier ELU, layers.steerable.fourier, on band-limited
      fields sampled on 16 rotations for L = 3; any group); None picks
      'elu' for a finite group, else 'gated'.
    restrict_at: None, or the block (2..6) from which ``subgroup`` is used.
    subgroup: the subgroup after restriction (a name or object, e.g. 'C16').
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
  group: Any = None
  fields: tuple[int, ...] = (4, 8, 8, 12, 12, 16)
  num_classes: int = 10
  kernel_size: int = 5
  nonlinearity: str | None = None
  restrict_at: int | None = None
  subgroup: Any = None
  head_width: int = 64
  head_layers: int = 1
  head_norm: bool = False
  dropout_rate: float = 0.0
  bn_momentum: float = 0.9

  def _groups(self) -> tuple[Any, Any]:
    """``(group, subgroup)`` as group objects (subgroup None if none)."""
    if self.group is None:
      raise ValueError(
          "group must be given: a group name ('C8', 'C12', 'D16', 'SO2(3)', "
          "'O2(3)', ...) or a group object; got None.")
    group = groups.group_by_name(self.group, 'group')
    subgroup = (None if self.subgroup is None else
                groups.group_by_name(self.subgroup, 'subgroup'))
    return group, subgroup

  def _nonlinearity(self, group) -> str:
    if self.nonlinearity is None:
      return 'elu' if group.is_finite else 'gated'
    validate.check_choice(self.nonlinearity, 'nonlinearity', NONLINEARITIES)
    return self.nonlinearity

  def _check(self, x) -> None:
    conv_lib.check_nhwc(x)
    h, w = x.shape[1:3]
    if h != w or h % 4 or h < 8:
      raise ValueError(
          'x must be square with a side divisible by 4 and >= 8 (two 2x2 '
          f'stride-2 pools on even grids, e.g. 28); got H, W = {h}, {w}.')

  def _check_options(self) -> tuple[tuple[int, ...], Any, Any, str]:
    """Checks every option; ``(fields, group, subgroup, nonlinearity)``."""
    group, subgroup = self._groups()
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
    nonlinearity = self._nonlinearity(group)
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
      if subgroup is None:
        raise ValueError('subgroup must be given with restrict_at (e.g. '
                         "'C16' for D16); got None.")
      steerable.subgroup_embedding(group, subgroup)  # checks it
    elif subgroup is not None:
      raise ValueError(f'restrict_at must be given with subgroup '
                       f'{subgroup}; got None.')
    for g in (group, subgroup):
      if g is not None and nonlinearity == 'elu' and not g.is_finite:
        raise ValueError(
            f"nonlinearity must be 'gated' or 'norm' for {g} (a "
            "pointwise 'elu' needs regular fields of a finite group).")
    return fields, group, subgroup, nonlinearity

  @nn.nowrap
  def equivariant_layers(self, in_channels: int, *, train: bool = False
                         ) -> list[steerable.TypedModule]:
    """The typed modules of blocks 1..6 and the read-out, in order.

    Built inside :meth:`__call__` they are this model's submodules; built
    outside (unbound) they describe its layers, which is how
    :meth:`layer_actions` knows every layer's field type without running
    the model. The chain is checked (``steerable.check_chain``).
    """
    fields, group, subgroup, nonlinearity = self._check_options()
    field_type = groups.FieldType(group,
                                  in_channels * [group.trivial_representation])
    layers = []
    for index, units in enumerate(fields, start=1):
      if index == self.restrict_at:
        layers.append(steerable.Restrict(field_type, subgroup,
                                         name=f'restrict{index}'))
        field_type, group = layers[-1].out_type, subgroup
      out_type = hidden_type(group, units, nonlinearity)
      conv_type = (steerable.gated_input_type(out_type)
                   if nonlinearity == 'gated' else out_type)
      norm = (steerable.InnerBatchNorm if nonlinearity == 'elu' else
              steerable.NormBatchNorm)
      layers += [
          steerable.SteerableConv(field_type, conv_type, self.kernel_size,
                                  name=f'conv{index}'),
          norm(conv_type, use_running_average=not train,
               momentum=self.bn_momentum, name=f'bn{index}')]
      if nonlinearity == 'elu':
        layers.append(steerable.PointwiseNonlinearity(
            conv_type, 'elu', name=f'nonlin{index}'))
      elif nonlinearity == 'fourier':
        layers.append(steerable.FourierPointwise(
            conv_type, 'elu', name=f'nonlin{index}'))
      elif nonlinearity == 'gated':
        layers.append(steerable.GatedNonlinearity(conv_type,
                                                  name=f'nonlin{index}'))
      else:
        layers.append(steerable.NormNonlinearity(conv_type,
                                                 name=f'nonlin{index}'))
      field_type = out_type
      if index in (2, 4):  # anti-aliased, exact on even grids
        layers += [
            steerable.PointwiseBlurPool(field_type, stride=1,
                                        padding='zeros', name=f'blur{index}'),
            steerable.PointwiseAvgPool(field_type, window=2,
                                       name=f'pool{index}')]
    layers.append(steerable.InvariantReadout(field_type, name='readout'))
    steerable.check_chain(layers)
    return layers

  @nn.nowrap
  def head_names(self) -> list[str]:
    """The head's submodule names in forward order (all invariant)."""
    names = []
    for index in range(1, self.head_layers + 2):
      if self.dropout_rate:
        names.append(f'head_dropout{index}')
      if index == self.head_layers + 1:
        names.append('logits')
      else:
        names.append(f'dense{index}')
        if self.head_norm:
          names.append(f'head_bn{index}')
    return names

  @nn.nowrap
  def layer_actions(self, degrees: float
                    ) -> dict[str, groups.Transform | None]:
    """The action a rotation by ``degrees`` induces on each submodule output.

    ``{submodule name: action}`` in forward order: each typed layer's
    ``out_type`` action (in the subgroup after a restriction; None where
    its group has no such rotation), the identity on the invariant head.
    """
    actions = steerable.rotation_actions(
        {layer.name: layer for layer in self.equivariant_layers(1)}, degrees)
    actions.update(dict.fromkeys(self.head_names(), groups.Identity()))
    return actions

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
    self._check(x)
    y = x
    for layer in self.equivariant_layers(x.shape[-1], train=train):
      y = layer(y)
    for index in range(1, self.head_layers + 2):
      if self.dropout_rate:
        y = nn.Dropout(self.dropout_rate, deterministic=not train,
                       name=f'head_dropout{index}')(y)
      if index == self.head_layers + 1:
        return initializers.dense(self.num_classes, name='logits')(y)
      y = initializers.dense(self.head_width, name=f'dense{index}')(y)
      if self.head_norm:
        y = batch_statistics.BatchNorm(use_running_average=not train,
                                       momentum=self.bn_momentum,
                                       name=f'head_bn{index}')(y)
      y = nn.elu(y)


# Named sizes (thin aliases; ``build_model('steerable_cnn', group='C12')``
# builds any other group).
C8CNN = functools.partial(SteerableCNN, group='C8')
C16CNN = functools.partial(SteerableCNN, group='C16',
                           fields=(3, 6, 6, 8, 8, 12))
D16CNN = functools.partial(SteerableCNN, group='D16',
                           fields=(2, 4, 4, 6, 6, 8))
D16C16CNN = functools.partial(SteerableCNN, group='D16',
                              fields=(2, 4, 4, 6, 12, 16), restrict_at=5,
                              subgroup='C16')
SO2CNN = functools.partial(SteerableCNN, group='SO2(3)',
                           nonlinearity='gated')
O2CNN = functools.partial(SteerableCNN, group='O2(3)',
                          nonlinearity='gated')

# Registered names; options are the :class:`SteerableCNN` fields, e.g.
# ``build_model('c8cnn', fields=(1, 1, 1, 1, 1, 1))`` or
# ``build_model('steerable_cnn', group='D6')``.
registry.register_model('steerable_cnn', SteerableCNN)
registry.register_model('c8cnn', C8CNN)
registry.register_model('c16cnn', C16CNN)
registry.register_model('d16cnn', D16CNN)
registry.register_model('d16c16cnn', D16C16CNN)
registry.register_model('so2cnn', SO2CNN)
registry.register_model('o2cnn', O2CNN)
