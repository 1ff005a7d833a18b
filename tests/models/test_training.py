"""The modelling data: every subset's features and labels, read once, subsets as ranges of one matrix."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from movie_genres import paths
from movie_genres.data.dataset import (
    SUBSETS,
    build_dataset,
    genre_table,
    label_matrix,
    normalise_movies,
    subset_mask,
    write_table,
)
from movie_genres.features.bag_of_words import BagOfWords
from movie_genres.features.store import Features, StoredRows, join_columns, load_features, save_features
from movie_genres.models.training import load_modelling_data
from movie_genres.params import TextFeaturesParams
from movie_genres.stage_io import write_csv


def test_each_subset_has_its_movies_rows_and_labels(in_tmp_repo, bundled):
    raw, genre_names = bundled
    movies, report = normalise_movies(raw, max_movies=400)
    dataset = build_dataset(movies, set(), test_size=0.2, val_size=0.1, seed=3)
    write_table(dataset, paths.DATASET)
    genres = genre_table(movies, genre_names, report)
    write_csv(paths.GENRES, genres)
    ids = dataset["movie_id"].to_numpy()
    tfidf = BagOfWords.fit(dataset["overview"], TextFeaturesParams(max_df=0.95, min_df=0.01)).tfidf(dataset["overview"])
    dense = np.random.default_rng(0).standard_normal((len(ids), 6)).astype(np.float32)
    files = [in_tmp_repo / "tfidf.npz", in_tmp_repo / "dense.npz", in_tmp_repo / "dense_shuffled.npz"]
    save_features(files[0], Features(ids, tfidf))
    save_features(files[1], Features(ids, dense))
    shuffled = np.random.default_rng(1).permutation(len(ids))
    save_features(files[2], Features(ids[shuffled], dense[shuffled] * 2))
    labels = label_matrix(dataset["genre_ids"], genres["genre_id"].tolist())

    for chosen in ([files[1], files[2]], [files[0], files[1]]):
        data = load_modelling_data(*chosen)
        for name in SUBSETS:
            mask = subset_mask(dataset, name)
            subset = getattr(data, name)
            expected = join_columns([load_features(path).rows(ids[mask]) for path in chosen])
            np.testing.assert_array_equal(subset.movie_ids, ids[mask])
            np.testing.assert_array_equal(subset.y, labels[mask])
            if sp.issparse(expected):
                assert (subset.x != expected).nnz == 0
            else:
                np.testing.assert_array_equal(subset.x, expected)
        np.testing.assert_array_equal(
            data.evaluated.movie_ids, np.concatenate([data.val.movie_ids, data.test.movie_ids])
        )
        np.testing.assert_array_equal(data.evaluated.y, np.vstack([data.val.y, data.test.y]))
        stack = sp.vstack if sp.issparse(data.val.x) else np.vstack
        assert abs(stack([data.val.x, data.test.x]) - data.evaluated.x).max() == 0
        # The training share (what out-of-fold scores cover): train then val.
        np.testing.assert_array_equal(data.share.movie_ids, np.concatenate([data.train.movie_ids, data.val.movie_ids]))
        np.testing.assert_array_equal(data.share.y, np.vstack([data.train.y, data.val.y]))
        assert abs(stack([data.train.x, data.val.x]) - data.share.x).max() == 0
    dense_data = load_modelling_data(files[1])
    assert np.shares_memory(dense_data.evaluated.x, dense_data.test.x)  # a range of one matrix, not a copy

    # Above max_in_memory_bytes, dense features stay on disk and read as the same rows; sparse ones do not.
    on_disk = load_modelling_data(files[1], files[2], max_in_memory_bytes=len(ids) * 12 * 4 - 1)
    in_memory = load_modelling_data(files[1], files[2], max_in_memory_bytes=len(ids) * 12 * 4)
    assert isinstance(on_disk.train.x, StoredRows) and isinstance(in_memory.train.x, np.ndarray)
    for name in [*SUBSETS, "evaluated", "share"]:
        np.testing.assert_array_equal(getattr(on_disk, name).x.read(), getattr(in_memory, name).x)
    mixed = load_modelling_data(files[0], files[1], max_in_memory_bytes=0)  # sparse and dense: CSR rows
    assert (mixed.val.x.read() != load_modelling_data(files[0], files[1]).val.x).nnz == 0
