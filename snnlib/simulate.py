"""The exact event-based simulator for recurrent networks with external input spikes."""

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike
from jaxtyping import Bool, Float, Int

from . import _checks as checks
from .budget import EventBudgetError, is_concrete, raise_if_exhausted
from .neurons import NeuronModel

__all__ = ["EventBudgetError", "Events", "check_event_budget", "simulate", "state_trace"]

_BUDGET_SEARCH_DOUBLINGS = 6  # on an exhausted budget, try up to 64 x max_events


class Events(NamedTuple):
    """Result of `simulate` for one trial (leading batch axes under `jax.vmap`).

    K = max_events, D = model.state_dim, N = number of neurons.
    """

    times: Float[Array, " K"]  # event times in [0, T), ascending; +inf after the last event
    neuron: Int[Array, " K"]  # network neuron that spiked, or input channel if is_input; -1
    is_input: Bool[Array, " K"]  # True for an external input spike
    states: Float[Array, "K D N"]  # network state right after each event
    initial_state: Float[Array, "D N"]  # state at t = 0
    final_state: Float[Array, "D N"]  # state at t = T
    duration: Float[Array, ""]  # the trial length T
    n_events: Int[Array, ""]  # number of events before T that were simulated
    exhausted: Bool[Array, ""]  # True if max_events ran out before T (final_state is wrong)


_CALLER = "simulate"
_CHUNK = 16  # event steps per chunk; chunks after the trial end are skipped


def _shape_error(name: str, actual: tuple, expected: str, n: int, model: NeuronModel) -> ValueError:
    return ValueError(
        f"simulate: {name} has shape {actual}, expected {expected} "
        f"(N={n} neurons, state_dim={model.state_dim} for {type(model).__name__}; "
        "one trial per call, use jax.vmap for batches)"
    )


def _check_arguments(
    model, weights_net, weights_in, input_times, input_neurons, initial_state, duration, max_events
) -> None:
    """Raise ValueError (TypeError for a wrong model) naming the bad argument
    (`snnlib._checks`: shapes and dtypes always, values where concrete)."""
    checks.check_model(_CALLER, model)
    checks.check_budget(_CALLER, "max_events", max_events, "the event budget K")
    n = weights_net.shape[0] if weights_net.ndim == 2 else -1
    n_in = weights_in.shape[1] if weights_in.ndim == 2 else -1
    m = input_times.shape[0] if input_times.ndim == 1 else -1
    expected = {
        "weights_net": (weights_net.shape, (n, n), "(N, N)"),
        "weights_in": (weights_in.shape, (n, n_in), f"({n}, N_in)"),
        "input_times": (input_times.shape, (m,), "(M,)"),
        "input_neurons": (input_neurons.shape, (m,), f"({m},) like input_times"),
        "initial_state": (initial_state.shape, (model.state_dim, n), f"({model.state_dim}, {n})"),
    }
    for name, (actual, want, shown) in expected.items():
        if -1 in want or tuple(actual) != want:
            raise _shape_error(name, tuple(actual), shown, n, model)
    if n == 0:
        raise ValueError(
            "simulate: weights_net has shape (0, 0): the network needs at least one neuron (N >= 1)"
        )
    for name, value in (
        ("weights_net", weights_net),
        ("weights_in", weights_in),
        ("input_times", input_times),
    ):
        checks.check_real(_CALLER, name, value)
    checks.check_integer(_CALLER, "input_neurons", input_neurons)
    checks.check_initial_state(_CALLER, "initial_state", model, initial_state)
    checks.check_duration(_CALLER, duration)
    checks.check_channels(_CALLER, input_neurons, n_in, "weights_in", weights_in.shape)


def _run_in_chunks(step, carry, length: int):
    """`jax.lax.scan(step, carry, None, length)`, with the steps grouped in chunks of
    `_CHUNK`: a chunk that starts after the trial ended (carry[-1], the last step was
    idle) is skipped, and its records are those its idle steps would have written (no
    time, no neuron, the unchanged state): the same values, bit for bit, for the cost
    of the events that happen (plus at most one chunk). The step comes rematerialised
    (`jax.checkpoint` in `_simulate`): the backward pass keeps only each step's carry and
    recomputes the step, instead of keeping its ~90 intermediate arrays, whose writes
    cost more than the recomputation (bench/bench_recurrent.py). (Rematerialising whole
    chunks instead was not faster over a training trial.)"""
    record_shapes = jax.eval_shape(step, carry, None)[1]

    def chunk(carry, size):
        def idle(carry):
            state = carry[1]
            times, neuron, is_input, states, active = record_shapes
            records = (
                jnp.full((size,), jnp.inf, times.dtype),
                jnp.full((size,), -1, neuron.dtype),
                jnp.zeros((size,), is_input.dtype),
                jnp.broadcast_to(state, (size, *state.shape)),
                jnp.zeros((size,), active.dtype),
            )
            return carry, records

        return jax.lax.cond(
            carry[-1], idle, lambda carry: jax.lax.scan(step, carry, None, length=size), carry
        )

    n_chunks, rest = divmod(length, _CHUNK)
    carry, records = jax.lax.scan(
        lambda carry, _: chunk(carry, _CHUNK), carry, None, length=n_chunks
    )
    records = jax.tree.map(lambda r: r.reshape(-1, *r.shape[2:]), records)
    if rest:
        carry, tail = chunk(carry, rest)
        records = jax.tree.map(lambda a, b: jnp.concatenate([a, b]), records, tail)
    return carry, records


@partial(jax.jit, static_argnames=("model", "max_events"))
def _simulate(
    model, weights_net, weights_in, input_times, input_neurons, initial_state, duration, max_events
) -> Events:
    """The event loop of `simulate` (arguments checked)."""
    n, n_in = weights_in.shape
    dtype = initial_state.dtype
    inf = jnp.array(jnp.inf, dtype)
    duration = jnp.asarray(duration, dtype)
    duration = jnp.where(duration >= 0, duration, jnp.nan)  # traced bad T: NaN results
    initial_state = model.canonical_state(initial_state)
    weights_net = weights_net.astype(dtype)

    # NaN policy (`snnlib._checks`): a channel index out of range acts as a channel of NaN
    # weights; a poisoned neuron and every neuron it reaches through nonzero weights is
    # NaN from t = 0. Inside the loop it runs as a stand-in (rest state, no input, never
    # spiking), and its records are marked NaN afterwards: no NaN reaches the others'
    # values or gradients
    # the weights of inputs at unknown (NaN) times have unknown effects: NaN gradients
    weights_in = checks.unknown_gradient(
        weights_in,
        checks.channels_at_unknown_times(weights_in.shape[1], input_times, input_neurons),
    )
    columns = checks.input_columns(weights_in, input_neurons, dtype)
    poisoned = checks.poisoned_by_inputs(initial_state, input_times, columns, duration) | jnp.any(
        jnp.isnan(weights_net), axis=1
    )
    unknown = checks.reached(poisoned, weights_net)
    marked_initial_state = checks.cut_nan(initial_state, unknown)
    initial_state = checks.stand_in(initial_state, unknown, model.rest_state(n, dtype))
    weights_net = checks.stand_in(weights_net, unknown[:, None], 0.0)

    order = jnp.argsort(input_times)  # NaN times last: never delivered (is_input is False)
    arrival = jnp.concatenate([jnp.maximum(input_times[order], 0.0).astype(dtype), inf[None]])
    channel = jnp.concatenate([input_neurons[order], jnp.array([-1])])
    delivered = jnp.concatenate(
        [
            checks.stand_in(
                checks.input_columns(weights_in, input_neurons[order], dtype), unknown[None, :], 0.0
            ),
            jnp.zeros((1, n), dtype),
        ]
    )
    neuron_ids = jnp.arange(n)

    def next_event(t, state, pointer):
        to_spike = model.time_to_next_spike(state)
        # NaN neurons (and the stand-ins of unknown ones) never fire
        to_spike = jnp.where(jnp.isnan(to_spike) | unknown, jnp.inf, to_spike)
        spiker = jnp.argmin(to_spike)
        is_input = arrival[pointer] <= t + to_spike[spiker]
        dt = jnp.where(is_input, arrival[pointer] - t, to_spike[spiker])
        t_next = jnp.where(is_input, arrival[pointer], t + to_spike[spiker])
        return t_next, dt, is_input, spiker

    def step(carry, _):
        t, state, pointer, _ = carry
        t_next, dt, is_input, spiker = next_event(t, state, pointer)
        active = t_next < duration
        moved = model.flow(state, jnp.where(active, dt, 0.0))
        is_spiker = (~is_input) & (neuron_ids == spiker)
        moved = jnp.where(is_spiker, model.reset(moved), moved)
        weight = jnp.where(is_input, delivered[pointer], weights_net[:, spiker])
        new_state = jnp.where(active, model.receive(moved, weight), state)
        new_carry = (
            jnp.where(active, t_next, t),
            new_state,
            pointer + (active & is_input).astype(pointer.dtype),
            ~active,
        )
        record = (
            jnp.where(active, t_next, inf),
            jnp.where(active, jnp.where(is_input, channel[pointer], spiker), -1),
            active & is_input,
            new_state,
            active,
        )
        return new_carry, record

    start = (jnp.zeros((), dtype), initial_state, jnp.zeros((), jnp.int32), jnp.array(False))
    (t_last, last_state, pointer, _), (times, neuron, is_input, states, active) = _run_in_chunks(
        jax.checkpoint(step), start, max_events
    )
    exhausted = next_event(t_last, last_state, pointer)[0] < duration
    final_state = model.flow(last_state, duration - t_last)
    return Events(
        times=times,
        neuron=neuron,
        is_input=is_input,
        states=checks.cut_nan(states, unknown),
        initial_state=marked_initial_state,
        final_state=checks.cut_nan(final_state, unknown),
        duration=duration,
        n_events=jnp.sum(active),
        exhausted=exhausted,
    )


def simulate(
    model: NeuronModel,
    weights_net: Float[ArrayLike, "N N"],
    weights_in: Float[ArrayLike, "N N_in"],
    input_times: Float[ArrayLike, " M"],
    input_neurons: Int[ArrayLike, " M"],
    initial_state: Float[ArrayLike, "D N"],
    duration: Float[ArrayLike, ""],
    max_events: int,
    throw: bool = True,
) -> Events:
    """Simulate one trial of a recurrent network exactly, event by event.

    book/theory.md, "Closed-form flow" and "Time to the next spike": between events every
    neuron follows the model's closed-form flow; at an event (the next input spike or the
    next network spike, whichever comes first) the spiking neuron is reset and every
    neuron i receives weights_net[i, j] from network neuron j, or weights_in[i, c] from
    input channel c. Input spikes at times > T (e.g. +inf padding) are ignored, those
    before 0 arrive at 0. Differentiable in all array arguments; compiled with `jax.jit`
    (model and max_events static); batch trials with `jax.vmap`.

    Args:
        model: a neuron model (QIF, LIF, Theta, OscLIF).
        weights_net: (N, N) recurrent weights, [i, j] from neuron j onto neuron i.
        weights_in: (N, N_in) input weights, [i, c] from input channel c onto neuron i.
        input_times: (M,) input spike times; input_neurons: (M,) their channels.
        initial_state: (D, N) floating state at t = 0; its dtype is the simulation's.
        duration: the trial length T >= 0, a scalar.
        max_events: K >= 1, the event budget.
        throw: the budget policy (`snnlib.budget`). True: with concrete arguments, raise
            EventBudgetError if the K events ran out before T, naming the number of
            events the trial needs (found by re-simulating with up to 64 K events) or
            saying that the search stopped there. Inside jit/vmap/grad tracing, and with
            throw=False, `Events.exhausted` carries the flag instead.

    Bad input (`snnlib._checks`): wrong shapes or dtypes (complex ones included), N = 0,
    a non-positive or non-integer max_events, a negative or non-scalar duration,
    channels outside 0..N_in-1 and initial states the model cannot start from
    (`NeuronModel.state_problem`: a theta phase outside [0, Theta], an infinite entry;
    QIF's V = -inf is the state right after a spike and valid, V = +inf is not) raise
    ValueError naming the argument. Under tracing, values cannot be checked: a negative
    duration gives NaN results, an out-of-range channel acts as a channel with NaN
    weights, and an invalid initial state is NaN (`NeuronModel.canonical_state`).
    NaN propagates: a neuron with NaN in its initial state, in a weight onto it, or in
    the time of an input spike it receives (nonzero weight) has a NaN state from t = 0 and
    never spikes; so does every neuron it reaches through nonzero recurrent weights. The
    readouts (`output_spike_times`, ...) give NaN for those neurons; the other neurons
    do not depend on them and keep their values (up to rounding: events of the NaN
    neurons no longer split their flow) and their finite gradients (the NaN neurons run
    as harmless stand-ins and are marked NaN afterwards). The gradient with respect to
    the weights of a channel with an input at a NaN time is NaN (their effect depends on
    that time).

    Cost: the K event steps run in chunks of 16; chunks after the trial end are skipped
    (outside `jax.vmap`), so a trial costs the events that happen, not K.
    """
    weights_net, weights_in, input_times, input_neurons, initial_state = (
        jnp.asarray(a) for a in (weights_net, weights_in, input_times, input_neurons, initial_state)
    )
    _check_arguments(
        model,
        weights_net,
        weights_in,
        input_times,
        input_neurons,
        initial_state,
        duration,
        max_events,
    )
    args = (weights_net, weights_in, input_times, input_neurons, initial_state, duration)
    events = _simulate(model, *args, int(max_events))
    if throw and is_concrete(events):
        _raise_if_exhausted(model, args, events, int(max_events))
    return events


def _raise_if_exhausted(model: NeuronModel, args: tuple, events: Events, max_events: int) -> None:
    """EventBudgetError naming the events the trial needs (or where the search stopped)."""
    if not bool(events.exhausted):
        return
    budget = max_events
    for _ in range(_BUDGET_SEARCH_DOUBLINGS):
        budget *= 2
        longer = _simulate(model, *args, budget)
        if not bool(longer.exhausted):
            needed = int(longer.n_events)
            advice = f"the trial needs {needed} events; pass max_events >= {needed}"
            break
    else:
        advice = (
            f"the search for the number of events needed stopped at its cap of {budget} "
            f"events (at t = {float(longer.times[-1]):.6g} of T = {float(events.duration):.6g}): "
            "the network spikes without bound (a runaway network, e.g. an infinite weight "
            "or neurons exciting each other at one time); check the weights, or pass a much "
            "larger max_events"
        )
    raise_if_exhausted(events.exhausted, f"max_events={max_events}", advice)


def check_event_budget(events: Events) -> None:
    """Raise EventBudgetError if max_events ran out before T in any trial of `events`.

    For results of traced (e.g. `jax.vmap`-batched) simulations, checked afterwards in
    Python; a plain `simulate` call raises by itself (throw=True).
    """
    max_events = events.times.shape[-1]
    raise_if_exhausted(
        events.exhausted,
        f"max_events={max_events}",
        "the simulation needs more events; pass a larger max_events",
    )


def state_trace(
    model: NeuronModel, events: Events, grid: Float[ArrayLike, " G"]
) -> Float[Array, "G D N"]:
    """States on a time grid, (G, D, N), from the events of one trial (for plots).

    The state at time g is the state after the last event at or before g, flowed to g.
    Grid times outside [0, T], and on an exhausted trial those after the last simulated
    event (unknown), give NaN.
    """
    grid = jnp.asarray(grid, events.times.dtype)
    last = jnp.searchsorted(events.times, grid, side="right") - 1
    has_event = last >= 0
    base = jnp.where(
        has_event[:, None, None], events.states[jnp.maximum(last, 0)], events.initial_state
    )
    since = grid - jnp.where(has_event, events.times[jnp.maximum(last, 0)], 0.0)
    flowed = jnp.moveaxis(model.flow(jnp.moveaxis(base, 1, 0), since[:, None]), 0, 1)
    unknown = (grid < 0) | (grid > events.duration) | (events.exhausted & (grid > events.times[-1]))
    return jnp.where(unknown[:, None, None], jnp.nan, flowed)
