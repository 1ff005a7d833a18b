"""The `export` source: every movie in TMDB's daily ID export, each one's details from the API.

TMDB publishes every day a gzip file listing every movie it has, one JSON object a line
(`{"adult":false,"id":3924,"original_title":"Blondie","popularity":2.6,"video":false}`), at
fetch_list.export.url (no key needed). It is downloaded through the HTTP layer (its rate limit and
retries; not its request cache, since the file itself is kept), parsed strictly, and kept in
fetch_list.export.dir only once it parsed whole: an interrupted or bad download never leaves a file
that looks good, and a bad export writes nothing at all. Adult and video entries are dropped, then
the caps apply: a popularity floor, then the N most popular ids (ties by id). Each selected movie's
details come from `/movie/{id}?append_to_response=keywords` through the client (movie_genres.tmdb.client):
one rate limit, its retries, its request cache.

Layout of fetch_list.export.dir:
  movie_ids_MM_DD_YYYY.json.gz             each export, as TMDB served it
  details-<language>/shard-NNNNNN.parquet  the details fetched so far, one table a shard of ids, each
                                           written whole or not at all (files.atomic_path); a movie
                                           TMDB answers 404 for is a row too, marked `gone`; one whose
                                           details TMDB serves broken for good (tmdb.broken) is in no
                                           shard, and dropped: each run asks the ledger, not TMDB, again

Why this layout: the shards are a record of every id already fetched or known gone, whichever export
listed it, not a function of one export's list. A run fetches only the selected ids no shard holds, in
id order, cut into blocks of shard_size, numbered after the last shard on disk. So
- a killed run resumes at the first unfinished shard: the finished ones hold exactly the first
  blocks, so the rerun cuts the same blocks from the ids left; within that shard the request cache
  answers what was answered before the kill, and only the requests in flight then are sent again
  (and a 404's: refusals are not cached);
- a newer export, or another floor or cap, asks only for ids never fetched before (numbering blocks of
  one export's sorted ids would shift every shard whenever TMDB lists one more movie);
- the movie table is assembled from the shards for exactly the selected ids, with the export's
  popularity (what the cap ranked by, one day's for every movie), so it does not depend on which run
  fetched which shard.
The shards are kept per language, the language of their text. They are never refreshed: delete the
folder for newer details.
"""

from __future__ import annotations

import gzip
import io
import json
import logging
import zlib
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
from tqdm import tqdm

from movie_genres.data.dataset import DETAIL_COLUMNS, MOVIE_COLUMNS, read_table
from movie_genres.errors import UserError
from movie_genres.files import atomic_path
from movie_genres.parallel import ordered_map
from movie_genres.params import TmdbExportParams
from movie_genres.tmdb.client import Broken, TmdbClient, detail_fields, movie_details, movie_fields
from movie_genres.tmdb.failures import Failed, incomplete, or_failed
from movie_genres.tmdb.http import BadAnswer, TmdbHttp, TmdbRefused

log = logging.getLogger(__name__)

GZIP_MAGIC = b"\x1f\x8b"
# The fields of an export line the source uses, each with its JSON type (a bool is no number here).
EXPORT_FIELDS: dict[str, tuple[type, ...]] = {
    "id": (int,),
    "popularity": (int, float),
    "adult": (bool,),
    "video": (bool,),
}

# A shard's table: the movie table's columns without popularity (the export's is used), and `gone`.
SHARD_SCHEMA = pa.schema(
    [
        ("movie_id", pa.int64()),
        ("gone", pa.bool_()),
        ("title", pa.string()),
        ("overview", pa.string()),
        ("genre_ids", pa.list_(pa.int64())),
        ("release_date", pa.string()),
        ("poster_ref", pa.string()),
        ("tagline", pa.string()),
        ("keywords", pa.list_(pa.string())),
        ("companies", pa.list_(pa.string())),
        ("runtime", pa.float64()),
        ("imdb_id", pa.string()),
    ]
)


class ExportError(UserError):
    """TMDB's export cannot be downloaded or read: the message names the file (and line) and what to do."""


@dataclass(frozen=True)
class Listing:
    """The export's movies to fetch, their popularity indexed by id (ascending), and the counts by reason."""

    popularity: pd.Series
    counts: dict[str, int]


@dataclass(frozen=True)
class ExportCollection:
    """Raw movie rows (MOVIE_COLUMNS and the DETAIL_COLUMNS, by id), genre names, and the export's counts."""

    movies: pd.DataFrame
    genre_names: dict[int, str]
    report: dict[str, int]


def collect_export(client: TmdbClient, params: TmdbExportParams, progress: bool = True) -> ExportCollection:
    """The selected movies of the export of params.date, their details fetched where no shard has them.

    Details that fail after their retries leave their shard unwritten and raise TmdbIncomplete once
    every other shard is in; a bad export raises ExportError before anything is written or asked of the API.
    """
    listing = select(read_export(client.http, params), params)
    genre_names = client.genre_names()
    shards = DetailShards(Path(params.dir) / f"details-{client.language}")
    known = shards.ids()
    missing = [int(movie_id) for movie_id in listing.popularity.index if movie_id not in known]
    log.info(
        "TMDB export %s: %d selected of %d listed; %d already fetched, %d to fetch in shards of %d",
        params.date,
        listing.counts["selected"],
        listing.counts["listed"],
        listing.counts["selected"] - len(missing),
        len(missing),
        params.shard_size,
    )
    fetch_shards(client, shards, missing, params.shard_size, progress)
    movies, gone, broken = assemble(shards.table(), listing)
    log.info(
        "%d movies from the export, %d gone from TMDB, %d dropped as TMDB serves their details broken; %s",
        len(movies),
        gone,
        broken,
        client.http.summary(),
    )
    return ExportCollection(movies, genre_names, {**listing.counts, "gone": gone, "broken": broken})


def read_export(http: TmdbHttp, params: TmdbExportParams) -> pd.DataFrame:
    """The export's entries (movie_id, popularity, adult, video): from its copy in params.dir, else downloaded.

    A download is kept only once it parsed whole.
    """
    kept = Path(params.dir) / f"movie_ids_{params.date}.json.gz"
    if kept.is_file():
        return parse_export(kept.read_bytes(), str(kept), "delete it to download it again")
    url = params.export_url
    try:
        body = http.get_bytes(url, _check_gzip, cached=False)
    except TmdbRefused as err:
        raise ExportError(
            f"cannot download TMDB's export {url} ({err.reason}): is fetch_list.export.date a day TMDB "
            "published one (and fetch_list.export.url right)?"
        ) from None
    remedy = "nothing was kept or fetched: run again, or choose another fetch_list.export.date"
    entries = parse_export(body, url, remedy)
    with atomic_path(kept) as partial:
        partial.write_bytes(body)
    return entries


def _check_gzip(body: bytes, content_type: str | None) -> None:
    # An HTML error page with status 200 is a glitch like malformed JSON from the API: retried.
    if not body.startswith(GZIP_MAGIC):
        raise BadAnswer("not a gzip file")


def parse_export(body: bytes, source: str, remedy: str) -> pd.DataFrame:
    """The entries of a gzip JSON-lines export, each line checked; ExportError names `source`, the line and `remedy`.

    Blank lines are skipped; anything else that is not an object with the fields the source uses, of their
    types, is an error, and so is an id listed twice.
    """
    entries: list[tuple[int, float, bool, bool]] = []
    seen: set[int] = set()
    number = 0
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(body)) as lines:
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    entry = _entry(line)
                    if entry[0] in seen:
                        raise ValueError(f"id {entry[0]} is listed a second time")
                except ValueError as err:
                    raise ExportError(f"{source}, line {number}: {err}; {remedy}") from None
                seen.add(entry[0])
                entries.append(entry)
    except (OSError, EOFError, zlib.error) as err:  # gzip.BadGzipFile is an OSError
        raise ExportError(f"{source}: not a whole gzip file, after line {number} ({err}); {remedy}") from None
    table = pd.DataFrame.from_records(entries, columns=["movie_id", "popularity", "adult", "video"])
    return table.astype({"movie_id": "int64", "popularity": "float64", "adult": bool, "video": bool})


def _entry(line: bytes) -> tuple[int, float, bool, bool]:
    """One export line as (id, popularity, adult, video); ValueError says what is wrong with it."""
    try:
        entry = json.loads(line, parse_constant=_reject_constant)
    except json.JSONDecodeError as err:
        raise ValueError(f"not JSON ({err.msg} at character {err.pos + 1})") from None
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None
    if not isinstance(entry, dict):
        raise ValueError(f"a JSON {type(entry).__name__}, not an object")
    for name, types in EXPORT_FIELDS.items():
        if name not in entry:
            raise ValueError(f"no `{name}`")
        value = entry[name]
        if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
            raise ValueError(f"`{name}` is {json.dumps(value)}, not {' or '.join(t.__name__ for t in types)}")
    if entry["id"] <= 0:
        raise ValueError(f"`id` is {entry['id']}, not positive")
    if entry["popularity"] < 0:
        raise ValueError(f"`popularity` is {entry['popularity']}, negative")
    return entry["id"], float(entry["popularity"]), entry["adult"], entry["video"]


def _reject_constant(name: str) -> None:
    raise ValueError(f"not JSON ({name} is no JSON number)")


def select(entries: pd.DataFrame, params: TmdbExportParams) -> Listing:
    """The entries to fetch: no adult or video ones, then the popularity floor, then the max_ids most popular."""
    counts = {"listed": len(entries), "adult": int(entries["adult"].sum())}
    counts["video"] = int((entries["video"] & ~entries["adult"]).sum())  # each entry counted for one reason
    kept = entries[~entries["adult"] & ~entries["video"]]
    if params.min_popularity is not None:
        above = kept["popularity"] >= params.min_popularity
        counts["below_min_popularity"] = int((~above).sum())
        kept = kept[above]
    else:
        counts["below_min_popularity"] = 0
    kept = kept.sort_values(["popularity", "movie_id"], ascending=[False, True], kind="stable")
    counts["over_max_ids"] = 0 if params.max_ids is None else max(0, len(kept) - params.max_ids)
    if params.max_ids is not None:
        kept = kept.head(params.max_ids)
    counts["selected"] = len(kept)
    return Listing(kept.set_index("movie_id")["popularity"].sort_index(), counts)


class DetailShards:
    """The details fetched so far: `shard-NNNNNN.parquet` tables in one folder, each written atomically."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def paths(self) -> list[Path]:
        # atomic_path's temporary files start with a dot: a shard killed mid-write never matches.
        return sorted(self.folder.glob("shard-*.parquet"))

    def ids(self) -> set[int]:
        """Every id some shard holds (fetched or gone)."""
        return {int(i) for path in self.paths() for i in pd.read_parquet(path, columns=["movie_id"])["movie_id"]}

    def next_number(self) -> int:
        return max((int(path.stem.removeprefix("shard-")) for path in self.paths()), default=-1) + 1

    def write(self, number: int, rows: list[dict[str, Any]]) -> None:
        table = pd.DataFrame(rows, columns=SHARD_SCHEMA.names)
        with atomic_path(self.folder / f"shard-{number:06d}.parquet") as partial:
            table.to_parquet(partial, index=False, schema=SHARD_SCHEMA)

    def table(self) -> pd.DataFrame:
        """Every shard's rows, lists as Python lists (as read_table gives them)."""
        tables = [read_table(path) for path in self.paths()]
        return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=SHARD_SCHEMA.names)


def fetch_shards(client: TmdbClient, shards: DetailShards, ids: list[int], shard_size: int, progress: bool) -> None:
    """Fetch the details of `ids` (ascending) and write them a block of shard_size at a time, as new shards.

    Requests run ahead across shard boundaries (one ordered_map over all ids), so no worker idles while
    a shard is written. A block with a request that failed after its retries is not written; TmdbIncomplete
    then follows once every other block is in. A movie whose details are broken for good is left out of its block.
    """

    def details(movie_id: int) -> dict | Broken | None:
        return movie_details(client, movie_id)

    fetch = or_failed(details, lambda movie_id: f"movie {movie_id}")
    failures: list[Failed] = []
    with closing(ordered_map(fetch, ids, client.workers, client.window)) as answers:
        in_order: Iterator[dict | Broken | Failed | None] = iter(
            tqdm(answers, total=len(ids), desc="movie details", unit="movie", disable=not progress)
        )
        number = shards.next_number()
        for start in range(0, len(ids), shard_size):
            block = ids[start : start + shard_size]
            outcomes = list(islice(in_order, len(block)))
            failed = [outcome for outcome in outcomes if isinstance(outcome, Failed)]
            if failed:
                failures.extend(failed)
                continue
            rows = [
                shard_row(movie_id, answer)
                for movie_id, answer in zip(block, outcomes)
                if not isinstance(answer, (Broken, Failed))
            ]
            if rows:
                shards.write(number, rows)
                number += 1
    if failures:
        raise incomplete("movie details", len(ids), failures, client.http)


def shard_row(movie_id: int, answer: dict | None) -> dict[str, Any]:
    """A shard's row from a /movie/{id}?append_to_response=keywords answer; None (HTTP 404): an empty row, gone."""
    details = answer or {}
    genre_ids = [g["id"] for g in details.get("genres") or [] if isinstance(g, dict) and isinstance(g.get("id"), int)]
    fields = movie_fields({**details, "id": movie_id, "genre_ids": genre_ids})
    del fields["popularity"]  # the export's is the one used
    return {**fields, **detail_fields(details), "gone": answer is None}


def assemble(shards: pd.DataFrame, listing: Listing) -> tuple[pd.DataFrame, int, int]:
    """The selected movies' rows from the shards, by id, with the export's popularity; how many are gone; and
    how many are in no shard (after fetch_shards: those whose details TMDB serves broken for good)."""
    chosen = shards[shards["movie_id"].isin(listing.popularity.index)].sort_values("movie_id", kind="stable")
    gone = chosen["gone"].astype(bool)
    movies = chosen[~gone].assign(popularity=lambda rows: rows["movie_id"].map(listing.popularity))
    broken = len(listing.popularity) - len(chosen)
    return movies[MOVIE_COLUMNS + list(DETAIL_COLUMNS)].reset_index(drop=True), int(gone.sum()), broken
