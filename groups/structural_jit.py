"""``jit_by_structure``: ``jax.jit`` that compiles once per program, not per closure.

Property tests (:mod:`groups.testing`, ``tests/registry_test.py``) draw new
weights for every example; a function closing over them would compile a new
program per draw under ``jax.jit``. See :func:`jit_by_structure`.
"""

from __future__ import annotations

from collections.abc import Callable
import hashlib
from typing import Any

import jax
from jax import extend
import numpy as np

from groups import validate

# At most this many compiled programs are kept by jit_by_structure.
_STRUCTURES_KEPT = 512
_BY_STRUCTURE: dict[Any, Callable[..., Any]] = {}
# Primitives whose callable parameters are derivative rules, which a forward
# evaluation never calls.
_DERIVATIVE_RULES = frozenset({'custom_jvp_call', 'custom_vjp_call'})


def _hidden_state(jaxpr) -> tuple | None:
  """What ``str(jaxpr)`` leaves out: the constants of nested jaxprs (a
  nested ``jax.jit`` keeps its closed-over arrays there), as shape, dtype and
  a digest of their bytes; None when an equation carries a Python callable
  that a forward evaluation may call (callbacks): no key can stand for it."""
  parts = []
  for eqn in jaxpr.eqns:
    for value in eqn.params.values():
      for item in value if isinstance(value, (tuple, list)) else (value,):
        if isinstance(item, extend.core.ClosedJaxpr):
          for const in item.consts:
            array = np.asarray(const)
            parts.append((array.shape, str(array.dtype), hashlib.blake2b(
                np.ascontiguousarray(array).tobytes(),
                digest_size=16).hexdigest()))
          item = item.jaxpr
        if isinstance(item, extend.core.Jaxpr):
          inner = _hidden_state(item)
          if inner is None:
            return None
          parts.extend(inner)
        elif (callable(item) or type(item).__name__ == 'WrappedFun') and (
            eqn.primitive.name not in _DERIVATIVE_RULES and
            not isinstance(item, jax.sharding.Mesh)):
          return None
  return tuple(parts)


def jit_by_structure(fn: Callable[..., Any]) -> Callable[..., Any]:
  """``jax.jit(fn)`` that compiles once per program, not once per closure.

  A property test draws new weights for every example, and ``fn`` closes
  over them: ``jax.jit(fn)`` then compiles a new program for every draw,
  with the weights baked in as constants. This traces ``fn`` on each call
  (``jax.make_jaxpr``), turns its closed-over arrays into arguments and
  compiles one program per distinct jaxpr, shared by every function that
  traces to it. The key is the jaxpr's text (operations, shapes, dtypes,
  inline literals) and a digest of the constants of nested jaxprs (a nested
  ``jax.jit`` keeps its own); a jaxpr with a Python callback is not shared
  (plain ``jax.jit(fn)``), nor is a call under a JAX transformation (``jvp``,
  ``grad``, ``vmap``: its custom rules are the traced function's own). The
  result is the computation ``jax.jit(fn)`` runs, though not bit for bit:
  XLA may fold constants differently.

  Args:
    fn: a function of arrays returning a pytree of arrays, traceable by JAX.

  Returns:
    The jitted function, same signature.
  """
  validate.check_callable(fn, 'fn', what='of arrays')
  plain = jax.jit(fn)

  def call(*args):
    if any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree.leaves(args)):
      return plain(*args)
    closed, out_shape = jax.make_jaxpr(fn, return_shape=True)(*args)
    hidden = _hidden_state(closed.jaxpr)
    if hidden is None:
      return plain(*args)
    key = (str(closed.jaxpr), hidden)
    program = _BY_STRUCTURE.pop(key, None)
    if program is None:
      jaxpr = closed.jaxpr

      def program(consts, *flat):
        return jax.core.eval_jaxpr(jaxpr, consts, *flat)
      program = jax.jit(program)
    _BY_STRUCTURE[key] = program   # most recently used last
    while len(_BY_STRUCTURE) > _STRUCTURES_KEPT:
      del _BY_STRUCTURE[next(iter(_BY_STRUCTURE))]
    flat = program(closed.consts, *jax.tree.leaves(args))
    return jax.tree.unflatten(jax.tree.structure(out_shape), flat)
  return call
