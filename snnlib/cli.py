"""Command line: ``snnlib figures`` executes the book's notebooks, ``snnlib info`` reports versions.

``snnlib figures [--quick] [--only NAME ...] [--kernel python3]`` executes each
``notebooks/NAME.py`` with papermill into ``book/notebooks/NAME.ipynb`` (see
``snnlib._notebooks``). Run it from the repository root: the notebooks execute there.

Heavy modules (jax, papermill, jupytext) are imported inside the commands, so that importing
this module stays cheap.
"""

import argparse
import platform
import sys
from collections.abc import Sequence

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
