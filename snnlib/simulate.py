"""The exact event-based simulator for recurrent networks with external input spikes."""

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.typing import ArrayLike

from .neurons import NeuronModel


class Events(NamedTuple):
    """Result of `simulate` for one trial (leading batch axes under `jax.vmap`).

    K = max_events, D = model.state_dim, N = number of neurons.
    """

    times: Array  # (K,) event times in [0, T), ascending; +inf after the last event
    neuron: Array  # (K,) network neuron that spiked, or input channel if is_input; -1 unused
    is_input: Array  # (K,) True for an external input spike
    states: Array  # (K, D, N) network state right after each event
    initial_state: Array  # (D, N) state at t = 0
    final_state: Array  # (D, N) state at t = T
    duration: Array  # () the trial length T
    n_events: Array  # () number of events before T that were simulated
    exhausted: Array  # () True if max_events ran out before T (then final_state is wrong)


class EventBudgetError(ValueError):
    """The event budget max_events ran out before the trial end T."""


def _check_shapes(model, weights_net, weights_in, input_times, input_neurons, initial_state):
    """Raise ValueError naming the argument, its shape and the expected shape."""
    n = weights_net.shape[0] if weights_net.ndim == 2 else -1
    n_in = weights_in.shape[1] if weights_in.ndim == 2 else -1
    m = input_times.shape[0] if input_times.ndim == 1 else -1
    expected = {
        "weights_net": (weights_net.shape, (n, n)),
        "weights_in": (weights_in.shape, (n, n_in)),
        "input_times": (input_times.shape, (m,)),
        "input_neurons": (input_neurons.shape, (m,)),
        "initial_state": (initial_state.shape, (model.state_dim, n)),
    }
    for name, (actual, want) in expected.items():
        if -1 in want or tuple(actual) != want:
            shown = "(N, N)" if name == "weights_net" else str(want).replace("-1", "?")
            raise ValueError(
                f"simulate: {name} has shape {tuple(actual)}, expected {shown} "
                f"(N={n} neurons, state_dim={model.state_dim} for {type(model).__name__}; "
                "one trial per call, use jax.vmap for batches)"
            )
    if not jnp.issubdtype(input_neurons.dtype, jnp.integer):
        raise ValueError(f"simulate: input_neurons must be integers, got {input_neurons.dtype}")


@partial(jax.jit, static_argnames=("model", "max_events"))
def simulate(
    model: NeuronModel,
    weights_net: ArrayLike,
    weights_in: ArrayLike,
    input_times: ArrayLike,
    input_neurons: ArrayLike,
    initial_state: ArrayLike,
    duration: ArrayLike,
    max_events: int,
) -> Events:
    """Simulate one trial of a recurrent network exactly, event by event (SPEC section 5).

    Between events every neuron follows the model's closed-form flow; at an event (the
    next input spike or the next network spike, whichever comes first) the spiking neuron
    is reset and every neuron i receives weights_net[i, j] from network neuron j, or
    weights_in[i, c] from input channel c. Input spikes at times > T (e.g. +inf padding)
    are ignored, those before 0 arrive at 0. Differentiable in all array arguments;
    jit-compiled (model and max_events static); batch trials with `jax.vmap`.

    Args:
        model: a neuron model (QIF, LIF, Theta, OscLIF).
        weights_net: (N, N) recurrent weights, [i, j] from neuron j onto neuron i.
        weights_in: (N, N_in) input weights, [i, c] from input channel c onto neuron i.
        input_times: (M,) input spike times; input_neurons: (M,) their channels.
        initial_state: (D, N) state at t = 0.
        duration: the trial length T.
        max_events: K, the event budget; `Events.exhausted` says if it ran out before T.
    """
    weights_net = jnp.asarray(weights_net)
    weights_in = jnp.asarray(weights_in)
    input_times = jnp.asarray(input_times)
    input_neurons = jnp.asarray(input_neurons)
    initial_state = jnp.asarray(initial_state)
    _check_shapes(model, weights_net, weights_in, input_times, input_neurons, initial_state)
    n = weights_net.shape[0]
    dtype = initial_state.dtype
    inf = jnp.array(jnp.inf, dtype)

    order = jnp.argsort(input_times)
    arrival = jnp.concatenate([jnp.maximum(input_times[order], 0.0).astype(dtype), inf[None]])
    channel = jnp.concatenate([input_neurons[order], jnp.array([-1])])
    delivered = jnp.concatenate(
        [weights_in[:, input_neurons[order]].T.astype(dtype), jnp.zeros((1, n), dtype)]
    )
    weights_net = weights_net.astype(dtype)
    duration = jnp.asarray(duration, dtype)
    neuron_ids = jnp.arange(n)

    def next_event(t, state, pointer):
        to_spike = model.time_to_next_spike(state)
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


def check_event_budget(events: Events, events_needed: int | None = None) -> None:
    """Raise EventBudgetError if max_events ran out before T in any trial of `events`.

    A Python-level check (not inside jit). `events_needed`, if known (see
    `simulate_checked`), is named in the message.
    """
    exhausted = np.asarray(events.exhausted)
    if not exhausted.any():
        return
    max_events = events.times.shape[-1]
    if events_needed is not None:
        need = f"needs {events_needed} events; pass max_events >= {events_needed}"
    else:
        need = f"needs more than {max_events} events; pass a larger max_events"
    where = f" in {int(exhausted.sum())} of {exhausted.size} trials" if exhausted.ndim else ""
    raise EventBudgetError(
        f"max_events={max_events} ran out before the trial end T{where}: the simulation {need}."
    )


def simulate_checked(model: NeuronModel, *args: ArrayLike, max_events: int) -> Events:
    """`simulate` for one trial, raising EventBudgetError with the number of events needed.

    On an exhausted budget the trial is re-simulated with doubled budgets until it fits,
    so that the message can name the exact number of events the trial needs.
    """
    events = simulate(model, *args, max_events=max_events)
    longer, budget = events, max_events
    while bool(longer.exhausted) and budget < 2**20:
        budget *= 2
        longer = simulate(model, *args, max_events=budget)
    check_event_budget(events, events_needed=int(longer.n_events))
    return events


def state_trace(model: NeuronModel, events: Events, grid: ArrayLike) -> Array:
    """States on a time grid, (G, D, N), from the events of one trial (for plots).

    The state at time g is the state after the last event at or before g, flowed to g.
    Grid times should lie in [0, T].
    """
    grid = jnp.asarray(grid, events.times.dtype)
    last = jnp.searchsorted(events.times, grid, side="right") - 1
    has_event = last >= 0
    base = jnp.where(
        has_event[:, None, None], events.states[jnp.maximum(last, 0)], events.initial_state
    )
    since = grid - jnp.where(has_event, events.times[jnp.maximum(last, 0)], 0.0)
    flowed = model.flow(jnp.moveaxis(base, 1, 0), since[:, None])
    return jnp.moveaxis(flowed, 0, 1)
