"""Kernel bases of scale convolutions: SESN's Hermite-Gaussian and a solved one.

A scale convolution over scales ``sigma_0 < sigma_1 < ...`` (ratio ``r``)
uses, for each of ``F`` basis functions, one ``k x k`` kernel per scale: a
basis ``[F, S, k, k]``. A learned weight ``[..., F]`` mixes the functions,
the same weight at every scale, so the layer is scale-equivariant exactly
when each function's kernel at scale ``sigma_j`` is its kernel at
``sigma_i`` *rescaled* by ``sigma_j / sigma_i``:

    rescale(conv(x, psi_j), 1 / r_ij) == conv(rescale(x, 1 / r_ij), psi_i)

On a pixel grid that holds only approximately; how closely is
:func:`equivariance_errors`. Two bases:

* :func:`hermite_basis` -- SESN (Sosnovik, Szmaja & Smeulders, ICLR 2020;
  github.com/ISosnovik/sesn, ``models/impl/ses_basis.py``, ``steerable_B``):
  at each scale ``sigma`` the products ``G(x) He_n(x / sigma) G(y)
  He_m(y / sigma)`` with ``G = exp(-x^2 / 2 sigma^2) / sigma`` and ``n + m
  <= max_order``, at widths ``sigma, sigma / mult, sigma / mult^2, ...``
  until there are ``effective_size**2`` functions, each sampled on a grid
  of ``int(k sigma / sigma_max) // 2 * 2 + 1`` pixels and zero-padded to
  ``k``; all scales divided by the norms at the smallest. The continuous
  functions are exact rescalings of each other (``1 / sigma^2``
  normalisation); *sampled* on pixels, the narrow ones alias.
* :func:`disco_basis` -- in the spirit of DISCO (Sosnovik, Moskalev &
  Smeulders, BMVC 2021; github.com/ISosnovik/disco, ``models/basis/
  disco.py``), with our own solver: the smallest scale's kernels are fixed
  (Hermite functions of width ``min_scale`` on the ``effective_size`` grid,
  DISCO's basis "B"), and every larger scale's ``k x k`` kernels are
  *solved for* discrete-scale equivariance: they minimise the error above,
  summed over every pair of scales, by one linear least-squares solve over
  white-noise images (the objective is linear in the kernels; DISCO trains
  the same kind of objective with Adam and bicubic resizing, we solve it in
  closed form with :func:`groups.scale.rescale`, the project's one
  band-limited, anti-aliased rescaling). DISCO fixes the kernels at integer
  ratios ``r`` to the dilated ones (:func:`dilate`: a conv with a kernel
  dilated by ``r`` followed by stride-``r`` subsampling equals the
  subsampling followed by the undilated conv, exactly);
  ``dilate_integer=True`` does too.

Layout: bases are float32 ``[F, S, k, k]`` (function, scale, row, column).
"""

from __future__ import annotations

from collections.abc import Sequence
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from groups import scale as scale_lib
from groups import validate

BASES = ('hermite', 'disco')
SOLVER_IMAGES = 16        # white-noise images of the least-squares solve
SOLVER_VALID = 24         # side of the region compared in each of them
_SOLVER_SEED = 20211122   # fixed: the basis is a deterministic function
_RIDGE = 1e-6             # relative Tikhonov weight (only null directions)


def scale_set(num_scales: int, *, min_scale: float, factor: float
              ) -> tuple[float, ...]:
  """SESN's scales: ``min_scale * q**i``, ``q = factor**(1 / (n - 1))``,
  rounded to two decimals as the papers' configs do."""
  num_scales = validate.integer(num_scales, 'num_scales', minimum=1)
  min_scale = validate.number(min_scale, 'min_scale', minimum=0.0,
                              exclusive_minimum=True)
  factor = validate.number(factor, 'factor', minimum=1.0,
                           exclusive_minimum=True)
  if num_scales == 1:
    return (round(min_scale, 2),)
  q = factor**(1 / (num_scales - 1))
  return tuple(round(min_scale * q**i, 2) for i in range(num_scales))


def _check_common(size, scales, effective_size):
  size = validate.integer(size, 'size', minimum=1)
  if size % 2 == 0:
    raise ValueError(f'size must be odd (a centred kernel); got {size}.')
  scale_lib.geometric_ratio(scales, 'scales')
  effective_size = validate.integer(effective_size, 'effective_size',
                                    minimum=1)
  if effective_size > size:
    raise ValueError(f'effective_size must be <= size = {size}; got '
                     f'{effective_size}.')
  return size, tuple(float(s) for s in scales), effective_size


def _hermite_1d(grid: np.ndarray, sigma: float, order: int) -> np.ndarray:
  """``exp(-x^2 / 2 sigma^2) / sigma * He_order(x / sigma)`` on ``grid``."""
  coefficients = [0] * order + [1]
  return (np.exp(-grid**2 / (2 * sigma**2)) / sigma *
          np.polynomial.hermite_e.hermeval(grid / sigma, coefficients))


def hermite_functions(size: int, sigma: float, *, num_funcs: int,
                      max_order: int, mult: float) -> np.ndarray:
  """``[num_funcs, size, size]`` float64 Hermite-Gaussians on a centred grid.

  Orders ``n + m <= max_order`` at width ``sigma``, then at ``sigma / mult``,
  ``sigma / mult**2``, ... until ``num_funcs`` (SESN's
  ``multiscale_hermite_gaussian``; row axis order ``n``, column ``m``).
  """
  grid = np.arange(size, dtype=np.float64) - size // 2
  orders = [(n, m) for m in range(max_order + 1)
            for n in range(max_order + 1) if n + m <= max_order]
  functions = []
  width = float(sigma)
  while len(functions) < num_funcs:
    for n, m in orders:
      functions.append(np.outer(_hermite_1d(grid, width, n),
                                _hermite_1d(grid, width, m)))
    width /= mult
  return np.stack(functions[:num_funcs])


def _pad_to(kernels: np.ndarray, size: int) -> np.ndarray:
  pad = (size - kernels.shape[-1]) // 2
  return np.pad(kernels, [(0, 0)] * (kernels.ndim - 2) + [(pad, pad)] * 2)


def _normalise_by_min_scale(basis: np.ndarray) -> np.ndarray:
  norms = np.sqrt((basis[:, :1]**2).sum(axis=(2, 3), keepdims=True))
  return basis / norms


def _check_hermite_options(max_order, mult):
  max_order = validate.integer(max_order, 'max_order', minimum=0)
  mult = validate.number(mult, 'mult', minimum=1.0, exclusive_minimum=True)
  return max_order, mult


@functools.lru_cache(maxsize=32)
def _hermite_basis(size, scales, effective_size, max_order, mult):
  largest = max(scales)
  per_scale = []
  for sigma in scales:
    support = int(size * sigma / largest) // 2 * 2 + 1
    if support < 3:
      raise ValueError(
          f'scales must not be so spread that the smallest kernel has fewer '
          f'than 3 pixels (size {size}: sigma {sigma:g} of the largest '
          f'{largest:g} gives {support}); use a larger size.')
    per_scale.append(_pad_to(hermite_functions(
        support, sigma, num_funcs=effective_size**2, max_order=max_order,
        mult=mult), size))
  basis = _normalise_by_min_scale(np.stack(per_scale, axis=1))
  basis = basis.astype(np.float32)
  basis.flags.writeable = False
  return basis


def hermite_basis(size: int, scales: Sequence[float], *,
                  effective_size: int = 7, max_order: int = 4,
                  mult: float = 1.4) -> np.ndarray:
  """SESN's Hermite-Gaussian basis (module docstring), ``[F, S, k, k]``.

  Args:
    size: kernel side ``k`` (odd).
    scales: ``sigma_0 < sigma_1 < ...``, geometric (ratio to 2 %).
    effective_size: ``F = effective_size**2`` functions (as many parameters
      per channel pair as an ``effective_size``-square conv).
    max_order: largest ``n + m`` per width.
    mult: ratio between successive widths.

  Returns:
    float32 ``[F, S, size, size]``, read-only.
  """
  size, scales, effective_size = _check_common(size, scales, effective_size)
  max_order, mult = _check_hermite_options(max_order, mult)
  return _hermite_basis(size, scales, effective_size, max_order, mult)


def dilate(kernels: np.ndarray, factor: int, size: int) -> np.ndarray:
  """``[..., e, e]`` kernels dilated by the integer ``factor`` (taps spread
  ``factor`` pixels apart, zeros between), centred in ``size x size``."""
  factor = validate.integer(factor, 'factor', minimum=1)
  kernels = np.asarray(kernels)
  e = kernels.shape[-1]
  span = (e - 1) * factor + 1
  if span > size:
    raise ValueError(f'size must hold the dilated kernel: {e} taps dilated '
                     f'by {factor} span {span} > size {size}.')
  out = np.zeros(kernels.shape[:-2] + (span, span), kernels.dtype)
  out[..., ::factor, ::factor] = kernels
  return _pad_to(out, size)


def _margin(size: int) -> int:
  return size // 2 + 2


def _noise(ratio: float, size: int, seed: int) -> np.ndarray:
  """``[SOLVER_IMAGES, n, n, 1]`` white noise, ``n`` large enough that the
  image shrunk by ``ratio`` keeps a ``SOLVER_VALID`` square away from its
  border."""
  n = int(math.ceil(ratio * (SOLVER_VALID + 2 * _margin(size)) / 2)) * 2
  return np.random.default_rng(seed).standard_normal(
      (SOLVER_IMAGES, n, n, 1)).astype(np.float32)


def _valid_mask(n: int, ratio: float, margin: int) -> np.ndarray:
  """``[n, n]``: pixels of the shrunk image at least ``margin`` inside the
  ``n / ratio`` box it occupies (away from the zeros the shrink brings in)."""
  centre = (n - 1) / 2
  half = n / (2 * ratio) - margin
  inside = np.abs(np.arange(n) - centre) < half
  return inside[:, None] & inside[None, :]


def _all_taps(x: np.ndarray, size: int, mask: np.ndarray) -> np.ndarray:
  """``[N, count, size**2]``: ``conv(x, e_t)`` for every tap ``t`` of a
  ``size x size`` kernel (zero padding), i.e. the shifted copies of
  ``x [N, n, n, 1]`` (tap ``t = i * size + j`` reads ``x`` at ``(y + i -
  size // 2, x + j - size // 2)``), at the ``count`` pixels of ``mask``
  (``[n, n]`` bool): a copy of those only, no arithmetic."""
  half = size // 2
  padded = np.pad(np.asarray(x)[..., 0], ((0, 0), (half, half), (half, half)))
  windows = np.lib.stride_tricks.sliding_window_view(padded, (size, size),
                                                     axis=(1, 2))[:, mask]
  return windows.reshape(windows.shape[:2] + (size * size,))


def _rescale_taps(x: np.ndarray, size: int, factor: float,
                  keep: np.ndarray) -> np.ndarray:
  """Every tap's shifted copy of ``x`` ``[N, n, n, 1]`` (the taps of
  :func:`_all_taps`, at every pixel) rescaled by ``factor``, on the rows
  and columns ``keep`` (``[n]`` bool) only: ``[N, m, m, size**2]``.

  The rescale is separable and a tap is a shift: the rows of the padded
  image are rescaled once per row offset ``i``, and each column offset
  ``j`` is a window of that. The same products and sums as rescaling each
  copy (bit for bit on the Intel Xeon this was written on, natively and
  with ``--xla_cpu_max_isa=AVX2``) without making the ``size**2`` copies
  (0.52 -> 0.08 s for the widest pair of the MNIST basis).
  """
  hp = jax.lax.Precision.HIGHEST
  n, half = x.shape[1], size // 2
  padded = np.pad(np.asarray(x)[..., 0], ((0, 0), (half, half), (half, half)))
  matrix = scale_lib.rescale_matrix(n, factor)[keep].astype(x.dtype)
  rows = np.lib.stride_tricks.sliding_window_view(padded, n, axis=1)
  # [N, i, m, n + 2 half]: rows rescaled, for each row offset i
  y = np.asarray(jnp.einsum('ph,biwh->bipw', matrix, rows, precision=hp))
  columns = np.lib.stride_tricks.sliding_window_view(y, n, axis=3)
  out = np.asarray(jnp.einsum('qw,bipjw->bpqij', matrix, columns,
                              precision=hp))
  return out.reshape(out.shape[:3] + (size * size,))


def _conv_each(x: jax.Array, kernels: np.ndarray) -> jax.Array:
  """``[N, n, n, F]``: ``x`` ``[N, n, n, 1]`` convolved (zeros) with each of
  ``kernels`` ``[F, k, k]``."""
  hwio = jnp.asarray(np.transpose(kernels, (1, 2, 0))[:, :, None, :],
                     x.dtype)
  return jax.lax.conv_general_dilated(
      x, hwio, (1, 1), 'SAME', dimension_numbers=('NHWC', 'HWIO', 'NHWC'),
      precision=jax.lax.Precision.HIGHEST)


def _pair_taps(ratio: float, size: int) -> tuple[np.ndarray, np.ndarray]:
  """Least-squares blocks of one pair of scales with ratio ``ratio``.

  Over white noise ``x``, ``rescale(conv(x, psi_j), 1 / ratio) = A psi_j``
  and ``conv(rescale(x, 1 / ratio), psi_i) = B psi_i`` (kernels flattened,
  ``[T = size**2]``), compared inside the shrunk image: ``A``, ``B``
  float64 ``[rows, T]``.
  """
  x = _noise(ratio, size, _SOLVER_SEED)
  mask = _valid_mask(x.shape[1], ratio, margin=_margin(size))
  keep = mask.any(axis=1)    # the mask is a centred square: rows = columns
  shrink = 1 / ratio
  a = _rescale_taps(x, size, shrink, keep)  # [N, m, m, T]
  b = _all_taps(np.asarray(scale_lib.rescale(x, shrink)), size, mask)
  return (np.asarray(a, np.float64).reshape(-1, size * size),
          np.asarray(b, np.float64).reshape(-1, size * size))


def _solve_joint(known: dict[int, np.ndarray], scales: tuple[float, ...],
                 size: int) -> dict[int, np.ndarray]:
  """The unknown scales' ``[F, size, size]`` kernels, jointly.

  Minimises ``sum_{i < j} ||A_ij psi_j - B_ij psi_i||^2`` (every pair of
  scales, as DISCO's objective) over the scales not in ``known``, the
  known ones fixed; one linear solve for every function at once. Pairs
  between unknown scales matter: solved against the smallest scale alone,
  a kernel is free (and, truncated to ``size``, wild) in the band the
  smallest scale's pair does not see.
  """
  unknown = [j for j in range(len(scales)) if j not in known]
  if not unknown:
    return {}
  where = {j: u for u, j in enumerate(unknown)}
  taps = size * size
  num_funcs = next(iter(known.values())).shape[0]
  gram = np.zeros((len(unknown) * taps,) * 2)
  rhs = np.zeros((len(unknown) * taps, num_funcs))
  block = lambda j: slice(where[j] * taps, (where[j] + 1) * taps)
  for i in range(len(scales)):
    for j in range(i + 1, len(scales)):
      if i in known and j in known:
        continue
      a, b = _pair_taps(scales[j] / scales[i], size)
      # residual = a psi_j - b psi_i
      terms = [(j, a, 1.0), (i, b, -1.0)]
      for index, matrix, sign in terms:
        if index in known:
          continue
        for other, other_matrix, other_sign in terms:
          product = sign * matrix.T
          if other in known:
            rhs[block(index)] -= product @ (
                other_sign * other_matrix @
                known[other].reshape(num_funcs, taps).T)
          else:
            gram[block(index), block(other)] += (
                product @ (other_sign * other_matrix))
  gram += _RIDGE * np.trace(gram) / gram.shape[0] * np.eye(gram.shape[0])
  solution = np.linalg.solve(gram, rhs)                  # [U T, F]
  return {j: solution[block(j)].T.reshape(num_funcs, size, size)
          for j in unknown}


@functools.lru_cache(maxsize=16)
def _disco_basis(size, scales, effective_size, min_scale, max_order, mult,
                 dilate_integer):
  base = hermite_functions(effective_size, min_scale,
                           num_funcs=effective_size**2, max_order=max_order,
                           mult=mult)                          # [F, e, e]
  known = {0: _pad_to(base, size)}
  for j, sigma in enumerate(scales[1:] if dilate_integer else (), start=1):
    ratio = sigma / scales[0]
    nearest = round(ratio)
    if (abs(ratio - nearest) < 1e-2 and
        (effective_size - 1) * nearest + 1 <= size):
      known[j] = dilate(base, nearest, size)     # exact: see the docstring
  with jax.ensure_compile_time_eval():   # concrete even inside a jit trace
    known.update(_solve_joint(known, scales, size))
  basis = _normalise_by_min_scale(
      np.stack([known[j] for j in range(len(scales))], axis=1))
  basis = basis.astype(np.float32)
  basis.flags.writeable = False
  return basis


def disco_basis(size: int, scales: Sequence[float], *,
                effective_size: int = 7, min_scale: float = 1.9,
                max_order: int = 4, mult: float = 1.5,
                dilate_integer: bool = False) -> np.ndarray:
  """A basis solved for discrete-scale equivariance (module docstring).

  Args:
    size: kernel side ``k`` (odd).
    scales: geometric scales; only their ratios to ``scales[0]`` matter.
    effective_size: the smallest scale's kernels live on this centred grid;
      ``F = effective_size**2`` functions.
    min_scale: width of the Hermite functions on that grid (DISCO's
      ``basis_min_scale``; 1.9 in their MNIST runs).
    max_order, mult: as :func:`hermite_basis` (DISCO: 4 and 1.5).
    dilate_integer: fix the kernels at integer ratios ``r`` to the smallest
      scale's dilated by ``r`` (DISCO's choice, exact for stride-``r``
      subsampling) instead of solving for them too. Off by default: under
      the band-limited rescale a dilated kernel's spectral copies break the
      pairs with non-integer ratios (``[1, 1.26, 1.59, 2]``: pair errors up
      to 0.2 with it, <= 4e-4 without; docs/scale.md).

  Returns:
    float32 ``[F, S, size, size]``, read-only; computed once per process
    and argument set (about a second for the MNIST basis).
  """
  size, scales, effective_size = _check_common(size, scales, effective_size)
  min_scale = validate.number(min_scale, 'min_scale', minimum=0.0,
                              exclusive_minimum=True)
  max_order, mult = _check_hermite_options(max_order, mult)
  if not isinstance(dilate_integer, bool):
    raise ValueError(f'dilate_integer must be True or False; got '
                     f'{dilate_integer!r}.')
  return _disco_basis(size, scales, effective_size, float(min_scale),
                      max_order, float(mult), dilate_integer)


def make_basis(kind: str, size: int, scales: Sequence[float], **options
               ) -> np.ndarray:
  """:func:`hermite_basis` (``'hermite'``) or :func:`disco_basis`
  (``'disco'``) with their keyword options."""
  validate.check_choice(kind, 'basis', BASES)
  return (hermite_basis if kind == 'hermite' else disco_basis)(
      size, scales, **options)


def equivariance_errors(basis: jax.typing.ArrayLike, scales: Sequence[float],
                        images: jax.typing.ArrayLike | None = None
                        ) -> np.ndarray:
  """How far each pair of scales is from ``psi_j = psi_i`` rescaled.

  For every pair ``i < j`` (ratio ``r = sigma_j / sigma_i``):
  ``||rescale(conv(x, psi_j), 1 / r) - conv(rescale(x, 1 / r), psi_i)||^2 /
  ||conv(rescale(x, 1 / r), psi_i)||^2``, summed over functions and images,
  compared inside the shrunk image away from its border (the relative
  squared error DISCO's Figure reports, with our rescale).

  Args:
    basis: ``[F, S, k, k]``.
    scales: its ``S`` scales.
    images: ``[N, n, n, 1]`` inputs; default held-out white noise (another
      draw than the solver's, sized per pair as the solver's).

  Returns:
    float64 ``[S, S]``: entry ``[i, j]`` for ``i < j``, NaN elsewhere.
  """
  validate.check_array(basis, 'basis', rank=4, layout='[F, S, k, k]')
  basis = np.asarray(basis, np.float32)
  scales = tuple(float(s) for s in scales)
  scale_lib.geometric_ratio(scales, 'scales')
  if len(scales) != basis.shape[1]:
    raise ValueError(f'scales must have one entry per basis scale (S = '
                     f'{basis.shape[1]}); got {len(scales)}.')
  if images is not None:
    validate.check_array(images, 'images', rank=4, layout='[N, n, n, 1]')
    if np.shape(images)[3] != 1 or np.shape(images)[1] != np.shape(images)[2]:
      raise ValueError(f'images must be square single-channel [N, n, n, 1]; '
                       f'got shape {tuple(np.shape(images))}.')
  size = basis.shape[-1]
  errors = np.full((len(scales), len(scales)), np.nan)
  for i in range(len(scales)):
    for j in range(i + 1, len(scales)):
      ratio = scales[j] / scales[i]
      x = images if images is not None else _noise(ratio, size,
                                                   _SOLVER_SEED + 1)
      x = jnp.asarray(x, jnp.float32)
      mask = _valid_mask(x.shape[1], ratio, margin=_margin(size))
      if not mask.any():
        raise ValueError(f'images must be large enough to compare scales '
                         f'{scales[i]:g} and {scales[j]:g} (ratio '
                         f'{ratio:.3g}) away from the border; got side '
                         f'{x.shape[1]}.')
      actual = scale_lib.rescale(_conv_each(x, basis[:, j]), 1 / ratio)
      expected = _conv_each(scale_lib.rescale(x, 1 / ratio),
                            basis[:, i])
      difference = np.asarray(actual - expected, np.float64)[:, mask]
      reference = np.asarray(expected, np.float64)[:, mask]
      errors[i, j] = (difference**2).sum() / (reference**2).sum()
  return errors
