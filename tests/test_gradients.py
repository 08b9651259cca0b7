"""Gradients of spike times and losses against central finite differences (float64)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import MODELS, central_difference, random_network

from snnlib import output_spike_times, simulate

N_SPIKES = 3


def spike_time_loss(model, args, neurons, n_events):
    """A smooth function of all output spike times (ordinary and pseudo)."""
    events = simulate(model, *args, max_events=n_events)
    times = output_spike_times(model, events, neurons, N_SPIKES)
    return jnp.sum(jnp.sin(times) + 0.1 * times**2)


@pytest.mark.parametrize("kind", ["qif", "theta"])
@pytest.mark.parametrize("seed", range(3))
def test_gradients_match_finite_differences(kind, seed):
    rng = np.random.default_rng(seed)
    model = MODELS[kind]
    net = random_network(rng, kind, n=int(rng.integers(3, 7)), duration=4.0)
    args = list(net.args())
    neurons = np.arange(2)
    argnums = {"weights_net": 0, "weights_in": 1, "input_times": 2, "initial_state": 4}
    for name, position in argnums.items():

        def loss_of(x, position=position):
            args_x = list(args)
            args_x[position] = jnp.asarray(x)
            return spike_time_loss(model, args_x, neurons, 200)

        auto = np.asarray(jax.grad(loss_of)(args[position]))
        numeric = central_difference(loss_of, np.asarray(args[position]), h=1e-6)
        assert np.all(np.isfinite(auto)), name
        scale = np.maximum(np.abs(numeric), 1e-2)
        error = np.max(np.abs(auto - numeric) / scale)
        assert error < 1e-5, f"{name}: relative gradient error {error:.2e}"


def test_gradient_across_nearby_change_of_spike_order():
    """Two neurons driven to spike 1e-4 apart; their order swaps within 2e-4 of the weight."""
    model = MODELS["qif"]
    weights_net = jnp.array([[0.0, 0.3], [0.2, 0.0]])
    input_times = jnp.array([0.2])
    state = model.rest_state(2)

    def spike_sum(w):
        weights_in = jnp.array([[w[0]], [w[1]]])
        events = simulate(
            model, weights_net, weights_in, input_times, jnp.array([0]), state, 4.0, max_events=30
        )
        times = output_spike_times(model, events, jnp.arange(2), 2)
        return jnp.sum(times * jnp.array([[1.0, 0.5], [2.0, 0.25]]))

    base = np.array([4.0, 4.0 + 1e-4])
    for w in (base, base[::-1].copy()):  # both orders of the two first spikes
        auto = np.asarray(jax.grad(spike_sum)(jnp.asarray(w)))
        numeric = central_difference(spike_sum, w, h=1e-7)
        assert np.all(np.isfinite(auto))
        np.testing.assert_allclose(auto, numeric, rtol=1e-5)


@pytest.mark.parametrize(
    "state",
    [
        [0.3, 0.0],  # I = 0
        [1.5, 0.0],  # I = 0, spiking
        [-0.7, 0.0],  # I = 0, negative V
        [2.0, -4.0],  # |V| = sqrt|I|
        [-2.0, -4.0],  # |V| = sqrt|I|, negative
        [1e12, 1.0],  # at its spike
        [-1e12, 3.0],  # just reset
    ],
)
def test_qif_gradients_at_branch_boundaries_are_correct(state):
    model = MODELS["qif"]
    state = np.array(state)

    def flow_v(s):
        return model.flow(jnp.asarray(s), 0.05)[0]

    def spike_time(s):
        t = model.time_to_next_spike(jnp.asarray(s))
        return jnp.where(jnp.isfinite(t), t, 0.0)

    for f in (flow_v, spike_time):
        auto = np.asarray(jax.grad(f)(jnp.asarray(state)))
        assert np.all(np.isfinite(auto)), (f.__name__, auto)
        if abs(state[0]) < 1e6:
            h = 1e-7
            numeric = central_difference(f, state, h=h)
            np.testing.assert_allclose(auto, numeric, rtol=1e-6, atol=1e-7, err_msg=f.__name__)


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_no_nan_in_gradients_of_a_neuron_at_its_spike(kind):
    """A neuron exactly at its spike, and a tie of two neurons: finite gradients."""
    model = MODELS[kind]
    if kind in ("qif", "lif"):
        state = jnp.array([[1e12 if kind == "qif" else 1.0, 0.5], [0.0, 0.0]])
    else:
        state = jnp.array([[model.period, model.period]])

    def loss(s):
        events = simulate(
            model,
            jnp.full((2, 2), 0.5),
            jnp.zeros((2, 1)),
            jnp.array([1.0]),
            jnp.array([0]),
            s,
            3.0,
            max_events=20,
        )
        times = output_spike_times(model, events, jnp.arange(2), 2)
        return jnp.sum(jnp.where(jnp.isfinite(times), times, 0.0))

    grad = jax.grad(loss)(state)
    assert np.all(np.isfinite(np.asarray(grad)))


def test_gradients_of_shared_weights_under_a_users_vmap():
    """A batch of trials with one weight matrix, batched with jax.vmap: the gradient of
    the batch's sum is the sum of the trials' gradients, in both simulators (a custom
    VJP that is unbatched while its residuals are batched gave B times the gradient)."""
    import snnlib
    from snnlib.feedforward import layer_output_times, simulate_feedforward

    model, B, T = snnlib.QIF(), 4, 4.0
    rng = np.random.default_rng(0)
    w_net = jnp.asarray(rng.normal(0, 0.5, (3, 3)))
    w_in = jnp.asarray(rng.uniform(1, 3, (3, 2)))
    times = jnp.asarray(np.sort(rng.uniform(0, 2, (B, 3)), axis=1))
    channels = jnp.asarray(rng.integers(0, 2, (B, 3)))

    def generic(w, t, c):
        events = snnlib.simulate(model, w_net, w, t, c, jnp.zeros((2, 3)), T, 60, throw=False)
        return jnp.sum(snnlib.output_spike_times(model, events, jnp.arange(3), n_spikes=2))

    def layered(w, t, c):
        layers = simulate_feedforward(model, [w], t, c, [jnp.zeros((2, 3))], T, 3, throw=False)
        return jnp.sum(layer_output_times(model, layers[0], T, n_spikes=2))

    def batch_sum(value, w):
        return jax.vmap(value, (None, 0, 0))(w, times, channels).sum()

    for value in (generic, layered):
        batched = jax.grad(batch_sum, argnums=1)(value, w_in)
        looped = sum(jax.grad(value)(w_in, times[b], channels[b]) for b in range(B))
        assert float(jnp.max(jnp.abs(looped))) > 0.1
        np.testing.assert_allclose(batched, looped, rtol=1e-10, atol=1e-12)
