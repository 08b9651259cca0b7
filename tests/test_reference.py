"""Closed forms and whole networks against high-precision numerical ODE integration.

The reference (tests/reference.py) integrates each model with solve_ivp (DOP853,
rtol = atol = 1e-12, event detection), the QIF in the angle variable arctan(V - 1/2).
"""

import jax.numpy as jnp
import numpy as np
import pytest
import reference as ref
from helpers import MODELS, random_network

from snnlib import LIF, QIF, OscLIF, Theta, ordinary_spike_times, simulate

N_STATES = 200
TOLERANCE = {jnp.float64: 1e-8, jnp.float32: 1e-4}
QIF_MODEL = QIF(tau=1.0)


def relative_error(value, reference):
    return np.abs(value - reference) / np.maximum(np.abs(reference), 1.0)


def qif_states(branch: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """N_STATES random (V, I) in one branch of the closed-form table."""
    n = N_STATES
    if branch == "I>0":
        return rng.uniform(-4, 3, n), rng.uniform(0.01, 6, n)
    if branch == "I=0":
        return rng.uniform(-4, 3, n), np.zeros(n)
    current = -rng.uniform(0.01, 6, n)
    s = np.sqrt(-current)
    sign = rng.choice([-1.0, 1.0], n)
    if branch == "I<0, |V|>s":
        return sign * s * rng.uniform(1.01, 4, n), current
    if branch == "I<0, |V|<s":
        return s * rng.uniform(-0.99, 0.99, n), current
    return sign * s, current  # |V| = s


QIF_BRANCHES = ["I>0", "I=0", "I<0, |V|>s", "I<0, |V|<s", "I<0, |V|=s"]


@pytest.fixture(scope="module")
def qif_cases():
    """Per branch: states, time steps (before any spike), reference V and spike times."""
    rng = np.random.default_rng(0)
    cases = {}
    for branch in QIF_BRANCHES:
        v, current = qif_states(branch, rng)
        to_spike = ref.qif_time_to_spike(v, current, 1.0)
        dt = rng.uniform(0.05, 1.0, N_STATES) * np.minimum(0.95 * to_spike, 3.0)
        v_ref, i_ref = ref.qif_flow(v, current, dt, 1.0)
        cases[branch] = (v, current, dt, v_ref, i_ref, to_spike)
    return cases


@pytest.mark.parametrize("dtype", [jnp.float64, jnp.float32])
@pytest.mark.parametrize("branch", QIF_BRANCHES)
def test_qif_flow_matches_ode(qif_cases, branch, dtype):
    v, current, dt, v_ref, i_ref, _ = qif_cases[branch]
    state = jnp.asarray(np.stack([v, current]), dtype)
    if branch == "I<0, |V|=s":  # exactly on the branch boundary in the working precision
        state = state.at[0].set(jnp.sign(state[0]) * jnp.sqrt(-state[1]))
        v_ref, i_ref = ref.qif_flow(
            np.asarray(state[0], float), np.asarray(state[1], float), dt, 1.0
        )
    flowed = np.asarray(QIF_MODEL.flow(state, jnp.asarray(dt, dtype)), np.float64)
    assert flowed.dtype == np.float64 and np.all(np.isfinite(flowed))
    assert np.max(relative_error(flowed[0], v_ref)) < TOLERANCE[dtype]
    assert np.max(relative_error(flowed[1], i_ref)) < TOLERANCE[dtype]


@pytest.mark.parametrize("dtype", [jnp.float64, jnp.float32])
@pytest.mark.parametrize("branch", QIF_BRANCHES)
def test_qif_time_to_spike_matches_ode(qif_cases, branch, dtype):
    v, current, _, _, _, to_spike = qif_cases[branch]
    closed = np.asarray(
        QIF_MODEL.time_to_next_spike(jnp.asarray(np.stack([v, current]), dtype)), np.float64
    )
    spikes = np.isfinite(to_spike)
    if dtype == jnp.float32:  # ill-conditioned near "spikes after a very long time"
        spikes &= to_spike < 10
        np.testing.assert_array_equal(np.isfinite(closed)[to_spike < 10], spikes[to_spike < 10])
    else:
        np.testing.assert_array_equal(np.isfinite(closed), spikes)
    if branch in ("I>0", "I=0", "I<0, |V|>s"):
        assert spikes.sum() > 20, "the branch should contain spiking states"
    assert np.max(relative_error(closed[spikes], to_spike[spikes]), initial=0) < TOLERANCE[dtype]


@pytest.mark.parametrize("dtype", [jnp.float64, jnp.float32])
def test_lif_flow_and_time_to_spike_match_ode(dtype):
    rng = np.random.default_rng(1)
    model = LIF(tau=1.0)
    v, current = rng.uniform(-1, 0.99, N_STATES), rng.uniform(-3, 8, N_STATES)
    to_spike = ref.lif_time_to_spike(v, current, 1.0)
    state = jnp.asarray(np.stack([v, current]), dtype)
    closed = np.asarray(model.time_to_next_spike(state), np.float64)
    spikes = np.isfinite(to_spike)
    assert 20 < spikes.sum() < N_STATES - 20
    decisive = np.abs(current * (v + current) ** 2 - 4 * current**2) > 1e-3  # not tangent
    np.testing.assert_array_equal(np.isfinite(closed)[decisive], spikes[decisive])
    both = spikes & np.isfinite(closed)
    assert np.max(relative_error(closed[both], to_spike[both])) < TOLERANCE[dtype]
    dt = rng.uniform(0.05, 1.0, N_STATES) * np.minimum(0.95 * to_spike, 3.0)
    v_ref, i_ref = ref.lif_flow(v, current, dt, 1.0)
    flowed = np.asarray(model.flow(state, jnp.asarray(dt, dtype)), np.float64)
    assert np.max(relative_error(flowed[0], v_ref)) < TOLERANCE[dtype]
    assert np.max(relative_error(flowed[1], i_ref)) < TOLERANCE[dtype]


PHASE_MODELS = {  # model, reference H, weight scale, reference voltage (None: skip)
    "theta": (Theta(tau=6 / np.pi, current=1.25), ref.theta_phase_transfer, 2.0, ref.theta_voltage),
    "osc_lif": (OscLIF(tau=1.0, current=2.0), ref.osc_lif_phase_transfer, 0.5, None),
}


@pytest.mark.parametrize("dtype", [jnp.float64, jnp.float32])
@pytest.mark.parametrize("kind", sorted(PHASE_MODELS))
def test_phase_transfer_matches_ode(kind, dtype):
    model, reference_transfer, scale, reference_voltage = PHASE_MODELS[kind]
    rng = np.random.default_rng({"theta": 2, "osc_lif": 3}[kind])
    phase = rng.uniform(0, model.period, N_STATES)
    weight = rng.normal(0, scale, N_STATES)
    expected = reference_transfer(phase, weight, model.tau, model.current)
    closed = np.asarray(
        model.phase_transfer(jnp.asarray(phase, dtype), jnp.asarray(weight, dtype)), np.float64
    )
    assert np.max(relative_error(closed, expected)) < TOLERANCE[dtype]
    if reference_voltage is not None:
        voltage = np.asarray(model.voltage(jnp.asarray(phase[None], dtype)), np.float64)
        assert (
            np.max(relative_error(voltage, reference_voltage(phase, model.tau, model.current)))
            < 10 * TOLERANCE[dtype]
        )
    else:
        assert abs(model.period - ref.osc_lif_period(model.tau, model.current)) < 1e-9


def network_spikes(kind, net, max_events=600):
    """All network spike times and neurons of one trial of snnlib's simulator."""
    model = MODELS[kind]
    events = simulate(model, *net.args(), max_events=max_events)
    assert not bool(events.exhausted)
    network = ~np.asarray(events.is_input) & (np.asarray(events.neuron) >= 0)
    return (
        np.asarray(events.times)[network],
        np.asarray(events.neuron)[network],
        np.asarray(events.final_state),
        events,
    )


@pytest.mark.parametrize("kind", ["qif", "lif", "theta"])
@pytest.mark.parametrize("seed", range(3))
def test_network_spike_times_match_ode(kind, seed):
    rng = np.random.default_rng(10 + seed)
    n = int(rng.integers(5, 21))
    net = random_network(
        rng, kind, n=n, n_in=4, duration=5.0, w_net={"qif": 1.0, "lif": 0.3, "theta": 0.5}[kind]
    )
    model = MODELS[kind]
    v0 = net.initial_state[0]
    i0 = None if kind == "theta" else net.initial_state[1]
    t_ref, n_ref, final_ref = ref.network_reference(
        kind,
        net.weights_net,
        net.weights_in,
        net.input_times,
        net.input_neurons,
        v0,
        i0,
        net.duration,
        tau=model.tau,
        I_const=getattr(model, "current", None),
    )
    times, neurons, final, events = network_spikes(kind, net)
    assert len(t_ref) >= 5, "the test network should spike"
    assert len(times) == len(t_ref)
    np.testing.assert_array_equal(neurons, n_ref)
    assert np.max(np.abs(times - t_ref)) < 1e-6
    # the per-neuron view agrees too
    per_neuron = ordinary_spike_times(events, jnp.arange(n), 3)
    for i in range(n):
        expected = t_ref[n_ref == i][:3]
        np.testing.assert_allclose(per_neuron[i, : len(expected)], expected, atol=1e-6)
    if kind == "theta":
        assert np.max(np.abs(final - final_ref)) < 1e-6
