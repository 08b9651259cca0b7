"""Recurrent training trial: this tree against a baseline commit, side by side.

    .venv/bin/python bench/bench_recurrent.py [--against REV] [--rounds 7] [--sizes 10 100]
        [--out bench/results/recurrent.json]

One trial is one step of the recurrent experiment (snnlib/experiments/recurrent.py):
`simulate` of N QIF neurons with K = 60 N events, the output spike times, the loss,
its gradient and an Adabelief update, float64, as `make_chunk_runner` compiles it. N = 10
is the paper's instance (results/recurrent_normal.json, K = 600); larger N a fresh task
(seed 0) with K proportional to N.

The baseline (default 4bb5d1f, the commit issue 19 starts from) is checked out as a git
worktree in a temporary directory. For each size, one worker subprocess per variant
(this tree, the baseline) compiles the chunk of `--trials` training trials and the
forward simulation alone; the workers are then timed ALTERNATELY, round after round, so
that both see the same machine load; the ratios (baseline / this tree) are the
quantities to read, as min and median over the rounds. Also recorded: the number of
events per trial, compile times, the commit of each variant, the machine and its load
(load average before and after, and the CPU time other processes took during the run).
Not a test: run on demand (`make bench`).
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from snnlib.provenance import machine_metadata

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_AGAINST = "4bb5d1f"
EVENTS_PER_NEURON = 60  # K = 60 N: the paper's K = 600 at N = 10


# --- helpers (commit, load) ---------------------------------------------------


def git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(
        ["git", *args], capture_output=True, text=True, cwd=cwd, check=True
    ).stdout.strip()


def busy_cpu_seconds() -> float:
    """CPU seconds all processes of the machine have spent (user + system), from /proc/stat."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    ticks = sum(int(fields[i]) for i in (0, 1, 2, 5, 6))  # user nice system irq softirq
    return ticks / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """CPU seconds of this process and its (waited-for and running) workers."""
    usage = os.times()
    return usage.user + usage.system + usage.children_user + usage.children_system


# --- the worker: one variant, one size -------------------------------------------------


def worker(n: int, trials: int) -> None:
    """Compile, then answer each line "time" on stdin with one timing on stdout."""
    import jax

    jax.config.update("jax_enable_x64", True)
    import numpy as np

    from snnlib.experiments import recurrent

    task_spec = (
        recurrent.RecurrentTask() if n == 10 else recurrent.RecurrentTask(seed=0, n_neurons=n)
    )
    config = recurrent.RecurrentConfig(task=task_spec, max_events=EVENTS_PER_NEURON * n)
    # make_instance since issue 17 (the baseline tree calls it make_task)
    task = getattr(recurrent, "make_instance", None) or recurrent.make_task
    task = task(config)
    run_chunk, optimizer = recurrent.make_chunk_runner(config, task)
    simulate_trial = jax.jit(recurrent.make_trial_functions(config, task)[0])
    params = recurrent.initial_parameters(config)
    opt_state = optimizer.init(params)

    start = time.perf_counter()
    jax.block_until_ready(run_chunk(params, opt_state, trials))
    compile_trial = time.perf_counter() - start
    start = time.perf_counter()
    _, events = jax.block_until_ready(simulate_trial(params))
    compile_forward = time.perf_counter() - start
    print(
        json.dumps(
            {
                "ready": True,
                "compile_s": compile_trial,
                "compile_forward_s": compile_forward,
                "n_events": int(events.n_events),
                "max_events": config.max_events,
                "inputs": len(task.input_times),
            }
        ),
        flush=True,
    )
    for line in sys.stdin:
        if line.strip() != "time":
            break
        start = time.perf_counter()
        jax.block_until_ready(run_chunk(params, opt_state, trials))
        trial = (time.perf_counter() - start) / trials
        forward = []
        for _ in range(5):
            start = time.perf_counter()
            jax.block_until_ready(simulate_trial(params))
            forward.append(time.perf_counter() - start)
        print(json.dumps({"trial_s": trial, "forward_s": float(np.min(forward))}), flush=True)


class Worker:
    """A worker subprocess of one variant (a source tree) and size."""

    def __init__(self, tree: Path, n: int, trials: int):
        env = {
            **os.environ,
            "PYTHONPATH": str(tree),
            "JAX_PLATFORMS": os.environ.get("JAX_PLATFORMS", ""),
        }
        if not env["JAX_PLATFORMS"]:
            del env["JAX_PLATFORMS"]
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--worker",
                str(n),
                "--trials",
                str(trials),
            ],
            cwd=tree,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.info = self._read()

    def _read(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"a bench worker failed (exit {self.process.wait()})")
        return json.loads(line)

    def time(self) -> dict:
        self.process.stdin.write("time\n")
        self.process.stdin.flush()
        return self._read()

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()


def stats(values: list[float]) -> dict:
    ordered = sorted(values)
    return {"min": ordered[0], "median": ordered[len(ordered) // 2], "all": values}


def compare(trees: dict[str, Path], n: int, trials: int, rounds: int) -> dict:
    """Both variants of one size, timed alternately; ratios baseline / this tree."""
    workers = {name: Worker(tree, n, trials) for name, tree in trees.items()}
    try:
        timings = {name: {"trial_s": [], "forward_s": []} for name in trees}
        for round_index in range(rounds):
            names = list(workers) if round_index % 2 == 0 else list(workers)[::-1]
            for name in names:
                for key, value in workers[name].time().items():
                    timings[name][key].append(value)
    finally:
        for process in workers.values():
            process.close()
    result = {"n_neurons": n, "trials_per_timing": trials, "rounds": rounds, "variants": {}}
    for name in trees:
        result["variants"][name] = {
            **workers[name].info,
            **{key: stats(values) for key, values in timings[name].items()},
        }
    base, this = result["variants"]["baseline"], result["variants"]["this"]
    result["speedup"] = {
        key: {kind: base[key][kind] / this[key][kind] for kind in ("min", "median")}
        for key in ("trial_s", "forward_s")
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default=DEFAULT_AGAINST, help="baseline commit")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument(
        "--trials",
        type=int,
        default=0,
        help="trials per timing (default: 200 at N = 10, fewer for larger N)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "recurrent.json")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        worker(args.worker, args.trials)
        return

    baseline_commit = git("rev-parse", args.against)
    record = {
        "benchmark": "one recurrent training trial (forward + backward + Adabelief)",
        "command": " ".join(["bench/bench_recurrent.py", *sys.argv[1:]]),
        "commit": git("rev-parse", "HEAD"),
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        "against": baseline_commit,
        "machine": machine_metadata() | {"python": platform.python_version()},
        "load_before": os.getloadavg(),
        "sizes": [],
    }
    with tempfile.TemporaryDirectory(prefix="bench_recurrent_") as tmp:
        baseline_tree = Path(tmp) / "baseline"
        git("worktree", "add", "--detach", str(baseline_tree), baseline_commit)
        try:
            wall, busy, own = time.perf_counter(), busy_cpu_seconds(), own_cpu_seconds()
            for n in args.sizes:
                trials = args.trials or max(2, 2000 // n)
                result = compare({"baseline": baseline_tree, "this": ROOT}, n, trials, args.rounds)
                record["sizes"].append(result)
                speed = result["speedup"]["trial_s"]
                print(
                    f"N={n:4d} K={result['variants']['this']['max_events']:5d} "
                    f"events={result['variants']['this']['n_events']:5d}: trial "
                    f"{result['variants']['baseline']['trial_s']['min'] * 1e3:8.3f} -> "
                    f"{result['variants']['this']['trial_s']['min'] * 1e3:8.3f} ms (min), "
                    f"speed-up {speed['min']:.2f}x min, {speed['median']:.2f}x median",
                    flush=True,
                )
            wall = time.perf_counter() - wall
            others = busy_cpu_seconds() - busy - (own_cpu_seconds() - own)
        finally:
            git("worktree", "remove", "--force", str(baseline_tree))
    record["load_after"] = os.getloadavg()
    record["other_processes_cpu_fraction"] = max(others, 0.0) / (wall * os.cpu_count())
    record["wall_s"] = wall
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
