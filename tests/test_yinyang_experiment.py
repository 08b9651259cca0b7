"""The Yin-Yang experiment: network pieces, the quick run (CI), figures, stored results."""

from pathlib import Path

import jax
import jax.numpy as jnp
import matplotlib
import numpy as np
import pytest

from snnlib.data.yinyang import load_yinyang
from snnlib.experiments import yinyang
from snnlib.training import evaluate

matplotlib.use("Agg")
RESULTS = Path(__file__).parents[1] / "results"
# the CI configuration: a few epochs of the chosen network
QUICK = yinyang.YinYangConfig(epochs=3, map_points=21)


@pytest.fixture(scope="module")
def quick_run():
    return yinyang.run(QUICK, progress=False)


def test_encoding_and_shapes():
    net = yinyang.network(yinyang.YinYangConfig(hidden=(7,), t_max=1.5, t_bias=0.25))
    features = np.array([[0.0, 0.2, 1.0, 0.8], [0.5, 0.5, 0.5, 0.5]], np.float32)
    np.testing.assert_allclose(net.input_times(features),
                               [[0.0, 0.3, 1.5, 1.2, 0.25], [0.75, 0.75, 0.75, 0.75, 0.25]],
                               rtol=1e-6)
    params = net.init(jax.random.PRNGKey(0))
    assert [w.shape for w in params["weights"]] == [(7, 5), (3, 7)]
    np.testing.assert_allclose(params["initial_phases"][0], 0.5 * net.model.period)
    first, layers = net._batch(params, features)
    assert first.shape == (2, 3) and layers[0].times.shape == (2, 7, 1)
    assert np.all(np.isfinite(first))


def test_ordinary_spikes_only_clip_at_duration():
    """Without pseudospikes a silent output neuron counts as spiking at T."""
    config = yinyang.YinYangConfig(hidden=(6,), w_scale=0.1)
    features = load_yinyang("validation")[0][:8].astype(np.float32)
    with_pseudo, without = (yinyang.network(config), yinyang.network(
        yinyang.YinYangConfig(**{**config.__dict__, "pseudospikes": False})))
    params = with_pseudo.init(jax.random.PRNGKey(1))
    first, _ = with_pseudo._batch(params, features)
    clipped, _ = without._batch(params, features)
    assert np.all(first > config.duration)  # weak weights: silent outputs, pseudospikes
    np.testing.assert_array_equal(clipped, config.duration)
    grads = jax.grad(lambda p: without.loss(p, features, jnp.zeros(8, int))[0])(params)
    assert all(float(jnp.abs(g).max()) == 0 for g in jax.tree.leaves(grads))


def test_metrics_keep_validation_and_test_apart():
    net = yinyang.network(yinyang.YinYangConfig(hidden=(10,), w_scale=3.0))
    params = net.init(jax.random.PRNGKey(2))
    features, labels = yinyang.eval_data(monitor_test=True)
    both = evaluate(net, params, features, labels)
    alone = evaluate(net, params, *yinyang.eval_data(monitor_test=False))
    test_features, test_labels = load_yinyang("test")
    test_alone = evaluate(net, params, test_features.astype(np.float32),
                          test_labels.astype(np.int32))
    assert both["accuracy"] == alone["accuracy"] and both["loss"] == pytest.approx(alone["loss"])
    assert both["test_accuracy"] == test_alone["accuracy"]
    assert alone["test_accuracy"] == 0.0  # no test samples


def test_shallow_network():
    config = yinyang.variant_config("shallow", seed=0, epochs=1)
    net = yinyang.network(config)
    assert net.sizes == (5, 3)
    metrics = evaluate(net, net.init(jax.random.PRNGKey(0)), *yinyang.eval_data(False))
    assert 0 <= metrics["accuracy"] <= 1
    with pytest.raises(ValueError, match="variant"):
        yinyang.variant_config("deep", 0)


def test_quick_run_learns(quick_run):
    """CI bound: 3 epochs reach well above chance on the validation and test splits
    (validation: 86, 91, 92 % after epochs 1-3 in the tuning runs)."""
    results = quick_run
    assert results.metadata["epochs"] == 3 and results["accuracy"].shape == (4,)
    assert results["accuracy"][0] < 0.45  # before training: about chance (validation)
    assert results["accuracy"][-1] > 0.6 and results["test_accuracy"][-1] > 0.6
    assert np.all(results["n_exhausted"] == 0)
    assert results["map_prediction"].shape == (21, 21)
    assert set(np.unique(results["map_prediction"])) <= {0, 1, 2}
    test_labels = load_yinyang("test")[1]
    assert np.mean(results["test_prediction"] == test_labels) == pytest.approx(
        results["test_accuracy"][-1])
    assert results["example_spike_times_after"].shape == (3, 5 + 120 + 3, yinyang.ANALYSIS_SPIKES)
    assert test_labels[results["example_index"]].tolist() == [0, 1, 2]
    assert results.metadata["commit"] and results.metadata["seed"] == 0


def test_round_trip_and_figures(quick_run, tmp_path):
    from snnlib.plotting.yinyang import comparison, figure, raster_figure

    quick_run.save(tmp_path / "yinyang_seed0")
    quick_run.save(tmp_path / "yinyang_seed1")
    runs = yinyang.load_runs("full", tmp_path)
    assert len(runs) == 2 and runs[0].config["hidden"] == [120]
    np.testing.assert_array_equal(runs[0]["accuracy"], quick_run["accuracy"])
    with pytest.raises(FileNotFoundError, match="nopseudo"):
        yinyang.load_runs("nopseudo", tmp_path)
    train, test = load_yinyang("train"), load_yinyang("test")
    assert len(figure(runs, *train, *test, {"shallow": runs[:1]}).axes) == 4
    assert len(raster_figure(runs[0]).axes) == 6
    rows = comparison({"ours": runs})
    assert rows[-1][0] == "ours" and rows[-1][2] == "2" and "±" in rows[-1][1]
    assert len(rows) == len(yinyang.PEERS) + 1


def test_stored_full_scale_results():
    if not list(RESULTS.glob("yinyang_seed*.npz")):
        pytest.skip("results/yinyang_seed*.npz not produced yet (python -m "
                    "snnlib.experiments.yinyang)")
    runs = yinyang.load_runs("full", RESULTS)
    for results in runs:
        assert results.config["epochs"] == results.metadata["epochs"]
        assert results["test_accuracy"][-1] > 0.9 and np.all(results["n_exhausted"] == 0)
        assert len(results.metadata["commit"]) == 40


def test_registered_reproduction(tmp_path):
    """`snnlib reproduce yinyang` runs every variant; epochs=0 only evaluates the start."""
    from snnlib.experiments._registry import REGISTRY, RunOptions

    reproduction = REGISTRY["yinyang"]
    runs = reproduction.run(RunOptions(run_dir=tmp_path, seeds=(3,), epochs=0, progress=False))
    assert sorted(runs) == ["yinyang_nopseudo_seed3", "yinyang_seed3", "yinyang_shallow_seed3"]
    assert all(reproduction.size(results) == 0 for results in runs.values())
    assert runs["yinyang_shallow_seed3"].config["hidden"] == ()
    assert runs["yinyang_nopseudo_seed3"].config["pseudospikes"] is False
