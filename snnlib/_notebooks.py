"""The book's notebooks: executing them (``snnlib figures``), checking their parameters, and a
Sphinx extension that refuses to publish a notebook holding an error output.

``snnlib figures [--quick] [--only NAME ...] [--kernel python3]`` converts each
``notebooks/NAME.py`` (jupytext percent format, the source of truth) to a notebook, executes
it with papermill (``-p quick True`` with ``--quick``; ``results_json`` is set to
``book/notebooks/NAME.json``) and writes the executed notebook to ``book/notebooks/NAME.ipynb``,
which the Jupyter Book renders. Both files are written to temporary files first and moved into
place only when the whole notebook ran: a failing notebook leaves the previous good ones (its
failed execution is kept as ``NAME.failed.ipynb`` to show where it failed). Wall times go to
``book/notebooks/timings.json``. Run it from the repository root: the notebooks execute there.

Heavy modules (papermill, jupytext, nbformat, sphinx) are imported inside the functions, so
that importing this module stays cheap.
"""

import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

NOTEBOOKS = Path("notebooks")
OUTPUT = Path("book/notebooks")
INJECTED_TAG = "injected-parameters"  # papermill's tag on the cell it inserts
HIDDEN_TAG = "remove-cell"  # myst-nb: the cell is not rendered

__all__ = [
    "check_parameters",
    "error_outputs",
    "execute_notebook",
    "figures",
    "glue_figure",
    "glued_figures",
    "kernel_python",
    "markdown_table",
    "notebook_names",
    "smallest_font_pt",
    "use_repository_root",
]


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


def use_repository_root() -> None:
    """Change to the repository root (the folder above with ``_toc.yml`` and ``notebooks/``):
    the notebooks' default paths are relative to it, and JupyterLab starts their kernels in
    ``notebooks/``. Returns nothing, so that the setup cell shows no output on the page.
    Raises FileNotFoundError outside the repository."""
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "_toc.yml").is_file() and (folder / "notebooks").is_dir():
            os.chdir(folder)
            return
    raise FileNotFoundError(f"{here} is not inside the snnlib repository (no _toc.yml above)")


def _type_names(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join("None" if k is type(None) else k.__name__ for k in kinds)


def check_parameters(**declared: tuple[Any, type | tuple[type, ...]]) -> None:
    """Check the notebook parameters: ``check_parameters(quick=(quick, bool), ...)``.

    Each keyword names a parameter and gives its value and the type (or tuple of types) it
    must have. papermill passes ``-p quick false`` as the string ``"false"``, which Python
    would take as true: this raises instead. A bool is not accepted where an int is asked.
    Raises TypeError naming the parameter, its value and the expected type.
    """
    for name, (value, kind) in declared.items():
        kinds = kind if isinstance(kind, tuple) else (kind,)
        is_bool = isinstance(value, bool)
        accepted = any(
            isinstance(value, k) and (k is bool or not is_bool) for k in kinds
        )
        if accepted:
            continue
        hint = ""
        if bool in kinds:
            hint = f" (with papermill: -p {name} True or -p {name} False, capitalised)"
        raise TypeError(
            f"notebook parameter {name!r} must be {_type_names(kind)}, got {value!r} "
            f"({type(value).__name__}){hint}"
        )


_GLUED_FIGURES: dict[str, dict[str, float]] = {}


def smallest_font_pt(fig) -> float:
    """The smallest font size (points) of any visible, non-empty text in a drawn figure."""
    from matplotlib.text import Text

    fig.canvas.draw()
    sizes = [text.get_fontsize() for text in fig.findobj(Text)
             if text.get_visible() and text.get_text().strip()]
    return float(min(sizes))


def glue_figure(name: str, fig) -> None:
    """Store ``fig`` in the notebook under ``name`` for a ``{glue:figure}`` with caption and
    alt text (myst-nb), and remember its smallest font and dpi (see ``glued_figures``)."""
    from myst_nb import glue

    glue(name, fig, display=False)
    _GLUED_FIGURES[name] = {"smallest_pt": smallest_font_pt(fig), "dpi": float(fig.dpi)}


def glued_figures() -> dict[str, dict[str, float]]:
    """{name: {"smallest_pt", "dpi"}} of the figures glued so far in this kernel: with the
    size a page shows a figure at, the browser test computes its smallest text in pixels."""
    return dict(_GLUED_FIGURES)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown (GFM) table with the given header and rows; cells are str()-ed.

    The book renders notebook Markdown outputs with MyST, so this becomes an HTML table.
    """
    def line(cells: Sequence[Any]) -> str:
        return "| " + " | ".join(str(cell).replace("|", r"\|") for cell in cells) + " |"

    if any(len(row) != len(header) for row in rows):
        raise ValueError(f"every row needs {len(header)} cells")
    return "\n".join([line(header), line(["---"] * len(header)), *map(line, rows)])


def error_outputs(notebook: dict) -> list[str]:
    """``"cell N: ename: evalue"`` for each error output in a notebook (nbformat 4 dict)."""
    return [
        f"cell {index}: {output.get('ename', '?')}: {output.get('evalue', '')}"
        for index, cell in enumerate(notebook.get("cells", []))
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]


def _hide_injected_parameters(path: Path, parameters: dict) -> None:
    """Tag papermill's injected-parameters cell so that the book does not render it; where
    the notebook ran with other than its full-scale parameters, say so in a Markdown cell
    in its place (the parameters cell above shows the defaults)."""
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    shown = {name: value for name, value in parameters.items()
             if name != "results_json" and not (name == "quick" and value is False)}
    for index, cell in enumerate(notebook.cells):
        tags = cell.metadata.setdefault("tags", [])
        if INJECTED_TAG in tags and HIDDEN_TAG not in tags:
            tags.append(HIDDEN_TAG)
            if shown:
                values = ", ".join(f"`{name} = {value!r}`" for name, value in shown.items())
                note = nbformat.v4.new_markdown_cell(
                    f"*This page was executed with {values}: a reduced run, not the "
                    "paper-scale one (see {doc}`../reproducing`).*")
                note.metadata["tags"] = ["executed-with"]
                notebook.cells.insert(index + 1, note)
            break
    nbformat.write(notebook, path)


def execute_notebook(
    source: Path, output: Path, parameters: dict, kernel: str = "python3", cwd: Path | str = "."
) -> float:
    """Execute the jupytext notebook ``source`` with papermill into ``output``; return seconds.

    ``parameters`` are injected after the cell tagged ``parameters``; the kernel runs in
    ``cwd``. If ``parameters`` has ``results_json`` (where the notebook writes its numbers),
    the notebook writes to a temporary file that is moved there on success. On failure
    ``output`` and ``results_json`` keep their previous contents, the failed execution is
    written to ``output`` with suffix ``.failed.ipynb``, and papermill's
    ``PapermillExecutionError`` (or the parameter check's error) propagates.
    """
    import jupytext
    import papermill

    source, output = Path(source), Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    failed = output.with_suffix(".failed.ipynb")
    temporary = output.with_name(f".{output.stem}.{os.getpid()}.tmp.ipynb")
    parameters = dict(parameters)
    results_json = parameters.get("results_json")
    if results_json is not None:
        results_json = Path(results_json)
        results_json.parent.mkdir(parents=True, exist_ok=True)
        parameters["results_json"] = str(
            results_json.with_name(f".{results_json.stem}.{os.getpid()}.tmp.json"))
    notebook = jupytext.read(source)
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            notebook, str(temporary), parameters=parameters, kernel_name=kernel,
            language="python", cwd=str(cwd), progress_bar=sys.stderr.isatty(),
        )
    except BaseException:
        if temporary.exists():
            os.replace(temporary, failed)
        if results_json is not None:
            Path(parameters["results_json"]).unlink(missing_ok=True)
        raise
    seconds = time.perf_counter() - start
    _hide_injected_parameters(temporary, parameters)
    if results_json is not None:
        written = Path(parameters["results_json"])
        if not written.exists():
            temporary.unlink()
            raise FileNotFoundError(f"{source} did not write its numbers to results_json")
        os.replace(written, results_json)
    os.replace(temporary, output)
    failed.unlink(missing_ok=True)
    return seconds


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
        parameters = {"results_json": str(OUTPUT / f"{name}.json"), "quick": quick}
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
        print(f"failed: {', '.join(failed)}; the previous executed notebooks stay in {OUTPUT}, "
              "the failed executions are NAME.failed.ipynb there")
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
            "`snnlib figures` before building the book")


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
    app.connect("html-page-context", _drop_thebe_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
