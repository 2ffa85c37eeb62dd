"""Steerable kernel bases between field types, solved once and cached.

A kernel ``k: R^2 -> R^{C_out x C_in}`` maps a field of type ``rho_in`` to one
of type ``rho_out`` equivariantly iff

    k(g . x) = rho_out(g) k(x) rho_in(g)^-1   for every g,

(Weiler & Cesa 2019). The space of solutions is built in three steps:

1. **Per pair of irreps and angular frequency** (:func:`angular_solutions`):
   on a circle a kernel is ``A cos(f phi) + B sin(f phi)`` (``A, B`` of shape
   ``[d_out, d_in]``; only ``A`` for ``f = 0``). The constraint is linear in
   ``(A, B)``: for the group's generators ``g = R(t) F^m``,
   ``(cos, sin)(f (g . phi))`` is a fixed 2x2 matrix times
   ``(cos, sin)(f phi)``, so the solutions are the null space of a matrix of
   size at most ``8 x 8`` -- the analytic solution (e2cnn's tables of
   ``R2DiscreteRotationsSolution`` / ``R2FlipsDiscreteRotationsSolution``,
   including the aliasing frequencies ``f = k + t N`` of C_N / D_N) to float
   precision, computed rather than transcribed, so a new group needs no new
   table. SO(2) / O(2) are solved with a rotation by ``2 pi / (f + f_in +
   f_out + 1)``, which no frequency that occurs can be invariant to.
2. **Radial rings** (:func:`irreps_basis`): every solution times a Gaussian
   ring ``exp(-(r - r_s)^2 / (2 w_s^2))`` for every ring whose frequency
   cut-off ``F(r_s) >= f``, sampled at the kernel taps (the value at the
   centre tap is 0 for ``f > 0``). Elements that vanish on the grid are
   dropped (as e2cnn does); the rest are scaled to unit norm.
   **The reflection axis** of D_N / O(2) (``groups.Dihedral(N, axis=a)``)
   only conjugates the plane action: ``phi_a(g) = R(d) phi(g) R(-d)``,
   ``d = a - pi / 2`` (``group.axis_offset``), ``phi`` the action of the
   pose (left-right mirror). If ``k`` solves the constraint for ``phi``,
   ``k_a(x) = k(R(-d) x)`` solves it for ``phi_a``:
   ``k_a(phi_a(g) x) = k(phi(g) R(-d) x) = rho_out(g) k_a(x) rho_in(g)^-1``,
   and ``k -> k_a`` is invertible, so the solutions for ``a`` are exactly
   the default ones sampled at points turned by ``-d``: the harmonics are
   evaluated at ``phi - d`` (the rings are round, so nothing else moves).
   That is e2cnn's ``angles -= axis`` (its solutions are written for the
   mirror ``y -> -y``, axis 0). The angular solutions themselves do not
   depend on the axis.
3. **Any representation** (:func:`representation_basis`): with
   ``rho = Q (psi_1 + psi_2 + ...) Q^T``, the basis of every irrep pair is
   placed in its block and conjugated, ``k = Q_out k_irreps Q_in^T``.

A layer between field types (:class:`KernelBasis`) reuses the basis of each
distinct pair of representations for every pair of fields carrying them, so
building the basis of a C16 regular -> regular layer with 32 fields each
costs one 16 x 16 pair basis (benchmarks/steerable_basis.py).

Defaults are e2cnn's ``R2Conv`` (e2cnn 0.2.3, ``compute_basis_params``):
rings ``linspace(0, (k - 1) // 2, ceil(k / 2))``, widths 0.6 (0.4 for the
outermost ring, 0.005 for a ring at radius 0), frequency cut-off
``F(r) = 0 if r == 0 else min(2 r, 2 if r == k // 2 else 2 r - (r + 1) % 2)``.
Rings and widths are in units of taps, so a dilated kernel has the same
basis as an undilated one (e2cnn instead evaluates its cut-off at the dilated
radius, which for a 5x5 kernel at dilation 2 admits frequency 7 on the outer
ring: aliased; here that is refused).

Kernel layout: ``[n_basis, k, k, C_in, C_out]``, basis element first, then
the kernel layout of :func:`layers.conv2d` (cross-correlation; tap ``[i, j]``
is the plane point ``(j - c, c - i)``, ``c = (k - 1) / 2``: x right, y up).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
import dataclasses
import functools
import math
import numbers

import jax
import jax.numpy as jnp
import numpy as np

from groups import fields as fields_lib
from groups import representations as reps_lib
from groups import validate
from layers.steerable import expansion
from layers.steerable import fieldwise

#: Elements whose squared norm per output dimension is below this vanish on
#: the grid and are dropped (e2cnn's rule).
_VANISHING = 1e-12
#: The largest dense basis :func:`kernel_basis` builds (entries).
_DENSE_LIMIT = 2**27


@dataclasses.dataclass(frozen=True)
class BasisOptions:
  """Validated sampling options (see :func:`basis_options`).

  Attributes:
    kernel_size: ``k``.
    rings: ring radii in taps.
    widths: Gaussian width of each ring, in taps.
    max_frequencies: the frequency cut-off ``F`` of each ring.
  """
  kernel_size: int
  rings: tuple[float, ...]
  widths: tuple[float, ...]
  max_frequencies: tuple[int, ...]


def e2cnn_frequency_cutoff(kernel_size: int) -> Callable[[float], int]:
  """e2cnn's default cut-off (``_manual_fco1``) for a ``k x k`` kernel."""
  max_radius = kernel_size // 2

  def cutoff(radius: float) -> int:
    if radius == 0:
      return 0
    return int(min(2 * radius, 2 if radius == max_radius
                   else 2 * radius - (radius + 1) % 2))
  return cutoff


def basis_options(kernel_size: int, *, rings: Sequence[float] | None = None,
                  widths: float | Sequence[float] | None = None,
                  frequency_cutoff: float | Callable[[float], float]
                  | None = None) -> BasisOptions:
  """Validates and completes the sampling options (e2cnn's defaults).

  Args:
    kernel_size: ``k`` (int >= 1).
    rings: ring radii in taps, each in ``[0, (k - 1) / sqrt(2)]``; default
      ``linspace(0, (k - 1) // 2, ceil(k / 2))``.
    widths: a width > 0 for every ring, or one for all; default 0.6, 0.4 for
      the last ring, 0.005 for a ring at radius 0.
    frequency_cutoff: ``F(r)``, the highest angular frequency on a ring of
      radius ``r``: a number ``c`` (``F(r) = floor(c r)``) or a function of
      ``r``; default e2cnn's rule (module doc). ``F(r)`` must be at most
      ``pi r`` (about half the taps the ring passes): higher frequencies
      alias on the grid.

  Returns:
    A hashable :class:`BasisOptions`.
  """
  kernel_size = validate.integer(kernel_size, 'kernel_size', minimum=1)
  outer = (kernel_size - 1) / math.sqrt(2)
  if rings is None:
    n_rings = math.ceil(kernel_size / 2)
    rings = tuple(float(r) for r in np.linspace(0, (kernel_size - 1) // 2,
                                                n_rings))
  else:
    if isinstance(rings, (str, bytes)) or not isinstance(rings, Sequence) or (
        not rings):
      raise ValueError(f'rings must be a non-empty list of radii in taps; got '
                       f'{rings!r}.')
    rings = tuple(validate.number(r, f'rings[{i}]', minimum=0.0,
                                  maximum=outer)
                  for i, r in enumerate(rings))
  if widths is None:
    widths = [0.6] * (len(rings) - 1) + [0.4]
    widths = tuple(0.005 if r == 0 else w for r, w in zip(rings, widths))
  elif isinstance(widths, (numbers.Real, np.floating, np.integer)):
    widths = (validate.number(widths, 'widths', minimum=0.0,
                              exclusive_minimum=True),) * len(rings)
  else:
    if not isinstance(widths, Sequence) or len(widths) != len(rings):
      raise ValueError(
          f'widths must be a number > 0 or one per ring ({len(rings)}); got '
          f'{widths!r}.')
    widths = tuple(validate.number(w, f'widths[{i}]', minimum=0.0,
                                   exclusive_minimum=True)
                   for i, w in enumerate(widths))
  if frequency_cutoff is None:
    cutoff = e2cnn_frequency_cutoff(kernel_size)
  elif callable(frequency_cutoff):
    cutoff = frequency_cutoff
  else:
    factor = validate.number(frequency_cutoff, 'frequency_cutoff',
                             minimum=0.0)
    cutoff = lambda r: math.floor(factor * r + 1e-9)
  max_frequencies = []
  for radius in rings:
    value = cutoff(radius)
    if (not isinstance(value, (numbers.Real, np.floating, np.integer)) or
        isinstance(value, bool) or not math.isfinite(value) or value < 0):
      raise ValueError(
          f'frequency_cutoff must give a number >= 0 for every ring; got '
          f'{value!r} at radius {radius:g}.')
    frequency = int(math.floor(value + 1e-9))
    if frequency > math.pi * radius + 1e-9:
      raise ValueError(
          f'frequency_cutoff aliases: it allows frequency {frequency} on the '
          f'ring of radius {radius:g} taps, whose samples resolve at most '
          f'floor(pi r) = {math.floor(math.pi * radius + 1e-9)}; lower the '
          'cut-off (e.g. frequency_cutoff=2.0, F(r) = 2 r) or drop the ring.')
    max_frequencies.append(frequency)
  return BasisOptions(kernel_size, tuple(rings), tuple(widths),
                      tuple(max_frequencies))


# ------------------------------------------------------------------- step 1


def _angular_action(frequency: int, mirror: int, angle: float) -> np.ndarray:
  """``M`` with ``b(g . phi) = M b(phi)``, ``b = (cos f phi, sin f phi)``.

  ``g = R(angle) F^mirror`` moves angle ``phi`` to ``angle + phi`` or, for a
  left-right mirror (``phi -> pi - phi``), to ``angle + pi - phi``.
  """
  if frequency == 0:
    return np.eye(1)
  if not mirror:
    return reps_lib.rotation_matrix(frequency * angle)
  beta = frequency * (angle + math.pi)
  # cos(beta - f phi), sin(beta - f phi) in terms of cos f phi, sin f phi.
  return np.array([[math.cos(beta), math.sin(beta)],
                   [math.sin(beta), -math.cos(beta)]])


def _kron(a: np.ndarray, b: np.ndarray) -> np.ndarray:
  """``np.kron`` of two matrices, without its general-rank overhead (the
  basis solver calls it for every generator of every irrep pair)."""
  return (a[:, None, :, None] * b[None, :, None, :]).reshape(
      a.shape[0] * b.shape[0], a.shape[1] * b.shape[1])


@functools.lru_cache(maxsize=4096)
def angular_solutions(group: reps_lib.RepresentationGroup, irrep_in,
                      irrep_out, frequency: int) -> np.ndarray:
  """Equivariant angular kernels of one frequency between two irreps.

  Args:
    group: the group.
    irrep_in: id of ``psi_in`` (size ``d_in``).
    irrep_out: id of ``psi_out`` (size ``d_out``).
    frequency: ``f >= 0``.

  Returns:
    ``[n, A, d_out, d_in]`` orthonormal coefficients: solution ``s`` is
    ``sum_a out[s, a] b_a(phi)``, ``b = (cos f phi, sin f phi)`` (``A = 2``)
    or ``b = (1,)`` (``A = 1``, ``f = 0``).
  """
  n_angular = 1 if frequency == 0 else 2
  d_in, d_out = group.irrep_size(irrep_in), group.irrep_size(irrep_out)
  highest = (frequency + group.irrep_frequency(irrep_in) +
             group.irrep_frequency(irrep_out))
  blocks = []
  for g in group.generators(highest):
    mirror, angle = group.pose(g)
    m = _angular_action(frequency, mirror, angle)
    psi_in, psi_out = group.irrep_matrix(irrep_in, g), group.irrep_matrix(
        irrep_out, g)
    # sum_a M[a, c] C[a] = psi_out C[c] psi_in^T, vectorised over [a, o, i].
    blocks.append(_kron(m.T, np.eye(d_out * d_in)) -
                  _kron(np.eye(n_angular), _kron(psi_out, psi_in)))
  solutions = reps_lib.null_space(np.concatenate(blocks))
  return solutions.T.reshape(-1, n_angular, d_out, d_in)


# ------------------------------------------------------------------- step 2


@functools.lru_cache(maxsize=64)
def _polar_grid(kernel_size: int) -> tuple[np.ndarray, np.ndarray]:
  """Radius and angle ``[k, k]`` of every tap (x right, y up)."""
  centre = (kernel_size - 1) / 2
  rows, cols = np.meshgrid(np.arange(kernel_size), np.arange(kernel_size),
                           indexing='ij')
  x, y = cols - centre, centre - rows
  return np.hypot(x, y), np.arctan2(y, x)


@functools.lru_cache(maxsize=4096)
def irreps_basis(group: reps_lib.RepresentationGroup, irrep_in, irrep_out,
                 options: BasisOptions) -> np.ndarray:
  """The sampled basis between two irreps: ``[n, k, k, d_in, d_out]``.

  Elements are ordered by ring, then frequency, then solution; each has unit
  Frobenius norm; elements that vanish on the grid are dropped. For a group
  with a reflection axis, sampled at the taps turned by ``-axis_offset``
  (module doc, step 1).
  """
  radius, angle = _polar_grid(options.kernel_size)
  angle = angle - group.axis_offset  # k_a(x) = k(R(-d) x)
  origin = radius < 1e-9
  elements = []
  for ring, width, top in zip(options.rings, options.widths,
                              options.max_frequencies):
    profile = np.exp(-0.5 * (radius - ring)**2 / width**2)  # [k, k]
    for frequency in range(top + 1):
      solutions = angular_solutions(group, irrep_in, irrep_out, frequency)
      if not len(solutions):
        continue
      if frequency == 0:
        harmonics = np.ones((1,) + radius.shape)
      else:
        harmonics = np.stack([np.cos(frequency * angle),
                              np.sin(frequency * angle)])
        harmonics = harmonics * ~origin  # no direction at the centre tap
      # sum_a solutions[s, a, o, i] harmonics[a, h, w] profile[h, w], laid
      # out [n, k, k, d_in, d_out]: one matmul (einsum was the slow part).
      n, _, d_o, d_i = solutions.shape
      waves = (harmonics * profile).reshape(len(harmonics), -1)  # [A, k*k]
      sampled = np.swapaxes(solutions, 1, 3).reshape(-1, len(harmonics)) @ waves
      elements.append(sampled.reshape(n, d_i, d_o, *radius.shape)
                      .transpose(0, 3, 4, 1, 2))
  d_in, d_out = group.irrep_size(irrep_in), group.irrep_size(irrep_out)
  if not elements:
    return np.zeros((0, options.kernel_size, options.kernel_size, d_in,
                     d_out))
  basis = np.concatenate(elements)
  norms = np.sqrt(np.sum(basis**2, axis=(1, 2, 3, 4)))
  keep = norms**2 / d_out > _VANISHING
  return basis[keep] / norms[keep, None, None, None, None]


# ------------------------------------------------------------------- step 3


@functools.lru_cache(maxsize=1024)
def representation_basis(rep_in: reps_lib.Representation,
                         rep_out: reps_lib.Representation,
                         options: BasisOptions) -> np.ndarray:
  """The basis between two representations: ``[n, k, k, d_in, d_out]``.

  ``Q_out k_irreps Q_in^T`` for every irrep pair's element, unit norm,
  float64. Ordered by input irrep, output irrep, then as
  :func:`irreps_basis`.
  """
  group = rep_in.group
  k = options.kernel_size
  in_offsets = np.cumsum([0] + [group.irrep_size(i) for i in rep_in.irreps])
  out_offsets = np.cumsum([0] + [group.irrep_size(i) for i in rep_out.irreps])
  parts = []
  for a, irrep_in in enumerate(rep_in.irreps):
    q_in = rep_in.change_of_basis[:, in_offsets[a]:in_offsets[a + 1]]
    for b, irrep_out in enumerate(rep_out.irreps):
      block = irreps_basis(group, irrep_in, irrep_out, options)
      if not len(block):
        continue
      q_out = rep_out.change_of_basis[:, out_offsets[b]:out_offsets[b + 1]]
      parts.append(q_in @ block @ q_out.T)  # sum_ab q_in[i,a] b[a,b] q_out[o,b]
  if not parts:
    return np.zeros((0, k, k, rep_in.size, rep_out.size))
  return np.concatenate(parts)  # orthogonal Q: norms stay 1


# ----------------------------------------------------------------- a layer


@dataclasses.dataclass(frozen=True)
class Block:
  """Every pair of fields with representations ``(rep_in, rep_out)``.

  Attributes:
    rep_in, rep_out: the two representations.
    options: the :class:`BasisOptions` of the layer.
    count: ``d``, the number of basis elements of the pair.
    in_channels: ``[m_in * c_in]`` channels of the input fields, field-major.
    out_channels: ``[m_out * c_out]`` channels of the output fields.
    m_in: number of input fields of ``rep_in``.
    m_out: number of output fields of ``rep_out``.
    offset: first weight of the block in the flat weight vector; its
      weights are ``[m_in, m_out, d]`` in row-major order.
  """
  rep_in: reps_lib.Representation
  rep_out: reps_lib.Representation
  options: BasisOptions
  count: int
  in_channels: np.ndarray
  out_channels: np.ndarray
  m_in: int
  m_out: int
  offset: int

  @property
  def basis(self) -> np.ndarray:
    """``[d, k, k, c_in, c_out]`` float32, shared by the pairs: built on
    use (only :meth:`KernelBasis.dense` needs it; the expansion works in
    irrep space)."""
    return representation_basis(self.rep_in, self.rep_out,
                                self.options).astype(np.float32)

  @property
  def size(self) -> int:
    return self.m_in * self.m_out * self.count


def _num_elements(rep_in: reps_lib.Representation,
                 rep_out: reps_lib.Representation,
                 options: BasisOptions) -> int:
  """``len(representation_basis(rep_in, rep_out, options))``, from the irrep
  pairs' bases alone (without building the pair's basis)."""
  return sum(len(irreps_basis(rep_in.group, irrep_in, irrep_out, options))
             for irrep_in in rep_in.irreps for irrep_out in rep_out.irreps)


class KernelBasis:
  """The steerable kernel space of a layer, in blocks (see module doc).

  Attributes:
    in_type, out_type: the field types.
    options: the :class:`BasisOptions`.
    blocks: one :class:`Block` per distinct (input, output) representation
      pair with a non-empty basis.
    size: ``n_basis``, the number of weights.
  """

  def __init__(self, in_type: fields_lib.FieldType,
               out_type: fields_lib.FieldType, options: BasisOptions):
    self.in_type, self.out_type, self.options = in_type, out_type, options
    in_groups = fieldwise.groups_of_fields(in_type)
    out_groups = fieldwise.groups_of_fields(out_type)
    self.blocks: list[Block] = []
    offset = 0
    for rep_in, in_channels in in_groups:
      for rep_out, out_channels in out_groups:
        count = _num_elements(rep_in, rep_out, options)
        if not count:
          continue
        block = Block(rep_in, rep_out, options, count, in_channels,
                      out_channels, len(in_channels) // rep_in.size,
                      len(out_channels) // rep_out.size, offset)
        offset += block.size
        self.blocks.append(block)
    self.size = offset
    self._jax_expand = None
    self._plan = None

  def expand(self, weights, xp=np):
    """The kernel ``[k, k, C_in, C_out]`` with coefficients ``weights``.

    Built in irrep space and changed back (:class:`layers.steerable.
    expansion.ExpansionPlan`): a
    gather of the weights, one contraction with the irrep pairs' sampled
    elements, then each field's change of basis on both sides. Equal to
    ``sum_n weights[n] dense()[n]`` (tested), without the dense basis.

    Args:
      weights: ``[n_basis]``.
      xp: ``numpy`` or ``jax.numpy``.
    """
    if self._plan is None:
      self._plan = expansion.ExpansionPlan(
          self.in_type, self.out_type, self.blocks, self.size,
          self.options.kernel_size, functools.partial(
              irreps_basis, self.in_type.group, options=self.options))
    return self._plan.expand(weights, xp)

  def jax_expand(self, weights) -> 'jax.Array':
    """:meth:`expand` with ``jax.numpy``, compiled once per basis.

    Called eagerly it runs as one XLA program instead of one per block
    operation; inside ``jax.jit`` it is inlined.
    """
    if self._jax_expand is None:
      self._jax_expand = jax.jit(functools.partial(self.expand, xp=jnp))
    return self._jax_expand(weights)

  def dense(self) -> np.ndarray:
    """``[n_basis, k, k, C_in, C_out]`` float32: element ``n`` is the kernel
    of the ``n``-th unit weight."""
    k = self.options.kernel_size
    shape = (self.size, k, k, self.in_type.size, self.out_type.size)
    if math.prod(shape) > _DENSE_LIMIT:
      raise ValueError(
          f'the dense basis {shape} has more than {_DENSE_LIMIT} entries; use '
          'KernelBasis.expand(weights) (what SteerableConv does), or fewer '
          'fields.')
    out = np.zeros(shape, np.float32)
    for block in self.blocks:
      basis = block.basis
      d, _, _, c_in, c_out = basis.shape
      n = block.offset
      for i in range(block.m_in):
        rows = block.in_channels[i * c_in:(i + 1) * c_in]
        for o in range(block.m_out):
          cols = block.out_channels[o * c_out:(o + 1) * c_out]
          out[n:n + d][:, :, :, rows[:, None], cols[None, :]] = basis
          n += d
    return out

  def he_std(self) -> np.ndarray:
    """``[n_basis]`` standard deviations of a He initialisation.

    With unit-norm elements and weights of variance ``s^2``, an output field
    of size ``c`` reached by ``n`` elements gets ``s^2 n / c`` per channel as
    the sum of its squared filter taps; ``s^2 = 2 c / n`` makes that 2, so
    ReLU layers keep unit-variance activations (e2cnn's
    ``generalized_he_init`` in spirit).
    """
    reached = np.zeros(len(self.out_type))
    field_of_channel = fieldwise.field_index(self.out_type)
    for block in self.blocks:
      d, c_out = block.count, block.rep_out.size
      fields = field_of_channel[block.out_channels[::c_out]]
      reached[fields] += d * block.m_in
    std = np.zeros(self.size, np.float32)
    for block in self.blocks:
      d, c_out = block.count, block.rep_out.size
      fields = field_of_channel[block.out_channels[::c_out]]
      per_out = np.sqrt(2 * c_out / reached[fields])  # [m_out]
      std[block.offset:block.offset + block.size] = np.broadcast_to(
          per_out[None, :, None], (block.m_in, block.m_out, d)).reshape(-1)
    return std


@functools.lru_cache(maxsize=256)
def solve(in_type: fields_lib.FieldType, out_type: fields_lib.FieldType,
          options: BasisOptions) -> KernelBasis:
  """The cached :class:`KernelBasis` of a layer (validated arguments)."""
  basis = KernelBasis(in_type, out_type, options)
  if basis.size == 0:
    k = options.kernel_size
    hint = ''
    if k == 2 and options.rings == (0.0,):
      hint = (' kernel_size=2 is e2cnn\'s pitfall: its only default ring '
              'is at radius 0 with width 0.005, and no tap of a 2x2 grid is '
              'there (all are at radius 0.71).')
    raise ValueError(
        f'kernel_size={k} gives an empty kernel basis from {in_type} to '
        f'{out_type} (rings {options.rings}, widths {options.widths}, '
        f'frequency cut-offs {options.max_frequencies}).{hint} Use an odd '
        'kernel_size >= 3, or pass rings / widths / frequency_cutoff that '
        'reach the frequencies the field types need.')
  return basis


def check_types(in_type, out_type) -> None:
  fields_lib.check_field_type(in_type, 'in_type')
  fields_lib.check_field_type(out_type, 'out_type')
  if in_type.group != out_type.group:
    raise ValueError(
        f'in_type and out_type must be field types of the same group; got '
        f'{in_type.group} and {out_type.group}.')


def layer_basis(in_type, out_type, kernel_size, *, rings=None, widths=None,
                frequency_cutoff=None) -> KernelBasis:
  """Validates the arguments and returns the cached :class:`KernelBasis`."""
  check_types(in_type, out_type)
  options = basis_options(kernel_size, rings=rings, widths=widths,
                          frequency_cutoff=frequency_cutoff)
  return solve(in_type, out_type, options)


def kernel_basis(in_type: fields_lib.FieldType,
                 out_type: fields_lib.FieldType, kernel_size: int, *,
                 rings: Sequence[float] | None = None,
                 widths: float | Sequence[float] | None = None,
                 frequency_cutoff: float | Callable[[float], float]
                 | None = None, dilation: int = 1) -> np.ndarray:
  """The steerable kernel space between two field types, as a dense array.

  Args:
    in_type: the input :class:`groups.FieldType`.
    out_type: the output field type, of the same group.
    kernel_size: ``k``.
    rings, widths, frequency_cutoff: see :func:`basis_options`.
    dilation: int >= 1; accepted for symmetry with the conv and checked, the
      basis is in taps and does not depend on it.

  Returns:
    ``[n_basis, k, k, C_in, C_out]`` float32; every kernel
    ``sum_n w_n basis[n]`` satisfies ``k(g x) = rho_out(g) k(x)
    rho_in(g)^-1``. Cached per (types, options); for big layers use
    :func:`layer_basis` (blocks) instead.
  """
  validate.integer(dilation, 'dilation', minimum=1)
  return layer_basis(in_type, out_type, kernel_size, rings=rings,
                     widths=widths, frequency_cutoff=frequency_cutoff).dense()
