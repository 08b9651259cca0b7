"""The paper's own task instances (see README.md in this folder)."""

import json
from importlib import resources
from typing import Any


def load_instance(name: str) -> dict[str, Any]:
    """Load a shipped task instance: "single_neuron" or "recurrent"."""
    folder = resources.files(__name__)
    path = folder / f"{name}.json"
    if not path.is_file():
        known = sorted(
            p.name.removesuffix(".json") for p in folder.iterdir() if p.name.endswith(".json")
        )
        raise ValueError(f"unknown task instance {name!r}; shipped instances: {known}")
    return json.loads(path.read_text())
