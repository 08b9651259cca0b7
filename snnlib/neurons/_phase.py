"""Shared dynamics of phase-form (oscillating) neurons: the phase grows at rate 1."""

from typing import ClassVar

import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from ._protocol import zeros_state


class PhaseNeuron:
    """Base of the theta and oscillating LIF neurons. State: the phase phi, shape (1, ...).

    The phase grows at rate 1, a spike is emitted at phi = Theta (the free period) and the
    phase is reset to 0; an input of weight w maps phi to H(phi, w) (`phase_transfer`).
    """

    state_dim: ClassVar[int] = 1
    has_pseudodynamics: ClassVar[bool] = True

    @property
    def period(self) -> float:
        raise NotImplementedError

    def phase_transfer(self, phase: ArrayLike, weight: ArrayLike) -> Array:
        raise NotImplementedError

    def rest_state(self, n: int, dtype=None) -> Array:
        """Phase 0 (just reset) for n neurons, shape (1, n)."""
        return zeros_state(1, n, dtype)

    def flow(self, state: Array, dt: ArrayLike) -> Array:
        """phi(t + dt) = phi(t) + dt."""
        return state + dt

    def time_to_next_spike(self, state: Array) -> Array:
        """Theta - phi (0 for a neuron at or beyond its spike)."""
        return jnp.maximum(self.period - state[0], 0.0)

    def receive(self, state: Array, weight: ArrayLike) -> Array:
        """phi -> H(phi, w)."""
        return self.phase_transfer(state, weight)

    def reset(self, state: Array) -> Array:
        """phi -> 0."""
        return jnp.zeros_like(state)

    def pseudo_phase_and_period(
        self, state: Array, pseudo_input: ArrayLike = 0.0
    ) -> tuple[Array, Array]:
        """Pseudodynamics (SPEC section 3): phase H(phi(T), input) and period Theta."""
        phase = self.phase_transfer(state[0], pseudo_input)
        return phase, jnp.full_like(phase, self.period)
