"""Do TMDB's genres agree with IMDb's? The tutorial's cross-check, per genre.

    movie-genres crosscheck PATH_OR_URL/title.basics.tsv.gz [--movies data/movies.parquet]
        [--genres data/genres.csv] [--out genre_agreement.csv]

IMDb publishes `title.basics.tsv.gz` (https://datasets.imdbws.com/); movies are joined on the
`imdb_id` that TMDB's movie details give (the `tmdb` source with fetch_list.tmdb.details: true).
IMDb names a few genres differently (Sci-Fi for Science Fiction) and gives at most three per title,
so a TMDB genre IMDb does not list is not necessarily a disagreement.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import pandas as pd

from movie_genres import paths
from movie_genres.data.dataset import read_table
from movie_genres.errors import UserError

# IMDb name -> TMDB name, where they differ. TMDB has no Musical: Music is the nearest.
IMDB_TO_TMDB = {"Sci-Fi": "Science Fiction", "Musical": "Music"}
AGREEMENT_COLUMNS = ["genre", "tmdb", "imdb", "both", "agreement"]


class CrossCheckError(UserError, RuntimeError):
    """The inputs cannot be cross-checked."""


def read_imdb_genres(source: str | Path, wanted: set[str], chunk_rows: int = 500_000) -> dict[str, set[str]]:
    """IMDb genre names of the titles in `wanted`, from title.basics.tsv(.gz), a path or a URL.

    Read in chunks: the full file has over ten million rows. IMDb writes `\\N` for "none" and does
    not quote fields (a title may contain a lone `"`), hence QUOTE_NONE.
    """
    genres: dict[str, set[str]] = {}
    try:
        chunks = pd.read_csv(
            source,
            sep="\t",
            usecols=["tconst", "genres"],
            dtype=str,
            na_values=["\\N"],
            keep_default_na=False,
            quoting=csv.QUOTE_NONE,
            compression="gzip" if str(source).endswith(".gz") else None,
            chunksize=chunk_rows,
        )
        for chunk in chunks:
            found = chunk[chunk["tconst"].isin(wanted)]
            for tconst, names in zip(found["tconst"], found["genres"]):
                genres[tconst] = set(names.split(",")) if isinstance(names, str) else set()
    except (OSError, ValueError) as err:
        raise CrossCheckError(f"cannot read IMDb's title.basics from {source}: {err}") from None
    return genres


def tmdb_genre_names(movies: pd.DataFrame, genres: pd.DataFrame) -> pd.Series:
    """Each movie's TMDB genre names, indexed by IMDb id (movies without one left out)."""
    if "imdb_id" not in movies:
        raise CrossCheckError(
            "the movie table has no imdb_id column: collect it with fetch_list.source: export, or tmdb and "
            "fetch_list.tmdb.details: true"
        )
    names = dict(zip(genres["genre_id"].astype(int), genres["name"]))
    known = movies[movies["imdb_id"].fillna("").str.startswith("tt")]
    return pd.Series(
        [{names[g] for g in ids if g in names} for ids in known["genre_ids"]], index=known["imdb_id"].to_numpy()
    )


def genre_agreement(tmdb: pd.Series, imdb: dict[str, set[str]]) -> pd.DataFrame:
    """Per genre, over the movies both sides know: how many each tags with it, both, and agreement.

    agreement = both / (tagged by either) (Jaccard). IMDb names are mapped to TMDB's first; a genre
    only one side has (TMDB's TV Movie, IMDb's Biography) gets an empty agreement.
    """
    joined = [
        (tmdb_names, {IMDB_TO_TMDB.get(g, g) for g in imdb[imdb_id]})
        for imdb_id, tmdb_names in tmdb.items()
        if imdb_id in imdb
    ]
    all_tmdb = set().union(*(t for t, _ in joined)) if joined else set()
    all_imdb = set().union(*(i for _, i in joined)) if joined else set()
    rows = []
    for genre in sorted(all_tmdb | all_imdb):
        in_tmdb = sum(genre in t for t, _ in joined)
        in_imdb = sum(genre in i for _, i in joined)
        both = sum(genre in t and genre in i for t, i in joined)
        shared = genre in all_tmdb and genre in all_imdb
        either = in_tmdb + in_imdb - both
        rows.append((genre, in_tmdb, in_imdb, both, both / either if shared else float("nan")))
    table = pd.DataFrame(rows, columns=AGREEMENT_COLUMNS)
    return table.sort_values(["tmdb", "genre"], ascending=[False, True]).reset_index(drop=True)


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[0])
    parser.add_argument("title_basics", help="IMDb's title.basics.tsv.gz: a path or a URL")
    parser.add_argument("--movies", type=Path, default=paths.MOVIES)
    parser.add_argument("--genres", type=Path, default=paths.GENRES)
    parser.add_argument("--out", type=Path, help="also write the per-genre table to this CSV")
    args = parser.parse_args(argv)
    try:
        tmdb = tmdb_genre_names(read_table(args.movies), pd.read_csv(args.genres))
        imdb = read_imdb_genres(args.title_basics, set(tmdb.index))
    except (CrossCheckError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    table = genre_agreement(tmdb, imdb)
    print(f"{len(tmdb)} movies with an IMDb id, {sum(i in imdb for i in tmdb.index)} of them in {args.title_basics}")
    print(table.to_string(index=False, float_format=lambda x: f"{x:.2f}"))
    if args.out is not None:
        table.to_csv(args.out, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
