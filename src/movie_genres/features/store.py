"""Feature matrices on disk: rows tied to the movie ids they describe, dense or sparse."""

from __future__ import annotations

import os
import shutil
import struct
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import scipy.sparse as sp

from movie_genres.files import atomic_path

# A dense feature file is read this many bytes of rows at a time (read_rows).
CHUNK_BYTES = 16 * 1024**2
DENSE_DTYPE = np.dtype("<f4")  # the featurizers' rows (the feature cache's vectors)
# Joining sparse and dense blocks into CSR (sp.hstack, via COO) peaks at about this many bytes a value:
# 2.2 GB for the details model's 100k x ~424 values a movie (the result itself takes 12).
CSR_PEAK_BYTES = 48


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


def write_dense_features(path: Path, chunks: Iterable[tuple[np.ndarray, np.ndarray]], width: int) -> int:
    """`save_features` of a dense matrix that arrives a chunk of (movie ids, rows) at a time: the same
    bytes, with one chunk in memory however many movies. Returns the number of rows.

    The rows are spooled to a temporary file beside `path` as they come, then copied into the archive
    after the ids (np.savez's layout: movie_ids.npy, then dense.npy, stored uncompressed).
    """
    ids: list[np.ndarray] = []
    with atomic_path(path) as partial, tempfile.TemporaryFile(dir=path.parent) as spool:
        for chunk_ids, rows in chunks:
            spool.write(np.ascontiguousarray(rows, DENSE_DTYPE).tobytes())
            ids.append(np.asarray(chunk_ids, np.int64))
        movie_ids = np.concatenate(ids) if ids else np.zeros(0, np.int64)
        header = {"descr": np.lib.format.dtype_to_descr(DENSE_DTYPE), "fortran_order": False}
        with open(partial, "wb") as f, zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
            with archive.open("movie_ids.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, movie_ids)
            with archive.open("dense.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array_header_1_0(member, {**header, "shape": (len(movie_ids), width)})
                spool.seek(0)
                shutil.copyfileobj(spool, member, CHUNK_BYTES)
    return len(movie_ids)


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


def joined_bytes(paths: Sequence[Path], n_rows: int) -> int:
    """About the memory `read_rows` of `n_rows` movies of these files takes at its peak: float32 if all
    are dense, else CSR_PEAK_BYTES a value (a dense file's columns become values of the sparse matrix)."""
    values_per_row, dense = 0.0, True
    for path in paths:
        header = _dense_header(path)
        if header is not None:
            values_per_row += header.shape[1]
            continue
        dense = False
        with zipfile.ZipFile(path) as archive:
            with archive.open("data.npy") as member:
                values = _npy_header(member).shape[0]
            with archive.open("shape.npy") as member:
                values_per_row += values / max(1, int(np.lib.format.read_array(member)[0]))
    return int(n_rows * values_per_row * (4 if dense else CSR_PEAK_BYTES))


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


class StoredRows:
    """Rows of feature files (joined column-wise, as `read_rows`) read when asked, never held whole.

    The movies' rows in `movie_ids` order: `len`, `shape`, a slice or an index array gives another
    StoredRows (nothing read), `read()` the rows (a float32 array, or CSR if a file is sparse).
    Dense matrices stay on disk: np.savez stores them uncompressed, so rows are read at their offset,
    and the memory this takes is that of the rows asked for. Sparse files (the overview's words, the
    details: a few dozen values a movie) are loaded whole.
    """

    def __init__(self, paths: Sequence[Path], movie_ids: np.ndarray) -> None:
        self._files = [_DenseFile.open(path) if _dense_header(path) else load_features(path) for path in paths]
        self._positions = [row_positions(file.movie_ids, movie_ids) for file in self._files]
        self.shape = (len(movie_ids), sum(_width(file) for file in self._files))

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows: slice | np.ndarray) -> StoredRows:
        subset = object.__new__(StoredRows)
        subset._files = self._files
        subset._positions = [positions[rows] for positions in self._positions]
        subset.shape = (len(subset._positions[0]), self.shape[1])
        return subset

    def read(self, rows: slice | np.ndarray = slice(None)) -> Any:
        """These rows (all by default): `read_rows` of their movies."""
        positions = [p[rows] for p in self._positions]
        if any(isinstance(file, Features) for file in self._files):
            return join_columns([_read(file, wanted) for file, wanted in zip(self._files, positions, strict=True)])
        out = np.empty((len(positions[0]), self.shape[1]), np.float32)
        start = 0
        for file, wanted in zip(self._files, positions, strict=True):
            out[:, start : start + _width(file)] = _read(file, wanted)
            start += _width(file)
        return out

    def chunks(self, rows: int) -> Iterator[Any]:
        """All rows, in order, `rows` at a time."""
        for start in range(0, len(self), rows):
            yield self.read(slice(start, start + rows))


def _width(file: _DenseFile | Features) -> int:
    return file.width if isinstance(file, _DenseFile) else file.matrix.shape[1]


def _read(file: _DenseFile | Features, positions: np.ndarray) -> Any:
    return file.read(positions) if isinstance(file, _DenseFile) else file.matrix[positions]


@dataclass(frozen=True)
class _DenseFile:
    path: Path
    movie_ids: np.ndarray
    width: int
    dtype: np.dtype
    data_offset: int  # where the first row starts in the archive

    @classmethod
    def open(cls, path: Path) -> _DenseFile:
        with zipfile.ZipFile(path) as archive:
            with archive.open("movie_ids.npy") as member:
                movie_ids = np.lib.format.read_array(member)
            info = archive.getinfo("dense.npy")
            with archive.open(info) as member:
                header = _npy_header(member)
                npy_header_bytes = member.tell()
        if info.compress_type != zipfile.ZIP_STORED or header.fortran_order or len(header.shape) != 2:
            raise ValueError(f"{path}: rows cannot be read from disk (not a C-ordered matrix stored uncompressed)")
        with open(path, "rb") as f:
            f.seek(info.header_offset)
            local = f.read(_LOCAL_HEADER.size)
        name_length, extra_length = _LOCAL_HEADER.unpack(local)[-2:]
        offset = info.header_offset + _LOCAL_HEADER.size + name_length + extra_length + npy_header_bytes
        return cls(path, movie_ids, header.shape[1], header.dtype, offset)

    def read(self, positions: np.ndarray) -> np.ndarray:
        """The rows at these positions, in their order (runs of consecutive rows in one read)."""
        row_bytes = self.width * self.dtype.itemsize
        out = np.empty((len(positions), self.width), self.dtype)
        order = np.argsort(positions, kind="stable")
        ordered = positions[order]
        breaks = np.flatnonzero(np.diff(ordered) != 1) + 1
        descriptor = os.open(self.path, os.O_RDONLY)
        try:
            for run in np.split(np.arange(len(ordered)), breaks) if len(ordered) else []:
                first, count = int(ordered[run[0]]), len(run)
                data = os.pread(descriptor, count * row_bytes, self.data_offset + first * row_bytes)
                if len(data) != count * row_bytes:
                    raise ValueError(f"{self.path} is truncated: fewer rows than its header says")
                out[order[run]] = np.frombuffer(data, self.dtype).reshape(count, self.width)
        finally:
            os.close(descriptor)
        return out


# A zip local file header: signature, versions, flags, method, time, date, CRC, sizes, name and extra lengths.
_LOCAL_HEADER = struct.Struct("<4s5HL2L2H")
