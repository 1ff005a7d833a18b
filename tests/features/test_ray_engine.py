"""The Ray engine of vgg_extract and embed_text, run as the real stages on the small profile: the bytes of
the local engine on a local cluster, on a two-node cluster and after a worker is killed with kill -9;
one clear line for an unreachable cluster, a pool the cluster cannot hold, or workers of another
fingerprint."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psutil
import pytest

pytest.importorskip("ray", reason="the Ray engine's tests need `make ray` (requirements-ray.txt)")

from movie_genres import paths
from movie_genres.features import ray_engine
from movie_genres.features.feature_cache import FeatureCache
from movie_genres.params import RayEngineParams
from tests.dvc_repo import copy_workspace, dvc, run, set_params
from tests.ray_cluster import FEATURE_OUTPUTS, NO_AUTH, two_node_cluster

WORKER_CLASS = {"vgg_extract": "PosterWorker", "embed_text": "TextWorker"}


def ray_copy(small_profile_repo: Path, tmp_path: Path, **engine: object) -> Path:
    """A copy of the small-profile project whose feature stages run on Ray, with an empty feature cache."""
    repo = copy_workspace(small_profile_repo, tmp_path / "repo")
    values: dict[tuple[str, ...], object] = {("feature_engine", "engine"): "ray"}
    values.update({("feature_engine", "ray", key): value for key, value in engine.items()})
    values[("feature_cache", "dir")] = str(tmp_path / "cache")
    set_params(repo, values)
    return repo


def run_stage(repo: Path, stage: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    done = run([sys.executable, "-m", f"stages.{stage}"], repo, {**NO_AUTH, **(env or {})})
    return done


def assert_local_bytes(repo: Path, small_profile_repo: Path, stage: str) -> None:
    for output in FEATURE_OUTPUTS[stage]:
        assert (repo / output).read_bytes() == (small_profile_repo / output).read_bytes(), output


def node_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if "ray: node " in line]


def _cached_vectors(cache: Path) -> int:
    return sum(1 for _ in cache.glob("*/??/*"))


def _workers(name: str) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if any(name in part for part in process.info["cmdline"] or ()):
            found.append(process)
    return found


def test_a_local_cluster_with_a_worker_killed_mid_run_gives_the_local_engines_bytes(small_profile_repo, tmp_path):
    """vgg_extract on a local cluster, one of its workers killed with kill -9 mid-run: it is replaced and
    nothing is lost. (embed_text runs on the two-node cluster below.)"""
    repo = ray_copy(small_profile_repo, tmp_path, batch_size=8)
    stage = "vgg_extract"
    for output in FEATURE_OUTPUTS[stage]:
        (repo / output).unlink()
    started = subprocess.Popen(
        [sys.executable, "-m", f"stages.{stage}"],
        cwd=repo,
        env={**os.environ, **NO_AUTH, "PYTHONPATH": str(repo / "src")},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    killed = None
    deadline = time.monotonic() + 240
    while killed is None and started.poll() is None and time.monotonic() < deadline:
        workers = _workers(WORKER_CLASS[stage])
        if workers and _cached_vectors(tmp_path / "cache") >= 8:  # the pool is under way
            killed = workers[0].pid
            os.kill(killed, signal.SIGKILL)
        time.sleep(0.02)
    log, _ = started.communicate(timeout=300)
    assert killed is not None, f"no worker was seen at work:\n{log}"
    assert started.returncode == 0, log
    assert not psutil.pid_exists(killed) or psutil.Process(killed).status() == psutil.STATUS_ZOMBIE
    assert_local_bytes(repo, small_profile_repo, stage)
    assert len(node_lines(log)) == 1, log
    # DVC agrees: the engine is no dependency, and the outputs are the ones it recorded
    assert "Data and pipelines are up to date" in dvc("status", stage, cwd=repo)
    # everything is in the cache now: a rerun starts no cluster
    again = run_stage(repo, stage)
    assert again.returncode == 0 and not node_lines(again.stderr), again.stderr
    assert_local_bytes(repo, small_profile_repo, stage)


@pytest.fixture
def two_nodes(small_profile_repo, tmp_path) -> Iterator[str]:
    """A head node and a worker node on this machine, 2 logical CPUs each, ended with the test (started
    after the small profile is built, so it is not idle meanwhile)."""
    with two_node_cluster({**os.environ, **NO_AUTH, "PYTHONPATH": str(tmp_path / "repo/src")}, 2) as (address, _):
        yield address


def test_a_two_node_cluster_runs_batches_on_both_nodes_with_the_local_bytes(small_profile_repo, tmp_path, two_nodes):
    address = two_nodes
    repo = ray_copy(small_profile_repo, tmp_path, actors=2, cpus_per_actor=1, batch_size=8)
    done = run_stage(repo, "embed_text", {"RAY_ADDRESS": address})
    assert done.returncode == 0, done.stderr
    lines = node_lines(done.stderr)
    assert len(lines) == 2, done.stderr  # one line a node, each with its share of the texts
    counts = [int(line.split(" computed ")[1].split()[0]) for line in lines]
    assert all(count > 0 for count in counts) and sum(counts) == len(np.load(repo / paths.TEXT_MINILM)["movie_ids"])
    assert_local_bytes(repo, small_profile_repo, "embed_text")


def test_an_unreachable_cluster_is_one_line_naming_it(small_profile_repo, tmp_path, closed_port):
    repo = ray_copy(small_profile_repo, tmp_path)
    before = (repo / paths.TEXT_MINILM).read_bytes()
    start = time.monotonic()
    done = run_stage(repo, "embed_text", {"RAY_ADDRESS": f"127.0.0.1:{closed_port}"})
    assert time.monotonic() - start < 30
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and f"RAY_ADDRESS=127.0.0.1:{closed_port}" in errors[0], done.stderr
    assert (repo / paths.TEXT_MINILM).read_bytes() == before


def test_a_pool_a_local_cluster_cannot_hold_is_refused(monkeypatch):
    monkeypatch.setattr(ray_engine.ray, "cluster_resources", lambda: {"CPU": 2.0})
    too_big = RayEngineParams(actors=2, cpus_per_actor=1, gpus_per_actor=0, batch_size=8)
    with pytest.raises(ray_engine.RayEngineError, match="leave less than 1 of the cluster's 2 CPUs"):
        ray_engine._check_capacity(too_big, attached=False)
    ray_engine._check_capacity(too_big.model_copy(update={"cpus_per_actor": 0.5}), attached=False)
    with pytest.raises(ray_engine.RayEngineError, match="GPUs, the cluster has 0"):
        ray_engine._check_capacity(too_big.model_copy(update={"actors": 1, "gpus_per_actor": 1}), attached=False)


def test_vectors_of_another_fingerprint_are_refused(tmp_path):
    cache = FeatureCache(tmp_path, "toy", {"network": "here"}, dimension=4)
    ray_engine._check_fingerprint(cache, np.array([cache.digest] * 3))
    with pytest.raises(ray_engine.RayEngineError, match="another feature fingerprint"):
        ray_engine._check_fingerprint(cache, np.array([cache.digest, "0123456789abcdef"]))


def test_the_engine_needs_a_feature_cache():
    with pytest.raises(ray_engine.RayEngineError, match="feature_cache.dir is null"):
        ray_engine.required(None)


@pytest.mark.parametrize("address", ["nowhere", "ray://:10001", "127.0.0.1:notaport"])
def test_an_address_that_is_not_host_and_port_is_refused(address):
    with pytest.raises(ray_engine.RayEngineError, match="not HOST:PORT"):
        ray_engine._check_reachable(address)
