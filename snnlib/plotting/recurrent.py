"""Figure of the recurrent-network experiment (paper Fig. 3), drawn from its
RecurrentResults."""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..constants import MS
from . import COLORS, arc_length, moving_average, panel_labels, place_legends, spike_time_line

SMOOTHING = 11  # trials in the moving average of the arc-length panels (the paper's)
NEURON_COLORS = COLORS["neurons"]


def raster(ax: Axes, results, snapshot, title: str) -> None:
    """Network spikes of a snapshot (results.before or .after; target neurons coloured,
    others grey) and target times (black ticks)."""
    times, neurons = snapshot.spike_times, snapshot.spike_neurons
    targets = results.targets
    n_targets = targets.shape[0]
    duration = results.config.task.duration
    n = results.config.task.n_neurons
    rows = [times[neurons == i] * MS for i in range(n)]
    colors = [*NEURON_COLORS[:n_targets], *[COLORS["other"]] * (n - n_targets)]
    ax.eventplot(rows, colors=colors, lineoffsets=np.arange(n), linelengths=0.7)
    target_rows = [t[np.isfinite(t) & (t < duration)] * MS for t in targets]
    ax.eventplot(
        target_rows,
        colors=COLORS["target"],
        lineoffsets=np.arange(n_targets) - 0.45,
        linelengths=0.3,
        linewidths=2,
    )
    ax.set(
        xlim=(0, duration * MS),
        ylim=(n - 0.5, -0.9),
        xlabel="time (ms)",
        ylabel="neuron",
        title=title,
    )


def spike_times_vs(ax: Axes, results, x: str, neuron: int = 0) -> None:
    """Output spike times of one target neuron against trial (log) or against the
    spike-time arc length. On the arc-length axis the spike times are smoothed with a
    centred 11-trial moving average (the paper's), the raw times drawn faint behind, and
    the arc length is that of the smoothed times: the trial-to-trial jitter of the raw
    times would otherwise make the axis many times longer than the way the spikes travel.
    Above T the spike times are pseudospikes (dotted, ``PSEUDOSPIKE``)."""
    t_out = results.t_out[:, neuron] * MS
    targets = results.targets[neuron] * MS
    valid = np.isfinite(targets)
    t_out, targets, extra = t_out[:, valid], targets[valid], results.is_extra[neuron][valid]
    duration = results.config.task.duration * MS
    colors = [COLORS["other"] if is_extra else NEURON_COLORS[neuron] for is_extra in extra]
    if x == "trial":
        xs = np.arange(1, len(t_out) + 1)
        for column, color in zip(t_out.T, colors, strict=True):
            spike_time_line(ax, xs, column, duration, color, lw=1)
        ax.set(xscale="log", xlim=(1, xs[-1]), xlabel="trial + 1")
    else:
        smooth = moving_average(t_out, SMOOTHING)
        xs = arc_length(smooth)
        for raw, column, color in zip(t_out.T, smooth.T, colors, strict=True):
            ax.plot(xs, raw, color=color, lw=0.5, alpha=0.3, rasterized=True)
            spike_time_line(ax, xs, column, duration, color, lw=1.2)
        ax.set(
            xlim=(0, 1.03 * xs[-1]), xlabel=f"spike-time arc length (ms), {SMOOTHING}-trial average"
        )
    ax.axhspan(duration, 1.3 * duration, color=COLORS["pseudo_range"], zorder=0)
    ax.plot(
        np.full((~extra).sum(), ax.get_xlim()[1]),
        targets[~extra],
        ls="",
        marker="<",
        color=COLORS["target"],
        clip_on=False,
    )
    ax.set(ylim=(0, 1.3 * duration), ylabel=f"spike times, neuron {neuron} (ms)")


def loss_vs_trial(ax: Axes, results) -> None:
    loss = results.loss
    ax.loglog(np.arange(1, len(loss) + 1), loss, color=COLORS["ink"], lw=1)
    ax.set(xlabel="trial + 1", ylabel="loss")


def comparison(ax: Axes, results) -> None:
    """Target-neuron spikes after training, with and without the recurrent input into the
    non-target neurons (pruned), next to the targets."""
    n_targets = results.targets.shape[0]
    duration = results.config.task.duration
    for i in range(n_targets):
        base = 3.3 * i
        for offset, snapshot, alpha in ((0, results.pruned, 0.5), (1.1, results.after, 1.0)):
            t = snapshot.t_out[i]
            t = t[np.isfinite(t) & (t < duration)] * MS
            ax.eventplot([t], colors=NEURON_COLORS[i], lineoffsets=base + offset, alpha=alpha)
        t = results.targets[i]
        ax.eventplot(
            [t[np.isfinite(t) & (t < duration)] * MS],
            colors=COLORS["target"],
            lineoffsets=base + 2.2,
        )
    ticks = [3.3 * i + o for i in range(n_targets) for o in (0, 1.1, 2.2)]
    ax.set_yticks(
        ticks, [f"{n} {i}" for i in range(n_targets) for n in ("pruned", "trained", "target")]
    )
    ax.set(xlim=(0, duration * MS), xlabel="time (ms)", title="without recurrence into others")


def log_bins(n: int, per_decade: int = 12) -> list[np.ndarray]:
    """Indices 0 .. n-1 split into bins of equal width in log(index + 1)."""
    edges = np.unique(
        np.round(
            np.logspace(0, np.log10(n + 1), per_decade * max(int(np.ceil(np.log10(n + 1))), 1))
        ).astype(int)
    )
    edges = np.concatenate([[1], edges[edges > 1]]) - 1
    edges[-1] = n
    return [np.arange(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]


def spike_change(ax: Axes, results) -> None:
    """Largest change of any target spike time between consecutive trials (the grid search
    caps it at dt_max), summarised per log-spaced bin of trials: median (line) and the
    range from the smallest to the largest change in the bin (shaded); drawn trial by
    trial, the oscillating phases fill the axes with a solid band."""
    change = results.max_spike_change * MS
    bins = log_bins(len(change))
    centres = np.array([np.exp(np.mean(np.log(b + 1))) for b in bins])
    finite = [change[b][np.isfinite(change[b])] for b in bins]
    keep = np.array([len(f) > 0 for f in finite])
    stats = np.array([(np.median(f), f.min(), f.max()) for f in finite if len(f)])
    ax.fill_between(
        centres[keep],
        stats[:, 1],
        stats[:, 2],
        color=COLORS["ink"],
        alpha=0.15,
        lw=0,
        label="range in the bin",
    )
    ax.plot(centres[keep], stats[:, 0], color=COLORS["ink"], lw=1, label="median")
    if results.config.mode == "grid":
        ax.axhline(
            results.config.training.dt_max * MS,
            color=COLORS["reference"],
            lw=1,
            ls="--",
            label=r"cap $\Delta t_{\max}$",
        )
    ax.legend(fontsize=8)
    ax.set(xscale="log", yscale="log", xlabel="trial", ylabel="largest spike-time change (ms)")


def figure(results) -> Figure:
    """The recurrent-network figure: rasters and loss (top row); spike times of target
    neurons 0 and 1 against trial and against arc length (middle and bottom rows); the
    pruned network's spikes and the largest spike-time change per trial (right column)."""
    fig, axes = plt.subplots(3, 3, figsize=(10, 8.4))
    trials = len(results.loss) - 1
    raster(axes[0, 0], results, results.before, "trial 0")
    raster(axes[0, 1], results, results.after, f"trial {trials}")
    loss_vs_trial(axes[0, 2], results)
    for row, neuron in ((1, 0), (2, 1)):
        spike_times_vs(axes[row, 0], results, "trial", neuron)
        spike_times_vs(axes[row, 1], results, "arc", neuron)
    comparison(axes[1, 2], results)
    spike_change(axes[2, 2], results)
    panel_labels(axes)
    place_legends(fig)
    return fig
