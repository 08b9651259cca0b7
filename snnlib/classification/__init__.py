"""Spiking classifiers with time-to-first-spike coding: the network (`SpikingClassifier`),
its evaluation metrics (`EvaluationMetrics`, per epoch `Epochs`), and its training
(`train`, `evaluate`, `TrainConfig`) on the generic loop of `snnlib.training`."""

from .classifier import ClassifierMetrics, Params, SpikingClassifier
from .metrics import (
    Epochs,
    EvaluationMetrics,
    percent_mean_std,
    spikes_only_prediction,
    stacked,
)
from .training import (
    ClassificationModel,
    TrainConfig,
    TrainResult,
    average_step,
    average_weight,
    evaluate,
    make_train_step,
    train,
)

__all__ = [
    "ClassificationModel",
    "ClassifierMetrics",
    "Epochs",
    "EvaluationMetrics",
    "Params",
    "SpikingClassifier",
    "TrainConfig",
    "TrainResult",
    "average_step",
    "average_weight",
    "evaluate",
    "make_train_step",
    "percent_mean_std",
    "spikes_only_prediction",
    "stacked",
    "train",
]
