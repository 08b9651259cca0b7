"""Theta neuron: the QIF neuron with constant current and delta-pulse input, in phase form."""

import math
from dataclasses import dataclass

import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from ._base import as_float_fields, check_positive
from ._phase import PhaseNeuron


@dataclass(frozen=True)
class Theta(PhaseNeuron):
    """Theta neuron:  tau dV/dt = V (V - 1) + I0 + tau sum_k w_k delta(t - t_k),  I0 > 1/4.

    Phase Phi(V) = tau/c (arctan((V - 1/2)/c) + pi/2) with c = sqrt(I0 - 1/4); it grows at
    rate 1 from 0 (V = -inf) to Theta = tau pi / c (V = +inf, the spike). Paper's MNIST
    values: tau = 6/pi, I0 = 5/4 (Theta = 6). book/theory.md, "Theta neuron".
    """

    tau: float = 6 / math.pi
    current: float = 1.25

    def __post_init__(self) -> None:
        as_float_fields(self, "tau", "current")
        check_positive(self, tau=self.tau)
        if not math.isfinite(self.current) or self.current <= 0.25:
            raise ValueError(
                f"Theta: parameter current (I0) must exceed 1/4 for an oscillating neuron, "
                f"got {self.current!r}"
            )

    @property
    def c(self) -> float:
        """c = sqrt(I0 - 1/4)."""
        return math.sqrt(self.current - 0.25)

    @property
    def period(self) -> float:
        """Theta = tau pi / c, the free period."""
        return self.tau * math.pi / self.c

    @property
    def min_spiking_input(self) -> float:
        """No finite input makes a theta neuron spike at once (it reaches V = inf only by flow)."""
        return math.inf

    def _angle(self, phase: ArrayLike) -> Array:
        """a = phi c / tau - pi/2 in [-pi/2, pi/2], so that V = c tan(a) + 1/2."""
        return jnp.clip(phase, 0.0, self.period) * (self.c / self.tau) - jnp.pi / 2

    def phase_transfer(self, phase: ArrayLike, weight: ArrayLike) -> Array:
        """H(phi, w) = Phi(Phi^{-1}(phi) + w).

        With V - 1/2 = c tan(a): tan(b) = tan(a) + w/c, evaluated as
        b = atan2(sin a + (w/c) cos a, cos a), which stays finite and smooth at a = +-pi/2
        (phi = 0 and Theta are fixed points: V = -inf and +inf do not move).
        """
        a = self._angle(phase)
        cos_a = jnp.cos(a)
        b = jnp.arctan2(jnp.sin(a) + (weight / self.c) * cos_a, cos_a)
        return (b + jnp.pi / 2) * (self.tau / self.c)

    def voltage(self, state: Array) -> Array:
        """V = c tan(phi c / tau - pi/2) + 1/2 (infinite at phi = 0 and Theta)."""
        return self.c * jnp.tan(self._angle(state[0])) + 0.5
