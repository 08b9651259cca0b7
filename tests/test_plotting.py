"""snnlib.plotting: one colour code for every figure, pseudospikes in one style, legends
that cover no curve, the moving average of the arc-length panels."""

import ast
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from matplotlib.colors import to_rgb

from snnlib import plotting
from snnlib.plotting import COLORS, PSEUDOSPIKE, line_points, moving_average, points_under

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FIGURE_MODULES = sorted((ROOT / "snnlib" / "plotting").glob("*.py"))
COLOR_ARGUMENTS = {
    "color",
    "colors",
    "c",
    "mec",
    "mfc",
    "markeredgecolor",
    "markerfacecolor",
    "edgecolor",
    "edgecolors",
    "facecolor",
    "facecolors",
    "labelcolor",
}
ALLOWED_STRINGS = {"none", "linecolor"}  # hollow markers, legend text in the line's colour


def colour_literals(path: Path) -> list[str]:
    """Colour-like string literals of a module outside its COLORS mapping: hex codes
    anywhere, and any string given to a colour argument (color=, c=, mec=, ...)."""
    tree = ast.parse(path.read_text())
    mapping = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "COLORS" for t in node.targets
        ):
            mapping |= {id(n) for n in ast.walk(node.value)}
        if isinstance(node, ast.Subscript) and getattr(node.value, "id", None) == "COLORS":
            mapping |= {id(n) for n in ast.walk(node.slice)}  # COLORS["key"]
    found = []  # second pass: every COLORS use is known now
    for node in ast.walk(tree):
        if id(node) in mapping:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value.startswith("#") and len(node.value) in (4, 7, 9):
                found.append(f"{path.name}:{node.lineno}: {node.value!r}")
        if isinstance(node, ast.keyword) and node.arg in COLOR_ARGUMENTS:
            for inner in ast.walk(node.value):
                if (
                    isinstance(inner, ast.Constant)
                    and isinstance(inner.value, str)
                    and id(inner) not in mapping
                    and inner.value not in ALLOWED_STRINGS
                ):
                    found.append(f"{path.name}:{inner.lineno}: {node.arg}={inner.value!r}")
    return found


def test_figure_modules_take_their_colours_from_the_colour_code():
    assert len(FIGURE_MODULES) >= 6
    literals = [found for path in FIGURE_MODULES for found in colour_literals(path)]
    assert not literals, "colours outside snnlib.plotting.COLORS:\n" + "\n".join(literals)


def test_the_colour_check_finds_a_literal(tmp_path):
    module = tmp_path / "bad.py"
    module.write_text('ax.plot(x, y, color="0.5")\nax.scatter(x, y, c=["#E69F00"])\n')
    assert len(colour_literals(module)) == 3  # the grey, and the hex code twice (as c=)


def flatten(value):
    return [value] if isinstance(value, str) else list(value)


def test_each_chromatic_colour_has_one_meaning():
    """No two meanings share a (non-grey) colour, except within one categorical set."""
    owners = {}
    for name, value in COLORS.items():
        for colour in flatten(value):
            rgb = to_rgb(colour)
            if max(rgb) - min(rgb) < 0.05:  # black and greys are neutral
                continue
            owners.setdefault(colour.upper(), set()).add(name)
    categorical = {"classes_yinyang", "gradients"}  # sets of categories on their own pages
    shared = {c: n for c, n in owners.items() if len(n) > 1 and not n <= categorical}
    assert not shared, f"colours with more than one meaning: {shared}"
    fixed = {c for c, n in owners.items() if n - categorical}
    reused = {c for c, n in owners.items() if n & categorical} & fixed
    assert not reused, f"categorical sets reuse fixed-meaning colours: {reused}"


def test_moving_average_is_centred_and_shrinks_at_the_ends():
    values = np.arange(10.0)[:, None] * np.array([1.0, -2.0])
    values[4, 1] = np.nan
    smooth = moving_average(values, 5)
    for i in range(10):
        window = values[max(i - 2, 0) : i + 3]
        np.testing.assert_allclose(smooth[i], np.nanmean(window, axis=0))
    assert smooth.shape == values.shape
    with pytest.raises(ValueError, match="window must be an odd"):
        moving_average(values, 4)


def test_pseudospikes_are_dotted_in_their_neurons_colour():
    fig, ax = plt.subplots()
    times = np.array([1.0, 2.0, 3.5, 4.5, 3.0])
    plotting.spike_time_line(ax, np.arange(5.0), times, 3.0, COLORS["qif"])
    ordinary, pseudo = ax.get_lines()
    assert ordinary.get_linestyle() == "-" and pseudo.get_linestyle() == PSEUDOSPIKE["ls"]
    assert ordinary.get_color() == pseudo.get_color() == COLORS["qif"]
    np.testing.assert_array_equal(np.isfinite(ordinary.get_ydata()), times <= 3.0)
    # the dotted segment joins the solid one on both sides
    np.testing.assert_array_equal(np.isfinite(pseudo.get_ydata()), [False, True, True, True, True])
    plt.close(fig)


def test_place_legends_moves_a_legend_off_a_line():
    fig, ax = plt.subplots(figsize=(4, 3))
    x = np.linspace(0, 1, 50)
    ax.plot(x, 1 - x, label="falling")  # runs through the upper-left and lower-right corners
    ax.legend(loc="upper left")
    renderer = fig.canvas.get_renderer()
    fig.canvas.draw()
    assert points_under(ax.get_legend(), line_points(ax, renderer), renderer) > 0
    plotting.place_legends(fig)
    fig.canvas.draw()
    assert points_under(ax.get_legend(), line_points(ax, renderer), renderer) == 0
    plt.close(fig)


def legend_overlaps(fig) -> list[str]:
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    overlaps = []
    for index, ax in enumerate(fig.axes):
        legend = ax.get_legend()
        if legend is not None:
            covered = points_under(legend, line_points(ax, renderer), renderer)
            if covered:
                overlaps.append(
                    f"axes {index} ({ax.get_title() or ax.get_ylabel()}): "
                    f"{covered} points of its curves under the legend"
                )
    return overlaps


def stored_figures():
    """(name, a function drawing the figure) of the figures drawn from results/."""
    results = ROOT / "results"

    def recurrent(mode):
        from snnlib.experiments.recurrent import RecurrentResults
        from snnlib.plotting.recurrent import figure

        return figure(RecurrentResults.load(results / f"recurrent_{mode}"))

    def mnist():
        from snnlib.experiments import mnist as experiment
        from snnlib.plotting.mnist import figure

        return figure(experiment.EXPERIMENT.load_runs("full", results))

    def yinyang(rasters):
        from snnlib.data.yinyang import load_yinyang
        from snnlib.experiments import yinyang as experiment
        from snnlib.plotting.yinyang import figure, raster_figure

        groups = {
            v: experiment.EXPERIMENT.load_runs(v, results)
            for v in ("full", "nopseudo", "shallow")  # the stored variants
        }
        if rasters:
            return raster_figure(groups["full"][0])
        return figure(
            groups["full"],
            *load_yinyang("train"),
            *load_yinyang("test"),
            {"no pseudospikes": groups["nopseudo"], "no hidden layer": groups["shallow"]},
        )

    return [
        ("recurrent_normal", "recurrent_normal.npz", lambda: recurrent("normal")),
        ("recurrent_grid", "recurrent_grid.npz", lambda: recurrent("grid")),
        ("mnist", "mnist_seed0.npz", mnist),
        ("yinyang", "yinyang_seed0.npz", lambda: yinyang(False)),
        ("yinyang_rasters", "yinyang_seed0.npz", lambda: yinyang(True)),
    ]


@pytest.mark.parametrize(
    "name, needs, draw",
    stored_figures(),
    ids=lambda v: v if isinstance(v, str) and "." not in v else "",
)
def test_legends_of_the_stored_figures_cover_no_curve(name, needs, draw):
    if not (ROOT / "results" / needs).exists():
        pytest.skip(f"results/{needs} not stored")
    plotting.use_style()
    fig = draw()
    assert not legend_overlaps(fig), f"{name}: " + "; ".join(legend_overlaps(fig))
    plt.close(fig)


def test_legends_of_fig_1_cover_no_curve():
    """Fig. 1 (the concept figure, on the grids of tests/test_concept.py): in particular
    (b), (k) and (l), whose legends used to lie on the curves."""
    from snnlib.experiments import concept
    from snnlib.plotting.concept import figure

    config = concept.ConceptConfig(
        input_time=0.5, n_inhibition_times=10_000, n_gradient_points=200, n_trace_points=300
    )
    results, details = concept.run(config), concept.figure_details(config)
    plotting.use_style()
    fig = figure(results, details)
    assert not legend_overlaps(fig), "; ".join(legend_overlaps(fig))
    plt.close(fig)
