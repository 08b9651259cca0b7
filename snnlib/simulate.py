"""The exact event-based simulator for recurrent networks with external input spikes."""

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.typing import ArrayLike
from jaxtyping import Bool, Float, Int

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


def _shape_error(name: str, actual: tuple, expected: str, n: int, model: NeuronModel) -> ValueError:
    return ValueError(
        f"simulate: {name} has shape {actual}, expected {expected} "
        f"(N={n} neurons, state_dim={model.state_dim} for {type(model).__name__}; "
        "one trial per call, use jax.vmap for batches)"
    )


def _check_arguments(model, weights_net, weights_in, input_times, input_neurons,
                     initial_state, duration, max_events) -> None:
    """Raise ValueError (TypeError for a wrong model) naming the bad argument.

    Shapes and dtypes are always checked; values (channel indices, duration) where they
    are concrete. Under tracing, bad values are marked NaN instead (see `simulate`).
    """
    if not isinstance(model, NeuronModel):
        raise TypeError(f"simulate: model must be a snnlib NeuronModel (QIF(), Theta(), ...), "
                        f"got {type(model).__name__}")
    if isinstance(max_events, bool) or not isinstance(max_events, (int, np.integer)) \
            or max_events < 1:
        raise ValueError(f"simulate: max_events must be a positive integer (the event budget K), "
                         f"got {max_events!r}")
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
        raise ValueError("simulate: weights_net has shape (0, 0): the network needs at least "
                         "one neuron (N >= 1)")
    if not jnp.issubdtype(input_neurons.dtype, jnp.integer):
        raise ValueError(f"simulate: input_neurons must be integers, got {input_neurons.dtype}")
    if not jnp.issubdtype(initial_state.dtype, jnp.floating):
        raise ValueError(
            f"simulate: initial_state must be a floating-point array (its dtype is the dtype "
            f"of the simulation), got {initial_state.dtype}; pass e.g. "
            "jnp.asarray(state, jnp.float64) or model.rest_state(n)")
    model.check_dtype(initial_state.dtype)
    if jnp.ndim(duration) != 0:
        raise ValueError(f"simulate: duration must be a scalar (the trial length T), got shape "
                         f"{jnp.shape(duration)}; one trial per call, use jax.vmap for batches")
    if is_concrete(duration):
        value = float(duration)
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"simulate: duration must be a finite number >= 0, got {value}")
    if is_concrete(input_neurons) and m > 0:
        channels = np.asarray(input_neurons)
        bad = channels[(channels < 0) | (channels >= n_in)]
        if bad.size:
            raise ValueError(
                f"simulate: input_neurons holds channel {int(bad[0])}, but weights_in has "
                f"{n_in} input channels (shape {tuple(weights_in.shape)}): channels must lie "
                f"in 0..{n_in - 1}")


def _input_columns(weights: Float[Array, "N C"], channels: Int[Array, " M"], dtype
                   ) -> tuple[Float[Array, "M N"], Bool[Array, " M"]]:
    """The weights of each input onto the N neurons, (M, N), and which channels are valid;
    a channel outside 0..C-1 gets NaN weights."""
    valid = (channels >= 0) & (channels < weights.shape[1])
    columns = weights[:, jnp.where(valid, channels, 0)].T.astype(dtype)
    return _mark_nan(columns, ~valid[:, None]), valid


def _mark_nan(values: Array, unknown: Bool[Array, "..."]) -> Array:
    """values with NaN where `unknown` (broadcast over the trailing axes).

    An addition of a constant 0 or NaN, so that where nothing is unknown the values and
    their gradients are exactly those of the unmarked computation (bit for bit).
    """
    return values + jax.lax.stop_gradient(jnp.where(unknown, jnp.nan, 0.0).astype(values.dtype))


def _reached(poisoned: Bool[Array, " N"], weights_net: Float[Array, "N N"]) -> Bool[Array, " N"]:
    """Neurons reachable from `poisoned` through nonzero (or NaN) recurrent weights."""
    connected = (weights_net != 0).astype(jnp.int32)

    def grow(carry):
        reached, _ = carry
        grown = reached | ((connected @ reached.astype(jnp.int32)) > 0)
        return grown, jnp.any(grown != reached)

    return jax.lax.while_loop(lambda carry: carry[1], grow, (poisoned, jnp.array(True)))[0]


@partial(jax.jit, static_argnames=("model", "max_events"))
def _simulate(model, weights_net, weights_in, input_times, input_neurons, initial_state,
              duration, max_events) -> Events:
    """The event loop of `simulate` (arguments checked)."""
    n, n_in = weights_in.shape
    dtype = initial_state.dtype
    inf = jnp.array(jnp.inf, dtype)
    duration = jnp.asarray(duration, dtype)
    duration = jnp.where(duration >= 0, duration, jnp.nan)  # traced bad T: NaN results

    # NaN policy: a channel index out of range acts as a channel of NaN weights; a neuron
    # with NaN in its initial state, its weights or the time of an input it receives is
    # NaN from t = 0, and so is every neuron it reaches through nonzero weights
    columns, valid = _input_columns(weights_in, input_neurons, dtype)
    unknown_time = jnp.isnan(input_times)
    counted = ~(input_times > duration)  # inputs after T are ignored
    poisoned = (
        jnp.any(jnp.isnan(initial_state), axis=0)
        | jnp.any(unknown_time[:, None] & (columns != 0), axis=0)
        | jnp.any(counted[:, None] & jnp.isnan(columns), axis=0)
        | jnp.any(jnp.isnan(weights_net), axis=1)
    )
    initial_state = _mark_nan(initial_state, _reached(poisoned, weights_net))

    order = jnp.argsort(input_times)  # NaN times last: never delivered (is_input is False)
    arrival = jnp.concatenate([jnp.maximum(input_times[order], 0.0).astype(dtype), inf[None]])
    channel = jnp.concatenate([input_neurons[order], jnp.array([-1])])
    delivered = jnp.concatenate([_input_columns(weights_in, input_neurons[order], dtype)[0],
                                 jnp.zeros((1, n), dtype)])
    weights_net = weights_net.astype(dtype)
    neuron_ids = jnp.arange(n)

    def next_event(t, state, pointer):
        to_spike = model.time_to_next_spike(state)
        to_spike = jnp.where(jnp.isnan(to_spike), jnp.inf, to_spike)  # NaN neurons never fire
        spiker = jnp.argmin(to_spike)
        is_input = arrival[pointer] <= t + to_spike[spiker]
        dt = jnp.where(is_input, arrival[pointer] - t, to_spike[spiker])
        t_next = jnp.where(is_input, arrival[pointer], t + to_spike[spiker])
        return t_next, dt, is_input, spiker

    def step(carry, _):
        t, state, pointer = carry
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
        )
        record = (
            jnp.where(active, t_next, inf),
            jnp.where(active, jnp.where(is_input, channel[pointer], spiker), -1),
            active & is_input,
            new_state,
            active,
        )
        return new_carry, record

    start = (jnp.zeros((), dtype), initial_state, jnp.zeros((), jnp.int32))
    (t_last, last_state, pointer), (times, neuron, is_input, states, active) = jax.lax.scan(
        step, start, None, length=max_events
    )
    exhausted = next_event(t_last, last_state, pointer)[0] < duration
    final_state = model.flow(last_state, duration - t_last)
    return Events(
        times=times,
        neuron=neuron,
        is_input=is_input,
        states=states,
        initial_state=initial_state,
        final_state=final_state,
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

    Bad input: wrong shapes or dtypes, N = 0, a non-positive or non-integer max_events,
    a negative or non-scalar duration and channels outside 0..N_in-1 raise ValueError
    naming the argument. Under tracing, values cannot be checked: a negative duration
    gives NaN results and an out-of-range channel acts as a channel with NaN weights.
    NaN propagates: a neuron with NaN in its initial state, in a weight onto it, or in
    the time of an input spike it receives (nonzero weight) has a NaN state from t = 0 and
    never spikes; so does every neuron it reaches through nonzero recurrent weights. The
    readouts (`output_spike_times`, ...) give NaN for those neurons; the other neurons
    do not depend on them and keep their values (up to rounding: events of the NaN
    neurons no longer split their flow).
    """
    weights_net, weights_in, input_times, input_neurons, initial_state = (
        jnp.asarray(a) for a in (weights_net, weights_in, input_times, input_neurons,
                                 initial_state))
    _check_arguments(model, weights_net, weights_in, input_times, input_neurons,
                     initial_state, duration, max_events)
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
            "larger max_events")
    raise_if_exhausted(events.exhausted, f"max_events={max_events}", advice)


def check_event_budget(events: Events) -> None:
    """Raise EventBudgetError if max_events ran out before T in any trial of `events`.

    For results of traced (e.g. `jax.vmap`-batched) simulations, checked afterwards in
    Python; a plain `simulate` call raises by itself (throw=True).
    """
    max_events = events.times.shape[-1]
    raise_if_exhausted(events.exhausted, f"max_events={max_events}",
                       "the simulation needs more events; pass a larger max_events")


def state_trace(model: NeuronModel, events: Events, grid: Float[ArrayLike, " G"]
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
