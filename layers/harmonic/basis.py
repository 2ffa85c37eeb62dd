"""The circular-harmonic filter basis of H-Nets (Worrall et al. 2017).

Filters ``W_m(r, phi) = R(r) e^{i (m phi + beta)}`` (``phi``
counter-clockwise, ``y`` up). As in the authors' code: the radial profile is
``n_rings`` learned weights on rings of radii ``linspace(m != 0, n_rings -
0.5, n_rings)`` pixels; each ring is sampled at ``N`` equally spaced angles
and every sample is spread onto the pixels by a Gaussian of bandwidth 0.5
pixel normalised to unit mass; the order-``m`` basis is the ``m``-th angular
Fourier coefficient of those samples; ``beta`` is a learned phase per
(input, output) channel and order. Differences from the original, and why:
``N`` is ``ceil(pi k)`` rounded up to a multiple of 4 (so the basis turns by
exactly ``i^m`` under a quarter turn of the grid; 101 or ``ceil(pi k)``
samples make 90-degree equivariance only approximate), the basis uses
``e^{+i m phi}`` (the original's ``e^{-i m phi}`` is its conjugate) and each
ring's basis has unit L2 norm (initialisation does not depend on ``N``).
Negative orders are conjugates: ``W_{-m} = conj(W_m)``.

* :func:`harmonic_basis` -- the ring bases ``[M, n_rings, k, k]``;
* :func:`harmonic_filters` -- ``W_m = e^{i beta_m} sum_r radial[m, r]
  basis[m, r]``, ``[F, k, k, C_in, C_out]`` complex.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from groups import validate

RING_BANDWIDTH = 0.5  # pixels: std of the Gaussian spreading ring samples


def check_filter_size(filter_size) -> int:
  """``filter_size`` as an int, or a ValueError unless it is odd and >= 1."""
  filter_size = validate.integer(filter_size, 'filter_size', minimum=1)
  if filter_size % 2 == 0:
    raise ValueError(
        f'filter_size must be odd (a centre pixel to rotate about); got '
        f'{filter_size}.')
  return filter_size


def default_n_rings(filter_size: int) -> int:
  """``max(filter_size // 2, 2)``, the authors' default number of rings."""
  return max(check_filter_size(filter_size) // 2, 2)


def angular_samples(filter_size: int) -> int:
  """Samples per ring: ``ceil(pi k)`` rounded up to a multiple of 4."""
  return 4 * math.ceil(math.ceil(math.pi * check_filter_size(filter_size))
                       / 4)


def ring_radii(order: int, n_rings: int) -> np.ndarray:
  """Radii ``linspace(order != 0, n_rings - 0.5, n_rings)`` in pixels.

  Rings of order ``m != 0`` start at radius 1: ``e^{i m phi}`` has no value
  at the centre.
  """
  order = validate.integer(order, 'order', minimum=0)
  n_rings = validate.integer(n_rings, 'n_rings', minimum=1)
  return np.linspace(float(order != 0), n_rings - 0.5, n_rings)


@functools.lru_cache(maxsize=64)
def _basis(filter_size: int, num_orders: int, n_rings: int) -> np.ndarray:
  k = filter_size
  centre = (k - 1) / 2
  rows, cols = np.meshgrid(np.arange(k), np.arange(k), indexing='ij')
  pixel_x = (cols - centre).ravel()  # [k*k], Cartesian, y up
  pixel_y = (centre - rows).ravel()
  n = angular_samples(k)
  angles = 2 * np.pi * np.arange(n) / n  # [N]
  basis = np.zeros((num_orders, n_rings, k * k), np.complex128)
  for m in range(num_orders):
    radii = ring_radii(m, n_rings)[:, None]  # [R, 1]
    sample_x = radii * np.cos(angles)  # [R, N]
    sample_y = radii * np.sin(angles)
    dist2 = ((sample_x[..., None] - pixel_x)**2 +
             (sample_y[..., None] - pixel_y)**2)  # [R, N, k*k]
    spread = np.exp(-0.5 * dist2 / RING_BANDWIDTH**2)
    spread /= spread.sum(axis=-1, keepdims=True)  # each sample: unit mass
    ring = np.einsum('n,rnp->rp', np.exp(1j * m * angles), spread) / n
    norm = np.linalg.norm(ring, axis=-1, keepdims=True)
    # A ring too small to carry order m (e.g. any m > 0 on a 1x1 filter)
    # has a zero basis; leave it at zero rather than amplify rounding.
    basis[m] = np.where(norm > 1e-9, ring / np.maximum(norm, 1e-9), 0)
  basis = basis.reshape(num_orders, n_rings, k, k)
  basis.setflags(write=False)
  return basis


def harmonic_basis(filter_size: int, *, num_orders: int,
                   n_rings: int | None = None) -> np.ndarray:
  """The ring bases of orders ``0 .. num_orders - 1``.

  Args:
    filter_size: odd ``k >= 1``.
    num_orders: orders ``m = 0 .. num_orders - 1`` (int >= 1).
    n_rings: rings per order (int >= 1); default :func:`default_n_rings`.

  Returns:
    Read-only complex128 ``[num_orders, n_rings, k, k]``; entry ``[m, r]`` is
    ``~ g_r(|p|) e^{i m phi(p)}`` with unit L2 norm, and turns by exactly
    ``i^m`` under a counter-clockwise quarter turn of the ``k x k`` grid.
  """
  filter_size = check_filter_size(filter_size)
  num_orders = validate.integer(num_orders, 'num_orders', minimum=1)
  if n_rings is None:
    n_rings = default_n_rings(filter_size)
  n_rings = validate.integer(n_rings, 'n_rings', minimum=1)
  return _basis(filter_size, num_orders, n_rings)


def check_radial_phase(radial, phase) -> tuple[jax.Array, jax.Array | None]:
  """Checks ``radial [F, n_rings, C_in, C_out]`` and ``phase [F, C_in, C_out]``."""
  layout = '[F, n_rings, C_in, C_out]'
  validate.check_array(radial, 'radial', rank=4, layout=layout)
  if min(radial.shape) < 1:
    raise ValueError(f'radial must have every size >= 1 ({layout}); got '
                     f'shape {tuple(radial.shape)}.')
  radial = jnp.asarray(radial)
  if phase is not None:
    validate.check_array(phase, 'phase', rank=3, layout='[F, C_in, C_out]')
    if tuple(phase.shape) != (radial.shape[0],) + tuple(radial.shape[2:]):
      raise ValueError(
          f'phase must have shape [F, C_in, C_out] = '
          f'{(radial.shape[0],) + tuple(radial.shape[2:])} to match radial '
          f'{tuple(radial.shape)} ({layout}); got {tuple(phase.shape)}.')
    phase = jnp.asarray(phase)
  return radial, phase


def filter_parts(radial: jax.Array, phase: jax.Array | None, *,
                  filter_size: int) -> tuple[jax.Array, jax.Array]:
  """Real and imaginary parts ``[F, k, k, C_in, C_out]`` of W_0 .. W_{F-1}."""
  basis = harmonic_basis(filter_size, num_orders=radial.shape[0],
                         n_rings=radial.shape[1])
  dtype = radial.dtype
  real = jnp.einsum('frhw,frio->fhwio', basis.real.astype(dtype), radial)
  imag = jnp.einsum('frhw,frio->fhwio', basis.imag.astype(dtype), radial)
  if phase is None:
    return real, imag
  cos = jnp.cos(phase)[:, None, None]  # [F, 1, 1, C_in, C_out]
  sin = jnp.sin(phase)[:, None, None]
  return real * cos - imag * sin, real * sin + imag * cos  # times e^{i beta}


def harmonic_filters(radial: jax.typing.ArrayLike,
                     phase: jax.typing.ArrayLike | None = None, *,
                     filter_size: int) -> jax.Array:
  """Filters ``W_m = e^{i beta_m} sum_r radial[m, r] basis[m, r]``.

  Args:
    radial: ``[F, n_rings, C_in, C_out]`` float, ring weights of orders
      ``m = 0 .. F - 1``.
    phase: ``[F, C_in, C_out]`` float phase offsets ``beta`` (radians), or
      None (0).
    filter_size: odd ``k``.

  Returns:
    ``[F, k, k, C_in, C_out]`` complex; ``W_{-m}`` is ``conj(W_m)``.
  """
  radial, phase = check_radial_phase(radial, phase)
  real, imag = filter_parts(radial, phase,
                             filter_size=check_filter_size(filter_size))
  return jax.lax.complex(real, imag)
