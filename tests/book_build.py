"""Session fixtures shared by the book tests (test_book.py, test_browser.py): every notebook
executed once with its quick parameters into a copy of the book's sources, and that copy
built once with Jupyter Book (``-W``: warnings are errors).

Registered as a pytest plugin in conftest.py. Skipped unless the book extras are installed.
"""

import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from snnlib._notebooks import execute_notebook, notebook_names

ROOT = Path(__file__).resolve().parents[1]


def toc_notebooks(caption: str = "Figures") -> list[str]:
    """The notebooks of one part of _toc.yml (the figures, or the "User guide"), in order."""
    try:
        import yaml
    except ImportError:  # no book extras: the book tests skip
        return []
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    part = next((p for p in toc["parts"] if p["caption"] == caption), {"chapters": []})
    entries = [
        entry for chapter in part["chapters"] for entry in (chapter, *chapter.get("sections", []))
    ]
    prefix = "book/notebooks/"
    return [e["file"].removeprefix(prefix) for e in entries if e["file"].startswith(prefix)]


# the figures and the chapters beyond the paper: executed, built and checked (the figures
# also against the paper, PAPER_CHECKS in test_book.py)
NOTEBOOKS = toc_notebooks() + toc_notebooks("Beyond the paper")
GUIDES = toc_notebooks("User guide")  # the tutorials: executed and built too
SOURCES = notebook_names(ROOT / "notebooks")  # every notebooks/*.py


def stop(process: subprocess.Popen, timeout: float = 30) -> None:
    """Terminate a process that a test started; kill it if it does not end in time."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()


def require_book_extras() -> None:
    for module in ("jupyter_book", "papermill", "jupytext", "yaml"):
        pytest.importorskip(module, reason=f"the book extras are not installed ({module})")


def run_notebook(name: str, *, out_dir: Path | None = None, **params) -> dict:
    """Execute ``notebooks/NAME.py`` with papermill and return the numbers it recorded.

    ``params`` override the notebook's parameters (default ``quick=True``); the last cell
    records its measured numbers (``snnlib.notebook.record_numbers``) as JSON, here in
    ``out_dir/NAME.json`` (``out_dir`` defaults to a new temporary directory), next to the
    executed notebook ``out_dir/NAME.ipynb``.
    """
    out_dir = Path(out_dir) if out_dir else Path(tempfile.mkdtemp(prefix=f"snnlib-{name}-"))
    params = {"quick": True, **params}
    source, numbers = ROOT / "notebooks" / f"{name}.py", out_dir / f"{name}.json"
    execute_notebook(source, out_dir / f"{name}.ipynb", params, cwd=ROOT, numbers_json=numbers)
    return json.loads(numbers.read_text())


@dataclass
class BuiltBook:
    root: Path  # the copy of the book's sources
    results: dict  # the numbers each notebook recorded, by notebook name
    build: subprocess.CompletedProcess  # `jupyter-book build` of the copy
    html: Path  # root/_build/html


@pytest.fixture(scope="session")
def executed_book(tmp_path_factory):
    """A copy of the book's sources with every notebook executed (quick) into it.

    Returns the copy's root and the results recorded by each notebook.
    """
    require_book_extras()
    root = tmp_path_factory.mktemp("book")
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, root / name)
    shutil.copytree(ROOT / "book", root / "book", ignore=shutil.ignore_patterns("notebooks"))
    shutil.copytree(ROOT / "notebooks", root / "notebooks")  # the pages' .py downloads
    results = {
        name: run_notebook(name, out_dir=root / "book" / "notebooks") for name in NOTEBOOKS + GUIDES
    }
    return root, results


@pytest.fixture(scope="session")
def built_book(executed_book) -> BuiltBook:
    """The executed copy, built once into root/_build/html with warnings as errors."""
    root, results = executed_book
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    build = subprocess.run(
        [str(jupyter_book), "build", "--all", "-W", "--keep-going", str(root)],
        capture_output=True,
        text=True,
    )
    return BuiltBook(root, results, build, root / "_build" / "html")
