"""The command line: `snnlib reproduce` writes run directories; `--promote` guards results/."""

import json

import numpy as np
import pytest

from snnlib import cli
from snnlib.experiments import Experiment, Results, Variant, _experiment, experiments


def fake_run(epochs, checkpoint=None, progress=True):
    """A run that computes nothing: `epochs` epochs (the config)."""
    return Results(
        arrays={"accuracy": np.linspace(0.1, 0.9, epochs + 1)},
        config={"epochs": epochs},
        metadata={"epochs": epochs},
    )


FAKE = Experiment(
    name="fake",
    description="a test double",
    expected_time="0 s",
    config=int,
    results=Results,
    run=fake_run,
    paper={},
    compare=lambda runs: [],
    variants={"full": Variant("fake", seeds=(0,))},
    configure=lambda variant, seed, options: 100 if options.length is None else options.length,
    size=lambda results: results.metadata["epochs"],
)


@pytest.fixture
def fake(monkeypatch):
    real = experiments()
    monkeypatch.setattr(_experiment, "experiments", lambda: real | {"fake": FAKE})


def stored(results_dir, epochs=100):
    return Results(
        arrays={"accuracy": np.full(epochs + 1, 0.97)},
        config={"epochs": epochs},
        metadata={"epochs": epochs},
    ).save(results_dir / "fake_seed0")


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
    assert cli.main(["reproduce", "fake", "--epochs", "1", "--run-dir", str(tmp_path / "run")]) == 0
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
    assert (
        cli.main(
            [
                "reproduce",
                "fake",
                "--epochs",
                "1",
                "--promote",
                "--run-dir",
                str(run_dir),
                "--results-dir",
                str(results_dir),
            ]
        )
        == 1
    )
    assert "1 epochs" in capsys.readouterr().err
    assert {s: path.with_suffix(s).read_bytes() for s in before} == before
    assert cli.main(["promote", str(run_dir), "--results-dir", str(results_dir)]) == 1
    assert cli.main(["promote", str(run_dir), "--results-dir", str(results_dir), "--force"]) == 0
    assert Results.load(path).metadata["epochs"] == 1


def test_promote_replaces_a_run_with_as_many_epochs(tmp_path, fake):
    results_dir = tmp_path / "results"
    path = stored(results_dir, epochs=100)
    assert (
        cli.main(
            [
                "reproduce",
                "fake",
                "--promote",
                "--run-dir",
                str(tmp_path / "run"),
                "--results-dir",
                str(results_dir),
            ]
        )
        == 0
    )
    np.testing.assert_allclose(Results.load(path)["accuracy"][-1], 0.9)
    assert not list(results_dir.glob("*.tmp")) and not list(results_dir.glob(".*.tmp"))


def test_quick_runs_are_not_promoted(tmp_path, fake):
    assert (
        cli.main(
            [
                "reproduce",
                "fake",
                "--quick",
                "--promote",
                "--run-dir",
                str(tmp_path / "run"),
                "--results-dir",
                str(tmp_path / "results"),
            ]
        )
        == 1
    )
    assert not (tmp_path / "results").exists()


def test_bad_command_lines_are_refused(tmp_path, fake, capsys):
    assert cli.main(["reproduce", "nonsense", "--run-dir", str(tmp_path / "run")]) == 2
    assert "available: " in capsys.readouterr().err
    assert cli.main(["reproduce", "fake", "--processes", "2"]) == 2
    assert "runs in one process" in capsys.readouterr().err


def test_single_neuron_reproduction_runs_into_the_run_directory(tmp_path):
    run_dir = tmp_path / "run"
    assert (
        cli.main(
            [
                "reproduce",
                "single_neuron",
                "--epochs",
                "5",
                "--no-progress",
                "--run-dir",
                str(run_dir),
            ]
        )
        == 0
    )
    results = Results.load(run_dir / "single_neuron")
    assert len(results["loss"]) == 6 and results.config["n_trials"] == 5
    assert len(results.metadata["commit"]) == 40 and "cpu_model" in results.metadata["machine"]
    assert not (tmp_path / "r").exists()


def test_help_lists_every_experiment(capsys):
    with pytest.raises(SystemExit):
        cli.main(["reproduce", "--help"])
    text = capsys.readouterr().out
    for experiment in experiments().values():
        for name in experiment.reproductions:
            assert f"  {name} " in text and experiment.description[:30] in text


def test_snnlib_reproduce_is_the_only_runner():
    """No experiment module has its own command line or writes results/ itself."""
    import inspect

    for name, experiment in experiments().items():
        module = inspect.getmodule(experiment.run)
        assert not hasattr(module, "main") and not hasattr(module, "reproduce"), name


def test_the_layers_import_downwards_only():
    """Figures never import experiments, and no experiment imports the command line."""
    import ast
    from pathlib import Path

    package = Path(cli.__file__).parent

    def imports(path):
        tree = ast.parse(path.read_text())
        return {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}

    for path in (package / "plotting").glob("*.py"):
        assert not {m for m in imports(path) if "experiments" in m}, path
    for path in (package / "experiments").glob("*.py"):
        assert not {m for m in imports(path) if m.endswith("cli")}, path


def test_a_rerun_with_other_seeds_adds_them_to_the_run(tmp_path, fake):
    """The issue's row: rerunning --run-dir D with other --seeds dropped the earlier ones
    from run.json, and promote skipped them."""
    run_dir, results_dir = tmp_path / "run", tmp_path / "results"
    assert (
        cli.main(
            ["reproduce", "fake", "--seeds", "0", "1", "--epochs", "2", "--run-dir", str(run_dir)]
        )
        == 0
    )
    assert (
        cli.main(["reproduce", "fake", "--seeds", "2", "--epochs", "2", "--run-dir", str(run_dir)])
        == 0
    )
    info = json.loads((run_dir / "run.json").read_text())
    assert info["results"] == ["fake_seed0", "fake_seed1", "fake_seed2"]
    assert len(info["invocations"]) == 2
    assert cli.main(["reproduce", "fake", "--quick", "--run-dir", str(run_dir)]) == 2
    assert cli.main(["promote", str(run_dir), "--results-dir", str(results_dir)]) == 0
    assert sorted(p.name for p in results_dir.glob("*.npz")) == [
        "fake_seed0.npz",
        "fake_seed1.npz",
        "fake_seed2.npz",
    ]
