"""Single-neuron experiment (generic simulator): this tree against a baseline commit.

    .venv/bin/python bench/bench_single_neuron.py [--against REV] [--rounds 5] [--trials 100]

Workload (float64, `_ab`: one worker process per tree, timed alternately; ratios
baseline / this tree): a chunk of --trials training trials of the paper's instance (a
QIF neuron, K = 25 events: simulate, output spike times, loss, gradient, clipped SGD) in
one jit-compiled `lax.scan`, as `single_neuron.train` runs them; and the simulation of
one trial alone. Written to bench/results/single_neuron.json. Not a test: run on demand
(`make bench`).
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _ab import DEFAULT_AGAINST, ROOT, run_ab, serve  # noqa: E402


def worker(trials: int) -> None:
    import jax

    jax.config.update("jax_enable_x64", True)  # the experiment computes in float64
    import jax.numpy as jnp
    import optax

    from snnlib.experiments import single_neuron

    config = single_neuron.SingleNeuronConfig()
    # make_instance and SingleNeuronConfig.optimizer since issue 17 (the baseline tree has
    # make_task and make_optimizer)
    task = getattr(single_neuron, "make_instance", None) or single_neuron.make_task
    task = task(config)
    loss_and_grad = jax.value_and_grad(single_neuron.make_loss(config, task), has_aux=True)
    if hasattr(config, "optimizer"):
        optimizer = config.optimizer()
    else:
        optimizer = single_neuron.make_optimizer(config)
    params = {k: jnp.asarray(v) for k, v in task.initial_params.items()}

    def trial(carry, _):
        params, opt_state = carry
        (loss, _aux), grads = loss_and_grad(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), loss

    chunk = jax.jit(lambda p, s: jax.lax.scan(trial, (p, s), None, length=trials))
    _, simulate_trial = single_neuron.make_trial_function(config, task)
    serve(
        {
            f"train_{trials}_trials": (chunk, (params, optimizer.init(params))),
            "simulate_one_trial": (jax.jit(simulate_trial), (params,)),
        },
        {},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default=DEFAULT_AGAINST, help="baseline commit")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument(
        "--out", type=Path, default=ROOT / "bench" / "results" / "single_neuron.json"
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.trials)
        return
    run_ab(
        Path(__file__).resolve(),
        ["--trials", str(args.trials)],
        args.against,
        args.rounds,
        args.out,
        {"trials": args.trials, "dtype": "float64"},
    )


if __name__ == "__main__":
    main()
