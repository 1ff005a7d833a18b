"""Posters from TMDB's image server, downloaded concurrently, checked and cached (a `PosterSource`)."""

from __future__ import annotations

from contextlib import closing

import pandas as pd
from tqdm import tqdm

from movie_genres.data.posters import PosterSource, PosterUnavailable, check_image
from movie_genres.tmdb.client import TmdbClient
from movie_genres.tmdb.http import BadAnswer, TmdbError
from movie_genres.tmdb.parallel import ordered_map


def tmdb_source(client: TmdbClient, poster_url_base: str, movies: pd.DataFrame, progress: bool = True) -> PosterSource:
    """Posters from TMDB's image server (`<poster_url_base><poster_path>`), all downloaded up front.

    `client.workers` downloads run at once, under the client's rate limit, each checked (status,
    content type, a decodable image) and retried, and kept in the client's on-disk cache: the source
    returned then answers from the cache, so the archive is written in the table's order however the
    downloads finished, and a rerun after a crash downloads only what is missing.
    """
    http = client.http
    if http.cache is None:
        raise ValueError("tmdb_source needs a client with an on-disk cache")

    def download(poster_ref: str) -> str:
        try:
            http.get_bytes(poster_url_base + poster_ref, check_downloaded_image)
        except TmdbError as err:
            return f"download failed: {err}"
        return ""

    refs = list(dict.fromkeys(ref for ref in movies["poster_ref"] if isinstance(ref, str) and ref))
    with closing(ordered_map(download, refs, client.workers, client.window)) as outcomes:
        bar = tqdm(outcomes, total=len(refs), desc="poster downloads", unit="poster", disable=not progress)
        failures = {ref: reason for ref, reason in zip(refs, bar) if reason}

    def read(movie_id: int, poster_ref: str | None) -> bytes:
        if not poster_ref:
            raise PosterUnavailable("no poster")
        if poster_ref in failures:
            raise PosterUnavailable(failures[poster_ref])
        return http.get_bytes(poster_url_base + poster_ref, check_downloaded_image)

    return read


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
