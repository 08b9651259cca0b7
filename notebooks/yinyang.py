# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Fig. 5: Beyond the paper, the Yin-Yang data set
#
# Yin-Yang ({cite:t}`kriener2021yinyang`,
# [arXiv:2102.08211](https://arxiv.org/abs/2102.08211)) is the standard small benchmark
# of exact spike-time learning: points $(x, y)$ of a disk belong to the yin, the yang
# or one of the two dots, and a network sees the four features $(x, y, 1-x, 1-y)$. It
# needs a hidden layer: a network without one reaches about 64 %, a conventional
# network 4-120-3 about 98.7 %.
# The data are generated with the published generator (seeded rejection sampling with
# NumPy's legacy `RandomState`; `snnlib.data.yinyang`), which reproduces the canonical
# splits exactly: 5000 training points (seed 42), 1000 validation points (seed 41) and
# 1000 test points (seed 40).
#
# Each feature $f$ becomes one input spike at $t = t_{\max} f$, plus a bias input spike
# at $t_{\rm bias}$; a feed-forward network of theta neurons (the MNIST neuron:
# $\tau = 6/\pi$, $I_0 = 5/4$, $\Theta = 6$) classifies the point by its **first ordinary
# output spike** within the trial: a point without an output spike, or with two output
# neurons spiking first at the same time, counts as wrong. This is how the peers count.
# The network is trained on trials of length $T$ with pseudospikes, as in the MNIST
# chapter: cross-entropy of the first output spike times, AdaBelief on the weights and
# initial phases. A hinge, $\max(0, t_{\rm label} - (T - m))$, pushes the correct neuron
# to spike before $T - m$ ({py:func}`~snnlib.losses.late_spike_hinge`). The readout
# simulates the trained network exactly on a trial of length $T_r \geq T$ and counts
# ordinary spikes only (`YinYangNetwork.readout_window`): a spike that training continued
# beyond $T$ as a pseudospike can then come as a real spike and decide. Every choice,
# $T_r$ included, was made on the validation split, and the test accuracy after the last
# epoch, fixed in advance, is the result; the accuracy from the spikes before $T$ alone
# is reported beside it.
#
# The network of the first stored runs was trained and read with pseudospikes counted.
# It is kept as the variant `pseudo_readout` and reported beside the others, read both
# ways.
#
# With `quick = False` the figures are drawn from the stored full-scale runs in
# `results/`. `snnlib reproduce yinyang --promote` computes the 30 runs of the network
# and its two ablations, and `snnlib reproduce yinyang_pseudo_readout --promote` the 10
# runs of the first network. Both resume from checkpoints if interrupted; with
# `--seeds 0 1`, only those seeds of each network are run. With `quick = True`, one short
# run of each network is computed.
#
# Source of this page: {download}`notebooks/yinyang.py <../../notebooks/yinyang.py>`
# ([in the repository](https://github.com/snnlib/snnlib/blob/main/notebooks/yinyang.py));
# the executed notebook: download button at the top of the page.

# %% tags=["hide-input"]
import json

import numpy as np
from IPython.display import Markdown, display

from snnlib.classification import percent_mean_std as mean_std
from snnlib.data.yinyang import load_yinyang
from snnlib.experiments import yinyang
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
from snnlib.plotting.yinyang import figure, raster_figure

use_style()

# %% tags=["parameters"]
quick = False  # True: one short run of each network instead of the stored full-scale runs
epochs_quick = 3  # epochs of the quick runs
results_dir = None  # the stored full-scale runs (None: results/ of the snnlib clone)

# %% tags=["remove-input"]
check_parameters(
    quick=(quick, bool),
    epochs_quick=(epochs_quick, int, (1, None)),
    results_dir=(results_dir, (str, type(None))),
)
show_run_notice(
    quick,
    f"one seed of each network trained for {epochs_quick} epochs, instead "
    "of the stored runs of 100 epochs over 10 seeds",
)

# %%
if quick:
    groups = {
        variant: [yinyang.run(yinyang.variant_config(variant, 0, epochs_quick), progress=False)]
        for variant in yinyang.VARIANTS
    }
else:
    stored = stored_results(
        results_dir,
        "yinyang_seed*.npz",
        "yinyang_nopseudo_seed*.npz",
        "yinyang_shallow_seed*.npz",
        "yinyang_pseudo_readout_seed*.npz",
    )
    groups = {
        variant: yinyang.EXPERIMENT.load_runs(variant, stored) for variant in yinyang.VARIANTS
    }
runs = groups["full"]
ablations = {"no pseudospikes": groups["nopseudo"], "no hidden layer": groups["shallow"]}
train_features, train_labels = load_yinyang("train")
test_features, test_labels = load_yinyang("test")


def test_accuracies(group, metric="test_accuracy_spikes_only"):
    """The test accuracy after the last epoch (default: read from real spikes), one value
    per seed."""
    return [getattr(yinyang.final_metrics(run), metric) for run in group]


# %% tags=["remove-output"]
fig = figure(runs, train_features, train_labels, test_features, test_labels, ablations)
glue_figure("fig-yinyang", fig)

# %% [markdown]
# ```{glue:figure} fig-yinyang
# ---
# name: fig-yinyang
# width: 100%
# alt: >-
#   Four panels: the Yin-Yang training points coloured by class; the trained network's
#   class over the unit square with the wrongly classified test points marked by crosses;
#   validation and test accuracy against epochs; validation accuracy against epochs of the
#   network without pseudospikes and of the network without hidden layer.
# ---
#
# **Fig. 5.** **(a)** The training set: yin (indigo), yang (sand), dots (teal).
# **(b)** The class that the first seed's trained network assigns to each point of the
# unit square, read from real spikes (also outside the disk, where there are no data);
# grey: no output spike within the trial; crosses: the test points it gets wrong.
# **(c)** Validation (orange, solid) and test (black, dashed) accuracy read from real
# spikes against epochs: the mean over the seeds, with one sample standard deviation
# shaded where there are several. **(d)** Validation accuracy of the ablations, read from
# real spikes (mean; thin lines: single seeds): the network trained with pseudospikes
# (orange, as in (c)); the same network trained with ordinary spikes only in the loss
# (sky blue; a silent output neuron counts as spiking at $T$, without gradient); and a
# network without a hidden layer (dark grey).
# ```

# %% tags=["remove-output"]
fig = raster_figure(runs[0])
glue_figure("fig-yinyang-rasters", fig)

# %% [markdown]
# ```{glue:figure} fig-yinyang-rasters
# ---
# name: fig-yinyang-rasters
# width: 100%
# alt: >-
#   Six spike rasters, one test point of each class in the columns, before training in the
#   top row and after training in the bottom row; rows of each raster are the input
#   channels, the hidden neurons and the three output neurons.
# ---
#
# **Fig. 6.** Spikes for the first test point of each class (columns) before **(a-c)** and
# after **(d-f)** training (first seed): input channels at the bottom, then the hidden
# layer, the three output neurons on top, in rows of their class colours (yin indigo,
# yang sand, dot teal). The network is simulated for the readout trial: the training
# trial ends at $T$ (dotted line), the readout trial at $T_r$ (dashed). Dotted marks in
# the shaded range from $T_r$ to $T_r + \Theta$: first output spikes that are
# pseudospikes (dotted, as in every figure). Each title gives the class read from real
# spikes ("no class": no output spike before $T_r$).
# ```

# %% [markdown]
# **Regime and model selection.** The network and its training, as stored in the runs'
# config:

# %% tags=["hide-input"]
net, training = runs[0].config.network, runs[0].config.training
exhausted = sum(int(run.final.n_exhausted) for run in runs)
exhausted_note = (
    "no trial exceeded it after training"
    if exhausted == 0
    else f"{exhausted} trials exceeded it after training"
)
display(
    Markdown(
        f"{len(net.sizes) - 2} hidden layer of {net.sizes[1]} theta neurons; input spikes "
        f"at $t = t_{{\\max}} f$ with $t_{{\\max}} = {net.t_max:g}$ and the bias spike at "
        f"$t_{{\\rm bias}} = {net.t_bias:g}$; training trial length $T = {net.duration:g}$, "
        f"readout trial length $T_r = {net.window:g}$; initial "
        f"phases ${net.phase_init:g}\\,\\Theta$; initial weights uniform in "
        f"$\\pm {net.w_scale:g}/\\sqrt{{n_{{\\rm in}}}}$; hinge weight {net.early_weight:g} "
        f"and margin $m = {net.early_margin:g}$; time regulariser $\\gamma = {net.gamma:g}$; "
        f"batches of {training.batch_size} points, AdaBelief with learning rate "
        f"{training.learning_rate:g} decaying as "
        f"$e^{{-\\text{{epoch}}/{training.decay_epochs:g}}}$, "
        f"{training.epochs} epochs; at most {net.max_spikes} "
        f"spike{'s' if net.max_spikes > 1 else ''} per neuron and trial "
        f"({exhausted_note})."
    )
)

# %% [markdown]
# The hinge, $T$ and the initial phases were chosen on the validation split by
# `scripts/yinyang_selection.py` (the test split is not simulated), in eight rounds of
# candidates, each trained for 100 epochs (round 8: 150) and judged by its validation
# accuracy read from real spikes after the last epoch. In rounds 1-4 a neuron could
# spike once per trial; each candidate was trained with seed 0, the five best with seeds
# 1-4 too, and the one
# with the best mean over its seeds was chosen (`results/yinyang_selection.json`). With
# $T = 3$ a hidden neuron may spike twice, so the stored runs allow two spikes per neuron;
# with that budget the choice of round 4 stalled near 88 % for some seeds. Rounds 5 and 6
# therefore trained candidates around it with the budget of 2 and with seeds 0-4 each,
# and chose the best mean (`results/yinyang_selection_budget2.json`). Their choice,
# $T = 4$, reached 98.0 % with seeds 0-4 but 96.5 % with seeds 5-9 (its first 10-seed
# runs, read on the validation split), where training stalled on plateaus for tens of
# epochs. Round 7 therefore trained candidates around it with seeds 5-9, and the best
# of them with seeds 0-4 too (`results/yinyang_selection_round7.json`); round 8 stretched
# the schedule of $T = 4$ to 150 epochs (`results/yinyang_selection_round8.json`). These
# rounds were prompted by those runs, whose test accuracy had been seen (97.4 % over 10
# seeds, below the 98 % aimed at); the choices read the validation split only. Neither
# round beat $T = 4$: retrained with seeds 5-9 on today's code it reached 97.7 % (the
# rounding of a newer simulator changes the training paths, and with them the plateaus),
# 97.9 % over its 10 seeds of rounds 6 and 7; round 7's best, initial weights 5/3 as
# strong, 98.3 % with seeds 5-9 but 97.7 % over its 10; the 150-epoch schedule stalled
# at 83.8 % with seed 2. So the network stays the choice of round 6, and the tables'
# "chosen" of rounds 7 and 8 is the best of their own candidates only. Round 9 averaged
# the parameters over the last epochs (93.2 % and 93.1 %, against 93.3 % for $T = 4$
# retrained on the code of that day: averaging does not lift a stalled seed), and round
# 10 retrained the two runners-up over 10 seeds (97.7 % and 97.2 %).
#
# **Round 11: the readout trial.** Half of the test errors of the first runs with
# $T = 4$ (1.3 of 2.6 %) were points without any output spike before $T$; their
# pseudospikes stand for spikes that come after $T$. Round 11 therefore trained the two
# best networks of rounds 6-10 with seeds 0-9 and read each trained network from real
# spikes in trials of length $T_r = T, T + 0.5, T + 1, T + 2, T + 3$
# (`results/yinyang_selection_round11_*.json`). The rule, fixed before the runs: the
# highest mean final validation accuracy over (network, $T_r$), ties to the shorter
# trial (`scripts/yinyang_selection.py --choose`,
# `results/yinyang_selection_round11_choice.json`). Its choice, initial weights 5/3 as
# strong with $T_r = 6$, is the network of the runs on this page. The tables list each
# candidate's changes to the network's defaults and its mean final validation accuracy;
# the files hold every run's accuracy after each epoch.


# %% tags=["hide-input"]
def show_window_choice(name="yinyang_selection_round11_choice.json"):
    """Round 11: mean final validation accuracy from real spikes of each network in each
    readout trial length, and the choice."""
    try:
        choice = json.loads((stored_results(results_dir, name) / name).read_text())
    except FileNotFoundError:
        display(Markdown(f"(`{name}` is in `results/` of the snnlib repository.)"))
        return
    windows = list(next(iter(choice["mean_by_window"].values())))
    rows = [
        (
            f"**{network}** (chosen)" if network == choice["chosen"] else network,
            *(
                f"**{100 * means[w]:.2f}**"
                if network == choice["chosen"] and float(w) == choice["chosen_window"]
                else f"{100 * means[w]:.2f}"
                for w in windows
            ),
        )
        for network, means in choice["mean_by_window"].items()
    ]
    header = ["network", *(f"$T_r = {w}$ (%)" for w in windows)]
    display(
        Markdown(
            "**Round 11: readout trial length, seeds 0-9, validation split**\n\n"
            + markdown_table(header, rows)
            + f"\n\n(tables of commit {', '.join(c[:7] for c in choice['commits'])})"
        )
    )


show_window_choice()


# %% tags=["hide-input"]
def selection_rows(selection):
    """One row per candidate of the selection table: changes, seeds, mean final
    validation accuracy read from real spikes and counting pseudospikes."""
    by_name = {}
    for record in selection["runs"]:
        by_name.setdefault(record["name"], []).append(record)
    rows = []
    for name, records in by_name.items():
        changes = {**records[0]["network"], **records[0]["training"]}
        failed = [r["seed"] for r in records if "failed" in r]
        counted = [r["val_accuracy"][-1] for r in records if "failed" not in r]
        rows.append(
            (
                f"**{name}** (best here)" if name == selection["chosen"] else name,
                ", ".join(f"{key} {value}" for key, value in changes.items())
                or "the first runs' network",
                " ".join(str(r["seed"]) for r in records),
                f"failed: the spike budget ran out (seed {failed[0]})"
                if failed
                else f"{100 * selection['mean_over_seeds'][name]:.1f}",
                f"{100 * np.mean(counted):.1f}" if counted else "",
            )
        )
    return rows


def show_selection(name, title):
    """The table of one selection file, and the validation accuracies of its choice."""
    try:
        selection = json.loads((stored_results(results_dir, name) / name).read_text())
    except FileNotFoundError:
        display(Markdown(f"(`{name}` is in `results/` of the snnlib repository.)"))
        return
    header = ["candidate", "changes", "seeds", "real spikes (%)", "pseudospikes counted (%)"]
    display(Markdown(f"**{title}**\n\n" + markdown_table(header, selection_rows(selection))))
    chosen = [r for r in selection["runs"] if r["name"] == selection["chosen"]]
    display(
        Markdown(
            f"The best candidate of this table, **{selection['chosen']}**, reached "
            + ", ".join(f"{100 * r['val_accuracy_spikes_only'][-1]:.1f}" for r in chosen)
            + f" % on the validation split (seeds {', '.join(str(r['seed']) for r in chosen)}; "
            f"table of commit {selection['commit'][:7]})."
        )
    )


show_selection("yinyang_selection_round8.json", "Round 8: 150 epochs (stopped after 3 seeds)")
show_selection(
    "yinyang_selection_round7.json", "Round 7: two spikes per neuron, seeds 5-9, the best with 0-4"
)
show_selection("yinyang_selection_budget2.json", "Rounds 5 and 6: two spikes per neuron, seeds 0-4")
show_selection("yinyang_selection.json", "Rounds 1-4: one spike per neuron")

# %% [markdown]
# The network of the first runs (variant `pseudo_readout`: $T = 2$, initial phases
# $\Theta/2$, initial weights $\pm 3/\sqrt{n_{\rm in}}$, no hinge, read in the training
# trial, otherwise the same) was chosen earlier, for the readout that counts
# pseudospikes, in `results/yinyang_tuning.json` (its generator, written later:
# `scripts/yinyang_tuning.py`, whose first run reproduces the stored curve). With the
# learning rate decaying slowly (time constant 100 epochs) for 30 epochs, weight scale 1
# reached 87.8 % validation accuracy, weight scale 3 97.7 % (learning rate $10^{-2}$),
# 96.4 % ($3\cdot10^{-3}$) and 92.5 % ($3\cdot10^{-2}$), 200 hidden neurons 98.4 % and
# $t_{\max} = 0.5$ 95.2 %; weight scale 5 made hidden neurons spike twice. With decaying
# learning rates for 100 epochs, $3\cdot10^{-3}$ (decay 30 epochs), $5\cdot10^{-3}$ (25)
# and $10^{-2}$ (25) reached 99.2/98.6 %, 99.2/98.7 % and 99.1/99.1 % (seeds 0/1); the
# last was chosen, and the second network keeps its learning rate and width.

# %% [markdown]
# Test accuracy after the last epoch (over several seeds: mean $\pm$ sample standard
# deviation), next to the numbers reported for other methods. The peers count real
# spikes; our networks are read both ways. For the first runs, which did not record the
# real-spike readout, it is re-evaluated from their stored parameters.

# %% tags=["hide-input"]
rows = yinyang.compare(groups)
display(Markdown(markdown_table(["network", "test accuracy (%)", "seeds", "paper"], rows)))

# %% [markdown]
# What the runs show (the numbers below are those of the runs on this page):

# %% tags=["hide-input"]
first_runs = groups["pseudo_readout"]
output_before = [run.initial.output_activity for run in runs]
output_after = [run.final.output_activity for run in runs]
shallow = np.mean(test_accuracies(ablations["no hidden layer"]))
nopseudo = test_accuracies(ablations["no pseudospikes"])
silent = [run.initial.output_activity == 0 for run in ablations["no pseudospikes"]]
gap = np.mean(test_accuracies(runs, "test_accuracy")) - np.mean(test_accuracies(runs))
# early stopping, for scale: the test accuracy at each run's epoch of best validation
best_epochs = [int(np.argmax(run.metrics.accuracy_spikes_only)) for run in runs]
early = [
    float(run.metrics.test_accuracy_spikes_only[epoch])
    for run, epoch in zip(runs, best_epochs, strict=True)
]
swings = [np.ptp(run.metrics.accuracy_spikes_only[-10:]) for run in runs]
target = 0.98
readouts_note = (
    "the two readouts nearly agree: the correct output neuron fires within the trial"
    if gap < 0.02
    else f"{100 * gap:.1f} points more than from real spikes"
)
nopseudo_note = (
    "Here the network trained without pseudospikes does as well or better "
    f"({mean_std(nopseudo)} % against {mean_std(test_accuracies(runs))} %): with initial "
    f"phases {runs[0].config.network.phase_init:g} Θ its output layer spikes for most points "
    "from the start, so ordinary spikes carry the gradient. Pseudospikes matter where the "
    "network starts silent (Fig. 4 and the depth study)."
    if np.mean(nopseudo) >= np.mean(test_accuracies(runs))
    else f"{sum(a < 0.9 for a in nopseudo)} of these {len(nopseudo)} runs end below 90 %, "
    f"against {sum(a < 0.9 for a in test_accuracies(runs))} of {len(runs)} with "
    "pseudospikes: the output layer spikes from the start, but without pseudospikes an "
    "output neuron whose first spike leaves the trial gets no gradient to bring it back."
)
peers = ", ".join(
    f"{name} {100 * mean:.1f} %" for name, (mean, _, _) in list(yinyang.PAPER.items())[:2]
)
display(
    Markdown(
        f"- **Accuracy from real spikes.** The network reaches "
        f"{mean_std(test_accuracies(runs))} % on the test split "
        f"({len(runs)} seed{'s' if len(runs) > 1 else ''}, {runs[0].epochs} epochs; "
        f"validation {mean_std(test_accuracies(runs, 'accuracy_spikes_only'))} %), against "
        f"{peers}: {'at or above' if np.mean(test_accuracies(runs)) >= target else 'below'} "
        f"the {100 * target:.0f} % this chapter aimed at. Counting pseudospikes it reaches "
        f"{mean_std(test_accuracies(runs, 'test_accuracy'))} %: {readouts_note}.\n"
        f"- **The readout trial.** Counting only the output spikes before the training "
        f"trial's end $T = {net.duration:g}$, the test accuracy is "
        f"{mean_std(test_accuracies(runs, 'test_accuracy_spikes_within_T'))} %; in the "
        f"readout trial of length $T_r = {net.window:g}$, "
        f"{100 * np.mean(test_accuracies(runs, 'test_late_decisions')):.1f} % of the test "
        "points are decided by an output spike after $T$. The pseudospikes that training "
        "counted beyond $T$ are, for these points, real spikes of the same network a "
        "little later.\n"
        f"- **Epoch to epoch**, the validation accuracy of a run still moves by "
        f"{100 * np.mean(swings):.1f} points on average over the last 10 epochs (largest "
        f"minus smallest). Had each run been stopped at its epoch of best validation "
        f"accuracy (epochs {min(best_epochs)}-{max(best_epochs)}; early stopping, not the "
        f"protocol fixed in advance), the test accuracy would be "
        f"{100 * np.mean(early):.2f}"
        + (f" ± {100 * np.std(early, ddof=1):.2f}" if len(early) > 1 else "")
        + f" % (after the last "
        f"epoch: {100 * np.mean(test_accuracies(runs)):.2f} %).\n"
        f"- **Output spikes.** An output neuron spikes within the training trial in "
        f"{100 * np.mean(output_before):.1f} % of (neuron, point) pairs before training and "
        f"in {100 * np.mean(output_after):.0f} % after it.\n"
        f"- **The first runs** (trained for the pseudospike readout) reach "
        f"{mean_std(test_accuracies(first_runs, 'test_accuracy'))} % counting pseudospikes, "
        f"but only {mean_std(test_accuracies(first_runs))} % from real spikes: their correct "
        "output neuron fires at about $T$, often just after it, and the decision is partly "
        "read from the phase state at $T$.\n"
        "- **Without pseudospikes** an output neuron without a spike in the trial gives no "
        f"gradient. Test accuracies from real spikes "
        f"{', '.join(f'{100 * a:.1f}' for a in nopseudo)} %; in {sum(silent)} of the "
        f"{len(silent)} runs the output layer was entirely silent at the start. "
        f"{nopseudo_note}\n"
        "- **Without a hidden layer**: "
        f"{mean_std(test_accuracies(ablations['no hidden layer']))} % "
        f"from real spikes, {'above' if shallow > 0.64 else 'below'} the 64 % reported for "
        "shallow networks by Kriener et al. (the first spike time of a theta neuron is a "
        "nonlinear function of its input times, so that one layer is not a linear "
        "classifier) and far below the network with a hidden layer."
    )
)


# %% tags=["remove-cell"]
numbers = {
    "quick": quick,
    "seeds": [run.config.training.seed for run in runs],
    "epochs": [run.epochs for run in runs],
    "test_accuracy": test_accuracies(runs),  # read from real spikes
    "test_accuracy_mean": float(np.mean(test_accuracies(runs))),
    "test_accuracy_at_best_validation_epoch": early,
    "test_accuracy_pseudospikes": test_accuracies(runs, "test_accuracy"),
    "test_accuracy_within_T": test_accuracies(runs, "test_accuracy_spikes_within_T"),
    "test_late_decisions": test_accuracies(runs, "test_late_decisions"),
    "readout_window": net.window,
    "validation_accuracy": test_accuracies(runs, "accuracy_spikes_only"),
    "test_accuracy_ordinary": [run.final.test_accuracy_ordinary for run in runs],
    "first_runs": {
        "test_accuracy_spikes_only": test_accuracies(first_runs),
        "test_accuracy": test_accuracies(first_runs, "test_accuracy"),
    },
    "initial_accuracy": [run.initial.accuracy for run in runs],
    "silent_before": [run.initial.silent for run in runs],
    "activity": [run.final.activity for run in runs],
    "ablations": {name: test_accuracies(group) for name, group in ablations.items()},
    "seconds_per_epoch": [run.seconds_per_epoch for run in runs],
    "figure_fonts": glued_figures(),
}
record_numbers(numbers)
