"""Experiment results: numpy arrays plus metadata, saved as .npz + .json side by side.

`Results` is the file form (arrays, config and metadata as plain dicts), read and written
generically, e.g. by `snnlib reproduce --promote`. The JSON carries `FORMAT_VERSION`; a
file of another version (or none) is refused, naming the file and the version. Each
experiment declares its typed results as a dataclass derived from `ExperimentResults`:
the fields name every array and summary number, and where each is stored follows from
its type (see `ExperimentResults`).
"""

import dataclasses
import io
import json
import os
import platform
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from ..checkpoint import atomic_write_pair, verify_pair
from ..provenance import git_state, machine_metadata

# the layout of PATH.json: {"format_version", "config" (nested dicts of the config
# dataclasses), "metadata"}; 1: since issue 17 (results/ migrated to it once)
FORMAT_VERSION = 1


class ResultsFormatError(ValueError):
    """A results file of an unknown format version, or not a results file."""


@dataclass
class Results:
    """Arrays of an experiment run with the config and metadata that produced them."""

    arrays: dict[str, np.ndarray]
    config: dict[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.arrays[name]

    def to_stored(self) -> "Results":
        """Itself: the file form (as `ExperimentResults.to_stored` of typed results)."""
        return self

    def save(self, path: str | os.PathLike) -> Path:
        """Write PATH.npz (arrays) and PATH.json (format version, config, metadata) as one
        transaction (`snnlib.checkpoint.atomic_write_pair`: a failure leaves the old pair
        intact; the .json records the .npz checksum, verified by `load`)."""
        return atomic_write_pair(
            path,
            lambda f: _write_npz(f, self.arrays),
            {"format_version": FORMAT_VERSION, "config": self.config, "metadata": self.metadata},
            lambda document: json.dumps(document, indent=1, default=_json_default),
        )

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Results":
        """Read what `save` wrote (ResultsFormatError for another format version)."""
        path = Path(path).with_suffix("")
        for suffix in (".npz", ".json"):
            if not path.with_suffix(suffix).exists():
                raise FileNotFoundError(
                    f"{path.with_suffix(suffix)} is missing: run the experiment at full scale "
                    "(see the book's Reproducing page) or pass quick=True to recompute."
                )
        meta = _read_json(path.with_suffix(".json"))
        raw = path.with_suffix(".npz").read_bytes()
        verify_pair(path, meta, raw)
        try:
            with np.load(io.BytesIO(raw), allow_pickle=False) as data:
                arrays = {name: data[name] for name in data.files}
        except Exception as error:  # zip, CRC, EOF, pickle-refusal errors: all mean unreadable
            raise ValueError(
                f"cannot read {path.with_suffix('.npz')} ({type(error).__name__}: "
                f"{error}): it is truncated, corrupt or not an snnlib results "
                "file; restore it (e.g. git checkout) or move it away"
            ) from None
        return cls(arrays=arrays, config=meta["config"], metadata=meta["metadata"])


def _write_npz(file: Any, arrays: dict[str, np.ndarray]) -> None:
    np.savez_compressed(file, **arrays)  # type: ignore[arg-type]  # numpy's stub: allow_pickle


def _write_text(file: Any, text: str) -> None:
    file.write(text.encode())


def _read_json(path: Path) -> dict[str, Any]:
    """The JSON of a results file of this `FORMAT_VERSION` (else ResultsFormatError)."""
    try:
        meta = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ResultsFormatError(
            f"{path} is not valid JSON ({error}): it is truncated, "
            "corrupt or not an snnlib results file; restore it (e.g. "
            "git checkout) or move it away"
        ) from None
    version = meta.get("format_version") if isinstance(meta, dict) else None
    if version != FORMAT_VERSION:
        raise ResultsFormatError(
            f"{path} has results format version {version!r}; this snnlib reads version "
            f"{FORMAT_VERSION} only (files without a version predate it: see the migration "
            "note in the committed results/*.json)"
        )
    if not {"config", "metadata"} <= set(meta):
        raise ResultsFormatError(
            f"{path}: format version {version} but no 'config'/'metadata' (not a results file)"
        )
    return meta


class ArrayGroup:
    """Base of a dataclass of arrays nested in typed results (e.g. one model's sweeps): its
    array fields are stored as KEY.format(group=<field name in the results>, field=...)."""

    KEY: ClassVar[str] = "{group}_{field}"


def _is_array(kind: Any) -> bool:
    """np.ndarray, or a jaxtyping annotation of one such as Float[np.ndarray, "E T"]."""
    return kind is np.ndarray or getattr(kind, "array_type", None) is np.ndarray


def _is_array_tuple(kind: Any) -> bool:
    """tuple[np.ndarray, ...]: one array per layer, stored as NAME_1, NAME_2, ..."""
    args = typing.get_args(kind)
    return typing.get_origin(kind) is tuple and len(args) == 2 and _is_array(args[0])


def _is_group(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, ArrayGroup)


def _is_record(kind: Any) -> bool:
    """A generic array container such as `Epochs[M]`: `to_arrays()` and
    `from_arrays(M, arrays)` store and read it under keys of its own."""
    return hasattr(typing.get_origin(kind), "from_arrays")


def _in_npz(kind: Any) -> bool:
    """Whether a field of this type is stored in the .npz (else in the JSON)."""
    kind = _optional(kind)
    return _is_array(kind) or _is_array_tuple(kind) or _is_group(kind) or _is_record(kind)


def _optional(kind: Any) -> Any:
    """X of `X | None`, else kind."""
    if isinstance(kind, types.UnionType) or typing.get_origin(kind) is typing.Union:
        args = [a for a in typing.get_args(kind) if a is not type(None)]
        return args[0] if len(args) == 1 else kind
    return kind


def _flatten(value: Any, kind: Any, key: str, out: dict[str, np.ndarray]) -> None:
    """Add the arrays of a field of type kind (`_in_npz`) to out under their file keys."""
    if _is_array(kind):
        out[key] = np.asarray(value)
    elif _is_array_tuple(kind):
        out.update({f"{key}_{index + 1}": np.asarray(a) for index, a in enumerate(value)})
    elif _is_record(kind):
        out.update(value.to_arrays())
    else:
        hints = typing.get_type_hints(kind)
        for item in dataclasses.fields(kind):
            _flatten(
                getattr(value, item.name),
                hints[item.name],
                kind.KEY.format(group=key, field=item.name),
                out,
            )


def _unflatten(kind: Any, key: str, arrays: dict[str, np.ndarray]) -> Any:
    """The field of file key `key` rebuilt from arrays (KeyError if it is missing)."""
    if _is_array(kind):
        return arrays[key]
    if _is_array_tuple(kind):
        count = 0
        while f"{key}_{count + 1}" in arrays:
            count += 1
        if count == 0:
            raise KeyError(f"{key}_1")
        return tuple(arrays[f"{key}_{index + 1}"] for index in range(count))
    if _is_record(kind):
        return typing.get_origin(kind).from_arrays(*typing.get_args(kind), arrays)
    hints = typing.get_type_hints(kind)
    return kind(
        **{
            item.name: _unflatten(
                hints[item.name], kind.KEY.format(group=key, field=item.name), arrays
            )
            for item in dataclasses.fields(kind)
        }
    )


def _config_type_from_dict(kind: type, stored: dict[str, Any]) -> Any:
    """The config dataclass from its JSON form; a class may define `from_dict` (to tell
    apart the types of a union-typed field)."""
    from_dict = getattr(kind, "from_dict", None)
    return from_dict(stored) if from_dict is not None else config_from_dict(kind, stored)


def _summary_from_json(kind: Any, value: Any) -> Any:
    """A summary field from its JSON form: dataclasses rebuilt, lists of tuples tuples."""
    kind = _optional(kind)
    if value is None:
        return None
    if isinstance(kind, type) and dataclasses.is_dataclass(kind) and isinstance(value, dict):
        return config_from_dict(kind, value)
    if typing.get_origin(kind) is tuple and isinstance(value, list):
        return tuple(value)
    return value


@dataclass(kw_only=True)
class ExperimentResults:
    """Base of the typed results of one experiment (a dataclass per experiment).

    Where a field is stored follows from its type hint:

    - ``np.ndarray`` (or a jaxtyping ``Float[np.ndarray, "N"]``): PATH.npz under the
      field's name;
    - ``tuple[np.ndarray, ...]``: PATH.npz as NAME_1, NAME_2, ... (one array per layer);
    - an `ArrayGroup` dataclass: its arrays in PATH.npz under ``ArrayGroup.KEY``;
    - ``config``: PATH.json "config" (the experiment's config dataclass, nested dicts);
    - anything else (numbers, strings, dataclasses or dicts of them): PATH.json
      "metadata" under the field's name, next to the provenance (commit, machine,
      versions, wall time) held in ``metadata``.
    """

    config: Any
    metadata: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def _fields(cls) -> list[tuple[str, Any]]:
        """(name, type) of every field but config and metadata."""
        hints = typing.get_type_hints(cls)
        return [
            (item.name, hints[item.name])
            for item in dataclasses.fields(cls)
            if item.name not in ("config", "metadata")
        ]

    @property
    def arrays(self) -> dict[str, np.ndarray]:
        """Every array, under its key in the .npz file."""
        out: dict[str, np.ndarray] = {}
        for name, kind in self._fields():
            value = getattr(self, name)
            if value is not None and _in_npz(kind):
                _flatten(value, _optional(kind), name, out)
        return out

    def to_stored(self) -> Results:
        """The file form: arrays, the config as nested dicts, metadata with the summaries."""
        arrays = self.arrays
        summaries = {
            name: getattr(self, name) for name, kind in self._fields() if not _in_npz(kind)
        }
        summaries = json.loads(
            json.dumps(
                {
                    k: dataclasses.asdict(v)
                    if dataclasses.is_dataclass(v) and not isinstance(v, type)
                    else v
                    for k, v in summaries.items()
                },
                default=_json_default,
            )
        )
        return Results(
            arrays=arrays, config=config_json(self.config), metadata=self.metadata | summaries
        )

    @classmethod
    def from_stored(cls, stored: Results) -> Self:
        """The typed results of the file form; fields with defaults may be absent."""
        hints = typing.get_type_hints(cls)
        values: dict[str, Any] = {"config": _config_type_from_dict(hints["config"], stored.config)}
        taken: set[str] = set()
        defaults = {
            item.name
            for item in dataclasses.fields(cls)
            if item.default is not dataclasses.MISSING
            or item.default_factory is not dataclasses.MISSING
        }
        for name, kind in cls._fields():
            try:
                if _in_npz(kind):
                    values[name] = _unflatten(_optional(kind), name, stored.arrays)
                else:
                    values[name] = _summary_from_json(kind, stored.metadata[name])
                    taken.add(name)
            except KeyError as missing:
                if name not in defaults:
                    raise KeyError(
                        f"{cls.__name__}: the stored results lack {missing} "
                        f"(field {name!r}); were they written by another "
                        "experiment?"
                    ) from None
        values["metadata"] = {k: v for k, v in stored.metadata.items() if k not in taken}
        return cls(**values)

    def save(self, path: str | os.PathLike) -> Path:
        """Write PATH.npz and PATH.json (see the class docstring), each atomically."""
        return self.to_stored().save(path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Self:
        """Read what `save` wrote."""
        return cls.from_stored(Results.load(path))


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"not JSON serialisable: {value!r}")


def config_from_dict(cls: type, stored: dict[str, Any]) -> Any:
    """The (nested) config dataclass `cls` from its `dataclasses.asdict` form as read back
    from JSON: dicts become the fields' dataclasses, lists of tuple fields tuples."""
    hints = typing.get_type_hints(cls)
    values = {}
    for item in dataclasses.fields(cls):
        if item.name not in stored or not item.init:
            continue  # a field added later (its default), or one set by the class itself
        value, kind = stored[item.name], hints[item.name]
        if isinstance(value, dict) and isinstance(kind, type) and dataclasses.is_dataclass(kind):
            value = config_from_dict(kind, value)
        elif isinstance(value, list) and typing.get_origin(kind) is tuple:
            value = tuple(value)
        values[item.name] = value
    return cls(**values)


def config_json(config: Any) -> dict[str, Any]:
    """A config dataclass as it reads back from a results JSON (nested dicts, lists)."""
    return json.loads(json.dumps(dataclasses.asdict(config), default=_json_default))


def require_x64(what: str) -> None:
    """Raise RuntimeError unless float64 is on: the library never flips JAX's flags."""
    import jax

    if not jax.config.read("jax_enable_x64"):
        raise RuntimeError(
            f"{what} computes in float64, but jax_enable_x64 is off: call "
            "jax.config.update('jax_enable_x64', True) at the start of the program (before "
            "creating arrays) or set the environment variable JAX_ENABLE_X64=1."
        )


# (commit, uncommitted changes) of the package as this process imported it: a run records
# the code it ran, not what is checked out when it ends (a commit made while it trains)
CODE_STATE = git_state(Path(__file__).parent)


def run_metadata(wall_time: float, seed: int | None) -> dict[str, Any]:
    """Versions, commit (`CODE_STATE`), machine and wall time of a run, for
    Results.metadata."""
    import jax
    import jaxlib

    from .. import __version__

    commit, dirty = CODE_STATE
    return {
        "seed": seed,
        "wall_time_s": round(wall_time, 3),
        "versions": {
            "snnlib": __version__,
            "python": platform.python_version(),
            "jax": jax.__version__,
            "jaxlib": jaxlib.__version__,
            "numpy": np.__version__,
        },
        "commit": commit,
        "uncommitted_changes": dirty,  # True: the code differed from the commit
        "machine": machine_metadata(),
        "x64": bool(jax.config.read("jax_enable_x64")),
    }
