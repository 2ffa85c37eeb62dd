"""Models by name, so configs can say ``config.model.name = 'cnn'``.

    model = build_model('cnn', downsampling='aps', head='global_avg')
    variables = model.init(jax.random.key(0), x)   # x [B, H, W, C]
    logits = model.apply(variables, x, train=False)  # [B, num_classes]

:data:`MODELS` is the one registry. A model registers where it is defined,
in one of two ways:

    @register_model('cnn')           # a linen Module class, as a decorator
    class CNN(nn.Module):
      ...

    P4CNN = functools.partial(GCNN, group=groups.Cyclic(4), channels=10)
    register_model('p4cnn', P4CNN)   # a named size: a partial of one

``import models`` imports every model module, so every name is registered
before :func:`build_model` is first called.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

import flax.linen as nn

ModelFactory = type[nn.Module] | Callable[..., nn.Module]

#: Registered names -> linen Module classes (or partials of one), in the
#: order they were registered.
MODELS: dict[str, ModelFactory] = {}

# Dataclass fields every linen module has that are not model options.
_LINEN_FIELDS = ('parent', 'name')


def _module_class(factory) -> type[nn.Module] | None:
  while isinstance(factory, functools.partial):
    factory = factory.func
  if isinstance(factory, type) and issubclass(factory, nn.Module):
    return factory
  return None


def model_options(name: str) -> tuple[str, ...]:
  """The keyword options :func:`build_model` accepts for ``name``."""
  _check_name(name)
  cls = _module_class(MODELS[name])
  return tuple(f.name for f in dataclasses.fields(cls)
               if f.name not in _LINEN_FIELDS)


def _register(name: str, cls: ModelFactory) -> ModelFactory:
  if _module_class(cls) is None:
    raise ValueError(f'cls must be a flax.linen.Module subclass or a '
                     f'functools.partial of one; got {cls!r}.')
  if name in MODELS and MODELS[name] is not cls:
    raise ValueError(f'a model named {name!r} is already registered '
                     f'({MODELS[name]!r}); pick another name.')
  MODELS[name] = cls
  return cls


def register_model(name: str, cls: ModelFactory | None = None):
  """Registers a linen Module class (or a partial of one) as ``name``.

  Two forms: ``register_model('p4cnn', P4CNN)`` registers ``P4CNN`` now;
  ``@register_model('cnn')`` on a class definition registers the class and
  returns it unchanged. Registering the same object under the same name
  again is a no-op.

  Args:
    name: the name configs and :func:`build_model` use.
    cls: the Module class or ``functools.partial`` of one; omit it to get a
      class decorator.

  Returns:
    ``cls``; or, without ``cls``, a decorator that registers and returns
    the class it decorates.

  Raises:
    ValueError: if ``name`` is not a non-empty str, ``cls`` is not a Module
      class (or partial of one), or ``name`` is taken by another class.
  """
  if not isinstance(name, str) or not name:
    raise ValueError(f'name must be a non-empty str; got {name!r}.')
  if cls is None:
    return functools.partial(_register, name)
  return _register(name, cls)


def _check_name(name: str) -> None:
  if name not in MODELS:
    raise ValueError(f'name must be one of {", ".join(map(repr, MODELS))}; '
                     f'got {name!r}.')


def build_model(name: str, **kwargs) -> nn.Module:
  """Builds the model registered as ``name`` with the given options.

  Lists among the options become tuples (config files and flags give lists;
  linen modules want hashable fields). Option *values* are checked when the
  model is first called.

  Raises:
    ValueError: for an unknown ``name`` (listing the registered ones) or an
      unknown option (listing the model's fields).
  """
  _check_name(name)
  accepted = model_options(name)
  unknown = sorted(set(kwargs) - set(accepted))
  if unknown:
    raise ValueError(
        f'unknown option{"s" if len(unknown) > 1 else ""} '
        f'{", ".join(map(repr, unknown))} for model {name!r}; accepted: '
        f'{", ".join(accepted)}.')
  kwargs = {key: tuple(value) if isinstance(value, list) else value
            for key, value in kwargs.items()}
  return MODELS[name](**kwargs)
