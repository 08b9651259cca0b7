"""Yin-Yang with theta-neuron networks and pseudospikes (beyond the paper; issue 12).

The four features (x, y, 1 - x, 1 - y) of a point become input spike times
t = t_max * feature (time-to-first-spike coding), plus one bias input spike at t_bias.
A feed-forward network of theta neurons (the MNIST neuron: tau = 6/pi, I0 = 5/4,
Theta = 6) classifies the point by its earliest output spike, counting pseudospikes,
trained as in the MNIST experiment (cross-entropy of the first output spike times,
Adabelief). Model selection uses the validation split only; the test split is not
looked at for any choice (its accuracy is recorded per epoch for the figure, and the
result is the one after the last, pre-set epoch).
"""

import time
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

from ..classifier import Params, SpikingClassifier
from ..data.yinyang import load_yinyang
from ..feedforward import LayerSpikes, check_spike_budget, simulate_feedforward_batch
from ..losses import first_spike_cross_entropy
from ..training import TrainConfig, train
from ._classification import (
    EpochMetrics,
    Metrics,
    ReadsFlatConfig,
    TrainedClassifierResults,
    flat_network_fields,
    flat_training,
    training_fields,
)
from ._registry import Reproduction, RunOptions, register
from ._results import ArrayGroup, run_metadata

# reported test accuracies (mean, sample std over seeds) and their sources
PEERS = {
    "EventProp (LIF, adjoint)": (0.981, 0.002, "Wunderlich & Pehle 2021, Sci. Rep. 11:12829"),
    "Goltz et al. (LIF, first-spike times)": (
        0.959, 0.007, "Goltz et al. 2021, Nat. Mach. Intell. 3:823; Kriener et al. 2021"),
    "ANN 4-120-3": (0.987, 0.003, "Kriener et al. 2021, arXiv:2102.08211"),
    "shallow (no hidden layer)": (0.64, None, "Kriener et al. 2021, arXiv:2102.08211"),
}
N_FEATURES = 4
TEST_OFFSET = 3  # evaluation labels >= 3 mark test samples (label - 3), see `eval_data`
# spike budget per neuron of the analyses after training (the decision map covers points
# outside the disk, where a hidden neuron may spike twice)
ANALYSIS_SPIKES = 3


@dataclass(frozen=True)
class YinYangNetwork(SpikingClassifier):
    """`SpikingClassifier` on time-coded points: 5 input channels (4 features, bias).

    Defaults: the full-scale run's network, 5-120-3 theta neurons (tau = 6/pi, I0 = 5/4)
    with T = 2, initial weights uniform in +-3/sqrt(fan_in), initial phases Theta/2.
    Inputs are features (B, 4); channel i spikes at t_max * feature_i, channel 4 (bias)
    at t_bias. Initial phases start at phase_init * Theta. With pseudospikes=False the
    first output spike times count ordinary spikes only (a silent output neuron has
    t = T, and no gradient): the ablation. The evaluation metrics are split into
    validation and test by the labels (`TEST_OFFSET`).
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
    simulator: str = field(default="layered", init=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.sizes[0] != N_FEATURES + 1 or self.sizes[-1] != 3:
            raise ValueError(f"YinYangNetwork: sizes must start with {N_FEATURES + 1} inputs "
                             f"(4 features, bias) and end with 3 classes, got {self.sizes}")
        if not 0 <= self.t_max <= self.duration or not 0 <= self.t_bias <= self.duration:
            raise ValueError(f"YinYangNetwork: t_max and t_bias must lie in [0, duration="
                             f"{self.duration}], got {self.t_max} and {self.t_bias}")

    input_name = "features"
    input_columns = N_FEATURES  # the bias input is added by input_times

    def check_inputs(self, features: np.ndarray, caller: str) -> None:
        """ValueError unless every feature is a number in [0, 1] (NaN refused)."""
        bad = self.invalid_inputs(features)
        if np.any(bad):
            sample, column = np.argwhere(np.asarray(bad))[0]
            raise ValueError(f"{caller}: features[{sample}, {column}] is "
                             f"{features[sample, column].item()!r}, but features must lie in "
                             "[0, 1] (x, y, 1 - x, 1 - y of a point in the unit square)")

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
        phases = [jnp.full_like(p, self.phase_init * self.model.period)
                  for p in params["initial_phases"]]
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
        return simulate_feedforward_batch(self.model, params["weights"], times,
                                          jnp.arange(times.shape[-1]), states, self.duration,
                                          self.max_spikes)

    def input_weights(self, params: Params, features: ArrayLike) -> Array:
        """First-layer weights per trial (B, N_1, 5): the same for every point."""
        first = params["weights"][0]
        return jnp.broadcast_to(first, (jnp.shape(features)[0], *first.shape))

    def first_spike_times(self, params: Params, features: ArrayLike,
                          layers: tuple[LayerSpikes, ...]) -> Array:
        """First output spike times (B, 3), with pseudospikes unless disabled."""
        first = super().first_spike_times(params, features, layers)
        return first if self.pseudospikes else jnp.minimum(first, self.duration)

    def batch_metrics(self, params: Params, features: Array, labels: Array
                      ) -> dict[str, Array]:
        """Sums over a batch, separately for validation (label < 3) and test samples."""
        self.check_data(features, labels, evaluation=True, caller="batch_metrics")
        is_test = labels >= TEST_OFFSET
        labels = jnp.where(is_test, labels - TEST_OFFSET, labels)
        first, layers = self._batch(params, features)
        ordinary = jnp.minimum(first, self.duration)
        loss = jax.vmap(first_spike_cross_entropy, (0, 0, None, None))(
            first, labels, self.duration, self.gamma)
        correct = jnp.argmin(first, axis=-1) == labels
        correct_ordinary = jnp.argmin(ordinary, axis=-1) == labels
        counts = jnp.concatenate([jnp.minimum(h.counts, self.max_spikes) for h in layers[:-1]],
                                 axis=-1) if len(layers) > 1 else jnp.zeros((len(labels), 1))
        sums = {"hidden_spikes": jnp.sum(counts, axis=0),
                "output_spikes": jnp.sum(jnp.minimum(layers[-1].counts, self.max_spikes)),
                "n_exhausted": jnp.sum(jnp.any(jnp.stack([h.exhausted for h in layers]), 0))}
        for prefix, mask in (("", ~is_test), ("test_", is_test)):
            sums |= {f"{prefix}n": jnp.sum(mask), f"{prefix}loss": jnp.sum(loss * mask),
                     f"{prefix}correct": jnp.sum(correct & mask),
                     f"{prefix}correct_ordinary": jnp.sum(correct_ordinary & mask)}
        return sums

    @staticmethod
    def summarize(sums: dict[str, Array], n_samples: int) -> dict[str, float]:
        """Accuracies and losses of the validation (no prefix) and test (test_) samples,
        spikes per hidden neuron and point, silent hidden neurons, output spikes."""
        metrics = {}
        for prefix in ("", "test_"):
            n = max(int(sums[f"{prefix}n"]), 1)
            metrics |= {f"{prefix}accuracy": float(sums[f"{prefix}correct"]) / n,
                        f"{prefix}accuracy_ordinary":
                            float(sums[f"{prefix}correct_ordinary"]) / n,
                        f"{prefix}loss": float(sums[f"{prefix}loss"]) / n}
        hidden = np.asarray(sums["hidden_spikes"])
        return metrics | {"activity": float(np.mean(hidden)) / n_samples,
                          "silent": float(np.mean(hidden == 0)),
                          "output_activity": float(sums["output_spikes"]) / (3 * n_samples),
                          "n_exhausted": int(sums["n_exhausted"])}


@dataclass(frozen=True)
class YinYangData:
    """Which points: the first n_train of the 5000 training points (evaluation: the
    validation and test splits, 1000 points each)."""

    n_train: int = 5000

    def __post_init__(self) -> None:
        if not 0 < self.n_train <= 5000:
            raise ValueError(f"YinYangData: n_train must lie in 1..5000, got {self.n_train}")


@dataclass(frozen=True)
class YinYangConfig(ReadsFlatConfig):
    """Parameters of the Yin-Yang experiment; defaults: the full-scale run, chosen on the
    validation split (the network's defaults, `YinYangNetwork`: 120 hidden neurons, w_scale
    3; training: 100 epochs, batches of 100, lr 1e-2 decaying with time constant 25 epochs;
    99.1 % validation accuracy for seeds 0 and 1)."""

    network: YinYangNetwork = field(default_factory=YinYangNetwork)
    training: TrainConfig = field(default_factory=partial(
        TrainConfig, batch_size=100, learning_rate=1e-2, decay_epochs=25.0))
    data: YinYangData = field(default_factory=YinYangData)
    monitor_test: bool = True  # evaluate the test split too (recorded, never used to choose)
    map_points: int = 101  # decision map: map_points^2 points of the unit square

    def __post_init__(self) -> None:
        if self.map_points < 2:
            raise ValueError(f"YinYangConfig: map_points must be >= 2, got {self.map_points}")

    @classmethod
    def from_flat(cls, flat: dict[str, Any]) -> "YinYangConfig":
        """The config of results written before the configs were nested (e.g.
        results/yinyang_seed0.json); `from_dict` reads both layouts."""
        network = YinYangNetwork(**flat_network_fields(flat, N_FEATURES + 1, 3, (
            "duration", "t_max", "t_bias", "phase_init", "w_scale", "w_mean", "gamma",
            "pseudospikes", "max_spikes")))
        training = flat_training(flat)
        return cls(network, training, YinYangData(flat["n_train"]), flat["monitor_test"],
                   flat["map_points"])


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
class YinYangEpochs(EpochMetrics):
    """Metrics after each epoch (`EpochMetrics`, of `YinYangNetwork.summarize`): the
    unprefixed ones on the validation split, test_* on the test split (0 without
    monitor_test)."""

    test_accuracy: Float[np.ndarray, " E"]
    test_accuracy_ordinary: Float[np.ndarray, " E"]
    test_loss: Float[np.ndarray, " E"]


@dataclass(frozen=True)
class YinYangMetrics(Metrics):
    """The metrics of one epoch (`YinYangEpochs` at one index)."""

    test_accuracy: float
    test_accuracy_ordinary: float
    test_loss: float


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
class YinYangResults(TrainedClassifierResults):
    """Results of `run`: metrics per epoch (`metrics`), the trained parameters, the
    decision map, the test predictions and the example points before and after training."""

    config: YinYangConfig
    metrics: YinYangEpochs
    final: YinYangMetrics  # after the last epoch
    initial: YinYangMetrics  # before training
    decision_map: DecisionMap  # of the trained network
    test_prediction: Int8[np.ndarray, " P"]  # predicted class of each test point
    example_index: Int[np.ndarray, " 3"]  # the example test points: the first of each class
    before: ExampleSpikes
    after: ExampleSpikes
    peers: dict[str, list] = field(default_factory=lambda: {  # for reference
        name: list(value) for name, value in PEERS.items()})

    def example(self, which: str) -> ExampleSpikes:
        """The example points' spikes "before" or "after" training."""
        return {"before": self.before, "after": self.after}[which]


def run(config: YinYangConfig = YinYangConfig(), checkpoint: str | Path | None = None,
        progress: bool = True) -> YinYangResults:
    """Train one seed; return validation (and test) metrics per epoch, the parameters,
    the decision map and spike rasters of one example per class before and after."""
    start = time.perf_counter()
    net = config.network
    features, labels = load_yinyang("train")
    train_data = (features[:config.data.n_train].astype(np.float32),
                  labels[:config.data.n_train].astype(np.int32))
    initial = net.init(jax.random.PRNGKey(config.training.seed))
    # the trajectory does not depend on the number of epochs or on the map shown
    fingerprint = {"network": asdict(net), "data": asdict(config.data),
                   "monitor_test": config.monitor_test}
    result = train(net, initial, train_data, eval_data(config.monitor_test), config.training,
                   checkpoint=checkpoint, fingerprint=fingerprint, progress=progress)
    test_features, test_labels = load_yinyang("test")
    example_index = np.array([np.flatnonzero(test_labels == c)[0] for c in range(3)])
    examples = {name: example_spikes(net, params, test_features[example_index])
                for name, params in (("before", initial), ("after", result.params))}
    return YinYangResults(
        config=config, **training_fields(result, YinYangEpochs, YinYangMetrics),
        decision_map=decision_map(net, result.params, config.map_points),
        test_prediction=predict(net, result.params, test_features),
        example_index=example_index, **examples,
        metadata=run_metadata(time.perf_counter() - start, config.training.seed))


def predict(net: YinYangNetwork, params: Params, features: ArrayLike,
            batch_size: int = 2000) -> np.ndarray:
    """Predicted class (earliest output spike, pseudospikes counted) of each point,
    simulated with the spike budget `ANALYSIS_SPIKES` (raises if it runs out)."""
    net = replace(net, max_spikes=ANALYSIS_SPIKES)
    predictions = []
    for begin in range(0, len(features), batch_size):
        batch = jnp.asarray(features[begin:begin + batch_size], jnp.float32)
        first, layers = _first_times(net, params, batch)
        check_spike_budget(layers)
        predictions.append(np.asarray(jnp.argmin(first, axis=-1)))
    return np.concatenate(predictions).astype(np.int8)


def decision_map(net: YinYangNetwork, params: Params, points: int) -> DecisionMap:
    """Predicted class on a points x points grid over the unit square."""
    grid = np.linspace(0.0, 1.0, points)
    x, y = np.meshgrid(grid, grid)
    xy = np.stack([x.ravel(), y.ravel()], axis=-1)
    features = np.concatenate([xy, 1 - xy], axis=-1)
    return DecisionMap(grid=grid,
                       prediction=predict(net, params, features).reshape(points, points))


def example_spikes(net: YinYangNetwork, params: Params, features: ArrayLike
                   ) -> ExampleSpikes:
    """Spike times of all neurons (inputs first) for a few points, (B, 5 + N, S) with
    S = `ANALYSIS_SPIKES`, and their first output spike times (B, 3)."""
    net = replace(net, max_spikes=ANALYSIS_SPIKES)
    features = jnp.asarray(features, jnp.float32)
    first, layers = _first_times(net, params, features)
    check_spike_budget(layers)
    inputs = net.input_times(features)[..., None]
    inputs = jnp.pad(inputs, ((0, 0), (0, 0), (0, net.max_spikes - 1)),
                     constant_values=jnp.inf)
    spikes = jnp.concatenate([inputs, *[layer.times for layer in layers]], axis=1)
    return ExampleSpikes(spike_times=np.asarray(spikes), first_times=np.asarray(first))


@partial(jax.jit, static_argnums=0)
def _first_times(net: YinYangNetwork, params: Params, features: Array
                 ) -> tuple[Array, tuple[LayerSpikes, ...]]:
    """First output spike times (B, 3) and the spikes of every layer, compiled per net."""
    return net._batch(params, features)


# the full-scale runs: the chosen network and the two ablations, with their default seeds
# (the YinYangNetwork fields that differ from the full network's)
VARIANTS: dict[str, dict[str, Any]] = {
    "full": {},
    "nopseudo": {"pseudospikes": False},  # ordinary spikes only in the loss
    "shallow": {"sizes": (N_FEATURES + 1, 3)},  # no hidden layer: 5 - 3
}
DEFAULT_SEEDS = {"full": tuple(range(10)), "nopseudo": (0, 1, 2), "shallow": (0, 1, 2)}
QUICK_EPOCHS = 3


def variant_config(variant: str, seed: int, epochs: int | None = None) -> YinYangConfig:
    """The config of a full-scale run of one variant ("full", "nopseudo", "shallow")."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {sorted(VARIANTS)}, got {variant!r}")
    config = YinYangConfig()
    epochs = {} if epochs is None else {"epochs": epochs}
    return replace(config, network=replace(config.network, **VARIANTS[variant]),
                   training=replace(config.training, seed=seed, **epochs))


def run_name(variant: str, seed: int) -> str:
    """yinyang_seed{seed} for the full network, yinyang_{variant}_seed{seed} else."""
    return f"yinyang_seed{seed}" if variant == "full" else f"yinyang_{variant}_seed{seed}"


def reproduce(seeds=(0,), variant: str = "full", epochs: int | None = None,
              results_dir: str | Path = "results") -> list[YinYangResults]:
    """Full-scale runs, one per seed, checkpointed in results_dir/checkpoints/NAME.ckpt
    (rerun to resume) and saved as results_dir/NAME.npz/.json (`run_name`)."""
    results_dir = Path(results_dir)
    runs = []
    for seed in seeds:
        name = run_name(variant, seed)
        results = run(variant_config(variant, seed, epochs),
                      checkpoint=results_dir / "checkpoints" / f"{name}.ckpt")
        results.save(results_dir / name)
        runs.append(results)
    return runs


def load_runs(variant: str = "full", results_dir: str | Path = "results"
              ) -> list[YinYangResults]:
    """The stored full-scale runs of a variant, by seed (ValueError naming a stray or
    unreadable file, see `snnlib.experiments.mnist.seed_files`)."""
    from .mnist import seed_files

    prefix = run_name(variant, 0).removesuffix("0")
    return [YinYangResults.load(p) for p in seed_files(results_dir, prefix)]


def _reproduce(options: RunOptions) -> dict[str, YinYangResults]:
    """`snnlib reproduce yinyang`: every variant for the given seeds (default: the full
    network for seeds 0-9, the ablations for 0-2), checkpointed in the run directory;
    --quick: QUICK_EPOCHS epochs each (unless --epochs says otherwise)."""
    runs = {}
    for variant, default_seeds in DEFAULT_SEEDS.items():
        for seed in options.seeds or default_seeds:
            epochs = QUICK_EPOCHS if options.quick and options.epochs is None \
                else options.epochs
            name = run_name(variant, seed)
            runs[name] = run(variant_config(variant, seed, epochs),
                             checkpoint=options.run_dir / f"{name}.ckpt",
                             progress=options.progress)
    return runs


register(Reproduction(
    name="yinyang", description="5-120-3 theta network on Yin-Yang, and its ablations "
    "(no pseudospikes, no hidden layer), Fig. 5-6",
    expected_time="~8 min per run (16 runs) on 2 busy CPUs", run=_reproduce,
    size=lambda results: results.metadata["epochs"], size_label="epochs"))


def main(argv=None) -> None:
    """python -m snnlib.experiments.yinyang [--variant full] [--seeds 0 1 ...]"""
    import argparse

    parser = argparse.ArgumentParser(description="Full-scale Yin-Yang runs; rerun the same "
                                     "command to resume.")
    parser.add_argument("--variant", choices=sorted(VARIANTS), default="full")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--results-dir", default="results")
    args = parser.parse_args(argv)
    for seed in args.seeds:
        results = reproduce((seed,), args.variant, args.epochs, args.results_dir)[0]
        print(f"{args.variant} seed {seed}: {results.epochs} epochs, validation "
              f"{results.final.accuracy:.4f}, test {results.final.test_accuracy:.4f}",
              flush=True)


if __name__ == "__main__":
    main()
