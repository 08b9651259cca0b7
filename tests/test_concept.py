"""Concept experiment (paper Fig. 1): acceptance numbers, derivatives, figure, round trip."""

import warnings

import matplotlib
import numpy as np
import pytest

from snnlib import QIF, EventBudgetError, budget
from snnlib.experiments import Results, concept

matplotlib.use("Agg")

# paper-scale weight grid (1e5 points); the other grids coarse to keep the test fast
CONFIG = concept.ConceptConfig(n_inhibition_times=10_000, n_gradient_points=200, n_trace_points=300)


@pytest.fixture(scope="module")
def results():
    return concept.run(CONFIG)


def test_qif_spike_time_is_continuous_in_the_weight(results):
    # measured: 5.4e-4 = 1.3e-4 T on the 1e5-point grid
    jump = results.qif_summary.largest_jump_vs_weight
    assert jump < 1e-3 * CONFIG.qif_duration, jump


def test_lif_spike_time_jumps(results):
    # measured: 2.31 = 0.77 T (the spike at t = tau ln 2 for w -> w_min vanishes)
    jump = results.lif_summary.largest_jump_vs_weight
    assert jump > 0.1 * CONFIG.lif_duration, jump
    assert results.lif_summary.largest_jump_vs_inhibition > 0.1 * CONFIG.lif_duration


def test_qif_spike_leaves_the_trial_as_a_pseudospike(results):
    first = results.qif.first_spike_vs_weight
    weights = results.qif.weights
    assert np.all(np.isfinite(first))
    assert np.all(np.diff(first) <= 0), "a stronger input never delays the spike"
    # without input current after T the ordinary spike reaches T where
    # tau ln(1 - pi / (2 sqrt w)) = -T  (I > 0, V = 0; book/theory.md, "QIF neuron with a
    # decaying synaptic current")
    crossing = (np.pi / 2 / (1 - np.exp(-CONFIG.qif_duration))) ** 2
    assert np.all(first[weights < crossing] > CONFIG.qif_duration)
    assert np.all(first[weights > crossing] < CONFIG.qif_duration)


def test_lif_spike_exists_exactly_above_the_minimal_weight(results):
    first, weights = results.lif.first_spike_vs_weight, results.lif.weights
    assert np.all(np.isinf(first[weights < 4.0])) and np.all(np.isfinite(first[weights > 4.0]))
    assert np.all(first[np.isfinite(first)] < CONFIG.lif_duration)


@pytest.mark.parametrize("name", ["qif", "lif"])
def test_autodiff_derivative_matches_finite_differences(results, name):
    compared = results.sweeps(name).gradient_compared
    autodiff = results.sweeps(name).dt_dw_autodiff
    assert compared.sum() > 0.4 * len(compared)
    np.testing.assert_allclose(
        autodiff[compared], results.sweeps(name).dt_dw_numeric[compared], rtol=1e-3
    )
    assert results.summary(name).gradient_max_relative_error < 1e-3


def test_derivative_is_nan_exactly_where_the_lif_neuron_is_silent(results):
    autodiff = results.lif.dt_dw_autodiff
    silent = results.lif.gradient_weights < 4.0
    assert np.all(np.isnan(autodiff[silent])) and np.all(np.isfinite(autodiff[~silent]))
    assert np.all(np.isfinite(results.qif.dt_dw_autodiff))


def test_example_traces_spike_as_the_sweep_says(results):
    for name in ("qif", "lif"):
        spikes = results.sweeps(name).trace_spikes
        first = np.where(np.isfinite(spikes[:, 0]), spikes[:, 0], np.inf)
        examples = np.asarray(CONFIG.example_weights) * results.summary(name).w_min
        swept = np.interp(
            examples, results.sweeps(name).weights, results.sweeps(name).first_spike_vs_weight
        )
        duration = results.summary(name).duration
        ordinary = swept < duration
        np.testing.assert_allclose(first[ordinary], swept[ordinary], atol=1e-3)
        assert np.all(np.isinf(first[~ordinary]))
        assert results.sweeps(name).trace_voltage.shape == (len(examples), CONFIG.n_trace_points)


def test_largest_jump_counts_a_vanished_spike_as_the_trial_end():
    assert concept.largest_jump(np.array([0.5, 0.6, np.inf]), 3.0) == pytest.approx(2.4)
    assert concept.largest_jump(np.array([4.2, 4.0, 3.9]), 4.0) == pytest.approx(0.2)


def test_too_small_event_budget_raises():
    with pytest.raises(EventBudgetError, match="max_events=1"):
        concept.first_spike_sweep(QIF(), 4.0, 1, np.array([[5.0]]), np.array([[0.0]]))


def test_derivative_of_the_issue_row_matches_finite_differences():
    """dt_dw_autodiff(QIF(), 4.0, 1, [3, 10], 0.5) gave 1.9e-22 (true -1.62): one
    event cannot hold the input and the output spike. Now: an error naming max_events;
    with enough events, the central difference of the simulated spike time."""
    with pytest.raises(budget.EventBudgetError, match="max_events=1 ran out"):
        concept.dt_dw_autodiff(QIF(), 4.0, 1, [3, 10], 0.5)
    autodiff = concept.dt_dw_autodiff(QIF(), 4.0, 4, [3, 10], 0.5)

    def first_spike(w):
        return concept.first_spike_sweep(QIF(), 4.0, 4, np.array([[w]]), np.array([[0.5]]))[0]

    numeric = [(first_spike(w + 1e-6) - first_spike(w - 1e-6)) / 2e-6 for w in (3.0, 10.0)]
    np.testing.assert_allclose(autodiff, numeric, rtol=1e-6)
    assert autodiff[0] == pytest.approx(-1.6235, abs=1e-4)
    with pytest.raises(ValueError, match="weights must be a 1-D array"):
        concept.dt_dw_autodiff(QIF(), 4.0, 4, [[3.0]], 0.5)
    with pytest.raises(ValueError, match="max_events must be a positive integer"):
        concept.dt_dw_autodiff(QIF(), 4.0, 0, [3.0], 0.5)


def test_paper_comparison_rows(results):
    rows = concept.compare(results)
    assert [paper for _, paper, _ in rows[:4]] == ["continuous", "jumps", "continuous", "jumps"]
    assert rows[-1][2] == "4 τ, 3 τ"


def test_invalid_config_raises():
    with pytest.raises(ValueError, match="at least 3 points"):
        concept.ConceptConfig(n_weights=1)


def test_figure_redraws_from_saved_results(results, tmp_path):
    from snnlib.plotting import use_style
    from snnlib.plotting.concept import figure

    loaded = concept.ConceptResults.load(results.save(tmp_path / "concept"))
    assert loaded.config == results.config and loaded.lif_summary == results.lif_summary
    assert loaded.arrays.keys() == results.arrays.keys()
    for key, value in results.arrays.items():
        np.testing.assert_array_equal(loaded.arrays[key], value, err_msg=key)
    stored = Results.load(tmp_path / "concept")  # the file form: keys "{model}_{array}"
    np.testing.assert_array_equal(
        stored["qif_first_spike_vs_weight"], results.qif.first_spike_vs_weight
    )
    assert stored.metadata["qif_summary"]["w_min"] == results.qif_summary.w_min
    use_style()
    fig = figure(loaded, concept.figure_details(CONFIG))
    assert len(fig.axes) == 12
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. "constrained_layout not applied"
        fig.savefig(tmp_path / "concept.png")
