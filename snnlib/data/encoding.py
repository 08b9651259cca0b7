"""Time-to-first-spike input encoding of images (paper Fig. 4; book/theory.md, "Theta neuron").

Pixel values are binned; all pixels of bin b spike once, at the same time t_b (brighter
bins earlier), and the last bin never spikes. Since the pixels of a bin spike together,
their effect on a neuron is that of one virtual input neuron per bin whose weight is the
sum of the pixels' weights: the network then receives n_bins input spikes per image,
not up to 784.
"""

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.typing import ArrayLike
from jaxtyping import Float, Int


def pixel_bins(images: ArrayLike, n_bins: int = 1) -> np.ndarray:
    """Bin index of every pixel: b = min((255 - p) // (256 // (n_bins + 1)), n_bins).

    Bins 0..n_bins-1 spike (0 the brightest), bin n_bins never. With one bin, pixels
    p >= 128 are in bin 0 and the others never spike. images: uint8, any shape
    (e.g. (n, 28, 28)); returns int8 of shape (n, 784) (the trailing axes flattened).
    """
    _check_bins(n_bins)
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise ValueError(f"pixel_bins: images must be uint8 (0..255), got {images.dtype}")
    flat = images.reshape(images.shape[0], -1).astype(np.int16)
    return np.minimum((255 - flat) // (256 // (n_bins + 1)), n_bins).astype(np.int8)


def bin_spike_times(n_bins: int, duration: float) -> np.ndarray:
    """Spike time of each bin, (n_bins,): t_b = T ln(I_b / (I_b - V_th)), I_b = n_bins - b,
    V_th = 0.01 n_bins (the spike time of a leaky integrator driven by I_b, as in the
    paper's code). One bin: t_0 = T ln(1/0.99)."""
    _check_bins(n_bins)
    drive = np.arange(n_bins, 0, -1, dtype=np.float64)
    threshold = 0.01 * n_bins
    return duration * np.log(drive / (drive - threshold))


def virtual_input_weights(
    weights: Float[ArrayLike, "N P"], bins: Int[ArrayLike, " P"], n_bins: int
) -> Float[Array, "N n_bins"]:
    """Weights of the virtual input neurons, (N, n_bins): w_ib = sum_{p in bin b} W_ip.

    weights: (N, n_pixels); bins: (n_pixels,) integer bin of each pixel (bin n_bins, the
    silent one, contributes nothing). One image; `jax.vmap` over images.
    """
    one_hot = jax.nn.one_hot(jnp.asarray(bins), n_bins, dtype=jnp.asarray(weights).dtype)
    return jnp.asarray(weights) @ one_hot


def flip_bins(
    key: Array, bins: Int[ArrayLike, "*B P"], n_bins: int, p: float
) -> Int[Array, "*B P"]:
    """Input-flip augmentation: each pixel's bin b becomes n_bins - b with probability p.

    With one bin a flipped pixel turns from spiking to silent or back (paper: p = 0.02).
    """
    bins = jnp.asarray(bins)
    flip = jax.random.bernoulli(key, p, bins.shape)
    return jnp.where(flip, n_bins - bins, bins).astype(bins.dtype)


def _check_bins(n_bins: int) -> None:
    if not isinstance(n_bins, int) or not 1 <= n_bins <= 127:
        raise ValueError(f"n_bins must be an integer in 1..127, got {n_bins!r}")
