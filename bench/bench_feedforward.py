"""MNIST network (layered simulator): this tree against a baseline commit, side by side.

    .venv/bin/python bench/bench_feedforward.py [--against REV] [--rounds 5] [--batch 1000]
        [--scaling] [--out PATH]

Workloads, float32, each jit-compiled once per variant (`_ab`: one worker process per
tree, timed alternately; ratios baseline / this tree):

- train_step_trained / train_step_initial: one training step (value_and_grad of the
  loss + AdaBelief, the paper's schedule) on a batch of MNIST training images, of the
  committed full-scale network results/mnist_seed0.npz and of the silent network at
  initialisation;
- forward_trained: first output spike times and layer spikes of a test batch;
- test_probe_trained: the test metrics of a test batch (`batch_metrics`);
- profile_*: where the time goes, on one micro-batch (the step simulates its batch in
  slices of `micro_batch` trials): the input product and each layer's simulation,
  forward and forward + backward, on the spikes that layer receives in the trained
  network; in this tree also the three layers with the theta layers' autodiff backward
  pass instead of the adjoint one (`ThetaAutodiffSteps`, passed to the simulator).

With --scaling (written to bench/results/feedforward_scaling.json): the training step of
the trained network against batch size; hidden width 100-400 (the trained network with
each hidden neuron replicated k times and the weights from it divided by k: the same
spikes per neuron, k times the neurons); spike activity (the first layer's weights
scaled); and the generic simulator at batch 100. Each records its hidden activity.
Not a test: run on demand (`make bench`).
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _ab import DEFAULT_AGAINST, ROOT, run_ab, serve  # noqa: E402

TRAINED = ROOT / "results" / "mnist_seed0.npz"
MNIST = ROOT / "data" / "mnist"


def trained_params(net, widen: int = 1, input_scale: float = 1.0):
    """The committed trained parameters; widen k: every hidden neuron k times, the weights
    from it divided by k (the same input to each neuron above)."""
    import jax.numpy as jnp
    import numpy as np

    if not TRAINED.exists():
        raise SystemExit(f"{TRAINED} is missing: it is committed; restore it with git")
    with np.load(TRAINED) as stored:
        n_layers = sum(name.startswith("weights_") for name in stored.files)
        weights = [np.asarray(stored[f"weights_{i}"]) for i in range(1, n_layers + 1)]
        phases = [np.asarray(stored[f"initial_phases_{i}"]) for i in range(1, n_layers + 1)]
    weights[0] = weights[0] * input_scale
    for index in range(len(weights)):
        if index < len(weights) - 1:  # rows: this layer's (hidden) neurons
            weights[index] = np.repeat(weights[index], widen, axis=0)
            phases[index] = np.repeat(phases[index], widen)
        if index > 0:  # columns: the hidden neurons below
            weights[index] = np.repeat(weights[index], widen, axis=1) / widen
    return {
        "weights": [jnp.asarray(w) for w in weights],
        "initial_phases": [jnp.asarray(p) for p in phases],
    }


def network(hidden: int = 100, simulator: str = "layered"):
    try:  # since the classification package (issue 17); the baseline tree has the old module
        from snnlib.classification import SpikingClassifier
    except ImportError:
        from snnlib.classifier import SpikingClassifier

    return SpikingClassifier(sizes=(784, hidden, hidden, 10), simulator=simulator)


def data(batch: int):
    import jax.numpy as jnp
    import numpy as np

    from snnlib.data.encoding import pixel_bins
    from snnlib.data.mnist import load_mnist

    out = []
    for split in ("train", "test"):
        images, labels = load_mnist(split, MNIST)
        out.append(
            (
                jnp.asarray(pixel_bins(images[:batch], 1)),
                jnp.asarray(labels[:batch].astype(np.int32)),
            )
        )
    return out


def train_step(net, params, bins, labels):
    import jax

    from snnlib.training import make_optimizer

    try:  # since the classification package (issue 17)
        from snnlib.classification import make_train_step
    except ImportError:
        from snnlib.training import make_train_step

    optimizer = make_optimizer(4e-3, decay_steps=100 * 60)  # the paper's MNIST schedule
    return make_train_step(net, optimizer), (
        params,
        optimizer.init(params),
        bins,
        labels,
        jax.random.PRNGKey(1),
    )


def profile_workloads(net, params, bins) -> dict:
    """Each layer alone, on the spikes it receives in the trained network (one micro-batch)."""
    import jax
    import jax.numpy as jnp

    from snnlib import _layer_steps
    from snnlib.feedforward import simulate_feedforward_batch

    bins = bins[: net.micro_batch or bins.shape[0]]
    model, duration, budget = net.model, net.duration, net.max_spikes
    layers = jax.jit(net.simulate)(params, bins)
    first = jax.jit(net.input_weights)(params, bins)
    workloads = {"profile_input_weights": (jax.jit(net.input_weights), (params, bins))}
    times = jnp.full((bins.shape[0], 1), 1e-9 * duration, first.dtype)  # the one input bin
    sources = jnp.zeros((1,), jnp.int32)

    def scalar(layers):
        return sum(
            jnp.sum(jnp.where(jnp.isfinite(x.times), x.times, 0.0)) + jnp.sum(x.final_state)
            for x in layers
        )

    for index, layer in enumerate(layers):
        weights = first if index == 0 else params["weights"][index]
        state = params["initial_phases"][index][None]

        def forward(w, t, sources=sources, state=state):
            return simulate_feedforward_batch(
                model, [w], t, sources, [state], duration, budget, throw=False
            )

        workloads[f"profile_layer{index + 1}_forward"] = (jax.jit(forward), (weights, times))
        workloads[f"profile_layer{index + 1}_forward_backward"] = (
            jax.jit(jax.grad(lambda w, t, f=forward: scalar(f(w, t)), argnums=(0, 1))),
            (weights, times),
        )
        n = layer.times.shape[-2]
        times = layer.times.reshape(bins.shape[0], -1)
        sources = jnp.repeat(jnp.arange(n), budget)

    weights = [first, *params["weights"][1:]]
    states = [p[None] for p in params["initial_phases"]]
    inputs = jnp.full((bins.shape[0], 1), 1e-9 * duration, first.dtype)

    def network_grad(steps):
        extra = {} if steps is None else {"steps": steps}
        return jax.jit(
            jax.grad(
                lambda w: scalar(
                    simulate_feedforward_batch(
                        model,
                        w,
                        inputs,
                        jnp.zeros((1,), jnp.int32),
                        states,
                        duration,
                        budget,
                        throw=False,
                        **extra,
                    )
                )
            )
        )

    workloads["profile_layers_forward_backward"] = (network_grad(None), (weights,))
    if hasattr(_layer_steps, "ThetaAutodiffSteps"):
        workloads["profile_layers_forward_backward_autodiff"] = (
            network_grad(_layer_steps.ThetaAutodiffSteps),
            (weights,),
        )
    return workloads


def activity(net, params, bins, labels) -> float:
    """Hidden spikes per neuron and image."""
    import jax

    sums = jax.device_get(jax.jit(net.batch_metrics)(params, bins, labels))
    summary = net.summarize(sums, bins.shape[0])
    # a ClassifierMetrics since issue 17 (a dict in the baseline tree)
    return summary["activity"] if isinstance(summary, dict) else summary.activity


def worker(batch: int, scaling: bool, only: list[str] | None) -> None:
    import jax

    (train_bins, train_labels), (test_bins, test_labels) = data(batch)
    net = network()
    trained = trained_params(net)
    workloads, activities = {}, {}
    if not scaling:
        for name, params in (("trained", trained), ("initial", net.init(jax.random.PRNGKey(0)))):
            workloads[f"train_step_{name}"] = train_step(net, params, train_bins, train_labels)
        # SpikingClassifier.forward since issue 17; _batch in the baseline tree
        forward = getattr(net, "forward", None) or net._batch
        workloads["forward_trained"] = (
            jax.jit(lambda p, x: forward(p, x)[0]),
            (trained, test_bins),
        )
        workloads["test_probe_trained"] = (
            jax.jit(net.batch_metrics),
            (trained, test_bins, test_labels),
        )
        if not only or any(o.startswith("profile") for o in only):
            workloads |= profile_workloads(net, trained, train_bins)
    else:
        cases = [(f"batch{b}", 100, 1.0, b, "layered") for b in (100, 300, batch)]
        cases += [(f"hidden{h}", h, 1.0, batch, "layered") for h in (200, 400)]
        cases += [(f"input_scale{s}", 100, s, batch, "layered") for s in (0.7, 0.85, 1.15)]
        cases += [("generic_batch100", 100, 1.0, 100, "generic")]
        for name, hidden, scale, size, simulator in cases:
            net = network(hidden, simulator)
            params = trained_params(net, hidden // 100, scale)
            bins, labels = train_bins[:size], train_labels[:size]
            workloads[f"train_step_{name}"] = train_step(net, params, bins, labels)
            activities[f"train_step_{name}"] = {
                "hidden": hidden,
                "batch": size,
                "input_scale": scale,
                "simulator": simulator,
                "activity": activity(network(hidden), params, bins, labels),
            }
    if only:
        workloads = {k: v for k, v in workloads.items() if any(k.startswith(o) for o in only)}
    serve(workloads, {"cases": activities})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default=DEFAULT_AGAINST, help="baseline commit")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--scaling", action="store_true")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--only", nargs="+", help="the workloads whose names start so")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.batch, args.scaling, args.only)
        return
    name = "feedforward_scaling.json" if args.scaling else "feedforward.json"
    run_ab(
        Path(__file__).resolve(),
        ["--batch", str(args.batch)]
        + (["--scaling"] if args.scaling else [])
        + (["--only", *args.only] if args.only else []),
        args.against,
        args.rounds,
        args.out or ROOT / "bench" / "results" / name,
        {"batch": args.batch, "dtype": "float32", "scaling": args.scaling},
    )


if __name__ == "__main__":
    main()
