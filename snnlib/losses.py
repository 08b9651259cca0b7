"""Spike-time losses."""

import jax
import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike
from jaxtyping import Bool, Float


def mean_squared_spike_time_error(
    times: Float[ArrayLike, "*S"], targets: Float[ArrayLike, "*S"]
) -> Float[Array, ""]:
    """L = mean_k (t_k - t_k^target)^2 (paper, single-neuron task)."""
    return jnp.mean((jnp.asarray(times) - jnp.asarray(targets)) ** 2)


def normalised_spike_time_loss(
    times: Float[ArrayLike, "*S"],
    targets: Float[ArrayLike, "*S"],
    is_target: Bool[ArrayLike, "*S"],
    is_extra: Bool[ArrayLike, "*S"],
) -> Float[Array, ""]:
    """Recurrent-network loss of the paper, over padded target arrays of equal shape.

    L = (1 / n_targets) sum_k ((t_k - t^_k) / (t^_k + 2))^2, where an extra target
    (is_extra, beyond the trial end) counts only if the spike comes too early (t_k < t^_k).
    Entries with is_target False (padding) are ignored.
    """
    times, targets = jnp.asarray(times), jnp.asarray(targets)
    is_target, is_extra = jnp.asarray(is_target), jnp.asarray(is_extra)
    safe_targets = jnp.where(is_target, targets, 0.0)
    safe_times = jnp.where(is_target, times, 0.0)
    error = ((safe_times - safe_targets) / (safe_targets + 2)) ** 2
    counted = is_target & (~is_extra | (safe_times < safe_targets))
    return jnp.sum(jnp.where(counted, error, 0.0)) / jnp.sum(is_target)


def first_spike_cross_entropy(
    first_times: Float[ArrayLike, " N_out"],
    label: ArrayLike,
    duration: ArrayLike,
    gamma: float = 1e-2,
) -> Float[Array, ""]:
    """Time-to-first-spike classification loss of one trial (paper Fig. 4).

    L = -log softmax(-t)_label + gamma (exp(t_label / T) - 1), with t the (N_out,) first
    output spike times (ordinary or pseudo): the label neuron should spike first, and
    early (the second term).
    """
    first_times = jnp.asarray(first_times)
    t_label = first_times[label]
    cross_entropy = -jax.nn.log_softmax(-first_times)[label]
    return cross_entropy + gamma * jnp.expm1(t_label / duration)


def late_spike_hinge(
    first_times: Float[ArrayLike, " N_out"], label: ArrayLike, deadline: ArrayLike
) -> Float[Array, ""]:
    """L = max(0, t_label - deadline) of one trial: zero once the label neuron's first
    spike (ordinary or pseudo) comes before the deadline, e.g. T - margin, so that it
    rewards an early ordinary spike of the correct neuron (issue 20)."""
    return jax.nn.relu(jnp.asarray(first_times)[label] - deadline)
