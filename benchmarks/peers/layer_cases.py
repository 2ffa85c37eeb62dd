"""Peer rows of single layers: BlurPool, conv2d and max_pool, autotuned conv.

See :mod:`benchmarks.peers` for what is timed and how.
"""

from __future__ import annotations

import functools
from typing import Any

import jax.numpy as jnp
import numpy as np

from benchmarks import common
from benchmarks.peers import harness
from layers import autotune
from layers import conv as conv_lib
from layers import pooling


# ---------------------------------------------------------------- blur


def _conv_case(bench: harness.Bench, padding: str, b: int, size: int,
               c: int) -> tuple[Any, ...]:
  """A 3x3 ``c -> c`` conv case: ``x [b, size, size, c]``, kernel, cotangent
  ``dy``, and their torch tensors (NCHW; OIHW kernel), x and w with grads."""
  x, kernel = bench.normal(b, size, size, c), bench.normal(3, 3, c, c)
  out = size - 2 if padding == 'valid' else size
  dy = bench.normal(b, out, out, c)
  x_t, w_t = bench.tensor(harness.nchw(x), True), bench.tensor(
      np.ascontiguousarray(kernel.transpose(3, 2, 0, 1)), True)
  return x, kernel, dy, x_t, w_t, bench.tensor(harness.nchw(dy))


def blur_rows(bench: harness.Bench, quick: bool) -> list[harness.Row]:
  """``blur_pool`` vs ``antialiased_cnns.BlurPool`` (reflect padding)."""
  cases = [(64, 64, 56, 56, 4, 2)]  # the case: [B, C, H, W], k, s
  if not quick:
    cases += [(64, 64, 56, 56, 3, 2), (64, 64, 56, 56, 5, 2),
              (64, 64, 56, 56, 3, 3), (32, 128, 28, 28, 3, 2),
              (16, 32, 112, 112, 3, 2), (128, 256, 14, 14, 4, 2),
              (64, 64, 56, 56, 2, 2), (64, 64, 56, 56, 7, 2)]
  torch = bench.torch
  rows = []
  for b, c, h, w, k, s in cases:
    x = bench.normal(b, h, w, c)
    peer = bench.antialiased_cnns.BlurPool(c, filt_size=k, stride=s)
    x_t = bench.tensor(harness.nchw(x), grad=True)
    with torch.no_grad():
      out_shape = peer(x_t).shape
    dy_t = bench.tensor(bench.normal(*out_shape))
    dy = jnp.asarray(harness.nhwc(dy_t.numpy()))
    x_j = jnp.asarray(x)

    def peer_step(x_t=x_t, peer=peer, dy_t=dy_t):
      x_t.grad = None
      y = peer(x_t)
      y.backward(dy_t)
      return y

    steps = {}
    for method in ('auto', 'slices'):
      fn = functools.partial(pooling.blur_pool, stride=s, filter_size=k,
                             padding='reflect', method=method)
      steps[method] = harness.compile_step(harness.vjp_step(fn, (0,)), x_j, dy)
    y_peer = peer_step()
    y, (dx,) = steps['auto'](x_j, dy)
    check = max(harness.max_abs(y, harness.nhwc(y_peer.detach().numpy())),
                harness.max_abs(dx, harness.nhwc(x_t.grad.numpy())))
    times = bench.time({
        'equivlab': common.jax_call(steps['auto'], x_j, dy),
        'peer': peer_step,
        'before': common.jax_call(steps['slices'], x_j, dy)})
    method = pooling.auto_blur_method(k, s, w)
    rows.append(harness.Row('blur', f'[{b},{c},{h},{w}] k={k} s={s} {method}',
                            times['equivlab'], 'antialiased_cnns.BlurPool',
                            times['peer'], times['before'],
                            check=f'max|diff| {check:.1e}'))
  return rows


# -------------------------------------------------------------- layers


def layer_rows(bench: harness.Bench, quick: bool) -> list[harness.Row]:
  """conv2d and max_pool vs torch.nn.functional (same numbers)."""
  torch = bench.torch
  functional = torch.nn.functional
  rows = []
  conv_cases = [('valid', 64, 26, 40)]
  if not quick:
    conv_cases += [('circular', 64, 28, 64), ('valid', 64, 28, 64)]
  for padding, b, size, c in conv_cases:
    x, kernel, dy, x_t, w_t, dy_t = _conv_case(bench, padding, b, size, c)

    def peer_step(x_t=x_t, w_t=w_t, dy_t=dy_t, padding=padding):
      x_t.grad = w_t.grad = None
      inputs = (functional.pad(x_t, (1, 1, 1, 1), mode='circular')
                if padding == 'circular' else x_t)
      y = functional.conv2d(inputs, w_t)
      y.backward(dy_t)
      return y

    fn = functools.partial(conv_lib.conv2d, padding=padding)
    args = (jnp.asarray(x), jnp.asarray(kernel), jnp.asarray(dy))
    step, before = harness.compile_with_before(harness.vjp_step(fn, (0, 1)),
                                               *args)
    y_peer = peer_step()
    check = harness.max_abs(step(*args)[0],
                            harness.nhwc(y_peer.detach().numpy()))
    times = bench.time({'equivlab': common.jax_call(step, *args),
                        'peer': peer_step,
                        'before': common.jax_call(before, *args)})
    rows.append(harness.Row(
        'layers', f'conv2d {padding} [{b},{size},{size},{c}] 3x3 -> {c}',
        times['equivlab'], 'F.conv2d', times['peer'], times['before'],
        check=f'max|diff| {check:.1e}'))
  b, size, c = 64, 24, 40
  x, dy = bench.normal(b, size, size, c), bench.normal(b, size // 2,
                                                        size // 2, c)
  x_t = bench.tensor(harness.nchw(x), True)
  dy_t = bench.tensor(harness.nchw(dy))

  def pool_step():
    x_t.grad = None
    y = functional.max_pool2d(x_t, 2)
    y.backward(dy_t)
    return y

  fn = functools.partial(pooling.max_pool, window=2)
  args = (jnp.asarray(x), jnp.asarray(dy))
  step = harness.compile_step(harness.vjp_step(fn, (0,)), *args)
  with harness.previous_lowering():
    before = harness.compile_step(harness.vjp_step(fn, (0,)), *args)
  check = harness.max_abs(step(*args)[0],
                          harness.nhwc(pool_step().detach().numpy()))
  times = bench.time({'equivlab': common.jax_call(step, *args),
                      'peer': pool_step,
                      'before': common.jax_call(before, *args)})
  rows.append(harness.Row('layers', f'max_pool 2x2 [{b},{size},{size},{c}]',
                          times['equivlab'], 'F.max_pool2d', times['peer'],
                          times['before'], check=f'max|diff| {check:.1e}'))
  return rows + matmul_rows(bench, quick)


def matmul_rows(bench: harness.Bench, quick: bool) -> list[harness.Row]:
  """One float32 matrix product, ``jnp.dot`` (XLA:CPU) vs ``torch.matmul``.

  The same product on both sides, so the ratio is the gap between the two
  libraries' GEMM kernels, below every convolution row: ``[2048, 2048]``
  squared (the header's matmul peak), and the im2col product of the 3x3,
  64 -> 64 conv on ``[64, 28, 28, 64]`` (``[50176, 576] @ [576, 64]``).
  """
  cases = [(2048, 2048, 2048)]
  if not quick:
    cases.append((64 * 28 * 28, 9 * 64, 64))
  rows = []
  for m, k, n in cases:
    a, b = bench.normal(m, k), bench.normal(k, n)
    a_t, b_t = bench.tensor(a), bench.tensor(b)
    a_j, b_j = jnp.asarray(a), jnp.asarray(b)
    product = harness.compile_step(jnp.dot, a_j, b_j)

    def peer_step(a_t=a_t, b_t=b_t):
      with bench.torch.no_grad():
        return bench.torch.matmul(a_t, b_t)

    check = harness.max_abs(product(a_j, b_j), peer_step().numpy())
    times = bench.time({'equivlab': common.jax_call(product, a_j, b_j),
                        'peer': peer_step})
    rows.append(harness.Row(
        'layers', f'matmul [{m},{k}] @ [{k},{n}] (XLA dot)', times['equivlab'],
        'torch.matmul', times['peer'], check=f'max|diff| {check:.1e}',
        equivlab_gflops=2 * m * k * n / times['equivlab'] / 1e6))
  return rows


# ------------------------------------------------------------ autotune


def autotune_rows(bench: harness.Bench, quick: bool) -> list[harness.Row]:
  """conv2d with the autotuned lowering vs torch; "before" = untuned.

  The first case is the issue's: x ``[64, 30, 30, 64]``, 3x3, 64 -> 64
  ('valid'), whose XLA filter gradient an AVX2-only EPYC ran at 3.7 GFLOP/s.
  """
  torch = bench.torch
  functional = torch.nn.functional
  cases = [('valid', 64, 30, 64)]
  if not quick:
    cases += [('zeros', 64, 28, 64), ('circular', 64, 28, 64),
              ('valid', 64, 26, 40), ('zeros', 64, 14, 128)]
  rows = []
  for padding, b, size, c in cases:
    x, kernel, dy, x_t, w_t, dy_t = _conv_case(bench, padding, b, size, c)

    def peer_step(x_t=x_t, w_t=w_t, dy_t=dy_t, padding=padding):
      x_t.grad = w_t.grad = None
      if padding == 'circular':
        y = functional.conv2d(
            functional.pad(x_t, (1, 1, 1, 1), mode='circular'), w_t)
      else:
        y = functional.conv2d(x_t, w_t,
                              padding=1 if padding == 'zeros' else 0)
      y.backward(dy_t)
      return y

    fn = harness.vjp_step(functools.partial(conv_lib.conv2d,
                                            padding=padding), (0, 1))
    args = (jnp.asarray(x), jnp.asarray(kernel), jnp.asarray(dy))
    with autotune.settings(enabled=False):
      untuned = harness.compile_step(fn, *args)
    tuned, tune_s, choices = harness.compile_tuned(fn, *args)
    y_peer = peer_step()
    check = harness.max_abs(tuned(*args)[0],
                            harness.nhwc(y_peer.detach().numpy()))
    times = bench.time({'equivlab': common.jax_call(tuned, *args),
                        'peer': peer_step,
                        'before': common.jax_call(untuned, *args)})
    out = dy.shape[1]
    flops = 3 * 2 * b * out * out * 9 * c * c
    rows.append(harness.Row(
        'autotune', f'conv2d {padding} [{b},{size},{size},{c}] 3x3 -> {c}, '
        'fwd+bwd', times['equivlab'], 'F.conv2d', times['peer'],
        times['before'], equivlab_gflops=flops / times['equivlab'] / 1e6,
        check=(f'max|diff| {check:.1e}; tuned in {tune_s:.0f} s: '
               f'{harness.describe(choices)}')))
  return rows
