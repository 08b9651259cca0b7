"""Checkpoints without pickle: an .npz of a pytree's leaves plus a JSON header (format
version, tree structure, metadata, SHA-256 checksum), written atomically; and a lock file
so that two runs never write the same checkpoint.

Loading never executes code (``np.load(..., allow_pickle=False)``); the caller passes a
template pytree (`like`) whose structure the stored leaves are put back into.
"""

import errno
import hashlib
import io
import json
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import jax
import numpy as np

FORMAT = "snnlib-checkpoint"
VERSION = 1
_HEADER = "__header__"


class CheckpointError(ValueError):
    """A checkpoint file that cannot be used: corrupt, truncated, foreign or mismatched."""


class CheckpointLockedError(RuntimeError):
    """Another live process holds the lock of a checkpoint path."""


@dataclass
class Checkpoint:
    """What `load_checkpoint` returns: the pytree (in the template's structure) and the
    JSON metadata stored with it."""

    tree: Any
    meta: dict[str, Any]


def _write_npz(file: IO[bytes], arrays: dict[str, np.ndarray]) -> None:
    """The writer of the checkpoint's bytes (a seam for disk-full tests)."""
    np.savez(file, **arrays)  # type: ignore[arg-type]  # numpy's stub misreads **kwds


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], object]) -> Path:
    """Write a file via a temporary file in the same folder, fsync it and rename it into
    place: a kill leaves the old file; a failed write (e.g. disk full) removes the
    temporary file and re-raises."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(
        dir=path.parent, delete=False, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with handle as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return path


PAIR_KEY = "npz_sha256"  # the JSON of an .npz/.json pair records the SHA-256 of its .npz


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 (hex) of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _temporary(path: Path) -> Path:
    handle = tempfile.NamedTemporaryFile(
        dir=path.parent, delete=False, prefix=f".{path.name}.", suffix=".tmp"
    )
    handle.close()
    return Path(handle.name)


def _write_synced(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    with open(path, "wb") as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())


def atomic_write_pair(
    path: str | os.PathLike,
    write_npz: Callable[[IO[bytes]], None],
    document: dict[str, Any],
    dumps: Callable[[dict], str],
) -> Path:
    """Write PATH.npz and PATH.json as one transaction: both go to temporary files first
    (the JSON `document` gains PAIR_KEY, the SHA-256 of the new .npz, so that a reader can
    tell whether the two files belong together, `verify_pair`), then both are renamed into
    place. A failure before the renames (e.g. disk full) leaves the old pair untouched;
    if the second rename fails, the old .npz is put back. Returns PATH (no suffix)."""
    path = Path(path).with_suffix("")
    path.parent.mkdir(parents=True, exist_ok=True)
    npz, json_path = path.with_suffix(".npz"), path.with_suffix(".json")
    staged = [_temporary(npz), _temporary(json_path)]
    backup = None
    try:
        _write_synced(staged[0], write_npz)
        text = dumps(document | {PAIR_KEY: file_sha256(staged[0])})
        _write_synced(staged[1], lambda f: f.write(text.encode()))
        if npz.exists():
            backup = _temporary(npz)
            backup.unlink()
            try:
                os.link(npz, backup)
            except OSError:  # no hard links on this file system
                shutil.copy2(npz, backup)
        os.replace(staged[0], npz)
        try:
            os.replace(staged[1], json_path)
        except BaseException:
            if backup is not None:
                os.replace(backup, npz)
            else:
                npz.unlink(missing_ok=True)
            raise
    finally:
        for leftover in [*staged, *([backup] if backup else [])]:
            leftover.unlink(missing_ok=True)
    return path


def verify_pair(path: str | os.PathLike, document: dict[str, Any], npz: bytes) -> None:
    """ValueError naming both files if the JSON `document` of PATH.json records an .npz
    checksum (PAIR_KEY) other than that of `npz`, the bytes read from PATH.npz (read once
    and parsed from those bytes, so that a concurrent replace cannot slip in between): the
    two files were written by different saves (an interrupted copy, files from two runs,
    or a save in progress). Pairs written before the checksum existed (no PAIR_KEY) pass."""
    path = Path(path).with_suffix("")
    stored = document.get(PAIR_KEY)
    if stored is not None and stored != hashlib.sha256(npz).hexdigest():
        raise ValueError(
            f"{path.with_suffix('.npz')} and {path.with_suffix('.json')} do not belong "
            "together (the .json records another .npz checksum): they were written by "
            "different saves. Restore both from the same run (e.g. git checkout, or "
            "`snnlib promote RUN_DIR` again)"
        )


def _checksum(arrays: dict[str, np.ndarray], header: dict[str, Any]) -> str:
    """SHA-256 over the header (without its checksum) and every array's name, dtype,
    shape and bytes."""
    digest = hashlib.sha256(json.dumps(header, sort_keys=True).encode())
    for name in sorted(arrays):
        value = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}|{value.dtype.str}|{value.shape}|".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()


def _paths(tree: Any) -> list[str]:
    return [jax.tree_util.keystr(path) for path, _ in jax.tree_util.tree_flatten_with_path(tree)[0]]


def save_checkpoint(path: str | os.PathLike, tree: Any, meta: dict[str, Any] | None = None) -> Path:
    """Write the leaves of `tree` (as numpy arrays) and the JSON-serialisable `meta` to
    path atomically, with format version and checksum."""
    leaves = [np.asarray(leaf) for leaf in jax.tree.leaves(jax.device_get(tree))]
    if any(leaf.dtype == object for leaf in leaves):
        raise TypeError("checkpoint leaves must be numeric arrays (no Python objects)")
    arrays = {f"leaf_{i:05d}": leaf for i, leaf in enumerate(leaves)}
    header = {"format": FORMAT, "version": VERSION, "paths": _paths(tree), "meta": meta or {}}
    header["sha256"] = _checksum(arrays, header)
    arrays[_HEADER] = np.frombuffer(json.dumps(header).encode(), np.uint8)
    return atomic_write(path, lambda f: _write_npz(f, arrays))


def _corrupt(path: Path, reason: str) -> CheckpointError:
    return CheckpointError(
        f"checkpoint {path} is unusable ({reason}). Delete it to start the run afresh, or "
        "restore a good copy; it was not modified."
    )


def _read(path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The verified arrays and header of the checkpoint file at path."""
    raw = path.read_bytes()
    if not raw:
        raise _corrupt(path, "the file is empty")
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
        header = json.loads(arrays.pop(_HEADER).tobytes().decode())
    except Exception as error:  # zip, CRC, JSON, pickle-refusal errors: all mean corrupt
        raise _corrupt(
            path, f"not a readable snnlib checkpoint: {type(error).__name__}: {error}"
        ) from error
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise _corrupt(path, "not an snnlib checkpoint")
    if header.get("version") != VERSION:
        raise _corrupt(
            path, f"format version {header.get('version')}, this snnlib reads version {VERSION}"
        )
    stored = header.pop("sha256", None)
    if stored != _checksum(arrays, header):
        raise _corrupt(path, "SHA-256 checksum mismatch: the file was altered or damaged")
    return arrays, header


def checkpoint_meta(path: str | os.PathLike) -> dict[str, Any]:
    """The metadata stored with the (verified) checkpoint at path."""
    return _read(Path(path))[1]["meta"]


def load_checkpoint(
    path: str | os.PathLike, like: Any | Callable[[dict], Any]
) -> Checkpoint | None:
    """The checkpoint at path with its leaves put into the structure of `like` (a pytree
    with the same structure, e.g. the initial state, or a function of the stored metadata
    returning one); None if there is no file.

    Raises CheckpointError naming the file if it is empty, truncated, corrupt (checksum),
    not an snnlib checkpoint, of another format version, or of another structure.
    """
    path = Path(path)
    if not path.exists():
        return None
    arrays, header = _read(path)
    if callable(like):
        like = like(header["meta"])
    expected = _paths(like)
    if header["paths"] != expected:
        raise _corrupt(
            path,
            f"it holds the pytree {header['paths'][:8]}..., the run expects "
            f"{expected[:8]}... (written by another experiment or version)",
        )
    leaves = [arrays[f"leaf_{i:05d}"] for i in range(len(expected))]
    return Checkpoint(jax.tree.unflatten(jax.tree.structure(like), leaves), header["meta"])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def checkpoint_lock(path: str | os.PathLike) -> Iterator[Path]:
    """Hold PATH.lock (pid, host, start time) while a run writes the checkpoint at path.

    Raises CheckpointLockedError naming the other process if a live one holds it; a lock
    left by a dead process on this host (e.g. after kill -9) is taken over.
    """
    lock = Path(f"{path}.lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    host = socket.gethostname()
    record = json.dumps(
        {"pid": os.getpid(), "host": host, "since": time.strftime("%Y-%m-%d %H:%M:%S")}
    )
    for _ in range(3):
        try:
            descriptor = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                other = json.loads(lock.read_text() or "{}")
            except (OSError, ValueError):
                other = {}
            if (
                other.get("host") == host
                and isinstance(other.get("pid"), int)
                and not _alive(other["pid"])
            ):
                lock.unlink(missing_ok=True)  # stale: its process is gone
                continue
            raise CheckpointLockedError(
                f"checkpoint {path} is in use by process {other.get('pid', '?')} on host "
                f"{other.get('host', '?')} (since {other.get('since', '?')}): wait for it, "
                f"use another checkpoint path, or delete {lock} if that process is gone"
            ) from None
        with os.fdopen(descriptor, "w") as f:
            f.write(record)
        break
    else:
        raise OSError(errno.EEXIST, f"could not take the lock {lock}")
    try:
        yield lock
    finally:
        lock.unlink(missing_ok=True)
