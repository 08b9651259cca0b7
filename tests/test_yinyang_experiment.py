"""The Yin-Yang experiment: network pieces, the quick run (CI), figures, stored results."""

import json
import re
from dataclasses import asdict, replace
from pathlib import Path

import jax
import jax.numpy as jnp
import matplotlib
import numpy as np
import pytest

from snnlib.classification import evaluate
from snnlib.data.yinyang import load_yinyang
from snnlib.experiments import yinyang
from snnlib.experiments._results import config_from_dict, config_json

matplotlib.use("Agg")
RESULTS = Path(__file__).parents[1] / "results"
# the CI configuration: a few epochs of the chosen network
QUICK = replace(yinyang.variant_config("full", seed=0, epochs=3), map_points=21)


@pytest.fixture(scope="module")
def quick_run():
    return yinyang.run(QUICK, progress=False)


def test_encoding_and_shapes():
    net = yinyang.YinYangNetwork(sizes=(5, 7, 3), t_max=1.5, t_bias=0.25)
    features = np.array([[0.0, 0.2, 1.0, 0.8], [0.5, 0.5, 0.5, 0.5]], np.float32)
    np.testing.assert_allclose(
        net.input_times(features),
        [[0.0, 0.3, 1.5, 1.2, 0.25], [0.75, 0.75, 0.75, 0.75, 0.25]],
        rtol=1e-6,
    )
    params = net.init(jax.random.PRNGKey(0))
    assert [w.shape for w in params["weights"]] == [(7, 5), (3, 7)]
    np.testing.assert_allclose(params["initial_phases"][0], 0.5 * net.model.period)
    first, layers = net.forward(params, features)
    assert first.shape == (2, 3) and layers[0].times.shape == (2, 7, 1)
    assert np.all(np.isfinite(first))


def test_ordinary_spikes_only_clip_at_duration():
    """Without pseudospikes a silent output neuron counts as spiking at T."""
    with_pseudo = yinyang.YinYangNetwork(sizes=(5, 6, 3), w_scale=0.1)
    without = replace(with_pseudo, pseudospikes=False)
    features = load_yinyang("validation")[0][:8].astype(np.float32)
    params = with_pseudo.init(jax.random.PRNGKey(1))
    first, _ = with_pseudo.forward(params, features)
    clipped, _ = without.forward(params, features)
    assert np.all(first > with_pseudo.duration)  # weak weights: silent outputs, pseudospikes
    np.testing.assert_array_equal(clipped, with_pseudo.duration)
    grads = jax.grad(lambda p: without.loss(p, features, jnp.zeros(8, int))[0])(params)
    assert all(float(jnp.abs(g).max()) == 0 for g in jax.tree.leaves(grads))


def test_metrics_keep_validation_and_test_apart():
    net = yinyang.YinYangNetwork(sizes=(5, 10, 3), w_scale=3.0)
    params = net.init(jax.random.PRNGKey(2))
    features, labels = yinyang.eval_data(monitor_test=True)
    both = evaluate(net, params, features, labels)
    alone = evaluate(net, params, *yinyang.eval_data(monitor_test=False))
    test_features, test_labels = load_yinyang("test")
    test_alone = evaluate(
        net, params, test_features.astype(np.float32), test_labels.astype(np.int32)
    )
    assert both.accuracy == alone.accuracy and both.loss == pytest.approx(alone.loss)
    assert both.test_accuracy == test_alone.accuracy
    assert alone.test_accuracy == 0.0  # no test samples


def test_readout_window():
    """The readout of real spikes in a trial longer than the training trial: the spikes
    before T are those of the training trial's simulation, and an output spike after T
    decides where none came before it."""
    with pytest.raises(ValueError, match="readout_window"):
        yinyang.YinYangNetwork(duration=3.0, readout_window=2.5)
    # weak weights: every neuron spikes freely at (1 - 0.5) Theta = 3, after T = 2
    net = yinyang.YinYangNetwork(sizes=(5, 6, 3), w_scale=0.1, duration=2.0)
    params = net.init(jax.random.PRNGKey(1))
    features, labels = yinyang.eval_data(monitor_test=False)
    features, labels = features[:60], labels[:60]
    within = evaluate(net, params, features, labels)
    same = evaluate(replace(net, readout_window=2.0), params, features, labels)
    longer = evaluate(replace(net, readout_window=4.0), params, features, labels)
    assert within == same
    assert within.accuracy_spikes_only == within.accuracy_spikes_within_T == 0.0
    assert within.late_decisions == 0.0
    assert longer.accuracy_spikes_within_T == 0.0 and longer.late_decisions == 1.0
    assert longer.accuracy == within.accuracy and longer.loss == within.loss
    decided = yinyang.predict(replace(net, readout_window=4.0), params, features, "spikes")
    assert np.all(decided >= 0)
    assert longer.accuracy_spikes_only == pytest.approx(np.mean(decided == labels))
    # a trained-like network: the spikes before T agree with the training trial's
    strong = replace(yinyang.variant_config("full", 0).network, readout_window=6.0)
    params = strong.init(jax.random.PRNGKey(3))
    _, layers = strong.forward(params, features)
    _, readout_layers = strong.readout_network().forward(params, features)
    for short, long in zip(layers, readout_layers, strict=True):
        early = np.where(long.times < strong.duration, long.times, np.inf)[..., : strong.max_spikes]
        np.testing.assert_array_equal(
            np.where(short.times < strong.duration, short.times, np.inf), early
        )


def test_shallow_network():
    config = yinyang.variant_config("shallow", seed=0, epochs=1)
    net = config.network
    assert net.sizes == (5, 3) and config.training.epochs == 1
    metrics = evaluate(net, net.init(jax.random.PRNGKey(0)), *yinyang.eval_data(False))
    assert 0 <= metrics.accuracy <= 1
    with pytest.raises(ValueError, match="variant"):
        yinyang.variant_config("deep", 0)


def test_quick_run_learns(quick_run):
    """CI bound: 3 epochs reach well above chance (1/3) on the validation and test splits
    (validation, real spikes in the readout trial: 80.2, 79.5, 90.2 % after epochs 1-3
    in the stored full-scale run, seed 0, commit ec1ccf7)."""
    results = quick_run
    assert isinstance(results, yinyang.YinYangResults)
    assert results.epochs == 3 and results.metrics.accuracy.shape == (4,)
    assert results.initial.accuracy < 0.45  # before training: about chance (validation)
    assert results.final.accuracy > 0.5 and results.final.test_accuracy > 0.5
    assert results.final.test_accuracy_spikes_only > 0.5
    assert results.final == results.metrics.at(-1)
    assert np.all(results.metrics.n_exhausted == 0)
    assert results.decision_map.prediction.shape == (21, 21)
    # read from real spikes (-1: no output spike, or a tie)
    assert results.config.readout == "spikes"
    assert set(np.unique(results.decision_map.prediction)) <= {-1, 0, 1, 2}
    test_labels = load_yinyang("test")[1]
    assert np.mean(results.test_prediction == test_labels) == pytest.approx(
        results.final.test_accuracy_spikes_only
    )
    assert results.after.spike_times.shape == (3, 5 + 120 + 3, yinyang.ANALYSIS_SPIKES)
    assert results.before.first_times.shape == (3, 3)
    assert test_labels[results.example_index].tolist() == [0, 1, 2]
    assert [w.shape for w in results.weights] == [(120, 5), (3, 120)]
    assert results.metadata["commit"] and results.metadata["seed"] == 0


def test_round_trip_and_figures(quick_run, tmp_path):
    from snnlib.experiments import Results
    from snnlib.plotting.yinyang import figure, raster_figure

    quick_run.save(tmp_path / "yinyang_seed0")
    quick_run.save(tmp_path / "yinyang_seed1")
    runs = yinyang.EXPERIMENT.load_runs("full", tmp_path)
    assert len(runs) == 2 and runs[0].config == QUICK and runs[0].final == quick_run.final
    assert runs[0].arrays.keys() == quick_run.arrays.keys()
    for key, value in quick_run.arrays.items():
        np.testing.assert_array_equal(runs[0].arrays[key], value, err_msg=key)
    stored = Results.load(tmp_path / "yinyang_seed0")  # the file form: today's keys
    assert {
        "accuracy",
        "test_accuracy",
        "weights_2",
        "map_grid",
        "map_prediction",
        "test_prediction",
        "example_index",
        "example_first_times_after",
    } <= set(stored.arrays)
    assert stored.metadata["epochs"] == 3 and stored.config["network"]["sizes"] == [5, 120, 3]
    with pytest.raises(FileNotFoundError, match="nopseudo"):
        yinyang.EXPERIMENT.load_runs("nopseudo", tmp_path)
    train, test = load_yinyang("train"), load_yinyang("test")
    assert len(figure(runs, *train, *test, {"shallow": runs[:1]}).axes) == 4
    assert len(raster_figure(runs[0]).axes) == 6
    rows = yinyang.compare({"full": runs, "shallow": runs[:1]})
    ours = {row[0]: row for row in rows[len(yinyang.PAPER) :]}  # the peers' rows come first
    # each network read both ways, real spikes first (the headline, as the peers count):
    # in the readout trial, then before T alone
    net = QUICK.network
    assert net.window > net.duration
    real = (f"real spikes in a trial of {net.window:g}", f"real spikes before T = {net.duration:g}")
    assert list(ours) == [
        f"{yinyang.LABELS[variant]}: {readout}"
        for variant in ("full", "shallow")
        for readout in (*real, "pseudospikes counted")
    ]
    assert ours[f"{yinyang.LABELS['shallow']}: {real[0]}"][2] == "1"
    theta = ours[f"{yinyang.LABELS['full']}: {real[0]}"]
    assert theta[2] == "2" and "±" in theta[1]
    value = 100 * quick_run.final.test_accuracy_spikes_only
    assert theta[1].startswith(f"{value:.1f}")  # two copies of one run: the same mean


def test_stored_full_scale_results():
    if not list(RESULTS.glob("yinyang_seed*.npz")):
        pytest.skip("results/yinyang_seed*.npz not produced yet (snnlib reproduce yinyang)")
    runs = yinyang.EXPERIMENT.load_runs("full", RESULTS)
    assert len(runs) == 10
    for results in runs:
        assert results.config.training.epochs == results.epochs
        assert np.all(results.metrics.n_exhausted == 0)
        assert len(results.metadata["commit"]) == 40
        # every seed learns: the stored runs reach 95.0-99.0 % from real spikes
        final = results.final
        assert final.test_accuracy_spikes_only > 0.94
        # a point decided before T keeps its class in the longer readout trial
        assert final.test_accuracy_spikes_only >= final.test_accuracy_spikes_within_T
        assert 0 <= final.test_late_decisions < 0.05
    # issue 20: the mean test accuracy from real spikes (stored: 98.66 % in the readout
    # trial, 98.08 % before T)
    finals = [results.final for results in runs]
    assert np.mean([final.test_accuracy_spikes_only for final in finals]) >= 0.98


def test_first_runs_are_read_from_real_spikes_too():
    """The runs stored before the real-spike readout was recorded: `final_metrics`
    re-evaluates them from their parameters, reproducing the stored accuracy exactly."""
    paths = sorted(RESULTS.glob("yinyang_pseudo_readout_seed*.npz"))[:2]
    if not paths:
        pytest.skip("results/yinyang_pseudo_readout_seed*.npz not stored")
    for path in paths:
        results = yinyang.YinYangResults.load(path)
        assert np.isnan(results.final.test_accuracy_spikes_only)  # not recorded then
        again = yinyang.final_metrics(results)
        assert again.test_accuracy == results.final.test_accuracy
        assert again.accuracy == results.final.accuracy
        assert 0.3 < again.test_accuracy_spikes_only < again.test_accuracy


@pytest.mark.parametrize("path", sorted(RESULTS.glob("yinyang_*.npz")), ids=lambda p: p.stem)
def test_every_committed_results_file_loads(path):
    """The stored runs load as YinYangResults, and their configs are those of
    `variant_config` today: one source of defaults for the stored and the new runs."""
    results = yinyang.YinYangResults.load(path)
    variant, seed = re.fullmatch(r"yinyang_(?:(\w+)_)?seed(\d+)", path.stem).groups()
    expected = yinyang.variant_config(variant or "full", int(seed))
    assert yinyang.EXPERIMENT.run_name(variant or "full", int(seed)) == path.stem
    assert results.config == expected
    assert results.config == config_from_dict(
        yinyang.YinYangConfig, json.loads(path.with_suffix(".json").read_text())["config"]
    )
    assert len(results.metrics.test_accuracy) == results.epochs + 1
    # nan-aware: runs stored before a metric existed read it as nan (nan != nan)
    np.testing.assert_equal(asdict(results.final), asdict(results.metrics.at(-1)))
    assert len(results.weights) == len(expected.network.sizes) - 1
    assert results.decision_map.prediction.shape == (expected.map_points,) * 2
    assert results.after.spike_times.shape == (
        3,
        sum(expected.network.sizes),
        yinyang.ANALYSIS_SPIKES,
    )


def test_config_is_validated_and_reads_back():
    config = yinyang.variant_config("nopseudo", seed=4, epochs=7)
    assert config.network.pseudospikes is False and config.training.seed == 4
    assert config_from_dict(yinyang.YinYangConfig, config_json(config)) == config
    with pytest.raises(ValueError, match="n_train"):
        yinyang.YinYangData(n_train=6000)
    with pytest.raises(ValueError, match="t_max"):
        yinyang.YinYangNetwork(t_max=3.0)
    with pytest.raises(ValueError, match="sizes"):
        yinyang.YinYangNetwork(sizes=(4, 10, 3))
    with pytest.raises(ValueError, match="map_points"):
        yinyang.YinYangConfig(map_points=1)


def test_registered_reproduction(tmp_path):
    """`snnlib reproduce yinyang` runs every variant; epochs=0 only evaluates the start."""
    from snnlib.experiments import RunOptions

    runs = yinyang.EXPERIMENT.reproduce(
        tuple(yinyang.VARIANTS), RunOptions(run_dir=tmp_path, seeds=(3,), length=0, progress=False)
    )
    assert sorted(runs) == [
        "yinyang_nopseudo_seed3",
        "yinyang_pseudo_readout_seed3",
        "yinyang_seed3",
        "yinyang_shallow_seed3",
    ]
    headline, first = runs["yinyang_seed3"].config, runs["yinyang_pseudo_readout_seed3"].config
    assert headline.network.early_weight > 0 and headline.readout == "spikes"
    assert first.network == yinyang.YinYangNetwork() and first.readout == "pseudospikes"
    assert all(yinyang.EXPERIMENT.size(results.to_stored()) == 0 for results in runs.values())
    assert runs["yinyang_shallow_seed3"].config.network.sizes == (5, 3)
    assert runs["yinyang_nopseudo_seed3"].config.network.pseudospikes is False
