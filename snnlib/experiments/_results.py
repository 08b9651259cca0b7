"""Experiment results: numpy arrays plus metadata, saved as .npz + .json side by side."""

import dataclasses
import json
import os
import platform
import subprocess
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..checkpoint import atomic_write


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
        atomic_write(path.with_suffix(".npz"), lambda f: np.savez_compressed(f, **self.arrays))
        text = json.dumps({"config": self.config, "metadata": self.metadata}, indent=1,
                          default=_json_default)
        atomic_write(path.with_suffix(".json"), lambda f: f.write(text.encode()))
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


def config_from_dict(cls: type, stored: dict[str, Any]) -> Any:
    """The (nested) config dataclass `cls` from its `dataclasses.asdict` form as read back
    from JSON: dicts become the fields' dataclasses, lists of tuple fields tuples."""
    hints = typing.get_type_hints(cls)
    values = {}
    for item in dataclasses.fields(cls):
        if item.name not in stored:
            continue  # a field added later: its default
        value, kind = stored[item.name], hints[item.name]
        if isinstance(value, dict) and dataclasses.is_dataclass(kind):
            value = config_from_dict(kind, value)
        elif isinstance(value, list) and typing.get_origin(kind) is tuple:
            value = tuple(value)
        values[item.name] = value
    return cls(**values)


def config_json(config: Any) -> dict[str, Any]:
    """A config dataclass as it reads back from a results JSON (nested dicts, lists)."""
    return json.loads(json.dumps(dataclasses.asdict(config), default=_json_default))


def require_x64(what: str) -> None:
    """Raise RuntimeError unless float64 is on: the library never flips JAX's flags."""
    import jax

    if not jax.config.jax_enable_x64:
        raise RuntimeError(
            f"{what} computes in float64, but jax_enable_x64 is off: call "
            "jax.config.update('jax_enable_x64', True) at the start of the program (before "
            "creating arrays) or set the environment variable JAX_ENABLE_X64=1.")


def _git_state(directory: Path) -> tuple[str, bool | None]:
    """(commit, whether tracked files of the package differ from it) of the checkout
    holding directory; ("unknown", None) outside git."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                                check=True, cwd=directory).stdout.strip()
        changed = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no",
                                  "--", "."], capture_output=True, text=True, check=True,
                                 cwd=directory.parent).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown", None
    return commit, bool(changed)


def _cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (Linux), else platform.processor()."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def run_metadata(wall_time: float, seed: int | None) -> dict[str, Any]:
    """Versions, commit, machine and wall time of a run, for Results.metadata."""
    import jax
    import jaxlib

    from .. import __version__

    commit, dirty = _git_state(Path(__file__).parent)
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
        "uncommitted_changes": dirty,  # True: the code differed from the commit
        "machine": {
            "platform": platform.platform(),
            "processor": platform.machine(),
            "cpu_model": _cpu_model(),
            "cpu_count": os.cpu_count(),
            "cpus_available": len(os.sched_getaffinity(0)) if hasattr(
                os, "sched_getaffinity") else os.cpu_count(),
            "devices": [str(d) for d in jax.devices()],
        },
        "x64": bool(jax.config.jax_enable_x64),
    }
