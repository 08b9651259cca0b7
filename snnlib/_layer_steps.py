"""One input step of a layer of non-interacting neurons (used by `simulate_layer`).

A step takes every neuron of the layer from the previous input time to the next input
(t_input, with its weight onto each neuron): own spikes due before it, the flow, and the
input. Two implementations with the same results:

- `ModelSteps`: any neuron model, through its flow / time_to_next_spike / reset / receive.
- `ThetaSteps`: the theta neuron in its rotation form, with no transcendental function
  per neuron and step (see the class).

`layer_steps(model, ...)` picks the implementation by the model's type: a
`functools.singledispatch` function whose default is `ModelSteps`; a faster form for a new
model is registered next to it with `@layer_steps.register(NewModel)`.

Both record the spikes of each neuron in S slots and count them (a count above S: the
budget ran out). Carries are tuples of arrays; t (the time of the last input) is a scalar.
"""

from functools import singledispatch
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import Array

from .neurons import NeuronModel, Theta


class StepResult(NamedTuple):
    times: Array  # (N, S) spike times, +inf in unused slots
    counts: Array  # (N,)
    final_state: Array  # (D, N)


class ModelSteps:
    """Steps through the model's closed-form functions. Carry: (t, state (D, N), counts (N,),
    times (S, N)). Up to S own spikes per neuron are checked before each input."""

    def __init__(self, model: NeuronModel, duration: Array, max_spikes: int) -> None:
        self.model, self.duration, self.max_spikes = model, duration, max_spikes
        self.slots = jnp.arange(max_spikes)[:, None]

    def start(self, initial_state: Array) -> tuple:
        n, dtype = initial_state.shape[-1], initial_state.dtype
        return (jnp.zeros((), dtype), initial_state, jnp.zeros((n,), jnp.int32),
                jnp.full((self.max_spikes, n), jnp.inf, dtype))

    def step(self, carry: tuple, event: tuple[Array, Array]) -> tuple:
        model = self.model
        t, state, counts, times = carry
        t_input, weight = event

        def spike_if_due(spike_carry, _):
            """Emit each neuron's next spike if it comes before the input (a tie: input first)."""
            t, state, counts, times = spike_carry
            to_spike = model.time_to_next_spike(state)
            fires = t + to_spike < t_input
            spiked = model.reset(model.flow(state, jnp.where(fires, to_spike, 0.0)))
            t = jnp.where(fires, t + to_spike, t)
            times = jnp.where(fires & (self.slots == counts), t, times)
            counts = counts + fires.astype(counts.dtype)
            return (t, jnp.where(fires, spiked, state), counts, times), None

        t_local = jnp.broadcast_to(t, counts.shape)
        (t_local, state, counts, times), _ = jax.lax.scan(
            spike_if_due, (t_local, state, counts, times), None, length=self.max_spikes)
        # a spike still due: more than max_spikes spikes (counted, so that counts > S)
        counts = counts + (t_local + model.time_to_next_spike(state) < t_input)
        state = model.flow(state, t_input - t_local)
        state = jnp.where(t_input < self.duration, model.receive(state, weight), state)
        return t_input, state, counts, times

    def finish(self, carry: tuple) -> StepResult:
        _, state, counts, times = carry
        return StepResult(times.T, counts, state)


class ThetaSteps:
    """The theta neuron as a rotating unit vector (x, y) = (cos a, sin a), a = phi c/tau - pi/2.

    With V - 1/2 = c tan(a): the free flow turns a at rate omega = c/tau (a rotation by
    omega dt, the same for all neurons of the layer), and an input of weight w is the
    shear y -> y + (w/c) x (tan a -> tan a + w/c), followed by a normalisation. A spike is
    a passing a = pi/2 (x turns negative); the reset phi -> 0 (a -> -pi/2) is the sign
    flip (x, y) -> (-x, -y), so that x >= 0 always. A turn by k pi + r (k full turns,
    0 <= r < pi) gives k + [x < 0 after turning by r] spikes. The exact spike times need
    the angle only once per spike, after the scan: a slot keeps (x, y) at the start of
    the step and t + m Theta for the m-th spike of the step, and
    t_spike = t + m Theta + (pi/2 - atan2(y, x)) / omega.
    Carry: (t, x (N,), y (N,), counts (N,), slot_x, slot_y, slot_t (S, N)).
    """

    def __init__(self, model: Theta, duration: Array, max_spikes: int) -> None:
        self.model, self.duration, self.max_spikes = model, duration, max_spikes
        self.omega = model.c / model.tau
        self.slots = jnp.arange(max_spikes)[:, None]

    def start(self, initial_state: Array) -> tuple:
        phase = jnp.clip(initial_state[0], 0.0, self.model.period)
        angle = phase * self.omega - jnp.pi / 2
        n, dtype = phase.shape[-1], phase.dtype
        empty = jnp.full((self.max_spikes, n), jnp.inf, dtype)
        # x = cos a >= 0 exactly, also at the ends a = +-pi/2 (phases 0 and Theta)
        return (jnp.zeros((), dtype), jnp.maximum(jnp.cos(angle), 0.0), jnp.sin(angle),
                jnp.zeros((n,), jnp.int32), empty, empty, empty)

    def step(self, carry: tuple, event: tuple[Array, Array]) -> tuple:
        t, x, y, counts, slot_x, slot_y, slot_t = carry
        t_input, weight = event
        turn = (t_input - t) * self.omega
        full_turns = jnp.floor(turn / jnp.pi)
        rest = turn - full_turns * jnp.pi
        cos_r, sin_r = jnp.cos(rest), jnp.sin(rest)
        x_turned, y_turned = cos_r * x - sin_r * y, sin_r * x + cos_r * y
        crossed = x_turned < 0
        new_spikes = full_turns.astype(counts.dtype) + crossed.astype(counts.dtype)
        index = self.slots - counts  # the m-th spike of this step goes to slot counts + m
        recorded = (index >= 0) & (index < new_spikes)
        slot_x = jnp.where(recorded, x, slot_x)
        slot_y = jnp.where(recorded, y, slot_y)
        slot_t = jnp.where(recorded, t + index * self.model.period, slot_t)
        x = jnp.where(crossed, -x_turned, x_turned)
        y = jnp.where(crossed, -y_turned, y_turned)
        shear = jnp.where(t_input < self.duration, weight / self.model.c, 0.0)
        y = y + shear * x
        norm = jax.lax.rsqrt(x * x + y * y)
        return t_input, x * norm, y * norm, counts + new_spikes, slot_x, slot_y, slot_t

    def finish(self, carry: tuple) -> StepResult:
        _, x, y, counts, slot_x, slot_y, slot_t = carry
        filled = jnp.isfinite(slot_t)
        to_spike = (jnp.pi / 2 - jnp.arctan2(jnp.where(filled, slot_y, 1.0),
                                             jnp.where(filled, slot_x, 0.0))) / self.omega
        times = jnp.where(filled, slot_t + to_spike, jnp.inf)
        phase = (jnp.arctan2(y, x) + jnp.pi / 2) / self.omega
        return StepResult(times.T, counts, phase[None])


@singledispatch
def layer_steps(model: NeuronModel, duration: Array, max_spikes: int) -> ModelSteps | ThetaSteps:
    """The fastest exact steps for the model: the model's own functions by default."""
    return ModelSteps(model, duration, max_spikes)


@layer_steps.register
def _(model: Theta, duration: Array, max_spikes: int) -> ThetaSteps:
    """Theta neurons: the rotation form."""
    return ThetaSteps(model, duration, max_spikes)
