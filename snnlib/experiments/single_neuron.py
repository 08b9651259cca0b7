"""Single-neuron experiment (paper Fig. 2).

An initially silent QIF neuron receives 20 fixed input spikes and 2 input spikes whose
weights (from 0) and times (from 1.0 and 9.0) are trained by exact gradient descent so
that it spikes at 2.5 and 7.5. Loss: L = mean_k (t_k - t_k^target)^2 over the neuron's
first two output spikes, ordinary spikes first, then pseudospikes (book/theory.md,
"Pseudodynamics and pseudospikes").
Plain SGD; each gradient component is clipped to [-c, c] before the step (optax.clip,
elementwise: with it the paper's instance reaches the paper's loss of 6e-23).
"""

from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Float, Int

from .. import training
from ..budget import Budget
from ..constants import MS
from ..data import load_instance
from ..losses import mean_squared_spike_time_error
from ..neurons import QIF
from ..simulate import Events, simulate, state_trace
from ..spikes import ordinary_spike_times, output_spike_times, spike_counts
from ._experiment import Experiment, RunOptions, Variant, trials_of
from ._results import ArrayGroup, ExperimentResults, require_x64, run_metadata

# the paper's Fig. 2 (loss: the paper's code on this instance; times in ms, tau = 10 ms)
PAPER: dict[str, Any] = {
    "spike_times_ms": (25.0, 75.0),
    "final_loss": 6e-23,
    "initial_spike_count": 0,
}


@dataclass(frozen=True)
class SingleNeuronConfig:
    """Parameters of the single-neuron experiment (defaults: the paper's; the neuron's
    `model`, tau and alpha: `QIF`'s)."""

    n_trials: int = 3000
    learning_rate: float = 0.1
    gradient_clip: float = 2e-2  # elementwise bound on each gradient component
    max_events: int = 25  # K: input and output spikes per trial
    seed: int | None = None  # None: the paper's task instance; else a fresh draw
    n_fixed_inputs: int = 20
    duration: float = 10.0
    target_times: tuple[float, ...] = (2.5, 7.5)
    trainable_initial_times: tuple[float, ...] = (1.0, 9.0)
    model: QIF = field(default_factory=QIF)
    n_trace_points: int = 2000  # time points of the V and I traces before/after learning
    chunk: int = 3000  # trials per compiled lax.scan: progress and checkpoint granularity

    def __post_init__(self) -> None:
        if min(self.n_trials, self.max_events, self.n_trace_points, self.chunk) < 1:
            raise ValueError(
                "SingleNeuronConfig: n_trials, max_events, n_trace_points and "
                "chunk must be positive"
            )
        if self.gradient_clip <= 0 or self.learning_rate <= 0:
            raise ValueError(
                f"SingleNeuronConfig: learning_rate and gradient_clip must be "
                f"positive, got {self.learning_rate} and {self.gradient_clip}"
            )
        if not isinstance(self.model, QIF):
            raise TypeError(f"SingleNeuronConfig: model must be a QIF, got {self.model!r}")

    def optimizer(self) -> optax.GradientTransformation:
        """Clip each gradient component to [-c, c], then plain SGD."""
        return training.make_optimizer(
            self.learning_rate, kind="sgd", gradient_clip=self.gradient_clip
        )


@dataclass(frozen=True)
class SingleNeuronInstance:
    """Fixed input spikes, targets and the trainable inputs' initial values."""

    fixed_times: np.ndarray  # (20,)
    fixed_weights: np.ndarray  # (20,)
    target_times: np.ndarray  # (2,)
    initial_params: dict[str, np.ndarray]  # {"weights": (2,), "times": (2,)}


def make_instance(config: SingleNeuronConfig) -> SingleNeuronInstance:
    """The paper's instance (seed None), or a fresh draw with numpy's default_rng(seed):
    fixed input times uniform in [0, T], weights standard normal."""
    initial = {
        "weights": np.zeros(len(config.trainable_initial_times)),
        "times": np.asarray(config.trainable_initial_times, float),
    }
    if config.seed is None:
        instance = load_instance("single_neuron")
        paper = (
            instance["T"],
            instance["target_times"],
            instance["trainable_initial_times"],
            instance["trainable_initial_weights"],
            len(instance["fixed_input_times"]),
        )
        ours = (
            config.duration,
            list(config.target_times),
            list(config.trainable_initial_times),
            initial["weights"].tolist(),
            config.n_fixed_inputs,
        )
        if paper != ours:
            raise ValueError(
                f"the paper's instance has (T, targets, initial times, initial "
                f"weights, n_fixed_inputs) = {paper}: pass a seed for other "
                "settings"
            )
        times = np.asarray(instance["fixed_input_times"])
        weights = np.asarray(instance["fixed_input_weights"])
    else:
        rng = np.random.default_rng(config.seed)
        times = rng.uniform(0.0, config.duration, config.n_fixed_inputs)
        weights = rng.normal(0.0, 1.0, config.n_fixed_inputs)
    return SingleNeuronInstance(times, weights, np.asarray(config.target_times, float), initial)


def make_trial_function(config: SingleNeuronConfig, task: SingleNeuronInstance):
    """simulate_trial(params) -> Events of one trial with inputs {weights, times}."""
    model = config.model
    fixed_times, fixed_weights = jnp.asarray(task.fixed_times), jnp.asarray(task.fixed_weights)
    n_inputs = len(task.fixed_times) + len(task.initial_params["times"])

    def simulate_trial(params: dict) -> Events:
        weights = jnp.concatenate([fixed_weights, params["weights"]])[None, :]
        times = jnp.concatenate([fixed_times, params["times"]])
        return simulate(
            model,
            jnp.zeros((1, 1)),
            weights,
            times,
            jnp.arange(n_inputs),
            model.rest_state(1),
            config.duration,
            config.max_events,
        )

    return model, simulate_trial


def make_loss(config: SingleNeuronConfig, task: SingleNeuronInstance):
    """loss(params) -> (L, (output spike times (2,), ordinary spike count, exhausted))."""
    model, simulate_trial = make_trial_function(config, task)
    targets = jnp.asarray(task.target_times)

    def loss(params: dict):
        events = simulate_trial(params)
        times = output_spike_times(model, events, np.array([0]), len(task.target_times))[0]
        count = spike_counts(events, 1)[0]
        return mean_squared_spike_time_error(times, targets), (times, count, events.exhausted)

    return loss


def train_inputs(
    config: SingleNeuronConfig,
    task: SingleNeuronInstance,
    checkpoint: str | Path | None = None,
    progress: bool = False,
):
    """Train in chunks of lax.scan trials (`snnlib.training.run_loop`). Returns the final
    parameters and, per trial (before its update, plus one evaluation after the last),
    loss, (spike times, counts, exhausted) and gradients."""
    loss_and_grad = jax.value_and_grad(make_loss(config, task), has_aux=True)
    optimizer = config.optimizer()

    def trial(carry, _):
        params, opt_state = carry
        (loss, aux), grads = loss_and_grad(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), (loss, aux, grads)

    @partial(jax.jit, static_argnums=2)
    def run_chunk(params, opt_state, length):
        return jax.lax.scan(trial, (params, opt_state), None, length=length)

    def start():
        params = {k: jnp.asarray(v) for k, v in task.initial_params.items()}
        n = len(task.target_times)
        empty = {
            "loss": np.zeros(0),
            "times": np.zeros((0, n)),
            "counts": np.zeros(0, np.int32),
        } | {f"grad_{k}": np.zeros((0, *np.shape(v))) for k, v in params.items()}
        return {"params": params, "opt_state": optimizer.init(params)}, empty

    def advance(carry, _done, length):
        (params, opt_state), history = run_chunk(carry["params"], carry["opt_state"], length)
        records, exhausted = _history_records(history)
        return {"params": params, "opt_state": opt_state}, training.UnitRecords(
            records, exhausted=exhausted
        )

    result = training.run_loop(
        advance,
        start,
        config.n_trials,
        unit=config.chunk,
        checkpoint=checkpoint,
        identity=asdict(config) | {"n_trials": None, "n_trace_points": None},
        desc="single neuron",
        progress=progress,
        budget=Budget("max_events", config.max_events),
    )
    final = result.carry["params"]
    (loss, aux), grads = jax.jit(loss_and_grad)(final)
    last, last_exhausted = _history_records(jax.tree.map(lambda x: x[None], (loss, aux, grads)))
    history = {k: np.concatenate([v, last[k]]) for k, v in result.records.items()}
    n_exhausted = result.budget.n_exhausted + int(np.sum(last_exhausted))
    return final, history, n_exhausted, result.wall_time


def _history_records(history) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """({loss, times, counts, grad_*}, exhausted flags) of a scanned (loss, aux, grads)
    history."""
    loss, (times, counts, exhausted), grads = jax.tree.map(np.asarray, history)
    return {"loss": loss, "times": times, "counts": counts} | {
        f"grad_{k}": v for k, v in grads.items()
    }, exhausted


def make_trace_function(config: SingleNeuronConfig, task: SingleNeuronInstance, grid: np.ndarray):
    """traces(params) -> V(t), I(t) on the time grid (P,) each and the ordinary output spike
    times (+inf padded) of one trial; jit-compiled once for both calls."""
    model, simulate_trial = make_trial_function(config, task)

    @jax.jit
    def traces(params: dict):
        events = simulate_trial(params)
        states = state_trace(model, events, grid)[:, :, 0]
        spikes = ordinary_spike_times(events, np.array([0]), config.max_events)[0]
        return states[:, 0], states[:, 1], spikes

    return traces


def trials_to_converge(
    times: np.ndarray,
    targets: np.ndarray,
    loss: np.ndarray,
    tolerance: float = 0.01,
    loss_bound: float = 1e-4,
) -> int | None:
    """First trial from which on every spike stays within tolerance of its target and the
    loss below loss_bound; None if that never happens."""
    good = np.all(np.abs(times - targets) < tolerance, axis=1) & (loss < loss_bound)
    if not good[-1]:
        return None
    bad = np.flatnonzero(~good)
    return int(bad[-1] + 1) if bad.size else 0


@dataclass
class NeuronSnapshot(ArrayGroup):
    """The neuron before or after learning, stored as "{field}_{snapshot}" (e.g.
    "voltage_after"): P trace points, S ordinary output spikes, 2 trainable inputs."""

    KEY: ClassVar[str] = "{field}_{group}"
    voltage: Float[np.ndarray, " P"]  # V(t) on trace_times (+-1/eps near a spike)
    current: Float[np.ndarray, " P"]  # synaptic current I(t)
    spikes: Float[np.ndarray, " S"]  # ordinary output spike times (tau)
    trainable_weights: Float[np.ndarray, " 2"]
    trainable_times: Float[np.ndarray, " 2"]  # (tau)


@dataclass(kw_only=True)
class SingleNeuronResults(ExperimentResults):
    """Results of `run`: R = n_trials + 1 records (before each trial and after the last),
    K = 2 target spikes, F = 20 fixed inputs, P trace points; times in units of tau."""

    config: SingleNeuronConfig
    loss: Float[np.ndarray, " R"]
    output_times: Float[np.ndarray, "R K"]  # first K output spikes; pseudospikes > T
    spike_counts: Int[np.ndarray, " R"]  # ordinary output spikes per trial
    grad_weights: Float[np.ndarray, "R 2"]  # dL/dw of the trainable inputs
    grad_times: Float[np.ndarray, "R 2"]  # dL/dt of the trainable inputs
    target_times: Float[np.ndarray, " K"]
    fixed_times: Float[np.ndarray, " F"]
    fixed_weights: Float[np.ndarray, " F"]
    before: NeuronSnapshot  # the initial trainable inputs (weights 0)
    after: NeuronSnapshot  # the trained ones
    trace_times: Float[np.ndarray, " P"]  # time grid of the snapshots' traces
    final_loss: float
    final_spike_times: tuple[float, ...]  # output_times after training
    initial_spike_count: int
    final_spike_count: int
    trials_to_converge: int | None  # see `trials_to_converge`; None: not converged
    all_finite: bool  # loss, output times and gradients finite in every trial
    n_exhausted: int  # trials whose event budget max_events ran out


def run(
    config: SingleNeuronConfig = SingleNeuronConfig(),
    checkpoint: str | Path | None = None,
    progress: bool = False,
) -> SingleNeuronResults:
    """Train the two inputs; return the learning curves and the traces before and after.

    Needs float64 (jax_enable_x64), as the paper's experiment.
    """
    require_x64("the single-neuron experiment")
    task = make_instance(config)
    final, history, n_exhausted, wall_time = train_inputs(config, task, checkpoint, progress)
    loss, times, counts = history["loss"], history["times"], history["counts"]
    grid = np.linspace(0.0, config.duration, config.n_trace_points)
    traces = make_trace_function(config, task, grid)
    snapshots: dict[str, NeuronSnapshot] = {}
    for name, params in (("before", task.initial_params), ("after", final)):
        voltage, current, spikes = jax.tree.map(np.asarray, traces(params))
        snapshots[name] = NeuronSnapshot(
            voltage=voltage,
            current=current,
            spikes=spikes[np.isfinite(spikes)],
            trainable_weights=np.asarray(params["weights"]),
            trainable_times=np.asarray(params["times"]),
        )
    grads = {name: history[f"grad_{name}"] for name in ("weights", "times")}
    finite = all(np.all(np.isfinite(a)) for a in (loss, times, *grads.values()))
    return SingleNeuronResults(
        config=config,
        loss=loss,
        output_times=times,
        spike_counts=counts,
        grad_weights=grads["weights"],
        grad_times=grads["times"],
        target_times=task.target_times,
        fixed_times=task.fixed_times,
        fixed_weights=task.fixed_weights,
        before=snapshots["before"],
        after=snapshots["after"],
        trace_times=grid,
        final_loss=float(loss[-1]),
        final_spike_times=tuple(times[-1].tolist()),
        initial_spike_count=int(counts[0]),
        final_spike_count=int(counts[-1]),
        trials_to_converge=trials_to_converge(times, task.target_times, loss),
        all_finite=bool(finite),
        n_exhausted=n_exhausted,
        metadata=run_metadata(wall_time, config.seed),
    )


def compare(results: SingleNeuronResults) -> list[tuple[str, str, str]]:
    """Rows (quantity, paper, this run) of the paper-vs-run table."""
    spikes = np.asarray(results.final_spike_times) * MS
    paper_spikes = " and ".join(f"{t:g} ms" for t in PAPER["spike_times_ms"])
    return [
        (
            "output spikes after training",
            f"at the targets, {paper_spikes}",
            f"{spikes[0]:.4f} ms, {spikes[1]:.4f} ms",
        ),
        (
            f"loss after {results.config.n_trials} trials",
            f"{PAPER['final_loss']:.0e} (the paper's code on this instance)",
            f"{results.final_loss:.1e}",
        ),
        (
            "output spikes in the first trial",
            f"{PAPER['initial_spike_count']} (initially silent)",
            str(results.initial_spike_count),
        ),
        (
            "first trial from which both spikes stay within 0.1 ms of their targets",
            "—",
            str(results.trials_to_converge),
        ),
    ]


def configure(variant: str, seed: int | None, options: RunOptions) -> SingleNeuronConfig:
    """The paper's run (3000 trials, seconds; --quick: the same)."""
    return SingleNeuronConfig(n_trials=options.length) if options.length else (SingleNeuronConfig())


EXPERIMENT = Experiment(
    name="single_neuron",
    description="single QIF neuron learns two spikes, Fig. 2",
    expected_time="~30 s",
    config=SingleNeuronConfig,
    results=SingleNeuronResults,
    run=run,
    paper=PAPER,
    compare=compare,
    variants={"paper": Variant("single_neuron")},
    configure=configure,
    size=trials_of,
    size_label="trials",
    float64=True,
)


# Details for the book's Fig. 2 panels (computed on demand from a run's results).


@dataclass(frozen=True)
class InputTrajectories:
    """The two trainable inputs before each trial and after the last (R = n_trials + 1)."""

    weights: Float[np.ndarray, "R 2"]
    times: Float[np.ndarray, "R 2"]  # (tau)


def trainable_trajectories(results: SingleNeuronResults) -> InputTrajectories:
    """The trainable input weights and times before each trial and after the last,
    replayed from the recorded gradients with the run's optimiser
    (`SingleNeuronConfig.optimizer`), whose updates depend only on them."""
    optimizer = results.config.optimizer()
    start = {
        "weights": jnp.asarray(results.before.trainable_weights),
        "times": jnp.asarray(results.before.trainable_times),
    }
    grads = {
        "weights": jnp.asarray(results.grad_weights[:-1]),
        "times": jnp.asarray(results.grad_times[:-1]),
    }

    def step(carry, grad):
        params, state = carry
        updates, state = optimizer.update(grad, state, params)
        params = optax.apply_updates(params, updates)
        return (params, state), params

    _, history = jax.lax.scan(step, (start, optimizer.init(start)), grads)
    return InputTrajectories(
        **{
            name: np.concatenate([np.asarray(start[name])[None], np.asarray(history[name])])
            for name in start
        }
    )
