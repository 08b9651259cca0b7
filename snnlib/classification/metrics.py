"""Evaluation metrics of a spiking classifier, declared once per task.

A task's `summarize` returns a frozen dataclass derived from `EvaluationMetrics` (one
evaluation of a data set: numbers). `Epochs` holds them after each epoch of a training
run, with the training loop's own per-epoch values (`LOOP_FIELDS`), as arrays (E,) named
like the fields: the per-epoch arrays and the one-epoch summaries (`Epochs.at`) both
follow from the one dataclass. A field may hold one number per layer (a tuple; arrays
(E, L)); a field with a default was added after some runs were stored, which read it as
its default (nan). `spikes_only_prediction` is the readout of real spikes only.
"""

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.typing import ArrayLike


@dataclass(frozen=True)
class EvaluationMetrics:
    """What every classifier evaluation reports (a task adds its own fields)."""

    accuracy: float  # class of the earliest output spike, pseudospikes counted
    loss: float  # mean loss of the first output spike times
    n_exhausted: int  # samples whose spike budget ran out


def spikes_only_prediction(first_times: ArrayLike, duration: float) -> Array:
    """Class of the output neuron with the first ordinary spike within the trial, (B,)
    from first output spike times (B, C) (pseudospikes come at t >= T); -1 (wrong for
    every label) where no output neuron spikes before T, and where several share the
    earliest spike time exactly (the tie rule: a tie has no winner)."""
    first_times = jnp.asarray(first_times)
    earliest = jnp.min(first_times, axis=-1, keepdims=True)
    unique = jnp.sum(first_times == earliest, axis=-1) == 1
    spiked = earliest[..., 0] < duration
    return jnp.where(unique & spiked, jnp.argmin(first_times, axis=-1), -1)


M = TypeVar("M", bound=EvaluationMetrics)
M_co = TypeVar("M_co", bound=EvaluationMetrics, covariant=True)

# per-epoch values of the training loop, next to the task's metrics: means over the
# epoch's steps (nan at entry 0) and the wall time of the epoch in s (0 at entry 0)
LOOP_FIELDS = ("train_loss", "train_accuracy", "epoch_seconds")


def metric_names(kind: type[EvaluationMetrics]) -> tuple[str, ...]:
    """The fields of a metrics dataclass, in order."""
    return tuple(item.name for item in dataclasses.fields(kind))


class Epochs(Generic[M]):
    """Metrics after each epoch, E = epochs + 1 entries (entry 0: before training): every
    field of the metrics type M and `LOOP_FIELDS`, each an array (E,) read as an
    attribute (``epochs.accuracy``) and stored in the results' .npz under its bare name."""

    def __init__(self, kind: type[M], arrays: Mapping[str, Any]) -> None:
        names = (*metric_names(kind), *LOOP_FIELDS)
        later = {
            item.name: item.default
            for item in dataclasses.fields(kind)
            if isinstance(item.default, float)
        }  # added after some runs were stored
        length = len(np.asarray(arrays["accuracy"])) if "accuracy" in arrays else 0
        arrays = {
            name: np.full(length, later[name], float) for name in later if name not in arrays
        } | dict(arrays)
        missing = sorted(set(names) - set(arrays))
        if missing:
            raise KeyError(f"Epochs of {kind.__name__}: no values for {missing}")
        self.kind = kind
        self.arrays = {name: np.asarray(arrays[name]) for name in names}

    def __getattr__(self, name: str) -> np.ndarray:
        arrays = self.__dict__.get("arrays", {})
        if name in arrays:
            return arrays[name]
        raise AttributeError(f"{type(self).__name__} has no metric {name!r}")

    def __len__(self) -> int:
        return len(self.arrays["accuracy"])

    def at(self, index: int) -> M:
        """The task's metrics after epoch `index` (0: before training, -1: the last)."""
        values = {name: self.arrays[name][index] for name in metric_names(self.kind)}
        scalars: dict[str, Any] = {
            name: value.item() if value.ndim == 0 else tuple(value.tolist())
            for name, value in values.items()
        }
        return self.kind(**scalars)

    def replace(self, **arrays: Any) -> "Epochs[M]":
        """A copy with the named per-epoch arrays replaced."""
        unknown = sorted(set(arrays) - set(self.arrays))
        if unknown:
            raise KeyError(f"Epochs of {self.kind.__name__}: no metric {unknown}")
        return Epochs(self.kind, self.arrays | arrays)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The arrays under their file keys (the bare names)."""
        return dict(self.arrays)

    @classmethod
    def from_arrays(cls, kind: type[M], arrays: Mapping[str, np.ndarray]) -> "Epochs[M]":
        """The per-epoch metrics of type `kind` read back from a results file's arrays."""
        return cls(kind, arrays)


def stacked(runs: Sequence[Any], name: str) -> np.ndarray:
    """(n_runs, n_epochs + 1) array of the metric `name` (an attribute of the runs'
    `metrics`, an `Epochs`), truncated to the shortest run."""
    values = [np.asarray(getattr(run.metrics, name), float) for run in runs]
    length = min(len(v) for v in values)
    return np.stack([v[:length] for v in values])


def percent_mean_std(values: Sequence[float]) -> str:
    """'mean ± sample std' in % of fractions (just the value for one seed)."""
    percent = 100 * np.asarray(values, float)
    if len(percent) == 1:
        return f"{percent[0]:.1f}"
    return f"{percent.mean():.1f} ± {percent.std(ddof=1):.1f}"
