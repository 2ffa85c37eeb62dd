"""Seconds per training step and per evaluation of the CIFAR LPS study's models.

    python -m benchmarks.study_cifar_lps_speed [--steps 8] [--models strided,lps]

For each model of ``experiments/configs/study_cifar_lps.py`` (quick preset):
the jitted training step on real CIFAR-10 batches (batch 64, after one
compiling step), and the study's evaluation (every metric of
``experiments.study.measure``) on 200 test images, scaled to 10,000. Each is
reported as wall seconds and as process CPU seconds (user + system, all
threads): on a machine shared with other jobs the wall time is inflated,
while the CPU time is what the job itself needs; on a quiet 2-core machine
the wall time is between CPU / 2 and CPU. The preset's step count is chosen
from the CPU figure (the conservative one).
"""

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

import data
from experiments import study
from experiments.configs import study_cifar_lps
from experiments.train import state as state_lib
from experiments.train import step as step_lib


def _clock():
  return time.perf_counter(), time.process_time()


def _since(start):
  wall, cpu = _clock()
  return wall - start[0], cpu - start[1]


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--steps', type=int, default=8)
  parser.add_argument('--eval_images', type=int, default=200)
  parser.add_argument('--models', default='')
  args = parser.parse_args()
  config = study.resolve_presets(study_cifar_lps.get_config())
  config.num_train_steps = 1000  # any positive count: the schedule only
  labels = args.models.split(',') if args.models else list(config.run)
  train_set = data.load_dataset('cifar10', split='train')
  test_set = data.load_dataset('cifar10', split='test',
                               limit=args.eval_images)
  print(f'| model | params | train s/step wall | train s/step CPU | eval of '
        f'10,000 images wall s | eval CPU s |')
  print('|---|---:|---:|---:|---:|---:|')
  for label in labels:
    sub = study.train_config(config, label)
    model = state_lib.build_model(sub.model, num_classes=10)
    settings = step_lib.StepSettings.from_config(
        sub, mean=tuple(train_set.mean), std=tuple(train_set.std))
    tx = step_lib.make_optimizer(settings)
    state = state_lib.create_train_state(jax.random.key(0), model,
                                         train_set.images.shape[1:], tx)
    params = sum(x.size for x in jax.tree.leaves(state.params))
    step = jax.jit(lambda s, x, y, k: step_lib.train_step(
        s, x, y, k, model=model, settings=settings))
    batch = config.batch_size
    rng = np.random.default_rng(0)

    def run(state, i):
      index = rng.integers(0, len(train_set.labels), batch)
      state, metrics = step(state, jnp.asarray(train_set.images[index]),
                            jnp.asarray(train_set.labels[index]),
                            jax.random.key(i))
      jax.block_until_ready(metrics)
      return state

    state = run(state, 0)  # compiles
    start = _clock()
    for i in range(args.steps):
      state = run(state, i + 1)
    wall, cpu = _since(start)
    variables = state_lib.model_variables(state)
    apply = jax.jit(lambda x: model.apply(variables, x, train=False))

    def predict_fn(images):
      return apply(jnp.asarray((images - np.asarray(train_set.mean)) /
                               np.asarray(train_set.std)))

    images = np.asarray(test_set.images)
    labels_eval = np.asarray(test_set.labels)
    small = config.copy_and_resolve_references()
    small.eval_batch_size = min(config.eval_batch_size, args.eval_images)
    study.measure(predict_fn, images, labels_eval, small)  # compiles
    start = _clock()
    study.measure(predict_fn, images, labels_eval, small)
    eval_wall, eval_cpu = _since(start)
    scale = 10000 / args.eval_images
    print(f'| {label} | {params:,} | {wall / args.steps:.3f} | '
          f'{cpu / args.steps:.3f} | {eval_wall * scale:.0f} | '
          f'{eval_cpu * scale:.0f} |', flush=True)


if __name__ == '__main__':
  main()
