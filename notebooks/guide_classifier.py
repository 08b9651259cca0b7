# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Your own classifier
#
# This tutorial trains a feed-forward spiking classifier on a task made up in the notebook:
# small noisy images of bars, horizontal, vertical or diagonal. It uses the same pieces as the
# MNIST experiment ({doc}`mnist`), through the public API: the network
# {py:class}`snnlib.classification.SpikingClassifier` (theta neurons, time-to-first-spike
# coding: the class is the output neuron that spikes first, pseudospikes included), the
# training loop {py:func}`snnlib.classification.train` with its checkpoints, and
# {py:func}`snnlib.classification.evaluate`. Any model that provides the methods of
# {py:class}`snnlib.classification.ClassificationModel` (a loss, a projection of the
# parameters, test metrics as a dataclass) can be trained with the same loop; that loop is
# built on the generic one of {py:func}`snnlib.training.run_loop`.
#
# Source of this page: {download}`notebooks/guide_classifier.py
# <../../notebooks/guide_classifier.py>`.

# %% tags=["hide-input"]
import dataclasses
import tempfile
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

from snnlib.classification import SpikingClassifier, TrainConfig, evaluate, train
from snnlib.data.encoding import pixel_bins
from snnlib.notebook import check_parameters, record_numbers, show_run_notice
from snnlib.plotting import COLORS, use_style

use_style()

# %% tags=["parameters"]
quick = False  # True: fewer samples and epochs

# %% tags=["remove-input"]
check_parameters(quick=(quick, bool))
show_run_notice(
    quick,
    "600 instead of 3000 training and 300 instead of 1000 test images, 4 instead of 12 epochs",
)
numbers = {"quick": quick}

# %% [markdown]
# `train` compiles its training step (the gradient through the simulation) at each call,
# and below it is called three times with the same shapes. JAX's persistent compilation
# cache keeps compiled programs on disk, so that the second and third call reuse the
# first one's; it must be set before the first computation:

# %%
jax.config.update("jax_compilation_cache_dir", tempfile.mkdtemp(prefix="guide-jax-cache-"))
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)

# %% [markdown]
# ## The task
#
# 6 × 6 images (uint8) with one bright bar: a row (class 0), a column (class 1) or one of the
# two diagonals (class 2), each pixel flipped with probability 0.08. The classifier takes
# images as *pixel bins*: with one bin, every pixel of at least 128 sends one input spike
# early in the trial, the others none ({py:func}`snnlib.data.encoding.pixel_bins`).

# %%
SIDE, CLASSES = 6, ("horizontal", "vertical", "diagonal")


def bars(n, seed, flip=0.08):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    images = np.zeros((n, SIDE, SIDE), bool)
    where = rng.integers(0, SIDE, n)
    for i, (label, k) in enumerate(zip(labels, where, strict=True)):
        if label == 0:
            images[i, k, :] = True
        elif label == 1:
            images[i, :, k] = True
        else:
            diagonal = np.eye(SIDE, dtype=bool)
            images[i] = diagonal if k % 2 else diagonal[::-1]
    images ^= rng.random(images.shape) < flip
    return images.astype(np.uint8) * 255, labels.astype(np.int32)


n_train, n_test = (600, 300) if quick else (3000, 1000)
train_images, train_labels = bars(n_train, seed=1)
test_images, test_labels = bars(n_test, seed=2)
train_bins, test_bins = pixel_bins(train_images), pixel_bins(test_images)
print("training bins:", train_bins.shape, train_bins.dtype, "| labels:", train_labels[:10])

fig, axes = plt.subplots(1, 6, figsize=(7, 1.6))
for ax, image, label in zip(axes, train_images, train_labels, strict=False):
    ax.imshow(image, cmap="gray_r")
    ax.set_title(CLASSES[label], fontsize=9)
    ax.axis("off")
plt.show()

# %% [markdown]
# ## The network
#
# 36 inputs, 30 hidden and 3 output theta neurons; `max_spikes` is the spike budget per
# neuron of the layered simulator (one spike each suffices for first-spike coding; a
# trial needing more is counted in `n_exhausted`). The trainable parameters are the
# weights and the initial phases of every layer.

# %%
net = SpikingClassifier(
    sizes=(SIDE * SIDE, 30, 3),
    duration=2.0,
    n_bins=1,
    max_spikes=2,
    flip_probability=0.0,
    micro_batch=None,
)
params = net.init(jax.random.PRNGKey(0))
print({name: [a.shape for a in arrays] for name, arrays in params.items()})
before = evaluate(net, params, test_bins, test_labels, batch_size=n_test)
print(f"before training: test accuracy {before.accuracy:.3f}, loss {before.loss:.3f}")
print("all metrics:", ", ".join(f.name for f in dataclasses.fields(before)))

# %% [markdown]
# ## Training, checkpointing, resuming
#
# {py:func}`snnlib.classification.train` runs epochs of shuffled mini-batches (Adabelief, an
# exponentially decaying learning rate) and evaluates on the test set after each epoch.
# With `checkpoint=PATH` it saves its state after every epoch (atomically, checksummed);
# called again with the same path it resumes where it stopped, and the result is exactly
# that of an uninterrupted run. Here: train for half the epochs, "stop", and call again
# with all the epochs; then compare with an uninterrupted run.

# %%
epochs = 4 if quick else 12
config = TrainConfig(
    epochs=epochs,
    batch_size=50,
    learning_rate=0.01,
    decay_epochs=50.0,
    eval_batch_size=n_test,
    seed=0,
)
half = dataclasses.replace(config, epochs=epochs // 2)
folder = Path(tempfile.mkdtemp(prefix="guide-classifier-"))
data = ((train_bins, train_labels), (test_bins, test_labels))

call_seconds = []


def timed_train(settings, **options):
    start = time.perf_counter()
    result = train(net, params, *data, settings, progress=False, **options)
    call_seconds.append(time.perf_counter() - start)
    return result


first_part = timed_train(half, checkpoint=folder / "run")
resumed = timed_train(config, checkpoint=folder / "run")
straight = timed_train(config)
identical = all(
    bool(jnp.array_equal(a, b))
    for a, b in zip(jax.tree.leaves(resumed.params), jax.tree.leaves(straight.params), strict=True)
)
print("checkpoint files:", sorted(p.name for p in folder.iterdir()))
print(
    "epochs in the first call:",
    len(first_part.metrics) - 1,
    "| after resuming:",
    len(resumed.metrics) - 1,
)
print("resumed parameters identical to the uninterrupted run:", identical)
print("seconds per call (the first compiles the step):", np.round(call_seconds, 1))

# %% [markdown]
# ## Evaluation

# %%
after = evaluate(net, resumed.params, test_bins, test_labels, batch_size=n_test)
layers = net.simulate(resumed.params, test_bins[:5])
first_spikes = net.first_spike_times(resumed.params, test_bins[:5], layers)
print("first output spike times of five test images (rows), per class (columns):")
print(np.round(np.asarray(first_spikes), 3), "| labels:", test_labels[:5])

fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(np.arange(epochs + 1), 100 * resumed.metrics.accuracy, "o-", color=COLORS["ink"])
ax.set(xlabel="epoch", ylabel="test accuracy (%)", ylim=(0, 100))
plt.show()

numbers |= {
    "n_train": n_train,
    "n_test": n_test,
    "epochs": epochs,
    "accuracy_before": before.accuracy,
    "accuracy_after": after.accuracy,
    "resumed_identical": identical,
    "wall_seconds": straight.wall_time,
    "call_seconds": call_seconds,
}
display(
    Markdown(
        f"Test accuracy: {100 * before.accuracy:.1f} % before training (chance: 33 %), "
        f"{100 * after.accuracy:.1f} % after {epochs} epochs on {n_train} images "
        f"(the uninterrupted run: {numbers['wall_seconds']:.0f} s on this machine). "
        "The resumed run "
        f"{'equals' if identical else 'differs from'} the uninterrupted one."
    )
)

# %% tags=["remove-cell"]
record_numbers(numbers)
