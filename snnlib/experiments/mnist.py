"""MNIST with a deep, initially silent theta-neuron network (paper Fig. 4, SPEC section 6.4).

A 784-100-100-10 feed-forward network of theta neurons classifies time-to-first-spike
coded digits by its earliest output spike (pseudospikes included). Weights and initial
phases are trained with Adabelief on a cross-entropy loss of the first output spike times.
"""

import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from ..classifier import Params, SpikingClassifier
from ..data.encoding import bin_spike_times, pixel_bins
from ..data.mnist import load_mnist
from ..feedforward import as_recurrent, check_spike_budget
from ..neurons import Theta
from ..simulate import check_event_budget, simulate, state_trace
from ..training import TrainConfig, train
from ._results import Results, run_metadata

# the paper's results (10 seeds, 100 epochs; activity before the first output spike and
# silent neurons before training from the notebook of the paper's code)
PAPER = {"accuracy": 0.976, "accuracy_std": 0.001, "accuracy_ordinary": 0.973,
         "accuracy_ordinary_std": 0.001, "activity": 0.42, "activity_first": 0.32,
         "silent_before": 0.997}


@dataclass(frozen=True)
class MnistConfig:
    """Parameters of the MNIST experiment (defaults: the paper's, one seed)."""

    epochs: int = 100
    seed: int = 0
    n_train: int = 60_000
    n_test: int = 10_000
    batch_size: int = 1000
    hidden: tuple[int, ...] = (100, 100)
    tau: float = 6 / math.pi
    current: float = 1.25  # I0
    duration: float = 2.0  # T
    n_bins: int = 1
    w_scale: float = 0.5
    gamma: float = 1e-2
    flip_probability: float = 0.02
    learning_rate: float = 4e-3
    decay_epochs: float = 100.0
    max_spikes: int = 1  # per neuron: a theta neuron with T < Theta spikes at most once
    example_index: int = 0  # the test image of the rasters and voltage traces
    trace_points: int = 401

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", tuple(int(n) for n in self.hidden))
        if not 0 < self.n_train <= 60_000 or not 0 < self.n_test <= 10_000:
            raise ValueError("n_train must lie in 1..60000 and n_test in 1..10000")


def network(config: MnistConfig) -> SpikingClassifier:
    """The classifier of the config: theta neurons, 784 - hidden - 10."""
    return SpikingClassifier(
        model=Theta(tau=config.tau, current=config.current),
        sizes=(784, *config.hidden, 10), duration=config.duration, n_bins=config.n_bins,
        w_scale=config.w_scale, gamma=config.gamma,
        flip_probability=config.flip_probability, max_spikes=config.max_spikes)


def train_config(config: MnistConfig) -> TrainConfig:
    return TrainConfig(epochs=config.epochs, batch_size=config.batch_size,
                       learning_rate=config.learning_rate, decay_epochs=config.decay_epochs,
                       seed=config.seed, eval_batch_size=min(1000, config.n_test))


def load_data(config: MnistConfig, directory: str | Path | None = None):
    """((train bins, labels), (test bins, labels)): the first n_train / n_test images."""
    data = []
    for split, size in (("train", config.n_train), ("test", config.n_test)):
        images, labels = load_mnist(split, directory)
        data.append((pixel_bins(images[:size], config.n_bins), labels[:size].astype(np.int32)))
    return tuple(data)


def run(config: MnistConfig = MnistConfig(), checkpoint: str | Path | None = None,
        progress: bool = True, data_dir: str | Path | None = None, devices=None) -> Results:
    """Train one seed; return the test metrics per epoch, the final parameters and the
    example digit's spikes and output voltages before and after training.

    With `checkpoint`, the state is saved after every epoch and a rerun with the same
    path resumes where it stopped (with the same result as an uninterrupted run).
    """
    start = time.perf_counter()
    net = network(config)
    (train_data, test_data) = load_data(config, data_dir)
    initial = net.init(jax.random.PRNGKey(config.seed))
    # the trajectory does not depend on the number of epochs or on the example shown
    fingerprint = asdict(config) | {"epochs": None, "example_index": None, "trace_points": None}
    result = train(net, initial, train_data, test_data, train_config(config),
                   checkpoint=checkpoint, fingerprint=fingerprint, progress=progress,
                   devices=devices)
    arrays = {name: np.asarray(values) for name, values in result.metrics.items()}
    arrays.update(step_loss=result.step_loss, step_accuracy=result.step_accuracy)
    for index, (w, phases) in enumerate(zip(result.params["weights"],
                                            result.params["initial_phases"], strict=True)):
        arrays[f"weights_{index + 1}"] = np.asarray(w)
        arrays[f"initial_phases_{index + 1}"] = np.asarray(phases)
    images, labels = load_mnist("test", data_dir)
    arrays["example_image"] = images[config.example_index]
    arrays["example_label"] = np.asarray(labels[config.example_index])
    arrays["example_trace_time"] = np.linspace(0, config.duration, config.trace_points)
    for name, params in (("before", initial), ("after", result.params)):
        example = example_trial(net, params, test_data[0][config.example_index],
                                config.trace_points)
        arrays.update({f"example_{key}_{name}": value for key, value in example.items()})
    metadata = run_metadata(time.perf_counter() - start, config.seed)
    final = {name: values[-1] for name, values in result.metrics.items()}
    metadata.update(
        epochs=len(result.metrics["accuracy"]) - 1, final=final,
        initial={name: values[0] for name, values in result.metrics.items()},
        seconds_per_epoch=float(np.mean(result.metrics["epoch_seconds"][1:] or [np.nan])),
        training_wall_time_s=result.wall_time, paper=PAPER)
    return Results(arrays=arrays, config=asdict(config), metadata=metadata)


def example_trial(net: SpikingClassifier, params: Params, bins: np.ndarray,
                  trace_points: int) -> dict[str, np.ndarray]:
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
    events = simulate(net.model, weights_net, weights_in, times, jnp.arange(net.n_bins),
                      initial_state, net.duration, max_events=sum(net.sizes[1:]) + 32)
    check_event_budget(events)
    grid = np.linspace(0, net.duration, trace_points)
    trace = jnp.moveaxis(state_trace(net.model, events, grid), 1, 0)  # (D, G, N)
    voltage = net.model.voltage(trace)[:, -net.sizes[-1]:]
    return {"spike_times": spikes, "first_times": np.asarray(first),
            "prediction": np.asarray(jnp.argmin(first)),
            "voltage": np.clip(np.asarray(voltage), -100, 100)}


def reproduce(seeds=(0,), epochs: int = 100, results_dir: str | Path = "results") -> list[Results]:
    """Full-scale runs (60 000 training images, batch 1000, float32), one per seed,
    checkpointed in results_dir/checkpoints/mnist_seed{seed}.pkl (rerun to resume) and
    saved as results_dir/mnist_seed{seed}.npz/.json."""
    results_dir = Path(results_dir)
    runs = []
    for seed in seeds:
        config = MnistConfig(epochs=epochs, seed=seed)
        results = run(config, checkpoint=results_dir / "checkpoints" / f"mnist_seed{seed}.pkl")
        results.save(results_dir / f"mnist_seed{seed}")
        runs.append(results)
    return runs


def snapshot(seed: int = 0, results_dir: str | Path = "results") -> Results:
    """Results of a full-scale run from its checkpoint, as far as it got (it may still be
    running), saved as results_dir/mnist_seed{seed}.npz/.json."""
    results_dir = Path(results_dir)
    checkpoint = results_dir / "checkpoints" / f"mnist_seed{seed}.pkl"
    if not checkpoint.exists():
        raise FileNotFoundError(f"{checkpoint} is missing: start the run with reproduce()")
    results = run(MnistConfig(epochs=0, seed=seed), checkpoint=checkpoint, progress=False)
    results.save(results_dir / f"mnist_seed{seed}")
    return results


def load_runs(results_dir: str | Path = "results") -> list[Results]:
    """The stored full-scale runs results_dir/mnist_seed*.npz, by seed."""
    paths = sorted(Path(results_dir).glob("mnist_seed*.npz"),
                   key=lambda p: int(p.stem.removeprefix("mnist_seed")))
    if not paths:
        raise FileNotFoundError(
            f"no results/mnist_seed*.npz in {Path(results_dir).resolve()}: run "
            "snnlib.experiments.mnist.reproduce() (hours) or use quick parameters")
    return [Results.load(p) for p in paths]


def main(argv=None) -> None:
    """python -m snnlib.experiments.mnist [--seeds 0 1 ...] [--epochs 100] [--snapshot]"""
    import argparse

    parser = argparse.ArgumentParser(description="Full-scale MNIST runs (paper Fig. 4); "
                                     "rerun the same command to resume.")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--results-dir", default="results")
    parser.add_argument("--snapshot", action="store_true",
                        help="only save the results of the checkpoints as far as they got")
    args = parser.parse_args(argv)
    for seed in args.seeds:
        if args.snapshot:
            results = snapshot(seed, args.results_dir)
        else:
            results = reproduce((seed,), args.epochs, args.results_dir)[0]
        final = results.metadata["final"]
        print(f"seed {seed}: {results.metadata['epochs']} epochs, test accuracy "
              f"{final['accuracy']:.4f} ({final['accuracy_ordinary']:.4f} without pseudospikes)")


if __name__ == "__main__":
    main()
