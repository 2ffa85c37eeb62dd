"""Equivariance tests for any layer: assertions, a registry of facts, inputs.

A fact about a function ``f`` says how it treats a transformation ``T`` of its
input: ``f(T x) = T' f(x)``, where ``T'`` is the induced action on outputs
(``T`` itself by default; ``groups.Identity()`` for invariance; a shift by
``t / stride`` after a strided layer; a rotation that also permutes the group
axis of a group map). Facts come in three tiers:

* :data:`EXACT`: ``f(T x) == T' f(x)`` elementwise within ``atol = rtol =
  bound`` (float32: ~1e-5), on the output positions in ``mask`` if given
  (:func:`assert_equivariant`).
* :data:`APPROXIMATE`: the largest per-example relative error
  ``||f(T x) - T' f(x)|| / ||T' f(x)||`` is at most ``bound``
  (:func:`assert_approximately_equivariant`).
* :data:`BREAKS`: the batch-mean relative error is at least ``bound``: the
  property demonstrably fails (:func:`assert_not_equivariant`). A negative
  control like this keeps an exact test from passing vacuously.

The assertions work on their own, on any function of ``[B, H, W, ...]``
arrays. For property tests, a :class:`Registry` holds named :class:`Case`
objects; a case's ``draw`` function takes hypothesis' ``data.draw`` and
returns a :class:`Trial` (the function, an input and the transformations),
and :func:`check` runs the assertion of the case's tier on it. The input
helpers (:func:`draw_rng`, :func:`random_input`, :func:`draw_shift`, ...)
draw sizes from hypothesis and values from a NumPy generator seeded by
hypothesis, so a failure replays.

This module imports hypothesis only when a drawing helper runs, so
``import groups`` stays cheap; import it as ``from groups import testing``.

Example, a user's layer (a horizontal 3-tap circular blur and a ReLU), an
exact check and a must-break check::

    import hypothesis
    from hypothesis import strategies as st
    import jax
    import jax.numpy as jnp
    import numpy as np

    import groups
    from groups import testing

    def blur_relu(x):  # [B, H, W, C] -> [B, H, W, C]
      return jax.nn.relu(x + jnp.roll(x, 1, axis=2) + jnp.roll(x, -1, axis=2))

    x = np.random.default_rng(0).standard_normal((2, 8, 8, 3), np.float32)
    testing.assert_equivariant(blur_relu, groups.CircularShift(2, -3), x)
    testing.assert_not_equivariant(blur_relu, groups.Rot90(1), x,
                                   min_error=0.1)  # horizontal only

    # The same facts as registry cases, drawn by hypothesis:
    CASES = testing.Registry()

    @CASES.register('blur_relu/circular_shift', expect=testing.EXACT,
                    bound=1e-5, fact='commutes with every circular shift')
    def blur_relu_circular_shift(draw):
      rng = testing.draw_rng(draw)
      x = testing.random_input(draw, rng)
      shift = groups.CircularShift(*testing.draw_shift(draw, x))
      return testing.Trial(blur_relu, x, shift)

    @CASES.register('blur_relu/rot90', expect=testing.BREAKS, bound=1e-2,
                    fact='a horizontal blur is not rotation-equivariant')
    def blur_relu_rot90(draw):
      rng = testing.draw_rng(draw)
      x = testing.random_input(draw, rng, sizes=st.integers(4, 8),
                               batch=(2, 3), square=True)
      return testing.Trial(blur_relu, x, groups.Rot90(1))

    @hypothesis.settings(deadline=None)  # the first calls compile
    @hypothesis.given(data=st.data())
    def test_blur_relu(data):
      for case in CASES:
        testing.check(case, case.draw(data.draw))

Layout: inputs ``x`` are ``[B, H, W, C]`` images or ``[B, H, W, G, C]`` group
maps (see :mod:`groups.base`); masks are boolean ``[H', W']`` over the
output's spatial axes 1, 2.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import jax
import numpy as np

from groups import base
from groups import error
from groups import finite
from groups import lie
from groups import structural_jit
from groups import synthetic
from groups import validate

if typing.TYPE_CHECKING:
  from hypothesis import strategies as st

EXACT = 'exact'
APPROXIMATE = 'approximate'
BREAKS = 'breaks'
EXPECTATIONS = (EXACT, APPROXIMATE, BREAKS)

# hypothesis' ``data.draw``: ``draw(strategy, label=None) -> value``.
Draw = Callable[..., Any]
Function = Callable[[jax.Array], jax.Array]


def _strategies():
  """``hypothesis.strategies``, imported on first use (keeps groups cheap)."""
  from hypothesis import strategies  # pylint: disable=g-import-not-at-top
  return strategies


# Assertions.


def _masked(array: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
  array = np.asarray(array)
  if mask is None:
    return array
  mask = np.asarray(mask)
  if mask.dtype != bool or not error._mask_fits(mask, array.shape):  # pylint: disable=protected-access
    raise ValueError(f'mask must be a boolean [H, W] = {array.shape[1:3]} '
                     f'array over the output grid (or [H, W, S] over a scale '
                     f'or group map); got {mask.dtype} {mask.shape}.')
  return array[:, mask]


def assert_equivariant(fn: Function, transform: base.Transform,
                       x: jax.typing.ArrayLike, *,
                       output_transform: base.Transform | None = None,
                       atol: float = 1e-5, rtol: float = 1e-5,
                       mask: np.ndarray | None = None) -> None:
  """Asserts ``fn(T x) == T' fn(x)`` elementwise (on ``mask`` if given).

  Args:
    fn: function of ``x``.
    transform: ``T``, acting on ``x`` ``[B, H, W, ...]``.
    x: input ``[B, H, W, C]`` or ``[B, H, W, G, C]``.
    output_transform: ``T'``; defaults to ``T``; ``groups.Identity()`` for
      invariance.
    atol: absolute tolerance (>= 0).
    rtol: relative tolerance (>= 0).
    mask: optional boolean ``[H', W']`` of output positions compared.

  Raises:
    AssertionError: if an element differs by more than ``atol + rtol *
      |T' fn(x)|``.
  """
  validate.number(atol, 'atol', minimum=0.0)
  validate.number(rtol, 'rtol', minimum=0.0)
  actual, expected = error.transformed_pair(fn, x, transform,
                                            output_transform)
  np.testing.assert_allclose(
      _masked(actual, mask), _masked(expected, mask), atol=atol, rtol=rtol,
      err_msg=f'f(T x) != T\' f(x) for T={transform}, T\'='
      f'{output_transform or transform}')


def assert_approximately_equivariant(
    fn: Function, transform: base.Transform, x: jax.typing.ArrayLike, *,
    bound: float, output_transform: base.Transform | None = None,
    mask: np.ndarray | None = None) -> np.ndarray:
  """Asserts every example's relative equivariance error is <= ``bound``.

  Args:
    fn, transform, x, output_transform, mask: as in
      :func:`assert_equivariant`.
    bound: the documented (measured) largest relative error, >= 0.

  Returns:
    The per-example relative errors ``[B]``.

  Raises:
    AssertionError: if an example's error exceeds ``bound`` (or is NaN).
  """
  bound = validate.number(bound, 'bound', minimum=0.0)
  errors = np.asarray(error.equivariance_error(fn, x, transform,
                                               output_transform, mask=mask))
  assert errors.max() <= bound, (
      f'relative error {errors.max():.3g} exceeds the documented bound '
      f'{bound:.3g} for T={transform}')
  return errors


def assert_not_equivariant(fn: Function, transform: base.Transform,
                           x: jax.typing.ArrayLike, *, min_error: float,
                           output_transform: base.Transform | None = None,
                           mask: np.ndarray | None = None) -> np.ndarray:
  """Negative control: asserts the batch-mean relative error >= ``min_error``.

  Args:
    fn, transform, x, output_transform, mask: as in
      :func:`assert_equivariant`.
    min_error: the smallest batch-mean relative error that counts as broken,
      > 0.

  Returns:
    The per-example relative errors ``[B]``.

  Raises:
    AssertionError: if the batch-mean error is below ``min_error``.
  """
  min_error = validate.number(min_error, 'min_error', minimum=0.0,
                              exclusive_minimum=True)
  errors = np.asarray(error.equivariance_error(fn, x, transform,
                                               output_transform, mask=mask))
  assert errors.mean() >= min_error, (
      f'expected the property to break (mean relative error >= '
      f'{min_error:.3g}) but got {errors.mean():.3g} for T={transform}')
  return errors


# Cases and the registry.


@dataclasses.dataclass(frozen=True)
class Trial:
  """One drawn instance of a case: ``fn``, its input and the transformations.

  Attributes:
    fn: the function under test.
    x: its input, ``[B, H, W, C]`` or ``[B, H, W, G, C]``.
    transform: ``T``, acting on ``x``; or a :class:`groups.lie.Flow`, whose
      infinitesimal version is tested (the pair ``J_f(x) G x`` vs
      ``G' f(x)``, see :func:`groups.transformed_pair`).
    output_transform: ``T'``, acting on ``fn(x)``; None means ``T``.
    mask: optional boolean ``[H', W']`` of the output positions compared
      (``[H', W', S]`` over a scale or group map's first three axes).
  """
  fn: Function
  x: np.ndarray
  transform: base.Transform | lie.Flow
  output_transform: base.Transform | lie.Flow | None = None
  mask: np.ndarray | None = None

  def __post_init__(self):
    validate.check_callable(self.fn, 'fn', what='of [B, H, W, ...] arrays')
    for name in ('transform', 'output_transform'):
      value = getattr(self, name)
      if not (isinstance(value, (base.Transform, lie.Flow)) or
              (value is None and name == 'output_transform')):
        raise ValueError(f'{name} must be a groups Transform or a groups.lie.'
                         f'Flow; got {value!r}.')


def _check_case_fields(name: str, expect: str, bound: float,
                       fact: str) -> None:
  if not isinstance(name, str) or not name:
    raise ValueError(f'name must be a non-empty str; got {name!r}.')
  validate.check_choice(expect, 'expect', EXPECTATIONS)
  validate.number(bound, 'bound', minimum=0.0, exclusive_minimum=True)
  if not isinstance(fact, str) or not fact:
    raise ValueError(f'fact must be a non-empty str (the property, in words); '
                     f'got {fact!r}.')


@dataclasses.dataclass(frozen=True)
class Case:
  """A named fact: how to draw a :class:`Trial`, and what must hold on it.

  Attributes:
    name: unique name, ``'<layer>/<transformation>'`` by convention.
    draw: ``draw(data_draw) -> Trial``, ``data_draw`` being hypothesis'
      ``data.draw``.
    expect: :data:`EXACT`, :data:`APPROXIMATE` or :data:`BREAKS`.
    bound: ``atol = rtol`` (exact), the largest relative error (approximate)
      or the smallest batch-mean relative error (breaks); > 0.
    fact: the property, in words.
  """
  name: str
  draw: Callable[[Draw], Trial]
  expect: str
  bound: float
  fact: str

  def __post_init__(self):
    _check_case_fields(self.name, self.expect, self.bound, self.fact)
    validate.check_callable(self.draw, 'draw', what='draw(data.draw) -> Trial')


class Registry:
  """An ordered collection of :class:`Case` objects with unique names.

  Cases are added with the :meth:`register` decorator (or :meth:`add`) and
  iterate in the order they were added. ``Registry(cases)`` concatenates
  cases from other registries, rejecting repeated names.
  """

  def __init__(self, cases: Iterable[Case] = ()):
    self._cases: dict[str, Case] = {}
    for case in cases:
      self.add(case)

  def _check_new_name(self, name: str) -> None:
    if name in self._cases:
      raise ValueError(f'a registry case named {name!r} already exists.')

  def add(self, case: Case) -> Case:
    """Appends ``case``; raises ValueError if its name is taken."""
    if not isinstance(case, Case):
      raise ValueError(f'case must be a testing.Case; got {case!r}.')
    self._check_new_name(case.name)
    self._cases[case.name] = case
    return case

  def register(self, name: str, *, expect: str, bound: float,
               fact: str) -> Callable[[Callable[[Draw], Trial]],
                                      Callable[[Draw], Trial]]:
    """Decorator adding a ``draw -> Trial`` function as the case ``name``.

    Args:
      name: unique case name.
      expect: :data:`EXACT`, :data:`APPROXIMATE` or :data:`BREAKS`.
      bound: the tier's tolerance or threshold (see :class:`Case`), > 0.
      fact: the property, in words.

    Returns:
      A decorator that registers the function and returns it unchanged.

    Raises:
      ValueError: for an unknown ``expect``, a ``bound`` <= 0, an empty
        ``name`` or ``fact``, or a ``name`` already registered (at once, not
        when the decorator is applied).
    """
    _check_case_fields(name, expect, bound, fact)
    self._check_new_name(name)

    def add(draw_fn: Callable[[Draw], Trial]) -> Callable[[Draw], Trial]:
      self.add(Case(name, draw_fn, expect, bound, fact))
      return draw_fn

    return add

  def __iter__(self) -> Iterator[Case]:
    return iter(list(self._cases.values()))

  def __len__(self) -> int:
    return len(self._cases)

  def __contains__(self, name: object) -> bool:
    return name in self._cases

  def __getitem__(self, name: str) -> Case:
    if name not in self._cases:
      raise KeyError(f'no registry case named {name!r}.')
    return self._cases[name]

  def names(self) -> list[str]:
    return list(self._cases)

  def __repr__(self) -> str:
    return f'Registry({len(self)} cases)'


# The registry's jitted variant (tests/registry_test.py); see its module.
jit_by_structure = structural_jit.jit_by_structure


def check(case: Case, trial: Trial, *, fn: Function | None = None) -> None:
  """Runs the assertion of ``case``'s tier on ``trial``.

  Args:
    case: the fact (tier and bound).
    trial: a draw of it.
    fn: replaces ``trial.fn`` (e.g. its jitted version).

  Raises:
    AssertionError: if the fact does not hold on ``trial``.
  """
  fn = trial.fn if fn is None else fn
  common = dict(output_transform=trial.output_transform, mask=trial.mask)
  if case.expect == EXACT:
    assert_equivariant(fn, trial.transform, trial.x, atol=case.bound,
                       rtol=case.bound, **common)
  elif case.expect == APPROXIMATE:
    assert_approximately_equivariant(fn, trial.transform, trial.x,
                                     bound=case.bound, **common)
  else:
    assert_not_equivariant(fn, trial.transform, trial.x,
                           min_error=case.bound, **common)


# Drawing inputs, parameters and transformations.


def draw_rng(draw: Draw) -> np.random.Generator:
  """A NumPy generator seeded by hypothesis (so failures replay)."""
  st = _strategies()
  return np.random.default_rng(draw(st.integers(0, 2**32 - 1), label='seed'))


def random_kernel(rng: np.random.Generator, kh: int, kw: int, c_in: int,
                  c_out: int) -> np.ndarray:
  """``[kh, kw, C_in, C_out]`` with variance 1 / fan_in (outputs stay O(1))."""
  kernel = rng.standard_normal((kh, kw, c_in, c_out))
  return (kernel / np.sqrt(kh * kw * c_in)).astype(np.float32)


def random_group_kernel(rng: np.random.Generator, k: int,
                        group: finite.FiniteGroup, c_in: int,
                        c_out: int) -> np.ndarray:
  """``[k, k, G, C_in, C_out]`` with variance 1 / fan_in."""
  kernel = rng.standard_normal((k, k, group.order, c_in, c_out))
  return (kernel / np.sqrt(k * k * group.order * c_in)).astype(np.float32)


def random_input(draw: Draw, rng: np.random.Generator, *,
                 sizes: st.SearchStrategy[int] | None = None,
                 multiple_of: int = 1, batch: tuple[int, int] = (1, 3),
                 channels: tuple[int, int] = (1, 3),
                 square: bool = False) -> np.ndarray:
  """Draws a white-noise ``[B, H, W, C]`` float32 input.

  Args:
    draw: hypothesis' ``data.draw``.
    rng: generator for the values.
    sizes: strategy for ``H / multiple_of`` and ``W / multiple_of``;
      defaults to integers in 3..12.
    multiple_of: ``H`` and ``W`` are multiples of it (e.g. a stride).
    batch: inclusive range of ``B``.
    channels: inclusive range of ``C``.
    square: draw one size for both ``H`` and ``W``.

  Returns:
    float32 ``[B, H, W, C]`` standard normal noise.
  """
  st = _strategies()
  sizes = st.integers(3, 12) if sizes is None else sizes
  h = draw(sizes, label='H') * multiple_of
  w = h if square else draw(sizes, label='W') * multiple_of
  b = draw(st.integers(*batch), label='B')
  c = draw(st.integers(*channels), label='C')
  return rng.standard_normal((b, h, w, c)).astype(np.float32)


def odd_square_input(draw: Draw, rng: np.random.Generator, *,
                     sizes: st.SearchStrategy[int] | None = None,
                     batch: tuple[int, int] = (2, 2),
                     channels: tuple[int, int] = (1, 2),
                     **kwargs) -> np.ndarray:
  """A square ``[B, H, H, C]`` input with odd ``H = 2 n + 1``.

  Rotations of an odd square grid keep its centre pixel, so centred layers
  (odd kernels) commute with them exactly. Few distinct shapes by default
  (``n`` in 1..3: ``H`` in 3, 5, 7; ``B = 2``; ``C`` in 1, 2), so that the
  eager ops compiled for one draw are reused by the next: it keeps the cases
  fast.

  Args:
    draw: hypothesis' ``data.draw``.
    rng: generator for the values.
    sizes: strategy for ``n``; defaults to integers in 1..3.
    batch, channels, **kwargs: as in :func:`random_input`.

  Returns:
    float32 ``[B, H, H, C]`` standard normal noise.
  """
  st = _strategies()
  sizes = st.integers(1, 3) if sizes is None else sizes
  return random_input(draw, rng, sizes=sizes.map(lambda n: 2 * n + 1),
                      batch=batch, channels=channels, square=True, **kwargs)


def smooth_input(draw: Draw, rng: np.random.Generator, *, size: int,
                 cutoff: float, window: float = 0.7) -> np.ndarray:
  """A smooth ``[2, size, size, 1]`` input vanishing near the border.

  White noise (:func:`random_input`) low-passed to ``cutoff`` cycles/pixel
  (:func:`groups.synthetic.low_pass`), then windowed to ``window`` of the
  inscribed radius (:func:`groups.synthetic.radial_window`): an
  interpolated rotation or rescale of it loses no content and receptive
  fields stay on the grid.
  """
  st = _strategies()
  x = random_input(draw, rng, sizes=st.just(size), batch=(2, 2),
                   channels=(1, 1), square=True)
  return synthetic.radial_window(synthetic.low_pass(x, cutoff=cutoff),
                                 fraction=window)


def random_group_map(rng: np.random.Generator, x: np.ndarray,
                     group: finite.FiniteGroup) -> np.ndarray:
  """White noise ``[B, H, W, G, C]`` with ``x``'s ``B, H, W, C``."""
  b, h, w, c = x.shape
  return rng.standard_normal((b, h, w, group.order, c)).astype(np.float32)


def draw_shift(draw: Draw, x: np.ndarray, *, multiple_of: int = 1,
               nonzero: bool = False) -> tuple[int, int]:
  """Draws an integer shift ``(dy, dx)`` within one period of ``x``.

  Args:
    draw: hypothesis' ``data.draw``.
    x: the input ``[B, H, W, ...]``; its ``H, W`` bound the shift to
      ``-H..H`` and ``-W..W``.
    multiple_of: both components are multiples of it (e.g. a stride).
    nonzero: replace a shift that is the identity on the grid by
      ``(dy, multiple_of)``.

  Returns:
    ``(dy, dx)`` ints, for ``groups.CircularShift(dy, dx)``.
  """
  st = _strategies()
  h, w = x.shape[1] // multiple_of, x.shape[2] // multiple_of
  dy = draw(st.integers(-h, h), label='dy') * multiple_of
  dx = draw(st.integers(-w, w), label='dx') * multiple_of
  if nonzero and dy % x.shape[1] == 0 and dx % x.shape[2] == 0:
    dx = multiple_of
  return dy, dx


def draw_element(draw: Draw, group: finite.FiniteGroup, *,
                 interpolated_only: bool = False) -> int:
  """Draws an element of ``group``.

  Args:
    draw: hypothesis' ``data.draw``.
    group: the finite group.
    interpolated_only: draw only elements whose grid action is not exact
      (e.g. the 45-degree rotations of C8).

  Returns:
    The element, an int in ``0 .. |G| - 1``.
  """
  st = _strategies()
  elements = [g for g in group.elements()
              if not (interpolated_only and group.grid_action(g).exact)]
  return draw(st.sampled_from(elements), label='g')


def draw_off_grid_angle(draw: Draw) -> float:
  """An angle ``90 q + u`` degrees, ``u`` in [20, 70]: off the grid symmetries.

  Near multiples of 90 degrees every layer is nearly rotation-equivariant (a
  negative control too), so those angles say little about interpolated
  rotations.
  """
  st = _strategies()
  quarter = draw(st.integers(0, 3), label='quarter')
  return 90.0 * quarter + draw(st.floats(20, 70), label='degrees')
