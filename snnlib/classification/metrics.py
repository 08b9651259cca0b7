"""Results shared by the classification experiments trained with `snnlib.training.train`
(MNIST, Yin-Yang): the evaluation metrics after each epoch, the per-step training loss,
the trained parameters and the training time.

Each experiment derives its metrics from `EpochMetrics` / `Metrics` (adding the names its
`Task.summarize` returns) and its results from `TrainedClassifierResults`.
"""

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Self

import numpy as np
from jaxtyping import Float, Int

from ..neurons import Theta
from ..training import TrainConfig, TrainResult
from ._results import ArrayGroup, ExperimentResults, config_from_dict


@dataclass
class EpochMetrics(ArrayGroup):
    """Evaluation metrics after each epoch, E = epochs + 1 entries (entry 0: before
    training), stored under their bare names ("accuracy", ...): those of `Task.summarize`
    and of the training loop (train_loss, train_accuracy, epoch_seconds)."""

    KEY: ClassVar[str] = "{field}"

    accuracy: Float[np.ndarray, " E"]  # class of the earliest output spike, pseudospikes counted
    accuracy_ordinary: Float[np.ndarray, " E"]  # ordinary spikes only (none: class 0)
    loss: Float[np.ndarray, " E"]  # mean loss of the first output spike times
    activity: Float[np.ndarray, " E"]  # spikes per hidden neuron and sample
    silent: Float[np.ndarray, " E"]  # fraction of hidden neurons silent for every sample
    output_activity: Float[np.ndarray, " E"]  # spikes per output neuron and sample
    n_exhausted: Int[np.ndarray, " E"]  # samples whose spike budget ran out
    train_loss: Float[np.ndarray, " E"]  # mean over the epoch's steps (nan at entry 0)
    train_accuracy: Float[np.ndarray, " E"]  # mean over the epoch's steps (nan at entry 0)
    epoch_seconds: Float[np.ndarray, " E"]  # wall time of the epoch in s (0 at entry 0)


@dataclass(frozen=True)
class Metrics:
    """The metrics of one epoch (the fields of the matching `EpochMetrics`, as numbers)."""

    accuracy: float
    accuracy_ordinary: float
    loss: float
    activity: float
    silent: float
    output_activity: float
    n_exhausted: int
    train_loss: float
    train_accuracy: float
    epoch_seconds: float

    @classmethod
    def at(cls, metrics: EpochMetrics, index: int) -> Self:
        """The metrics after epoch `index` (0: before training, -1: the last)."""
        return cls(**{item.name: getattr(metrics, item.name)[index].item()
                      for item in fields(cls)})


@dataclass(kw_only=True)
class TrainedClassifierResults(ExperimentResults):
    """What every classification run records; a subclass adds its `metrics` (an
    `EpochMetrics`), `final` and `initial` (`Metrics`). S = epochs x steps per epoch."""

    step_loss: Float[np.ndarray, " S"]  # training loss of each step
    step_accuracy: Float[np.ndarray, " S"]  # training accuracy of each step's batch
    weights: tuple[np.ndarray, ...]  # trained, per layer l: (N_l, N_{l-1}); weights_1, ...
    initial_phases: tuple[np.ndarray, ...]  # trained, per layer l: (N_l,), units of time
    epochs: int  # epochs trained
    seconds_per_epoch: float  # mean wall time of an epoch in s (nan without epochs)
    training_wall_time_s: float  # including the parts before an interruption


def training_fields(result: TrainResult, epoch_metrics: type[EpochMetrics],
                    metrics: type[Metrics]) -> dict[str, Any]:
    """The fields of `TrainedClassifierResults` and metrics, final, initial of a subclass
    from what `train` returned; epoch_metrics and metrics name exactly the metrics of the
    task (else ValueError)."""
    names = {item.name for item in fields(epoch_metrics)}
    if names != set(result.metrics) or names != {item.name for item in fields(metrics)}:
        raise ValueError(f"{epoch_metrics.__name__} and {metrics.__name__} must name the "
                         f"metrics of the training run, {sorted(result.metrics)}")
    per_epoch = epoch_metrics(**{name: np.asarray(values)
                                 for name, values in result.metrics.items()})
    return {
        "metrics": per_epoch, "final": metrics.at(per_epoch, -1),
        "initial": metrics.at(per_epoch, 0),
        "step_loss": result.step_loss, "step_accuracy": result.step_accuracy,
        "weights": tuple(np.asarray(w) for w in result.params["weights"]),
        "initial_phases": tuple(np.asarray(p) for p in result.params["initial_phases"]),
        "epochs": len(per_epoch.accuracy) - 1,
        "seconds_per_epoch": float(np.mean(per_epoch.epoch_seconds[1:])
                                   if len(per_epoch.epoch_seconds) > 1 else np.nan),
        "training_wall_time_s": result.wall_time,
    }


def stacked(runs: Sequence[Any], name: str) -> np.ndarray:
    """(n_runs, n_epochs + 1) array of the metric `name` (a field of the runs' `metrics`),
    truncated to the shortest run."""
    values = [np.asarray(getattr(run.metrics, name), float) for run in runs]
    length = min(len(v) for v in values)
    return np.stack([v[:length] for v in values])


# Configs stored before they were nested (e.g. results/mnist_seed0.json): one flat dict of
# the network's, the training's and the data's fields, "hidden" the hidden layer sizes.

class ReadsFlatConfig:
    """Base of a nested config (fields network, training, data, ...) whose stored results
    may hold the older flat layout: `from_dict` reads both, a subclass defines `from_flat`."""

    @classmethod
    def from_dict(cls, stored: dict[str, Any]) -> Self:
        """The config of a results JSON: nested (this version) or flat."""
        return config_from_dict(cls, stored) if "network" in stored else cls.from_flat(stored)

    @classmethod
    def from_flat(cls, flat: dict[str, Any]) -> Self:
        raise NotImplementedError

def flat_network_fields(flat: dict[str, Any], n_inputs: int, n_classes: int,
                        names: Sequence[str]) -> dict[str, Any]:
    """The network's fields in a flat config: the theta neuron (tau, current), the layer
    sizes n_inputs - hidden - n_classes, and the fields `names` as they are."""
    return {"model": Theta(tau=flat["tau"], current=flat["current"]),
            "sizes": (n_inputs, *flat["hidden"], n_classes), **{n: flat[n] for n in names}}


def flat_training(flat: dict[str, Any], **fixed: Any) -> TrainConfig:
    """The `TrainConfig` of a flat config (b1, b2 were the defaults), with `fixed` fields."""
    return TrainConfig(epochs=flat["epochs"], batch_size=flat["batch_size"],
                       learning_rate=flat["learning_rate"], decay_epochs=flat["decay_epochs"],
                       seed=flat["seed"], **fixed)
