"""Field types: feature maps whose channels are fields of representations.

Layout (fixed here for steerable layers): a *steerable feature map* is an
ordinary ``[B, H, W, C]`` array whose channel axis is a concatenation of
fields, ``C = sum of the fields' sizes``, in the order of
``FieldType.representations``. Field ``i`` occupies channels
``offsets[i] .. offsets[i] + size_i - 1``; at every pixel those channels are
one vector of its representation ``rho_i``. A scalar (trivial) field is one
channel, a C_N regular field ``N`` channels (one per rotation), a vector field
(``Cyclic(8).irrep(1)``, ``SO2(F).irrep(1)``) two. This is e2cnn's
``FieldType`` / ``GeometricTensor`` with the channels last.

A group element ``g`` acts on a steerable map by moving the pixels
(``group.grid_action(g)``: exact for quarter turns and the mirror, bilinear
otherwise) and multiplying every pixel's field vectors by ``rho_i(g)``:

    (g . x)[p] = rho(g) x[g^-1 p],   rho = rho_1 + rho_2 + ... (block diagonal)

(:class:`FieldTransform`, a :class:`groups.Transform`, so the equivariance
assertions of ``groups.testing`` take it as is).

Relation to group maps ``[B, H, W, G, C]`` (``groups.RegularAction``): a map
of ``C`` regular fields of a finite group has channel ``c * |G| + h`` equal to
entry ``[h, c]`` of the group map, i.e. :func:`group_map_to_fields` is
``y.transpose(0, 1, 2, 4, 3).reshape(B, H, W, C * |G|)``, and
``FieldTransform(C regular fields, g)`` after it equals
``group.regular_action(g)`` before it.
"""

from __future__ import annotations

from collections.abc import Sequence
import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from groups import base
from groups import representations as reps_lib
from groups import validate

LAYOUT = '[B, H, W, C] with C the sum of the field sizes'


class FieldType:
  """A list of fields, each with a representation of one group.

  Attributes:
    group: the group (``groups.Cyclic(8)``, ``groups.SO2(4)``, ...).
    representations: one :class:`groups.Representation` per field.
    size: the number of channels ``C``.
    offsets: ``[n_fields]`` first channel of each field.
  """

  def __init__(self, group: reps_lib.RepresentationGroup,
               representations: Sequence[reps_lib.Representation]):
    if not isinstance(group, reps_lib.RepresentationGroup):
      raise ValueError(
          'group must be a group with representations: groups.Cyclic(N), '
          'groups.Dihedral(N), groups.SO2(max_frequency) or '
          f'groups.O2(max_frequency); got {group!r}.')
    if (isinstance(representations, reps_lib.Representation) or
        not isinstance(representations, Sequence) or not representations):
      raise ValueError(
          'representations must be a non-empty list of Representation, e.g. '
          f'8 * [group.regular_representation]; got {representations!r}.')
    for i, rep in enumerate(representations):
      reps_lib.check_representation(rep, f'representations[{i}]')
      if rep.group != group:
        raise ValueError(
            f'representations[{i}] must be a representation of {group}; got '
            f'one of {rep.group}.')
    self.group = group
    self.representations = tuple(representations)
    sizes = [rep.size for rep in self.representations]
    self.offsets = tuple(int(o) for o in np.cumsum([0] + sizes[:-1]))
    self.size = int(sum(sizes))

  def __len__(self):
    return len(self.representations)

  def __eq__(self, other):
    return (isinstance(other, FieldType) and self.group == other.group and
            self.representations == other.representations)

  def __hash__(self):
    return hash((self.group, self.representations))

  def __repr__(self):
    counts: dict[str, int] = {}
    for rep in self.representations:
      counts[rep.name] = counts.get(rep.name, 0) + 1
    fields = ', '.join(f'{n}x{name}' for name, n in counts.items())
    return f'FieldType({self.group}: {fields})'

  def __add__(self, other: 'FieldType') -> 'FieldType':
    check_field_type(other, 'other')
    if other.group != self.group:
      raise ValueError(f'other must be a field type of {self.group}; got one '
                       f'of {other.group}.')
    return FieldType(self.group, self.representations + other.representations)

  def matrix(self, g) -> np.ndarray:
    """``rho(g)`` of the whole type, block diagonal ``[C, C]`` float64."""
    out = np.zeros((self.size, self.size))
    for offset, rep in zip(self.offsets, self.representations):
      out[offset:offset + rep.size, offset:offset + rep.size] = rep(g)
    return out

  def trivial_channels(self) -> np.ndarray:
    """Channel indices of the trivial (scalar) fields, ``[n_trivial]``."""
    return np.array([o for o, rep in zip(self.offsets, self.representations)
                     if rep.is_trivial], dtype=np.int32)

  def transform(self, g) -> 'FieldTransform':
    """The action of ``g`` on maps of this type (see module doc)."""
    return FieldTransform(self, self.group.check_element(g))

  def check_features(self, x, name: str = 'x') -> None:
    """Checks ``x`` is a float ``[B, H, W, C]`` with ``C = self.size``."""
    validate.check_array(x, name, rank=4, layout=LAYOUT)
    if x.shape[-1] != self.size:
      raise ValueError(
          f'{name} must have C = {self.size} channels, the size of {self} '
          f'(layout {LAYOUT}); got shape {tuple(x.shape)}.')


def check_field_type(field_type, name: str = 'field_type') -> None:
  if not isinstance(field_type, FieldType):
    raise ValueError(
        f'{name} must be a groups.FieldType(group, representations), e.g. '
        'groups.FieldType(groups.Cyclic(8), 4 * [groups.Cyclic(8).'
        f'regular_representation]); got {field_type!r}.')


@dataclasses.dataclass(frozen=True, eq=False)
class FieldTransform(base.Transform):
  """``(g . x)[p] = rho(g) x[g^-1 p]`` on ``[B, H, W, C]`` (module doc)."""
  field_type: FieldType
  element: object

  def __post_init__(self):
    check_field_type(self.field_type)
    object.__setattr__(self, 'element',
                       self.field_type.group.check_element(self.element,
                                                           'element'))

  @property
  def exact(self) -> bool:  # type: ignore[override]
    return self.field_type.group.grid_action(self.element).exact

  def __call__(self, x):
    self.field_type.check_features(x)
    moved = self.field_type.group.grid_action(self.element)(
        base.array_module(x).asarray(x))
    xp = base.array_module(moved)  # NumPy only if the grid action kept it
    matrix = self.field_type.matrix(self.element)
    if np.allclose(matrix, np.eye(len(matrix))):
      return moved
    if np.all(np.isclose(matrix, 0) | np.isclose(np.abs(matrix), 1)) and (
        np.all(np.sum(np.abs(matrix) > 0.5, axis=1) == 1)):
      # A signed permutation: a gather (exact whatever the precision).
      sources = np.argmax(np.abs(matrix), axis=1)
      signs = np.sign(matrix[np.arange(len(matrix)), sources])
      return xp.take(moved, sources, axis=-1) * signs.astype(moved.dtype)
    if xp is np:
      return np.einsum('...c,dc->...d', moved,
                       matrix.astype(np.float32)).astype(moved.dtype)
    return jnp.einsum('...c,dc->...d', moved, matrix.astype(np.float32),
                      precision=jax.lax.Precision.HIGHEST).astype(moved.dtype)

  def inverse(self):
    group = self.field_type.group
    return FieldTransform(self.field_type, group.inverse(self.element))

  def __repr__(self):
    return f'FieldTransform({self.field_type}, {self.element!r})'


def group_map_to_fields(y: jax.typing.ArrayLike) -> jax.Array:
  """``[B, H, W, G, C] -> [B, H, W, C * G]``: ``C`` regular fields.

  Channel ``c * G + h`` is ``y[..., h, c]`` (field-major), so
  ``FieldType(group, C * [group.regular_representation]).transform(g)``
  on the result equals ``group.regular_action(g)`` on ``y``.
  """
  validate.check_array(y, 'y', rank=5, layout='[B, H, W, G, C]')
  b, h, w, g, c = y.shape
  return jnp.asarray(y).transpose(0, 1, 2, 4, 3).reshape(b, h, w, c * g)


def fields_to_group_map(x: jax.typing.ArrayLike, group) -> jax.Array:
  """``[B, H, W, C * G] -> [B, H, W, G, C]``, the inverse of the above."""
  validate.check_array(x, 'x', rank=4, layout='[B, H, W, C * G]')
  order = group.order
  if x.shape[-1] % order:
    raise ValueError(f'x must have a multiple of |G| = {order} channels; got '
                     f'shape {tuple(x.shape)}.')
  b, h, w, c = x.shape
  return jnp.asarray(x).reshape(b, h, w, c // order, order).transpose(
      0, 1, 2, 4, 3)
