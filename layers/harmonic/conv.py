"""Circular-harmonic convolution (H-Nets, Worrall et al. 2017).

:func:`harmonic_conv2d` (:class:`HConv`) -- complex in, complex out;
``out_k = sum_j W_{k - j} * in_j`` (cross-correlation, no conjugation), so
output order = input order + filter order, with the filters ``W_m`` of
:mod:`layers.harmonic.basis`. All ``M_in x M_out`` stream pairs and
real/imaginary parts are stacked into ONE real :func:`layers.conv2d` call
(kernel ``[k, k, 2 M_in C_in, 2 M_out C_out]``; ``C_in`` rows for a real
input). A real image ``[B, H, W, C]`` is a single order-0 stream
(:func:`to_harmonic`) and is accepted directly.
"""

from __future__ import annotations

from collections.abc import Callable
import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from groups import validate
from groups import harmonic as harmonic_groups
from layers import conv as conv_lib
from layers import initializers
from layers.harmonic import basis as basis_lib

HARMONIC_LAYOUT = harmonic_groups.HARMONIC_LAYOUT


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


@functools.lru_cache(maxsize=None)
def kernel_map(filter_size: int, num_orders: int, n_rings: int, m_in: int,
               m_out: int, is_real: bool, *, phased: bool) -> np.ndarray:
  """The constant ``G [S, F, R, k, k, P, M_in, 2, M_out]`` of the real
  harmonic kernel: ``kernel[h, w, (p, j, i), (q, k, o)] = sum_{s, f, r}
  G[s, f, r, h, w, p, j, q, k] weights[s, f, r, i, o]``, with ``weights =
  (radial cos(phase), radial sin(phase))`` (``S = 2``; ``S = 1``: radial,
  no phase) and ``p`` / ``q`` the real and imaginary parts of input stream
  ``j`` (``P = 1`` for a real image) and output stream ``k``.

  Output stream ``k`` takes filter order ``|k - j|`` from input stream ``j``
  (``W_{-m} = conj W_m``), the filter ``W_m = e^{i beta} sum_r radial
  basis[m, r]``: its real part is ``sum_r (Re basis * radial cos - Im basis *
  radial sin)``, its imaginary part ``sum_r (Re basis * radial sin + Im basis
  * radial cos)``; a complex product ``(a + i b)(u + i v)`` puts ``a`` on
  (u -> Re), ``b`` on (u -> Im), ``-b`` on (v -> Re) and ``a`` on (v -> Im).
  """
  basis = basis_lib.harmonic_basis(filter_size, num_orders=num_orders,
                                   n_rings=n_rings)
  br, bi = basis.real, basis.imag                        # [F, R, k, k]
  parts = 1 if is_real else 2
  g = np.zeros((2, num_orders, n_rings, filter_size, filter_size, parts,
                m_in, 2, m_out))
  for j in range(m_in):
    for k in range(m_out):
      f, sign = abs(k - j), (-1.0 if k < j else 1.0)
      for s, (re, im) in enumerate(((br[f], bi[f]), (-bi[f], br[f]))):
        g[s, f, :, :, :, 0, j, 0, k] = re
        g[s, f, :, :, :, 0, j, 1, k] = sign * im
        if not is_real:
          g[s, f, :, :, :, 1, j, 0, k] = -sign * im
          g[s, f, :, :, :, 1, j, 1, k] = re
  g = g if phased else g[:1]
  g.setflags(write=False)
  return g


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
  filter_size = basis_lib.check_filter_size(filter_size)
  num_orders = num_filter_orders(max_order, m_in)
  radial, phase = basis_lib.check_radial_phase(radial, phase)
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
  m_out, c_out = max_order + 1, radial.shape[3]
  # The real kernel [k, k, P M_in C_in, 2 M_out C_out] is linear in
  # (radial cos(phase), radial sin(phase)): ONE contraction with a constant
  # (kernel_map), instead of per-order filters gathered, signed, transposed
  # and concatenated (118 of hnet's 302 fused kernels were that stacking).
  if phase is None:
    weights = radial[None]                                 # [1, F, R, Ci, Co]
  else:
    weights = jnp.stack([radial * jnp.cos(phase)[:, None],
                         radial * jnp.sin(phase)[:, None]])  # [2, F, R, Ci, Co]
  g = kernel_map(filter_size, radial.shape[0], radial.shape[1], m_in, m_out,
                 is_real, phased=phase is not None)
  kernel = jnp.einsum('sfrhwpjqk,sfrio->hwpjiqko', g.astype(radial.dtype),
                      weights)
  kernel = kernel.reshape(filter_size, filter_size,
                          g.shape[5] * m_in * c_in, 2 * m_out * c_out)
  if is_real:
    x = z
  else:
    flat = z.reshape(z.shape[:3] + (m_in * c_in,))
    x = jnp.concatenate([jnp.real(flat), jnp.imag(flat)], axis=-1)
  out = conv_lib.conv2d(x, kernel, stride=stride, padding=padding,
                        dilation=dilation)  # [B, H', W', 2 M_out C_out]
  out = out.reshape(out.shape[:3] + (2, m_out, c_out))
  return jax.lax.complex(out[:, :, :, 0], out[:, :, :, 1])


def uniform_phase_init(key, shape, dtype=jnp.float32) -> jax.Array:
  """Phases uniform in ``[0, 2 pi)``, as the authors' ``get_phase_dict``."""
  return initializers.uniform(key, shape, dtype, 0.0, 2 * np.pi)


def radial_init(streams_in: int = 1) -> Callable:
  """Ring weights ``N(0, 1 / (n_rings C_in M_in))`` per filter order.

  Each ring basis has unit norm and the ring weights are independent, so an
  output stream, a sum over ``n_rings x C_in x M_in`` terms, starts with the
  variance of one input stream (the magnitude nonlinearity starts as the
  identity; there is no ReLU halving to compensate).
  """
  streams_in = validate.integer(streams_in, 'streams_in', minimum=1)
  return initializers.variance_scaling(
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
    basis_lib.check_filter_size(self.filter_size)
    validate.check_choice(self.padding, 'padding', conv_lib.CONV_PADDINGS)
    num_orders = num_filter_orders(self.max_order, m_in)
    n_rings = (basis_lib.default_n_rings(self.filter_size)
               if self.n_rings is None else validate.integer(self.n_rings, 'n_rings', minimum=1))
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
