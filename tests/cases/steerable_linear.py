"""Registry cases: the equivariant linear map and escnn's other two gated
nonlinearities (issue 30; layers/steerable/linear.py, gated.py).

* Equivariant linear (``[B, C]`` vectors, no grid): ``g`` acts by
  ``rho(g)`` alone (:class:`steerable.FiberTransform`), nothing is
  interpolated, so the map commutes with *every* element to float
  precision: all of C4 / C8 / D4 / D8 and any angle (mirrored or not) of
  SO(2) / O(2). Negative controls: an unconstrained dense matrix, and an
  SO(2) intertwiner of vector fields (``a I + b J``) declared as O(2)'s
  irrep (1, 1), which the mirror breaks (O(2)'s intertwiners are ``a I``).
* Gated nonlinearities: per pixel, with invariant gates, so exact under
  quarter turns and the mirror on a square grid. Negative controls: gates
  taken from a vector field's first component (separate gates), and a sign
  irrep (D_N / O(2) irrep (1, 0)) used as a "gate" of a uniform field,
  flipped by the mirror.

Small draws (batch 2, 1-3 fields, 5x5 grids): every case runs 8 examples
with and without jit; parameters are drawn with NumPy and passed as
variables, so no jax random key is needed.
"""

import math

import jax.numpy as jnp
import numpy as np
from hypothesis import strategies as st

import groups
from groups import testing
from layers import steerable
from tests.cases import steerable as steerable_cases

CASES = testing.Registry()

_FINITE = {'C4': groups.Cyclic(4), 'C8': groups.Cyclic(8),
           'D4': groups.Dihedral(4), 'D8': groups.Dihedral(8)}
_CONTINUOUS = {'SO2': groups.SO2(3), 'O2': groups.O2(3)}
_EXACT_GRID = {'C4': groups.Cyclic(4), 'C8': groups.Cyclic(8),
               'D4': groups.Dihedral(4), 'SO2': groups.SO2(3),
               'O2': groups.O2(3)}


def draw_any_element(draw, group):
  """Any non-identity element: every one of a finite group, any angle
  (and mirror) of SO(2) / O(2)."""
  if group.is_finite:
    return draw(st.sampled_from([g for g in group.elements()
                                 if g != group.identity_element]), label='g')
  angle = draw(st.floats(0.01, 2 * math.pi - 0.01), label='angle')
  if isinstance(group, groups.O2):
    return (draw(st.integers(0, 1), label='mirror'), angle)
  return angle


def draw_linear_types(draw, group):
  """1-2 input fields, and output fields led by a copy of the first input
  field (so an intertwiner exists) then 0-2 drawn ones."""
  choices = steerable_cases.field_choices(group)
  pick = lambda label, low: draw(st.lists(  # pylint: disable=g-long-lambda
      st.sampled_from(range(len(choices))), min_size=low, max_size=2),
      label=label)
  in_type = groups.FieldType(group, [choices[i] for i in pick('in', 1)])
  out_type = groups.FieldType(group, [in_type.representations[0]] +
                              [choices[i] for i in pick('out', 0)])
  return in_type, out_type


def random_vectors(rng, field_type, batch=2) -> np.ndarray:
  return rng.standard_normal((batch, field_type.size)).astype(np.float32)


def linear_variables(rng, in_type, out_type) -> dict:
  basis = steerable.linear_basis(in_type, out_type)
  params = {'weights': steerable_cases.random_weights(rng, basis)}
  n_trivial = len(out_type.trivial_channels())
  if n_trivial:
    params['bias'] = rng.standard_normal(n_trivial).astype(np.float32)
  return {'params': params}


# Measured errors: docs/generated/registry_errors.md.
@CASES.register('steerable_linear/any_element', expect=testing.EXACT,
                bound=1e-5,
                fact='an equivariant linear map of [B, C] vectors between any '
                'field types of C4, C8, D4, D8, SO(2), O(2) (regular, '
                'quotient, irrep, trivial fields; bias on trivial fields) '
                'commutes with every element: any angle of SO(2) / O(2), '
                'mirrored or not (irreps are exact at any angle; no grid)')
def linear_under_any_element(draw):
  rng = testing.draw_rng(draw)
  group = steerable_cases.draw_group(draw, {**_FINITE, **_CONTINUOUS})
  in_type, out_type = draw_linear_types(draw, group)
  module = steerable.EquivariantLinear(in_type, out_type)
  variables = linear_variables(rng, in_type, out_type)
  return module.trial(variables, random_vectors(rng, in_type),
                      draw_any_element(draw, group))


@CASES.register('steerable_linear/unconstrained_matrix_breaks',
                expect=testing.BREAKS, bound=0.1,
                fact='a dense matrix (unconstrained) between C4/D4 regular or '
                'SO(2)/O(2) vector fields does not commute with a quarter turn '
                'of the fibres (negative control)')
def unconstrained_linear(draw):
  rng = testing.draw_rng(draw)
  group = steerable_cases.draw_group(draw, {
      'C4': groups.Cyclic(4), 'D4': groups.Dihedral(4), **_CONTINUOUS})
  if group.is_finite:
    field = group.regular_representation
  else:
    field = group.irrep(1) if isinstance(group, groups.SO2) else group.irrep(
        1, 1)
  field_type = groups.FieldType(group, 2 * [field])
  matrix = (rng.standard_normal((field_type.size, field_type.size)) /
            math.sqrt(field_type.size)).astype(np.float32)
  g = steerable_cases.exact_elements(group)[0]  # a quarter turn
  action = steerable.fiber_action(field_type, g)
  return testing.Trial(lambda x: jnp.asarray(x) @ matrix,
                       random_vectors(rng, field_type), action, action)


@CASES.register('steerable_linear/so2_intertwiner_under_mirror_breaks',
                expect=testing.BREAKS, bound=0.1,
                fact='an SO(2) intertwiner of vector fields, a I + b J with '
                '|b| >= |a| / 2, declared as O(2) irrep (1, 1) does not '
                'commute with the mirror (O(2) allows a I only: the space '
                'must be solved for the declared group; negative control)')
def so2_intertwiner_under_mirror(draw):
  rng = testing.draw_rng(draw)
  so2, o2 = groups.SO2(3), groups.O2(3)
  rotation_type = groups.FieldType(so2, [so2.irrep(1)])
  declared = groups.FieldType(o2, [o2.irrep(1, 1)])
  a = rng.uniform(-1.0, 1.0)
  b = rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 1.5)
  target = np.array([[a, -b], [b, a]])  # a I + b J, [C_in, C_out]
  dense = steerable.linear_basis(rotation_type, rotation_type).dense()
  weights = np.linalg.lstsq(dense.reshape(len(dense), -1).T,
                            target.reshape(-1), rcond=None)[0]
  module = steerable.EquivariantLinear(rotation_type, rotation_type)
  variables = {'params': {'weights': weights.astype(np.float32)}}
  g = (1, draw(st.sampled_from([0.0, math.pi / 2]), label='angle'))
  action = steerable.fiber_action(declared, g)
  return testing.Trial(lambda x: module.apply(variables, x),
                       random_vectors(rng, rotation_type), action, action)


# Gated nonlinearities (maps [B, 5, 5, C]).


@CASES.register('steerable_gated2/quarter_turns_and_flips',
                expect=testing.EXACT, bound=1e-5,
                fact='the gated nonlinearity with gates as a separate input '
                '(escnn GatedNonLinearity2; trivial gates with a bias, any '
                'gated fields of C4/C8/D4/SO(2)/O(2)) commutes with quarter '
                'turns and the mirror')
def gated2_under_quarter_turns(draw):
  rng = testing.draw_rng(draw)
  group = steerable_cases.draw_group(draw, _EXACT_GRID)
  gated_type = steerable_cases.draw_any_type(draw, group)
  module = steerable.GatedNonlinearity2(gated_type)
  variables = {'params': {'bias': rng.standard_normal(
      len(gated_type)).astype(np.float32)}}
  gates = steerable_cases.random_field_map(rng, (2, 5, 5), module.gate_type)
  x = steerable_cases.random_field_map(rng, (2, 5, 5), gated_type)
  g = steerable_cases.draw_exact_element(draw, group)
  return module.trial(variables, (gates, x), g)


@CASES.register('steerable_gated2/gates_from_vector_fields_breaks',
                expect=testing.BREAKS, bound=0.1,
                fact='gating C4/C8/SO(2) vector fields by their own first '
                'components (not invariant) instead of trivial gates does not '
                'commute with a quarter turn (negative control)')
def gated2_with_vector_gates(draw):
  rng = testing.draw_rng(draw)
  group = steerable_cases.draw_group(draw, {
      'C4': groups.Cyclic(4), 'C8': groups.Cyclic(8), 'SO2': groups.SO2(3)})
  gated_type = groups.FieldType(group, draw(st.integers(1, 3),
                                            label='fields') *
                                [group.irrep(1)])

  def fn(x):
    return steerable.gated_nonlinearity2(x[..., 0::2], x,
                                         gated_type=gated_type)
  x = steerable_cases.random_field_map(rng, (2, 5, 5), gated_type)
  g = steerable_cases.exact_elements(group)[0]  # a quarter turn
  return testing.Trial(fn, x, gated_type.transform(g),
                       gated_type.transform(g))


def draw_uniform_field(draw, group):
  """A direct sum of 1-2 small irreps (``Q = I``) to gate."""
  choices = [r for r in steerable_cases.field_choices(group)
             if np.allclose(r.change_of_basis, np.eye(r.size))]
  picks = draw(st.lists(st.sampled_from(range(len(choices))), min_size=1,
                        max_size=2), label='irreps')
  return groups.representations.direct_sum(*(choices[i] for i in picks))


@CASES.register('steerable_gated_uniform/quarter_turns_and_flips',
                expect=testing.EXACT, bound=1e-5,
                fact='the uniform gated nonlinearity (escnn '
                'GatedNonLinearityUniform: every field n trivial gates + n '
                'irreps, each irrep gated with a bias) of C4/C8/D4/SO(2)/O(2) '
                'commutes with quarter turns and the mirror')
def gated_uniform_under_quarter_turns(draw):
  rng = testing.draw_rng(draw)
  group = steerable_cases.draw_group(draw, _EXACT_GRID)
  field = steerable.uniform_gated_representation(
      draw_uniform_field(draw, group))
  in_type = groups.FieldType(group, draw(st.integers(1, 3), label='fields')
                             * [field])
  module = steerable.GatedNonlinearityUniform(in_type)
  n = len(field.irreps) // 2
  variables = {'params': {'bias': rng.standard_normal(
      (len(in_type), n)).astype(np.float32)}}
  x = steerable_cases.random_field_map(rng, (2, 5, 5), in_type)
  return module.trial(variables, x,
                      steerable_cases.draw_exact_element(draw, group))


@CASES.register('steerable_gated_uniform/sign_irrep_gate_breaks',
                expect=testing.BREAKS, bound=0.1,
                fact='a D4/D8/O(2) sign irrep (1, 0) in the place of a uniform '
                'field\'s trivial gate flips under the mirror, so the gated '
                'irrep (1, 1) does not commute with it (negative control)')
def gated_uniform_with_sign_gate(draw):
  rng = testing.draw_rng(draw)
  group = steerable_cases.draw_group(draw, {
      'D4': groups.Dihedral(4), 'D8': groups.Dihedral(8), 'O2': groups.O2(3)})
  fields = draw(st.integers(1, 3), label='fields')
  declared = groups.FieldType(group, fields * [
      steerable.uniform_gated_representation(group.irrep(1, 1))])
  actual = groups.FieldType(group, fields * [
      groups.representations.direct_sum(group.irrep(1, 0),
                                        group.irrep(1, 1))])
  out_type = steerable.uniform_gated_type(declared)

  def fn(x):
    return steerable.gated_nonlinearity_uniform(x, field_type=declared)
  x = steerable_cases.random_field_map(rng, (2, 5, 5), actual)
  g = (1, 0.0) if isinstance(group, groups.O2) else group.n  # the mirror
  return testing.Trial(fn, x, actual.transform(g), out_type.transform(g))
