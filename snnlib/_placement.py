"""Data-parallel placement of batches and parameters over the devices (`snnlib.training`)."""

from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec


class Placement:
    """Data-parallel placement: batches split over the devices, parameters replicated."""

    def __init__(self, devices) -> None:
        self.devices = list(devices or jax.devices())
        mesh = Mesh(np.array(self.devices), ("batch",))
        self.batch = NamedSharding(mesh, PartitionSpec("batch"))
        self.replicated = NamedSharding(mesh, PartitionSpec())

    def put_batch(self, *arrays: np.ndarray) -> list[jax.Array]:
        """Shard the batch axis over the devices (one device if it does not divide)."""
        if arrays[0].shape[0] % len(self.devices):
            return [jax.device_put(a, self.devices[0]) for a in arrays]
        return [jax.device_put(a, self.batch) for a in arrays]

    def replicate(self, tree: Any) -> Any:
        return jax.device_put(tree, self.replicated)
