"""Atomic checkpoints of pytrees (parameters, optimiser states, metrics, RNG state)."""

import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

import jax
import numpy as np


def save_checkpoint(path: str | os.PathLike, tree: Any) -> None:
    """Pickle `tree` (its arrays as numpy) to path atomically: a kill leaves the old file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    host = jax.tree.map(np.asarray, tree)
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".tmp") as f:
        pickle.dump(host, f, protocol=pickle.HIGHEST_PROTOCOL)
        f.flush()
        os.fsync(f.fileno())
    os.replace(f.name, path)


def load_checkpoint(path: str | os.PathLike) -> Any | None:
    """The tree saved at path, or None if there is no checkpoint."""
    path = Path(path)
    if not path.exists():
        return None
    with path.open("rb") as f:
        return pickle.load(f)
