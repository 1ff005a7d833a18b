"""Posters from TMDB's image server, downloaded concurrently, checked and cached (a `PosterSource`)."""

from __future__ import annotations

from contextlib import closing

import pandas as pd
from tqdm import tqdm

from movie_genres.data.posters import PosterSource, PosterUnavailable, check_image
from movie_genres.parallel import ordered_map
from movie_genres.tmdb.client import TmdbClient
from movie_genres.tmdb.failures import Failed, incomplete, or_failed
from movie_genres.tmdb.http import BadAnswer, TmdbBroken, TmdbNotFound, TmdbRefused

NOT_ON_TMDB = "not on TMDB (HTTP 404)"
# How the manifest's reason starts for a poster served broken on every try in two runs (tmdb.broken).
BROKEN_ON_TMDB = "broken on TMDB"


def tmdb_source(client: TmdbClient, poster_url_base: str, movies: pd.DataFrame, progress: bool = True) -> PosterSource:
    """Posters from TMDB's image server (`<poster_url_base><poster_path>`), all downloaded up front.

    `client.workers` downloads run at once, under the client's rate limit, each checked (status,
    content type, a decodable image) and retried, and kept in the client's on-disk cache: the source
    returned then answers from the cache, so the archive is written in the table's order however the
    downloads finished, and a rerun after a crash downloads only what is missing.

    What TMDB says for good (a 404, another refusal, a poster served broken on every try in two runs)
    becomes the movie's reason for having no poster.
    Downloads that fail after their retries raise TmdbIncomplete once all the others are in: they
    are never recorded as a movie without poster.
    """
    http = client.http
    if http.cache is None:
        raise ValueError("tmdb_source needs a client with an on-disk cache")

    def download(poster_ref: str) -> str:
        """'' once the poster is in the cache, else why TMDB has none."""
        try:
            http.get_bytes(poster_url_base + poster_ref, check_downloaded_image, droppable=True)
        except TmdbNotFound:
            return NOT_ON_TMDB
        except TmdbBroken as err:
            return f"{BROKEN_ON_TMDB} ({err.reason})"
        except TmdbRefused as err:
            return f"refused by TMDB ({err.reason})"
        return ""

    owners = _first_movie_of_each_poster(movies)
    refs = list(owners)
    download_or_failed = or_failed(download, lambda ref: f"movie {owners[ref]}")
    refused: dict[str, str] = {}
    failures: list[Failed] = []
    with closing(ordered_map(download_or_failed, refs, client.workers, client.window)) as outcomes:
        bar = tqdm(outcomes, total=len(refs), desc="poster downloads", unit="poster", disable=not progress)
        for ref, outcome in zip(refs, bar):
            if isinstance(outcome, Failed):
                failures.append(outcome)
            elif outcome:
                refused[ref] = outcome
    if failures:
        raise incomplete("poster downloads", len(refs), failures, http)

    def read(movie_id: int, poster_ref: str | None) -> bytes:
        if not poster_ref:
            raise PosterUnavailable("no poster")
        if poster_ref in refused:
            raise PosterUnavailable(refused[poster_ref])
        return http.get_bytes(poster_url_base + poster_ref, check_downloaded_image)

    return read


def _first_movie_of_each_poster(movies: pd.DataFrame) -> dict[str, int]:
    """Each distinct poster reference, in table order, with the first movie that has it."""
    owners: dict[str, int] = {}
    for movie_id, ref in zip(movies["movie_id"], movies["poster_ref"]):
        if isinstance(ref, str) and ref:
            owners.setdefault(ref, int(movie_id))
    return owners


def check_downloaded_image(body: bytes, content_type: str | None) -> None:
    """Raise BadAnswer (so the download is retried) unless a download is a whole image; a cached one passed already."""
    if content_type is None:
        return
    if not content_type.startswith("image/"):
        raise BadAnswer(f"not an image (Content-Type {content_type or 'missing'})")
    try:
        check_image(body)
    except PosterUnavailable as err:
        raise BadAnswer(str(err)) from None
