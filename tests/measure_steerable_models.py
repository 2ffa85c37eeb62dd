"""Invariance of the registered rotated-MNIST models at 45 and 90 degrees.

    python -m tests.measure_steerable_models [--seeds 3] [--batch 8]
        [--models c8cnn,c16cnn,...] [--train_steps 0]

For each model: ``--seeds`` random initialisations (flax ``init`` with
``PRNGKey(seed)``); the batch-norm running statistics are calibrated on a
separate batch (one training-mode pass with ``bn_momentum=0``, so the
running averages equal that batch's statistics -- with the initial
statistics a norm nonlinearity's bias of 1 would silence the small inputs);
then, in eval mode, the relative error of the logits
``||f(R x) - f(x)|| / ||f(x)||`` per example on ``--batch`` smooth 28 x 28
inputs inside the inscribed disk (``groups.synthetic.smooth_images``:
white noise low-passed at 0.1 cycle/px, radial window 0.7). ``R`` is
``groups.BilinearRotation(45)`` (approximate) and ``groups.Rot90(1)``
(exact for every model here). Prints the median and the largest error over
seeds x inputs, and the parameter count.

``--train_steps N`` first trains each initialisation for ``N`` Adam steps
(learning rate 1e-3, batches of 32) on sklearn's digits centred on a 28 x 28
canvas (``data.embedded.embedded_digits``, 20 x 20 digits, no rotations),
then calibrates and measures as above.
"""

import argparse
import time

import jax
import numpy as np
import optax

import groups
from groups import synthetic
import models

MODELS = ('c8cnn', 'c16cnn', 'd16cnn', 'd16c16cnn', 'so2cnn', 'o2cnn',
          'p4cnn', 'hnet')


def calibrated_variables(name: str, seed: int, calibration: np.ndarray):
  """Random init; running statistics = those of ``calibration``."""
  model = models.build_model(name)
  variables = jax.jit(model.init)(jax.random.PRNGKey(seed), calibration)
  return model, recalibrate(name, variables, calibration)


def recalibrate(name: str, variables, calibration: np.ndarray):
  """Sets the running statistics to those of ``calibration``."""
  if 'batch_stats' in variables:
    calibrate = models.build_model(name, bn_momentum=0.0)
    _, updates = jax.jit(lambda v, x: calibrate.apply(
        v, x, train=True, mutable=['batch_stats']))(variables, calibration)
    variables = {**variables, 'batch_stats': updates['batch_stats']}
  return variables


def train(model, variables, steps: int, seed: int):
  """``steps`` Adam steps of cross-entropy on the embedded digits."""
  from data import embedded  # pylint: disable=g-import-not-at-top
  images, labels = embedded.embedded_digits(canvas_size=28, digit_size=20)
  optimizer = optax.adam(1e-3)

  @jax.jit
  def step(params, batch_stats, opt_state, x, y):
    def loss_fn(params):
      logits, updates = model.apply(
          {'params': params, 'batch_stats': batch_stats}, x, train=True,
          mutable=['batch_stats'])
      loss = optax.softmax_cross_entropy_with_integer_labels(logits, y)
      return loss.mean(), updates['batch_stats']
    (_, batch_stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(
        params)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), batch_stats, opt_state

  params = variables['params']
  batch_stats = variables.get('batch_stats', {})
  opt_state = optimizer.init(params)
  rng = np.random.default_rng(seed)
  for _ in range(steps):
    index = rng.choice(len(images), 32, replace=False)
    params, batch_stats, opt_state = step(params, batch_stats, opt_state,
                                          images[index], labels[index])
  return {**variables, 'params': params}


def measure(name: str, seeds: int, batch: int, train_steps: int = 0
            ) -> dict:
  rng = np.random.default_rng(0)
  x = synthetic.smooth_images(rng, (batch, 28, 28, 1), cutoff=0.1)
  calibration = synthetic.smooth_images(rng, (batch, 28, 28, 1), cutoff=0.1)
  errors = {'45': [], '90': []}
  count = 0
  for seed in range(seeds):
    model, variables = calibrated_variables(name, seed, calibration)
    if train_steps:
      variables = train(model, variables, train_steps, seed)
      variables = recalibrate(name, variables, calibration)
    count = sum(int(np.prod(leaf.shape)) for leaf in
                jax.tree_util.tree_leaves(variables['params']))
    fn = jax.jit(lambda x, v=variables, m=model: m.apply(v, x))
    for label, rotation in (('45', groups.BilinearRotation(45.0)),
                            ('90', groups.Rot90(1))):
      errors[label] += list(np.asarray(groups.equivariance_error(
          fn, x, rotation, groups.Identity())))
  return {'params': count,
          **{f'{k} median': float(np.median(v)) for k, v in errors.items()},
          **{f'{k} max': float(np.max(v)) for k, v in errors.items()}}


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--seeds', type=int, default=3)
  parser.add_argument('--batch', type=int, default=8)
  parser.add_argument('--models', default=','.join(MODELS))
  parser.add_argument('--train_steps', type=int, default=0)
  args = parser.parse_args()
  print(f'relative error of the logits, {args.seeds} seeds x {args.batch} '
        'smooth 28x28 inputs, eval mode, calibrated batch norm, '
        f'{args.train_steps} training steps')
  print('| model | params | 45°: median | 45°: max | 90°: max |')
  print('|---|---:|---:|---:|---:|')
  for name in args.models.split(','):
    start = time.time()
    row = measure(name, args.seeds, args.batch, args.train_steps)
    print(f'| {name} | {row["params"]:,} | {row["45 median"]:.3f} | '
          f'{row["45 max"]:.3f} | {row["90 max"]:.1e} |  '
          f'<!-- {time.time() - start:.0f} s -->', flush=True)


if __name__ == '__main__':
  main()
