"""Data shipped with snnlib: the paper's task instances (and, later, data sets)."""

from .instances import load_instance

__all__ = ["load_instance"]
