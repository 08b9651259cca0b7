"""Leaky integrate-and-fire neuron with an exponentially decaying synaptic current."""

from dataclasses import dataclass
from typing import ClassVar

import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from ._base import NeuronModel, as_float_fields, check_positive, zeros_state


@dataclass(frozen=True)
class LIF(NeuronModel):
    """Current-based LIF:  tau dV/dt = -V + I,  tau_s dI/dt = -I,  tau_s = tau/2.

    An input of weight w adds w to I; a spike when V reaches V_th, reset to V = 0.
    State: (V, I), shape (2, ...). The comparison model of the paper: its spikes can
    vanish in mid-trial, so spike times jump (book/theory.md, "Comparison: the LIF
    neuron"). No pseudodynamics: it is not a `PseudodynamicsModel`.
    """

    tau: float = 1.0
    v_th: float = 1.0

    state_dim: ClassVar[int] = 2

    def __post_init__(self) -> None:
        as_float_fields(self, "tau", "v_th")
        check_positive(self, tau=self.tau, v_th=self.v_th)

    @property
    def min_spiking_input(self) -> float:
        """I_min = 4 V_th: the smallest input weight that makes a resting neuron spike."""
        return 4 * self.v_th

    def rest_state(self, n: int, dtype=None) -> Array:
        """V = 0, I = 0 for n neurons, shape (2, n)."""
        return zeros_state(2, n, dtype)

    def flow(self, state: Array, dt: ArrayLike) -> Array:
        """V(dt) = (V + I) e - I e^2,  I(dt) = I e^2,  e = exp(-dt/tau)."""
        v, current = state[0], state[1]
        e = jnp.exp(-jnp.asarray(dt) / self.tau)
        return jnp.stack([(v + current) * e - current * e * e, current * e * e])

    def time_to_next_spike(self, state: Array) -> Array:
        """First root of I e^2 - (V + I) e + V_th = 0 with e = exp(-dt/tau) in (0, 1):

        dt = -tau ln((V + I + sqrt((V + I)^2 - 4 I V_th)) / (2 I)); 0 if V >= V_th; +inf if none.
        """
        v, current = state[0], state[1]
        b = v + current
        discriminant = b * b - 4 * current * self.v_th
        real = (current > 0) & (discriminant > 0)
        safe_current = jnp.where(real, current, 1.0)
        e_root = (b + jnp.sqrt(jnp.where(real, discriminant, 1.0))) / (2 * safe_current)
        spikes = real & (e_root > 0) & (e_root < 1)
        dt = -self.tau * jnp.log(jnp.where(spikes, e_root, 1.0))
        return jnp.where(v >= self.v_th, 0.0, jnp.where(spikes, dt, jnp.inf))

    def receive(self, state: Array, weight: ArrayLike) -> Array:
        """I -> I + w."""
        return state.at[1].add(weight)

    def reset(self, state: Array) -> Array:
        """V -> 0, I unchanged."""
        return state.at[0].set(0.0)

    def voltage(self, state: Array) -> Array:
        """The membrane potential V."""
        return state[0]
