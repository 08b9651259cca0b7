"""Single-neuron experiment (paper Fig. 2, SPEC section 6.2).

An initially silent QIF neuron receives 20 fixed input spikes and 2 input spikes whose
weights (from 0) and times (from 1.0 and 9.0) are trained by exact gradient descent so
that it spikes at 2.5 and 7.5. Loss: L = mean_k (t_k - t_k^target)^2 over the neuron's
first two output spikes, ordinary spikes first, then pseudospikes (SPEC section 2).
Plain SGD; each gradient component is clipped to [-c, c] before the step (optax.clip,
elementwise: with it the paper's instance reaches the paper's loss of 6e-23).
"""

import time
import warnings
from dataclasses import asdict, dataclass

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..data import load_instance
from ..losses import mean_squared_spike_time_error
from ..neurons import QIF
from ..simulate import Events, simulate, state_trace
from ..spikes import ordinary_spike_times, output_spike_times, spike_counts
from ._results import Results, run_metadata


@dataclass(frozen=True)
class SingleNeuronConfig:
    """Parameters of the single-neuron experiment (defaults: the paper's)."""

    n_trials: int = 3000
    learning_rate: float = 0.1
    gradient_clip: float = 2e-2  # elementwise bound on each gradient component
    max_events: int = 25  # K: input and output spikes per trial
    seed: int | None = None  # None: the paper's task instance; else a fresh draw
    n_fixed_inputs: int = 20
    duration: float = 10.0
    target_times: tuple[float, ...] = (2.5, 7.5)
    trainable_initial_times: tuple[float, ...] = (1.0, 9.0)
    tau: float = 1.0
    alpha: float = 10.0
    n_trace_points: int = 2000  # time points of the V and I traces before/after learning

    def __post_init__(self) -> None:
        if min(self.n_trials, self.max_events, self.n_trace_points) < 1:
            raise ValueError("n_trials, max_events and n_trace_points must be positive")
        if self.gradient_clip <= 0 or self.learning_rate <= 0:
            raise ValueError("learning_rate and gradient_clip must be positive")


@dataclass(frozen=True)
class Task:
    """Fixed input spikes, targets and the trainable inputs' initial values."""

    fixed_times: np.ndarray  # (20,)
    fixed_weights: np.ndarray  # (20,)
    target_times: np.ndarray  # (2,)
    initial_params: dict[str, np.ndarray]  # {"weights": (2,), "times": (2,)}


def make_task(config: SingleNeuronConfig) -> Task:
    """The paper's instance (seed None), or a fresh draw with numpy's default_rng(seed):
    fixed input times uniform in [0, T], weights standard normal."""
    initial = {"weights": np.zeros(len(config.trainable_initial_times)),
               "times": np.asarray(config.trainable_initial_times, float)}
    if config.seed is None:
        instance = load_instance("single_neuron")
        paper = (instance["T"], instance["target_times"], instance["trainable_initial_times"],
                 instance["trainable_initial_weights"], len(instance["fixed_input_times"]))
        ours = (config.duration, list(config.target_times),
                list(config.trainable_initial_times), initial["weights"].tolist(),
                config.n_fixed_inputs)
        if paper != ours:
            raise ValueError(f"the paper's instance has (T, targets, initial times, initial "
                             f"weights, n_fixed_inputs) = {paper}: pass a seed for other "
                             "settings")
        times = np.asarray(instance["fixed_input_times"])
        weights = np.asarray(instance["fixed_input_weights"])
    else:
        rng = np.random.default_rng(config.seed)
        times = rng.uniform(0.0, config.duration, config.n_fixed_inputs)
        weights = rng.normal(0.0, 1.0, config.n_fixed_inputs)
    return Task(times, weights, np.asarray(config.target_times, float), initial)


def make_trial_function(config: SingleNeuronConfig, task: Task):
    """simulate_trial(params) -> Events of one trial with inputs {weights, times}."""
    model = QIF(tau=config.tau, alpha=config.alpha)
    fixed_times, fixed_weights = jnp.asarray(task.fixed_times), jnp.asarray(task.fixed_weights)
    n_inputs = len(task.fixed_times) + len(task.initial_params["times"])

    def simulate_trial(params: dict) -> Events:
        weights = jnp.concatenate([fixed_weights, params["weights"]])[None, :]
        times = jnp.concatenate([fixed_times, params["times"]])
        return simulate(model, jnp.zeros((1, 1)), weights, times, jnp.arange(n_inputs),
                        model.rest_state(1), config.duration, config.max_events)

    return model, simulate_trial


def make_loss(config: SingleNeuronConfig, task: Task):
    """loss(params) -> (L, (output spike times (2,), ordinary spike count, exhausted))."""
    model, simulate_trial = make_trial_function(config, task)
    targets = jnp.asarray(task.target_times)

    def loss(params: dict):
        events = simulate_trial(params)
        times = output_spike_times(model, events, [0], len(task.target_times))[0]
        count = spike_counts(events, 1)[0]
        return mean_squared_spike_time_error(times, targets), (times, count, events.exhausted)

    return loss


def make_optimizer(config: SingleNeuronConfig) -> optax.GradientTransformation:
    """Clip each gradient component to [-c, c], then plain SGD."""
    return optax.chain(optax.clip(config.gradient_clip), optax.sgd(config.learning_rate))


def train(config: SingleNeuronConfig, task: Task):
    """All trials in one lax.scan. Returns the final parameters and, per trial (before its
    update, plus one evaluation after the last), loss, spike times, counts, gradients."""
    loss_and_grad = jax.value_and_grad(make_loss(config, task), has_aux=True)
    optimizer = make_optimizer(config)

    def trial(carry, _):
        params, opt_state = carry
        (loss, aux), grads = loss_and_grad(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), (loss, aux, grads)

    @jax.jit
    def run_all(params):
        (params, _), history = jax.lax.scan(trial, (params, optimizer.init(params)), None,
                                            length=config.n_trials)
        (loss, aux), grads = loss_and_grad(params)
        history = jax.tree.map(lambda h, f: jnp.concatenate([h, f[None]]), history,
                               (loss, aux, grads))
        return params, history

    params = {k: jnp.asarray(v) for k, v in task.initial_params.items()}
    return run_all(params)


def make_trace_function(config: SingleNeuronConfig, task: Task, grid: np.ndarray):
    """traces(params) -> V(t), I(t) on the time grid (P,) each and the ordinary output spike
    times (+inf padded) of one trial; jit-compiled once for both calls."""
    model, simulate_trial = make_trial_function(config, task)

    @jax.jit
    def traces(params: dict):
        events = simulate_trial(params)
        states = state_trace(model, events, grid)[:, :, 0]
        spikes = ordinary_spike_times(events, [0], config.max_events)[0]
        return states[:, 0], states[:, 1], spikes

    return traces


def trials_to_converge(times: np.ndarray, targets: np.ndarray, loss: np.ndarray,
                       tolerance: float = 0.01, loss_bound: float = 1e-4) -> int | None:
    """First trial from which on every spike stays within tolerance of its target and the
    loss below loss_bound; None if that never happens."""
    good = np.all(np.abs(times - targets) < tolerance, axis=1) & (loss < loss_bound)
    if not good[-1]:
        return None
    bad = np.flatnonzero(~good)
    return int(bad[-1] + 1) if bad.size else 0


def run(config: SingleNeuronConfig = SingleNeuronConfig()) -> Results:
    """Train the two inputs; return the learning curves and the traces before and after.

    Enables float64 (jax_enable_x64) for the whole process, as the paper's experiment uses it.
    """
    jax.config.update("jax_enable_x64", True)
    start = time.perf_counter()
    task = make_task(config)
    final, (loss, (times, counts, exhausted), grads) = train(config, task)
    loss, times, exhausted = np.asarray(loss), np.asarray(times), np.asarray(exhausted)
    if exhausted.any():
        warnings.warn(f"max_events={config.max_events} ran out before T in "
                      f"{int(exhausted.sum())} trials: spike times there are wrong; increase "
                      "max_events", stacklevel=2)
    arrays: dict[str, np.ndarray] = {
        "loss": loss, "output_times": times, "spike_counts": np.asarray(counts),
        "grad_weights": np.asarray(grads["weights"]), "grad_times": np.asarray(grads["times"]),
        "target_times": task.target_times, "fixed_times": task.fixed_times,
        "fixed_weights": task.fixed_weights,
    }
    grid = np.linspace(0.0, config.duration, config.n_trace_points)
    traces = make_trace_function(config, task, grid)
    for name, params in (("before", task.initial_params), ("after", final)):
        voltage, current, spikes = jax.tree.map(np.asarray, traces(params))
        arrays.update({f"voltage_{name}": voltage, f"current_{name}": current,
                       f"spikes_{name}": spikes[np.isfinite(spikes)],
                       f"trainable_weights_{name}": np.asarray(params["weights"]),
                       f"trainable_times_{name}": np.asarray(params["times"])})
    arrays["trace_times"] = grid
    finite = all(np.all(np.isfinite(a)) for a in (loss, times, arrays["grad_weights"],
                                                   arrays["grad_times"]))
    metadata = run_metadata(time.perf_counter() - start, config.seed)
    metadata.update(
        final_loss=float(loss[-1]), final_spike_times=times[-1].tolist(),
        initial_spike_count=int(arrays["spike_counts"][0]),
        final_spike_count=int(arrays["spike_counts"][-1]),
        trials_to_converge=trials_to_converge(times, task.target_times, loss),
        all_finite=bool(finite), n_exhausted=int(exhausted.sum()),
    )
    return Results(arrays=arrays, config=asdict(config), metadata=metadata)


# Details for the book's Fig. 2 panels (computed on demand from a run's Results).

def trainable_trajectories(results: Results) -> dict[str, np.ndarray]:
    """The trainable input weights and times before each trial and after the last,
    {"weights": (n_trials + 1, 2), "times": (n_trials + 1, 2)}: replayed from the recorded
    gradients with the run's optimiser (make_optimizer), whose updates depend only on them."""
    config = SingleNeuronConfig(**{k: tuple(v) if isinstance(v, list) else v
                                   for k, v in results.config.items()})
    optimizer = make_optimizer(config)
    names = ("weights", "times")
    start = {name: jnp.asarray(results[f"trainable_{name}_before"]) for name in names}
    grads = {name: jnp.asarray(results[f"grad_{name}"][:-1]) for name in names}

    def step(carry, grad):
        params, state = carry
        updates, state = optimizer.update(grad, state, params)
        params = optax.apply_updates(params, updates)
        return (params, state), params

    _, history = jax.lax.scan(step, (start, optimizer.init(start)), grads)
    return {name: np.concatenate([np.asarray(start[name])[None], np.asarray(history[name])])
            for name in start}
