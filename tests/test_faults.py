"""Faults: damaged checkpoints, disk full, concurrent runs, non-finite training (issue 9)."""

import errno
import os
import pickle
import socket
import subprocess
import sys

import jax
import numpy as np
import pytest

from snnlib import checkpoint as ckpt
from snnlib.checkpoint import (
    CheckpointError,
    CheckpointLockedError,
    checkpoint_lock,
    checkpoint_meta,
    load_checkpoint,
    save_checkpoint,
)
from snnlib.classification import SpikingClassifier, TrainConfig, train
from snnlib.training import NonFiniteError, UnitRecords, run_loop

TREE = {"params": {"w": np.arange(6.0).reshape(2, 3), "b": np.float32(1.5)}, "count": np.int64(7)}


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "state.ckpt"
    save_checkpoint(path, TREE, {"done": 3})
    return path


def test_a_checkpoint_round_trips_exactly(saved):
    loaded = load_checkpoint(saved, TREE)
    assert loaded.meta == {"done": 3}
    for a, b in zip(jax.tree.leaves(loaded.tree), jax.tree.leaves(TREE), strict=True):
        assert np.asarray(a).dtype == np.asarray(b).dtype
        np.testing.assert_array_equal(a, b)
    assert load_checkpoint(saved.with_name("absent.ckpt"), TREE) is None


def flip_one_bit(path):
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 3] ^= 0x10
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize("damage", ["bit flip", "truncated", "random", "empty", "pickle"])
def test_a_damaged_checkpoint_is_an_error_naming_the_file(saved, damage):
    if damage == "bit flip":
        flip_one_bit(saved)
    elif damage == "truncated":
        saved.write_bytes(saved.read_bytes()[:200])
    elif damage == "random":
        saved.write_bytes(np.random.default_rng(0).bytes(4096))
    elif damage == "empty":
        saved.write_bytes(b"")
    else:  # an old-style pickle: must not be unpickled (loading never executes code)
        saved.write_bytes(pickle.dumps(TREE))
    with pytest.raises(CheckpointError, match="Delete it to start the run afresh") as error:
        load_checkpoint(saved, TREE)
    assert str(saved) in str(error.value)


def test_a_checksum_mismatch_is_detected_even_in_a_valid_zip(saved):
    """Rewrite one array with consistent zip CRCs: only the SHA-256 can notice."""
    with np.load(saved) as data:
        arrays = {name: data[name] for name in data.files}
    arrays["leaf_00000"] = arrays["leaf_00000"].copy()
    arrays["leaf_00000"].flat[0] += 1
    with saved.open("wb") as f:
        np.savez(f, **arrays)
    with pytest.raises(CheckpointError, match="checksum mismatch"):
        load_checkpoint(saved, TREE)


def test_a_checkpoint_of_another_structure_is_refused(saved):
    with pytest.raises(CheckpointError, match="another experiment"):
        load_checkpoint(saved, {"other": np.zeros(3)})


def test_disk_full_keeps_the_old_checkpoint_and_leaves_no_temporary_file(saved, monkeypatch):
    before = saved.read_bytes()

    def full_disk(file, arrays):
        file.write(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(ckpt, "_write_npz", full_disk)
    with pytest.raises(OSError, match="No space left"):
        save_checkpoint(saved, {"x": np.ones(3)}, {"done": 4})
    assert saved.read_bytes() == before
    assert sorted(p.name for p in saved.parent.iterdir()) == [saved.name]


def test_a_second_run_on_the_same_checkpoint_refuses_naming_the_other(tmp_path):
    path = tmp_path / "run.ckpt"
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock_file = tmp_path / "run.ckpt.lock"
        lock_file.write_text(
            f'{{"pid": {other.pid}, "host": "{socket.gethostname()}", "since": "now"}}'
        )
        with pytest.raises(CheckpointLockedError) as error, checkpoint_lock(path):
            pass
        assert f"process {other.pid} on host {socket.gethostname()}" in str(error.value)
    finally:
        other.kill()
        other.wait()
    # the holder is gone (as after kill -9): its stale lock is taken over, then released
    with checkpoint_lock(path) as lock:
        assert f'"pid": {os.getpid()}' in lock.read_text()
    assert not (tmp_path / "run.ckpt.lock").exists()


def test_two_live_runs_exclude_each_other(tmp_path):
    path = tmp_path / "run.ckpt"
    with checkpoint_lock(path):
        with pytest.raises(CheckpointLockedError, match=f"process {os.getpid()}"):
            with checkpoint_lock(path):
                pass
    with checkpoint_lock(path):  # released after the first run
        pass


def nan_at_unit(bad_unit: int):
    def start():
        return {"w": np.ones(2)}, {"loss": np.zeros(0)}

    def advance(carry, done, length):
        w = carry["w"] * (np.nan if done + 1 == bad_unit else 0.5)
        return {"w": w}, UnitRecords({"loss": np.full(length, float(w.sum()))})

    return start, advance


def test_a_non_finite_parameter_stops_training_keeping_the_last_good_checkpoint(tmp_path):
    path = tmp_path / "run.ckpt"
    start, advance = nan_at_unit(3)
    with pytest.raises(NonFiniteError, match=r"non-finite loss, parameter \['w'\]") as error:
        run_loop(advance, start, 5, checkpoint=path, progress=False)
    assert f"last good checkpoint {path} (after 2 units)" in str(error.value)
    assert checkpoint_meta(path)["done"] == 2
    kept = load_checkpoint(
        path,
        lambda meta: {
            "carry": {"w": 0},
            "exhausted": 0,
            "records": dict.fromkeys(meta["records"], 0),
        },
    )
    np.testing.assert_array_equal(kept.tree["carry"]["w"], [0.25, 0.25])
    assert not (tmp_path / "run.ckpt.lock").exists()


def test_a_bit_flip_in_a_training_checkpoint_stops_the_resume(tmp_path):
    rng = np.random.default_rng(0)
    bins = rng.integers(0, 2, (8, 784)).astype(np.int8)
    data = (bins, rng.integers(0, 10, 8).astype(np.int32)), (bins[:4], np.arange(4, dtype=np.int32))
    net = SpikingClassifier(sizes=(784, 4, 10))
    params = net.init(jax.random.PRNGKey(0))
    path = tmp_path / "run.ckpt"
    train(net, params, *data, TrainConfig(epochs=1, batch_size=4), checkpoint=path, progress=False)
    flip_one_bit(path)
    with pytest.raises(CheckpointError, match=str(path)):
        train(
            net, params, *data, TrainConfig(epochs=2, batch_size=4), checkpoint=path, progress=False
        )
