"""Feature files read a chunk of rows at a time: the same rows as reading them whole."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from movie_genres.features import store
from movie_genres.features.bag_of_words import BagOfWords
from movie_genres.features.store import Features, join_columns, load_features, read_rows, save_features
from movie_genres.params import TextFeaturesParams


@pytest.fixture
def feature_files(bundled, tmp_path) -> tuple[np.ndarray, dict[str, Path]]:
    """TF-IDF of 300 real overviews, two dense blocks (one stored in another row order, one Fortran-ordered)."""
    raw, _ = bundled
    movies = raw[raw["overview"].notna()].head(300)
    ids = movies["movie_id"].to_numpy()
    rng = np.random.default_rng(0)
    tfidf = BagOfWords.fit(movies["overview"], TextFeaturesParams(max_df=0.95, min_df=0.01)).tfidf(movies["overview"])
    contents = {
        "tfidf": Features(ids, tfidf),
        "dense": Features(ids, rng.standard_normal((300, 7)).astype(np.float32)),
        "reversed": Features(ids[::-1].copy(), rng.standard_normal((300, 5)).astype(np.float32)),
        "fortran": Features(ids, np.asfortranarray(rng.standard_normal((300, 3)))),
    }
    files = {name: tmp_path / f"{name}.npz" for name in contents}
    for name, features in contents.items():
        save_features(files[name], features)
    return ids, files


@pytest.mark.parametrize(
    "names", [["dense"], ["dense", "reversed"], ["tfidf"], ["tfidf", "dense"], ["fortran"], ["dense", "fortran"]]
)
def test_rows_read_in_small_chunks_are_the_rows_of_the_whole_files(feature_files, names, monkeypatch):
    ids, files = feature_files
    monkeypatch.setattr(store, "CHUNK_BYTES", 3 * 7 * 4)  # three rows of `dense` at a time
    wanted = np.random.default_rng(1).permutation(ids)[:200]
    paths = [files[name] for name in names]
    expected = join_columns([load_features(path).rows(wanted) for path in paths])
    read = read_rows(paths, wanted)
    assert read.dtype == expected.dtype and read.shape == expected.shape
    if sp.issparse(expected):
        assert sp.issparse(read) and (read != expected).nnz == 0
    else:
        np.testing.assert_array_equal(read, expected)


def test_a_movie_without_features_is_named(feature_files):
    ids, files = feature_files
    with pytest.raises(KeyError, match=r"1 movies have no features, e.g. \[-1\]"):
        read_rows([files["dense"]], np.append(ids[:5], -1))


def test_a_truncated_file_is_an_error(feature_files, tmp_path):
    ids, files = feature_files
    truncated = tmp_path / "truncated.npz"
    with zipfile.ZipFile(files["dense"]) as whole, zipfile.ZipFile(truncated, "w") as cut:
        for name in whole.namelist():  # the last row cut from the matrix, its header unchanged
            cut.writestr(name, whole.read(name)[: -7 * 4] if name == "dense.npy" else whole.read(name))
    with pytest.raises(ValueError, match="truncated.npz is truncated: fewer rows than its header says"):
        read_rows([truncated], ids[:3])
