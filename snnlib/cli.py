"""Command line: ``snnlib reproduce`` runs the paper's experiments at full scale, ``snnlib
figures`` executes the book's notebooks, ``snnlib info`` reports versions.

``snnlib reproduce NAME [--seeds S ...] [--quick] [--epochs N] [--run-dir DIR] [--promote]``
runs an experiment (the ``EXPERIMENT`` of each module of ``snnlib.experiments``; ``--help``
lists them with their expected run times). A run writes its checkpoints and results into a
run directory, ``runs/NAME-YYYYmmdd-HHMMSS/`` unless ``--run-dir`` names one (rerun with the same
``--run-dir`` to resume). Only ``--promote`` copies the results into ``results/`` (or
``--results-dir``), and it refuses to replace a stored run with more epochs or trials, or
one of another config, unless ``--force`` (``snnlib._promote``: locked, atomic per
.npz/.json pair). ``snnlib promote RUN_DIR`` promotes a finished run later. A rerun of a
run directory with other ``--seeds`` adds them to its run.json. Every flag applies to the
chosen experiment or is refused with exit status 2 (``snnlib._flags``).

``snnlib figures [--quick] [--only NAME ...] [--kernel python3]`` executes each
``notebooks/NAME.py`` with papermill into ``book/notebooks/NAME.ipynb`` (see
``snnlib._notebooks``). Run it from the repository root: the notebooks execute there.

Heavy modules (jax, papermill, jupytext) are imported inside the commands, so that importing
this module stays cheap.
"""

import argparse
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from ._promote import PromotionRefused, promote
from ._version import __version__

__all__ = ["PromotionRefused", "main", "promote", "registry"]


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


def reproduce(args: argparse.Namespace) -> int:
    """Run a registered reproduction into a run directory; optionally promote it."""
    entries = registry()
    if args.name not in entries:
        print(
            f"unknown experiment {args.name!r}; available: {', '.join(sorted(entries))}",
            file=sys.stderr,
        )
        return 2
    reproduction = entries[args.name]
    experiment = reproduction.experiment
    from ._flags import FlagError, check_reproduce_flags
    from ._promote import RunDirError, check_rerun, write_run

    try:
        check_reproduce_flags(args, reproduction)
        if args.run_dir:
            check_rerun(Path(args.run_dir), args.name, args.quick)
    except (FlagError, RunDirError) as error:
        print(f"snnlib reproduce: error: {error}", file=sys.stderr)
        return 2
    results_dir = Path(args.results_dir or "results")
    if args.processes > 1:
        return _launch(args)
    if args.coordinator:
        from .distributed import DEFAULT_TIMEOUT_S, CoordinatorError, initialize

        timeout = args.coordinator_timeout or DEFAULT_TIMEOUT_S
        others = (
            ("if the other processes do not join in that time, JAX's runtime aborts this process")
            if args.process_id == 0
            else "then it gives up"
        )
        print(
            f"process {args.process_id} of {args.num_processes}: joining the coordinator "
            f"{args.coordinator} (waiting at most {timeout:g} s; {others})",
            file=sys.stderr,
        )
        try:
            initialize(args.coordinator, args.num_processes, args.process_id, timeout)
        except CoordinatorError as error:
            print(f"snnlib reproduce: error: {error}", file=sys.stderr)
            return 2
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
    options = RunOptions(
        run_dir=run_dir,
        seeds=tuple(args.seeds) if args.seeds else None,
        quick=args.quick,
        length=args.epochs,
        processes=args.num_processes,
        progress=writer and not args.no_progress,
    )
    runs = reproduction.run(options)
    if not writer:
        return 0
    for name, results in runs.items():
        results.save(run_dir / name)
        print(
            f"{name}: {experiment.size(results.to_stored())} {experiment.size_label} -> "
            f"{run_dir / name}.npz/.json"
        )
    names = write_run(run_dir, args.name, sorted(runs), args.quick, sys.argv[1:])
    if len(names) > len(runs):
        print(f"run.json lists {len(names)} results: these and those of earlier runs in {run_dir}")
    if args.promote:
        return _promote(run_dir, results_dir, args.force)
    return 0


def _promote(run_dir: Path, results_dir: Path, force: bool) -> int:
    """`snnlib promote`: 0 when promoted, 1 when refused (--force may override), 2 for a
    run directory that cannot be promoted (one line, no traceback)."""
    from ._promote import PromotionRefused, RunDirError, promote

    try:
        paths = promote(run_dir, results_dir, force)
    except PromotionRefused as refusal:
        print(f"promotion refused: {refusal}", file=sys.stderr)
        return 1
    except (RunDirError, ValueError, OSError) as error:
        print(f"snnlib promote: error: {error}", file=sys.stderr)
        return 2
    print("promoted: " + ", ".join(f"{path}.npz/.json" for path in paths))
    return 0


def _launch(args: argparse.Namespace) -> int:
    """--processes P: start P local processes of the same command (one data-parallel run)."""
    from .distributed import launch_local

    run_dir = args.run_dir or str(Path("runs") / f"{args.name}-{time.strftime('%Y%m%d-%H%M%S')}")
    command = ["-m", "snnlib.cli", "reproduce", args.name, "--run-dir", run_dir]
    command += ["--results-dir", args.results_dir] if args.results_dir else []
    command += ["--seeds", *map(str, args.seeds)] if args.seeds else []
    command += ["--epochs", str(args.epochs)] if args.epochs is not None else []
    command += [
        flag
        for flag, on in (
            ("--quick", args.quick),
            ("--promote", args.promote),
            ("--force", args.force),
            ("--no-progress", args.no_progress),
        )
        if on
    ]
    return launch_local(args.processes, command)


def _describe(name: str, entry, width: int) -> str:
    """One line of `snnlib reproduce --help`: an experiment's expected time and what it
    is; a reproduction that runs part of one, the runs it makes."""
    experiment = entry.experiment
    if name == experiment.name:
        return f"  {name:{width}s}  {experiment.expected_time}: {experiment.description}"
    runs = ", ".join(experiment.variants[variant].name for variant in entry.variants)
    return f"  {name:{width}s}  part of {experiment.name}: {runs}"


def _add_reproduce(commands, describe: bool) -> None:
    """The reproduce command; with describe, its help lists the registered experiments
    (importing them)."""
    listing = (
        "\n".join(
            _describe(name, entry, max(map(len, registry())))
            for name, entry in sorted(registry().items())
        )
        if describe
        else ""
    )
    parser = commands.add_parser(
        "reproduce",
        help="run an experiment at full scale into a run directory",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run one of the paper's experiments (expected times at full scale):\n"
        + listing,
    )
    parser.add_argument("name", metavar="NAME", help="the experiment (listed above)")
    parser.add_argument("--seeds", type=int, nargs="+", help="seeds (default: the paper's)")
    parser.add_argument("--quick", action="store_true", help="small CI-sized run")
    parser.add_argument("--epochs", type=int, help="epochs (or trials), default: the paper's")
    parser.add_argument(
        "--run-dir", help="run directory (default: runs/NAME-TIMESTAMP); an existing one is resumed"
    )
    parser.add_argument(
        "--promote",
        action="store_true",
        help="copy the results into --results-dir, replacing stored ones",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="with --promote: replace a stored run even with more epochs",
    )
    parser.add_argument("--results-dir", help="with --promote: where to (default: results)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="start P local processes as one data-parallel run (mnist; P "
        "must divide the batch size)",
    )
    parser.add_argument("--coordinator", help="HOST:PORT of process 0 (multi-host runs)")
    parser.add_argument(
        "--num-processes", type=int, default=1, help="with --coordinator: processes in the run"
    )
    parser.add_argument(
        "--process-id", type=int, default=0, help="with --coordinator: this process, 0..P-1"
    )
    parser.add_argument(
        "--coordinator-timeout",
        type=float,
        help="with --coordinator: seconds to wait for the coordinator and the "
        "other processes (default: 60)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="snnlib", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"snnlib {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    arguments = list(sys.argv[1:] if argv is None else argv)
    _add_reproduce(commands, "reproduce" in arguments and bool({"-h", "--help"} & set(arguments)))
    promoting = commands.add_parser("promote", help="copy a finished run into results/")
    promoting.add_argument("run_dir", help="the run directory (runs/NAME-TIMESTAMP)")
    promoting.add_argument(
        "--force", action="store_true", help="replace a stored run even with more epochs or trials"
    )
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
