"""Stage fetch_posters: one checked poster per movie in one archive, and the manifest of those without."""

import logging

from src import paths
from src.dataset import read_table
from src.params import FetchListParams, FetchPostersParams, TmdbHttpParams, load_section, read_params
from src.posters import bundled_source, collect_posters, tmdb_source
from src.stage_io import setup_logging, write_csv, write_json
from src.tmdb_client import open_tmdb


def main() -> None:
    setup_logging()
    raw = read_params()
    fetch_list = load_section(raw, "fetch_list", FetchListParams)
    params = load_section(raw, "fetch_posters", FetchPostersParams)
    movies = read_table(paths.MOVIES)
    if fetch_list.source == "tmdb":
        client = open_tmdb(fetch_list.tmdb, load_section(raw, "tmdb_http", TmdbHttpParams))
        poster_source = tmdb_source(client, client.poster_url_base(params.tmdb_poster_size), movies)
        logging.getLogger(__name__).info("poster downloads: %s", client.http.summary())
    else:
        poster_source = bundled_source(paths.BUNDLED_POSTERS)
    missing = collect_posters(movies, poster_source, paths.POSTERS)
    write_csv(paths.MISSING_POSTERS, missing)
    write_json(
        paths.METRICS / "data" / "fetch_posters.json",
        {"movies": len(movies), "with_poster": len(movies) - len(missing), "without_poster": len(missing)},
    )


if __name__ == "__main__":
    main()
