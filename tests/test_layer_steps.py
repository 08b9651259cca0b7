"""The theta layer's hand-written backward pass (`snnlib._layer_steps.ThetaSteps.run`)
against autodiff through the same steps and against finite differences (float64, which
tests/conftest.py switches on)."""

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from snnlib._layer_steps import (
    ModelSteps,
    ThetaAutodiffSteps,
    ThetaSteps,
    layer_steps,
)
from snnlib.neurons import QIF, Theta

MODEL = Theta(tau=6 / np.pi, current=1.25)


def prepared(weights, input_times, duration, chunk=4):
    """Sorted, clipped, chunked inputs as `_simulate_layer` hands them to `run`."""
    order = jnp.argsort(input_times)
    m = input_times.shape[0]
    chunks = -(-m // chunk)
    pad = chunks * chunk - m
    arrival = jnp.concatenate(
        [jnp.clip(input_times[order], 0, duration), jnp.full((pad,), duration, input_times.dtype)]
    )
    sources = jnp.concatenate([order, jnp.zeros((pad,), order.dtype)])
    return arrival.reshape(chunks, chunk), sources.reshape(chunks, chunk), weights.T


def layer(kind, weights, input_times, phases, duration, max_spikes, n_active):
    arrival, sources, weights_t = prepared(weights, input_times, duration)
    steps = {"adjoint": ThetaSteps, "autodiff": ThetaAutodiffSteps}[kind]
    return steps(MODEL, duration, max_spikes).run(
        phases[None], arrival, sources, weights_t, n_active
    )


def scalar(kind, weights, input_times, phases, duration, max_spikes, n_active):
    """A loss that weighs every spike slot and final phase differently."""
    out = layer(kind, weights, input_times, phases, duration, max_spikes, n_active)
    weight = jnp.arange(1.0, out.times.size + 1).reshape(out.times.shape)
    spikes = jnp.sum(jnp.where(jnp.isfinite(out.times), out.times * weight, 0.0))
    return spikes + jnp.sum(out.final_state * jnp.arange(out.final_state.size))


def random_layer(seed: int, duration: float, m: int = 23):
    k1, k2, k3 = jax.random.split(jax.random.PRNGKey(seed), 3)
    weights = 1.5 * jax.random.normal(k1, (6, m), jnp.float64)
    times = jax.random.uniform(k2, (m,), jnp.float64, 0.0, 1.3 * duration)  # some after T
    phases = jax.random.uniform(k3, (6,), jnp.float64, 0.0, MODEL.period)
    phases = phases.at[0].set(0.0).at[1].set(MODEL.period)  # the clip boundaries
    return weights, times, phases


@pytest.mark.parametrize(
    ("seed", "duration", "max_spikes"), [(0, 2.0, 1), (1, 2.0, 2), (2, 15.0, 3), (3, 40.0, 2)]
)
def test_values_bit_identical_and_gradients_equal_autodiff(seed, duration, max_spikes):
    weights, times, phases = random_layer(seed, duration)
    duration = jnp.float64(duration)
    n_active = jnp.sum(times < duration)
    args = (weights, times, phases, duration, max_spikes, n_active)
    ours, reference = layer("adjoint", *args), layer("autodiff", *args)
    for a, b in zip(ours, reference, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert int(jnp.sum(reference.counts)) > 0
    grads = [
        jax.grad(partial(scalar, kind), argnums=(0, 1, 2, 3))(*args)
        for kind in ("adjoint", "autodiff")
    ]
    for ours_grad, autodiff in zip(*grads, strict=True):
        np.testing.assert_allclose(ours_grad, autodiff, rtol=1e-10, atol=1e-10)


def test_gradients_match_finite_differences():
    weights, times, phases = random_layer(5, 2.0)
    duration = jnp.float64(2.0)
    n_active = jnp.sum(times < duration)
    f = partial(scalar, "adjoint", max_spikes=2, n_active=n_active, duration=duration)
    grads = jax.grad(lambda w, t, p: f(w, t, p), argnums=(0, 1, 2))(weights, times, phases)
    rng = np.random.default_rng(0)
    for index, (arg, grad) in enumerate(zip((weights, times, phases), grads, strict=True)):
        for _ in range(4):
            direction = jnp.asarray(rng.normal(size=arg.shape))
            h = 1e-6
            args = [weights, times, phases]
            args[index] = arg + h * direction
            plus = f(*args)
            args[index] = arg - h * direction
            minus = f(*args)
            fd = (plus - minus) / (2 * h)
            assert abs(fd - jnp.vdot(grad, direction)) <= 1e-5 * max(1.0, abs(fd)), index


def test_skipped_chunks_and_vmap():
    """Under vmap with the batch's n_active, as the layered simulator calls it."""
    batch = [random_layer(seed, 2.0) for seed in range(3)]
    weights = batch[0][0]
    times = jnp.stack([b[1] for b in batch]).at[0, 5:].set(jnp.inf)  # a sparse trial
    phases = batch[0][2]
    n_active = jnp.max(jnp.sum(times < 2.0, axis=-1))

    def total(kind, w, t):
        run = partial(scalar, kind, max_spikes=1, n_active=n_active)
        return jnp.sum(jax.vmap(run, (None, 0, None, None))(w, t, phases, jnp.float64(2.0)))

    for a, b in zip(
        jax.grad(partial(total, "adjoint"), argnums=(0, 1))(weights, times),
        jax.grad(partial(total, "autodiff"), argnums=(0, 1))(weights, times),
        strict=True,
    ):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


def test_dispatch_by_model_type():
    assert isinstance(layer_steps(MODEL, jnp.float32(2.0), 1), ThetaSteps)
    assert isinstance(layer_steps(QIF(), jnp.float32(2.0), 1), ModelSteps)
