"""Stage fetch_list: the normalised movie table and the genre table, from the bundled table or TMDB."""

from typing import Any

import pandas as pd

from movie_genres import paths
from movie_genres.data.dataset import genre_table, normalise_movies, read_bundled_movies, write_table
from movie_genres.params import FetchListParams, load_section, read_params
from movie_genres.stage_io import run_stage, setup_logging, write_csv, write_json
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


def main() -> None:
    setup_logging()
    raw_params = read_params()
    params = load_section(raw_params, "fetch_list", FetchListParams)
    raw, genre_names, source_report = collect(raw_params, params)
    movies, report = normalise_movies(raw, params.max_movies, params.min_genre_movies)
    genres = genre_table(movies, genre_names, report)
    write_table(movies, paths.MOVIES)
    write_csv(paths.GENRES, genres)
    write_json(paths.data_report("fetch_list"), {**report.as_dict(), **source_report})
    write_json(paths.data_metrics("fetch_list"), {"Kept": report.kept, "Dropped": sum(report.dropped.values())})


if __name__ == "__main__":
    run_stage(main)
