# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Simulating spiking networks
#
# This tutorial simulates one QIF neuron and a small recurrent network with
# {py:func}`snnlib.simulate`, reads their ordinary spikes and pseudospikes, and takes
# gradients with `jax.grad`. It then shows how to choose the event budget `max_events`, the
# numerical infinity `eps` and the pseudospike sharpness `alpha` (and what goes wrong
# otherwise), compares float32 with float64, and the layered feed-forward simulator
# {py:func}`snnlib.simulate_feedforward` with the generic one. The equations are on the
# {doc}`../theory` page; every function used is in the {doc}`../api/index`. All numbers
# printed below are measured when the page is built.
#
# Source of this page: {download}`notebooks/guide_simulating.py
# <../../notebooks/guide_simulating.py>`.

# %% tags=["hide-input"]
import textwrap
import time

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

import snnlib
from snnlib.notebook import check_parameters, record_numbers, show_run_notice
from snnlib.plotting import COLORS, spike_time_line, use_style

jax.config.update("jax_enable_x64", True)  # the paper's float64; float32 is compared below
use_style()

# %% tags=["parameters"]
quick = False  # True: fewer repetitions in the timing

# %% tags=["remove-input"]
check_parameters(quick=(quick, bool))
show_run_notice(
    quick,
    "30 instead of 300 timed calls of each simulator in the comparison "
    "of the layered and the generic simulator",
)
numbers = {"quick": quick}

# %% [markdown]
# ## One neuron
#
# A QIF neuron at rest receives one input spike of weight $w$ at $t = 0.5$. A weight above
# $\pi^2/4 \approx 2.47$ (`model.min_spiking_input`) makes it spike. `simulate` takes one
# trial: recurrent weights (N, N), input weights (N, N_in), the input spike times and
# channels, the initial state (D, N) and the trial length $T$, and returns the
# {py:class}`snnlib.Events` of the trial.

# %%
model = snnlib.QIF(tau=1.0)  # alpha = 10 and eps = 1e-12 by default


def one_neuron(weight, model=model, duration=4.0, max_events=8, throw=True):
    return snnlib.simulate(
        model,
        weights_net=jnp.zeros((1, 1)),
        weights_in=jnp.array([[weight]]),
        input_times=jnp.array([0.5]),
        input_neurons=jnp.array([0]),
        initial_state=model.rest_state(1),
        duration=duration,
        max_events=max_events,
        throw=throw,
    )


events = one_neuron(3.0)
times = snnlib.output_spike_times(model, events, neurons=[0], n_spikes=3)[0]
n_ordinary = int(snnlib.spike_counts(events, 1)[0])
print("events:", int(events.n_events), "(the input and the spikes)")
print("ordinary spikes:", n_ordinary, "| first three spike times:", np.round(times, 4))

# %% [markdown]
# The spikes after the neuron's last ordinary one are *pseudospikes*: times beyond $T$ that
# continue the spike train, so that a loss asking for more spikes than the neuron emitted
# still has a gradient. A weight below $\pi^2/4$ gives no ordinary spike, and the first
# "spike" is a pseudospike; its time still depends smoothly on $w$.


# %%
def first_spike(weight):
    return snnlib.output_spike_times(model, one_neuron(weight), neurons=[0], n_spikes=1)[0, 0]


weights = jnp.linspace(1.0, 4.0, 61)
first = jax.jit(jax.vmap(first_spike))(weights)  # inside jit: no raising, the flag instead
slope = jax.jit(jax.grad(first_spike))  # jit: compiled once, instead of op by op
check_w = 2.0  # below threshold: a pseudospike
h = 1e-6
finite_difference = (first_spike(check_w + h) - first_spike(check_w - h)) / (2 * h)
numbers["gradient_check"] = {
    "w": check_w,
    "autodiff": float(slope(check_w)),
    "finite_difference": float(finite_difference),
}

fig, ax = plt.subplots(figsize=(6, 3.2))
spike_time_line(ax, np.asarray(weights), np.asarray(first), 4.0, COLORS["qif"])
ax.axhspan(4.0, float(np.max(first)) + 0.5, color=COLORS["pseudo_range"], zorder=0)
ax.axhline(4.0, color=COLORS["reference"], ls="--", lw=1)
ax.axvline(model.min_spiking_input, color=COLORS["reference"], ls="--", lw=1)
ax.set(xlabel="input weight $w$", ylabel="first spike time", title="one QIF neuron, $T = 4$")
ax.text(1.05, 4.15, "pseudospikes (dotted) above $T$", fontsize=9)
plt.show()

display(
    Markdown(
        f"At $w = {check_w}$ (no ordinary spike) the first spike is a pseudospike at "
        f"$t = {float(first_spike(check_w)):.4f}$; its derivative by `jax.grad` is "
        f"{numbers['gradient_check']['autodiff']:.6f}, by central differences "
        f"{numbers['gradient_check']['finite_difference']:.6f}."
    )
)

# %% [markdown]
# ## A small recurrent network
#
# Five QIF neurons with random recurrent weights receive 12 input spikes from 3 channels.
# `weights_net[i, j]` is the weight from neuron $j$ onto neuron $i$. The gradient of any
# function of the spike times with respect to the weights, the input times or the initial
# state is one `jax.grad` away; `jax.jit` compiles the whole trial (the model and the budget
# are static arguments).

# %%
n, n_in, m, duration = 5, 3, 12, 5.0
key_net, key_in, key_times = jax.random.split(jax.random.PRNGKey(0), 3)
weights_net = 1.5 * jax.random.normal(key_net, (n, n)) * (1 - jnp.eye(n))
weights_in = 3.0 + jax.random.normal(key_in, (n, n_in))
input_times = jnp.sort(jax.random.uniform(key_times, (m,), maxval=duration))
input_neurons = jnp.arange(m) % n_in


def network(weights_net, model=model, max_events=64, dtype=jnp.float64, throw=True):
    return snnlib.simulate(
        model,
        weights_net.astype(dtype),
        weights_in.astype(dtype),
        input_times.astype(dtype),
        input_neurons,
        model.rest_state(n, dtype),
        duration,
        max_events,
        throw,
    )


def spike_times(weights_net, **options):
    return snnlib.output_spike_times(
        model, network(weights_net, **options), neurons=jnp.arange(n), n_spikes=3
    )


events = network(weights_net)
counts = snnlib.spike_counts(events, n)
numbers["network"] = {"n_events": int(events.n_events), "spikes": np.asarray(counts).tolist()}
print("events used:", int(events.n_events), "of", events.times.shape[0])
print("ordinary spikes per neuron:", np.asarray(counts))
print("three spike times per neuron (ordinary, then pseudospikes):")
print(np.round(spike_times(weights_net), 3))


def loss(weights_net, dtype=jnp.float64):
    """Mean squared distance of every neuron's first three spikes from 1, 2 and 3; the
    spike times as auxiliary output."""
    times = spike_times(weights_net, dtype=dtype)
    return jnp.mean((times - jnp.array([1.0, 2.0, 3.0])) ** 2), times


# compiled once per dtype (a static argument); reused for float32 below
loss_and_gradient = jax.jit(jax.value_and_grad(loss, has_aux=True), static_argnums=1)
_, gradient = loss_and_gradient(weights_net, jnp.float64)
print("d loss / d weights_net:")
print(np.round(gradient, 4))
numbers["network"]["gradient_finite"] = bool(jnp.all(jnp.isfinite(gradient)))

# %% [markdown]
# ## Choosing the event budget `max_events`
#
# `simulate` runs a fixed number $K$ of events (`lax.scan` needs a static length): every
# input spike and every network spike is one event. Choose $K$ = the number of input spikes
# plus the most network spikes you expect, with a margin; the cost grows linearly in $K$.
# Too small a budget raises {py:class}`snnlib.EventBudgetError` with the number the trial
# needs. Inside `jax.jit`, `jax.vmap` or `jax.grad` nothing can be raised: the trial's
# `exhausted` flag is set, and the readouts of that trial are NaN (never a finite wrong
# number: the spikes that the trial did not reach are NaN). Check such results with
# {py:func}`snnlib.check_event_budget`.

# %%
needed = int(events.n_events)
try:
    network(weights_net, max_events=needed - 4)
except snnlib.EventBudgetError as error:
    message = str(error)
    print(textwrap.fill(f"EventBudgetError: {message}", 80))
small = network(weights_net, max_events=needed - 4, throw=False)
readout = snnlib.output_spike_times(model, small, neurons=jnp.arange(n), n_spikes=3)
numbers["budget"] = {
    "needed": needed,
    "exhausted": bool(small.exhausted),
    "nan_readouts": int(jnp.sum(jnp.isnan(readout))),
}
print(
    "with throw=False: exhausted =",
    bool(small.exhausted),
    "| NaN spike times (those the trial did not reach):",
    numbers["budget"]["nan_readouts"],
    "of",
    readout.size,
)

# %% [markdown]
# ## The numerical infinity `eps`
#
# A QIF spike is the voltage reaching $+\infty$; the simulator stands in $\pm 1/\varepsilon$ for
# $\pm\infty$. The spike times themselves come from closed forms (the time for $V$ to reach
# $+\infty$, see {doc}`../theory`), so they hardly depend on $\varepsilon$; it only has to be
# small ($\varepsilon > 10^{-3}$ is refused) and $1/\varepsilon$ must be a finite number of the
# state's dtype (below about $3.4 \cdot 10^{38}$ in float32): the model checks this and says
# what to change.

# %%
reference = one_neuron(3.0)
t_reference = float(snnlib.output_spike_times(model, reference, [0], 1)[0, 0])
shifts = {}
for eps in (1e-3, 1e-6, 1e-9, 1e-12):
    coarse = snnlib.QIF(tau=1.0, eps=eps)
    coarse_events = one_neuron(3.0, model=coarse)
    t_eps = float(snnlib.output_spike_times(coarse, coarse_events, [0], 1)[0, 0])
    shifts[f"{eps:.0e}"] = t_eps - t_reference
numbers["eps_shift"] = shifts
display(
    Markdown(
        "The first spike time changes by at most "
        f"{max(abs(s) for s in shifts.values()):.1e} between $\\varepsilon = 10^{{-3}}$ and "
        "$10^{-12}$. A too small $\\varepsilon$ for float32:"
    )
)
try:
    tiny = snnlib.QIF(eps=1e-40)
    snnlib.simulate(
        tiny,
        jnp.zeros((1, 1), jnp.float32),
        jnp.ones((1, 1), jnp.float32),
        jnp.zeros(1, jnp.float32),
        jnp.zeros(1, int),
        tiny.rest_state(1, jnp.float32),
        1.0,
        4,
    )
except ValueError as error:
    print(textwrap.fill(f"ValueError: {error}", 80))

# %% [markdown]
# ## The pseudospike sharpness `alpha`
#
# At the trial end a neuron continues with a constant input
# $I_\mathrm{sp} = \alpha \ln(1 + e^{I_\mathrm{pseudo}/\alpha})$, a softplus of sharpness
# $\alpha$ (paper: 10). Below, a neuron receives an excitatory input too weak to spike and an
# inhibitory one near the trial end, so that it ends the trial with a negative current. With
# a small $\alpha$ the softplus is nearly a ReLU: an inhibited neuron's pseudospike moves far
# beyond $T$, and a loss on it (and its gradient) is dominated by that one distant time. A
# large $\alpha$ makes every silent neuron's pseudospike come soon after $T$, nearly
# independent of its input: its gradient, the learning signal that brings the spike back
# into the trial, becomes small.


# %%
@jax.jit
def inhibited_final_state(weight):
    """State (V, I) at T of a neuron with an excitatory (weight) and an inhibitory input."""
    events = snnlib.simulate(
        model,
        jnp.zeros((1, 1)),
        jnp.array([[weight, -2.0]]),
        jnp.array([0.5, 3.5]),
        jnp.array([0, 1]),
        model.rest_state(1),
        4.0,
        8,
    )
    return events.final_state


# alpha acts only after T: one simulation, then the pseudospike for each alpha
by_alpha = {}
for alpha in (0.1, 1.0, 10.0, 100.0):
    with_alpha = snnlib.QIF(tau=1.0, alpha=alpha)

    def first_pseudospike(weight, with_alpha=with_alpha):
        state = inhibited_final_state(weight)
        return snnlib.pseudospike_times(with_alpha, state, 4.0, 1)[0, 0]

    t_alpha, g_alpha = jax.value_and_grad(first_pseudospike)(2.0)
    by_alpha[str(alpha)] = {"time": float(t_alpha), "gradient": float(g_alpha)}
numbers["alpha"] = by_alpha
display(
    Markdown(
        "\n".join(
            f"- $\\alpha = {alpha}$: first pseudospike at $t = {values['time']:.4g}$ ($T = 4$), "
            f"$\\mathrm{{d}}t/\\mathrm{{d}}w = {values['gradient']:.3g}$"
            for alpha, values in by_alpha.items()
        )
    )
)

# %% [markdown]
# ## float32 or float64
#
# The simulator runs in the dtype of `initial_state` (the weights and input times are cast
# to it). float64 is the paper's choice: enable it with
# `jax.config.update("jax_enable_x64", True)` at the start (snnlib never changes this flag
# itself). float32 halves the memory and is usually faster on GPUs; its rounding errors are
# small against the spike-time differences that training works with, but grow where a
# spike is about to enter or leave the trial. The network and the loss above in both
# dtypes:

# %%
(_, times64), gradient64 = loss_and_gradient(weights_net, jnp.float64)  # compiled above
(_, times32), gradient32 = loss_and_gradient(weights_net, jnp.float32)
numbers["float32"] = {
    "max_time_difference": float(jnp.max(jnp.abs(times64 - times32))),
    "max_relative_gradient_difference": float(
        jnp.max(jnp.abs(gradient64 - gradient32)) / jnp.max(jnp.abs(gradient64))
    ),
}
display(
    Markdown(
        f"float32 spike times differ from float64 by at most "
        f"{numbers['float32']['max_time_difference']:.1e}; the gradients by at most "
        f"{numbers['float32']['max_relative_gradient_difference']:.1e} of the largest one."
    )
)

# %% [markdown]
# ## Layered or generic simulator
#
# A feed-forward network can be simulated as a recurrent network with block weights
# ({py:func}`snnlib.feedforward.simulate_feedforward_generic`: one `simulate` over all
# neurons), or layer by layer with {py:func}`snnlib.simulate_feedforward`: each layer sees
# only the spikes of the layer below, with a per-neuron spike budget `max_spikes` instead of
# an event budget. Both give the same spike times and gradients; the layered one does less
# work per trial (measured below). Use `simulate` for recurrent networks,
# `simulate_feedforward` (or `simulate_feedforward_batch` for batches) for layered ones.

# %%
theta = snnlib.Theta()
sizes = (8, 20, 20, 4)
keys = jax.random.split(jax.random.PRNGKey(1), len(sizes))
layer_weights = [
    0.8 * jax.random.normal(k, (after, before)) + 0.6
    for k, before, after in zip(keys[1:], sizes[:-1], sizes[1:], strict=True)
]
ff_times = jax.random.uniform(keys[0], (sizes[0],), maxval=2.0)
ff_channels = jnp.arange(sizes[0])
states = [theta.rest_state(size) for size in sizes[1:]]
budget, ff_duration = 6, 4.0


@jax.jit
def layered(weights):
    return snnlib.simulate_feedforward(
        theta, weights, ff_times, ff_channels, states, ff_duration, budget
    )


@jax.jit
def generic(weights):
    return snnlib.feedforward.simulate_feedforward_generic(
        theta,
        weights,
        ff_times,
        ff_channels,
        states,
        ff_duration,
        budget,
        max_events=sizes[0] + budget * sum(sizes[1:]),
    )


def fastest_seconds(functions, repeats):
    """Shortest of `repeats` timed calls of each function, the calls interleaved (robust to
    other load on the machine)."""
    for function in functions:
        jax.block_until_ready(function(layer_weights))  # compile first
    best = [np.inf] * len(functions)
    for _ in range(repeats):
        for index, function in enumerate(functions):
            start = time.perf_counter()
            jax.block_until_ready(function(layer_weights))
            best[index] = min(best[index], time.perf_counter() - start)
    return best


out_layered, out_generic = layered(layer_weights), generic(layer_weights)
snnlib.check_spike_budget(out_layered)
difference = max(
    float(jnp.max(jnp.abs(jnp.where(jnp.isfinite(a.times), a.times - b.times, 0.0))))
    for a, b in zip(out_layered, out_generic, strict=True)
)
repeats = 30 if quick else 300
seconds_layered, seconds_generic = fastest_seconds((layered, generic), repeats)
numbers["layered"] = {
    "max_difference": difference,
    "seconds_layered": seconds_layered,
    "seconds_generic": seconds_generic,
}
layered_ms = 1e3 * numbers["layered"]["seconds_layered"]
generic_ms = 1e3 * numbers["layered"]["seconds_generic"]
display(
    Markdown(
        f"A {'-'.join(map(str, sizes))} theta network: the spike times of the two simulators "
        f"differ by at most {difference:.1e}; one trial takes {layered_ms:.2f} ms layered and "
        f"{generic_ms:.2f} ms generic on this machine ({jax.devices()[0].platform}, fastest of "
        f"{repeats} calls after compiling): the generic simulator takes "
        f"{generic_ms / layered_ms:.1f} times as long."
    )
)

# %% tags=["remove-cell"]
record_numbers(numbers)
