"""Bad input gets a clear error; results survive jit and vmap; dtypes are preserved."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import MODELS, random_network

from snnlib import (
    LIF,
    QIF,
    EventBudgetError,
    OscLIF,
    PseudodynamicsModel,
    Theta,
    check_event_budget,
    output_spike_times,
    simulate,
    spike_counts,
    state_trace,
)


@pytest.mark.parametrize(
    ("make", "parameter"),
    [
        (lambda: QIF(tau=-1.0), "tau"),
        (lambda: QIF(tau=float("nan")), "tau"),
        (lambda: QIF(alpha=0.0), "alpha"),
        (lambda: QIF(eps=0.1), "eps"),
        (lambda: LIF(v_th=0.0), "v_th"),
        (lambda: LIF(tau="fast"), "tau"),
        (lambda: Theta(current=0.2), "current"),
        (lambda: Theta(tau=0.0), "tau"),
        (lambda: OscLIF(current=0.5, v_th=1.0), "current"),
    ],
)
def test_invalid_neuron_parameters_name_the_parameter(make, parameter):
    with pytest.raises(ValueError, match=parameter):
        make()


def test_models_are_hashable_static_arguments():
    assert hash(QIF()) == hash(QIF(tau=1)) and QIF() == QIF(tau=1.0)
    assert len({QIF(), QIF(tau=2.0), Theta(), LIF(), OscLIF()}) == 5


def _args(n=3, n_in=2, m=4, dim=2):
    return [
        jnp.zeros((n, n)),
        jnp.zeros((n, n_in)),
        jnp.linspace(0.1, 1, m),
        jnp.zeros(m, int),
        jnp.zeros((dim, n)),
    ]


@pytest.mark.parametrize(
    ("position", "bad", "name"),
    [
        (0, jnp.zeros((3, 2)), "weights_net"),
        (1, jnp.zeros((2, 2)), "weights_in"),
        (2, jnp.zeros((4, 1)), "input_times"),
        (3, jnp.zeros(5, int), "input_neurons"),
        (4, jnp.zeros((1, 3)), "initial_state"),
    ],
)
def test_wrong_shapes_state_expected_and_actual(position, bad, name):
    args = _args()
    actual = tuple(bad.shape)
    args[position] = bad
    with pytest.raises(ValueError, match=rf"{name} has shape \({actual[0]}, ?.*expected"):
        simulate(QIF(), *args, 2.0, max_events=10)


def test_float_input_neurons_are_rejected():
    args = _args()
    args[3] = jnp.zeros(4)
    with pytest.raises(ValueError, match="input_neurons must be integers"):
        simulate(QIF(), *args, 2.0, max_events=10)


def _driven_qif():
    """A QIF neuron driven by 20 strong inputs: 20 input events and about 20 spikes."""
    times = jnp.linspace(0.1, 9.5, 20)
    return (
        QIF(),
        jnp.zeros((1, 1)),
        jnp.full((1, 1), 8.0),
        times,
        jnp.zeros(20, int),
        QIF().rest_state(1),
        10.0,
    )


def test_exhausted_event_budget_names_max_events_and_events_needed():
    model, *args = _driven_qif()
    enough = simulate(model, *args, max_events=200)
    assert not bool(enough.exhausted)
    needed = int(enough.n_events)
    assert needed > 25
    short = simulate(model, *args, max_events=10, throw=False)
    assert bool(short.exhausted) and int(short.n_events) == 10
    with pytest.raises(EventBudgetError, match=rf"max_events=10 .* needs {needed} events"):
        simulate(model, *args, max_events=10)
    exact = simulate(model, *args, max_events=needed)
    assert int(exact.n_events) == needed
    with pytest.raises(EventBudgetError, match="1 of 2 trials"):
        check_event_budget(
            jax.tree.map(lambda a, b: jnp.stack([a, b]), enough, enough)._replace(
                exhausted=jnp.array([False, True])
            )
        )


def test_jit_and_vmap_give_the_same_spikes_as_single_trials():
    rng = np.random.default_rng(1)
    model = MODELS["qif"]
    nets = [random_network(rng, "qif", n=5, n_in=3, duration=4.0) for _ in range(4)]
    m = max(len(net.input_times) for net in nets)
    batch = []
    for net in nets:
        pad = m - len(net.input_times)
        net.input_times = np.concatenate([net.input_times, np.full(pad, np.inf)])
        net.input_neurons = np.concatenate([net.input_neurons, np.zeros(pad, int)])
        batch.append(net.args())
    stacked = [jnp.stack(column) for column in zip(*batch, strict=True)]

    def times(*args):
        events = simulate(model, *args, max_events=150)
        return output_spike_times(model, events, jnp.arange(5), 3), events.exhausted

    batched, exhausted = jax.jit(jax.vmap(times))(*stacked)
    assert not np.any(exhausted)
    for i, args in enumerate(batch):
        single, _ = times(*args)
        np.testing.assert_allclose(batched[i], single, rtol=1e-12)


@pytest.mark.parametrize("kind", sorted(MODELS))
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_dtype_is_preserved(kind, dtype):
    rng = np.random.default_rng(2)
    model = MODELS[kind]
    net = random_network(rng, kind, n=4)
    events = simulate(model, *net.args(dtype), max_events=100)
    assert events.times.dtype == dtype and events.states.dtype == dtype
    assert events.final_state.dtype == dtype
    if isinstance(model, PseudodynamicsModel):
        times = output_spike_times(model, events, jnp.arange(4), 2)
        assert times.dtype == dtype and np.all(np.isfinite(times))


def test_float32_spike_times_agree_with_float64():
    rng = np.random.default_rng(3)
    for kind in ("qif", "theta"):
        model = MODELS[kind]
        net = random_network(rng, kind, n=6, duration=4.0)
        t64 = output_spike_times(
            model, simulate(model, *net.args(), max_events=200), jnp.arange(6), 3
        )
        t32 = output_spike_times(
            model, simulate(model, *net.args(jnp.float32), max_events=200), jnp.arange(6), 3
        )
        np.testing.assert_allclose(t32, t64, rtol=1e-4, atol=1e-4)


def test_state_trace_passes_through_the_event_states():
    model, *args = _driven_qif()
    events = simulate(model, *args, max_events=200)
    n = int(events.n_events)
    trace = state_trace(model, events, events.times[:n])
    np.testing.assert_allclose(trace, events.states[:n], rtol=1e-12)
    start = state_trace(model, events, jnp.array([0.0, 0.05]))
    np.testing.assert_allclose(start[0], events.initial_state)
    np.testing.assert_allclose(start[1], model.flow(events.initial_state, 0.05))
    end = state_trace(model, events, jnp.array([10.0]))
    np.testing.assert_allclose(end[0], events.final_state, rtol=1e-12)
    assert int(spike_counts(events, 1)[0]) == n - 20
