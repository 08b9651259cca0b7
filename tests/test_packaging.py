"""Packaging: environment.yml (conda) pins the same versions as pyproject.toml; the version
is defined once; ``pip wheel .`` builds a wheel that works in a fresh venv."""

import os
import subprocess
import sys
import sysconfig
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")
ROOT = Path(__file__).resolve().parents[1]


def test_conda_environment_has_the_pyproject_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [d for d in environment["dependencies"] if isinstance(d, str)]
    pip = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    listed = {spec.replace(" ", "") for spec in conda + pip}
    runtime = project["dependencies"]
    scipy = [s for s in project["optional-dependencies"]["test"] if s.startswith("scipy")]
    missing = [spec for spec in runtime + scipy if spec.replace(" ", "") not in listed]
    assert not missing, f"environment.yml lacks the pins {missing} of pyproject.toml"
    assert "python=3.11" in conda and "-e .[test,book,view]" in pip


# A wheel that works on its own: built with `pip wheel`, installed into a fresh venv with no
# snnlib, and run from outside the repository. The default test borrows the dependencies
# (jax, optax, ...) of the running environment through a .pth line, which adds their folder
# to sys.path but runs none of its .pth files (so the editable snnlib there stays invisible);
# the opt-in slow test lets pip install them from the package index.
SMOKE = """
import jax, jax.numpy as jnp, snnlib, pathlib, sys
assert pathlib.Path(snnlib.__file__).is_relative_to(sys.prefix), snnlib.__file__
model = snnlib.QIF(tau=1.0)
def first_spike(w):
    events = snnlib.simulate(model, jnp.zeros((1, 1)), jnp.array([[w]]), jnp.array([0.5]),
                             jnp.array([0]), model.rest_state(1), 4.0, 8)
    return snnlib.output_spike_times(model, events, neurons=[0], n_spikes=1)[0, 0]
time, slope = first_spike(3.0), jax.grad(first_spike)(3.0)
assert 0.5 < time < 4.0 and slope < 0, (time, slope)
print(snnlib.__version__, float(time), float(slope))
"""


def build_wheel(out_dir: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(out_dir)],
        check=True,
        capture_output=True,
        text=True,
    )
    (wheel,) = out_dir.glob("snnlib-*.whl")
    return wheel


def fresh_venv(path: Path) -> Path:
    venv.create(path, with_pip=False)
    return path / "bin" / "python"


def outside_env() -> dict:
    """The environment without PYTHONPATH (which may point at this clone's snnlib)."""
    return {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}


def install(python: Path, wheel: Path, *extra: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", str(wheel), *extra],
        check=True,
        capture_output=True,
        text=True,
        env=outside_env(),
    )


def check_installed(python: Path, cwd: Path) -> None:
    """import, simulate and a gradient, and the console script, from outside the clone."""
    smoke = subprocess.run(
        [str(python), "-c", SMOKE], cwd=cwd, capture_output=True, text=True, env=outside_env()
    )
    assert smoke.returncode == 0, smoke.stderr[-3000:]
    assert smoke.stdout.split()[0] == version()
    script = subprocess.run(
        [str(python.with_name("snnlib")), "--version"],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=outside_env(),
    )
    assert script.stdout.strip() == f"snnlib {version()}", script.stdout + script.stderr


def version() -> str:
    namespace: dict = {}
    exec((ROOT / "snnlib" / "_version.py").read_text(), namespace)
    return namespace["__version__"]


def test_version_is_defined_once():
    import snnlib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert snnlib.__version__ == version()


def test_version_flag(capsys):
    from snnlib import cli

    with pytest.raises(SystemExit) as done:
        cli.main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.strip() == f"snnlib {version()}"


def test_wheel_works_in_a_fresh_venv(tmp_path):
    wheel = build_wheel(tmp_path / "dist")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert "snnlib/data/instances/recurrent.json" in names
    assert "snnlib/plotting/snnlib.mplstyle" in names
    assert not [n for n in names if n.startswith(("tests/", "notebooks/", "book/"))]
    python = fresh_venv(tmp_path / "venv")
    install(python, wheel, "--no-deps", "--no-index")
    (site,) = (tmp_path / "venv" / "lib").glob("python*/site-packages")
    (site / "borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    check_installed(python, tmp_path)


@pytest.mark.slow
def test_wheel_installs_its_dependencies_in_a_fresh_venv(tmp_path):
    """pip resolves the wheel's dependencies from the index (network or pip's cache)."""
    wheel = build_wheel(tmp_path / "dist")
    python = fresh_venv(tmp_path / "venv")
    install(python, wheel)
    check_installed(python, tmp_path)
