"""Averaged parameters in training (`TrainConfig.ema_decay`): the debiased exponential
moving average against its closed form, what `train` evaluates and returns, resume."""

import jax
import numpy as np
import pytest

from snnlib.checkpoint import checkpoint_meta
from snnlib.classification import (
    SpikingClassifier,
    TrainConfig,
    average_step,
    average_weight,
    evaluate,
    train,
)


def test_the_average_is_the_mean_weighted_by_powers_of_the_decay():
    rng = np.random.default_rng(0)
    decay, trajectory = 0.9, rng.normal(size=(7, 3, 2))
    average = {"w": np.full((3, 2), 1e6)}  # A_0 does not enter
    for step, params in enumerate(trajectory, start=1):
        average = average_step(average, {"w": params}, average_weight(decay, step))
        weights = decay ** np.arange(step - 1, -1, -1.0)
        expected = np.tensordot(weights / weights.sum(), trajectory[:step], axes=1)
        np.testing.assert_allclose(average["w"], expected, rtol=1e-5, atol=1e-6)


@pytest.fixture(scope="module")
def task():
    rng = np.random.default_rng(0)
    bins = rng.integers(0, 2, (24, 784)).astype(np.int8)
    labels = rng.integers(0, 10, 24).astype(np.int32)
    net = SpikingClassifier(sizes=(784, 6, 10))
    return net, net.init(jax.random.PRNGKey(0)), (bins, labels), (bins[:8], labels[:8])


def run(task, epochs, ema_decay, checkpoint=None):
    net, params, train_data, test_data = task
    config = TrainConfig(epochs=epochs, batch_size=4, learning_rate=0.05, ema_decay=ema_decay)
    return train(net, params, train_data, test_data, config, checkpoint, progress=False)


def leaves(params):
    return jax.tree.leaves(params)


def test_train_evaluates_and_returns_the_average(task):
    last, averaged = run(task, 2, 0.0), run(task, 2, 0.8)
    net, _, _, test_data = task
    again = evaluate(net, averaged.params, *test_data)
    assert again.loss == averaged.metrics.loss[-1]
    # the same steps (the average does not feed back into training) ...
    np.testing.assert_array_equal(averaged.step_loss, last.step_loss)
    # ... but other parameters than the last step's
    difference = max(
        float(np.max(np.abs(a - b)))
        for a, b in zip(leaves(averaged.params), leaves(last.params), strict=True)
    )
    assert difference > 1e-4


def test_a_vanishing_decay_returns_the_last_parameters(task):
    last, averaged = run(task, 1, 0.0), run(task, 1, 1e-9)
    for a, b in zip(leaves(averaged.params), leaves(last.params), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_a_resumed_averaged_run_equals_an_uninterrupted_one(task, tmp_path):
    path = tmp_path / "run.ckpt"
    run(task, 1, 0.8, checkpoint=path)
    resumed, straight = run(task, 2, 0.8, checkpoint=path), run(task, 2, 0.8)
    for a, b in zip(leaves(resumed.params), leaves(straight.params), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(resumed.metrics.loss, straight.metrics.loss)


def test_checkpoints_without_averaging_keep_their_identity(task, tmp_path):
    # runs checkpointed before ema_decay existed must still resume
    run(task, 1, 0.0, checkpoint=tmp_path / "plain.ckpt")
    run(task, 1, 0.8, checkpoint=tmp_path / "averaged.ckpt")
    assert "ema_decay" not in checkpoint_meta(tmp_path / "plain.ckpt")["identity"]["train"]
    assert checkpoint_meta(tmp_path / "averaged.ckpt")["identity"]["train"]["ema_decay"] == 0.8
