"""The depth study (issue 20): per-layer records of a tiny network, the first epoch each
layer spikes, registration and a quick reproduction that round-trips through results/."""

from pathlib import Path
from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from snnlib.experiments import RunOptions, depth


def test_per_layer_records_of_a_tiny_network():
    """Hand-checkable: each layer's activity and silent fraction from the spike counts."""
    net = depth.DepthNetwork(sizes=(784, 6, 5, 10), w_scale=20.0, max_spikes=4, pseudospikes=False)
    params = net.init(jax.random.PRNGKey(0))
    bins = jax.random.bernoulli(jax.random.PRNGKey(1), 0.3, (16, 784)).astype(jnp.float32)
    labels = jnp.arange(16) % 10
    metrics = net.summarize(net.batch_metrics(params, bins, labels), 16)
    layers = net.simulate(params, bins)
    counts = [np.minimum(np.asarray(layer.counts), net.max_spikes) for layer in layers]
    assert len(metrics.layer_activity) == len(metrics.layer_silent) == 3
    for index, count in enumerate(counts):
        assert metrics.layer_activity[index] == pytest.approx(count.mean())
        assert metrics.layer_silent[index] == pytest.approx(np.mean(count.sum(0) == 0))
    assert 0 < metrics.layer_activity[0]  # strong weights: the first layer spikes
    hidden = np.concatenate([c.sum(0) for c in counts[:-1]])
    assert metrics.silent == pytest.approx(np.mean(hidden == 0))


def test_the_initial_networks_are_silent_as_in_the_paper():
    net = depth.depth_network(3)
    assert net.sizes == (784, 100, 100, 100, 10) and net.w_scale == 0.5
    params = net.init(jax.random.PRNGKey(0))
    bins = jax.random.bernoulli(jax.random.PRNGKey(1), 0.2, (8, 784)).astype(jnp.float32)
    metrics = net.summarize(net.batch_metrics(params, bins, jnp.zeros(8, int)), 8)
    assert metrics.layer_activity[1:] == (0.0, 0.0, 0.0)
    assert metrics.accuracy_spikes_only == 0.0


def test_first_spike_epoch():
    activity = np.array([[0.0, 0.0, 0.0], [0.1, 0.0, 0.0], [0.2, 0.0, 0.3], [0.0, 0.0, 0.1]])
    np.testing.assert_array_equal(depth.first_spike_epoch(activity), [1, -1, 2])


def _stored(accuracy, real, silent_after, first_spike_epoch):
    """What `depth.findings` reads of a run."""
    return SimpleNamespace(
        final=SimpleNamespace(accuracy=accuracy, accuracy_spikes_only=real),
        silent_after=np.array(silent_after),
        first_spike_epoch=np.array(first_spike_epoch),
    )


def test_findings_report_where_the_runs_contradict_the_hypothesis():
    shallow = [_stored(0.97, 0.95, [0, 0], [1, 1])] * 2
    groups = {
        "L1": shallow,
        "L3": [_stored(0.90, 0.85, [0, 0, 0, 0], [1, 2, 3, 3])],
        "L1_nopseudo": [_stored(0.098, 0.0, [1, 1], [-1, -1])],
        "L3_nopseudo": [_stored(0.5, 0.4, [0.5, 1, 1, 1], [1, -1, -1, -1])],
    }
    silent, trained, first = depth.findings(groups)
    assert "1 of 2 runs stay silent" in silent and "against the hypothesis" in silent
    assert "L = 3: 90.0 % (85.0 % from real spikes)" in trained
    assert (
        "Counting pseudospikes, against the hypothesis, the accuracy drops by more than 2 "
        "points below L = 1 at L = 3" in trained
    )
    assert "by epoch 3" in first
    holding = depth.findings({"L1": shallow, "L2": [_stored(0.965, 0.96, [0] * 3, [1] * 3)]})
    assert "Counting pseudospikes, as the hypothesis predicts" in holding[0]
    assert "largest drop 0.5 points" in holding[0]
    assert "from real spikes, as the hypothesis predicts" in holding[0]
    silent_output = {"L1": shallow, "L4": [_stored(0.965, 0.0, [0] * 5, [1, 1, 9, -1, -1])]}
    trained, first = depth.findings(silent_output)
    assert "Counting pseudospikes, as the hypothesis predicts" in trained
    assert "from real spikes, against the hypothesis" in trained
    assert "2 layers of the runs with pseudospikes never spike" in first
    assert "not tested yet" in depth.findings({"L2": shallow})[0]


def test_variants_and_run_names():
    assert len(depth.EXPERIMENT.variants) == 10
    assert depth.EXPERIMENT.run_name("L6_nopseudo", 2) == "depth_L6_nopseudo_seed2"
    config = depth.configure("L4", 1, RunOptions(run_dir=Path(".")))
    assert config.network.sizes == (784, *(100,) * 4, 10) and config.network.pseudospikes
    assert config.training.epochs >= 30 and config.training.seed == 1
    assert config.data.n_train == 60_000
    assert not depth.configure("L1_nopseudo", 0, RunOptions(Path("."))).network.pseudospikes
    with pytest.raises(ValueError, match="variant"):
        depth.configure("L5", 0, RunOptions(Path(".")))


def test_quick_reproduction_resumes_and_round_trips(tmp_path):
    options = RunOptions(run_dir=tmp_path, seeds=(0,), quick=True, progress=False)
    once = depth.EXPERIMENT.reproduce(["L2"], options)["depth_L2_seed0"]
    assert len(once.metrics) == 3 and once.metrics.layer_activity.shape == (3, 3)
    assert once.silent_before[1] == 1.0  # initially silent beyond the first layer
    again = depth.EXPERIMENT.reproduce(["L2"], options)["depth_L2_seed0"]  # from checkpoint
    np.testing.assert_array_equal(again.metrics.accuracy, once.metrics.accuracy)
    back = depth.DepthResults.load(once.save(tmp_path / "depth_L2_seed0"))
    np.testing.assert_array_equal(back.metrics.layer_silent, once.metrics.layer_silent)
    np.testing.assert_array_equal(back.first_spike_epoch, once.first_spike_epoch)
    assert back.final == once.final and back.metadata["commit"]


RESULTS = Path(__file__).parents[1] / "results"


@pytest.mark.parametrize("path", sorted(RESULTS.glob("depth_*.npz")), ids=lambda p: p.stem)
def test_every_committed_depth_run_loads(path):
    """A stored run loads, has the config of its variant at full scale today (one source
    of defaults), records its commit, and started silent as in the paper."""
    import re

    results = depth.DepthResults.load(path)
    variant, seed = re.fullmatch(r"depth_(L\d+(?:_nopseudo)?)_seed(\d+)", path.stem).groups()
    assert results.config == depth.configure(variant, int(seed), RunOptions(Path(".")))
    assert results.epochs == results.config.training.epochs >= 30
    assert len(results.metadata["commit"]) == 40
    assert results.metadata["uncommitted_changes"] is False
    assert np.all(results.silent_before[:-1] > 0.99)  # hidden layers silent before training
    assert len(results.first_spike_epoch) == len(results.config.network.sizes) - 1
    # measured, whatever the hypothesis says: both readouts are recorded
    assert 0 <= results.final.accuracy_spikes_only <= results.final.accuracy <= 1
