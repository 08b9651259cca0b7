"""The Performance page's figure, from the stored bench results (bench/results/*.json).

    .venv/bin/python bench/plot.py [--out book/performance/performance.png]

Panels: (a) the A/B ratios (baseline / this tree) of every workload of the feed-forward,
single-neuron, concept (and, when present, recurrent) benches; (b) the profile of one
micro-batch of the trained MNIST network, before and after; (c-e) the training step
against batch size, hidden width and hidden activity, with the fitted exponents of
time ~ work^p (only where the work spans at least 1.5x, else null); (f) the layered
against the generic simulator. Run by `make bench` after the benches; also writes the
fitted exponents next to the figure (.json).
"""

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
MIN_FIT_SPAN = 1.5  # the smallest x_max / x_min over which a scaling exponent is fitted
VARIANTS = {"baseline": ("#999999", "baseline"), "this": ("#1f77b4", "this tree")}


def load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def ratios(ax, reports: dict[str, dict]) -> None:
    labels, values, lows = [], [], []
    for bench, report in reports.items():
        for name, row in report.get("workloads", {}).items():  # other layouts: skipped
            if isinstance(row, dict) and "ratio_median" in row and not name.startswith("profile"):
                labels.append(f"{bench}: {name}")
                values.append(row.get("cpu_ratio_median", row["ratio_median"]))
                lows.append(row["ratio_median"])
        for size in report.get("sizes", []):  # bench_recurrent.py: wall times only
            labels.append(f"{bench}: trial, N = {size['n_neurons']}")
            values.append(size["speedup"]["trial_s"]["median"])
            lows.append(size["speedup"]["trial_s"]["median"])
    y = np.arange(len(labels))
    ax.barh(y, values, color=VARIANTS["this"][0], label="CPU time, median")
    ax.plot(lows, y, "k|", markersize=10, label="wall time, median")
    ax.axvline(1.0, color="k", linewidth=0.8)
    ax.set_yticks(y, labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("speed-up (baseline time / this tree's)")
    ax.set_title("(a) speed-up against the baseline, alternated in one run")
    ax.legend(fontsize=7)


def _time(row: dict) -> float:
    """The CPU time (min) of a workload, or its wall time where none was recorded."""
    return row.get("cpu_min_s", row.get("min_s", np.nan))


def profile(ax, report: dict) -> None:
    parts = [
        n
        for n in report["workloads"]
        if n.startswith("profile_")
        and "autodiff" not in n
        and n != "profile_layers_forward_backward"
    ]
    y = np.arange(len(parts))
    for offset, variant in ((-0.2, "baseline"), (0.2, "this")):
        times = [_time(report["workloads"][n].get(variant, {})) * 1e3 for n in parts]
        ax.barh(
            y + offset, times, height=0.4, color=VARIANTS[variant][0], label=VARIANTS[variant][1]
        )
    ax.set_yticks(y, [n.removeprefix("profile_").replace("_", " ") for n in parts], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("ms (CPU time, min), one micro-batch of 100 trials")
    ax.set_title("(b) where the time goes, before and after")
    ax.legend(fontsize=7)


def scaling(
    ax, report: dict, cases: list[str], x_key: str, xlabel: str, title: str, fits: dict
) -> None:
    info = report["worker_info"]["this"]["cases"]
    for variant in ("baseline", "this"):
        x = np.array([info[c][x_key] for c in cases], float)
        t = np.array([_time(report["workloads"][c][variant]) for c in cases])
        order = np.argsort(x)
        x, t = x[order], t[order]
        # an exponent needs x to span a range: below 1.5x, a fit would fit the noise
        wide = len(x) > 1 and x[-1] >= MIN_FIT_SPAN * x[0]
        exponent = float(np.polyfit(np.log(x), np.log(t), 1)[0]) if wide else None
        fits.setdefault(title, {})[variant] = exponent
        fitted = f"time ~ x^{exponent:.2f}" if exponent is not None else "range too narrow to fit"
        plot = ax.loglog if wide else ax.semilogy
        plot(x, t, "o-", color=VARIANTS[variant][0], label=f"{VARIANTS[variant][1]}: {fitted}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("s per training step (CPU time, min)")
    ax.set_title(title)
    ax.legend(fontsize=7)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=ROOT / "book" / "performance" / "performance.png"
    )
    args = parser.parse_args()
    reports = {
        name: report
        for name in ("feedforward", "recurrent", "single_neuron", "concept")
        if (report := load(name))
    }
    scaled = load("feedforward_scaling")
    rows = 3 if scaled else 1
    fig, axes = plt.subplots(rows, 2, figsize=(11, 4 * rows), layout="constrained", squeeze=False)
    ratios(axes[0, 0], reports)
    profile(axes[0, 1], reports["feedforward"])
    fits: dict = {}
    if scaled:
        cases = scaled["worker_info"]["this"]["cases"]
        hundred = [
            c for c in cases if cases[c]["hidden"] == 100 and cases[c]["simulator"] == "layered"
        ]
        batch = max(cases[c]["batch"] for c in cases)
        scaling(
            axes[1, 0],
            scaled,
            [c for c in hundred if cases[c]["input_scale"] == 1.0],
            "batch",
            "batch size",
            "(c) against batch size",
            fits,
        )
        scaling(
            axes[1, 1],
            scaled,
            [
                c
                for c in cases
                if cases[c]["batch"] == batch
                and cases[c]["input_scale"] == 1.0
                and cases[c]["simulator"] == "layered"
            ],
            "hidden",
            "hidden width (neurons per layer)",
            "(d) against hidden width",
            fits,
        )
        scaling(
            axes[2, 0],
            scaled,
            [c for c in hundred if cases[c]["batch"] == batch],
            "activity",
            "hidden activity (spikes per neuron and image)",
            "(e) against spike activity",
            fits,
        )
        generic = [c for c in cases if cases[c]["simulator"] == "generic"]
        pair = [
            c
            for c in hundred
            if cases[c]["batch"] == cases[generic[0]]["batch"] and cases[c]["input_scale"] == 1.0
        ] + generic
        ax = axes[2, 1]
        for offset, variant in ((-0.2, "baseline"), (0.2, "this")):
            ax.bar(
                np.arange(2) + offset,
                [_time(scaled["workloads"][c][variant]) for c in pair],
                width=0.4,
                color=VARIANTS[variant][0],
                label=VARIANTS[variant][1],
            )
        ax.set_xticks(np.arange(2), ["layered", "generic"])
        ax.set_yscale("log")
        ax.set_ylabel(f"s per step, batch {cases[generic[0]]['batch']} (CPU time, min)")
        ax.set_title("(f) layered against generic simulator")
        ax.legend(fontsize=7)
    machine = reports["feedforward"]["machine"]
    load_avg = reports["feedforward"]["load"]["loadavg_before"][0]
    fig.suptitle(
        f"{machine.get('cpu_model', machine.get('cpu'))}, "
        f"{machine.get('cpus_available', machine.get('cores'))} cores, "
        f"load average {load_avg:.1f}; "
        f"this tree {reports['feedforward']['this']['commit'][:7]} against "
        f"{reports['feedforward']['baseline']['commit'][:7]}",
        fontsize=9,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=90)
    args.out.with_suffix(".json").write_text(json.dumps({"exponents": fits}, indent=1) + "\n")
    print(f"wrote {args.out}; fitted exponents {fits}")


if __name__ == "__main__":
    main()
