"""Checks of the flags of ``snnlib reproduce``: every flag either applies to the chosen
reproduction or is refused before anything runs, with a message naming the flag as the
user typed it and a value that works."""

import argparse
from typing import Any


class FlagError(ValueError):
    """A command-line flag that does not apply, or has a value out of range."""


def _divisors(n: int, limit: int = 16) -> str:
    return ", ".join(str(d) for d in range(1, min(n, limit) + 1) if n % d == 0)


def check_reproduce_flags(args: argparse.Namespace, reproduction: Any) -> None:
    """FlagError unless every flag of args applies to `reproduction` (a `Reproduction` of
    `snnlib.experiments._experiment`: its name, variants and `Experiment`)."""
    name, experiment = reproduction.name, reproduction.experiment
    if args.seeds is not None:
        if not reproduction.takes_seeds:
            raise FlagError(
                f"--seeds does not apply to {name} (it reproduces the paper's one "
                "instance): drop --seeds"
            )
        negative = [seed for seed in args.seeds if seed < 0]
        if negative:
            raise FlagError(f"--seeds must be integers >= 0, got {negative[0]}")
        if len(set(args.seeds)) != len(args.seeds):
            raise FlagError(f"--seeds lists a seed twice: {' '.join(map(str, args.seeds))}")
    if args.epochs is not None:
        if not experiment.takes_length:
            raise FlagError(
                f"--epochs does not apply to {name} (it has no epochs or trials; "
                "--quick chooses the smaller run): drop --epochs"
            )
        if args.epochs < 1:
            raise FlagError(
                f"--epochs must be >= 1 (the number of {experiment.size_label} "
                f"of {name}), got {args.epochs}"
            )
    if args.force and not args.promote:
        raise FlagError("--force applies only with --promote: add --promote, or drop --force")
    if args.results_dir is not None and not args.promote:
        raise FlagError(
            "--results-dir applies only with --promote: add --promote, or drop --results-dir"
        )
    _check_processes(args, reproduction)


def _check_processes(args: argparse.Namespace, reproduction: Any) -> None:
    if args.processes < 1:
        raise FlagError(f"--processes must be >= 1, got {args.processes}")
    if args.num_processes < 1:
        raise FlagError(f"--num-processes must be >= 1, got {args.num_processes}")
    if args.coordinator_timeout is not None and not args.coordinator_timeout > 0:
        raise FlagError(
            f"--coordinator-timeout must be > 0 seconds, got {args.coordinator_timeout}"
        )
    if args.coordinator is None:
        if args.num_processes > 1:
            raise FlagError(
                f"--num-processes {args.num_processes} needs --coordinator "
                "HOST:PORT (process 0's address); on one machine use --processes "
                f"{args.num_processes} instead"
            )
        if args.process_id != 0:
            raise FlagError("--process-id applies only with --coordinator and --num-processes")
        if args.coordinator_timeout is not None:
            raise FlagError("--coordinator-timeout applies only with --coordinator")
    else:
        if args.processes > 1:
            raise FlagError(
                "--processes starts its own local coordinator: drop either "
                "--processes or --coordinator"
            )
        from .distributed import parse_coordinator

        try:
            parse_coordinator(args.coordinator)
        except ValueError as error:
            raise FlagError(str(error)) from None
        if not 0 <= args.process_id < args.num_processes:
            raise FlagError(
                f"--process-id must lie in 0..{args.num_processes - 1} "
                f"(--num-processes {args.num_processes}), got {args.process_id}"
            )
    count = max(args.processes, args.num_processes)
    experiment = reproduction.experiment
    if count > 1 and not experiment.multi_process:
        flag = "--processes" if args.processes > 1 else "--num-processes"
        raise FlagError(f"{reproduction.name} runs in one process: drop {flag}")
    if count > 1 and experiment.batch_size is not None:
        batch = experiment.batch_size(args.quick)
        if batch % count:
            flag = "--processes" if args.processes > 1 else "--num-processes"
            raise FlagError(
                f"{flag} {count} does not divide the batch size {batch} of "
                f"{reproduction.name}{' --quick' if args.quick else ''} (each "
                f"process takes an equal share): use {flag} one of "
                f"{_divisors(batch)}"
            )
