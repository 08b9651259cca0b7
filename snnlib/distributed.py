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

import os
import socket
import subprocess
import sys
import time
from collections.abc import Sequence

import jax


def initialize(coordinator: str, num_processes: int, process_id: int,
               timeout_s: int = 300) -> None:
    """Join the distributed runtime as process `process_id` of `num_processes`.

    Call before any other JAX computation. CPU processes exchange data with gloo; the
    setting is ignored on GPUs, so the same call serves both.
    """
    if not 0 <= process_id < num_processes:
        raise ValueError(f"process_id must lie in 0..{num_processes - 1}, got {process_id}")
    if ":" not in coordinator:
        raise ValueError(f"coordinator must be HOST:PORT, got {coordinator!r}")
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(coordinator_address=coordinator, num_processes=num_processes,
                               process_id=process_id, initialization_timeout=timeout_s)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now (for a local coordinator)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def launch_local(num_processes: int, command: Sequence[str], env: dict | None = None,
                 timeout_s: float | None = None) -> int:
    """Run `command` (argv after the interpreter, e.g. ["-m", "snnlib.cli", ...]) as
    `num_processes` local processes on 127.0.0.1, appending --coordinator, --num-processes
    and --process-id; return the first non-zero exit status, else 0.

    If one process fails, the others are stopped (they would wait for it forever).
    """
    if num_processes < 1:
        raise ValueError(f"num_processes must be >= 1, got {num_processes}")
    coordinator = f"127.0.0.1:{free_port()}"
    processes = [
        subprocess.Popen([sys.executable, *command, "--coordinator", coordinator,
                          "--num-processes", str(num_processes), "--process-id", str(rank)],
                         env=env or os.environ.copy())
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
