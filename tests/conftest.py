"""Test configuration: float64 available (float32 tests ask for it explicitly)."""

import jax

pytest_plugins = ["book_build"]  # the executed and built book, shared by the book tests

jax.config.update("jax_enable_x64", True)
