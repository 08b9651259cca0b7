"""The MNIST experiment: a tiny run, continuing a checkpoint, the figure, stored results."""

from dataclasses import asdict, replace
from pathlib import Path

import matplotlib
import numpy as np
import pytest

from snnlib.experiments import mnist

matplotlib.use("Agg")
RESULTS = Path(__file__).parents[1] / "results"
TINY = mnist.quick_config(
    epochs=2, n_train=400, n_test=200, batch_size=100, hidden=(12,), trace_points=51
)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """One epoch, then continued from its checkpoint to two."""
    checkpoint = tmp_path_factory.mktemp("mnist") / "run.ckpt"
    first = mnist.run(
        replace(TINY, training=replace(TINY.training, epochs=1)),
        checkpoint=checkpoint,
        progress=False,
    )
    return first, mnist.run(TINY, checkpoint=checkpoint, progress=False)


def test_tiny_run_learns_and_records_everything(tiny_run):
    first, results = tiny_run
    assert isinstance(results, mnist.MnistResults)
    assert first.epochs == 1 and results.epochs == 2
    np.testing.assert_array_equal(results.metrics.accuracy[:2], first.metrics.accuracy)
    accuracy = results.metrics.accuracy
    assert accuracy.shape == (3,) and len(results.step_loss) == 8
    # measured: 0.10 -> 0.40 after 8 steps of 100 images
    assert accuracy[0] < 0.2 and accuracy[-1] > 0.3
    assert results.initial.silent == 1.0 and results.initial.activity == 0.0  # silent at first
    assert results.final.activity > 0 and np.all(results.metrics.n_exhausted == 0)
    assert [w.shape for w in results.weights] == [(12, 784), (10, 12)]
    phases = results.initial_phases[0]
    assert np.all((phases >= 0) & (phases <= 6.0))
    assert results.after.spike_times.shape == (22, 1)
    assert results.before.voltage.shape == (51, 10)
    assert np.all(np.isfinite(results.after.voltage))
    assert results.final == results.metrics.at(-1)
    assert results.final.accuracy == accuracy[-1] and results.initial.accuracy == accuracy[0]


def test_results_round_trip_and_figure(tiny_run, tmp_path):
    from snnlib.experiments import Results
    from snnlib.plotting.mnist import figure

    results = tiny_run[1]
    results.save(tmp_path / "mnist_seed0")
    runs = mnist.EXPERIMENT.load_runs("full", tmp_path)
    assert len(runs) == 1 and runs[0].config == TINY
    assert runs[0].final == results.final and runs[0].epochs == 2
    assert runs[0].arrays.keys() == results.arrays.keys()
    for key, value in results.arrays.items():
        np.testing.assert_array_equal(runs[0].arrays[key], value, err_msg=key)
    # the file form keeps the keys of the results written before the typed results (and
    # by the runs in progress): bare metric names, weights_1, example_voltage_after, ...
    stored = Results.load(tmp_path / "mnist_seed0")
    assert {
        "accuracy",
        "silent_first",
        "weights_2",
        "initial_phases_1",
        "example_image",
        "example_voltage_after",
        "example_prediction_before",
    } <= set(stored.arrays)
    assert stored.config["network"]["sizes"] == [784, 12, 10]
    assert stored.arrays["accuracy"][-1] == results.final.accuracy
    assert mnist.EXPERIMENT.size(stored) == 2  # what the CLI's --promote compares
    fig = figure(runs * 2)
    assert len(fig.axes) == 6
    rows = dict((name, ours) for name, _, ours in mnist.compare(runs))
    assert rows["epochs"] == "2" and rows["silent hidden neurons before training (%)"] == "100.0"
    with pytest.raises(FileNotFoundError, match="reproduce"):
        mnist.EXPERIMENT.load_runs("full", tmp_path / "empty")


@pytest.mark.parametrize("path", sorted(RESULTS.glob("mnist_seed*.npz")), ids=lambda p: p.stem)
def test_every_committed_results_file_loads(path):
    """Flat configs (seeds 0-3) and nested ones (later seeds) load as MnistResults."""
    results = mnist.MnistResults.load(path)
    assert results.config.training.seed == int(path.stem.removeprefix("mnist_seed"))
    assert results.config.data.n_train == 60_000 and results.config.network.sizes[0] == 784
    assert results.config.training.epochs == results.epochs >= 20
    assert len(results.metrics.accuracy) == results.epochs + 1
    # nan-aware: runs stored before a metric existed read it as nan (nan != nan)
    np.testing.assert_equal(asdict(results.final), asdict(results.metrics.at(-1)))
    assert len(results.weights) == len(results.initial_phases) == 3
    assert results.before.voltage.shape == (results.config.trace_points, 10)


def test_stored_full_scale_results_load_and_redraw():
    from snnlib.plotting.mnist import figure

    if not list(RESULTS.glob("mnist_seed*.npz")):
        pytest.skip("results/mnist_seed*.npz not produced yet (snnlib reproduce mnist)")
    runs = mnist.EXPERIMENT.load_runs("full", RESULTS)
    for results in runs:
        assert results.final.accuracy >= 0.97  # the acceptance bound
        assert results.initial.silent > 0.99  # initially silent
        assert np.all(results.metrics.n_exhausted == 0)
    assert len(figure(runs).axes) == 6


def test_accuracy_verdict_says_below_within_or_above_the_paper():
    runs = mnist.EXPERIMENT.load_runs("full", RESULTS)
    assert mnist.accuracy_verdict(runs).startswith(f"Over this book's {len(runs)} seeds")
    assert "sample standard deviation" not in mnist.accuracy_verdict(runs[:1]), "one seed"

    def with_final_accuracy(values):
        changed = []
        for run, value in zip(runs[:2], values, strict=True):
            metrics = run.metrics.replace(accuracy=np.append(run.metrics.accuracy[:-1], value))
            changed.append(replace(run, metrics=metrics))
        return mnist.accuracy_verdict(changed)

    assert "0.30 percentage points below the paper's 97.6 ± 0.1 %" in with_final_accuracy(
        [0.972, 0.974]
    )
    assert "97.60 ± 0.00 %" in with_final_accuracy([0.976, 0.976])
    assert "within the standard deviation" in with_final_accuracy([0.976, 0.976])
    assert "0.20 percentage points above" in with_final_accuracy([0.978, 0.978])
