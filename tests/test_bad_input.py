"""Bad input never yields a plausible wrong number (issue 9, core rows).

One case per row: the exception type and that the message names the argument; NaN in an
input reaches the outputs it affects, and only those; exhausted budgets raise or give NaN.
"""

import gzip

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest
import reference as ref
from helpers import MODELS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snnlib import (
    LIF,
    QIF,
    EventBudgetError,
    EventBudgetWarning,
    Theta,
    output_spike_times,
    pseudo_rates,
    report_exhausted,
    simulate,
    state_trace,
)
from snnlib.data import mnist
from snnlib.feedforward import (
    as_recurrent,
    layer_output_times,
    simulate_feedforward,
    simulate_feedforward_batch,
    simulate_feedforward_generic,
)

MODEL = QIF()


def recurrent_args(n=2, n_in=3, m=3, dtype=jnp.float64):
    """Two unconnected QIF neurons; inputs from channel 0 onto neuron 0 only (both spike)."""
    weights_in = jnp.zeros((n, n_in), dtype).at[0, 0].set(8.0).at[1, 1].set(8.0)
    times = jnp.asarray([0.5, 1.0, 2.0][:m], dtype)
    channels = jnp.asarray([0, 1, 0][:m])
    return [jnp.zeros((n, n), dtype), weights_in, times, channels, jnp.zeros((2, n), dtype), 4.0]


def call(args, **changes):
    names = [
        "weights_net",
        "weights_in",
        "input_times",
        "input_neurons",
        "initial_state",
        "duration",
    ]
    max_events = changes.pop("max_events", 40)
    values = dict(zip(names, args, strict=True)) | changes
    return simulate(MODEL, *values.values(), max_events=max_events)


# --- errors naming the argument --------------------------------------------------------


@pytest.mark.parametrize("channels", [[0, 5, 0], [0, -1, 0], [-4, 0, 0]])
def test_input_neurons_out_of_range(channels):
    with pytest.raises(ValueError, match=r"input_neurons holds channel -?\d.*3 input channels"):
        call(recurrent_args(), input_neurons=jnp.asarray(channels))


def test_input_neurons_out_of_range_under_jit_gives_nan():
    args = recurrent_args()

    def final(channels):
        return simulate(MODEL, *args[:3], channels, *args[4:], 40).final_state

    clean = jax.jit(final)(jnp.asarray([0, 1, 0]))
    assert np.all(np.isfinite(clean))
    bad = jax.jit(final)(jnp.asarray([0, 5, 0]))
    assert np.all(np.isnan(bad))  # the channel's targets are unknown: every neuron


@pytest.mark.parametrize(
    ("change", "name"),
    [
        ({"duration": -1.0}, "duration"),
        ({"duration": jnp.array([1.0, 2.0])}, "duration"),
        ({"duration": float("nan")}, "duration"),
        ({"max_events": -3}, "max_events"),
        ({"max_events": 2.5}, "max_events"),
        ({"max_events": 0}, "max_events"),
        ({"initial_state": jnp.zeros((2, 2), int)}, "initial_state"),
        (
            {
                "weights_net": jnp.zeros((0, 0)),
                "weights_in": jnp.zeros((0, 3)),
                "initial_state": jnp.zeros((2, 0)),
            },
            "at least one neuron",
        ),
    ],
)
def test_bad_scalars_and_sizes_name_the_argument(change, name):
    with pytest.raises(ValueError, match=name):
        call(recurrent_args(), **change)


def test_negative_duration_under_jit_gives_nan():
    args = recurrent_args()
    events = jax.jit(lambda d: simulate(MODEL, *args[:5], d, 40))(-1.0)
    assert np.all(np.isnan(output_spike_times(MODEL, events, [0, 1], 1)))


def test_output_spike_times_neuron_out_of_range():
    events = call(recurrent_args())
    with pytest.raises(ValueError, match=r"neurons holds index 5.*2 neurons"):
        output_spike_times(MODEL, events, [0, 5], 1)
    traced = jax.jit(lambda i: output_spike_times(MODEL, events, i, 1))(jnp.array([0, 5]))
    assert np.isfinite(traced[0, 0]) and np.isnan(traced[1, 0])


def test_models_without_pseudodynamics():
    """LIF: missing spikes are +inf in output_spike_times; pseudo rates are a TypeError."""
    events = simulate(LIF(), *recurrent_args(), 40)
    assert np.all(np.isposinf(output_spike_times(LIF(), events, [0, 1], 20)[:, -1]))
    with pytest.raises(TypeError, match="LIF has no pseudodynamics"):
        pseudo_rates(LIF(), events.final_state)


def test_qif_eps_must_be_representable_in_the_state_dtype():
    args = recurrent_args(dtype=jnp.float32)
    with pytest.raises(ValueError, match=r"eps=1e-40 .* float32"):
        simulate(QIF(eps=1e-40), *args, 40)
    simulate(QIF(eps=1e-40), *recurrent_args(dtype=jnp.float64), 40)  # fine in float64


def feedforward_args(kind="theta"):
    """A theta network 2 -> 3 -> 2: weights, input times and channels, initial states."""
    weights = [jnp.full((3, 2), 2.0), jnp.full((2, 3), 1.0)]
    return (
        weights,
        jnp.array([0.1, 0.4]),
        jnp.array([0, 1]),
        [jnp.full((1, 3), 1.0), jnp.full((1, 2), 1.0)],
    )


@pytest.mark.parametrize(
    ("layer", "array", "bad", "pattern"),
    [
        (
            1,
            "weights",
            jnp.ones((2, 2)),
            r"layer 2: weights\[1\] has shape \(2, 2\), expected \(2, 3\)",
        ),
        (
            1,
            "weights",
            jnp.ones((2, 4)),
            r"layer 2: weights\[1\] has shape \(2, 4\), expected \(2, 3\)",
        ),
        (
            0,
            "states",
            jnp.ones((2, 3)),
            r"layer 1: initial_states\[0\] has shape \(2, 3\), "
            r"expected \(1, 3\)",
        ),
        (0, "states", jnp.ones((1, 3), int), r"layer 1: initial_states\[0\] must be floating"),
    ],
)
def test_feedforward_shape_mismatch_names_layer_array_and_shapes(layer, array, bad, pattern):
    weights, times, channels, states = feedforward_args()
    (weights if array == "weights" else states)[layer] = bad
    with pytest.raises(ValueError, match=pattern):
        simulate_feedforward(Theta(), weights, times, channels, states, 2.0, 2)


@pytest.mark.parametrize(
    ("change", "name"),
    [
        ({"channels": jnp.array([0, 2])}, "input_neurons holds channel 2"),
        ({"duration": -2.0}, "duration"),
        ({"max_spikes": 0}, "max_spikes"),
    ],
)
def test_feedforward_bad_values_name_the_argument(change, name):
    weights, times, channels, states = feedforward_args()
    channels = change.get("channels", channels)
    with pytest.raises(ValueError, match=name):
        simulate_feedforward(
            Theta(),
            weights,
            times,
            channels,
            states,
            change.get("duration", 2.0),
            change.get("max_spikes", 2),
        )


# --- NaN propagates to the affected outputs only ---------------------------------------


def first_spikes(events):
    return np.asarray(output_spike_times(MODEL, events, [0, 1], 2))


def test_nan_input_time_initial_state_and_weight_reach_the_affected_neuron_only():
    args = recurrent_args()
    clean = first_spikes(call(args))
    assert np.all(np.isfinite(clean))
    cases = {
        "input time": {"input_times": args[2].at[0].set(jnp.nan)},  # channel 0 -> neuron 0
        "initial V": {"initial_state": args[4].at[0, 0].set(jnp.nan)},
        "input weight": {"weights_in": args[1].at[0, 0].set(jnp.nan)},
        "recurrent weight": {"weights_net": args[0].at[0, 1].set(jnp.nan)},
    }
    for what, change in cases.items():
        spikes = first_spikes(call(args, **change))
        assert np.all(np.isnan(spikes[0])), what
        # neuron 0's events no longer split neuron 1's flow: equal up to rounding
        np.testing.assert_allclose(spikes[1], clean[1], rtol=1e-13, err_msg=what)


def test_nan_spreads_through_recurrent_weights():
    args = recurrent_args()
    coupled = args[0].at[1, 0].set(0.5)  # neuron 0 -> neuron 1
    spikes = first_spikes(
        call(args, weights_net=coupled, initial_state=args[4].at[0, 0].set(jnp.nan))
    )
    assert np.all(np.isnan(spikes))


def test_nan_weight_in_feedforward_reaches_its_target_and_downstream_only():
    weights, times, channels, states = feedforward_args()
    weights[1] = weights[1].at[0, 1].set(0.0).at[0, 2].set(0.0)  # output 0 sees hidden 0 only
    clean = simulate_feedforward(Theta(), weights, times, channels, states, 8.0, 3)
    weights[0] = weights[0].at[2, 0].set(jnp.nan)  # onto hidden neuron 2
    layers = simulate_feedforward(Theta(), weights, times, channels, states, 8.0, 3)
    hidden, output = np.asarray(layers[0].times), np.asarray(layers[1].times)
    assert np.all(np.isnan(hidden[2])) and np.all(np.isnan(output[1]))
    np.testing.assert_array_equal(hidden[:2], clean[0].times[:2])
    np.testing.assert_array_equal(output[0], clean[1].times[0])
    assert np.isfinite(output[0, 0])


# --- budgets ---------------------------------------------------------------------------


def test_exhausted_trials_give_nan_readouts_not_plausible_numbers():
    args = recurrent_args()
    with pytest.raises(EventBudgetError, match=r"max_events=3 .* needs \d+ events; pass"):
        call(args, max_events=3)
    events = simulate(MODEL, *args, 3, throw=False)
    assert bool(events.exhausted)
    times = np.asarray(output_spike_times(MODEL, events, [0, 1], 3))
    assert np.all(np.isnan(times[1]))  # neuron 1 spikes after the third event: unknown
    assert np.all(np.isfinite(times[0, :1]))  # a spike before the budget ran out is known
    grid = jnp.array([0.0, float(events.times[-1]), 3.9])
    trace = np.asarray(state_trace(MODEL, events, grid))
    assert np.all(np.isfinite(trace[:2])) and np.all(np.isnan(trace[2]))


def test_runaway_network_stops_at_the_search_cap():
    args = recurrent_args()
    runaway = args[0].at[0, 0].set(jnp.inf)  # neuron 0 excites itself without bound
    with pytest.raises(EventBudgetError, match=r"stopped at its cap of 640 events"):
        call(args, weights_net=runaway, max_events=10)


def test_exhausted_feedforward_layers_raise_or_give_nan():
    weights, times, channels, states = feedforward_args()
    with pytest.raises(EventBudgetError, match=r"max_spikes=\[1, 1\].*pass a larger max_spikes"):
        simulate_feedforward(Theta(), weights, times, channels, states, 8.0, 1)
    layers = simulate_feedforward(Theta(), weights, times, channels, states, 8.0, 1, throw=False)
    assert bool(layers[1].exhausted)
    assert np.all(np.isnan(layer_output_times(Theta(), layers[1], 8.0, 1)))


def test_report_exhausted_warns_once_with_the_count():
    with pytest.warns(EventBudgetWarning, match=r"epoch 3: max_spikes=2 ran out .* 4 of 100"):
        report_exhausted(4, 100, "epoch 3", "max_spikes=2")
    report_exhausted(0, 100, "epoch 4", "max_spikes=2")  # silent


# --- QIF pseudospikes under strong inhibition ------------------------------------------


def exact_first_pseudospike(v: float, current: float, model: QIF = MODEL):
    """(t_1 - T, d t_1/dV, d t_1/dI) with 50 digits: tau (pi/2 - arctan((V - 1/2)/r))/r."""

    def time(v, current):
        root = mpmath.sqrt(model.alpha * mpmath.log1p(mpmath.exp(current / model.alpha)))
        return model.tau * mpmath.atan2(root, v - mpmath.mpf(1) / 2) / root

    with mpmath.workdps(50):
        value = time(mpmath.mpf(v), mpmath.mpf(current))
        if value > 1e300:
            return value, None, None
    digits = 50 + max(0, int(mpmath.log10(value)))  # resolve d/dV against a huge time
    with mpmath.workdps(digits):
        v, current = mpmath.mpf(v), mpmath.mpf(current)
        return (
            value,
            mpmath.diff(lambda x: time(x, current), v),
            mpmath.diff(lambda x: time(v, x), current),
        )


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
@pytest.mark.parametrize("current", [-1e2, -1e3, -1e4, -1e5, -1e6, -1e8])
@pytest.mark.parametrize("voltage", [2.0, 0.7, -3.0])
def test_qif_pseudospike_under_strong_inhibition(dtype, current, voltage):
    state = jnp.asarray([[voltage], [current]], dtype)

    def first(state):
        return MODEL.pseudospike_times(state, 0.0, 1)[0, 0]

    time, grad = first(state), jax.grad(first)(state)
    rate = MODEL.pseudo_rate(state)[0]
    assert np.all(np.isfinite(grad)) and 0 <= float(rate) <= 1
    exact, d_v, d_i = exact_first_pseudospike(voltage, current)
    if exact > np.finfo(dtype).max / 10:  # not representable: +inf, and a zero gradient
        assert np.isposinf(time) and np.all(np.asarray(grad) == 0)
        return
    tolerance = {jnp.float32: 2e-5, jnp.float64: 1e-12}[dtype]
    assert abs(float(time) - float(exact)) <= tolerance * float(exact)
    for value, reference in ((grad[0, 0], d_v), (grad[1, 0], d_i)):
        assert (
            abs(float(value) - float(reference)) <= 1e3 * tolerance * abs(float(reference)) + 1e-30
        )


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_mutual_inhibition_gives_finite_gradients(dtype):
    weights_net = jnp.asarray([[0.0, -1e6], [-1e6, 0.0]], dtype)
    weights_in = jnp.asarray([[6.0], [5.0]], dtype)

    def loss(weights_net, weights_in):
        events = simulate(
            MODEL,
            weights_net,
            weights_in,
            jnp.asarray([0.1], dtype),
            jnp.array([0]),
            jnp.zeros((2, 2), dtype),
            3.0,
            20,
        )
        times = output_spike_times(MODEL, events, [0, 1], 1)
        return jnp.sum(jnp.where(jnp.isfinite(times), times, 0.0)), times

    (value, times), grads = jax.value_and_grad(loss, (0, 1), has_aux=True)(weights_net, weights_in)
    assert not np.any(np.isnan(times)) and np.isfinite(value)
    assert all(np.all(np.isfinite(g)) for g in grads)


# --- MNIST files ------------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["truncated", "random", "empty"])
def test_corrupt_mnist_gz_names_the_file_and_the_fix(tmp_path, damage):
    name = "t10k-labels-idx1-ubyte.gz"
    content = gzip.compress(b"\0\0\x08\x01" + (10).to_bytes(4, "big") + bytes(10))
    data = {
        "truncated": content[: len(content) // 2],
        "random": bytes(range(256)) * 4,
        "empty": b"",
    }[damage]
    (tmp_path / name).write_bytes(data)
    with pytest.raises(mnist.ChecksumError, match=rf"{name}.*delete it"):
        mnist.mnist_file(name, tmp_path, allow_download=False)


# --- property: every public simulator raises or agrees with the ODE reference ----------


def network_spikes(events):
    """Ordinary network spike (times, neurons) of one trial."""
    network = ~np.asarray(events.is_input) & (np.asarray(events.neuron) >= 0)
    return np.asarray(events.times)[network], np.asarray(events.neuron)[network]


def agree(times, neurons, t_ref, n_ref, duration, tolerance=1e-6):
    """Same spikes (those clearly before T) as the reference, neuron by neuron."""
    for neuron in np.union1d(neurons, n_ref):
        ours = np.sort(times[(neurons == neuron) & (times < duration - 1e-5)])
        theirs = np.sort(t_ref[(n_ref == neuron) & (t_ref < duration - 1e-5)])
        assert ours.shape == theirs.shape, (neuron, ours, theirs)
        np.testing.assert_allclose(ours, theirs, atol=tolerance)


@settings(
    max_examples=12, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    kind=st.sampled_from(["qif", "theta"]),
    seed=st.integers(0, 2**16),
    duration=st.sampled_from([4.0, 2.0, -1.0]),
    max_events=st.sampled_from([200, 4]),
)
def test_property_simulate_raises_or_matches_the_ode_reference(kind, seed, duration, max_events):
    rng = np.random.default_rng(seed)
    model = MODELS[kind]
    n, n_in, m = 3, 2, 4
    weights_net = rng.normal(0, 1.0, (n, n))
    weights_in = rng.normal(2.0, 2.0, (n, n_in))
    times, channels = np.sort(rng.uniform(0, 4, m)), rng.integers(0, n_in, m)
    if kind == "theta":
        state = rng.uniform(0, model.period, (1, n))
    else:
        state = np.stack([rng.uniform(-1.0, 0.8, n), rng.normal(0, 1.0, n)])
    try:
        events = simulate(
            model, weights_net, weights_in, times, channels, state, duration, max_events
        )
    except ValueError as error:  # EventBudgetError is a ValueError
        assert duration < 0 or isinstance(error, EventBudgetError), error
        return
    assert duration >= 0
    t_ref, n_ref, _ = ref.network_reference(
        kind,
        weights_net,
        weights_in,
        times,
        channels,
        state[0],
        None if kind == "theta" else state[1],
        duration,
        tau=model.tau,
        I_const=getattr(model, "current", None),
    )
    agree(*network_spikes(events), t_ref, n_ref, duration)


@settings(
    max_examples=6, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    seed=st.integers(0, 2**16),
    max_spikes=st.sampled_from([6, 1]),
    simulator=st.sampled_from(["layered", "batch", "generic"]),
)
def test_property_feedforward_raises_or_matches_the_ode_reference(seed, max_spikes, simulator):
    rng = np.random.default_rng(seed)
    model = MODELS["theta"]
    weights = [rng.normal(1.0, 1.5, (3, 2)), rng.normal(1.0, 1.5, (2, 3))]
    states = [rng.uniform(0, model.period, (1, 3)), rng.uniform(0, model.period, (1, 2))]
    times, channels, duration = rng.uniform(0, 4, 4), rng.integers(0, 2, 4), 4.0
    run = {
        "layered": lambda: simulate_feedforward(
            model, weights, times, channels, states, duration, max_spikes
        ),
        "batch": lambda: tuple(
            jax.tree.map(lambda a: a[0], layer)
            for layer in simulate_feedforward_batch(
                model, weights, times[None], channels[None], states, duration, max_spikes
            )
        ),
        "generic": lambda: simulate_feedforward_generic(
            model, weights, times, channels, states, duration, max_spikes, 200
        ),
    }[simulator]
    try:
        layers = run()
    except EventBudgetError:
        return
    weights_net, weights_in, initial_state = as_recurrent(weights, states)
    t_ref, n_ref, _ = ref.network_reference(
        "theta",
        np.asarray(weights_net),
        np.asarray(weights_in),
        times,
        channels,
        np.asarray(initial_state[0]),
        None,
        duration,
        tau=model.tau,
        I_const=model.current,
    )
    ours_t, ours_n = [], []
    for offset, layer in zip((0, 3), layers, strict=True):
        spikes = np.asarray(layer.times)
        rows, _ = np.nonzero(np.isfinite(spikes))
        ours_t.append(spikes[np.isfinite(spikes)])
        ours_n.append(rows + offset)
    assert all(np.all(np.asarray(layer.counts) <= max_spikes) for layer in layers)
    agree(np.concatenate(ours_t), np.concatenate(ours_n), t_ref, n_ref, duration)


# --- issue 18, family 2: initial states, dtypes, batches -------------------------------


def test_qif_initial_state_at_its_reset_value_is_the_state_right_after_a_spike():
    """V = -inf is where QIF's reset puts a neuron (as -1/eps): a valid start, not NaN."""
    args = recurrent_args()
    reset = call(args, initial_state=args[4].at[0, 0].set(-jnp.inf))
    stand_in = call(args, initial_state=args[4].at[0, 0].set(-MODEL.v_infinity))
    assert np.all(np.isfinite(first_spikes(reset)))
    np.testing.assert_array_equal(first_spikes(reset), first_spikes(stand_in))
    assert float(reset.initial_state[0, 0]) == -MODEL.v_infinity


@pytest.mark.parametrize(("row", "value"), [(0, jnp.inf), (1, jnp.inf), (1, -jnp.inf)])
def test_qif_infinite_initial_states_are_refused_or_nan_under_jit(row, value):
    args = recurrent_args()
    bad = args[4].at[row, 0].set(value)
    with pytest.raises(ValueError, match=r"initial_state: neuron 0 starts at V = .*finite I"):
        call(args, initial_state=bad)
    traced = jax.jit(lambda s: simulate(MODEL, *args[:4], s, 4.0, 40))(bad)
    spikes = first_spikes(traced)
    assert np.all(np.isnan(spikes[0])) and np.all(np.isfinite(spikes[1]))


@pytest.mark.parametrize("phase", [-0.5, 6.5, jnp.inf])
def test_theta_phase_outside_zero_to_period_is_refused_or_nan_under_jit(phase):
    model = Theta()
    args = recurrent_args()
    state = jnp.asarray([[phase, 1.0]])
    with pytest.raises(
        ValueError,
        match=r"initial_state: neuron 0 has phase .* outside "
        r"\[0, Theta\] = \[0, 6\]",
    ):
        simulate(model, *args[:4], state, 4.0, 40)
    events = jax.jit(lambda s: simulate(model, *args[:4], s, 4.0, 40))(state)
    spikes = np.asarray(output_spike_times(model, events, [0, 1], 1))
    assert np.isnan(spikes[0, 0]) and np.isfinite(spikes[1, 0])
    weights, times, channels, states = feedforward_args()
    states[0] = states[0].at[0, 1].set(phase)
    with pytest.raises(ValueError, match=r"layer 1: initial_states\[0\]: neuron 1 has phase"):
        simulate_feedforward(model, weights, times, channels, states, 2.0, 2)


def test_theta_phases_at_the_ends_of_the_range_are_valid():
    model = Theta()
    args = recurrent_args()
    events = simulate(model, *args[:4], jnp.asarray([[0.0, model.period]]), 4.0, 40)
    assert np.all(np.isfinite(output_spike_times(model, events, [0, 1], 1)))


@pytest.mark.parametrize(
    "name", ["weights_net", "weights_in", "input_times", "initial_state", "duration"]
)
def test_complex_arguments_are_refused_naming_the_argument(name):
    args = recurrent_args()
    position = [
        "weights_net",
        "weights_in",
        "input_times",
        "input_neurons",
        "initial_state",
        "duration",
    ].index(name)
    value = jnp.asarray(args[position]) + 0j
    with pytest.raises(ValueError, match=rf"simulate: {name} must be real"):
        call(args, **{name: value})


def test_complex_feedforward_weights_and_times_are_refused():
    weights, times, channels, states = feedforward_args()
    with pytest.raises(ValueError, match=r"layer 2: weights\[1\] must be real"):
        simulate_feedforward(
            Theta(), [weights[0], weights[1] + 0j], times, channels, states, 2.0, 2
        )
    with pytest.raises(ValueError, match="input_times must be real"):
        simulate_feedforward(Theta(), weights, times + 0j, channels, states, 2.0, 2)


def test_feedforward_batch_empty_or_of_mismatched_sizes_names_the_argument():
    weights, times, channels, states = feedforward_args()
    batch = jnp.stack([times, times, times])
    with pytest.raises(ValueError, match=r"the batch is empty; pass at least one trial"):
        simulate_feedforward_batch(Theta(), weights, batch[:0], channels[None][:0], states, 2.0, 2)
    with pytest.raises(
        ValueError,
        match=r"input_neurons has shape \(2, 2\), a batch of 2 "
        r"trials, but input_times has 3",
    ):
        simulate_feedforward_batch(
            Theta(), weights, batch, jnp.stack([channels] * 2), states, 2.0, 2
        )
    with pytest.raises(ValueError, match=r"weights\[1\] has shape \(2, 2, 3\), a batch of 2"):
        simulate_feedforward_batch(
            Theta(), [weights[0], jnp.stack([weights[1]] * 2)], batch, channels, states, 2.0, 2
        )
    with pytest.raises(ValueError, match=r"initial_states\[0\] has shape \(4, 1, 3\)"):
        simulate_feedforward_batch(
            Theta(), weights, batch, channels, [jnp.stack([states[0]] * 4), states[1]], 2.0, 2
        )
