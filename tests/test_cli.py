"""The command line: `snnlib reproduce` writes run directories; `--promote` guards results/."""

import json

import numpy as np
import pytest

from snnlib import cli
from snnlib.experiments import Results
from snnlib.experiments._registry import REGISTRY, Reproduction


def fake_run(options):
    """A reproduction that computes nothing: one run of options.epochs (default 100)."""
    epochs = 100 if options.epochs is None else options.epochs
    return {"fake_seed0": Results(arrays={"accuracy": np.linspace(0.1, 0.9, epochs + 1)},
                                  config={"epochs": epochs}, metadata={"epochs": epochs})}


@pytest.fixture
def fake(monkeypatch):
    cli.registry()  # the real ones first
    monkeypatch.setitem(REGISTRY, "fake", Reproduction(
        name="fake", description="a test double", expected_time="0 s", run=fake_run,
        size=lambda results: results.metadata["epochs"]))


def stored(results_dir, epochs=100):
    return Results(arrays={"accuracy": np.full(epochs + 1, 0.97)}, config={"epochs": epochs},
                   metadata={"epochs": epochs}).save(results_dir / "fake_seed0")


def test_help_lists_the_experiments_with_their_run_times(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["reproduce", "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    for name in ("concept", "single_neuron", "recurrent", "recurrent-grid", "mnist"):
        assert f"  {name} " in text
    assert "~30 min/seed" in text


def test_a_run_writes_only_its_run_directory(tmp_path, fake, capsys):
    results_dir = tmp_path / "results"
    assert cli.main(["reproduce", "fake", "--epochs", "1", "--run-dir",
                     str(tmp_path / "run")]) == 0
    assert (tmp_path / "run" / "fake_seed0.npz").exists() and not results_dir.exists()
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["reproduction"] == "fake" and info["results"] == ["fake_seed0"]
    assert "--run-dir" in capsys.readouterr().out  # says how to resume


def test_promote_refuses_fewer_epochs_than_the_stored_run_unless_forced(tmp_path, fake, capsys):
    """The issue's row: a 1-epoch run must not replace a stored 100-epoch result."""
    results_dir = tmp_path / "results"
    path = stored(results_dir)
    before = {s: path.with_suffix(s).read_bytes() for s in (".npz", ".json")}
    run_dir = tmp_path / "run"
    assert cli.main(["reproduce", "fake", "--epochs", "1", "--promote", "--run-dir",
                     str(run_dir), "--results-dir", str(results_dir)]) == 1
    assert "1 epochs" in capsys.readouterr().err
    assert {s: path.with_suffix(s).read_bytes() for s in before} == before
    assert cli.main(["promote", str(run_dir), "--results-dir", str(results_dir)]) == 1
    assert cli.main(["promote", str(run_dir), "--results-dir", str(results_dir),
                     "--force"]) == 0
    assert Results.load(path).metadata["epochs"] == 1


def test_promote_replaces_a_run_with_as_many_epochs(tmp_path, fake):
    results_dir = tmp_path / "results"
    path = stored(results_dir, epochs=100)
    assert cli.main(["reproduce", "fake", "--promote", "--run-dir", str(tmp_path / "run"),
                     "--results-dir", str(results_dir)]) == 0
    np.testing.assert_allclose(Results.load(path)["accuracy"][-1], 0.9)
    assert not list(results_dir.glob("*.tmp")) and not list(results_dir.glob(".*.tmp"))


def test_quick_runs_are_not_promoted(tmp_path, fake):
    assert cli.main(["reproduce", "fake", "--quick", "--promote", "--run-dir",
                     str(tmp_path / "run"), "--results-dir", str(tmp_path / "results")]) == 1
    assert not (tmp_path / "results").exists()


def test_bad_command_lines_are_refused(tmp_path, fake, capsys):
    assert cli.main(["reproduce", "nonsense", "--run-dir", str(tmp_path / "run")]) == 2
    assert "available: " in capsys.readouterr().err
    assert cli.main(["reproduce", "fake", "--processes", "2"]) == 2
    assert "runs in one process" in capsys.readouterr().err


def test_single_neuron_reproduction_runs_into_the_run_directory(tmp_path):
    run_dir = tmp_path / "run"
    assert cli.main(["reproduce", "single_neuron", "--epochs", "5", "--no-progress",
                     "--run-dir", str(run_dir)]) == 0
    results = Results.load(run_dir / "single_neuron")
    assert len(results["loss"]) == 6 and results.config["n_trials"] == 5
    assert len(results.metadata["commit"]) == 40 and "cpu_model" in results.metadata["machine"]
    assert not (tmp_path / "r").exists()


def test_the_mnist_module_still_runs_as_a_script():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "snnlib.experiments.mnist", "--help"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "--promote" in done.stdout


def test_two_reproductions_of_one_name_are_refused(fake):
    from snnlib.experiments._registry import register

    with pytest.raises(ValueError, match="'fake' is already registered"):
        register(Reproduction(name="fake", description="another", expected_time="1 s",
                              run=lambda options: {}, size=len))


def seeded_run(options):
    """A reproduction that computes nothing: one result per seed."""
    return {f"fake_seed{seed}": Results(arrays={"accuracy": np.full(3, 0.5)},
                                        config={"epochs": 2, "seed": seed},
                                        metadata={"epochs": 2})
            for seed in options.seeds or (0,)}


def test_a_rerun_with_other_seeds_adds_them_to_the_run(tmp_path, monkeypatch):
    """The issue's row: rerunning --run-dir D with other --seeds dropped the earlier ones
    from run.json, and promote skipped them."""
    cli.registry()
    monkeypatch.setitem(REGISTRY, "seeded", Reproduction(
        name="seeded", description="a test double", expected_time="0 s", run=seeded_run,
        size=lambda results: results.metadata["epochs"]))
    run_dir, results_dir = tmp_path / "run", tmp_path / "results"
    assert cli.main(["reproduce", "seeded", "--seeds", "0", "1", "--run-dir", str(run_dir)]) == 0
    assert cli.main(["reproduce", "seeded", "--seeds", "2", "--run-dir", str(run_dir)]) == 0
    info = json.loads((run_dir / "run.json").read_text())
    assert info["results"] == ["fake_seed0", "fake_seed1", "fake_seed2"]
    assert len(info["invocations"]) == 2
    assert cli.main(["reproduce", "seeded", "--quick", "--run-dir", str(run_dir)]) == 2
    assert cli.main(["promote", str(run_dir), "--results-dir", str(results_dir)]) == 0
    assert sorted(p.name for p in results_dir.glob("*.npz")) == [
        "fake_seed0.npz", "fake_seed1.npz", "fake_seed2.npz"]
