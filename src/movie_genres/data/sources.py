"""The movie list's sources (`fetch_list.source`): the bundled table, TMDB's list endpoints, TMDB's daily ID export."""

from __future__ import annotations

from typing import Any

import pandas as pd

from movie_genres import paths
from movie_genres.data.bundled import read_recorded_table
from movie_genres.data.contract import check_movies
from movie_genres.params import FetchListParams
from movie_genres.tmdb.client import collect_movies, tmdb_from_params
from movie_genres.tmdb.export import collect_export


def source_name(params: FetchListParams) -> str:
    """How a message names where the movies came from."""
    if params.source == "bundled":
        return str(paths.BUNDLED_CSV)
    return f"TMDB's movies (fetch_list.source {params.source})"


def collect(raw_params: dict[str, Any], params: FetchListParams) -> tuple[pd.DataFrame, dict[int, str], dict[str, Any]]:
    """The source's raw movie rows, its genre names, and what the source adds to the report.

    The rows keep the movie table's contract (data.contract), or a TableError names the first bad cell.
    """
    if params.source == "bundled":
        return (*read_recorded_table(paths.BUNDLED_CSV), {})
    client = tmdb_from_params(raw_params)
    added: dict[str, Any]
    if params.source == "export":
        exported = collect_export(client, params.export)
        movies, genre_names, added = exported.movies, exported.genre_names, {"export": exported.report}
    else:
        collection = collect_movies(client, params.tmdb)
        movies, genre_names = collection.movies, collection.genre_names
        details = {"details_missing": collection.details_missing, "details_broken": collection.details_broken}
        added = {name: len(ids) for name, ids in details.items()} if params.tmdb.details else {}
    check_movies(movies, source_name(params), lambda row: f"movie {movies['movie_id'].iat[row]}")
    return movies, genre_names, added
