"""The movie list's sources (`fetch_list.source`): the bundled table, TMDB's list endpoints, TMDB's daily ID export."""

from __future__ import annotations

from typing import Any

import pandas as pd

from movie_genres import paths
from movie_genres.data.dataset import read_bundled_movies
from movie_genres.params import FetchListParams
from movie_genres.tmdb.client import collect_movies, tmdb_from_params
from movie_genres.tmdb.export import collect_export


def collect(raw_params: dict[str, Any], params: FetchListParams) -> tuple[pd.DataFrame, dict[int, str], dict[str, Any]]:
    """The source's raw movie rows, its genre names, and what the source adds to the report."""
    if params.source == "bundled":
        return (*read_bundled_movies(paths.BUNDLED_CSV), {})
    client = tmdb_from_params(raw_params)
    if params.source == "export":
        exported = collect_export(client, params.export)
        return exported.movies, exported.genre_names, {"export": exported.report}
    collection = collect_movies(client, params.tmdb)
    details_missing = {"details_missing": len(collection.details_missing)} if params.tmdb.details else {}
    return collection.movies, collection.genre_names, details_missing
