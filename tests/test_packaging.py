"""environment.yml (conda) pins the same versions as pyproject.toml."""

import tomllib
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
