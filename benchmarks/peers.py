r"""equivlab side by side with its PyTorch peers, timed in the same run.

  pip install -r benchmarks/requirements-bench.txt   # torch, antialiased-cnns, e2cnn
  python -m benchmarks.peers            # every case (~10 min on 2 CPU cores)
  python -m benchmarks.peers --quick    # one case per section (~2 min)
  python -m benchmarks.peers --sections=blur,gconv

Every row times forward + backward (the output, and the gradients with
respect to the input and any weights, for a random output cotangent) as the
median over interleaved rounds: equivlab, its peer and, where a speed-up is
claimed, the implementation before it ("before"), alternating, so other load
on the machine slows all of them alike. ``ratio`` = equivlab / peer (< 1:
equivlab is faster). Sections:

* ``blur`` — ``layers.blur_pool`` vs ``antialiased_cnns.BlurPool``; outputs
  and input gradients are checked equal (``check`` = max abs difference).
  "before": ``method='slices'``.
* ``layers`` — ``conv2d`` ('valid', 'circular') and a 2x2 ``max_pool`` vs
  ``torch.nn.functional``; outputs checked equal. "before": the plain XLA
  lowering (unpadded conv, ``reduce_window`` max).
* ``gconv`` — p4 / p4m lifting and group convolutions vs e2cnn's ``R2Conv``
  with C4 / D4 regular fields (3x3, zero padding 1). The parametrisations
  differ (e2cnn band-limits its filter basis), so outputs are not compared;
  the convolutions have the same shapes and FLOPs.
* ``profile`` — where the p4 group conv's time goes: forward, input
  gradient and weight gradient of the underlying conv, each vs torch.
* ``p4cnn`` — one Adam training step of P4CNN (Cohen & Welling 2016) vs the
  same architecture in e2cnn; equivlab's GFLOP/s (XLA's FLOP count / time)
  against the measured matmul peak.
* ``harmonic`` — an H-Net layer (``layers.harmonic.HConv``, orders 0..M) vs
  e2cnn's SO(2) ``R2Conv`` on fields of frequencies 0..M: the closest peer
  (continuous rotations, band-limited steerable filters), not the same
  function.

Writes ``<out>/peers.csv`` and ``<out>/peers.md`` and prints the table.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from absl import app
from absl import flags
import jax
import jax.numpy as jnp
import numpy as np
import optax

from benchmarks import common
import groups
from layers import conv as conv_lib
from layers import group_conv
from layers import harmonic
from layers import pooling
from models import gcnn

SECTIONS = ('blur', 'layers', 'gconv', 'profile', 'p4cnn', 'harmonic')

_QUICK = flags.DEFINE_bool('quick', False, 'One case per section.')
_SECTIONS = flags.DEFINE_list('sections', list(SECTIONS),
                              f'Sections to run, of {", ".join(SECTIONS)}.')
_OUT = flags.DEFINE_string('out', 'runs/benchmarks',
                           'Folder for peers.csv and peers.md.')
_ROUNDS = flags.DEFINE_integer('rounds', 3, 'Interleaved timing rounds.')
_REPEATS = flags.DEFINE_integer('repeats', 5, 'Timed calls per round.')


def _import_peers():
  """Imports torch, antialiased_cnns and e2cnn, or says how to get them."""
  try:
    import torch  # pylint: disable=g-import-not-at-top
    import antialiased_cnns  # pylint: disable=g-import-not-at-top
    import e2cnn  # pylint: disable=g-import-not-at-top
  except ImportError as error:
    raise SystemExit(
        f'benchmarks.peers needs the peers ({error}); install them with\n'
        '  pip install -r benchmarks/requirements-bench.txt') from error
  _patch_e2cnn_for_numpy2(e2cnn)
  return torch, antialiased_cnns, e2cnn


def _patch_e2cnn_for_numpy2(e2cnn) -> None:
  """Two NumPy 2 fixes for e2cnn 0.2.3 (its last release, 2021).

  Its kernel bases hash with ``ndarray.tostring``, which NumPy 2 removed:
  the same hash with ``tobytes`` (only a cache key).
  """
  from e2cnn.kernels import irreps_basis  # pylint: disable=g-import-not-at-top

  def hash_with_tobytes(self):
    gamma = self.gamma
    gamma = gamma.tobytes() if isinstance(gamma, np.ndarray) else gamma
    return (hash(self.in_irrep) + hash(self.out_irrep) +
            hash(self.mu.tobytes()) + hash(gamma))

  for name in ('R2FlipsSolution', 'R2ContinuousRotationsSolution',
               'R2FlipsDiscreteRotationsSolution',
               'R2FlipsContinuousRotationsSolution'):
    getattr(irreps_basis, name).__hash__ = hash_with_tobytes
  # Its kernel utilities call np.array(..., copy=False), an error in NumPy 2
  # when a copy is needed; NumPy 1 copied then, as np.asarray does.
  e2cnn.kernels.utils.np = _NumpyCopyFalseAsAsarray()


class _NumpyCopyFalseAsAsarray:
  """``numpy``, but ``array(x, copy=False)`` means ``asarray(x)``."""

  def __getattr__(self, name):
    return getattr(np, name)

  @staticmethod
  def array(obj, *args, copy=True, **kwargs):
    if copy is False:
      return np.asarray(obj, *args, **kwargs)
    return np.array(obj, *args, copy=copy, **kwargs)


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
  """Shared state: RNG, timing settings, the peers' modules."""

  def __init__(self, *, rounds: int, repeats: int):
    self.torch, self.antialiased_cnns, self.e2cnn = _import_peers()
    self.rng = np.random.default_rng(0)
    self.rounds = rounds
    self.repeats = repeats

  def normal(self, *shape: int) -> np.ndarray:
    return self.rng.standard_normal(shape).astype(np.float32)

  def tensor(self, array: np.ndarray, grad: bool = False):
    return self.torch.from_numpy(array.copy()).requires_grad_(grad)

  def time(self, fns: dict[str, Callable[[], Any]]) -> dict[str, float]:
    """Interleaved medians in milliseconds."""
    seconds = common.interleaved_medians(fns, rounds=self.rounds,
                                         repeats=self.repeats)
    return {name: 1e3 * value for name, value in seconds.items()}


def _vjp_step(fn: Callable[..., jax.Array], argnums: Sequence[int]
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


def _compile(fn: Callable[..., Any], *args: Any):
  """AOT-compiled ``jax.jit(fn)`` for ``args`` (compiled now, in context).

  ``fn`` is wrapped in a new function first: jit caches traces per function
  object, and a "before" compile must trace again inside its context.
  """
  return jax.jit(lambda *a: fn(*a)).lower(*args).compile()  # pylint: disable=unnecessary-lambda


def _nchw(x: np.ndarray) -> np.ndarray:
  return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def _nhwc(x) -> np.ndarray:
  return np.asarray(x).transpose(0, 2, 3, 1)


@contextlib.contextmanager
def previous_lowering():
  """equivlab before the speed work: plain XLA convs and max pools.

  Inside the context, ``conv2d`` hands 'VALID' convolutions to XLA as they
  are and non-overlapping pools use ``lax.reduce_window``; functions
  compiled inside keep that lowering.
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
    yield
  finally:
    conv_lib._lax_conv, pooling._tiled_pool = saved  # pylint: disable=protected-access


def _max_abs(a, b) -> float:
  return float(np.max(np.abs(np.asarray(a) - np.asarray(b))))


# ---------------------------------------------------------------- blur


def blur_rows(bench: Bench, quick: bool) -> list[Row]:
  """``blur_pool`` vs ``antialiased_cnns.BlurPool`` (reflect padding)."""
  cases = [(64, 64, 56, 56, 4, 2)]  # the case: [B, C, H, W], k, s
  if not quick:
    cases += [(64, 64, 56, 56, 3, 2), (64, 64, 56, 56, 5, 2),
              (64, 64, 56, 56, 3, 3), (32, 128, 28, 28, 3, 2),
              (16, 32, 112, 112, 3, 2), (128, 256, 14, 14, 4, 2)]
  torch = bench.torch
  rows = []
  for b, c, h, w, k, s in cases:
    x = bench.normal(b, h, w, c)
    peer = bench.antialiased_cnns.BlurPool(c, filt_size=k, stride=s)
    x_t = bench.tensor(_nchw(x), grad=True)
    with torch.no_grad():
      out_shape = peer(x_t).shape
    dy_t = bench.tensor(bench.normal(*out_shape))
    dy = jnp.asarray(_nhwc(dy_t.numpy()))
    x_j = jnp.asarray(x)

    def peer_step(x_t=x_t, peer=peer, dy_t=dy_t):
      x_t.grad = None
      y = peer(x_t)
      y.backward(dy_t)
      return y

    steps = {}
    for method in ('matmul', 'slices'):
      fn = functools.partial(pooling.blur_pool, stride=s, filter_size=k,
                             padding='reflect', method=method)
      steps[method] = _compile(_vjp_step(fn, (0,)), x_j, dy)
    y_peer = peer_step()
    y, (dx,) = steps['matmul'](x_j, dy)
    check = max(_max_abs(y, _nhwc(y_peer.detach().numpy())),
                _max_abs(dx, _nhwc(x_t.grad.numpy())))
    times = bench.time({
        'equivlab': common.jax_call(steps['matmul'], x_j, dy),
        'peer': peer_step,
        'before': common.jax_call(steps['slices'], x_j, dy)})
    rows.append(Row('blur', f'[{b},{c},{h},{w}] k={k} s={s}',
                    times['equivlab'], 'antialiased_cnns.BlurPool',
                    times['peer'], times['before'],
                    check=f'max|diff| {check:.1e}'))
  return rows


# -------------------------------------------------------------- layers


def layer_rows(bench: Bench, quick: bool) -> list[Row]:
  """conv2d and max_pool vs torch.nn.functional (same numbers)."""
  torch = bench.torch
  functional = torch.nn.functional
  rows = []
  conv_cases = [('valid', 64, 26, 40)]
  if not quick:
    conv_cases += [('circular', 64, 28, 64), ('valid', 64, 28, 64)]
  for padding, b, size, c in conv_cases:
    x, kernel = bench.normal(b, size, size, c), bench.normal(3, 3, c, c)
    out = size - 2 if padding == 'valid' else size
    dy = bench.normal(b, out, out, c)
    x_t, w_t = bench.tensor(_nchw(x), True), bench.tensor(
        np.ascontiguousarray(kernel.transpose(3, 2, 0, 1)), True)
    dy_t = bench.tensor(_nchw(dy))

    def peer_step(x_t=x_t, w_t=w_t, dy_t=dy_t, padding=padding):
      x_t.grad = w_t.grad = None
      inputs = (functional.pad(x_t, (1, 1, 1, 1), mode='circular')
                if padding == 'circular' else x_t)
      y = functional.conv2d(inputs, w_t)
      y.backward(dy_t)
      return y

    fn = functools.partial(conv_lib.conv2d, padding=padding)
    args = (jnp.asarray(x), jnp.asarray(kernel), jnp.asarray(dy))
    step = _compile(_vjp_step(fn, (0, 1)), *args)
    with previous_lowering():
      before = _compile(_vjp_step(fn, (0, 1)), *args)
    y_peer = peer_step()
    check = _max_abs(step(*args)[0], _nhwc(y_peer.detach().numpy()))
    times = bench.time({'equivlab': common.jax_call(step, *args),
                        'peer': peer_step,
                        'before': common.jax_call(before, *args)})
    rows.append(Row('layers', f'conv2d {padding} [{b},{size},{size},{c}] '
                    f'3x3 -> {c}', times['equivlab'], 'F.conv2d',
                    times['peer'], times['before'],
                    check=f'max|diff| {check:.1e}'))
  b, size, c = 64, 24, 40
  x, dy = bench.normal(b, size, size, c), bench.normal(b, size // 2,
                                                        size // 2, c)
  x_t, dy_t = bench.tensor(_nchw(x), True), bench.tensor(_nchw(dy))

  def pool_step():
    x_t.grad = None
    y = functional.max_pool2d(x_t, 2)
    y.backward(dy_t)
    return y

  fn = functools.partial(pooling.max_pool, window=2)
  args = (jnp.asarray(x), jnp.asarray(dy))
  step = _compile(_vjp_step(fn, (0,)), *args)
  with previous_lowering():
    before = _compile(_vjp_step(fn, (0,)), *args)
  check = _max_abs(step(*args)[0], _nhwc(pool_step().detach().numpy()))
  times = bench.time({'equivlab': common.jax_call(step, *args),
                      'peer': pool_step,
                      'before': common.jax_call(before, *args)})
  rows.append(Row('layers', f'max_pool 2x2 [{b},{size},{size},{c}]',
                  times['equivlab'], 'F.max_pool2d', times['peer'],
                  times['before'], check=f'max|diff| {check:.1e}'))
  return rows


# --------------------------------------------------------------- gconv


def _gspace(e2cnn, group_name: str):
  gspaces = e2cnn.gspaces
  return (gspaces.Rot2dOnR2(4) if group_name == 'p4'
          else gspaces.FlipRot2dOnR2(4))


def _r2conv_step(bench: Bench, conv, in_type, x_t, dy_t) -> Callable[[], Any]:
  geometric = bench.e2cnn.nn.GeometricTensor

  def step():
    conv.zero_grad(set_to_none=True)
    x_t.grad = None
    y = conv(geometric(x_t, in_type)).tensor
    y.backward(dy_t)
    return y
  return step


def gconv_rows(bench: Bench, quick: bool) -> list[Row]:
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
      x_peer = _nchw(x)
    else:
      in_type = out_type
      x = bench.normal(batch, size, size, group.order, fields)
      kernel = bench.normal(3, 3, group.order, fields, fields) * 0.1
      fn = functools.partial(group_conv.group_conv2d, group=group,
                             padding='zeros')
      x_peer = _nchw(x.reshape(batch, size, size, -1))
    dy = bench.normal(batch, size, size, group.order, fields)
    conv = enn.R2Conv(in_type, out_type, 3, padding=1, bias=False)
    peer_step = _r2conv_step(
        bench, conv, in_type, bench.tensor(x_peer, True),
        bench.tensor(_nchw(dy.reshape(batch, size, size, -1))))
    args = (jnp.asarray(x), jnp.asarray(kernel), jnp.asarray(dy))
    step = _compile(_vjp_step(lambda x, k: fn(x, k), (0, 1)), *args)
    flops = common.compiled_flops(step)
    times = bench.time({'equivlab': common.jax_call(step, *args),
                        'peer': peer_step})
    rows.append(Row(
        'gconv', f'{group_name} {kind} {fields} fields {size}x{size} '
        f'(conv {x_peer.shape[1]} -> {group.order * fields} ch)',
        times['equivlab'], 'e2cnn R2Conv', times['peer'],
        equivlab_gflops=flops / times['equivlab'] / 1e6,
        check='shapes, FLOPs'))
  return rows


def profile_rows(bench: Bench, quick: bool) -> list[Row]:
  """The p4 group conv's conv, split into forward / input grad / weight grad."""
  del quick
  torch = bench.torch
  functional = torch.nn.functional
  batch, size, channels = 64, 28, 64  # p4, 16 fields: a 64 -> 64 conv
  x, kernel = bench.normal(batch, size, size, channels), bench.normal(
      3, 3, channels, channels)
  dy = bench.normal(batch, size, size, channels)
  x_t, w_t = bench.tensor(_nchw(x), True), bench.tensor(
      np.ascontiguousarray(kernel.transpose(3, 2, 0, 1)), True)
  dy_t = bench.tensor(_nchw(dy))
  conv = functools.partial(conv_lib.conv2d, padding='zeros')
  args = tuple(jnp.asarray(a) for a in (x, kernel, dy))
  ours = {
      'forward': _compile(lambda x, k, dy: conv(x, k), *args),
      'input gradient': _compile(
          lambda x, k, dy: jax.vjp(lambda x: conv(x, k), x)[1](dy), *args),
      'weight gradient': _compile(
          lambda x, k, dy: jax.vjp(lambda k: conv(x, k), k)[1](dy), *args),
  }

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
  for part, compiled in ours.items():
    times = bench.time({'equivlab': common.jax_call(compiled, *args),
                        'peer': peers[part]})
    rows.append(Row('profile', f'p4 group conv, {part} '
                    f'([{batch},{size},{size},{channels}] 3x3)',
                    times['equivlab'], 'torch conv2d', times['peer'],
                    equivlab_gflops=flops / times['equivlab'] / 1e6))
  return rows


# --------------------------------------------------------------- p4cnn


def _e2cnn_p4cnn(e2cnn, torch, channels: int = 10, num_classes: int = 10):
  """P4CNN (Cohen & Welling 2016) in e2cnn, as models.gcnn.P4CNN."""
  enn = e2cnn.nn
  gspace = e2cnn.gspaces.Rot2dOnR2(4)
  regular = enn.FieldType(gspace, channels * [gspace.regular_repr])
  layers = []
  in_type = enn.FieldType(gspace, [gspace.trivial_repr])
  for layer in range(1, 7):
    layers += [enn.R2Conv(in_type, regular, 3), enn.InnerBatchNorm(regular),
               enn.ReLU(regular)]
    if layer == 2:
      layers.append(enn.PointwiseMaxPool(regular, 2))
    in_type = regular
  readout = enn.FieldType(gspace, num_classes * [gspace.regular_repr])
  layers += [enn.R2Conv(regular, readout, 4), enn.GroupPooling(readout)]
  body = enn.SequentialModule(*layers)
  input_type = enn.FieldType(gspace, [gspace.trivial_repr])

  class Net(torch.nn.Module):

    def __init__(self):
      super().__init__()
      self.body = body

    def forward(self, images):
      y = self.body(enn.GeometricTensor(images, input_type)).tensor
      return torch.amax(y, dim=(2, 3))  # global max: [B, classes]

  return Net()


def p4cnn_rows(bench: Bench, quick: bool) -> list[Row]:
  """One Adam step of P4CNN, equivlab vs e2cnn; GFLOP/s vs matmul peak."""
  torch = bench.torch
  peak = common.matmul_gflops()
  rows = []
  for batch in ((64,) if quick else (64, 128)):
    images = bench.rng.random((batch, 28, 28, 1), np.float32)
    labels = bench.rng.integers(0, 10, batch)
    model = gcnn.P4CNN()
    variables = jax.jit(functools.partial(model.init, train=False))(
        jax.random.key(0, impl='rbg'), jnp.zeros((1, 28, 28, 1)))
    tx = optax.adam(1e-3)
    opt_state = tx.init(variables['params'])

    def train_step(params, batch_stats, opt_state, images, labels,
                   model=model, tx=tx):
      def loss_fn(params):
        logits, updates = model.apply(
            {'params': params, 'batch_stats': batch_stats}, images,
            train=True, mutable=['batch_stats'])
        loss = optax.softmax_cross_entropy_with_integer_labels(
            logits, labels).mean()
        return loss, updates['batch_stats']
      (loss, batch_stats), grads = jax.value_and_grad(
          loss_fn, has_aux=True)(params)
      updates, opt_state = tx.update(grads, opt_state, params)
      return (optax.apply_updates(params, updates), batch_stats, opt_state,
              loss)

    args = (variables['params'], variables['batch_stats'], opt_state,
            jnp.asarray(images), jnp.asarray(labels))
    step = _compile(train_step, *args)
    with previous_lowering():
      before = _compile(train_step, *args)
    flops = common.compiled_flops(step)

    net = _e2cnn_p4cnn(bench.e2cnn, torch)
    net.train()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    images_t = bench.tensor(_nchw(images))
    labels_t = torch.from_numpy(labels)

    def peer_step():
      optimizer.zero_grad(set_to_none=True)
      loss = torch.nn.functional.cross_entropy(net(images_t), labels_t)
      loss.backward()
      optimizer.step()
      return loss

    times = bench.time({'equivlab': common.jax_call(step, *args),
                        'peer': peer_step,
                        'before': common.jax_call(before, *args)})
    gflops = flops / times['equivlab'] / 1e6
    rows.append(Row(
        'p4cnn', f'P4CNN Adam step, batch {batch}, 28x28 '
        f'({flops / 1e9:.2f} GFLOP; {gflops / peak:.0%} of the '
        f'{peak:.0f} GFLOP/s matmul peak)', times['equivlab'],
        'e2cnn P4CNN + torch Adam', times['peer'], times['before'],
        equivlab_gflops=gflops, check=f'peak {peak:.0f} GFLOP/s'))
  return rows


# ------------------------------------------------------------ harmonic


def harmonic_rows(bench: Bench, quick: bool) -> list[Row]:
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
    step = _compile(_vjp_step(fn, (0, 1)), *args)
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
                        'peer': peer_step})
    rows.append(Row(
        'harmonic', f'HConv orders 0..{max_order}, {channels} ch/order, '
        f'{filter_size}x{filter_size}, [{batch},{size},{size}] '
        f'({2 * streams * channels} real ch vs e2cnn {width})',
        times['equivlab'], 'e2cnn SO(2) R2Conv', times['peer'],
        equivlab_gflops=flops / times['equivlab'] / 1e6,
        check='analogue, not equal'))
  return rows


_RUNNERS = {'blur': blur_rows, 'layers': layer_rows, 'gconv': gconv_rows,
            'profile': profile_rows, 'p4cnn': p4cnn_rows,
            'harmonic': harmonic_rows}


def run(*, sections: Sequence[str], quick: bool, out: str | None,
        rounds: int = 3, repeats: int = 5) -> list[dict[str, Any]]:
  """Runs ``sections``, prints progress and the table; returns the rows.

  Args:
    sections: names in :data:`SECTIONS`.
    quick: one case per section.
    out: folder for ``peers.csv`` / ``peers.md``; None writes nothing.
    rounds, repeats: timing (see :func:`common.interleaved_medians`).
  """
  unknown = [s for s in sections if s not in SECTIONS]
  if unknown or not sections:
    raise ValueError(f'sections must be a non-empty list of '
                     f'{", ".join(SECTIONS)}; got {list(sections)}.')
  bench = Bench(rounds=rounds, repeats=repeats)
  print(common.machine_summary())
  print(f'torch {bench.torch.__version__} with '
        f'{bench.torch.get_num_threads()} threads', flush=True)
  rows = []
  for section in sections:
    start = time.perf_counter()
    print(f'[{section}] ...', flush=True)
    for row in _RUNNERS[section](bench, quick):
      rows.append(row.as_dict())
      print(f'  {row.case}: equivlab {row.equivlab_ms:.1f} ms, '
            f'{row.peer} {row.peer_ms:.1f} ms, ratio {row.ratio:.2f}'
            + ('' if np.isnan(row.before_ms) else
               f' (before {row.before_ms:.1f} ms, {row.before_ratio:.2f})'),
            flush=True)
    print(f'[{section}] done in {time.perf_counter() - start:.0f} s',
          flush=True)
  columns = ('section', 'case', 'equivlab_ms', 'peer', 'peer_ms', 'ratio',
             'before_ms', 'before_ratio', 'equivlab_gflops', 'check')
  table = common.format_table(rows, columns)
  print(table)
  if out:
    common.write_csv(os.path.join(out, 'peers.csv'), rows)
    with open(os.path.join(out, 'peers.md'), 'w') as f:
      f.write(f'{common.machine_summary()}\n\n'
              f'`{" ".join(["python -m benchmarks.peers"] + sys.argv[1:])}`'
              f'\n\n{table}\n')
    print(f'wrote {out}/peers.csv and peers.md')
  return rows


def main(argv: Sequence[str]) -> None:
  if len(argv) > 1:
    raise app.UsageError(f'unexpected arguments: {argv[1:]}')
  run(sections=_SECTIONS.value, quick=_QUICK.value, out=_OUT.value,
      rounds=_ROUNDS.value, repeats=_REPEATS.value)


if __name__ == '__main__':
  app.run(main)
