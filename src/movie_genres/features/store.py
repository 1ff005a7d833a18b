"""Feature matrices on disk: rows tied to the movie ids they describe, dense or sparse."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from movie_genres.files import atomic_path


@dataclass
class Features:
    movie_ids: np.ndarray
    matrix: np.ndarray | sp.csr_matrix

    def rows(self, movie_ids: np.ndarray) -> np.ndarray | sp.csr_matrix:
        """The rows of the given movies, in that order; every id must be present."""
        position = {movie_id: i for i, movie_id in enumerate(self.movie_ids.tolist())}
        missing = [m for m in movie_ids.tolist() if m not in position]
        if missing:
            raise KeyError(f"{len(missing)} movies have no features, e.g. {missing[:5]}")
        return self.matrix[[position[m] for m in movie_ids.tolist()]]


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
