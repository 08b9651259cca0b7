# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # A new neuron model in one file
#
# The simulators never look inside a neuron's state: they call the methods of the
# {py:class}`snnlib.NeuronModel` interface (closed-form flow, time to the next spike, input,
# reset). A new model is therefore one small class, which in your own project lives in one
# file (say `my_neurons.py`) next to the code that uses it. This tutorial writes a
# *perfect integrate-and-fire* neuron with an exponentially decaying synaptic current,
#
# $$
# \tau \dot V = I, \qquad \tau_s \dot I = -I,
# $$
#
# an input of weight $w$ adding $w$ to $I$, a spike when $V$ reaches $V_\mathrm{th} = 1$ and a
# reset to $V = 0$; then checks its spike times against a numerical solution of the ODE
# (`scipy.integrate.solve_ivp`) and its gradients against finite differences. (Like the LIF
# neuron it spikes at a finite threshold, so it has no pseudospikes; a model whose spikes are
# generated at infinite voltage derives from {py:class}`snnlib.PseudodynamicsModel` and also
# implements its pseudodynamics, see {doc}`../architecture`.)
#
# Source of this page: {download}`notebooks/guide_neuron_model.py
# <../../notebooks/guide_neuron_model.py>`.

# %% tags=["hide-input"]
from dataclasses import dataclass
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np
from IPython.display import Markdown, display
from scipy.integrate import solve_ivp

import snnlib
from snnlib.notebook import check_parameters, record_numbers, show_run_notice

jax.config.update("jax_enable_x64", True)

# %% tags=["parameters"]
quick = False  # True: fewer random trials in the comparison with the ODE solution

# %% tags=["remove-input"]
check_parameters(quick=(quick, bool))
show_run_notice(quick, "10 instead of 100 random trials in the comparison with the ODE solution")
numbers = {"quick": quick}

# %% [markdown]
# ## The model
#
# A frozen dataclass of the parameters (hashable: the simulators take the model as a static
# argument of `jax.jit`), derived from `NeuronModel`, with every abstract member. Each method
# acts elementwise on states of shape (D, ...), here D = 2: (V, I). Solving the ODE between
# events gives the flow, with $e = e^{-\Delta t/\tau_s}$:
#
# $$
# V(\Delta t) = V + \frac{\tau_s}{\tau} I (1 - e), \qquad I(\Delta t) = I e,
# $$
#
# and $V$ reaches 1 where $e = 1 - (1 - V)\,\tau / (\tau_s I)$, which lies in $(0, 1)$ only
# for $I > 0$ and $(1 - V)\,\tau < \tau_s I$ (otherwise no spike: $+\infty$). `jnp.where`
# selects the branch, and each branch not taken gets a harmless argument (`safe`), so that
# reverse-mode gradients never meet a NaN from the logarithm of a negative number.


# %%
@dataclass(frozen=True)
class PerfectIF(snnlib.NeuronModel):
    """Perfect integrate-and-fire:  tau dV/dt = I,  tau_s dI/dt = -I;  spike at V = 1,
    reset to V = 0; an input of weight w adds w to I. State (V, I), shape (2, ...)."""

    tau: float = 1.0
    tau_s: float = 0.5

    state_dim: ClassVar[int] = 2

    def __post_init__(self) -> None:
        for name in ("tau", "tau_s"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and value > 0):
                raise ValueError(f"PerfectIF: parameter {name} must be positive, got {value!r}")

    @property
    def min_spiking_input(self) -> float:
        """From rest V grows to (tau_s / tau) w: a spike needs w > tau / tau_s."""
        return self.tau / self.tau_s

    def rest_state(self, n, dtype=None):
        return jnp.zeros((2, n), dtype)

    def flow(self, state, dt):
        v, current = state[0], state[1]
        e = jnp.exp(-dt / self.tau_s)
        return jnp.stack([v + self.tau_s / self.tau * current * (1 - e), current * e])

    def time_to_next_spike(self, state):
        v, current = state[0], state[1]
        gap = (1.0 - v) * self.tau  # what the current still has to deliver, times tau
        spikes = (current > 0) & (gap < self.tau_s * current)
        safe = jnp.where(spikes, current, 1.0)
        e = 1.0 - jnp.where(spikes, gap, 0.0) / (self.tau_s * safe)
        dt = -self.tau_s * jnp.log(jnp.where(spikes, e, 1.0))
        return jnp.where(v >= 1.0, 0.0, jnp.where(spikes, dt, jnp.inf))

    def receive(self, state, weight):
        return state.at[1].add(weight)

    def reset(self, state):
        return state.at[0].set(0.0)

    def voltage(self, state):
        return state[0]


model = PerfectIF(tau=1.0, tau_s=0.5)
print(model, "| a resting neuron spikes for w >", model.min_spiking_input)

# %% [markdown]
# That is the whole model: {py:func}`snnlib.simulate`, the readouts and `jax.grad` work
# with it unchanged. One neuron with three input spikes:

# %%
input_times = jnp.array([0.2, 0.9, 1.5])
input_weights = jnp.array([1.5, 1.2, 2.5])
duration = 4.0


def simulate_one(weights, times, max_events=16):
    return snnlib.simulate(
        model,
        jnp.zeros((1, 1)),
        weights[None, :],
        times,
        jnp.arange(times.shape[0]),
        model.rest_state(1),
        duration,
        max_events,
    )


events = simulate_one(input_weights, input_times)
spikes = snnlib.ordinary_spike_times(events, [0], 4)[0]
print("spike times:", np.asarray(spikes))

# %% [markdown]
# ## Checked against the ODE
#
# The same trial integrated numerically: `solve_ivp` (tolerance $10^{-12}$) from input to
# input, stopping at $V = 1$ to reset. Then the same for random trials.


# %%
def ode_spike_times(weights, times, tau=model.tau, tau_s=model.tau_s, T=duration):
    def rhs(t, y):
        return [y[1] / tau, -y[1] / tau_s]

    def threshold(t, y):
        return y[0] - 1.0

    threshold.terminal, threshold.direction = True, 1
    order = np.argsort(times)
    arrivals = list(zip(np.asarray(times)[order], np.asarray(weights)[order], strict=True))
    state, t, spikes = np.zeros(2), 0.0, []
    boundaries = [a for a, _ in arrivals] + [T]
    for index, stop in enumerate(boundaries):
        while t < stop:
            solution = solve_ivp(rhs, (t, stop), state, events=threshold, rtol=1e-12, atol=1e-12)
            state, t = solution.y[:, -1].copy(), solution.t[-1]
            if solution.status == 1:  # reached V = 1
                spikes.append(t)
                state[0] = 0.0
            else:
                t = stop
        if index < len(arrivals):
            state[1] += arrivals[index][1]
    return np.array(spikes)


reference = ode_spike_times(input_weights, input_times)
first_difference = float(np.max(np.abs(reference - np.asarray(spikes)[: len(reference)])))
print("ODE spike times:", reference)


@jax.jit  # one compilation for all random trials (same shapes)
def trial_spike_times(weights, times):
    events = simulate_one(weights, times)
    return snnlib.ordinary_spike_times(events, [0], 8)[0], events.exhausted


rng = np.random.default_rng(0)
n_trials = 10 if quick else 100
worst, counted = 0.0, 0
for _ in range(n_trials):
    times = np.sort(rng.uniform(0, duration, 6))
    weights = rng.uniform(0.0, 2.5, 6)
    exact, exhausted = trial_spike_times(jnp.asarray(weights), jnp.asarray(times))
    snnlib.raise_if_exhausted(exhausted, "max_events=16", "pass a larger max_events")
    exact = np.asarray(exact)
    exact = exact[np.isfinite(exact)]
    ode = ode_spike_times(weights, times)
    # a spike within the ODE tolerance of T may be counted on either side: compare the rest
    if len(exact) != len(ode):
        assert abs(max(np.r_[exact, ode]) - duration) < 1e-6, (exact, ode)
        k = min(len(exact), len(ode))
        exact, ode = exact[:k], ode[:k]
    worst = max(worst, float(np.max(np.abs(exact - ode), initial=0.0)))
    counted += len(ode)
numbers["ode"] = {
    "first_trial": first_difference,
    "trials": n_trials,
    "spikes": counted,
    "max_difference": worst,
}
display(
    Markdown(
        f"The event-based spike times agree with the ODE solution to {first_difference:.1e} in "
        f"the trial above, and to {worst:.1e} over {counted} spikes of {n_trials} random "
        "trials."
    )
)

# %% [markdown]
# ## Gradients
#
# Reverse-mode gradients of the spike times with respect to the input weights and times,
# against central differences:


# %%
def spike_time_sum(weights, times):
    return jnp.sum(snnlib.ordinary_spike_times(simulate_one(weights, times), [0], 2)[0])


gradient = jax.jit(jax.grad(spike_time_sum, argnums=(0, 1)))  # compiled once
grad_weights, grad_times = gradient(input_weights, input_times)
value = jax.jit(spike_time_sum)  # compiled once for the 12 evaluations below
h = 1e-6
basis = np.eye(3)
fd_weights = np.array(
    [
        (value(input_weights + h * b, input_times) - value(input_weights - h * b, input_times))
        / (2 * h)
        for b in basis
    ]
)
fd_times = np.array(
    [
        (value(input_weights, input_times + h * b) - value(input_weights, input_times - h * b))
        / (2 * h)
        for b in basis
    ]
)
gradient_error = float(
    max(np.max(np.abs(grad_weights - fd_weights)), np.max(np.abs(grad_times - fd_times)))
)
numbers["gradient_error"] = gradient_error
print(
    "d(t_1 + t_2)/dw   autodiff:",
    np.round(grad_weights, 6),
    " finite differences:",
    np.round(fd_weights, 6),
)
print(
    "d(t_1 + t_2)/dt_in autodiff:",
    np.round(grad_times, 6),
    " finite differences:",
    np.round(fd_times, 6),
)
display(Markdown(f"The gradients agree with central differences to {gradient_error:.1e}."))

# %% [markdown]
# ## Checklist for your own model
#
# - Frozen dataclass, derived from `NeuronModel` (or `PseudodynamicsModel` for spikes at
#   infinite voltage, `PhaseNeuron` for phase models), `state_dim` as a class variable;
#   validate the parameters in `__post_init__` with an error naming the parameter.
# - `flow` and `time_to_next_spike` in closed form, elementwise on (D, ...) states, with
#   safe arguments in the `jnp.where` branches not taken.
# - Override `check_dtype` if some parameter does not fit every floating dtype.
# - Check it as here: spike times against an ODE solution, gradients against finite
#   differences. To add it to snnlib itself, see {doc}`../architecture`, "Adding a neuron
#   model".

# %% tags=["remove-cell"]
record_numbers(numbers)
