"""Quadratic integrate-and-fire neuron with an exponentially decaying synaptic current."""

import math
from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.typing import ArrayLike, DTypeLike
from jaxtyping import Float

from ._base import PseudodynamicsModel, as_float_fields, check_positive, largest, zeros_state
from ._functions import arctan_ratio, cos_sinc_pair


@dataclass(frozen=True)
class QIF(PseudodynamicsModel):
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

    def __post_init__(self) -> None:
        as_float_fields(self, "tau", "alpha", "eps")
        check_positive(self, tau=self.tau, alpha=self.alpha, eps=self.eps)
        if self.eps > 1e-3:
            raise ValueError(
                f"QIF: parameter eps must be <= 1e-3 (1/eps stands for infinity), got {self.eps!r}"
            )

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
        """Closed-form flow over dt, all cases of the table in one formula (book/theory.md,
        "Closed-form flow").

        With e = exp(-dt/tau), k = 1 - e, z = I k^2, C = cos sqrt(z), S = k sin sqrt(z)/sqrt(z)
        (cosh/sinh for z < 0):  V(dt) = e (V C + I S) / (C - V S),  I(dt) = I e^2.
        For I > 0 this is s e tan(arctan(V/s) + s k) with s = sqrt(I), for I < 0 the
        tanh/coth forms, for I = 0 V / (V - (V - 1)/e). The denominator vanishes at the
        spike; a neuron at or past its spike is returned at V = 1/eps.
        """
        v, current = state[0], state[1]
        dt = jnp.asarray(dt)
        e = jnp.exp(-dt / self.tau)
        k = -jnp.expm1(-dt / self.tau)
        c, sinc = cos_sinc_pair(current * k * k)
        s = k * sinc
        numerator = e * (v * c + current * s)
        denominator = c - v * s
        before_spike = ~(denominator <= 0)  # NaN stays NaN (never a spike at 1/eps)
        v_new = jnp.where(
            before_spike, numerator / jnp.where(before_spike, denominator, 1.0), self.v_infinity
        )
        v_new = jnp.clip(v_new, -self.v_infinity, self.v_infinity)
        return jnp.stack([v_new, current * e * e])

    def time_to_next_spike(self, state: Array) -> Array:
        """Time until V reaches +inf without input (book/theory.md, "Time to the next
        spike"); +inf where never.

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

    def state_problem(self, state) -> str | None:
        """V may be -inf (just reset: the state right after a spike); V = +inf (a spike
        at t = 0) and infinite I are refused. NaN is allowed (an unknown neuron)."""
        refused = np.isposinf(state[0]) | np.isinf(state[1])
        if refused.any():
            neuron = int(np.argwhere(refused)[0][0])
            v, current = state[0, neuron], state[1, neuron]
            return (
                f"neuron {neuron} starts at V = {v}, I = {current}: QIF states need a "
                "finite I and V < +inf (V = -inf, the state right after a spike, is "
                "allowed); pass a finite state"
            )
        return None

    def canonical_state(self, state: Array) -> Array:
        """V = -inf (right after a spike) becomes -1/eps, the model's reset value, as
        `reset` sets it; V = +inf and infinite I are NaN; other states pass unchanged."""
        v, current = state[0], state[1]
        v = jnp.where(jnp.isneginf(v), -self.v_infinity, v)
        refused = jnp.isposinf(v) | jnp.isinf(current)
        return jnp.where(refused, jnp.nan, jnp.stack([v, current]))

    def check_dtype(self, dtype: DTypeLike) -> None:
        """1/eps (the numerical infinity of V) must be a finite number of the state dtype."""
        if self.v_infinity > largest(dtype):
            raise ValueError(
                f"QIF: parameter eps={self.eps!r} is too small for {jnp.dtype(dtype).name} "
                f"states: 1/eps overflows (largest {largest(dtype):.3g}); pass a larger eps "
                "(e.g. the default 1e-12) or float64 states"
            )

    def pseudo_phase_and_period(
        self, state: Float[Array, "2 ..."], pseudo_input: ArrayLike = 0.0
    ) -> tuple[Float[Array, " ..."], Float[Array, " ..."]]:
        """Pseudodynamics at the trial end (book/theory.md, "Pseudodynamics and pseudospikes").

        I_sp = alpha ln(1 + exp((I(T) + input)/alpha)),
        phi = tau (arctan((V(T) - 1/2)/sqrt(I_sp)) + pi/2)/sqrt(I_sp), Theta = tau pi/sqrt(I_sp).
        Under strong inhibition (I_sp tiny) see `_PseudoParts`; Theta is +inf where it
        exceeds the largest number of the dtype.
        """
        parts = _PseudoParts.of(self, state, pseudo_input)
        return (
            jnp.where(parts.direct, parts.phase, parts.phase_stable),
            jnp.where(parts.direct, parts.period, parts.period_stable),
        )

    def pseudo_rate(
        self, state: Float[Array, "2 ..."], pseudo_input: ArrayLike = 0.0
    ) -> Float[Array, " ..."]:
        """r = phi / Theta = 1 - (Theta - phi) / Theta, in [0, 1], finite for any I(T)."""
        parts = _PseudoParts.of(self, state, pseudo_input)
        return jnp.where(parts.direct, parts.phase / parts.period, 1.0 - parts.remaining_fraction)

    def pseudospike_times(
        self,
        state: Float[Array, "2 ..."],
        duration: ArrayLike,
        n_spikes: int,
        pseudo_input: ArrayLike = 0.0,
    ) -> Float[Array, "... n_spikes"]:
        """t_k = T + k Theta - phi = T + (k - 1) Theta + (Theta - phi), k = 1..n_spikes.

        The second form is used under strong inhibition, where Theta - phi (the time to
        the first pseudospike) is computed without cancellation; times beyond the largest
        number of the dtype are +inf (with zero gradient, never nan).
        """
        parts = _PseudoParts.of(self, state, pseudo_input)
        k = jnp.arange(1, n_spikes + 1)
        direct = duration + k * parts.period[..., None] - parts.phase[..., None]
        later = jnp.where(k > 1, (k - 1) * parts.period_stable[..., None], 0.0)  # no 0 * inf
        stable = duration + later + parts.remaining[..., None]
        return jnp.where(parts.direct[..., None], direct, stable)


_LOG_SOFTPLUS_LINEAR = -40.0  # below: ln(softplus(z)) = z to double precision


class _PseudoParts(NamedTuple):
    """The QIF pseudodynamics in two forms, selected elementwise by `direct`.

    direct: the paper's formula (phase, period), used where I_sp is not small
    (z = (I(T) + input)/alpha above -20 in float64, -3 in lower precision).
    Elsewhere the stable form: ln I_sp = ln alpha + ln softplus(z) (= z for z < -40, so
    that I_sp itself never underflows), r = sqrt(I_sp) and 1/r from ln I_sp, u = V - 1/2,
    and the time to the first pseudospike remaining = Theta - phi =
    tau arctan(r/u)/r = (tau/u) arctan_ratio((r/u)^2) for u > r (no cancellation as
    r -> 0: it tends to tau/u), tau (pi/2 - arctan(u/r))/r otherwise.
    remaining_fraction = remaining/Theta. Every branch is evaluated at harmless arguments
    where it is not selected (double where), so no nan reaches values or gradients.
    """

    direct: Array
    phase: Array
    period: Array
    phase_stable: Array
    period_stable: Array
    remaining: Array
    remaining_fraction: Array

    @classmethod
    def of(cls, model: "QIF", state: Array, pseudo_input: ArrayLike) -> "_PseudoParts":
        v, current = state[0], state[1]
        tau = model.tau
        z = (current + pseudo_input) / model.alpha
        threshold = -20.0 if z.dtype == jnp.float64 else -3.0
        direct = z > threshold
        # the paper's formula
        z_direct = z + jax.lax.stop_gradient(jnp.where(direct, 0.0, -z))  # z exactly, or 0
        root = jnp.sqrt(model.alpha * jax.nn.softplus(z_direct))
        phase = tau * (jnp.arctan((v - 0.5) / root) + jnp.pi / 2) / root
        period_direct = tau * jnp.pi / root
        # the stable form
        z_stable = jnp.where(direct, threshold, z)
        linear = z_stable < _LOG_SOFTPLUS_LINEAR
        log_softplus = jnp.where(
            linear, z_stable, jnp.log(jax.nn.softplus(jnp.where(linear, 0.0, z_stable)))
        )
        half_log = 0.5 * (math.log(model.alpha) + log_softplus)  # ln r
        # Theta = tau pi / r is finite where ln(1/r) < big
        big = math.log(largest(z.dtype)) - max(math.log(tau * math.pi), 0.0) - 1.0
        representable = -half_log < big
        r = jnp.exp(half_log)
        inverse_r = jnp.exp(jnp.where(representable, -half_log, 0.0))
        u = v - 0.5
        above = u > r
        u_above = jnp.where(above, u, 1.0)
        w = r / u_above
        remaining_above = tau * arctan_ratio(w * w) / u_above
        # pi/2 - arctan(u/r), evaluated at (1, 0) where not needed (no 0/0 in its gradient)
        angle_below = jnp.arctan2(jnp.where(above, 1.0, r), jnp.where(above, 0.0, u))
        remaining = jnp.where(
            above, remaining_above, jnp.where(representable, tau * angle_below * inverse_r, jnp.inf)
        )
        fraction = jnp.where(above, arctan_ratio(w * w) * w, angle_below) / jnp.pi
        period = jnp.where(representable, tau * jnp.pi * inverse_r, jnp.inf)
        negative = u < 0  # phi = tau arctan(r/|u|)/r without cancellation
        u_negative = jnp.where(negative, u, -1.0)
        w_negative = r / u_negative
        phase_stable = jnp.where(
            negative,
            tau * arctan_ratio(w_negative * w_negative) / -u_negative,
            jnp.where(representable | above, period - remaining, jnp.inf),
        )
        return cls(
            direct=direct,
            phase=phase,
            period=period_direct,
            phase_stable=phase_stable,
            period_stable=period,
            remaining=remaining,
            remaining_fraction=fraction,
        )
