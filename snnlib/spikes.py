"""Output spike times: ordinary spikes first, then pseudospikes (SPEC section 2)."""

import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from .neurons import NeuronModel
from .simulate import Events


def ordinary_spike_times(events: Events, neurons: ArrayLike, n_spikes: int) -> Array:
    """The first n_spikes network spike times of each neuron, (len(neurons), n_spikes).

    +inf where a neuron spiked fewer times. One trial; `jax.vmap` over trials.
    """
    neurons = jnp.atleast_1d(jnp.asarray(neurons))
    fired = (~events.is_input)[None, :] & (events.neuron[None, :] == neurons[:, None])
    rank = jnp.cumsum(fired, axis=-1)
    nth = jnp.arange(1, n_spikes + 1)
    selected = fired[:, None, :] & (rank[:, None, :] == nth[None, :, None])
    times = jnp.sum(jnp.where(selected, events.times, 0.0), axis=-1)
    return jnp.where(jnp.any(selected, axis=-1), times, jnp.inf)


def spike_counts(events: Events, n_neurons: int) -> Array:
    """Number of ordinary spikes of each network neuron before T, shape (n_neurons,)."""
    fired = (~events.is_input)[None, :] & (events.neuron[None, :] == jnp.arange(n_neurons)[:, None])
    return jnp.sum(fired, axis=-1)


def pseudo_rates(model: NeuronModel, state: ArrayLike, pseudo_input: ArrayLike = 0.0) -> Array:
    """Pseudo rate r = phi_pseudo / Theta_pseudo of neurons in `state` (D, ...) at T."""
    phase, period = model.pseudo_phase_and_period(jnp.asarray(state), pseudo_input)
    return phase / period


def pseudospike_times(
    model: NeuronModel, state: ArrayLike, duration: ArrayLike, n_spikes: int,
    pseudo_input: ArrayLike = 0.0,
) -> Array:
    """t_pseudo(k) = T + k Theta_pseudo - phi_pseudo for k = 1..n_spikes, shape (..., n_spikes)."""
    phase, period = model.pseudo_phase_and_period(jnp.asarray(state), pseudo_input)
    k = jnp.arange(1, n_spikes + 1)
    return duration + k * period[..., None] - phase[..., None]


def merge_pseudospikes(
    model: NeuronModel, ordinary: Array, final_state: Array, duration: ArrayLike,
    pseudo_input: ArrayLike = 0.0,
) -> Array:
    """Fill the missing spikes of each row of `ordinary` (S, n), +inf padded, with the
    neuron's pseudospikes k = 1, 2, ...; final_state (D, S) is the neurons' state at T."""
    if not model.has_pseudodynamics:
        return ordinary
    n_spikes = ordinary.shape[-1]
    is_ordinary = jnp.isfinite(ordinary)
    count = jnp.sum(is_ordinary, axis=-1, keepdims=True)
    pseudo_input = jnp.broadcast_to(jnp.asarray(pseudo_input, ordinary.dtype),
                                    ordinary.shape[:1])
    pseudo = pseudospike_times(model, final_state, duration, n_spikes, pseudo_input)
    # the j-th spike is the (j - count)-th pseudospike: shift the pseudospike row by count
    k_index = jnp.clip(jnp.arange(n_spikes)[None, :] - count, 0, n_spikes - 1)
    return jnp.where(is_ordinary, ordinary, jnp.take_along_axis(pseudo, k_index, axis=-1))


def output_spike_times(
    model: NeuronModel,
    events: Events,
    neurons: ArrayLike,
    n_spikes: int,
    pseudo_input: ArrayLike = 0.0,
) -> Array:
    """n_spikes spike times of each chosen neuron, (len(neurons), n_spikes).

    The neuron's K_out ordinary spikes come first; spikes K_out + 1 .. n_spikes are its
    pseudospikes k = 1 .. n_spikes - K_out, so all times are finite and continuous in the
    parameters (a spike leaving the trial at T re-enters as a pseudospike at T).
    `pseudo_input` (scalar or per chosen neuron) is sum_j w_ij r_j of SPEC section 2.
    Models without pseudodynamics (LIF) give +inf for missing spikes.
    """
    neurons = jnp.atleast_1d(jnp.asarray(neurons))
    ordinary = ordinary_spike_times(events, neurons, n_spikes)
    return merge_pseudospikes(model, ordinary, events.final_state[:, neurons], events.duration,
                              pseudo_input)


def first_spike_times(
    model: NeuronModel, events: Events, neurons: ArrayLike, pseudo_input: ArrayLike = 0.0
) -> Array:
    """First spike time (ordinary, else the first pseudospike) of each chosen neuron."""
    return output_spike_times(model, events, neurons, 1, pseudo_input)[:, 0]
