"""`Experiment`: everything about one of the book's experiments, declared in one place.

An experiment module ends with one declaration::

    EXPERIMENT = Experiment(
        name="mnist", description="...", expected_time="~30 min/seed on 2 CPUs",
        config=MnistConfig, results=MnistResults, run=run, paper=PAPER, compare=compare,
        variants={"full": Variant(seeds=(0,))}, configure=configure,
        size=epochs_of, size_label="epochs")

and nothing else registers it: `experiments()` imports every public module of
``snnlib.experiments`` and collects their ``EXPERIMENT``. ``snnlib reproduce NAME`` (the
only runner) runs `Experiment.reproduce`; notebooks load the stored runs with
`Experiment.load_runs`. The run names (`Experiment.run_name`) are the file names in
``results/``.
"""

import importlib
import pkgutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from ._results import ExperimentResults, Results

R = TypeVar("R", bound=ExperimentResults)


@dataclass(frozen=True)
class RunOptions:
    """What the command line passes to a reproduction."""

    run_dir: Path  # checkpoints go here (a rerun with the same run_dir resumes)
    seeds: tuple[int, ...] | None = None  # None: each variant's default seeds
    quick: bool = False  # a small CI-sized run (never promoted over a full-scale one)
    length: int | None = None  # epochs or trials (`Experiment.size_label`); None: the paper's
    processes: int = 1  # processes of one data-parallel run (multi_process experiments)
    progress: bool = True


@dataclass(frozen=True)
class Variant:
    """One configuration of an experiment that is run and stored (e.g. Yin-Yang's
    network without pseudospikes): its default seeds (None: a run without a seed) and
    its run name, NAME for one without a seed, else NAME_seed{seed}."""

    name: str  # e.g. "yinyang_nopseudo"; the full network's variant is named after the experiment
    seeds: tuple[int, ...] | None = None

    def run_name(self, seed: int | None) -> str:
        """The file name (without suffix) of a run of this variant in results/."""
        return self.name if seed is None else f"{self.name}_seed{seed}"


@dataclass(frozen=True)
class Experiment(Generic[R]):
    """One experiment: config type, `run`, results type, the paper's values and the
    paper-vs-run table, its variants with their default seeds and run names, how stored
    runs load, and how ``snnlib reproduce`` runs it.

    configure(variant, seed, options) -> config: the full-scale config of a variant
    (options.quick: the CI-sized one; options.length: epochs or trials). run(config,
    checkpoint=..., progress=...) -> results (checkpointed=False: run(config)).
    size(stored) -> the epochs or trials of a stored run (``--promote`` compares them).
    reproductions: command-line names -> the variants each runs (default: NAME -> all).
    takes_length: whether ``--epochs`` (options.length) applies (else the CLI refuses it);
    ``--seeds`` applies where a variant has seeds. batch_size(quick) -> the global batch
    size that the processes of a multi_process run must divide (None: no such rule).
    """

    name: str
    description: str
    expected_time: str  # at full scale, e.g. "~40 min on 2 CPU cores"
    config: type
    results: type[R]
    run: Callable[..., R]
    paper: Mapping[str, Any]
    compare: Callable[..., Sequence[tuple[str, ...]]]
    variants: Mapping[str, Variant]
    configure: Callable[[str, int | None, RunOptions], Any]
    size: Callable[[Results], int]
    size_label: str = "epochs"
    checkpointed: bool = True
    float64: bool = False  # the CLI enables jax_enable_x64 before running
    multi_process: bool = False  # supports --processes / --num-processes (data parallel)
    takes_length: bool = True  # --epochs applies (epochs or trials)
    batch_size: Callable[[bool], int] | None = None  # of a --quick run if True
    reproductions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.reproductions:
            object.__setattr__(self, "reproductions", {self.name: tuple(self.variants)})
        unknown = {v for names in self.reproductions.values() for v in names} - set(self.variants)
        if unknown:
            raise ValueError(
                f"experiment {self.name!r}: reproductions name unknown variants {sorted(unknown)}"
            )

    def run_name(self, variant: str, seed: int | None) -> str:
        """The stored name of a run, e.g. yinyang_nopseudo_seed2 (see `Variant`)."""
        return self._variant(variant).run_name(seed)

    def _variant(self, variant: str) -> Variant:
        if variant not in self.variants:
            raise ValueError(
                f"{self.name}: variant must be one of {sorted(self.variants)}, got {variant!r}"
            )
        return self.variants[variant]

    def reproduce(self, variants: Sequence[str], options: RunOptions) -> dict[str, R]:
        """Run the variants for options.seeds (default: each variant's), checkpointed in
        options.run_dir; {run name: results}."""
        runs: dict[str, R] = {}
        for variant in variants:
            default = self._variant(variant).seeds
            seeds: Sequence[int | None] = (None,) if default is None else (options.seeds or default)
            for seed in seeds:
                config = self.configure(variant, seed, options)
                name = self.run_name(variant, seed)
                runs[name] = (
                    self.run(
                        config,
                        checkpoint=options.run_dir / f"{name}.ckpt",
                        progress=options.progress,
                    )
                    if self.checkpointed
                    else (self.run(config))
                )
        return runs

    def load_runs(self, variant: str | None = None, results_dir: str | Path = "results") -> list[R]:
        """The stored runs of a variant (default: the first), by seed.

        ValueError naming the file for a stray file (NAME_seed*.npz/.json not of the form
        NAME_seed<N>, e.g. mnist_seed0_old.npz) and for a truncated, corrupt or mismatched
        pair (`Results.load`).
        """
        stored = self._variant(variant or next(iter(self.variants)))
        directory = Path(results_dir)
        if stored.seeds is None:
            return [self.results.load(directory / stored.name)]
        paths = seed_files(directory, f"{stored.name}_seed", self.name)
        return [self.results.load(path) for path in paths]


def seed_files(directory: Path, prefix: str, experiment: str) -> list[Path]:
    """directory/PREFIX<N> (no suffix) of every PREFIX*.npz or .json, sorted by N;
    ValueError naming a stray one whose rest is not a number, FileNotFoundError if there
    is none (naming `snnlib reproduce EXPERIMENT --promote`)."""
    found = sorted(
        {
            p.with_suffix("")
            for suffix in ("npz", "json")
            for p in directory.glob(f"{prefix}*.{suffix}")
        }
    )
    stray = [p for p in found if not p.name.removeprefix(prefix).isdigit()]
    if stray:
        raise ValueError(
            f"{stray[0]}.npz/.json is not a stored run ({prefix}<N>, N the seed): "
            f"move it out of {directory} (e.g. into a backup folder)"
        )
    if not found:
        raise FileNotFoundError(
            f"no {prefix}*.npz in {directory.resolve()}: run `snnlib reproduce "
            f"{experiment} --promote` or use quick parameters"
        )
    return sorted(found, key=lambda p: int(p.name.removeprefix(prefix)))


def trials_of(stored: Results) -> int:
    """Trials of a stored run whose loss has one record per trial and one after the last."""
    return len(stored.arrays["loss"]) - 1


def epochs_of(stored: Results) -> int:
    """Epochs of a stored classification run."""
    return int(stored.metadata["epochs"])


def experiments() -> dict[str, Experiment]:
    """Every experiment: the ``EXPERIMENT`` of each public module of snnlib.experiments."""
    from .. import experiments as package

    found: dict[str, Experiment] = {}
    for module in pkgutil.iter_modules(package.__path__):
        if not module.name.startswith("_"):
            experiment = importlib.import_module(f"{package.__name__}.{module.name}").EXPERIMENT
            found[experiment.name] = experiment
    return found


@dataclass(frozen=True)
class Reproduction:
    """A command-line name of ``snnlib reproduce``: an experiment and the variants it runs."""

    name: str
    experiment: Experiment
    variants: tuple[str, ...]

    @property
    def takes_seeds(self) -> bool:
        """Whether ``--seeds`` applies: some variant it runs has seeds."""
        return any(self.experiment.variants[v].seeds is not None for v in self.variants)

    def run(self, options: RunOptions) -> dict[str, ExperimentResults]:
        return dict(self.experiment.reproduce(self.variants, options))


def reproductions() -> dict[str, Reproduction]:
    """Every name ``snnlib reproduce`` accepts."""
    return {
        name: Reproduction(name, experiment, variants)
        for experiment in experiments().values()
        for name, variants in experiment.reproductions.items()
    }
