"""Stage fetch_posters: one checked poster per movie in one archive, and the manifest of those without."""

import logging

from movie_genres import paths
from movie_genres.data.dataset import read_table
from movie_genres.data.posters import bundled_source, collect_posters
from movie_genres.params import FetchListParams, FetchPostersParams, load_section, read_params
from movie_genres.stage_io import run_stage, write_csv, write_json
from movie_genres.tmdb.client import tmdb_from_params
from movie_genres.tmdb.posters import BROKEN_ON_TMDB, tmdb_source


def main() -> None:
    raw = read_params()
    fetch_list = load_section(raw, "fetch_list", FetchListParams)
    params = load_section(raw, "fetch_posters", FetchPostersParams)
    movies = read_table(paths.MOVIES)
    if fetch_list.source in ("tmdb", "export"):  # both list movies of the live API, posters on its image server
        client = tmdb_from_params(raw)
        poster_source = tmdb_source(client, client.poster_url_base(params.tmdb_poster_size), movies)
        logging.getLogger(__name__).info("poster downloads: %s", client.http.summary())
    else:
        poster_source = bundled_source(paths.BUNDLED_POSTERS)
    missing = collect_posters(movies, poster_source, paths.POSTERS)
    write_csv(paths.MISSING_POSTERS, missing)
    broken = int(missing["reason"].str.startswith(BROKEN_ON_TMDB).sum())
    if broken:
        logging.getLogger(__name__).warning(
            "%d movies have no poster as TMDB serves it broken (see %s); tmdb_http.retry_broken: true asks again",
            broken,
            paths.MISSING_POSTERS,
        )
    counts = {
        "movies": len(movies),
        "with_poster": len(movies) - len(missing),
        "without_poster": len(missing),
        "broken_on_tmdb": broken,
    }
    write_json(paths.data_report("fetch_posters"), counts)
    write_json(
        paths.data_metrics("fetch_posters"), {"Kept": counts["with_poster"], "Dropped": counts["without_poster"]}
    )


if __name__ == "__main__":
    run_stage(main)
