"""The one training loop of every experiment, and the one optimiser factory.

`run_loop` advances a carry (parameters, optimiser state, RNG key) unit by unit (a chunk
of `lax.scan` trials, or an epoch of batches), with a tqdm bar, a check that losses and
parameters stay finite, the report of exhausted simulation budgets, and atomic
checksummed checkpoints (`snnlib.checkpoint`) from which a rerun resumes to exactly the
result of an uninterrupted run. The classifier trainer built on it is
`snnlib.classification.train`.
"""

import json
import math
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jax
import numpy as np
import optax
from tqdm import tqdm

from .budget import Budget, EventBudgetError, exhausted_message, report_exhausted
from .checkpoint import checkpoint_lock, load_checkpoint, save_checkpoint


class NonFiniteError(FloatingPointError):
    """Training produced a non-finite loss or parameter."""


def make_optimizer(
    learning_rate: float,
    decay_steps: float | None = None,
    *,
    kind: str = "adabelief",
    b1: float = 0.9,
    b2: float = 0.999,
    gradient_clip: float | None = None,
) -> optax.GradientTransformation:
    """The optimiser of every experiment: AdaBelief (b1, b2) or plain SGD, with learning
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


@dataclass(frozen=True)
class UnitRecords:
    """What one `advance` of `run_loop` recorded: `values` (name -> array with a leading
    axis of entries, e.g. one per trial or step) and `exhausted` (per entry, how many
    trials ran out of the simulation budget: a bool or int array; empty if none is
    tracked)."""

    values: dict[str, np.ndarray]
    exhausted: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))


@dataclass(frozen=True)
class BudgetReport:
    """Exhausted trials of a whole run: `n_exhausted` of `n_trials` trials ran out of
    `budget` (None: the loop tracked no budget)."""

    budget: Budget | None
    n_exhausted: int
    n_trials: int


@dataclass
class LoopResult:
    """The final carry, the records of all units concatenated along axis 0 (`values`
    and the per-entry `exhausted` counts), the budget report, the number of units done
    and the wall time (including interrupted earlier parts)."""

    carry: Any
    records: dict[str, np.ndarray]
    exhausted: np.ndarray
    budget: BudgetReport
    done: int
    wall_time: float


def _jsonable(value: Any) -> Any:
    """value as it reads back from JSON (tuples become lists, numpy scalars numbers)."""
    return json.loads(
        json.dumps(
            value,
            default=lambda v: (
                v.item()
                if isinstance(v, np.generic)
                else v.tolist()
                if isinstance(v, np.ndarray)
                else str(v)
            ),
        )
    )


def config_differences(stored: Any, current: Any, prefix: str = "") -> list[str]:
    """'key: stored X, now Y' for every (nested) key whose values differ."""
    if isinstance(stored, dict) and isinstance(current, dict):
        lines = []
        for key in sorted(set(stored) | set(current), key=str):
            name = f"{prefix}.{key}" if prefix else str(key)
            if key not in stored or key not in current:
                lines.append(
                    f"{name}: stored {stored.get(key, '(absent)')!r}, now "
                    f"{current.get(key, '(absent)')!r}"
                )
            else:
                lines += config_differences(stored[key], current[key], name)
        return lines
    return [] if stored == current else [f"{prefix or 'value'}: stored {stored!r}, now {current!r}"]


def _check_finite(
    carry: Any,
    records: dict[str, np.ndarray],
    finite: tuple[str, ...],
    where: str,
    checkpoint: str | Path | None,
    done: int,
    exhausted: str | None = None,
) -> None:
    """Raise NonFiniteError if a record named in `finite` or a float leaf of carry is not
    finite; EventBudgetError instead if trials of this unit ran out of budget (`exhausted`
    says which budget in how many trials), since their NaN readouts are the cause."""
    bad = [name for name in finite if name in records and not np.all(np.isfinite(records[name]))]
    leaves = jax.tree_util.tree_flatten_with_path(jax.device_get(carry))[0]
    bad += [
        f"parameter {jax.tree_util.keystr(path)}"
        for path, leaf in leaves
        if np.issubdtype(np.asarray(leaf).dtype, np.inexact) and not np.all(np.isfinite(leaf))
    ]
    if bad:
        kept = (
            f"the last good checkpoint {checkpoint} (after {done} units) is kept"
            if checkpoint
            else "no checkpoint was written"
        )
        if exhausted:
            raise EventBudgetError(
                f"{where}: {exhausted}, so their spike times are NaN and "
                f"so is the {', '.join(bad)}; training stopped, {kept}. "
                "Increase the budget."
            )
        raise NonFiniteError(
            f"{where}: non-finite {', '.join(bad)}; training stopped, "
            f"{kept}. Lower the learning rate or check the data."
        )


def run_loop(
    advance: Callable[[Any, int, int], tuple[Any, UnitRecords]],
    start: Callable[[], tuple[Any, dict[str, np.ndarray]]],
    total: int,
    *,
    unit: int = 1,
    checkpoint: str | Path | None = None,
    identity: Any = None,
    desc: str = "training",
    progress: bool = True,
    finite: tuple[str, ...] = ("loss",),
    budget: Budget | None = None,
    trials_per_count: int = 1,
    writer: bool = True,
    postfix: Callable[[dict[str, np.ndarray]], dict[str, str]] | None = None,
) -> LoopResult:
    """Advance a carry from `start()` to `total` units, `unit` at a time.

    start() -> (carry, records before training); advance(carry, done, length) ->
    (carry, `UnitRecords` of these `length` units). Their `exhausted` counts (each entry
    covering trials_per_count trials) are reported against `budget` with
    `snnlib.budget.report_exhausted` and summed in `LoopResult.budget`. Records named in
    `finite` and the float leaves of the carry must stay finite (else NonFiniteError; the
    checkpoint keeps the last good state). With `checkpoint`, the carry and records are
    saved atomically after every advance (holding the checkpoint's lock), and a rerun
    resumes: `identity` (e.g. the config, JSON) must match the stored one (else
    ValueError naming the differing keys); a checkpoint with `total` units or more is
    returned as it is. writer=False (the other processes of a multi-process run): read
    the checkpoint to resume, but neither lock nor write it, and show no progress.
    """
    start_time = time.perf_counter()
    identity = _jsonable(identity)
    with checkpoint_lock(checkpoint) if checkpoint and writer else nullcontext():
        carry, records = start()
        exhausted = np.zeros(0, np.int64)
        done = 0
        saved = (
            load_checkpoint(
                checkpoint,
                lambda meta: {
                    "carry": carry,
                    "records": dict.fromkeys(meta["records"], 0),
                    "exhausted": 0,
                },
            )
            if checkpoint
            else None
        )
        if saved is not None:
            differences = config_differences(saved.meta["identity"], identity)
            if differences:
                raise ValueError(
                    f"checkpoint {checkpoint} was written by another "
                    f"configuration (or data, or initial parameters): "
                    f"{'; '.join(differences)} (resume with the same ones, "
                    "delete it to start afresh, or use another checkpoint path)"
                )
            carry, records = saved.tree["carry"], saved.tree["records"]
            exhausted, done = saved.tree["exhausted"], saved.meta["done"]
            start_time -= saved.meta["elapsed"]
        bar = tqdm(
            total=total, initial=min(done, total), desc=desc, disable=not (progress and writer)
        )
        while done < total:
            length = min(unit, total - done)
            carry, unit_records = advance(carry, done, length)
            new = {name: np.asarray(value) for name, value in unit_records.values.items()}
            counts = np.asarray(unit_records.exhausted)
            where = f"{desc}, units {done + 1}-{done + length}"
            n_exhausted, n_trials = int(np.sum(counts)), counts.size * trials_per_count
            message = (
                exhausted_message(budget, n_exhausted, n_trials)
                if (budget is not None and n_exhausted)
                else None
            )
            _check_finite(carry, new, finite, where, checkpoint, done, message)
            if budget is not None:
                report_exhausted(n_exhausted, n_trials, where, budget)
            records = records | {
                name: np.concatenate([records[name], value]) if name in records else value
                for name, value in new.items()
            }
            exhausted = np.concatenate([exhausted, counts.astype(np.int64)])
            done += length
            if checkpoint and writer:
                meta = {
                    "done": done,
                    "elapsed": time.perf_counter() - start_time,
                    "identity": identity,
                    "records": sorted(records),
                }
                save_checkpoint(
                    checkpoint, {"carry": carry, "records": records, "exhausted": exhausted}, meta
                )
            bar.update(length)
            if postfix is not None:
                bar.set_postfix(postfix(new))
        bar.close()
    report = BudgetReport(budget, int(np.sum(exhausted)), exhausted.size * trials_per_count)
    return LoopResult(
        carry, records, np.asarray(exhausted), report, done, time.perf_counter() - start_time
    )
