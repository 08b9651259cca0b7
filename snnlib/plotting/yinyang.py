"""Figures of the Yin-Yang experiment, drawn from the `YinYangResults` of one or more seeds."""

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from ..classification.metrics import spikes_only_prediction, stacked
from ..data.yinyang import CLASS_NAMES
from . import COLORS, PSEUDOSPIKE, panel_labels, place_legends

CLASS_COLORS = COLORS["classes_yinyang"]  # yin, yang, dot
OUTPUT_ROW = 25.0  # height of an output neuron's row in the rasters (hidden rows: 1)


def data_set(ax: Axes, features: np.ndarray, labels: np.ndarray, title: str = "") -> None:
    """Points of a split coloured by class."""
    for index, name in enumerate(CLASS_NAMES):
        chosen = labels == index
        ax.scatter(
            features[chosen, 0],
            features[chosen, 1],
            s=3,
            color=CLASS_COLORS[index],
            label=name,
            rasterized=True,
        )
    ax.set(xlim=(0, 1), ylim=(0, 1), aspect="equal", xlabel="$x$", ylabel="$y$", title=title)
    ax.legend(
        fontsize=8,
        markerscale=2,
        handletextpad=0.1,
        labelspacing=0.2,
        borderpad=0.1,
        borderaxespad=0.1,
    )


NO_CLASS_COLOR = COLORS["no_class"]  # decision map, real spikes: no output spike


def spikes_readout(results) -> bool:
    """Whether a run's decision map and test predictions read real spikes only."""
    return results.config.readout == "spikes"


def decision_map(ax: Axes, results, features: np.ndarray, labels: np.ndarray) -> None:
    """The trained network's class over the unit square (with the readout of real spikes,
    points without an output spike in grey), the test points it gets wrong marked (black
    crosses)."""
    grid = results.decision_map.grid
    step = grid[1] - grid[0]
    extent = (grid[0] - step / 2, grid[-1] + step / 2, grid[0] - step / 2, grid[-1] + step / 2)
    ax.imshow(
        results.decision_map.prediction,
        origin="lower",
        extent=extent,
        alpha=0.45,
        cmap=ListedColormap([NO_CLASS_COLOR, *CLASS_COLORS]),
        vmin=-1.5,
        vmax=2.5,
        interpolation="nearest",
    )
    wrong = results.test_prediction != labels
    ax.scatter(
        features[wrong, 0],
        features[wrong, 1],
        marker="x",
        s=14,
        lw=0.8,
        color=COLORS["ink"],
        label=f"{int(wrong.sum())} wrong test points",
    )
    circle = plt.Circle((0.5, 0.5), 0.5, fill=False, color=COLORS["reference"], lw=0.6)
    ax.add_patch(circle)
    ax.set(
        xlim=(0, 1),
        ylim=(0, 1),
        aspect="equal",
        xlabel="$x$",
        ylabel="$y$",
        title=f"decision map{' (real spikes)' if spikes_readout(results) else ''}, "
        f"seed {results.config.training.seed}",
    )
    ax.legend(loc="upper right", fontsize=8)


def raster(ax: Axes, results, example: int, which: str) -> None:
    """Spikes of the input, hidden and output neurons for the test example of one class,
    before or after training. The three output neurons get wide rows in their class
    colours; their first spikes, when these are pseudospikes (after the readout trial's
    end, before it + Theta), are dotted ticks in the class colour (``PSEUDOSPIKE``).
    Where the readout trial is longer than the training trial T, both ends are marked."""
    net = results.config.network
    duration = net.window  # the end of the readout trial
    spikes = results.example(which).spike_times[example]
    first = results.example(which).first_times[example]
    rows = [row[np.isfinite(row)] for row in spikes]
    n_hidden = len(rows) - 8
    output_rows = n_hidden + 5 + OUTPUT_ROW * (np.arange(3) + 0.5) + 2
    positions = [*range(n_hidden + 5), *output_rows]
    lengths = [2.0] * (n_hidden + 5) + [0.8 * OUTPUT_ROW] * 3
    colors = [COLORS["spike"]] * (n_hidden + 5) + list(CLASS_COLORS)
    ax.eventplot(
        rows,
        lineoffsets=positions,
        linelengths=lengths,
        colors=colors,
        linewidths=[1.0] * (n_hidden + 5) + [2.0] * 3,
    )
    right = duration + net.model.period
    pseudo = first > duration
    for k in np.nonzero(pseudo)[0]:
        ax.vlines(
            first[k],
            output_rows[k] - 0.4 * OUTPUT_ROW,
            output_rows[k] + 0.4 * OUTPUT_ROW,
            color=CLASS_COLORS[k],
            zorder=3,
            **{**PSEUDOSPIKE, "lw": 2.5},
        )
    ax.axvspan(duration, right, color=COLORS["pseudo_range"], alpha=0.5, lw=0, zorder=0)
    ax.axvline(duration, color=COLORS["reference"], lw=0.6, ls="--")
    if duration > net.duration:  # the training trial's end T
        ax.axvline(net.duration, color=COLORS["reference"], lw=0.6, ls=":")
    if spikes_readout(results):  # the first ordinary spike, none or a tie: no class
        chosen = int(spikes_only_prediction(first[None], duration)[0])
        predicted = CLASS_NAMES[chosen] if chosen >= 0 else "no class"
    else:
        predicted = CLASS_NAMES[int(np.argmin(first))]
    ax.set(
        xlim=(0, right),
        ylim=(-1, output_rows[-1] + OUTPUT_ROW / 2),
        xlabel="time $t$",
        yticks=[2, 5 + n_hidden / 2, *output_rows],
        yticklabels=["input", "hidden", *CLASS_NAMES],
        title=f"{CLASS_NAMES[example]}, {which} training: {predicted}",
    )


def accuracy_vs_epoch(
    ax: Axes,
    groups: Mapping[str, Sequence],
    metrics=("accuracy",),
    colors: Sequence[str] | None = None,
    per_seed: bool = False,
) -> None:
    """Accuracy (%) vs epoch: mean over the seeds of each group, +- one sample standard
    deviation shaded (per_seed: every seed's curve drawn thin instead); metrics name the
    fields of `YinYangEpochs` drawn (validation "accuracy", "test_accuracy"; the test
    split's only for runs that monitored it)."""
    colors = list(colors or [COLORS["with_pseudo"], COLORS["without_pseudo"], COLORS["no_hidden"]])
    lines = [
        (name, runs, metric)
        for name, runs in groups.items()
        for metric in metrics
        if not metric.startswith("test") or all(run.config.monitor_test for run in runs)
    ]
    for (name, runs, metric), color in zip(lines, colors, strict=False):
        values = 100 * stacked(runs, metric)
        epochs = np.arange(values.shape[1])
        mean = values.mean(axis=0)
        split = "test" if metric.startswith("test") else "validation"
        label = f"{name}, {split}" if len(metrics) > 1 else name
        ax.plot(
            epochs,
            mean,
            color=color,
            lw=1.2,
            label=f"{label} ({len(runs)})",
            ls="-" if split == "validation" else "--",
        )
        if per_seed:
            ax.plot(epochs, values.T, color=color, lw=0.5, alpha=0.5)
        elif len(runs) > 1:
            spread = values.std(axis=0, ddof=1)
            ax.fill_between(epochs, mean - spread, mean + spread, color=color, alpha=0.25, lw=0)
    ax.set(xlabel="epoch", ylabel="accuracy (%)", ylim=(20, 100))
    ax.legend(fontsize=8, loc="lower right", title="(seeds)", title_fontsize=8)


def figure(
    runs: Sequence,
    features: np.ndarray,
    labels: np.ndarray,
    test_features: np.ndarray,
    test_labels: np.ndarray,
    ablations: Mapping[str, Sequence] | None = None,
) -> Figure:
    """(a) the training set, (b) the decision map of the first seed with its wrong test
    points, (c) validation and test accuracy vs epoch over the seeds, (d) with the
    ablations' validation accuracy if given (thin lines: single seeds)."""
    # at most 10 in wide, so that the book shows its text at >= 9 px (tests/test_browser.py)
    if ablations:
        fig, axes = plt.subplots(2, 2, figsize=(10, 8.6))
        axes = axes.ravel()
    else:
        fig, axes = plt.subplots(1, 3, figsize=(10, 3.4))
    data_set(axes[0], features, labels, f"training set ({len(labels)} points)")
    decision_map(axes[1], runs[0], test_features, test_labels)
    # the accuracy of the readout that the runs are read with
    metric, readout = (
        ("accuracy_spikes_only", "real spikes") if spikes_readout(runs[0]) else ("accuracy", "")
    )
    accuracy_vs_epoch(
        axes[2],
        {"theta net": runs},
        metrics=(metric, f"test_{metric}"),
        colors=[COLORS["with_pseudo"], COLORS["ink"]],
    )
    axes[2].set_title("validation and test accuracy" + (f", {readout}" if readout else ""))
    if ablations:
        accuracy_vs_epoch(axes[3], {"full": runs, **ablations}, metrics=(metric,), per_seed=True)
        axes[3].set(  # legend room below
            title="ablations (validation" + (f", {readout})" if readout else ")"), ylim=(0, 100)
        )
    panel_labels(axes)
    place_legends(fig)
    return fig


def raster_figure(results) -> Figure:
    """Spike rasters of one test point per class (columns), before (top) and after
    (bottom) training."""
    fig, axes = plt.subplots(2, 3, figsize=(10, 6), sharex=True, sharey=True)
    for row, which in enumerate(("before", "after")):
        for example in range(3):
            raster(axes[row, example], results, example, which)
    for ax in axes[0]:
        ax.set_xlabel("")
    panel_labels(axes)
    return fig
