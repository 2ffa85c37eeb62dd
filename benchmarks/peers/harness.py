"""Shared pieces of the peer benchmarks: the peers, rows, timing, lowering.

See :mod:`benchmarks.peers` for what is timed and how.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks import common
from layers import autotune
from layers import conv as conv_lib
from layers import pooling


def import_peers():
  """Imports torch, antialiased_cnns and e2cnn, or says how to get them."""
  try:
    import torch  # pylint: disable=g-import-not-at-top
    import antialiased_cnns  # pylint: disable=g-import-not-at-top
    import e2cnn  # pylint: disable=g-import-not-at-top
  except ImportError as error:
    raise SystemExit(
        f'benchmarks.peers needs the peers ({error}); install them with\n'
        '  pip install -r benchmarks/requirements-bench.txt') from error
  common.patch_e2cnn_for_numpy2(e2cnn)
  return torch, antialiased_cnns, e2cnn


@dataclasses.dataclass
class Row:
  """One line of the table (times in milliseconds)."""
  section: str
  case: str
  equivlab_ms: float
  peer: str
  peer_ms: float
  before_ms: float = float('nan')
  check: str = ''
  equivlab_gflops: float = float('nan')

  @property
  def ratio(self) -> float:
    return self.equivlab_ms / self.peer_ms

  @property
  def before_ratio(self) -> float:
    return self.before_ms / self.peer_ms

  def as_dict(self) -> dict[str, Any]:
    return dict(section=self.section, case=self.case,
                equivlab_ms=round(self.equivlab_ms, 3), peer=self.peer,
                peer_ms=round(self.peer_ms, 3), ratio=round(self.ratio, 3),
                before_ms=round(self.before_ms, 3),
                before_ratio=round(self.before_ratio, 3),
                equivlab_gflops=round(self.equivlab_gflops, 1),
                check=self.check)


class Bench:
  """Shared state: RNG, timing settings, the peers' modules, matmul peak."""

  def __init__(self, *, rounds: int, repeats: int):
    self.torch, self.antialiased_cnns, self.e2cnn = import_peers()
    self.rng = np.random.default_rng(0)
    self.rounds = rounds
    self.repeats = repeats
    self.peak_gflops = common.matmul_gflops()

  def normal(self, *shape: int) -> np.ndarray:
    return self.rng.standard_normal(shape).astype(np.float32)

  def tensor(self, array: np.ndarray, grad: bool = False):
    return self.torch.from_numpy(array.copy()).requires_grad_(grad)

  def time(self, fns: dict[str, Callable[[], Any]]) -> dict[str, float]:
    """Minimum milliseconds of interleaved rounds (other jobs only add time)."""
    samples = common.interleaved_samples(fns, rounds=self.rounds,
                                         repeats=self.repeats)
    return {name: 1e3 * min(times) for name, times in samples.items()}


def vjp_step(fn: Callable[..., jax.Array], argnums: Sequence[int]
              ) -> Callable[..., Any]:
  """``(args..., cotangent) -> (fn(args), grads w.r.t. args[argnums])``."""
  def step(*args_and_cotangent):
    *args, cotangent = args_and_cotangent

    def partial_fn(*diff_args):
      full = list(args)
      for index, value in zip(argnums, diff_args):
        full[index] = value
      return fn(*full)

    out, vjp = jax.vjp(partial_fn, *[args[i] for i in argnums])
    return out, vjp(cotangent)
  return step


def compile_step(fn: Callable[..., Any], *args: Any):
  """AOT-compiled ``jax.jit(fn)`` for ``args`` (compiled now, in context).

  ``fn`` is wrapped in a new function first: jit caches traces per function
  object, and a "before" compile must trace again inside its context.
  """
  return jax.jit(lambda *a: fn(*a)).lower(*args).compile()  # pylint: disable=unnecessary-lambda


def compile_tuned(fn: Callable[..., Any], *args: Any):
  """``compile_step`` with conv autotuning on, from scratch (no file).

  Returns:
    ``(compiled, seconds spent compiling and tuning, {conv key: Choice})``.
  """
  autotune.clear()
  start = time.perf_counter()
  with autotune.settings(enabled=True, cache_file='', force=None):
    compiled = compile_step(fn, *args)
  seconds = time.perf_counter() - start
  choices = {key: autotune.Choice(**roles) for key, roles in
             autotune.export_choices()['choices'].items()}
  for key, roles in autotune.timings().items():
    print(f'    tuned {key}: ' + '; '.join(
        f'{role} ' + ' '.join(f'{name} {ms:.1f}' for name, ms in times.items())
        for role, times in roles.items()) + ' (ms)', flush=True)
  return compiled, seconds, choices


def describe(choices) -> str:
  """Lowerings of the tuned convs per role: 'fwd xla 5, taps 1; dx ...'."""
  parts = []
  for role, short in (('forward', 'fwd'), ('input_grad', 'dx'),
                      ('filter_grad', 'dw')):
    counts = {}
    for choice in choices.values():
      name = getattr(choice, role)
      counts[name] = counts.get(name, 0) + 1
    parts.append(f'{short} ' + ', '.join(
        f'{name} {n}' for name, n in sorted(counts.items())))
  return '; '.join(parts) if choices else 'no conv above min_flops'


def nchw(x: np.ndarray) -> np.ndarray:
  return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def nhwc(x) -> np.ndarray:
  return np.asarray(x).transpose(0, 2, 3, 1)


@contextlib.contextmanager
def previous_lowering():
  """equivlab before the speed work: plain XLA convs and max pools.

  Inside the context, ``conv2d`` hands 'VALID' convolutions to XLA as they
  are (conv autotuning off) and non-overlapping pools use
  ``lax.reduce_window``; functions compiled inside keep that lowering.
  """
  saved = conv_lib._lax_conv, pooling._tiled_pool  # pylint: disable=protected-access

  def plain_conv(x, kernel, *, strides, padding, dilations):
    return jax.lax.conv_general_dilated(
        x, kernel, window_strides=strides, padding=padding,
        rhs_dilation=dilations, dimension_numbers=('NHWC', 'HWIO', 'NHWC'))

  def reduce_window_pool(x, *, window, pads, reducer, count_inside):
    dims, lax_pads = (1,) + window + (1,), ((0, 0),) + pads + ((0, 0),)
    if reducer == 'max':
      return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, dims, dims,
                                   lax_pads)
    total = jax.lax.reduce_window(x, 0.0, jax.lax.add, dims, dims, lax_pads)
    if not count_inside:
      return total / (window[0] * window[1])
    ones = jnp.ones((1,) + x.shape[1:3] + (1,), x.dtype)
    return total / jax.lax.reduce_window(ones, 0.0, jax.lax.add, dims, dims,
                                         lax_pads)

  conv_lib._lax_conv, pooling._tiled_pool = plain_conv, reduce_window_pool  # pylint: disable=protected-access
  try:
    with autotune.settings(enabled=False, force=None):
      yield
  finally:
    conv_lib._lax_conv, pooling._tiled_pool = saved  # pylint: disable=protected-access


@contextlib.contextmanager
def xla_backend():
  """equivlab before the oneDNN backend: every convolution on XLA, untuned.

  Functions compiled inside keep that lowering (``layers.autotune``'s
  ``backend='xla'``); the "before" of every convolution row. JAX's caches
  are cleared on entry and exit: jitted helpers inside layers (e.g. the
  harmonic conv) would otherwise reuse a trace made on the other backend.
  """
  jax.clear_caches()
  try:
    with autotune.settings(enabled=False, force=None, backend='xla'):
      yield
  finally:
    jax.clear_caches()


def compile_with_before(fn: Callable[..., Any], *args: Any):
  """``(compile_step(fn), the same on XLA)``: a conv row's equivlab and
  "before" programs (:func:`xla_backend`)."""
  step = compile_step(fn, *args)
  with xla_backend():
    before = compile_step(fn, *args)
  return step, before


def max_abs(a, b) -> float:
  return float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
