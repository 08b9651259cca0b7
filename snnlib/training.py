"""The one training loop of every experiment, and the data-parallel MNIST-style trainer.

`run_loop` advances a carry (parameters, optimiser state, RNG key) unit by unit (a chunk
of `lax.scan` trials, or an epoch of batches), with a tqdm bar, a check that losses and
parameters stay finite, the report of exhausted simulation budgets, and atomic
checksummed checkpoints (`snnlib.checkpoint`) from which a rerun resumes to exactly the
result of an uninterrupted run. `train` uses it for batched classification tasks (MNIST,
Yin-Yang): jit-compiled steps sharded over the devices, test metrics after each epoch.
"""

import hashlib
import json
import math
import numbers
import time
from collections.abc import Callable
from contextlib import nullcontext
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
from .budget import EventBudgetError, report_exhausted
from .checkpoint import checkpoint_lock, load_checkpoint, save_checkpoint


class NonFiniteError(FloatingPointError):
    """Training produced a non-finite loss or parameter."""


def make_optimizer(learning_rate: float, decay_steps: float | None = None, *,
                   kind: str = "adabelief", b1: float = 0.9, b2: float = 0.999,
                   gradient_clip: float | None = None) -> optax.GradientTransformation:
    """The optimiser of every experiment: Adabelief (b1, b2) or plain SGD, with learning
    rate lr exp(-step / decay_steps) (constant if decay_steps is None), after clipping
    each gradient component to [-gradient_clip, gradient_clip] if given."""
    schedule: float | optax.Schedule = learning_rate
    if decay_steps is not None:
        schedule = optax.exponential_decay(learning_rate, decay_steps, math.exp(-1))
    if kind == "adabelief":
        optimizer = optax.adabelief(schedule, b1=b1, b2=b2)
    elif kind == "sgd":
        optimizer = optax.sgd(schedule)
    else:
        raise ValueError(f"optimizer kind must be 'adabelief' or 'sgd', got {kind!r}")
    if gradient_clip is not None:
        optimizer = optax.chain(optax.clip(gradient_clip), optimizer)
    return optimizer


@dataclass
class LoopResult:
    """The final carry, the records of all units concatenated along axis 0, the number
    of units done and the wall time (including interrupted earlier parts)."""

    carry: Any
    records: dict[str, np.ndarray]
    done: int
    wall_time: float


def _jsonable(value: Any) -> Any:
    """value as it reads back from JSON (tuples become lists, numpy scalars numbers)."""
    return json.loads(json.dumps(value, default=lambda v: v.item() if isinstance(
        v, np.generic) else v.tolist() if isinstance(v, np.ndarray) else str(v)))


def config_differences(stored: Any, current: Any, prefix: str = "") -> list[str]:
    """'key: stored X, now Y' for every (nested) key whose values differ."""
    if isinstance(stored, dict) and isinstance(current, dict):
        lines = []
        for key in sorted(set(stored) | set(current), key=str):
            name = f"{prefix}.{key}" if prefix else str(key)
            if key not in stored or key not in current:
                lines.append(f"{name}: stored {stored.get(key, '(absent)')!r}, now "
                             f"{current.get(key, '(absent)')!r}")
            else:
                lines += config_differences(stored[key], current[key], name)
        return lines
    return [] if stored == current else [f"{prefix or 'value'}: stored {stored!r}, now {current!r}"]


def _check_finite(carry: Any, records: dict[str, np.ndarray], finite: tuple[str, ...],
                  where: str, checkpoint: str | Path | None, done: int,
                  exhausted: str | None = None) -> None:
    """Raise NonFiniteError if a record named in `finite` or a float leaf of carry is not
    finite; EventBudgetError instead if trials of this unit ran out of budget (`exhausted`
    says which budget in how many trials), since their NaN readouts are the cause."""
    bad = [name for name in finite if name in records
           and not np.all(np.isfinite(records[name]))]
    leaves = jax.tree_util.tree_flatten_with_path(jax.device_get(carry))[0]
    bad += [f"parameter {jax.tree_util.keystr(path)}" for path, leaf in leaves
            if np.issubdtype(np.asarray(leaf).dtype, np.inexact)
            and not np.all(np.isfinite(leaf))]
    if bad:
        kept = (f"the last good checkpoint {checkpoint} (after {done} units) is kept"
                if checkpoint else "no checkpoint was written")
        if exhausted:
            raise EventBudgetError(f"{where}: {exhausted}, so their spike times are NaN and "
                                   f"so is the {', '.join(bad)}; training stopped, {kept}. "
                                   "Increase the budget.")
        raise NonFiniteError(f"{where}: non-finite {', '.join(bad)}; training stopped, "
                             f"{kept}. Lower the learning rate or check the data.")


def run_loop(
    advance: Callable[[Any, int, int], tuple[Any, dict[str, np.ndarray]]],
    start: Callable[[], tuple[Any, dict[str, np.ndarray]]],
    total: int,
    *,
    unit: int = 1,
    checkpoint: str | Path | None = None,
    identity: Any = None,
    desc: str = "training",
    progress: bool = True,
    finite: tuple[str, ...] = ("loss",),
    budget: str | None = None,
    trials_per_count: int = 1,
    writer: bool = True,
    postfix: Callable[[dict[str, np.ndarray]], dict[str, str]] | None = None,
) -> LoopResult:
    """Advance a carry from `start()` to `total` units, `unit` at a time.

    start() -> (carry, records before training); advance(carry, done, length) ->
    (carry, records of these `length` units, each with a leading axis). A record named
    "n_exhausted" (counts per trial or step, each covering trials_per_count trials) is
    reported with `snnlib.budget.report_exhausted` (budget: e.g. "max_events=600").
    Records named in `finite` and the float leaves of the carry must stay finite (else
    NonFiniteError; the checkpoint keeps the last good state). With `checkpoint`, the
    carry and records are saved atomically after every advance (holding the checkpoint's
    lock), and a rerun resumes: `identity` (e.g. the config, JSON) must match the stored
    one (else ValueError naming the differing keys); a checkpoint with `total` units or
    more is returned as it is. writer=False (the other processes of a multi-process run):
    read the checkpoint to resume, but neither lock nor write it, and show no progress.
    """
    start_time = time.perf_counter()
    identity = _jsonable(identity)
    with checkpoint_lock(checkpoint) if checkpoint and writer else nullcontext():
        carry, records = start()
        done = 0
        saved = load_checkpoint(checkpoint, lambda meta: {
            "carry": carry, "records": dict.fromkeys(meta["records"], 0)}) if checkpoint else None
        if saved is not None:
            differences = config_differences(saved.meta["identity"], identity)
            if differences:
                raise ValueError(f"checkpoint {checkpoint} was written by another "
                                 f"configuration (or data, or initial parameters): "
                                 f"{'; '.join(differences)} (resume with the same ones, "
                                 "delete it to start afresh, or use another checkpoint path)")
            carry, records, done = saved.tree["carry"], saved.tree["records"], saved.meta["done"]
            start_time -= saved.meta["elapsed"]
        bar = tqdm(total=total, initial=min(done, total), desc=desc,
                   disable=not (progress and writer))
        while done < total:
            length = min(unit, total - done)
            carry, new = advance(carry, done, length)
            new = {name: np.asarray(value) for name, value in new.items()}
            where = f"{desc}, units {done + 1}-{done + length}"
            n_exhausted = int(np.sum(new.get("n_exhausted", 0)))
            n_trials = np.size(new.get("n_exhausted", 0)) * trials_per_count
            exhausted = (f"{budget} ran out before the trial end T in {n_exhausted} of "
                         f"{n_trials} trials") if budget and n_exhausted else None
            _check_finite(carry, new, finite, where, checkpoint, done, exhausted)
            if exhausted:
                report_exhausted(n_exhausted, n_trials, where, budget)
            records = records | {name: np.concatenate([records[name], value])
                                 if name in records else value for name, value in new.items()}
            done += length
            if checkpoint and writer:
                meta = {"done": done, "elapsed": time.perf_counter() - start_time,
                        "identity": identity, "records": sorted(records)}
                save_checkpoint(checkpoint, {"carry": carry, "records": records}, meta)
            bar.update(length)
            if postfix is not None:
                bar.set_postfix(postfix(new))
        bar.close()
    return LoopResult(carry, records, done, time.perf_counter() - start_time)


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
    """Optimiser and loop settings of `train` (defaults: the paper's MNIST training)."""

    epochs: int = 100
    batch_size: int = 1000
    learning_rate: float = 4e-3
    decay_epochs: float = 100.0  # learning rate lr exp(-epoch / decay_epochs), per step
    b1: float = 0.9
    b2: float = 0.999
    seed: int = 0
    eval_batch_size: int = 1000

    def __post_init__(self) -> None:
        _check_train_config(self)

    def optimizer(self, steps_per_epoch: int) -> optax.GradientTransformation:
        """Adabelief with learning rate lr exp(-step / (decay_epochs steps_per_epoch))."""
        return make_optimizer(self.learning_rate, self.decay_epochs * steps_per_epoch,
                              b1=self.b1, b2=self.b2)


def _check_train_config(config: TrainConfig) -> None:
    """ValueError naming the field and a valid value for each setting out of its range."""
    integers = {"epochs": (0, "epochs=100"), "batch_size": (1, "batch_size=1000"),
                "eval_batch_size": (1, "eval_batch_size=1000"), "seed": (0, "seed=0")}
    for name, (low, example) in integers.items():
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
            raise ValueError(f"TrainConfig: {name} must be >= {low} and an integer (e.g. "
                             f"{example}), got {value!r}")
    reals = {"learning_rate": ("a finite number > 0", lambda v: 0 < v < math.inf, "4e-3"),
             "decay_epochs": ("a number > 0 (inf: a constant learning rate)", lambda v: v > 0,
                              "100.0"),
             "b1": ("a number in [0, 1)", lambda v: 0 <= v < 1, "0.9"),
             "b2": ("a number in [0, 1)", lambda v: 0 <= v < 1, "0.999")}
    for name, (wanted, valid, example) in reals.items():
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, numbers.Real) \
                or math.isnan(value) or not valid(value):
            raise ValueError(f"TrainConfig: {name} must be {wanted} (e.g. {name}={example}), "
                             f"got {value!r}")


def check_data(task: Any, inputs: np.ndarray, labels: np.ndarray, name: str,
               evaluation: bool = False) -> None:
    """ValueError naming `name` (e.g. "train_data") unless inputs and labels are arrays of
    as many samples, at least one; then the task's own `check_data` (if it has one, e.g.
    `SpikingClassifier.check_data`: label range, pixel bins) on the whole data set."""
    n_inputs, n_labels = len(inputs), len(labels)
    if n_inputs != n_labels:
        raise ValueError(f"{name}: {n_inputs} inputs but {n_labels} labels; pass one label "
                         "per sample (inputs and labels of equal length)")
    if n_inputs == 0:
        raise ValueError(f"{name}: no samples (inputs and labels are empty); pass at least "
                         "one sample")
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
class TrainResult:
    """Final parameters, test metrics per epoch (entry 0: before training) and the
    per-step training loss and accuracy."""

    params: Any
    metrics: dict[str, list[float]]
    step_loss: np.ndarray
    step_accuracy: np.ndarray
    wall_time: float


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
    """Test metrics of `params` on a data set, in batches sharded over the devices.

    ValueError (naming inputs/labels) for an empty data set, unequal lengths, and what
    the task's `check_data` refuses (e.g. labels outside 0..n_classes-1).
    """
    check_data(task, inputs, labels, "evaluate", evaluation=True)
    placement = Placement(devices)
    params = placement.replicate(params)
    sums = None
    for start in range(0, len(inputs), batch_size):
        batch = placement.put_batch(inputs[start:start + batch_size],
                                    labels[start:start + batch_size])
        values = _batch_metrics(task, params, *batch)
        sums = values if sums is None else jax.tree.map(jnp.add, sums, values)
    return task.summarize(jax.device_get(sums), len(inputs))


def _metric_records(values: dict[str, float]) -> dict[str, np.ndarray]:
    return {f"metric_{name}": np.asarray([value]) for name, value in values.items()}


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
    is dropped. With `checkpoint`, the state after every epoch is saved (see `run_loop`)
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
        raise ValueError(f"batch_size={config.batch_size} is not divisible by the "
                         f"{len(placement.devices)} devices")
    train_inputs, train_labels = train_data
    n_batches = len(train_inputs) // config.batch_size
    if n_batches == 0:
        raise ValueError(f"{len(train_inputs)} training samples: fewer than one batch of "
                         f"batch_size={config.batch_size}; lower batch_size")
    optimizer = config.optimizer(n_batches)
    step = make_train_step(task, optimizer)
    writer = jax.process_index() == 0  # process 0 writes checkpoints and progress bars

    def start():
        carry = {"params": params, "opt_state": optimizer.init(params),
                 "key": jax.random.fold_in(jax.random.PRNGKey(config.seed), 1)}
        initial = evaluate(task, params, *test_data, config.eval_batch_size, placement.devices)
        initial |= {"train_loss": math.nan, "train_accuracy": math.nan, "epoch_seconds": 0.0}
        empty = {name: np.zeros(0) for name in ("step_loss", "step_accuracy")}
        return jax.device_get(carry), _metric_records(initial) | empty | {
            "n_exhausted": np.zeros(0, np.int64)}

    def advance(carry, epoch, _length):
        epoch_start = time.perf_counter()
        params, opt_state = placement.replicate((carry["params"], carry["opt_state"]))
        key, order_key, flip_key = jax.random.split(jnp.asarray(carry["key"]), 3)
        order = np.asarray(jax.random.permutation(order_key, len(train_inputs)))
        losses, accuracies, exhausted = [], [], []
        batches = tqdm(range(n_batches), desc=f"epoch {epoch + 1}", leave=False,
                       disable=not (progress and writer))
        for index in batches:
            chosen = order[index * config.batch_size:(index + 1) * config.batch_size]
            inputs, labels = placement.put_batch(train_inputs[chosen], train_labels[chosen])
            params, opt_state, loss, aux = step(params, opt_state, inputs, labels,
                                                jax.random.fold_in(flip_key, index))
            losses.append(float(loss))
            accuracies.append(float(aux["accuracy"]))
            exhausted.append(int(aux["n_exhausted"]))
            batches.set_postfix(loss=f"{losses[-1]:.3f}", acc=f"{accuracies[-1]:.3f}")
        test = evaluate(task, params, *test_data, config.eval_batch_size, placement.devices)
        test |= {"train_loss": float(np.mean(losses)), "train_accuracy": float(np.mean(accuracies)),
                 "epoch_seconds": time.perf_counter() - epoch_start}
        carry = {"params": params, "opt_state": opt_state, "key": key}
        return jax.device_get(carry), _metric_records(test) | {
            "step_loss": np.asarray(losses), "step_accuracy": np.asarray(accuracies),
            "n_exhausted": np.asarray(exhausted, np.int64)}

    result = run_loop(
        advance, start, config.epochs, checkpoint=checkpoint,
        identity={"train": asdict(config) | {"epochs": None}, "task": fingerprint,
                  "train_data": data_fingerprint(*train_data),
                  "test_data": data_fingerprint(*test_data),
                  "initial_params": data_fingerprint(params)},
        desc="epochs", progress=progress, finite=("step_loss",),
        budget=f"the spike budget of {type(task).__name__}",
        trials_per_count=config.batch_size, writer=writer, postfix=lambda new: {
            "test_acc": f"{float(new['metric_accuracy'][-1]):.4f}",
            "loss": f"{float(new['metric_loss'][-1]):.3f}"})
    metrics = {name.removeprefix("metric_"): values.tolist()
               for name, values in result.records.items() if name.startswith("metric_")}
    return TrainResult(params=result.carry["params"], metrics=metrics,
                       step_loss=result.records["step_loss"],
                       step_accuracy=result.records["step_accuracy"],
                       wall_time=result.wall_time)
