"""Figure style of the book: one colour code, the mplstyle, panel labels and the line styles
shared by every figure.

The colour code (``COLORS``) gives each colour one meaning across the book; every figure
module takes its colours from it (tests/test_plotting.py checks). The fixed meanings use
Okabe & Ito's colour-blind-safe colours and are never reused for anything else; the
categorical sets (Yin-Yang classes, gradient components) take Paul Tol's colours that carry
no fixed meaning. Pseudospikes have one style everywhere (``PSEUDOSPIKE``): dotted, in the
colour of the neuron or model they belong to, above the trial end T in the grey
``pseudo_range`` band.

The backend is never set here: notebooks draw inline, tests use Agg.
"""

from collections.abc import Iterable, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.text import Annotation

STYLE = Path(__file__).with_name("snnlib.mplstyle")

#: The colour code: each entry has one meaning in every figure (see the comments).
COLORS = {
    # models
    "qif": "#0072B2",  # blue: the QIF neuron
    "lif": "#D55E00",  # vermillion: the LIF neuron
    # inputs and targets
    "input_exc": "#009E73",  # bluish green: excitatory input (weight > 0)
    "input_inh": "#CC79A7",  # reddish purple: inhibitory input (weight < 0)
    "target": "#000000",  # black: target spike times, the correct class
    # with and without pseudospikes (training or readout)
    "with_pseudo": "#E69F00",  # orange: pseudospikes counted / used in training
    "without_pseudo": "#56B4E9",  # sky blue: ordinary spikes only
    # the trained neurons (spikes) of a task, in order: neuron 0 / spike 1, neuron 1 / spike 2
    "neurons": ("#882255", "#999933"),  # wine, olive
    # neutral greys
    "spike": "#000000",  # an ordinary spike with no other colour to carry
    "ink": "#000000",  # curves with no category (loss), marker edges
    "other": "0.55",  # neurons without a target, other output neurons
    "reference": "0.5",  # reference lines: trial end T, zero, diagonals, caps
    "pseudo_range": "0.9",  # band above the trial end T, where pseudospikes lie
    "no_hidden": "0.3",  # the network without a hidden layer (Yin-Yang ablation)
    "no_class": "0.7",  # decision maps read from real spikes: no output spike, no class
    # categorical sets (Paul Tol's colours, no fixed meaning elsewhere)
    "classes_yinyang": ("#332288", "#DDCC77", "#44AA99"),  # yin indigo, yang sand, dot teal
    "gradients": ("#332288", "#44AA99", "#AA4499", "#DDCC77"),  # dL/dw1, dL/dw2, dL/dt1, dL/dt2
}

PSEUDOSPIKE = {"ls": ":", "lw": 1.5}  #: a pseudospike's line, in its neuron's colour

__all__ = [
    "COLORS",
    "PSEUDOSPIKE",
    "STYLE",
    "arc_length",
    "line_points",
    "moving_average",
    "panel_labels",
    "place_legends",
    "spike_time_line",
    "use_style",
]


def use_style() -> None:
    """Activate the snnlib matplotlib style (``snnlib.mplstyle``) for all following figures."""
    plt.style.use(STYLE)


def spike_time_line(
    ax: Axes,
    x: np.ndarray,
    times: np.ndarray,
    duration: float,
    color,
    label: str | None = None,
    **style,
) -> None:
    """Spike times against x: ordinary spikes (t <= T) solid, pseudospikes (t > T) in the
    ``PSEUDOSPIKE`` style, both in `color`; a pseudospike segment joins its neighbours.

    x: shape (n,); times: shape (n,) or (n, k) (k lines); NaN leaves a gap.
    """
    times = np.asarray(times, float)
    ordinary = np.where(times <= duration, times, np.nan)
    pseudo = times > duration
    # extend each pseudospike run by one point on both sides so the line stays connected
    joined = pseudo.copy()
    joined[1:] |= pseudo[:-1]
    joined[:-1] |= pseudo[1:]
    pseudo_line = np.where(joined & np.isfinite(times), times, np.nan)
    ax.plot(x, ordinary, color=color, label=label, **style)
    if pseudo.any():
        ax.plot(x, pseudo_line, color=color, **{**style, **PSEUDOSPIKE})


def panel_labels(
    axes: Axes | Iterable[Axes],
    labels: Sequence[str] = "abcdefghijklmnopqrstuvwxyz",
    *,
    offset: tuple[float, float] = (-24.0, 6.0),
) -> list[Annotation]:
    """Write bold panel labels ("a", "b", ...) at the top-left corner of each axes.

    Args:
        axes: one Axes, or a sequence or array of them (row-major order, as from
            ``plt.subplots``).
        labels: one label per axes, in order (a string gives one label per character).
        offset: position of the label's lower-right corner relative to the axes' top-left
            corner, in points.

    Returns:
        The label annotations.
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
    """Spike-time arc length after each trial: cumulative ``sum_k |t_k(n) - t_k(n-1)|``."""
    steps = np.nansum(np.abs(np.diff(times, axis=0)), axis=tuple(range(1, times.ndim)))
    return np.concatenate([[0.0], np.cumsum(steps)])


def moving_average(values: np.ndarray, window: int = 11) -> np.ndarray:
    """Centred moving average over `window` consecutive entries along axis 0, shrinking
    the window at the ends (so the result has the input's shape); NaNs are skipped.

    values: shape (n, ...); window: odd, >= 1.
    """
    if window < 1 or window % 2 == 0:
        raise ValueError(f"window must be an odd positive integer, got {window}")
    values = np.asarray(values, float)
    finite = np.isfinite(values)
    padded = np.concatenate(
        [np.zeros((1, *values.shape[1:])), np.cumsum(np.where(finite, values, 0.0), axis=0)]
    )
    counts = np.concatenate([np.zeros((1, *values.shape[1:])), np.cumsum(finite, axis=0)])
    n = len(values)
    low = np.clip(np.arange(n) - window // 2, 0, n)
    high = np.clip(np.arange(n) + window // 2 + 1, 0, n)
    total, count = padded[high] - padded[low], counts[high] - counts[low]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


LEGEND_LOCATIONS = (
    "upper right",
    "upper left",
    "lower left",
    "lower right",
    "center right",
    "center left",
    "upper center",
    "lower center",
    "center",
)


def line_points(ax: Axes, renderer=None, step_px: float = 2.0) -> np.ndarray:
    """Display coordinates (shape (m, 2)) of what a legend must not cover in an axes: every
    drawn line, sampled along its segments every `step_px` pixels (so that a straight line
    crossing a legend is seen), markers, scatter points, and the texts written into the
    axes (a grid over each text's box); only those inside the axes."""
    points = []
    for line in ax.get_lines():
        if not line.get_visible():
            continue
        xy = line.get_transform().transform(np.column_stack(line.get_data()).astype(float))
        if line.get_linestyle() in ("", "None") or len(xy) < 2:  # markers only
            points.append(xy[np.all(np.isfinite(xy), axis=1)])
            continue
        for start, end in zip(xy[:-1], xy[1:], strict=True):
            if not (np.all(np.isfinite(start)) and np.all(np.isfinite(end))):
                continue
            n = int(np.ceil(np.hypot(*(end - start)) / step_px)) + 1
            points.append(start + np.linspace(0, 1, n)[:, None] * (end - start))
    for collection in ax.collections:
        offsets = collection.get_offsets()
        if collection.get_visible() and len(offsets):
            points.append(collection.get_offset_transform().transform(offsets))
    for text in ax.texts:
        if text.get_visible() and text.get_text().strip():
            box = text.get_window_extent(renderer)
            xs, ys = np.meshgrid(np.linspace(box.x0, box.x1, 8), np.linspace(box.y0, box.y1, 3))
            points.append(np.column_stack([xs.ravel(), ys.ravel()]))
    if not points:
        return np.zeros((0, 2))
    xy = np.concatenate(points)
    box = ax.get_window_extent(renderer)
    inside = (
        (xy[:, 0] >= box.x0) & (xy[:, 0] <= box.x1) & (xy[:, 1] >= box.y0) & (xy[:, 1] <= box.y1)
    )
    return xy[inside]


def points_under(artist, points: np.ndarray, renderer=None) -> int:
    """How many of the display points lie inside the artist's bounding box."""
    box = artist.get_window_extent(renderer)
    return int(
        np.sum(
            (points[:, 0] >= box.x0)
            & (points[:, 0] <= box.x1)
            & (points[:, 1] >= box.y0)
            & (points[:, 1] <= box.y1)
        )
    )


def place_legends(fig, locations: Sequence[str] = LEGEND_LOCATIONS) -> None:
    """Move every axes legend of a figure to the first of `locations` where it covers no
    line, marker, scatter point or text of its axes (see ``line_points``), or, where there
    is no such place, to the one where it covers the fewest (tests/test_plotting.py checks
    that the book's figures leave none covered). Call it last, on the finished figure (it
    draws the figure to know the layout)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is None:
            continue
        points = line_points(ax, renderer)
        covered = {}
        for place in [*locations, *GRID_PLACES]:
            move_legend(legend, ax, place)
            box, frame = legend.get_window_extent(renderer), ax.get_window_extent(renderer)
            if isinstance(place, tuple) and not (
                frame.x0 <= box.x0
                and box.x1 <= frame.x1
                and frame.y0 <= box.y0
                and box.y1 <= frame.y1
            ):
                continue  # a grid place must keep the legend inside the axes
            covered[place] = points_under(legend, points, renderer)
            if covered[place] == 0:
                break
        else:
            move_legend(legend, ax, min(covered, key=covered.get))


# after the named locations, legend centres on a grid of axes fractions, rows from the top
GRID_PLACES = tuple((x, y) for y in np.linspace(0.9, 0.1, 9) for x in np.linspace(0.1, 0.9, 9))


def move_legend(legend, ax: Axes, place: str | tuple[float, float]) -> None:
    """Put a legend at a named location, or centred at an (x, y) axes fraction."""
    if isinstance(place, str):
        legend.set_bbox_to_anchor(None)
        legend.set_loc(place)
    else:
        legend.set_bbox_to_anchor(place, transform=ax.transAxes)
        legend.set_loc("center")
