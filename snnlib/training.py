"""Training loop: jit-compiled steps sharded over all devices, progress bars, checkpoints
after every epoch, and exact resumption of an interrupted run.

The loop is generic: a `Task` supplies the loss (with an RNG key for augmentation), a
projection of the parameters after each step, and test metrics as sums over batches.
"""

import math
import time
import warnings
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import jax
import jax.numpy as jnp
import numpy as np
import optax
from tqdm import tqdm

from ._placement import Placement
from .checkpoint import load_checkpoint, save_checkpoint


class Task(Protocol):
    """What `train` needs from a model (see `snnlib.classifier.SpikingClassifier`); hashable
    (a static argument of `jax.jit`)."""

    def loss(self, params: Any, inputs: jax.Array, labels: jax.Array, key: jax.Array
             ) -> tuple[jax.Array, dict[str, jax.Array]]:
        """Mean loss over a batch and aux values {"accuracy", "n_exhausted"}."""

    def constrain(self, params: Any) -> Any:
        """Parameters projected back to their allowed range after an optimiser step."""

    def batch_metrics(self, params: Any, inputs: jax.Array, labels: jax.Array
                      ) -> dict[str, jax.Array]:
        """Test metrics of a batch as sums (added over batches)."""

    def summarize(self, sums: dict[str, jax.Array], n_samples: int) -> dict[str, float]:
        """Metrics of the whole test set from the summed batch metrics."""


@dataclass(frozen=True)
class TrainConfig:
    """Optimiser and loop settings (defaults: the paper's MNIST training)."""

    epochs: int = 100
    batch_size: int = 1000
    learning_rate: float = 4e-3
    decay_epochs: float = 100.0  # learning rate lr exp(-epoch / decay_epochs), per step
    b1: float = 0.9
    b2: float = 0.999
    seed: int = 0
    eval_batch_size: int = 1000

    def __post_init__(self) -> None:
        if self.epochs < 0 or min(self.batch_size, self.eval_batch_size) < 1:
            raise ValueError("epochs must be >= 0, batch_size and eval_batch_size positive")


@dataclass
class TrainResult:
    """Final parameters, test metrics per epoch (entry 0: before training) and the
    per-step training loss and accuracy."""

    params: Any
    metrics: dict[str, list[float]]
    step_loss: np.ndarray
    step_accuracy: np.ndarray
    wall_time: float


def make_optimizer(config: TrainConfig, steps_per_epoch: int) -> optax.GradientTransformation:
    """Adabelief with learning rate lr exp(-step / (decay_epochs steps_per_epoch))."""
    schedule = optax.exponential_decay(
        config.learning_rate, config.decay_epochs * steps_per_epoch, math.exp(-1))
    return optax.adabelief(schedule, b1=config.b1, b2=config.b2)


def make_train_step(task: Task, optimizer: optax.GradientTransformation):
    """The jit-compiled step (params, opt_state, inputs, labels, key) -> (params, opt_state,
    loss, aux). Under sharded inputs the gradient is reduced over the devices by XLA."""

    def step(params, opt_state, inputs, labels, key):
        (loss, aux), grads = jax.value_and_grad(task.loss, has_aux=True)(
            params, inputs, labels, key)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        params = task.constrain(optax.apply_updates(params, updates))
        return params, opt_state, loss, aux

    return jax.jit(step)


@partial(jax.jit, static_argnums=0)
def _batch_metrics(task: Task, params: Any, inputs: jax.Array, labels: jax.Array):
    """task.batch_metrics, compiled once per (hashable) task and shapes."""
    return task.batch_metrics(params, inputs, labels)


def evaluate(task: Task, params: Any, inputs: np.ndarray, labels: np.ndarray,
             batch_size: int = 1000, devices=None) -> dict[str, float]:
    """Test metrics of `params` on a data set, in batches sharded over the devices."""
    placement = Placement(devices)
    params = placement.replicate(params)
    sums = None
    for start in range(0, len(inputs), batch_size):
        batch = placement.put_batch(inputs[start:start + batch_size],
                                    labels[start:start + batch_size])
        values = _batch_metrics(task, params, *batch)
        sums = values if sums is None else jax.tree.map(jnp.add, sums, values)
    return task.summarize(jax.device_get(sums), len(inputs))


def train(
    task: Task,
    params: Any,
    train_data: tuple[np.ndarray, np.ndarray],
    test_data: tuple[np.ndarray, np.ndarray],
    config: TrainConfig = TrainConfig(),
    checkpoint: str | Path | None = None,
    fingerprint: dict | None = None,
    progress: bool = True,
    devices=None,
) -> TrainResult:
    """Train `params` on train_data for config.epochs epochs; test metrics after each epoch.

    Every epoch shuffles the training set and augments each batch with its own key (both
    derived from config.seed), so a run is reproducible. Batches are sharded over
    `devices` (default: all), which must divide config.batch_size; a last incomplete batch
    is dropped. With `checkpoint`, the state after every epoch (parameters, optimiser
    state, RNG key, metrics so far) is written atomically there, and a call with the same
    path resumes from it, giving exactly the result of an uninterrupted run; a checkpoint
    written with fewer epochs is continued, one with as many or more is returned as is
    (`TrainResult.metrics` has one entry per epoch done, plus one).
    `fingerprint` (e.g. the experiment's config) is stored and must match on resume.
    """
    start_time = time.perf_counter()
    placement = Placement(devices)
    if config.batch_size % len(placement.devices):
        raise ValueError(f"batch_size={config.batch_size} is not divisible by the "
                         f"{len(placement.devices)} devices")
    train_inputs, train_labels = train_data
    n_batches = len(train_inputs) // config.batch_size
    if n_batches == 0:
        raise ValueError(f"{len(train_inputs)} training samples: fewer than one batch of "
                         f"{config.batch_size}")
    optimizer = make_optimizer(config, n_batches)
    step = make_train_step(task, optimizer)
    # what determines the trajectory: a checkpoint may be continued to more epochs
    identity = {"train": asdict(config) | {"epochs": None}, "task": fingerprint}

    state = load_checkpoint(checkpoint) if checkpoint else None
    if state is not None:
        if state["identity"] != identity:
            raise ValueError(f"checkpoint {checkpoint} was written by another configuration: "
                             f"{state['identity']} (delete it to start afresh)")
        start_time -= state["elapsed"]
    else:
        state = {
            "params": params,
            "opt_state": optimizer.init(params),
            "key": jax.random.fold_in(jax.random.PRNGKey(config.seed), 1),
            "epoch": 0,
            "metrics": _append({}, evaluate(task, params, *test_data, config.eval_batch_size,
                                            placement.devices) | {"train_loss": math.nan,
                                                                  "train_accuracy": math.nan,
                                                                  "epoch_seconds": 0.0}),
            "step_loss": [],
            "step_accuracy": [],
            "identity": identity,
        }
    params = placement.replicate(state["params"])
    opt_state = placement.replicate(state["opt_state"])
    epochs = tqdm(total=config.epochs, initial=state["epoch"], desc="epochs", disable=not progress)
    for epoch in range(state["epoch"], config.epochs):
        epoch_start = time.perf_counter()
        key, order_key, flip_key = jax.random.split(jnp.asarray(state["key"]), 3)
        order = np.asarray(jax.random.permutation(order_key, len(train_inputs)))
        losses, accuracies, exhausted = [], [], 0
        batches = tqdm(range(n_batches), desc=f"epoch {epoch + 1}", leave=False,
                       disable=not progress)
        for index in batches:
            chosen = order[index * config.batch_size:(index + 1) * config.batch_size]
            inputs, labels = placement.put_batch(train_inputs[chosen], train_labels[chosen])
            params, opt_state, loss, aux = step(params, opt_state, inputs, labels,
                                                jax.random.fold_in(flip_key, index))
            losses.append(float(loss))
            accuracies.append(float(aux["accuracy"]))
            exhausted += int(aux["n_exhausted"])
            batches.set_postfix(loss=f"{losses[-1]:.3f}", acc=f"{accuracies[-1]:.3f}")
        if exhausted:
            warnings.warn(f"epoch {epoch + 1}: the spike budget ran out in {exhausted} training "
                          "trials (spike times there are incomplete); increase max_spikes",
                          stacklevel=2)
        test = evaluate(task, params, *test_data, config.eval_batch_size, placement.devices)
        test |= {"train_loss": float(np.mean(losses)), "train_accuracy": float(np.mean(accuracies)),
                 "epoch_seconds": time.perf_counter() - epoch_start}
        state.update(params=jax.device_get(params), opt_state=jax.device_get(opt_state),
                     key=np.asarray(key), epoch=epoch + 1, metrics=_append(state["metrics"], test),
                     step_loss=state["step_loss"] + losses,
                     step_accuracy=state["step_accuracy"] + accuracies)
        if checkpoint:
            save_checkpoint(checkpoint, state | {"elapsed": time.perf_counter() - start_time})
        epochs.update(1)
        epochs.set_postfix(test_acc=f"{test['accuracy']:.4f}", loss=f"{test['loss']:.3f}")
    epochs.close()
    return TrainResult(
        params=jax.device_get(params),
        metrics=state["metrics"],
        step_loss=np.asarray(state["step_loss"]),
        step_accuracy=np.asarray(state["step_accuracy"]),
        wall_time=time.perf_counter() - start_time,
    )


def _append(metrics: dict[str, list], values: dict[str, float]) -> dict[str, list]:
    """A new dict of lists with one more entry per metric."""
    return {name: [*metrics.get(name, []), value] for name, value in values.items()}
