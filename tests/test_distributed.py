"""Data parallel over processes (JAX multi-controller, gloo on CPU) = over the devices of
one process = one device, and checkpoints cross layouts (issue: MNIST at full scale)."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from snnlib import distributed

WORKER = Path(__file__).with_name("_distributed_worker.py")
CACHE = {}  # the persistent compilation cache shared by the workers of this test module


def env(devices: int = 1) -> dict:
    base = {k: v for k, v in os.environ.items() if k not in ("JAX_ENABLE_X64", "XLA_FLAGS")}
    base |= {"JAX_PLATFORMS": "cpu", "PYTHONPATH": str(Path(__file__).parents[1])}
    if "dir" in CACHE:
        base |= {
            "JAX_COMPILATION_CACHE_DIR": CACHE["dir"],
            "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
        }
    if devices > 1:
        base["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
    return base


def one_process(out: Path, epochs: int, checkpoint: Path | None = None, devices: int = 1):
    args = [sys.executable, str(WORKER), str(out), str(epochs)]
    done = subprocess.run(
        args + ([str(checkpoint)] if checkpoint else []),
        env=env(devices),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]


def two_processes(out: Path, epochs: int, checkpoint: Path | None = None):
    command = [str(WORKER), str(out), str(epochs)] + ([str(checkpoint)] if checkpoint else [])
    assert distributed.launch_local(2, command, env=env(), timeout_s=900) == 0


def assert_close(a: Path, b: Path, tol: float = 1e-5) -> None:
    with np.load(a) as x, np.load(b) as y:
        names = [n for n in x.files if n.startswith("param_") or n == "accuracy"]
        assert names and sorted(names) == sorted(n for n in y.files if n in names)
        for name in names:
            np.testing.assert_allclose(x[name], y[name], rtol=tol, atol=tol, err_msg=name)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The same 2-epoch training in three layouts, and checkpoints handed across layouts."""
    d = tmp_path_factory.mktemp("distributed")
    CACHE["dir"] = str(d / "jax_cache")
    two_processes(d / "two.npz", 2, d / "two.ckpt")
    one_process(d / "forced.npz", 2, devices=2)
    one_process(d / "one.npz", 2, d / "one.ckpt")
    # a third epoch: resume the 2-process checkpoint in 1 process and vice versa
    one_process(d / "two_then_one.npz", 3, d / "two.ckpt")
    two_processes(d / "one_then_two.npz", 3, d / "one.ckpt")
    one_process(d / "fresh3.npz", 3)
    return d


def test_layouts_agree(runs):
    with np.load(runs / "two.npz") as two, np.load(runs / "forced.npz") as forced:
        assert int(two["processes"]) == 2 and int(two["devices"]) == 2
        assert int(forced["processes"]) == 1 and int(forced["devices"]) == 2
    assert_close(runs / "two.npz", runs / "one.npz")
    assert_close(runs / "forced.npz", runs / "one.npz")


def test_checkpoint_written_once_and_resumable_by_either_layout(runs):
    leftovers = [
        p.name
        for p in runs.iterdir()
        if p.name.startswith("two.ckpt") and p.name != "two.ckpt" and not p.name.endswith(".lock")
    ]
    assert (runs / "two.ckpt").exists() and not leftovers, leftovers
    assert_close(runs / "two_then_one.npz", runs / "fresh3.npz")
    assert_close(runs / "one_then_two.npz", runs / "fresh3.npz")


def test_initialize_rejects_bad_arguments():
    with pytest.raises(ValueError, match="process_id"):
        distributed.initialize("127.0.0.1:1234", 2, 2)
    with pytest.raises(ValueError, match="coordinator"):
        distributed.initialize("localhost", 2, 0)


@pytest.mark.slow
def test_cli_launches_local_processes(tmp_path):
    """`snnlib reproduce mnist --quick --processes 2` as a user runs it (about 2 min)."""
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("snnlib")),
            "reproduce",
            "mnist",
            "--quick",
            "--processes",
            "2",
            "--run-dir",
            str(tmp_path / "run"),
            "--no-progress",
        ],
        env=env(),
        capture_output=True,
        text=True,
        timeout=1800,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "run" / "mnist_seed0.npz").exists()
