"""Shared dynamics of phase-form (oscillating) neurons: the phase grows at rate 1."""

from abc import abstractmethod
from typing import ClassVar

import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.typing import ArrayLike, DTypeLike
from jaxtyping import Float

from ._base import PseudodynamicsModel, zeros_state


class PhaseNeuron(PseudodynamicsModel):
    """Base of the theta and oscillating LIF neurons. State: the phase phi, shape (1, ...).

    The phase grows at rate 1, a spike is emitted at phi = Theta (the free period) and the
    phase is reset to 0; an input of weight w maps phi to H(phi, w) (`phase_transfer`).
    A subclass implements `period`, `phase_transfer`, `voltage` and `min_spiking_input`.
    """

    state_dim: ClassVar[int] = 1

    @property
    @abstractmethod
    def period(self) -> float:
        """Theta, the free period."""

    @abstractmethod
    def phase_transfer(self, phase: ArrayLike, weight: ArrayLike) -> Array:
        """H(phi, w): the phase right after an input of weight w at phase phi."""

    def rest_state(self, n: int, dtype: DTypeLike | None = None) -> Float[Array, "1 N"]:
        """Phase 0 (just reset) for n neurons, shape (1, n)."""
        return zeros_state(1, n, dtype)

    def flow(self, state: Float[Array, "1 ..."], dt: ArrayLike) -> Float[Array, "1 ..."]:
        """phi(t + dt) = phi(t) + dt."""
        return state + dt

    def time_to_next_spike(self, state: Float[Array, "1 ..."]) -> Float[Array, " ..."]:
        """Theta - phi (0 for a neuron at or beyond its spike)."""
        return jnp.maximum(self.period - state[0], 0.0)

    def receive(self, state: Float[Array, "1 ..."], weight: ArrayLike) -> Float[Array, "1 ..."]:
        """phi -> H(phi, w)."""
        return self.phase_transfer(state, weight)

    def reset(self, state: Float[Array, "1 ..."]) -> Float[Array, "1 ..."]:
        """phi -> 0."""
        return jnp.zeros_like(state)

    def state_problem(self, state: np.ndarray) -> str | None:
        """A phase must lie in [0, Theta] (NaN allowed: an unknown neuron)."""
        outside = (state < 0) | (state > self.period)
        if outside.any():
            neuron = int(np.argwhere(outside)[0][-1])
            return (
                f"neuron {neuron} has phase {float(state[0, neuron])}, outside [0, Theta] = "
                f"[0, {self.period:.6g}] of {type(self).__name__}: a phase runs from 0 "
                "(just reset) to Theta (the spike); pass phases in that range (e.g. "
                "jnp.mod(phase, model.period))"
            )
        return None

    def canonical_state(self, state: Float[Array, "1 ..."]) -> Float[Array, "1 ..."]:
        """Phases outside [0, Theta] are NaN (unknown), the others pass unchanged."""
        return jnp.where((state >= 0) & (state <= self.period), state, jnp.nan)

    def pseudo_phase_and_period(
        self, state: Float[Array, "1 ..."], pseudo_input: ArrayLike = 0.0
    ) -> tuple[Float[Array, " ..."], Float[Array, " ..."]]:
        """Pseudodynamics (book/theory.md, "Theta neuron"): phase H(phi(T), input) and
        period Theta."""
        phase = self.phase_transfer(state[0], pseudo_input)
        return phase, jnp.full_like(phase, self.period)
