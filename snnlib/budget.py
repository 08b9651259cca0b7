"""One policy for event and spike budgets (book/theory.md; the simulators' `throw`).

The simulators run a fixed number of steps (a budget: `max_events` events for
`simulate`, `max_spikes` spikes per neuron for `simulate_feedforward`), so that they can
be compiled. A trial that needs more is *exhausted*: its results after the budget ran
out are unknown. The policy, the same for every simulator (like diffrax's `throw`):

- `throw=True` (the default): called with concrete arrays (outside `jax.jit`,
  `jax.vmap`, `jax.grad` tracing), the simulator raises `EventBudgetError` naming the
  budget and what to pass. Inside traced code no Python error can be raised; there the
  simulator returns the `exhausted` flag, as with `throw=False`.
- `throw=False`: return the flag (`Events.exhausted`, `LayerSpikes.exhausted`).
- Readouts (`output_spike_times`, `state_trace`, `layer_output_times`, ...) never turn
  an exhausted trial into plausible numbers: the values the simulation did not reach
  are NaN.
- Training loops count exhausted trials (from the flags) and report them with
  `report_exhausted`; `raise_if_exhausted` checks flags of a batch after the fact.
"""

import warnings
from dataclasses import dataclass

import jax
import numpy as np
from jax.typing import ArrayLike


class EventBudgetError(ValueError):
    """A simulation budget (max_events or max_spikes) ran out before the trial end T."""


class EventBudgetWarning(UserWarning):
    """Trials of a training run or batch exhausted their budget (`report_exhausted`)."""


@dataclass(frozen=True)
class Budget:
    """A simulation budget by the argument that sets it, e.g. Budget("max_events", 600)."""

    argument: str  # "max_events" or "max_spikes"
    value: int

    def __str__(self) -> str:
        return f"{self.argument}={self.value}"


def exhausted_message(
    budget: Budget | str, n_exhausted: int | None = None, n_trials: int | None = None
) -> str:
    """The one wording of an exhausted budget: "BUDGET ran out before the trial end T"
    (with "in N of M trials" when the counts are given)."""
    counts = f" in {n_exhausted} of {n_trials} trials" if n_exhausted is not None else ""
    return f"{budget} ran out before the trial end T{counts}"


def is_concrete(*trees: object) -> bool:
    """True if no leaf of the pytrees is a tracer (values can be checked in Python)."""
    return not any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree.leaves(trees))


def raise_if_exhausted(exhausted: ArrayLike, budget: Budget | str, advice: str) -> None:
    """Raise EventBudgetError if any trial of the (concrete) flags is exhausted.

    budget names the budget and its value (e.g. "max_events=10"); advice says what to
    pass (e.g. "pass max_events >= 37"). The message counts the exhausted trials of a
    batch.
    """
    flags = np.asarray(exhausted)
    if not flags.any():
        return
    counts = (int(flags.sum()), flags.size) if flags.ndim else (None, None)
    raise EventBudgetError(
        f"{exhausted_message(budget, *counts)}: {advice} "
        "(or throw=False to get the `exhausted` flag instead of this error)."
    )


def report_exhausted(n_exhausted: int, n_trials: int, where: str, budget: Budget | str) -> None:
    """Warn (EventBudgetWarning) that n_exhausted of n_trials trials ran out of budget.

    For training loops, which cannot raise inside compiled steps: call it with the
    count of `exhausted` flags of an epoch or chunk. where: e.g. "epoch 3"; budget:
    e.g. "max_events=500". Nothing happens if n_exhausted is 0.
    """
    if n_exhausted:
        warnings.warn(
            f"{where}: {exhausted_message(budget, n_exhausted, n_trials)}; their spike "
            "times are NaN (losses and gradients of those trials are unusable): increase "
            "the budget.",
            EventBudgetWarning,
            stacklevel=2,
        )
