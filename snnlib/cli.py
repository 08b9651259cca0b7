"""Command line: ``snnlib reproduce`` runs the paper's experiments at full scale, ``snnlib
figures`` executes the book's notebooks, ``snnlib info`` reports versions.

``snnlib reproduce NAME [--seeds S ...] [--quick] [--epochs N] [--run-dir DIR] [--promote]``
runs an experiment (the ``EXPERIMENT`` of each module of ``snnlib.experiments``; ``--help``
lists them with their expected run times). A run writes its checkpoints and results into a
run directory, ``runs/NAME-YYYYmmdd-HHMMSS/`` unless ``--run-dir`` names one (rerun with the same
``--run-dir`` to resume). Only ``--promote`` copies the results into ``results/`` (or
``--results-dir``), and it refuses to replace a stored run with more epochs or trials
unless ``--force``. ``snnlib promote RUN_DIR`` promotes a finished run later.

``snnlib figures [--quick] [--only NAME ...] [--kernel python3]`` executes each
``notebooks/NAME.py`` with papermill into ``book/notebooks/NAME.ipynb`` (see
``snnlib._notebooks``). Run it from the repository root: the notebooks execute there.

Heavy modules (jax, papermill, jupytext) are imported inside the commands, so that importing
this module stays cheap.
"""

import argparse
import json
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from ._version import __version__


def figures(quick: bool, only: Sequence[str] | None, kernel: str) -> int:
    """Execute the notebooks (all, or those named in ``only``); see ``snnlib._notebooks``."""
    from ._notebooks import figures as execute_figures

    return execute_figures(quick, only, kernel)


def info() -> int:
    """Print the versions of python, jax, jaxlib and numpy, the devices and the x64 flag."""
    import jax
    import jaxlib
    import numpy

    print(f"python   {platform.python_version()} ({sys.executable})")
    print(f"jax      {jax.__version__}")
    print(f"jaxlib   {jaxlib.__version__}")
    print(f"numpy    {numpy.__version__}")
    print(f"backend  {jax.default_backend()}")
    print(f"devices  {', '.join(str(device) for device in jax.devices())}")
    print(f"x64      {jax.config.read('jax_enable_x64')}")
    return 0


def registry() -> dict:
    """The names ``snnlib reproduce`` accepts: {name: `Reproduction`} of every experiment."""
    from .experiments._experiment import reproductions

    return reproductions()


class PromotionRefused(Exception):
    """A run that must not replace a stored result (fewer epochs/trials, or quick)."""


def promote(run_dir: Path, results_dir: Path, force: bool = False) -> list[Path]:
    """Copy the results of run_dir (as named in its run.json) into results_dir.

    Refuses (PromotionRefused, nothing copied) a quick run, or one with fewer epochs or
    trials than the stored result it would replace, unless force.
    """
    from .experiments import Results

    info = json.loads((run_dir / "run.json").read_text())
    experiment = registry()[info["reproduction"]].experiment
    runs = {name: Results.load(run_dir / name) for name in info["results"]}
    if not force:
        if info.get("quick"):
            raise PromotionRefused(f"{run_dir} is a --quick run: pass --force to promote it")
        for name, results in runs.items():
            stored = results_dir / name
            if stored.with_suffix(".json").exists():
                old, new = experiment.size(Results.load(stored)), experiment.size(results)
                if new < old:
                    raise PromotionRefused(
                        f"{run_dir / name} has {new} {experiment.size_label}, the stored "
                        f"{stored} has {old}: not replaced (pass --force to replace it)")
    return [results.save(results_dir / name) for name, results in runs.items()]


def reproduce(args: argparse.Namespace) -> int:
    """Run a registered reproduction into a run directory; optionally promote it."""
    entries = registry()
    if args.name not in entries:
        print(f"unknown experiment {args.name!r}; available: {', '.join(sorted(entries))}",
              file=sys.stderr)
        return 2
    reproduction = entries[args.name]
    experiment = reproduction.experiment
    if max(args.processes, args.num_processes) > 1 and not experiment.multi_process:
        print(f"{args.name} runs in one process: drop --processes/--num-processes",
              file=sys.stderr)
        return 2
    if args.processes > 1:
        return _launch(args)
    if args.coordinator:
        from .distributed import initialize

        initialize(args.coordinator, args.num_processes, args.process_id)
    import jax

    from ._placement import is_writer
    from .experiments import RunOptions

    if experiment.float64:
        jax.config.update("jax_enable_x64", True)
    run_dir = Path(args.run_dir or Path("runs") / f"{args.name}-{time.strftime('%Y%m%d-%H%M%S')}")
    writer = is_writer()
    if writer:
        run_dir.mkdir(parents=True, exist_ok=True)
        print(f"{args.name}: run directory {run_dir} (rerun with --run-dir {run_dir} to resume)")
    options = RunOptions(run_dir=run_dir, seeds=tuple(args.seeds) if args.seeds else None,
                         quick=args.quick, length=args.epochs, processes=args.num_processes,
                         progress=writer and not args.no_progress)
    runs = reproduction.run(options)
    if not writer:
        return 0
    for name, results in runs.items():
        results.save(run_dir / name)
        print(f"{name}: {experiment.size(results.to_stored())} {experiment.size_label} -> "
              f"{run_dir / name}.npz/.json")
    (run_dir / "run.json").write_text(json.dumps(
        {"reproduction": args.name, "results": sorted(runs), "quick": args.quick,
         "argv": sys.argv[1:]}, indent=1) + "\n")
    if args.promote:
        return _promote(run_dir, Path(args.results_dir), args.force)
    return 0


def _promote(run_dir: Path, results_dir: Path, force: bool) -> int:
    try:
        paths = promote(run_dir, results_dir, force)
    except PromotionRefused as refusal:
        print(f"promotion refused: {refusal}", file=sys.stderr)
        return 1
    print("promoted: " + ", ".join(f"{path}.npz/.json" for path in paths))
    return 0


def _launch(args: argparse.Namespace) -> int:
    """--processes P: start P local processes of the same command (one data-parallel run)."""
    from .distributed import launch_local

    run_dir = args.run_dir or str(Path("runs") / f"{args.name}-{time.strftime('%Y%m%d-%H%M%S')}")
    command = ["-m", "snnlib.cli", "reproduce", args.name, "--run-dir", run_dir,
               "--results-dir", args.results_dir]
    command += ["--seeds", *map(str, args.seeds)] if args.seeds else []
    command += ["--epochs", str(args.epochs)] if args.epochs is not None else []
    command += [flag for flag, on in (("--quick", args.quick), ("--promote", args.promote),
                                      ("--force", args.force),
                                      ("--no-progress", args.no_progress)) if on]
    return launch_local(args.processes, command)


def _add_reproduce(commands, describe: bool) -> None:
    """The reproduce command; with describe, its help lists the registered experiments
    (importing them)."""
    listing = "\n".join(
        f"  {name:15s} {entry.experiment.expected_time:>22s}  {entry.experiment.description}"
        for name, entry in sorted(registry().items())) if describe else ""
    parser = commands.add_parser(
        "reproduce", help="run an experiment at full scale into a run directory",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run one of the paper's experiments (expected times at full scale):\n"
                    + listing)
    parser.add_argument("name", metavar="NAME", help="the experiment (listed above)")
    parser.add_argument("--seeds", type=int, nargs="+", help="seeds (default: the paper's)")
    parser.add_argument("--quick", action="store_true", help="small CI-sized run")
    parser.add_argument("--epochs", type=int, help="epochs (or trials), default: the paper's")
    parser.add_argument("--run-dir", help="run directory (default: runs/NAME-TIMESTAMP); "
                        "an existing one is resumed")
    parser.add_argument("--promote", action="store_true",
                        help="copy the results into --results-dir, replacing stored ones")
    parser.add_argument("--force", action="store_true",
                        help="with --promote: replace a stored run even with more epochs")
    parser.add_argument("--results-dir", default="results", help="(default: results)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument("--processes", type=int, default=1,
                        help="start P local processes as one data-parallel run (mnist)")
    parser.add_argument("--coordinator", help="HOST:PORT of process 0 (multi-host runs)")
    parser.add_argument("--num-processes", type=int, default=1)
    parser.add_argument("--process-id", type=int, default=0)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="snnlib", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"snnlib {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    arguments = list(sys.argv[1:] if argv is None else argv)
    _add_reproduce(commands, "reproduce" in arguments and bool({"-h", "--help"} & set(arguments)))
    promoting = commands.add_parser("promote", help="copy a finished run into results/")
    promoting.add_argument("run_dir", help="the run directory (runs/NAME-TIMESTAMP)")
    promoting.add_argument("--force", action="store_true",
                           help="replace a stored run even with more epochs or trials")
    promoting.add_argument("--results-dir", default="results", help="(default: results)")
    run = commands.add_parser(
        "figures", help="execute notebooks/*.py with papermill into book/notebooks/"
    )
    run.add_argument(
        "--quick", action="store_true", help="pass -p quick True (small CI-sized runs)"
    )
    run.add_argument("--only", nargs="+", metavar="NAME", help="execute only these notebooks")
    run.add_argument(
        "--kernel", default="python3", help="Jupyter kernel to execute with (default: python3)"
    )
    commands.add_parser("info", help="versions of python, jax, jaxlib, numpy; devices; x64 flag")
    args = parser.parse_args(argv)
    if args.command == "reproduce":
        return reproduce(args)
    if args.command == "promote":
        return _promote(Path(args.run_dir), Path(args.results_dir), args.force)
    if args.command == "figures":
        return figures(args.quick, args.only, args.kernel)
    return info()


if __name__ == "__main__":
    sys.exit(main())
