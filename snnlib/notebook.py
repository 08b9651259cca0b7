"""Helpers for the book's notebooks, public so that a notebook runs wherever snnlib is
installed (a downloaded ``.ipynb``, outside any clone of the repository).

- ``check_parameters``: the papermill parameters' types and ranges, checked before any
  computation, with errors that name the parameter.
- ``stored_results``: the folder of the stored full-scale runs (parameter ``results_dir``),
  or one sentence saying what to set.
- ``show_run_notice``: a quick (or otherwise reduced) run says so on its page.
- ``glue_figure`` / ``glued_figures`` / ``smallest_font_pt``: figures for the book's
  ``{glue:figure}`` directive, also shown in JupyterLab.
- ``markdown_table``: a table of numbers as Markdown output.
- ``record_numbers``: the measured numbers, written only where ``snnlib figures`` (or a test)
  asks for them (environment variable ``SNNLIB_NUMBERS_JSON``); an interactive run writes
  nothing.

IPython and matplotlib are imported inside the functions: importing this module is cheap.
"""

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "NUMBERS_ENV",
    "check_parameters",
    "glue_figure",
    "glued_figures",
    "markdown_table",
    "record_numbers",
    "show_run_notice",
    "smallest_font_pt",
    "stored_results",
]

NUMBERS_ENV = "SNNLIB_NUMBERS_JSON"  #: where record_numbers writes (set by `snnlib figures`)
_GLUE_METADATA = "scrapbook"  # the output metadata key that myst-nb's glue reads


def _type_names(kinds: tuple[type, ...]) -> str:
    return " or ".join("None" if k is type(None) else k.__name__ for k in kinds)


def _range_text(low: float | None, high: float | None) -> str:
    if high is None:
        return f"at least {low}"
    if low is None:
        return f"at most {high}"
    return f"in {low}..{high}"


def check_parameters(**declared: tuple) -> None:
    """Check the notebook parameters: ``check_parameters(quick=(quick, bool),
    epochs_quick=(epochs_quick, int, (1, None)), ...)``.

    Each keyword names a parameter and gives its value, the type (or tuple of types) it must
    have and, optionally, the inclusive range ``(low, high)`` a number must lie in (``None``:
    unbounded on that side; ``None`` values are not range-checked). papermill passes
    ``-p quick false`` as the string ``"false"``, which Python would take as true: this
    raises instead. A bool is not accepted where an int is asked, NaN never lies in a range.
    Raises TypeError (wrong type) or ValueError (out of range) naming the parameter, its
    value and the papermill option that fixes it.
    """
    for name, spec in declared.items():
        if len(spec) not in (2, 3):
            raise TypeError(
                f"check_parameters: {name} needs (value, type) or "
                f"(value, type, (low, high)), got {spec!r}"
            )
        value, kind = spec[0], spec[1]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        is_bool = isinstance(value, bool)
        if not any(isinstance(value, k) and (k is bool or not is_bool) for k in kinds):
            hint = (
                f" (with papermill: -p {name} True or -p {name} False, capitalised)"
                if bool in kinds
                else ""
            )
            raise TypeError(
                f"notebook parameter {name!r} must be {_type_names(kinds)}, got "
                f"{value!r} ({type(value).__name__}){hint}"
            )
        if len(spec) == 3 and value is not None:
            low, high = spec[2]
            if not (
                (low is None or value >= low)
                and (high is None or value <= high)
                and not (isinstance(value, float) and math.isnan(value))
            ):
                raise ValueError(
                    f"notebook parameter {name!r} must be "
                    f"{_range_text(low, high)}, got {value!r} (set it in the "
                    f"parameters cell, or with papermill: -p {name} VALUE)"
                )


def _repository_results() -> list[Path]:
    """The results/ folders of snnlib clones that could be meant: above the working
    directory (a folder with _toc.yml and results/), and next to this package (an editable
    install of a clone)."""
    here = Path.cwd().resolve()
    roots = [*(here, *here.parents), Path(__file__).resolve().parents[1]]
    found = []
    for root in roots:
        if (root / "_toc.yml").is_file() and (root / "results").is_dir():
            if root / "results" not in found:
                found.append(root / "results")
    return found


def stored_results(results_dir: str | os.PathLike | None, *patterns: str) -> Path:
    """The folder that holds the stored full-scale runs: ``results_dir``, or where that is
    None, the ``results/`` folder of the snnlib clone that the notebook runs in.

    ``patterns`` are file names (globs such as ``"mnist_seed*.npz"``) of which each must match
    at least one file there. Raises FileNotFoundError with one sentence naming the parameters
    to set (``results_dir``, or ``quick = True``) when they are missing.
    """
    candidates = [Path(results_dir)] if results_dir is not None else _repository_results()
    for folder in candidates:
        if folder.is_dir() and all(any(folder.glob(pattern)) for pattern in patterns):
            return folder
    where = (
        f"in results_dir={str(results_dir)!r}"
        if results_dir is not None
        else "(results_dir is None and this notebook does not run inside a clone of the "
        "snnlib repository)"
    )
    raise FileNotFoundError(
        f"No stored full-scale results ({', '.join(patterns)}) {where}: set the parameter "
        "results_dir to the results/ folder of a snnlib clone, or set quick = True to "
        "compute a short run here."
    )


def show_run_notice(quick: bool, quick_run: str, *changes: str) -> None:
    """Display, as Markdown, that this page comes from a reduced run: ``quick_run`` says what
    the quick run does (shown only when ``quick``), each of ``changes`` another parameter that
    differs from the paper's. Displays nothing for a run with the full-scale parameters."""
    parts = [f"**Quick run** (`quick = True`): {quick_run}."] if quick else []
    parts += [f"{change}." for change in changes]
    if not parts:
        return
    from IPython.display import Markdown, display

    display(
        Markdown(
            " ".join(parts) + " The figures, tables and sentences on this page "
            "describe this run, not the paper-scale one (the Reproducing page says "
            "how to run it at full scale)."
        )
    )


_GLUED_FIGURES: dict[str, dict[str, float]] = {}


def smallest_font_pt(fig) -> float:
    """The smallest font size (points) of any visible, non-empty text in a drawn figure."""
    from matplotlib.text import Text

    fig.canvas.draw()
    sizes = [
        text.get_fontsize()
        for text in fig.findobj(Text)
        if text.get_visible() and text.get_text().strip()
    ]
    return float(min(sizes))


def glue_figure(name: str, fig) -> None:
    """Show ``fig`` and store it in the notebook under ``name`` for a ``{glue:figure}`` with
    caption and alt text (myst-nb's glue format, without needing myst-nb); remember its
    smallest font and dpi (see ``glued_figures``). The figure is closed afterwards, so that
    the inline backend does not show it a second time."""
    import matplotlib.pyplot as plt
    from IPython.core.formatters import format_display_data
    from IPython.display import display

    _GLUED_FIGURES[name] = {"smallest_pt": smallest_font_pt(fig), "dpi": float(fig.dpi)}
    data, metadata = format_display_data(fig)
    metadata[_GLUE_METADATA] = {"name": name, "mime_prefix": ""}
    display(data, raw=True, metadata=metadata)
    plt.close(fig)


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


def record_numbers(numbers: dict) -> None:
    """Write the numbers a notebook measured as JSON to the file named by the environment
    variable ``SNNLIB_NUMBERS_JSON`` (``snnlib figures`` sets it to ``book/notebooks/NAME.json``,
    which the tests read); without it, as in an interactive run, write nothing.
    Returns None, so that the notebook's last cell shows no output."""
    path = os.environ.get(NUMBERS_ENV)
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(numbers, indent=2) + "\n")
