"""Figure of the concept experiment (paper Fig. 1), drawn from its Results."""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from . import PALETTE, panel_labels

MODEL_LABELS = {"qif": "QIF", "lif": "LIF"}
VOLTAGE_LIMITS = {"qif": (-2.0, 3.0), "lif": (-0.1, 1.6)}


def shades(color: str, n: int) -> list[tuple[float, float, float]]:
    """n shades of a colour, from light (mixed with white) to the colour itself."""
    rgb = np.asarray(to_rgb(color))
    return [tuple(1 - (1 - rgb) * f) for f in np.linspace(0.35, 1.0, n)]


def voltage_traces(ax: Axes, results, name: str) -> None:
    """V(t) for the example weights; V outside the axes range is not drawn (the QIF
    voltage runs to +inf at a spike and returns from -inf), spikes are marked on top."""
    times = results[f"{name}_trace_times"]
    voltage = results[f"{name}_trace_voltage"]
    spikes = results[f"{name}_trace_spikes"]
    low, high = VOLTAGE_LIMITS[name]
    colors = shades(PALETTE[name], len(voltage))
    for v, t_spikes, w, color in zip(voltage, spikes, results.config["example_weights"],
                                     colors, strict=True):
        shown = np.where((v > low - 1) & (v < high + 1), v, np.nan)
        ax.plot(times, shown, color=color, lw=1.2, label=f"{w:g}")
        t_spikes = t_spikes[np.isfinite(t_spikes)]
        if t_spikes.size:  # an empty unclipped line would stretch the layout's bounding box
            ax.plot(t_spikes, np.full(t_spikes.shape, high), ls="", marker="v", ms=5,
                    color=color, clip_on=False)
    if name == "lif":
        ax.axhline(1.0, color="0.3", lw=0.8, ls="--")
        ax.text(0.5 * times[-1], 1.0, r"threshold $V_\mathrm{th}$", ha="center", va="bottom",
                fontsize=7, color="0.3")
    ax.set(xlim=(0, times[-1]), ylim=(low, high), xlabel=r"time $t$ ($\tau$)",
           ylabel=f"{MODEL_LABELS[name]} voltage $V$")
    ax.legend(title=r"$w$ ($w_{\min}$)", loc="upper right", handlelength=1.0, labelspacing=0.2,
              fontsize=7, title_fontsize=7, frameon=True, framealpha=0.9, edgecolor="none")


def spike_time_curve(ax: Axes, x: np.ndarray, first: np.ndarray, name: str,
                     duration: float) -> None:
    """First spike time against a swept parameter: ordinary spikes in the model colour,
    pseudospikes (t > T) in the pseudospike colour; a vanished LIF spike leaves a gap."""
    ordinary = np.where(first <= duration, first, np.nan)
    pseudo = np.where((first > duration) & np.isfinite(first), first, np.nan)
    ax.plot(x, ordinary, color=PALETTE[name], label="spike")
    if np.isfinite(pseudo).any():
        ax.plot(x, pseudo, color=PALETTE["pseudo"], label="pseudospike")
    ax.axhspan(duration, 1.3 * duration, color="0.9", zorder=0)
    ax.axhline(duration, color="0.5", lw=0.8)
    ax.text(x[0], duration, r" trial end $T$", va="bottom", fontsize=7, color="0.35")
    ax.set(ylim=(0, 1.3 * duration), ylabel=r"first spike time $t_\mathrm{sp}$ ($\tau$)")
    if not np.isfinite(first).all():
        gap = x[~np.isfinite(first)]
        ax.text(np.mean(gap), 0.5 * duration, "no spike", ha="center", fontsize=7,
                color=PALETTE[name])


def spike_time_vs_weight(ax: Axes, results, name: str) -> None:
    """t_sp(w) with the example weights of the voltage traces marked."""
    w_min, duration = results.metadata[f"{name}_w_min"], results.metadata[f"{name}_duration"]
    weights = results[f"{name}_weights"] / w_min
    first = results[f"{name}_first_spike_vs_weight"]
    spike_time_curve(ax, weights, first, name, duration)
    examples = np.asarray(results.config["example_weights"])
    at = np.interp(examples, weights, np.where(np.isfinite(first), first, np.nan))
    ax.scatter(examples, at, s=14, c=shades(PALETTE[name], len(examples)), zorder=3,
               edgecolors="k", linewidths=0.4)
    ax.set(xlim=(0, weights[-1]), xlabel=r"input weight $w$ ($w_{\min}$)")
    ax.legend(loc="lower left", fontsize=7)


def spike_time_derivative(ax: Axes, results, name: str) -> None:
    """dt_sp/dw from reverse-mode autodiff (line) and from finite differences of the
    1e5-point sweep (circles)."""
    w_min = results.metadata[f"{name}_w_min"]
    weights = results[f"{name}_gradient_weights"] / w_min
    ax.plot(weights, results[f"{name}_dt_dw_autodiff"], color=PALETTE[name], label="autodiff")
    every = max(len(weights) // 40, 1)
    ax.plot(weights[::every], results[f"{name}_dt_dw_numeric"][::every], ls="", marker="o",
            ms=3, mfc="none", mec="k", mew=0.6, label="finite differences")
    ax.axhline(0, color="0.6", lw=0.6)
    ax.set(xlim=(0, weights[-1]), xlabel=r"input weight $w$ ($w_{\min}$)",
           ylabel=r"$\mathrm{d}t_\mathrm{sp}/\mathrm{d}w$ ($\tau$)")
    ax.legend(loc="lower right", fontsize=7)


def spike_time_vs_inhibition(ax: Axes, results, name: str) -> None:
    """t_sp against the time of the inhibitory input; the excitatory input time dotted."""
    duration = results.metadata[f"{name}_duration"]
    spike_time_curve(ax, results[f"{name}_inhibition_times"],
                     results[f"{name}_first_spike_vs_inhibition"], name, duration)
    excitatory_time = results.config["excitatory_time"]
    ax.axvline(excitatory_time, color=PALETTE["input_exc"], lw=0.8, ls=":")
    ax.text(excitatory_time, 0.02 * duration, " excitatory input", fontsize=7,
            color=PALETTE["input_exc"])
    ax.set(xlim=(0, duration), xlabel=r"inhibitory input time $t_\mathrm{inh}$ ($\tau$)")


def figure(results) -> Figure:
    """Rows: QIF, LIF. Columns: voltage traces, t_sp(w), dt_sp/dw, t_sp(t_inh)."""
    fig, axes = plt.subplots(2, 4, figsize=(11, 5.6))
    for row, name in zip(axes, ("qif", "lif"), strict=True):
        voltage_traces(row[0], results, name)
        spike_time_vs_weight(row[1], results, name)
        spike_time_derivative(row[2], results, name)
        spike_time_vs_inhibition(row[3], results, name)
    panel_labels(axes)
    return fig
