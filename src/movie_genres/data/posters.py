"""The poster archive: one checked poster per movie, stored in one zip archive keyed by TMDB id.

One archive rather than thousands of small files keeps DVC's hashing, push and pull fast. Entries
are stored uncompressed (JPEG does not compress further) and named `<tmdb id>.jpg`: titles collide
and may contain `/`, ids do not.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd
from PIL import Image
from tqdm import tqdm

from movie_genres.files import atomic_path

log = logging.getLogger(__name__)

MISSING_COLUMNS = ["movie_id", "reason"]

# Returns the poster's bytes, or raises PosterUnavailable with the reason.
PosterSource = Callable[[int, "str | None"], bytes]


class PosterUnavailable(Exception):
    """A movie has no usable poster; the message is the reason recorded in the manifest."""


def entry_name(movie_id: int) -> str:
    return f"{movie_id}.jpg"


_OBJECT_REPR = re.compile(r" ?<[^<>]* at 0x[0-9a-fA-F]+>")


def describe_image_error(err: Exception) -> str:
    """Why an image could not be read, without the memory addresses PIL puts in its messages.

    A reason with an address would differ on every run, and a manifest that changes on every run
    makes DVC rerun everything downstream of it.
    """
    return f"{type(err).__name__}: {_OBJECT_REPR.sub('', str(err))}".rstrip(": ")


def decode_error(data: bytes) -> str | None:
    """Why `data` does not decode completely as an image, or None when it does."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()  # decodes every pixel: a truncated file fails here, not later
    except Exception as err:  # PIL raises many types for bad data
        return describe_image_error(err)
    return None


def check_image(data: bytes) -> None:
    """Raise PosterUnavailable unless `data` decodes completely as an image."""
    error = decode_error(data)
    if error is not None:
        raise PosterUnavailable(f"unreadable image: {error}")


def bundled_source(poster_dir: Path) -> PosterSource:
    def read(movie_id: int, poster_ref: str | None) -> bytes:
        path = poster_dir / (poster_ref or entry_name(movie_id))
        if not path.is_file():
            raise PosterUnavailable("no poster")
        return path.read_bytes()

    return read


def collect_posters(movies: pd.DataFrame, source: PosterSource, archive: Path, progress: bool = True) -> pd.DataFrame:
    """Fetch and check each movie's poster into `archive`; return the manifest of movies without one.

    The archive is written under a temporary name and renamed at the end (`files.atomic_path`), so an
    interrupted run never leaves a half-written archive that looks complete.
    """
    missing = []
    rows: Iterable = zip(movies["movie_id"], movies["poster_ref"])
    with atomic_path(archive) as partial, zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED) as zf:
        for movie_id, poster_ref in tqdm(rows, total=len(movies), desc="posters", unit="poster", disable=not progress):
            try:
                data = source(int(movie_id), None if pd.isna(poster_ref) else str(poster_ref))
                check_image(data)
            except PosterUnavailable as reason:
                missing.append((int(movie_id), str(reason)))
                continue
            # A fixed timestamp keeps the archive byte-identical between runs.
            zf.writestr(zipfile.ZipInfo(entry_name(int(movie_id)), date_time=(1980, 1, 1, 0, 0, 0)), data)
    if missing:
        log.warning("%d of %d movies have no usable poster (see the manifest)", len(missing), len(movies))
    return pd.DataFrame(missing, columns=MISSING_COLUMNS)


def read_missing(path: Path) -> set[int]:
    return set(pd.read_csv(path)["movie_id"].astype(int))


class PosterArchive:
    """Read access to the poster archive."""

    def __init__(self, path: Path) -> None:
        self._zip = zipfile.ZipFile(path)

    def __enter__(self) -> PosterArchive:
        return self

    def __exit__(self, *exc: object) -> None:
        self._zip.close()

    def read(self, movie_id: int) -> bytes:
        return self._zip.read(entry_name(movie_id))

    def image(self, movie_id: int) -> Image.Image:
        return decode_image(self.read(movie_id))


def decode_image(data: bytes) -> Image.Image:
    """An image file's pixels as RGB; PIL's errors for data that is not a whole image pass through."""
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB")
