"""Recurrent network experiment (paper Fig. 3 and supplement, SPEC section 6.3).

Ten QIF neurons, each driven by its own excitatory and inhibitory Poisson input, learn
recurrent weights (no self-connections) and initial states (V, I) so that the first two
neurons spike at Poisson target times. Missing spikes are pseudospikes whose pseudo
input is sum_j w_ij r_j with the presynaptic pseudo rates r_j (SPEC section 2).
"""

import math
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

from .. import training
from ..data import load_instance
from ..losses import normalised_spike_time_loss
from ..neurons import QIF
from ..simulate import Events, simulate
from ..spikes import output_spike_times, pseudo_rates
from ._registry import Reproduction, RunOptions, register
from ._results import Results, require_x64, run_metadata

# the paper's Fig. 3 (loss: the paper's code on this instance, 10 000 trials); grid search:
# the cap on the spike-time change per trial (ms, tau = 10 ms)
PAPER = {"final_loss_normal": 8.0e-4, "trials_normal": 10_000, "max_spike_change_ms": 5.0}
MS = 10.0  # ms per time unit tau


@dataclass(frozen=True)
class RecurrentConfig:
    """Parameters of the recurrent-network experiment (defaults: the paper's)."""

    n_trials: int = 10_000
    mode: str = "normal"  # "normal": Adabelief steps; "grid": step-size grid search
    learning_rate: float = 1e-2
    decay_trials: float | None = 2000.0  # learning rate lr exp(-trial / decay_trials)
    b2: float = 0.999  # Adabelief's second-moment decay
    grid_min: float = 1e-5  # grid mode: step-size scales, log-spaced
    grid_max: float = 1e2
    grid_points: int = 50
    dt_max: float = 0.5  # grid mode: no spike may move more than this in one trial
    max_events: int = 600  # K: input and network spikes per trial
    seed: int | None = None  # None: the paper's task instance; else a fresh draw
    n_neurons: int = 10
    n_targets: int = 2
    duration: float = 10.0
    input_rate: float = 1.0
    w_in_exc: float = 5.0
    w_in_inh: float = -5.0
    target_rates: tuple[float, ...] = (1.0, 0.5)
    tau: float = 1.0
    alpha: float = 10.0
    chunk: int = 100  # trials per compiled chunk: progress and checkpoint granularity

    def __post_init__(self) -> None:
        if self.mode not in ("normal", "grid"):
            raise ValueError(f"mode must be 'normal' or 'grid', got {self.mode!r}")
        if self.n_trials < 1 or self.chunk < 1 or self.max_events < 1:
            raise ValueError("n_trials, chunk and max_events must be positive")
        if len(self.target_rates) != self.n_targets:
            raise ValueError(
                f"target_rates has {len(self.target_rates)} entries, expected n_targets="
                f"{self.n_targets}"
            )


@dataclass(frozen=True)
class Task:
    """Input spikes and padded target times of one task instance."""

    input_times: np.ndarray  # (M,)
    input_neurons: np.ndarray  # (M,) channel c < N: excitatory onto c; N + c: inhibitory
    weights_in: np.ndarray  # (N, 2N)
    targets: np.ndarray  # (n_targets, L), padded with nan; the last target is extra (1.1 T)
    is_extra: np.ndarray  # (n_targets, L)

    @property
    def is_target(self) -> np.ndarray:
        return np.isfinite(self.targets)


def input_weights(n: int, w_exc: float, w_inh: float) -> np.ndarray:
    """Channel j < N excites neuron j with w_exc, channel N + j inhibits it with w_inh."""
    weights = np.zeros((n, 2 * n))
    weights[np.arange(n), np.arange(n)] = w_exc
    weights[np.arange(n), n + np.arange(n)] = w_inh
    return weights


def _pad_targets(target_lists: list[list[float]]) -> tuple[np.ndarray, np.ndarray]:
    length = max(len(t) for t in target_lists)
    targets = np.full((len(target_lists), length), np.nan)
    is_extra = np.zeros(targets.shape, bool)
    for i, times in enumerate(target_lists):
        targets[i, : len(times)] = times
        is_extra[i, len(times) - 1] = True
    return targets, is_extra


def make_task(config: RecurrentConfig) -> Task:
    """The paper's instance (seed None) or a fresh draw with numpy's default_rng(seed)."""
    n, duration = config.n_neurons, config.duration
    if config.seed is None:
        instance = load_instance("recurrent")
        if instance["N"] != n or instance["T"] != duration:
            raise ValueError("the paper's instance has N=10, T=10: pass a seed for other sizes")
        times = np.asarray(instance["input_times"])
        channels = np.asarray(instance["input_indices"])
        target_lists = instance["target_times"][: config.n_targets]
    else:
        rng = np.random.default_rng(config.seed)
        times, channels = [], []
        for channel in range(2 * n):
            count = rng.poisson(config.input_rate * duration)
            times.append(np.sort(rng.uniform(0, duration, count)))
            channels.append(np.full(count, channel))
        times, channels = np.concatenate(times), np.concatenate(channels)
        target_lists = []
        for rate in config.target_rates:
            # inter-target intervals: exponential (rate) plus 1 after the first, as in the paper
            intervals = rng.exponential(1 / rate, int(3 * duration * rate) + 5)
            intervals[1:] += 1.0
            spikes = np.cumsum(intervals)
            target_lists.append([*spikes[spikes < duration], 1.1 * duration])
    order = np.argsort(times, kind="stable")
    targets, is_extra = _pad_targets(target_lists)
    return Task(times[order], channels[order], input_weights(n, config.w_in_exc,
                config.w_in_inh), targets, is_extra)


def initial_parameters(config: RecurrentConfig) -> dict[str, jax.Array]:
    """Recurrent weights 0 and the neurons at rest (V = I = 0), as in the paper."""
    n = config.n_neurons
    return {"weights_net": jnp.zeros((n, n)), "initial_state": jnp.zeros((2, n))}


def _network(params: dict) -> jax.Array:
    """The recurrent weight matrix without self-connections."""
    weights = params["weights_net"]
    return weights * (1 - jnp.eye(weights.shape[0], dtype=weights.dtype))


def make_trial_functions(config: RecurrentConfig, task: Task):
    """(simulate_trial, loss_and_times) for parameters {weights_net, initial_state}."""
    model = QIF(tau=config.tau, alpha=config.alpha)
    targets = jnp.asarray(np.nan_to_num(task.targets))
    is_target, is_extra = jnp.asarray(task.is_target), jnp.asarray(task.is_extra)
    n_spikes = task.targets.shape[1]

    def simulate_trial(params: dict) -> tuple[jax.Array, Events]:
        weights = _network(params)
        events = simulate(model, weights, jnp.asarray(task.weights_in),
                          jnp.asarray(task.input_times), jnp.asarray(task.input_neurons),
                          params["initial_state"], config.duration, config.max_events)
        # presynaptic pseudo rates with pseudo current 0 (input = -I(T))
        rates = pseudo_rates(model, events.final_state, -events.final_state[1])
        pseudo_input = weights[: config.n_targets] @ rates
        times = output_spike_times(model, events, jnp.arange(config.n_targets), n_spikes,
                                   pseudo_input)
        return times, events

    def loss_and_times(params: dict):
        times, events = simulate_trial(params)
        loss = normalised_spike_time_loss(times, targets, is_target, is_extra)
        return loss, (times, events.exhausted)

    return simulate_trial, loss_and_times


def paper_config(mode: str = "normal", **changes) -> RecurrentConfig:
    """The paper's settings: 10 000 Adabelief trials with decaying learning rate, or, for
    the grid search, 20 000 trials with a constant learning rate and b2 = 0.99."""
    if mode == "grid":
        changes = {"n_trials": 20_000, "decay_trials": None, "b2": 0.99, **changes}
    return RecurrentConfig(mode=mode, **changes)


def make_optimizer(config: RecurrentConfig) -> optax.GradientTransformation:
    """Adabelief with learning rate lr exp(-trial / decay_trials) (constant if None)."""
    return training.make_optimizer(config.learning_rate, config.decay_trials, b2=config.b2)


def make_chunk_runner(config: RecurrentConfig, task: Task):
    """A jit-compiled function running `length` training trials with lax.scan."""
    _, loss_and_times = make_trial_functions(config, task)
    optimizer = make_optimizer(config)
    value_and_grad = jax.value_and_grad(loss_and_times, has_aux=True)
    is_target = jnp.asarray(task.is_target)
    scales = jnp.logspace(math.log10(config.grid_min), math.log10(config.grid_max),
                          config.grid_points)

    def grid_step(params, updates, times):
        candidates = jax.tree.map(
            lambda p, u: p[None] + scales.reshape((-1,) + (1,) * p.ndim) * u[None],
            params, updates)
        losses, (grid_times, _) = jax.vmap(loss_and_times)(candidates)
        moved = jnp.where(is_target, jnp.abs(grid_times - times[None]), 0.0)
        allowed = jnp.all(moved < config.dt_max, axis=(1, 2))
        best = jnp.argmin(jnp.where(allowed, losses, jnp.inf))
        return jax.tree.map(lambda c: c[best], candidates)

    def trial(carry, _):
        params, opt_state = carry
        (loss, (times, exhausted)), grads = value_and_grad(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        if config.mode == "grid":
            params = grid_step(params, updates, times)
        else:
            params = optax.apply_updates(params, updates)
        return (params, opt_state), (loss, times, exhausted)

    def run_chunk(params, opt_state, length):
        return jax.lax.scan(trial, (params, opt_state), None, length=length)

    return jax.jit(run_chunk, static_argnums=2), optimizer


def run(
    config: RecurrentConfig = RecurrentConfig(),
    checkpoint: str | Path | None = None,
    progress: bool = True,
) -> Results:
    """Train; return loss and output spike times per trial and the before/after rasters.

    Needs float64 (jax_enable_x64), as the paper's experiment. With `checkpoint`, the
    state is saved after every chunk of trials and a rerun with the same path resumes
    where it stopped (giving the same result as an uninterrupted run); a rerun with more
    trials continues it.
    """
    require_x64("the recurrent experiment")
    task = make_task(config)
    run_chunk, optimizer = make_chunk_runner(config, task)

    def start():
        params = initial_parameters(config)
        return {"params": params, "opt_state": optimizer.init(params)}, {
            "loss": np.zeros(0), "times": np.zeros((0, *task.targets.shape)),
            "n_exhausted": np.zeros(0, bool)}

    def advance(carry, _done, length):
        (params, opt_state), (loss, times, exhausted) = run_chunk(
            carry["params"], carry["opt_state"], length)
        return {"params": params, "opt_state": opt_state}, {
            "loss": loss, "times": times, "n_exhausted": exhausted}

    result = training.run_loop(
        advance, start, config.n_trials, unit=config.chunk, checkpoint=checkpoint,
        identity=asdict(config) | {"n_trials": None}, desc=f"recurrent ({config.mode})",
        progress=progress, budget=f"max_events={config.max_events}",
        postfix=lambda new: {"loss": f"{float(new['loss'][-1]):.2e}"})
    return _collect(config, task, result)


def _collect(config: RecurrentConfig, task: Task, result: training.LoopResult) -> Results:
    """Final evaluation (after training, and with pruned recurrent weights) into Results."""
    simulate_trial, loss_and_times = make_trial_functions(config, task)
    evaluate = jax.jit(loss_and_times)
    final = result.carry["params"]
    pruned = {**final, "weights_net": _network(final).at[config.n_targets:].set(0.0)}
    arrays: dict[str, np.ndarray] = {}
    for name, params in (("before", initial_parameters(config)), ("after", final),
                         ("pruned", pruned)):
        loss, (times, _) = evaluate(params)
        _, events = jax.jit(simulate_trial)(params)
        network = ~np.asarray(events.is_input) & (np.asarray(events.neuron) >= 0)
        arrays[f"spike_times_{name}"] = np.asarray(events.times)[network]
        arrays[f"spike_neurons_{name}"] = np.asarray(events.neuron)[network]
        arrays[f"t_out_{name}"] = np.where(task.is_target, np.asarray(times), np.nan)
        arrays[f"loss_{name}"] = np.asarray(loss)
    loss_curve = np.concatenate([result.records["loss"], arrays["loss_after"][None]])
    t_out = np.concatenate([result.records["times"],
                            np.nan_to_num(arrays["t_out_after"])[None]])
    t_out = np.where(task.is_target[None], t_out, np.nan)
    arrays.update(
        loss=loss_curve, t_out=t_out, targets=task.targets, is_extra=task.is_extra,
        input_times=task.input_times, input_neurons=task.input_neurons,
        weights_net=np.asarray(_network(final)), initial_state=np.asarray(final["initial_state"]),
        max_spike_change=np.nanmax(np.abs(np.diff(t_out, axis=0)), axis=(1, 2)),
    )
    errors = np.abs(arrays["t_out_after"] - task.targets)[task.is_target & ~task.is_extra]
    metadata = run_metadata(result.wall_time, config.seed)
    metadata.update(final_loss=float(arrays["loss_after"]),
                    n_exhausted=int(result.records["n_exhausted"].sum()),
                    max_spike_time_error=float(errors.max()),
                    seconds_per_trial=result.wall_time / max(config.n_trials, 1))
    return Results(arrays=arrays, config=asdict(config), metadata=metadata)


def compare(results: Results) -> list[tuple[str, str, str]]:
    """Rows (quantity, paper, this run) of the paper-vs-run table of a normal or grid run."""
    trials = len(results["loss"]) - 1
    targets, after = results["targets"], results["t_out_after"]
    inner = np.isfinite(targets) & ~results["is_extra"]
    rows = []
    if results.config["mode"] == "normal":
        rows.append((f"loss after {trials:,} trials", f"{PAPER['final_loss_normal']:.1e} (the "
                     f"paper's code on this instance, {PAPER['trials_normal']:,} trials)",
                     f"{results['loss'][-1]:.1e}"))
        rows.append(("median spike-time error after training", "—",
                     f"{np.median(np.abs(after - targets)[inner]) * MS:.2f} ms"))
    else:
        rows.append((f"loss after {trials:,} trials", "—", f"{results['loss'][-1]:.1e}"))
        rows.append(("largest spike-time change between consecutive trials",
                     f"at most {PAPER['max_spike_change_ms']:g} ms (the cap)",
                     f"{np.nanmax(results['max_spike_change']) * MS:.2f} ms"))
    return rows


def _reproduce(mode: str, options: RunOptions) -> dict[str, Results]:
    """The paper's run (10 000 trials; 20 000 in grid mode; --quick: 300 and 100)."""
    changes = {"n_trials": options.epochs} if options.epochs else {}
    if options.quick:
        changes = {"n_trials": 300 if mode == "normal" else 100} | changes
    config = paper_config(mode, **changes)
    name = f"recurrent_{mode}"
    return {name: run(config, checkpoint=options.run_dir / f"{name}.ckpt",
                      progress=options.progress)}


for _mode, _name, _time in (("normal", "recurrent", "~4 min"),
                            ("grid", "recurrent-grid", "~25 min")):
    register(Reproduction(
        name=_name, description=f"recurrent network, Fig. 3 ({_mode} mode)",
        expected_time=f"{_time} on 2 CPU cores", run=partial(_reproduce, _mode),
        size=lambda results: results.config["n_trials"], size_label="trials",
        float64=True))
