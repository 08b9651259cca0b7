"""The package version, defined here only: ``pyproject.toml`` reads it (``dynamic``), and
``snnlib.__version__`` and ``snnlib --version`` print it."""

__version__ = "0.1.0"
