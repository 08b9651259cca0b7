"""The paper's experiments: each module has a config dataclass (the paper's values as
defaults), run(config) returning its typed results (an `ExperimentResults` dataclass),
the paper's values (PAPER) and compare(results), the rows of the paper-vs-run table."""

from ._results import ArrayGroup, ExperimentResults, Results

__all__ = ["ArrayGroup", "ExperimentResults", "Results"]
