"""Feature vectors kept on disk by content, so a featurizer computes only the inputs it has not seen.

Layout: `<dir>/<name>-<fingerprint>/<key[:2]>/<key>`. The key is the SHA-256 of the input (a
poster's bytes, the UTF-8 of the exact text embedded); the fingerprint is the SHA-256 of everything
else that decides the vectors: the network's weights, the preprocessing settings, the source of the
code that computes them, the library versions and TensorFlow's numeric settings. Another network
or setting is another folder, so its vectors are never mixed with these, and deleting a folder drops
one network's vectors (its `fingerprint.json` says which).

One small file per vector, its float32 bytes followed by their SHA-256: at 100,000 movies that is
100,000 files of 5 KB (CNN) or 1.5 KB (MiniLM) over 256 shard folders. A new movie adds one file
(no chunk to rewrite), each file is written to a temporary name and renamed (a killed run leaves
whole entries or none, two runs at once cannot tear one), and reading 100,000 of them takes seconds,
against minutes to compute a few hundred. A file of the wrong size or checksum (truncated, flipped
bits, a stray file) counts as a miss: reported, recomputed and overwritten, never returned.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from importlib.metadata import version
from pathlib import Path
from types import ModuleType

import numpy as np

from movie_genres.files import atomic_path

log = logging.getLogger(__name__)

DTYPE = np.dtype("<f4")
CHUNK_BYTES = 64 * 1024**2  # cached_row_chunks' rows at a time: memory stays flat however many inputs
_CHECKSUM_BYTES = hashlib.sha256().digest_size

# Computes the rows of the inputs at the given positions; returns the positions it could describe
# (an input may be unusable, such as an unreadable poster) and their rows, in that order.
Compute = Callable[[list[int]], tuple[list[int], np.ndarray]]


def content_key(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def arrays_digest(arrays: Iterable[np.ndarray]) -> str:
    """One digest of the arrays' shapes, types and values (a network's weights)."""
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def code_digest(*modules: ModuleType) -> str:
    """The source of the modules that compute the vectors: any edit to them may change the numbers."""
    digest = hashlib.sha256()
    for module in modules:
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()


def tensorflow_runtime(*packages: str) -> dict[str, object]:
    """What decides TensorFlow's numbers besides the network: versions, oneDNN settings, the device kind."""
    from movie_genres.tf_runtime import NUMERIC_SETTINGS

    return {
        "versions": {name: version(name) for name in ("tensorflow", "keras", *packages)},
        "environment": {name: os.environ.get(name) for name in NUMERIC_SETTINGS},
        "gpu": gpu_kind(),
    }


def gpu_kind() -> str | None:
    """The GPU that computes (Keras places a model on the first one TensorFlow sees), or None: the CPU.

    Its kind, not how many there are: a Ray actor sees only the GPU it was given, while the process that
    started the stage may see all of the machine's, and both must name the same fingerprint.
    """
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return None
    details = tf.config.experimental.get_device_details(gpus[0])
    capability = ".".join(str(part) for part in details.get("compute_capability", ()))
    return f"{details.get('device_name', 'unnamed GPU')} (compute capability {capability or 'unknown'})"


def _described(fingerprint: dict[str, object]) -> str:
    return json.dumps(fingerprint, indent=2, sort_keys=True)


def fingerprint_digest(fingerprint: dict[str, object]) -> str:
    """The short digest that names a fingerprint's folder: equal digests, equal settings."""
    return hashlib.sha256(_described(fingerprint).encode()).hexdigest()[:16]


class FeatureCache:
    """The vectors of one network under one set of settings, keyed by their input's content key."""

    def __init__(self, root: Path, name: str, fingerprint: dict[str, object], dimension: int) -> None:
        self.digest = fingerprint_digest(fingerprint)
        described = _described(fingerprint)
        self.folder = Path(root) / f"{name}-{self.digest}"
        self.dimension = dimension
        self._size = dimension * DTYPE.itemsize
        description = self.folder / "fingerprint.json"
        if not description.is_file():
            with atomic_path(description) as partial:
                partial.write_text(described + "\n")

    def path(self, key: str) -> Path:
        return self.folder / key[:2] / key

    def lookup(self, keys: Sequence[str]) -> list[np.ndarray | None]:
        """The cached vector of each key, None where there is none or it is damaged."""
        found: list[np.ndarray | None] = []
        damaged: list[str] = []
        for key in keys:
            try:
                data = self.path(key).read_bytes()
            except FileNotFoundError:
                found.append(None)
                continue
            vector = self._checked(data)
            if vector is None:
                damaged.append(key)
            found.append(vector)
        hits = sum(vector is not None for vector in found)
        log.info("feature cache %s: %d of %d found, %d to compute", self.folder, hits, len(keys), len(keys) - hits)
        if damaged:
            log.warning(
                "%d damaged entries in %s (wrong size or checksum, e.g. %s): computed again and rewritten",
                len(damaged),
                self.folder,
                self.path(damaged[0]).name,
            )
        return found

    def store(self, keys: Sequence[str], rows: np.ndarray) -> None:
        for key, row in zip(keys, rows, strict=True):
            data = np.ascontiguousarray(row, DTYPE).tobytes()
            if len(data) != self._size:
                raise ValueError(f"a vector of {len(row)} values for a cache of {self.dimension}")
            with atomic_path(self.path(key)) as partial:
                partial.write_bytes(data + hashlib.sha256(data).digest())

    def _checked(self, data: bytes) -> np.ndarray | None:
        vector, checksum = data[: self._size], data[self._size :]
        if len(vector) != self._size or hashlib.sha256(vector).digest() != checksum:
            return None
        return np.frombuffer(vector, DTYPE)


def cached_rows(
    cache: FeatureCache | None, keys: Sequence[str], compute: Compute, dimension: int
) -> tuple[list[int], np.ndarray]:
    """The rows of the inputs `keys` name: from the cache where it has them, the others computed and stored.

    Returns the positions that have a row, in order, and the rows. Without a cache every input is
    computed, the same way: the rows are the same bytes with a cache or without, warm or cold, as
    long as `compute` gives each input the same row whatever else it computes at the same time.
    """
    found = cache.lookup(keys) if cache is not None else [None] * len(keys)
    positions, rows = compute([i for i, row in enumerate(found) if row is None])
    if cache is not None:
        cache.store([keys[i] for i in positions], rows)
    for position, row in zip(positions, rows, strict=True):
        found[position] = row
    kept = [(i, row) for i, row in enumerate(found) if row is not None]
    matrix = np.stack([row for _, row in kept], dtype=DTYPE) if kept else np.zeros((0, dimension), DTYPE)
    return [i for i, _ in kept], matrix


def cached_row_chunks(
    cache: FeatureCache | None, keys: Sequence[str], compute: Compute, dimension: int, chunk_size: int | None = None
) -> Iterator[tuple[list[int], np.ndarray]]:
    """`cached_rows` of `keys`, a chunk at a time (CHUNK_BYTES of rows unless `chunk_size` is given):
    each chunk's positions (into `keys`) that have a row, and their rows. The rows are the same bytes
    as one `cached_rows` call gives, for the reason it states; memory holds one chunk.
    """
    size = chunk_size or max(1, CHUNK_BYTES // (dimension * DTYPE.itemsize))
    for start in range(0, len(keys), size):

        def compute_chunk(positions: list[int], start: int = start) -> tuple[list[int], np.ndarray]:
            done, rows = compute([start + position for position in positions])
            return [position - start for position in done], rows

        positions, rows = cached_rows(cache, keys[start : start + size], compute_chunk, dimension)
        yield [start + position for position in positions], rows
