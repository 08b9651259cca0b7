"""Training loop: resume after a real kill, data-parallel sharding over two devices."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jax
import numpy as np
import pytest

from snnlib.checkpoint import checkpoint_meta
from snnlib.classification import SpikingClassifier, TrainConfig, train

WORKER = Path(__file__).with_name("_train_worker.py")


@pytest.fixture(scope="module")
def compile_cache(tmp_path_factory) -> str:
    """A persistent compilation cache shared by the worker processes (saves compile time;
    a cached executable computes exactly what a fresh compilation does)."""
    return str(tmp_path_factory.mktemp("jax_cache"))


def worker_env(cache: str, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("JAX_ENABLE_X64", "XLA_FLAGS")}
    return (
        env
        | {
            "JAX_PLATFORMS": "cpu",
            "JAX_COMPILATION_CACHE_DIR": cache,
            "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
        }
        | extra
    )


def run_worker(cache: str, *args: str, **extra: str) -> None:
    done = subprocess.run(
        [sys.executable, str(WORKER), *args],
        env=worker_env(cache, **extra),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]


def assert_same_run(path_a: Path, path_b: Path, rtol: float = 0.0) -> None:
    with np.load(path_a) as a, np.load(path_b) as b:
        assert sorted(a.files) == sorted(b.files)
        for name in a.files:
            if rtol:
                np.testing.assert_allclose(a[name], b[name], rtol=rtol, atol=rtol, err_msg=name)
            else:
                np.testing.assert_array_equal(a[name], b[name], err_msg=name)
        assert len(a["metric_accuracy"]) == 4 and len(a["step_loss"]) == 9  # 3 epochs x 3


def test_a_killed_run_resumes_to_exactly_the_uninterrupted_result(tmp_path, compile_cache):
    checkpoint = tmp_path / "run.ckpt"
    process = subprocess.Popen(
        [
            sys.executable,
            str(WORKER),
            "train",
            str(checkpoint),
            str(tmp_path / "never.npz"),
            "--pause-after-checkpoint",
        ],
        env=worker_env(compile_cache),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 500
    while not checkpoint.exists():
        assert process.poll() is None, process.stderr.read().decode()[-3000:]
        assert time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.2)
    os.kill(process.pid, signal.SIGKILL)  # a real kill, after the first epoch's checkpoint
    process.wait()
    process.stderr.close()
    assert process.returncode == -signal.SIGKILL
    assert checkpoint_meta(checkpoint)["done"] == 1
    assert not (tmp_path / "never.npz").exists()
    run_worker(
        compile_cache,
        "resume-and-fresh",
        str(checkpoint),
        str(tmp_path / "resumed.npz"),
        str(tmp_path / "fresh.npz"),
    )
    assert checkpoint_meta(checkpoint)["done"] == 3
    assert_same_run(tmp_path / "resumed.npz", tmp_path / "fresh.npz")


def test_two_devices_give_the_results_of_one(tmp_path, compile_cache):
    run_worker(
        compile_cache,
        "devices",
        str(tmp_path / "one.npz"),
        str(tmp_path / "two.npz"),
        XLA_FLAGS="--xla_force_host_platform_device_count=2",
    )
    # the gradient is reduced over the devices in another order: float32 rounding only
    assert_same_run(tmp_path / "one.npz", tmp_path / "two.npz", rtol=1e-4)


@pytest.fixture
def tiny_data():
    rng = np.random.default_rng(0)
    bins = rng.integers(0, 2, (8, 784)).astype(np.int8)
    return (bins, rng.integers(0, 10, 8).astype(np.int32)), (bins[:4], np.arange(4, dtype=np.int32))


def test_a_checkpoint_of_another_configuration_is_refused_naming_the_keys(tmp_path, tiny_data):
    net = SpikingClassifier(sizes=(784, 4, 10))
    params = net.init(jax.random.PRNGKey(0))
    checkpoint = tmp_path / "run.ckpt"
    train(
        net,
        params,
        *tiny_data,
        TrainConfig(epochs=1, batch_size=4),
        checkpoint=checkpoint,
        progress=False,
    )
    other = TrainConfig(epochs=2, batch_size=4, learning_rate=1e-3, b2=0.99)
    with pytest.raises(ValueError, match="another configuration") as error:
        train(net, params, *tiny_data, other, checkpoint=checkpoint, progress=False)
    assert "train.learning_rate: stored 0.004, now 0.001" in str(error.value)
    assert "train.b2: stored 0.999, now 0.99" in str(error.value)
    assert "train.batch_size" not in str(error.value)  # only the differing keys
    # more epochs of the same configuration continue the checkpoint
    more = train(
        net,
        params,
        *tiny_data,
        TrainConfig(epochs=2, batch_size=4),
        checkpoint=checkpoint,
        progress=False,
    )
    assert len(more.metrics.accuracy) == 3 and len(more.step_loss) == 4


def test_bad_training_arguments_are_named(tiny_data):
    net = SpikingClassifier(sizes=(784, 4, 10))
    params = net.init(jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match="fewer than one batch of batch_size=16"):
        train(net, params, *tiny_data, TrainConfig(batch_size=16), progress=False)
    with pytest.raises(ValueError, match="epochs must be >= 0"):
        TrainConfig(epochs=-1)
