"""Figure of the MNIST experiment (paper Fig. 4), drawn from the `MnistResults` of one or
more seeds."""

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..classification.metrics import stacked
from . import COLORS, panel_labels, place_legends

OUTPUT_ROW = 10.0  # height of an output neuron's row in the rasters (hidden rows: 1)


def layer_sizes(results) -> list[int]:
    """Neurons per layer (hidden layers, then the 10 output neurons)."""
    return list(results.config.network.sizes[1:])


def digit(ax: Axes, results) -> None:
    """The example test image with its label."""
    ax.imshow(results.example_image, cmap="gray_r")
    ax.set(xticks=[], yticks=[], title=f"test image (label {int(results.example_label)})")


def raster(ax: Axes, results, which: str) -> None:
    """Spikes of all neurons for the example image (layers bottom to top, output on top).
    The output neurons get rows OUTPUT_ROW times as tall as the hidden ones, labelled by
    their digit, the label's neuron in black, the others grey."""
    times = results.example(which).spike_times
    duration = results.config.network.duration
    rows = [row[np.isfinite(row)] for row in times]
    sizes = layer_sizes(results)
    n_hidden, n_out = sum(sizes[:-1]), sizes[-1]
    label = int(results.example_label)
    output_rows = n_hidden + OUTPUT_ROW * (np.arange(n_out) + 0.5)
    positions = [*range(n_hidden), *output_rows]
    ax.eventplot(
        rows,
        lineoffsets=positions,
        linelengths=[4.0] * n_hidden + [0.8 * OUTPUT_ROW] * n_out,
        linewidths=[1.5] * n_hidden + [2.5] * n_out,
        colors=[COLORS["spike"]] * n_hidden
        + [COLORS["target"] if k == label else COLORS["other"] for k in range(n_out)],
    )
    start = 0
    for index, size in enumerate(sizes[:-1]):
        if index % 2 == 0:
            ax.axhspan(start - 0.5, start + size - 0.5, color=COLORS["pseudo_range"], zorder=0)
        ax.text(
            0.98 * duration,
            start + size / 2,
            f"hidden {index + 1}",
            ha="right",
            va="center",
            fontsize=8,
            color=COLORS["reference"],
        )
        start += size
    top = n_hidden + OUTPUT_ROW * n_out
    ax.axhspan(n_hidden, top, color=COLORS["pseudo_range"], zorder=0)
    prediction = int(results.example(which).prediction)
    ax.set(
        xlim=(0, duration),
        ylim=(-1, top),
        xlabel="time $t$",
        ylabel="neuron",
        yticks=[*np.cumsum([0, *sizes[:-1]])[:-1], *output_rows[::3]],
        yticklabels=[
            *(str(s) for s in np.cumsum([0, *sizes[:-1]])[:-1]),
            *(f"out {k}" for k in range(0, n_out, 3)),
        ],
        title=f"{which} training: {sum(len(r) for r in rows)} spikes, predicts {prediction}",
    )


def voltages(ax: Axes, results, which: str) -> None:
    """Voltage traces V(t) of the 10 output neurons for the example image: the label's
    neuron black and thick, the others grey."""
    time = results.example_trace_time
    voltage = results.example(which).voltage
    label = int(results.example_label)
    for index in range(voltage.shape[1]):
        if index != label:
            ax.plot(
                time,
                voltage[:, index],
                color=COLORS["other"],
                lw=0.8,
                label="other digits" if index == (label == 0) else None,
            )
    ax.plot(time, voltage[:, label], color=COLORS["target"], lw=2.0, label=f"digit {label}")
    ax.set(
        xlim=(0, time[-1]),
        ylim=(-8, 8),
        xlabel="time $t$",
        ylabel="output voltage $V$",
        title=f"output neurons, {which} training",
    )
    ax.legend(fontsize=8)


def error_vs_epoch(ax: Axes, runs: Sequence) -> None:
    """Test error vs epoch + 1 for every seed (thin lines) and their mean +- standard
    deviation (seaborn), with and without pseudospikes."""
    import pandas as pd
    import seaborn as sns

    frames = []
    for name, label in (
        ("accuracy", "incl. pseudospikes"),
        ("accuracy_ordinary", "ordinary spikes only"),
    ):
        error = 1 - stacked(runs, name)
        epochs = np.arange(1, error.shape[1] + 1)
        for run, row in zip(runs, error, strict=True):
            frames.append(
                pd.DataFrame(
                    {
                        "epoch + 1": epochs,
                        "test error": row,
                        "seed": run.config.training.seed,
                        "counting": label,
                    }
                )
            )
    data = pd.concat(frames, ignore_index=True)
    palette = {
        "incl. pseudospikes": COLORS["with_pseudo"],
        "ordinary spikes only": COLORS["without_pseudo"],
    }
    if len(runs) > 1:
        sns.lineplot(
            data=data,
            x="epoch + 1",
            y="test error",
            hue="counting",
            units="seed",
            estimator=None,
            palette=palette,
            lw=0.5,
            alpha=0.5,
            legend=False,
            ax=ax,
        )
    sns.lineplot(
        data=data,
        x="epoch + 1",
        y="test error",
        hue="counting",
        palette=palette,
        errorbar="sd" if len(runs) > 1 else None,
        ax=ax,
    )
    ax.set(
        xscale="log",
        yscale="log",
        ylim=(1e-2, 1),
        title=f"{len(runs)} seed{'s' if len(runs) > 1 else ''}",
    )
    ax.legend(title=None)


def figure(runs: Sequence) -> Figure:
    """The MNIST figure: example digit, rasters and output voltages before and after
    training (first seed), test error vs epoch over all seeds."""
    first = runs[0]
    fig, axes = plt.subplots(2, 3, figsize=(10, 6))
    digit(axes[0, 0], first)
    raster(axes[0, 1], first, "before")
    raster(axes[0, 2], first, "after")
    voltages(axes[1, 0], first, "before")
    voltages(axes[1, 1], first, "after")
    error_vs_epoch(axes[1, 2], runs)
    panel_labels(axes)
    place_legends(fig)
    return fig
