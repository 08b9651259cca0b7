"""Figure of the concept experiment (paper Fig. 1), drawn from its Results."""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from ..constants import MODEL_NAMES
from . import COLORS, PSEUDOSPIKE, panel_labels, place_legends, spike_time_line

MODEL_LABELS = {"qif": "QIF", "lif": "LIF"}
VOLTAGE_LIMITS = {"qif": (-2.0, 3.0), "lif": (-0.1, 1.6)}


def shades(color: str, n: int) -> list[tuple[float, float, float]]:
    """n shades of a colour, from light (mixed with white) to the colour itself."""
    rgb = np.asarray(to_rgb(color))
    return [tuple(1 - (1 - rgb) * f) for f in np.linspace(0.5, 1.0, n)]


def value_legend(ax: Axes, title: str) -> None:
    """A one-row legend of the example values, each written in its line's shade (no
    handles), small enough to find a free place (place_legends)."""
    handles, labels = ax.get_legend_handles_labels()
    ncol = (len(labels) + 1) // 2  # two rows, read row by row (legends fill by column)
    order = [
        row * ncol + column
        for column in range(ncol)
        for row in range(2)
        if row * ncol + column < len(labels)
    ]
    ax.legend(
        [handles[i] for i in order],
        [labels[i] for i in order],
        title=title,
        ncol=ncol,
        handlelength=0,
        handletextpad=0,
        columnspacing=0.7,
        labelcolor="linecolor",
        fontsize=8,
        title_fontsize=8,
        borderaxespad=0.3,
    )


def voltage_traces(ax: Axes, results, name: str) -> None:
    """V(t) for the example weights; V outside the axes range is not drawn (the QIF
    voltage runs to +inf at a spike and returns from -inf), spikes are marked on top."""
    times = results.sweeps(name).trace_times
    voltage = results.sweeps(name).trace_voltage
    spikes = results.sweeps(name).trace_spikes
    low, high = VOLTAGE_LIMITS[name]
    colors = shades(COLORS[name], len(voltage))
    for v, t_spikes, w, color in zip(
        voltage, spikes, results.config.example_weights, colors, strict=True
    ):
        shown = np.where((v > low - 1) & (v < high + 1), v, np.nan)
        ax.plot(times, shown, color=color, lw=1.2, label=f"{w:g}")
        t_spikes = t_spikes[np.isfinite(t_spikes)]
        if t_spikes.size:  # an empty unclipped line would stretch the layout's bounding box
            ax.plot(
                t_spikes,
                np.full(t_spikes.shape, high),
                ls="",
                marker="v",
                ms=5,
                color=color,
                clip_on=False,
            )
    if name == "lif":
        ax.axhline(1.0, color=COLORS["reference"], lw=0.8, ls="--")
        ax.text(
            0.98 * times[-1],
            1.0,
            r"threshold $V_\mathrm{th}$",
            ha="right",
            va="bottom",
            fontsize=8,
            color=COLORS["reference"],
        )
    ax.set(
        xlim=(0, times[-1]),
        ylim=(low, high),
        xlabel=r"time $t$ ($\tau$)",
        ylabel=f"{MODEL_LABELS[name]} voltage $V$",
    )
    value_legend(ax, r"$w$ ($w_{\min}$)")


def spike_time_curve(
    ax: Axes, x: np.ndarray, first: np.ndarray, name: str, duration: float
) -> None:
    """First spike time against a swept parameter: ordinary spikes in the model colour,
    pseudospikes (t > T) dotted in it (``PSEUDOSPIKE``); a vanished LIF spike leaves a gap."""
    pseudo = np.where((first > duration) & np.isfinite(first), first, np.nan)
    spike_time_line(ax, x, first, duration, COLORS[name], label="spike")
    if np.isfinite(pseudo).any():
        ax.plot([], [], color=COLORS[name], label="pseudospike", **PSEUDOSPIKE)
    ax.axhspan(duration, 1.3 * duration, color=COLORS["pseudo_range"], zorder=0)
    ax.axhline(duration, color=COLORS["reference"], lw=0.8)
    ax.text(x[0], duration, r" trial end $T$", va="bottom", fontsize=8, color=COLORS["reference"])
    ax.set(ylim=(0, 1.3 * duration), ylabel=r"first spike time $t_\mathrm{sp}$ ($\tau$)")
    if not np.isfinite(first).all():
        gap = x[~np.isfinite(first)]
        ax.text(
            np.mean(gap), 0.5 * duration, "no\nspike", ha="center", fontsize=8, color=COLORS[name]
        )


def spike_time_vs_weight(ax: Axes, results, name: str) -> None:
    """t_sp(w) with the example weights of the voltage traces marked."""
    w_min, duration = results.summary(name).w_min, results.summary(name).duration
    weights = results.sweeps(name).weights / w_min
    first = results.sweeps(name).first_spike_vs_weight
    spike_time_curve(ax, weights, first, name, duration)
    examples = np.asarray(results.config.example_weights)
    at = np.interp(examples, weights, np.where(np.isfinite(first), first, np.nan))
    ax.scatter(
        examples,
        at,
        s=14,
        c=shades(COLORS[name], len(examples)),
        zorder=3,
        edgecolors=COLORS["ink"],
        linewidths=0.4,
    )
    ax.set(xlim=(0, weights[-1]), xlabel=r"input weight $w$ ($w_{\min}$)")
    ax.legend(fontsize=8)


def spike_time_derivative(ax: Axes, results, name: str) -> None:
    """dt_sp/dw from reverse-mode autodiff (line) and from finite differences of the
    1e5-point sweep (circles)."""
    w_min = results.summary(name).w_min
    weights = results.sweeps(name).gradient_weights / w_min
    ax.plot(weights, results.sweeps(name).dt_dw_autodiff, color=COLORS[name], label="autodiff")
    every = max(len(weights) // 40, 1)
    ax.plot(
        weights[::every],
        results.sweeps(name).dt_dw_numeric[::every],
        ls="",
        marker="o",
        ms=3,
        mfc="none",
        mec=COLORS["ink"],
        mew=0.6,
        label="finite differences",
    )
    ax.axhline(0, color=COLORS["reference"], lw=0.6)
    low = np.nanmin(results.sweeps(name).dt_dw_autodiff)
    ax.set_ylim(1.4 * low, -0.05 * low)  # room for the legend below the curve
    ax.set(
        xlim=(0, weights[-1]),
        xlabel=r"input weight $w$ ($w_{\min}$)",
        ylabel=r"$\mathrm{d}t_\mathrm{sp}/\mathrm{d}w$ ($\tau$)",
    )
    ax.legend(fontsize=8, handlelength=1.2)  # placed clear of the curves by place_legends


def spike_time_vs_inhibition(ax: Axes, results, name: str, details=None) -> None:
    """t_sp against the time of the inhibitory input, with the diagonal t_sp = t_inh (an
    inhibition before the spike can suppress it) and the example inhibition times."""
    duration = results.summary(name).duration
    first = results.sweeps(name).first_spike_vs_inhibition
    spike_time_curve(ax, results.sweeps(name).inhibition_times, first, name, duration)
    ax.plot(
        [0, duration],
        [0, duration],
        color=COLORS["reference"],
        lw=0.8,
        ls="--",
        label=r"$t_\mathrm{sp} = t_\mathrm{inh}$",
    )
    excitatory_time = results.config.excitatory_time
    ax.axvline(excitatory_time, color=COLORS["input_exc"], lw=0.8, ls=":")
    if details is not None:  # the examples of (e, f): their times on the axis, their spikes
        examples = details[name]["inhibition"]["inhibition_times"]
        at = np.interp(
            examples,
            results.sweeps(name).inhibition_times,
            np.where(np.isfinite(first), first, np.nan),
        )
        colors = np.asarray(shades(COLORS[name], len(examples)))
        ax.scatter(
            examples, np.zeros(len(examples)), marker="^", s=36, c=colors, zorder=3, clip_on=False
        )
        spiking = np.isfinite(at)
        ax.scatter(
            examples[spiking],
            at[spiking],
            s=16,
            c=colors[spiking],
            zorder=3,
            edgecolors=COLORS["ink"],
            linewidths=0.4,
        )
    ax.set(xlim=(0, duration), xlabel=r"inhibitory input time $t_\mathrm{inh}$ ($\tau$)")
    ax.legend(fontsize=8)


def inhibition_traces(ax: Axes, details, name: str) -> None:
    """V(t) for the example inhibition times (the inhibitory inputs marked below)."""
    traces = details[name]["inhibition"]
    low, high = VOLTAGE_LIMITS[name]
    colors = shades(COLORS[name], len(traces["voltage"]))
    for v, t_spikes, t_inh, color in zip(
        traces["voltage"], traces["spikes"], traces["inhibition_times"], colors, strict=True
    ):
        ax.plot(
            traces["times"],
            np.where((v > low - 1) & (v < high + 1), v, np.nan),
            color=color,
            lw=1.2,
            label=f"{t_inh:g}",
        )
        ax.plot([t_inh], [low], ls="", marker="^", ms=6, color=color, clip_on=False)
        t_spikes = t_spikes[np.isfinite(t_spikes)]
        if t_spikes.size:
            ax.plot(
                t_spikes,
                np.full(t_spikes.shape, high),
                ls="",
                marker="v",
                ms=5,
                color=color,
                clip_on=False,
            )
    if name == "lif":
        ax.axhline(1.0, color=COLORS["reference"], lw=0.8, ls="--")
    ax.set(
        xlim=(0, traces["times"][-1]),
        ylim=(low, high),
        xlabel=r"time $t$ ($\tau$)",
        ylabel=f"{MODEL_LABELS[name]} voltage $V$",
    )
    value_legend(ax, r"$t_\mathrm{inh}$ ($\tau$)")


def current_schematic(ax: Axes, details, results) -> None:
    """The two protocols' input currents I(t) / w_min: one excitatory input of weight w
    (here w = w_min), and an excitatory input followed by an inhibitory one."""
    single = details["qif"]["single"]
    inhibition = details["qif"]["inhibition"]
    w_min = results.qif_summary.w_min
    ax.plot(
        single["times"],
        single["current"][0] / w_min,
        color=COLORS["input_exc"],
        label=f"$w$ at $t = {results.config.input_time:g}$",
    )
    ax.plot(
        inhibition["times"],
        inhibition["current"][1] / w_min,
        color=COLORS["input_inh"],
        label=r"1.5, then $-1$ at $t_\mathrm{inh}$",
    )
    ax.axhline(0, color=COLORS["reference"], lw=0.6)
    ax.set(
        xlim=(0, single["times"][-1]),
        ylim=(-1.2, 1.9),
        xlabel=r"time $t$ ($\tau$)",
        ylabel=r"input current $I$ ($w_{\min}$)",
        title="protocols",
    )
    ax.legend(fontsize=8, handlelength=1.0)


def both_models_vs_weight(ax: Axes, results, details) -> None:
    """QIF and LIF first spike times against w / w_min on one axis, labelled on the curves;
    lower-left inset: |dt_sp/dw| just above w_min (log-log), where the LIF derivative
    diverges. The inset lies where no curve runs (w < w_min, t_sp < T)."""
    for name in MODEL_NAMES:
        w_min, duration = (results.summary(name).w_min, results.summary(name).duration)
        first = results.sweeps(name).first_spike_vs_weight
        weights = results.sweeps(name).weights / w_min
        spike_time_line(ax, weights, first, duration, COLORS[name])
    ax.set(
        xlim=(0, 2),
        ylim=(0, 5),
        xlabel=r"input weight $w$ ($w_{\min}$)",
        ylabel=r"first spike time $t_\mathrm{sp}$ ($\tau$)",
    )
    ax.text(1.55, 2.45, "QIF", color=COLORS["qif"], fontsize=8)
    ax.text(1.55, 1.0, "LIF", color=COLORS["lif"], fontsize=8)
    ax.text(0.05, 4.4, "pseudospike", color=COLORS["qif"], fontsize=8, va="top")
    inset = ax.inset_axes([0.17, 0.2, 0.3, 0.4])
    for name in MODEL_NAMES:
        near = details[name]["threshold"]
        inset.loglog(near["distance"], np.abs(near["dt_dw"]), color=COLORS[name])
    inset.set_xlabel(r"$w / w_{\min} - 1$", fontsize=8, labelpad=1)
    inset.set_title(r"$|\mathrm{d}t_\mathrm{sp}/\mathrm{d}w|$", fontsize=8, pad=2)
    inset.tick_params(labelsize=8)
    inset.set_xticks([1e-8, 1e-4, 1], ["1e-8", "", "1"])
    inset.set_yticks([1e-1, 1e1, 1e3])


def figure(results, details) -> Figure:
    """Row 1: the protocols' input currents, QIF and LIF voltage traces for example weights,
    both models' t_sp(w) with ``|dt_sp/dw|`` near w_min. Row 2: voltage traces for example
    inhibition times, t_sp(t_inh). Row 3: t_sp(w) per model, dt_sp/dw by autodiff and
    finite differences. details: concept.figure_details(config)."""
    fig, axes = plt.subplots(3, 4, figsize=(10, 8.4))
    current_schematic(axes[0, 0], details, results)
    voltage_traces(axes[0, 1], results, "qif")
    voltage_traces(axes[0, 2], results, "lif")
    both_models_vs_weight(axes[0, 3], results, details)
    for column, name in enumerate(MODEL_NAMES):
        inhibition_traces(axes[1, column], details, name)
        spike_time_vs_inhibition(axes[1, 2 + column], results, name, details)
        spike_time_vs_weight(axes[2, column], results, name)
        spike_time_derivative(axes[2, 2 + column], results, name)
    panel_labels(axes)
    place_legends(fig)
    return fig
