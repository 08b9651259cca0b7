"""Data-parallel placement of batches and parameters over the devices (`snnlib.training`).

One code path for one device, several devices of one process (e.g. GPUs, or CPU devices
forced with XLA_FLAGS=--xla_force_host_platform_device_count=N) and several processes
(`snnlib.distributed.initialize`, JAX's multi-controller runtime): the batch axis is
split over a one-dimensional mesh of all (global) devices and the parameters are
replicated, so XLA reduces the gradient over the devices. Every process holds the whole
data set and the whole batch; each one places only the rows of its own devices
(`jax.make_array_from_callback`), so no process needs the other processes' data.
"""

from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec


def is_writer() -> bool:
    """True in the one process (process 0) that writes checkpoints, results and progress
    bars of a multi-process run."""
    return jax.process_index() == 0


class Placement:
    """Batches split over `devices` (default: all devices of all processes), parameters
    replicated on them."""

    def __init__(self, devices=None) -> None:
        self.devices = list(devices or jax.devices())
        mesh = Mesh(np.array(self.devices), ("batch",))
        self.batch = NamedSharding(mesh, PartitionSpec("batch"))
        self.replicated = NamedSharding(mesh, PartitionSpec())
        self.multi_process = jax.process_count() > 1

    @property
    def is_writer(self) -> bool:
        """`is_writer()`: whether this process writes checkpoints, results and progress."""
        return is_writer()

    def put_batch(self, *arrays: np.ndarray) -> list[jax.Array]:
        """Shard the batch axis (the same global batch in every process) over the devices.

        In one process, a batch that the number of devices does not divide goes to the
        first device; with several processes it must divide (ValueError).
        """
        size = arrays[0].shape[0]
        if size % len(self.devices):
            if self.multi_process:
                raise ValueError(
                    f"a batch of {size} samples cannot be split over the {len(self.devices)} "
                    f"devices of {jax.process_count()} processes: choose batch sizes "
                    "(training and evaluation) divisible by the number of devices"
                )
            return [jax.device_put(a, self.devices[0]) for a in arrays]
        return [_global_array(np.asarray(a), self.batch) for a in arrays]

    def replicate(self, tree: Any) -> Any:
        """Every array of `tree` (the same in every process) replicated on all devices."""
        return jax.tree.map(lambda leaf: _global_array(np.asarray(leaf), self.replicated), tree)


def _global_array(value: np.ndarray, sharding: NamedSharding) -> jax.Array:
    """A global array with the given sharding, each process filling its own devices."""
    return jax.make_array_from_callback(value.shape, sharding, lambda index: value[index])
