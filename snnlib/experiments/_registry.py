"""Registry of full-scale reproductions for ``snnlib reproduce NAME``.

An experiment module registers each of its reproductions at import time::

    register(Reproduction(name="mnist", description="...", expected_time="~30 min/seed",
                          run=reproduce_runs, size=lambda results: results.metadata["epochs"],
                          size_label="epochs"))

`run(options)` returns {result name: typed results} (e.g. {"mnist_seed0": MnistResults});
the CLI saves each into the run directory and, with ``--promote``, into results/; `size`
reads the file form (`Results`) of a stored or a new run. The CLI imports every
public module of ``snnlib.experiments`` to collect the registrations.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ._results import ExperimentResults, Results


@dataclass(frozen=True)
class RunOptions:
    """What the command line passes to a reproduction."""

    run_dir: Path  # checkpoints go here (a rerun with the same run_dir resumes)
    seeds: tuple[int, ...] | None = None  # None: the reproduction's default seeds
    quick: bool = False  # a small CI-sized run (never promoted over a full-scale one)
    epochs: int | None = None  # None: the paper's number of epochs (or trials)
    processes: int = 1  # processes of one data-parallel run (multi_process reproductions)
    progress: bool = True


@dataclass(frozen=True)
class Reproduction:
    """A named full-scale run of an experiment."""

    name: str
    description: str
    expected_time: str  # e.g. "~40 min on 2 CPU cores"
    run: Callable[[RunOptions], dict[str, ExperimentResults]]
    size: Callable[[Results], int]  # epochs or trials of a run (promotion compares them)
    size_label: str = "epochs"
    float64: bool = False  # the CLI enables jax_enable_x64 before running
    multi_process: bool = False  # supports --processes / --num-processes (data parallel)
    takes_seeds: bool = True  # --seeds applies (else the CLI refuses it)
    takes_epochs: bool = True  # --epochs applies (epochs or trials; else refused)
    # the global batch size (of a --quick run if True) that the processes must divide
    batch_size: Callable[[bool], int] | None = None


REGISTRY: dict[str, Reproduction] = {}


def _module(reproduction: Reproduction) -> str:
    run = reproduction.run
    return getattr(getattr(run, "func", run), "__module__", "")


def register(reproduction: Reproduction) -> Reproduction:
    """Add a reproduction under its name. A second one with the same name is an error,
    except for the copy of a module run as a script (``python -m``, module ``__main__``)."""
    existing = REGISTRY.get(reproduction.name)
    if existing is not None and existing != reproduction:
        if "__main__" not in (_module(existing), _module(reproduction)):
            raise ValueError(f"a reproduction named {reproduction.name!r} is already registered")
        if _module(reproduction) == "__main__":
            return existing
    REGISTRY[reproduction.name] = reproduction
    return reproduction
