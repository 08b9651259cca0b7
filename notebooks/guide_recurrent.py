# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Your own recurrent task
#
# This tutorial trains a small recurrent network of QIF neurons to emit target spike trains,
# with a loss assembled by hand: {py:func}`snnlib.simulate` for the trial,
# {py:func}`snnlib.output_spike_times` for each output neuron's spikes (ordinary ones first,
# then pseudospikes, so that a missing spike still has a time and a gradient), a loss from
# {py:mod}`snnlib.losses`, and an optimiser from optax. The paper's own recurrent task is
# on the {doc}`recurrent` page.
#
# Source of this page: {download}`notebooks/guide_recurrent.py
# <../../notebooks/guide_recurrent.py>`.

# %% tags=["hide-input"]
import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import optax
from IPython.display import Markdown, display

import snnlib
from snnlib.losses import mean_squared_spike_time_error
from snnlib.notebook import check_parameters, record_numbers, show_run_notice
from snnlib.plotting import COLORS, use_style

jax.config.update("jax_enable_x64", True)
use_style()

# %% tags=["parameters"]
quick = False  # True: fewer training trials

# %% tags=["remove-input"]
check_parameters(quick=(quick, bool))
show_run_notice(quick, "150 instead of 600 training trials")
numbers = {"quick": quick}

# %% [markdown]
# ## The task
#
# Eight QIF neurons, all-to-all coupled, receive 12 input spikes from 4 channels in a trial of
# length $T = 5$. Neuron 0 shall spike at $t = 1.5$ and $3.5$, neuron 1 at $t = 2.5$; the
# other six are hidden. Trainable: the recurrent and the input weights.

# %%
model = snnlib.QIF(tau=1.0)
n, n_in, duration, max_events = 8, 4, 5.0, 96
outputs = jnp.array([0, 1])
targets = jnp.array([[1.5, 3.5], [2.5, jnp.inf]])  # inf: no target (padding)
is_target = jnp.isfinite(targets)
input_times = jnp.linspace(0.1, 4.5, 12)
input_neurons = jnp.arange(12) % n_in

key_net, key_in = jax.random.split(jax.random.PRNGKey(3))
params = {
    "weights_net": 0.3 * jax.random.normal(key_net, (n, n)) * (1 - jnp.eye(n)),
    "weights_in": 1.0 + 0.5 * jax.random.normal(key_in, (n, n_in)),
}


def trial(params):
    return snnlib.simulate(
        model,
        params["weights_net"],
        params["weights_in"],
        input_times,
        input_neurons,
        model.rest_state(n),
        duration,
        max_events,
    )


def output_times(params, events):
    # the pseudo rates of the network feed the output neurons' pseudodynamics
    rates = snnlib.pseudo_rates(model, events.final_state)  # (N,), at T
    pseudo_input = params["weights_net"][outputs] @ rates
    return snnlib.output_spike_times(model, events, outputs, 2, pseudo_input)


# %% [markdown]
# ## The loss and the training step
#
# The loss is the mean squared error of the output spike times against their targets
# ({py:func}`snnlib.losses.mean_squared_spike_time_error`), over the targets that exist.
# Inside `jax.jit` an exhausted event budget cannot raise: the step returns the trial's
# `exhausted` flag, which the loop checks (a trial that ran out would have NaN spike times).


# %%
def loss(params):
    events = trial(params)
    times = output_times(params, events)
    error = mean_squared_spike_time_error(
        jnp.where(is_target, times, 0.0), jnp.where(is_target, targets, 0.0)
    )
    return error * is_target.size / jnp.sum(is_target), events.exhausted


optimizer = optax.adam(0.03)


@jax.jit
def step(params, opt_state):
    (value, exhausted), grads = jax.value_and_grad(loss, has_aux=True)(params)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, value, exhausted


n_trials = 150 if quick else 600
initial_params = params
opt_state = optimizer.init(params)
history = []
for _ in range(n_trials):
    params, opt_state, value, exhausted = step(params, opt_state)
    if bool(exhausted):
        raise snnlib.EventBudgetError(f"max_events={max_events} ran out; raise it")
    history.append(float(value))

# %% [markdown]
# ## Result


# %%
def raster(ax, params, title):
    events = trial(params)
    times = np.asarray(snnlib.ordinary_spike_times(events, jnp.arange(n), 10))
    for neuron in range(n):
        color = COLORS["neurons"][neuron] if neuron < len(outputs) else COLORS["other"]
        ax.plot(times[neuron], np.full(10, neuron), "|", color=color, ms=8)
    for neuron, row in enumerate(np.asarray(targets)):
        ax.plot(
            row[np.isfinite(row)],
            [neuron] * int(np.isfinite(row).sum()),
            "o",
            mfc="none",
            color=COLORS["target"],
            ms=9,
        )
    ax.set(xlim=(0, duration), ylim=(n - 0.5, -0.5), xlabel="time", ylabel="neuron", title=title)


fig, axes = plt.subplots(1, 3, figsize=(10, 3))
axes[0].semilogy(history, color=COLORS["ink"])
axes[0].set(xlabel="training trial", ylabel="loss")
raster(axes[1], initial_params, "before")
raster(axes[2], params, "after (circles: targets)")
plt.show()

final = output_times(params, trial(params))
error = float(jnp.max(jnp.abs(jnp.where(is_target, final - targets, 0.0))))
numbers |= {
    "trials": n_trials,
    "loss_initial": history[0],
    "loss_final": history[-1],
    "max_spike_time_error": error,
    "spikes_before": np.asarray(snnlib.spike_counts(trial(initial_params), n)).tolist(),
    "spikes_after": np.asarray(snnlib.spike_counts(trial(params), n)).tolist(),
}
display(
    Markdown(
        f"After {n_trials} training trials the loss fell from {history[0]:.3g} to "
        f"{history[-1]:.3g}; the output spikes lie within {error:.3f} of their targets "
        f"(output spike counts before: {numbers['spikes_before'][:2]}, after: "
        f"{numbers['spikes_after'][:2]})."
    )
)

# %% tags=["remove-cell"]
record_numbers(numbers)
