"""Data shipped with snnlib: the paper's task instances, MNIST (IDX files) and encodings."""

from .instances import load_instance
from .mnist import load_mnist

__all__ = ["load_instance", "load_mnist"]
