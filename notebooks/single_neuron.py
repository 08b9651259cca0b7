# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Fig. 2: Learning spike times in a single neuron
#
# A QIF neuron receives 20 input spikes with fixed, random times and weights and two input
# spikes whose weights (initially 0) and times (initially 10 ms and 90 ms) are learned. It
# should spike at 25 ms and 75 ms (targets; one time unit $\tau$ = 10 ms, trial length
# $T$ = 100 ms). Initially the neuron is silent. The loss is the mean squared difference
# between the neuron's first two spike times and the targets,
# $L = \frac{1}{2} \sum_{k=1}^{2} (t_k - \hat t_k)^2$, where missing spikes are replaced by
# pseudospikes (see {doc}`../theory`): their times lie beyond $T$ and depend continuously on
# the parameters, so the gradient can pull them into the trial.
#
# Training uses plain gradient descent on the exact gradient (learning rate 0.1, 3000
# trials), computed by automatic differentiation through the event-based simulation in
# float64. Each gradient component is clipped to $[-0.02, 0.02]$ before the step
# (`optax.clip`, elementwise; with the gradient's global norm clipped instead, the loss is
# still 2.5 after 3000 trials). The task is the paper's own instance, shipped with `snnlib`; the
# parameter `seed` draws a fresh one (which need not be learnable with these settings).
#
# Source of this page: {download}`notebooks/single_neuron.py <../../notebooks/single_neuron.py>`
# ([in the repository](https://github.com/snnlib/snnlib/blob/main/notebooks/single_neuron.py));
# the executed notebook: download button at the top of the page.

# %% tags=["hide-input"]
import jax
import numpy as np
from IPython.display import Markdown, display

from snnlib.experiments import single_neuron
from snnlib.notebook import (
    check_parameters,
    glue_figure,
    glued_figures,
    markdown_table,
    record_numbers,
    show_run_notice,
)
from snnlib.plotting import use_style
from snnlib.plotting.single_neuron import figure

jax.config.update("jax_enable_x64", True)
use_style()

# %% tags=["parameters"]
quick = False  # the experiment takes seconds: quick mode only samples the traces coarser
seed = None  # None: the paper's task instance; an integer: a fresh random instance

# %% tags=["remove-input"]
check_parameters(quick=(quick, bool), seed=(seed, (int, type(None)), (0, None)))
show_run_notice(
    quick,
    "the traces are sampled at 500 instead of 2000 time points (the training is the paper's)",
    *(
        [f"`seed = {seed}`: a fresh random task instance, not the paper's"]
        if seed is not None
        else []
    ),
)

# %%
config = single_neuron.SingleNeuronConfig(seed=seed, n_trace_points=500 if quick else 2000)
results = single_neuron.run(config)
trajectories = single_neuron.trainable_trajectories(results)  # the two trainable inputs

# %% tags=["remove-output"]
fig = figure(results, trajectories)
glue_figure("fig-single-neuron", fig)

# %% [markdown]
# ```{glue:figure} fig-single-neuron
# ---
# name: fig-single-neuron
# width: 100%
# alt: >-
#   Input spikes, voltage and synaptic current of the neuron before learning (silent) and
#   after learning (two spikes at the dashed target times); below, the output spike times
#   descending from the pseudospike region into the trial onto the targets, the two
#   trainable input spike times moving during training, the loss falling over 3000
#   trials, and the four gradient components, each normalised by its maximum, against the
#   output spike-time arc length.
# ---
#
# **Fig. 2.** **(a, b)** Input spikes (bars of height $w$; green excitatory, purple
# inhibitory, black the two trainable ones), voltage $V$ with output spikes (triangles:
# the first wine, the second olive) and targets (dashed), and synaptic current $I$, before
# and after learning. **(c)** Output spike times during learning (spike 1 wine, spike 2
# olive; dashed: the targets); in the grey region ($t > T$) they are pseudospikes
# (dotted, as in every figure).
# **(d)** The times of the two trainable *input* spikes during learning (dotted: the output
# targets). **(e)** Loss. **(f)** The four gradient components, each divided by its largest
# magnitude over training (the paper's normalisation), one dot per trial, against the
# output spike-time arc length (the summed distance the two output spike times have
# moved): the gradient changes continuously, also when the spikes enter the trial.
# ```

# %% tags=["hide-input"]
spikes = np.asarray(results.final_spike_times)
targets = results.target_times
inputs = (
    "trainable input spike times after training",
    "—",
    f"{trajectories.times[-1][0] * 10:.2f} ms, "
    f"{trajectories.times[-1][1] * 10:.2f} ms (from 10 ms and 90 ms)",
)
display(
    Markdown(markdown_table(["", "paper", "this run"], [*single_neuron.compare(results), inputs]))
)
error_ms = 10 * float(np.max(np.abs(spikes - targets))) if len(spikes) == len(targets) else None
start = (
    "The initially silent neuron"
    if results.initial_spike_count == 0
    else f"The neuron, which starts with {results.initial_spike_count} spike(s),"
)
if results.final_spike_count == len(targets) and error_ms is not None and error_ms < 0.1:
    verdict = f"{start} acquires both spikes at the target times (within {error_ms:.2g} ms)" + (
        ", as in the paper." if seed is None else "."
    )
else:
    verdict = (
        f"{start} ends with {results.final_spike_count} spike(s) at "
        f"{', '.join(f'{10 * t:.1f} ms' for t in spikes)}: it does not meet both "
        "targets within 0.1 ms."
    )
display(Markdown(verdict))

# %% tags=["remove-cell"]
numbers = {
    "quick": quick,
    "seed": seed,
    "n_trials": config.n_trials,
    "final_loss": results.final_loss,
    "final_spike_times": list(results.final_spike_times),
    "target_times": targets.tolist(),
    "max_spike_time_error": float(np.max(np.abs(spikes - targets))),
    "initial_spike_count": results.initial_spike_count,
    "final_spike_count": results.final_spike_count,
    "trials_to_converge": results.trials_to_converge,
    "all_finite": results.all_finite,
    "trainable_times_final": trajectories.times[-1].tolist(),
    "trainable_times_replay_error": float(
        np.max(np.abs(trajectories.times[-1] - results.after.trainable_times))
    ),
    "wall_time_s": results.metadata["wall_time_s"],
    "figure_fonts": glued_figures(),
}
record_numbers(numbers)
