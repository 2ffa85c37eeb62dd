"""How time and memory of the equivariant convolutions grow with their sizes.

    python -m benchmarks.scaling [--quick] [--sweeps a,b] [--out DIR]

Measures one forward + backward pass (a jitted function returning the layer's
output and its VJP with respect to the input and the weights, given a random
cotangent) of

* ``gconv CN`` — :func:`layers.group_conv.group_conv2d` on ``[B, S, S, N, C]`` maps over
  ``groups.Cyclic(N)``; ``C1`` is a plain 3x3 convolution (the baseline) and
  C8 / C16 use interpolated (bilinear) filter rotations;
* ``lifting CN`` — :func:`layers.group_conv.lifting_conv2d`, ``[B, S, S, C]`` to
  ``[B, S, S, N, C]``;
* ``hconv`` — :func:`layers.harmonic.harmonic_conv2d`, 5x5 filters with 4
  rings (the H-Net paper's MNIST model), a complex map with
  ``M = max_order + 1`` streams in and out, ``[B, S, S, M, C]``;
* ``steerable CN`` — :func:`layers.steerable.steerable_conv2d`, 5x5, from
  ``F`` regular fields of C_N to ``F`` regular fields, ``[B, S, S, N F]``,
  the gradient taken to the basis coefficients
  (:mod:`~benchmarks.scaling.steerable_sweep`);

and one jitted training step (Adam, batch-norm statistics) of whole
registered models, built by ``experiments.train``
(:mod:`~benchmarks.scaling.train_sweep`).

Each sweep varies one factor from a base point (default ``B = 8``,
``S = 32``, ``C = 8`` channels per group element / harmonic stream, C4,
``max_order = 1``): image side ``S``, batch ``B``, channels ``C`` (for
``gconv C1``, ``gconv C4`` and ``hconv``), group order ``N`` (``gconv`` and
``lifting``), the number of harmonic streams ``M``, the steerable conv's
``N`` (C4, C8, C16 at ``F = 8``: ``steerable_order``) and ``F`` (2, 4, 8,
16 at C8: ``steerable_fields``), and the batch of the training steps of
'p4cnn', 'hnet' and 'c16cnn' on 28x28x1 images, 10 classes (16 to 128:
``train_batch``, reported as images/s). ``--quick`` uses fewer points and
``S = 16``, one point for each steerable sweep and one ('p4cnn', B = 16)
for the training steps; ``--sweeps`` runs only the named sweeps. For every
point it records the median time (the points of a sweep are timed in
alternating rounds, so a slow-down from other processes hits them alike),
the FLOPs XLA counts, and the memory of the compiled function
(``memory_analysis()``: arguments + outputs + temporaries, and XLA's peak
estimate), then fits the growth exponent of each sweep: the slope of
log(time) (and log(FLOPs), log(memory)) against log(factor). Points whose
FLOPs exceed ``max_gflop`` (training steps: ``train_max_gflop``) are
compiled and reported (FLOPs, memory) but not timed. The run first measures
the jitted matmul rate, the machine's peak, and prints it beside the CPU
and its vector ISA.

Writes ``scaling.csv`` (one row per point), ``scaling_exponents.csv``,
``scaling.md`` (the tables, the training steps' own) and ``scaling.png``
(log-log panels: time, or images/s for the training steps, above memory)
to ``--out`` (default runs/benchmarks). Benchmarks print figures; no test times anything.

Modules: :mod:`~benchmarks.scaling.problems` (settings, the conv layers,
the registry of sweeps, points), :mod:`~benchmarks.scaling.steerable_sweep`
and :mod:`~benchmarks.scaling.train_sweep` (sweeps registered with
:func:`~benchmarks.scaling.problems.register`),
:mod:`~benchmarks.scaling.measure` (compile, time, memory, exponents),
:mod:`~benchmarks.scaling.report` (tables, PNG),
:mod:`~benchmarks.scaling.runner` (:func:`run`, :func:`main`).
"""
from benchmarks.scaling.measure import compile_point
from benchmarks.scaling.measure import Compiled
from benchmarks.scaling.measure import exponents
from benchmarks.scaling.measure import growth_exponent
from benchmarks.scaling.measure import interleaved_times
from benchmarks.scaling.problems import build_problem
from benchmarks.scaling.problems import DEFAULT_OUT
from benchmarks.scaling.problems import Family
from benchmarks.scaling.problems import FAMILIES
from benchmarks.scaling.problems import forward_backward
from benchmarks.scaling.problems import FULL
from benchmarks.scaling.problems import MIB
from benchmarks.scaling.problems import Point
from benchmarks.scaling.problems import QUICK
from benchmarks.scaling.problems import register
from benchmarks.scaling.problems import ScalingConfig
from benchmarks.scaling.problems import Sweep
from benchmarks.scaling.problems import sweep_points
from benchmarks.scaling.problems import SWEEPS
from benchmarks.scaling.report import EXPONENT_COLUMNS
from benchmarks.scaling.report import markdown
from benchmarks.scaling.report import plot
from benchmarks.scaling.report import POINT_COLUMNS
from benchmarks.scaling.report import THROUGHPUT_COLUMNS
from benchmarks.scaling.runner import main
from benchmarks.scaling.runner import run
# The sweep modules register their sweeps (after the conv ones) on import.
from benchmarks.scaling import steerable_sweep
from benchmarks.scaling import train_sweep
