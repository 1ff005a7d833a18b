"""Stage fetch_list: the normalised movie table and the genre table, from the bundled table or TMDB."""

from movie_genres import paths
from movie_genres.data.contract import require_movies
from movie_genres.data.dataset import genre_table, normalise_movies, write_table
from movie_genres.data.sources import collect, source_name
from movie_genres.params import FetchListParams, load_section, read_params
from movie_genres.stage_io import run_stage, write_csv, write_json


def main() -> None:
    raw_params = read_params()
    params = load_section(raw_params, "fetch_list", FetchListParams)
    raw, genre_names, source_report = collect(raw_params, params)
    movies, report = normalise_movies(raw, params.max_movies, params.min_genre_movies)
    require_movies(report, source_name(params))
    genres = genre_table(movies, genre_names, report)
    write_table(movies, paths.MOVIES)
    write_csv(paths.GENRES, genres)
    write_json(paths.data_report("fetch_list"), {**report.as_dict(), **source_report})
    write_json(paths.data_metrics("fetch_list"), {"Kept": report.kept, "Dropped": sum(report.dropped.values())})


if __name__ == "__main__":
    run_stage(main)
