"""The paper's experiments: each module has a config dataclass and run(config) -> Results."""

from ._results import Results

__all__ = ["Results"]
