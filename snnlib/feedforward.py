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

from ._layer_steps import layer_steps
from .neurons import NeuronModel
from .simulate import EventBudgetError, Events, simulate
from .spikes import merge_pseudospikes, ordinary_spike_times, pseudo_rates, spike_counts


class LayerSpikes(NamedTuple):
    """Spikes of one layer in one trial (leading batch axes under `jax.vmap`).

    N = neurons of the layer, S = max_spikes (per neuron), D = model.state_dim.
    """

    times: Array  # (N, S) spike times of each neuron before T, ascending; +inf padding
    counts: Array  # (N,) number of spikes before T (more than S: the budget ran out)
    initial_state: Array  # (D, N) state at t = 0
    final_state: Array  # (D, N) state at t = T
    exhausted: Array  # () True if a neuron needed more than S spikes (times incomplete)


@partial(jax.jit, static_argnames=("model", "max_spikes", "chunk_size"))
def simulate_layer(
    model: NeuronModel,
    weights: ArrayLike,
    input_times: ArrayLike,
    input_sources: ArrayLike,
    initial_state: ArrayLike,
    duration: ArrayLike,
    max_spikes: int,
    n_active: ArrayLike | None = None,
    chunk_size: int = 8,
) -> LayerSpikes:
    """Simulate one layer of non-interacting neurons exactly on given input spikes.

    One step per input spike, in time order, for all N neurons at once: each neuron
    first emits its own spikes due before the input (a spike resets it), follows the
    flow to the input time and receives weight weights[i, input_sources[m]]. An input
    wins a tie with a spike, as in `simulate`. Inputs at or after T (e.g. +inf padding)
    are ignored, those before 0 arrive at 0; a last step flows every neuron to T.
    M + 1 steps on N neurons (`snnlib._layer_steps`: through the model's functions, or
    for theta neurons in the rotation form, without transcendental functions per step).

    Args:
        model: a neuron model (static).
        weights: (N, N_src) weights onto the layer from the input channels.
        input_times: (M,) input spike times, in any order; input_sources: (M,) channels.
        initial_state: (D, N) state at t = 0.
        duration: the trial length T.
        max_spikes: S, the spike budget per neuron (static); `exhausted` if it ran out.
        n_active: optional bound on the number of inputs before T (under `jax.vmap`, the
            maximum over the batch, not batched): the steps are grouped in chunks of
            chunk_size and chunks after the first n_active inputs are skipped.
    """
    weights = jnp.asarray(weights)
    initial_state = jnp.asarray(initial_state)
    dtype = initial_state.dtype
    input_times = jnp.asarray(input_times, dtype)
    n = initial_state.shape[-1]
    duration = jnp.asarray(duration, dtype)
    order = jnp.argsort(input_times)
    n_chunks = -(-input_times.shape[0] // chunk_size)
    padding = n_chunks * chunk_size - input_times.shape[0]
    arrival = jnp.concatenate(  # (n_chunks, chunk_size): sorted input times, padded with T
        [jnp.clip(input_times[order], 0.0, duration), jnp.full((padding,), duration)]
    ).reshape(n_chunks, chunk_size)
    delivered = jnp.concatenate(  # (n_chunks, chunk_size, N): weights of the inputs
        [weights[:, jnp.asarray(input_sources)[order]].T.astype(dtype),
         jnp.zeros((padding, n), dtype)]
    ).reshape(n_chunks, chunk_size, n)
    steps = layer_steps(model, duration, max_spikes)

    @jax.checkpoint  # recomputed in the backward pass: residuals only at chunk boundaries
    def run_chunk(carry, events):
        return jax.lax.scan(lambda c, e: (steps.step(c, e), None), carry, events)[0]

    def chunk_step(carry, indexed_events):
        index, events = indexed_events
        if n_active is None:
            return run_chunk(carry, events), None
        needed = index * chunk_size < n_active
        return jax.lax.cond(needed, run_chunk, lambda c, _: c, carry, events), None

    carry, _ = jax.lax.scan(chunk_step, steps.start(initial_state),
                            (jnp.arange(n_chunks), (arrival, delivered)))
    times, counts, final_state = steps.finish(
        steps.step(carry, (duration, jnp.zeros((n,), dtype))))
    return LayerSpikes(
        times=times,
        counts=counts,
        initial_state=initial_state,
        final_state=final_state,
        exhausted=jnp.any(counts > max_spikes),
    )


@partial(jax.jit, static_argnames=("model", "max_spikes"))
def simulate_feedforward(
    model: NeuronModel,
    weights: Sequence[ArrayLike],
    input_times: ArrayLike,
    input_neurons: ArrayLike,
    initial_states: Sequence[ArrayLike],
    duration: ArrayLike,
    max_spikes: int | tuple[int, ...],
) -> tuple[LayerSpikes, ...]:
    """Simulate one trial of a feed-forward network exactly, layer by layer.

    Layer l (l = 1..L) receives weights[l-1] (N_l, N_{l-1}) from the layer below; layer 1
    from the input channels (weights[0] is (N_1, N_in), like `simulate`'s weights_in).
    Each layer is simulated by `simulate_layer` on all spikes of the layer below (its
    N_{l-1} x S padded spike times). Same spike times and gradients as `simulate` on the
    equivalent recurrent network (`as_recurrent`). Batch trials with `jax.vmap`, or with
    `simulate_feedforward_batch`, which skips the steps no trial of the batch needs.

    Args:
        model: a neuron model (static), the same in every layer.
        weights: L weight matrices, [i, j] from neuron (or input channel) j onto neuron i.
        input_times: (M,) input spike times; input_neurons: (M,) their channels.
        initial_states: L states (D, N_l) at t = 0.
        duration: the trial length T.
        max_spikes: S, spike budget per neuron (static): one for all layers or one per layer.
    Returns:
        One `LayerSpikes` per layer; check budgets with `check_spike_budget`.
    """
    return _layers(model, weights, input_times, input_neurons, initial_states, duration,
                   max_spikes, batched=False)


@partial(jax.jit, static_argnames=("model", "max_spikes"))
def simulate_feedforward_batch(
    model: NeuronModel,
    weights: Sequence[ArrayLike],
    input_times: ArrayLike,
    input_neurons: ArrayLike,
    initial_states: Sequence[ArrayLike],
    duration: ArrayLike,
    max_spikes: int | tuple[int, ...],
) -> tuple[LayerSpikes, ...]:
    """`simulate_feedforward` for a batch of B trials; the results have a leading axis B.

    input_times are (B, M), input_neurons (B, M) or (M,). A weight matrix or initial state
    with one more (leading) axis than `simulate_feedforward` takes is per trial, else shared.
    Every layer skips the input steps after the last input before T of all trials
    (`simulate_layer`'s n_active), which the plain `jax.vmap` cannot.
    """
    return _layers(model, weights, input_times, input_neurons, initial_states, duration,
                   max_spikes, batched=True)


def _layers(model, weights, input_times, input_neurons, initial_states, duration,
            max_spikes, batched: bool) -> tuple[LayerSpikes, ...]:
    """Layer after layer: simulate one, pass its padded spike times to the next."""
    if len(weights) != len(initial_states):
        raise ValueError(
            f"simulate_feedforward: {len(weights)} weight matrices but {len(initial_states)} "
            "initial states (one of each per layer)"
        )
    budgets = _per_layer(max_spikes, len(weights))
    layers = []
    times = jnp.asarray(input_times)
    sources = jnp.broadcast_to(jnp.asarray(input_neurons), times.shape)
    for w, state, budget in zip(weights, initial_states, budgets, strict=True):
        w, state = jnp.asarray(w), jnp.asarray(state)
        if batched:
            n_active = jnp.max(jnp.sum(times < duration, axis=-1))
            run = partial(simulate_layer, model, max_spikes=budget, n_active=n_active)
            axes = (0 if w.ndim == 3 else None, 0, 0, 0 if state.ndim == 3 else None, None)
            layer = jax.vmap(run, axes)(w, times, sources, state, duration)
        else:
            layer = simulate_layer(model, w, times, sources, state, duration, budget)
        layers.append(layer)
        n = layer.times.shape[-2]
        times = layer.times.reshape(*layer.times.shape[:-2], -1)
        sources = jnp.broadcast_to(jnp.repeat(jnp.arange(n), budget), times.shape)
    return tuple(layers)


def _per_layer(max_spikes: int | tuple[int, ...], n_layers: int) -> tuple[int, ...]:
    budgets = (max_spikes,) * n_layers if isinstance(max_spikes, int) else tuple(max_spikes)
    if len(budgets) != n_layers or min(budgets) < 1:
        raise ValueError(
            f"max_spikes must be a positive int or one per layer ({n_layers}), got {max_spikes!r}"
        )
    return budgets


def check_spike_budget(layers: Sequence[LayerSpikes]) -> None:
    """Raise EventBudgetError if max_spikes ran out before T in any layer and trial.

    A Python-level check (not inside jit), the analogue of `check_event_budget`.
    """
    problems = []
    for index, layer in enumerate(layers, start=1):
        exhausted = np.asarray(layer.exhausted)
        if exhausted.any():
            trials = f" in {int(exhausted.sum())} of {exhausted.size} trials"
            problems.append(f"layer {index}{trials if exhausted.ndim else ''}")
    if problems:
        max_spikes = [layer.times.shape[-1] for layer in layers]
        raise EventBudgetError(
            f"max_spikes={max_spikes} (per neuron and layer) ran out before the trial end T in "
            f"{', '.join(problems)}: a neuron spiked more often; pass a larger max_spikes."
        )


def feedforward_pseudo_inputs(
    model: NeuronModel, weights: Sequence[ArrayLike], layers: Sequence[LayerSpikes]
) -> list[Array]:
    """Pseudo input of every layer: input_l = W_l r_{l-1} (paper, SPEC sections 2 and 3).

    The pseudo rates of the input channels are 0; a layer's pseudo rates are
    r_l = pseudo_rates(model, state_l(T), input_l) (for the theta neuron H(phi(T), input)/Theta),
    so the network below the output acts as a rate network. Returns one (N_l,) per layer.
    """
    rates = jnp.zeros(jnp.asarray(weights[0]).shape[1], layers[0].final_state.dtype)
    inputs = []
    for w, layer in zip(weights, layers, strict=True):
        inputs.append(jnp.asarray(w, rates.dtype) @ rates)
        rates = pseudo_rates(model, layer.final_state, inputs[-1])
    return inputs


def layer_output_times(
    model: NeuronModel, layer: LayerSpikes, duration: ArrayLike, n_spikes: int,
    pseudo_input: ArrayLike = 0.0,
) -> Array:
    """n_spikes spike times of every neuron of a layer, (N, n_spikes): the ordinary spikes
    first, then pseudospikes k = 1, 2, ... (as `output_spike_times` for `Events`)."""
    budget = layer.times.shape[-1]
    ordinary = layer.times[:, :n_spikes]
    if n_spikes > budget:
        ordinary = jnp.pad(ordinary, ((0, 0), (0, n_spikes - budget)), constant_values=jnp.inf)
    return merge_pseudospikes(model, ordinary, layer.final_state, duration, pseudo_input)


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

    A layer is exhausted if the event budget ran out or one of its neurons spiked more
    than its max_spikes times.
    """
    budgets = _per_layer(max_spikes, len(sizes))
    counts = spike_counts(events, sum(sizes))
    layers, start = [], 0
    for size, budget in zip(sizes, budgets, strict=True):
        ids = jnp.arange(start, start + size)
        layers.append(LayerSpikes(
            times=ordinary_spike_times(events, ids, budget),
            counts=counts[ids],
            initial_state=events.initial_state[:, ids],
            final_state=events.final_state[:, ids],
            exhausted=events.exhausted | jnp.any(counts[ids] > budget),
        ))
        start += size
    return tuple(layers)


@partial(jax.jit, static_argnames=("model", "max_spikes", "max_events"))
def simulate_feedforward_generic(
    model: NeuronModel,
    weights: Sequence[ArrayLike],
    input_times: ArrayLike,
    input_neurons: ArrayLike,
    initial_states: Sequence[ArrayLike],
    duration: ArrayLike,
    max_spikes: int | tuple[int, ...],
    max_events: int,
) -> tuple[LayerSpikes, ...]:
    """`simulate_feedforward` computed with the generic `simulate` (the reference).

    Simulates `as_recurrent(weights, initial_states)` with max_events events and splits
    the result into layers (`layers_from_events`).
    """
    weights_net, weights_in, initial_state = as_recurrent(weights, initial_states)
    events = simulate(model, weights_net, weights_in, input_times, input_neurons,
                      initial_state, duration, max_events)
    sizes = [jnp.asarray(w).shape[0] for w in weights]
    return layers_from_events(events, sizes, max_spikes)
