"""Concept experiment (Fig. 1 sweeps, generic simulator): this tree against a baseline.

    .venv/bin/python bench/bench_concept.py [--against REV] [--rounds 5] [--points 10000]

Workloads (float64, `_ab`: one worker process per tree, timed alternately; ratios
baseline / this tree): the first-spike-time sweep over --points input weights of the QIF
and of the LIF neuron (`concept.first_spike_sweep`), and dt_sp/dw by autodiff at
--points / 10 of them (`concept.dt_dw_autodiff`), as `concept.sweep_model` runs
them. Written to bench/results/concept.json. Not a test: run on demand (`make bench`).
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _ab import DEFAULT_AGAINST, ROOT, run_ab, serve  # noqa: E402


def worker(points: int) -> None:
    import jax

    jax.config.update("jax_enable_x64", True)  # the experiment computes in float64
    import numpy as np

    from snnlib.experiments import concept

    config = concept.ConceptConfig()
    # dt_dw_autodiff since issue 17 (spike_time_derivative in the baseline tree)
    derivative = getattr(concept, "dt_dw_autodiff", None) or concept.spike_time_derivative
    workloads = {}
    for name in ("qif", "lif"):
        model, duration, max_events = concept.model_setup(config, name)
        weights = np.linspace(0.0, 2 * model.min_spiking_input, points)
        times = np.full((points, 1), config.input_time)
        workloads[f"{name}_weight_sweep"] = (
            lambda w, t, m=model, d=duration, k=max_events: concept.first_spike_sweep(
                m, d, k, w, t
            ),
            (weights[:, None], times),
        )
        workloads[f"{name}_derivative"] = (
            lambda w, m=model, d=duration, k=max_events: derivative(m, d, k, w, config.input_time),
            (weights[::10],),
        )
    serve(workloads, {})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default=DEFAULT_AGAINST, help="baseline commit")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "concept.json")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.points)
        return
    run_ab(
        Path(__file__).resolve(),
        ["--points", str(args.points)],
        args.against,
        args.rounds,
        args.out,
        {"points": args.points, "dtype": "float64"},
    )


if __name__ == "__main__":
    main()
