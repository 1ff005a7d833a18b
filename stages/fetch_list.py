"""Stage fetch_list: the normalised movie table and the genre table, from the bundled table or TMDB."""

from src import paths
from src.dataset import genre_table, normalise_movies, read_bundled_movies, write_table
from src.params import FetchListParams, load_section, read_params
from src.stage_io import setup_logging, write_csv, write_json
from src.tmdb_client import TmdbClient, api_key_from_env, collect_movies


def main() -> None:
    setup_logging()
    params = load_section(read_params(), "fetch_list", FetchListParams)
    if params.source == "tmdb":
        client = TmdbClient(api_key_from_env(), params.tmdb.api_base_url)
        raw, genre_names = collect_movies(client, params.tmdb)
    else:
        raw, genre_names = read_bundled_movies(paths.BUNDLED_CSV)
    movies, report = normalise_movies(raw, params.max_movies)
    genres = genre_table(movies, genre_names, report)
    write_table(movies, paths.MOVIES)
    write_csv(paths.GENRES, genres)
    write_json(paths.METRICS / "data" / "fetch_list.json", report.as_dict())


if __name__ == "__main__":
    main()
