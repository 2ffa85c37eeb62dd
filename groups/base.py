"""The transformation interface shared by translations, rotations and flips.

Layout convention (fixed once for the whole project): a transformation acts on
the two spatial axes 1 and 2 of a feature map. Ordinary maps are
``[B, H, W, C]``; group feature maps add one axis for the group element,
``[B, H, W, G, C]``; transformations in this package act on both. Row index
``h`` grows downwards and column index ``w`` to the right, as ``imshow`` shows
an image.

Every transformation knows two things:

* how it acts on an input (``T(x)``), and
* the action it induces on the output of a layer of total stride ``s``
  (``T.output_action(stride=s)``): a shift by ``t`` becomes a shift by
  ``t / s``; a rotation stays a rotation. Equivariance of ``f`` means
  ``f(T(x)) == T.output_action(stride=s)(f(x))``; invariance means the
  output action is :class:`Identity`.

The pixel permutations (circular and zero-fill shifts, quarter turns, flips,
:class:`Identity`, and the regular and field actions built on them) take a
NumPy array to a NumPy array, computed by NumPy with nothing compiled, and a
JAX array (or a traced value) to a JAX array (:func:`array_module`); Fourier
shifts and interpolated rotations always return JAX arrays.
"""

from __future__ import annotations

import abc
import dataclasses
import types

import jax
import numpy as np

from groups import validate

SPATIAL_AXES = (1, 2)
FEATURE_RANKS = (4, 5)  # [B, H, W, C] or [B, H, W, G, C]
FEATURE_LAYOUT = '[B, H, W, C] or [B, H, W, G, C]'


def check_features(x: jax.typing.ArrayLike, name: str = 'x', *,
                   floating: bool = False) -> None:
  validate.check_array(x, name, rank=FEATURE_RANKS, layout=FEATURE_LAYOUT,
                        floating=floating)


def check_signal(x: jax.typing.ArrayLike, name: str = 'x') -> None:
  """:func:`check_features` for resampled maps: floating, or complex (the
  harmonic maps of :mod:`groups.harmonic`)."""
  check_features(x, name, floating=not np.iscomplexobj(x))


def array_module(x) -> types.ModuleType:
  """``numpy`` for a NumPy array, else ``jax.numpy``: the module an exact
  action computes ``x``'s image with (NumPy in, NumPy out)."""
  return np if isinstance(x, np.ndarray) else jax.numpy


class Transform(abc.ABC):
  """A transformation of feature maps ``[B, H, W, ...]`` (acts on axes 1, 2)."""

  #: True when the action is exact on the pixel grid (integer shifts, 90
  #: degree rotations, flips); False for interpolated actions (sub-pixel
  #: shifts, arbitrary angles), whose tests belong to the approximate tier.
  exact: bool = True

  @abc.abstractmethod
  def __call__(self, x: jax.typing.ArrayLike) -> jax.Array:
    """Applies the transformation to ``x`` of layout ``[B, H, W, ...]``
    (exact actions: NumPy for a NumPy ``x``, see the module doc)."""

  @abc.abstractmethod
  def inverse(self) -> 'Transform':
    """Returns the inverse transformation."""

  def output_action(self, *, stride: int = 1) -> 'Transform':
    """The action induced on the output of a layer of total stride ``stride``."""
    validate.integer(stride, 'stride', minimum=1)
    return self

  def then(self, other: 'Transform') -> 'Compose':
    """Returns the transformation 'apply self, then other'."""
    return Compose((self, other))


@dataclasses.dataclass(frozen=True)
class Identity(Transform):
  """The identity; the output action that expresses invariance.

  Accepts any array with a batch axis (e.g. pooled outputs ``[B, C]``).
  """

  def __call__(self, x):
    x = array_module(x).asarray(x)
    if x.ndim < 1:
      raise ValueError('x must have a batch axis [B, ...]; got a scalar.')
    return x

  def inverse(self):
    return self


@dataclasses.dataclass(frozen=True)
class Compose(Transform):
  """Applies ``transforms`` left to right."""
  transforms: tuple[Transform, ...]

  def __post_init__(self):
    if (not isinstance(self.transforms, (tuple, list)) or
        not self.transforms or
        not all(isinstance(t, Transform) for t in self.transforms)):
      raise ValueError('transforms must be a non-empty tuple of Transform; '
                       f'got {self.transforms!r}.')
    object.__setattr__(self, 'transforms', tuple(self.transforms))

  @property
  def exact(self) -> bool:  # type: ignore[override]
    return all(t.exact for t in self.transforms)

  def __call__(self, x):
    for t in self.transforms:
      x = t(x)
    return x

  def inverse(self):
    return Compose(tuple(t.inverse() for t in reversed(self.transforms)))

  def output_action(self, *, stride=1):
    return Compose(tuple(t.output_action(stride=stride)
                         for t in self.transforms))
