"""Models by name, so configs can say ``config.model = 'cnn'``.

    model = build_model('cnn', downsampling='aps', head='global_avg')
    variables = model.init(jax.random.key(0), x)   # x [B, H, W, C]
    logits = model.apply(variables, x, train=False)  # [B, num_classes]

A new model is one ``register_model('name', ModuleClass)`` call (a
``functools.partial`` of a module class works too, e.g. a named size).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

import flax.linen as nn

from models import cnn

ModelFactory = type[nn.Module] | Callable[..., nn.Module]

MODELS: dict[str, ModelFactory] = {
    'cnn': cnn.CNN,
    'mlp': cnn.MLP,
    'resnet': cnn.ResNet,
}

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


def register_model(name: str, cls: ModelFactory) -> None:
  """Registers ``cls`` (a linen Module class or a partial of one) as ``name``.

  Raises:
    ValueError: if ``name`` is not a non-empty str, ``cls`` is not a Module
      class (or partial of one), or ``name`` is taken by another class.
  """
  if not isinstance(name, str) or not name:
    raise ValueError(f'name must be a non-empty str; got {name!r}.')
  if _module_class(cls) is None:
    raise ValueError(f'cls must be a flax.linen.Module subclass or a '
                     f'functools.partial of one; got {cls!r}.')
  if name in MODELS and MODELS[name] is not cls:
    raise ValueError(f'a model named {name!r} is already registered '
                     f'({MODELS[name]!r}); pick another name.')
  MODELS[name] = cls


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
