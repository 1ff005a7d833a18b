"""Stage fetch_list: the normalised movie table and the genre table, from the bundled table or TMDB."""

from movie_genres import paths
from movie_genres.data.dataset import genre_table, normalise_movies, read_bundled_movies, write_table
from movie_genres.params import FetchListParams, load_section, read_params
from movie_genres.stage_io import run_stage, setup_logging, write_csv, write_json
from movie_genres.tmdb.client import collect_movies, tmdb_from_params


def main() -> None:
    setup_logging()
    raw_params = read_params()
    params = load_section(raw_params, "fetch_list", FetchListParams)
    details_missing = None
    if params.source == "tmdb":
        client = tmdb_from_params(raw_params)
        collection = collect_movies(client, params.tmdb)
        raw, genre_names = collection.movies, collection.genre_names
        details_missing = len(collection.details_missing) if params.tmdb.details else None
    else:
        raw, genre_names = read_bundled_movies(paths.BUNDLED_CSV)
    movies, report = normalise_movies(raw, params.max_movies, params.min_genre_movies)
    genres = genre_table(movies, genre_names, report)
    write_table(movies, paths.MOVIES)
    write_csv(paths.GENRES, genres)
    metrics = report.as_dict()
    if details_missing is not None:
        metrics["details_missing"] = details_missing
    write_json(paths.data_report("fetch_list"), metrics)
    write_json(paths.data_metrics("fetch_list"), {"Kept": report.kept, "Dropped": sum(report.dropped.values())})


if __name__ == "__main__":
    run_stage(main)
