"""Feature matrices on disk: rows tied to the movie ids they describe, dense or sparse."""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import scipy.sparse as sp

from movie_genres.files import atomic_path

# A dense feature file is read this many bytes of rows at a time (read_rows).
CHUNK_BYTES = 16 * 1024**2


def row_positions(stored_ids: np.ndarray, movie_ids: np.ndarray) -> np.ndarray:
    """Where each of `movie_ids` is among `stored_ids`; every id must be present."""
    position = {movie_id: i for i, movie_id in enumerate(stored_ids.tolist())}
    missing = [m for m in movie_ids.tolist() if m not in position]
    if missing:
        raise KeyError(f"{len(missing)} movies have no features, e.g. {missing[:5]}")
    return np.array([position[m] for m in movie_ids.tolist()], dtype=np.int64)


@dataclass
class Features:
    movie_ids: np.ndarray
    matrix: np.ndarray | sp.csr_matrix

    def rows(self, movie_ids: np.ndarray) -> np.ndarray | sp.csr_matrix:
        """The rows of the given movies, in that order; every id must be present."""
        return self.matrix[row_positions(self.movie_ids, movie_ids)]


def join_columns(blocks: list[Any]) -> Any:
    """Feature blocks side by side: sparse if any block is sparse, else dense float32."""
    if len(blocks) == 1:
        return blocks[0]
    if any(sp.issparse(b) for b in blocks):
        return sp.hstack(blocks).tocsr()
    return np.hstack(blocks).astype(np.float32)


def save_features(path: Path, features: Features) -> None:
    matrix = features.matrix
    with atomic_path(path) as partial, open(partial, "wb") as f:  # a file object: numpy appends no `.npz`
        if sp.issparse(matrix):
            csr = sp.csr_matrix(matrix)
            np.savez(
                f, movie_ids=features.movie_ids, data=csr.data, indices=csr.indices, indptr=csr.indptr, shape=csr.shape
            )
        else:
            np.savez(f, movie_ids=features.movie_ids, dense=matrix)


def load_features(path: Path) -> Features:
    with np.load(path) as npz:
        if "dense" in npz:
            return Features(npz["movie_ids"], npz["dense"])
        matrix = sp.csr_matrix((npz["data"], npz["indices"], npz["indptr"]), shape=tuple(npz["shape"]))
        return Features(npz["movie_ids"], matrix)


def read_rows(paths: Sequence[Path], movie_ids: np.ndarray) -> Any:
    """The rows of `movie_ids`, in that order, of feature files joined column-wise: `join_columns` of
    each file's `rows`, without holding whole files and their copies in memory.

    Dense files are read a chunk of rows at a time straight into the result (several dense files
    into one float32 array, side by side), so memory holds the result and one chunk. Sparse files
    are read whole: the overview's words and the details take a few dozen values a movie.
    """
    headers = [_dense_header(path) for path in paths]
    if len(paths) > 1 and all(header is not None for header in headers):
        widths = [header.shape[1] for header in headers if header is not None]
        joined = np.empty((len(movie_ids), sum(widths)), dtype=np.float32)
        for path, start, width in zip(paths, np.cumsum([0, *widths]), widths):
            _read_dense_rows(path, movie_ids, joined[:, start : start + width])
        return joined
    return join_columns(
        [
            load_features(path).rows(movie_ids)
            if header is None
            else _read_dense_rows(path, movie_ids, np.empty((len(movie_ids), header.shape[1]), header.dtype))
            for path, header in zip(paths, headers)
        ]
    )


@dataclass(frozen=True)
class _NpyHeader:
    shape: tuple[int, ...]
    fortran_order: bool
    dtype: np.dtype


def _npy_header(member: IO[bytes]) -> _NpyHeader:
    """The header of a .npy stream, which is left at the first value."""
    version = np.lib.format.read_magic(member)
    read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    return _NpyHeader(*read(member))


def _dense_header(path: Path) -> _NpyHeader | None:
    """The dense matrix's header, or None for a sparse feature file."""
    with zipfile.ZipFile(path) as archive:
        if "dense.npy" not in archive.namelist():
            return None
        with archive.open("dense.npy") as member:
            return _npy_header(member)


def _read_dense_rows(path: Path, movie_ids: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Fill `out` (one row per movie id) from the dense matrix in `path`, reading CHUNK_BYTES at a time."""
    with zipfile.ZipFile(path) as archive:
        with archive.open("movie_ids.npy") as member:
            wanted = row_positions(np.lib.format.read_array(member), movie_ids)
        with archive.open("dense.npy") as member:
            header = _npy_header(member)
            if header.fortran_order:  # not what save_features writes from C-ordered arrays: read whole
                with archive.open("dense.npy") as whole:
                    out[:] = np.lib.format.read_array(whole)[wanted]
                return out
            order = np.argsort(wanted, kind="stable")
            sorted_rows = wanted[order]
            (n_rows, width), row_bytes = header.shape, header.shape[1] * header.dtype.itemsize
            chunk_rows = max(1, CHUNK_BYTES // row_bytes)
            for start in range(0, n_rows, chunk_rows):
                count = min(chunk_rows, n_rows - start)
                data = member.read(count * row_bytes)
                if len(data) != count * row_bytes:
                    raise ValueError(f"{path} is truncated: fewer rows than its header says")
                chunk = np.frombuffer(data, dtype=header.dtype).reshape(count, width)
                low, high = np.searchsorted(sorted_rows, [start, start + count])
                out[order[low:high]] = chunk[sorted_rows[low:high] - start]
    return out
