# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Continuous spike times in QIF neurons (Fig. 1)
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
# Each neuron, initially at rest, receives one excitatory input spike at $t = 0$ of weight
# $w \in [0, 2 w_{\min}]$, where $w_{\min}$ is the smallest weight that makes a resting neuron
# spike ($\pi^2/4$ for the QIF, $4 V_\mathrm{th}$ for the LIF neuron). In the second sweep an
# excitatory input of $1.5\,w_{\min}$ at $t = 0.5$ is followed by an inhibitory one of
# $-w_{\min}$ at a variable time $t_\mathrm{inh}$. QIF: $\tau = 1$, $T = 4$; LIF: $\tau = 1$,
# $T = 3$. The derivative $\mathrm{d}t_\mathrm{sp}/\mathrm{d}w$ is computed by reverse-mode
# differentiation through the exact event-based simulation and compared with finite
# differences of the sweep.

# %%
import json
from pathlib import Path

import jax
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from snnlib.experiments import concept
from snnlib.plotting import use_style
from snnlib.plotting.concept import figure

jax.config.update("jax_enable_x64", True)

# %% tags=["parameters"]
quick = False  # True: coarser inhibition-time grid, fewer derivative and trace points
results_json = "book/notebooks/concept.json"

# %%
if quick:
    config = concept.ConceptConfig(n_inhibition_times=10_000, n_gradient_points=200,
                                   n_trace_points=500)
else:
    config = concept.ConceptConfig()
results = concept.run(config)

# %%
use_style()
fig = figure(results)
plt.show()

# %% [markdown]
# **(a, e)** Voltage of the QIF and the LIF neuron for five input weights (triangles: spikes;
# the QIF voltage runs to $+\infty$ at a spike and returns from $-\infty$). **(b, f)** First
# spike time against the input weight; the dots are the weights of (a, e). Above the trial
# end $T$ (grey) the QIF neuron's first spike is a pseudospike (orange); the LIF neuron's
# spike vanishes. **(c, g)** $\mathrm{d}t_\mathrm{sp}/\mathrm{d}w$ by automatic
# differentiation (line) and by central differences of the sweep (circles). **(d, h)** First
# spike time against the time of the inhibitory input.

# %%
meta = results.metadata
qif_jump, lif_jump = meta["qif_largest_jump_vs_weight"], meta["lif_largest_jump_vs_weight"]
qif_T, lif_T = meta["qif_duration"], meta["lif_duration"]
gradient_error = max(meta["qif_gradient_max_relative_error"],
                     meta["lif_gradient_max_relative_error"])
display(Markdown(
    f"**Measured** on a grid of {config.n_weights:,} input weights: the first spike time "
    f"changes between neighbouring weights by at most {qif_jump:.1e} "
    f"({qif_jump / qif_T:.1e} T) for the QIF neuron and jumps by {lif_jump:.2f} "
    f"({lif_jump / lif_T:.2f} T) for the LIF neuron; on {config.n_inhibition_times:,} "
    f"inhibitory input times by {meta['qif_largest_jump_vs_inhibition']:.1e} (QIF) and "
    f"{meta['lif_largest_jump_vs_inhibition']:.2f} (LIF). Automatic differentiation agrees "
    f"with finite differences to a relative {gradient_error:.0e}. **Paper:** the QIF spike "
    "time changes continuously and the spike vanishes only at the trial end; the LIF spike "
    "time jumps when the spike vanishes in mid-trial."
))

# %% [markdown]
# The measured numbers are written to `results_json` for the tests.

# %%
numbers = {
    "quick": quick,
    "n_weights": config.n_weights,
    "n_inhibition_times": config.n_inhibition_times,
    **{key: value for key, value in meta.items() if key.startswith(("qif_", "lif_"))},
    "wall_time_s": meta["wall_time_s"],
}
Path(results_json).parent.mkdir(parents=True, exist_ok=True)
Path(results_json).write_text(json.dumps(numbers, indent=2) + "\n")
print(json.dumps(numbers, indent=2))
