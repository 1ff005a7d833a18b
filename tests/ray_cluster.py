"""Ray clusters on this machine for the Ray engine's tests and `bench/ray_engine.py`: the feature stages'
outputs they compare, and a two-node cluster each caller starts and stops itself (never `ray stop`,
which ends every Ray process of the machine)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from movie_genres import paths

# What vgg_extract and embed_text write: the files compared byte for byte between the engines.
FEATURE_OUTPUTS = {
    "vgg_extract": [
        paths.POSTER_FEATURES,
        paths.POSTER_FEATURES_SKIPPED,
        paths.featurizer_settings(paths.POSTER_FEATURES),
    ],
    "embed_text": [paths.TEXT_MINILM, paths.featurizer_settings(paths.TEXT_MINILM)],
}
NO_AUTH = {"RAY_AUTH_MODE": "disabled"}  # clusters on loopback, ended by whoever started them


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def two_node_cluster(
    env: dict[str, str], cpus_per_node: int, log_dir: Path | None = None
) -> Iterator[tuple[str, list[int]]]:
    """A head node and a worker node of `cpus_per_node` logical CPUs each: (address, the nodes' pids).

    Each `ray start --block` leads its own process group, which holds its node's processes; ending the
    groups ends this cluster only. With `log_dir`, each node's output goes to ray-node-<n>.log there.
    """
    port = free_port()
    address = f"127.0.0.1:{port}"
    ray_cli = str(Path(sys.executable).parent / "ray")
    common = [f"--num-cpus={cpus_per_node}", "--num-gpus=0", "--block", "--disable-usage-stats"]
    commands = [
        [ray_cli, "start", "--head", f"--port={port}", "--include-dashboard=false", *common],
        [ray_cli, "start", f"--address={address}", *common],
    ]
    nodes: list[subprocess.Popen] = []
    with contextlib.ExitStack() as logs:
        try:
            for number, command in enumerate(commands, 1):
                out = subprocess.DEVNULL
                if log_dir is not None:
                    out = logs.enter_context(open(log_dir / f"ray-node-{number}.log", "wb"))
                nodes.append(
                    subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
                )
                wait_for_nodes(address, number, env)
            yield address, [node.pid for node in nodes]
        finally:
            _stop(nodes)


def wait_for_nodes(address: str, count: int, env: dict[str, str], timeout_s: float = 120) -> None:
    probe = f"import ray; ray.init(address='{address}', logging_level='ERROR'); print(len(ray.nodes()))"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
        if done.returncode == 0 and done.stdout.strip().splitlines()[-1:] == [str(count)]:
            return
        time.sleep(1)
    raise RuntimeError(f"the cluster at {address} did not reach {count} nodes in {timeout_s:.0f} s")


def _stop(nodes: list[subprocess.Popen]) -> None:
    """End each node's process group: `ray start --block` and every process of its node. A throwaway cluster
    on loopback: a short grace, then SIGKILL (its graceful shutdown took 33 s, the tests' slowest teardown)."""
    for node in reversed(nodes):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(node.pid, signal.SIGTERM)
    deadline = time.monotonic() + 3
    for node in reversed(nodes):
        with contextlib.suppress(subprocess.TimeoutExpired):
            node.wait(timeout=max(0.0, deadline - time.monotonic()))
        with contextlib.suppress(ProcessLookupError):
            os.killpg(node.pid, signal.SIGKILL)  # the group's other processes too, whether its leader ended or not
        node.wait()
