"""Experiment results: numpy arrays plus metadata, saved as .npz + .json side by side."""

import json
import os
import platform
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class Results:
    """Arrays of an experiment run with the config and metadata that produced them."""

    arrays: dict[str, np.ndarray]
    config: dict[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.arrays[name]

    def save(self, path: str | os.PathLike) -> Path:
        """Write PATH.npz (arrays) and PATH.json (config, metadata), each atomically."""
        path = Path(path).with_suffix("")
        path.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(path.with_suffix(".npz"), lambda f: np.savez_compressed(f, **self.arrays))
        text = json.dumps({"config": self.config, "metadata": self.metadata}, indent=1,
                          default=_json_default)
        _atomic_write(path.with_suffix(".json"), lambda f: f.write(text.encode()))
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Results":
        """Read what `save` wrote."""
        path = Path(path).with_suffix("")
        for suffix in (".npz", ".json"):
            if not path.with_suffix(suffix).exists():
                raise FileNotFoundError(
                    f"{path.with_suffix(suffix)} is missing: run the experiment at full scale "
                    "(see the book's Reproducing page) or pass quick=True to recompute."
                )
        with np.load(path.with_suffix(".npz")) as data:
            arrays = {name: data[name] for name in data.files}
        meta = json.loads(path.with_suffix(".json").read_text())
        return cls(arrays=arrays, config=meta["config"], metadata=meta["metadata"])


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"not JSON serialisable: {value!r}")


def _atomic_write(path: Path, write) -> None:
    """Write via a temporary file in the same folder and rename it into place."""
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".tmp") as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(f.name, path)


def run_metadata(wall_time: float, seed: int | None) -> dict[str, Any]:
    """Versions, commit, machine and wall time of a run, for Results.metadata."""
    import jax
    import jaxlib

    from .. import __version__

    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True,
            cwd=Path(__file__).parent,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {
        "seed": seed,
        "wall_time_s": round(wall_time, 3),
        "versions": {
            "snnlib": __version__,
            "python": platform.python_version(),
            "jax": jax.__version__,
            "jaxlib": jaxlib.__version__,
            "numpy": np.__version__,
        },
        "commit": commit,
        "machine": {
            "platform": platform.platform(),
            "processor": platform.machine(),
            "cpu_count": os.cpu_count(),
            "devices": [str(d) for d in jax.devices()],
        },
        "x64": bool(jax.config.jax_enable_x64),
    }
