"""Concept experiment (paper Fig. 1): QIF spike times are continuous, LIF spike times
jump (book/theory.md, "Pseudodynamics and pseudospikes").

A single neuron at rest receives (i) one excitatory input spike of weight w in
[0, 2 w_min] at t = 0, or (ii) an excitatory input of 1.5 w_min at t = 0.5 and an
inhibitory one of -w_min at a time t_inh in [0, T]. The QIF neuron's first spike moves
continuously to the trial end T and continues beyond it as a pseudospike; the LIF
neuron's spike vanishes in mid-trial. dt_sp/dw is differentiated through the simulator.
"""

import time
from dataclasses import dataclass
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.typing import ArrayLike
from jaxtyping import Bool, Float

from ..budget import Budget, raise_if_exhausted
from ..constants import MODEL_NAMES
from ..neurons import LIF, QIF, NeuronModel
from ..simulate import Events, simulate, state_trace
from ..spikes import first_spike_times, ordinary_spike_times
from ._experiment import Experiment, RunOptions, Variant
from ._results import ArrayGroup, ExperimentResults, Results, require_x64, run_metadata

# the paper's Fig. 1: the QIF spike time is continuous, the LIF one jumps; trial lengths
PAPER: dict[str, Any] = {
    "qif": "continuous",
    "lif": "jumps",
    "gradient": "exact gradient",
    "qif_duration": 4.0,
    "lif_duration": 3.0,
}


@dataclass(frozen=True)
class ConceptConfig:
    """Parameters of the concept experiment (defaults: the paper's, on 1e5-point grids)."""

    n_weights: int = 100_000  # weight grid points in [0, 2 w_min]
    n_inhibition_times: int = 100_000  # inhibitory input times in [0, T]
    n_gradient_points: int = 1_000  # weights (a subset of the grid) where dt_sp/dw is taken
    n_trace_points: int = 2_000  # time points of the example voltage traces
    example_weights: tuple[float, ...] = (0.9, 1.03, 1.06, 1.3, 2.0)  # in units of w_min
    input_time: float = 0.0  # time of the single excitatory input of the weight sweep
    excitatory_weight: float = 1.5  # inhibition sweep, in units of w_min
    excitatory_time: float = 0.5
    inhibitory_weight: float = -1.0  # in units of w_min
    tau: float = 1.0
    qif_duration: float = 4.0
    qif_max_events: int = 4
    lif_duration: float = 3.0
    lif_max_events: int = 5

    def __post_init__(self) -> None:
        grids = (
            self.n_weights,
            self.n_inhibition_times,
            self.n_gradient_points,
            self.n_trace_points,
        )
        if min(grids) < 3:
            raise ValueError(f"every grid needs at least 3 points, got {grids}")
        if self.n_gradient_points > self.n_weights:
            raise ValueError("n_gradient_points must not exceed n_weights")


def model_setup(config: ConceptConfig, name: str) -> tuple[NeuronModel, float, int]:
    """(model, trial length T, max_events K) of "qif" or "lif"."""
    if name == "qif":
        return QIF(tau=config.tau), config.qif_duration, config.qif_max_events
    if name == "lif":
        return LIF(tau=config.tau), config.lif_duration, config.lif_max_events
    raise ValueError(f"unknown model {name!r}; expected one of {MODEL_NAMES}")


def simulate_neuron(
    model: NeuronModel, weights: Array, times: Array, duration: float, max_events: int
) -> Events:
    """One neuron, initially at rest, receiving input spikes of weights (M,) at times (M,)."""
    return simulate(
        model,
        jnp.zeros((1, 1)),
        weights[None, :],
        times,
        jnp.arange(weights.shape[0]),
        model.rest_state(1),
        duration,
        max_events,
    )


@partial(jax.jit, static_argnames=("model", "max_events"))
def _first_spikes(model: NeuronModel, max_events: int, duration, weights, times):
    def one(w, t):
        events = simulate_neuron(model, w, t, duration, max_events)
        return first_spike_times(model, events, [0])[0], events.exhausted

    return jax.vmap(one)(weights, times)


def first_spike_sweep(
    model: NeuronModel, duration: float, max_events: int, weights: np.ndarray, times: np.ndarray
) -> np.ndarray:
    """First spike time t_sp for each row of input weights (G, M) and times (G, M).

    Ordinary spike if there is one, else the first pseudospike (QIF) or +inf (LIF).
    Raises EventBudgetError if max_events runs out before T.
    """
    first, exhausted = _first_spikes(
        model, max_events, duration, jnp.asarray(weights), jnp.asarray(times)
    )
    raise_if_exhausted(
        exhausted,
        Budget("max_events", max_events),
        "pass a larger max_events (each input and output spike is one event)",
    )
    return np.asarray(first)


@partial(jax.jit, static_argnames=("model", "max_events"))
def _first_spike_and_derivative(model: NeuronModel, max_events: int, duration, weights, input_time):
    def first(w):
        events = simulate_neuron(model, w[None], input_time[None], duration, max_events)
        return first_spike_times(model, events, [0])[0], events.exhausted

    return jax.vmap(jax.value_and_grad(first, has_aux=True))(weights)


def dt_dw_autodiff(
    model: NeuronModel, duration: float, max_events: int, weights: ArrayLike, input_time: float
) -> np.ndarray:
    """dt_sp/dw by reverse-mode differentiation through the simulator, at weights (G,)
    (one input spike of weight w at input_time to a neuron at rest).

    nan where the neuron has no spike (LIF). Raises ValueError for weights that are not a
    1-D array of numbers or max_events < 1, EventBudgetError if max_events runs out before
    T (the input and the output spikes each take an event), FloatingPointError if the
    derivative of an existing spike is not finite."""
    weights = np.asarray(weights)
    if weights.ndim != 1 or not np.issubdtype(weights.dtype, np.number):
        raise ValueError(
            f"weights must be a 1-D array of numbers, got shape {weights.shape} of {weights.dtype}"
        )
    if not isinstance(max_events, int | np.integer) or max_events < 1:
        raise ValueError(f"max_events must be a positive integer, got {max_events!r}")
    (value, exhausted), slope = _first_spike_and_derivative(
        model,
        max_events,
        duration,
        jnp.asarray(weights, dtype=float),
        jnp.asarray(input_time, dtype=float),
    )
    raise_if_exhausted(
        exhausted,
        Budget("max_events", max_events),
        "pass a larger max_events (each input and output spike is one event)",
    )
    spiked = np.isfinite(np.asarray(value))
    if not np.all(np.isfinite(np.asarray(slope)[spiked])):
        raise FloatingPointError(f"{type(model).__name__}: dt_sp/dw is not finite")
    return np.where(spiked, np.asarray(slope), np.nan)


@partial(jax.jit, static_argnames=("model", "max_events"))
def _traces(model: NeuronModel, max_events: int, duration, weights, input_time, grid):
    def one(w):
        events = simulate_neuron(model, w[None], input_time[None], duration, max_events)
        voltage = model.voltage(jnp.moveaxis(state_trace(model, events, grid), 0, 1))[:, 0]
        return voltage, ordinary_spike_times(events, [0], max_events)[0]

    return jax.vmap(one)(weights)


def example_traces(
    model: NeuronModel,
    duration: float,
    max_events: int,
    weights: np.ndarray,
    input_time: float,
    n_points: int,
):
    """Time grid (P,), voltages V(t) (E, P) and ordinary spike times (E, K) (+inf padded)
    of the neuron for each example weight (E,)."""
    grid = np.linspace(0.0, duration, n_points)
    voltage, spikes = _traces(
        model,
        max_events,
        duration,
        jnp.asarray(weights),
        jnp.asarray(input_time),
        jnp.asarray(grid),
    )
    return grid, np.asarray(voltage), np.asarray(spikes)


def largest_jump(first_spike: np.ndarray, duration: float) -> float:
    """``max |t_sp(x_{g+1}) - t_sp(x_g)|`` over a grid; a missing (LIF) spike counts as t = T,
    the smallest jump a vanishing spike can make."""
    return float(np.max(np.abs(np.diff(np.where(np.isfinite(first_spike), first_spike, duration)))))


def smooth_points(first_spike: np.ndarray, duration: float, indices: np.ndarray) -> np.ndarray:
    """Mask of grid indices whose two neighbours lie on the same branch (both ordinary
    spikes or both pseudospikes/none): there a central difference approximates dt_sp/dw."""
    ordinary = first_spike < duration
    padded = np.concatenate([ordinary[:1], ordinary, ordinary[-1:]])
    same = (padded[:-2] == ordinary) & (padded[2:] == ordinary)
    return same[indices] & np.isfinite(first_spike[indices])


@dataclass
class ModelSweeps(ArrayGroup):
    """One model's arrays (stored as "{model}_{field}"): G weights, H inhibition times,
    C derivative points, E example traces of P time points, K events."""

    weights: Float[np.ndarray, " G"]  # input weights in [0, 2 w_min]
    first_spike_vs_weight: Float[np.ndarray, " G"]  # t_sp (pseudospike if > T, LIF +inf)
    inhibition_times: Float[np.ndarray, " H"]
    first_spike_vs_inhibition: Float[np.ndarray, " H"]
    gradient_weights: Float[np.ndarray, " C"]
    dt_dw_autodiff: Float[np.ndarray, " C"]  # nan where the neuron has no spike
    dt_dw_numeric: Float[np.ndarray, " C"]  # central differences on the weight grid
    gradient_compared: Bool[np.ndarray, " C"]  # both neighbours on the same branch
    trace_times: Float[np.ndarray, " P"]
    trace_voltage: Float[np.ndarray, "E P"]
    trace_spikes: Float[np.ndarray, "E K"]  # ordinary spike times, +inf padded


@dataclass(frozen=True)
class ModelSummary:
    """One model's numbers (times in units of tau)."""

    w_min: float  # smallest input weight that makes the neuron at rest spike
    duration: float  # trial length T
    largest_jump_vs_weight: float  # largest_jump of first_spike_vs_weight
    largest_jump_vs_inhibition: float
    gradient_max_relative_error: float  # autodiff vs central differences


@dataclass(kw_only=True)
class ConceptResults(ExperimentResults):
    """Results of `run`: the sweeps and summary numbers of the QIF and the LIF neuron."""

    config: ConceptConfig
    qif: ModelSweeps
    lif: ModelSweeps
    qif_summary: ModelSummary
    lif_summary: ModelSummary

    def sweeps(self, name: str) -> ModelSweeps:
        """The arrays of model "qif" or "lif"."""
        return {"qif": self.qif, "lif": self.lif}[name]

    def summary(self, name: str) -> ModelSummary:
        """The numbers of model "qif" or "lif"."""
        return {"qif": self.qif_summary, "lif": self.lif_summary}[name]


def sweep_model(config: ConceptConfig, name: str) -> ModelSweeps:
    """Both sweeps, dt_sp/dw and the example traces of model "qif" or "lif"."""
    model, duration, max_events = model_setup(config, name)
    w_min = model.min_spiking_input
    weights = np.linspace(0.0, 2 * w_min, config.n_weights)
    first_w = first_spike_sweep(
        model,
        duration,
        max_events,
        weights[:, None],
        np.full((config.n_weights, 1), config.input_time),
    )
    inhibition_times = np.linspace(0.0, duration, config.n_inhibition_times)
    pair = np.array([config.excitatory_weight, config.inhibitory_weight]) * w_min
    first_inh = first_spike_sweep(
        model,
        duration,
        max_events,
        np.tile(pair, (config.n_inhibition_times, 1)),
        np.stack(
            [np.full(config.n_inhibition_times, config.excitatory_time), inhibition_times], axis=1
        ),
    )
    indices = np.unique(
        np.linspace(0, config.n_weights - 1, config.n_gradient_points).round().astype(int)
    )
    autodiff = dt_dw_autodiff(model, duration, max_events, weights[indices], config.input_time)
    missing_as_nan = np.where(np.isfinite(first_w), first_w, np.nan)
    numeric = np.gradient(missing_as_nan, weights, edge_order=2)[indices]
    grid, voltage, spikes = example_traces(
        model,
        duration,
        max_events,
        np.asarray(config.example_weights) * w_min,
        config.input_time,
        config.n_trace_points,
    )
    return ModelSweeps(
        weights=weights,
        first_spike_vs_weight=first_w,
        inhibition_times=inhibition_times,
        first_spike_vs_inhibition=first_inh,
        gradient_weights=weights[indices],
        dt_dw_autodiff=autodiff,
        dt_dw_numeric=numeric,
        gradient_compared=smooth_points(first_w, duration, indices),
        trace_times=grid,
        trace_voltage=voltage,
        trace_spikes=spikes,
    )


def summarize(config: ConceptConfig, name: str, sweeps: ModelSweeps) -> ModelSummary:
    """The numbers of one model's sweeps."""
    model, duration, _ = model_setup(config, name)
    compared = sweeps.gradient_compared
    autodiff, numeric = sweeps.dt_dw_autodiff[compared], sweeps.dt_dw_numeric[compared]
    return ModelSummary(
        w_min=model.min_spiking_input,
        duration=duration,
        largest_jump_vs_weight=largest_jump(sweeps.first_spike_vs_weight, duration),
        largest_jump_vs_inhibition=largest_jump(sweeps.first_spike_vs_inhibition, duration),
        gradient_max_relative_error=float(np.max(np.abs(autodiff - numeric) / np.abs(autodiff))),
    )


def run(config: ConceptConfig = ConceptConfig()) -> ConceptResults:
    """Sweep weights and inhibitory input times for the QIF and the LIF neuron.

    Needs float64 (jax_enable_x64), as the paper's experiment.
    """
    require_x64("the concept experiment")
    start = time.perf_counter()
    sweeps = {name: sweep_model(config, name) for name in MODEL_NAMES}
    summaries = {f"{name}_summary": summarize(config, name, sweeps[name]) for name in MODEL_NAMES}
    return ConceptResults(
        config=config,
        qif=sweeps["qif"],
        lif=sweeps["lif"],
        qif_summary=summaries["qif_summary"],
        lif_summary=summaries["lif_summary"],
        metadata=run_metadata(time.perf_counter() - start, seed=None),
    )


def compare(results: ConceptResults) -> list[tuple[str, str, str]]:
    """Rows (quantity, paper, this run) of the paper-vs-run table (times in units of tau)."""
    qif, lif, config = results.qif_summary, results.lif_summary, results.config
    rows = []
    for sweep, points in (
        ("weight", f"{config.n_weights:,} weights"),
        ("inhibition", f"{config.n_inhibition_times:,} inhibition times"),
    ):
        qif_jump, lif_jump = (getattr(s, f"largest_jump_vs_{sweep}") for s in (qif, lif))
        rows += [
            (
                f"largest change of the QIF spike time between neighbouring grid points "
                f"({sweep} sweep, {points})",
                PAPER["qif"],
                f"{qif_jump:.1e} τ",
            ),
            (
                f"largest jump of the LIF spike time ({sweep} sweep)",
                PAPER["lif"],
                f"{lif_jump:.2f} τ ({lif_jump / lif.duration:.2f} T)",
            ),
        ]
    error = max(qif.gradient_max_relative_error, lif.gradient_max_relative_error)
    return [
        *rows,
        (
            "autodiff vs finite differences, largest relative difference of "
            "$\\mathrm{d}t_\\mathrm{sp}/\\mathrm{d}w$",
            PAPER["gradient"],
            f"{error:.0e}",
        ),
        (
            "trial lengths $T$ (QIF, LIF)",
            f"{PAPER['qif_duration']:g} τ, {PAPER['lif_duration']:g} τ",
            f"{qif.duration:g} τ, {lif.duration:g} τ",
        ),
    ]


def configure(variant: str, seed: int | None, options: RunOptions) -> ConceptConfig:
    """The paper's 1e5-point grids (--quick: 1e4 inhibition times, coarser derivatives)."""
    return (
        ConceptConfig(n_inhibition_times=10_000, n_gradient_points=200, n_trace_points=500)
        if options.quick
        else ConceptConfig()
    )


def _inhibition_times(stored: Results) -> int:
    return int(stored.config["n_inhibition_times"])


EXPERIMENT = Experiment(
    name="concept",
    description="QIF vs LIF spike times, Fig. 1",
    expected_time="~1 min",
    config=ConceptConfig,
    results=ConceptResults,
    run=run,
    paper=PAPER,
    compare=compare,
    variants={"paper": Variant("concept")},
    configure=configure,
    size=_inhibition_times,
    size_label="inhibition times",
    checkpointed=False,
    float64=True,
    takes_length=False,
)


# Details for the book's Fig. 1 panels (computed on demand, not part of ConceptResults).


@partial(jax.jit, static_argnames=("model", "max_events"))
def _protocol_traces(model: NeuronModel, max_events: int, duration, weights, times, grid):
    def one(w, t):
        events = simulate_neuron(model, w, t, duration, max_events)
        states = jnp.moveaxis(state_trace(model, events, grid), 0, 1)  # (D, P, 1)
        return (
            model.voltage(states)[:, 0],
            states[1, :, 0],
            ordinary_spike_times(events, [0], max_events)[0],
        )

    return jax.vmap(one)(weights, times)


def protocol_traces(
    config: ConceptConfig, name: str, weights: np.ndarray, times: np.ndarray
) -> dict[str, np.ndarray]:
    """Traces of a neuron at rest receiving, in each of E examples, M input spikes of
    weights (E, M) (absolute) at times (E, M): time grid (P,), voltage V (E, P), synaptic
    current I (E, P) and ordinary spike times (E, K) (+inf padded). Needs a model whose
    state is (V, I) (QIF, LIF)."""
    model, duration, max_events = model_setup(config, name)
    grid = np.linspace(0.0, duration, config.n_trace_points)
    voltage, current, spikes = _protocol_traces(
        model,
        max_events,
        duration,
        jnp.asarray(weights, float),
        jnp.asarray(times, float),
        jnp.asarray(grid),
    )
    return {
        "times": grid,
        "voltage": np.asarray(voltage),
        "current": np.asarray(current),
        "spikes": np.asarray(spikes),
    }


def inhibition_examples(
    config: ConceptConfig, name: str, inhibition_times: tuple[float, ...]
) -> dict[str, np.ndarray]:
    """protocol_traces of the inhibition sweep's protocol (excitatory input of
    config.excitatory_weight w_min at config.excitatory_time, inhibitory one of
    config.inhibitory_weight w_min) for a few inhibition times; adds "inhibition_times"."""
    model, _, _ = model_setup(config, name)
    w_min = model.min_spiking_input
    n = len(inhibition_times)
    weights = np.tile([config.excitatory_weight * w_min, config.inhibitory_weight * w_min], (n, 1))
    times = np.stack([np.full(n, config.excitatory_time), inhibition_times], axis=1)
    traces = protocol_traces(config, name, weights, times)
    traces["inhibition_times"] = np.asarray(inhibition_times, float)
    return traces


def derivative_near_threshold(
    config: ConceptConfig, name: str, n_points: int = 61, smallest: float = 1e-6
) -> dict[str, np.ndarray]:
    """dt_sp/dw (autodiff) just above the smallest spiking weight: at w = w_min (1 + d) for
    distances d log-spaced in [smallest, 1]. The LIF derivative diverges as d -> 0 (the
    spike appears at a finite time with infinite slope); the QIF spike there is a
    pseudospike far beyond T, whose time changes smoothly."""
    model, duration, max_events = model_setup(config, name)
    distance = np.logspace(np.log10(smallest), 0.0, n_points)
    weights = model.min_spiking_input * (1.0 + distance)
    dt_dw = dt_dw_autodiff(model, duration, max_events, weights, config.input_time)
    return {"distance": distance, "weights": weights, "dt_dw": dt_dw}


# inhibition times of the example traces: QIF spike suppressed (pseudospike), delayed and
# unaffected; LIF spike suppressed by simultaneous and by later inhibition, and unaffected
INHIBITION_EXAMPLES = {"qif": (1.0, 1.32, 2.5), "lif": (0.5, 0.7, 1.2)}


def figure_details(config: ConceptConfig) -> dict[str, dict[str, dict[str, np.ndarray]]]:
    """Per model: inhibition-protocol traces at INHIBITION_EXAMPLES ("inhibition"), traces of
    one excitatory input of weight w_min ("single", for the current schematic) and dt_sp/dw
    near w_min ("threshold")."""
    details = {}
    for name in MODEL_NAMES:
        model, _, _ = model_setup(config, name)
        details[name] = {
            "inhibition": inhibition_examples(config, name, INHIBITION_EXAMPLES[name]),
            "single": protocol_traces(
                config, name, np.array([[model.min_spiking_input]]), np.array([[config.input_time]])
            ),
            "threshold": derivative_near_threshold(config, name, smallest=1e-8),
        }
    return details
