"""The generators of the Yin-Yang selection tables in results/ reproduce them."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from snnlib.data.yinyang import load_yinyang
from snnlib.experiments import yinyang

ROOT = Path(__file__).parents[1]
RESULTS = ROOT / "results"


def script(name: str):
    """Import scripts/NAME.py as a module."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_window_choice_is_reproduced_from_its_tables():
    """`--choose` of round 11: the committed choice follows from the committed tables."""
    path = RESULTS / "yinyang_selection_round11_choice.json"
    if not path.exists():
        pytest.skip("results/yinyang_selection_round11_choice.json not stored")
    stored = json.loads(path.read_text())
    tables = [json.loads((ROOT / name).read_text()) for name in stored["generator"].split()[2:]]
    choice = script("yinyang_selection").choose_window(tables)
    assert choice["chosen"] == stored["chosen"] == "b2_T4_w5"
    assert choice["chosen_window"] == stored["chosen_window"] == 6.0
    assert choice["mean_by_window"] == stored["mean_by_window"]
    # the chosen network and window are those of the full-scale runs
    network = yinyang.variant_config("full", 0).network
    assert network.w_scale == 5.0 and network.window == 6.0


def test_window_choice_rule():
    """Highest mean; ties go to the shorter readout window."""
    choose = script("yinyang_selection").choose_window

    def table(name, accuracies):
        return {"runs": [{"name": name, "val_accuracy_spikes_by_window": accuracies}]}

    tie = choose([table("a", {"4": 0.9, "6": 0.95}), table("b", {"4": 0.95, "6": 0.95})])
    assert (tie["chosen"], tie["chosen_window"]) == ("b", 4.0)
    best = choose([table("a", {"4": 0.9, "6": 0.97}), table("b", {"4": 0.95, "6": 0.95})])
    assert (best["chosen"], best["chosen_window"]) == ("a", 6.0)


def test_tuning_table_is_reproduced_by_its_generator(tmp_path):
    """scripts/yinyang_tuning.py, run "base3" (3 epochs, about 20 s): the stored curve of
    results/yinyang_tuning.json (bit for bit on this session's machine; CI machines may
    round differently, hence the tolerance)."""
    path = RESULTS / "yinyang_tuning.json"
    stored = {run["name"]: run for run in json.loads(path.read_text())["runs"]}
    tuning = script("yinyang_tuning")
    assert set(tuning.RUNS) == set(stored)
    assert all(tuning.RUNS[name] == run["kw"] for name, run in stored.items())
    features, labels = load_yinyang("train")
    record = tuning.train_run(
        "base3",
        tmp_path,
        (features.astype(np.float32), labels.astype(np.int32)),
        yinyang.eval_data(monitor_test=False),
    )
    np.testing.assert_allclose(record["val_acc"], stored["base3"]["val_acc"], atol=0.01)
    assert record["activity"] == pytest.approx(stored["base3"]["activity"], abs=0.01)
    assert record["silent"] == pytest.approx(stored["base3"]["silent"], abs=0.02)
