"""Registry cases: the steerable U-Net (models/steerable_unet.py).

Regular fields of C4 / C8 / D4, two levels, random parameters.

* Exact tier: with APS down/upsampling (circular convs, even grids) every
  circular shift by any integer and every quarter turn and mirror; with
  'centred' sampling (zero-padded convs, the transposed steerable conv on
  the way up, odd grids) every quarter turn and mirror.
* Negative controls: fixed phase 0 on an even grid ('strided') under a
  1-pixel shift and under quarter turns.

Small draws (grids 5-9, batch 2, 2 regular fields per level).
"""

import jax
import numpy as np
from hypothesis import strategies as st

import groups
from groups import testing
from models import steerable_unet
from tests.cases import steerable as steerable_cases

CASES = testing.Registry()

_GROUPS = {'C4': groups.Cyclic(4), 'C8': groups.Cyclic(8),
           'D4': groups.Dihedral(4)}


def random_unet(draw, rng, downsampling: str, size: int):
  """``(fn, x, in_type, out_type)`` of a random 2-level steerable U-Net."""
  name = draw(st.sampled_from(sorted(_GROUPS)), label='group')
  group = _GROUPS[name]
  model = steerable_unet.SteerableUNet(
      out_channels=2, widths=(2, 2), group=group, downsampling=downsampling)
  x = rng.standard_normal((2, size, size, 1)).astype(np.float32)
  variables = model.init(jax.random.PRNGKey(int(rng.integers(2**31))), x)
  # Every parameter moved a little: the biases start at zero (weights stay
  # basis coefficients, so the layers stay steerable).
  variables = jax.tree_util.tree_map(
      lambda v: v + rng.standard_normal(v.shape).astype(v.dtype) * 0.1,
      variables)
  in_type = groups.FieldType(group, [group.trivial_representation])
  out_type = groups.FieldType(group, 2 * [group.trivial_representation])

  def fn(x):
    return model.apply(variables, x)
  return fn, x, group, in_type, out_type


# Measured errors: docs/generated/registry_errors.md.
@CASES.register('steerable_unet/aps_circular_shifts', expect=testing.EXACT,
                bound=1e-5,
                fact='a steerable U-Net (C4 / C8 / D4 regular fields, APS '
                'down / polyphase upsampling at the kept phase, circular '
                'convs, 6x6 / 8x8) commutes with every circular shift by '
                'any integer')
def aps_unet_under_circular_shifts(draw):
  rng = testing.draw_rng(draw)
  size = draw(st.sampled_from([6, 8]), label='size')
  fn, x, _, _, _ = random_unet(draw, rng, 'aps', size)
  shift = groups.CircularShift(*testing.draw_shift(draw, x))
  return testing.Trial(fn, x, shift)


# Measured errors: docs/generated/registry_errors.md.
@CASES.register('steerable_unet/aps_quarter_turns_and_flips',
                expect=testing.EXACT, bound=1e-5,
                fact='the same APS steerable U-Net commutes with quarter '
                'turns (and the D4 mirrors) on even grids: a turn of the '
                'torus permutes the polyphase components and the regular '
                'fields\' channels, so APS keeps the same content')
def aps_unet_under_quarter_turns(draw):
  rng = testing.draw_rng(draw)
  size = draw(st.sampled_from([6, 8]), label='size')
  fn, x, group, in_type, out_type = random_unet(draw, rng, 'aps', size)
  g = draw(st.sampled_from(steerable_cases.exact_elements(group)), label='g')
  return testing.Trial(fn, x, in_type.transform(g), out_type.transform(g))


# Measured errors: docs/generated/registry_errors.md.
@CASES.register('steerable_unet/centred_quarter_turns_and_flips',
                expect=testing.EXACT, bound=1e-5,
                fact="a steerable U-Net with 'centred' sampling (phase 0 of "
                'an odd grid, zero-padded convs, a stride-2 transposed '
                'steerable conv up; 5x5 / 7x7 / 9x9) commutes with quarter '
                'turns and the D4 mirrors')
def centred_unet_under_quarter_turns(draw):
  rng = testing.draw_rng(draw)
  size = draw(st.sampled_from([5, 7, 9]), label='size')
  fn, x, group, in_type, out_type = random_unet(draw, rng, 'centred', size)
  g = draw(st.sampled_from(steerable_cases.exact_elements(group)), label='g')
  return testing.Trial(fn, x, in_type.transform(g), out_type.transform(g))


# Measured errors: docs/generated/registry_errors.md.
@CASES.register('steerable_unet/strided_one_pixel_shift_breaks',
                expect=testing.BREAKS, bound=0.05,
                fact='with fixed phase 0 (a strided conv and zero insertion) '
                'the steerable U-Net does not commute with odd circular '
                'shifts (negative control of the APS shift fact)')
def strided_unet_under_shifts(draw):
  rng = testing.draw_rng(draw)
  fn, x, _, _, _ = random_unet(draw, rng, 'strided', 8)
  dy = draw(st.sampled_from([-1, 1, 3]), label='dy')
  return testing.Trial(fn, x, groups.CircularShift(dy, 1))


# Measured errors: docs/generated/registry_errors.md.
@CASES.register('steerable_unet/strided_quarter_turns_break',
                expect=testing.BREAKS, bound=0.05,
                fact='with fixed phase 0 on an even grid the steerable U-Net '
                'does not commute with quarter turns: a turn moves the kept '
                'phase onto a dropped one (negative control of the APS and '
                'centred rotation facts)')
def strided_unet_under_quarter_turns(draw):
  rng = testing.draw_rng(draw)
  fn, x, group, in_type, out_type = random_unet(draw, rng, 'strided', 8)
  g = steerable_cases.exact_elements(group)[0]   # 90 degrees
  return testing.Trial(fn, x, in_type.transform(g), out_type.transform(g))
