"""Figure of the recurrent-network experiment (paper Fig. 3), drawn from its
RecurrentResults."""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..constants import MS
from . import PALETTE, arc_length, panel_labels

NEURON_COLORS = (PALETTE["qif"], PALETTE["lif"])


def raster(ax: Axes, results, snapshot, title: str) -> None:
    """Network spikes of a snapshot (results.before or .after; target neurons coloured,
    others black) and target times (ticks)."""
    times, neurons = snapshot.spike_times, snapshot.spike_neurons
    targets = results.targets
    n_targets = targets.shape[0]
    duration = results.config.task.duration
    n = results.config.task.n_neurons
    rows = [times[neurons == i] * MS for i in range(n)]
    colors = [*NEURON_COLORS[:n_targets], *["0.45"] * (n - n_targets)]
    ax.eventplot(rows, colors=colors, lineoffsets=np.arange(n), linelengths=0.7)
    target_rows = [t[np.isfinite(t) & (t < duration)] * MS for t in targets]
    ax.eventplot(target_rows, colors=PALETTE["target"], lineoffsets=np.arange(n_targets) - 0.45,
                 linelengths=0.3, linewidths=2)
    ax.set(xlim=(0, duration * MS), ylim=(n - 0.5, -0.9), xlabel="time (ms)", ylabel="neuron",
           title=title)


def spike_times_vs(ax: Axes, results, x: str, neuron: int = 0) -> None:
    """Output spike times of one target neuron against trial (log) or arc length."""
    t_out = results.t_out[:, neuron] * MS
    targets = results.targets[neuron] * MS
    valid = np.isfinite(targets)
    t_out, targets, extra = t_out[:, valid], targets[valid], results.is_extra[neuron][valid]
    duration = results.config.task.duration * MS
    if x == "trial":
        xs = np.arange(1, len(t_out) + 1)
        ax.set_xscale("log")
        ax.set_xlabel("trial + 1")
        style = {}
    else:
        xs = arc_length(t_out)
        ax.set_xlabel("spike-time arc length (ms)")
        style = {"ls": "", "marker": ".", "ms": 1.0, "rasterized": True}
    ax.plot(xs, t_out[:, ~extra], color=NEURON_COLORS[neuron], lw=1, **style)
    ax.plot(xs, t_out[:, extra], color="k", lw=1, **style)
    ax.axhspan(duration, 1.3 * duration, color="0.85", zorder=0, label="pseudospikes")
    ax.plot(np.full((~extra).sum(), xs[-1]), targets[~extra], ls="", marker="<",
            color=PALETTE["target"], clip_on=False)
    ax.set(ylim=(0, 1.3 * duration), ylabel=f"spike times, neuron {neuron} (ms)")


def loss_vs_trial(ax: Axes, results) -> None:
    loss = results.loss
    ax.loglog(np.arange(1, len(loss) + 1), loss, color="k", lw=1)
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
        ax.eventplot([t[np.isfinite(t) & (t < duration)] * MS], colors=PALETTE["target"],
                     lineoffsets=base + 2.2)
    ticks = [3.3 * i + o for i in range(n_targets) for o in (0, 1.1, 2.2)]
    ax.set_yticks(ticks, [f"{n} {i}" for i in range(n_targets)
                          for n in ("pruned", "trained", "target")])
    ax.set(xlim=(0, duration * MS), xlabel="time (ms)", title="without recurrence into others")


def spike_change(ax: Axes, results) -> None:
    """Largest change of any target spike time between consecutive trials (the grid search
    caps it at dt_max)."""
    change = results.max_spike_change * MS
    trials = np.arange(1, len(change) + 1)
    ax.loglog(trials, change, color="0.3", lw=0.6, rasterized=True)
    if results.config.mode == "grid":
        ax.axhline(results.config.training.dt_max * MS, color=PALETTE["lif"], lw=1, ls="--",
                   label=r"cap $\Delta t_{\max}$")
        ax.legend(loc="lower left")
    ax.set(xlabel="trial", ylabel="largest spike-time change (ms)")


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
    return fig
