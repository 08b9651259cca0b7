"""Single-neuron experiment (paper Fig. 2): acceptance numbers, gradients, task, figure."""

import warnings

import jax
import jax.numpy as jnp
import matplotlib
import numpy as np
import pytest
from helpers import central_difference

from snnlib.experiments import Results
from snnlib.experiments import single_neuron as sn
from snnlib.experiments._results import config_from_dict, config_json
from snnlib.neurons import QIF

matplotlib.use("Agg")
CONFIG = sn.SingleNeuronConfig(n_trace_points=300)


@pytest.fixture(scope="module")
def results():
    return sn.run(CONFIG)


def test_initially_silent_neuron_learns_both_spikes(results):
    # measured: spikes at 2.5 and 7.5 to 1e-11, loss 5.3e-23 (paper's code: 6e-23)
    assert results.initial_spike_count == 0 and results.final_spike_count == 2
    np.testing.assert_allclose(results.final_spike_times, [2.5, 7.5], atol=0.01)
    assert results.final_loss < 1e-4
    assert results.all_finite and results.n_exhausted == 0
    assert results.trials_to_converge is not None and results.trials_to_converge < 3000


def test_missing_spikes_start_as_pseudospikes_and_enter_the_trial(results):
    times, counts = results.output_times, results.spike_counts
    assert times.shape == (CONFIG.n_trials + 1, 2) and np.all(np.isfinite(times))
    assert np.all(times[0] > CONFIG.duration)
    # the k-th output time is an ordinary spike exactly when the neuron spiked k times
    for k in range(2):
        np.testing.assert_array_equal(times[:, k] < CONFIG.duration, counts > k)
    # continuous: with clipped steps no spike time moves by more than 0.2 per trial
    assert np.max(np.abs(np.diff(times, axis=0))) < 0.2


def test_loss_gradient_matches_central_differences():
    """The exact gradient, here with one ordinary spike and one pseudospike."""
    task = sn.make_instance(CONFIG)
    loss = jax.jit(sn.make_loss(CONFIG, task))
    params = {"weights": jnp.array([3.0, 1.0]), "times": jnp.array([2.0, 8.0])}
    (_, (times, count, _)), grads = jax.value_and_grad(loss, has_aux=True)(params)
    assert int(count) == 1 and float(times[1]) > CONFIG.duration
    flat = np.concatenate([params["weights"], params["times"]])

    def loss_of(x):
        return loss({"weights": jnp.asarray(x[:2]), "times": jnp.asarray(x[2:])})[0]

    np.testing.assert_allclose(
        np.concatenate([grads["weights"], grads["times"]]),
        central_difference(loss_of, flat),
        rtol=1e-5,
        atol=1e-8,
    )


def test_gradient_is_clipped_elementwise():
    optimizer = CONFIG.optimizer()
    grads = {"weights": jnp.array([1.0, -1e-3])}
    updates, _ = optimizer.update(grads, optimizer.init(grads))
    np.testing.assert_allclose(updates["weights"], [-0.1 * 2e-2, 0.1 * 1e-3])


def test_paper_instance_and_fresh_draws():
    paper = sn.make_instance(CONFIG)
    assert paper.fixed_times.shape == (20,) and paper.fixed_times[0] == pytest.approx(
        0.32615, abs=1e-5
    )
    np.testing.assert_array_equal(paper.initial_params["times"], [1.0, 9.0])
    fresh = sn.make_instance(sn.SingleNeuronConfig(seed=5))
    again = sn.make_instance(sn.SingleNeuronConfig(seed=5))
    np.testing.assert_array_equal(fresh.fixed_times, again.fixed_times)
    assert np.all((fresh.fixed_times >= 0) & (fresh.fixed_times <= 10))
    assert not np.allclose(fresh.fixed_weights, paper.fixed_weights)
    with pytest.raises(ValueError, match="pass a seed"):
        sn.make_instance(sn.SingleNeuronConfig(duration=5.0))


def test_config_reads_back_with_the_neuron_model_nested():
    config = sn.SingleNeuronConfig(n_trials=5, model=QIF(alpha=5.0), seed=2)
    stored = config_json(config)
    assert stored["model"]["alpha"] == 5.0
    assert config_from_dict(sn.SingleNeuronConfig, stored) == config
    with pytest.raises(TypeError, match="model must be a QIF"):
        sn.SingleNeuronConfig(model=None)


def test_trials_to_converge_is_the_first_trial_from_which_on_all_is_good():
    targets = np.array([2.5, 7.5])
    times = np.array([[9.0, 9.0], [2.5, 7.5], [3.0, 7.5], [2.505, 7.5], [2.5, 7.5]])
    loss = np.array([1.0, 0.0, 0.1, 1e-5, 0.0])
    assert sn.trials_to_converge(times, targets, loss) == 3
    assert sn.trials_to_converge(times[:3], targets, loss[:3]) is None


def test_figure_redraws_from_saved_results(results, tmp_path):
    from snnlib.plotting import use_style
    from snnlib.plotting.single_neuron import figure

    loaded = sn.SingleNeuronResults.load(results.save(tmp_path / "single_neuron"))
    assert loaded.config == results.config and loaded.final_loss == results.final_loss
    assert loaded.final_spike_times == results.final_spike_times
    assert loaded.arrays.keys() == results.arrays.keys()
    for key, value in results.arrays.items():
        np.testing.assert_array_equal(loaded.arrays[key], value, err_msg=key)
    stored = Results.load(tmp_path / "single_neuron")  # the file form: keys as before
    np.testing.assert_array_equal(stored["voltage_after"], results.after.voltage)
    assert stored.metadata["final_loss"] == results.final_loss
    assert stored.config["n_trials"] == CONFIG.n_trials
    use_style()
    trajectories = sn.trainable_trajectories(loaded)
    np.testing.assert_allclose(trajectories.times[-1], loaded.after.trainable_times, rtol=1e-9)
    fig = figure(loaded, trajectories)
    assert len(fig.axes) == 10
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig.savefig(tmp_path / "single_neuron.png")
