"""Several processes as one data-parallel training: JAX's multi-controller runtime.

Every process runs the same program on its share of each batch (`snnlib._placement`);
gradients are reduced by XLA's collectives (gloo between CPU processes, NCCL between
GPUs), so the parameters stay identical in all processes and equal, up to the order of
floating-point sums, to those of one process. Process 0 writes checkpoints and results.

On a cluster, start one process per host (or per accelerator) with

    snnlib reproduce mnist --coordinator HOST:PORT --num-processes P --process-id I

(the launcher's rank as I, the address of rank 0 as HOST). On one machine,
`--processes P` starts the P local processes itself (`launch_local`).
"""

import math
import os
import socket
import subprocess
import sys
import time
from collections.abc import Sequence

import jax

DEFAULT_TIMEOUT_S = 60


class CoordinatorError(RuntimeError):
    """The distributed runtime could not be formed (coordinator unreachable, or the other
    processes did not join in time)."""


def parse_coordinator(coordinator: str) -> tuple[str, int]:
    """(host, port) of "HOST:PORT" (IPv6 hosts in brackets, "[::1]:1234"); ValueError
    naming --coordinator otherwise (checked before JAX sees the address)."""
    host, sep, port = str(coordinator).rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(
            f"--coordinator must be HOST:PORT with a port in 1..65535 (e.g. "
            f"127.0.0.1:1234), got {coordinator!r}"
        )
    return host, int(port)


def _wait_for(host: str, port: int, timeout_s: float) -> None:
    """Return once a TCP connection to host:port succeeds; CoordinatorError after
    timeout_s seconds."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection((host, port), timeout=min(5.0, timeout_s)):
                return
        except OSError as error:
            if time.monotonic() > deadline:
                raise CoordinatorError(
                    f"could not reach the coordinator {host}:{port} within {timeout_s:g} s "
                    f"({error}): start process 0 (--process-id 0) first on that host, check "
                    "the address and the firewall, or raise --coordinator-timeout"
                ) from None
            time.sleep(0.5)


def initialize(
    coordinator: str, num_processes: int, process_id: int, timeout_s: float = DEFAULT_TIMEOUT_S
) -> None:
    """Join the distributed runtime as process `process_id` of `num_processes`, waiting at
    most timeout_s seconds for the coordinator and the other processes (else
    CoordinatorError with the reason; ValueError for a malformed address or id).

    Call before any other JAX computation. CPU processes exchange data with gloo; the
    setting is ignored on GPUs, so the same call serves both.
    """
    if not 0 <= process_id < num_processes:
        raise ValueError(
            f"process_id (--process-id) must lie in 0..{num_processes - 1} ("
            f"num_processes={num_processes}), got {process_id}"
        )
    if not timeout_s > 0:
        raise ValueError(f"--coordinator-timeout must be > 0 seconds, got {timeout_s}")
    host, port = parse_coordinator(coordinator)
    if process_id > 0:
        _wait_for(host, port, timeout_s)
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    try:
        jax.distributed.initialize(
            coordinator_address=f"{host}:{port}",
            num_processes=num_processes,
            process_id=process_id,
            initialization_timeout=max(1, math.ceil(timeout_s)),
        )
    except Exception as error:  # JAX's RPC errors (DEADLINE_EXCEEDED, UNAVAILABLE, ...)
        raise CoordinatorError(
            f"process {process_id} of {num_processes} could not join the distributed runtime "
            f"at {host}:{port} within {timeout_s:g} s: {str(error).splitlines()[0][:300]} "
            "(are all --num-processes processes started, with distinct --process-id?)"
        ) from error


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now (for a local coordinator)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def launch_local(
    num_processes: int,
    command: Sequence[str],
    env: dict | None = None,
    timeout_s: float | None = None,
) -> int:
    """Run `command` (argv after the interpreter, e.g. ["-m", "snnlib.cli", ...]) as
    `num_processes` local processes on 127.0.0.1, appending --coordinator, --num-processes
    and --process-id; return the first non-zero exit status, else 0.

    If one process fails, the others are stopped (they would wait for it forever).
    """
    if num_processes < 1:
        raise ValueError(f"num_processes must be >= 1, got {num_processes}")
    coordinator = f"127.0.0.1:{free_port()}"
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                *command,
                "--coordinator",
                coordinator,
                "--num-processes",
                str(num_processes),
                "--process-id",
                str(rank),
            ],
            env=env or os.environ.copy(),
        )
        for rank in range(num_processes)
    ]
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    status = 0
    try:
        while any(p.poll() is None for p in processes):
            failed = [p.returncode for p in processes if p.returncode not in (None, 0)]
            if failed or (deadline is not None and time.monotonic() > deadline):
                status = failed[0] if failed else 124
                break
            time.sleep(0.2)
    finally:
        for p in processes:
            if p.poll() is None:
                p.terminate()
        for p in processes:
            p.wait()
    return status or next((p.returncode for p in processes if p.returncode), 0)
