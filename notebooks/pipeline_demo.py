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
# # Pipeline demo
#
# A minimal notebook that exercises the book's pipeline (jupytext source, papermill
# parameters, the figure style, a results file) without running a simulation. It draws the
# free flow of a QIF neuron without input current, $V(\Delta t) = e V / (1 - (1 - e) V)$ with
# $e = \exp(-\Delta t / \tau)$: below the separatrix $V = 1$ the voltage relaxes to rest, above
# it the voltage reaches infinity after $\Delta t = \tau \ln(V / (V - 1))$
# (see {doc}`../theory`).

# %%
import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from snnlib.plotting import PALETTE, panel_labels, use_style

# %% tags=["parameters"]
quick = False
results_json = "book/notebooks/pipeline_demo.json"

# %%
tau = 1.0
n_points = 200 if quick else 2000
initial_voltages = [0.5, 0.9, 1.1, 1.5]


def free_flow(voltage, dt):
    """QIF voltage after dt without input current (I = 0)."""
    decay = np.exp(-dt / tau)
    return decay * voltage / (1 - (1 - decay) * voltage)


def time_to_spike(voltage):
    """Time until V reaches infinity without input current; inf below the separatrix."""
    voltage = np.asarray(voltage, dtype=float)
    above = voltage > 1
    return np.where(above, tau * np.log(np.where(above, voltage / (voltage - 1), 1.0)), np.inf)


# %%
use_style()
fig, (ax_v, ax_t) = plt.subplots(1, 2, figsize=(6.4, 2.6))
times = np.linspace(0, 3 * tau, n_points)
for v0 in initial_voltages:
    dt_spike = time_to_spike(v0)
    shown = times < dt_spike - 1e-2
    colour = PALETTE["qif"] if v0 > 1 else PALETTE["lif"]
    ax_v.plot(times[shown], free_flow(v0, times[shown]), color=colour)
ax_v.axhline(1, color=PALETTE["target"], lw=0.8, ls="--")
ax_v.set(ylim=(-0.2, 5), xlabel=r"time $t$ / $\tau$", ylabel="voltage $V$")
v_grid = np.linspace(1.01, 5, n_points)
ax_t.plot(v_grid, time_to_spike(v_grid), color=PALETTE["qif"])
ax_t.set(xlabel="initial voltage $V$", ylabel=r"time to spike / $\tau$")
panel_labels([ax_v, ax_t])
plt.show()

# %% [markdown]
# The measured numbers are written to `results_json` for the tests.

# %%
results = {
    "quick": quick,
    "n_points": n_points,
    "time_to_spike_v1.5": float(time_to_spike(1.5)),
}
Path(results_json).parent.mkdir(parents=True, exist_ok=True)
Path(results_json).write_text(json.dumps(results, indent=2) + "\n")
print(json.dumps(results, indent=2))
