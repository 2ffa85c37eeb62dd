"""Running averages of batch statistics, as every batch norm here keeps them.

The group-conv, harmonic and steerable batch norms (``layers.group_conv.
norm``, ``layers.harmonic.norm``, ``layers.steerable.norm``) keep their
running mean and variance in the 'batch_stats' collection and move them the
same way in training mode; :func:`update` is that step.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn


def update(module: nn.Module, momentum: float, *pairs: tuple[Any, Any]
           ) -> None:
  """``variable.value = momentum * variable.value + (1 - momentum) * value``
  for each ``(variable, value)`` in ``pairs`` (variables of ``module``),
  except while ``module`` is initialising (``init`` leaves the averages at
  their initial values, as flax's ``nn.BatchNorm`` does)."""
  if module.is_initializing():
    return
  for variable, value in pairs:
    variable.value = momentum * variable.value + (1 - momentum) * value
