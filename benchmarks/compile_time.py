"""How long each registered classifier takes to jit: init, eval and a training step.

    python -m benchmarks.compile_time [--out runs/benchmarks] [--models a,b]
    python -m benchmarks.compile_time --check     # exit 1 on a regression
    python -m benchmarks.compile_time --before REV  # + columns of commit REV

For every model in :data:`models.MODELS` (built with its registered defaults,
10 classes) on its usual input (:data:`MODEL_INPUTS`: the data set its
configs in experiments/configs/ train it on), three functions are lowered and
compiled ahead of time, ``jax.jit(f).lower(*args).compile()``, each timed
separately (lowering = tracing + StableHLO; compile = XLA):

* ``init`` — ``model.init(key, x[1, H, W, C], train=False)`` with an 'rbg'
  key, as the training code does (threefry init compiles ~10x slower on CPU;
  ``--prng_impl=threefry2x32`` measures that);
* ``eval`` — ``model.apply(variables, x[B, H, W, C], train=False)``;
* ``train`` — one step: ``value_and_grad`` of the mean softmax cross-entropy
  (batch statistics mutable when the model has them, a 'dropout' rng),
  then an ``optax.adam`` update on one flat vector of the parameters
  (``optax.flatten``: ``config.optimizer_state='flat'``, the training
  code's default; :func:`make_optimizer`). Written here, not imported from
  experiments/ (benchmarks depend only on models, layers and groups); it
  leaves out the training code's augmentation, input normalisation and
  learning-rate schedule.

Arguments are abstract (``jax.ShapeDtypeStruct``) wherever they can be, so
nothing but the compiles runs. Each model is measured once per process (a
second ``lower().compile()`` of the same function in one process may hit
JAX's caches). ``train_fusions`` counts the fused kernels of the optimised
training step (:func:`fusion_count`), which compile time follows, and
``train_gflop`` its FLOPs by XLA's cost analysis. Prints a
table and writes ``compile_time.csv`` and ``compile_time.md`` to ``--out``.
Times are wall-clock seconds on a machine that may be shared with other jobs;
compile time is single-threaded enough that it suffers less than execution.

``--check`` compares the run with the committed table
(benchmarks/results/compile_time.csv) in ways a noisy machine does not
change: the count of fused kernels of each train step (at most
:data:`FUSION_MARGIN` times the baseline's) and its compile time relative to
the reference model's in the same process (at most :data:`TIME_MARGIN` times
the baseline's ratio); it exits 1 naming every regressed model.

Run as a command it compiles as ``main.py`` does (huge pages, and XLA:CPU's
loop emitters unless ``EQUIVLAB_FAST_COMPILE=0``: experiments/runtime.py).

``--before REV`` measures every model twice, each in a fresh process: with
this working tree and with git commit ``REV`` (``git archive`` into a
temporary folder), alternating per model, and adds REV's figures as
``before_*`` columns (train lowering + compile, fused kernels, total) beside
this tree's: one run, both columns, on one machine at one time.
"""

from __future__ import annotations

import argparse
import csv
import functools
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import optax

import models
from benchmarks import common
from experiments import reporting
from experiments import runtime

DEFAULT_OUT = os.path.join('runs', 'benchmarks')
DEFAULT_BATCH = 64  # the configs' batch_size (train.py, rotation_*, cifar)
NUM_CLASSES = 10

# Registered name -> (input [H, W, C], where that input comes from).
MODEL_INPUTS: dict[str, tuple[tuple[int, int, int], str]] = {
    'cnn': ((32, 32, 1), 'digits, 32x32 canvas (configs/train.py)'),
    'mlp': ((32, 32, 1), 'digits, 32x32 canvas (study_invariance.py)'),
    'resnet': ((32, 32, 3), 'CIFAR-10 (study_cifar.py)'),
    'z2cnn': ((28, 28, 1), 'MNIST-rot (rotation_gcnn.py)'),
    'p4cnn': ((28, 28, 1), 'MNIST-rot (rotation_gcnn.py)'),
    'p4mcnn': ((28, 28, 1), 'MNIST-rot (rotation_gcnn.py)'),
    'hnet': ((28, 28, 1), 'MNIST-rot (rotation_hnet.py)'),
    'hnet_deep': ((29, 29, 1), 'MNIST-size, 4n+1 side (models/hnet.py)'),
    'c16cnn': ((28, 28, 1), 'MNIST-rot (mnist_rot_steerable.py)'),
    'd16c16cnn': ((28, 28, 1), 'MNIST-rot (mnist_rot_steerable.py)'),
}
DEFAULT_INPUT = ((32, 32, 1), 'not in MODEL_INPUTS: 32x32x1')

COLUMNS = ('model', 'input', 'params', 'init_lower_s', 'init_compile_s',
           'eval_lower_s', 'eval_compile_s', 'train_lower_s',
           'train_compile_s', 'train_fusions', 'train_gflop', 'total_s',
           'total_cpu_s')


def make_train_step(model: Any, tx: optax.GradientTransformation):
  """``(params, batch_stats, opt_state, images, labels, key) -> new ones, loss``.

  One step of mean softmax cross-entropy on integer labels; ``batch_stats``
  is ``{}`` for models without batch norm.
  """
  def step(params, batch_stats, opt_state, images, labels, key):
    rngs = {'dropout': key}

    def loss_fn(params):
      variables = {'params': params}
      if batch_stats:
        variables['batch_stats'] = batch_stats
        logits, updates = model.apply(variables, images, train=True,
                                      rngs=rngs, mutable=['batch_stats'])
      else:
        logits, updates = model.apply(variables, images, train=True,
                                      rngs=rngs), {}
      loss = optax.softmax_cross_entropy_with_integer_labels(
          logits, labels).mean()
      return loss, updates

    (loss, updates), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
    changes, opt_state = tx.update(grads, opt_state, params)
    params = optax.apply_updates(params, changes)
    return (params, updates.get('batch_stats', batch_stats), opt_state,
            loss)
  return step


def make_optimizer() -> optax.GradientTransformation:
  """Adam on one flat vector of the parameters, as the training code's
  default ``config.optimizer_state='flat'`` has it (one update kernel per
  parameter array instead of three)."""
  return optax.flatten(optax.adam(1e-3))


def random_setup(name: str, batch: int) -> tuple[Any, jax.Array, jax.Array,
                                                  Any]:
  """``(model, images [B, H, W, C], labels [B], variables)``: ``name`` with
  its registered defaults and :data:`NUM_CLASSES`, standard-normal images of
  its usual input (:data:`MODEL_INPUTS`), labels ``0, 1, ...`` modulo the
  classes, and variables from a jitted init with 'rbg' key 0 (as training)."""
  shape, _ = MODEL_INPUTS.get(name, DEFAULT_INPUT)
  model = models.build_model(name, num_classes=NUM_CLASSES)
  images = jax.random.normal(jax.random.key(1), (batch,) + tuple(shape))
  labels = jnp.arange(batch, dtype=jnp.int32) % NUM_CLASSES
  variables = jax.jit(lambda k: model.init(k, images[:1], train=False))(
      jax.random.key(0, impl='rbg'))
  return model, images, labels, variables


def fusion_count(compiled: Any) -> int:
  """Fused kernels in a compiled function's optimised HLO: XLA:CPU emits
  (and LLVM compiles) one function per fusion, so compile time follows it."""
  return len(re.findall(r'^\s*(?:ROOT )?%?\S+ = \S+ fusion\(',
                        compiled.as_text(), re.M))


def _lower_and_compile(fn, *args) -> tuple[Any, float, float, float, Any]:
  """``jax.jit(fn)``: ``(lowered, lower s, compile s, CPU s of both,
  compiled)``.

  The CPU seconds (``time.process_time``, all threads of this process) are
  what the work costs whatever else runs on the machine; the wall seconds
  grow when other processes share the cores.
  """
  cpu_start = time.process_time()
  start = time.perf_counter()
  lowered = jax.jit(fn).lower(*args)
  lowered_at = time.perf_counter()
  compiled = lowered.compile()
  compiled_at = time.perf_counter()
  return (lowered, lowered_at - start, compiled_at - lowered_at,
          time.process_time() - cpu_start, compiled)


# Architectures over a group or basis chosen by an option with no default
# (``build_model('steerable_cnn', group='C12')``); their registered named
# sizes (c8cnn, sesn_mnist, ...) are measured instead.
GENERIC_MODELS = ('steerable_cnn', 'scale_cnn')


def default_models() -> list[str]:
  """Every registered classifier: the models with a ``num_classes`` option
  (the train step needs labels; the U-Net predicts maps), less
  :data:`GENERIC_MODELS`."""
  return [n for n in models.MODELS if 'num_classes' in models.model_options(n)
          and n not in GENERIC_MODELS]


def measure_model(name: str, *, batch_size: int = DEFAULT_BATCH,
                  image_shape: tuple[int, int, int] | None = None,
                  options: Mapping[str, Any] | None = None,
                  prng_impl: str = 'rbg', seed: int = 0) -> dict[str, Any]:
  """Lowering and compile seconds of init, eval and train of one model.

  Args:
    name: a registered model.
    batch_size: ``B`` of eval and train (init sees one image, as in
      training).
    image_shape: ``(H, W, C)``; default from :data:`MODEL_INPUTS`.
    options: passed to :func:`models.build_model` (``num_classes`` defaults
      to 10).
    prng_impl: PRNG implementation of the init key ('rbg', as the training
      code, or 'threefry2x32', JAX's default).
    seed: of the init key.

  Returns:
    A row with ``COLUMNS`` (seconds), CPU seconds per function
    (``*_cpu_s``), ``batch``, ``source`` and ``prng_impl``.
  """
  default_shape, source = MODEL_INPUTS.get(name, DEFAULT_INPUT)
  if image_shape is None:
    image_shape = default_shape
  else:
    source = 'given'
  options = {'num_classes': NUM_CLASSES, **(options or {})}
  model = models.build_model(name, **options)
  key = jax.random.key(seed, impl=prng_impl)
  one_image = jax.ShapeDtypeStruct((1,) + tuple(image_shape), jnp.float32)
  images = jax.ShapeDtypeStruct((batch_size,) + tuple(image_shape),
                                jnp.float32)
  labels = jax.ShapeDtypeStruct((batch_size,), jnp.int32)

  init = functools.partial(model.init, train=False)
  lowered, init_lower, init_compile, init_cpu, _ = _lower_and_compile(
      init, key, one_image)
  variables = lowered.out_info  # ShapeDtypeStructs: nothing runs
  params = variables['params']
  batch_stats = variables.get('batch_stats', {})

  def evaluate(variables, images):
    return model.apply(variables, images, train=False)
  _, eval_lower, eval_compile, eval_cpu, _ = _lower_and_compile(
      evaluate, variables, images)

  tx = make_optimizer()
  opt_state = jax.eval_shape(tx.init, params)
  _, train_lower, train_compile, train_cpu, train_step = _lower_and_compile(
      make_train_step(model, tx), params, batch_stats, opt_state, images,
      labels, key)
  times = {'init_lower_s': init_lower, 'init_compile_s': init_compile,
           'eval_lower_s': eval_lower, 'eval_compile_s': eval_compile,
           'train_lower_s': train_lower, 'train_compile_s': train_compile}
  return {
      'model': name,
      'input': 'x'.join(str(d) for d in image_shape),
      'params': sum(math.prod(leaf.shape)
                    for leaf in jax.tree.leaves(params)),
      **times, 'train_fusions': fusion_count(train_step),
      'train_gflop': common.compiled_flops(train_step) / 1e9,
      'total_s': sum(times.values()),
      'total_cpu_s': init_cpu + eval_cpu + train_cpu,
      'init_cpu_s': init_cpu, 'eval_cpu_s': eval_cpu,
      'train_cpu_s': train_cpu, 'batch': batch_size,
      'source': source, 'prng_impl': prng_impl,
  }


def run(names: Sequence[str] | None = None, *, out_dir: str = DEFAULT_OUT,
        batch_size: int = DEFAULT_BATCH,
        options: Mapping[str, Mapping[str, Any]] | None = None,
        image_shapes: Mapping[str, tuple[int, int, int]] | None = None,
        prng_impl: str = 'rbg', verbose: bool = True,
        before: str | None = None) -> dict[str, Any]:
  """Measures every model in ``names``; writes CSV and markdown to ``out_dir``.

  Args:
    names: registered models (default: every one with a ``num_classes``
      option, i.e. the classifiers; the U-Net is a dense predictor).
    out_dir: folder of ``compile_time.csv`` and ``compile_time.md``.
    batch_size: ``B`` of eval and train.
    options: per-model :func:`models.build_model` options (tests shrink
      models this way).
    image_shapes: per-model ``(H, W, C)`` overriding :data:`MODEL_INPUTS`.
    prng_impl: of the init key.
    verbose: print a line per model and the table.
    before: a git revision: measure each model in fresh processes with it
      and with this tree (:func:`before_after`; ``options`` and
      ``image_shapes`` must then be empty).

  Returns:
    ``{'rows', 'paths'}``.
  """
  log = print if verbose else (lambda *a, **k: None)
  names = default_models() if names is None else list(names)
  options, image_shapes = options or {}, image_shapes or {}
  log(f'# {common.machine_summary()}')
  log(f'# batch {batch_size}, init key impl {prng_impl!r}; seconds')
  # One-time costs of the first compile in a process (backend start-up,
  # LLVM) are not any model's.
  jax.jit(lambda x: x + 1).lower(jnp.zeros(2)).compile()
  rows = []
  if before is not None:
    if options or image_shapes:
      raise ValueError('options and image_shapes must be empty with before '
                       '(each side runs the command line with defaults).')
    rows = before_after(names, before, batch_size=batch_size,
                        prng_impl=prng_impl, verbose=verbose)
  for name in names if before is None else ():
    row = measure_model(name, batch_size=batch_size,
                        image_shape=image_shapes.get(name),
                        options=options.get(name), prng_impl=prng_impl)
    rows.append(row)
    log(f'{name:<10s} {row["input"]:>8s} {row["params"]:>8d} params  '
        f'init {row["init_lower_s"]:5.2f} + {row["init_compile_s"]:5.2f}  '
        f'eval {row["eval_lower_s"]:5.2f} + {row["eval_compile_s"]:5.2f}  '
        f'train {row["train_lower_s"]:5.2f} + {row["train_compile_s"]:5.2f}'
        f'  (lower + compile s; CPU {row["total_cpu_s"]:.1f} s in all)',
        flush=True)
  os.makedirs(out_dir, exist_ok=True)
  paths = {'csv': os.path.join(out_dir, 'compile_time.csv'),
           'markdown': os.path.join(out_dir, 'compile_time.md')}
  common.write_csv(paths['csv'], rows)
  table = common.format_table(rows, COLUMNS)
  comparison = '' if before is None else (
      f'Train step (lowering + compile seconds, fused kernels, total of all '
      f'six phases) at commit {before} (`before_*`, `git archive`) and in '
      f'this tree, each model in a fresh process per side, alternating:'
      f'\n\n{common.format_table(rows, BEFORE_COLUMNS)}\n\nThis tree, '
      'every phase:\n\n')
  with open(paths['markdown'], 'w') as f:
    f.write('# Jit time per model (seconds: lowering, XLA compile)\n\n'
            f'Machine: {common.machine_summary()}.\n'
            f'Eval and train on batch {batch_size}; init on one image with '
            f'a {prng_impl!r} key; train = value_and_grad of cross-entropy '
            '+ optax.adam on the flattened parameters. Wall seconds per '
            'phase; total_cpu_s is the process CPU time of all six (less '
            'sensitive to other jobs on the machine).\n\n' + comparison +
            table + '\n\nInputs: ' +
            '; '.join(f'{r["model"]} {r["input"]} ({r["source"]})'
                      for r in rows) + '.\n')
  log('')
  log(table)
  log(f'wrote {", ".join(paths.values())}')
  return {'rows': rows, 'paths': paths}


BEFORE_COLUMNS = ('model', 'before_train_s', 'train_s', 'before_fusions',
                  'train_fusions', 'before_total_s', 'total_s')


def _train_seconds(row: Mapping[str, Any]) -> float:
  return float(row['train_lower_s']) + float(row['train_compile_s'])


def _child_environment(root: str) -> dict[str, str]:
  """This environment for a child run from ``root``, less the XLA flag this
  process's :func:`experiments.runtime.use_fast_compile` added: each tree
  decides its own code generation, as its ``main.py`` would."""
  env = {**os.environ, 'PYTHONPATH': root}
  if runtime.FAST_COMPILE_SWITCH not in env:
    env = runtime.without_fast_compile(env, setting=None)
  return env


def measure_in_process(root: str, name: str, *, batch_size: int,
                       prng_impl: str) -> dict[str, Any] | None:
  """One model's row measured by ``python -m benchmarks.compile_time`` run in
  a fresh process from the source tree ``root`` (None if it failed there,
  e.g. a model that tree does not have)."""
  with tempfile.TemporaryDirectory() as out:
    result = subprocess.run(
        [sys.executable, '-m', 'benchmarks.compile_time', f'--models={name}',
         f'--out={out}', f'--batch={batch_size}',
         f'--prng_impl={prng_impl}'],
        cwd=root, capture_output=True, text=True, check=False,
        env=_child_environment(root))
    path = os.path.join(out, 'compile_time.csv')
    if result.returncode or not os.path.exists(path):
      print(f'{name} failed in {root}:\n{result.stderr[-2000:]}',
            file=sys.stderr)
      return None
    return reporting.read_csv(path)[0]


def export_revision(revision: str, folder: str) -> str:
  """``git archive revision`` of this repository, unpacked into ``folder``."""
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  archive = subprocess.run(['git', 'archive', '--format=tar', revision],
                           cwd=root, capture_output=True, check=False)
  if archive.returncode:
    raise ValueError(f'before must be a git revision of {root}; git archive '
                     f'{revision!r} said: {archive.stderr.decode()[-500:]}')
  subprocess.run(['tar', '-x', '-C', folder], input=archive.stdout,
                 check=True)
  return folder


def before_after(names: Sequence[str], revision: str, *,
                 batch_size: int = DEFAULT_BATCH, prng_impl: str = 'rbg',
                 verbose: bool = True) -> list[dict[str, Any]]:
  """Rows of this tree with ``before_*`` columns from ``revision``.

  Each model is measured in a fresh process per side, the two sides
  alternating, so a machine that slows down slows both.
  """
  log = print if verbose else (lambda *a, **k: None)
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  rows = []
  with tempfile.TemporaryDirectory() as folder:
    old_root = export_revision(revision, folder)
    for name in names:
      old = measure_in_process(old_root, name, batch_size=batch_size,
                               prng_impl=prng_impl)
      new = measure_in_process(root, name, batch_size=batch_size,
                               prng_impl=prng_impl)
      if new is None:
        raise RuntimeError(f'{name} failed to compile in this tree.')
      row = dict(new)
      row.update({
          'train_s': _train_seconds(new),
          'before_train_s': _train_seconds(old) if old else '-',
          'before_fusions': old['train_fusions'] if old else '-',
          'before_total_s': old['total_s'] if old else '-'})
      rows.append(row)
      log(f'{name:<12s} train lower + compile {row["before_train_s"]:.3} -> '
          f'{row["train_s"]:.3} s; fused kernels {row["before_fusions"]} '
          f'-> {row["train_fusions"]}', flush=True)
  return rows


# Regression check (--check): a model fails when its train step has more than
# FUSION_MARGIN times the baseline's fused kernels (deterministic for one XLA
# version and ISA), or when its train-step compile time, relative to the
# REFERENCE model's measured in the same process (so a loaded machine slows
# both), grew more than TIME_MARGIN times the baseline's ratio.
FUSION_MARGIN = 1.5
TIME_MARGIN = 2.5
REFERENCE = 'cnn'
DEFAULT_BASELINE = os.path.join('benchmarks', 'results', 'compile_time.csv')


def regressions(rows: Sequence[Mapping[str, Any]],
                baseline: Sequence[Mapping[str, Any]], *,
                fusion_margin: float = FUSION_MARGIN,
                time_margin: float = TIME_MARGIN,
                reference: str = REFERENCE) -> list[str]:
  """The models whose train step regressed against ``baseline`` (messages).

  Args:
    rows: this run's rows (:func:`measure_model`).
    baseline: committed rows (``compile_time.csv``), matched by ``model``;
      models missing from either side are skipped.
    fusion_margin: allowed growth of ``train_fusions``.
    time_margin: allowed growth of ``train_compile_s / reference's``.
    reference: the model whose compile time normalises the others'.

  Returns:
    One line per failed model and criterion; empty when all pass.
  """
  old = {r['model']: r for r in baseline}
  new = {r['model']: r for r in rows}
  failures = []
  for name, row in new.items():
    if name not in old:
      continue
    fusions, before = float(row['train_fusions']), float(
        old[name]['train_fusions'])
    if fusions > fusion_margin * before:
      failures.append(f'{name}: {fusions:.0f} fused kernels in the train '
                      f'step, baseline {before:.0f} (> {fusion_margin}x)')
    if reference in new and reference in old and name != reference:
      ratio = float(row['train_compile_s']) / float(
          new[reference]['train_compile_s'])
      ratio_before = float(old[name]['train_compile_s']) / float(
          old[reference]['train_compile_s'])
      if ratio > time_margin * ratio_before:
        failures.append(
            f'{name}: train compile {ratio:.1f}x {reference}\'s, baseline '
            f'{ratio_before:.1f}x (> {time_margin}x that)')
  return failures


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
  """Command-line entry point: ``[--out DIR] [--models a,b] [--batch N]``."""
  parser = argparse.ArgumentParser(
      prog='python -m benchmarks.compile_time',
      description=__doc__.split('\n')[0])
  parser.add_argument('--out', default=DEFAULT_OUT,
                      help=f'output folder (default {DEFAULT_OUT})')
  parser.add_argument('--models', default='',
                      help='comma-separated registered names (default all)')
  parser.add_argument('--batch', type=int, default=DEFAULT_BATCH,
                      help='batch of eval and train')
  parser.add_argument('--prng_impl', default='rbg',
                      choices=('rbg', 'threefry2x32', 'unsafe_rbg'),
                      help='PRNG implementation of the init key')
  parser.add_argument('--check', nargs='?', const=DEFAULT_BASELINE,
                      default=None, metavar='BASELINE_CSV',
                      help='exit 1 when a model regressed against the '
                      f'baseline (default {DEFAULT_BASELINE}): fused kernels '
                      f'> {FUSION_MARGIN}x, or compile time relative to '
                      f"'{REFERENCE}' > {TIME_MARGIN}x the baseline's ratio")
  parser.add_argument('--before', default=None, metavar='REV',
                      help='also measure git revision REV (fresh processes, '
                      'alternating) and add its columns')
  args = parser.parse_args(argv)
  names = [n for n in args.models.split(',') if n] or None
  if args.check and names and REFERENCE not in names:
    names = [REFERENCE] + names   # the time criterion needs it
  result = run(names, out_dir=args.out, batch_size=args.batch,
               prng_impl=args.prng_impl, before=args.before)
  if args.check:
    with open(args.check, newline='') as f:
      baseline = list(csv.DictReader(f))
    failures = regressions(result['rows'], baseline)
    print('\n'.join(failures) or f'no regression against {args.check}')
    result['regressions'] = failures
    if failures:
      sys.exit(1)
  return result


if __name__ == '__main__':
  runtime.use_huge_pages()  # what main.py runs with; may re-execute
  runtime.use_fast_compile(default=True)  # likewise
  main(sys.argv[1:])
