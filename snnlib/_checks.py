"""Argument checks and the NaN policy shared by the simulators (`simulate`, `feedforward`).

Checks: called in Python before tracing, they raise ValueError (TypeError for a wrong
model) naming the function, the argument and the fix. Shapes and dtypes are always
checked; values (channel indices, the trial length, the initial states) where they are
concrete. Under tracing, values cannot be checked: bad ones are marked NaN instead.

NaN policy: a neuron whose initial state is NaN (or invalid under tracing), which
receives a NaN weight, or an input at an unknown (NaN) time with a nonzero weight, is
*poisoned*: its state and spike times are NaN from t = 0, and so are those of every
neuron it reaches. Inside the simulators a poisoned neuron runs on a harmless stand-in
(the rest state, zero input weights, never spiking: `stand_in`) and its outputs are
set to NaN afterwards (`cut_nan`, through which no cotangent flows back): the "double
where" pattern, so that neither values nor gradients of the neurons it cannot reach see
the NaN. The weights of a channel with an input at a NaN time get NaN gradients
(`unknown_gradient`): their effect depends on that time.
"""

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.typing import ArrayLike
from jaxtyping import Bool, Float, Int

from .budget import is_concrete
from .neurons import NeuronModel

__all__ = [
    "channels_at_unknown_times",
    "check_budget",
    "check_duration",
    "check_model",
    "check_channels",
    "check_initial_state",
    "check_integer",
    "check_real",
    "cut_nan",
    "input_columns",
    "mark_nan",
    "poisoned_by_inputs",
    "reached",
    "stand_in",
    "unknown_gradient",
]


# --- checks (Python, before tracing) ---------------------------------------------------


def check_model(caller: str, model: object) -> None:
    """TypeError unless model is a snnlib NeuronModel."""
    if not isinstance(model, NeuronModel):
        raise TypeError(
            f"{caller}: model must be a snnlib NeuronModel (QIF(), Theta(), ...), "
            f"got {type(model).__name__}"
        )


def check_budget(caller: str, name: str, value: object, what: str) -> int:
    """The budget as an int; ValueError unless it is a positive integer."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{caller}: {name} must be a positive integer ({what}), got {value!r}")
    return int(value)


def check_real(caller: str, name: str, value: Array) -> None:
    """ValueError unless value is a real (floating, integer or boolean) array: complex
    parts would be dropped silently, strings and objects are no numbers."""
    dtype = jnp.asarray(value).dtype if not hasattr(value, "dtype") else value.dtype
    if jnp.issubdtype(dtype, jnp.complexfloating):
        raise ValueError(
            f"{caller}: {name} must be real, got the complex dtype {dtype}; pass "
            f"its real part (jnp.real({name})) if the imaginary part is 0"
        )
    if not (
        jnp.issubdtype(dtype, jnp.floating)
        or jnp.issubdtype(dtype, jnp.integer)
        or jnp.issubdtype(dtype, jnp.bool_)
    ):
        raise ValueError(f"{caller}: {name} must be a real numeric array, got dtype {dtype}")


def check_integer(caller: str, name: str, value: Array) -> None:
    """ValueError unless value holds integers (channel or neuron indices)."""
    if not jnp.issubdtype(value.dtype, jnp.integer):
        raise ValueError(
            f"{caller}: {name} must be integers (channel indices), got dtype "
            f"{value.dtype}; pass e.g. jnp.asarray({name}, int)"
        )


def check_initial_state(caller: str, name: str, model: NeuronModel, state: Array) -> None:
    """The dtype (floating; it is the simulation's), the model's parameters in it, and,
    where concrete, the values (`NeuronModel.state_problem`) of a (D, N) state or of a
    batch (B, D, N)."""
    if jnp.issubdtype(state.dtype, jnp.complexfloating):
        raise ValueError(
            f"{caller}: {name} must be real, got the complex dtype {state.dtype}; "
            "pass a real floating-point state (e.g. model.rest_state(n))"
        )
    if not jnp.issubdtype(state.dtype, jnp.floating):
        raise ValueError(
            f"{caller}: {name} must be floating-point (its dtype is the dtype of the "
            f"simulation), got {state.dtype}; pass e.g. jnp.asarray(state, jnp.float64) or "
            "model.rest_state(n)"
        )
    model.check_dtype(state.dtype)
    if not is_concrete(state):
        return
    values = np.asarray(state)
    trials = values[None] if values.ndim == 2 else values
    if model.state_problem(np.moveaxis(trials, 0, 1).reshape(trials.shape[1], -1)) is None:
        return  # all trials at once; the loop below only finds the first bad one
    for index, trial in enumerate(trials):
        problem = model.state_problem(trial)
        if problem is not None:
            where = f" (trial {index})" if values.ndim == 3 else ""
            raise ValueError(f"{caller}: {name}{where}: {problem}")


def check_duration(caller: str, duration: ArrayLike) -> None:
    """A real scalar; where concrete, finite and >= 0."""
    check_real(caller, "duration", jnp.asarray(duration))
    if jnp.ndim(duration) != 0:
        raise ValueError(
            f"{caller}: duration must be a scalar (the trial length T), got shape "
            f"{jnp.shape(duration)}; one trial per call, use jax.vmap for batches"
        )
    if is_concrete(duration):
        value = float(np.asarray(duration))
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"{caller}: duration must be a finite number >= 0, got {value}")


def check_channels(
    caller: str, channels: Array, n_in: int, weights_name: str, weights_shape: tuple
) -> None:
    """Where concrete, every channel index in 0..n_in-1 (the columns of the weights)."""
    if not is_concrete(channels) or channels.size == 0:
        return
    values = np.asarray(channels)
    bad = values[(values < 0) | (values >= n_in)]
    if bad.size:
        raise ValueError(
            f"{caller}: input_neurons holds channel {int(bad.flat[0])}, but {weights_name} has "
            f"{n_in} input channels (shape {tuple(weights_shape)}): channels must lie in "
            f"0..{n_in - 1}"
        )


# --- the NaN policy (traced) -----------------------------------------------------------


def mark_nan(values: Array, unknown: Bool[Array, "..."]) -> Array:
    """values with NaN where `unknown` (broadcast over the trailing axes).

    An addition of a constant 0 or NaN, so that where nothing is unknown the values and
    their gradients are exactly those of the unmarked computation (bit for bit).
    """
    return values + jax.lax.stop_gradient(jnp.where(unknown, jnp.nan, 0.0).astype(values.dtype))


def cut_nan(values: Array, unknown: Bool[Array, "..."]) -> Array:
    """values with NaN where `unknown` (broadcast), through which no gradient flows back:
    the simulators' outputs for poisoned neurons, so that a readout's NaN cotangent of
    them (0 times a NaN derivative) stops there and reaches no other neuron."""
    return jnp.where(unknown, jnp.nan, values)


@jax.custom_vjp
def unknown_gradient(values: Array, unknown: Bool[Array, "..."]) -> Array:
    """values unchanged, with a NaN gradient where `unknown` (broadcast): for quantities
    whose effect is unknown although their value is not (the weight of an input spike at
    a NaN time: which neurons it moves, and how, depends on that time).

    The output depends on `unknown` (a `where` that picks `values` either way), so that
    under `jax.vmap` with shared `values` (one weight matrix, a batch of input times) it
    is batched like `unknown`: each trial's cotangent then reaches the backward rule on
    its own. (Returned unbatched, the summed cotangent of the whole batch would reach the
    backward rule of every trial, and the weights' gradient would come out B times too
    large.)"""
    return jnp.where(unknown, values, values)


def _unknown_gradient_forward(values, unknown):
    return jnp.where(unknown, values, values), unknown


def _unknown_gradient_backward(unknown, cotangent):
    return jnp.where(unknown, jnp.nan, cotangent).astype(cotangent.dtype), None


unknown_gradient.defvjp(_unknown_gradient_forward, _unknown_gradient_backward)


def channels_at_unknown_times(
    n_channels: int, input_times: Float[Array, " M"], channels: Int[Array, " M"]
) -> Bool[Array, " C"]:
    """Channels (columns of the weights) that carry an input spike at a NaN time, (C,)."""
    unknown = jnp.zeros(n_channels, bool)
    return unknown.at[channels].max(jnp.isnan(input_times), mode="drop")


def input_columns(
    weights: Float[Array, "N C"], channels: Int[Array, " M"], dtype
) -> Float[Array, "M N"]:
    """The weights of each input onto the N neurons, (M, N); a channel outside 0..C-1
    gets NaN weights (under tracing: its targets are unknown)."""
    valid = (channels >= 0) & (channels < weights.shape[1])
    columns = weights[:, jnp.where(valid, channels, 0)].T.astype(dtype)
    return mark_nan(columns, ~valid[:, None])


def poisoned_by_inputs(
    initial_state: Float[Array, "D N"],
    input_times: Float[Array, " M"],
    columns: Float[Array, "M N"],
    duration: Array,
) -> Bool[Array, " N"]:
    """Neurons with a NaN initial state, a NaN weight of an input at or before T, or an
    input at a NaN time with a nonzero weight."""
    unknown_time = jnp.isnan(input_times)
    counted = ~(input_times > duration)  # inputs after T are ignored
    return (
        jnp.any(jnp.isnan(initial_state), axis=0)
        | jnp.any(unknown_time[:, None] & (columns != 0), axis=0)
        | jnp.any(counted[:, None] & jnp.isnan(columns), axis=0)
    )


def reached(poisoned: Bool[Array, " N"], weights_net: Float[Array, "N N"]) -> Bool[Array, " N"]:
    """Neurons reachable from `poisoned` through nonzero (or NaN) recurrent weights."""
    connected = (weights_net != 0).astype(jnp.int32)

    def grow(carry):
        reached, _ = carry
        grown = reached | ((connected @ reached.astype(jnp.int32)) > 0)
        return grown, jnp.any(grown != reached)

    return jax.lax.while_loop(lambda carry: carry[1], grow, (poisoned, jnp.array(True)))[0]


def stand_in(values: Array, poisoned: Bool[Array, "..."], harmless: ArrayLike) -> Array:
    """values with `harmless` where `poisoned` (broadcast) and in every NaN entry: the
    first where of the double-where pattern (no gradient reaches the replaced entries,
    so their NaN cannot multiply a zero cotangent); `mark_nan` is the second."""
    return jnp.where(poisoned | jnp.isnan(values), harmless, values)
