"""Figure of the single-neuron experiment (paper Fig. 2), drawn from its
SingleNeuronResults."""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..constants import MS
from . import COLORS, arc_length, panel_labels, place_legends, spike_time_line

VOLTAGE_LIMITS = (-2.0, 3.0)
SPIKE_COLORS = COLORS["neurons"]  # first and second output spike
GRADIENT_STYLES = {  # (field of the results, column) -> label, colour
    (field, column): (label, color)
    for (field, column, label), color in zip(
        [
            ("grad_weights", 0, r"$\partial L/\partial w_1$"),
            ("grad_weights", 1, r"$\partial L/\partial w_2$"),
            ("grad_times", 0, r"$\partial L/\partial t_1$"),
            ("grad_times", 1, r"$\partial L/\partial t_2$"),
        ],
        COLORS["gradients"],
        strict=True,
    )
}


def input_spikes(ax: Axes, results, snapshot) -> None:
    """Input spikes as bars of height w at their times; the two trainable ones (of the
    snapshot, results.before or .after) in black."""
    times = results.fixed_times * MS
    weights = results.fixed_weights
    colors = np.where(weights > 0, COLORS["input_exc"], COLORS["input_inh"])
    ax.vlines(times, 0, weights, colors=colors, lw=1.5)
    trainable_t = snapshot.trainable_times * MS
    trainable_w = snapshot.trainable_weights
    ax.vlines(trainable_t, 0, trainable_w, colors=COLORS["ink"], lw=2.5)
    ax.plot(
        trainable_t,
        trainable_w,
        ls="",
        marker="o",
        ms=3.5,
        color=COLORS["ink"],
        label="trainable inputs",
    )
    ax.axhline(0, color=COLORS["reference"], lw=0.6)
    ax.set(ylabel="input $w$", ylim=(-2.5, 6.0))
    ax.legend(fontsize=8, handlelength=1.0)


def voltage_trace(ax: Axes, results, snapshot) -> None:
    """V(t) of the snapshot (drawn within the axes range: the QIF voltage diverges at a
    spike), output spikes (triangles, one colour per spike) and target times (dashed)."""
    times = results.trace_times * MS
    low, high = VOLTAGE_LIMITS
    voltage = snapshot.voltage
    ax.plot(
        times,
        np.where((voltage > low - 1) & (voltage < high + 1), voltage, np.nan),
        color=COLORS["ink"],
        lw=1.0,
    )
    for target in results.target_times * MS:
        ax.axvline(target, color=COLORS["target"], lw=0.8, ls="--")
    spikes = snapshot.spikes * MS
    for k, t in enumerate(spikes):
        ax.plot(
            [t],
            [high],
            ls="",
            marker="v",
            ms=6,
            clip_on=False,
            color=SPIKE_COLORS[min(k, len(SPIKE_COLORS) - 1)],
        )
    ax.text(
        0.01, 0.97, f"{len(spikes)} output spikes", transform=ax.transAxes, va="top", fontsize=8
    )
    ax.set(ylim=(low, high), ylabel="voltage $V$")


def current_trace(ax: Axes, results, snapshot) -> None:
    """I(t) of the snapshot: each input spike makes it jump by its weight."""
    ax.plot(results.trace_times * MS, snapshot.current, color=COLORS["ink"], lw=1.0)
    ax.axhline(0, color=COLORS["reference"], lw=0.6)
    ax.set(ylabel="current $I$", xlabel="time (ms)", xlim=(0, results.config.duration * MS))


def spike_times_vs_trial(ax: Axes, results) -> None:
    """Output spike times over training; above T (shaded) they are pseudospikes."""
    times = results.output_times * MS
    duration = results.config.duration * MS
    trials = np.arange(len(times))
    ax.axhspan(duration, 1.3 * duration, color=COLORS["pseudo_range"], zorder=0)
    ax.text(
        trials[-1],
        1.3 * duration,
        "pseudospikes ",
        ha="right",
        va="top",
        fontsize=8,
        color=COLORS["reference"],
    )
    for k, color in enumerate(SPIKE_COLORS):
        spike_time_line(ax, trials, times[:, k], duration, color, lw=1.2, label=f"spike {k + 1}")
    for target in results.target_times * MS:
        ax.axhline(target, color=COLORS["target"], lw=0.8, ls="--")
    ax.set(
        xlim=(0, trials[-1]),
        ylim=(0, 1.3 * duration),
        xlabel="trial",
        ylabel="output spike times (ms)",
    )
    ax.legend(fontsize=8, ncol=2)  # the targets (dashed) are named in the caption


def loss_vs_trial(ax: Axes, results) -> None:
    loss = results.loss
    ax.semilogy(np.arange(len(loss)), loss, color=COLORS["ink"], lw=1.0)
    ax.set(xlim=(0, len(loss) - 1), xlabel="trial", ylabel="loss $L$")


def input_times_vs_trial(ax: Axes, results, trajectories) -> None:
    """The two trainable input spike times over training (dashed: the output targets);
    trajectories: single_neuron.trainable_trajectories(results)."""
    times = trajectories.times * MS
    trials = np.arange(len(times))
    for k in range(times.shape[1]):
        ax.plot(
            trials,
            times[:, k],
            color=COLORS["ink"],
            lw=1.2,
            ls=("-", "--")[k % 2],
            label=f"input {k + 1}",
        )
    for target in results.target_times * MS:
        ax.axhline(target, color=COLORS["target"], lw=0.6, ls=":")
    ax.set(
        xlim=(0, trials[-1]),
        ylim=(0, results.config.duration * MS),
        xlabel="trial",
        ylabel="trainable input times (ms)",
    )
    ax.legend(fontsize=8)


def normalised_gradients(ax: Axes, results) -> None:
    """Each gradient component divided by its largest magnitude over training (the paper's
    normalisation), against the spike-time arc length (the distance the output spikes have
    travelled): one dot per trial."""
    arc = arc_length(results.output_times * MS)
    for (name, column), (label, color) in GRADIENT_STYLES.items():
        component = getattr(results, name)[:, column]
        ax.plot(
            arc,
            component / np.max(np.abs(component)),
            ls="",
            marker=".",
            ms=1.5,
            color=color,
            label=label,
            rasterized=True,
        )
    ax.axhline(0, color=COLORS["reference"], lw=0.6)
    ax.set(
        xlim=(0, arc[-1]),
        ylim=(-1.05, 1.6),  # room for the legend above the dots
        xlabel="output spike-time arc length (ms)",
        ylabel="gradient / its max",
    )
    ax.legend(fontsize=8, markerscale=5, ncol=2, handlelength=0.8, columnspacing=0.8)


def figure(results, trajectories) -> Figure:
    """Inputs, V and I before and after learning (top); output spike times, trainable
    input times and loss against trial, and normalised gradients against arc length
    (bottom). trajectories: single_neuron.trainable_trajectories(results)."""
    mosaic = [
        ["in_before"] * 6 + ["in_after"] * 6,
        ["v_before"] * 6 + ["v_after"] * 6,
        ["i_before"] * 6 + ["i_after"] * 6,
        ["times"] * 3 + ["inputs"] * 3 + ["loss"] * 3 + ["gradients"] * 3,
    ]
    fig, axes = plt.subplot_mosaic(mosaic, figsize=(10, 7.6), height_ratios=[0.6, 1.0, 0.8, 1.5])
    trials = len(results.loss) - 1
    for which, snapshot, title in (
        ("before", results.before, "before learning (trial 0)"),
        ("after", results.after, f"after learning (trial {trials})"),
    ):
        top, middle, bottom = axes[f"in_{which}"], axes[f"v_{which}"], axes[f"i_{which}"]
        input_spikes(top, results, snapshot)
        voltage_trace(middle, results, snapshot)
        current_trace(bottom, results, snapshot)
        top.set_title(title)
        for ax in (top, middle):
            ax.sharex(bottom)
            ax.tick_params(labelbottom=False)
    spike_times_vs_trial(axes["times"], results)
    input_times_vs_trial(axes["inputs"], results, trajectories)
    loss_vs_trial(axes["loss"], results)
    normalised_gradients(axes["gradients"], results)
    panel_labels(
        [axes[name] for name in ("in_before", "in_after", "times", "inputs", "loss", "gradients")]
    )
    place_legends(fig)
    return fig
