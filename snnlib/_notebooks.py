"""The book's notebooks: executing them (``snnlib figures``), and a Sphinx extension that
refuses to publish a notebook holding an error output and hides papermill's injected cell.
The helpers that the notebooks themselves call are public, in ``snnlib.notebook``.

``snnlib figures [--quick] [--only NAME ...] [--kernel python3]`` converts each
``notebooks/NAME.py`` (jupytext percent format, the source of truth) to a notebook, executes
it with papermill (``-p quick True`` with ``--quick``), with ``SNNLIB_NUMBERS_JSON`` set so
that its measured numbers go to ``book/notebooks/NAME.json``, and writes the executed
notebook to ``book/notebooks/NAME.ipynb``, which the Jupyter Book renders. Both files are
written to temporary files first and moved into place only when the whole notebook ran: a
failing notebook leaves the previous good ones (its failed execution is kept as
``NAME.failed.ipynb`` to show where it failed). Wall times go to
``book/notebooks/timings.json``. Run it from the repository root: the notebooks execute
there.

Heavy modules (papermill, jupytext, nbformat, sphinx) are imported inside the functions, so
that importing this module stays cheap.
"""

import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from snnlib.notebook import NUMBERS_ENV

NOTEBOOKS = Path("notebooks")
OUTPUT = Path("book/notebooks")
INJECTED_TAG = "injected-parameters"  # papermill's tag on the cell it inserts
HIDDEN_TAG = "remove-cell"  # myst-nb: the cell is not rendered

__all__ = ["error_outputs", "execute_notebook", "figures", "kernel_python", "notebook_names"]


def notebook_names(source_dir: Path = NOTEBOOKS) -> list[str]:
    """Names of the notebooks, one per ``source_dir/NAME.py``, sorted."""
    return sorted(path.stem for path in Path(source_dir).glob("*.py"))


def kernel_python(kernel: str) -> str:
    """The interpreter that the Jupyter kernel ``kernel`` runs.

    A kernelspec whose command is a bare ``python`` (as ipykernel installs it into the
    environment) is run by jupyter_client with the current interpreter, ``sys.executable``.
    """
    from jupyter_client.kernelspec import KernelSpecManager

    executable = KernelSpecManager().get_kernel_spec(kernel).argv[0]
    bare = {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info[:2])}
    return sys.executable if executable in bare else executable


def error_outputs(notebook: dict) -> list[str]:
    """``"cell N: ename: evalue"`` for each error output in a notebook (nbformat 4 dict)."""
    return [
        f"cell {index}: {output.get('ename', '?')}: {output.get('evalue', '')}"
        for index, cell in enumerate(notebook.get("cells", []))
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]


def _hide_injected_parameters(path: Path) -> None:
    """Tag papermill's injected-parameters cell so that the book does not render it (the
    notebook itself says on its page when it ran with reduced parameters)."""
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        tags = cell.metadata.setdefault("tags", [])
        if INJECTED_TAG in tags and HIDDEN_TAG not in tags:
            tags.append(HIDDEN_TAG)
    nbformat.write(notebook, path)


def execute_notebook(
    source: Path,
    output: Path,
    parameters: dict,
    kernel: str = "python3",
    cwd: Path | str = ".",
    numbers_json: Path | str | None = None,
) -> float:
    """Execute the jupytext notebook ``source`` with papermill into ``output``; return seconds.

    ``parameters`` are injected after the cell tagged ``parameters``; the kernel runs in
    ``cwd``. With ``numbers_json``, the kernel gets the environment variable
    ``SNNLIB_NUMBERS_JSON`` naming a temporary file, where the notebook's
    ``snnlib.notebook.record_numbers`` writes its numbers; it is moved to ``numbers_json`` on
    success. On failure ``output`` and ``numbers_json`` keep their previous contents, the
    failed execution is written to ``output`` with suffix ``.failed.ipynb``, and papermill's
    ``PapermillExecutionError`` (or the parameter check's error) propagates.
    """
    import jupytext
    import papermill

    source, output = Path(source), Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    failed = output.with_suffix(".failed.ipynb")
    temporary = output.with_name(f".{output.stem}.{os.getpid()}.tmp.ipynb")
    written = None
    if numbers_json is not None:
        numbers_json = Path(numbers_json)
        numbers_json.parent.mkdir(parents=True, exist_ok=True)
        written = numbers_json.with_name(f".{numbers_json.stem}.{os.getpid()}.tmp.json")
    notebook = jupytext.read(source)
    previous = os.environ.pop(NUMBERS_ENV, None)  # the kernel inherits the environment
    if written is not None:
        os.environ[NUMBERS_ENV] = str(written.resolve())
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            notebook,
            str(temporary),
            parameters=dict(parameters),
            kernel_name=kernel,
            language="python",
            cwd=str(cwd),
            progress_bar=sys.stderr.isatty(),
        )
    except BaseException:
        if temporary.exists():
            os.replace(temporary, failed)
        if written is not None:
            written.unlink(missing_ok=True)
        raise
    finally:
        os.environ.pop(NUMBERS_ENV, None)
        if previous is not None:
            os.environ[NUMBERS_ENV] = previous
    seconds = time.perf_counter() - start
    _hide_injected_parameters(temporary)
    if written is not None:
        if not written.exists():
            temporary.unlink()
            raise FileNotFoundError(
                f"{source} recorded no numbers (its last cell calls snnlib.notebook.record_numbers)"
            )
        assert numbers_json is not None  # checked where written is set
        os.replace(written, numbers_json)
    os.replace(temporary, output)
    failed.unlink(missing_ok=True)
    return seconds


def figures(quick: bool, only: Sequence[str] | None, kernel: str) -> int:
    """Execute the notebooks (all, or those named in ``only``); return the exit status."""
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # report each notebook as it finishes
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
        start = time.perf_counter()
        try:
            seconds = execute_notebook(
                NOTEBOOKS / f"{name}.py",
                output,
                {"quick": quick},
                kernel,
                numbers_json=OUTPUT / f"{name}.json",
            )
        except Exception as error:  # report every failing notebook, then fail
            print(f"{name:24s} FAILED after {time.perf_counter() - start:8.1f} s: {error}")
            failed.append(name)
            continue
        print(f"{name:24s} {seconds:8.1f} s  -> {output}")
        timings[name] = {"seconds": round(seconds, 2), "quick": quick}
        timings_path.write_text(json.dumps(timings, indent=2, sort_keys=True) + "\n")
    if failed:
        print(
            f"failed: {', '.join(failed)}; the previous executed notebooks stay in {OUTPUT}, "
            "the failed executions are NAME.failed.ipynb there"
        )
        return 1
    return 0


def _refuse_error_outputs(app, docname: str, source: list[str]) -> None:
    """Sphinx ``source-read`` handler: a notebook page with an error output stops the build."""
    from sphinx.errors import ExtensionError

    path = Path(app.env.doc2path(docname))
    if path.suffix != ".ipynb":
        return
    errors = error_outputs(json.loads(source[0]))
    if errors:
        raise ExtensionError(
            f"{path} holds error outputs ({'; '.join(errors)}): fix the notebook and rerun "
            "`snnlib figures` before building the book"
        )


def _drop_injected_parameters(app, docname: str, source: list[str]) -> None:
    """Sphinx ``source-read`` handler: a notebook page does not show papermill's injected
    parameters cell, also where papermill ran by hand (the notebook's own notice says when
    it ran with reduced parameters)."""
    if Path(app.env.doc2path(docname)).suffix != ".ipynb":
        return
    notebook = json.loads(source[0])
    cells = notebook.get("cells", [])
    kept = [cell for cell in cells if INJECTED_TAG not in cell.get("metadata", {}).get("tags", [])]
    if len(kept) != len(cells):
        notebook["cells"] = kept
        source[0] = json.dumps(notebook)


def _drop_thebe_scripts(app, pagename, templatename, context, doctree) -> None:
    """Sphinx ``html-page-context`` handler: remove sphinx-thebe's scripts from the page.

    The book has no live kernels (launch buttons are off), but Jupyter Book always loads
    sphinx-thebe, which declares ``const THEBE_JS_URL`` twice per page (a JavaScript error)
    and points at a CDN.
    """

    def is_thebe(script) -> bool:
        body = getattr(script, "attributes", {}).get("body", "")
        return "thebe" in f"{getattr(script, 'filename', script)} {body}".lower()

    if "script_files" in context:
        context["script_files"] = [s for s in context["script_files"] if not is_thebe(s)]


def setup(app) -> dict:
    """Sphinx extension (``extra_extensions: [snnlib._notebooks]`` in ``_config.yml``)."""
    app.connect("source-read", _refuse_error_outputs)
    app.connect("source-read", _drop_injected_parameters)
    app.connect("html-page-context", _drop_thebe_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
