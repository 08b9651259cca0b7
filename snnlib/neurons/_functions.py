"""Smooth special functions shared by the neuron models.

Each is an entire (or analytic) function of its argument that the closed forms need,
written so that values *and* reverse-mode gradients are finite everywhere: near z = 0
a Taylor series replaces the quotient (the "double where" idiom of JAX), and the
branch not taken is always evaluated at a harmless argument.
"""

import jax.numpy as jnp
from jax import Array

_SERIES_RADIUS = 1e-3  # |z| below this uses the Taylor series (truncation error < 1e-19)


def _series(z: Array, coefficients: tuple[float, ...]) -> Array:
    """Horner evaluation of sum_n coefficients[n] z^n."""
    result = jnp.zeros_like(z) + coefficients[-1]
    for c in reversed(coefficients[:-1]):
        result = result * z + c
    return result


def cos_sinc_pair(z: Array) -> tuple[Array, Array]:
    """A pair (C, S) proportional to (cos sqrt(z), sin sqrt(z) / sqrt(z)).

    For z < 0 these continue to (cosh sqrt(-z), sinh sqrt(-z) / sqrt(-z)); there the pair
    is divided by cosh sqrt(-z) (C = 1, S = tanh(r) / r) so that it cannot overflow.
    Callers use only the ratio S / C, or expressions homogeneous in (C, S).
    """
    small = jnp.abs(z) < _SERIES_RADIUS
    positive = z >= _SERIES_RADIUS
    z_small = jnp.where(small, z, 0.0)
    r_pos = jnp.sqrt(jnp.where(positive, z, 1.0))
    r_neg = jnp.sqrt(jnp.where(z <= -_SERIES_RADIUS, -z, 1.0))
    c_series = _series(z_small, (1.0, -1 / 2, 1 / 24, -1 / 720, 1 / 40320, -1 / 3628800))
    s_series = _series(z_small, (1.0, -1 / 6, 1 / 120, -1 / 5040, 1 / 362880, -1 / 39916800))
    c = jnp.where(small, c_series, jnp.where(positive, jnp.cos(r_pos), 1.0))
    s = jnp.where(
        small, s_series, jnp.where(positive, jnp.sin(r_pos) / r_pos, jnp.tanh(r_neg) / r_neg)
    )
    return c, s


def arctan_ratio(z: Array) -> Array:
    """arctan(sqrt z) / sqrt z for z >= 0, continued to arctanh(sqrt -z) / sqrt -z for -1 < z < 0.

    Analytic on z > -1 (value 1 at z = 0). For z <= -1 it returns a finite placeholder
    (no inf, so that no 0 * inf reaches a gradient): callers mask those arguments.
    """
    small = jnp.abs(z) < _SERIES_RADIUS
    positive = z >= _SERIES_RADIUS
    negative = (z <= -_SERIES_RADIUS) & (z > -1.0)
    z_small = jnp.where(small, z, 0.0)
    r_pos = jnp.sqrt(jnp.where(positive, z, 1.0))
    r_neg = jnp.sqrt(jnp.where(negative, -z, 0.25))
    series = _series(z_small, (1.0, -1 / 3, 1 / 5, -1 / 7, 1 / 9, -1 / 11, 1 / 13))
    return jnp.where(
        small,
        series,
        jnp.where(
            positive,
            jnp.arctan(r_pos) / r_pos,
            jnp.where(negative, jnp.arctanh(r_neg) / r_neg, 1.0),
        ),
    )
