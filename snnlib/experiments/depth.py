"""Depth of initially silent networks on MNIST, with and without pseudospikes (beyond the
paper; issue 20).

Networks 784-100xL-10 of theta neurons, L = 1, 2, 3, 4, 6 hidden layers, initialised as
in the paper (weights uniform in +-0.5/sqrt(fan_in), initial phases Theta/2: almost every
neuron silent), trained as in the paper (`SpikingClassifier`, `TrainConfig`) with
pseudospikes or without them (the first output spike times clipped at T: a silent output
neuron has t = T and no gradient). Per epoch the test set gives both readouts (earliest
output spike counting pseudospikes; real spikes only) and, per layer, the spikes per
neuron and image and the fraction of neurons silent on every image.

Hypothesis, stated before the runs: without pseudospikes a silent network gets no
gradient and stays at chance (10 %); with them, the accuracy holds as depth grows.
"""

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.typing import ArrayLike
from jaxtyping import Int

from ..classification import ClassifierMetrics, Epochs, Params, SpikingClassifier, TrainConfig
from ..classification import train as train_classifier
from ..feedforward import LayerSpikes
from ._experiment import Experiment, RunOptions, Variant, epochs_of
from ._results import run_metadata
from ._trained import TrainedClassifierResults, training_fields
from .mnist import PAPER as MNIST_PAPER
from .mnist import MnistData, load_data

DEPTHS = (1, 2, 3, 4, 6)  # hidden layers L
WIDTH = 100  # neurons per hidden layer
SEEDS = (0, 1, 2)
EPOCHS = 30
CHANCE = 0.1
PAPER = {
    "hypothesis": "without pseudospikes: chance (10 %) at every depth; with them: "
    "the accuracy holds as depth grows",
    "depths": DEPTHS,
    "epochs": EPOCHS,
}


@dataclass(frozen=True)
class DepthMetrics(ClassifierMetrics):
    """`DepthNetwork.summarize`: the MNIST test metrics and, per layer (hidden layers,
    then the output layer), spikes per neuron and image and the fraction of neurons
    silent on every image."""

    layer_activity: tuple[float, ...] = ()
    layer_silent: tuple[float, ...] = ()


@dataclass(frozen=True)
class DepthNetwork(SpikingClassifier):
    """`SpikingClassifier` (the paper's network and training) whose first output spike
    times count ordinary spikes only when pseudospikes=False (clipped at T), and whose
    evaluation adds per-layer activity and silence (`DepthMetrics`)."""

    pseudospikes: bool = True

    def first_spike_times(
        self, params: Params, bins: ArrayLike, layers: tuple[LayerSpikes, ...]
    ) -> Array:
        """First output spike times (B, 10), with pseudospikes unless disabled."""
        first = super().first_spike_times(params, bins, layers)
        return first if self.pseudospikes else jnp.minimum(first, self.duration)

    def summarize(  # type: ignore[override]  # a method: it needs the layer sizes
        self, sums: dict[str, Array], n_samples: int
    ) -> DepthMetrics:
        """`SpikingClassifier.summarize` plus per-layer activity and silent fractions."""
        base = SpikingClassifier.summarize(sums, n_samples)
        # each neuron's spikes summed over the images: hidden layers, then the output
        spikes = np.concatenate(
            [np.asarray(sums["hidden_spikes"], float), np.asarray(sums["output_spikes"], float)]
        )
        per_layer = np.split(spikes, np.cumsum(self.sizes[1:-1]))
        return DepthMetrics(
            **asdict(base),
            layer_activity=tuple(float(np.mean(s)) / n_samples for s in per_layer),
            layer_silent=tuple(float(np.mean(s == 0)) for s in per_layer),
        )


def depth_network(depth: int, pseudospikes: bool = True, width: int = WIDTH) -> DepthNetwork:
    """784 - width x depth - 10, the paper's initialisation and training settings."""
    if depth < 1 or width < 1:
        raise ValueError(f"depth and width must be >= 1, got {depth} and {width}")
    return DepthNetwork(sizes=(784, *(width,) * depth, 10), pseudospikes=pseudospikes)


@dataclass(frozen=True)
class DepthConfig:
    """One run of the depth study: network, training (the paper's, EPOCHS epochs), data."""

    network: DepthNetwork = field(default_factory=lambda: depth_network(2))
    training: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=EPOCHS))
    data: MnistData = field(default_factory=MnistData)

    def __post_init__(self) -> None:
        if self.network.sizes[0] != 784 or self.network.sizes[-1] != 10:
            raise ValueError(
                f"DepthConfig: network.sizes must start with 784 pixels and end "
                f"with 10 classes, got {self.network.sizes}"
            )


def first_spike_epoch(layer_activity: ArrayLike) -> np.ndarray:
    """Per layer, the first entry of the per-epoch activity (E, L) that is > 0 (0: before
    training, e: after epoch e), -1 for a layer that never spiked on the test set."""
    active = np.asarray(layer_activity) > 0
    return np.where(active.any(axis=0), active.argmax(axis=0), -1)


@dataclass(kw_only=True)
class DepthResults(TrainedClassifierResults[DepthMetrics]):
    """Results of `run`: test metrics per epoch (with the per-layer `layer_activity`
    and `layer_silent`, arrays (E, L + 1)), the trained parameters, and the epoch at
    which each layer first spiked on the test set."""

    config: DepthConfig
    metrics: Epochs[DepthMetrics]
    first_spike_epoch: Int[np.ndarray, " L"]  # per layer (hidden..., output); -1: never

    @property
    def silent_before(self) -> np.ndarray:
        """Fraction of silent neurons per layer before training."""
        return np.asarray(self.metrics.layer_silent[0])

    @property
    def silent_after(self) -> np.ndarray:
        """Fraction of silent neurons per layer after the last epoch."""
        return np.asarray(self.metrics.layer_silent[-1])


def run(
    config: DepthConfig = DepthConfig(),
    checkpoint: str | Path | None = None,
    progress: bool = True,
    data_dir: str | Path | None = None,
) -> DepthResults:
    """Train one network of the study; checkpointed after every epoch (a rerun with the
    same path resumes)."""
    start = time.perf_counter()
    net = config.network
    train_data, test_data = load_data(config, data_dir)  # type: ignore[arg-type]
    initial = net.init(jax.random.PRNGKey(config.training.seed))
    fingerprint = {"network": asdict(net), "data": asdict(config.data)}
    result = train_classifier(
        net,
        initial,
        train_data,
        test_data,
        config.training,
        checkpoint=checkpoint,
        fingerprint=fingerprint,
        progress=progress,
    )
    return DepthResults(
        config=config,
        **training_fields(result),
        first_spike_epoch=first_spike_epoch(result.metrics.layer_activity),
        metadata=run_metadata(time.perf_counter() - start, config.training.seed),
    )


def variant_name(depth: int, pseudospikes: bool) -> str:
    """The variant key, e.g. "L3" or "L3_nopseudo" (run names depth_L3_seed0, ...)."""
    return f"L{depth}" + ("" if pseudospikes else "_nopseudo")


VARIANTS = {
    variant_name(depth, pseudo): (depth, pseudo) for depth in DEPTHS for pseudo in (True, False)
}
# --quick: a CI-sized run of the same depth (width 20, 600 training and 200 test images)
QUICK = {"width": 20, "epochs": 2, "n_train": 600, "n_test": 200, "batch_size": 200}


def configure(variant: str, seed: int | None, options: RunOptions) -> DepthConfig:
    """Full scale: EPOCHS epochs of the 60 000 training images (--length: epochs);
    --quick: `QUICK`."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {sorted(VARIANTS)}, got {variant!r}")
    depth, pseudo = VARIANTS[variant]
    seed = seed or 0
    if options.quick:
        config = DepthConfig(
            network=depth_network(depth, pseudo, QUICK["width"]),
            training=TrainConfig(
                epochs=QUICK["epochs"],
                batch_size=QUICK["batch_size"],
                eval_batch_size=QUICK["n_test"],
                seed=seed,
            ),
            data=MnistData(QUICK["n_train"], QUICK["n_test"]),
        )
    else:
        config = DepthConfig(
            network=depth_network(depth, pseudo), training=TrainConfig(epochs=EPOCHS, seed=seed)
        )
    if options.length is not None:
        config = replace(config, training=replace(config.training, epochs=options.length))
    return config


def expected(layers: int, pseudo: bool) -> str:
    """What the paper measured (its network has L = 2) or, for the other networks, what
    the hypothesis stated before the runs predicts."""
    if not pseudo:
        return f"hypothesis: chance ({100 * CHANCE:.0f} %)"
    if layers == 2:
        paper = MNIST_PAPER
        return (
            f"paper: {100 * paper['accuracy']:.1f} ± {100 * paper['accuracy_std']:.1f} "
            f"({100 * paper['accuracy_ordinary']:.1f} real spikes only), "
            f"{paper['epochs']} epochs"
        )
    return "hypothesis: holds as depth grows"


def compare(groups: dict[str, Sequence[DepthResults]]) -> list[tuple[str, str, str, str, str]]:
    """Rows (network, test accuracy % with pseudospikes counted, real spikes only, seeds,
    paper or hypothesis) for groups {variant: runs} (mean ± sample std over seeds, after
    the last epoch)."""

    def percent(values):
        values = 100 * np.asarray(values, float)
        spread = f" ± {values.std(ddof=1):.1f}" if len(values) > 1 else ""
        return f"{values.mean():.1f}{spread}"

    rows = []
    for variant, runs in groups.items():
        layers, pseudo = VARIANTS[variant]
        sizes = "-".join(str(n) for n in runs[0].config.network.sizes)
        label = f"{sizes}, " + ("with pseudospikes" if pseudo else "without pseudospikes")
        rows.append(
            (
                label,
                percent([r.final.accuracy for r in runs]),
                percent([r.final.accuracy_spikes_only for r in runs]),
                str(len(runs)),
                expected(layers, pseudo),
            )
        )
    return rows


HOLDS_WITHIN = 0.02  # "the accuracy holds": within 2 points of the shallowest network's
CHANCE_WITHIN = 0.02  # "at chance": within 2 points of CHANCE


def findings(groups: dict[str, Sequence[DepthResults]]) -> list[str]:
    """What the stored runs say about the hypothesis, one sentence per claim (Markdown):
    without pseudospikes, is every run silent after training and at chance (within
    CHANCE_WITHIN of 10 %)? With them, per depth the mean test accuracy, and for each readout
    whether it stays within HOLDS_WITHIN of the shallowest stored depth's; and the
    latest epoch at which any layer first spiked (or how many layers never did)."""
    by_pseudo: dict[bool, dict[int, Sequence[DepthResults]]] = {True: {}, False: {}}
    for variant, runs in groups.items():
        layers, pseudo = VARIANTS[variant]
        by_pseudo[pseudo][layers] = runs
    lines = []
    silent_runs = by_pseudo[False]
    if silent_runs:
        runs = [r for stored in silent_runs.values() for r in stored]
        at_chance = [
            r
            for r in runs
            if abs(r.final.accuracy - CHANCE) <= CHANCE_WITHIN and np.all(r.silent_after == 1.0)
        ]
        depths = ", ".join(str(d) for d in sorted(silent_runs))
        verdict = (
            "as the hypothesis predicts"
            if len(at_chance) == len(runs)
            else "against the hypothesis for the others"
        )
        lines.append(
            f"**Without pseudospikes** (L = {depths}): {len(at_chance)} of {len(runs)} runs "
            f"stay silent in every layer and at chance, "
            f"{100 * np.mean([r.final.accuracy for r in runs]):.1f} % on average, {verdict}."
        )
    trained = dict(sorted(by_pseudo[True].items()))
    if trained:

        def mean(runs, field: str) -> float:
            return float(np.mean([getattr(r.final, field) for r in runs]))

        accuracy = {d: mean(runs, "accuracy") for d, runs in trained.items()}
        real = {d: mean(runs, "accuracy_spikes_only") for d, runs in trained.items()}
        per_depth = "; ".join(
            f"L = {d}: {100 * accuracy[d]:.1f} % ({100 * real[d]:.1f} % from real spikes)"
            for d in trained
        )
        if len(trained) == 1:
            verdict = "one depth only: the hypothesis is not tested yet"
        else:
            verdict = f"counting pseudospikes, {_holds(accuracy)}; from real spikes, {_holds(real)}"
        lines.append(
            f"**With pseudospikes**, mean test accuracy {per_depth}. "
            f"{verdict[0].upper()}{verdict[1:]}."
        )
        epochs = [int(e) for runs in trained.values() for r in runs for e in r.first_spike_epoch]
        never = sum(e < 0 for e in epochs)
        lines.append(
            f"Every layer of the runs with pseudospikes first spikes by epoch {max(epochs)} "
            "(epoch 0: before training)."
            if never == 0
            else f"{never} layers of the runs with pseudospikes never spike (on the test "
            "images, in any epoch)."
        )
    return lines


def _holds(accuracy: dict[int, float]) -> str:
    """Whether the mean accuracies {depth: accuracy} stay within HOLDS_WITHIN of the
    shallowest depth's, in words."""
    shallowest = min(accuracy)
    drops = {d: accuracy[shallowest] - a for d, a in accuracy.items()}
    failing = [d for d, drop in drops.items() if drop > HOLDS_WITHIN]
    if failing:
        return (
            f"against the hypothesis, the accuracy drops by more than "
            f"{100 * HOLDS_WITHIN:.0f} points below L = {shallowest} at L = "
            + ", ".join(str(d) for d in failing)
        )
    return (
        f"as the hypothesis predicts, every depth stays within {100 * HOLDS_WITHIN:.0f} "
        f"points of L = {shallowest} (largest drop {100 * max(0.0, *drops.values()):.1f} points)"
    )


EXPERIMENT = Experiment(
    name="depth",
    description="784-100xL-10 initially silent theta networks on MNIST, "
    "L = 1, 2, 3, 4, 6, with and without pseudospikes (beyond the paper)",
    expected_time="0.1-1.3 h per run (L = 1-6) on 2 busy CPUs, 30 runs: ~20 h",
    config=DepthConfig,
    results=DepthResults,
    run=run,
    paper=PAPER,
    compare=compare,
    variants={key: Variant(f"depth_{key}", seeds=SEEDS) for key in VARIANTS},
    # `snnlib reproduce depth` runs all 10 networks, depth_L3 those of one depth
    reproductions={
        "depth": tuple(VARIANTS),
        **{f"depth_L{d}": (variant_name(d, True), variant_name(d, False)) for d in DEPTHS},
    },
    configure=configure,
    size=epochs_of,
    size_label="epochs",
)
