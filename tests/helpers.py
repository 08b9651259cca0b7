"""Shared test helpers: random networks, finite differences, model lists."""

from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np

from snnlib import LIF, QIF, OscLIF, Theta

MODELS = {
    "qif": QIF(tau=1.0),
    "lif": LIF(tau=1.0),
    "theta": Theta(tau=6 / np.pi, current=1.25),
    "osc_lif": OscLIF(tau=1.0, current=2.0),
}


@dataclass
class Network:
    """One random trial of a recurrent network with input spikes (numpy, float64)."""

    weights_net: np.ndarray
    weights_in: np.ndarray
    input_times: np.ndarray
    input_neurons: np.ndarray
    initial_state: np.ndarray
    duration: float

    def args(self, dtype=jnp.float64):
        """Positional arguments of `snnlib.simulate` (after the model)."""
        return (
            jnp.asarray(self.weights_net, dtype),
            jnp.asarray(self.weights_in, dtype),
            jnp.asarray(self.input_times, dtype),
            jnp.asarray(self.input_neurons),
            jnp.asarray(self.initial_state, dtype),
            jnp.asarray(self.duration, dtype),
        )


def random_network(
    rng: np.random.Generator,
    kind: str,
    n: int,
    n_in: int = 4,
    rate: float = 1.0,
    duration: float = 5.0,
    w_net: float = 1.0,
    w_in: float = 3.0,
) -> Network:
    """A random network: Poisson inputs, normal weights, random initial states."""
    m = rng.poisson(rate * duration * n_in)
    times = np.sort(rng.uniform(0, duration, m))
    channels = rng.integers(0, n_in, m)
    weights_net = rng.normal(0, w_net, (n, n))
    weights_in = rng.normal(0.5 * w_in, w_in, (n, n_in))
    if MODELS[kind].state_dim == 1:
        state = rng.uniform(0, MODELS[kind].period, (1, n))
    else:
        state = np.stack([rng.uniform(-1.0, 0.8, n), rng.normal(0, 1.0, n)])
    return Network(weights_net, weights_in, times, channels, state, duration)


def central_difference(f, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Gradient of the scalar function f at x by central differences (float64)."""
    x = np.asarray(x, np.float64)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = h
        grad[index] = (float(f(x + step)) - float(f(x - step))) / (2 * h)
    return grad
