"""The input steps of a layer of non-interacting neurons (used by `_simulate_layer`).

A step takes every neuron of the layer from the previous input time to the next input
(t_input, with its weight onto each neuron): own spikes due before it, the flow, and the
input. `run` scans the steps over the time-sorted inputs, in chunks, skipping the chunks
after the last input before T of every trial, and a last step flows to T. Two
implementations with the same results:

- `ModelSteps`: any neuron model, through its flow / time_to_next_spike / reset / receive;
  gradients by autodiff through the scan (each chunk recomputed in the backward pass).
- `ThetaSteps`: the theta neuron in its rotation form, with no transcendental function
  per neuron and step, and a hand-written backward pass (an adjoint scan over the phase
  angle, see `ThetaSteps.run`) that stores two numbers per neuron and step instead of
  recomputing the forward pass.

`layer_steps(model, ...)` picks the implementation by the model's type: a
`functools.singledispatch` function whose default is `ModelSteps`; a faster form for a new
model is registered next to it with `@layer_steps.register(NewModel)`.

Both record the spikes of each neuron in S slots and count them (a count above S: the
budget ran out). Carries are tuples of arrays; t (the time of the last input) is a scalar.
"""

from functools import partial, singledispatch
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

    def run(self, initial_state: Array, arrival: Array, delivered: Array,
            n_active: Array | None) -> StepResult:
        """All steps: arrival (C, chunk) sorted input times in [0, T] (T: padding),
        delivered (C, chunk, N) their weights; chunks after the first n_active inputs are
        skipped; then the last step to T."""
        return _scan_chunks(self, initial_state, arrival, delivered, n_active)


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
        return self._advance(carry, event)[0]

    def _advance(self, carry: tuple, event: tuple[Array, Array]) -> tuple:
        """One step; also what the backward pass needs: (1/n^2, cos^2 a) after the step
        (n: the norm after the shear) and the slots filled in this step."""
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
        norm_squared = x * x + y * y
        norm = jax.lax.rsqrt(norm_squared)
        x, y = x * norm, y * norm
        carry = (t_input, x, y, counts + new_spikes, slot_x, slot_y, slot_t)
        return carry, (1 / norm_squared, x * x), recorded

    def run(self, initial_state: Array, arrival: Array, delivered: Array,
            n_active: Array | None) -> StepResult:
        """All steps, as `ModelSteps.run`, with the adjoint backward pass of `_theta_run`."""
        phase = jnp.clip(initial_state[0], 0.0, self.model.period)
        if n_active is None:
            n_active = jnp.asarray(arrival.size)
        times, counts, final_phase = _theta_run(self.model, self.max_spikes, phase, arrival,
                                                delivered, n_active, self.duration)
        return StepResult(times, counts, final_phase[None])

    def finish(self, carry: tuple) -> StepResult:
        _, x, y, counts, slot_x, slot_y, slot_t = carry
        filled = jnp.isfinite(slot_t)
        to_spike = (jnp.pi / 2 - jnp.arctan2(jnp.where(filled, slot_y, 1.0),
                                             jnp.where(filled, slot_x, 0.0))) / self.omega
        times = jnp.where(filled, slot_t + to_spike, jnp.inf)
        phase = (jnp.arctan2(y, x) + jnp.pi / 2) / self.omega
        return StepResult(times.T, counts, phase[None])


def _scan_chunks(steps, initial_state: Array, arrival: Array, delivered: Array,
                 n_active: Array | None) -> StepResult:
    """`steps.step` over the chunks (autodiff, each chunk recomputed in the backward pass)."""
    chunk_size = arrival.shape[1]

    @jax.checkpoint  # recomputed in the backward pass: residuals only at chunk boundaries
    def run_chunk(carry, events):
        return jax.lax.scan(lambda c, e: (steps.step(c, e), None), carry, events)[0]

    def chunk_step(carry, indexed_events):
        index, events = indexed_events
        if n_active is None:
            return run_chunk(carry, events), None
        needed = index * chunk_size < n_active
        return jax.lax.cond(needed, run_chunk, lambda c, _: c, carry, events), None

    carry, _ = jax.lax.scan(chunk_step, steps.start(initial_state),
                            (jnp.arange(arrival.shape[0]), (arrival, delivered)))
    n = initial_state.shape[-1]
    return steps.finish(steps.step(carry, (steps.duration, jnp.zeros((n,), initial_state.dtype))))


def _theta_forward(model: Theta, max_spikes: int, phase, arrival, delivered, n_active,
                   duration):
    """The steps of `ThetaSteps` over the chunks, recording per step and neuron the two
    residuals of `_advance` and, per slot, the index of the step that filled it."""
    steps = ThetaSteps(model, duration, max_spikes)
    n_chunks, chunk_size = arrival.shape
    n, dtype = phase.shape[-1], phase.dtype
    skipped = (jnp.ones((chunk_size, n), dtype), jnp.zeros((chunk_size, n), dtype))

    def one_step(carry, event):
        state, slot_step, index = carry
        state, residuals, recorded = steps._advance(state, event)
        return (state, jnp.where(recorded, index, slot_step), index + 1), residuals

    def chunk_step(carry, indexed):
        chunk, events = indexed
        start = (carry[0], carry[1], (chunk * chunk_size).astype(jnp.int32))
        needed = chunk * chunk_size < n_active
        return jax.lax.cond(
            needed, lambda c, e: jax.lax.scan(one_step, c, e), lambda c, _: (c, skipped),
            start, events)

    slot_step = jnp.full((max_spikes, n), -1, jnp.int32)
    (state, slot_step, _), residuals = jax.lax.scan(
        chunk_step, (steps.start(phase[None]), slot_step, jnp.int32(0)),
        (jnp.arange(n_chunks, dtype=jnp.int32), (arrival, delivered)))
    last = n_chunks * chunk_size  # the index of the last step, the flow to T
    state, last_residuals, recorded = steps._advance(state, (duration, jnp.zeros((n,), dtype)))
    slot_step = jnp.where(recorded, last, slot_step)
    times, counts, final_state = steps.finish(state)
    return (times, counts, final_state[0]), (residuals, last_residuals, slot_step)


@partial(jax.custom_vjp, nondiff_argnums=(0, 1))
def _theta_run(model: Theta, max_spikes: int, phase, arrival, delivered, n_active, duration):
    """Spike times (N, S), counts (N,) and final phases (N,) of a theta layer.

    The backward pass is the adjoint of the phase angle a (x, y) = (cos a, sin a): a
    step maps a_before to a_after = arctan(tan(a_before + omega (t_k - t_{k-1})) + s_k),
    s_k = w_k / c, so da_after/da_before = 1/n_k^2 and da_after/ds_k = cos^2 a_after;
    a spike in step k at t_{k-1} + m Theta + (pi/2 - a_{k-1}) / omega and the final phase
    (a_T + pi/2) / omega. The reverse scan carries the adjoint lambda of the angle and
    that of the time of the last input; it skips the chunks that the forward pass skipped.
    """
    return _theta_forward(model, max_spikes, phase, arrival, delivered, n_active, duration)[0]


def _theta_run_fwd(model, max_spikes, phase, arrival, delivered, n_active, duration):
    outputs, (residuals, last_residuals, slot_step) = _theta_forward(
        model, max_spikes, phase, arrival, delivered, n_active, duration)
    finite = jnp.isfinite(outputs[0])
    return outputs, (residuals, last_residuals, slot_step, finite, arrival, n_active, duration)


def _theta_run_bwd(model, max_spikes, saved, cotangents):
    residuals, last_residuals, slot_step, finite, arrival, n_active, duration = saved
    times_bar, _, phase_bar = cotangents
    omega = model.c / model.tau
    n_chunks, chunk_size = arrival.shape
    spike_bar = jnp.where(finite, times_bar, 0.0).T  # (S, N)

    def back_step(carry, inputs):
        angle_bar, time_bar = carry
        index, t_input, (inverse_norm_squared, cos_squared) = inputs
        spikes = jnp.sum(jnp.where(slot_step == index, spike_bar, 0.0), axis=0)  # (N,)
        turned_bar = angle_bar * inverse_norm_squared  # adjoint of the angle before the shear
        shear_bar = jnp.where(t_input < duration, angle_bar * cos_squared / model.c, 0.0)
        arrival_bar = time_bar + omega * jnp.sum(turned_bar)
        carry = (turned_bar - spikes / omega, jnp.sum(spikes) - omega * jnp.sum(turned_bar))
        return carry, (arrival_bar, shear_bar)

    last = n_chunks * chunk_size
    carry, (duration_bar, _) = back_step(
        (phase_bar / omega, jnp.zeros((), phase_bar.dtype)), (last, duration, last_residuals))

    def back_chunk(carry, indexed):
        chunk, times, chunk_residuals = indexed
        indices = chunk * chunk_size + jnp.arange(chunk_size)
        needed = chunk * chunk_size < n_active
        zeros = (jnp.zeros((chunk_size,), times.dtype),
                 jnp.zeros((chunk_size, phase_bar.shape[-1]), phase_bar.dtype))
        return jax.lax.cond(
            needed,
            lambda c: jax.lax.scan(back_step, c, (indices, times, chunk_residuals), reverse=True),
            lambda c: (c, zeros), carry)

    (angle_bar, _), (arrival_bar, delivered_bar) = jax.lax.scan(
        back_chunk, carry, (jnp.arange(n_chunks, dtype=jnp.int32), arrival, residuals),
        reverse=True)
    return angle_bar * omega, arrival_bar, delivered_bar, None, duration_bar


_theta_run.defvjp(_theta_run_fwd, _theta_run_bwd)


@singledispatch
def layer_steps(model: NeuronModel, duration: Array, max_spikes: int) -> ModelSteps | ThetaSteps:
    """The fastest exact steps for the model: the model's own functions by default."""
    return ModelSteps(model, duration, max_spikes)


@layer_steps.register
def _(model: Theta, duration: Array, max_spikes: int) -> ThetaSteps:
    """Theta neurons: the rotation form."""
    return ThetaSteps(model, duration, max_spikes)
