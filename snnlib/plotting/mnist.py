"""Figure of the MNIST experiment (paper Fig. 4), drawn from the `MnistResults` of one or
more seeds."""

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..classification.metrics import stacked
from . import PALETTE, panel_labels

CLASS_COLORS = plt.get_cmap("tab10").colors


def layer_sizes(results) -> list[int]:
    """Neurons per layer (hidden layers, then the 10 output neurons)."""
    return list(results.config.network.sizes[1:])


def digit(ax: Axes, results) -> None:
    """The example test image with its label."""
    ax.imshow(results.example_image, cmap="gray_r")
    ax.set(xticks=[], yticks=[], title=f"test image (label {int(results.example_label)})")


def raster(ax: Axes, results, which: str) -> None:
    """Spikes of all neurons for the example image (layers bottom to top, output on top)."""
    times = results.example(which).spike_times
    duration = results.config.network.duration
    rows = [row[np.isfinite(row)] for row in times]
    ax.eventplot(rows, colors="k", linewidths=0.8, linelengths=2.0)
    start = 0
    sizes = layer_sizes(results)
    for index, size in enumerate(sizes):
        if index % 2 == 0:
            ax.axhspan(start - 0.5, start + size - 0.5, color="0.92", zorder=0)
        name = "output" if index == len(sizes) - 1 else f"hidden {index + 1}"
        ax.text(0.98 * duration, start + size / 2, name, ha="right", va="center",
                fontsize=8, color="0.4")
        start += size
    n = start
    prediction = int(results.example(which).prediction)
    ax.set(xlim=(0, duration), ylim=(-1, n), xlabel="time $t$", ylabel="neuron",
           yticks=np.cumsum([0, *layer_sizes(results)])[:-1],
           title=f"{which} training: {sum(len(r) for r in rows)} spikes, predicts {prediction}")


def voltages(ax: Axes, results, which: str) -> None:
    """Voltage traces V(t) of the 10 output neurons for the example image."""
    time = results.example_trace_time
    voltage = results.example(which).voltage
    label = int(results.example_label)
    for index in range(voltage.shape[1]):
        ax.plot(time, voltage[:, index], color=CLASS_COLORS[index],
                lw=2.0 if index == label else 0.8, label=str(index))
    ax.set(xlim=(0, time[-1]), ylim=(-8, 8), xlabel="time $t$", ylabel="output voltage $V$",
           title=f"output neurons, {which} training")
    ax.legend(ncol=5, fontsize=8, handlelength=1.0, columnspacing=0.8, loc="lower left")


def error_vs_epoch(ax: Axes, runs: Sequence) -> None:
    """Test error vs epoch + 1 for every seed (thin lines) and their mean +- standard
    deviation (seaborn), with and without pseudospikes."""
    import pandas as pd
    import seaborn as sns

    frames = []
    for name, label in (("accuracy", "incl. pseudospikes"),
                        ("accuracy_ordinary", "ordinary spikes only")):
        error = 1 - stacked(runs, name)
        epochs = np.arange(1, error.shape[1] + 1)
        for run, row in zip(runs, error, strict=True):
            frames.append(pd.DataFrame({"epoch + 1": epochs, "test error": row,
                                        "seed": run.config.training.seed,
                                        "counting": label}))
    data = pd.concat(frames, ignore_index=True)
    palette = {"incl. pseudospikes": PALETTE["pseudo"],
               "ordinary spikes only": PALETTE["theta"]}
    if len(runs) > 1:
        sns.lineplot(data=data, x="epoch + 1", y="test error", hue="counting", units="seed",
                     estimator=None, palette=palette, lw=0.5, alpha=0.5, legend=False, ax=ax)
    sns.lineplot(data=data, x="epoch + 1", y="test error", hue="counting", palette=palette,
                 errorbar="sd" if len(runs) > 1 else None, ax=ax)
    ax.set(xscale="log", yscale="log", ylim=(1e-2, 1),
           title=f"{len(runs)} seed{'s' if len(runs) > 1 else ''}")
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
    return fig
