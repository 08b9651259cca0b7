# ruff: noqa: E741
# (I is the synaptic current, as in the paper)
"""Independent high-precision numerical reference for the spiking-network tests.

Plain numpy/scipy, float64 throughout. Every ODE is integrated with
``scipy.integrate.solve_ivp`` (method "DOP853", rtol = atol = 1e-12 unless
overridden); threshold crossings are located with solve_ivp's event detection.
The exponentially decaying synaptic current (tau_s = tau / 2) is evaluated in
closed form, I(t) = I(t0) exp(-2 (t - t0) / tau), inside the right-hand sides.

Models (time unit arbitrary, tau > 0):

* QIF:    tau dV/dt = V (V - 1) + I,  dI/dt = -2 I / tau;  spike at V = +inf,
          reset V = -inf.  Integrated in the angle phi = arctan(V - 1/2):
          tau dphi/dt = sin^2(phi) + (I - 1/4) cos^2(phi);  spike at phi = pi/2,
          reset phi = -pi/2.
* LIF:    tau dV/dt = -V + I,  dI/dt = -2 I / tau;  spike at V = v_th, reset V = 0.
* theta:  tau dV/dt = V (V - 1) + I0 + tau sum_k w_k delta(t - t_k), I0 > 1/4
          (input jumps V by w); phase = time since V = -inf, period
          Theta = tau pi / c with c = sqrt(I0 - 1/4).
* oscillating LIF: tau dV/dt = -V + I0 + tau sum_k w_k delta(t - t_k), I0 > v_th;
          phase = time from V = 0 under the free flow, Theta = phase of v_th.

Precision note: V is recovered from the angle as V = tan(phi) + 1/2, so an
angle error d (~1e-12 at the default tolerances) gives dV ~ d (1 + (V - 1/2)^2):
a relative V error ~ d |V| for |V| >> 1 (measured 2e-6 at V ~ 1e6). Spike times
and angles are accurate to ~1e-11.

LIF crossings: each neuron also has a terminal event at its maximum of V (V has
at most one extremum between inputs), so a threshold crossing stepped over by
the solver is recovered by root finding on the dense output.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

RTOL: float = 1e-12
ATOL: float = 1e-12
METHOD: str = "DOP853"
HALF_PI: float = np.pi / 2  # nearest double to pi/2; phi = +-HALF_PI <=> V = +-inf

__all__ = [
    "qif_v_to_phi",
    "qif_phi_to_v",
    "qif_flow",
    "qif_time_to_spike",
    "lif_flow",
    "lif_time_to_spike",
    "theta_period",
    "theta_voltage",
    "theta_phase_transfer",
    "osc_lif_period",
    "osc_lif_voltage",
    "osc_lif_phase_transfer",
    "network_reference",
]


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
def _elementwise(func: Callable[..., float], *args: npt.ArrayLike) -> float | np.ndarray:
    """Apply the scalar function ``func`` elementwise over broadcast ``args``."""
    arrays = np.broadcast_arrays(*[np.asarray(a, dtype=np.float64) for a in args])
    if arrays[0].ndim == 0:
        return float(func(*[float(a) for a in arrays]))
    out = np.empty(arrays[0].shape, dtype=np.float64)
    for idx in np.ndindex(out.shape):
        out[idx] = func(*[float(a[idx]) for a in arrays])
    return out


def _elementwise2(
    func: Callable[..., tuple[float, float]], *args: npt.ArrayLike
) -> tuple[float, float] | tuple[np.ndarray, np.ndarray]:
    """Like ``_elementwise`` for scalar functions returning a pair."""
    arrays = np.broadcast_arrays(*[np.asarray(a, dtype=np.float64) for a in args])
    if arrays[0].ndim == 0:
        a, b = func(*[float(a) for a in arrays])
        return float(a), float(b)
    out_a = np.empty(arrays[0].shape, dtype=np.float64)
    out_b = np.empty(arrays[0].shape, dtype=np.float64)
    for idx in np.ndindex(out_a.shape):
        out_a[idx], out_b[idx] = func(*[float(a[idx]) for a in arrays])
    return out_a, out_b


def _event(index: int, level: float) -> Callable[[float, np.ndarray], float]:
    """Terminal, upward event function g(t, y) = y[index] - level."""

    def g(t: float, y: np.ndarray) -> float:
        return y[index] - level

    g.terminal = True  # type: ignore[attr-defined]
    g.direction = 1.0  # type: ignore[attr-defined]
    return g


def _lif_max_event(
    index: int, I_seg: float | np.ndarray, t_seg: float, tau: float
) -> Callable[[float, np.ndarray], float]:
    """Terminal event at a maximum of V_index: g = -V + I(t) (~ dV/dt) crossing
    downwards, I(t) = I_seg exp(-2 (t - t_seg) / tau)."""
    I0 = float(np.asarray(I_seg).reshape(-1)[index])

    def g(t: float, y: np.ndarray) -> float:
        return -y[index] + I0 * np.exp(-2.0 * (t - t_seg) / tau)

    g.terminal = True  # type: ignore[attr-defined]
    g.direction = -1.0  # type: ignore[attr-defined]
    return g


def _lif_silent(V: float, I: float, v_th: float) -> bool:
    """True if the free LIF flow provably never reaches v_th (> 0): V stays below
    max(V, I, 0) since |I| decays monotonically and tau dV/dt = I - V."""
    return max(V, I, 0.0) < v_th


def _crossing(f: Callable[[float], float], a: float, b: float) -> float:
    """Root of f in [a, b] with f(a) < 0 <= f(b) (brentq at machine precision)."""
    fb = f(b)
    if fb == 0.0:
        return b
    return float(brentq(f, a, b, xtol=4 * np.finfo(float).eps, rtol=4 * np.finfo(float).eps))


def _component_minus(
    dense: Callable[[float], np.ndarray], index: int, level: float
) -> Callable[[float], float]:
    """f(t) = dense(t)[index] - level."""

    def f(t: float) -> float:
        return float(dense(t)[index]) - level

    return f


def _first_event_time(
    rhs: Callable[[float, np.ndarray], np.ndarray],
    y0: float,
    level: float,
    t_max: float,
    rtol: float,
    atol: float,
) -> float:
    """Time of the first upward crossing y(t) = level of the scalar ODE y' = rhs
    started at y(0) = y0 < level; np.inf if none within [0, t_max]."""
    sol = solve_ivp(
        rhs, (0.0, t_max), [y0], method=METHOD, rtol=rtol, atol=atol, events=_event(0, level)
    )
    if sol.status == 1 and len(sol.t_events[0]) > 0:
        return float(sol.t_events[0][0])
    return np.inf


def _integrate(
    rhs: Callable[[float, np.ndarray], np.ndarray],
    y0: float,
    t_end: float,
    rtol: float,
    atol: float,
) -> float:
    """y(t_end) for the scalar ODE y' = rhs(t, y), y(0) = y0 (t_end may be < 0)."""
    if t_end == 0.0:
        return y0
    sol = solve_ivp(rhs, (0.0, t_end), [y0], method=METHOD, rtol=rtol, atol=atol)
    if not sol.success:
        raise RuntimeError(sol.message)
    return float(sol.y[0, -1])


# ---------------------------------------------------------------------------
# QIF neuron with decaying synaptic current
# ---------------------------------------------------------------------------
def qif_v_to_phi(V: float) -> float:
    """phi = arctan(V - 1/2), with V = -inf -> -pi/2 and V = +inf -> +pi/2."""
    if V == np.inf:
        return HALF_PI
    if V == -np.inf:
        return -HALF_PI
    return float(np.arctan(V - 0.5))


def qif_phi_to_v(phi: float) -> float:
    """V = tan(phi) + 1/2, with phi <= -pi/2 -> -inf and phi >= pi/2 -> +inf."""
    if phi >= HALF_PI:
        return np.inf
    if phi <= -HALF_PI:
        return -np.inf
    return float(np.tan(phi) + 0.5)


def _qif_rhs(I0: float, tau: float) -> Callable[[float, np.ndarray], np.ndarray]:
    """tau dphi/dt = sin^2 phi + (I(t) - 1/4) cos^2 phi,  I(t) = I0 exp(-2t/tau)."""

    def rhs(t: float, y: np.ndarray) -> np.ndarray:
        I = I0 * np.exp(-2.0 * t / tau)
        s, c = np.sin(y), np.cos(y)
        return (s * s + (I - 0.25) * c * c) / tau

    return rhs


def _qif_flow_scalar(
    V: float, I: float, dt: float, tau: float, rtol: float, atol: float
) -> tuple[float, float]:
    if not 0.0 <= dt < np.inf:
        raise ValueError("dt must be finite and >= 0")
    I_new = I * np.exp(-2.0 * dt / tau)
    if dt == 0.0:
        return V, I
    phi0 = qif_v_to_phi(V)
    if phi0 >= HALF_PI:
        return np.nan, I_new  # spikes immediately
    sol = solve_ivp(
        _qif_rhs(I, tau),
        (0.0, dt),
        [phi0],
        method=METHOD,
        rtol=rtol,
        atol=atol,
        events=_event(0, HALF_PI),
    )
    if sol.status == 1:
        return np.nan, I_new  # a spike occurred within dt
    return qif_phi_to_v(float(sol.y[0, -1])), I_new


def qif_flow(
    V: npt.ArrayLike,
    I: npt.ArrayLike,
    dt: npt.ArrayLike,
    tau: float,
    rtol: float = RTOL,
    atol: float = ATOL,
):
    """Free QIF flow over dt >= 0 (no input):
    tau dV/dt = V (V - 1) + I,  I(t) = I exp(-2t/tau), integrated in phi.

    Returns (V_new, I_new) (broadcast arrays or floats). V_new is nan if a spike
    (V -> +inf) occurs within dt.
    """
    return _elementwise2(lambda v, i, d: _qif_flow_scalar(v, i, d, tau, rtol, atol), V, I, dt)


def _qif_tts_scalar(
    V: float, I: float, tau: float, horizon: float, rtol: float, atol: float
) -> float:
    phi0 = qif_v_to_phi(V)
    if phi0 >= HALF_PI:
        return 0.0
    return _first_event_time(_qif_rhs(I, tau), phi0, HALF_PI, horizon * tau, rtol, atol)


def qif_time_to_spike(
    V: npt.ArrayLike,
    I: npt.ArrayLike,
    tau: float,
    horizon: float = 60.0,
    rtol: float = RTOL,
    atol: float = ATOL,
):
    """Time until V reaches +inf (phi = pi/2) from (V, I) with no input;
    np.inf if none before horizon * tau; 0 if V = +inf."""
    return _elementwise(lambda v, i: _qif_tts_scalar(v, i, tau, horizon, rtol, atol), V, I)


# ---------------------------------------------------------------------------
# current-based LIF
# ---------------------------------------------------------------------------
def _lif_rhs(I0: float, tau: float) -> Callable[[float, np.ndarray], np.ndarray]:
    """tau dV/dt = -V + I(t),  I(t) = I0 exp(-2t/tau)."""

    def rhs(t: float, y: np.ndarray) -> np.ndarray:
        return (-y + I0 * np.exp(-2.0 * t / tau)) / tau

    return rhs


def lif_flow(
    V: npt.ArrayLike,
    I: npt.ArrayLike,
    dt: npt.ArrayLike,
    tau: float,
    rtol: float = RTOL,
    atol: float = ATOL,
):
    """Free LIF flow over dt (no input, threshold NOT applied):
    tau dV/dt = -V + I,  dI/dt = -2I/tau.  Returns (V_new, I_new)."""

    def one(v: float, i: float, d: float) -> tuple[float, float]:
        return _integrate(_lif_rhs(i, tau), v, d, rtol, atol), i * np.exp(-2.0 * d / tau)

    return _elementwise2(one, V, I, dt)


def _lif_tts_scalar(
    V: float, I: float, tau: float, v_th: float, horizon: float, rtol: float, atol: float
) -> float:
    if V >= v_th:
        return 0.0
    if _lif_silent(V, I, v_th):
        return np.inf
    sol = solve_ivp(
        _lif_rhs(I, tau),
        (0.0, horizon * tau),
        [V],
        method=METHOD,
        rtol=rtol,
        atol=atol,
        events=[_event(0, v_th), _lif_max_event(0, I, 0.0, tau)],
        dense_output=True,
    )
    if sol.status != 1:
        return np.inf
    if len(sol.t_events[0]) > 0:  # threshold event
        return float(sol.t_events[0][0])
    # stopped at the maximum of V (V then = I < v_th unless a grazing crossing was
    # stepped over, in which case it lies in [0, t_max] where V(0) < v_th)
    t_max, v_max = float(sol.t[-1]), float(sol.y[0, -1])
    if v_max >= v_th:
        return _crossing(lambda t: float(sol.sol(t)[0]) - v_th, 0.0, t_max)
    return np.inf


def lif_time_to_spike(
    V: npt.ArrayLike,
    I: npt.ArrayLike,
    tau: float,
    v_th: float = 1.0,
    horizon: float = 60.0,
    rtol: float = RTOL,
    atol: float = ATOL,
):
    """Time of the first upward crossing V = v_th (> 0) of the free LIF flow
    tau dV/dt = -V + I e^{-2t/tau}; 0 if V >= v_th, np.inf if none before horizon * tau.

    Events: V - v_th (up) and the maximum of V (dV/dt down). V has at most one
    extremum, so a crossing stepped over by the solver is recovered from the
    maximum, and after a subthreshold maximum (V = I < v_th) no spike can follow.
    """
    if v_th <= 0:
        raise ValueError("v_th must be > 0")
    return _elementwise(lambda v, i: _lif_tts_scalar(v, i, tau, v_th, horizon, rtol, atol), V, I)


# ---------------------------------------------------------------------------
# theta neuron (QIF with constant current I0 > 1/4, pulse coupling)
# ---------------------------------------------------------------------------
def theta_period(tau: float, I0: float) -> float:
    """Theta = tau pi / c,  c = sqrt(I0 - 1/4)."""
    if I0 <= 0.25:
        raise ValueError("theta neuron needs I0 > 1/4")
    return tau * np.pi / np.sqrt(I0 - 0.25)


def _theta_rhs(I0: float, tau: float) -> Callable[[float, np.ndarray], np.ndarray]:
    """tau dphi/dt = sin^2 phi + (I0 - 1/4) cos^2 phi."""

    def rhs(t: float, y: np.ndarray) -> np.ndarray:
        s, c = np.sin(y), np.cos(y)
        return (s * s + (I0 - 0.25) * c * c) / tau

    return rhs


def _theta_phi_from_phase(phase: float, tau: float, I0: float, rtol: float, atol: float) -> float:
    """Angle reached from phi = -pi/2 after time `phase`; pi/2 (V = +inf) if
    phase >= Theta (by definition) or if the spike event is reached."""
    if phase < 0.0:
        raise ValueError("theta phase must be >= 0")
    if phase == 0.0:
        return -HALF_PI
    if phase >= theta_period(tau, I0):
        return HALF_PI
    sol = solve_ivp(
        _theta_rhs(I0, tau),
        (0.0, phase),
        [-HALF_PI],
        method=METHOD,
        rtol=rtol,
        atol=atol,
        events=_event(0, HALF_PI),
    )
    if sol.status == 1:
        return HALF_PI
    return min(float(sol.y[0, -1]), HALF_PI)


def _theta_phase_from_phi(phi: float, tau: float, I0: float, rtol: float, atol: float) -> float:
    """phase = Theta - (time from phi to the spike), clipped into [0, Theta]."""
    Theta = theta_period(tau, I0)
    if phi <= -HALF_PI:
        return 0.0
    if phi >= HALF_PI:
        return Theta
    r = _first_event_time(_theta_rhs(I0, tau), phi, HALF_PI, 2.0 * Theta, rtol, atol)
    return float(np.clip(Theta - r, 0.0, Theta))


def _jump_phi(phi: float, w: float) -> float:
    """Angle after the voltage jump V -> V + w: arctan(tan(phi) + w); +-inf fixed."""
    if phi >= HALF_PI:
        return HALF_PI
    if phi <= -HALF_PI:
        return -HALF_PI
    return float(np.arctan(np.tan(phi) + w))


def theta_voltage(
    phase: npt.ArrayLike, tau: float, I0: float, rtol: float = RTOL, atol: float = ATOL
):
    """V at `phase` in [0, Theta]: integrate tau dphi/dt = sin^2 + (I0-1/4) cos^2
    from phi = -pi/2 for time `phase`, V = tan(phi) + 1/2."""
    return _elementwise(
        lambda p: qif_phi_to_v(_theta_phi_from_phase(p, tau, I0, rtol, atol)), phase
    )


def theta_phase_transfer(
    phase: npt.ArrayLike,
    w: npt.ArrayLike,
    tau: float,
    I0: float,
    rtol: float = RTOL,
    atol: float = ATOL,
):
    """H(phase, w) = Theta - r, r = time to spike after the jump V -> V + w
    applied at `phase` (all numerical, in the angle variable); in [0, Theta]."""

    def one(p: float, ww: float) -> float:
        phi = _jump_phi(_theta_phi_from_phase(p, tau, I0, rtol, atol), ww)
        return _theta_phase_from_phi(phi, tau, I0, rtol, atol)

    return _elementwise(one, phase, w)


# ---------------------------------------------------------------------------
# oscillating LIF (constant current I0 > v_th, pulse coupling)
# ---------------------------------------------------------------------------
def _osc_rhs(I0: float, tau: float) -> Callable[[float, np.ndarray], np.ndarray]:
    """tau dV/dt = -V + I0."""

    def rhs(t: float, y: np.ndarray) -> np.ndarray:
        return (-y + I0) / tau

    return rhs


def osc_lif_period(
    tau: float, I0: float, v_th: float = 1.0, rtol: float = RTOL, atol: float = ATOL
) -> float:
    """Theta = time from V = 0 to V = v_th under tau dV/dt = -V + I0 (numerical)."""
    if I0 <= v_th:
        raise ValueError("oscillating LIF needs I0 > v_th")
    return _first_event_time(_osc_rhs(I0, tau), 0.0, v_th, np.inf, rtol, atol)


def osc_lif_voltage(
    phase: npt.ArrayLike, tau: float, I0: float, rtol: float = RTOL, atol: float = ATOL
):
    """V after time `phase` (may be negative) from V = 0 under tau dV/dt = -V + I0."""
    return _elementwise(lambda p: _integrate(_osc_rhs(I0, tau), 0.0, p, rtol, atol), phase)


def osc_lif_phase_transfer(
    phase: npt.ArrayLike,
    w: npt.ArrayLike,
    tau: float,
    I0: float,
    v_th: float = 1.0,
    rtol: float = RTOL,
    atol: float = ATOL,
):
    """H(phase, w) = Theta - r, r = time from V(phase) + w to v_th under the free
    flow; H = Theta if V(phase) + w >= v_th (immediate spike). H < 0 if V + w < 0."""
    Theta = osc_lif_period(tau, I0, v_th, rtol, atol)

    def one(p: float, ww: float) -> float:
        v = _integrate(_osc_rhs(I0, tau), 0.0, p, rtol, atol) + ww
        if v >= v_th:
            return Theta
        r = _first_event_time(_osc_rhs(I0, tau), v, v_th, np.inf, rtol, atol)
        return Theta - r

    return _elementwise(one, phase, w)


# ---------------------------------------------------------------------------
# recurrent networks
# ---------------------------------------------------------------------------
def network_reference(
    kind: str,
    W_net: npt.ArrayLike,
    W_in: npt.ArrayLike,
    input_times: npt.ArrayLike,
    input_neurons: npt.ArrayLike,
    V0: npt.ArrayLike,
    I0: npt.ArrayLike | None,
    T: float,
    tau: float = 1.0,
    v_th: float = 1.0,
    I_const: float | None = None,
    rtol: float = RTOL,
    atol: float = ATOL,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Event-driven numerical simulation of a recurrent network on [0, T].

    kind "qif":   tau dV_i/dt = V_i (V_i - 1) + I_i, dI_i/dt = -2 I_i / tau (angle form),
                  spike V = +inf -> reset -inf; a spike of j adds W_net[i, j] to I_i.
    kind "lif":   tau dV_i/dt = -V_i + I_i, same I; spike V >= v_th -> reset 0.
    kind "theta": tau dV_i/dt = V_i (V_i - 1) + I_const, a spike of j makes V_i jump
                  by W_net[i, j]; V0 holds initial phases, I0 ignored.
    Input k (time input_times[k] in [0, T), source input_neurons[k]) delivers
    W_in[:, input_neurons[k]] the same way (equal times: in the given order).
    Recurrent weights (self-connections included) are delivered after the reset.
    Between events the whole network is integrated with solve_ivp, one terminal
    threshold event per neuron (LIF: also a terminal event at each maximum of V,
    to recover crossings stepped over; neurons with max(V, I, 0) < v_th are
    provably silent until their next input and get no events). Neurons found
    at/above threshold at a segment start spike there (in index order).

    Returns (spike_times sorted in [0, T), spike_neurons, final_state) with
    final_state = [V; I] of shape (2, N) (qif, lif; QIF V may be +-inf) or the
    phases, shape (1, N) (theta).
    """
    if kind not in ("qif", "lif", "theta"):
        raise ValueError(f"unknown kind {kind!r}")
    W_net = np.asarray(W_net, dtype=np.float64)
    N = W_net.shape[0]
    W_in = np.asarray(W_in, dtype=np.float64).reshape(N, -1)
    times = np.asarray(input_times, dtype=np.float64).reshape(-1)
    sources = np.asarray(input_neurons, dtype=np.int64).reshape(-1)
    keep = (times >= 0.0) & (times < T)
    times, sources = times[keep], sources[keep]
    order = np.argsort(times, kind="stable")
    times, sources = times[order], sources[order]

    # --- state: y (angle for qif/theta, V for lif) and I at the segment start t_seg
    if kind == "qif":
        y = np.array([qif_v_to_phi(float(v)) for v in np.asarray(V0, dtype=np.float64).reshape(N)])
        I = np.asarray(I0, dtype=np.float64).reshape(N).copy()
        level, reset_value = HALF_PI, -HALF_PI
    elif kind == "lif":
        y = np.asarray(V0, dtype=np.float64).reshape(N).copy()
        I = np.asarray(I0, dtype=np.float64).reshape(N).copy()
        level, reset_value = v_th, 0.0
    else:
        if I_const is None:
            raise ValueError("theta networks need I_const")
        theta_period(tau, I_const)  # validates I_const > 1/4
        y = np.array(
            [
                _theta_phi_from_phase(float(p), tau, I_const, rtol, atol)
                for p in np.asarray(V0, dtype=np.float64).reshape(N)
            ]
        )
        I = np.zeros(N)
        level, reset_value = HALF_PI, -HALF_PI

    def rhs_factory(I_seg: np.ndarray, t_seg: float) -> Callable[[float, np.ndarray], np.ndarray]:
        if kind == "qif":

            def rhs(t: float, phi: np.ndarray) -> np.ndarray:
                Ic = I_seg * np.exp(-2.0 * (t - t_seg) / tau)
                s, c = np.sin(phi), np.cos(phi)
                return (s * s + (Ic - 0.25) * c * c) / tau
        elif kind == "lif":

            def rhs(t: float, v: np.ndarray) -> np.ndarray:
                return (-v + I_seg * np.exp(-2.0 * (t - t_seg) / tau)) / tau
        else:

            def rhs(t: float, phi: np.ndarray) -> np.ndarray:
                s, c = np.sin(phi), np.cos(phi)
                return (s * s + (I_const - 0.25) * c * c) / tau

        return rhs

    def deliver(w: np.ndarray) -> None:
        if kind == "theta":
            for j in range(N):
                if w[j] != 0.0:
                    y[j] = _jump_phi(y[j], w[j])
        else:
            I[:] += w

    spike_t: list[float] = []
    spike_i: list[int] = []

    def spike(i: int, t: float) -> None:
        spike_t.append(t)
        spike_i.append(i)
        y[i] = reset_value
        deliver(W_net[:, i])

    def flush(t: float) -> None:
        """Spike (in index order, repeatedly) every neuron at/above threshold (t < T)."""
        if t >= T:
            return
        for _ in range(100 * N + 100):
            above = np.nonzero(y >= level)[0]
            if above.size == 0:
                return
            spike(int(above[0]), t)
        raise RuntimeError("runaway simultaneous spiking")

    if kind == "lif" and v_th <= 0:
        raise ValueError("v_th must be > 0")
    thr_events = [_event(i, level) for i in range(N)]
    t, k, n_in = 0.0, 0, times.size
    while True:
        flush(t)
        if k < n_in and times[k] <= t:
            while k < n_in and times[k] <= t:
                deliver(W_in[:, sources[k]])
                k += 1
            flush(t)
        t_stop = times[k] if k < n_in else T
        if t_stop > t:
            I_seg = I.copy()
            if kind == "lif":
                active = [i for i in range(N) if not _lif_silent(y[i], I_seg[i], v_th)]
                max_events = [_lif_max_event(i, I_seg, t, tau) for i in active]
                events = [thr_events[i] for i in active] + max_events
            else:
                active = list(range(N))
                events = thr_events
            sol = solve_ivp(
                rhs_factory(I_seg, t),
                (t, t_stop),
                y.copy(),
                method=METHOD,
                rtol=rtol,
                atol=atol,
                events=events or None,
                dense_output=kind == "lif",
            )
            if not sol.success:
                raise RuntimeError(sol.message)
            t_end = float(sol.t[-1])  # = t_stop, or the time of the first event
            y[:] = sol.y[:, -1]
            if kind != "theta":
                I[:] = I_seg * np.exp(-2.0 * (t_end - t) / tau)
            if sol.status == 1:
                # crossing times in (t, t_end]: threshold events, and (LIF) any neuron
                # found above threshold at t_end (a crossing stepped over by the solver)
                cross: list[tuple[float, int]] = []
                for n, i in enumerate(active):
                    if len(sol.t_events[n]) > 0:
                        cross.append((float(sol.t_events[n][0]), i))
                    elif kind == "lif" and y[i] >= level:
                        cross.append((_crossing(_component_minus(sol.sol, i, level), t, t_end), i))
                if cross:
                    tc, i_sp = min(cross)
                    if tc < t_end:  # only for a stepped-over LIF crossing
                        y[:] = sol.sol(tc)
                        I[:] = I_seg * np.exp(-2.0 * (tc - t) / tau)
                    y[i_sp] = level  # exactly at threshold: the next flush spikes it
                    t = tc
                else:  # LIF maximum below threshold: restart from there
                    t = t_end
                continue
            t = t_stop
        if t >= T:
            break

    st = np.asarray(spike_t, dtype=np.float64)
    si = np.asarray(spike_i, dtype=np.int64)
    o = np.argsort(st, kind="stable")
    st, si = st[o], si[o]
    if kind == "qif":
        final = np.stack([np.array([qif_phi_to_v(float(p)) for p in y]), I])
    elif kind == "lif":
        final = np.stack([y.copy(), I])
    else:
        final = np.array([[_theta_phase_from_phi(float(p), tau, I_const, rtol, atol) for p in y]])
    return st, si, final
