"""Peer rows of a whole training step: P4CNN in equivlab vs e2cnn.

See :mod:`benchmarks.peers` for what is timed and how.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

from benchmarks import common
from benchmarks.peers import harness
from layers import autotune
from models import gcnn


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


def adam_step(images: np.ndarray, labels: np.ndarray):
  """P4CNN's Adam training step and its arguments for one batch.

  Args:
    images: ``[B, 28, 28, 1]`` float32.
    labels: ``[B]`` integer classes in 0..9.

  Returns:
    ``(train_step, args)``: ``train_step(*args)`` returns the new params,
    batch statistics, optimizer state and the loss (not jitted).
  """
  model = gcnn.P4CNN()
  variables = jax.jit(functools.partial(model.init, train=False))(
      jax.random.key(0, impl='rbg'), jnp.zeros((1, 28, 28, 1)))
  tx = optax.adam(1e-3)

  def train_step(params, batch_stats, opt_state, images, labels):
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

  args = (variables['params'], variables['batch_stats'],
          tx.init(variables['params']), jnp.asarray(images),
          jnp.asarray(labels))
  return train_step, args


def p4cnn_rows(bench: harness.Bench, quick: bool) -> list[harness.Row]:
  """One Adam step of P4CNN, equivlab vs e2cnn; GFLOP/s vs matmul peak."""
  torch = bench.torch
  peak = bench.peak_gflops
  rows = []
  for batch in ((64,) if quick else (64, 128)):
    images = bench.rng.random((batch, 28, 28, 1), np.float32)
    labels = bench.rng.integers(0, 10, batch)
    train_step, args = adam_step(images, labels)
    with autotune.settings(enabled=False):
      step = harness.compile_step(train_step, *args)
    with harness.xla_backend():
      before = harness.compile_step(train_step, *args)
    tuned, tune_s, choices = harness.compile_tuned(train_step, *args)
    # XLA's cost analysis does not count FFI calls: count the XLA build's.
    flops = common.compiled_flops(before)

    net = _e2cnn_p4cnn(bench.e2cnn, torch)
    net.train()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    images_t = bench.tensor(harness.nchw(images))
    labels_t = torch.from_numpy(labels)

    def peer_step():
      optimizer.zero_grad(set_to_none=True)
      loss = torch.nn.functional.cross_entropy(net(images_t), labels_t)
      loss.backward()
      optimizer.step()
      return loss

    times = bench.time({'equivlab': common.jax_call(step, *args),
                        'peer': peer_step,
                        'before': common.jax_call(before, *args),
                        'tuned': common.jax_call(tuned, *args)})
    gflops = flops / times['equivlab'] / 1e6
    rows.append(harness.Row(
        'p4cnn', f'P4CNN Adam step, batch {batch}, 28x28 '
        f'({flops / 1e9:.2f} GFLOP; {gflops / peak:.0%} of the '
        f'{peak:.0f} GFLOP/s matmul peak)', times['equivlab'],
        'e2cnn P4CNN + torch Adam', times['peer'], times['before'],
        equivlab_gflops=gflops, check=f'peak {peak:.0f} GFLOP/s'))
    gflops = flops / times['tuned'] / 1e6
    rows.append(harness.Row(
        'p4cnn', f'P4CNN Adam step, batch {batch}, autotuned conv '
        f'({gflops / peak:.0%} of peak; before = untuned)', times['tuned'],
        'e2cnn P4CNN + torch Adam', times['peer'], times['equivlab'],
        equivlab_gflops=gflops,
        check=f'tuned in {tune_s:.0f} s: {harness.describe(choices)}'))
  return rows


