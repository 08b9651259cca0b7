"""Input encoding, the MNIST classifier network and its loss and metrics."""

import dataclasses
import math
from dataclasses import asdict

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from snnlib.classification import SpikingClassifier
from snnlib.data import load_mnist
from snnlib.data.encoding import bin_spike_times, flip_bins, pixel_bins, virtual_input_weights
from snnlib.losses import first_spike_cross_entropy

SMALL = SpikingClassifier(sizes=(784, 12, 10, 10))


@pytest.fixture(scope="module")
def digits():
    images, labels = load_mnist("test")
    return pixel_bins(images[:16]), labels[:16].astype(np.int32)


def test_one_bin_encoding_of_the_paper():
    images = np.array([[[0, 127], [128, 255]]], np.uint8)
    np.testing.assert_array_equal(pixel_bins(images), [[1, 1, 0, 0]])
    np.testing.assert_allclose(bin_spike_times(1, 2.0), [2.0 * math.log(1 / 0.99)])
    # two bins: 255..171 spike first, 170..86 later, the rest never
    np.testing.assert_array_equal(
        pixel_bins(np.array([[255, 171, 170, 86, 85, 0]], np.uint8), 2), [[0, 0, 1, 1, 2, 2]]
    )
    times = bin_spike_times(2, 2.0)
    assert 0 < times[0] < times[1] < 2.0
    with pytest.raises(ValueError, match="uint8"):
        pixel_bins(np.zeros((1, 4)))
    with pytest.raises(ValueError, match="n_bins"):
        bin_spike_times(0, 1.0)


def test_virtual_input_weights_sum_the_pixels_of_each_bin():
    rng = np.random.default_rng(0)
    weights = rng.normal(size=(3, 6))
    bins = np.array([0, 1, 2, 0, 2, 1])  # n_bins = 2: bin 2 never spikes
    summed = virtual_input_weights(weights, bins, 2)
    np.testing.assert_allclose(summed[:, 0], weights[:, 0] + weights[:, 3])
    np.testing.assert_allclose(summed[:, 1], weights[:, 1] + weights[:, 5])


def test_flips_swap_spiking_and_silent_pixels_with_probability_p():
    bins = jnp.zeros((200, 784), jnp.int8)
    flipped = flip_bins(jax.random.PRNGKey(0), bins, 1, 0.02)
    assert set(np.unique(flipped).tolist()) == {0, 1} and flipped.dtype == bins.dtype
    assert np.mean(flipped) == pytest.approx(0.02, abs=0.002)
    again = flip_bins(jax.random.PRNGKey(0), flipped, 1, 1.0)
    np.testing.assert_array_equal(again, 1 - flipped)


def test_initial_network_of_the_paper():
    net = SpikingClassifier()
    assert net.model.period == pytest.approx(6.0) and net.sizes == (784, 100, 100, 10)
    params = net.init(jax.random.PRNGKey(0))
    for w, fan_in in zip(params["weights"], (784, 100, 100), strict=True):
        assert w.dtype == jnp.float32
        width = 0.5 / math.sqrt(fan_in)
        assert float(jnp.max(jnp.abs(w))) <= width and float(jnp.max(jnp.abs(w))) > 0.95 * width
    assert all(np.all(p == 3.0) for p in params["initial_phases"])
    clipped = net.constrain(
        {**params, "initial_phases": [p - 5.0 for p in params["initial_phases"]]}
    )
    assert all(np.all(p == 0.0) for p in clipped["initial_phases"])
    with pytest.raises(ValueError, match="simulator"):
        SpikingClassifier(simulator="fast")


def test_loss_of_the_paper():
    times = jnp.array([2.5, 1.0, 3.0])
    expected = -np.log(np.exp(-1.0) / np.sum(np.exp(-np.array([2.5, 1.0, 3.0])))) + 0.01 * (
        np.exp(1.0 / 2.0) - 1
    )
    assert float(first_spike_cross_entropy(times, 1, 2.0, 0.01)) == pytest.approx(expected)


def test_silent_network_decides_by_pseudospikes(digits):
    bins, labels = digits
    params = SMALL.init(jax.random.PRNGKey(1), jnp.float64)
    layers = SMALL.simulate(params, bins)
    assert all(int(jnp.sum(layer.counts)) == 0 for layer in layers)  # silent
    first = SMALL.first_spike_times(params, bins, layers)
    # no ordinary spike: t = T + Theta - H(phi(T), input) with input = W_3 r_2
    model = SMALL.model
    rates_1 = layers[0].final_state[:, 0] / model.period  # first layer: input 0
    input_2 = jnp.einsum("ij,bj->bi", params["weights"][1], rates_1)
    rates_2 = model.phase_transfer(layers[1].final_state[:, 0], input_2) / model.period
    input_3 = jnp.einsum("ij,bj->bi", params["weights"][2], rates_2)
    expected = 2.0 + model.period - model.phase_transfer(layers[2].final_state[:, 0], input_3)
    np.testing.assert_allclose(first, expected, rtol=1e-12)
    assert np.all((first > 2.0) & (first < 4.0))
    sums = SMALL.batch_metrics(params, bins, labels)
    metrics = SMALL.summarize(sums, len(labels))
    assert metrics.silent == 1.0 and metrics.activity == 0.0
    # without pseudospikes every image goes to class 0 (the paper's convention)
    assert metrics.accuracy_ordinary == pytest.approx(np.mean(labels == 0))


def test_layered_and_generic_networks_agree(digits):
    bins, labels = digits
    params = SMALL.init(jax.random.PRNGKey(2), jnp.float64)
    params["weights"] = [8 * w for w in params["weights"]]  # an active network
    generic = dataclasses.replace(SMALL, simulator="generic", max_events=64)

    def loss(net, p):
        return net.loss(p, bins, labels)

    (value, aux), grads = jax.value_and_grad(loss, 1, has_aux=True)(SMALL, params)
    (value_g, aux_g), grads_g = jax.value_and_grad(loss, 1, has_aux=True)(generic, params)
    assert int(aux["n_exhausted"]) == 0 and int(aux_g["n_exhausted"]) == 0
    np.testing.assert_allclose(value, value_g, rtol=1e-10)
    for a, b in zip(jax.tree.leaves(grads), jax.tree.leaves(grads_g), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-10)
    metrics = SMALL.summarize(SMALL.batch_metrics(params, bins, labels), len(labels))
    metrics_g = generic.summarize(generic.batch_metrics(params, bins, labels), len(labels))
    assert asdict(metrics) == pytest.approx(asdict(metrics_g), rel=1e-9)
    layers = SMALL.simulate(params, bins)
    hidden = [np.asarray(layer.counts) for layer in layers[:-1]]
    assert metrics.activity == pytest.approx(sum(h.sum() for h in hidden) / (22 * 16))
    assert 0 < metrics.activity and metrics.silent < 1
    silent = np.concatenate([h.sum(axis=0) == 0 for h in hidden])
    assert metrics.silent == pytest.approx(silent.mean())


@pytest.mark.slow
@pytest.mark.xfail(
    strict=False,
    reason=(
        "issue 19, open: in the jitted training step the loss of step 0 differs from the "
        "stored one by 4e-7 relative (the plain forward pass is bit-identical), and the "
        "difference grows to 1.5e-4 by step 9 and 4 % by step 20; 4bb5d1f stays within "
        "2e-5 over 25 steps"
    ),
)
def test_retraining_a_stored_seed_follows_its_stored_curve():
    """The first epoch of the stored full-scale seed 0 (results/mnist_seed0.npz: the
    paper's settings, 60 steps of 1000 images) retrained with today's simulator.

    Training amplifies float32 rounding (a different summation order of the weight
    gradient) by about 2x per step early on, so the first 10 step losses agree to 1e-4
    relative, and the epoch as a whole (mean step loss, test accuracy) to within what
    such a divergence moves it.
    """
    from pathlib import Path

    from snnlib import classification
    from snnlib.experiments import mnist

    stored = np.load(Path(__file__).parents[1] / "results" / "mnist_seed0.npz")
    config = mnist.MnistConfig(
        data=mnist.MnistData(60_000, 10_000), training=classification.TrainConfig(epochs=1, seed=0)
    )
    train_data, test_data = mnist.load_data(config)
    net = config.network
    result = classification.train(
        net, net.init(jax.random.PRNGKey(0)), train_data, test_data, config.training, progress=False
    )
    assert result.step_loss.shape == (60,)
    np.testing.assert_allclose(result.step_loss[:10], stored["step_loss"][:10], rtol=1e-4)
    assert np.mean(result.step_loss) == pytest.approx(np.mean(stored["step_loss"][:60]), rel=0.02)
    assert result.metrics.accuracy[0] == stored["accuracy"][0]  # before training
    assert abs(result.metrics.accuracy[1] - stored["accuracy"][1]) <= 5e-3
