"""Command line: ``snnlib figures`` executes the book's notebooks, ``snnlib info`` reports versions.

``snnlib figures [--quick] [--only NAME ...] [--kernel python3]`` converts each
``notebooks/NAME.py`` (jupytext percent format, the source of truth) to a notebook, executes
it with papermill (``-p quick True`` with ``--quick``; ``results_json`` is set to
``book/notebooks/NAME.json``) and writes the executed notebook to ``book/notebooks/NAME.ipynb``,
which the Jupyter Book renders. Wall times go to ``book/notebooks/timings.json``.
Run it from the repository root: the notebooks execute there.

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

NOTEBOOKS = Path("notebooks")
OUTPUT = Path("book/notebooks")


def notebook_names(source_dir: Path = NOTEBOOKS) -> list[str]:
    """Names of the notebooks, one per ``source_dir/NAME.py``, sorted."""
    return sorted(path.stem for path in source_dir.glob("*.py"))


def kernel_python(kernel: str) -> str:
    """The interpreter that the Jupyter kernel ``kernel`` runs.

    A kernelspec whose command is a bare ``python`` (as ipykernel installs it into the
    environment) is run by jupyter_client with the current interpreter, ``sys.executable``.
    """
    from jupyter_client.kernelspec import KernelSpecManager

    executable = KernelSpecManager().get_kernel_spec(kernel).argv[0]
    bare = {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info[:2])}
    return sys.executable if executable in bare else executable


def execute_notebook(
    source: Path, output: Path, parameters: dict, kernel: str = "python3", cwd: Path | str = "."
) -> float:
    """Execute the jupytext notebook ``source`` with papermill into ``output``; return seconds.

    ``parameters`` are injected after the cell tagged ``parameters``; the kernel runs in ``cwd``.
    Raises papermill's ``PapermillExecutionError`` if a cell fails (``output`` then shows where).
    """
    import jupytext
    import papermill

    notebook = jupytext.read(source)
    output.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    papermill.execute_notebook(
        notebook,
        str(output),
        parameters=parameters,
        kernel_name=kernel,
        language="python",
        cwd=str(cwd),
        progress_bar=sys.stderr.isatty(),
    )
    return time.perf_counter() - start


def figures(quick: bool, only: Sequence[str] | None, kernel: str) -> int:
    """Execute the notebooks (all, or those named in ``only``); return the exit status."""
    sys.stdout.reconfigure(line_buffering=True)  # report each notebook as it finishes
    available = notebook_names()
    if not available:
        print(f"no notebooks found in {NOTEBOOKS.resolve()}: run from the repository root")
        return 2
    unknown = sorted(set(only or ()) - set(available))
    if unknown:
        print(f"unknown notebook(s) {', '.join(unknown)}; available: {', '.join(available)}")
        return 2
    names = [name for name in available if not only or name in only]
    from jupyter_client.kernelspec import NoSuchKernel

    try:
        print(f"kernel {kernel!r} runs {kernel_python(kernel)}; quick={quick}")
    except NoSuchKernel:
        print(f"no Jupyter kernel named {kernel!r} (see `jupyter kernelspec list`)")
        return 2

    timings_path = OUTPUT / "timings.json"
    timings = json.loads(timings_path.read_text()) if timings_path.exists() else {}
    failed = []
    for name in names:
        output = OUTPUT / f"{name}.ipynb"
        parameters = {"results_json": str(OUTPUT / f"{name}.json")}
        if quick:
            parameters["quick"] = True
        start = time.perf_counter()
        try:
            seconds = execute_notebook(NOTEBOOKS / f"{name}.py", output, parameters, kernel)
        except Exception as error:  # report every failing notebook, then fail
            print(f"{name:24s} FAILED after {time.perf_counter() - start:8.1f} s: {error}")
            failed.append(name)
            continue
        print(f"{name:24s} {seconds:8.1f} s  -> {output}")
        timings[name] = {"seconds": round(seconds, 2), "quick": quick}
        timings_path.write_text(json.dumps(timings, indent=2, sort_keys=True) + "\n")
    if failed:
        print(f"failed: {', '.join(failed)} (see the executed notebooks in {OUTPUT})")
        return 1
    return 0


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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="snnlib", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
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
    if args.command == "figures":
        return figures(args.quick, args.only, args.kernel)
    return info()


if __name__ == "__main__":
    sys.exit(main())
