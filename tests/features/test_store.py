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


@pytest.mark.parametrize("chunk_rows", [1, 7, 300])
def test_a_matrix_written_a_chunk_at_a_time_is_the_bytes_of_saving_it_whole(tmp_path, chunk_rows):
    ids = np.arange(1000, 1300, dtype=np.int64)
    matrix = np.random.default_rng(2).standard_normal((300, 11)).astype(np.float32)
    save_features(tmp_path / "whole.npz", Features(ids, matrix))
    chunks = ((ids[i : i + chunk_rows], matrix[i : i + chunk_rows]) for i in range(0, 300, chunk_rows))
    assert store.write_dense_features(tmp_path / "chunked.npz", chunks, 11) == 300
    assert (tmp_path / "chunked.npz").read_bytes() == (tmp_path / "whole.npz").read_bytes()


def test_no_chunks_make_an_empty_matrix_and_a_failed_chunk_no_file(tmp_path):
    save_features(tmp_path / "whole.npz", Features(np.zeros(0, np.int64), np.zeros((0, 4), np.float32)))
    store.write_dense_features(tmp_path / "empty.npz", iter([]), 4)
    assert (tmp_path / "empty.npz").read_bytes() == (tmp_path / "whole.npz").read_bytes()

    def failing():
        yield np.array([1]), np.ones((1, 4), np.float32)
        raise RuntimeError("the network failed")

    with pytest.raises(RuntimeError):
        store.write_dense_features(tmp_path / "failed.npz", failing(), 4)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.npz", "whole.npz"]  # nothing half-written


def test_stored_rows_read_from_disk_are_the_rows_in_memory(feature_files):
    ids, files = feature_files
    paths = [files["dense"], files["reversed"]]
    wanted = np.random.default_rng(3).permutation(ids)[:250]
    expected = read_rows(paths, wanted)
    stored = store.StoredRows(paths, wanted)
    assert stored.shape == expected.shape == (250, 12) and len(stored) == 250
    np.testing.assert_array_equal(stored.read(), expected)
    picked = np.array([5, 3, 4, 200, 3, 249])  # out of order, a repeat, a run of consecutive rows
    np.testing.assert_array_equal(stored[picked].read(), expected[picked])
    np.testing.assert_array_equal(stored[10:20][np.array([9, 0])].read(), expected[[19, 10]])
    np.testing.assert_array_equal(np.concatenate(list(stored.chunks(64))), expected)


def test_stored_rows_need_an_uncompressed_c_ordered_matrix(feature_files, tmp_path):
    ids, files = feature_files
    with pytest.raises(ValueError, match="fortran.npz: rows cannot be read from disk"):
        store.StoredRows([files["fortran"]], ids)
    compressed = tmp_path / "compressed.npz"
    np.savez_compressed(compressed, movie_ids=ids, dense=np.ones((len(ids), 2), np.float32))
    with pytest.raises(ValueError, match="compressed.npz: rows cannot be read from disk"):
        store.StoredRows([compressed], ids)
