"""The layered exact simulator for feed-forward networks.

In a feed-forward network a layer receives spikes only from the layer below, and its neurons
do not interact. So each layer can be simulated on its own, once the spikes of the layer
below are known: all neurons of the layer step together through the time-sorted input
spikes, each emitting its own spikes in between (closed-form flows, exact). A layer of N_l
neurons receiving M_l spikes takes M_l + 1 steps on N_l neurons, where the generic
`simulate` takes one step on all sum_l N_l neurons for every event of the whole network;
in a batch, steps after the last input spike of every trial are skipped. Spike times,
final states and gradients are those of `simulate` on the same network (tests).
"""

from collections.abc import Sequence
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.typing import ArrayLike
from jaxtyping import Bool, Float, Int

from . import _checks as checks
from ._layer_steps import LayerStepsFactory, StepResult, layer_steps
from .budget import is_concrete, raise_if_exhausted
from .neurons import NeuronModel
from .simulate import Events, simulate
from .spikes import merge_pseudospikes, ordinary_spike_times, pseudo_rates, spike_counts

__all__ = [
    "LayerSpikes",
    "as_recurrent",
    "check_spike_budget",
    "feedforward_pseudo_inputs",
    "layer_output_times",
    "layers_from_events",
    "simulate_feedforward",
    "simulate_feedforward_batch",
    "simulate_feedforward_generic",
]


class LayerSpikes(NamedTuple):
    """Spikes of one layer in one trial (leading batch axes under `jax.vmap`).

    N = neurons of the layer, S = max_spikes (per neuron), D = model.state_dim.
    """

    times: Float[Array, "N S"]  # spike times of each neuron before T, ascending; +inf padding
    counts: Int[Array, " N"]  # number of spikes before T (more than S: the budget ran out)
    initial_state: Float[Array, "D N"]  # state at t = 0
    final_state: Float[Array, "D N"]  # state at t = T
    exhausted: Bool[Array, ""]  # a neuron of this layer or one below needed more than S spikes


@partial(jax.jit, static_argnames=("model", "max_spikes", "chunk_size", "steps"))
def _simulate_layer(
    model: NeuronModel,
    weights: Float[ArrayLike, "N N_src"],
    input_times: Float[ArrayLike, " M"],
    input_sources: Int[ArrayLike, " M"],
    initial_state: Float[ArrayLike, "D N"],
    duration: ArrayLike,
    max_spikes: int,
    n_active: Array | None = None,
    chunk_size: int = 8,
    steps: LayerStepsFactory | None = None,
) -> LayerSpikes:
    """Simulate one layer of non-interacting neurons exactly on given input spikes.

    One step per input spike, in time order, for all N neurons at once: each neuron
    first emits its own spikes due before the input (a spike resets it), follows the
    flow to the input time and receives weight weights[i, input_sources[m]]. An input
    wins a tie with a spike, as in `simulate`. Inputs at or after T (e.g. +inf padding)
    are ignored, those before 0 arrive at 0; a last step flows every neuron to T.
    M + 1 steps on N neurons (`snnlib._layer_steps`: through the model's functions, or
    for theta neurons in the rotation form, without transcendental functions per step).
    A step gathers its input's weights when it runs. For a batch, `_simulate_layer_batch`.

    NaN policy as in `simulate`: a neuron with NaN in its initial state, in a weight of an
    input before T, or in the time of an input it receives with a nonzero weight (also a
    source index outside weights' columns) gets NaN state and NaN spike times in all S
    slots, so that the next layer marks the neurons it reaches.

    Args:
        max_spikes: S, the spike budget per neuron (static); `exhausted` if it ran out.
        n_active: optional bound on the number of inputs before T: the steps are grouped
            in chunks of chunk_size and chunks after the first n_active inputs are skipped.
        steps: the `LayerStepsFactory` (static); default `layer_steps`, by model type.
    """
    initial_state = jnp.asarray(initial_state)
    weights_t, duration = _layer_arguments(weights, duration, initial_state.dtype)
    inputs = _prepare_layer(
        model, weights_t, input_times, input_sources, initial_state, duration, chunk_size
    )
    layer = (steps or layer_steps)(model, duration, max_spikes)
    result = layer.run(
        inputs.initial_state, inputs.arrival, inputs.sources, _zero_nan(weights_t), n_active
    )
    return _finish_layer(inputs, result, max_spikes)


@partial(jax.jit, static_argnames=("model", "max_spikes", "chunk_size", "steps"))
def _simulate_layer_batch(
    model: NeuronModel,
    weights: Float[ArrayLike, "*B N N_src"],
    input_times: Float[ArrayLike, "B M"],
    input_sources: Int[ArrayLike, "*B M"],
    initial_state: Float[ArrayLike, "*B D N"],
    duration: ArrayLike,
    max_spikes: int,
    n_active: Array,
    chunk_size: int = 8,
    steps: LayerStepsFactory | None = None,
) -> LayerSpikes:
    """`_simulate_layer` for a batch of B trials (weights, sources and initial state
    shared by the batch or per trial, by their number of axes), whose steps skip the
    chunks after the first n_active inputs of every trial (the maximum over the batch).
    The inputs are prepared per trial (`jax.vmap`); the steps run the trials side by side
    (`LayerSteps.run_batch`), so that shared weights and their gradient are never copied
    per trial. The results have a leading axis B."""
    weights, initial_state = jnp.asarray(weights), jnp.asarray(initial_state)
    input_sources = jnp.asarray(input_sources)
    weights_t, duration = _layer_arguments(weights, duration, initial_state.dtype)
    prepare = partial(_prepare_layer, model, chunk_size=chunk_size)
    axes = (
        0 if weights.ndim == 3 else None,
        0,
        0 if input_sources.ndim == 2 else None,
        0 if initial_state.ndim == 3 else None,
        None,
    )
    inputs = jax.vmap(prepare, axes)(weights_t, input_times, input_sources, initial_state, duration)
    layer = (steps or layer_steps)(model, duration, max_spikes)
    result = layer.run_batch(
        inputs.initial_state, inputs.arrival, inputs.sources, _zero_nan(weights_t), n_active
    )
    return jax.vmap(partial(_finish_layer, max_spikes=max_spikes))(inputs, result)


class _LayerInputs(NamedTuple):
    """One trial's inputs of a layer as its steps take them (`_prepare_layer`)."""

    initial_state: Array  # (D, N) canonical; the rest state for poisoned neurons
    arrival: Array  # (C, chunk) the sorted input times in [0, T], padded with T
    sources: Array  # (C, chunk) their rows of weights_t
    poisoned: Array  # (N,) neurons whose outputs are marked NaN
    marked_initial_state: Array  # (D, N) the initial state, NaN where poisoned


def _layer_arguments(weights: ArrayLike, duration: ArrayLike, dtype) -> tuple[Array, Array]:
    """weights_t (..., N_src, N) in the state's dtype: row j, the weights of source j; and
    T, NaN where it is negative (a traced bad T: NaN results)."""
    weights_t = jnp.swapaxes(jnp.asarray(weights), -1, -2).astype(dtype)
    duration = jnp.asarray(duration, dtype)
    return weights_t, jnp.where(duration >= 0, duration, jnp.nan)


def _zero_nan(weights_t: Array) -> Array:
    """NaN weights as 0 (not per trial: weights shared by a batch stay shared); a neuron
    that receives one before T is poisoned, so that its outputs are cut."""
    return jnp.where(jnp.isnan(weights_t), 0.0, weights_t)


def _prepare_layer(
    model: NeuronModel,
    weights_t: Float[Array, "N_src N"],
    input_times: Float[ArrayLike, " M"],
    input_sources: Int[ArrayLike, " M"],
    initial_state: Float[Array, "D N"],
    duration: Array,
    chunk_size: int,
) -> _LayerInputs:
    """One trial: the NaN policy (`snnlib._checks`: poisoned neurons run as stand-ins, in
    the rest state, and their outputs are marked NaN by `_finish_layer`: double where)
    and the inputs sorted by time, clipped to [0, T] and grouped in chunks."""
    dtype = initial_state.dtype
    input_times = jnp.asarray(input_times, dtype)
    input_sources = jnp.asarray(input_sources)
    n = initial_state.shape[-1]
    initial_state = model.canonical_state(initial_state)
    valid = (input_sources >= 0) & (input_sources < weights_t.shape[0])
    sources = jnp.where(valid, input_sources, 0)
    unknown_time = jnp.isnan(input_times)
    poisoned = jnp.any(jnp.isnan(initial_state), axis=0) | _poisoned_by_inputs(
        weights_t, sources, valid, unknown_time, ~(input_times > duration)
    )
    marked_initial_state = checks.cut_nan(initial_state, poisoned)
    initial_state = checks.stand_in(initial_state, poisoned, model.rest_state(n, dtype))
    input_times = jnp.where(unknown_time, jnp.inf, input_times)
    order = _time_order(input_times)
    chunk_size = max(1, min(chunk_size, input_times.shape[0]))  # no chunk longer than M
    n_chunks = -(-input_times.shape[0] // chunk_size)
    padding = n_chunks * chunk_size - input_times.shape[0]
    arrival = jnp.concatenate(  # (n_chunks, chunk_size): sorted input times, padded with T
        [jnp.clip(input_times[order], 0.0, duration), jnp.full((padding,), duration)]
    ).reshape(n_chunks, chunk_size)
    sorted_sources = jnp.concatenate(  # (n_chunks, chunk_size): their rows of weights_t
        [sources[order], jnp.zeros((padding,), sources.dtype)]
    ).reshape(n_chunks, chunk_size)
    return _LayerInputs(initial_state, arrival, sorted_sources, poisoned, marked_initial_state)


_RANK_ORDER_MAX = 256  # inputs per trial up to which `_time_order` ranks instead of sorting


def _time_order(times: Array) -> Array:
    """The stable ascending order of NaN-free times (M,), as `jnp.argsort`.

    Up to _RANK_ORDER_MAX inputs by ranks, rank_i = #{j : t_j < t_i or (t_j = t_i and
    j < i)}: M^2 comparisons that vectorise, about 3x faster than XLA's sort on the CPU
    at M = 100 (bench/bench_feedforward.py); beyond, a sort.
    """
    m = times.shape[0]
    if m > _RANK_ORDER_MAX:
        return jnp.argsort(times)
    index = jnp.arange(m)
    before = times[None, :] < times[:, None]
    tie_before = (times[None, :] == times[:, None]) & (index[None, :] < index[:, None])
    rank = jnp.sum(before | tie_before, axis=1)
    return jnp.zeros((m,), index.dtype).at[rank].set(index)


def _finish_layer(inputs: _LayerInputs, result: StepResult, max_spikes: int) -> LayerSpikes:
    """One trial's `LayerSpikes` from the steps' result, poisoned neurons marked NaN."""
    times, counts, final_state = result
    poisoned = inputs.poisoned
    return LayerSpikes(
        times=checks.cut_nan(times, poisoned[:, None]),
        counts=counts,
        initial_state=inputs.marked_initial_state,
        final_state=checks.cut_nan(final_state, poisoned),
        exhausted=jnp.any((counts > max_spikes) & ~poisoned),
    )


def _poisoned_by_inputs(
    weights_t: Float[Array, "N_src N"],
    sources: Int[Array, " M"],
    valid: Bool[Array, " M"],
    unknown_time: Bool[Array, " M"],
    before_end: Bool[Array, " M"],
) -> Bool[Array, " N"]:
    """Neurons that receive an input of unknown (NaN) time with a nonzero weight, or an
    input not after T with a NaN weight or from an invalid source.

    As products of 0/1 matrices, (M,) @ (M, N), so that under `jax.vmap` with weights and
    sources shared by the batch the (M, N) masks are built once, not per trial.
    """
    columns = weights_t[sources]  # (M, N)
    nonzero = ((columns != 0) | ~valid[:, None]).astype(jnp.float32)
    unknown_weight = (jnp.isnan(columns) | ~valid[:, None]).astype(jnp.float32)
    return (unknown_time.astype(jnp.float32) @ nonzero > 0) | (
        before_end.astype(jnp.float32) @ unknown_weight > 0
    )


def simulate_feedforward(
    model: NeuronModel,
    weights: Sequence[Float[ArrayLike, "N_l N_prev"]],
    input_times: Float[ArrayLike, " M"],
    input_neurons: Int[ArrayLike, " M"],
    initial_states: Sequence[Float[ArrayLike, "D N_l"]],
    duration: ArrayLike,
    max_spikes: int | tuple[int, ...],
    throw: bool = True,
    steps: LayerStepsFactory | None = None,
) -> tuple[LayerSpikes, ...]:
    """Simulate one trial of a feed-forward network exactly, layer by layer.

    Layer l (l = 1..L) receives weights[l-1] (N_l, N_{l-1}) from the layer below; layer 1
    from the input channels (weights[0] is (N_1, N_in), like `simulate`'s weights_in).
    Each layer is simulated on all spikes of the layer below (its N_{l-1} x S padded
    spike times). Same spike times and gradients as `simulate` on the equivalent
    recurrent network (`as_recurrent`, `simulate_feedforward_generic`). Batch trials with
    `jax.vmap`, or with `simulate_feedforward_batch`, which skips the steps no trial of
    the batch needs.

    Args:
        model: a neuron model (static), the same in every layer.
        weights: L weight matrices, [i, j] from neuron (or input channel) j onto neuron i.
        input_times: (M,) input spike times; input_neurons: (M,) their channels.
        initial_states: L floating states (D, N_l) at t = 0.
        duration: the trial length T >= 0.
        max_spikes: S, spike budget per neuron (static): one for all layers or one per layer.
        throw: the budget policy (`snnlib.budget`): with concrete arguments raise
            EventBudgetError if a neuron needed more than S spikes; inside jit/vmap/grad
            tracing, or with throw=False, `LayerSpikes.exhausted` carries the flag.
        steps: the layer steps (a `snnlib._layer_steps.LayerStepsFactory`, static, e.g.
            `ThetaAutodiffSteps`); default: the fastest exact steps for the model.
    Returns:
        One `LayerSpikes` per layer. Bad input raises ValueError naming the layer and the
        array; NaN propagates as in `simulate` (NaN neurons, and those they reach).
    """
    return _run_layers(
        model,
        weights,
        input_times,
        input_neurons,
        initial_states,
        duration,
        max_spikes,
        throw,
        batched=False,
        steps=steps,
    )


def simulate_feedforward_batch(
    model: NeuronModel,
    weights: Sequence[ArrayLike],
    input_times: Float[ArrayLike, "B M"],
    input_neurons: Int[ArrayLike, "*B M"],
    initial_states: Sequence[ArrayLike],
    duration: ArrayLike,
    max_spikes: int | tuple[int, ...],
    throw: bool = True,
    steps: LayerStepsFactory | None = None,
) -> tuple[LayerSpikes, ...]:
    """`simulate_feedforward` for a batch of B trials; the results have a leading axis B.

    input_times are (B, M), input_neurons (B, M) or (M,). A weight matrix or initial state
    with one more (leading) axis than `simulate_feedforward` takes is per trial, else shared.
    Every layer skips the input steps after the last input before T of all trials
    (`_simulate_layer`'s n_active), which the plain `jax.vmap` cannot.
    """
    return _run_layers(
        model,
        weights,
        input_times,
        input_neurons,
        initial_states,
        duration,
        max_spikes,
        throw,
        batched=True,
        steps=steps,
    )


def _run_layers(
    model,
    weights,
    input_times,
    input_neurons,
    initial_states,
    duration,
    max_spikes,
    throw: bool,
    batched: bool,
    steps: LayerStepsFactory | None = None,
) -> tuple[LayerSpikes, ...]:
    """Check the arguments, simulate, apply the budget policy."""
    weights = [jnp.asarray(w) for w in weights]
    initial_states = [jnp.asarray(s) for s in initial_states]
    input_times, input_neurons = jnp.asarray(input_times), jnp.asarray(input_neurons)
    name = "simulate_feedforward" + ("_batch" if batched else "")
    budgets = _check_layers(
        name,
        model,
        weights,
        input_times,
        input_neurons,
        initial_states,
        duration,
        max_spikes,
        batched,
    )
    layers = _layers(
        model,
        weights,
        input_times,
        input_neurons,
        initial_states,
        duration,
        budgets,
        batched,
        steps,
    )
    if throw and is_concrete(layers):
        check_spike_budget(layers)
    return layers


def _check_layers(
    name: str,
    model,
    weights,
    input_times,
    input_neurons,
    initial_states,
    duration,
    max_spikes,
    batched: bool,
) -> tuple[int, ...]:
    """Raise ValueError naming the layer, the array and both shapes (`snnlib._checks`);
    returns the budgets."""
    checks.check_model(name, model)
    if len(weights) != len(initial_states):
        raise ValueError(
            f"{name}: {len(weights)} weight matrices but {len(initial_states)} "
            "initial states (one of each per layer)"
        )
    budgets = _per_layer(max_spikes, len(weights))
    times_ndim = 2 if batched else 1
    if input_times.ndim != times_ndim or input_neurons.shape[-1:] != input_times.shape[-1:]:
        expected = "(B, M) and (B, M) or (M,)" if batched else "(M,) and (M,)"
        raise ValueError(
            f"{name}: input_times has shape {input_times.shape} and input_neurons "
            f"{input_neurons.shape}; expected {expected}"
        )
    checks.check_real(name, "input_times", input_times)
    checks.check_integer(name, "input_neurons", input_neurons)
    if batched:
        _check_batch(name, weights, input_times, input_neurons, initial_states)
    below = None
    for index, (w, state) in enumerate(zip(weights, initial_states, strict=True)):
        layer = f"layer {index + 1}"
        if w.ndim not in ((2, 3) if batched else (2,)) or 0 in w.shape[-2:]:
            raise ValueError(
                f"{name}: {layer}: weights[{index}] has shape {w.shape}, expected a "
                f"non-empty matrix (N_{index + 1}, N_{index})"
            )
        checks.check_real(name, f"{layer}: weights[{index}]", w)
        n, n_src = w.shape[-2:]
        if below is not None and n_src != below:
            raise ValueError(
                f"{name}: {layer}: weights[{index}] has shape {w.shape}, expected "
                f"({n}, {below}): the layer below has {below} neurons"
            )
        want = (model.state_dim, n)
        if state.ndim not in ((2, 3) if batched else (2,)) or state.shape[-2:] != want:
            raise ValueError(
                f"{name}: {layer}: initial_states[{index}] has shape {state.shape}, "
                f"expected {want} (state_dim={model.state_dim} for "
                f"{type(model).__name__}, N_{index + 1}={n} rows of weights[{index}])"
            )
        checks.check_initial_state(name, f"{layer}: initial_states[{index}]", model, state)
        if index == 0:
            checks.check_channels(name, input_neurons, n_src, "weights[0]", w.shape)
        below = n
    checks.check_duration(name, duration)
    return budgets


def _check_batch(name: str, weights, input_times, input_neurons, initial_states) -> None:
    """A batch of B >= 1 trials, and every per-trial argument with the same B."""
    size = input_times.shape[0]
    if size == 0:
        raise ValueError(
            f"{name}: input_times has shape {input_times.shape}: the batch is empty; "
            "pass at least one trial (B >= 1)"
        )
    per_trial = [("input_neurons", input_neurons, 2)]
    per_trial += [(f"weights[{i}]", w, 3) for i, w in enumerate(weights)]
    per_trial += [(f"initial_states[{i}]", s, 3) for i, s in enumerate(initial_states)]
    for what, value, ndim in per_trial:
        if value.ndim == ndim and value.shape[0] != size:
            raise ValueError(
                f"{name}: {what} has shape {value.shape}, a batch of {value.shape[0]} trials, "
                f"but input_times has {size} (shape {input_times.shape}); pass one entry per "
                f"trial ({size}), or drop the leading axis to share it across trials"
            )


@partial(jax.jit, static_argnames=("model", "budgets", "batched", "steps"))
def _layers(
    model,
    weights,
    input_times,
    input_neurons,
    initial_states,
    duration,
    budgets: tuple[int, ...],
    batched: bool,
    steps: LayerStepsFactory | None = None,
) -> tuple[LayerSpikes, ...]:
    """Layer after layer: simulate one, pass its padded spike times to the next.

    The sources of a layer above the first are the same in every trial (neuron j's S
    slots), so that under the batch's `jax.vmap` they, like shared weights, are not mapped.
    """
    layers = []
    times = input_times
    sources = input_neurons
    below_exhausted = False
    for w, state, budget in zip(weights, initial_states, budgets, strict=True):
        if batched:
            n_active = jnp.max(jnp.sum(times < duration, axis=-1))
            layer = _simulate_layer_batch(
                model, w, times, sources, state, duration, budget, n_active, steps=steps
            )
        else:
            layer = _simulate_layer(model, w, times, sources, state, duration, budget, steps=steps)
        below_exhausted = layer.exhausted | below_exhausted
        layers.append(layer._replace(exhausted=below_exhausted))
        n = layer.times.shape[-2]
        times = layer.times.reshape(*layer.times.shape[:-2], -1)
        sources = jnp.repeat(jnp.arange(n), budget)
    return tuple(layers)


def _per_layer(max_spikes: int | tuple[int, ...], n_layers: int) -> tuple[int, ...]:
    """One positive integer spike budget per layer."""
    budgets: tuple = (
        (max_spikes,) * n_layers
        if isinstance(max_spikes, (int, np.integer)) or np.ndim(max_spikes) == 0
        else tuple(max_spikes)
    )
    if len(budgets) != n_layers or any(
        isinstance(b, bool) or not isinstance(b, (int, np.integer)) or b < 1 for b in budgets
    ):
        raise ValueError(
            f"max_spikes must be a positive int or one per layer ({n_layers}), got {max_spikes!r}"
        )
    return tuple(int(b) for b in budgets)


def check_spike_budget(layers: Sequence[LayerSpikes]) -> None:
    """Raise EventBudgetError if max_spikes ran out before T in any layer and trial.

    For results of traced (e.g. `jax.vmap`-batched) simulations, checked afterwards in
    Python; the simulators raise by themselves with concrete arguments (throw=True).
    """
    problems, worst = [], []
    for index, layer in enumerate(layers, start=1):
        budget = layer.times.shape[-1]
        own = np.asarray(layer.counts) > budget
        if own.any():
            trials = own.reshape(*own.shape[:-1], -1).any(axis=-1)
            where = f" in {int(trials.sum())} of {trials.size} trials" if trials.ndim else ""
            problems.append(f"layer {index}{where}")
            worst.append(int(np.max(layer.counts)))
    flags = np.any([np.asarray(layer.exhausted) for layer in layers], axis=0)
    max_spikes = [layer.times.shape[-1] for layer in layers]
    counted = f" (a neuron spiked at least {max(worst)} times)" if worst else ""
    raise_if_exhausted(
        flags,
        f"max_spikes={max_spikes} (per neuron and layer)",
        f"{', '.join(problems) or 'a layer'} needed more spikes{counted}; pass a larger max_spikes",
    )


def feedforward_pseudo_inputs(
    model: NeuronModel, weights: Sequence[ArrayLike], layers: Sequence[LayerSpikes]
) -> list[Array]:
    """Pseudo input of every layer: input_l = W_l r_{l-1} (book/theory.md, "Pseudodynamics
    and pseudospikes" and "Theta neuron").

    The pseudo rates of the input channels are 0; a layer's pseudo rates are
    r_l = pseudo_rates(model, state_l(T), input_l) (for the theta neuron H(phi(T), input)/Theta),
    so the network below the output acts as a rate network. Returns one (N_l,) per layer
    (NaN where a neuron below with a nonzero or zero weight has a NaN state).
    """
    rates = jnp.zeros(jnp.asarray(weights[0]).shape[1], layers[0].final_state.dtype)
    inputs = []
    for w, layer in zip(weights, layers, strict=True):
        inputs.append(jnp.asarray(w, rates.dtype) @ rates)
        rates = pseudo_rates(model, layer.final_state, inputs[-1])
    return inputs


def layer_output_times(
    model: NeuronModel,
    layer: LayerSpikes,
    duration: ArrayLike,
    n_spikes: int,
    pseudo_input: ArrayLike = 0.0,
) -> Float[Array, "N n_spikes"]:
    """n_spikes spike times of every neuron of a layer, (N, n_spikes): the ordinary spikes
    first, then pseudospikes k = 1, 2, ... (as `output_spike_times` for `Events`).

    All NaN if the spike budget of this layer or one below ran out (`layer.exhausted`);
    NaN for neurons with a NaN state.
    """
    budget = layer.times.shape[-1]
    ordinary = layer.times[:, :n_spikes]
    if n_spikes > budget:
        ordinary = jnp.pad(ordinary, ((0, 0), (0, n_spikes - budget)), constant_values=jnp.inf)
    # NaN neurons have NaN ordinary times (kept); their pseudospikes are computed from a
    # stand-in state, so that no NaN reaches the gradients of the others (double where)
    unknown = jnp.any(jnp.isnan(layer.final_state), axis=0)
    final_state = checks.stand_in(layer.final_state, unknown, 0.0)
    times = merge_pseudospikes(
        model, checks.mark_nan(ordinary, unknown[:, None]), final_state, duration, pseudo_input
    )
    return jnp.where(layer.exhausted, jnp.nan, times)


def as_recurrent(
    weights: Sequence[ArrayLike], initial_states: Sequence[ArrayLike]
) -> tuple[Array, Array, Array]:
    """The feed-forward network as one recurrent network for the generic `simulate`.

    Neurons are numbered layer by layer; weights_net is block-lower-triangular (layer l
    receives weights[l] from layer l-1) and weights_in feeds layer 1 only.
    Returns (weights_net (N, N), weights_in (N, N_in), initial_state (D, N)), N = sum N_l.
    """
    sizes = [jnp.asarray(w).shape[0] for w in weights]
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    total = int(offsets[-1])
    dtype = jnp.asarray(initial_states[0]).dtype
    weights_net = jnp.zeros((total, total), dtype)
    for index in range(1, len(weights)):
        rows = slice(offsets[index], offsets[index + 1])
        cols = slice(offsets[index - 1], offsets[index])
        weights_net = weights_net.at[rows, cols].set(jnp.asarray(weights[index], dtype))
    weights_in = jnp.zeros((total, jnp.asarray(weights[0]).shape[1]), dtype)
    weights_in = weights_in.at[: sizes[0]].set(jnp.asarray(weights[0], dtype))
    initial_state = jnp.concatenate([jnp.asarray(s, dtype) for s in initial_states], axis=-1)
    return weights_net, weights_in, initial_state


def layers_from_events(
    events: Events, sizes: Sequence[int], max_spikes: int | tuple[int, ...]
) -> tuple[LayerSpikes, ...]:
    """Split the `Events` of `as_recurrent`'s network into one `LayerSpikes` per layer.

    A layer is exhausted if the event budget ran out or one of its neurons, or of a layer
    below, spiked more than its max_spikes times.
    """
    budgets = _per_layer(max_spikes, len(sizes))
    counts = spike_counts(events, sum(sizes))
    layers, start, exhausted = [], 0, events.exhausted
    for size, budget in zip(sizes, budgets, strict=True):
        ids = jnp.arange(start, start + size)
        exhausted = exhausted | jnp.any(counts[ids] > budget)
        layers.append(
            LayerSpikes(
                times=ordinary_spike_times(events, ids, budget),
                counts=counts[ids],
                initial_state=events.initial_state[:, ids],
                final_state=events.final_state[:, ids],
                exhausted=exhausted,
            )
        )
        start += size
    return tuple(layers)


def simulate_feedforward_generic(
    model: NeuronModel,
    weights: Sequence[ArrayLike],
    input_times: Float[ArrayLike, " M"],
    input_neurons: Int[ArrayLike, " M"],
    initial_states: Sequence[ArrayLike],
    duration: ArrayLike,
    max_spikes: int | tuple[int, ...],
    max_events: int,
    throw: bool = True,
) -> tuple[LayerSpikes, ...]:
    """`simulate_feedforward` computed with the generic `simulate` (the reference).

    Simulates `as_recurrent(weights, initial_states)` with max_events events and splits
    the result into layers (`layers_from_events`). Checks and budget policy (throw) as
    `simulate_feedforward`; a layer is also exhausted when the event budget ran out.
    """
    weights = [jnp.asarray(w) for w in weights]
    initial_states = [jnp.asarray(s) for s in initial_states]
    input_times, input_neurons = jnp.asarray(input_times), jnp.asarray(input_neurons)
    budgets = _check_layers(
        "simulate_feedforward_generic",
        model,
        weights,
        input_times,
        input_neurons,
        initial_states,
        duration,
        max_spikes,
        batched=False,
    )
    layers = _generic(
        model, weights, input_times, input_neurons, initial_states, duration, budgets, max_events
    )
    if throw and is_concrete(layers):
        check_spike_budget(layers)
    return layers


@partial(jax.jit, static_argnames=("model", "budgets", "max_events"))
def _generic(
    model,
    weights,
    input_times,
    input_neurons,
    initial_states,
    duration,
    budgets: tuple[int, ...],
    max_events: int,
) -> tuple[LayerSpikes, ...]:
    weights_net, weights_in, initial_state = as_recurrent(weights, initial_states)
    events = simulate(
        model,
        weights_net,
        weights_in,
        input_times,
        input_neurons,
        initial_state,
        duration,
        max_events,
    )
    return layers_from_events(events, [w.shape[0] for w in weights], budgets)
