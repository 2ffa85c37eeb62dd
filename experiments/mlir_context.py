"""One MLIR context for many lowerings: less overhead per compiled program.

Every time JAX lowers a program (a ``jax.jit`` call on new shapes, and every
eager op on new shapes, which JAX runs as a small jitted program) it makes a
new MLIR context and loads its dialects into it
(``jax._src.interpreters.mlir.make_ir_context``): ~4 ms on this project's
2-core machines, against ~12 ms for XLA to compile a small op at -O0. The
suite compiles thousands of small programs (property tests draw new shapes
on every example), so :func:`share` makes each thread reuse one context for
``uses`` lowerings before it makes a fresh one (a bounded reuse: a context
keeps every constant ever put into it until it is freed).

The programs are the same: a context only holds the IR's types and
attributes, and the module JAX hands to XLA is built the same way in a fresh
or a reused one (tests/mlir_context_test.py compares the lowered text and
the computed values). It patches a private JAX function, checked against the
JAX versions ``requirements.txt`` allows, so it is opt-in:
``EQUIVLAB_SHARED_MLIR=1`` turns it on in ``main.py``, the notebooks and the
docs examples' runner (:func:`use_from_environment`); the test suite turns it
on for itself and its subprocesses (``tests/conftest.py``; ``0`` turns it off).
Measured in docs/performance.md ("One MLIR context for many lowerings") and
docs/testing.md ("Seventh pass").
"""

from __future__ import annotations

import os
import threading

from experiments import runtime

SWITCH = 'EQUIVLAB_SHARED_MLIR'
USES = 64  # lowerings per context before a fresh one

_local = threading.local()   # each thread's (context, lowerings made in it)
_original = []  # [JAX's make_ir_context] once share() has patched it
_limit = [USES]


def _shared_context():
  context, uses = getattr(_local, 'context', None), getattr(_local, 'uses', 0)
  if context is not None and _current_context() is context:
    # A lowering inside a lowering (a lowering rule that computes eagerly):
    # in the outer one's context the inner module would inherit the outer
    # insertion point, so it gets a context of its own, as JAX gives it.
    return _original[0]()
  if context is None or uses >= _limit[0]:
    context, uses = _original[0](), 0
    _local.context = context
  _local.uses = uses + 1
  return context


def _current_context():
  """The context of the innermost ``with context:`` on this thread, or None."""
  from jax._src.lib.mlir import ir  # pylint: disable=g-import-not-at-top
  return ir.Context.current


def share(uses: int = USES) -> bool:
  """Makes JAX reuse an MLIR context for ``uses`` lowerings per thread.

  Returns True if it patched JAX now, False if it was already patched.

  Raises:
    ValueError: if ``uses`` is not a positive integer.
    RuntimeError: if this JAX has no ``make_ir_context`` to patch (a JAX
      outside ``requirements.txt``'s range).
  """
  if isinstance(uses, bool) or not isinstance(uses, int) or uses < 1:
    raise ValueError(f'uses must be a positive integer; got {uses!r}.')
  from jax._src.interpreters import mlir  # pylint: disable=g-import-not-at-top
  _limit[0] = uses
  if _original:
    return False
  original = getattr(mlir, 'make_ir_context', None)
  if not callable(original):
    raise RuntimeError('jax._src.interpreters.mlir.make_ir_context is gone '
                       '(a JAX newer than requirements.txt allows?); set '
                       f'{SWITCH}=0 to run without sharing.')
  _original.append(original)
  mlir.make_ir_context = _shared_context
  return True


def use_from_environment(*, default: bool) -> bool:
  """:func:`share` if ``EQUIVLAB_SHARED_MLIR`` says so ('1', 'on', ...;
  when unset or empty, if ``default``); returns whether contexts are shared.

  Raises:
    ValueError: if ``EQUIVLAB_SHARED_MLIR`` is neither on nor off.
  """
  value = os.environ.get(SWITCH, '').strip().lower()
  accepted = runtime.ON_VALUES + runtime.OFF_VALUES
  if value not in accepted + ('',):
    raise ValueError(f'{SWITCH} must be one of {accepted} or unset; got '
                     f'{value!r}.')
  if value in runtime.ON_VALUES or (not value and default):
    share()
    return True
  return False


def unshare() -> None:
  """Restores JAX's own ``make_ir_context`` (a fresh context per lowering)."""
  if _original:
    from jax._src.interpreters import mlir  # pylint: disable=g-import-not-at-top
    mlir.make_ir_context = _original.pop()
  _local.__dict__.clear()
