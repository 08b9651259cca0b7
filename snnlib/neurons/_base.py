"""The abstract neuron interface, and parameter validation helpers.

How to add a neuron model (the interface, its validation, the tests to extend) is told in
one place: book/architecture.md, section "Adding a neuron model".
"""

import math
from abc import ABC, abstractmethod
from typing import ClassVar

import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.typing import ArrayLike, DTypeLike
from jaxtyping import Float


class NeuronModel(ABC):
    """A neuron model: frozen, hashable, usable as a static argument of `jax.jit`.

    States have shape (state_dim, ...): every method acts elementwise on the trailing
    axes, so the state of N neurons is an array (state_dim, N).
    """

    state_dim: ClassVar[int]

    @abstractmethod
    def rest_state(self, n: int, dtype: DTypeLike | None = None) -> Float[Array, "D N"]:
        """The resting (or just reset) state of n neurons."""

    @abstractmethod
    def flow(self, state: Float[Array, "D ..."], dt: ArrayLike) -> Float[Array, "D ..."]:
        """State after a time dt without input (dt must not pass the next spike)."""

    @abstractmethod
    def time_to_next_spike(self, state: Float[Array, "D ..."]) -> Float[Array, " ..."]:
        """Time until the next spike without input; +inf where none."""

    @abstractmethod
    def receive(self, state: Float[Array, "D ..."], weight: ArrayLike) -> Float[Array, "D ..."]:
        """State right after an input spike of the given weight."""

    @abstractmethod
    def reset(self, state: Float[Array, "D ..."]) -> Float[Array, "D ..."]:
        """State right after the neuron spiked."""

    @abstractmethod
    def voltage(self, state: Float[Array, "D ..."]) -> Float[Array, " ..."]:
        """Membrane potential V of the state (for plots)."""

    @property
    @abstractmethod
    def min_spiking_input(self) -> float:
        """The smallest input weight that makes a resting neuron spike (inf if none)."""

    def check_dtype(self, dtype: DTypeLike) -> None:
        """Raise ValueError if the model's parameters do not fit states of this dtype."""
        return None

    def state_problem(self, state: np.ndarray) -> str | None:
        """Why the model cannot start from this concrete (D, N) state, or None if it can.

        NaN entries are allowed (the NaN policy: that neuron is unknown). Default: every
        other entry must be finite.
        """
        infinite = np.isinf(state)
        if infinite.any():
            row, neuron = np.argwhere(infinite)[0]
            return (
                f"entry [{row}, {neuron}] is {state[row, neuron]}: the states of "
                f"{type(self).__name__} are finite; pass a finite state (e.g. "
                "model.rest_state(n))"
            )
        return None

    def canonical_state(self, state: Float[Array, "D ..."]) -> Float[Array, "D ..."]:
        """The state as the simulators start from it (traced; `state_problem` is the check
        on concrete states): values the model stands for in another form are mapped to it
        (QIF: V = -inf, the state right after a spike, to -1/eps); invalid entries are NaN.
        Valid states pass unchanged (bit for bit). Default: infinite entries are NaN.
        """
        return jnp.where(jnp.isinf(state), jnp.nan, state)


class PseudodynamicsModel(NeuronModel):
    """A model whose missing spikes continue as pseudospikes beyond the trial end T.

    book/theory.md, "Pseudodynamics and pseudospikes": at T each neuron has a pseudo
    phase phi and period Theta; its pseudo rate is r = phi / Theta and its k-th
    pseudospike comes at t_k = T + k Theta - phi.
    """

    @abstractmethod
    def pseudo_phase_and_period(
        self, state: Float[Array, "D ..."], pseudo_input: ArrayLike = 0.0
    ) -> tuple[Float[Array, " ..."], Float[Array, " ..."]]:
        """Pseudo phase phi and period Theta of the neurons in `state` at T."""

    def pseudo_rate(
        self, state: Float[Array, "D ..."], pseudo_input: ArrayLike = 0.0
    ) -> Float[Array, " ..."]:
        """r = phi / Theta."""
        phase, period = self.pseudo_phase_and_period(state, pseudo_input)
        return phase / period

    def pseudospike_times(
        self,
        state: Float[Array, "D ..."],
        duration: ArrayLike,
        n_spikes: int,
        pseudo_input: ArrayLike = 0.0,
    ) -> Float[Array, "... n_spikes"]:
        """t_k = T + k Theta - phi for k = 1..n_spikes."""
        phase, period = self.pseudo_phase_and_period(state, pseudo_input)
        k = jnp.arange(1, n_spikes + 1)
        return jnp.asarray(duration + k * period[..., None] - phase[..., None])


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


def zeros_state(state_dim: int, n: int, dtype: DTypeLike | None = None) -> Array:
    """An all-zero state of n neurons, shape (state_dim, n)."""
    return jnp.zeros((state_dim, n), dtype=dtype)


def largest(dtype: DTypeLike) -> float:
    """The largest finite number of a floating dtype."""
    return float(np.finfo(dtype).max)
