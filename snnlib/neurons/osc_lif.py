"""Oscillating leaky integrate-and-fire neuron with delta-pulse input, in phase form."""

import math
from dataclasses import dataclass

import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from ._base import as_float_fields, check_positive
from ._phase import PhaseNeuron


@dataclass(frozen=True)
class OscLIF(PhaseNeuron):
    """Oscillating LIF:  tau dV/dt = -V + I0 + tau sum_k w_k delta(t - t_k),  I0 > V_th.

    Phase Phi(V) = tau ln(1/(1 - V/I0)) (the time to reach V from the reset V = 0),
    free period Theta = Phi(V_th); a spike at V = V_th, reset to V = 0.
    """

    tau: float = 1.0
    current: float = 2.0
    v_th: float = 1.0

    def __post_init__(self) -> None:
        as_float_fields(self, "tau", "current", "v_th")
        check_positive(self, tau=self.tau, v_th=self.v_th)
        if not math.isfinite(self.current) or self.current <= self.v_th:
            raise ValueError(
                f"OscLIF: parameter current (I0) must exceed v_th={self.v_th} for an "
                f"oscillating neuron, got {self.current!r}"
            )

    @property
    def period(self) -> float:
        """Theta = Phi(V_th) = tau ln(I0 / (I0 - V_th))."""
        return self.tau * math.log(self.current / (self.current - self.v_th))

    @property
    def min_spiking_input(self) -> float:
        """V_th: the input that makes a just-reset neuron (V = 0) spike at once."""
        return self.v_th

    def phase_of_voltage(self, v: ArrayLike) -> Array:
        """Phi(V) = -tau ln(1 - V/I0) (negative for V < 0)."""
        return -self.tau * jnp.log1p(-jnp.asarray(v) / self.current)

    def voltage(self, state: Array) -> Array:
        """V = Phi^{-1}(phi) = I0 (1 - exp(-phi/tau))."""
        return -self.current * jnp.expm1(-state[0] / self.tau)

    def phase_transfer(self, phase: ArrayLike, weight: ArrayLike) -> Array:
        """H(phi, w) = Phi(Phi^{-1}(phi) + w), and Theta (a spike at once) if V + w >= V_th."""
        v = -self.current * jnp.expm1(-jnp.asarray(phase) / self.tau) + weight
        below = ~(v >= self.v_th)  # NaN stays NaN
        return jnp.where(below, self.phase_of_voltage(jnp.where(below, v, 0.0)), self.period)
