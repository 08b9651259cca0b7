"""Time of one full-scale epoch of the depth study per depth, estimated from a few steps.

For each L, the wall time of `--steps` training steps (batch 1000, after one compiling
step) and of `--evals` evaluation batches of 1000 test images gives one epoch as
60 steps + 10 evaluation batches, at the initial (silent) network: a trained network
spikes more and its epochs may take longer. Run it niced on a quiet machine:

    PYTHONPATH=$PWD nice -n 19 .venv/bin/python scripts/depth_timing.py
"""

import argparse
import json
import time

import jax
import numpy as np

from snnlib.classification import TrainConfig, make_train_step
from snnlib.classification.training import _batch_metrics
from snnlib.experiments import depth
from snnlib.experiments.mnist import MnistData, load_data


def seconds_per_epoch(layers: int, pseudospikes: bool, steps: int, evals: int) -> dict:
    """Measured step and evaluation times of L = layers, and the epoch they imply."""
    config = depth.DepthConfig(
        network=depth.depth_network(layers, pseudospikes),
        data=MnistData(n_train=1000 * (steps + 1), n_test=1000 * evals),
    )
    net = config.network
    (images, labels), (test_images, test_labels) = load_data(config)  # type: ignore[arg-type]
    params = net.init(jax.random.PRNGKey(0))
    optimizer = TrainConfig().optimizer(60)
    step = make_train_step(net, optimizer)
    state = optimizer.init(params)
    key = jax.random.PRNGKey(1)
    batches = [
        (images[i * 1000 : (i + 1) * 1000], labels[i * 1000 : (i + 1) * 1000])
        for i in range(steps + 1)
    ]
    params, state, loss, _ = step(params, state, *batches[0], key)  # compiles
    jax.block_until_ready(loss)
    start = time.perf_counter()
    for inputs, targets in batches[1:]:
        params, state, loss, _ = step(params, state, inputs, targets, key)
    jax.block_until_ready(loss)
    step_s = (time.perf_counter() - start) / steps
    jax.block_until_ready(_batch_metrics(net, params, test_images[:1000], test_labels[:1000]))
    start = time.perf_counter()
    for index in range(evals):
        chosen = slice(index * 1000, (index + 1) * 1000)
        jax.block_until_ready(_batch_metrics(net, params, test_images[chosen], test_labels[chosen]))
    eval_s = (time.perf_counter() - start) / evals
    return {
        "L": layers,
        "pseudospikes": pseudospikes,
        "step_s": round(step_s, 2),
        "eval_batch_s": round(eval_s, 2),
        "epoch_s": round(60 * step_s + 10 * eval_s, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--evals", type=int, default=2)
    parser.add_argument("--depths", type=int, nargs="*", default=list(depth.DEPTHS))
    args = parser.parse_args()
    for layers in args.depths:
        print(json.dumps(seconds_per_epoch(layers, True, args.steps, args.evals)), flush=True)
    print("load average", np.round(np.loadtxt("/proc/loadavg", usecols=(0, 1, 2)), 1))


if __name__ == "__main__":
    main()
