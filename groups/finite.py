"""Finite groups of grid symmetries and their action on group feature maps.

A :class:`FiniteGroup` ``G`` (rotations, flips) has elements ``0 .. |G| - 1``
(element 0 is the identity), a product, an inverse, and an action on the
pixel grid (:meth:`FiniteGroup.grid_action`, a :class:`groups.Transform`).

A lifting or group convolution maps images to *group feature maps*
``[B, H, W, G, C]`` whose axis 3 is indexed by the group elements. On them
``g`` acts by the **regular representation** (:class:`RegularAction`): it
transforms the spatial axes and permutes the group axis,

    (g . y)[p, h] = y[g^-1 p, g^-1 h],

i.e. ``grid_action(g)`` on axes 1, 2, then position ``h`` of axis 3 takes
the old entry ``g^-1 h``. A layer ``f`` from images to group maps is
equivariant when ``f(grid_action(g)(x)) == regular_action(g)(f(x))``.

Adding a group is one class in one file of this package (see
:mod:`groups.dihedral` for the worked example): subclass
:class:`FiniteGroup`, set ``symbol`` (and ``aliases``), implement ``order``,
``compose``, ``inverse`` and ``grid_action``. Defining the class registers
it (``finite_group('D8')``), and ``groups/__init__.py`` imports every module
of the package, so nothing else needs editing; ``tests/finite_groups_test.py``
checks the axioms of every registered family.
"""

from __future__ import annotations

import abc
import dataclasses
import re
from typing import ClassVar

import jax
import numpy as np

from groups import validate
from groups import base

# Filled by FiniteGroup.__init_subclass__: symbol -> family and
# alias -> (family, n).
_FAMILIES: dict[str, type['FiniteGroup']] = {}
_ALIASES: dict[str, tuple[type['FiniteGroup'], int]] = {}


class FiniteGroup(abc.ABC):
  """A finite group acting on the pixel grid; elements are ``0 .. order - 1``.

  Subclasses are families with one int parameter ``n`` (``Cyclic(n)``,
  ``Dihedral(n)``), constructed as ``cls(n)``.
  """

  n: int

  #: Family name: ``finite_group(f'{symbol}{n}')`` builds ``cls(n)``.
  symbol: ClassVar[str]
  #: Conventional names of members, e.g. ``{'p4': 4}``.
  aliases: ClassVar[dict[str, int]] = {}
  #: Element 0 is the identity in every group.
  identity: ClassVar[int] = 0

  def __init_subclass__(cls, **kwargs):
    super().__init_subclass__(**kwargs)
    symbol = cls.__dict__.get('symbol')
    if symbol is None:  # an intermediate base class, not a family
      return
    for name in (symbol, *cls.aliases):
      other = _FAMILIES.get(name) or _ALIASES.get(name, (None,))[0]
      if other is not None and other.__qualname__ != cls.__qualname__:
        raise ValueError(f'the finite group name {name!r} of {cls.__name__} '
                         f'is already taken by {other.__name__}.')
    _FAMILIES[symbol] = cls
    _ALIASES.update({alias: (cls, n) for alias, n in cls.aliases.items()})

  @property
  @abc.abstractmethod
  def order(self) -> int:
    """The number of elements ``|G|``."""

  @abc.abstractmethod
  def compose(self, a: int, b: int) -> int:
    """The product ``a b``: the element that acts as ``b`` first, then ``a``."""

  @abc.abstractmethod
  def inverse(self, a: int) -> int:
    """The element ``a^-1``."""

  @abc.abstractmethod
  def grid_action(self, g: int) -> base.Transform:
    """How ``g`` transforms images ``[B, H, W, C]`` (spatial axes only)."""

  def element_name(self, g: int) -> str:
    """A readable name of element ``g`` (used in reprs and test ids)."""
    return str(self.check_element(g))

  def __str__(self) -> str:
    return f'{self.symbol}{self.n}'

  def __len__(self) -> int:
    return self.order

  def elements(self) -> range:
    """The elements ``0 .. order - 1``."""
    return range(self.order)

  @property
  def exact(self) -> bool:
    """True when every element acts exactly on the pixel grid."""
    return all(self.grid_action(g).exact for g in self.elements())

  def check_element(self, g, name: str = 'g') -> int:
    """Returns ``g`` as an int, raising a ValueError if it is no element."""
    if (not isinstance(g, (int, np.integer)) or isinstance(g, bool) or
        not 0 <= g < self.order):
      raise ValueError(f'{name} must be an element of {self}, an int in '
                       f'0..{self.order - 1}; got {g!r}.')
    return int(g)

  def multiplication_table(self) -> np.ndarray:
    """``[G, G]`` ints: entry ``[a, b]`` is ``compose(a, b)``."""
    return np.array([[self.compose(a, b) for b in self.elements()]
                     for a in self.elements()])

  def permutation(self, g: int) -> np.ndarray:
    """``[G]`` ints: the regular action of ``g`` moves entry ``g^-1 h`` to ``h``.

    Returns:
      ``perm`` with ``perm[h] = compose(inverse(g), h)``.
    """
    g_inv = self.inverse(self.check_element(g))
    return np.array([self.compose(g_inv, h) for h in self.elements()])

  def regular_action(self, g: int) -> 'RegularAction':
    """How ``g`` transforms group maps ``[B, H, W, G, C]`` (see module doc)."""
    return RegularAction(self, self.check_element(g))


@dataclasses.dataclass(frozen=True)
class RegularAction(base.Transform):
  """The regular representation of ``element`` of ``group`` on group maps.

  On ``[B, H, W, G, C]`` it applies ``group.grid_action(element)`` to axes
  1, 2 and permutes axis 3 by ``group.permutation(element)``; on
  ``[B, H, W, C]`` (e.g. after group pooling) only the spatial part acts.
  Its induced action on a strided layer's output is itself (a rotation
  stays a rotation).
  """
  group: FiniteGroup
  element: int

  def __post_init__(self):
    check_group(self.group)
    self.group.check_element(self.element, 'element')

  @property
  def exact(self) -> bool:  # type: ignore[override]
    return self.group.grid_action(self.element).exact

  def __call__(self, x):
    base.check_features(x)
    if x.ndim == 5:
      _check_group_axis(x, self.group, 'x')
    x = self.group.grid_action(self.element)(base.array_module(x).asarray(x))
    if x.ndim == 5:
      x = base.array_module(x).take(x, self.group.permutation(self.element),
                                    axis=3)
    return x

  def inverse(self):
    return RegularAction(self.group, self.group.inverse(self.element))

  def __repr__(self):
    return (f'RegularAction({self.group}, '
            f'{self.group.element_name(self.element)})')


def check_group(group, name: str = 'group') -> None:
  """Raises a ValueError unless ``group`` is a :class:`FiniteGroup`."""
  if not isinstance(group, FiniteGroup):
    raise ValueError(
        f'{name} must be a groups.FiniteGroup such as groups.Cyclic(4) (p4) or '
        f"groups.Dihedral(4) (p4m), or groups.finite_group('p4'); got "
        f'{group!r}.')


def finite_group(name: str) -> FiniteGroup:
  """Builds a registered group from its name: 'C8', 'D4', 'p4', 'p4m', ...

  Args:
    name: a family symbol followed by ``n >= 1`` ('C4', 'D8'), or an alias.

  Returns:
    The group, e.g. ``Cyclic(4)`` for 'C4' and for 'p4'.
  """
  if isinstance(name, str):
    if name in _ALIASES:
      family, n = _ALIASES[name]
      return family(n)
    match = re.fullmatch(r'([A-Za-z_]+?)(\d+)', name)
    if match and match.group(1) in _FAMILIES and int(match.group(2)) >= 1:
      return _FAMILIES[match.group(1)](int(match.group(2)))
  raise ValueError(
      f'name must be a finite group name: one of {sorted(_FAMILIES)} followed '
      f'by n >= 1, or one of {sorted(_ALIASES)}; got {name!r}.')


def families() -> dict[str, type[FiniteGroup]]:
  """The registered families by symbol: ``{'C': Cyclic, 'D': Dihedral}``."""
  return dict(_FAMILIES)


def check_group_map(y: jax.typing.ArrayLike, group: FiniteGroup,
                    name: str = 'y') -> None:
  """Checks that ``y`` is a float ``[B, H, W, G, C]`` with ``G = |group|``."""
  check_group(group)
  validate.check_array(y, name, rank=5, layout='[B, H, W, G, C]')
  _check_group_axis(y, group, name)


def _check_group_axis(y, group: FiniteGroup, name: str) -> None:
  if y.shape[3] != group.order:
    raise ValueError(
        f'{name} must have G = |{group}| = {group.order} on axis 3 (layout '
        f'[B, H, W, G, C]); got shape {tuple(y.shape)}.')
