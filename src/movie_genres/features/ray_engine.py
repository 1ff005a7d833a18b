"""The Ray engine of vgg_extract and embed_text (`feature_engine.engine: ray`): the vectors the feature
cache lacks, computed by a Ray Data actor pool on a cluster, then assembled by the stage as usual.

The stage's driver writes the inputs the cache lacks (poster files or texts, by content key) to
Parquet files, and Ray Data streams them to a pool of actors: each actor builds the stage's network
once and runs the stage's own code on its batches (`poster_features.run_network`,
`SentenceEncoder.encode`). The vectors stream back to the driver, which stores them in the feature
cache as they arrive; the stage then reads every vector from the cache with its usual code. So the
outputs are the same bytes as `engine: local`: a poster's features and a text's embedding do not
depend on which other inputs share their batch (full batches of the stage's batch size; see
`poster_features.poster_fingerprint` and `sentence_encoder.LENGTH_STEP`), and each actor states the
fingerprint it computed under (network weights, code, library versions, the GPU's kind): vectors of
another fingerprint than the driver's are refused, never filed under the wrong settings.

Failures: Ray restarts a killed actor and retries its batch (Ray Data's default for actor pools);
a vector already stored is not lost, and a rerun computes only what the cache still lacks.

Priority and threads: Ray starts its worker processes at nice 15 (`RAY_worker_niceness`), so that
they yield to its own processes; on a machine shared with other work (another stage, a `dvc repro`)
the pool then got a small share of the CPUs: vgg_extract on the bundled posters beside one busy
nice-0 process took 364 s on Ray, 176 s local (2 cores), and 177 s on Ray with its workers at nice 0.
`engine: local` runs at the stage's own priority, and so do the stage's Ray workers now: nice 0
(`WORKER_ENV`, the job's runtime environment: every actor and read task of the stage, on a local
or an attached cluster). Threads: an actor computes on every core of its node, as the local stage
does on its machine (a batch on each core the process may run on, each op on its caller's thread,
tf_runtime); Ray's `OMP_NUM_THREADS` (the actor's reserved CPUs, 1 by default) changes nothing
there: TensorFlow's pip build runs oneDNN on its own threads, not OpenMP, and a poster's or text's
vector is the same bits with 1, 2 or 4 intra-op threads. So `cpus_per_actor` is
what Ray reserves for scheduling; one actor a node (`SPREAD`) uses the node as the local stage would.
"""

from __future__ import annotations

import itertools
import logging
import os
import socket
import tempfile
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import ray
import ray.data
from pydantic import BaseModel

from movie_genres.errors import UserError
from movie_genres.features.feature_cache import FeatureCache, fingerprint_digest
from movie_genres.parallel import usable_cores
from movie_genres.params import RayEngineParams

log = logging.getLogger(__name__)

ADDRESS_VARIABLE = "RAY_ADDRESS"
CONNECT_TIMEOUT_S = 10
READ_CPUS = 1  # Ray Data's read tasks take one CPU each: the actors must leave one free, or the pool waits forever
INPUT_FILE_BATCHES = 16  # batches per input file: the files are read in parallel, one task each
PROGRESS_STEPS = 10  # log lines while the pool works
# The environment of the stage's Ray workers (see the module docstring): the priority of a stage process.
WORKER_ENV = {"RAY_worker_niceness": "0"}


class RayEngineError(UserError):
    """The Ray cluster cannot be reached, is too small for the pool, or computes other bits."""


def connect(params: RayEngineParams) -> None:
    """Attach to the cluster in RAY_ADDRESS when it is set, else start a local one sized to this machine."""
    address = os.environ.get(ADDRESS_VARIABLE)
    if address and address != "auto":
        _check_reachable(address)
    try:
        runtime_env = {"env_vars": WORKER_ENV}  # merged with a submitted job's own (`ray job submit`)
        if address:
            ray.init(address=address, runtime_env=runtime_env)
        else:
            # "local": a new cluster, never one some other process left running on this machine
            cpus = usable_cores()
            ray.init(address="local", num_cpus=cpus, include_dashboard=False, runtime_env=runtime_env)
    except ConnectionError as err:
        raise RayEngineError(f"{ADDRESS_VARIABLE}={address}: no Ray cluster answered ({err})") from err
    _check_capacity(params, attached=bool(address))


def _check_reachable(address: str) -> None:
    """A clear error within seconds where `ray.init` would retry for a minute or more."""
    parsed = urlparse(address if "://" in address else f"ray://{address}")
    try:
        host, port = parsed.hostname, parsed.port
    except ValueError:
        host, port = None, None
    if not host or not port:
        raise RayEngineError(f"{ADDRESS_VARIABLE}={address}: not HOST:PORT (e.g. 127.0.0.1:6379) or auto")
    try:
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as err:
        raise RayEngineError(
            f"{ADDRESS_VARIABLE}={address}: no Ray cluster there ({err}); start one (`ray start --head`) "
            f"or unset {ADDRESS_VARIABLE} to run on a local one"
        ) from err


def _check_capacity(params: RayEngineParams, attached: bool) -> None:
    """Refuse a pool the cluster cannot hold: Ray Data would wait for resources without a word."""
    resources = ray.cluster_resources()
    cpus, gpus = resources.get("CPU", 0.0), resources.get("GPU", 0.0)
    problems = []
    if params.actors * params.cpus_per_actor > cpus - READ_CPUS:
        problems.append(
            f"{params.actors} actors x {params.cpus_per_actor} CPUs leave less than {READ_CPUS} of the "
            f"cluster's {cpus:g} CPUs for reading the inputs"
        )
    if params.actors * params.gpus_per_actor > gpus:
        problems.append(f"{params.actors} actors x {params.gpus_per_actor} GPUs, the cluster has {gpus:g}")
    if not problems:
        return
    advice = "lower feature_engine.ray.actors, cpus_per_actor or gpus_per_actor"
    if attached:  # an autoscaling cluster may add nodes when the pool asks
        log.warning("the Ray cluster is too small for the pool now: %s (%s)", "; ".join(problems), advice)
        return
    raise RayEngineError(f"the local Ray cluster is too small for the pool: {'; '.join(problems)}: {advice}")


def required(cache: FeatureCache | None) -> FeatureCache:
    if cache is None:
        raise RayEngineError(
            "feature_engine.engine: ray stores what the cluster computes in the feature cache, "
            "but feature_cache.dir is null: set it (e.g. data/feature_cache)"
        )
    return cache


def compute(
    cache: FeatureCache,
    items: Iterable[tuple[str, bytes | str]],
    worker: type[Worker],
    params: BaseModel,
    engine: RayEngineParams,
    what: str,
) -> None:
    cache.folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".ray-input-", dir=cache.folder) as folder:
        count = _write_missing(cache, items, Path(folder), engine.batch_size)
        if count == 0:
            return
        connect(engine)
        try:
            _run_pool(cache, Path(folder), count, worker, params, engine, what)
        finally:
            ray.shutdown()


def _write_missing(cache: FeatureCache, items: Iterable[tuple[str, bytes | str]], folder: Path, batch: int) -> int:
    """Write the distinct inputs the cache lacks to Parquet files in `folder`, a file at a time (memory
    stays bounded however many inputs); return how many."""
    seen: set[str] = set()
    written = 0
    for number, chunk in enumerate(_chunks(iter(items), batch * INPUT_FILE_BATCHES)):
        fresh = dict(item for item in chunk if item[0] not in seen)
        seen.update(fresh)
        missing = [key for key, vector in zip(fresh, cache.lookup(list(fresh)), strict=True) if vector is None]
        if missing:
            table = pa.table({"key": missing, "input": [fresh[key] for key in missing]})
            pq.write_table(table, folder / f"part-{number:05d}.parquet", row_group_size=batch)
            written += len(missing)
    return written


def _chunks(items: Iterator[tuple[str, bytes | str]], size: int) -> Iterator[list[tuple[str, bytes | str]]]:
    while chunk := list(itertools.islice(items, size)):
        yield chunk


def _run_pool(
    cache: FeatureCache,
    folder: Path,
    count: int,
    worker: type[Worker],
    params: BaseModel,
    engine: RayEngineParams,
    what: str,
) -> None:
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # the driver logs its own progress, one line a step
    # Ray Data joins a task's outputs into blocks of up to 128 MiB: the vectors would reach the driver (and
    # the cache) only at the end. Blocks of about one batch stream them back as each batch is done.
    context.target_max_block_size = 2 * engine.batch_size * cache.dimension * 4
    with warnings.catch_warnings():
        # local:// reads the input files on the driver's node, where the stage wrote them, whatever the
        # cluster; Ray 2.60 warns that it will ask for shared storage instead after January 2027.
        warnings.filterwarnings("ignore", message=".*local://.*")
        dataset = ray.data.read_parquet(f"local://{folder.resolve()}")
    dataset = dataset.map_batches(
        worker,
        fn_constructor_args=(params,),
        batch_size=engine.batch_size,
        compute=ray.data.ActorPoolStrategy(size=engine.actors),
        num_cpus=engine.cpus_per_actor,
        num_gpus=engine.gpus_per_actor or None,
        scheduling_strategy="SPREAD",  # one actor a node before two on one: every node works
    )
    rows = Counter[str]()
    calls: set[tuple[str, str]] = set()  # (node, actor call): a batch retried after a kill counts again
    done = 0
    step = max(1, count // PROGRESS_STEPS)
    batch: dict[str, np.ndarray]
    for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):  # type: ignore[assignment]
        _check_fingerprint(cache, batch["fingerprint"])
        cache.store(batch["key"].tolist(), batch["vector"])
        rows.update(batch["node"].tolist())
        calls.update(zip(batch["node"].tolist(), batch["call"].tolist(), strict=True))
        if (done + len(batch["key"])) // step > done // step:
            log.info("ray: %d of %d %s computed", done + len(batch["key"]), count, what)
        done += len(batch["key"])
    batches = Counter(node for node, _ in calls)
    for node in sorted(rows):
        log.info("ray: node %s computed %d %s in %d batches", node, rows[node], what, batches[node])


def _check_fingerprint(cache: FeatureCache, digests: np.ndarray) -> None:
    other = {str(d) for d in digests} - {cache.digest}
    if other:
        raise RayEngineError(
            f"the Ray workers compute under another feature fingerprint ({', '.join(sorted(other))}) than "
            f"this process ({cache.digest}): another library version, oneDNN setting or a GPU there, so "
            "other bits; run the stage on a machine set up like the workers (e.g. `ray job submit -- dvc "
            "repro` on the cluster's head node, with the workers' GPU kind and requirements)"
        )


class Worker:
    """What every actor answers besides its vectors: the fingerprint it computed under, and where."""

    def __init__(self, fingerprint: dict[str, object]) -> None:
        self.digest = fingerprint_digest(fingerprint)
        self.node = ray.get_runtime_context().get_node_id()
        self.calls = itertools.count()

    def answer(self, keys: np.ndarray, vectors: np.ndarray) -> dict[str, np.ndarray]:
        call = f"{os.getpid()}-{next(self.calls)}"
        tags = {"fingerprint": self.digest, "node": self.node, "call": call}
        return {"key": keys, "vector": vectors, **{name: np.full(len(keys), tag) for name, tag in tags.items()}}
