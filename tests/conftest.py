"""Test configuration: float64 available (float32 tests ask for it explicitly)."""

import jax

jax.config.update("jax_enable_x64", True)
