"""What the simulator needs from a neuron model, and parameter validation helpers."""

import math
from typing import ClassVar, Protocol

import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike


class NeuronModel(Protocol):
    """A neuron model: frozen, hashable, usable as a static argument of `jax.jit`.

    States have shape (state_dim, ...): every function acts elementwise on the trailing
    axes, so the state of N neurons is an array (state_dim, N).
    """

    state_dim: ClassVar[int]
    has_pseudodynamics: ClassVar[bool]

    def rest_state(self, n: int, dtype=None) -> Array: ...

    def flow(self, state: Array, dt: ArrayLike) -> Array:
        """State after a time dt without input (dt must not pass the next spike)."""

    def time_to_next_spike(self, state: Array) -> Array:
        """Time until the next spike without input; +inf where none."""

    def receive(self, state: Array, weight: ArrayLike) -> Array:
        """State right after an input spike of the given weight."""

    def reset(self, state: Array) -> Array:
        """State right after the neuron spiked."""

    def voltage(self, state: Array) -> Array:
        """Membrane potential V of the state (for plots)."""


def check_positive(owner: object, **values: float) -> None:
    """Raise ValueError naming the parameter if a value is not a finite positive number."""
    for name, value in values.items():
        if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            raise ValueError(
                f"{type(owner).__name__}: parameter {name} must be a finite positive number, "
                f"got {value!r}"
            )


def as_float_fields(owner: object, *names: str) -> None:
    """Store numeric dataclass fields as Python floats (hashable, weakly typed in JAX)."""
    for name in names:
        value = getattr(owner, name)
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ValueError(
                f"{type(owner).__name__}: parameter {name} must be a number, got {value!r}"
            ) from None
        object.__setattr__(owner, name, value)


def zeros_state(state_dim: int, n: int, dtype=None) -> Array:
    """An all-zero state of n neurons, shape (state_dim, n)."""
    return jnp.zeros((state_dim, n), dtype=dtype)
