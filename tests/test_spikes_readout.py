"""The readout of real spikes (issue 20): `spikes_only_prediction` on hand-built first
spike times, the Yin-Yang metric on a silent network, the late-spike hinge, and stored
runs that predate the metric."""

from dataclasses import replace

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from snnlib.classification import Epochs, spikes_only_prediction
from snnlib.data.yinyang import load_yinyang
from snnlib.experiments import yinyang
from snnlib.losses import first_spike_cross_entropy, late_spike_hinge

T = 2.0


@pytest.mark.parametrize(
    ("times", "expected"),
    [
        ([0.5, 1.0, 1.5], 0),  # the earliest ordinary spike
        ([1.7, 0.3, 1.2], 1),
        ([2.3, 1.9, 2.5], 1),  # the only ordinary spike; pseudospikes (t >= T) never count
        ([2.1, 2.2, 2.5], -1),  # no ordinary spike: wrong (the pseudospike readout says 0)
        ([T, T, T], -1),  # clipped at T (no pseudospikes): no spike, not class 0
        ([T, 2.4, 3.0], -1),  # a spike exactly at T is not within the trial
        ([1.0, 1.0, 1.5], -1),  # a tie of the earliest spikes: wrong
        ([0.4, 1.0, 1.0], 0),  # a tie behind the earliest spike does not matter
    ],
)
def test_prediction_of_hand_built_spike_times(times, expected):
    got = spikes_only_prediction(jnp.asarray([times]), T)
    assert got.shape == (1,) and int(got[0]) == expected


def test_prediction_is_batched_and_wrong_for_every_label():
    times = jnp.asarray([[0.5, 1.0, 1.5], [2.1, 2.2, 2.5], [1.0, 1.0, 0.9]])
    np.testing.assert_array_equal(spikes_only_prediction(times, T), [0, -1, 2])
    assert not np.any(np.asarray(spikes_only_prediction(times[1:2], T)) == np.arange(3))


def test_silent_yinyang_network_scores_zero_with_real_spikes():
    """Weak weights: no output spike anywhere. The old ordinary readout gives every point
    to class yin (its share of the points); the real-spike readout counts every one wrong."""
    net = yinyang.YinYangNetwork(sizes=(5, 6, 3), w_scale=0.1)
    params = net.init(jax.random.PRNGKey(1))
    features, labels = yinyang.eval_data(monitor_test=True)
    sums = net.batch_metrics(params, jnp.asarray(features[:200]), jnp.asarray(labels[:200]))
    metrics = net.summarize(sums, 200)
    assert metrics.output_activity == 0.0
    assert metrics.accuracy_ordinary == pytest.approx(np.mean(labels[:200] == 0))
    assert metrics.accuracy_spikes_only == 0.0 and metrics.accuracy > 0
    # the stored predictions of the real-spike readout: no class (-1) for every point
    spikes = yinyang.predict(net, params, features[:200], readout="spikes")
    assert spikes.dtype == np.int8 and np.all(spikes == -1)
    counted = yinyang.predict(net, params, features[:200])
    assert np.mean(counted == labels[:200] % 3) == pytest.approx(metrics.accuracy)
    with pytest.raises(ValueError, match="readout must be one of"):
        yinyang.predict(net, params, features[:2], readout="first")
    with pytest.raises(ValueError, match="readout must be one of"):
        yinyang.YinYangConfig(readout="spike")


def test_late_spike_hinge_is_off_by_default_and_pulls_the_label_neuron_early():
    first = jnp.asarray([[1.95, 1.0, 2.5], [2.6, 0.5, 1.9]])
    labels = jnp.asarray([0, 0])
    assert float(late_spike_hinge(first[0], 0, 1.75)) == pytest.approx(0.2)
    assert float(late_spike_hinge(first[0], 1, 1.75)) == 0.0
    base = yinyang.YinYangNetwork()
    plain = jax.vmap(first_spike_cross_entropy, (0, 0, None, None))(first, labels, T, base.gamma)
    np.testing.assert_array_equal(base.trial_losses(first, labels), plain)
    hinged = replace(base, early_weight=2.0, early_margin=0.25)
    np.testing.assert_allclose(
        hinged.trial_losses(first, labels) - plain, 2.0 * np.array([0.2, 0.85]), rtol=1e-6
    )
    grad = jax.grad(lambda t: hinged.trial_losses(t, labels).sum())(first)
    plain_grad = jax.grad(lambda t: base.trial_losses(t, labels).sum())(first)
    np.testing.assert_allclose(grad[:, 0] - plain_grad[:, 0], 2.0, rtol=1e-6)


def test_invalid_hinge_settings_are_refused():
    with pytest.raises(ValueError, match="early_margin"):
        yinyang.YinYangNetwork(early_margin=3.0)
    with pytest.raises(ValueError, match="early_weight"):
        yinyang.YinYangNetwork(early_weight=-1.0)


def test_runs_stored_before_the_metric_read_it_as_nan():
    arrays = {
        name: np.zeros(3)
        for name in (
            "accuracy",
            "loss",
            "n_exhausted",
            "accuracy_ordinary",
            "activity",
            "silent",
            "output_activity",
            "test_accuracy",
            "test_accuracy_ordinary",
            "test_loss",
            "train_loss",
            "train_accuracy",
            "epoch_seconds",
        )
    }
    epochs = Epochs(yinyang.YinYangMetrics, arrays)
    assert np.all(np.isnan(epochs.test_accuracy_spikes_only)) and len(epochs) == 3
    assert np.isnan(epochs.at(-1).accuracy_spikes_only)
    with pytest.raises(KeyError, match="test_loss"):
        Epochs(yinyang.YinYangMetrics, {k: v for k, v in arrays.items() if k != "test_loss"})


def test_stored_pseudospike_runs_still_load():
    stored = yinyang.YinYangResults.load("results/yinyang_pseudo_readout_seed0")
    assert stored.final.test_accuracy > 0.9 and np.isnan(stored.final.test_accuracy_spikes_only)
    assert load_yinyang("test")[0].shape == (1000, 4)
