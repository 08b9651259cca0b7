"""Output spike times: ordinary spikes first, then pseudospikes.

book/theory.md, "Pseudodynamics and pseudospikes". Readouts never turn a bad trial into
plausible numbers: on a trial whose event budget ran out, the spike times the simulation
did not reach are NaN, and so are all spike times of a neuron whose state is NaN (the
NaN policy of `simulate`).
"""

import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.typing import ArrayLike
from jaxtyping import Float, Int

from ._checks import mark_nan
from .budget import is_concrete
from .neurons import NeuronModel, PseudodynamicsModel
from .simulate import Events

__all__ = [
    "first_spike_times",
    "merge_pseudospikes",
    "ordinary_spike_times",
    "output_spike_times",
    "pseudo_rates",
    "pseudospike_times",
    "spike_counts",
]


def _neuron_indices(neurons: ArrayLike, n: int, caller: str) -> Int[Array, " S"]:
    """The chosen neurons as a 1-D integer array; ValueError if a concrete index is outside
    0..n-1 (under tracing an out-of-range index gives NaN spike times)."""
    neurons = jnp.atleast_1d(jnp.asarray(neurons))
    if neurons.ndim != 1 or not jnp.issubdtype(neurons.dtype, jnp.integer):
        raise ValueError(
            f"{caller}: neurons must be integer indices (a list or 1-D array), "
            f"got dtype {neurons.dtype} and shape {neurons.shape}"
        )
    if is_concrete(neurons):
        values = np.asarray(neurons)
        bad = values[(values < 0) | (values >= n)]
        if bad.size:
            raise ValueError(
                f"{caller}: neurons holds index {int(bad[0])}, but the network has "
                f"{n} neurons (indices 0..{n - 1})"
            )
    return neurons


def _spike_count(n_spikes: int, caller: str) -> int:
    """n_spikes as a Python int; ValueError unless it is a non-negative integer (a static
    shape, so it must be concrete: 1.5, -1, True, "2" are refused)."""
    if isinstance(n_spikes, bool) or not isinstance(n_spikes, int | np.integer) or n_spikes < 0:
        raise ValueError(
            f"{caller}: n_spikes must be a non-negative integer (the number of "
            f"spike times per neuron, e.g. n_spikes=2), got {n_spikes!r}"
        )
    return int(n_spikes)


def _require_pseudodynamics(model: NeuronModel, caller: str) -> PseudodynamicsModel:
    if not isinstance(model, PseudodynamicsModel):
        raise TypeError(
            f"{caller}: {type(model).__name__} has no pseudodynamics (only models "
            "derived from PseudodynamicsModel, such as QIF and Theta, have them)"
        )
    return model


def ordinary_spike_times(
    events: Events, neurons: ArrayLike, n_spikes: int
) -> Float[Array, "S n_spikes"]:
    """The first n_spikes network spike times of each chosen neuron, (S, n_spikes).

    +inf where a neuron spiked fewer times before T; NaN where that is unknown (the event
    budget ran out) and for neurons with a NaN state. One trial; `jax.vmap` over trials.
    """
    n = events.final_state.shape[-1]
    n_spikes = _spike_count(n_spikes, "ordinary_spike_times")
    neurons = _neuron_indices(neurons, n, "ordinary_spike_times")
    fired = (~events.is_input)[None, :] & (events.neuron[None, :] == neurons[:, None])
    rank = jnp.cumsum(fired, axis=-1)
    nth = jnp.arange(1, n_spikes + 1)
    selected = fired[:, None, :] & (rank[:, None, :] == nth[None, :, None])
    times = jnp.sum(jnp.where(selected, events.times, 0.0), axis=-1)
    found = jnp.any(selected, axis=-1)
    times = jnp.where(found, times, jnp.where(events.exhausted, jnp.nan, jnp.inf))
    return mark_nan(times, _unknown(events.final_state, neurons)[:, None])


def _unknown(final_state: Float[Array, "D N"], neurons: Int[Array, " S"]) -> Array:
    """Chosen neurons that are out of range or have a NaN state, (S,)."""
    n = final_state.shape[-1]
    in_range = (neurons >= 0) & (neurons < n)
    state = final_state[:, jnp.where(in_range, neurons, 0)]
    return ~in_range | jnp.any(jnp.isnan(state), axis=0)


def spike_counts(events: Events, n_neurons: int) -> Int[Array, " n_neurons"]:
    """Number of ordinary spikes of each network neuron before T, shape (n_neurons,).

    On an exhausted trial (events.exhausted) the counts are only lower bounds.
    """
    fired = (~events.is_input)[None, :] & (events.neuron[None, :] == jnp.arange(n_neurons)[:, None])
    return jnp.sum(fired, axis=-1)


def pseudo_rates(
    model: NeuronModel, state: Float[ArrayLike, "D ..."], pseudo_input: ArrayLike = 0.0
) -> Float[Array, " ..."]:
    """Pseudo rate r = phi_pseudo / Theta_pseudo of neurons in `state` (D, ...) at T.

    TypeError for a model without pseudodynamics (LIF).
    """
    model = _require_pseudodynamics(model, "pseudo_rates")
    return model.pseudo_rate(jnp.asarray(state), pseudo_input)


def pseudospike_times(
    model: NeuronModel,
    state: Float[ArrayLike, "D ..."],
    duration: ArrayLike,
    n_spikes: int,
    pseudo_input: ArrayLike = 0.0,
) -> Float[Array, "... n_spikes"]:
    """t_pseudo(k) = T + k Theta_pseudo - phi_pseudo for k = 1..n_spikes.

    TypeError for a model without pseudodynamics (LIF).
    """
    model = _require_pseudodynamics(model, "pseudospike_times")
    n_spikes = _spike_count(n_spikes, "pseudospike_times")
    return model.pseudospike_times(jnp.asarray(state), duration, n_spikes, pseudo_input)


def merge_pseudospikes(
    model: NeuronModel,
    ordinary: Float[Array, "S n"],
    final_state: Float[Array, "D S"],
    duration: ArrayLike,
    pseudo_input: ArrayLike = 0.0,
) -> Float[Array, "S n"]:
    """Fill the missing spikes (+inf) of each row of `ordinary` with the neuron's
    pseudospikes k = 1, 2, ...; final_state (D, S) is the neurons' state at T.

    A model without pseudodynamics (LIF) keeps +inf for missing spikes. NaN entries
    (unknown) stay NaN, and a NaN pseudo_input makes that row's pseudospikes NaN.
    """
    if not isinstance(model, PseudodynamicsModel):
        return ordinary
    n_spikes = ordinary.shape[-1]
    is_ordinary = ~jnp.isposinf(ordinary)
    count = jnp.sum(is_ordinary, axis=-1, keepdims=True)
    pseudo_input = jnp.broadcast_to(jnp.asarray(pseudo_input, ordinary.dtype), ordinary.shape[:1])
    pseudo = model.pseudospike_times(final_state, duration, n_spikes, pseudo_input)
    pseudo = mark_nan(pseudo, jnp.isnan(pseudo_input)[:, None])
    # the j-th spike is the (j - count)-th pseudospike: shift the pseudospike row by count
    k_index = jnp.clip(jnp.arange(n_spikes)[None, :] - count, 0, n_spikes - 1)
    return jnp.where(is_ordinary, ordinary, jnp.take_along_axis(pseudo, k_index, axis=-1))


def output_spike_times(
    model: NeuronModel,
    events: Events,
    neurons: ArrayLike,
    n_spikes: int,
    pseudo_input: ArrayLike = 0.0,
) -> Float[Array, "S n_spikes"]:
    """n_spikes spike times of each chosen neuron, (len(neurons), n_spikes).

    The neuron's K_out ordinary spikes come first; spikes K_out + 1 .. n_spikes are its
    pseudospikes k = 1 .. n_spikes - K_out, so all times are finite and continuous in the
    parameters (a spike leaving the trial at T re-enters as a pseudospike at T).
    `pseudo_input` (scalar or per chosen neuron) is sum_j w_ij r_j (book/theory.md,
    "Pseudodynamics and pseudospikes"). Models without pseudodynamics (LIF) give +inf
    for missing spikes. NaN: for spikes an exhausted trial did not reach, for neurons
    with a NaN state, for the pseudospikes of a neuron whose pseudo_input is NaN, and
    under tracing for indices outside 0..N-1 (concrete ones raise
    ValueError naming `neurons`). n_spikes must be a non-negative integer (else ValueError).
    """
    n_spikes = _spike_count(n_spikes, "output_spike_times")
    neurons = _neuron_indices(neurons, events.final_state.shape[-1], "output_spike_times")
    ordinary = ordinary_spike_times(events, neurons, n_spikes)
    safe = jnp.clip(neurons, 0, events.final_state.shape[-1] - 1)
    return merge_pseudospikes(
        model, ordinary, events.final_state[:, safe], events.duration, pseudo_input
    )


def first_spike_times(
    model: NeuronModel, events: Events, neurons: ArrayLike, pseudo_input: ArrayLike = 0.0
) -> Float[Array, " S"]:
    """First spike time (ordinary, else the first pseudospike) of each chosen neuron."""
    return output_spike_times(model, events, neurons, 1, pseudo_input)[:, 0]
