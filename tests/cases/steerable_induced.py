"""Registry cases: induced representations and their layers (issue 30 item 3;
layers/steerable/induction.py, induced.py).

A field of ``Ind_H^G rho`` is one ``rho``-block per coset of ``H``; ``g``
permutes the blocks and turns each by an orthogonal ``rho(h)``, so the
per-block layers (norm and gated nonlinearities, norm batch norm, norm pools)
commute with it. Pairs: C4 > C1, C2; C8 > C2, C4; D4 > D1 (the mirror), C2,
D2; D8 > D4, C4; O(2) > SO(2); ``rho`` any irrep of ``H``.

* Exact tier on the grid: a steerable conv into induced fields, and every
  induced layer, under quarter turns and the mirror (odd grids for the conv,
  2x2 windows on an even grid for the max pool).
* Exact tier on the fibres (``[B, C]`` vectors, ``g`` acting by ``rho(g)``
  alone, nothing interpolated): the per-pixel layers commute with *every*
  element of C8 / D8 (45 degrees too) and any angle of O(2), mirrored or not.
* Negative controls: a norm nonlinearity over channel groups that are not the
  blocks (single channels of a rotated 2-d block, or pairs of blocks that
  ``g`` does not keep together); a pointwise ReLU on induced fields whose
  ``rho(h)`` flips signs; gates in the reverse coset order.

Small draws (batch 2-8, 1-2 fields of 2-8 channels, 5-7 px grids); parameters
are drawn with NumPy and passed as variables or arguments.
"""

import functools
import math

import numpy as np
from hypothesis import strategies as st

import groups
from groups import testing
from layers import steerable
from layers.steerable import induction
from tests.cases import steerable as steerable_cases
from tests.cases import steerable_linear as linear_cases

CASES = testing.Registry()

# G -> the subgroups induced from (all of finite index).
_SUBGROUPS = {
    'C4': (groups.Cyclic(4), (groups.Cyclic(1), groups.Cyclic(2))),
    'C8': (groups.Cyclic(8), (groups.Cyclic(2), groups.Cyclic(4))),
    'D4': (groups.Dihedral(4), (groups.Dihedral(1), groups.Cyclic(2),
                                groups.Dihedral(2))),
    'D8': (groups.Dihedral(8), (groups.Dihedral(4), groups.Cyclic(4))),
    'O2': (groups.O2(3), (groups.SO2(3),)),
}


def irreps_of(group) -> list:
  """Every irrep of ``group`` as a representation."""
  return [group.irrep(*i) if isinstance(i, tuple) else group.irrep(i)
          for i in group.irrep_ids()]


def induced_choices(group_name: str, *, without_trivial: bool = False
                    ) -> list:
  """``Ind_H^G psi`` for every listed ``H`` of ``G`` and irrep ``psi``
  (``without_trivial``: only those with no trivial irrep of ``G``)."""
  group, subgroups = _SUBGROUPS[group_name]
  trivial = group.trivial_representation.irreps[0]
  choices = [steerable.induced_representation(group, h, psi)
             for h in subgroups for psi in irreps_of(h)]
  if without_trivial:
    choices = [r for r in choices if trivial not in r.irreps]
  return choices


def draw_induced_type(draw, *, without_trivial: bool = False,
                      names=tuple(_SUBGROUPS)) -> groups.FieldType:
  """1-2 induced fields of one drawn group."""
  name = draw(st.sampled_from(sorted(names)), label='group')
  choices = induced_choices(name, without_trivial=without_trivial)
  picks = draw(st.lists(st.integers(0, len(choices) - 1), min_size=1,
                        max_size=2), label='fields')
  return groups.FieldType(_SUBGROUPS[name][0], [choices[i] for i in picks])


def _bias(rng, field_type) -> np.ndarray:
  return rng.uniform(0.2, 1.0, len(field_type)).astype(np.float32)


def _exact_element(draw, group):
  return steerable_cases.draw_exact_element(draw, group)


# Measured errors: docs/generated/registry_errors.md.
@CASES.register('steerable_induced/conv_quarter_turns_and_flips',
                expect=testing.EXACT, bound=1e-5,
                fact='a steerable conv (3x3, stride 1/2, zeros/circular '
                'padding, odd grid) from a regular (O(2): irrep (1, 1)) + '
                'induced field to induced fields of C4, C8, D4, D8, O(2) '
                'commutes with quarter turns and the mirror: the induced '
                'representation is an ordinary field type')
def induced_conv_under_quarter_turns(draw):
  rng = testing.draw_rng(draw)
  out_type = draw_induced_type(draw)
  group = out_type.group
  hub = (group.regular_representation if group.is_finite else
         group.irrep(1, 1))
  in_type = groups.FieldType(group, [hub, out_type.representations[-1]])
  fn = steerable_cases.random_steerable_conv(
      rng, in_type, out_type, 3,
      stride=draw(st.sampled_from([1, 2]), label='stride'),
      padding=draw(st.sampled_from(['zeros', 'circular']), label='padding'))
  x = steerable_cases.random_field_map(rng, (2, 7, 7), in_type)
  g = _exact_element(draw, group)
  return testing.Trial(fn, x, in_type.transform(g), out_type.transform(g))


# Measured errors: docs/generated/registry_errors.md.
@CASES.register('steerable_induced/norm_nonlinearity_quarter_turns_and_flips',
                expect=testing.EXACT, bound=1e-5,
                fact='the induced norm nonlinearity (relu with a bias per '
                'field shared by its blocks, sigmoid, squash) on induced '
                'fields of C4, C8, D4, D8, O(2) commutes with quarter turns '
                'and the mirror')
def induced_norm_nonlinearity_under_quarter_turns(draw):
  rng = testing.draw_rng(draw)
  field_type = draw_induced_type(draw)
  activation = draw(st.sampled_from(['relu', 'sigmoid', 'squash']),
                    label='activation')
  bias = None if activation == 'squash' else _bias(rng, field_type)
  fn = functools.partial(steerable.induced_norm_nonlinearity, bias=bias,
                         field_type=field_type, activation=activation)
  x = steerable_cases.random_field_map(rng, (2, 5, 5), field_type)
  g = _exact_element(draw, field_type.group)
  return testing.Trial(fn, x, field_type.transform(g),
                       field_type.transform(g))


def _gated(rng, gated_type):
  in_type = steerable.induced_gated_input_type(gated_type)
  fn = functools.partial(steerable.induced_gated_nonlinearity,
                         bias=_bias(rng, gated_type) - 0.5,
                         gated_type=gated_type)
  return in_type, fn


# Measured errors: docs/generated/registry_errors.md.
@CASES.register('steerable_induced/gated_nonlinearity_quarter_turns_and_flips',
                expect=testing.EXACT, bound=1e-5,
                fact='the induced gated nonlinearity (one quotient G/H gate '
                'field per induced field, a gate per coset times its block; '
                'bias) commutes with quarter turns and the mirror')
def induced_gated_nonlinearity_under_quarter_turns(draw):
  rng = testing.draw_rng(draw)
  gated_type = draw_induced_type(draw)
  in_type, fn = _gated(rng, gated_type)
  x = steerable_cases.random_field_map(rng, (2, 5, 5), in_type)
  g = _exact_element(draw, gated_type.group)
  return testing.Trial(fn, x, in_type.transform(g), gated_type.transform(g))


def _batch_norm(rng, field_type):
  """Induced norm batch norm with the batch's statistics and a scale."""
  scale = rng.uniform(0.5, 2.0, len(field_type)).astype(np.float32)

  def fn(x):
    var = steerable.induced_norm_moments(x, field_type=field_type)
    return steerable.induced_norm_batch_norm(x, field_type=field_type,
                                             var=var, scale=scale)
  return fn


# Measured errors: docs/generated/registry_errors.md.
@CASES.register('steerable_induced/batch_norm_quarter_turns_and_flips',
                expect=testing.EXACT, bound=1e-5,
                fact='the induced norm batch norm (batch statistics, one '
                'variance and scale per field shared by its blocks) on '
                'induced fields without a trivial irrep commutes with '
                'quarter turns and the mirror')
def induced_batch_norm_under_quarter_turns(draw):
  rng = testing.draw_rng(draw)
  field_type = draw_induced_type(draw, without_trivial=True)
  x = steerable_cases.random_field_map(rng, (3, 5, 5), field_type)
  g = _exact_element(draw, field_type.group)
  return testing.Trial(_batch_norm(rng, field_type), x,
                       field_type.transform(g), field_type.transform(g))


# Measured errors: docs/generated/registry_errors.md.
@CASES.register('steerable_induced/pools_quarter_turns_and_flips',
                expect=testing.EXACT, bound=1e-5,
                fact='the induced norm max pool (per block, 2x2 on an even '
                'grid) and the induced norm pool (largest block norm per '
                'field, invariant) commute with quarter turns and the mirror')
def induced_pools_under_quarter_turns(draw):
  rng = testing.draw_rng(draw)
  field_type = draw_induced_type(draw)
  if draw(st.booleans(), label='invariant'):
    fn = functools.partial(steerable.induced_norm_pool, field_type=field_type)
    out_type = steerable.group_pool_type(field_type)
  else:
    fn = functools.partial(steerable.induced_norm_max_pool,
                           field_type=field_type, window=2)
    out_type = field_type
  x = steerable_cases.random_field_map(rng, (2, 6, 6), field_type)
  g = _exact_element(draw, field_type.group)
  return testing.Trial(fn, x, field_type.transform(g), out_type.transform(g))


def on_vectors(fn):
  """A per-pixel layer of ``[B, H, W, C]`` as a function of ``[B, C]``."""
  return lambda v: fn(v[:, None, None, :])[:, 0, 0, :]


# Measured errors: docs/generated/registry_errors.md.
@CASES.register('steerable_induced/fibres_any_element',
                expect=testing.EXACT, bound=1e-5,
                fact='the per-pixel induced layers (norm and gated '
                'nonlinearities, norm batch norm, norm pool) on [B, C] '
                'vectors commute with rho(g) for every element of C8 / D8 '
                '(45 degrees too) and any angle of O(2), mirrored or not')
def induced_fibres_any_element(draw):
  rng = testing.draw_rng(draw)
  kind = draw(st.sampled_from(['norm', 'gated', 'batch_norm', 'norm_pool']),
              label='kind')
  field_type = draw_induced_type(draw, names=('C8', 'D8', 'O2'),
                                 without_trivial=kind == 'batch_norm')
  in_type = out_type = field_type
  if kind == 'norm':
    fn = functools.partial(steerable.induced_norm_nonlinearity,
                           bias=_bias(rng, field_type), field_type=field_type)
  elif kind == 'gated':
    in_type, fn = _gated(rng, field_type)
  elif kind == 'batch_norm':
    fn = _batch_norm(rng, field_type)
  else:
    fn = functools.partial(steerable.induced_norm_pool, field_type=field_type)
    out_type = steerable.group_pool_type(field_type)
  g = linear_cases.draw_any_element(draw, field_type.group)
  return testing.Trial(on_vectors(fn),
                       linear_cases.random_vectors(rng, in_type, batch=4),
                       steerable.fiber_action(in_type, g),
                       steerable.fiber_action(out_type, g))


# (G, H, rho, channels per wrong group, element): each wrong group of
# channels is carried to channels that are not one group, or turned inside.
_MISALIGNED = {
    # rho(h) turns each 2-d block by 45 degrees: single channels are mixed.
    'D8>C8 irrep 1 by channel': (groups.Dihedral(8), groups.Cyclic(8), 1,
                                 1, 1),
    # ... and by 0.7 rad (any angle: the fibres, nothing interpolated).
    'O2>SO2 irrep 1 by channel': (groups.O2(3), groups.SO2(3), 1, 1,
                                  (0, 0.7)),
    # A quarter turn moves coset k to k + 1: pairs {0, 1}, {2, 3} break up.
    'C4>C1 trivial in pairs': (groups.Cyclic(4), groups.Cyclic(1), 0, 2, 1),
    'D4>D1 sign in pairs': (groups.Dihedral(4), groups.Dihedral(1), (1, 0),
                            2, 1),
}


# Measured errors: docs/generated/registry_errors.md.
@CASES.register('steerable_induced/misaligned_blocks_break',
                expect=testing.BREAKS, bound=0.1,
                fact='a norm nonlinearity over channel groups that are not '
                'the induced blocks (single channels of 2-d blocks turned by '
                '45 degrees / 0.7 rad; pairs of blocks a quarter turn breaks '
                'up) does not commute with rho(g) (negative control)')
def misaligned_blocks(draw):
  rng = testing.draw_rng(draw)
  label = draw(st.sampled_from(sorted(_MISALIGNED)), label='pair')
  group, subgroup, irrep, width, g = _MISALIGNED[label]
  rho = (subgroup.irrep(*irrep) if isinstance(irrep, tuple) else
         subgroup.irrep(irrep))
  field_type = groups.FieldType(group, 2 * [
      steerable.induced_representation(group, subgroup, rho)])
  wrong = induction.blocks_type(field_type.size // width * (width,))
  fn = functools.partial(steerable.norm_nonlinearity,
                         bias=rng.uniform(0.5, 1.5, len(wrong)).astype(
                             np.float32), field_type=wrong)
  action = steerable.fiber_action(field_type, g)
  return testing.Trial(on_vectors(fn),
                       linear_cases.random_vectors(rng, field_type, batch=8),
                       action, action)


_SIGN_FLIPPING = {
    # 90 degrees turns block 0 by rho(90) = [[0, -1], [1, 0]].
    'C8>C4 irrep 1': (groups.Cyclic(8), groups.Cyclic(4), 1, 2),
    'O2>SO2 irrep 1': (groups.O2(3), groups.SO2(3), 1, math.pi / 2),
    # The mirror maps coset r^k D1 to r^-k D1 times the sign rho(f) = -1.
    'D4>D1 sign': (groups.Dihedral(4), groups.Dihedral(1), (1, 0), 4),
}


# Measured errors: docs/generated/registry_errors.md.
@CASES.register('steerable_induced/pointwise_relu_breaks',
                expect=testing.BREAKS, bound=0.1,
                fact='a pointwise ReLU forced onto induced fields whose rho(h) '
                'flips signs (C8 > C4 irrep 1 and O(2) > SO(2) irrep 1 at 90 '
                'degrees, D4 > D1 sign at the mirror) does not commute '
                '(negative control; use the induced norm or gated '
                'nonlinearity)')
def pointwise_relu_on_induced(draw):
  rng = testing.draw_rng(draw)
  label = draw(st.sampled_from(sorted(_SIGN_FLIPPING)), label='pair')
  group, subgroup, irrep, g = _SIGN_FLIPPING[label]
  rho = (subgroup.irrep(*irrep) if isinstance(irrep, tuple) else
         subgroup.irrep(irrep))
  field_type = groups.FieldType(group, 2 * [
      steerable.induced_representation(group, subgroup, rho)])
  fn = functools.partial(steerable.pointwise_nonlinearity,
                         field_type=field_type, force=True)
  x = steerable_cases.random_field_map(rng, (2, 5, 5), field_type)
  return testing.Trial(fn, x, field_type.transform(g),
                       field_type.transform(g))


def _reversed_gates(x, *, gated_type, n_cosets):
  """The induced gated nonlinearity with each field's gates reversed."""
  order = np.concatenate([f * n_cosets + np.arange(n_cosets)[::-1]
                          for f in range(len(gated_type))])
  order = np.concatenate([order, np.arange(len(order), x.shape[-1])])
  return steerable.induced_gated_nonlinearity(x[..., order],
                                              gated_type=gated_type)


# Measured errors: docs/generated/registry_errors.md.
@CASES.register('steerable_induced/reversed_gates_break',
                expect=testing.BREAKS, bound=0.1,
                fact='gates in the reverse coset order (C4 > C1, D4 > D1: a '
                'quarter turn moves coset k to k + 1, the reversed gates to '
                'k - 1) do not commute with a quarter turn (negative control '
                'of the gate order)')
def reversed_gates(draw):
  rng = testing.draw_rng(draw)
  group, subgroup = draw(st.sampled_from([
      (groups.Cyclic(4), groups.Cyclic(1)),
      (groups.Dihedral(4), groups.Dihedral(1))]), label='pair')
  rho = irreps_of(subgroup)[-1]
  gated_type = groups.FieldType(group, 2 * [
      steerable.induced_representation(group, subgroup, rho)])
  in_type = steerable.induced_gated_input_type(gated_type)
  fn = functools.partial(_reversed_gates, gated_type=gated_type, n_cosets=4)
  x = 2.0 * steerable_cases.random_field_map(rng, (2, 5, 5), in_type)
  return testing.Trial(fn, x, in_type.transform(1), gated_type.transform(1))
