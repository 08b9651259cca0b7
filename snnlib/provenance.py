"""Where a measurement ran: the machine and the git state of the code, recorded with every
result (`snnlib.experiments` results metadata) and benchmark (bench/)."""

import os
import platform
import subprocess
from pathlib import Path
from typing import Any


def git_state(directory: Path) -> tuple[str, bool | None]:
    """(commit, whether tracked files of the package differ from it) of the checkout
    holding directory; ("unknown", None) outside git."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, cwd=directory
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "."],
            capture_output=True,
            text=True,
            check=True,
            cwd=directory.parent,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown", None
    return commit, bool(changed)


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (Linux), else platform.processor()."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_metadata() -> dict[str, Any]:
    """Platform, CPU model and counts, and JAX devices of this process."""
    import jax

    return {
        "platform": platform.platform(),
        "processor": platform.machine(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_available": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "devices": [str(d) for d in jax.devices()],
    }
