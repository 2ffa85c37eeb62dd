# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Write your own equivariant layer, and check it
#
# The equivariance checks the test suite runs on every library layer ship in the library
# (`groups.testing`), so they work on your layer too. This notebook:
#
# 1. defines a small layer — an *edge strength*: the length of a smoothed image gradient,
#    scaled and thresholded — as a pure function plus a thin Flax module;
# 2. checks it the three ways a fact can hold: **exact** (`assert_equivariant`: circular
#    shifts and quarter turns), **approximate with a measured bound**
#    (`assert_approximately_equivariant`: any angle, on smooth images), and **must break**
#    (`assert_not_equivariant`: a negative control, so a check that compares the wrong
#    things cannot pass quietly);
# 3. shows a failing check explaining itself;
# 4. registers the facts in a `groups.testing.Registry()` and runs `groups.testing.check`
#    on trials drawn by hypothesis, as `tests/registry_test.py` does for the library.
#
# Takes well under a minute on 2 CPU cores; `EQUIVLAB_NOTEBOOK_FAST=1` draws fewer
# trials; figures go to `EQUIVLAB_NOTEBOOK_OUT` (default `docs/images/`).

# %%
import math
import time

# Shared set-up (docs/notebooks/_notebook.py): puts the checkout on sys.path, reads
# EQUIVLAB_NOTEBOOK_FAST (FAST) and EQUIVLAB_NOTEBOOK_OUT (OUT), starts the clock.
from _notebook import FAST, OUT, START, show

import flax.linen as nn
import hypothesis
from hypothesis import strategies as st
import jax
import jax.numpy as jnp
from matplotlib import pyplot as plt
import numpy as np

import groups
from groups import synthetic
from groups import testing


print(f'fast mode: {FAST}; figures -> {OUT}')

# %% [markdown]
# ## 1. The layer
#
# The math is a pure function of `[B, H, W, C]` arrays (per channel: a Sobel gradient
# with circular boundaries, then its length); the module only owns the parameters (a
# scale and a threshold) and calls it. Every step is either a circular
# shift-invariant stencil or pointwise, and the gradient's *length* does not care which
# way the gradient points — so we expect exact equivariance to circular shifts and to
# quarter turns, and approximate equivariance to other angles (a 3×3 stencil is only
# nearly isotropic). The variant `horizontal_edges` keeps only `|∂x|`: it sees vertical
# edges but not horizontal ones, so it must *not* commute with a quarter turn.

# %%
def _smooth(x, axis):  # [1, 2, 1] / 4 along one axis, circular
  return (jnp.roll(x, 1, axis) + 2 * x + jnp.roll(x, -1, axis)) / 4


def _difference(x, axis):  # central difference along one axis, circular
  return (jnp.roll(x, -1, axis) - jnp.roll(x, 1, axis)) / 2


def sobel_gradient(x: jax.typing.ArrayLike) -> tuple[jax.Array, jax.Array]:
  """Per-channel Sobel gradient ``(d/dy, d/dx)`` of ``x`` ``[B, H, W, C]``, circular."""
  x = jnp.asarray(x)
  return _difference(_smooth(x, 2), 1), _difference(_smooth(x, 1), 2)


def edge_strength(x: jax.typing.ArrayLike, *, scale=1.0, threshold=0.0,
                  eps: float = 1e-12) -> jax.Array:
  """``relu(scale * |grad x| - threshold)``: ``[B, H, W, C] -> [B, H, W, C]``.

  Args:
    x: ``[B, H, W, C]`` floating.
    scale: ``[C]`` or a number.
    threshold: ``[C]`` or a number.
    eps: keeps the square root differentiable at a zero gradient.
  """
  dy, dx = sobel_gradient(x)
  return jax.nn.relu(scale * jnp.sqrt(dy**2 + dx**2 + eps) - threshold)


def horizontal_edges(x: jax.typing.ArrayLike) -> jax.Array:
  """``|d/dx|`` only: vertical edges. A negative control for rotations."""
  return jnp.abs(sobel_gradient(x)[1])


class EdgeStrength(nn.Module):
  """Thin linen wrapper of :func:`edge_strength`; owns ``scale`` and ``threshold``.

  One scale and one threshold shared by all channels, so the module takes any ``C``.
  """

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    scale = self.param('scale', nn.initializers.ones_init(), ())
    threshold = self.param('threshold', nn.initializers.constant(0.1), ())
    return edge_strength(x, scale=scale, threshold=threshold)


module = EdgeStrength()
noise = np.random.default_rng(0).standard_normal((2, 16, 16, 3)).astype(np.float32)
variables = module.init(jax.random.key(0), noise)
layer = jax.jit(lambda x: module.apply(variables, x))  # the function we check
print('EdgeStrength:', noise.shape, '->', layer(noise).shape,
      jax.tree.map(jnp.shape, variables))

# %% [markdown]
# ## 2. Three kinds of facts
#
# **Exact.** `assert_equivariant(fn, T, x)` compares `fn(T x)` with `T′ fn(x)` element by
# element (float32: `atol = rtol = 1e-5` by default); `T′` defaults to `T`.

# %%
shift = groups.CircularShift(3, -5)
testing.assert_equivariant(layer, shift, noise)
for k in (1, 2, 3):
  testing.assert_equivariant(layer, groups.Rot90(k), noise)
testing.assert_equivariant(layer, groups.Flip(), noise)
print('exact: circular shifts, quarter turns and the mirror: passed on white noise')

# %% [markdown]
# **Approximate, with a measured bound.** At 30° the pixel grid has no exact rotation:
# `groups.BilinearRotation(30)` interpolates. On smooth images (white noise low-passed
# to 0.1 cycle/px, windowed into the middle: `groups.synthetic.smooth_images`) and on the
# disk inscribed in the grid (`groups.inscribed_disk`: content that stays on the grid),
# the relative error `‖f(Tx) − T f(x)‖ / ‖T f(x)‖` is small but not zero. Measure it
# first, over image sizes, seeds and angles between the quarter turns — the same
# distribution the registry case below draws from — then state a bound with about 2×
# headroom: the number a registry entry documents.

# %%
SIDES = (25, 33, 41)  # odd sides: the grid centre is a pixel


def smooth_batch(rng, side, batch=4, channels=2):
  """``[batch, side, side, channels]`` smooth images (0.1 cycle/px), unit std."""
  return synthetic.smooth_images(rng, (batch, side, side, channels), cutoff=0.1,
                                 region='disk', normalize=True)


def disk(side):  # 2 px margin: room for the 3x3 stencil
  return groups.inscribed_disk(side, side, margin=2)


measure_angles = (20, 30, 45, 60, 70) if FAST else tuple(range(20, 71, 5))
measured = []
for side in SIDES:
  for seed in range(2 if FAST else 6):
    x = smooth_batch(np.random.default_rng([side, seed]), side)
    for angle in measure_angles:
      measured.append(np.asarray(groups.equivariance_error(
          layer, x, groups.BilinearRotation(angle), mask=disk(side))))
measured = np.concatenate(measured)
BOUND = math.ceil(200 * float(measured.max())) / 100  # 2x headroom, rounded up
print(f'relative error at 20-70 degrees over {measured.size} smooth images of sides '
      f'{SIDES}: median {np.median(measured):.3f}, largest {measured.max():.3f} '
      f'-> bound {BOUND}')

side = 33
smooth = smooth_batch(np.random.default_rng(100), side)
errors_30 = testing.assert_approximately_equivariant(
    layer, groups.BilinearRotation(30), smooth, bound=BOUND, mask=disk(side))
print('approximate at 30 degrees: per-image errors', np.round(errors_30, 4))

# %% [markdown]
# **Must break.** A negative control: `horizontal_edges` misses horizontal edges, so a
# quarter turn changes what it sees. `assert_not_equivariant` demands a batch-mean error
# of at least `min_error`; it fails if the property unexpectedly *holds*. Give every exact
# fact one: had we compared `fn(T x)` with `fn(x)` by mistake, or fed a constant image,
# the exact check would pass for any layer, and its negative control would not.

# %%
broken = testing.assert_not_equivariant(horizontal_edges, groups.Rot90(1), noise,
                                        min_error=0.1)
print('must break: horizontal_edges under a quarter turn, errors', np.round(broken, 3))

# %% [markdown]
# ## 3. A failing check explains itself
#
# Ask for exactness where there is none — the edge strength at 30° — and the
# `AssertionError` says which transformation, how many elements and by how much; the
# approximate check says which bound was exceeded.

# %%
try:
  testing.assert_equivariant(layer, groups.BilinearRotation(30), smooth, mask=disk(side))
except AssertionError as error:
  print('assert_equivariant failed, as it should:\n', str(error).strip()[:900])
else:
  raise RuntimeError('an exact check at 30 degrees should fail')

try:
  testing.assert_approximately_equivariant(layer, groups.BilinearRotation(30), smooth,
                                           bound=BOUND / 20, mask=disk(side))
except AssertionError as error:
  print('\nassert_approximately_equivariant failed, as it should:\n', error)
else:
  raise RuntimeError('a bound 20x too tight should fail')

# %% [markdown]
# ### The picture
#
# One row per kind of fact: the transformed input `T x`, `f(T x)`, `T′ f(x)` and their
# difference (same colour scale), with the relative error and the verdict.

# %%
checks = (
    ('exact: quarter turn', layer, groups.Rot90(1), smooth[:1, :, :, :1], None, None),
    (f'approximate: 30° (bound {BOUND})', layer, groups.BilinearRotation(30),
     smooth[:1, :, :, :1], disk(side), BOUND),
    ('must break: horizontal_edges, quarter turn', horizontal_edges, groups.Rot90(1),
     smooth[:1, :, :, :1], None, 0.1),
)
fig, axes = plt.subplots(len(checks), 4, figsize=(12.5, 10.5))
for row, (title, fn, transform, x, mask, bound) in enumerate(checks):
  actual, expected = groups.transformed_pair(fn, x, transform)
  difference = np.asarray(actual - expected)[0, :, :, 0]
  if mask is not None:
    difference = np.where(mask, difference, np.nan)  # only the disk is compared
  error = float(groups.equivariance_error(fn, x, transform, mask=mask)[0])
  vmax = float(np.max(np.abs(expected)))
  panels = ((transform(x), 'gray', None, 'T x'), (actual, 'magma', 0, 'f(T x)'),
            (expected, 'magma', 0, 'T f(x)'))
  for column, (image, cmap, lo, label) in enumerate(panels):
    axes[row, column].imshow(np.asarray(image)[0, :, :, 0], cmap=cmap, vmin=lo,
                             vmax=None if lo is None else vmax)
    axes[row, column].set_title(label if column else f'{title}\n{label}', fontsize=10.5,
                                loc='left' if not column else 'center')
  axes[row, 3].imshow(difference, cmap='RdBu_r', vmin=-vmax, vmax=vmax)
  verdict = ('passes (each element ± 1e-5)' if bound is None else
             f'passes (≤ {bound})' if 'approx' in title else f'breaks (≥ {bound}), as it must')
  axes[row, 3].set_title(f'f(T x) − T f(x)' + (' on the disk' if mask is not None else '') +
                         f'\nrelative error {error:.2g}: {verdict}', fontsize=10.5)
  for ax in axes[row]:
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle('Checking a home-made layer (edge strength) with groups.testing: exact, '
             'approximate, must-break', fontsize=12)
fig.tight_layout(h_pad=2.5, rect=(0, 0, 1, 0.97))  # room for the suptitle
show(fig, 'custom_layer_check.png')

# %% [markdown]
# ## 4. A registry of facts, checked on drawn trials
#
# The same facts as registry cases. A case's draw function takes hypothesis'
# `data.draw` and returns a `testing.Trial` (function, input, transformations, mask);
# `testing.check(case, trial)` runs the assertion of the case's tier with the case's
# bound. Sizes, seeds, shifts and angles are drawn, so a failure prints its draws and
# replays. In a test file, the last cell's `test_edge_strength` is the whole test (see
# the docstring of `groups/testing.py` and `tests/registry_test.py`).

# %%
CASES = testing.Registry()


@CASES.register('edge_strength/circular_shift', expect=testing.EXACT, bound=1e-5,
                fact='commutes with every circular shift')
def edge_strength_circular_shift(draw):
  rng = testing.draw_rng(draw)
  x = testing.random_input(draw, rng)
  return testing.Trial(layer, x, groups.CircularShift(*testing.draw_shift(draw, x)))


@CASES.register('edge_strength/rot90', expect=testing.EXACT, bound=1e-5,
                fact='commutes with quarter turns of a square grid')
def edge_strength_rot90(draw):
  rng = testing.draw_rng(draw)
  x = testing.random_input(draw, rng, square=True)
  return testing.Trial(layer, x, groups.Rot90(draw(st.integers(1, 3), label='k')))


@CASES.register('edge_strength/rotation', expect=testing.APPROXIMATE, bound=BOUND,
                fact='nearly commutes with any rotation of a smooth image (inscribed disk)')
def edge_strength_rotation(draw):
  rng = testing.draw_rng(draw)
  size = draw(st.sampled_from(SIDES), label='side')  # as measured above
  x = smooth_batch(rng, size, batch=2, channels=1)
  angle = testing.draw_off_grid_angle(draw)
  return testing.Trial(layer, x, groups.BilinearRotation(angle), mask=disk(size))


@CASES.register('horizontal_edges/rot90', expect=testing.BREAKS, bound=0.1,
                fact='an x-derivative alone is not rotation-equivariant')
def horizontal_edges_rot90(draw):
  rng = testing.draw_rng(draw)
  x = testing.random_input(draw, rng, sizes=st.integers(4, 12), batch=(2, 3),
                           square=True)
  return testing.Trial(horizontal_edges, x, groups.Rot90(1))


print(CASES, CASES.names())

# %%
trial_errors = {name: [] for name in CASES.names()}


@hypothesis.settings(max_examples=5 if FAST else 20, deadline=None, database=None,
                     derandomize=True, suppress_health_check=list(hypothesis.HealthCheck))
@hypothesis.given(data=st.data())
def test_edge_strength(data):
  for case in CASES:
    trial = case.draw(data.draw)
    testing.check(case, trial)  # raises AssertionError if the fact fails
    errors = np.asarray(groups.equivariance_error(
        trial.fn, trial.x, trial.transform, trial.output_transform, mask=trial.mask))
    trial_errors[case.name].append(
        float(errors.mean() if case.expect == testing.BREAKS else errors.max()))


test_edge_strength()
for case in CASES:
  values = np.array(trial_errors[case.name])
  relation = '>=' if case.expect == testing.BREAKS else '<='
  print(f'{case.name:30s} {case.expect:11s} bound {relation} {case.bound:<7g} '
        f'{values.size:3d} trials, errors {values.min():.2g} .. {values.max():.2g}')

# %% [markdown]
# ## 5. Local equivariance: the Lie derivative of your own model
#
# A finite check asks about one transformation (a 30° turn). The *Lie derivative*
# (Gruver et al. 2023) asks about an infinitesimal one: `L f(x) = J_f(x) G x − G′ f(x)`,
# `G` the generator of a continuous flow (`groups.lie`: translations, rotation, scaling,
# shears, applied by band-limited interpolation on the torus). No step size; zero for a
# locally equivariant function. A `groups.lie.Flow` goes wherever a transformation goes,
# so the three tiers of section 2 check it too: the edge strength is only approximately
# locally rotation-equivariant (its 3×3 stencil is not isotropic, and the ReLU and the
# square root leave the band limit), a 1×1 channel mix is exactly so.

# %%
from groups import lie
from experiments import lie_attribution
from experiments import plotting

rotation = lie.flow('rotate')
local = np.asarray(groups.equivariance_error(layer, smooth, rotation))
print('edge strength, relative Lie derivative along rotation:', np.round(local, 3))
mix = np.random.default_rng(3).standard_normal((smooth.shape[-1], 5)).astype(np.float32)
testing.assert_equivariant(lambda x: x @ mix, rotation, smooth, atol=1e-4, rtol=1e-4)
print('a 1x1 channel mix: exactly locally equivariant under every flow')

# %% [markdown]
# **A whole model, layer by layer.** `experiments.lie_attribution.attribute` splits the
# Lie derivative of any `flax.linen` model's softmax into one term per *leaf* module it
# calls (found by method interception: no edit to the model), plus the functional ops
# between modules (`'before <module>'`). The terms are exact and add up to the
# end-to-end value. Here: a model built from the edge layer, a conv, a ReLU written as a
# function, global average pooling and a dense head, at initialisation, along rotation.


# %%
class EdgeNet(nn.Module):
  """edges -> 3x3 conv -> relu (a function) -> global average -> dense."""

  @nn.compact
  def __call__(self, x, train=False):
    del train
    x = EdgeStrength(name='edges')(x)
    x = jax.nn.relu(nn.Conv(8, (3, 3), padding='CIRCULAR', name='conv')(x))
    return nn.Dense(10, name='dense')(x.mean(axis=(1, 2)))


net = EdgeNet()
net_variables = net.init(jax.random.key(1), smooth)
attribution = lie_attribution.attribute(net, net_variables, smooth, 'rotate')
print(f'end-to-end LEE {attribution.end_to_end():.3g}; terms add up to it within '
      f'{attribution.residual():.1g}')
for term in attribution.rows():
  print(f"  {term['term']:16s} {term['kind']:6s} LEE {term['lee']:.3g}  "
        f"share {100 * term['share']:.0f} %")
layer_rows = [dict(label='EdgeNet', **term) for term in attribution.rows()]
plotting.lie_layer_bars(layer_rows, f'{OUT}/custom_layer_lie.png',
                        title='EdgeNet: where local rotation equivariance breaks')
print('wrote', f'{OUT}/custom_layer_lie.png')

# %%
print(f'notebook done in {time.perf_counter() - START:.0f} s')
