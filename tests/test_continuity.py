"""The paper's central claim, measured: QIF spike times are continuous, LIF ones jump."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import MODELS

from snnlib import first_spike_times, simulate

GRIDS = (1_000, 10_000, 100_000)


def first_spike_vs(model, duration, max_events, weights, times):
    """First spike time (ordinary or pseudo; T for a LIF neuron that stays silent) of a
    single neuron receiving input spikes of the given weights (G, M) at times (G, M)."""

    def one(w, t):
        events = simulate(
            model,
            jnp.zeros((1, 1)),
            w[None, :],
            t,
            jnp.arange(w.shape[0]),
            model.rest_state(1),
            duration,
            max_events=max_events,
        )
        return first_spike_times(model, events, [0])[0]

    first = np.asarray(jax.jit(jax.vmap(one))(weights, times))
    return np.where(np.isfinite(first), first, duration)


def weight_sweep(kind, points):
    model = MODELS[kind]
    duration, max_events = (4.0, 4) if kind == "qif" else (3.0, 5)
    w = np.linspace(0, 2 * model.min_spiking_input, points)
    return first_spike_vs(model, duration, max_events, w[:, None], np.zeros((points, 1))), duration


def inhibition_sweep(kind, points):
    model = MODELS[kind]
    duration, max_events = (4.0, 4) if kind == "qif" else (3.0, 5)
    w_min = model.min_spiking_input
    t_inh = np.linspace(0, duration, points)
    weights = np.tile([1.5 * w_min, -w_min], (points, 1))
    times = np.stack([np.full(points, 0.5), t_inh], axis=1)
    return first_spike_vs(model, duration, max_events, weights, times), duration


@pytest.mark.parametrize("sweep", [weight_sweep, inhibition_sweep])
def test_qif_spike_time_jumps_shrink_with_the_grid_step(sweep):
    jumps = [np.max(np.abs(np.diff(sweep("qif", points)[0]))) for points in GRIDS]
    # Lipschitz: the largest jump is proportional to the grid step (ratio 10 per grid)
    assert jumps[1] < 0.15 * jumps[0] and jumps[2] < 0.15 * jumps[1], jumps
    assert jumps[2] < 1e-3 * 4.0, jumps


@pytest.mark.parametrize("sweep", [weight_sweep, inhibition_sweep])
def test_lif_spike_time_jumps_by_order_one(sweep):
    jumps = []
    for points in GRIDS:
        first, duration = sweep("lif", points)
        jumps.append(np.max(np.abs(np.diff(first))))
    assert min(jumps) > 0.1 * duration, jumps  # a jump of order T that no grid resolves
    assert jumps[2] > 0.5 * jumps[0], jumps


def test_pseudospike_continues_a_spike_that_leaves_the_trial():
    """Bisect the weight at which the ordinary spike reaches T: on both sides the first
    (ordinary, then pseudo) spike time is within 1e-6 of T, and on both sides continuous."""
    model = MODELS["qif"]
    duration = 4.0

    def first(w):
        events = simulate(
            model,
            jnp.zeros((1, 1)),
            jnp.array([[w]]),
            jnp.array([0.0]),
            jnp.array([0]),
            model.rest_state(1),
            duration,
            max_events=4,
        )
        return float(first_spike_times(model, events, [0])[0]), int(events.n_events)

    low, high = model.min_spiking_input, 2 * model.min_spiking_input  # no spike / a spike
    assert first(low)[1] == 1 and first(high)[1] == 2
    for _ in range(100):
        middle = 0.5 * (low + high)
        if first(middle)[1] == 2:
            high = middle
        else:
            low = middle
    t_ordinary, t_pseudo = first(high)[0], first(low)[0]
    assert first(high)[1] == 2 and first(low)[1] == 1  # the two sides: ordinary, pseudo
    assert abs(t_ordinary - duration) < 1e-6 and abs(t_pseudo - duration) < 1e-6
    assert t_ordinary <= duration <= t_pseudo
