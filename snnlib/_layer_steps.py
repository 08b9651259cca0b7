"""The input steps of a layer of non-interacting neurons (used by `_simulate_layer`).

A step takes every neuron of the layer from the previous input time to the next input
(t_input, with its weight onto each neuron): own spikes due before it, the flow, and the
input. `run` scans the steps over the time-sorted inputs, in chunks, skipping the chunks
after the last input before T of every trial, and a last step flows to T. The weights of
a chunk's inputs are gathered only when the chunk runs (rows of weights_t, (N_src, N), by
source), so that the cost grows with the inputs that arrive, not with the padded slots.
Implementations of the `LayerSteps` protocol, with the same results:

- `ModelSteps`: any neuron model, through its flow / time_to_next_spike / reset / receive;
  gradients by autodiff through the scan (each chunk recomputed in the backward pass).
- `ThetaSteps`: the theta neuron in its rotation form, with no transcendental function,
  square root or division per neuron and step in the forward pass, and a hand-written
  backward pass (an adjoint scan over the phase angle, see `_theta_run`) that recomputes
  two numbers per neuron and step from the state at the start of each chunk.
- `ThetaAutodiffSteps`: the same steps with autodiff instead of the adjoint (a reference
  for the tests and the bench).

`layer_steps(model, ...)` picks the implementation by the model's type: a
`functools.singledispatch` function whose default is `ModelSteps`; a faster form for a new
model is registered next to it with `@layer_steps.register(NewModel)`. A caller may also
pass any `LayerStepsFactory` (e.g. `ThetaAutodiffSteps`) to the simulator instead.

Both record the spikes of each neuron in S slots and count them (a count above S: the
budget ran out). Carries are NamedTuples; t (the time of the last input) is a scalar.
"""

from functools import partial, singledispatch
from typing import Any, NamedTuple, Protocol

import jax
import jax.numpy as jnp
from jax import Array

from .neurons import NeuronModel, Theta


class StepResult(NamedTuple):
    times: Array  # (N, S) spike times, +inf in unused slots
    counts: Array  # (N,)
    final_state: Array  # (D, N)


class ModelCarry(NamedTuple):
    t: Array  # () time of the last input
    state: Array  # (D, N)
    counts: Array  # (N,) spikes so far
    times: Array  # (S, N) recorded spike times, +inf in unused slots


class ThetaCarry(NamedTuple):
    t: Array  # () time of the last input
    x: Array  # (N,) |v| cos a >= 0 (|v| between 1 and 2 sqrt 2, see `_sheared`)
    y: Array  # (N,) |v| sin a
    counts: Array  # (N,) spikes so far
    slot_x: Array  # (S, N) x at the start of the step of each recorded spike
    slot_y: Array  # (S, N) y at the start of that step
    slot_t: Array  # (S, N) t + m Theta of that step's m-th spike, +inf in unused slots


class LayerSteps(Protocol):
    """The steps of one layer: start a carry, step over one input, finish, or run all."""

    duration: Array
    max_spikes: int

    def start(self, initial_state: Array) -> Any: ...

    def step(self, carry: Any, event: tuple[Array, Array]) -> Any:
        """Advance to the input event = (t_input (), weight onto each neuron (N,))."""
        ...

    def finish(self, carry: Any) -> StepResult: ...

    def run(
        self,
        initial_state: Array,
        arrival: Array,
        sources: Array,
        weights_t: Array,
        n_active: Array | None,
    ) -> StepResult:
        """All steps: arrival (C, chunk) sorted input times in [0, T] (T: padding), sources
        (C, chunk) their rows of weights_t (N_src, N); chunks after the first n_active
        inputs are skipped; then the last step to T."""
        ...

    def run_batch(
        self,
        initial_state: Array,
        arrival: Array,
        sources: Array,
        weights_t: Array,
        n_active: Array | None,
    ) -> StepResult:
        """`run` for a batch of B trials: initial_state (B, D, N), arrival and sources
        (B, C, chunk), weights_t shared (N_src, N) or per trial (B, N_src, N); n_active
        bounds the inputs of every trial. The results have a leading axis B."""
        ...


class LayerStepsFactory(Protocol):
    def __call__(self, model: NeuronModel, duration: Array, max_spikes: int) -> LayerSteps: ...


class ModelSteps:
    """Steps through the model's closed-form functions (carry `ModelCarry`). Up to S own
    spikes per neuron are checked before each input."""

    def __init__(self, model: NeuronModel, duration: Array, max_spikes: int) -> None:
        self.model, self.duration, self.max_spikes = model, duration, max_spikes
        self.slots = jnp.arange(max_spikes)[:, None]

    def start(self, initial_state: Array) -> ModelCarry:
        n, dtype = initial_state.shape[-1], initial_state.dtype
        return ModelCarry(
            jnp.zeros((), dtype),
            initial_state,
            jnp.zeros((n,), jnp.int32),
            jnp.full((self.max_spikes, n), jnp.inf, dtype),
        )

    def step(self, carry: ModelCarry, event: tuple[Array, Array]) -> ModelCarry:
        model = self.model
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

        t_local = jnp.broadcast_to(carry.t, carry.counts.shape)
        (t_local, state, counts, times), _ = jax.lax.scan(
            spike_if_due,
            (t_local, carry.state, carry.counts, carry.times),
            None,
            length=self.max_spikes,
        )
        # a spike still due: more than max_spikes spikes (counted, so that counts > S)
        counts = counts + (t_local + model.time_to_next_spike(state) < t_input)
        state = model.flow(state, t_input - t_local)
        state = jnp.where(t_input < self.duration, model.receive(state, weight), state)
        return ModelCarry(t_input, state, counts, times)

    def finish(self, carry: ModelCarry) -> StepResult:
        return StepResult(carry.times.T, carry.counts, carry.state)

    def run(
        self,
        initial_state: Array,
        arrival: Array,
        sources: Array,
        weights_t: Array,
        n_active: Array | None,
    ) -> StepResult:
        """All steps (`LayerSteps.run`), by autodiff through the scan."""
        return _scan_chunks(self, initial_state, arrival, sources, weights_t, n_active)

    def run_batch(
        self,
        initial_state: Array,
        arrival: Array,
        sources: Array,
        weights_t: Array,
        n_active: Array | None,
    ) -> StepResult:
        """`run` on each trial (`LayerSteps.run_batch`)."""
        return _vmapped_run(self, initial_state, arrival, sources, weights_t, n_active)


class ThetaSteps:
    """The theta neuron as a rotating vector (x, y) = |v| (cos a, sin a), a = phi c/tau - pi/2.

    With V - 1/2 = c tan(a): the free flow turns a at rate omega = c/tau (a rotation by
    omega dt, the same for all neurons of the layer), and an input of weight w is the
    shear y -> y + (w/c) x (tan a -> tan a + w/c); the length |v| carries no information
    and is only kept in range by exact powers of two (`_sheared`). A spike is
    a passing a = pi/2 (x turns negative); the reset phi -> 0 (a -> -pi/2) is the sign
    flip (x, y) -> (-x, -y), so that x >= 0 always. A turn by k pi + r (k full turns,
    0 <= r < pi) gives k + [x < 0 after turning by r] spikes. The exact spike times need
    the angle only once per spike, after the scan: a slot keeps (x, y) at the start of
    the step and t + m Theta for the m-th spike of the step, and
    t_spike = t + m Theta + (pi/2 - atan2(y, x)) / omega. Carry: `ThetaCarry`.
    """

    def __init__(self, model: Theta, duration: Array, max_spikes: int) -> None:
        self.model, self.duration, self.max_spikes = model, duration, max_spikes
        self.omega = model.c / model.tau
        self.slots = jnp.arange(max_spikes)[:, None]

    def start(self, initial_state: Array) -> ThetaCarry:
        phase = jnp.clip(initial_state[0], 0.0, self.model.period)
        angle = phase * self.omega - jnp.pi / 2
        n, dtype = phase.shape[-1], phase.dtype
        empty = jnp.full((self.max_spikes, n), jnp.inf, dtype)
        # x = cos a >= 0 exactly, also at the ends a = +-pi/2 (phases 0 and Theta)
        return ThetaCarry(
            jnp.zeros((), dtype),
            jnp.maximum(jnp.cos(angle), 0.0),
            jnp.sin(angle),
            jnp.zeros((n,), jnp.int32),
            empty,
            empty,
            empty,
        )

    def step(self, carry: ThetaCarry, event: tuple[Array, Array]) -> ThetaCarry:
        carry, shear, _ = self._turn_and_record(carry, event)
        x, y = _sheared(carry.x, carry.y, shear)
        return carry._replace(x=x, y=y)

    def _turn_and_record(
        self, carry: ThetaCarry, event: tuple[Array, Array]
    ) -> tuple[ThetaCarry, Array, Array]:
        """One step up to the input: the carry at t_input with (x, y) turned by the flow and
        the spikes on the way recorded, the input's shear w/c (0 at or after T; applied by
        `_sheared`), and the slots filled in this step. For a batch it runs per trial
        (`jax.vmap`) and `_sheared` on the whole batch."""
        t, x, y, counts, slot_x, slot_y, slot_t = carry
        t_input, weight = event
        full_turns, crossed, x_turned, y_turned = self._turn(t, x, y, t_input)
        new_spikes = full_turns.astype(counts.dtype) + crossed.astype(counts.dtype)
        index = self.slots - counts  # the m-th spike of this step goes to slot counts + m
        recorded = (index >= 0) & (index < new_spikes)
        slot_x = jnp.where(recorded, x, slot_x)
        slot_y = jnp.where(recorded, y, slot_y)
        slot_t = jnp.where(recorded, t + index * self.model.period, slot_t)
        carry = ThetaCarry(t_input, x_turned, y_turned, counts + new_spikes, slot_x, slot_y, slot_t)
        return carry, self._shear(t_input, weight), recorded

    def _turn(self, t: Array, x: Array, y: Array, t_input: Array):
        """The free flow from t to t_input, a rotation by omega (t_input - t) = k pi + r:
        k full turns, whether x crossed 0 in the rest r (a spike), and (x, y) after it,
        sign-flipped after a crossing (the reset), so that x >= 0."""
        turn = (t_input - t) * self.omega
        full_turns = jnp.floor(turn / jnp.pi)
        rest = turn - full_turns * jnp.pi
        cos_r, sin_r = jnp.cos(rest), jnp.sin(rest)
        x_turned, y_turned = cos_r * x - sin_r * y, sin_r * x + cos_r * y
        crossed = x_turned < 0
        x_turned = jnp.where(crossed, -x_turned, x_turned)
        return full_turns, crossed, x_turned, jnp.where(crossed, -y_turned, y_turned)

    def _shear(self, t_input: Array, weight: Array) -> Array:
        """The shear s = w/c of an input (tan a -> tan a + s), 0 at or after T."""
        return jnp.where(t_input < self.duration, weight / self.model.c, 0.0)

    def _angle_turn(
        self, state: tuple[Array, Array, Array], event: tuple[Array, Array]
    ) -> tuple[tuple[Array, Array, Array], Array]:
        """(t, x, y) and the shear of `_turn_and_record` without the spike slots: what the
        backward pass recomputes for a chunk from the state at the chunk's start."""
        t, x, y = state
        t_input, weight = event
        _, _, x, y = self._turn(t, x, y, t_input)
        return (t_input, x, y), self._shear(t_input, weight)

    def run(
        self,
        initial_state: Array,
        arrival: Array,
        sources: Array,
        weights_t: Array,
        n_active: Array | None,
    ) -> StepResult:
        """All steps (`LayerSteps.run`): `run_batch` on a batch of one trial."""
        result = self.run_batch(
            initial_state[None], arrival[None], sources[None], weights_t, n_active
        )
        return StepResult(*(value[0] for value in result))

    def run_batch(
        self,
        initial_state: Array,
        arrival: Array,
        sources: Array,
        weights_t: Array,
        n_active: Array | None,
    ) -> StepResult:
        """All steps of a batch (`LayerSteps.run_batch`), the trials side by side, with the
        adjoint backward pass of `_theta_run` (weights shared or per trial)."""
        phase = jnp.clip(initial_state[:, 0], 0.0, self.model.period)
        if n_active is None:
            n_active = jnp.asarray(arrival[0].size)
        times, counts, final_phase = _theta_run(
            self.model, self.max_spikes, phase, arrival, sources, weights_t, n_active, self.duration
        )
        return StepResult(times, counts, final_phase[:, None])

    def finish(self, carry: ThetaCarry) -> StepResult:
        _, x, y, counts, slot_x, slot_y, slot_t = carry
        filled = jnp.isfinite(slot_t)
        to_spike = (
            jnp.pi / 2 - jnp.arctan2(jnp.where(filled, slot_y, 1.0), jnp.where(filled, slot_x, 0.0))
        ) / self.omega
        times = jnp.where(filled, slot_t + to_spike, jnp.inf)
        phase = (jnp.arctan2(y, x) + jnp.pi / 2) / self.omega
        return StepResult(times.T, counts, phase[None])


class ThetaAutodiffSteps(ThetaSteps):
    """`ThetaSteps` differentiated by autodiff through the scan (the reference of the
    adjoint backward pass)."""

    def run(
        self,
        initial_state: Array,
        arrival: Array,
        sources: Array,
        weights_t: Array,
        n_active: Array | None,
    ) -> StepResult:
        return _scan_chunks(self, initial_state, arrival, sources, weights_t, n_active)

    run_batch = ModelSteps.run_batch  # `run` on each trial


def _vmapped_run(
    steps: LayerSteps,
    initial_state: Array,
    arrival: Array,
    sources: Array,
    weights_t: Array,
    n_active: Array | None,
) -> StepResult:
    """steps.run on each trial of a batch (`jax.vmap`; shared weights_t stay shared)."""
    axes = (0, 0, 0, 0 if weights_t.ndim == 3 else None, None)
    return jax.vmap(steps.run, axes)(initial_state, arrival, sources, weights_t, n_active)


def _angle_steps(steps: ThetaSteps, state, event):
    """`ThetaSteps._angle_turn` on a batch (state (t (B,), x, y (B, N)), event (t_input
    (B,), weight (B, N))), sheared, and the residuals of the backward pass (1/n^2,
    cos^2 a) after the step (`_sheared`)."""
    (t, x, y), shear = jax.vmap(steps._angle_turn)(state, event)
    x, y, residuals = _sheared(x, y, shear, with_residuals=True)
    return (t, x, y), residuals


def _sheared(x: Array, y: Array, shear: Array, with_residuals: bool = False):
    """The input's shear (x, y) -> (x, y + s x) of a vector of any length |v|, rescaled by a
    power of two, and, with_residuals, the backward pass's (1/n^2, cos^2 a) after it.

    tan a = y/x, its crossings of x = 0 and the spike times atan2(y, x) do not depend on
    |v|, so the steps carry (x, y) unnormalised: no square root or division per neuron
    and step. For a unit vector the shear gives n^2 = |v'|^2 (`ThetaSteps`), so in general
    1/n^2 = |v|^2 / |v'|^2 and cos^2 a = x^2 / |v'|^2. After the shear the vector is
    multiplied by 2^-e, max(x, |y|) = m 2^e with 1 <= m < 2 (`_power_of_two_scale`; exact,
    no rounding), so that |v| stays in [1, 2 sqrt 2) whatever the weights; y = +-inf (an
    infinite weight) gives (0, +-1).
    """
    y_sheared = y + shear * x
    infinite = jnp.isinf(y_sheared)
    scale = _power_of_two_scale(jnp.maximum(x, jnp.abs(y_sheared)))
    x_scaled = jnp.where(infinite, 0.0, x * scale)
    y_scaled = jnp.where(infinite, jnp.sign(y_sheared), y_sheared * scale)
    if not with_residuals:
        return x_scaled, y_scaled
    inverse_after = 1 / (x * x + y_sheared * y_sheared)  # 0 where |v'|^2 overflows: a = +-pi/2
    residuals = ((x * x + y * y) * inverse_after, x * x * inverse_after)
    return x_scaled, y_scaled, residuals


def _power_of_two_scale(m: Array) -> Array:
    """2^-e for m = f 2^e (1 <= f < 2) from the bits of m (normal m; e clipped to the
    normal exponents, so that m = 0 or subnormal gets the largest scale and +-inf the
    smallest); NaN stays NaN in the product."""
    info = jnp.finfo(m.dtype)
    bits = jnp.dtype(f"int{info.bits}")
    mantissa_bits, bias = info.nmant, info.maxexp - 1
    biased = jax.lax.bitcast_convert_type(m, bits) >> mantissa_bits  # sign bit 0: m >= 0
    biased = jnp.clip(biased, 1, 2 * bias - 1)
    return jax.lax.bitcast_convert_type((2 * bias - biased) << mantissa_bits, m.dtype)


def _scan_chunks(
    steps: LayerSteps,
    initial_state: Array,
    arrival: Array,
    sources: Array,
    weights_t: Array,
    n_active: Array | None,
) -> StepResult:
    """`steps.step` over the chunks (autodiff, each chunk recomputed in the backward pass)."""
    chunk_size = arrival.shape[1]

    @jax.checkpoint  # recomputed in the backward pass: residuals only at chunk boundaries
    def run_chunk(carry, times, chunk_sources, weights_t):
        events = (times, weights_t[chunk_sources])
        return jax.lax.scan(lambda c, e: (steps.step(c, e), None), carry, events)[0]

    def chunk_step(carry, indexed):
        index, times, chunk_sources = indexed
        if n_active is None:
            return run_chunk(carry, times, chunk_sources, weights_t), None
        needed = index * chunk_size < n_active
        return jax.lax.cond(
            needed, run_chunk, lambda c, *_: c, carry, times, chunk_sources, weights_t
        ), None

    carry, _ = jax.lax.scan(
        chunk_step, steps.start(initial_state), (jnp.arange(arrival.shape[0]), arrival, sources)
    )
    n = initial_state.shape[-1]
    return steps.finish(steps.step(carry, (steps.duration, jnp.zeros((n,), initial_state.dtype))))


def _theta_forward(
    model: Theta, max_spikes: int, phase, arrival, sources, weights_t, n_active, duration
):
    """The steps of `ThetaSteps` for a batch of trials side by side (phase (B, N), arrival
    and sources (B, C, chunk), weights_t (N_src, N) shared or (B, N_src, N) per trial),
    over the needed chunks (a loop of ceil(n_active / chunk) chunks, so that the skipped
    ones cost nothing). For the backward pass it records the state (t, x, y) at the start
    of each chunk, from which the chunk's residuals are recomputed, and per slot the index
    of the step that filled it."""
    steps = ThetaSteps(model, duration, max_spikes)
    turn_and_record = jax.vmap(steps._turn_and_record)
    batch, n_chunks, chunk_size = arrival.shape
    n, dtype = phase.shape[-1], phase.dtype

    def one_step(carry, event):
        state, slot_step, index = carry
        state, shear, recorded = turn_and_record(state, event)
        x, y = _sheared(state.x, state.y, shear)
        return (state._replace(x=x, y=y), jnp.where(recorded, index, slot_step), index + 1), None

    def run_chunk(chunk, carry):
        state, slot_step, starts = carry
        starts = tuple(
            buffer.at[chunk].set(value)
            for buffer, value in zip(starts, (state.t, state.x, state.y), strict=True)
        )
        events = (arrival[:, chunk].T, _rows(weights_t, sources[:, chunk].T))  # (chunk, B, ...)
        start = (state, slot_step, (chunk * chunk_size).astype(jnp.int32))
        (state, slot_step, _), _ = jax.lax.scan(one_step, start, events)
        return state, slot_step, starts

    unvisited = jnp.zeros((n_chunks, batch, n), dtype)  # never read by the backward pass
    state, slot_step, starts = jax.lax.fori_loop(
        0,
        _needed_chunks(n_active, chunk_size, n_chunks),
        run_chunk,
        (
            jax.vmap(steps.start)(phase[:, None]),
            jnp.full((batch, max_spikes, n), -1, jnp.int32),
            (jnp.zeros((n_chunks, batch), dtype), unvisited, unvisited),
        ),
    )
    last = n_chunks * chunk_size  # the index of the last step, the flow to T
    to_end = (jnp.full((batch,), duration, dtype), jnp.zeros((batch, n), dtype))
    state, shear, recorded = turn_and_record(state, to_end)
    x, y, last_residuals = _sheared(state.x, state.y, shear, with_residuals=True)
    state = state._replace(x=x, y=y)
    slot_step = jnp.where(recorded, last, slot_step)
    times, counts, final_state = jax.vmap(steps.finish)(state)
    return (times, counts, final_state[:, 0]), (starts, last_residuals, slot_step)


def _rows(weights_t: Array, rows: Array) -> Array:
    """The weight rows (chunk, B, N) of a chunk's inputs, rows (chunk, B), from weights_t
    shared (N_src, N) or per trial (B, N_src, N)."""
    if weights_t.ndim == 2:
        return weights_t[rows]
    return weights_t[jnp.arange(rows.shape[1]), rows]


def _add_rows(weights_bar: Array, rows: Array, rows_bar: Array) -> Array:
    """The transpose of `_rows`: rows_bar (chunk, B, N) added to the rows they came from."""
    if weights_bar.ndim == 2:
        return weights_bar.at[rows].add(rows_bar)
    return weights_bar.at[jnp.arange(rows.shape[1]), rows].add(rows_bar)


def _needed_chunks(n_active, chunk_size: int, n_chunks: int) -> Array:
    """The chunks that hold the first n_active inputs: ceil(n_active / chunk_size)."""
    return jnp.clip((n_active + chunk_size - 1) // chunk_size, 0, n_chunks).astype(jnp.int32)


@partial(jax.custom_vjp, nondiff_argnums=(0, 1))
def _theta_run(
    model: Theta, max_spikes: int, phase, arrival, sources, weights_t, n_active, duration
):
    """Spike times (B, N, S), counts (B, N) and final phases (B, N) of a batch of theta
    layers (`_theta_forward`).

    The backward pass is the adjoint of the phase angle a (x, y) = (cos a, sin a): a
    step maps a_before to a_after = arctan(tan(a_before + omega (t_k - t_{k-1})) + s_k),
    s_k = w_k / c, so da_after/da_before = 1/n_k^2 and da_after/ds_k = cos^2 a_after;
    a spike in step k at t_{k-1} + m Theta + (pi/2 - a_{k-1}) / omega and the final phase
    (a_T + pi/2) / omega. The reverse loop carries the adjoint lambda of the angle and
    that of the time of the last input, per trial; it skips the chunks that the forward
    pass skipped, recomputes each chunk's residuals (1/n^2, cos^2 a) from the state at
    its start, and adds the chunk's weight adjoints to the rows of weights_t they came
    from (for shared weights, those of all trials).
    """
    return _theta_forward(
        model, max_spikes, phase, arrival, sources, weights_t, n_active, duration
    )[0]


def _theta_run_fwd(model, max_spikes, phase, arrival, sources, weights_t, n_active, duration):
    outputs, (starts, last_residuals, slot_step) = _theta_forward(
        model, max_spikes, phase, arrival, sources, weights_t, n_active, duration
    )
    finite = jnp.isfinite(outputs[0])
    saved = (starts, last_residuals, slot_step, finite, arrival, sources, weights_t)
    return outputs, (*saved, n_active, duration)


def _theta_run_bwd(model, max_spikes, saved, cotangents):
    starts, last_residuals, slot_step, finite, arrival, sources, weights_t, n_active, duration = (
        saved
    )
    times_bar, _, phase_bar = cotangents
    steps = ThetaSteps(model, duration, max_spikes)
    omega = steps.omega
    batch, n_chunks, chunk_size = arrival.shape
    spike_bar = jnp.swapaxes(jnp.where(finite, times_bar, 0.0), -1, -2)  # (B, S, N)

    def back_step(slot_step, spike_bar, carry, inputs):
        """One step of one trial, backwards: the adjoints of the angle and of the time."""
        angle_bar, time_bar = carry
        index, t_input, (inverse_norm_squared, cos_squared) = inputs
        spikes = jnp.sum(jnp.where(slot_step == index, spike_bar, 0.0), axis=0)  # (N,)
        turned_bar = angle_bar * inverse_norm_squared  # adjoint of the angle before the shear
        shear_bar = jnp.where(t_input < duration, angle_bar * cos_squared / model.c, 0.0)
        arrival_bar = time_bar + omega * jnp.sum(turned_bar)
        carry = (turned_bar - spikes / omega, jnp.sum(spikes) - omega * jnp.sum(turned_bar))
        return carry, (arrival_bar, shear_bar)

    back = partial(jax.vmap(back_step, (0, 0, 0, (None, 0, 0))), slot_step, spike_bar)
    last = n_chunks * chunk_size
    to_end = (last, jnp.full((batch,), duration, phase_bar.dtype), last_residuals)
    carry, (duration_bar, _) = back(
        (phase_bar / omega, jnp.zeros((batch,), phase_bar.dtype)), to_end
    )
    angle_step = partial(_angle_steps, steps)

    def back_chunk(step, carry):
        adjoints, weights_bar, arrival_bar = carry
        chunk = n_needed - 1 - step
        rows = sources[:, chunk].T  # (chunk, B)
        times = arrival[:, chunk].T
        start = tuple(buffer[chunk] for buffer in starts)
        _, residuals = jax.lax.scan(angle_step, start, (times, _rows(weights_t, rows)))
        indices = chunk * chunk_size + jnp.arange(chunk_size)
        adjoints, (chunk_arrival_bar, shear_bar) = jax.lax.scan(
            back, adjoints, (indices, times, residuals), reverse=True
        )
        return (
            adjoints,
            _add_rows(weights_bar, rows, shear_bar),
            arrival_bar.at[:, chunk].set(chunk_arrival_bar.T),
        )

    n_needed = _needed_chunks(n_active, chunk_size, n_chunks)
    (angle_bar, _), weights_bar, arrival_bar = jax.lax.fori_loop(
        0, n_needed, back_chunk, (carry, jnp.zeros_like(weights_t), jnp.zeros_like(arrival))
    )
    return angle_bar * omega, arrival_bar, None, weights_bar, None, jnp.sum(duration_bar)


_theta_run.defvjp(_theta_run_fwd, _theta_run_bwd)


@singledispatch
def layer_steps(model: NeuronModel, duration: Array, max_spikes: int) -> LayerSteps:
    """The fastest exact steps for the model: the model's own functions by default."""
    return ModelSteps(model, duration, max_spikes)


@layer_steps.register
def _(model: Theta, duration: Array, max_spikes: int) -> LayerSteps:
    """Theta neurons: the rotation form."""
    return ThetaSteps(model, duration, max_spikes)
