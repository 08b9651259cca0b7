"""Model selection of the first Yin-Yang network, read counting pseudospikes (the stored
table results/yinyang_tuning.json; the network of the variant "pseudo_readout").

The table was first written by code that is not in the repository (before commit b9475f3);
this script is its generator from today's code. Each run overrides the defaults of that
time (`BASE`: today's `YinYangNetwork` defaults, but initial weights +-1/sqrt(fan_in),
and 300 epochs with the learning rate 1e-2 decaying with time constant 100 epochs) by its
`RUNS` entry, is trained on the training split and evaluated on the VALIDATION split only
(monitor_test=False). Runs are checkpointed under --run-dir, so that an interrupted
selection resumes; --output is never overwritten without --force:

    PYTHONPATH=$PWD nice -n 19 .venv/bin/python scripts/yinyang_tuning.py \\
        --output runs/yinyang_tuning.json

Rerun with the code of the commit that added this script, "base3" (3 epochs) reproduced
its stored validation accuracies, ordinary-spike accuracy, activity and silent fraction
exactly (tests/test_selection_scripts.py checks it). The longer runs have not been
rerun; the rounding of the simulator has changed since the table was written (issue
19), so their curves may drift.
"""

import argparse
import json
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import jax
import numpy as np

from snnlib.classification import train
from snnlib.data.yinyang import load_yinyang
from snnlib.experiments import yinyang
from snnlib.experiments._results import FORMAT_VERSION
from snnlib.provenance import git_state, machine_metadata

# the defaults of that time, as overrides of today's (network fields, training fields)
BASE: tuple[dict[str, Any], dict[str, Any]] = (
    {"w_scale": 1.0},
    {"epochs": 300, "batch_size": 100, "learning_rate": 1e-2, "decay_epochs": 100.0},
)
# name -> overrides of BASE, as the table's "kw" records them ("hidden": the hidden
# layer sizes; "seed": the training seed, default 0)
RUNS: dict[str, dict[str, Any]] = {
    "base3": {"epochs": 3},
    "B_lr1e-2_ws3": {"epochs": 30, "learning_rate": 0.01, "w_scale": 3.0},
    "A_lr1e-2_ws1": {"epochs": 30, "learning_rate": 0.01, "w_scale": 1.0},
    "D_lr3e-2_ws3": {"epochs": 30, "learning_rate": 0.03, "w_scale": 3.0},
    "C_lr3e-3_ws3": {"epochs": 30, "learning_rate": 0.003, "w_scale": 3.0},
    "E_ws3_dec20_e60": {"epochs": 60, "learning_rate": 0.01, "w_scale": 3.0, "decay_epochs": 20.0},
    "H_tmax0.5": {"epochs": 30, "learning_rate": 0.01, "w_scale": 3.0, "t_max": 0.5},
    "G_h200_ws3": {"epochs": 30, "learning_rate": 0.01, "w_scale": 3.0, "hidden": [200]},
    "I_lr3e-3_dec50_e100": {
        "epochs": 100,
        "learning_rate": 0.003,
        "w_scale": 3.0,
        "decay_epochs": 50.0,
    },
    "K_lr1e-2_dec25_e100": {
        "epochs": 100,
        "learning_rate": 0.01,
        "w_scale": 3.0,
        "decay_epochs": 25.0,
    },
    "J_lr3e-3_dec30_e100": {
        "epochs": 100,
        "learning_rate": 0.003,
        "w_scale": 3.0,
        "decay_epochs": 30.0,
    },
    "L_lr5e-3_dec25_e100": {
        "epochs": 100,
        "learning_rate": 0.005,
        "w_scale": 3.0,
        "decay_epochs": 25.0,
    },
    "K1_lr1e-2_dec25_e100_s1": {
        "epochs": 100,
        "learning_rate": 0.01,
        "w_scale": 3.0,
        "decay_epochs": 25.0,
        "seed": 1,
    },
    "L1_lr5e-3_dec25_e100_s1": {
        "epochs": 100,
        "learning_rate": 0.005,
        "w_scale": 3.0,
        "decay_epochs": 25.0,
        "seed": 1,
    },
    "J1_lr3e-3_dec30_e100_s1": {
        "epochs": 100,
        "learning_rate": 0.003,
        "w_scale": 3.0,
        "decay_epochs": 30.0,
        "seed": 1,
    },
}
TRAINING_FIELDS = {"epochs", "batch_size", "learning_rate", "decay_epochs", "seed"}


def run_config(kw: dict[str, Any]) -> yinyang.YinYangConfig:
    """The config of one run: today's defaults, BASE, then the run's overrides `kw`."""
    network, training = dict(BASE[0]), dict(BASE[1])
    for key, value in kw.items():
        if key == "hidden":
            network["sizes"] = (yinyang.N_FEATURES + 1, *value, 3)
        elif key in TRAINING_FIELDS:
            training[key] = value
        else:
            network[key] = value
    config = yinyang.YinYangConfig(monitor_test=False)
    return replace(
        config,
        network=replace(config.network, **network),
        training=replace(config.training, **training),
    )


def train_run(name: str, run_dir: Path, train_data, validation) -> dict[str, Any]:
    """One run: its record in the table's fields."""
    config = run_config(RUNS[name])
    net = config.network
    start = time.perf_counter()
    result = train(
        net,
        net.init(jax.random.PRNGKey(config.training.seed)),
        train_data,
        validation,
        config.training,
        checkpoint=run_dir / f"{name}.ckpt",
        fingerprint={"network": asdict(net), "tuning": name},
        progress=False,
    )
    metrics = result.metrics
    record = {
        "name": name,
        "kw": RUNS[name],
        "val_acc": np.round(metrics.accuracy, 4).tolist(),
        "val_ord": round(float(metrics.accuracy_ordinary[-1]), 4),
        "activity": round(float(metrics.activity[-1]), 4),
        "silent": round(float(metrics.silent[-1]), 4),
        "s_per_epoch": round(float(np.mean(metrics.epoch_seconds[1:])), 2),
        "wall": round(time.perf_counter() - start, 1),
    }
    print(name, record["val_acc"][-1], flush=True)
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=list(RUNS), choices=list(RUNS))
    parser.add_argument("--run-dir", type=Path, default=Path("runs/yinyang_tuning"))
    parser.add_argument("--output", type=Path, default=Path("results/yinyang_tuning.json"))
    parser.add_argument("--force", action="store_true", help="overwrite an existing --output")
    args = parser.parse_args()
    if args.output.exists() and not args.force:
        parser.error(f"{args.output} exists (a committed table?); pass another --output or --force")
    start = time.perf_counter()
    commit, dirty = git_state(Path(yinyang.__file__).parent)
    features, labels = load_yinyang("train")
    train_data = (features.astype(np.float32), labels.astype(np.int32))
    validation = yinyang.eval_data(monitor_test=False)
    runs = [train_run(name, args.run_dir, train_data, validation) for name in args.only]
    document = {
        "format_version": FORMAT_VERSION,
        "what": "model selection of the Yin-Yang experiment on the VALIDATION split (test "
        "split not evaluated: monitor_test=False), read counting pseudospikes",
        "generator": f"scripts/yinyang_tuning.py --only {' '.join(args.only)}",
        "commit": commit,
        "uncommitted_changes": dirty,
        "machine": machine_metadata(),
        "fields": "val_acc: validation accuracy after each epoch (entry 0: before "
        "training); val_ord: final validation accuracy counting ordinary spikes only; "
        "activity: hidden spikes per neuron and point; silent: fraction of hidden neurons "
        "silent on all points; s_per_epoch: mean wall seconds per epoch",
        "wall_time_s": round(time.perf_counter() - start, 1),
        "runs": runs,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=1) + "\n")


if __name__ == "__main__":
    main()
