"""Run directories and `snnlib promote`: copy a finished run's results into results/ as a
transaction.

A run directory holds run.json ({"reproduction", "results": [names], "quick", "argv"})
and one NAME.npz/NAME.json pair per result. `promote` refuses (PromotionRefused, nothing
written) a quick run, a run with fewer epochs or trials than the stored result, or one
whose config differs from the stored one (naming the keys), unless force; it refuses
result names that would leave the results directory; it holds a lock on the results
directory, so that concurrent promotes never mix pairs; and each pair is written with
`snnlib.checkpoint.atomic_write_pair` (a failure leaves the old pair intact).
"""

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePath
from typing import Any

RUN_FILE = "run.json"
LOCK_FILE = ".promote.lock"
SIZE_KEYS = ("epochs", "n_trials")  # compared by the size rule, not as config differences


class PromotionRefused(Exception):
    """A run that must not replace a stored result (quick, shorter, other config)."""


class RunDirError(ValueError):
    """A run directory that cannot be used: no run.json, unknown reproduction, bad names,
    or a rerun that conflicts with the stored run."""


def check_result_name(name: Any, where: str) -> str:
    """name if it is a plain file name (no folder, not absolute, no '..'), else RunDirError:
    results must never be written outside the results directory."""
    if (
        not isinstance(name, str)
        or not name
        or name in (".", "..")
        or PurePath(name).name != name
        or "/" in name
        or "\\" in name
        or PurePath(name).is_absolute()
        or name.startswith(".")
    ):
        raise RunDirError(
            f"{where}: result name {name!r} is not a plain file name (it would "
            "be written outside the results directory); names are like "
            "'mnist_seed0'"
        )
    return name


def _parse_run(path: Path) -> dict[str, Any]:
    """The run.json at path with its keys checked (RunDirError naming the file)."""
    try:
        info = json.loads(path.read_text())
    except ValueError as error:
        raise RunDirError(
            f"{path} is unreadable ({error}): restore it, or rerun with --run-dir to rewrite it"
        ) from None
    if not isinstance(info, dict) or not {"reproduction", "results"} <= set(info):
        raise RunDirError(f"{path} must hold the keys 'reproduction' and 'results'")
    names = info["results"]
    if not isinstance(names, list) or not names:
        raise RunDirError(f"{path}: 'results' must be a non-empty list of result names")
    for name in names:
        check_result_name(name, str(path))
    return info


def read_run(run_dir: Path, known: dict[str, Any] | None = None) -> dict[str, Any]:
    """The checked run.json of run_dir; RunDirError if it is missing or unreadable, names an
    unknown reproduction (known: the registry), or lists a bad or missing result."""
    path = Path(run_dir) / RUN_FILE
    if not path.is_file():
        raise RunDirError(
            f"{path} does not exist: {run_dir} is not a finished run directory "
            "(a run writes run.json when it ends; rerun it with --run-dir "
            f"{run_dir} to finish it)"
        )
    info = _parse_run(path)
    if known is not None and info["reproduction"] not in known:
        raise RunDirError(
            f"{path} names the reproduction {info['reproduction']!r}, which "
            f"this snnlib does not have (available: {', '.join(sorted(known))})"
        )
    for name in info["results"]:
        for suffix in (".npz", ".json"):
            if not (Path(run_dir) / f"{name}{suffix}").is_file():
                raise RunDirError(
                    f"{path} lists {name!r}, but {Path(run_dir) / name}{suffix} is missing"
                )
    return info


def check_rerun(run_dir: Path, reproduction: str, quick: bool) -> None:
    """RunDirError if run_dir already holds a run.json of another reproduction, or of a
    quick run when this one is not (or the reverse): a rerun must continue the same run."""
    path = Path(run_dir) / RUN_FILE
    if not path.exists():
        return
    info = _parse_run(path)
    if info["reproduction"] != reproduction or bool(info.get("quick")) != quick:
        raise RunDirError(
            f"{run_dir} holds a {'--quick ' if info.get('quick') else ''}run of "
            f"{info['reproduction']!r}; this is a {'--quick ' if quick else ''}run of "
            f"{reproduction!r}: use another --run-dir"
        )


def write_run(
    run_dir: Path, reproduction: str, names: list[str], quick: bool, argv: list[str]
) -> list[str]:
    """Write run.json, merging the result names with those of an earlier run in the same
    directory (a rerun with other --seeds adds them; none is dropped). Returns the names."""
    path = Path(run_dir) / RUN_FILE
    earlier = _parse_run(path) if path.exists() else {"results": [], "argv": []}
    merged = sorted(set(earlier["results"]) | set(names))
    calls = earlier.get("invocations") or ([earlier["argv"]] if earlier.get("argv") else [])
    document = {
        "reproduction": reproduction,
        "results": merged,
        "quick": quick,
        "argv": argv,
        "invocations": [*calls, argv],
    }
    from .checkpoint import atomic_write

    atomic_write(path, lambda f: f.write((json.dumps(document, indent=1) + "\n").encode()))
    return merged


@contextmanager
def results_lock(results_dir: Path, timeout_s: float = 600.0) -> Iterator[None]:
    """Hold an exclusive lock (flock on results_dir/.promote.lock) while promoting; wait at
    most timeout_s for another promote, then raise PromotionRefused naming its process.
    The kernel releases the lock when its process dies."""
    results_dir.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(results_dir / LOCK_FILE, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    holder = os.pread(descriptor, 200, 0).decode(errors="replace").strip()
                    raise PromotionRefused(
                        f"{results_dir} is locked by another promote ({holder or 'unknown'}) "
                        f"for more than {timeout_s:g} s: wait for it to finish"
                    ) from None
                time.sleep(0.05)
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"pid {os.getpid()}".encode(), 0)
        yield
    finally:
        os.close(descriptor)  # releases the lock


def _leaves(tree: Any, prefix: str = "") -> dict[str, Any]:
    """{dotted key: value} of the leaves of nested dicts."""
    if not isinstance(tree, dict):
        return {prefix: tree}
    out: dict[str, Any] = {}
    for key, value in tree.items():
        out |= _leaves(value, f"{prefix}.{key}" if prefix else str(key))
    return out


def config_changes(stored: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """'key: stored X, new Y' for each config value that differs, epochs/trials aside.

    Configs of the same layout are compared key by key; a stored config of an older
    (flat) layout is compared with the new one by the last part of each key, where that
    name is unique on both sides.
    """
    old, now = _leaves(stored), _leaves(new)
    if set(old) != set(now) and {k.split(".")[0] for k in old} != {k.split(".")[0] for k in now}:
        old, now = (_by_name(tree) for tree in (old, now))
        keys = sorted(set(old) & set(now))
    else:
        keys = sorted(set(old) | set(now))
    return [
        f"{key}: stored {old.get(key, '(absent)')!r}, new {now.get(key, '(absent)')!r}"
        for key in keys
        if key.split(".")[-1] not in SIZE_KEYS
        and old.get(key, "(absent)") != now.get(key, "(absent)")
    ]


def _by_name(leaves: dict[str, Any]) -> dict[str, Any]:
    names: dict[str, list[Any]] = {}
    for key, value in leaves.items():
        names.setdefault(key.split(".")[-1], []).append(value)
    return {name: values[0] for name, values in names.items() if len(values) == 1}


def promote(run_dir: Path, results_dir: Path, force: bool = False) -> list[Path]:
    """Copy the results of run_dir (as named in its run.json) into results_dir.

    Refuses (PromotionRefused, nothing copied) a quick run, one with fewer epochs or
    trials than the stored result it would replace, or one whose config differs from the
    stored one (naming the keys), unless force. RunDirError for a run directory without
    run.json, of an unknown reproduction, or with a result name that leaves the directory
    (never forced). Holds `results_lock`; each pair is replaced atomically.
    """
    from .cli import registry
    from .experiments import Results

    run_dir, results_dir = Path(run_dir), Path(results_dir)
    entries = registry()
    info = read_run(run_dir, entries)
    experiment = entries[info["reproduction"]].experiment
    runs = {name: Results.load(run_dir / name) for name in info["results"]}
    if info.get("quick") and not force:
        raise PromotionRefused(f"{run_dir} is a --quick run: pass --force to promote it")
    with results_lock(results_dir):
        if not force:
            for name, results in runs.items():
                stored_path = results_dir / name
                if not stored_path.with_suffix(".json").exists():
                    continue
                stored = Results.load(stored_path)
                old, new = experiment.size(stored), experiment.size(results)
                if new < old:
                    raise PromotionRefused(
                        f"{run_dir / name} has {new} {experiment.size_label}, the stored "
                        f"{stored_path} has {old}: not replaced (pass --force to replace it)"
                    )
                changes = config_changes(stored.config, results.config)
                if changes:
                    raise PromotionRefused(
                        f"{run_dir / name} was run with another config than the stored "
                        f"{stored_path}: {'; '.join(changes)} (pass --force to replace it)"
                    )
        return [results.save(results_dir / name) for name, results in runs.items()]
