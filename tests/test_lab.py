"""JupyterLab as `make lab` opens it (issue 16, item 5): a headless JupyterLab on 127.0.0.1
(random port, a token, temporary config/runtime/data/settings folders) serves the
repository's notebooks; headless Chromium opens notebooks/concept.py as a notebook, and:

- its Markdown cells are rendered by MyST (jupyterlab-myst): no raw ``{doc}``,
  ``{download}``, code fences or TeX dollars;
- the notebook runs through the server's kernel, cell by cell (with ``quick = True`` after
  its parameters cell), without error, and its last cell shows no output (no stray number);
- saving it from the UI rewrites notebooks/concept.py byte for byte: ``git status`` is
  unchanged, and so are the files that the tests and the book read (book/notebooks/,
  results/), which an interactive run must never write.

Skipped, with the reason, where Chromium or JupyterLab (the view extra) is missing.
"""

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("jupyterlab", reason="the view extra (JupyterLab) is not installed")
pytest.importorskip("jupyterlab_myst", reason="jupyterlab-myst (view extra) is not installed")
jupytext = pytest.importorskip("jupytext")

from book_build import ROOT, stop  # noqa: E402
from test_browser import chromium, chromium_path  # noqa: E402

NOTEBOOK = "notebooks/concept.py"
# unrendered MyST; jupyterlab-myst shows myst-nb's {glue:figure} as a collapsed box titled
# "glue:figure - Unknown Directive" (the figure itself is the output of the cell above it)
RAW_MYST = ("{doc}", "{download}", "{glue", "```", "$")
WATCHED = ("book/notebooks", "results")  # what the tests and the book read


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def git_status() -> str:
    return subprocess.run(
        ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout


def fingerprint() -> dict[str, str]:
    """sha256 of every file under WATCHED (ignored by git, so git status cannot see them)."""
    return {
        str(path.relative_to(ROOT)): hashlib.sha256(path.read_bytes()).hexdigest()
        for folder in WATCHED
        for path in sorted((ROOT / folder).rglob("*"))
        if path.is_file()
    }


def wait_until(page, expression: str, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = page.evaluate(expression)
        if value:
            return value
        time.sleep(0.5)
    raise TimeoutError(f"JupyterLab: {what} within {timeout} s")


@pytest.fixture
def lab(tmp_path):
    """A headless JupyterLab serving the repository; yields its URL with the token."""
    port, token = free_port(), "snnlib-lab-test"
    settings = tmp_path / "settings"
    settings.mkdir()
    # as `make lab`: .py files open as notebooks; every cell rendered (no windowing), so
    # that all Markdown cells can be inspected
    (settings / "overrides.json").write_text(
        json.dumps(
            {
                "@jupyterlab/docmanager-extension:plugin": {
                    "defaultViewers": {"python": "Jupytext Notebook"}
                },
                "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
            }
        )
    )
    env = {key: value for key, value in os.environ.items() if key != "SNNLIB_NUMBERS_JSON"}
    env.update(
        {
            name: str(tmp_path / name.lower())
            for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTER_DATA_DIR")
        }
    )
    jupyter = Path(sys.executable).with_name("jupyter")
    server = subprocess.Popen(
        [
            str(jupyter),
            "lab",
            "--no-browser",
            "--allow-root",
            "--ip=127.0.0.1",
            f"--port={port}",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={ROOT}",
            "--LabApp.expose_app_in_browser=True",
            f"--LabApp.app_settings_dir={settings}",
            f"--LabApp.user_settings_dir={tmp_path / 'user-settings'}",
            f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "lab.log").open("w"),
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=10).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        "JupyterLab did not start: " + (tmp_path / "lab.log").read_text()[-2000:]
                    )
                time.sleep(1)
        yield base, token
    finally:
        stop(server)


@pytest.fixture
def browser(tmp_path):
    path = chromium_path()
    if path is None:
        pytest.skip("no Chromium installed (Debian: apt-get install chromium)")
    with chromium(path, tmp_path / "chromium-profile") as new_page:
        yield new_page


def code_cells(path: Path) -> list[str]:
    """The code cells' sources, with `quick = True` after the parameters cell."""
    sources = []
    for cell in jupytext.read(path).cells:
        if cell.cell_type == "code":
            sources.append(cell.source)
            if "parameters" in cell.metadata.get("tags", []):
                sources.append("quick = True")
    return sources


PANEL = f"""Array.from(jupyterapp.shell.widgets('main'))
  .find(w => w.context && w.context.path === '{NOTEBOOK}')"""  # the notebook's panel

EXECUTE = """(async () => {
  const kernel = (__PANEL__).sessionContext.session.kernel;
  const future = kernel.requestExecute({code: __CODE__, store_history: true});
  const shown = [];
  future.onIOPub = message => {
    const type = message.header.msg_type;
    if (type === 'error') shown.push('error: ' + message.content.ename + ': '
                                     + message.content.evalue);
    if (type === 'execute_result' || type === 'stream')
      shown.push(type + ': ' + JSON.stringify(message.content).slice(0, 300));
  };
  const reply = await future.done;
  return {status: reply.content.status, shown: shown};
})()"""


def test_lab_renders_runs_and_saves_without_changing_files(lab, browser):
    base, token = lab
    status_before, files_before = git_status(), fingerprint()
    paired = ROOT / "notebooks" / "concept.ipynb"
    checkpoints = ROOT / "notebooks" / ".ipynb_checkpoints"
    left = [path for path in (paired, checkpoints) if not path.exists()]
    page = browser()
    page.socket.settimeout(900)  # a cell may compute for minutes on a loaded machine
    try:
        page.send("Page.enable")
        page.send("Page.navigate", url=f"{base}/lab/tree/{NOTEBOOK}?token={token}")
        wait_until(
            page,
            f"""(() => {{ const w = window.jupyterapp && {PANEL};
            return !!(w && w.context.isReady && w.content && w.content.widgets
                      && w.sessionContext && w.sessionContext.session
                      && w.sessionContext.session.kernel); }})()""",
            300,
            "no notebook with a kernel",
        )
        cells = wait_until(
            page,
            """(() => {
            const cells = (__PANEL__).content.widgets
              .filter(c => c.model.type === 'markdown');
            if (!cells.every(c => c.rendered && c.node.querySelector('.myst'))) return null;
            return cells.map(c => c.node.innerText); })()""".replace("__PANEL__", PANEL),
            120,
            "Markdown cells unrendered",
        )
        assert len(cells) >= 3 and any("Fig. 1" in text for text in cells)
        raw = [
            (index, marker)
            for index, text in enumerate(cells)
            for marker in RAW_MYST
            if marker in text
        ]
        assert not raw, f"Markdown cells show raw MyST text (cell, text): {raw}"

        sources = code_cells(ROOT / NOTEBOOK)
        for index, source in enumerate(sources):
            code = EXECUTE.replace("__PANEL__", PANEL).replace("__CODE__", json.dumps(source))
            reply = page.evaluate(code)
            assert reply["status"] == "ok", f"code cell {index} failed: {reply['shown']}"
        assert reply["shown"] == [], f"the last cell shows output: {reply['shown']}"

        page.evaluate(f"({PANEL}).context.save()")  # what File > Save does
        wait_until(page, f"!({PANEL}).context.model.dirty", 60, "the notebook is not saved")
        time.sleep(1)
        assert git_status() == status_before, "opening, running and saving changed tracked files"
        assert fingerprint() == files_before, f"the interactive run wrote into {WATCHED}"
    finally:
        page.close()
        for path in left:  # what this test created in the ignored paths
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
