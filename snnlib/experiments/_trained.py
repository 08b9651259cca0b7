"""Results shared by the classification experiments trained with
`snnlib.classification.train` (MNIST, Yin-Yang): the evaluation metrics after each epoch,
the per-step training loss, the trained parameters and the training time."""

from dataclasses import dataclass
from typing import Any, Generic

import numpy as np
from jaxtyping import Float

from ..classification import Epochs, TrainResult
from ..classification.metrics import M
from ._results import ExperimentResults


@dataclass(kw_only=True)
class TrainedClassifierResults(ExperimentResults, Generic[M]):
    """What every classification run records; a subclass names its metrics type,
    ``metrics: Epochs[ItsMetrics]``. S = epochs x steps per epoch."""

    metrics: Epochs[M]  # after each epoch (entry 0: before training)
    step_loss: Float[np.ndarray, " S"]  # training loss of each step
    step_accuracy: Float[np.ndarray, " S"]  # training accuracy of each step's batch
    weights: tuple[np.ndarray, ...]  # trained, per layer l: (N_l, N_{l-1}); weights_1, ...
    initial_phases: tuple[np.ndarray, ...]  # trained, per layer l: (N_l,), units of time
    epochs: int  # epochs trained
    seconds_per_epoch: float  # mean wall time of an epoch in s (nan without epochs)
    training_wall_time_s: float  # including the parts before an interruption

    @property
    def final(self) -> M:
        """The metrics after the last epoch."""
        return self.metrics.at(-1)

    @property
    def initial(self) -> M:
        """The metrics before training."""
        return self.metrics.at(0)


def training_fields(result: TrainResult[M]) -> dict[str, Any]:
    """The fields of `TrainedClassifierResults` from what `train` returned."""
    seconds = result.metrics.epoch_seconds
    return {
        "metrics": result.metrics,
        "step_loss": result.step_loss,
        "step_accuracy": result.step_accuracy,
        "weights": tuple(np.asarray(w) for w in result.params["weights"]),
        "initial_phases": tuple(np.asarray(p) for p in result.params["initial_phases"]),
        "epochs": len(result.metrics) - 1,
        "seconds_per_epoch": float(np.mean(seconds[1:]) if len(seconds) > 1 else np.nan),
        "training_wall_time_s": result.wall_time,
    }
