"""Stage fetch_posters: one checked poster per movie in one archive, and the manifest of those without."""

from src import paths
from src.dataset import read_table
from src.params import FetchListParams, FetchPostersParams, load_section, read_params
from src.posters import bundled_source, collect_posters, tmdb_source
from src.stage_io import setup_logging, write_csv, write_json


def main() -> None:
    setup_logging()
    raw = read_params()
    source = load_section(raw, "fetch_list", FetchListParams).source
    params = load_section(raw, "fetch_posters", FetchPostersParams)
    movies = read_table(paths.MOVIES)
    if source == "tmdb":
        poster_source = tmdb_source(params.tmdb_image_base_url, params.tmdb_poster_size)
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
