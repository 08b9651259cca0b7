# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Fig. 1: Continuous spike times in QIF neurons
#
# In a leaky integrate-and-fire (LIF) neuron a spike is emitted when the voltage crosses a
# threshold at finite height. If an input weakens, the voltage maximum sinks below the
# threshold and the spike disappears in mid-trial: its time jumps. A quadratic
# integrate-and-fire (QIF) neuron generates its spikes by self-amplification; the voltage
# reaches infinity in finite time. A weaker input delays the spike continuously, until it
# leaves the trial at its end $T$; there it continues as a *pseudospike* (see
# {doc}`../theory`), so the spike time is a continuous function of the parameters
# everywhere.
#
# Each neuron, initially at rest, receives one excitatory input spike at $t = 0.5$ of weight
# $w \in [0, 2 w_{\min}]$, where $w_{\min}$ is the smallest weight that makes a resting neuron
# spike ($\pi^2/4$ for the QIF, $4 V_\mathrm{th}$ for the LIF neuron). In the second sweep an
# excitatory input of $1.5\,w_{\min}$ at $t = 0.5$ is followed by an inhibitory one of
# $-w_{\min}$ at a variable time $t_\mathrm{inh}$. QIF: $\tau = 1$, $T = 4$; LIF: $\tau = 1$,
# $T = 3$. All times are in units of the membrane time constant $\tau$. The derivative
# $\mathrm{d}t_\mathrm{sp}/\mathrm{d}w$ is computed by reverse-mode differentiation through
# the exact event-based simulation and compared with finite differences of the sweep.
#
# Source of this page: {download}`notebooks/concept.py <../../notebooks/concept.py>`
# ([in the repository](https://github.com/snnlib/snnlib/blob/main/notebooks/concept.py));
# the executed notebook: download button at the top of the page.

# %% tags=["hide-input"]
from dataclasses import asdict

import jax
import numpy as np
from IPython.display import Markdown, display

from snnlib.experiments import concept
from snnlib.notebook import (
    check_parameters,
    glue_figure,
    glued_figures,
    markdown_table,
    record_numbers,
    show_run_notice,
)
from snnlib.plotting import use_style
from snnlib.plotting.concept import figure

jax.config.update("jax_enable_x64", True)
use_style()

# %% tags=["parameters"]
quick = False  # True: coarser inhibition-time grid, fewer derivative and trace points

# %% tags=["remove-input"]
check_parameters(quick=(quick, bool))
show_run_notice(
    quick,
    "$10^4$ instead of $10^5$ inhibition times, $\\mathrm{d}t_\\mathrm{sp}/"
    "\\mathrm{d}w$ at 200 instead of 1000 weights and traces on 500 instead of "
    "2000 time points (the weight grid is the paper's)",
)

# %%
# the paper's protocol: the excitatory input of the weight sweep arrives at t = 0.5
if quick:
    config = concept.ConceptConfig(
        input_time=0.5, n_inhibition_times=10_000, n_gradient_points=200, n_trace_points=500
    )
else:
    config = concept.ConceptConfig(input_time=0.5)
results = concept.run(config)
details = concept.figure_details(config)  # example traces, dt_sp/dw near w_min

# %% tags=["remove-output"]
fig = figure(results, details)
glue_figure("fig-concept", fig)

# %% [markdown]
# ```{glue:figure} fig-concept
# ---
# name: fig-concept
# width: 100%
# alt: >-
#   Twelve panels. The input currents of the two protocols; QIF and LIF voltage traces for
#   five input weights and for three inhibition times; first spike times against input
#   weight for both neurons on one axis, the QIF time rising continuously through the trial
#   end while the LIF spike breaks off, with an inset where the LIF derivative diverges
#   near the smallest spiking weight; first spike times against the inhibition time with
#   the diagonal; derivatives by autodiff and by finite differences.
# ---
#
# **Fig. 1.** **(a)** The two protocols' input currents (units of $w_{\min}$): one
# excitatory input of weight $w$ at $t = 0.5$ (green, $w = w_{\min}$), and an excitatory
# input of $1.5\,w_{\min}$ followed by an inhibitory one of $-w_{\min}$ at $t_\mathrm{inh}$
# (purple). **(b, c)** Voltage of the QIF (blue) and the LIF (vermillion) neuron for five
# input weights, written in the shade of their curve (lighter: weaker); triangles on top:
# spikes; the QIF voltage runs to $+\infty$ at a spike and returns from $-\infty$.
# **(d)** First spike time against the input weight for both neurons; dotted: the QIF
# pseudospike beyond $T$ (pseudospikes are dotted, in their neuron's colour, in every
# figure); the LIF spike vanishes below $w_{\min}$. Inset:
# $|\mathrm{d}t_\mathrm{sp}/\mathrm{d}w|$ at log-spaced distances above $w_{\min}$: it
# diverges for the LIF neuron and stays small for the QIF neuron. **(e, f)** Voltage for
# three inhibition times (triangles below: the inhibitory inputs). **(g, h)** First spike
# time against the inhibition time; dashed: $t_\mathrm{sp} = t_\mathrm{inh}$; green dotted:
# the time of the excitatory input ($t = 0.5$); triangles on the time axis: the inhibition
# times of (e, f), dots: their spike times (the LIF examples at $t_\mathrm{inh}$ = 0.5 and
# 0.7 have no spike, so they have no dot).
# The QIF spike moves continuously beyond $T$, the LIF spike vanishes once the inhibition
# comes before it. **(i, j)** First spike time against the input weight per neuron; dots:
# the weights of (b, c). **(k, l)** $\mathrm{d}t_\mathrm{sp}/\mathrm{d}w$ by automatic
# differentiation (line) and by central differences of the sweep (circles). Grey band:
# beyond the trial end $T$. The trial lengths are the paper's, $T = 4$ for the QIF and
# $T = 3$ for the LIF neuron: every LIF spike of the sweeps comes before $t \approx 1.2$
# (an input that does not bring the voltage to threshold within about $1\,\tau$ never
# does, as the voltage then only decays), so a longer LIF trial would add nothing; the
# QIF spike time grows without bound as $w \to w_{\min}$, so every $T$ cuts the curve,
# and with $T = 4$ the spike leaves the trial at $w \approx 1.06\,w_{\min}$, inside the
# range shown, and continues as a pseudospike.
# ```

# %% tags=["hide-input"]
qif_near, lif_near = details["qif"]["threshold"], details["lif"]["threshold"]
# the plateau: first spike time when the inhibition comes at the trial end
plateau = {
    name: float(results.sweeps(name).first_spike_vs_inhibition[-1]) for name in ("qif", "lif")
}
near = [
    (
        "largest LIF $|\\mathrm{d}t_\\mathrm{sp}/\\mathrm{d}w|$ just above $w_{\\min}$ "
        f"($w/w_{{\\min}} - 1$ = {lif_near['distance'][0]:.0e})",
        "diverges",
        f"{np.abs(lif_near['dt_dw'][0]):.0f} τ",
    ),
    (
        "largest QIF $|\\mathrm{d}t_\\mathrm{sp}/\\mathrm{d}w|$ there",
        "finite",
        f"{np.abs(qif_near['dt_dw'][0]):.2f} τ",
    ),
    (
        "spike time with late inhibition (QIF, LIF)",
        "unaffected",
        f"{plateau['qif']:.3f} τ, {plateau['lif']:.3f} τ",
    ),
]
display(Markdown(markdown_table(["", "paper", "this run"], [*concept.compare(results), *near])))

# %% [markdown]
# The QIF spike time moves continuously and the spike vanishes only at the trial end, where
# it continues as a pseudospike; the LIF spike time jumps when the spike vanishes in
# mid-trial, as in the paper.

# %% tags=["remove-cell"]
numbers = {
    "quick": quick,
    "n_weights": config.n_weights,
    "n_inhibition_times": config.n_inhibition_times,
    **{
        f"{name}_{key}": value
        for name in ("qif", "lif")
        for key, value in asdict(results.summary(name)).items()
    },
    "input_time": config.input_time,
    "plateau": plateau,
    "near_threshold_distance": {n: details[n]["threshold"]["distance"].tolist() for n in details},
    "near_threshold_dt_dw": {n: details[n]["threshold"]["dt_dw"].tolist() for n in details},
    "inhibition_examples": {
        n: details[n]["inhibition"]["inhibition_times"].tolist() for n in details
    },
    "inhibition_example_first_spikes": {
        n: [float(s[0]) for s in details[n]["inhibition"]["spikes"]] for n in details
    },
    "wall_time_s": results.metadata["wall_time_s"],
    "figure_fonts": glued_figures(),
}
record_numbers(numbers)
