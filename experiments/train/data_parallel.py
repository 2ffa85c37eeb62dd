"""Data parallelism over a 1-D device mesh.

The batch is split over the mesh axis ``'batch'`` (``config.num_devices``
devices; 0 = all devices, every process's in a multi-process run) and the
train state is replicated. ``config.batch_size`` must divide by the device
count. In a multi-process run (``main.py --distributed``) every process
builds the same global batch and feeds its own devices their rows
(``batch_size / process_count`` per process).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import numpy as np

from experiments.train import config_checks
from groups import validate

# The one mesh axis: data parallelism splits the batch over it.
BATCH_AXIS = 'batch'


@dataclasses.dataclass(frozen=True)
class DataParallel:
  """Data parallelism over a 1-D device mesh with the axis ``'batch'``.

  Batches ``[B, ...]`` are split along ``B`` over the devices; the train
  state is replicated on every device. One device is the plain
  single-device case (the same numbers as without a mesh).

  Attributes:
    mesh: the mesh; its devices in ``jax.devices()`` order, so in a
      multi-process run each process owns a contiguous block of the batch.
  """
  mesh: jax.sharding.Mesh

  @classmethod
  def create(cls, num_devices: int = 0) -> DataParallel:
    """A mesh over ``num_devices`` devices.

    Args:
      num_devices: 0 for every device (of every process in a multi-process
        run), else the first ``num_devices`` local devices (single-process
        runs only).

    Raises:
      ValueError: if ``num_devices`` is negative, more than the local
        devices, or not 0 in a multi-process run.
    """
    validate.integer(num_devices, config_checks.NUM_DEVICES_NAME, minimum=0)
    if num_devices == 0:
      devices = jax.devices()
    elif jax.process_count() > 1:
      raise ValueError(
          f'config.num_devices must be 0 (all {jax.device_count()} devices of '
          f'the {jax.process_count()} processes) in a multi-process run; got '
          f'{num_devices}.')
    else:
      devices = jax.local_devices()
      if num_devices > len(devices):
        raise ValueError(
            f'config.num_devices = {num_devices}, but this machine has only '
            f'{len(devices)} {devices[0].platform} device(s): {devices}; use '
            f'0 (all) or at most {len(devices)}.')
      devices = devices[:num_devices]
    return cls(jax.sharding.Mesh(np.asarray(devices), (BATCH_AXIS,)))

  @property
  def num_devices(self) -> int:
    return self.mesh.size

  @property
  def platform(self) -> str:
    """'cpu', 'gpu' or 'tpu'."""
    return self.mesh.devices.flat[0].platform

  @property
  def batch_sharding(self) -> jax.sharding.NamedSharding:
    """Splits the leading (batch) axis over the devices."""
    return jax.sharding.NamedSharding(
        self.mesh, jax.sharding.PartitionSpec(BATCH_AXIS))

  @property
  def replicated(self) -> jax.sharding.NamedSharding:
    """A full copy on every device."""
    return jax.sharding.NamedSharding(self.mesh, jax.sharding.PartitionSpec())

  def check_batch_size(self, batch_size: int, name: str) -> None:
    """Raises ValueError unless ``batch_size`` divides by the device count."""
    if batch_size % self.num_devices:
      raise ValueError(
          f'{name} = {batch_size} must be divisible by the number of devices '
          f'({self.num_devices}: the batch is split evenly over them); change '
          f'{name} or set config.num_devices.')

  def put_batch(self, array: jax.typing.ArrayLike) -> jax.Array:
    """``array [B, ...]`` split over the devices, or replicated if ``B``
    does not divide by the device count (evaluation of odd batches).

    In a multi-process run every process passes the same global batch.
    """
    sharding = (self.batch_sharding if np.shape(array)[0] % self.num_devices
                == 0 else self.replicated)
    return jax.device_put(array, sharding)

  def replicate(self, tree: Any) -> Any:
    """Every leaf of ``tree`` copied to every device of the mesh."""
    return jax.device_put(tree, self.replicated)
