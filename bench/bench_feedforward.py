"""MNIST training step: the layered simulator vs the generic one, side by side, and a profile.

    .venv/bin/python bench/bench_feedforward.py [--batch 1000] [--steps 5] [--out PATH]
        [--networks trained initial] [--no-generic]

For each network (trained: the committed full-scale run results/mnist_seed0.npz; initial:
the silent network at initialisation) one subprocess compiles the jit-compiled training
step (value_and_grad + AdaBelief, float32, a batch of MNIST training images) of each
variant: layered; layered with autodiff instead of the adjoint backward pass of the
theta layers; generic. It then times them ALTERNATELY, so that all see the same machine
load, each timed step following an untimed one of the same variant, so that the caches
hold its data as in training; the ratios are the quantities to read. Also measured:
compile times, XLA's memory estimate of each compiled step, the process's peak RSS, and a
profile of the layered step (each layer's simulation forward and forward + backward, the
sorting of the input spikes, and how much of each layer's scan is padding to the batch's
busiest trial). Everything goes to a JSON file (default bench/results/feedforward.json)
with the machine, versions and commit; a table is printed. Not a test: run on demand
(`make bench`).
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRAINED = ROOT / "results" / "mnist_seed0.npz"


def machine() -> dict:
    """CPU model, usable cores, platform, versions and commit of this measurement."""
    import jax

    model = "unknown"
    if Path("/proc/cpuinfo").exists():
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                            cwd=ROOT).stdout.strip() or "unknown"
    return {"cpu": model, "cores": len(os.sched_getaffinity(0)), "platform": platform.platform(),
            "devices": [str(d) for d in jax.devices()], "jax": jax.__version__,
            "python": platform.python_version(), "commit": commit}


def load_params(network_name: str, net):
    """The committed trained parameters, or the initial ones."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    if network_name == "initial":
        return net.init(jax.random.PRNGKey(0))
    if not TRAINED.exists():
        raise SystemExit(f"{TRAINED} is missing: it is committed; restore it with git")
    with np.load(TRAINED) as stored:
        layers = range(1, len(net.sizes))
        return {"weights": [jnp.asarray(stored[f"weights_{i}"]) for i in layers],
                "initial_phases": [jnp.asarray(stored[f"initial_phases_{i}"]) for i in layers]}


def timed(function, *args, repeats: int = 3) -> float:
    """Median wall time of a compiled function (after one warm-up call)."""
    import jax
    import numpy as np

    jax.block_until_ready(function(*args))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(function(*args))
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def profile(net, params, inputs) -> dict:
    """Where the layered forward and backward pass spend their time, layer by layer."""
    from functools import partial

    import jax
    import jax.numpy as jnp

    from snnlib.feedforward import _simulate_layer as simulate_layer

    duration = net.duration
    layers = jax.jit(net.simulate)(params, inputs)
    first = jax.jit(net.input_weights)(params, inputs)
    row = {"input_weights_s": timed(jax.jit(net.input_weights), params, inputs)}
    times = jnp.broadcast_to(jnp.asarray([0.02], first.dtype), (inputs.shape[0], 1))
    sources = jnp.zeros((inputs.shape[0], 1), jnp.int32)
    for index, layer in enumerate(layers):
        weights = first if index == 0 else params["weights"][index]
        state = params["initial_phases"][index][None]
        active = jnp.sum(times < duration, axis=-1)
        n_active = jnp.max(active)
        run = partial(simulate_layer, net.model, max_spikes=net.max_spikes, n_active=n_active)
        axes = (0 if weights.ndim == 3 else None, 0, 0, None, None)

        def forward(w, t, s, run=run, axes=axes, state=state):
            return jax.vmap(run, axes)(w, t, s, state, duration)

        def scalar(w, t, forward=forward, s=sources):
            out = forward(w, t, s)
            return jnp.sum(jnp.where(jnp.isfinite(out.times), out.times, 0.0)) + jnp.sum(
                out.final_state)

        row[f"layer{index + 1}"] = {
            "inputs_per_trial_mean": float(jnp.mean(active)),
            "inputs_per_trial_max": int(n_active),
            "padding_fraction": float(1 - jnp.mean(active) / jnp.maximum(n_active, 1)),
            "forward_s": timed(jax.jit(forward), weights, times, sources),
            "forward_backward_s": timed(jax.jit(jax.grad(scalar, argnums=(0, 1))), weights,
                                        times),
            "sort_s": timed(jax.jit(lambda t: jnp.argsort(t, axis=-1)), times),
        }
        n = layer.times.shape[-2]
        times = layer.times.reshape(inputs.shape[0], -1)
        sources = jnp.broadcast_to(jnp.repeat(jnp.arange(n), net.max_spikes), times.shape)
    return row


def _use_theta_backward(adjoint: bool) -> None:
    """Register the theta layer steps with the adjoint (default) or the autodiff backward
    pass, and drop JAX's caches so that the next compilation sees the choice."""
    import jax

    from snnlib import _layer_steps
    from snnlib.neurons import Theta

    class AutodiffTheta(_layer_steps.ThetaSteps):
        def run(self, initial_state, arrival, delivered, n_active):
            return _layer_steps._scan_chunks(self, initial_state, arrival, delivered, n_active)

    steps = _layer_steps.ThetaSteps if adjoint else AutodiffTheta
    _layer_steps.layer_steps.register(Theta, lambda model, duration, max_spikes:
                                      steps(model, duration, max_spikes))
    jax.clear_caches()


def measure(network_name: str, batch: int, steps: int, generic: bool) -> dict:
    """Compile the training steps, time them alternately, profile the layered one."""
    import dataclasses

    import jax
    import jax.numpy as jnp
    import numpy as np

    from snnlib.experiments import mnist
    from snnlib.training import make_optimizer, make_train_step

    config = mnist.quick_config(n_train=batch, n_test=batch, batch_size=batch)
    (inputs, labels), _ = mnist.load_data(config)
    base = config.network
    params = load_params(network_name, base)
    optimizer = make_optimizer(4e-3, decay_steps=100 * 60)  # the paper's MNIST schedule
    args = (params, optimizer.init(params), jnp.asarray(inputs), jnp.asarray(labels),
            jax.random.PRNGKey(1))
    variants = ["layered", "layered-autodiff"] + (["generic"] if generic else [])
    rows, compiled = {}, {}
    for variant in variants:
        _use_theta_backward(adjoint=variant != "layered-autodiff")
        net = dataclasses.replace(base, simulator=variant.removesuffix("-autodiff"))
        start = time.perf_counter()
        compiled[variant] = make_train_step(net, optimizer).lower(*args).compile()
        memory = compiled[variant].memory_analysis()
        rows[variant] = {
            "compile_s": time.perf_counter() - start,
            "xla_memory_mb": (memory.temp_size_in_bytes + memory.argument_size_in_bytes
                              + memory.output_size_in_bytes) / 2**20 if memory else None,
            "step_s": [],
        }
        jax.block_until_ready(compiled[variant](*args))  # warm-up
    _use_theta_backward(adjoint=True)
    for _ in range(steps):  # alternate, so that all see the same load, ...
        for variant in variants:
            # ... each timed on its second step in a row, with the caches warm as in training
            jax.block_until_ready(compiled[variant](*args))
            start = time.perf_counter()
            jax.block_until_ready(compiled[variant](*args))
            rows[variant]["step_s"].append(time.perf_counter() - start)
    for row in rows.values():
        row["step_median_s"] = float(np.median(row["step_s"]))
        row["step_min_s"] = float(np.min(row["step_s"]))
    sums = jax.jit(base.batch_metrics)(params, *args[2:4])
    return {
        "network": network_name,
        "hidden_activity": base.summarize(jax.device_get(sums), batch)["activity"],
        "variants": rows,
        "ratio_generic_to_layered": (rows["generic"]["step_median_s"]
                                     / rows["layered"]["step_median_s"]) if generic else None,
        "ratio_autodiff_to_adjoint": (rows["layered-autodiff"]["step_median_s"]
                                      / rows["layered"]["step_median_s"]),
        "profile_layered": profile(base, params, args[2]),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--networks", nargs="+", default=["trained", "initial"],
                        choices=["trained", "initial"])
    parser.add_argument("--no-generic", action="store_true",
                        help="time the layered step only (the generic one takes seconds)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" /
                        "feedforward.json")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:  # one network per process: compile caches and peak RSS do not mix
        print(json.dumps(measure(args.child, args.batch, args.steps, not args.no_generic)))
        return
    report = {"batch": args.batch, "steps": args.steps, "dtype": "float32",
              "machine": machine(), "networks": {}}
    for name in args.networks:
        command = [sys.executable, __file__, "--child", name, "--batch", str(args.batch),
                   "--steps", str(args.steps)] + (["--no-generic"] if args.no_generic else [])
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        if done.returncode:
            raise SystemExit(done.stderr[-3000:])
        report["networks"][name] = json.loads(done.stdout.strip().splitlines()[-1])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    print(f"MNIST training step, batch {args.batch}, float32, {report['machine']['cpu']} "
          f"({report['machine']['cores']} cores); written to {args.out}")
    for name, row in report["networks"].items():
        layered = row["variants"]["layered"]
        line = (f"{name:8} network (hidden activity {row['hidden_activity']:.3f}): layered "
                f"{layered['step_median_s']:.3f} s/step (compile {layered['compile_s']:.1f} s)")
        autodiff = row["variants"]["layered-autodiff"]
        line += (f", with autodiff backward {autodiff['step_median_s']:.3f} s/step "
                 f"(adjoint speed-up {row['ratio_autodiff_to_adjoint']:.2f}x)")
        if row["ratio_generic_to_layered"] is not None:
            generic = row["variants"]["generic"]
            line += (f", generic {generic['step_median_s']:.3f} s/step (compile "
                     f"{generic['compile_s']:.1f} s): ratio {row['ratio_generic_to_layered']:.1f}x")
        print(line)
        for layer, values in row["profile_layered"].items():
            if isinstance(values, dict):
                print(f"    {layer}: fwd {values['forward_s']:.3f} s, fwd+bwd "
                      f"{values['forward_backward_s']:.3f} s, sort {values['sort_s']:.4f} s, "
                      f"inputs/trial {values['inputs_per_trial_mean']:.1f} (max "
                      f"{values['inputs_per_trial_max']}, padding "
                      f"{values['padding_fraction']:.0%})")


if __name__ == "__main__":
    main()
