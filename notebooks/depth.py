# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Beyond the paper: how deep can initially silent networks go?
#
# The paper's central claim is that pseudospikes make deep, initially silent networks
# trainable; its MNIST figure shows one depth (two hidden layers). Here the same network
# and training (theta neurons, $\tau = 6/\pi$, $I_0 = 5/4$, $\Theta = 6$, $T = 2$, initial
# weights uniform in $\pm 0.5/\sqrt{\rm fan_{in}}$ and initial phases $\Theta/2$, so that
# almost no neuron spikes before training; Adabelief, cross-entropy of the first output
# spike times, {doc}`mnist`) is trained with $L = 1, 2, 3, 4, 6$ hidden layers of 100
# neurons, 784-100×L-10, each with pseudospikes and without them (the first output
# spike times clipped at $T$: a silent output neuron has no gradient), 3 seeds each, 30
# epochs. Every run records after each epoch the test accuracy with both readouts (the
# earliest output spike counting pseudospikes; real spikes only, where an image without
# an output spike, or with a tie, is wrong), and per layer the spikes per neuron and
# image and the fraction of neurons silent on every test image.
#
# **Hypothesis, stated before the runs.** Without pseudospikes an initially silent
# network gets no gradient and stays at chance (10 %) at every depth; with them the
# accuracy holds as depth grows. What the stored runs show is reported below, also where
# it contradicts the hypothesis.
#
# With `quick = False` the figure is drawn from the full-scale runs stored in `results/`
# (`snnlib reproduce depth --promote`, resumable with `--run-dir`); with `quick = True`
# short runs of small networks (`depth.QUICK`) are computed, which test the code, not
# the hypothesis.
#
# Source of this page: {download}`notebooks/depth.py <../../notebooks/depth.py>`.

# %% tags=["hide-input"]
import tempfile
from pathlib import Path

from IPython.display import Markdown, display

from snnlib.experiments import RunOptions, depth
from snnlib.notebook import (
    check_parameters,
    glue_figure,
    glued_figures,
    markdown_table,
    record_numbers,
    show_run_notice,
    stored_results,
)
from snnlib.plotting import use_style
from snnlib.plotting.depth import figure

use_style()

# %% tags=["parameters"]
quick = False  # True: short runs of small networks instead of the stored full-scale runs
depths_quick = [1, 3]  # hidden layers of the quick runs
results_dir = None  # the stored full-scale runs (None: results/ of the snnlib clone)

# %% tags=["remove-input"]
check_parameters(
    quick=(quick, bool),
    depths_quick=(depths_quick, list),
    results_dir=(results_dir, (str, type(None))),
)
show_run_notice(
    quick,
    f"networks 784-20xL-10 for L in {depths_quick}, 600 training images, two epochs, instead "
    "of the stored runs (100 hidden neurons per layer, 30 epochs of 60 000 images, 3 seeds)",
)

# %%
groups = {}
if not quick:
    for variant in depth.VARIANTS:
        try:
            groups[variant] = depth.EXPERIMENT.load_runs(variant, stored_results(results_dir))
        except FileNotFoundError:
            pass  # not run yet: the table below lists what is stored
if quick:
    options = RunOptions(run_dir=Path(tempfile.mkdtemp()), seeds=(0,), quick=True, progress=False)
    for layers in depths_quick:
        for pseudo in (True, False):
            variant = depth.variant_name(layers, pseudo)
            groups[variant] = list(depth.EXPERIMENT.reproduce([variant], options).values())
runs = {depth.VARIANTS[variant]: stored for variant, stored in groups.items()}

# %% tags=["hide-input"]
if quick:
    notice = (
        "This is a quick run (small networks, a few hundred images, two epochs): it "
        "exercises the code; its numbers say nothing about the hypothesis."
    )
elif not groups:
    notice = (
        "No full-scale run of the depth study is stored yet "
        "(`snnlib reproduce depth --promote`); the figure below stays empty."
    )
else:
    notice = (
        f"{sum(len(r) for r in groups.values())} stored runs of "
        f"{len(groups)} of the {len(depth.VARIANTS)} networks."
    )
display(Markdown(notice))

# %% tags=["remove-output"]
fig = figure(runs)
glue_figure("fig-depth", fig)

# %% [markdown]
# ```{glue:figure} fig-depth
# ---
# name: fig-depth
# width: 100%
# alt: >-
#   Test accuracy against the number of hidden layers, with and without pseudospikes in
#   training, for both readouts; and the spikes per neuron of each layer after training.
# ---
#
# **Fig. 7. Depth study.** **(a)** Test accuracy after the last epoch against the number of
# hidden layers $L$, trained with pseudospikes (orange) and without (blue), read from the
# earliest output spike counting pseudospikes (solid) and from real spikes only (dashed);
# mean and sample standard deviation over seeds; dotted: chance. **(b)** Spikes per
# neuron and image of each layer after training with pseudospikes, one line per depth.
# ```

# %% tags=["hide-input"]
if groups:
    display(
        Markdown(
            markdown_table(
                [
                    "network",
                    "test accuracy (%)",
                    "real spikes only (%)",
                    "seeds",
                    "paper (L = 2) or hypothesis",
                ],
                depth.compare(groups),
            )
        )
    )
    rows = []
    for variant, stored in groups.items():
        for result in stored:
            rows.append(
                (
                    depth.EXPERIMENT.run_name(variant, result.config.training.seed),
                    " ".join(f"{s:.2f}" for s in result.silent_before),
                    " ".join(f"{s:.2f}" for s in result.silent_after),
                    " ".join(str(e) for e in result.first_spike_epoch),
                )
            )
    display(
        Markdown(
            markdown_table(
                ["run", "silent before, per layer", "silent after", "first spike epoch per layer"],
                rows,
            )
        )
    )

# %% [markdown]
# ## What was measured
#
# The hypothesis against the stored runs (`depth.findings`: "holds" means within 2
# points of the shallowest network's mean test accuracy; chance is 10 ± 2 %):

# %% tags=["hide-input"]
display(
    Markdown(
        "\n".join(f"- {line}" for line in depth.findings(groups))
        if groups
        else "No stored runs yet."
    )
)

# %% tags=["remove-cell"]
record = {
    "quick": quick,
    "runs": {
        variant: {
            "seeds": [r.config.training.seed for r in stored],
            "epochs": [r.epochs for r in stored],
            "accuracy": [r.final.accuracy for r in stored],
            "accuracy_spikes_only": [r.final.accuracy_spikes_only for r in stored],
            "first_spike_epoch": [r.first_spike_epoch.tolist() for r in stored],
            "seconds_per_epoch": [r.seconds_per_epoch for r in stored],
        }
        for variant, stored in groups.items()
    },
    "figure_fonts": glued_figures(),
}
record_numbers(record)
