"""Registry cases: Fourier pointwise nonlinearities (layers/steerable/fourier.py).

The layer acts per pixel, so its facts are about the fiber: maps are
``[B, 1, 1, C]``, on which every ``field_type.transform(g)`` is the matrix
``rho(g)`` alone (the grid action of a one-pixel map is the identity, also
for the interpolated rotations).

* Exact tier: C8 / D4 / C16 Fourier fields (regular, or distinct irreps)
  sampled on every element, under every element; SO(2) / O(2) band-limited
  fields sampled on ``N`` rotations, under multiples of ``2 pi / N`` (and
  the mirror).
* Approximate tier: SO(2) / O(2) at any angle with ``N = 32`` samples of a
  band limit 3 (SO(2)) or 2 (O(2)) field.
* Negative control: the fewest samples (``N = 2 L + 1 = 7``), half-way
  between two of them.

Quotient fields (functions on ``G / H``, layers/steerable/fourier_quotient.py):

* Exact tier: C4 / C8 / D4 / D8 quotient fields (``H`` = C2, C4, the
  mirror, D2) and SO(2) / C2, O(2) / flip, O(2) / SO(2) fields sampled on
  12 / 16 / 20 rotations, on odd 5x5 / 7x7 grids under the quarter turns
  and the mirror.
* Approximate tier: SO(2) / C2 (band limit 4) and O(2) / flip (band limit
  3) fields with 32 samples at any angle (one-pixel maps, as above; 16
  cosets of C2 for SO(2), so its error is the larger).
* Negative control: a ReLU on the quotient field's Fourier coefficients
  (``pointwise_nonlinearity(force=True)``) under a quarter turn.
"""

import functools
import math

import numpy as np
from hypothesis import strategies as st

import groups
from groups import testing
from layers import steerable

CASES = testing.Registry()

_FINITE = {'C8': groups.Cyclic(8), 'D4': groups.Dihedral(4),
           'C16': groups.Cyclic(16)}
_SO2 = groups.SO2(3)
_O2 = groups.O2(2)
_SO2_FIELD = steerable.band_limited_representation(_SO2, 3)
_O2_FIELD = steerable.band_limited_representation(_O2, 2)


def _map(rng, field_type) -> np.ndarray:
  return rng.standard_normal((3, 1, 1, field_type.size)).astype(np.float32)


def _finite_field_type(draw, group) -> groups.FieldType:
  if draw(st.booleans(), label='regular'):
    return groups.FieldType(group, 2 * [group.regular_representation])
  ids = draw(st.lists(st.sampled_from(group.irrep_ids()), min_size=1,
                      max_size=3, unique=True), label='irreps')
  return groups.FieldType(group, [
      group.irrep(*i) if isinstance(i, tuple) else group.irrep(i)
      for i in ids])


def _continuous(draw):
  if draw(st.booleans(), label='o2'):
    return _O2, groups.FieldType(_O2, 2 * [_O2_FIELD])
  return _SO2, groups.FieldType(_SO2, 2 * [_SO2_FIELD])


def _trial(rng, field_type, element, *, samples=None, activation='elu'):
  fn = functools.partial(steerable.fourier_pointwise, field_type=field_type,
                         activation=activation, samples=samples)
  t = field_type.transform(element)
  return testing.Trial(fn, _map(rng, field_type), t, t)


# Measured errors: docs/generated/registry_errors.md.
@CASES.register('steerable_fourier/sampled_elements',
                expect=testing.EXACT, bound=1e-5,
                fact='a Fourier ELU/ReLU (sample each field on group '
                'elements, act, project back) commutes with every element '
                'of C8 / D4 / C16 sampled on all of them, and with the '
                'sampled rotations (and mirrors) of SO(2) / O(2)')
def fourier_sampled_elements(draw):
  rng = testing.draw_rng(draw)
  activation = draw(st.sampled_from(['elu', 'relu']), label='activation')
  if draw(st.booleans(), label='finite'):
    group = _FINITE[draw(st.sampled_from(sorted(_FINITE)), label='group')]
    field_type = _finite_field_type(draw, group)
    element = draw(st.sampled_from(list(group.elements())), label='g')
    return _trial(rng, field_type, element, activation=activation)
  group, field_type = _continuous(draw)
  samples = draw(st.sampled_from([8, 12, 16, 24]), label='samples')
  step = 2 * math.pi / samples * draw(st.integers(1, samples - 1),
                                      label='step')
  element = (draw(st.integers(0, 1), label='mirror'), step) if (
      group is _O2) else step
  return _trial(rng, field_type, element, samples=samples,
                activation=activation)


# Measured errors: docs/generated/registry_errors.md.
@CASES.register('steerable_fourier_so2_o2/any_angle',
                expect=testing.APPROXIMATE, bound=0.01,
                fact='a Fourier ELU on band-limited SO(2) (L = 3) / O(2) '
                '(L = 2) fields sampled on 32 rotations is approximately '
                'equivariant to any rotation: the activation\'s harmonics '
                'above the band alias')
def fourier_any_angle(draw):
  rng = testing.draw_rng(draw)
  group, field_type = _continuous(draw)
  angle = draw(st.floats(0.0, 2 * math.pi), label='angle')
  element = (draw(st.integers(0, 1), label='mirror'), angle) if (
      group is _O2) else angle
  return _trial(rng, field_type, element, samples=32)


# Measured errors: docs/generated/registry_errors.md.
@CASES.register('steerable_fourier_so2/fewest_samples_between_them_breaks',
                expect=testing.BREAKS, bound=0.1,
                fact='with the fewest samples (7 rotations for band limit '
                '3), a Fourier ELU is not equivariant half-way between two '
                'sampled rotations (negative control)')
def fourier_fewest_samples(draw):
  rng = testing.draw_rng(draw)
  field_type = groups.FieldType(_SO2, 2 * [_SO2_FIELD])
  n = draw(st.integers(0, 6), label='gap')
  return _trial(rng, field_type, (n + 0.5) * 2 * math.pi / 7, samples=7)


_QUOTIENTS = {
    'C4/C2': (groups.Cyclic(4), groups.Cyclic(2)),
    'C8/C2': (groups.Cyclic(8), groups.Cyclic(2)),
    'C8/C4': (groups.Cyclic(8), groups.Cyclic(4)),
    'D4/flip': (groups.Dihedral(4), groups.Dihedral(1)),
    'D4/C4': (groups.Dihedral(4), groups.Cyclic(4)),
    'D8/D2': (groups.Dihedral(8), groups.Dihedral(2)),
    'SO2(4)/C2': (groups.SO2(4), groups.Cyclic(2)),
    'O2(3)/flip': (groups.O2(3), groups.Dihedral(1)),
    'O2(3)/SO2': (groups.O2(3), groups.SO2(3)),
}


def _quotient_field_type(name) -> groups.FieldType:
  group, subgroup = _QUOTIENTS[name]
  return groups.FieldType(group, 2 * [
      steerable.quotient_fourier_representation(group, subgroup)])


def _grid_elements(group) -> list:
  """The quarter turns and the mirror (exact on the grid) as elements."""
  if group.is_finite:
    return [g for g in group.elements() if group.grid_action(g).exact]
  turns = [math.pi / 2 * q for q in range(4)]
  if isinstance(group, groups.O2):
    return [(mirror, t) for mirror in (0, 1) for t in turns]
  return turns


def _odd_grid_map(draw, rng, field_type) -> np.ndarray:
  return testing.odd_square_input(
      draw, rng, sizes=st.integers(2, 3),
      channels=(field_type.size, field_type.size))


# Measured errors: docs/generated/registry_errors.md.
@CASES.register('steerable_fourier_quotient/quarter_turns_and_flips',
                expect=testing.EXACT, bound=1e-5,
                fact='a quotient Fourier ELU/ReLU (sample each field on the '
                'cosets g H, act, project back) on C_N / D_N quotient '
                'fields, and on SO(2) / C2, O(2) / flip, O(2) / SO(2) fields '
                'sampled on 12 / 16 / 20 rotations, commutes with the quarter '
                'turns and the mirror of an odd grid')
def quotient_fourier_grid_elements(draw):
  rng = testing.draw_rng(draw)
  name = draw(st.sampled_from(sorted(_QUOTIENTS)), label='quotient')
  group, subgroup = _QUOTIENTS[name]
  field_type = _quotient_field_type(name)
  samples = None if group.is_finite else draw(
      st.sampled_from([12, 16, 20]), label='samples')
  activation = draw(st.sampled_from(['elu', 'relu']), label='activation')
  fn = functools.partial(steerable.quotient_fourier_pointwise,
                         field_type=field_type, subgroup=subgroup,
                         activation=activation, samples=samples)
  element = draw(st.sampled_from(_grid_elements(group)), label='g')
  t = field_type.transform(element)
  return testing.Trial(fn, _odd_grid_map(draw, rng, field_type), t, t)


# Measured errors: docs/generated/registry_errors.md.
@CASES.register('steerable_fourier_quotient_so2_o2/any_angle',
                expect=testing.APPROXIMATE, bound=0.03,
                fact='a quotient Fourier ELU on SO(2) / C2 (L = 4) and '
                'O(2) / flip (L = 3) fields sampled on 32 rotations is '
                'approximately equivariant to any rotation (and mirror)')
def quotient_fourier_any_angle(draw):
  rng = testing.draw_rng(draw)
  name = draw(st.sampled_from(['SO2(4)/C2', 'O2(3)/flip']), label='quotient')
  group, subgroup = _QUOTIENTS[name]
  field_type = _quotient_field_type(name)
  angle = draw(st.floats(0.0, 2 * math.pi), label='angle')
  element = (draw(st.integers(0, 1), label='mirror'), angle) if isinstance(
      group, groups.O2) else angle
  fn = functools.partial(steerable.quotient_fourier_pointwise,
                         field_type=field_type, subgroup=subgroup, samples=32)
  t = field_type.transform(element)
  x = rng.standard_normal((2, 1, 1, field_type.size)).astype(np.float32)
  return testing.Trial(fn, x, t, t)


# Measured errors: docs/generated/registry_errors.md.
@CASES.register('steerable_fourier_quotient/relu_on_coefficients_breaks',
                expect=testing.BREAKS, bound=0.1,
                fact='a ReLU applied to a quotient field\'s Fourier '
                'coefficients (not to its samples on G / H) is not '
                'equivariant to the quarter turns (negative control)')
def quotient_fourier_relu_on_coefficients(draw):
  rng = testing.draw_rng(draw)
  name = draw(st.sampled_from(['C8/C2', 'D4/flip', 'SO2(4)/C2',
                               'O2(3)/flip']), label='quotient')
  group, _ = _QUOTIENTS[name]
  field_type = _quotient_field_type(name)
  fn = functools.partial(steerable.pointwise_nonlinearity,
                         field_type=field_type, activation='relu',
                         force=True)
  quarter = draw(st.sampled_from([1, 3]), label='quarter')
  element = (quarter * group.order // 4 if group.symbol == 'C' else quarter
             * group.n // 4) if group.is_finite else (
                 quarter * math.pi / 2)
  t = field_type.transform(element)
  return testing.Trial(fn, _odd_grid_map(draw, rng, field_type), t, t)
