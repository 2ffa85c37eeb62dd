"""Circular-harmonic convolution (H-Nets, Worrall et al. 2017) and its layers.

Feature layout (see :mod:`groups.harmonic`): a harmonic feature map is a
complex64 array ``[B, H, W, M, C]``; axis 3 holds the streams of rotation
orders ``0, 1, ..., M - 1`` (``M = max_order + 1``), axis 4 the channels. A
real image ``[B, H, W, C]`` is a single order-0 stream (:func:`to_harmonic`);
:func:`harmonic_conv2d` accepts it directly. Rotating the input
counter-clockwise by ``theta`` rotates every stream and multiplies the order-
``m`` stream by ``e^{i m theta}`` (:class:`groups.harmonic.HarmonicRotation`,
exact for multiples of 90 degrees on centred grids; approximate otherwise,
because filters and images live on a square pixel grid).

Pieces, each a pure function with a thin linen module where it owns
parameters:

* :func:`harmonic_basis` / :func:`harmonic_filters` — filters
  ``W_m(r, phi) = R(r) e^{i (m phi + beta)}`` (``phi`` counter-clockwise,
  ``y`` up). As in the authors' code: the radial profile is ``n_rings``
  learned weights on rings of radii ``linspace(m != 0, n_rings - 0.5,
  n_rings)`` pixels; each ring is sampled at ``N`` equally spaced angles and
  every sample is spread onto the pixels by a Gaussian of bandwidth 0.5 pixel
  normalised to unit mass; the order-``m`` basis is the ``m``-th angular
  Fourier coefficient of those samples; ``beta`` is a learned phase per
  (input, output) channel and order. Differences from the original, and why:
  ``N`` is ``ceil(pi k)`` rounded up to a multiple of 4 (so the basis turns
  by exactly ``i^m`` under a quarter turn of the grid; 101 or ``ceil(pi k)``
  samples make 90-degree equivariance only approximate), the basis uses
  ``e^{+i m phi}`` (the original's ``e^{-i m phi}`` is its conjugate) and
  each ring's basis has unit L2 norm (initialisation does not depend on
  ``N``). Negative orders are conjugates: ``W_{-m} = conj(W_m)``.
* :func:`harmonic_conv2d` (:class:`HConv`) — complex in, complex out;
  ``out_k = sum_j W_{k - j} * in_j`` (cross-correlation, no conjugation), so
  output order = input order + filter order. All ``M_in x M_out`` stream
  pairs and real/imaginary parts are stacked into ONE real
  :func:`layers.conv2d` call (kernel ``[k, k, 2 M_in C_in, 2 M_out C_out]``;
  ``C_in`` rows for a real input).
* In :mod:`layers.harmonic_ops`, re-exported here:
  :func:`magnitude_nonlinearity` (:class:`HNonlin`), ``act(|z| + b) z / |z|``;
  :func:`magnitude_batch_norm` (:class:`HBatchNorm`), ``act(BN(|z|)) z / |z|``;
  :func:`harmonic_mean_pool`; :func:`magnitudes` and
  :func:`invariant_readout`, the rotation-invariant maps.

Magnitudes are ``sqrt(max(|z|^2, eps))`` (``eps = 1e-4`` by default): equal
to ``|z|`` above ``sqrt(eps) = 0.01`` and never 0, so ``z / |z|`` and every
gradient stay finite at ``z = 0``, where the nonlinearities output exactly 0.
Near ``z = 0`` their slope is ``act(b + sqrt(eps)) / sqrt(eps)``: 1 with the
default zero bias, up to ``100 b`` for a bias ``b > 0``.

Exactness on the grid: the layers commute exactly with
:class:`groups.Rot90` / :class:`~groups.harmonic.HarmonicRotation` on square
grids whose sampling stays centred, i.e. a stride-``s`` conv or an
``s``-strided pool of window ``w`` sees a side ``S`` with ``(S - 1) % s == 0``
('zeros' / 'circular' padding, odd ``filter_size``) or ``(S - w) % s == 0``
('valid' pooling); see :mod:`groups.rotations`.
"""

from __future__ import annotations

from collections.abc import Callable
import functools
import math

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from groups import validate
from groups import harmonic as harmonic_groups
from layers import conv as conv_lib
# The other H-Net operations live in harmonic_ops; re-exported so that
# layers.harmonic.<name> keeps working.
from layers.harmonic_ops import Activation
from layers.harmonic_ops import DEFAULT_EPS
from layers.harmonic_ops import harmonic_mean_pool
from layers.harmonic_ops import HBatchNorm
from layers.harmonic_ops import HNonlin
from layers.harmonic_ops import invariant_readout
from layers.harmonic_ops import magnitude_batch_norm
from layers.harmonic_ops import magnitude_moments
from layers.harmonic_ops import magnitude_nonlinearity
from layers.harmonic_ops import magnitudes
from layers.harmonic_ops import READOUTS

HARMONIC_LAYOUT = harmonic_groups.HARMONIC_LAYOUT
RING_BANDWIDTH = 0.5  # pixels: std of the Gaussian spreading ring samples


# --------------------------------------------------------------------------
# Filters.
# --------------------------------------------------------------------------


def _check_filter_size(filter_size) -> int:
  filter_size = validate.integer(filter_size, 'filter_size', minimum=1)
  if filter_size % 2 == 0:
    raise ValueError(
        f'filter_size must be odd (a centre pixel to rotate about); got '
        f'{filter_size}.')
  return filter_size


def default_n_rings(filter_size: int) -> int:
  """``max(filter_size // 2, 2)``, the authors' default number of rings."""
  return max(_check_filter_size(filter_size) // 2, 2)


def angular_samples(filter_size: int) -> int:
  """Samples per ring: ``ceil(pi k)`` rounded up to a multiple of 4."""
  return 4 * math.ceil(math.ceil(math.pi * _check_filter_size(filter_size))
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
  filter_size = _check_filter_size(filter_size)
  num_orders = validate.integer(num_orders, 'num_orders', minimum=1)
  if n_rings is None:
    n_rings = default_n_rings(filter_size)
  n_rings = validate.integer(n_rings, 'n_rings', minimum=1)
  return _basis(filter_size, num_orders, n_rings)


def _check_radial_phase(radial, phase) -> tuple[jax.Array, jax.Array | None]:
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


def _filter_parts(radial: jax.Array, phase: jax.Array | None, *,
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
  radial, phase = _check_radial_phase(radial, phase)
  real, imag = _filter_parts(radial, phase,
                             filter_size=_check_filter_size(filter_size))
  return jax.lax.complex(real, imag)


# --------------------------------------------------------------------------
# Convolution.
# --------------------------------------------------------------------------


def to_harmonic(x: jax.typing.ArrayLike) -> jax.Array:
  """A real image ``[B, H, W, C]`` as one order-0 stream ``[B, H, W, 1, C]``."""
  conv_lib.check_nhwc(x)
  x = jnp.asarray(x)
  return jax.lax.complex(x, jnp.zeros_like(x))[:, :, :, None, :]


def num_filter_orders(max_order: int, input_streams: int) -> int:
  """``F``: filter orders ``0 .. F - 1`` a layer needs.

  Output order ``k`` reads input order ``j`` through ``W_{k - j}``, so
  ``|k - j| <= max(max_order, input_streams - 1)``.
  """
  max_order = validate.integer(max_order, 'max_order', minimum=0)
  input_streams = validate.integer(input_streams, 'input_streams', minimum=1)
  return max(max_order, input_streams - 1) + 1


def input_signature(z, name: str = 'z') -> tuple[int, int, bool]:
  """``(M_in, C_in, is_real)`` of a real image or a harmonic map."""
  if hasattr(z, 'ndim') and z.ndim == 4:
    conv_lib.check_nhwc(z, name)
    return 1, z.shape[-1], True
  if hasattr(z, 'ndim') and z.ndim == 5:
    harmonic_groups.check_harmonic(z, name)
    return z.shape[3], z.shape[4], False
  got = (f'shape {tuple(z.shape)}' if hasattr(z, 'shape') else
         type(z).__name__)
  raise ValueError(f'{name} must be a real image [B, H, W, C] or a complex '
                   f'harmonic map {HARMONIC_LAYOUT}; got {got}.')


def harmonic_conv2d(z: jax.typing.ArrayLike, radial: jax.typing.ArrayLike,
                    phase: jax.typing.ArrayLike | None = None, *,
                    filter_size: int, max_order: int = 1,
                    stride: int | tuple[int, int] = 1,
                    padding: str = 'zeros',
                    dilation: int | tuple[int, int] = 1) -> jax.Array:
  """Harmonic convolution: ``out_k = sum_j W_{k-j} * in_j``, one conv2d call.

  Args:
    z: a real image ``[B, H, W, C_in]`` (one order-0 stream) or a complex
      harmonic map ``[B, H, W, M_in, C_in]`` (orders ``0 .. M_in - 1``).
    radial: ``[F, n_rings, C_in, C_out]`` ring weights of filter orders
      ``0 .. F - 1``, ``F = num_filter_orders(max_order, M_in)``.
    phase: ``[F, C_in, C_out]`` phase offsets, or None.
    filter_size: odd ``k``.
    max_order: output orders ``0 .. max_order`` (int >= 0).
    stride: as :func:`layers.conv2d`.
    padding: as :func:`layers.conv2d` ('zeros' is the paper's 'SAME').
    dilation: as :func:`layers.conv2d`.

  Returns:
    complex ``[B, H', W', max_order + 1, C_out]``, ``H'`` as
    :func:`layers.conv2d`.
  """
  m_in, c_in, _ = input_signature(z)
  filter_size = _check_filter_size(filter_size)
  num_orders = num_filter_orders(max_order, m_in)
  radial, phase = _check_radial_phase(radial, phase)
  expected = (num_orders, radial.shape[1], c_in, radial.shape[3])
  if tuple(radial.shape) != expected:
    raise ValueError(
        f'radial must have shape [F, n_rings, C_in, C_out] with F = '
        f'num_filter_orders(max_order={max_order}, M_in={m_in}) = '
        f'{num_orders} and C_in = {c_in}; got {tuple(radial.shape)}.')
  validate.check_choice(padding, 'padding', conv_lib.CONV_PADDINGS)
  # Validated here, so the jitted core gets hashable static options (one
  # compile per shape and options, also when called eagerly).
  return _harmonic_conv2d(jnp.asarray(z), radial, phase,
                          filter_size=filter_size, max_order=max_order,
                          stride=validate.pair(stride, 'stride'),
                          padding=padding,
                          dilation=validate.pair(dilation, 'dilation'))


@functools.partial(jax.jit, static_argnames=(
    'filter_size', 'max_order', 'stride', 'padding', 'dilation'))
def _harmonic_conv2d(z, radial, phase, *, filter_size, max_order, stride,
                     padding, dilation):
  m_in, c_in, is_real = input_signature(z)  # shapes: static under jit
  real, imag = _filter_parts(radial, phase, filter_size=filter_size)
  m_out, c_out = max_order + 1, radial.shape[3]
  # Filter order k - j for input stream j, output stream k; W_{-m} = conj W_m.
  offsets = np.arange(m_out)[None, :] - np.arange(m_in)[:, None]  # [Mi, Mo]
  signs = np.where(offsets < 0, -1.0, 1.0).astype(np.float32)
  a = real[np.abs(offsets)]  # [M_in, M_out, k, k, C_in, C_out]
  b = imag[np.abs(offsets)] * signs[:, :, None, None, None, None]
  a, b = (jnp.transpose(v, (2, 3, 0, 4, 1, 5)).reshape(
      filter_size, filter_size, m_in * c_in, m_out * c_out) for v in (a, b))
  if is_real:
    x = z
    kernel = jnp.concatenate([a, b], axis=3)  # [k, k, C_in, 2 M_out C_out]
  else:
    flat = z.reshape(z.shape[:3] + (m_in * c_in,))
    x = jnp.concatenate([jnp.real(flat), jnp.imag(flat)], axis=-1)
    # (a + ib)(u + iv) = (au - bv) + i(av + bu): rows u then v, cols Re, Im.
    kernel = jnp.concatenate([jnp.concatenate([a, b], axis=3),
                              jnp.concatenate([-b, a], axis=3)], axis=2)
  out = conv_lib.conv2d(x, kernel, stride=stride, padding=padding,
                        dilation=dilation)  # [B, H', W', 2 M_out C_out]
  out = out.reshape(out.shape[:3] + (2, m_out, c_out))
  return jax.lax.complex(out[:, :, :, 0], out[:, :, :, 1])


# --------------------------------------------------------------------------
# Linen modules.
# --------------------------------------------------------------------------


def uniform_phase_init(key, shape, dtype=jnp.float32) -> jax.Array:
  """Phases uniform in ``[0, 2 pi)``, as the authors' ``get_phase_dict``."""
  return jax.random.uniform(key, shape, dtype, 0.0, 2 * np.pi)


def radial_init(streams_in: int = 1) -> Callable:
  """Ring weights ``N(0, 1 / (n_rings C_in M_in))`` per filter order.

  Each ring basis has unit norm and the ring weights are independent, so an
  output stream, a sum over ``n_rings x C_in x M_in`` terms, starts with the
  variance of one input stream (the magnitude nonlinearity starts as the
  identity; there is no ReLU halving to compensate).
  """
  streams_in = validate.integer(streams_in, 'streams_in', minimum=1)
  return nn.initializers.variance_scaling(
      1.0 / streams_in, 'fan_in', 'normal', in_axis=-2, out_axis=-1,
      batch_axis=(0,))


class HConv(nn.Module):
  """Linen wrapper of :func:`harmonic_conv2d`; owns ring weights and phases.

  Maps a real image ``[B, H, W, C_in]`` or a harmonic map
  ``[B, H, W, M_in, C_in]`` to ``[B, H', W', max_order + 1, features]``.
  No bias: a constant would break the equivariance of orders ``m != 0``
  (biases live in :class:`HNonlin` / :class:`HBatchNorm`).

  Attributes:
    features: output channels per order.
    filter_size: odd ``k`` (5 in the paper).
    max_order: output orders ``0 .. max_order`` (1 in the paper).
    n_rings: rings of the radial profile; None for
      :func:`default_n_rings` (the paper's MNIST model uses 4 with k = 5).
    stride, padding, dilation: as :func:`layers.conv2d`.
    use_phase: learn a phase offset per order and (input, output) channel
      (the authors' read-out layer has none).
    radial_init: initializer of ``radial`` ``[F, n_rings, C_in, C_out]``;
      None for :func:`radial_init` ``(M_in)``.
    phase_init: initializer of ``phase`` ``[F, C_in, C_out]``.
  """
  features: int
  filter_size: int = 5
  max_order: int = 1
  n_rings: int | None = None
  stride: int | tuple[int, int] = 1
  padding: str = 'zeros'
  dilation: int | tuple[int, int] = 1
  use_phase: bool = True
  radial_init: Callable | None = None
  phase_init: Callable = uniform_phase_init

  @nn.compact
  def __call__(self, z: jax.Array) -> jax.Array:
    # Checked before any parameter is drawn (drawing compiles on CPU).
    m_in, c_in, _ = input_signature(z)
    features = validate.integer(self.features, 'features', minimum=1)
    _check_filter_size(self.filter_size)
    validate.check_choice(self.padding, 'padding', conv_lib.CONV_PADDINGS)
    num_orders = num_filter_orders(self.max_order, m_in)
    n_rings = (default_n_rings(self.filter_size) if self.n_rings is None
               else validate.integer(self.n_rings, 'n_rings', minimum=1))
    init = (radial_init(m_in) if self.radial_init is None else
            self.radial_init)
    radial = self.param('radial', init, (num_orders, n_rings, c_in, features),
                        jnp.float32)
    phase = (self.param('phase', self.phase_init,
                        (num_orders, c_in, features), jnp.float32)
             if self.use_phase else None)
    return harmonic_conv2d(z, radial, phase, filter_size=self.filter_size,
                           max_order=self.max_order, stride=self.stride,
                           padding=self.padding, dilation=self.dilation)
