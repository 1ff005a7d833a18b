"""The movie table: normalisation of raw rows, the genre table, labels and the train/val/test split."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np
import pandas as pd

from movie_genres.files import atomic_path

log = logging.getLogger(__name__)

# Columns of the normalised movie table, whatever the source.
MOVIE_COLUMNS = ["movie_id", "title", "overview", "genre_ids", "release_date", "popularity", "poster_ref"]
# Movie details beyond the tutorial's fields (TMDB's movie details and keywords); a source that did not
# fetch them leaves them empty.
DETAIL_COLUMNS = {"tagline": "", "keywords": [], "companies": [], "runtime": float("nan"), "imdb_id": ""}

# Genres TMDB retired from /genre/movie/list but that old movies still carry. They are not modelled:
# TMDB gives them to no new movie, so predicting them would only ever be wrong for the movies people ask about.
RETIRED_GENRES = {10769: "Foreign"}

SUBSETS = ("train", "val", "test")
SubsetName = Literal["train", "val", "test"]


@dataclass
class ListReport:
    """What normalisation kept and dropped, by reason."""

    movies_in: int
    kept: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    unknown_genre_ids: list[int] = field(default_factory=list)
    # genre id -> {"name", "why", "movies" (that had it)}: genres removed from every movie's labels
    genres_not_modelled: dict[int, dict[str, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "movies_in": self.movies_in,
            "kept": self.kept,
            "dropped": self.dropped,
            "unknown_genre_ids": self.unknown_genre_ids,
            "genres_not_modelled": {
                str(genre_id): about for genre_id, about in sorted(self.genres_not_modelled.items())
            },
        }


def normalise_movies(
    raw: pd.DataFrame, max_movies: int | None, min_genre_movies: int = 1
) -> tuple[pd.DataFrame, ListReport]:
    """De-duplicate by TMDB id, drop movies without overview or genre, keep the most popular N.

    Genres that are not modelled are removed from every movie's genre ids first: TMDB's retired ones,
    and those fewer than `min_genre_movies` movies have (too rare to learn or to judge); a movie left
    without a genre is dropped, counted as `only_unmodelled_genres`.
    Returns the table sorted by popularity (most popular first, ties by id) and the counts dropped.
    """
    report = ListReport(movies_in=len(raw))
    movies = raw[MOVIE_COLUMNS].copy()
    for column, empty in DETAIL_COLUMNS.items():
        movies[column] = raw[column] if column in raw else pd.Series([empty] * len(raw), index=raw.index)

    deduped = movies.drop_duplicates(subset="movie_id", keep="first")
    report.dropped["duplicate"] = len(movies) - len(deduped)
    if report.dropped["duplicate"]:
        # Not an error: TMDB's lists repeat a movie that is on two pages; the count is in the report.
        repeated = movies["movie_id"][movies["movie_id"].duplicated()].nunique()
        log.warning(
            "%d rows repeat the id of a movie read before (%d ids): the first row of each is kept",
            report.dropped["duplicate"],
            repeated,
        )

    overview = deduped["overview"].fillna("").astype(str).str.strip()
    has_overview = overview != ""
    report.dropped["empty_overview"] = int((~has_overview).sum())
    kept = deduped[has_overview].assign(overview=overview[has_overview])

    has_genre = kept["genre_ids"].map(len) > 0
    report.dropped["no_genre"] = int((~has_genre).sum())
    kept = kept[has_genre]
    kept = kept.assign(genre_ids=_without_unmodelled_genres(kept["genre_ids"], min_genre_movies, report))
    has_genre = kept["genre_ids"].map(len) > 0
    report.dropped["only_unmodelled_genres"] = int((~has_genre).sum())
    kept = kept[has_genre]

    kept = kept.sort_values(["popularity", "movie_id"], ascending=[False, True], kind="stable")
    report.dropped["over_max_movies"] = 0 if max_movies is None else max(0, len(kept) - max_movies)
    if max_movies is not None:
        kept = kept.head(max_movies)

    report.kept = len(kept)
    return kept.reset_index(drop=True), report


def _without_unmodelled_genres(genre_lists: pd.Series, min_movies: int, report: ListReport) -> pd.Series:
    """Each movie's genre ids without the retired genres and those fewer than `min_movies` movies have."""
    counts = Counter(genre_id for ids in genre_lists for genre_id in ids)
    for genre_id, n in sorted(counts.items()):
        if genre_id in RETIRED_GENRES:
            report.genres_not_modelled[genre_id] = {"name": RETIRED_GENRES[genre_id], "why": "retired by TMDB"}
        elif n < min_movies:
            report.genres_not_modelled[genre_id] = {"name": "", "why": f"fewer than {min_movies} movies"}
        if genre_id in report.genres_not_modelled:
            report.genres_not_modelled[genre_id]["movies"] = n
    dropped = set(report.genres_not_modelled)
    return genre_lists.map(lambda ids: [genre_id for genre_id in ids if genre_id not in dropped])


def genre_table(movies: pd.DataFrame, genre_names: dict[int, str], report: ListReport) -> pd.DataFrame:
    """The genres the kept movies use: id, name and movie count, most frequent first.

    An id nobody can name is kept under a placeholder name and reported, so one odd answer from the
    API does not stop a run.
    """
    counts = Counter(genre_id for ids in movies["genre_ids"] for genre_id in ids)
    names = genre_names
    for genre_id, about in report.genres_not_modelled.items():
        about["name"] = about["name"] or names.get(genre_id, f"Unknown {genre_id}")
    unknown = sorted(genre_id for genre_id in counts if genre_id not in names)
    for genre_id in unknown:
        log.warning("genre id %d is not in TMDB's genre list: kept as 'Unknown %d'", genre_id, genre_id)
    report.unknown_genre_ids = unknown
    table = pd.DataFrame(
        {
            "genre_id": list(counts),
            "name": [names.get(genre_id, f"Unknown {genre_id}") for genre_id in counts],
            "n_movies": list(counts.values()),
        }
    )
    return table.sort_values(["n_movies", "genre_id"], ascending=[False, True]).reset_index(drop=True)


def label_matrix(genre_lists: pd.Series, genre_ids: list[int]) -> np.ndarray:
    """Binary movie x genre matrix, columns in the order of `genre_ids`."""
    column = {genre_id: j for j, genre_id in enumerate(genre_ids)}
    labels = np.zeros((len(genre_lists), len(genre_ids)), dtype=np.int8)
    for i, ids in enumerate(genre_lists):
        labels[i, [column[g] for g in ids if g in column]] = 1
    return labels


def assign_subsets(movie_ids: np.ndarray, test_size: float, val_size: float, seed: int) -> np.ndarray:
    """A seeded train/val/test label per movie; val is carved from the training share only."""
    # Imported here: scikit-learn takes seconds to import, and the fetch stages never split.
    from sklearn.model_selection import train_test_split

    positions = np.arange(len(movie_ids))
    rest, test = train_test_split(positions, test_size=test_size, random_state=seed, shuffle=True)
    train, val = train_test_split(rest, test_size=val_size, random_state=seed, shuffle=True)
    subsets = np.empty(len(movie_ids), dtype=object)
    for name, rows in zip(SUBSETS, (train, val, test)):
        subsets[rows] = name
    return subsets


def build_dataset(
    movies: pd.DataFrame, missing_posters: set[int], test_size: float, val_size: float, seed: int
) -> pd.DataFrame:
    """The modelling table: movies that have a usable poster, each with its subset.

    Every model, text or image, is trained and judged on these same movies.
    """
    dataset = movies[~movies["movie_id"].isin(missing_posters)].sort_values("movie_id").reset_index(drop=True)
    subset = assign_subsets(dataset["movie_id"].to_numpy(), test_size, val_size, seed)
    return dataset.assign(subset=pd.Series(subset, dtype="string"))


def subset_mask(dataset: pd.DataFrame, name: SubsetName) -> np.ndarray:
    """Which rows of the modelling table belong to subset `name`."""
    if name not in SUBSETS:
        raise ValueError(f"no subset {name!r}: one of {SUBSETS}")
    return (dataset["subset"] == name).to_numpy()


def write_table(table: pd.DataFrame, path: Path) -> None:
    with atomic_path(path) as partial:
        table.to_parquet(partial, index=False)


def read_table(path: Path | IO[bytes], columns: Sequence[str] | None = None) -> pd.DataFrame:
    """A movie table written by `write_table` (all columns, or these), from its file or its bytes."""
    table = pd.read_parquet(path, columns=None if columns is None else list(columns))
    if "genre_ids" in table:
        table["genre_ids"] = table["genre_ids"].map(lambda ids: [int(g) for g in ids])
    for column in ("keywords", "companies"):
        if column in table:
            table[column] = table[column].map(lambda names: [str(name) for name in names])
    return table
