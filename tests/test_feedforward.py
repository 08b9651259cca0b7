"""The layered feed-forward simulator against the generic one: spike times, states, gradients."""

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import MODELS

from snnlib import EventBudgetError, simulate
from snnlib.feedforward import (
    as_recurrent,
    check_spike_budget,
    feedforward_pseudo_inputs,
    layer_output_times,
    simulate_feedforward,
    simulate_feedforward_batch,
    simulate_feedforward_generic,
)

SIZES = (3, 6, 5, 4)  # input channels, then three layers
DURATION = {"theta": 4.0, "osc_lif": 1.0, "qif": 4.0, "lif": 4.0}
TOLERANCE = {jnp.float64: 1e-9, jnp.float32: 1e-5}
MAX_SPIKES = 4


def random_feedforward(rng, kind, sizes=SIZES, n_inputs=6, dtype=jnp.float64):
    """Weights, input spikes and initial states of a random feed-forward network."""
    model = MODELS[kind]
    duration = DURATION[kind]
    scale = {"theta": 1.5, "osc_lif": 0.2, "qif": 3.0, "lif": 2.0}[kind]
    weights = [
        jnp.asarray(rng.normal(0.5 * scale, scale, (n, m)), dtype)
        for m, n in zip(sizes[:-1], sizes[1:], strict=True)
    ]
    if model.state_dim == 1:
        states = [rng.uniform(0, model.period, (1, n)) for n in sizes[1:]]
    else:
        states = [np.stack([rng.uniform(-1.0, 0.8, n), rng.normal(0, 1.0, n)]) for n in sizes[1:]]
    times = jnp.asarray(rng.uniform(0, duration, n_inputs), dtype)
    channels = jnp.asarray(rng.integers(0, sizes[0], n_inputs))
    return model, weights, times, channels, [jnp.asarray(s, dtype) for s in states], duration


def output_loss(model, weights, layers, duration):
    """A scalar of all spike times: first output spikes (with pseudospikes) and the
    ordinary hidden spikes."""
    pseudo = feedforward_pseudo_inputs(model, weights, layers)
    total = jnp.sum(layer_output_times(model, layers[-1], duration, 2, pseudo[-1]))
    for layer in layers[:-1]:
        total += jnp.sum(jnp.where(jnp.isfinite(layer.times), layer.times, 0.0))
    return total


@pytest.mark.parametrize(
    ("kind", "dtype"),
    [
        ("theta", jnp.float64),
        ("theta", jnp.float32),
        ("qif", jnp.float64),
        ("osc_lif", jnp.float64),
        ("lif", jnp.float64),
    ],
)
def test_same_spikes_as_the_generic_simulator(kind, dtype):
    rng = np.random.default_rng(7)
    n_spikes = n_compared = 0
    tolerance = TOLERANCE[dtype]
    for _ in range(4):
        model, weights, times, channels, states, duration = random_feedforward(rng, kind)
        cast = [[jnp.asarray(a, dtype) for a in arrays] for arrays in (weights, states)]
        args = (cast[0], jnp.asarray(times, dtype), channels, cast[1], duration)
        layered = simulate_feedforward(model, *args, MAX_SPIKES, throw=False)
        generic = simulate_feedforward_generic(model, *args, MAX_SPIKES, 200, throw=False)
        exact = simulate_feedforward(
            model, weights, times, channels, states, duration, MAX_SPIKES, throw=False
        )  # float64
        for fast, reference, best in zip(layered, generic, exact, strict=True):
            assert bool(fast.exhausted) == bool(reference.exhausted)
            if bool(fast.exhausted):  # spike times beyond the budget are not comparable
                continue
            n_compared += 1
            assert fast.times.dtype == dtype and fast.final_state.dtype == dtype
            np.testing.assert_array_equal(fast.counts, reference.counts)
            finite = np.isfinite(np.asarray(reference.times))
            np.testing.assert_array_equal(np.isfinite(np.asarray(fast.times)), finite)
            for other in (reference, best):  # float32: also close to the float64 result
                np.testing.assert_allclose(
                    np.asarray(fast.times)[finite],
                    np.asarray(other.times)[finite],
                    rtol=0,
                    atol=tolerance * duration,
                )
            np.testing.assert_allclose(
                fast.final_state, reference.final_state, rtol=tolerance, atol=tolerance * duration
            )
            n_spikes += int(np.sum(fast.counts))
    assert n_compared >= 8 and n_spikes > 15  # active networks: the comparison means something


@pytest.mark.parametrize("kind", ["theta", "osc_lif", pytest.param("qif", marks=pytest.mark.slow)])
def test_same_gradients_as_the_generic_simulator(kind):
    rng = np.random.default_rng(11)
    model, weights, times, channels, states, duration = random_feedforward(rng, kind)

    def loss(weights, states, times, simulator):
        if simulator == "layered":
            layers = simulate_feedforward(
                model, weights, times, channels, states, duration, MAX_SPIKES
            )
        else:
            layers = simulate_feedforward_generic(
                model, weights, times, channels, states, duration, MAX_SPIKES, 200
            )
        return output_loss(model, weights, layers, duration)

    grad = jax.grad(loss, argnums=(0, 1, 2))
    fast, reference = (
        grad(weights, states, times, "layered"),
        grad(weights, states, times, "generic"),
    )
    flat_fast, flat_reference = jax.tree.leaves(fast), jax.tree.leaves(reference)
    assert all(np.all(np.isfinite(g)) for g in flat_fast)
    assert sum(float(jnp.sum(jnp.abs(g))) for g in flat_fast) > 1.0
    for a, b in zip(flat_fast, flat_reference, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)


def test_batch_skips_steps_but_gives_the_same_results_and_gradients():
    rng = np.random.default_rng(3)
    model, weights, _, _, states, duration = random_feedforward(rng, "theta")
    batch = 5
    times = jnp.asarray(rng.uniform(0, 2 * duration, (batch, 6)))  # some after T
    channels = jnp.asarray(rng.integers(0, SIZES[0], (batch, 6)))
    first = jnp.asarray(rng.normal(0.75, 1.5, (batch, SIZES[1], SIZES[0])))

    def total(first, weights, simulate_fn):
        layers = simulate_fn([first, *weights[1:]], times, channels)
        return sum(
            jnp.sum(jnp.where(jnp.isfinite(la.times), la.times, 0.0)) + jnp.sum(la.final_state)
            for la in layers
        ), layers

    def batched(ws, t, c):
        return simulate_feedforward_batch(model, ws, t, c, states, duration, MAX_SPIKES)

    def mapped(ws, t, c):
        def one(w0, t, c):
            return simulate_feedforward(model, [w0, *ws[1:]], t, c, states, duration, MAX_SPIKES)

        return jax.vmap(one)(ws[0], t, c)

    (value_b, layers_b), grad_b = jax.value_and_grad(total, (0, 1), has_aux=True)(
        first, weights, batched
    )
    (value_m, layers_m), grad_m = jax.value_and_grad(total, (0, 1), has_aux=True)(
        first, weights, mapped
    )
    assert layers_b[0].times.shape == (batch, SIZES[1], MAX_SPIKES)
    np.testing.assert_allclose(value_b, value_m, rtol=1e-12)
    for a, b in zip(
        jax.tree.leaves((layers_b, grad_b)), jax.tree.leaves((layers_m, grad_m)), strict=True
    ):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_an_exhausted_spike_budget_is_reported():
    model = MODELS["theta"]
    weights = [jnp.array([[0.0]]), jnp.array([[0.5]])]
    states = [jnp.array([[model.period - 0.1]]), jnp.array([[0.0]])]
    times, channels = jnp.array([jnp.inf]), jnp.array([0])
    # the first neuron oscillates freely: spikes at 0.1, 6.1, 12.1 before T = 15
    layers = simulate_feedforward(model, weights, times, channels, states, 15.0, 2, throw=False)
    assert bool(layers[0].exhausted) and int(layers[0].counts[0]) > 2
    assert bool(layers[1].exhausted)  # the layer above got incomplete input
    np.testing.assert_allclose(layers[0].times[0], [0.1, 6.1], atol=1e-12)
    assert np.all(np.isnan(layer_output_times(model, layers[1], 15.0, 1)))
    with pytest.raises(EventBudgetError, match=r"max_spikes=\[2, 2\].*layer 1 needed more"):
        check_spike_budget(layers)
    with pytest.raises(EventBudgetError, match=r"max_spikes=\[2, 2\].*layer 1 needed more"):
        simulate_feedforward(model, weights, times, channels, states, 15.0, 2)
    enough = simulate_feedforward(model, weights, times, channels, states, 15.0, 3)
    check_spike_budget(enough)
    np.testing.assert_allclose(enough[0].times[0], [0.1, 6.1, 12.1], atol=1e-12)
    generic = simulate_feedforward_generic(
        model, weights, times, channels, states, 15.0, 2, 50, throw=False
    )
    assert bool(generic[0].exhausted)
    batch = simulate_feedforward_batch(
        model, weights, times[None], channels[None], states, 15.0, 2, throw=False
    )
    with pytest.raises(EventBudgetError, match="in 1 of 1 trials"):
        check_spike_budget(batch)


def test_as_recurrent_builds_the_block_network():
    rng = np.random.default_rng(0)
    _, weights, times, channels, states, _ = random_feedforward(rng, "theta")
    weights_net, weights_in, initial_state = as_recurrent(weights, states)
    assert weights_net.shape == (15, 15) and weights_in.shape == (15, 3)
    np.testing.assert_array_equal(weights_net[6:11, :6], weights[1])
    np.testing.assert_array_equal(weights_net[11:, 6:11], weights[2])
    assert float(jnp.sum(jnp.abs(weights_net))) == pytest.approx(
        float(jnp.sum(jnp.abs(weights[1])) + jnp.sum(jnp.abs(weights[2])))
    )
    np.testing.assert_array_equal(weights_in[6:], 0.0)
    np.testing.assert_array_equal(initial_state, jnp.concatenate(states, axis=1))
    events = simulate(
        MODELS["theta"], weights_net, weights_in, times, channels, initial_state, 4.0, 100
    )
    assert not bool(events.exhausted)


def test_mismatched_layers_raise():
    model = MODELS["theta"]
    with pytest.raises(ValueError, match="2 weight matrices but 1 initial states"):
        simulate_feedforward(
            model,
            [jnp.ones((2, 1)), jnp.ones((1, 2))],
            jnp.zeros(1),
            jnp.zeros(1, int),
            [jnp.zeros((1, 2))],
            1.0,
            1,
        )
    with pytest.raises(ValueError, match="max_spikes"):
        simulate_feedforward(
            model,
            [jnp.ones((2, 1))],
            jnp.zeros(1),
            jnp.zeros(1, int),
            [jnp.zeros((1, 2))],
            1.0,
            (1, 2),
        )


@pytest.mark.parametrize(
    ("dtype", "extreme"),
    [(jnp.float32, (1e20, -1e20, 1e30, 3e38)), (jnp.float64, (1e160, -1e200, 1e300))],
)
def test_extreme_weights_give_the_generic_simulators_times(dtype, extreme):
    """Weights whose square overflows (the theta layer's shear) once gave NaN (issue 18)."""
    model = MODELS["theta"]
    n = len(extreme)
    weights = [jnp.asarray([[w, 0.5] for w in extreme], dtype), jnp.full((2, n), 0.3, dtype)]
    args = (
        weights,
        jnp.asarray([0.3, 0.7], dtype),
        jnp.asarray([0, 1]),
        [jnp.full((1, n), 1.0, dtype), jnp.full((1, 2), 2.0, dtype)],
        2.0,
        2,
    )
    layered = simulate_feedforward(model, *args, throw=False)
    generic = simulate_feedforward_generic(model, *args, 50, throw=False)
    # a huge positive weight: a spike at once
    assert int(jnp.sum(layered[0].counts)) >= sum(w > 0 for w in extreme)
    for fast, reference in zip(layered, generic, strict=True):
        np.testing.assert_array_equal(fast.counts, reference.counts)
        np.testing.assert_allclose(fast.times, reference.times, rtol=0, atol=TOLERANCE[dtype] * 2)
        np.testing.assert_allclose(
            fast.final_state, reference.final_state, rtol=0, atol=TOLERANCE[dtype] * 2
        )


def test_the_layer_steps_passed_are_used_and_agree():
    """`steps=ThetaAutodiffSteps`: the same values, gradients equal the adjoint's."""
    from snnlib._layer_steps import ThetaAutodiffSteps

    rng = np.random.default_rng(11)
    model, weights, _, _, states, duration = random_feedforward(rng, "theta")
    times = jnp.asarray(rng.uniform(0, duration, (3, 6)))
    channels = jnp.asarray(rng.integers(0, SIZES[0], 6))

    def total(weights, steps):
        layers = simulate_feedforward_batch(
            model, weights, times, channels, states, duration, MAX_SPIKES, steps=steps
        )
        first = [jax.tree.map(lambda x: x[0], la) for la in layers]
        return output_loss(model, weights, first, duration), layers

    (_, layers_a), grad_a = jax.value_and_grad(partial(total, steps=None), has_aux=True)(weights)
    (_, layers_b), grad_b = jax.value_and_grad(
        partial(total, steps=ThetaAutodiffSteps), has_aux=True
    )(weights)
    for a, b in zip(jax.tree.leaves(layers_a), jax.tree.leaves(layers_b), strict=True):
        np.testing.assert_array_equal(a, b)
    assert sum(float(jnp.sum(jnp.abs(g))) for g in grad_a) > 0.1
    for a, b in zip(grad_a, grad_b, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)
