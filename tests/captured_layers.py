"""The layers a model's ``capture_intermediates`` records, in call order.

Used by the models' ``layer_actions`` tests: a model's actions must name
exactly these submodules, in this order.
"""

import flax
import jax
import jax.numpy as jnp


def captured_layers(model, input_shape: tuple[int, ...]) -> list[str]:
  """Paths of the submodules captured in eval mode (traced, not run).

  Args:
    model: a flax module called as ``model.apply(variables, x)`` (eval mode
      by default).
    input_shape: ``[B, H, W, C]`` of ``x``.

  Returns:
    ``['lift1', 'bn1', ...]``: each submodule whose ``__call__`` output
    ``capture_intermediates`` keeps, in the order they are first called
    (the model's own output, ``'__call__'``, left out).
  """
  x = jax.ShapeDtypeStruct(input_shape, jnp.float32)
  variables = jax.eval_shape(model.init, jax.random.key(0), x)
  called = []

  def record(next_fun, args, kwargs, context):
    path = '/'.join(context.module.path)
    if context.method_name == '__call__' and path and path not in called:
      called.append(path)
    return next_fun(*args, **kwargs)

  def apply(variables, x):
    with flax.linen.intercept_methods(record):
      return model.apply(variables, x, capture_intermediates=True,
                         mutable=['intermediates'])

  _, state = jax.eval_shape(apply, variables, x)
  captured = flax.traverse_util.flatten_dict(state['intermediates'], sep='/')
  # The same layers (eval_shape returns them sorted, hence the interception).
  if sorted(called) != sorted(path.removesuffix('/__call__')
                              for path in captured if path != '__call__'):
    raise AssertionError(f'called {called} but captured {sorted(captured)}')
  return called
