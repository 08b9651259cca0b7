"""Training-step time of the layered vs the generic simulator on the MNIST network.

    .venv/bin/python bench/bench_feedforward.py [--batch 1000] [--steps 5] [--checkpoint PATH]
                                                [--initial]

Runs one subprocess per simulator (one after the other, so that they do not compete for
the CPU), each timing the jit-compiled training step (value_and_grad + Adabelief, batch
of MNIST training images, float32) on the same network and data: compile time
separately, then the median of --steps steps (`.block_until_ready()`). Memory: XLA's
estimate for the compiled step (temporaries + arguments + outputs) and the peak resident
memory of the process. The network is the trained one of --checkpoint (default
results/checkpoints/mnist_seed0.pkl if it exists), else (or with --initial) the initial,
silent network.
"""

import argparse
import dataclasses
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CHECKPOINT = ROOT / "results" / "checkpoints" / "mnist_seed0.pkl"


def measure(variant: str, batch: int, steps: int, checkpoint: Path | None) -> dict:
    """Time and memory of one simulator's training step (runs in its own process)."""
    import jax
    import numpy as np

    from snnlib.checkpoint import load_checkpoint
    from snnlib.experiments.mnist import MnistConfig, load_data, network
    from snnlib.training import TrainConfig, make_optimizer, make_train_step

    config = MnistConfig(n_train=batch, n_test=batch)
    (inputs, labels), _ = load_data(config)
    net = dataclasses.replace(network(config), simulator=variant)
    saved = load_checkpoint(checkpoint) if checkpoint else None
    params = saved["params"] if saved else net.init(jax.random.PRNGKey(0))
    optimizer = make_optimizer(TrainConfig(), steps_per_epoch=60)
    opt_state = optimizer.init(params)
    args = (params, opt_state, jax.numpy.asarray(inputs), jax.numpy.asarray(labels),
            jax.random.PRNGKey(1))
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    compiled = make_train_step(net, optimizer).lower(*args).compile()
    compile_seconds = time.perf_counter() - start
    memory = compiled.memory_analysis()
    xla_bytes = (memory.temp_size_in_bytes + memory.argument_size_in_bytes
                 + memory.output_size_in_bytes) if memory is not None else float("nan")
    jax.block_until_ready(compiled(*args))  # warm-up
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        jax.block_until_ready(compiled(*args))
        times.append(time.perf_counter() - start)
    sums = jax.jit(net.batch_metrics)(params, *args[2:4])
    activity = net.summarize(jax.device_get(sums), batch)["activity"]
    return {
        "variant": variant,
        "compile_s": compile_seconds,
        "step_s": float(np.median(times)),
        "step_min_s": float(np.min(times)),
        "xla_memory_mb": xla_bytes / 2**20,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_before_compile_mb": rss_before / 1024,
        "hidden_activity": activity,
        "network": f"trained ({saved['epoch']} epochs)" if saved else "initial (silent)",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--checkpoint", type=Path,
                        default=DEFAULT_CHECKPOINT if DEFAULT_CHECKPOINT.exists() else None)
    parser.add_argument("--initial", action="store_true",
                        help="use the initial (silent) network even if a checkpoint exists")
    parser.add_argument("--variant", choices=["layered", "generic"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.initial:
        args.checkpoint = None
    if args.variant:  # the child process
        print(json.dumps(measure(args.variant, args.batch, args.steps, args.checkpoint)))
        return
    rows = {}
    for variant in ("layered", "generic"):
        command = [sys.executable, __file__, "--variant", variant, "--batch", str(args.batch),
                   "--steps", str(args.steps)]
        command += ["--checkpoint", str(args.checkpoint)] if args.checkpoint else ["--initial"]
        output = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
        rows[variant] = json.loads(output.stdout.strip().splitlines()[-1])
    layered, generic = rows["layered"], rows["generic"]
    print(f"MNIST training step, batch {args.batch}, float32, {layered['network']} network "
          f"(hidden activity {layered['hidden_activity']:.3f} spikes/neuron/image)")
    print(f"{'':24}{'layered':>12}{'generic':>12}{'ratio':>9}")
    for key, label in (("step_s", "step time (s, median)"), ("step_min_s", "step time (s, min)"),
                       ("compile_s", "compile time (s)"), ("xla_memory_mb", "XLA memory (MiB)"),
                       ("peak_rss_mb", "peak RSS (MiB)")):
        ratio = generic[key] / layered[key]
        print(f"{label:24}{layered[key]:12.3f}{generic[key]:12.3f}{ratio:9.2f}")
    print(f"layered speed-up: {generic['step_s'] / layered['step_s']:.1f}x (target >= 5x)")


if __name__ == "__main__":
    main()
