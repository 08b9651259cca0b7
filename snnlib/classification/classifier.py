"""Feed-forward spiking classifier with time-to-first-spike coding (paper Fig. 4).

Images enter as time-to-first-spike inputs (`snnlib.data.encoding`); the class is the
output neuron that spikes first, counting pseudospikes, so that every output neuron has a
finite first spike time even in an initially silent network. Trainable parameters: the
weights of every layer and the initial phases of all neurons.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.typing import ArrayLike
from jaxtyping import Bool

from ..budget import Budget, is_concrete
from ..data.encoding import bin_spike_times, flip_bins, virtual_input_weights
from ..feedforward import (
    LayerSpikes,
    feedforward_pseudo_inputs,
    layer_output_times,
    simulate_feedforward_batch,
    simulate_feedforward_generic,
)
from ..losses import first_spike_cross_entropy
from ..neurons import Theta
from .metrics import EvaluationMetrics, spikes_only_prediction

Params = dict[str, list[Array]]


@dataclass(frozen=True)
class ClassifierMetrics(EvaluationMetrics):
    """`SpikingClassifier.summarize`: the test metrics of one evaluation (MNIST)."""

    accuracy_ordinary: float  # ordinary spikes only (no output spike: class 0)
    loss_ordinary: float  # loss of the ordinary first spike times
    activity: float  # spikes per hidden neuron and sample
    activity_first: float  # hidden spikes before the first output spike
    silent: float  # fraction of hidden neurons silent for every sample
    silent_first: float  # hidden neurons silent before the first output spike, every sample
    output_activity: float  # spikes per output neuron and sample
    # real spikes only: no output spike before T, or a tie, is wrong (issue 20)
    accuracy_spikes_only: float = math.nan


@dataclass(frozen=True)
class SpikingClassifier:
    """A network sizes[0] (pixels) - hidden - ... - sizes[-1] (classes) of theta neurons
    (`model`, a `Theta`: the type its stored configs read back as).

    Paper's values: theta neurons (tau 6/pi, I0 5/4, Theta = 6), 784-100-100-10, T = 2,
    one input bin, initial weights uniform in +-w_scale/sqrt(fan_in) with w_scale = 0.5,
    initial phases Theta/2, loss weight gamma = 1e-2, input flips p = 0.02.
    Frozen and hashable: a static argument of `jax.jit`.

    simulator: "layered" (`simulate_feedforward`, spike budget max_spikes per neuron) or
    "generic" (`simulate` on the equivalent recurrent network, max_events events: the
    paper's K = 200).

    micro_batch: a batch larger than this (and divisible by it) is simulated in slices of
    micro_batch trials, one after the other (`jax.lax.map`), so that each slice's arrays
    stay in the CPU's caches: on 2 CPU cores the forward pass of 1000 trials of the trained
    MNIST network is 1.2-1.3x faster in slices of 100 than at once, the training step
    about as fast (book/performance.md). Each trial's result is the same; None simulates
    the whole batch at once.
    """

    model: Theta = field(default_factory=Theta)
    sizes: tuple[int, ...] = (784, 100, 100, 10)
    duration: float = 2.0
    n_bins: int = 1
    w_scale: float = 0.5
    gamma: float = 1e-2
    flip_probability: float = 0.02
    max_spikes: int = 1
    simulator: str = "layered"
    max_events: int = 200
    micro_batch: int | None = 100

    def __post_init__(self) -> None:
        object.__setattr__(self, "sizes", tuple(int(n) for n in self.sizes))
        if len(self.sizes) < 2 or min(self.sizes) < 1:
            raise ValueError(f"sizes must hold at least two positive layer sizes, got {self.sizes}")
        if self.simulator not in ("layered", "generic"):
            raise ValueError(f"simulator must be 'layered' or 'generic', got {self.simulator!r}")
        if not 0 <= self.flip_probability <= 1:
            raise ValueError(f"flip_probability must lie in [0, 1], got {self.flip_probability}")
        if not isinstance(self.model, Theta):
            raise TypeError(f"model must be a Theta neuron, got {self.model!r}")
        if self.micro_batch is not None and (
            not isinstance(self.micro_batch, int) or self.micro_batch < 1
        ):
            raise ValueError(
                f"micro_batch must be a positive int or None, got {self.micro_batch!r}"
            )

    @property
    def budget(self) -> Budget:
        """The simulation budget: max_spikes per neuron (layered) or max_events (generic)."""
        if self.simulator == "layered":
            return Budget("max_spikes", self.max_spikes)
        return Budget("max_events", self.max_events)

    def init(self, key: Array, dtype=jnp.float32) -> Params:
        """Weights uniform in +-w_scale/sqrt(fan_in), initial phases Theta/2."""
        keys = jax.random.split(key, len(self.sizes) - 1)
        weights, phases = [], []
        for k, fan_in, fan_out in zip(keys, self.sizes[:-1], self.sizes[1:], strict=True):
            width = self.w_scale / math.sqrt(fan_in)
            weights.append(jax.random.uniform(k, (fan_out, fan_in), dtype, -width, width))
            phases.append(jnp.full((fan_out,), self.model.period / 2, dtype))
        return {"weights": weights, "initial_phases": phases}

    def constrain(self, params: Params) -> Params:
        """Initial phases clipped to [0, Theta] (after each optimiser step)."""
        phases = [jnp.clip(p, 0.0, self.model.period) for p in params["initial_phases"]]
        return {**params, "initial_phases": phases}

    def simulate(self, params: Params, bins: ArrayLike) -> tuple[LayerSpikes, ...]:
        """Spikes of every layer for a batch of images given as pixel bins (B, n_pixels);
        the results have a leading axis B."""
        bins = jnp.asarray(bins)
        first = self.input_weights(params, bins)
        weights = [first, *params["weights"][1:]]
        times = jnp.asarray(bin_spike_times(self.n_bins, self.duration), first.dtype)
        times = jnp.broadcast_to(times, (bins.shape[0], self.n_bins))
        channels = jnp.arange(self.n_bins)
        states = [p[None] for p in params["initial_phases"]]
        if self.simulator == "layered":
            return simulate_feedforward_batch(
                self.model, weights, times, channels, states, self.duration, self.max_spikes
            )
        generic = partial(
            simulate_feedforward_generic,
            self.model,
            max_spikes=self.max_spikes,
            max_events=self.max_events,
        )
        axes = ([0] + [None] * (len(weights) - 1), 0, None, None, None)
        return jax.vmap(generic, axes)(weights, times, channels, states, self.duration)

    def first_spike_times(
        self, params: Params, bins: ArrayLike, layers: tuple[LayerSpikes, ...]
    ) -> Array:
        """First output spike time of each class, ordinary or pseudo, (B, n_classes)."""

        def one_trial(first_weights, trial_layers):
            weights = [first_weights, *params["weights"][1:]]
            pseudo_input = feedforward_pseudo_inputs(self.model, weights, trial_layers)
            return layer_output_times(
                self.model, trial_layers[-1], self.duration, 1, pseudo_input[-1]
            )[:, 0]

        return jax.vmap(one_trial)(self.input_weights(params, bins), layers)

    def input_weights(self, params: Params, bins: ArrayLike) -> Array:
        """First-layer weights of the virtual input neurons (B, N_1, n_bins), summed per bin."""
        return jax.vmap(virtual_input_weights, (None, 0, None))(
            params["weights"][0], jnp.asarray(bins), self.n_bins
        )

    def forward(self, params: Params, bins: ArrayLike) -> tuple[Array, tuple[LayerSpikes, ...]]:
        """First output spike times (B, n_classes) and the spikes of every layer of a batch,
        simulated in slices of micro_batch trials (see the class docstring)."""
        bins = jnp.asarray(bins)
        size = self.micro_batch
        if size is None or bins.shape[0] <= size or bins.shape[0] % size:
            return self._whole_batch(params, bins)
        slices = bins.reshape(-1, size, *bins.shape[1:])
        result = jax.lax.map(lambda part: self._whole_batch(params, part), slices)
        return jax.tree.map(lambda x: x.reshape(-1, *x.shape[2:]), result)

    def _whole_batch(self, params: Params, bins: Array) -> tuple[Array, tuple[LayerSpikes, ...]]:
        layers = self.simulate(params, bins)
        return self.first_spike_times(params, bins, layers), layers

    def loss(self, params: Params, bins: Array, labels: Array, key: Array | None = None):
        """Mean loss over a batch (bins (B, n_pixels), labels (B,)), and aux metrics.

        With a key, input flips (probability flip_probability) augment the batch.
        Returns (loss, {"accuracy", "n_exhausted"}). Concrete bins or labels outside their
        range (`check_data`) raise ValueError; under tracing (inside `jax.jit`) the loss of
        such a batch is NaN instead (never a finite number).
        """
        self.check_data(bins, labels, caller="loss")
        invalid = self._invalid_trials(bins, labels)
        if key is not None and self.flip_probability > 0:
            bins = flip_bins(key, bins, self.n_bins, self.flip_probability)
        first, layers = self.forward(params, bins)
        losses = self.trial_losses(first, labels)
        correct = jnp.argmin(first, axis=-1) == labels
        return jnp.mean(_nan_where(losses, invalid)), {
            "accuracy": jnp.mean(correct),
            "n_exhausted": _n_exhausted(layers),
        }

    def trial_losses(self, first: Array, labels: Array) -> Array:
        """Loss of each trial (B,) of the first output spike times (B, n_classes)."""
        return jax.vmap(first_spike_cross_entropy, (0, 0, None, None))(
            first, labels, self.duration, self.gamma
        )

    def batch_metrics(self, params: Params, bins: Array, labels: Array) -> dict[str, Array]:
        """Sums over a batch of the test metrics (`summarize` turns them into means).

        Ordinary-only predictions follow the paper's code: first spike times clipped at
        T, so that an image without any output spike is assigned to class 0. Invalid
        bins or labels: ValueError if concrete, else NaN losses (see `loss`).
        """
        self.check_data(bins, labels, caller="batch_metrics")
        invalid = self._invalid_trials(bins, labels)
        first, layers = self.forward(params, bins)
        ordinary = jnp.minimum(first, self.duration)
        loss_fn = jax.vmap(first_spike_cross_entropy, (0, 0, None, None))
        hidden = layers[:-1]
        first_output = jnp.min(ordinary, axis=-1)  # T where no output neuron spiked
        before = [jnp.sum(h.times < first_output[:, None, None], axis=-1) for h in hidden]
        counts = [jnp.minimum(h.counts, h.times.shape[-1]) for h in hidden]
        return {
            "loss": jnp.sum(_nan_where(loss_fn(first, labels, self.duration, self.gamma), invalid)),
            "loss_ordinary": jnp.sum(
                _nan_where(loss_fn(ordinary, labels, self.duration, self.gamma), invalid)
            ),
            "correct": jnp.sum(jnp.argmin(first, axis=-1) == labels),
            "correct_ordinary": jnp.sum(jnp.argmin(ordinary, axis=-1) == labels),
            "correct_spikes_only": jnp.sum(spikes_only_prediction(first, self.duration) == labels),
            "hidden_spikes": jnp.concatenate([jnp.sum(c, axis=0) for c in counts]),
            "hidden_spikes_first": jnp.concatenate([jnp.sum(b, axis=0) for b in before]),
            "output_spikes": jnp.sum(jnp.minimum(layers[-1].counts, self.max_spikes), axis=0),
            "n_exhausted": _n_exhausted(layers),
        }

    @property
    def n_classes(self) -> int:
        """Number of classes, sizes[-1]: labels are class indices 0..n_classes-1."""
        return self.sizes[-1]

    def label_values(self, evaluation: bool = False) -> Sequence[int]:
        """The valid labels: 0..n_classes-1 (a subclass may add evaluation-only ones)."""
        return range(self.n_classes)

    def check_data(
        self,
        inputs: ArrayLike,
        labels: ArrayLike | None = None,
        *,
        evaluation: bool = False,
        caller: str = "SpikingClassifier",
    ) -> None:
        """Raise ValueError naming the argument and the fix unless `inputs` (B, sizes[0])
        are valid (`check_inputs`) and `labels` (B,) are integers in `label_values`.

        Shapes are always checked; values only where the arrays are concrete (outside
        `jax.jit`): under tracing, invalid trials get NaN losses (`loss`).
        """
        inputs = jnp.asarray(inputs) if not isinstance(inputs, np.ndarray) else inputs
        if inputs.ndim != 2 or inputs.shape[1] != self.input_columns:
            raise ValueError(
                f"{caller}: {self.input_name} must have shape (batch, "
                f"{self.input_columns}) for sizes[0]={self.sizes[0]}, got shape "
                f"{inputs.shape}"
            )
        if inputs.shape[0] == 0:
            raise ValueError(
                f"{caller}: {self.input_name} holds no samples (shape "
                f"{inputs.shape}): pass at least one"
            )
        if labels is not None:
            _check_labels(labels, inputs.shape[0], self.label_values(evaluation), caller)
        if is_concrete(inputs):
            self.check_inputs(np.asarray(inputs), caller)

    input_name = "bins"  # what the inputs are called in error messages

    @property
    def input_columns(self) -> int:
        """Columns of an input batch: one pixel bin per input neuron, sizes[0]."""
        return self.sizes[0]

    def check_inputs(self, bins: np.ndarray, caller: str) -> None:
        """ValueError unless every concrete bin is an integer in 0..n_bins (n_bins: silent)."""
        bad = ~np.isin(bins, np.arange(self.n_bins + 1))
        if np.any(bad):
            sample, pixel = np.argwhere(bad)[0]
            raise ValueError(
                f"{caller}: bins[{sample}, {pixel}] is {bins[sample, pixel].item()!r}, but bins "
                f"must be integers in 0..n_bins={self.n_bins} (bin n_bins: no spike); "
                "compute them from uint8 images with snnlib.data.encoding.pixel_bins"
            )

    def _invalid_trials(self, inputs: ArrayLike, labels: ArrayLike) -> Bool[Array, " B"]:
        """Trials with invalid inputs or labels, (B,): their losses are NaN under tracing."""
        labels = jnp.asarray(labels)
        allowed = jnp.asarray(list(self.label_values()), labels.dtype)
        bad_label = ~jnp.any(labels[:, None] == allowed[None, :], axis=-1)
        return bad_label | jnp.any(self.invalid_inputs(jnp.asarray(inputs)), axis=-1)

    def invalid_inputs(self, bins: Array) -> Bool[Array, "B P"]:
        """Bins that are not integers in 0..n_bins (NaN included), traceable."""
        return ~((bins >= 0) & (bins <= self.n_bins) & (bins == jnp.round(bins)))

    @staticmethod
    def summarize(sums: dict[str, Array], n_samples: int) -> ClassifierMetrics:
        """Test metrics from the batch sums: accuracies, losses, hidden activity (spikes per
        hidden neuron and image, in the whole trial and before the first output spike) and
        the fraction of hidden neurons silent for every image."""
        hidden, first = sums["hidden_spikes"], sums["hidden_spikes_first"]
        return ClassifierMetrics(
            accuracy=float(sums["correct"]) / n_samples,
            accuracy_ordinary=float(sums["correct_ordinary"]) / n_samples,
            loss=float(sums["loss"]) / n_samples,
            loss_ordinary=float(sums["loss_ordinary"]) / n_samples,
            activity=float(jnp.mean(hidden)) / n_samples,
            activity_first=float(jnp.mean(first)) / n_samples,
            silent=float(jnp.mean(hidden == 0)),
            silent_first=float(jnp.mean(first == 0)),
            output_activity=float(jnp.mean(sums["output_spikes"])) / n_samples,
            accuracy_spikes_only=float(sums["correct_spikes_only"]) / n_samples,
            n_exhausted=int(sums["n_exhausted"]),
        )


def _check_labels(labels: ArrayLike, n_samples: int, allowed: Sequence[int], caller: str) -> None:
    """ValueError unless labels is a (n_samples,) integer array with values in allowed
    (values checked only if concrete)."""
    labels = labels if isinstance(labels, np.ndarray | jax.Array) else np.asarray(labels)
    if labels.ndim != 1 or labels.shape[0] != n_samples:
        raise ValueError(
            f"{caller}: labels must have shape ({n_samples},), one per sample, "
            f"got shape {labels.shape}"
        )
    if not jnp.issubdtype(labels.dtype, jnp.integer):
        raise ValueError(
            f"{caller}: labels must be integer class indices, got dtype "
            f"{labels.dtype}; convert them with labels.astype(int)"
        )
    if is_concrete(labels):
        values = np.asarray(labels)
        bad = ~np.isin(values, np.asarray(list(allowed)))
        if np.any(bad):
            index = int(np.argmax(bad))
            raise ValueError(
                f"{caller}: labels[{index}] is {values[index]}, but labels must "
                f"be class indices in {_describe(allowed)} (one per output "
                "neuron, sizes[-1])"
            )


def _describe(values: Sequence[int]) -> str:
    values = list(values)
    if values == list(range(values[0], values[-1] + 1)):
        return f"{values[0]}..{values[-1]}"
    return ", ".join(map(str, values))


def _nan_where(values: Array, invalid: Array) -> Array:
    """values with NaN where invalid (an added constant: gradients elsewhere unchanged)."""
    return values + jax.lax.stop_gradient(jnp.where(invalid, jnp.nan, 0.0).astype(values.dtype))


def _n_exhausted(layers: tuple[LayerSpikes, ...]) -> Array:
    """Number of trials of a batch in which some layer's spike budget ran out."""
    exhausted = jnp.stack([layer.exhausted for layer in layers])
    return jnp.sum(jnp.any(exhausted, axis=0))
