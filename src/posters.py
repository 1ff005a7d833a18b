"""Posters: fetched one per movie, checked, and stored in one zip archive keyed by TMDB id.

One archive rather than thousands of small files keeps DVC's hashing, push and pull fast. Entries
are stored uncompressed (JPEG does not compress further) and named `<tmdb id>.jpg`: titles collide
and may contain `/`, ids do not.
"""

from __future__ import annotations

import io
import logging
import os
import zipfile
from contextlib import closing
from pathlib import Path
from typing import Callable, Iterable

import pandas as pd
from PIL import Image
from tqdm import tqdm

from src.parallel import ordered_map
from src.tmdb_client import TmdbClient
from src.tmdb_http import BadAnswer, TmdbError

log = logging.getLogger(__name__)

MISSING_COLUMNS = ["movie_id", "reason"]

# Returns the poster's bytes, or raises PosterUnavailable with the reason.
PosterSource = Callable[[int, "str | None"], bytes]


class PosterUnavailable(Exception):
    """A movie has no usable poster; the message is the reason recorded in the manifest."""


def entry_name(movie_id: int) -> str:
    return f"{movie_id}.jpg"


def check_image(data: bytes) -> None:
    """Raise PosterUnavailable unless `data` decodes completely as an image."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()  # decodes every pixel: a truncated file fails here, not later
    except Exception as err:  # PIL raises many types for bad data
        raise PosterUnavailable(f"unreadable image: {err}") from None


def bundled_source(poster_dir: Path) -> PosterSource:
    def read(movie_id: int, poster_ref: str | None) -> bytes:
        path = poster_dir / (poster_ref or entry_name(movie_id))
        if not path.is_file():
            raise PosterUnavailable("no poster")
        return path.read_bytes()

    return read


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


def collect_posters(
    movies: pd.DataFrame, source: PosterSource, archive: Path, progress: bool = True
) -> pd.DataFrame:
    """Fetch and check each movie's poster into `archive`; return the manifest of movies without one.

    The archive is written under a temporary name and renamed at the end, so an interrupted run
    never leaves a half-written archive that looks complete.
    """
    archive.parent.mkdir(parents=True, exist_ok=True)
    partial = archive.with_name(archive.name + ".partial")
    missing = []
    rows: Iterable = zip(movies["movie_id"], movies["poster_ref"])
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED) as zf:
        for movie_id, poster_ref in tqdm(rows, total=len(movies), desc="posters", unit="poster", disable=not progress):
            try:
                data = source(int(movie_id), None if pd.isna(poster_ref) else str(poster_ref))
                check_image(data)
            except PosterUnavailable as reason:
                missing.append((int(movie_id), str(reason)))
                continue
            # A fixed timestamp keeps the archive byte-identical between runs.
            zf.writestr(zipfile.ZipInfo(entry_name(int(movie_id)), date_time=(1980, 1, 1, 0, 0, 0)), data)
    os.replace(partial, archive)
    if missing:
        log.warning("%d of %d movies have no usable poster (see the manifest)", len(missing), len(movies))
    return pd.DataFrame(missing, columns=MISSING_COLUMNS)


def read_missing(path: Path) -> set[int]:
    return set(pd.read_csv(path)["movie_id"].astype(int))


class PosterArchive:
    """Read access to the poster archive."""

    def __init__(self, path: Path) -> None:
        self._zip = zipfile.ZipFile(path)

    def __enter__(self) -> "PosterArchive":
        return self

    def __exit__(self, *exc: object) -> None:
        self._zip.close()

    def read(self, movie_id: int) -> bytes:
        return self._zip.read(entry_name(movie_id))

    def image(self, movie_id: int) -> Image.Image:
        with Image.open(io.BytesIO(self.read(movie_id))) as image:
            return image.convert("RGB")
