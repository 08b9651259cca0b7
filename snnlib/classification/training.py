"""Training and evaluation of a spiking classifier on batched data (MNIST, Yin-Yang).

`train` runs the generic loop (`snnlib.training.run_loop`) one epoch per unit:
jit-compiled steps sharded over the devices (`Placement`), the evaluation metrics after
each epoch (the task's `summarize`, an `EvaluationMetrics` dataclass), checkpoints and
resume. `evaluate` computes the metrics of a data set in batches.
"""

import hashlib
import math
import numbers
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any, Generic, Protocol

import jax
import jax.numpy as jnp
import numpy as np
import optax
from tqdm import tqdm

from .._placement import Placement
from ..budget import Budget
from ..training import BudgetReport, UnitRecords, make_optimizer, run_loop
from .metrics import LOOP_FIELDS, Epochs, EvaluationMetrics, M, M_co


class ClassificationModel(Protocol[M_co]):
    """What `train` and `evaluate` need from a model (`SpikingClassifier`,
    `YinYangNetwork`); hashable (a static argument of `jax.jit`). M: the dataclass of its
    evaluation metrics (covariant)."""

    def loss(
        self, params: Any, inputs: jax.Array, labels: jax.Array, key: jax.Array
    ) -> tuple[jax.Array, dict[str, jax.Array]]:
        """Mean loss over a batch and aux values {"accuracy", "n_exhausted"}."""

    @property
    def budget(self) -> Budget:
        """The spike budget of the simulation (reported when training steps exhaust it)."""

    def constrain(self, params: Any) -> Any:
        """Parameters projected back to their allowed range after an optimiser step."""

    def batch_metrics(
        self, params: Any, inputs: jax.Array, labels: jax.Array
    ) -> dict[str, jax.Array]:
        """Test metrics of a batch as sums (added over batches)."""

    def summarize(self, sums: dict[str, jax.Array], n_samples: int) -> M_co:
        """Metrics of the whole test set from the summed batch metrics."""


@dataclass(frozen=True)
class TrainConfig:
    """Optimiser and loop settings of `train` (defaults: the paper's MNIST training).

    AdaBelief (b1, b2) with learning rate learning_rate exp(-epoch / decay_epochs), on
    shuffled batches of batch_size; with ema_decay = d > 0, the parameters evaluated
    after each epoch and returned are the average over the steps taken, step s of t
    weighted by d^(t - s) (`average_step`), e.g. d = 0.998: over the last 500 steps.
    """

    epochs: int = 100
    batch_size: int = 1000
    learning_rate: float = 4e-3
    decay_epochs: float = 100.0  # learning rate lr exp(-epoch / decay_epochs), per step
    b1: float = 0.9
    b2: float = 0.999
    seed: int = 0
    eval_batch_size: int = 1000
    # d: evaluate and return the average of the parameters over the steps taken, step s
    # weighted by d^(t - s) (`average_step`; Polyak averaging); 0: the last step's
    ema_decay: float = 0.0

    def __post_init__(self) -> None:
        _check_train_config(self)

    def optimizer(self, steps_per_epoch: int) -> optax.GradientTransformation:
        """AdaBelief with learning rate lr exp(-step / (decay_epochs steps_per_epoch))."""
        return make_optimizer(
            self.learning_rate, self.decay_epochs * steps_per_epoch, b1=self.b1, b2=self.b2
        )


def _check_train_config(config: TrainConfig) -> None:
    """ValueError naming the field and a valid value for each setting out of its range."""
    integers = {
        "epochs": (0, "epochs=100"),
        "batch_size": (1, "batch_size=1000"),
        "eval_batch_size": (1, "eval_batch_size=1000"),
        "seed": (0, "seed=0"),
    }
    for name, (low, example) in integers.items():
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
            raise ValueError(
                f"TrainConfig: {name} must be >= {low} and an integer (e.g. "
                f"{example}), got {value!r}"
            )
    reals: dict[str, tuple[str, Callable[[float], bool], str]] = {
        "learning_rate": ("a finite number > 0", lambda v: 0 < v < math.inf, "4e-3"),
        "decay_epochs": ("a number > 0 (inf: a constant learning rate)", lambda v: v > 0, "100.0"),
        "b1": ("a number in [0, 1)", lambda v: 0 <= v < 1, "0.9"),
        "b2": ("a number in [0, 1)", lambda v: 0 <= v < 1, "0.999"),
        "ema_decay": ("a number in [0, 1) (0: no averaging)", lambda v: 0 <= v < 1, "0.998"),
    }
    for name, (wanted, valid, example) in reals.items():
        value = getattr(config, name)
        if (
            isinstance(value, bool)
            or not isinstance(value, numbers.Real)
            or math.isnan(value)
            or not valid(float(value))
        ):
            raise ValueError(
                f"TrainConfig: {name} must be {wanted} (e.g. {name}={example}), got {value!r}"
            )


def check_data(
    task: Any, inputs: np.ndarray, labels: np.ndarray, name: str, evaluation: bool = False
) -> None:
    """ValueError naming `name` (e.g. "train_data") unless inputs and labels are arrays of
    as many samples, at least one; then the task's own `check_data` (if it has one, e.g.
    `SpikingClassifier.check_data`: label range, pixel bins) on the whole data set."""
    n_inputs, n_labels = len(inputs), len(labels)
    if n_inputs != n_labels:
        raise ValueError(
            f"{name}: {n_inputs} inputs but {n_labels} labels; pass one label "
            "per sample (inputs and labels of equal length)"
        )
    if n_inputs == 0:
        raise ValueError(
            f"{name}: no samples (inputs and labels are empty); pass at least one sample"
        )
    check = getattr(task, "check_data", None)
    if check is not None:
        check(inputs, labels, evaluation=evaluation, caller=name)


def data_fingerprint(*arrays: Any) -> str:
    """SHA-256 (hex, first 16 digits) of the dtypes, shapes and bytes of the arrays (the
    leaves of pytrees): a checkpoint records it to refuse resuming with other data."""
    digest = hashlib.sha256()
    for leaf in jax.tree.leaves(jax.device_get(arrays)):
        value = np.ascontiguousarray(leaf)
        digest.update(f"{value.dtype.str}|{value.shape}|".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()[:16]


@dataclass
class TrainResult(Generic[M]):
    """Final parameters (with `TrainConfig.ema_decay` > 0: their average, the parameters
    evaluated), test metrics per epoch (entry 0: before training), the per-step training
    loss and accuracy, the budget report of the training steps and the wall time."""

    params: Any
    metrics: Epochs[M]
    step_loss: np.ndarray
    step_accuracy: np.ndarray
    budget: BudgetReport
    wall_time: float


def make_train_step(task: ClassificationModel, optimizer: optax.GradientTransformation):
    """The jit-compiled step (params, opt_state, inputs, labels, key) -> (params, opt_state,
    loss, aux). Under sharded inputs the gradient is reduced over the devices by XLA."""

    def step(params, opt_state, inputs, labels, key):
        (loss, aux), grads = jax.value_and_grad(task.loss, has_aux=True)(
            params, inputs, labels, key
        )
        updates, opt_state = optimizer.update(grads, opt_state, params)
        params = task.constrain(optax.apply_updates(params, updates))
        return params, opt_state, loss, aux

    return jax.jit(step)


@jax.jit
def average_step(average: Any, params: Any, weight: jax.Array) -> Any:
    """One step of the debiased exponential moving average of the parameters,
    A_t = A_{t-1} + w_t (p_t - A_{t-1}) with w_t = (1 - d) / (1 - d^t): the mean of
    p_1 .. p_t weighted by d^(t - s) (A_1 = p_1, whatever A_0)."""
    return jax.tree.map(lambda a, p: a + weight * (p - a), average, params)


def average_weight(decay: float, step: int) -> float:
    """w_t = (1 - d) / (1 - d^t) of `average_step` at step t >= 1."""
    return (1.0 - decay) / (1.0 - decay**step)


@partial(jax.jit, static_argnums=0)
def _batch_metrics(task: ClassificationModel, params: Any, inputs: jax.Array, labels: jax.Array):
    """task.batch_metrics, compiled once per (hashable) task and shapes."""
    return task.batch_metrics(params, inputs, labels)


def evaluate(
    task: ClassificationModel[M],
    params: Any,
    inputs: np.ndarray,
    labels: np.ndarray,
    batch_size: int = 1000,
    devices=None,
) -> M:
    """Test metrics of `params` on a data set, in batches sharded over the devices.

    ValueError (naming inputs/labels) for an empty data set, unequal lengths, and what
    the task's `check_data` refuses (e.g. labels outside 0..n_classes-1).
    """
    check_data(task, inputs, labels, "evaluate", evaluation=True)
    placement = Placement(devices)
    params = placement.replicate(params)
    sums: Any = None
    for start in range(0, len(inputs), batch_size):
        batch = placement.put_batch(
            inputs[start : start + batch_size], labels[start : start + batch_size]
        )
        values = _batch_metrics(task, params, *batch)
        sums = values if sums is None else jax.tree.map(jnp.add, sums, values)
    return task.summarize(jax.device_get(sums), len(inputs))


def _epoch_records(
    metrics: EvaluationMetrics, train_loss: float, train_accuracy: float, epoch_seconds: float
) -> dict[str, np.ndarray]:
    """One epoch's entry of every `Epochs` array (the loop's records, "metric_" NAME)."""
    values = asdict(metrics) | dict(
        zip(LOOP_FIELDS, (train_loss, train_accuracy, epoch_seconds), strict=True)
    )
    return {f"metric_{name}": np.asarray([value]) for name, value in values.items()}


def train(
    task: ClassificationModel[M],
    params: Any,
    train_data: tuple[np.ndarray, np.ndarray],
    test_data: tuple[np.ndarray, np.ndarray],
    config: TrainConfig = TrainConfig(),
    checkpoint: str | Path | None = None,
    fingerprint: dict | None = None,
    progress: bool = True,
    devices=None,
) -> TrainResult[M]:
    """Train `params` on train_data for config.epochs epochs; test metrics after each epoch.

    Every epoch shuffles the training set and augments each batch with its own key (both
    derived from config.seed), so a run is reproducible. Batches are sharded over
    `devices` (default: all), which must divide config.batch_size; a last incomplete batch
    is dropped. With config.ema_decay = d > 0, the metrics after each epoch and the
    returned parameters are those of the average of the parameters over the steps so far,
    step s of t weighted by d^(t - s) (`average_step`), while training continues from the
    last step's. With `checkpoint`, the state after every epoch is saved (see `run_loop`)
    and a call with the same path resumes from it, giving exactly the result of an
    uninterrupted run; a checkpoint with fewer epochs is continued, one with as many or
    more is returned as is (`TrainResult.metrics` has one entry per epoch done, plus one).
    `fingerprint` (e.g. the experiment's config) is stored and must match on resume, and
    so must the fingerprints (`data_fingerprint`) of the training and test data and of
    the initial parameters: a resume with other data or other parameters raises
    ValueError naming which differs.

    Bad data (empty sets, unequal numbers of inputs and labels, what the task's
    `check_data` refuses, e.g. labels outside 0..n_classes-1) raise ValueError naming
    train_data or test_data before any computation.
    """
    check_data(task, *train_data, "train_data")
    check_data(task, *test_data, "test_data", evaluation=True)
    placement = Placement(devices)
    if config.batch_size % len(placement.devices):
        raise ValueError(
            f"batch_size={config.batch_size} is not divisible by the "
            f"{len(placement.devices)} devices"
        )
    train_inputs, train_labels = train_data
    n_batches = len(train_inputs) // config.batch_size
    if n_batches == 0:
        raise ValueError(
            f"{len(train_inputs)} training samples: fewer than one batch of "
            f"batch_size={config.batch_size}; lower batch_size"
        )
    optimizer = config.optimizer(n_batches)
    step = make_train_step(task, optimizer)
    writer = placement.is_writer
    averaging = config.ema_decay > 0
    kind: list[type[M]] = []  # the type of the task's metrics (of the first evaluation)

    def start():
        carry = {
            "params": params,
            "opt_state": optimizer.init(params),
            "key": jax.random.fold_in(jax.random.PRNGKey(config.seed), 1),
        } | ({"average": params} if averaging else {})
        initial = evaluate(task, params, *test_data, config.eval_batch_size, placement.devices)
        kind.append(type(initial))
        empty = {name: np.zeros(0) for name in ("step_loss", "step_accuracy")}
        return jax.device_get(carry), _epoch_records(initial, math.nan, math.nan, 0.0) | empty

    def advance(carry, epoch, _length):
        epoch_start = time.perf_counter()
        params, opt_state, average = placement.replicate(
            (carry["params"], carry["opt_state"], carry.get("average"))
        )
        key, order_key, flip_key = jax.random.split(jnp.asarray(carry["key"]), 3)
        order = np.asarray(jax.random.permutation(order_key, len(train_inputs)))
        losses, accuracies, exhausted = [], [], []
        batches = tqdm(
            range(n_batches),
            desc=f"epoch {epoch + 1}",
            leave=False,
            disable=not (progress and writer),
        )
        for index in batches:
            chosen = order[index * config.batch_size : (index + 1) * config.batch_size]
            inputs, labels = placement.put_batch(train_inputs[chosen], train_labels[chosen])
            params, opt_state, loss, aux = step(
                params, opt_state, inputs, labels, jax.random.fold_in(flip_key, index)
            )
            if averaging:
                step_number = epoch * n_batches + index + 1
                average = average_step(
                    average, params, average_weight(config.ema_decay, step_number)
                )
            losses.append(float(loss))
            accuracies.append(float(aux["accuracy"]))
            exhausted.append(int(aux["n_exhausted"]))
            batches.set_postfix(loss=f"{losses[-1]:.3f}", acc=f"{accuracies[-1]:.3f}")
        evaluated = task.constrain(average) if averaging else params
        test = evaluate(task, evaluated, *test_data, config.eval_batch_size, placement.devices)
        records = _epoch_records(
            test,
            float(np.mean(losses)),
            float(np.mean(accuracies)),
            time.perf_counter() - epoch_start,
        )
        carry = {"params": params, "opt_state": opt_state, "key": key}
        carry |= {"average": average} if averaging else {}
        return jax.device_get(carry), UnitRecords(
            records | {"step_loss": np.asarray(losses), "step_accuracy": np.asarray(accuracies)},
            exhausted=np.asarray(exhausted, np.int64),
        )

    result = run_loop(
        advance,
        start,
        config.epochs,
        checkpoint=checkpoint,
        identity={
            # without averaging as before it existed (so older checkpoints resume)
            "train": {
                name: value
                for name, value in (asdict(config) | {"epochs": None}).items()
                if name != "ema_decay" or averaging
            },
            "task": fingerprint,
            "train_data": data_fingerprint(*train_data),
            "test_data": data_fingerprint(*test_data),
            "initial_params": data_fingerprint(params),
        },
        desc="epochs",
        progress=progress,
        finite=("step_loss",),
        budget=task.budget,
        trials_per_count=config.batch_size,
        writer=writer,
        postfix=lambda new: {
            "test_acc": f"{float(new['metric_accuracy'][-1]):.4f}",
            "loss": f"{float(new['metric_loss'][-1]):.3f}",
        },
    )
    metrics = Epochs(
        kind[0],
        {
            name.removeprefix("metric_"): values
            for name, values in result.records.items()
            if name.startswith("metric_")
        },
    )
    final = result.carry["average"] if averaging else result.carry["params"]
    return TrainResult(
        params=jax.device_get(task.constrain(final)) if averaging else final,
        metrics=metrics,
        step_loss=result.records["step_loss"],
        step_accuracy=result.records["step_accuracy"],
        budget=result.budget,
        wall_time=result.wall_time,
    )
