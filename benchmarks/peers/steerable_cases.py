"""Peer rows of steerable convolutions: training vs e2cnn, exported inference.

See :mod:`benchmarks.peers` for what is timed and how. Two kinds of row:

* **training** — ``layers.steerable.steerable_conv2d`` forward + backward
  with its parameters as they are trained, the basis coefficients
  ``weights [n_basis]``: every call expands the kernel from them and takes
  the gradient back to them. The peer is e2cnn's ``R2Conv`` in train mode,
  which expands its basis on every call too. Both map regular fields of
  C_N to regular fields (5x5, zero padding 2, no bias), as many fields as
  blocks 2-3 of ``models/steerable.py``'s ``c8cnn`` / ``c16cnn`` (8 / 6),
  on the 28x28 grid of its first blocks.
* **exported** — inference with the kernel expanded once
  (``layers.steerable.export``, then ``exported_conv2d``) vs a plain
  ``lax.conv_general_dilated`` with the same kernel: forward only.

The kernel basis build time (cold C16 regular -> regular 5x5 basis vs
``R2Conv(...)`` instantiation) is not repeated here: ``python -m
benchmarks.steerable_basis`` measures it (``time_equivlab`` /
``time_e2cnn``).
"""

from __future__ import annotations

from collections.abc import Callable
import functools
from typing import Any

import jax
import jax.numpy as jnp

from benchmarks import common
from benchmarks import steerable_basis
from benchmarks.peers import group_cases
from benchmarks.peers import harness
import groups
from layers import steerable

#: (group order N, regular fields in and out) of the training rows.
CASES = ((8, 8), (16, 6))
#: The case of the exported-kernel row and of ``--quick``.
QUICK_CASE = (16, 6)
BATCH, SIZE, KERNEL_SIZE = 64, 28, 5


def regular_type(order: int, fields: int) -> groups.FieldType:
  """``fields`` regular fields of C_``order``: ``order * fields`` channels."""
  group = groups.Cyclic(order)
  return groups.FieldType(group, fields * [group.regular_representation])


def training_step(field_type: groups.FieldType, kernel_size: int
                  ) -> Callable[..., Any]:
  """The layer's forward + backward, kernel built from its coefficients.

  Args:
    field_type: input and output field type.
    kernel_size: ``k``.

  Returns:
    ``(x [B, H, W, C], weights [n_basis], dy [B, H, W, C]) -> (y [B, H, W,
    C], (dx [B, H, W, C], dweights [n_basis]))``, zero padding.
  """
  conv = functools.partial(steerable.steerable_conv2d, in_type=field_type,
                           out_type=field_type, kernel_size=kernel_size,
                           padding='zeros')
  return harness.vjp_step(lambda x, weights: conv(x, weights), (0, 1))


def exported_forward(x: jax.Array, exported: dict[str, jax.Array]
                     ) -> jax.Array:
  """Inference with an exported kernel: ``[B, H, W, C_in] -> [.., C_out]``.

  ``exported`` is :func:`layers.steerable.export`'s ``{'kernel': [k, k,
  C_in, C_out], 'bias': [C_out]}``; zero padding.
  """
  return steerable.exported_conv2d(x, exported, padding='zeros')


def plain_forward(x: jax.Array, kernel: jax.Array) -> jax.Array:
  """The plain XLA conv: ``[B, H, W, C_in]``, ``[k, k, C_in, C_out]``, 'SAME'.

  Zero padding ``(k - 1) // 2`` on each side (odd ``k``), as 'zeros'.
  """
  pad = (kernel.shape[0] - 1) // 2
  return jax.lax.conv_general_dilated(
      x, kernel, window_strides=(1, 1), padding=((pad, pad), (pad, pad)),
      dimension_numbers=('NHWC', 'HWIO', 'NHWC'))


def _e2cnn_conv(bench: harness.Bench, order: int, fields: int):
  """e2cnn's R2Conv between ``fields`` regular fields of C_``order``."""
  enn = bench.e2cnn.nn
  gspace = bench.e2cnn.gspaces.Rot2dOnR2(order)
  field_type = enn.FieldType(gspace, fields * [gspace.regular_repr])
  conv = enn.R2Conv(field_type, field_type, KERNEL_SIZE,
                    padding=KERNEL_SIZE // 2, bias=False)
  conv.train()  # expand the filter from the basis on every call
  return conv, field_type


def _kernel_space_check(bench: harness.Bench, order: int, n_basis: int,
                        conv) -> str:
  """The two layers' kernel spaces: dimensions, and one field pair's span."""
  theirs = conv.basisexpansion.dimension()
  if theirs != n_basis:
    raise AssertionError(f'C{order}: equivlab has {n_basis} basis weights, '
                         f'e2cnn {theirs}; the layers differ.')
  pair = steerable_basis.compare_pair(bench.torch, bench.e2cnn, ('C', order),
                                      ['regular'], ['regular'], KERNEL_SIZE)
  return (f'shapes; n_basis {n_basis} = e2cnn; e2cnn basis in our span '
          f'(1 field pair, resid {pair["max_residual"]:.0e}); bases differ, '
          'values not compared')


def _training_row(bench: harness.Bench, order: int,
                  fields: int) -> harness.Row:
  field_type = regular_type(order, fields)
  channels = field_type.size
  basis = steerable.layer_basis(field_type, field_type, KERNEL_SIZE)
  x = bench.normal(BATCH, SIZE, SIZE, channels)
  dy = bench.normal(BATCH, SIZE, SIZE, channels)
  weights = bench.normal(basis.size) * basis.he_std()
  args = (jnp.asarray(x), jnp.asarray(weights), jnp.asarray(dy))
  step, before = harness.compile_with_before(
      training_step(field_type, KERNEL_SIZE), *args)
  flops = common.compiled_flops(step)
  conv, peer_type = _e2cnn_conv(bench, order, fields)
  x_t = bench.tensor(harness.nchw(x), True)
  peer_step = group_cases._r2conv_step(  # pylint: disable=protected-access
      bench, conv, peer_type, x_t, bench.tensor(harness.nchw(dy)))
  y, (dx, dweights) = step(*args)
  y_peer = peer_step()
  shapes = (y.shape, dx.shape, dweights.shape)
  expected = ((BATCH, SIZE, SIZE, channels),) * 2 + ((basis.size,),)
  peer_shapes = (harness.nhwc(y_peer.detach().numpy()).shape,
                 harness.nhwc(x_t.grad.numpy()).shape)
  if shapes != expected or peer_shapes != expected[:2]:
    raise AssertionError(f'C{order}: shapes {shapes}, e2cnn {peer_shapes}; '
                         f'expected {expected}.')
  check = _kernel_space_check(bench, order, basis.size, conv)
  times = bench.time({'equivlab': common.jax_call(step, *args),
                      'peer': peer_step,
                      'before': common.jax_call(before, *args)})
  return harness.Row(
      'steerable', f'steerable conv C{order} regular, {fields} fields, '
      f'{SIZE}x{SIZE}, {KERNEL_SIZE}x{KERNEL_SIZE}, fwd+bwd (batch {BATCH}, '
      f'{channels} -> {channels} ch, {basis.size} weights)',
      times['equivlab'], 'e2cnn R2Conv (train)', times['peer'],
      times['before'],
      equivlab_gflops=flops / times['equivlab'] / 1e6, check=check)


def _exported_row(bench: harness.Bench, order: int,
                  fields: int) -> harness.Row:
  field_type = regular_type(order, fields)
  channels = field_type.size
  basis = steerable.layer_basis(field_type, field_type, KERNEL_SIZE)
  weights = bench.normal(basis.size) * basis.he_std()
  exported = jax.tree.map(jnp.asarray, steerable.export(
      weights, in_type=field_type, out_type=field_type,
      kernel_size=KERNEL_SIZE))
  x = jnp.asarray(bench.normal(BATCH, SIZE, SIZE, channels))
  ours = harness.compile_step(exported_forward, x, exported)
  plain = harness.compile_step(plain_forward, x, exported['kernel'])
  training = jax.jit(functools.partial(
      steerable.steerable_conv2d, in_type=field_type, out_type=field_type,
      kernel_size=KERNEL_SIZE, padding='zeros'))
  y = ours(x, exported)
  vs_training = harness.max_abs(y, training(x, jnp.asarray(weights)))
  vs_plain = harness.max_abs(y, plain(x, exported['kernel']))
  flops = common.compiled_flops(ours)
  times = bench.time({'equivlab': common.jax_call(ours, x, exported),
                      'peer': common.jax_call(plain, x, exported['kernel'])})
  return harness.Row(
      'steerable', f'steerable C{order} exported kernel, inference ({fields} '
      f'fields, [{BATCH},{SIZE},{SIZE},{channels}] {KERNEL_SIZE}x'
      f'{KERNEL_SIZE} -> {channels})', times['equivlab'],
      'plain conv (lax)', times['peer'],
      equivlab_gflops=flops / times['equivlab'] / 1e6,
      check=f'max abs diff vs training call {vs_training:.1e}, '
      f'vs plain conv {vs_plain:.1e}')


def steerable_rows(bench: harness.Bench, quick: bool) -> list[harness.Row]:
  """Steerable conv fwd+bwd vs e2cnn R2Conv; exported kernel vs plain conv."""
  cases = (QUICK_CASE,) if quick else CASES
  rows = [_training_row(bench, order, fields) for order, fields in cases]
  rows.append(_exported_row(bench, *QUICK_CASE))
  return rows
