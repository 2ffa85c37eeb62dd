r"""equivlab side by side with its PyTorch peers, timed in the same run.

  pip install -r benchmarks/requirements-bench.txt   # torch, antialiased-cnns, e2cnn
  python -m benchmarks.peers            # every case (~10 min on 2 CPU cores)
  python -m benchmarks.peers --quick    # one case per section (~2 min)
  python -m benchmarks.peers --sections=blur,gconv
  python -m benchmarks.peers --sections=steerable   # vs e2cnn R2Conv C8/C16
  python -m benchmarks.peers --sections=autotune   # tuned vs untuned conv

Every row times forward + backward (the output, and the gradients with
respect to the input and any weights, for a random output cotangent) as the
minimum over interleaved rounds (other jobs on the machine only ever add
time; medians until 6 Dec 2026): equivlab, its peer and, where a speed-up is
claimed, the implementation before it ("before"), alternating, so other load
on the machine slows all of them alike. ``ratio`` = equivlab / peer (< 1:
equivlab is faster). equivlab runs with its default convolution backend
(``layers.autotune``: oneDNN where available); in every row with a
convolution (``layers`` convs, ``gconv``, ``profile``, ``p4cnn``,
``harmonic``, ``steerable`` training) "before" is the same code with every
convolution on XLA (``EQUIVLAB_CONV_BACKEND=xla``,
:func:`~benchmarks.peers.harness.xla_backend`). Sections:

* ``blur`` — ``layers.blur_pool`` (``method='auto'``, the formulation it
  picks is named in the case) vs ``antialiased_cnns.BlurPool``; outputs
  and input gradients are checked equal (``check`` = max abs difference).
  "before": ``method='slices'``.
* ``layers`` — ``conv2d`` ('valid', 'circular') and a 2x2 ``max_pool`` vs
  ``torch.nn.functional``; outputs checked equal. "before": the XLA
  backend for the convs, the plain ``reduce_window`` max for the pool.
* ``gconv`` — p4 / p4m lifting and group convolutions vs e2cnn's ``R2Conv``
  with C4 / D4 regular fields (3x3, zero padding 1). The parametrisations
  differ (e2cnn band-limits its filter basis), so outputs are not compared;
  the convolutions have the same shapes and FLOPs.
* ``profile`` — where the p4 group conv's time goes: forward, input
  gradient and weight gradient of the underlying conv, each vs torch.
* ``p4cnn`` — one Adam training step of P4CNN (Cohen & Welling 2016) vs the
  same architecture in e2cnn; equivlab's GFLOP/s (XLA's FLOP count / time)
  against the measured matmul peak.
* ``autotune`` — ``conv2d`` on the lowering :mod:`layers.autotune` picks
  (forward, input gradient, filter gradient each timed and chosen) vs
  ``F.conv2d``; "before": tuning off (the backend's fixed lowering). The ``p4cnn``
  section adds the same for a whole training step. ``check`` lists the
  choices and the tuning time; the per-candidate times are printed.
* ``harmonic`` — an H-Net layer (``layers.harmonic.HConv``, orders 0..M) vs
  e2cnn's SO(2) ``R2Conv`` on fields of frequencies 0..M: the closest peer
  (continuous rotations, band-limited steerable filters), not the same
  function.
* ``steerable`` — a steerable conv (``layers.steerable``, 5x5, zero
  padding) between C8 / C16 regular fields, forward + backward with the
  kernel expanded from its basis coefficients on every call, as in
  training, vs e2cnn's ``R2Conv`` on the same field types in train mode
  (which expands its basis on every call too). The bases differ, so
  outputs are not compared: ``check`` confirms the shapes, the same number
  of basis weights, and that e2cnn's basis lies in equivlab's span for one
  field pair. Plus inference with the C16 kernel exported once
  (``layers.steerable.export``) vs a plain XLA conv with the same kernel,
  forward only; outputs checked equal. (Basis build times: ``python -m
  benchmarks.steerable_basis``.)

The header gives the CPU, its vector ISA and the measured matmul peak.
Writes ``<out>/peers.csv`` and ``<out>/peers.md`` and prints the table.

Modules: :mod:`~benchmarks.peers.harness` (peers, rows, timing, the
lowering before the speed work), :mod:`~benchmarks.peers.layer_cases`,
:mod:`~benchmarks.peers.group_cases`, :mod:`~benchmarks.peers.p4cnn`,
:mod:`~benchmarks.peers.steerable_cases`, :mod:`~benchmarks.peers.runner`;
``__main__`` holds the flags.
"""


from benchmarks.peers.harness import Bench
from benchmarks.peers.harness import previous_lowering
from benchmarks.peers.harness import Row
from benchmarks.peers.runner import run
from benchmarks.peers.runner import SECTIONS

__all__ = ['Bench', 'previous_lowering', 'Row', 'run', 'SECTIONS']
