"""Figure style of the book: a colour-blind-safe palette, the mplstyle and panel labels.

The backend is never set here: notebooks draw inline, tests use Agg.
"""

from collections.abc import Iterable, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.text import Annotation

STYLE = Path(__file__).with_name("snnlib.mplstyle")

# Okabe & Ito's colour-blind-safe colours, named by what they show in the figures.
PALETTE = {
    "qif": "#0072B2",  # blue
    "lif": "#D55E00",  # vermillion
    "target": "#000000",  # black
    "pseudo": "#E69F00",  # orange
    "input_exc": "#009E73",  # bluish green
    "input_inh": "#CC79A7",  # reddish purple
    "theta": "#56B4E9",  # sky blue
}

__all__ = ["PALETTE", "STYLE", "arc_length", "panel_labels", "use_style"]


def use_style() -> None:
    """Activate the snnlib matplotlib style (``snnlib.mplstyle``) for all following figures."""
    plt.style.use(STYLE)


def panel_labels(
    axes: Axes | Iterable[Axes],
    labels: Sequence[str] = "abcdefghijklmnopqrstuvwxyz",
    *,
    offset: tuple[float, float] = (-24.0, 6.0),
) -> list[Annotation]:
    """Write bold panel labels ("a", "b", ...) at the top-left corner of each axes.

    axes: one Axes, or a sequence or array of them (row-major order, as from ``plt.subplots``).
    labels: one label per axes, in order (a string gives one label per character).
    offset: position of the label's lower-right corner relative to the axes' top-left
        corner, in points.
    Returns the label annotations.
    """
    axes_list = [axes] if isinstance(axes, Axes) else list(np.ravel(axes))
    if len(labels) < len(axes_list):
        raise ValueError(f"{len(axes_list)} axes but only {len(labels)} labels")
    return [
        ax.annotate(
            label,
            xy=(0, 1),
            xycoords="axes fraction",
            xytext=offset,
            textcoords="offset points",
            ha="right",
            va="bottom",
            fontweight="bold",
            fontsize=plt.rcParams["axes.titlesize"],
        )
        for ax, label in zip(axes_list, labels, strict=False)
    ]


def arc_length(times: np.ndarray) -> np.ndarray:
    """Spike-time arc length after each trial: cumulative sum_k |t_k(n) - t_k(n-1)|."""
    steps = np.nansum(np.abs(np.diff(times, axis=0)), axis=tuple(range(1, times.ndim)))
    return np.concatenate([[0.0], np.cumsum(steps)])
