"""A notebook runs wherever snnlib is installed (issue 16, item 4): the repository's wheel is
installed into a fresh virtual environment (the wheel and its dependencies only, from the
package registry or pip's cache, plus ipykernel to run a kernel), and a notebook converted
to ``.ipynb`` executes there with its quick parameters, outside any clone. Without stored
results, the full-scale run stops with one sentence naming what to set.

Slow (a wheel build and an install, minutes): ``pytest -m slow tests/test_notebook_anywhere.py``.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

jupytext = pytest.importorskip("jupytext")
nbformat = pytest.importorskip("nbformat")
pytest.importorskip("papermill")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "single_neuron"  # runs in seconds with quick = True


# without PYTHONPATH (which would make the clone importable, and pip take its egg-info for
# an installed snnlib), without the data and numbers variables
CLEAN_ENV = {
    key: value
    for key, value in os.environ.items()
    if key not in ("PYTHONPATH", "SNNLIB_DATA", "SNNLIB_NUMBERS_JSON")
}


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, env=CLEAN_ENV, **kwargs)
    assert result.returncode == 0, f"{command}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def wheel_kernel(tmp_path_factory):
    """A fresh venv holding the built wheel (and ipykernel), registered as the Jupyter kernel
    ``snnlib-wheel`` in a private JUPYTER_PATH; returns the environment to run papermill in
    (no PYTHONPATH, so that nothing of the clone is importable) and the venv's python."""
    tmp = tmp_path_factory.mktemp("anywhere")
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "-q",
            "-w",
            str(tmp / "wheel"),
        ],
        cwd=tmp,
    )
    wheels = list((tmp / "wheel").glob("snnlib-*.whl"))
    assert len(wheels) == 1, wheels
    venv = tmp / "venv"
    run([sys.executable, "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    run([str(python), "-m", "pip", "install", "-q", str(wheels[0]), "ipykernel"], cwd=tmp)
    where = run([str(python), "-c", "import snnlib; print(snnlib.__file__)"], cwd=tmp).stdout
    assert Path(where.strip()).is_relative_to(venv), f"the venv imports snnlib from {where}"
    env = dict(CLEAN_ENV)
    kernels = tmp / "jupyter" / "kernels" / "snnlib-wheel"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "snnlib wheel",
                "language": "python",
            }
        )
    )
    env["JUPYTER_PATH"] = str(tmp / "jupyter")
    return tmp, env, python


def downloaded_notebook(directory: Path, name: str) -> Path:
    """notebooks/NAME.py as the .ipynb a reader downloads, with a last cell that prints
    where the kernel imports snnlib from."""
    notebook = jupytext.read(ROOT / "notebooks" / f"{name}.py")
    notebook.cells.append(nbformat.v4.new_code_cell("import snnlib\nprint(snnlib.__file__)"))
    path = directory / f"{name}.ipynb"
    nbformat.write(notebook, path)
    return path


def papermill(env: dict, source: Path, output: Path, *parameters: str):
    command = [
        sys.executable,
        "-m",
        "papermill",
        str(source),
        str(output),
        "-k",
        "snnlib-wheel",
        "--cwd",
        str(source.parent),
        *parameters,
    ]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=source.parent)


@pytest.mark.slow
def test_downloaded_notebook_runs_from_the_wheel_outside_the_clone(wheel_kernel):
    tmp, env, python = wheel_kernel
    work = tmp / "elsewhere"
    work.mkdir()
    assert not any((folder / "_toc.yml").exists() for folder in (work, *work.parents))
    source = downloaded_notebook(work, NOTEBOOK)
    result = papermill(env, source, work / "executed.ipynb", "-p", "quick", "True")
    assert result.returncode == 0, result.stderr[-4000:]
    executed = json.loads((work / "executed.ipynb").read_text())
    errors = [
        o for c in executed["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"
    ]
    assert not errors
    where = "".join(executed["cells"][-1]["outputs"][0]["text"]).strip()
    assert Path(where).is_relative_to(tmp / "venv"), f"snnlib imported from {where}"
    texts = json.dumps(executed)
    assert "Quick run" in texts and "fig-single-neuron" in texts
    assert not list(work.glob("*.json")), "an interactive-style run writes no numbers file"


@pytest.mark.slow
def test_full_scale_run_without_results_says_what_to_set(wheel_kernel):
    tmp, env, _ = wheel_kernel
    work = tmp / "no-results"
    work.mkdir()
    source = downloaded_notebook(work, "recurrent")
    result = papermill(env, source, work / "executed.ipynb")
    assert result.returncode != 0
    assert "set the parameter results_dir" in result.stderr and "quick = True" in result.stderr
