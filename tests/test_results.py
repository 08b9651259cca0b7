"""Typed experiment results: every field is stored where its type says and read back
unchanged; the file form keeps flat keys; bad or foreign files give clear errors."""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
from jaxtyping import Float

from snnlib.experiments import (
    FORMAT_VERSION,
    ArrayGroup,
    ExperimentResults,
    Results,
    ResultsFormatError,
    experiments,
)


@dataclass(frozen=True)
class Inner:
    rate: float = 1.0


@dataclass(frozen=True)
class Config:
    n: int = 3
    sizes: tuple[int, ...] = (2, 3)
    inner: Inner = field(default_factory=Inner)


@dataclass
class Snapshot(ArrayGroup):
    times: Float[np.ndarray, " K"]
    loss: np.ndarray


@dataclass
class Suffixed(ArrayGroup):
    KEY: ClassVar[str] = "{field}_{group}"
    spikes: np.ndarray


@dataclass(frozen=True)
class Summary:
    accuracy: float
    counts: tuple[int, ...]


@dataclass(kw_only=True)
class Toy(ExperimentResults):
    config: Config
    curve: Float[np.ndarray, "E 2"]
    weights: tuple[np.ndarray, ...]
    before: Snapshot
    after: Suffixed
    summary: Summary
    epochs: int
    note: str = "default"
    extra: np.ndarray | None = None


def make() -> Toy:
    rng = np.random.default_rng(0)
    return Toy(
        config=Config(n=5),
        curve=rng.normal(size=(4, 2)),
        weights=(rng.normal(size=(2, 3)), rng.normal(size=(3, 1)).astype(np.float32)),
        before=Snapshot(times=np.array([0.5, np.inf]), loss=np.array(0.25)),
        after=Suffixed(spikes=np.arange(3)),
        summary=Summary(0.97, (1, 2)),
        epochs=7,
        metadata={"commit": "abc", "seed": 3},
    )


def test_round_trip_is_exact(tmp_path):
    toy = make()
    loaded = Toy.load(toy.save(tmp_path / "toy"))
    assert loaded.config == toy.config and isinstance(loaded.config.inner, Inner)
    assert loaded.summary == toy.summary and loaded.epochs == 7 and loaded.note == "default"
    assert loaded.metadata == {"commit": "abc", "seed": 3}
    assert loaded.extra is None
    assert len(loaded.weights) == 2 and loaded.weights[1].dtype == np.float32
    assert loaded.arrays.keys() == toy.arrays.keys()
    for key, value in toy.arrays.items():
        np.testing.assert_array_equal(loaded.arrays[key], value, err_msg=key)


def test_file_form_has_flat_keys_and_summaries_in_metadata(tmp_path):
    make().save(tmp_path / "toy")
    with np.load(tmp_path / "toy.npz") as data:
        assert sorted(data.files) == [
            "before_loss",
            "before_times",
            "curve",
            "spikes_after",
            "weights_1",
            "weights_2",
        ]
    stored = json.loads((tmp_path / "toy.json").read_text())
    assert stored["config"] == {"n": 5, "sizes": [2, 3], "inner": {"rate": 1.0}}
    assert stored["metadata"]["summary"] == {"accuracy": 0.97, "counts": [1, 2]}
    assert stored["metadata"]["epochs"] == 7 and stored["metadata"]["commit"] == "abc"
    untyped = Results.load(tmp_path / "toy")  # what `snnlib reproduce --promote` copies
    assert untyped.metadata["epochs"] == 7 and untyped["curve"].shape == (4, 2)


def test_optional_array_is_stored_when_given(tmp_path):
    toy = make()
    toy.extra = np.ones(2)
    assert Toy.load(toy.save(tmp_path / "toy")).extra.tolist() == [1.0, 1.0]


def test_foreign_file_names_the_missing_field(tmp_path):
    Results(arrays={"curve": np.zeros((1, 2))}, config={}, metadata={}).save(tmp_path / "x")
    with pytest.raises(KeyError, match="field 'weights'"):
        Toy.load(tmp_path / "x")


def test_missing_file_says_how_to_make_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="Reproducing"):
        Toy.load(tmp_path / "absent")


def test_files_carry_the_format_version_and_others_are_refused(tmp_path):
    path = make().save(tmp_path / "run")
    stored = json.loads(path.with_suffix(".json").read_text())
    assert stored["format_version"] == FORMAT_VERSION
    for version in (None, FORMAT_VERSION + 1, "1"):
        changed = stored | {"format_version": version}
        if version is None:
            del changed["format_version"]
        path.with_suffix(".json").write_text(json.dumps(changed))
        with pytest.raises(
            ResultsFormatError,
            match=rf"{path}\.json has results format "
            rf"version {re.escape(repr(version))}",
        ):
            Toy.load(path)
    path.with_suffix(".json").write_text('{"format_version": 1, "con')
    with pytest.raises(ResultsFormatError, match=rf"{path}\.json is not valid JSON"):
        Results.load(path)


RESULTS = Path(__file__).parents[1] / "results"


@pytest.mark.parametrize("path", sorted(RESULTS.glob("*.json")), ids=lambda p: p.stem)
def test_every_committed_json_carries_the_format_version(path):
    assert json.loads(path.read_text())["format_version"] == FORMAT_VERSION


def _stored_runs():
    """(experiment, variant, seed) of every stored run in results/, by its run name."""
    for experiment in experiments().values():
        for variant, declared in experiment.variants.items():
            seeds = (
                [None]
                if declared.seeds is None
                else sorted(
                    int(p.stem.removeprefix(f"{declared.name}_seed"))
                    for p in RESULTS.glob(f"{declared.name}_seed*.npz")
                )
            )
            for seed in seeds:
                if (RESULTS / f"{experiment.run_name(variant, seed)}.npz").exists():
                    yield pytest.param(
                        experiment, variant, seed, id=experiment.run_name(variant, seed)
                    )


@pytest.mark.parametrize(("experiment", "variant", "seed"), list(_stored_runs()))
def test_every_committed_result_loads_through_its_experiment(experiment, variant, seed):
    """Each results/*.npz loads as its experiment's results, with the config of today's
    `configure` for its variant and seed (one source of defaults), except the length."""
    results = experiment.results.load(RESULTS / experiment.run_name(variant, seed))
    assert type(results.config) is experiment.config
    # runs stored before the format had a version were migrated, with a note; the others
    # were written at the current version
    migrated = results.metadata.get("migration")
    assert migrated is None or migrated["from"].startswith("no format version")
    stored = results.to_stored()
    assert experiment.size(stored) > 0
    assert results.metadata["commit"] and results.metadata["machine"]


def test_a_run_records_the_commit_its_code_was_imported_from(monkeypatch):
    """The commit is read once, when the package is imported: a commit made while a long
    run trains does not end up in its results (run_metadata asks git nothing later)."""
    from snnlib.experiments import _results

    def moved_on(directory):
        raise AssertionError("run_metadata read the git state again at the end of the run")

    monkeypatch.setattr(_results, "git_state", moved_on)
    metadata = _results.run_metadata(1.0, seed=3)
    assert (metadata["commit"], metadata["uncommitted_changes"]) == _results.CODE_STATE
    assert len(metadata["commit"]) == 40 or metadata["commit"] == "unknown"
