"""Subprocess worker of tests/test_distributed.py: a tiny MNIST training in one layout.

    python _distributed_worker.py OUT EPOCHS [CHECKPOINT] [--coordinator H:P
        --num-processes P --process-id I]

Trains a small MNIST network for EPOCHS epochs on all devices of all processes (resuming from
CHECKPOINT if given and present) and, in process 0, saves the final parameters and test
accuracies to OUT (.npz).
"""

import argparse

import jax
import numpy as np

from snnlib import classification, distributed
from snnlib.experiments import mnist


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("epochs", type=int)
    parser.add_argument("checkpoint", nargs="?")
    parser.add_argument("--coordinator")
    parser.add_argument("--num-processes", type=int, default=1)
    parser.add_argument("--process-id", type=int, default=0)
    args = parser.parse_args()
    if args.coordinator:
        distributed.initialize(args.coordinator, args.num_processes, args.process_id)
    config = mnist.quick_config(
        epochs=args.epochs, n_train=200, n_test=100, batch_size=100, hidden=(10,)
    )
    net = config.network
    train_data, test_data = mnist.load_data(config)
    params = net.init(jax.random.PRNGKey(config.training.seed))
    result = classification.train(
        net,
        params,
        train_data,
        test_data,
        config.training,
        checkpoint=args.checkpoint,
        progress=False,
    )
    if jax.process_index() == 0:
        arrays = {
            f"param_{i}": np.asarray(leaf) for i, leaf in enumerate(jax.tree.leaves(result.params))
        }
        np.savez(
            args.out,
            accuracy=np.asarray(result.metrics.accuracy),
            devices=len(jax.devices()),
            processes=jax.process_count(),
            **arrays,
        )


if __name__ == "__main__":
    main()
