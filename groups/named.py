"""Groups by name, and the element of a group that turns an image by an angle.

:func:`group_by_name` is what configs use (``--config.model.group=C12``):
every finite group :func:`groups.finite_group` knows ('C12', 'D6', 'p4',
'p4m', ...) and the band-limited continuous groups 'SO2(F)' / 'O2(F)' (``F``
the highest irrep frequency kept). A group object passes through unchanged,
so a module attribute may hold either. ``axis=`` sets the reflection axis
of D_N / O(2) (radians; :class:`groups.Dihedral`): names carry no axis
(``'D8'`` is the left-right mirror), so a config that names its group
passes the axis beside it.

:func:`rotation_element` maps an angle in degrees to the group element that
rotates by it (or None where the group has none), the one place a
per-layer measurement turns "rotate the input by 45 degrees" into the action
a layer's representation should show.
"""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Any

from groups import continuous
from groups import cyclic
from groups import dihedral
from groups import finite
from groups import representations
from groups import validate

_CONTINUOUS = {'SO2': continuous.SO2, 'O2': continuous.O2}


def group_by_name(name: Any, argument: str = 'group', *,
                  axis: float | None = None
                  ) -> representations.RepresentationGroup:
  """The group called ``name``: 'C12', 'D6', 'p4', 'SO2(3)', 'O2(3)', ...

  Args:
    name: a finite group name (:func:`groups.finite_group`), 'SO2(F)' or
      'O2(F)' with ``F >= 0`` the band limit, or a group object (returned
      as is, unless ``axis`` is given).
    argument: the argument named in errors.
    axis: None (the name's or object's axis), or the reflection axis in
      radians of a D_N / O(2) group (:class:`groups.Dihedral`); 'p4m' only
      takes the grid axes (multiples of ``pi / 4``), whose mirrors keep it
      exact on the pixel grid.

  Returns:
    The group, e.g. ``Cyclic(12)`` for 'C12', ``SO2(3)`` for 'SO2(3)',
    ``Dihedral(8, axis=pi / 4)`` for 'D8' with ``axis=math.pi / 4``.

  Raises:
    ValueError: for any other name, listing the accepted forms; for an
      ``axis`` on a group without reflections, or a bad one.
  """
  group = _group_by_name(name, argument)
  if axis is None:
    return group
  axis = representations.check_axis(axis, 'axis')
  if not hasattr(group, 'reflection'):
    raise ValueError(
        f'axis is the reflection axis of D_N / O(2); {argument} {group} has '
        f'no reflections (got axis={axis!r}): pass axis=None, or a '
        "dihedral group ('D8', 'O2(3)').")
  if (isinstance(name, str) and name.strip() == 'p4m' and
      not representations.is_grid_axis(axis)):
    raise ValueError(
        "axis of 'p4m' must be a grid axis, one of 0, pi/4, pi/2, 3pi/4 "
        '(its mirrors must map the pixel grid to itself: an exact grid '
        f"action); got {axis!r}. Use 'D4' for any other axis "
        '(interpolated mirrors).')
  return dataclasses.replace(group, axis=axis)


def _group_by_name(name: Any, argument: str
                   ) -> representations.RepresentationGroup:
  if isinstance(name, representations.RepresentationGroup):
    return name
  if isinstance(name, str):
    match = re.fullmatch(r'\s*(SO2|O2)\s*\(\s*(\d+)\s*\)\s*', name)
    if match:
      return _CONTINUOUS[match.group(1)](int(match.group(2)))
    try:
      return finite.finite_group(name.strip())
    except ValueError:
      pass
  raise ValueError(
      f"{argument} must be a group name: a finite group "
      f"({', '.join(sorted(finite.families()))} followed by n >= 1, e.g. 'C12', 'D6', or 'p4', 'p4m'), or 'SO2(F)' / "
      f"'O2(F)' with the band limit F >= 0 (e.g. 'SO2(3)'); got {name!r}.")


def rotation_element(group: Any, degrees: float) -> Any:
  """The element of ``group`` that rotates by ``degrees``, or None if none.

  C_N / D_N: ``k`` with ``360 k / N = degrees`` (mod 360); SO(2): radians;
  O(2): ``(0, radians)``; any other object: None.
  """
  degrees = validate.number(degrees, 'degrees')
  if isinstance(group, (cyclic.Cyclic, dihedral.Dihedral)):
    turns = degrees * group.n / 360
    if abs(turns - round(turns)) > 1e-9:
      return None
    return int(round(turns)) % group.n
  if isinstance(group, continuous.SO2):
    return math.radians(degrees)
  if isinstance(group, continuous.O2):
    return (0, math.radians(degrees))
  return None
