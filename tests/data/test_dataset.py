import numpy as np
import pandas as pd

from movie_genres.data.dataset import (
    ListReport,
    assign_subsets,
    build_dataset,
    genre_table,
    label_matrix,
    normalise_movies,
)


def test_bundled_table_normalises_as_its_readme_says(bundled):
    raw, genre_names = bundled
    movies, report = normalise_movies(raw, max_movies=None, min_genre_movies=20)
    assert report.movies_in == 4803
    assert sum(report.dropped.values()) == 4803 - len(movies)
    assert movies["movie_id"].is_unique
    assert (movies["overview"].str.strip() != "").all() and (movies["genre_ids"].map(len) > 0).all()
    genres = genre_table(movies, genre_names, report)
    assert len(genres) == 18 and report.unknown_genre_ids == []
    # Foreign is retired by TMDB; TV Movie (8 movies) is too rare: neither is in any movie's labels.
    assert {genre_id: about["name"] for genre_id, about in report.genres_not_modelled.items()} == {
        10769: "Foreign",
        10770: "TV Movie",
    }
    assert not movies["genre_ids"].map(lambda ids: bool({10769, 10770} & set(ids))).any()
    assert genres["n_movies"].min() >= 20


def test_duplicates_blank_overviews_and_genreless_movies_are_dropped_and_counted(bundled):
    raw, _ = bundled
    sample = raw.head(5).copy()
    duplicate = sample.iloc[[0]]
    blank = sample.iloc[[1]].assign(movie_id=1, overview="   ")
    missing = sample.iloc[[2]].assign(movie_id=2, overview=pd.NA)
    genreless = sample.iloc[[3]].assign(movie_id=3, genre_ids=[[]])
    movies, report = normalise_movies(pd.concat([sample, duplicate, blank, missing, genreless]), max_movies=None)
    assert sorted(movies["movie_id"]) == sorted(sample["movie_id"])
    assert report.dropped == {
        "duplicate": 1,
        "empty_overview": 2,
        "no_genre": 1,
        "only_unmodelled_genres": 0,
        "over_max_movies": 0,
    }


def test_max_movies_keeps_the_most_popular(bundled):
    raw, _ = bundled
    movies, report = normalise_movies(raw, max_movies=50)
    assert len(movies) == 50 and report.dropped["over_max_movies"] > 0
    assert movies["popularity"].is_monotonic_decreasing
    assert movies["popularity"].min() >= raw["popularity"].nlargest(60).min()


def test_a_movie_with_only_the_retired_genre_is_dropped_and_counted(bundled):
    raw, _ = bundled
    sample = raw.head(3).copy()
    sample["genre_ids"] = [[18, 10769], [10769], [35]]
    movies, report = normalise_movies(sample, max_movies=None)
    assert sorted(map(tuple, movies["genre_ids"])) == [(18,), (35,)]
    assert report.dropped["only_unmodelled_genres"] == 1
    assert report.genres_not_modelled == {10769: {"name": "Foreign", "why": "retired by TMDB", "movies": 2}}


def test_unknown_genre_ids_are_named_not_fatal():
    movies = pd.DataFrame({"genre_ids": [[18], [18, 99999]]})
    report = ListReport(movies_in=2)
    table = genre_table(movies, {18: "Drama"}, report).set_index("genre_id")
    assert table.loc[99999, "name"] == "Unknown 99999"
    assert table.loc[18, "n_movies"] == 2
    assert report.unknown_genre_ids == [99999]


def test_label_matrix_follows_the_given_genre_order():
    labels = label_matrix(pd.Series([[18, 35], [35], [27]]), [35, 18, 27])
    assert labels.tolist() == [[1, 1, 0], [1, 0, 0], [0, 0, 1]]


def test_split_is_seeded_disjoint_and_sized():
    ids = np.arange(1000)
    first = assign_subsets(ids, test_size=0.2, val_size=0.1, seed=7)
    assert (first == assign_subsets(ids, 0.2, 0.1, seed=7)).all()
    assert (first != assign_subsets(ids, 0.2, 0.1, seed=8)).any()
    counts = pd.Series(first).value_counts()
    assert counts["test"] == 200 and counts["val"] == 80 and counts["train"] == 720


def test_dataset_leaves_out_movies_without_poster(bundled):
    raw, _ = bundled
    movies, _ = normalise_movies(raw, max_movies=100)
    no_poster = set(movies["movie_id"].head(3))
    dataset = build_dataset(movies, no_poster, 0.2, 0.1, seed=0)
    assert len(dataset) == 97 and not dataset["movie_id"].isin(no_poster).any()
    assert set(dataset["subset"]) == {"train", "val", "test"}
