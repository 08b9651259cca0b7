"""Side-by-side (A/B) timing of this tree against a baseline commit, for the bench scripts.

The baseline commit is checked out as a git worktree in a temporary directory. Each
variant (this tree, the baseline) runs in its own worker subprocess that imports `snnlib`
from its tree, compiles every workload once and then times one call per request; the
parent asks the workers in turn, alternating their order each round, so that both see the
same machine load. Reported per workload and variant: the timed calls (min, median),
compile time and XLA's memory estimate, and the ratios baseline / this tree. The report
also holds both commits, the machine and its load (load average before and after, and the
CPU seconds other processes took while the bench ran).
"""

import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_AGAINST = "4bb5d1f"  # the commit issue 19 starts from


def git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(
        ["git", *args], capture_output=True, text=True, cwd=cwd, check=True
    ).stdout.strip()


def machine() -> dict[str, Any]:
    """The machine of this measurement (`snnlib.provenance.machine_metadata`, as results
    record it) and the versions of python and jax."""
    import jax

    from snnlib.provenance import machine_metadata

    return machine_metadata() | {"jax": jax.__version__, "python": platform.python_version()}


def _cpu_seconds() -> tuple[float, float]:
    """(CPU seconds of all processes, of this process tree) so far, Linux only."""
    stat = Path("/proc/stat")
    if not stat.exists():
        return float("nan"), float("nan")
    fields = stat.read_text().splitlines()[0].split()[1:]
    busy = sum(int(fields[i]) for i in (0, 1, 2, 5, 6)) / os.sysconf("SC_CLK_TCK")
    own = os.times()
    return busy, own.user + own.system + own.children_user + own.children_system


class Load:
    """The machine's load while the bench runs: load averages, and the CPU seconds that
    processes other than the bench took (per second of wall time)."""

    def __init__(self) -> None:
        self.start = time.time(), os.getloadavg(), *_cpu_seconds()

    def report(self) -> dict[str, Any]:
        start, loadavg, busy, own = self.start
        now_busy, now_own = _cpu_seconds()
        wall = time.time() - start
        return {
            "loadavg_before": loadavg,
            "loadavg_after": os.getloadavg(),
            "wall_s": wall,
            "other_processes_cpus": ((now_busy - busy) - (now_own - own)) / wall,
        }


@contextlib.contextmanager
def baseline_tree(rev: str) -> Iterator[Path]:
    """A detached git worktree of rev in a temporary directory (removed afterwards)."""
    with tempfile.TemporaryDirectory(prefix="snnlib-bench-") as directory:
        tree = Path(directory) / "baseline"
        git("worktree", "add", "--detach", str(tree), rev)
        try:
            yield tree
        finally:
            git("worktree", "remove", "--force", str(tree))


class Worker:
    """A subprocess running `script --worker ARGS` with `snnlib` imported from tree."""

    def __init__(self, tree: Path, script: Path, args: list[str]) -> None:
        env = os.environ | {"PYTHONPATH": str(tree)}
        self.process = subprocess.Popen(
            [sys.executable, str(script), "--worker", *args],
            cwd=tree,
            env=env,
            text=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self.setup: dict[str, Any] = {}  # {"commit", "workloads": {name: {compile_s, ...}}}

    def wait_ready(self) -> None:
        """Wait until the worker has compiled everything (its setup report)."""
        self.setup = self._read()

    def _read(self) -> dict[str, Any]:
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"bench worker failed (exit {self.process.wait()})")
        return json.loads(line)

    def time(self, workload: str) -> tuple[float, float]:
        """(wall, CPU) seconds of one call of the workload."""
        self.process.stdin.write(workload + "\n")
        self.process.stdin.flush()
        answer = self._read()
        return answer["s"], answer["cpu_s"]

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()


def serve(workloads: dict[str, tuple[Callable, tuple]], extra: dict[str, Any]) -> None:
    """The worker side: compile every (jitted function or Python function, args), report,
    then answer each
    request (a workload's name on stdin) with the time of one call, after an untimed one
    (so that the caches hold its data, as in a loop of such calls)."""
    import jax

    compiled, setup = {}, {}
    for name, (function, args) in workloads.items():
        start, start_cpu = time.perf_counter(), time.process_time()
        if hasattr(function, "lower"):  # a jitted function: compile it alone
            compiled[name] = function.lower(*args).compile()
            memory = compiled[name].memory_analysis()
        else:  # a Python function of jitted parts: the first call (compile + run)
            compiled[name], memory = function, None
            jax.block_until_ready(function(*args))
        setup[name] = {
            "compile_s": time.perf_counter() - start,
            "compile_cpu_s": time.process_time() - start_cpu,
            "xla_memory_mb": (
                memory.temp_size_in_bytes
                + memory.argument_size_in_bytes
                + memory.output_size_in_bytes
            )
            / 2**20
            if memory
            else None,
        }
    import snnlib

    commit = git("rev-parse", "HEAD", cwd=Path(snnlib.__file__).parent)
    print(json.dumps({"commit": commit, "workloads": setup, **extra}), flush=True)
    for line in sys.stdin:
        function, args = compiled[line.strip()], workloads[line.strip()][1]
        jax.block_until_ready(function(*args))
        start, start_cpu = time.perf_counter(), time.process_time()
        jax.block_until_ready(function(*args))
        print(
            json.dumps(
                {"s": time.perf_counter() - start, "cpu_s": time.process_time() - start_cpu}
            ),
            flush=True,
        )


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def stats(values: list[tuple[float, float]]) -> dict[str, Any]:
    """min and median of the wall and of the CPU times (all threads of the worker): on a
    loaded machine a long call is preempted more often than a short one, so that wall
    times overstate long calls; CPU times do not (spinning threads count, in both trees)."""
    wall, cpu = [v[0] for v in values], [v[1] for v in values]
    return {
        "min_s": min(wall),
        "median_s": _median(wall),
        "cpu_min_s": min(cpu),
        "cpu_median_s": _median(cpu),
        "all_s": wall,
        "all_cpu_s": cpu,
    }


def compare(workers: dict[str, Worker], rounds: int) -> dict[str, Any]:
    """Time every workload of every worker alternately; ratios baseline / this tree."""
    names = list(dict.fromkeys(n for w in workers.values() for n in w.setup["workloads"]))
    times: dict[str, dict[str, list[tuple[float, float]]]] = {n: {} for n in names}
    for index in range(rounds):
        for name in names:
            order = list(workers.items())[:: 1 if index % 2 == 0 else -1]
            for variant, worker in order:
                if name in worker.setup["workloads"]:
                    times[name].setdefault(variant, []).append(worker.time(name))
    report = {}
    for name in names:
        row = {
            variant: {**workers[variant].setup["workloads"][name], **stats(values)}
            for variant, values in times[name].items()
        }
        if {"baseline", "this"} <= set(row):
            base, this = row["baseline"], row["this"]
            row["ratio_min"] = base["min_s"] / this["min_s"]
            row["ratio_median"] = base["median_s"] / this["median_s"]
            row["cpu_ratio_min"] = base["cpu_min_s"] / this["cpu_min_s"]
            row["cpu_ratio_median"] = base["cpu_median_s"] / this["cpu_median_s"]
            row["compile_ratio"] = this["compile_s"] / base["compile_s"]
            row["compile_cpu_ratio"] = this["compile_cpu_s"] / base["compile_cpu_s"]
            if this["xla_memory_mb"] and base["xla_memory_mb"]:
                row["memory_ratio"] = this["xla_memory_mb"] / base["xla_memory_mb"]
        report[name] = row
    return report


def run_ab(
    script: Path,
    worker_args: list[str],
    against: str,
    rounds: int,
    out: Path,
    settings: dict[str, Any],
) -> dict[str, Any]:
    """Start both workers, compare, write the JSON report, print a table; return it."""
    load = Load()
    baseline_commit = git("rev-parse", against)
    with baseline_tree(baseline_commit) as tree:
        # both compile at once, under the same load
        workers = {
            "this": Worker(ROOT, script, worker_args),
            "baseline": Worker(tree, script, worker_args),
        }
        try:
            for worker in workers.values():
                worker.wait_ready()
            workloads = compare(workers, rounds)
        finally:
            for worker in workers.values():
                worker.close()
    dirty = bool(git("status", "--porcelain", "--untracked-files=no", "--", "snnlib"))
    report = {
        "settings": settings,
        "rounds": rounds,
        "this": {"commit": git("rev-parse", "HEAD"), "snnlib_modified": dirty},
        "baseline": {"commit": baseline_commit},
        "machine": machine(),
        "load": load.report(),
        "workloads": workloads,
        "worker_info": {
            v: {k: x for k, x in w.setup.items() if k != "workloads"} for v, w in workers.items()
        },
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(
        f"{script.name}: this tree ({report['this']['commit'][:7]}) against "
        f"{baseline_commit[:7]}, {rounds} rounds alternated; load average "
        f"{report['load']['loadavg_before'][0]:.1f} -> {report['load']['loadavg_after'][0]:.1f}"
        f"; written to {out}"
    )
    print(
        f"{'workload':34} {'baseline min/med s':>20} {'this min/med s':>20} "
        f"{'ratio min/med':>14} {'CPU ratio':>10} {'compile':>8}"
    )
    for name, row in workloads.items():
        cells = [
            f"{row[v]['min_s']:.4f}/{row[v]['median_s']:.4f}" if v in row else "-"
            for v in ("baseline", "this")
        ]
        ratio = f"{row['ratio_min']:.2f}/{row['ratio_median']:.2f}" if "ratio_min" in row else "-"
        compile_ratio = f"{row['compile_ratio']:.2f}" if "compile_ratio" in row else "-"
        cpu = (
            f"{row['cpu_ratio_min']:.2f}/{row['cpu_ratio_median']:.2f}"
            if "cpu_ratio_min" in row
            else "-"
        )
        print(f"{name:34} {cells[0]:>20} {cells[1]:>20} {ratio:>14} {cpu:>10} {compile_ratio:>8}")
    return report
