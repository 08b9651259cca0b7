"""Yin-Yang with theta-neuron networks and pseudospikes (beyond the paper; issue 12).

The four features (x, y, 1 - x, 1 - y) of a point become input spike times
t = t_max * feature (time-to-first-spike coding), plus one bias input spike at t_bias.
A feed-forward network of theta neurons (the MNIST neuron: tau = 6/pi, I0 = 5/4,
Theta = 6) classifies the point by its first ordinary output spike within the trial
(no spike, or a tie: wrong), as the peers count it; trained with pseudospikes as in the
MNIST experiment (cross-entropy of the first output spike times, AdaBelief) plus a hinge
that pushes the correct neuron's spike before T (`late_spike_hinge`). The network trained
and read with pseudospikes counted, which the first stored runs used, is the variant
"pseudo_readout". Model selection uses the validation split only; the test split is not
looked at for any choice (its accuracy is recorded per epoch for the figure, and the
result is the one after the last, pre-set epoch).
"""

import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.typing import ArrayLike
from jaxtyping import Float, Int, Int8

from ..classification import (
    Epochs,
    EvaluationMetrics,
    Params,
    SpikingClassifier,
    TrainConfig,
    evaluate,
    percent_mean_std,
    spikes_only_prediction,
    train,
)
from ..data.yinyang import load_yinyang
from ..feedforward import LayerSpikes, check_spike_budget, simulate_feedforward_batch
from ..losses import first_spike_cross_entropy, late_spike_hinge
from ._experiment import Experiment, RunOptions, Variant, epochs_of
from ._results import ArrayGroup, run_metadata
from ._trained import TrainedClassifierResults, training_fields

# Yin-Yang is beyond the paper: its reference values are the test accuracies others
# reported (mean, sample std over seeds or None) and their sources
PAPER = {
    "EventProp (LIF, adjoint)": (0.981, 0.002, "Wunderlich & Pehle 2021, Sci. Rep. 11:12829"),
    "Göltz et al. (LIF, first-spike times)": (
        0.959,
        0.007,
        "Göltz et al. 2021, Nat. Mach. Intell. 3:823; Kriener et al. 2021",
    ),
    "ANN 4-120-3": (0.987, 0.003, "Kriener et al. 2021, arXiv:2102.08211"),
    "shallow (no hidden layer)": (0.64, None, "Kriener et al. 2021, arXiv:2102.08211"),
}
N_FEATURES = 4
READOUTS = ("spikes", "pseudospikes")
TEST_OFFSET = 3  # evaluation labels >= 3 mark test samples (label - 3), see `eval_data`
# spike budget per neuron of the analyses after training (the decision map covers points
# outside the disk, where a hidden neuron may spike twice)
ANALYSIS_SPIKES = 3


@dataclass(frozen=True)
class YinYangMetrics(EvaluationMetrics):
    """`YinYangNetwork.summarize`: accuracy, loss and the rest on the validation split,
    test_* on the test split (0 without monitor_test)."""

    accuracy_ordinary: float  # ordinary spikes only (none: class 0)
    activity: float  # spikes per hidden neuron and point
    silent: float  # fraction of hidden neurons silent for every point
    output_activity: float  # spikes per output neuron and point
    test_accuracy: float
    test_accuracy_ordinary: float
    test_loss: float
    # real spikes only: the output neuron with the first ordinary spike within the
    # readout window (`YinYangNetwork.window`); no output spike, or a tie of the earliest
    # ones, is wrong (`spikes_only_prediction`)
    accuracy_spikes_only: float = math.nan
    test_accuracy_spikes_only: float = math.nan
    # the same, counting only the spikes before the training trial's end T (equal to
    # accuracy_spikes_only where the window is T; nan in runs stored before it was recorded)
    accuracy_spikes_within_T: float = math.nan
    test_accuracy_spikes_within_T: float = math.nan
    # fraction of points decided by an output spike after T, within the window
    late_decisions: float = math.nan
    test_late_decisions: float = math.nan


@dataclass(frozen=True)
class YinYangNetwork(SpikingClassifier):
    """`SpikingClassifier` on time-coded points: 5 input channels (4 features, bias).

    Defaults: the full-scale run's network, 5-120-3 theta neurons (tau = 6/pi, I0 = 5/4)
    with T = 2, initial weights uniform in +-3/sqrt(fan_in), initial phases Theta/2.
    Inputs are features (B, 4); channel i spikes at t_max * feature_i, channel 4 (bias)
    at t_bias. Initial phases start at phase_init * Theta. With pseudospikes=False the
    first output spike times count ordinary spikes only (a silent output neuron has
    t = T, and no gradient): the ablation. early_weight > 0 adds early_weight
    max(0, t_label - (T - early_margin)) to each trial's loss (`late_spike_hinge`): the
    correct neuron is pushed to spike, ordinarily, before T - early_margin (for the
    readout of real spikes; 0: off, the stored runs' loss). The evaluation metrics are split into
    validation and test by the labels (`TEST_OFFSET`).

    readout_window: the length of the trial in which the readout of real spikes counts
    output spikes (>= duration; None: duration). Training simulates [0, T] and continues
    missing spikes as pseudospikes; the readout simulates the network exactly on
    [0, readout_window], with ordinary spikes only, so that a spike that the pseudospike
    stood for can decide (`window`).
    """

    sizes: tuple[int, ...] = (N_FEATURES + 1, 120, 3)
    duration: float = 2.0  # T
    t_max: float = 1.0  # input spike time of feature value 1
    t_bias: float = 0.0  # time of the bias input spike
    phase_init: float = 0.5  # initial phases, in units of Theta
    w_scale: float = 3.0
    w_mean: float = 0.0
    pseudospikes: bool = True
    flip_probability: float = 0.0
    max_spikes: int = 1
    early_weight: float = 0.0
    early_margin: float = 0.0
    readout_window: float | None = None
    simulator: str = field(default="layered", init=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.sizes[0] != N_FEATURES + 1 or self.sizes[-1] != 3:
            raise ValueError(
                f"YinYangNetwork: sizes must start with {N_FEATURES + 1} inputs "
                f"(4 features, bias) and end with 3 classes, got {self.sizes}"
            )
        if not 0 <= self.t_max <= self.duration or not 0 <= self.t_bias <= self.duration:
            raise ValueError(
                f"YinYangNetwork: t_max and t_bias must lie in [0, duration="
                f"{self.duration}], got {self.t_max} and {self.t_bias}"
            )
        if not self.early_weight >= 0 or not 0 <= self.early_margin <= self.duration:
            raise ValueError(
                f"YinYangNetwork: early_weight must be >= 0 and early_margin "
                f"in [0, duration={self.duration}], got {self.early_weight} "
                f"and {self.early_margin}"
            )
        if self.readout_window is not None and not self.readout_window >= self.duration:
            raise ValueError(
                f"YinYangNetwork: readout_window must be None or >= duration="
                f"{self.duration} (the readout trial contains the training trial), "
                f"got {self.readout_window}"
            )

    @property
    def window(self) -> float:
        """Length of the readout trial of real spikes: readout_window, or T if None."""
        return self.duration if self.readout_window is None else self.readout_window

    def readout_network(self) -> "YinYangNetwork":
        """This network simulated for the readout of real spikes: trial length `window`,
        spike budget at least `ANALYSIS_SPIKES` per neuron (a hidden neuron may spike more
        often in a longer trial)."""
        return replace(
            self,
            duration=self.window,
            readout_window=None,
            max_spikes=max(self.max_spikes, ANALYSIS_SPIKES),
        )

    input_name = "features"
    input_columns = N_FEATURES  # the bias input is added by input_times

    def check_inputs(self, features: np.ndarray, caller: str) -> None:
        """ValueError unless every feature is a number in [0, 1] (NaN refused)."""
        bad = self.invalid_inputs(features)
        if np.any(bad):
            sample, column = np.argwhere(np.asarray(bad))[0]
            raise ValueError(
                f"{caller}: features[{sample}, {column}] is "
                f"{features[sample, column].item()!r}, but features must lie in "
                "[0, 1] (x, y, 1 - x, 1 - y of a point in the unit square)"
            )

    def invalid_inputs(self, features: ArrayLike) -> Array:
        """Features outside [0, 1] or NaN, traceable."""
        features = jnp.asarray(features)
        return ~((features >= 0) & (features <= 1))

    def label_values(self, evaluation: bool = False) -> range | list[int]:
        """0..2; for evaluation also TEST_OFFSET..TEST_OFFSET+2 (test samples)."""
        return [*range(3), *range(TEST_OFFSET, TEST_OFFSET + 3)] if evaluation else range(3)

    def init(self, key: Array, dtype=jnp.float32) -> Params:
        """Weights uniform in w_mean/fan_in +- w_scale/sqrt(fan_in); phases phase_init Theta."""
        params = super().init(key, dtype)
        weights = [w + self.w_mean / w.shape[1] for w in params["weights"]]
        phases = [
            jnp.full_like(p, self.phase_init * self.model.period) for p in params["initial_phases"]
        ]
        return {"weights": weights, "initial_phases": phases}

    def input_times(self, features: ArrayLike) -> Array:
        """Input spike times (B, 5): t_max * features, then the bias spike t_bias."""
        features = jnp.asarray(features)
        bias = jnp.full((*features.shape[:-1], 1), self.t_bias, features.dtype)
        return jnp.concatenate([self.t_max * features, bias], axis=-1)

    def simulate(self, params: Params, features: ArrayLike) -> tuple[LayerSpikes, ...]:
        """Spikes of every layer for a batch of points (B, 4); leading axis B."""
        times = self.input_times(jnp.asarray(features, params["weights"][0].dtype))
        states = [p[None] for p in params["initial_phases"]]
        return simulate_feedforward_batch(
            self.model,
            params["weights"],
            times,
            jnp.arange(times.shape[-1]),
            states,
            self.duration,
            self.max_spikes,
        )

    def input_weights(self, params: Params, features: ArrayLike) -> Array:
        """First-layer weights per trial (B, N_1, 5): the same for every point."""
        first = params["weights"][0]
        return jnp.broadcast_to(first, (jnp.shape(features)[0], *first.shape))

    def first_spike_times(
        self, params: Params, features: ArrayLike, layers: tuple[LayerSpikes, ...]
    ) -> Array:
        """First output spike times (B, 3), with pseudospikes unless disabled."""
        first = super().first_spike_times(params, features, layers)
        return first if self.pseudospikes else jnp.minimum(first, self.duration)

    def trial_losses(self, first: Array, labels: Array) -> Array:
        """Cross-entropy of the first spike times, plus the late-spike hinge if on."""
        losses = super().trial_losses(first, labels)
        if self.early_weight == 0:
            return losses
        deadline = self.duration - self.early_margin
        hinge = jax.vmap(late_spike_hinge, (0, 0, None))(first, labels, deadline)
        return losses + self.early_weight * hinge

    def batch_metrics(self, params: Params, features: Array, labels: Array) -> dict[str, Array]:
        """Sums over a batch, separately for validation (label < 3) and test samples."""
        self.check_data(features, labels, evaluation=True, caller="batch_metrics")
        is_test = labels >= TEST_OFFSET
        labels = jnp.where(is_test, labels - TEST_OFFSET, labels)
        first, layers = self.forward(params, features)
        ordinary = jnp.minimum(first, self.duration)
        loss = jax.vmap(first_spike_cross_entropy, (0, 0, None, None))(
            first, labels, self.duration, self.gamma
        )
        correct = jnp.argmin(first, axis=-1) == labels
        correct_ordinary = jnp.argmin(ordinary, axis=-1) == labels
        if self.window > self.duration:  # the readout trial, simulated on its own
            readout_first, readout_layers = self.readout_network().forward(params, features)
            exhausted = _exhausted(layers) | _exhausted(readout_layers)
        else:
            readout_first, exhausted = first, _exhausted(layers)
        decided = spikes_only_prediction(readout_first, self.window)
        correct_spikes_only = decided == labels
        correct_within_T = spikes_only_prediction(readout_first, self.duration) == labels
        late = (decided >= 0) & (jnp.min(readout_first, axis=-1) >= self.duration)
        counts = (
            jnp.concatenate([jnp.minimum(h.counts, self.max_spikes) for h in layers[:-1]], axis=-1)
            if len(layers) > 1
            else jnp.zeros((len(labels), 1))
        )
        sums = {
            "hidden_spikes": jnp.sum(counts, axis=0),
            "output_spikes": jnp.sum(jnp.minimum(layers[-1].counts, self.max_spikes)),
            "n_exhausted": jnp.sum(exhausted),
        }
        for prefix, mask in (("", ~is_test), ("test_", is_test)):
            sums |= {
                f"{prefix}n": jnp.sum(mask),
                f"{prefix}loss": jnp.sum(loss * mask),
                f"{prefix}correct": jnp.sum(correct & mask),
                f"{prefix}correct_ordinary": jnp.sum(correct_ordinary & mask),
                f"{prefix}correct_spikes_only": jnp.sum(correct_spikes_only & mask),
                f"{prefix}correct_within_T": jnp.sum(correct_within_T & mask),
                f"{prefix}late": jnp.sum(late & mask),
            }
        return sums

    @staticmethod
    def summarize(  # type: ignore[override]  # other metrics than the MNIST classifier's
        sums: dict[str, Array], n_samples: int
    ) -> YinYangMetrics:
        """Accuracies and losses of the validation (no prefix) and test (``test_``) samples,
        spikes per hidden neuron and point, silent hidden neurons, output spikes."""
        split: dict[str, float] = {}
        for prefix in ("", "test_"):
            n = max(int(sums[f"{prefix}n"]), 1)
            split |= {
                f"{prefix}accuracy": float(sums[f"{prefix}correct"]) / n,
                f"{prefix}accuracy_ordinary": float(sums[f"{prefix}correct_ordinary"]) / n,
                f"{prefix}accuracy_spikes_only": float(sums[f"{prefix}correct_spikes_only"]) / n,
                f"{prefix}accuracy_spikes_within_T": float(sums[f"{prefix}correct_within_T"]) / n,
                f"{prefix}late_decisions": float(sums[f"{prefix}late"]) / n,
                f"{prefix}loss": float(sums[f"{prefix}loss"]) / n,
            }
        hidden = np.asarray(sums["hidden_spikes"])
        return YinYangMetrics(
            **split,
            activity=float(np.mean(hidden)) / n_samples,
            silent=float(np.mean(hidden == 0)),
            output_activity=float(sums["output_spikes"]) / (3 * n_samples),
            n_exhausted=int(sums["n_exhausted"]),
        )


@dataclass(frozen=True)
class YinYangData:
    """Which points: the first n_train of the 5000 training points (evaluation: the
    validation and test splits, 1000 points each)."""

    n_train: int = 5000

    def __post_init__(self) -> None:
        if not 0 < self.n_train <= 5000:
            raise ValueError(f"YinYangData: n_train must lie in 1..5000, got {self.n_train}")


@dataclass(frozen=True)
class YinYangConfig:
    """Parameters of the Yin-Yang experiment; defaults: the full-scale run, chosen on the
    validation split (the network's defaults, `YinYangNetwork`: 120 hidden neurons, w_scale
    3; training: 100 epochs, batches of 100, lr 1e-2 decaying with time constant 25 epochs;
    99.1 % validation accuracy for seeds 0 and 1)."""

    network: YinYangNetwork = field(default_factory=YinYangNetwork)
    training: TrainConfig = field(
        default_factory=partial(TrainConfig, batch_size=100, learning_rate=1e-2, decay_epochs=25.0)
    )
    data: YinYangData = field(default_factory=YinYangData)
    monitor_test: bool = True  # evaluate the test split too (recorded, never used to choose)
    map_points: int = 101  # decision map: map_points^2 points of the unit square
    # the readout of the decision map and of the stored test predictions: "spikes" (the
    # first ordinary spike; none or a tie: no class, -1) or "pseudospikes" (counted);
    # the metrics record both readouts either way
    readout: str = "pseudospikes"

    def __post_init__(self) -> None:
        if self.map_points < 2:
            raise ValueError(f"YinYangConfig: map_points must be >= 2, got {self.map_points}")
        if self.readout not in READOUTS:
            raise ValueError(
                f"YinYangConfig: readout must be one of {READOUTS}, got {self.readout!r}"
            )


def eval_data(monitor_test: bool) -> tuple[np.ndarray, np.ndarray]:
    """The evaluation set: the validation split, then (if monitor_test) the test split
    with labels shifted by TEST_OFFSET so that the metrics keep them apart."""
    features, labels = load_yinyang("validation")
    if monitor_test:
        test_features, test_labels = load_yinyang("test")
        features = np.concatenate([features, test_features])
        labels = np.concatenate([labels, test_labels + TEST_OFFSET])
    return features.astype(np.float32), labels.astype(np.int32)


@dataclass
class DecisionMap(ArrayGroup):
    """Predicted class on a G x G grid over the unit square (stored as "map_grid",
    "map_prediction")."""

    KEY: ClassVar[str] = "map_{field}"

    grid: Float[np.ndarray, " G"]  # the x and the y values
    prediction: Int8[np.ndarray, "G G"]  # [y index, x index]: 0 yin, 1 yang, 2 dot


@dataclass
class ExampleSpikes(ArrayGroup):
    """The example test points (one per class) in the network before or after training
    (stored as "example_{field}_{before|after}"): M = 5 inputs + hidden + 3 outputs,
    S = `ANALYSIS_SPIKES`."""

    KEY: ClassVar[str] = "example_{field}_{group}"

    spike_times: Float[np.ndarray, "3 M S"]  # inputs first, +inf padded
    first_times: Float[np.ndarray, "3 3"]  # first output spike times, pseudospikes counted


@dataclass(kw_only=True)
class YinYangResults(TrainedClassifierResults[YinYangMetrics]):
    """Results of `run`: metrics per epoch (`metrics`; `final`, `initial`), the trained
    parameters, the decision map, the test predictions and the example points before and
    after training."""

    config: YinYangConfig
    metrics: Epochs[YinYangMetrics]
    decision_map: DecisionMap  # of the trained network
    test_prediction: Int8[np.ndarray, " P"]  # predicted class of each test point
    example_index: Int[np.ndarray, " 3"]  # the example test points: the first of each class
    before: ExampleSpikes
    after: ExampleSpikes
    peers: dict[str, list] = field(
        default_factory=lambda: {  # for reference
            name: list(value) for name, value in PAPER.items()
        }
    )

    def example(self, which: str) -> ExampleSpikes:
        """The example points' spikes "before" or "after" training."""
        return {"before": self.before, "after": self.after}[which]


def run(
    config: YinYangConfig = YinYangConfig(),
    checkpoint: str | Path | None = None,
    progress: bool = True,
) -> YinYangResults:
    """Train one seed; return validation (and test) metrics per epoch, the parameters,
    the decision map and spike rasters of one example per class before and after."""
    start = time.perf_counter()
    net = config.network
    features, labels = load_yinyang("train")
    train_data = (
        features[: config.data.n_train].astype(np.float32),
        labels[: config.data.n_train].astype(np.int32),
    )
    initial = net.init(jax.random.PRNGKey(config.training.seed))
    # the trajectory does not depend on the number of epochs or on the map shown
    fingerprint = {
        "network": asdict(net),
        "data": asdict(config.data),
        "monitor_test": config.monitor_test,
    }
    result = train(
        net,
        initial,
        train_data,
        eval_data(config.monitor_test),
        config.training,
        checkpoint=checkpoint,
        fingerprint=fingerprint,
        progress=progress,
    )
    test_features, test_labels = load_yinyang("test")
    example_index = np.array([np.flatnonzero(test_labels == c)[0] for c in range(3)])
    examples = {
        name: example_spikes(net, params, test_features[example_index])
        for name, params in (("before", initial), ("after", result.params))
    }
    return YinYangResults(
        config=config,
        **training_fields(result),
        decision_map=compute_decision_map(net, result.params, config.map_points, config.readout),
        test_prediction=predict(net, result.params, test_features, config.readout),
        example_index=example_index,
        before=examples["before"],
        after=examples["after"],
        # the final metrics in the JSON too, readable without the arrays
        metadata=run_metadata(time.perf_counter() - start, config.training.seed)
        | {"final": asdict(result.metrics.at(-1))},
    )


def predict(
    net: YinYangNetwork,
    params: Params,
    features: ArrayLike,
    readout: str = "pseudospikes",
    batch_size: int = 2000,
) -> np.ndarray:
    """Predicted class of each point: the earliest output spike, pseudospikes counted
    (readout "pseudospikes", trial length T), or the first ordinary spike within the
    readout window, -1 where there is none or a tie (readout "spikes",
    `spikes_only_prediction`, trial length `YinYangNetwork.window`); simulated with at
    least `ANALYSIS_SPIKES` spikes per neuron (raises if the budget runs out)."""
    if readout not in READOUTS:
        raise ValueError(f"predict: readout must be one of {READOUTS}, got {readout!r}")
    net = (
        net.readout_network()
        if readout == "spikes"
        else replace(net, max_spikes=max(net.max_spikes, ANALYSIS_SPIKES))
    )
    features = np.asarray(features)
    predictions = []
    for begin in range(0, len(features), batch_size):
        batch = jnp.asarray(features[begin : begin + batch_size], jnp.float32)
        first, layers = _first_times(net, params, batch)
        check_spike_budget(layers)
        if readout == "spikes":
            predictions.append(np.asarray(spikes_only_prediction(first, net.duration)))
        else:
            predictions.append(np.asarray(jnp.argmin(first, axis=-1)))
    return np.concatenate(predictions).astype(np.int8)


def compute_decision_map(
    net: YinYangNetwork, params: Params, points: int, readout: str = "pseudospikes"
) -> DecisionMap:
    """Predicted class (`predict`) on a points x points grid over the unit square."""
    grid = np.linspace(0.0, 1.0, points)
    x, y = np.meshgrid(grid, grid)
    xy = np.stack([x.ravel(), y.ravel()], axis=-1)
    features = np.concatenate([xy, 1 - xy], axis=-1)
    prediction = predict(net, params, features, readout).reshape(points, points)
    return DecisionMap(grid=grid, prediction=prediction)


def example_spikes(net: YinYangNetwork, params: Params, features: ArrayLike) -> ExampleSpikes:
    """Spike times of all neurons (inputs first) for a few points, (B, 5 + N, S) with
    S = `ANALYSIS_SPIKES`, and their first output spike times (B, 3), in the readout
    trial (`YinYangNetwork.readout_network`: length `YinYangNetwork.window`)."""
    net = net.readout_network()
    features = jnp.asarray(features, jnp.float32)
    first, layers = _first_times(net, params, features)
    check_spike_budget(layers)
    inputs = net.input_times(features)[..., None]
    inputs = jnp.pad(inputs, ((0, 0), (0, 0), (0, net.max_spikes - 1)), constant_values=jnp.inf)
    spikes = jnp.concatenate([inputs, *[layer.times for layer in layers]], axis=1)
    return ExampleSpikes(spike_times=np.asarray(spikes), first_times=np.asarray(first))


def _exhausted(layers: tuple[LayerSpikes, ...]) -> Array:
    """Per trial (B,): whether the spike budget of any layer ran out."""
    return jnp.any(jnp.stack([layer.exhausted for layer in layers]), axis=0)


@partial(jax.jit, static_argnums=0)
def _first_times(
    net: YinYangNetwork, params: Params, features: Array
) -> tuple[Array, tuple[LayerSpikes, ...]]:
    """First output spike times (B, 3) and the spikes of every layer, compiled per net."""
    return net.forward(params, features)


# the network trained for the readout of real spikes (issue 20): the YinYangNetwork fields
# that differ from its defaults, chosen on the validation split by
# scripts/yinyang_selection.py. Rounds 1-4 (results/yinyang_selection.json, spike budget 1
# per neuron) chose the late-spike hinge with weight 0.3 and margin 0.25, T = 3 and
# initial phases 0.7 Theta (97.7 % mean validation accuracy from real spikes over seeds
# 0-4). With T >= 3 a hidden neuron may spike twice, so the runs allow 2 spikes per neuron;
# with that budget seed 2 of that choice stalled at 88.7 %. Rounds 5 and 6
# (results/yinyang_selection_budget2.json, budget 2, seeds 0-4 for every candidate) chose
# T = 4: 98.0 % mean validation accuracy from real spikes (97.0-98.6 % per seed); over
# seeds 0-9 it reached 93.3-97.3 % (the training paths change with the code and the
# machine's rounding; rounds 7-10: initial weights 5/3 as strong, 97.7 %). Round 11
# (results/yinyang_selection_round11_*.json) read each trained network also in longer
# trials and chose the stronger initial weights with a readout trial of 6
# (`readout_window`; --choose: results/yinyang_selection_round11_choice.json): 98.5 %
# mean validation accuracy from real spikes over seeds 0-9 (98.0 % before T = 4)
CHOSEN: dict[str, Any] = {
    "early_weight": 0.3,
    "early_margin": 0.25,
    "duration": 4.0,
    "phase_init": 0.7,
    "max_spikes": 2,
    "w_scale": 5.0,
    "readout_window": 6.0,
}
# the full-scale runs, by variant: (network fields that differ from the defaults, readout
# of the decision map and test predictions). "full": the chosen network, read from real
# spikes; its ablations; "pseudo_readout": the network of the first stored runs
# (YinYangNetwork's defaults), trained and read with pseudospikes counted
VARIANTS: dict[str, tuple[dict[str, Any], str]] = {
    "full": (CHOSEN, "spikes"),
    "nopseudo": (CHOSEN | {"pseudospikes": False}, "spikes"),  # ordinary spikes in the loss
    "shallow": (CHOSEN | {"sizes": (N_FEATURES + 1, 3)}, "spikes"),  # no hidden layer: 5 - 3
    "pseudo_readout": ({}, "pseudospikes"),
}
QUICK_EPOCHS = 3


def variant_config(variant: str, seed: int, epochs: int | None = None) -> YinYangConfig:
    """The config of a full-scale run of one variant (`VARIANTS`)."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {sorted(VARIANTS)}, got {variant!r}")
    config = YinYangConfig()
    network, readout = VARIANTS[variant]
    changes = {} if epochs is None else {"epochs": epochs}
    return replace(
        config,
        network=replace(config.network, **network),
        training=replace(config.training, seed=seed, **changes),
        readout=readout,
    )


def configure(variant: str, seed: int | None, options: RunOptions) -> YinYangConfig:
    """`snnlib reproduce yinyang`: 100 epochs (--quick: QUICK_EPOCHS, unless
    options.length says otherwise)."""
    quick = options.quick and options.length is None
    return variant_config(variant, seed or 0, QUICK_EPOCHS if quick else options.length)


def final_metrics(results: YinYangResults) -> YinYangMetrics:
    """The metrics after the last epoch; for a run stored before the readout of real
    spikes was recorded (nan), that readout re-evaluated from its stored parameters on
    the data it was evaluated on (`eval_data`)."""
    final = results.final
    if np.isfinite(final.accuracy_spikes_only):
        return final
    params = {
        "weights": [jnp.asarray(w) for w in results.weights],
        "initial_phases": [jnp.asarray(p) for p in results.initial_phases],
    }
    features, labels = eval_data(results.config.monitor_test)
    again = evaluate(results.config.network, params, features, labels)
    return replace(
        final,
        accuracy_spikes_only=again.accuracy_spikes_only,
        test_accuracy_spikes_only=again.test_accuracy_spikes_only,
    )


LABELS = {
    "full": "theta network trained for real spikes (late-spike hinge)",
    "nopseudo": "the same, no pseudospikes in training",
    "shallow": "the same, no hidden layer",
    "pseudo_readout": "theta network trained for the pseudospike readout (first runs)",
}


def compare(groups: dict[str, Sequence[YinYangResults]]) -> list[tuple[str, str, str, str]]:
    """Rows (network, test accuracy %, seeds, source) of the comparison table: the
    reported numbers (PAPER, real spikes), then ours for groups {variant: runs} (any of
    `VARIANTS`; final epoch, mean ± sample std over seeds; validation for runs that did
    not monitor the test split), each read from real spikes only (no output spike or a
    tie: wrong, as the peers count; `final_metrics`; where the readout trial is longer
    than T, also from the spikes before T alone) and counting pseudospikes."""
    rows = []
    for name, (mean, std, source) in PAPER.items():
        value = f"{100 * mean:.1f}" + (f" ± {100 * std:.1f}" if std is not None else "")
        rows.append((name, value, "", source))
    for variant, runs in groups.items():
        tested = all(run.config.monitor_test for run in runs)
        finals = [final_metrics(run) for run in runs]
        net = runs[0].config.network
        readouts = [("real spikes", "accuracy_spikes_only")]
        if net.window > net.duration:
            readouts = [
                (f"real spikes in a trial of {net.window:g}", "accuracy_spikes_only"),
                (f"real spikes before T = {net.duration:g}", "accuracy_spikes_within_T"),
            ]
        for readout, metric in (*readouts, ("pseudospikes counted", "accuracy")):
            values = [getattr(final, f"test_{metric}" if tested else metric) for final in finals]
            if np.all(np.isfinite(values)):
                label = f"{LABELS.get(variant, variant)}: {readout}"
                rows.append(
                    (
                        label + ("" if tested else " (validation)"),
                        percent_mean_std(values),
                        str(len(runs)),
                        "this book",
                    )
                )
    return rows


EXPERIMENT = Experiment(
    name="yinyang",
    description="5-120-3 theta network on Yin-Yang trained for the readout of real "
    "spikes, and its ablations (no pseudospikes, no hidden layer), Fig. 5-6; "
    "yinyang_pseudo_readout: the network trained for the pseudospike readout",
    expected_time="~2 min per run (30 runs; no hidden layer: 15 s) on 2 busy CPUs",
    config=YinYangConfig,
    results=YinYangResults,
    run=run,
    paper=PAPER,
    compare=compare,
    variants={
        "full": Variant("yinyang", seeds=tuple(range(10))),
        "nopseudo": Variant("yinyang_nopseudo", seeds=tuple(range(10))),
        "shallow": Variant("yinyang_shallow", seeds=tuple(range(10))),
        "pseudo_readout": Variant("yinyang_pseudo_readout", seeds=tuple(range(10))),
    },
    reproductions={
        "yinyang": ("full", "nopseudo", "shallow"),
        "yinyang_pseudo_readout": ("pseudo_readout",),
    },
    configure=configure,
    size=epochs_of,
    size_label="epochs",
)
