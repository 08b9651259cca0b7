"""Subprocess worker of tests/test_training.py: tiny MNIST trainings (float32).

    python _train_worker.py train CHECKPOINT OUT [--pause-after-checkpoint]
    python _train_worker.py resume-and-fresh CHECKPOINT OUT_RESUMED OUT_FRESH
    python _train_worker.py devices OUT_ONE OUT_ALL

Each OUT is an .npz of the final parameters and the test metrics per epoch.
"""

import sys
import time

import jax
import numpy as np

from snnlib import classification, training
from snnlib._placement import Placement
from snnlib.experiments.mnist import load_data, quick_config

CONFIG = quick_config(epochs=3, n_train=300, n_test=100, batch_size=100, hidden=(10,))


def run(checkpoint=None, devices=None):
    net = CONFIG.network
    train_data, test_data = load_data(CONFIG)
    params = net.init(jax.random.PRNGKey(CONFIG.training.seed))
    return classification.train(
        net,
        params,
        train_data,
        test_data,
        CONFIG.training,
        checkpoint=checkpoint,
        progress=False,
        devices=devices,
    )


def save(result, path):
    arrays = {
        f"param_{i}": np.asarray(leaf) for i, leaf in enumerate(jax.tree.leaves(result.params))
    }
    arrays.update(
        {
            f"metric_{name}": np.asarray(values)
            for name, values in result.metrics.arrays.items()
            if name != "epoch_seconds"
        }
    )
    arrays.update(step_loss=result.step_loss, step_accuracy=result.step_accuracy)
    np.savez(path, **arrays)


def main(mode, *paths):
    if mode == "train":
        if "--pause-after-checkpoint" in paths:  # give the test time to kill us after epoch 1
            original = training.save_checkpoint

            def save_and_pause(path, tree, meta):
                original(path, tree, meta)
                time.sleep(60)

            training.save_checkpoint = save_and_pause
        save(run(checkpoint=paths[0]), paths[1])
    elif mode == "resume-and-fresh":
        save(run(checkpoint=paths[0]), paths[1])
        save(run(), paths[2])
    elif mode == "devices":
        assert len(jax.devices()) == 2, jax.devices()
        placement = Placement(jax.devices())
        assert placement.put_batch(np.zeros((100, 4)))[0].sharding.num_devices == 2
        save(run(devices=jax.devices()[:1]), paths[0])
        save(run(devices=jax.devices()), paths[1])
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main(*sys.argv[1:])
