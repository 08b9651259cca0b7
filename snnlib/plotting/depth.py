"""Figure of the depth study: test accuracy against the number of hidden layers, with and
without pseudospikes, and the activity of each layer after training."""

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from . import COLORS, panel_labels, place_legends

# the training variants: (pseudospikes in training, label, colour)
TRAININGS = (
    (True, "with pseudospikes", COLORS["with_pseudo"]),
    (False, "without pseudospikes", COLORS["without_pseudo"]),
)
CHANCE = 0.1
MAX_DEPTH = 6  # the x axis of (a) spans the study's depths, however many are stored


def accuracy_against_depth(ax: Axes, runs: Mapping[tuple[int, bool], Sequence[Any]]) -> None:
    """Final test accuracy (mean ± sample std over seeds) against L for both trainings;
    solid: the earliest output spike counting pseudospikes, dashed: real spikes only."""
    for pseudo, label, color in TRAININGS:
        depths = sorted(d for d, p in runs if p == pseudo)
        if not depths:
            continue
        for field, style, suffix in (
            ("accuracy", "-", ""),
            ("accuracy_spikes_only", "--", ", real spikes only"),
        ):
            values = [
                100 * np.array([getattr(r.final, field) for r in runs[d, pseudo]]) for d in depths
            ]
            mean = np.array([v.mean() for v in values])
            std = np.array([v.std(ddof=1) if len(v) > 1 else 0.0 for v in values])
            ax.errorbar(
                depths,
                mean,
                std,
                color=color,
                linestyle=style,
                marker="o",
                markersize=3,
                capsize=2,
                label=label + suffix,
            )
    ax.axhline(100 * CHANCE, color=COLORS["reference"], linewidth=0.8, linestyle=":")
    deepest = max([MAX_DEPTH, *(d for d, _ in runs)])
    ax.set(
        xlabel="hidden layers $L$",
        ylabel="test accuracy (%)",
        ylim=(0, 100),
        xlim=(0.5, deepest + 0.5),
    )
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if runs:
        ax.legend(fontsize=8, loc="center right")


def activity_per_layer(
    ax: Axes, runs: Mapping[tuple[int, bool], Sequence[Any]], pseudo: bool = True
) -> None:
    """Spikes per neuron and image of each layer (hidden layers, then the output) after
    training, mean over seeds, one line per depth."""
    depths = sorted(d for d, p in runs if p == pseudo)
    shades = plt.get_cmap("viridis")(np.linspace(0, 0.9, len(depths)))
    for depth, shade in zip(depths, shades, strict=True):
        activity = np.mean(
            [np.asarray(r.metrics.layer_activity[-1]) for r in runs[depth, pseudo]], axis=0
        )
        layers = np.arange(1, len(activity) + 1)
        ax.plot(layers, activity, marker="o", markersize=3, color=shade, label=f"$L = {depth}$")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set(
        xlabel="layer (last: output)",
        ylabel="spikes / neuron / image",
        title="after training, " + ("with" if pseudo else "without") + " pseudospikes",
    )
    if depths:
        ax.legend(fontsize=8)


def figure(runs: Mapping[tuple[int, bool], Sequence[Any]]) -> Figure:
    """(a) accuracy against depth, (b) activity per layer; runs: {(L, pseudospikes): the
    results of its seeds}."""
    fig, axes = plt.subplots(1, 2, figsize=(7.0, 2.8), layout="constrained")
    accuracy_against_depth(axes[0], runs)
    activity_per_layer(axes[1], runs)
    panel_labels(axes)
    place_legends(fig)
    return fig
