"""The paper's experiments: each module declares one `Experiment` (``EXPERIMENT``): a
config dataclass (the paper's values as defaults), run(config) returning its typed
results (an `ExperimentResults` dataclass), the paper's values (PAPER) and
compare(results), the rows of the paper-vs-run table, its variants, seeds and run names.
`experiments()` collects them; ``snnlib reproduce`` runs them."""

from ._experiment import Experiment, RunOptions, Variant, experiments
from ._results import FORMAT_VERSION, ArrayGroup, ExperimentResults, Results, ResultsFormatError

__all__ = [
    "FORMAT_VERSION",
    "ArrayGroup",
    "Experiment",
    "ExperimentResults",
    "Results",
    "ResultsFormatError",
    "RunOptions",
    "Variant",
    "experiments",
]
