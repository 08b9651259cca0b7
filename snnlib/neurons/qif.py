"""Quadratic integrate-and-fire neuron with an exponentially decaying synaptic current."""

import math
from dataclasses import dataclass
from typing import ClassVar

import jax
import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from ._functions import arctan_ratio, cos_sinc_pair
from ._protocol import as_float_fields, check_positive, zeros_state


@dataclass(frozen=True)
class QIF:
    """QIF neuron, paper eq. (1):  tau dV/dt = V (V - 1) + I,  tau_s dI/dt = -I,  tau_s = tau/2.

    An input spike of weight w adds w to I. A spike is emitted when V reaches +inf and V
    is reset to -inf; numerically +-1/eps stand in for +-inf. State: (V, I), shape (2, ...).

    Parameters: tau (membrane time constant), alpha (softplus sharpness of the
    pseudodynamics, paper: 10), eps (1/eps is the numerical infinity of V).
    """

    tau: float = 1.0
    alpha: float = 10.0
    eps: float = 1e-12

    state_dim: ClassVar[int] = 2
    has_pseudodynamics: ClassVar[bool] = True

    def __post_init__(self) -> None:
        as_float_fields(self, "tau", "alpha", "eps")
        check_positive(self, tau=self.tau, alpha=self.alpha, eps=self.eps)
        if self.eps > 1e-3:
            raise ValueError(f"QIF: parameter eps must be <= 1e-3 (1/eps stands for infinity), "
                             f"got {self.eps!r}")

    @property
    def v_infinity(self) -> float:
        """The numerical stand-in 1/eps for V = +inf (its negative for the reset, -inf)."""
        return 1.0 / self.eps

    @property
    def min_spiking_input(self) -> float:
        """I_min = pi^2/4: an input of weight w >= I_min makes a resting neuron spike."""
        return math.pi**2 / 4

    def rest_state(self, n: int, dtype=None) -> Array:
        """The resting state V = 0, I = 0 of n neurons, shape (2, n)."""
        return zeros_state(2, n, dtype)

    def flow(self, state: Array, dt: ArrayLike) -> Array:
        """Closed-form flow over dt (SPEC section 1), all cases of the table in one formula.

        With e = exp(-dt/tau), k = 1 - e, z = I k^2, C = cos sqrt(z), S = k sin sqrt(z)/sqrt(z)
        (cosh/sinh for z < 0):  V(dt) = e (V C + I S) / (C - V S),  I(dt) = I e^2.
        For I > 0 this is s e tan(arctan(V/s) + s k) with s = sqrt(I), for I < 0 the
        tanh/coth forms, for I = 0 V / (V - (V - 1)/e). The denominator vanishes at the
        spike; a neuron at or past its spike is returned at V = 1/eps.
        """
        v, current = state[0], state[1]
        e = jnp.exp(-dt / self.tau)
        k = -jnp.expm1(-dt / self.tau)
        c, sinc = cos_sinc_pair(current * k * k)
        s = k * sinc
        numerator = e * (v * c + current * s)
        denominator = c - v * s
        before_spike = denominator > 0
        v_new = jnp.where(
            before_spike, numerator / jnp.where(before_spike, denominator, 1.0), self.v_infinity
        )
        v_new = jnp.clip(v_new, -self.v_infinity, self.v_infinity)
        return jnp.stack([v_new, current * e * e])

    def time_to_next_spike(self, state: Array) -> Array:
        """Time until V reaches +inf without input (SPEC section 1); +inf where never.

        dt = -tau ln(1 - k*), a spike iff 0 < k* < 1, with k* = arctan(s/V)/s for V > 0
        (arctanh(s/V)/s for I < 0, 1/V for I = 0; s = sqrt|I|) and
        k* = (pi/2 - arctan(V/s))/s for V <= 0 < I.
        """
        v, current = state[0], state[1]
        v_pos = jnp.where(v > 0, v, 1.0)
        ratio = current / (v_pos * v_pos)
        v_positive = (v > 0) & (ratio > -1)  # ratio <= -1: 0 < V <= sqrt(-I), no spike
        k_pos = arctan_ratio(ratio) / v_pos
        rising = (v <= 0) & (current > 0)
        root = jnp.sqrt(jnp.where(rising, current, 1.0))
        k_neg = (jnp.pi / 2 - jnp.arctan(jnp.where(rising, v, 0.0) / root)) / root
        k_star = jnp.where(v_positive, k_pos, jnp.where(rising, k_neg, jnp.inf))
        spikes = k_star < 1
        return jnp.where(spikes, -self.tau * jnp.log1p(-jnp.where(spikes, k_star, 0.0)), jnp.inf)

    def receive(self, state: Array, weight: ArrayLike) -> Array:
        """An input spike of weight w: I -> I + w."""
        return state.at[1].add(weight)

    def reset(self, state: Array) -> Array:
        """After a spike: V -> -1/eps (standing for -inf), I unchanged."""
        return state.at[0].set(-self.v_infinity)

    def voltage(self, state: Array) -> Array:
        """The membrane potential V."""
        return state[0]

    def pseudo_phase_and_period(
        self, state: Array, pseudo_input: ArrayLike = 0.0
    ) -> tuple[Array, Array]:
        """Pseudodynamics at the trial end (SPEC section 2).

        I_sp = alpha ln(1 + exp((I(T) + input)/alpha)),
        phi = tau (arctan((V(T) - 1/2)/sqrt(I_sp)) + pi/2)/sqrt(I_sp), Theta = tau pi/sqrt(I_sp).
        """
        v, current = state[0], state[1]
        suprathreshold = self.alpha * jax.nn.softplus((current + pseudo_input) / self.alpha)
        root = jnp.sqrt(suprathreshold)
        phase = self.tau * (jnp.arctan((v - 0.5) / root) + jnp.pi / 2) / root
        return phase, self.tau * jnp.pi / root
