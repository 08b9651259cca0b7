"""The probe table of issue 18: one row per probe of bad input, each with its expected
outcome, a ValueError whose message names the argument (or CLI flag) and the fix, a
correct value, or NaN where the value is unknown. A new finding becomes a new row.

Families: 1 classifier and training inputs (and the checkpoint fingerprint), 2 readout
arguments, 4 promote and run directories, 5 command-line flags (run as subprocesses: a
segfault or a hang must fail the row, not the test session).
"""

import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import snnlib
from snnlib.classification import SpikingClassifier, TrainConfig, evaluate, train
from snnlib.experiments import Results

ROOT = Path(__file__).resolve().parents[1]


# --- expected outcomes ---------------------------------------------------------------


@dataclass(frozen=True)
class Raises:
    """A ValueError (or `kind`) whose message matches `match` (naming the argument)."""

    match: str
    kind: type[BaseException] = ValueError


@dataclass(frozen=True)
class Holds:
    """A result for which `check(result)` is true (a correct value, or NaN)."""

    check: Callable[[Any], bool]
    what: str


@dataclass(frozen=True)
class Exits:
    """A CLI run (CompletedProcess) with this exit code, stderr matching `match`, and no
    traceback."""

    code: int
    match: str


def is_nan(value) -> bool:
    return bool(np.all(np.isnan(np.asarray(value))))


NAN = Holds(is_nan, "NaN")


@dataclass(frozen=True)
class Probe:
    id: str
    call: Callable[[Path], Any]  # gets a fresh temporary directory
    expect: Raises | Holds | Exits


# --- shared inputs (built on first use) ----------------------------------------------


@cache
def net() -> SpikingClassifier:
    return SpikingClassifier(sizes=(784, 4, 10))


@cache
def params():
    return net().init(jax.random.PRNGKey(0))


@cache
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return (rng.integers(0, 2, (8, 784)).astype(np.int8), rng.integers(0, 10, 8).astype(np.int32))


@cache
def jit_loss():
    return jax.jit(net().loss)


def bins(**at: Any) -> np.ndarray:
    """The probe bins as float32 with bins[0, p] = value for p_<p>=value."""
    out = data()[0].astype(np.float32)
    for key, value in at.items():
        out[0, int(key.removeprefix("p"))] = value
    return out


def labels(first: int) -> np.ndarray:
    out = data()[1].copy()
    out[0] = first
    return out


def loss(inputs, targets, jit=False):
    return (jit_loss() if jit else net().loss)(params(), inputs, targets)[0]


def train_tiny(tmp: Path, train_data=None, initial=None, epochs=1):
    inputs, targets = data()
    return train(
        net(),
        params() if initial is None else initial,
        train_data or data(),
        (inputs[:4], targets[:4]),
        TrainConfig(epochs=epochs, batch_size=4),
        checkpoint=tmp / "run.ckpt",
        progress=False,
    )


def resume_with(tmp: Path, **changes):
    """Train one epoch with a checkpoint, then resume to two epochs with `changes`."""
    train_tiny(tmp)
    if "data" in changes:
        return train_tiny(tmp, train_data=changes["data"], epochs=2)
    return train_tiny(tmp, initial=changes.get("initial"), epochs=2)


@cache
def events():
    model = snnlib.QIF(tau=1.0)
    return model, snnlib.simulate(
        model,
        weights_net=jnp.zeros((2, 2)),
        weights_in=jnp.array([[3.0], [0.0]]),
        input_times=jnp.array([0.5]),
        input_neurons=jnp.array([0]),
        initial_state=model.rest_state(2),
        duration=4.0,
        max_events=8,
    )


def readout(n_spikes, pseudo_input=0.0, neurons=(0, 1)):
    model, ev = events()
    return snnlib.output_spike_times(model, ev, list(neurons), n_spikes, pseudo_input)


def yinyang_loss(features, jit=False):
    from snnlib.experiments.yinyang import YinYangNetwork

    network = YinYangNetwork()
    p = network.init(jax.random.PRNGKey(0))
    fn = jax.jit(network.loss) if jit else network.loss
    return fn(p, jnp.asarray(features, jnp.float32), jnp.array([0, 1], jnp.int32))[0]


# --- results files and run directories -----------------------------------------------


def fake_results(value: float, learning_rate: float = 4e-3, epochs: int = 100) -> Results:
    return Results(
        arrays={"accuracy": np.full(epochs + 1, value)},
        config={
            "training": {"epochs": epochs, "learning_rate": learning_rate},
            "data": {"n_train": 60000},
        },
        metadata={"epochs": epochs},
    )


def run_dir(tmp: Path, names=("mnist_seed0",), reproduction="mnist", value=0.5, **config) -> Path:
    directory = tmp / "run"
    for name in names:
        if "/" not in name:
            fake_results(value, **config).save(directory / name)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "run.json").write_text(
        json.dumps({"reproduction": reproduction, "results": list(names), "quick": False})
    )
    return directory


def promote(tmp: Path, directory: Path, *flags: str) -> subprocess.CompletedProcess:
    return cli(tmp, "promote", str(directory), "--results-dir", str(tmp / "results"), *flags)


def promote_other_config(tmp: Path):
    fake_results(0.97).save(tmp / "results" / "mnist_seed0")
    done = promote(tmp, run_dir(tmp, learning_rate=0.4))
    return done, Results.load(tmp / "results" / "mnist_seed0")["accuracy"][-1]


def promote_unsafe_name(tmp: Path, name: str):
    done = promote(tmp, run_dir(tmp, names=(name,)))
    outside = [p for p in tmp.rglob("*") if p.name == "x.npz"] + list(
        Path("/tmp").glob("i18probe_x.*")
    )
    assert not outside, f"written outside the results directory: {outside}"
    return done


def promote_missing_result(tmp: Path):
    directory = run_dir(tmp)
    (directory / "mnist_seed0.npz").unlink()
    return promote(tmp, directory)


def result_name(name: str):
    from snnlib._promote import check_result_name

    return check_result_name(name, "run.json")


def pair_write_fails_on_json(tmp: Path):
    """The .npz is written, the .json hits a full disk: the old pair must stay intact."""
    from snnlib import checkpoint

    path = fake_results(0.97).save(tmp / "results" / "mnist_seed0")
    before = {s: path.with_suffix(s).read_bytes() for s in (".npz", ".json")}
    original = checkpoint._write_synced
    calls = []

    def full_on_second(target, write):
        calls.append(target)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        original(target, write)

    checkpoint._write_synced = full_on_second
    try:
        with pytest.raises(OSError, match="No space"):
            fake_results(0.5).save(path)
    finally:
        checkpoint._write_synced = original
    after = {s: path.with_suffix(s).read_bytes() for s in (".npz", ".json")}
    leftovers = [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    return after == before and not leftovers


def mixed_pair(tmp: Path):
    a = fake_results(0.1).save(tmp / "a" / "mnist_seed0")
    b = fake_results(0.2).save(tmp / "b" / "mnist_seed0")
    b.with_suffix(".npz").write_bytes(a.with_suffix(".npz").read_bytes())
    return Results.load(b)


def rerun_other_seeds(tmp: Path):
    from snnlib._promote import write_run

    directory = tmp / "run"
    for seed in (0, 1, 2):
        fake_results(0.5).save(directory / f"mnist_seed{seed}")
    write_run(directory, "mnist", ["mnist_seed0", "mnist_seed1"], False, ["--seeds", "0", "1"])
    write_run(directory, "mnist", ["mnist_seed2"], False, ["--seeds", "2"])
    return json.loads((directory / "run.json").read_text())["results"]


def rerun_other_reproduction(tmp: Path):
    from snnlib._promote import check_rerun

    directory = run_dir(tmp)
    check_rerun(directory, "yinyang", False)


def load_runs_with(tmp: Path, damage: str):
    from snnlib.experiments import mnist

    results = tmp / "results"
    results.mkdir()
    for name in ("mnist_seed0", "mnist_seed1", *(["mnist_seed0_old"] if damage == "stray" else [])):
        for suffix in (".npz", ".json"):  # a committed full-scale run
            (results / f"{name}{suffix}").write_bytes(
                (ROOT / "results" / f"mnist_seed4{suffix}").read_bytes()
            )
    if damage == "truncated npz":
        npz = results / "mnist_seed1.npz"
        npz.write_bytes(npz.read_bytes()[:1000])
    elif damage == "truncated json":
        path = results / "mnist_seed1.json"
        path.write_text(path.read_text()[:20])
    return mnist.EXPERIMENT.load_runs("full", results)


def yinyang_quick_epochs(tmp: Path):
    """`reproduce yinyang --quick --epochs 50`: every run gets 50 epochs."""
    from snnlib.experiments import RunOptions, yinyang

    options = RunOptions(run_dir=tmp, seeds=(0,), quick=True, length=50)
    return [
        yinyang.EXPERIMENT.configure(variant, 0, options).training.epochs
        for variant in yinyang.EXPERIMENT.variants
    ]


# --- the CLI, in subprocesses ----------------------------------------------------------


def cli(tmp: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    env |= {"PYTHONPATH": str(ROOT), "JAX_PLATFORMS": "cpu"}
    return subprocess.run(
        [sys.executable, "-m", "snnlib.cli", *args],
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def reproduce(*args: str) -> Callable[[Path], subprocess.CompletedProcess]:
    return lambda tmp: cli(tmp, "reproduce", *args, "--run-dir", str(tmp / "run"))


def unreachable_coordinator(tmp: Path):
    from snnlib.distributed import free_port

    return reproduce(
        "mnist",
        "--coordinator",
        f"127.0.0.1:{free_port()}",
        "--num-processes",
        "2",
        "--process-id",
        "1",
        "--coordinator-timeout",
        "2",
    )(tmp)


# --- the table ---------------------------------------------------------------------------


def lr(value) -> Callable[[Path], Any]:
    return lambda tmp: TrainConfig(learning_rate=value)


PROBES = [
    # family 1: classifier inputs
    Probe(
        "loss: clean input (control)",
        lambda t: loss(*data()),
        Holds(lambda v: np.isfinite(v), "finite"),
    ),
    Probe(
        "loss: label = n_classes",
        lambda t: loss(data()[0], labels(10)),
        Raises(r"labels\[0\] is 10.*class indices in 0\.\.9"),
    ),
    Probe(
        "loss: negative label",
        lambda t: loss(data()[0], labels(-1)),
        Raises(r"labels\[0\] is -1.*0\.\.9"),
    ),
    Probe(
        "loss under jit: label = n_classes", lambda t: loss(data()[0], labels(10), jit=True), NAN
    ),
    Probe("loss under jit: negative label", lambda t: loss(data()[0], labels(-3), jit=True), NAN),
    Probe(
        "loss: float labels",
        lambda t: loss(data()[0], data()[1].astype(np.float32)),
        Raises(r"labels must be integer class indices"),
    ),
    Probe(
        "loss: fewer labels than images",
        lambda t: loss(data()[0], data()[1][:5]),
        Raises(r"labels must have shape \(8,\)"),
    ),
    Probe(
        "loss: NaN pixel",
        lambda t: loss(bins(p3=np.nan), data()[1]),
        Raises(r"bins\[0, 3\] is nan.*integers in 0\.\.n_bins=1"),
    ),
    Probe("loss under jit: NaN pixel", lambda t: loss(bins(p3=np.nan), data()[1], jit=True), NAN),
    Probe(
        "loss: bin above n_bins",
        lambda t: loss(bins(p0=5), data()[1]),
        Raises(r"bins\[0, 0\] is 5\.0.*0\.\.n_bins=1"),
    ),
    Probe(
        "loss: negative bin",
        lambda t: loss(bins(p7=-1), data()[1]),
        Raises(r"bins\[0, 7\] is -1\.0"),
    ),
    Probe(
        "loss: fractional bin",
        lambda t: loss(bins(p7=0.5), data()[1]),
        Raises(r"bins\[0, 7\] is 0\.5"),
    ),
    Probe("loss under jit: bin above n_bins", lambda t: loss(bins(p0=5), data()[1], jit=True), NAN),
    Probe(
        "loss: images of the wrong size",
        lambda t: loss(data()[0][:, :100], data()[1]),
        Raises(r"bins must have shape \(batch, 784\)"),
    ),
    Probe(
        "batch_metrics: label = n_classes",
        lambda t: net().batch_metrics(params(), data()[0], labels(10)),
        Raises(r"batch_metrics: labels\[0\] is 10"),
    ),
    Probe(
        "yinyang loss: NaN feature",
        lambda t: yinyang_loss([[0.1, 0.2, 0.9, 0.8], [np.nan, 0.5, 0.5, 0.5]]),
        Raises(r"features\[1, 0\] is nan.*\[0, 1\]"),
    ),
    Probe(
        "yinyang loss under jit: NaN feature",
        lambda t: yinyang_loss([[0.1, 0.2, 0.9, 0.8], [np.nan, 0.5, 0.5, 0.5]], jit=True),
        NAN,
    ),
    # family 1: evaluate and train
    Probe(
        "evaluate: more labels than images",
        lambda t: evaluate(net(), params(), data()[0][:4], data()[1]),
        Raises(r"evaluate: 4 inputs but 8 labels"),
    ),
    Probe(
        "evaluate: fewer labels than images",
        lambda t: evaluate(net(), params(), data()[0], data()[1][:4]),
        Raises(r"evaluate: 8 inputs but 4 labels"),
    ),
    Probe(
        "evaluate: empty test set",
        lambda t: evaluate(net(), params(), data()[0][:0], data()[1][:0]),
        Raises(r"evaluate: no samples"),
    ),
    Probe(
        "evaluate: label = n_classes",
        lambda t: evaluate(net(), params(), data()[0], labels(10)),
        Raises(r"evaluate: labels\[0\] is 10"),
    ),
    Probe(
        "train: empty test set",
        lambda t: train(
            net(),
            params(),
            data(),
            (data()[0][:0], data()[1][:0]),
            TrainConfig(epochs=1, batch_size=4),
            progress=False,
        ),
        Raises(r"test_data: no samples"),
    ),
    Probe(
        "train: label = n_classes",
        lambda t: train(
            net(),
            params(),
            (data()[0], labels(10)),
            data(),
            TrainConfig(epochs=1, batch_size=4),
            progress=False,
        ),
        Raises(r"train_data: labels\[0\] is 10"),
    ),
    Probe(
        "train: negative label",
        lambda t: train(
            net(),
            params(),
            (data()[0], labels(-1)),
            data(),
            TrainConfig(epochs=1, batch_size=4),
            progress=False,
        ),
        Raises(r"train_data: labels\[0\] is -1"),
    ),
    Probe(
        "train: NaN pixel",
        lambda t: train(
            net(),
            params(),
            (bins(p2=np.nan), data()[1]),
            data(),
            TrainConfig(epochs=1, batch_size=4),
            progress=False,
        ),
        Raises(r"train_data: bins\[0, 2\] is nan"),
    ),
    Probe(
        "train: more labels than images",
        lambda t: train(
            net(),
            params(),
            (data()[0][:6], data()[1]),
            data(),
            TrainConfig(epochs=1, batch_size=4),
            progress=False,
        ),
        Raises(r"train_data: 6 inputs but 8 labels"),
    ),
    # family 1: TrainConfig
    Probe(
        "TrainConfig: learning_rate -0.5",
        lr(-0.5),
        Raises(
            r"learning_rate must be a finite "
            r"number > 0.*got -0\.5"
        ),
    ),
    Probe("TrainConfig: learning_rate 0", lr(0.0), Raises(r"learning_rate .*got 0\.0")),
    Probe("TrainConfig: learning_rate inf", lr(float("inf")), Raises(r"learning_rate .*got inf")),
    Probe("TrainConfig: learning_rate NaN", lr(float("nan")), Raises(r"learning_rate .*got nan")),
    Probe("TrainConfig: learning_rate string", lr("0.01"), Raises(r"learning_rate .*got '0\.01'")),
    Probe(
        "TrainConfig: epochs 1.5",
        lambda t: TrainConfig(epochs=1.5),
        Raises(r"epochs must be >= 0 and an integer.*got 1\.5"),
    ),
    Probe(
        "TrainConfig: epochs string",
        lambda t: TrainConfig(epochs="3"),
        Raises(r"epochs must be .*got '3'"),
    ),
    Probe(
        "TrainConfig: epochs -1", lambda t: TrainConfig(epochs=-1), Raises(r"epochs must be >= 0")
    ),
    Probe(
        "TrainConfig: batch_size 0",
        lambda t: TrainConfig(batch_size=0),
        Raises(r"batch_size must be >= 1"),
    ),
    Probe(
        "TrainConfig: batch_size 2.5",
        lambda t: TrainConfig(batch_size=2.5),
        Raises(r"batch_size must be >= 1 and an integer"),
    ),
    Probe(
        "TrainConfig: b2 = 1",
        lambda t: TrainConfig(b2=1.0),
        Raises(
            r"b2 must be a number "
            r"in \[0, 1\)"
        ),
    ),
    Probe(
        "TrainConfig: decay_epochs 0",
        lambda t: TrainConfig(decay_epochs=0),
        Raises(r"decay_epochs must be a number > 0"),
    ),
    Probe(
        "TrainConfig: ema_decay 1",
        lambda t: TrainConfig(ema_decay=1.0),
        Raises(r"ema_decay must be a number in \[0, 1\) \(0: no averaging\)"),
    ),
    Probe(
        "TrainConfig: ema_decay NaN",
        lambda t: TrainConfig(ema_decay=float("nan")),
        Raises(r"ema_decay must be a number in \[0, 1\)"),
    ),
    # family 1: checkpoint fingerprint
    Probe(
        "resume with other training data",
        lambda t: resume_with(t, data=(data()[0][::-1].copy(), data()[1][::-1].copy())),
        Raises(r"train_data: stored '[0-9a-f]+', now '[0-9a-f]+'"),
    ),
    Probe(
        "resume with other initial parameters",
        lambda t: resume_with(t, initial=net().init(jax.random.PRNGKey(1))),
        Raises(r"initial_params: stored"),
    ),
    Probe(
        "resume with the same data and parameters (control)",
        lambda t: len(resume_with(t).metrics.accuracy),
        Holds(lambda n: n == 3, "continues to 2 epochs"),
    ),
    # family 2: readout arguments
    Probe(
        "output_spike_times: n_spikes 1.5",
        lambda t: readout(1.5),
        Raises(r"output_spike_times: n_spikes must be a non-negative integer.*got 1\.5"),
    ),
    Probe(
        "output_spike_times: n_spikes -1",
        lambda t: readout(-1),
        Raises(r"n_spikes must be a non-negative integer.*got -1"),
    ),
    Probe(
        "output_spike_times: n_spikes string",
        lambda t: readout("2"),
        Raises(r"n_spikes must be .*got '2'"),
    ),
    Probe(
        "ordinary_spike_times: n_spikes 2.0",
        lambda t: snnlib.ordinary_spike_times(events()[1], [0], 2.0),
        Raises(r"ordinary_spike_times: n_spikes"),
    ),
    Probe(
        "pseudospike_times: n_spikes -2",
        lambda t: snnlib.pseudospike_times(events()[0], events()[1].final_state, 4.0, -2),
        Raises(r"pseudospike_times: n_spikes"),
    ),
    Probe(
        "output_spike_times: NaN pseudo_input gives NaN pseudospikes",
        lambda t: readout(3, jnp.nan),
        Holds(
            lambda v: (
                np.isfinite(v[0, 0]) and np.all(np.isnan(v[0, 1:])) and np.all(np.isnan(v[1]))
            ),
            "ordinary spike kept, pseudospikes NaN",
        ),
    ),
    Probe(
        "first_spike_times: NaN pseudo_input of a silent neuron",
        lambda t: snnlib.first_spike_times(events()[0], events()[1], [1], jnp.nan),
        NAN,
    ),
    Probe(
        "output_spike_times: NaN pseudo_input of one neuron only",
        lambda t: readout(2, jnp.array([0.0, jnp.nan])),
        Holds(
            lambda v: np.all(np.isfinite(v[0])) and np.all(np.isnan(v[1])),
            "the other neuron's spikes stay finite",
        ),
    ),
    # family 4: promote and run directories
    Probe(
        "promote: another config with as many epochs",
        promote_other_config,
        Holds(
            lambda r: (
                r[0].returncode == 1
                and "training.learning_rate: stored 0.004, new 0.4" in r[0].stderr
                and r[1] == 0.97
            ),
            "refused naming the key, old kept",
        ),
    ),
    Probe(
        "promote: another config with --force",
        lambda t: (
            fake_results(0.97).save(t / "results" / "mnist_seed0"),
            promote(t, run_dir(t, learning_rate=0.4), "--force").returncode,
            Results.load(t / "results" / "mnist_seed0")["accuracy"][-1],
        )[1:],
        Holds(lambda r: r == (0, 0.5), "replaced"),
    ),
    Probe(
        "promote: .json fails after the .npz was written",
        pair_write_fails_on_json,
        Holds(lambda ok: ok, "old pair intact, no temporary files"),
    ),
    Probe(
        "load: .npz of one run with the .json of another",
        mixed_pair,
        Raises(r"do not belong together"),
    ),
    Probe(
        "promote: result name ../../x",
        lambda t: promote_unsafe_name(t, "../../x"),
        Exits(2, r"'\.\./\.\./x' is not a plain file name"),
    ),
    Probe(
        "promote: absolute result name",
        lambda t: promote_unsafe_name(t, "/tmp/i18probe_x"),
        Exits(2, r"'/tmp/i18probe_x' is not a plain file name"),
    ),
    Probe(
        "run directory: rerun with other --seeds merges them",
        rerun_other_seeds,
        Holds(
            lambda names: names == ["mnist_seed0", "mnist_seed1", "mnist_seed2"],
            "all three seeds listed",
        ),
    ),
    Probe(
        "run directory: rerun of another reproduction",
        rerun_other_reproduction,
        Raises(r"holds a run of 'mnist'; this is a run of 'yinyang': use another --run-dir"),
    ),
    Probe(
        "load_runs: stray file mnist_seed0_old",
        lambda t: load_runs_with(t, "stray"),
        Raises(r"mnist_seed0_old\.npz/\.json is not a stored run"),
    ),
    Probe(
        "load_runs: truncated .npz",
        lambda t: load_runs_with(t, "truncated npz"),
        Raises(r"(cannot read|do not belong).*mnist_seed1\.(npz|json)"),
    ),
    Probe(
        "load_runs: truncated .json",
        lambda t: load_runs_with(t, "truncated json"),
        Raises(r"mnist_seed1\.json is not valid JSON.*truncated"),
    ),
    Probe(
        "promote: directory without run.json",
        lambda t: promote(t, (t / "empty").resolve()),
        Exits(2, r"run\.json does not exist"),
    ),
    Probe(
        "promote: unknown reproduction",
        lambda t: promote(t, run_dir(t, reproduction="nonsense")),
        Exits(2, r"names the reproduction 'nonsense'.*available"),
    ),
    # family 5: command-line flags
    Probe(
        "reproduce recurrent --epochs 0",
        reproduce("recurrent", "--epochs", "0"),
        Exits(2, r"--epochs must be >= 1 \(the number of trials"),
    ),
    Probe(
        "reproduce single_neuron --epochs 0",
        reproduce("single_neuron", "--epochs", "0"),
        Exits(2, r"--epochs must be >= 1"),
    ),
    Probe(
        "reproduce yinyang --quick --epochs 50",
        yinyang_quick_epochs,
        Holds(lambda epochs: set(epochs) == {50}, "50 epochs"),
    ),
    Probe(
        "reproduce concept --epochs 5",
        reproduce("concept", "--epochs", "5"),
        Exits(2, r"--epochs does not apply to concept"),
    ),
    Probe(
        "reproduce concept --seeds 1",
        reproduce("concept", "--seeds", "1"),
        Exits(2, r"--seeds does not apply to concept"),
    ),
    Probe(
        "reproduce recurrent --seeds 3",
        reproduce("recurrent", "--seeds", "3"),
        Exits(2, r"--seeds does not apply to recurrent"),
    ),
    Probe(
        "reproduce mnist --seeds -1",
        reproduce("mnist", "--seeds", "-1"),
        Exits(2, r"--seeds must be integers >= 0, got -1"),
    ),
    Probe(
        "reproduce mnist --processes 0",
        reproduce("mnist", "--processes", "0"),
        Exits(2, r"--processes must be >= 1"),
    ),
    Probe(
        "reproduce mnist --num-processes 2 without --coordinator",
        reproduce("mnist", "--num-processes", "2"),
        Exits(2, r"--num-processes 2 needs --coordinator"),
    ),
    Probe(
        "reproduce mnist --processes 3",
        reproduce("mnist", "--processes", "3"),
        Exits(2, r"--processes 3 does not divide the batch size 1000.*1, 2, 4, 5, 8, 10"),
    ),
    Probe(
        "reproduce mnist --coordinator 127.0.0.1:notaport",
        reproduce("mnist", "--coordinator", "127.0.0.1:notaport", "--num-processes", "2"),
        Exits(2, r"--coordinator must be HOST:PORT"),
    ),
    Probe(
        "reproduce mnist: unreachable coordinator (2 s)",
        unreachable_coordinator,
        Exits(2, r"could not reach the coordinator 127\.0\.0\.1:\d+ within 2 s"),
    ),
    Probe(
        "reproduce mnist --force without --promote",
        reproduce("mnist", "--force"),
        Exits(2, r"--force applies only with --promote"),
    ),
    Probe(
        "reproduce mnist --results-dir without --promote",
        reproduce("mnist", "--results-dir", "elsewhere"),
        Exits(2, r"--results-dir applies only with --promote"),
    ),
    Probe(
        "reproduce mnist --seeds 1 1",
        reproduce("mnist", "--seeds", "1", "1"),
        Exits(2, r"--seeds lists a seed twice"),
    ),
    Probe(
        "reproduce mnist --process-id 5 of 2",
        reproduce(
            "mnist", "--coordinator", "127.0.0.1:1234", "--num-processes", "2", "--process-id", "5"
        ),
        Exits(2, r"--process-id must lie in 0\.\.1"),
    ),
    Probe(
        "reproduce mnist --coordinator-timeout 0",
        reproduce("mnist", "--coordinator", "127.0.0.1:1234", "--coordinator-timeout", "0"),
        Exits(2, r"--coordinator-timeout must be > 0"),
    ),
    Probe(
        "reproduce single_neuron --processes 2",
        reproduce("single_neuron", "--processes", "2"),
        Exits(2, r"single_neuron runs in one process: drop --processes"),
    ),
    Probe(
        "reproduce mnist --quick --processes 3",
        reproduce("mnist", "--quick", "--processes", "3"),
        Exits(2, r"does not divide the batch size 200 of mnist --quick"),
    ),
    # neighbours: run directories and result names
    Probe(
        "promote: corrupt run.json",
        lambda t: promote(t, (run_dir(t), (t / "run" / "run.json").write_text("{"))[0]),
        Exits(2, r"run\.json is unreadable"),
    ),
    Probe(
        "promote: run.json lists a missing result",
        promote_missing_result,
        Exits(2, r"lists 'mnist_seed0', but .*mnist_seed0\.npz is missing"),
    ),
    Probe("result name: empty", lambda t: result_name(""), Raises(r"'' is not a plain file name")),
    Probe(
        "result name: hidden file",
        lambda t: result_name(".x"),
        Raises(r"'\.x' is not a plain file name"),
    ),
    Probe(
        "TrainConfig: eval_batch_size 0",
        lambda t: TrainConfig(eval_batch_size=0),
        Raises(r"eval_batch_size must be >= 1"),
    ),
    Probe("TrainConfig: seed -1", lambda t: TrainConfig(seed=-1), Raises(r"seed must be >= 0")),
    Probe(
        "TrainConfig: epochs True",
        lambda t: TrainConfig(epochs=True),
        Raises(r"epochs must be >= 0 and an integer.*got True"),
    ),
    Probe(
        "evaluate: 2-D labels",
        lambda t: evaluate(net(), params(), data()[0], data()[1][:, None]),
        Raises(r"labels must have shape \(8,\)"),
    ),
]


@pytest.mark.parametrize("probe", PROBES, ids=[p.id for p in PROBES])
def test_probe(probe: Probe, tmp_path: Path) -> None:
    expect = probe.expect
    if isinstance(expect, Raises):
        with pytest.raises(expect.kind, match=expect.match):
            probe.call(tmp_path)
        return
    result = probe.call(tmp_path)
    if isinstance(expect, Exits):
        message = (
            f"exit {result.returncode}\nstdout: {result.stdout[-1500:]}\n"
            f"stderr: {result.stderr[-3000:]}"
        )
        assert result.returncode == expect.code, message
        assert re.search(expect.match, result.stderr), message
        assert "Traceback" not in result.stderr, message
        assert len(result.stderr.strip().splitlines()) <= 2, message  # one clear line
        return
    assert expect.check(result), f"expected {expect.what}, got {result!r}"


def test_the_table_has_one_row_per_probe():
    ids = [p.id for p in PROBES]
    assert len(ids) == len(set(ids))


def test_concurrent_promotes_never_mix_pairs(tmp_path):
    """Two processes promote two runs (3 results each) into one results directory, 15
    times each, while this process reads the pairs: every read pair and the final one
    belong to one run (the .npz holds the value of the run whose config its .json has)."""
    names = [f"mnist_seed{seed}" for seed in range(3)]
    runs = {}
    for value, rate in ((0.1, 0.1), (0.2, 0.2)):
        directory = tmp_path / f"run{value}"
        for name in names:
            fake_results(value, learning_rate=rate).save(directory / name)
        (directory / "run.json").write_text(
            json.dumps({"reproduction": "mnist", "results": names, "quick": False})
        )
        runs[value] = directory
    results = tmp_path / "results"
    worker = textwrap.dedent(f"""
        import sys
        from snnlib import cli
        for _ in range(15):
            assert cli.main(["promote", sys.argv[1], "--results-dir", {str(results)!r},
                             "--force"]) == 0
    """)
    env = os.environ | {"PYTHONPATH": str(ROOT), "JAX_PLATFORMS": "cpu"}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", worker, str(d)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for d in runs.values()
    ]
    reads = 0

    def check_pairs():
        nonlocal reads
        for name in names:
            try:
                pair = Results.load(results / name)
            except (ValueError, FileNotFoundError):
                continue  # not yet written, or caught between the two renames: refused
            reads += 1
            assert pair["accuracy"][0] == pair.config["training"]["learning_rate"], name

    while any(w.poll() is None for w in workers):
        check_pairs()
    for w in workers:
        assert w.returncode == 0, w.stderr.read().decode()[-3000:]
    check_pairs()
    for name in names:
        Results.load(results / name)  # the final pairs are complete
    assert reads > 0
