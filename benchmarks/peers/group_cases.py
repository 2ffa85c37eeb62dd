"""Peer rows of rotation-equivariant layers vs e2cnn: p4/p4m, profile, H-Net.

See :mod:`benchmarks.peers` for what is timed and how.
"""

from __future__ import annotations

from collections.abc import Callable
import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks import common
from benchmarks.peers import harness
import groups
from layers import conv as conv_lib
from layers import group_conv
from layers import harmonic


# --------------------------------------------------------------- gconv


def _gspace(e2cnn, group_name: str):
  gspaces = e2cnn.gspaces
  return (gspaces.Rot2dOnR2(4) if group_name == 'p4'
          else gspaces.FlipRot2dOnR2(4))


def _r2conv_step(bench: harness.Bench, conv, in_type, x_t,
                 dy_t) -> Callable[[], Any]:
  geometric = bench.e2cnn.nn.GeometricTensor

  def step():
    conv.zero_grad(set_to_none=True)
    x_t.grad = None
    y = conv(geometric(x_t, in_type)).tensor
    y.backward(dy_t)
    return y
  return step


def gconv_rows(bench: harness.Bench, quick: bool) -> list[harness.Row]:
  """Lifting / group convs vs e2cnn R2Conv, C4 and D4 regular fields."""
  enn = bench.e2cnn.nn
  cases = [('p4', 'group', 16, 28)]
  if not quick:
    cases += [('p4', 'lifting', 16, 28), ('p4', 'group', 8, 28),
              ('p4', 'group', 32, 28), ('p4', 'group', 16, 56),
              ('p4m', 'lifting', 16, 28), ('p4m', 'group', 8, 28),
              ('p4m', 'group', 16, 28)]
  batch, c_image = 64, 3
  rows = []
  for group_name, kind, fields, size in cases:
    group = groups.finite_group(group_name)
    gspace = _gspace(bench.e2cnn, group_name)
    out_type = enn.FieldType(gspace, fields * [gspace.regular_repr])
    if kind == 'lifting':
      in_type = enn.FieldType(gspace, c_image * [gspace.trivial_repr])
      x = bench.normal(batch, size, size, c_image)
      kernel = bench.normal(3, 3, c_image, fields) * 0.1
      fn = functools.partial(group_conv.lifting_conv2d, group=group,
                             padding='zeros')
      x_peer = harness.nchw(x)
    else:
      in_type = out_type
      x = bench.normal(batch, size, size, group.order, fields)
      kernel = bench.normal(3, 3, group.order, fields, fields) * 0.1
      fn = functools.partial(group_conv.group_conv2d, group=group,
                             padding='zeros')
      x_peer = harness.nchw(x.reshape(batch, size, size, -1))
    dy = bench.normal(batch, size, size, group.order, fields)
    conv = enn.R2Conv(in_type, out_type, 3, padding=1, bias=False)
    peer_step = _r2conv_step(
        bench, conv, in_type, bench.tensor(x_peer, True),
        bench.tensor(harness.nchw(dy.reshape(batch, size, size, -1))))
    args = (jnp.asarray(x), jnp.asarray(kernel), jnp.asarray(dy))
    step, before = harness.compile_with_before(
        harness.vjp_step(lambda x, k: fn(x, k), (0, 1)), *args)
    flops = common.compiled_flops(step)
    times = bench.time({'equivlab': common.jax_call(step, *args),
                        'peer': peer_step,
                        'before': common.jax_call(before, *args)})
    rows.append(harness.Row(
        'gconv', f'{group_name} {kind} {fields} fields {size}x{size} '
        f'(conv {x_peer.shape[1]} -> {group.order * fields} ch)',
        times['equivlab'], 'e2cnn R2Conv', times['peer'], times['before'],
        equivlab_gflops=flops / times['equivlab'] / 1e6,
        check='shapes, FLOPs'))
  return rows


def profile_rows(bench: harness.Bench, quick: bool) -> list[harness.Row]:
  """The p4 group conv's conv, split into forward / input grad / weight grad."""
  del quick
  torch = bench.torch
  functional = torch.nn.functional
  batch, size, channels = 64, 28, 64  # p4, 16 fields: a 64 -> 64 conv
  x, kernel = bench.normal(batch, size, size, channels), bench.normal(
      3, 3, channels, channels)
  dy = bench.normal(batch, size, size, channels)
  x_t, w_t = bench.tensor(harness.nchw(x), True), bench.tensor(
      np.ascontiguousarray(kernel.transpose(3, 2, 0, 1)), True)
  dy_t = bench.tensor(harness.nchw(dy))
  conv = functools.partial(conv_lib.conv2d, padding='zeros')
  args = tuple(jnp.asarray(a) for a in (x, kernel, dy))
  parts = {
      'forward': lambda x, k, dy: conv(x, k),
      'input gradient': lambda x, k, dy: jax.vjp(lambda x: conv(x, k), x)[1](
          dy),
      'weight gradient': lambda x, k, dy: jax.vjp(lambda k: conv(x, k), k)[1](
          dy),
  }
  compiled = {part: harness.compile_with_before(fn, *args)
              for part, fn in parts.items()}

  def peer_forward():
    with torch.no_grad():
      return functional.conv2d(x_t, w_t, padding=1)

  def peer_input_grad():
    return torch.nn.grad.conv2d_input(x_t.shape, w_t, dy_t, padding=1)

  def peer_weight_grad():
    return torch.nn.grad.conv2d_weight(x_t, w_t.shape, dy_t, padding=1)

  peers = {'forward': peer_forward, 'input gradient': peer_input_grad,
           'weight gradient': peer_weight_grad}
  flops = 2 * batch * size * size * channels * channels * 9
  rows = []
  for part, (step, before) in compiled.items():
    times = bench.time({'equivlab': common.jax_call(step, *args),
                        'peer': peers[part],
                        'before': common.jax_call(before, *args)})
    rows.append(harness.Row('profile', f'p4 group conv, {part} '
                            f'([{batch},{size},{size},{channels}] 3x3)',
                            times['equivlab'], 'torch conv2d', times['peer'],
                            times['before'],
                            equivlab_gflops=flops / times['equivlab'] / 1e6))
  return rows


# ------------------------------------------------------------ harmonic


def harmonic_rows(bench: harness.Bench, quick: bool) -> list[harness.Row]:
  """An H-Net layer vs e2cnn's SO(2) R2Conv with frequencies 0..M."""
  enn = bench.e2cnn.nn
  batch, size, channels, filter_size = 32, 28, 8, 5
  orders = (1,) if quick else (1, 2, 3)
  rows = []
  for max_order in orders:
    streams = max_order + 1
    layer = harmonic.HConv(channels, filter_size=filter_size,
                           max_order=max_order)
    z = (bench.normal(batch, size, size, streams, channels) +
         1j * bench.normal(batch, size, size, streams, channels)
         ).astype(np.complex64)
    params = layer.init(jax.random.key(0, impl='rbg'), z)['params']
    dy = (bench.normal(batch, size, size, streams, channels) +
          1j * bench.normal(batch, size, size, streams, channels)
          ).astype(np.complex64)

    def fn(params, z, layer=layer):
      return layer.apply({'params': params}, z)

    args = (params, jnp.asarray(z), jnp.asarray(dy))
    step, before = harness.compile_with_before(harness.vjp_step(fn, (0, 1)),
                                               *args)
    flops = common.compiled_flops(step)

    gspace = bench.e2cnn.gspaces.Rot2dOnR2(-1, maximum_frequency=max_order)
    field = [gspace.irrep(m) for m in range(max_order + 1)]
    field_type = enn.FieldType(gspace, channels * field)
    conv = enn.R2Conv(field_type, field_type, filter_size,
                      padding=filter_size // 2, bias=False)
    width = field_type.size
    peer_step = _r2conv_step(
        bench, conv, field_type,
        bench.tensor(bench.normal(batch, width, size, size), True),
        bench.tensor(bench.normal(batch, width, size, size)))
    times = bench.time({'equivlab': common.jax_call(step, *args),
                        'peer': peer_step,
                        'before': common.jax_call(before, *args)})
    rows.append(harness.Row(
        'harmonic', f'HConv orders 0..{max_order}, {channels} ch/order, '
        f'{filter_size}x{filter_size}, [{batch},{size},{size}] '
        f'({2 * streams * channels} real ch vs e2cnn {width})',
        times['equivlab'], 'e2cnn SO(2) R2Conv', times['peer'],
        times['before'], equivlab_gflops=flops / times['equivlab'] / 1e6,
        check='analogue, not equal'))
  return rows


