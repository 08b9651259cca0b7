"""Recurrent-network experiment: quick training, grid variant, resume, stored results."""

from pathlib import Path

import matplotlib
import numpy as np
import pytest

from snnlib import training
from snnlib.budget import EventBudgetError
from snnlib.checkpoint import checkpoint_meta
from snnlib.experiments import Results
from snnlib.experiments import recurrent as rec
from snnlib.experiments._results import config_json

matplotlib.use("Agg")
RESULTS = Path(__file__).parents[1] / "results"


@pytest.fixture(scope="module")
def quick_normal():
    return rec.run(trials(200), progress=False)


def trials(n: int, kind=rec.AdabeliefTraining, **changes) -> rec.RecurrentConfig:
    """The paper's config with n trials of training `kind` in chunks of 50 (or as changed)."""
    return rec.RecurrentConfig(training=kind(n_trials=n), **{"chunk": 50} | changes)


def test_paper_instance_is_the_default_task():
    task = rec.make_instance(rec.RecurrentConfig())
    assert task.input_times.shape == (196,) and np.all(np.diff(task.input_times) >= 0)
    assert task.targets.shape == (2, 6) and np.isnan(task.targets[1, 5])
    assert task.targets[0, 5] == 11.0 and task.targets[1, 4] == 11.0
    assert task.is_extra.sum() == 2 and task.is_extra[1, 4]


def test_fresh_instance_from_a_seed():
    config = rec.RecurrentConfig(task=rec.RecurrentTask(seed=5))
    task, again = rec.make_instance(config), rec.make_instance(config)
    np.testing.assert_array_equal(task.input_times, again.input_times)
    assert np.all((task.input_times >= 0) & (task.input_times <= 10))
    assert set(np.unique(task.input_neurons)) <= set(range(20))
    inner = task.targets[task.is_target & ~task.is_extra]
    assert np.all(inner < 10) and np.all(task.targets[task.is_extra] == 11.0)


def test_quick_training_decreases_the_loss_tenfold(quick_normal):
    loss = quick_normal.loss
    assert len(loss) == 201 and np.all(np.isfinite(loss))
    # measured: 0.362 -> 0.020 after 200 trials on the paper's instance
    assert loss[-1] < loss[0] / 10, (loss[0], loss[-1])
    assert quick_normal.n_exhausted == 0 and quick_normal.final_loss == loss[-1]
    is_target = np.isfinite(quick_normal.targets)
    assert np.all(np.isfinite(quick_normal.t_out[:, is_target]))
    assert quick_normal.before.loss == loss[0] and quick_normal.after.loss == loss[-1]


def test_grid_variant_caps_spike_time_changes():
    config = trials(100, rec.GridSearchTraining)
    assert config.mode == "grid" and config.training.b2 == 0.99  # the paper's grid values
    results = rec.run(config, progress=False)
    assert results.loss[-1] < results.loss[0] / 10
    assert np.max(results.max_spike_change) < config.training.dt_max


def test_each_mode_has_the_papers_defaults():
    normal, grid = rec.RecurrentConfig(), rec.RecurrentConfig(training=rec.GridSearchTraining())
    assert normal.mode == "normal" and grid.mode == "grid"
    assert (normal.training.n_trials, normal.training.decay_trials, normal.training.b2) == (
        10_000,
        2000.0,
        0.999,
    )
    assert (grid.training.n_trials, grid.training.decay_trials, grid.training.b2) == (
        20_000,
        None,
        0.99,
    )
    assert grid.training.learning_rate == normal.training.learning_rate == 1e-2


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: rec.AdabeliefTraining(n_trials=0), "AdabeliefTraining: n_trials must be positive"),
        (lambda: rec.GridSearchTraining(dt_max=0.0), "GridSearchTraining: dt_max must be positive"),
        (lambda: rec.GridSearchTraining(grid_min=1.0, grid_max=0.1), "grid_min < grid_max"),
        (lambda: rec.RecurrentTask(target_rates=(1.0,)), "target_rates has 1 entries"),
        (lambda: rec.RecurrentConfig(max_events=0), "max_events and chunk must be positive"),
        (
            lambda: rec.RecurrentConfig(training={"n_trials": 10}),
            "training must be an AdabeliefTraining or GridSearchTraining",
        ),
    ],
)
def test_bad_config_names_the_field(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


@pytest.mark.parametrize("kind", [rec.AdabeliefTraining, rec.GridSearchTraining])
def test_config_reads_back_from_its_json(kind):
    config = rec.RecurrentConfig(
        task=rec.RecurrentTask(seed=3, target_rates=(2.0, 0.5)), training=kind(n_trials=7), chunk=7
    )
    assert rec.RecurrentConfig.from_dict(config_json(config)) == config


def test_interrupted_run_resumes_to_the_same_result(tmp_path, monkeypatch, quick_normal):
    checkpoint = tmp_path / "run.ckpt"
    config = trials(200)
    calls = {"n": 0}
    save = training.save_checkpoint

    def save_then_die(path, tree, meta):
        save(path, tree, meta)
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(training, "save_checkpoint", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        rec.run(config, checkpoint=checkpoint, progress=False)
    monkeypatch.setattr(training, "save_checkpoint", save)
    assert checkpoint_meta(checkpoint)["done"] == 100
    resumed = rec.run(config, checkpoint=checkpoint, progress=False)
    np.testing.assert_array_equal(resumed.loss, quick_normal.loss)
    with pytest.raises(ValueError, match="training.learning_rate: stored 0.01, now 0.02"):
        rec.run(
            rec.RecurrentConfig(training=rec.AdabeliefTraining(300, learning_rate=0.02), chunk=50),
            checkpoint=checkpoint,
            progress=False,
        )


def test_float64_is_required_not_switched_on():
    import jax

    jax.config.update("jax_enable_x64", False)
    try:
        with pytest.raises(RuntimeError, match="jax_enable_x64 is off"):
            rec.run(trials(1, chunk=1), progress=False)
        assert not jax.config.jax_enable_x64  # checked, not switched on
    finally:
        jax.config.update("jax_enable_x64", True)


def test_too_small_event_budget_stops_training_naming_the_budget():
    """Exhausted trials have NaN spike times (never plausible wrong ones), so their loss is
    NaN: training stops with the budget as the cause, not a generic non-finite error."""
    with pytest.raises(
        EventBudgetError,
        match="max_events=50 ran out before the trial end T in 2 of 2 trials.*Increase the budget",
    ):
        rec.run(trials(2, chunk=2, max_events=50), progress=False)


@pytest.mark.parametrize("mode", ["normal", "grid"])
def test_stored_full_scale_results_load_and_redraw(mode):
    """The committed results (format version 1, migrated from the flat layout) load as
    RecurrentResults with the paper's config of their mode, and the file keys are kept."""
    from snnlib.plotting.recurrent import figure

    path = RESULTS / f"recurrent_{mode}"
    if not path.with_suffix(".npz").exists():
        pytest.skip(f"{path}.npz not produced yet (snnlib reproduce recurrent)")
    results = rec.RecurrentResults.load(path)
    paper = rec.GridSearchTraining() if mode == "grid" else rec.AdabeliefTraining()
    assert results.config == rec.RecurrentConfig(training=paper)
    assert len(results.loss) == paper.n_trials + 1
    assert results.final_loss <= (1e-4 if mode == "grid" else 1e-3)
    assert results.final_loss == results.after.loss == results.loss[-1]
    assert np.all(np.isfinite(results.loss))
    if mode == "grid":
        assert np.max(results.max_spike_change) < results.config.training.dt_max
    stored = Results.load(path)
    assert results.arrays.keys() == stored.arrays.keys()
    for key, value in stored.arrays.items():
        np.testing.assert_array_equal(results.arrays[key], value, err_msg=key)
    assert "final_loss" not in results.metadata and results.metadata["commit"]
    fig = figure(results)
    assert len(fig.axes) == 9


def test_results_save_and_load_under_the_same_keys(quick_normal, tmp_path):
    loaded = rec.RecurrentResults.load(quick_normal.save(tmp_path / "recurrent"))
    assert loaded.config == quick_normal.config and loaded.final_loss == quick_normal.final_loss
    stored = Results.load(tmp_path / "recurrent")
    assert stored.config["training"]["n_trials"] == 200 and "t_out_after" in stored.arrays
    for key, value in quick_normal.arrays.items():
        np.testing.assert_array_equal(loaded.arrays[key], value, err_msg=key)
