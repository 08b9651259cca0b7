"""MNIST with a deep, initially silent theta-neuron network (paper Fig. 4; book/theory.md,
"Theta neuron" and "Pseudodynamics and pseudospikes").

A 784-100-100-10 feed-forward network of theta neurons classifies time-to-first-spike
coded digits by its earliest output spike (pseudospikes included). Weights and initial
phases are trained with AdaBelief on a cross-entropy loss of the first output spike times.
"""

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Float, Int, UInt8

from ..classification import (
    ClassifierMetrics,
    Epochs,
    Params,
    SpikingClassifier,
    TrainConfig,
    stacked,
    train,
)
from ..data.encoding import bin_spike_times, pixel_bins
from ..data.mnist import load_mnist
from ..feedforward import as_recurrent, check_spike_budget
from ..simulate import check_event_budget, simulate, state_trace
from ._experiment import Experiment, RunOptions, Variant, epochs_of
from ._results import ArrayGroup, run_metadata
from ._trained import TrainedClassifierResults, training_fields

# the paper's results (10 seeds, 100 epochs; activity before the first output spike and
# silent neurons before training from the notebook of the paper's code)
PAPER = {
    "accuracy": 0.976,
    "accuracy_std": 0.001,
    "accuracy_ordinary": 0.973,
    "accuracy_ordinary_std": 0.001,
    "activity": 0.42,
    "activity_first": 0.32,
    "silent_before": 0.997,
    "silent_after": 0.0,
    "epochs": 100,
    "seeds": 10,
}


@dataclass(frozen=True)
class MnistData:
    """Which images: the first n_train training and n_test test images."""

    n_train: int = 60_000
    n_test: int = 10_000

    def __post_init__(self) -> None:
        if not 0 < self.n_train <= 60_000 or not 0 < self.n_test <= 10_000:
            raise ValueError(
                f"MnistData: n_train must lie in 1..60000 and n_test in 1..10000, "
                f"got {self.n_train} and {self.n_test}"
            )


@dataclass(frozen=True)
class MnistConfig:
    """The MNIST experiment: network, training and data settings (defaults: the paper's,
    held by `SpikingClassifier`, `TrainConfig` and `MnistData`), and the example digit."""

    network: SpikingClassifier = field(default_factory=SpikingClassifier)
    training: TrainConfig = field(default_factory=TrainConfig)
    data: MnistData = field(default_factory=MnistData)
    example_index: int = 0  # the test image of the rasters and voltage traces
    trace_points: int = 401

    def __post_init__(self) -> None:
        if self.network.sizes[0] != 784 or self.network.sizes[-1] != 10:
            raise ValueError(
                f"MnistConfig: network.sizes must start with 784 pixels and end "
                f"with 10 classes, got {self.network.sizes}"
            )


def quick_config(
    epochs: int = 2,
    n_train: int = 2000,
    n_test: int = 500,
    batch_size: int = 500,
    seed: int = 0,
    hidden: tuple[int, ...] = (100, 100),
    trace_points: int = 401,
) -> MnistConfig:
    """A small run of the paper's network and training (seconds per epoch), with
    `hidden` layer sizes."""
    return MnistConfig(
        network=SpikingClassifier(sizes=(784, *hidden, 10)),
        training=TrainConfig(epochs=epochs, batch_size=batch_size, seed=seed),
        data=MnistData(n_train, n_test),
        trace_points=trace_points,
    )


def load_data(config: MnistConfig, directory: str | Path | None = None):
    """((train bins, labels), (test bins, labels)): the first n_train / n_test images."""
    data = []
    for split, size in (("train", config.data.n_train), ("test", config.data.n_test)):
        images, labels = load_mnist(split, directory)
        data.append(
            (pixel_bins(images[:size], config.network.n_bins), labels[:size].astype(np.int32))
        )
    return tuple(data)


@dataclass
class ExampleTrial(ArrayGroup):
    """The example test image in the network before or after training (stored as
    "example_{field}_{before|after}"): N = hidden + output neurons, S = max_spikes,
    P = trace_points, C = 10 classes."""

    KEY: ClassVar[str] = "example_{field}_{group}"

    spike_times: Float[np.ndarray, "N S"]  # every neuron's spikes, +inf padded
    first_times: Float[np.ndarray, " C"]  # first output spike times, pseudospikes counted
    prediction: Int[np.ndarray, ""]  # class of the earliest output spike
    voltage: Float[np.ndarray, "P C"]  # output voltages V at trace_time, clipped to +-100


@dataclass(kw_only=True)
class MnistResults(TrainedClassifierResults[ClassifierMetrics]):
    """Results of `run`: test metrics per epoch (`metrics`; `final`, `initial`), the
    trained parameters and the example test image before and after training (`before`,
    `after`)."""

    config: MnistConfig
    metrics: Epochs[ClassifierMetrics]
    example_image: UInt8[np.ndarray, "H W"]  # 28 x 28 pixels, 0-255
    example_label: UInt8[np.ndarray, ""]
    example_trace_time: Float[np.ndarray, " P"]  # times of the voltage traces, in [0, T]
    before: ExampleTrial
    after: ExampleTrial
    paper: dict[str, float] = field(default_factory=lambda: dict(PAPER))  # for reference

    def example(self, which: str) -> ExampleTrial:
        """The example image's trial "before" or "after" training."""
        return {"before": self.before, "after": self.after}[which]


def run(
    config: MnistConfig = MnistConfig(),
    checkpoint: str | Path | None = None,
    progress: bool = True,
    data_dir: str | Path | None = None,
    devices=None,
) -> MnistResults:
    """Train one seed; return the test metrics per epoch, the final parameters and the
    example digit's spikes and output voltages before and after training.

    With `checkpoint`, the state is saved after every epoch and a rerun with the same
    path resumes where it stopped (with the same result as an uninterrupted run).
    """
    start = time.perf_counter()
    net = config.network
    (train_data, test_data) = load_data(config, data_dir)
    initial = net.init(jax.random.PRNGKey(config.training.seed))
    # the trajectory does not depend on the number of epochs or on the example shown
    fingerprint = {"network": asdict(net), "data": asdict(config.data)}
    result = train(
        net,
        initial,
        train_data,
        test_data,
        config.training,
        checkpoint=checkpoint,
        fingerprint=fingerprint,
        progress=progress,
        devices=devices,
    )
    images, labels = load_mnist("test", data_dir)
    examples = {
        name: example_trial(net, params, test_data[0][config.example_index], config.trace_points)
        for name, params in (("before", initial), ("after", result.params))
    }
    return MnistResults(
        config=config,
        **training_fields(result),
        example_image=images[config.example_index],
        example_label=np.asarray(labels[config.example_index]),
        example_trace_time=np.linspace(0, net.duration, config.trace_points),
        before=examples["before"],
        after=examples["after"],
        metadata=run_metadata(time.perf_counter() - start, config.training.seed),
    )


def example_trial(
    net: SpikingClassifier, params: Params, bins: np.ndarray, trace_points: int
) -> ExampleTrial:
    """One image: spike times of all neurons (N, S), first output spike times, the
    prediction, and the output neurons' voltages (trace_points, n_classes) on a grid of
    trace_points times in [0, T] (clipped to +-100: V is infinite at a spike)."""
    layers = net.simulate(params, bins[None])
    check_spike_budget(layers)
    first = net.first_spike_times(params, bins[None], layers)[0]
    spikes = np.concatenate([np.asarray(layer.times[0]) for layer in layers])
    # voltage traces from the generic simulator's events of the same network
    weights = [net.input_weights(params, bins[None])[0], *params["weights"][1:]]
    states = [p[None] for p in params["initial_phases"]]
    weights_net, weights_in, initial_state = as_recurrent(weights, states)
    times = jnp.asarray(bin_spike_times(net.n_bins, net.duration), weights_in.dtype)
    events = simulate(
        net.model,
        weights_net,
        weights_in,
        times,
        jnp.arange(net.n_bins),
        initial_state,
        net.duration,
        max_events=sum(net.sizes[1:]) + 32,
    )
    check_event_budget(events)
    grid = np.linspace(0, net.duration, trace_points)
    trace = jnp.moveaxis(state_trace(net.model, events, grid), 1, 0)  # (D, G, N)
    voltage = net.model.voltage(trace)[:, -net.sizes[-1] :]
    return ExampleTrial(
        spike_times=spikes,
        first_times=np.asarray(first),
        prediction=np.asarray(jnp.argmin(first)),
        voltage=np.clip(np.asarray(voltage), -100, 100),
    )


def compare(runs: Sequence[MnistResults]) -> list[tuple[str, str, str]]:
    """Rows (quantity, paper, ours) of the paper-vs-run table; ours: mean +- sample
    standard deviation (ddof 1) over seeds after the last common epoch."""

    def ours(name, scale=100.0, epoch=-1, digits=1):
        values = stacked(runs, name)[:, epoch] * scale
        spread = f" ± {values.std(ddof=1):.{digits}f}" if len(values) > 1 else ""
        return f"{values.mean():.{digits}f}{spread}"

    epochs = len(stacked(runs, "accuracy")[0]) - 1
    return [
        (
            "test accuracy (%)",
            f"{100 * PAPER['accuracy']:.1f} ± {100 * PAPER['accuracy_std']:.1f}",
            ours("accuracy", digits=2),
        ),
        (
            "without pseudospikes (%)",
            f"{100 * PAPER['accuracy_ordinary']:.1f} ± {100 * PAPER['accuracy_ordinary_std']:.1f}",
            ours("accuracy_ordinary", digits=2),
        ),
        (
            "hidden activity (spikes/neuron/image)",
            f"{PAPER['activity']:.2f}",
            ours("activity", 1.0, digits=2),
        ),
        (
            "... before the first output spike",
            f"{PAPER['activity_first']:.2f}",
            ours("activity_first", 1.0, digits=2),
        ),
        (
            "silent hidden neurons before training (%)",
            f"{100 * PAPER['silent_before']:.1f}",
            ours("silent", epoch=0),
        ),
        (
            "silent hidden neurons after training (%)",
            f"{100 * PAPER['silent_after']:.1f}",
            ours("silent"),
        ),
        ("epochs", str(PAPER["epochs"]), str(epochs)),
        ("seeds", str(PAPER["seeds"]), str(len(runs))),
    ]


def accuracy_verdict(runs: Sequence[MnistResults]) -> str:
    """One sentence: the mean test accuracy over seeds (+- sample std) against the
    paper's, saying whether it is below, within or above the paper's mean +- std."""
    values = 100 * stacked(runs, "accuracy")[:, -1]
    paper, paper_std = 100 * PAPER["accuracy"], 100 * PAPER["accuracy_std"]
    mean = values.mean()
    spread = (
        f" ± {values.std(ddof=1):.2f} % (sample standard deviation)" if len(values) > 1 else " %"
    )
    if mean < paper - paper_std:
        where = f"{paper - mean:.2f} percentage points below"
    elif mean > paper + paper_std:
        where = f"{mean - paper:.2f} percentage points above"
    else:
        where = "within the standard deviation of"
    over = (
        f"Over this book's {len(values)} seeds (the paper trains {PAPER['seeds']} of its "
        "own) the mean test accuracy"
        if len(values) > 1
        else "With one seed the test accuracy"
    )
    return f"{over} is {mean:.2f}{spread}, {where} the paper's {paper:.1f} ± {paper_std:.1f} %."


def configure(variant: str, seed: int | None, options: RunOptions) -> MnistConfig:
    """Full-scale runs (60 000 training images, batch 1000, float32), one per seed
    (default: seed 0); --quick: 1 epoch of 6000 images."""
    seed = seed or 0
    config = (
        quick_config(1, 6000, 1000, 200, seed)
        if options.quick
        else MnistConfig(training=TrainConfig(seed=seed))
    )
    if options.length is not None:
        config = replace(config, training=replace(config.training, epochs=options.length))
    return config


EXPERIMENT = Experiment(
    name="mnist",
    description="784-100-100-10 theta network on MNIST, Fig. 4",
    expected_time="~30 min/seed on 2 CPUs",
    config=MnistConfig,
    results=MnistResults,
    run=run,
    paper=PAPER,
    compare=compare,
    variants={"full": Variant("mnist", seeds=(0,))},
    configure=configure,
    size=epochs_of,
    size_label="epochs",
    multi_process=True,
    batch_size=lambda quick: 200 if quick else 1000,
)
