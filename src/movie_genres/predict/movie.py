"""A movie to predict: what the user gave (title, overview, poster, details), and the errors they can fix.

A movie comes from command-line flags, from a JSON object (`--movie`, one line of `--input`), or from
a CSV row; each of them names the same fields: `title`, `overview`, `poster` (an image file),
`tagline`, `keywords`, `companies` (lists, comma-separated text, or a JSON list as text for names
with commas), `runtime` (minutes) and
`release_date` (YYYY-MM-DD or YYYY).
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from PIL import Image

from movie_genres.data.dataset import DETAIL_COLUMNS
from movie_genres.data.posters import describe_image_error
from movie_genres.errors import UserError


class PredictError(UserError, RuntimeError):
    """The inputs or the trained models do not allow a prediction; the message says what to do."""


class ModelFilesError(PredictError):
    """The trained files do not allow any prediction: an unknown model, a missing or damaged file."""


# The movie's details a model can use (the detail features), in the order they are reported.
DETAIL_FIELDS = ("tagline", "keywords", "companies", "runtime", "release_date")
# Every input a user can give, in the order they are reported.
INPUT_FIELDS = ("title", "overview", "poster", *DETAIL_FIELDS)
# Other names accepted for the poster's file in a JSON object or CSV row.
POSTER_KEYS = ("poster", "poster_path", "poster_file")

_DATE = re.compile(r"^\d{4}(-\d{2}-\d{2})?$")


@dataclass
class MovieInput:
    title: str = ""
    overview: str | None = None
    poster: Image.Image | None = None
    details: dict[str, Any] = field(default_factory=dict)  # DETAIL_FIELDS; see `parse_details`

    def given(self) -> set[str]:
        """The inputs the user gave, by name (INPUT_FIELDS)."""
        have = {name for name in DETAIL_FIELDS if _present(self.details.get(name))}
        if self.title.strip():
            have.add("title")
        if self.overview and self.overview.strip():
            have.add("overview")
        if self.poster is not None:
            have.add("poster")
        return have

    def available(self) -> set[str]:
        """The kinds of input a model may need: overview, poster, details (any detail field)."""
        given = self.given()
        kinds = given & {"overview", "poster"}
        if given & set(DETAIL_FIELDS):
            kinds.add("details")
        return kinds

    def row(self) -> dict[str, Any]:
        """The movie as a row of the movie table, the shape the featurizers were fitted on."""
        return {
            **DETAIL_COLUMNS,
            "release_date": "",
            **{k: v for k, v in self.details.items() if _present(v)},
            "title": self.title,
            "overview": self.overview or "",
        }

    def frame(self) -> pd.DataFrame:
        return movies_frame([self])


def movies_frame(movies: list[MovieInput]) -> pd.DataFrame:
    """Movies as a movie table, one row each, in order."""
    return pd.DataFrame([m.row() for m in movies], columns=list(movies[0].row()) if movies else None)


def ordered(names: set[str]) -> list[str]:
    return [name for name in INPUT_FIELDS if name in names]


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, float):
        return not math.isnan(value)
    if isinstance(value, str | list | tuple):
        return len(value) > 0
    return True


def _names(value: Any, key: str) -> list[str]:
    """Names from a list, from comma-separated text, or from a JSON list in text (for names with commas)."""
    if isinstance(value, str) and value.strip().startswith("["):
        try:
            value = json.loads(value)
        except ValueError:
            raise PredictError(f"{key} starts with [ but is not a JSON list of names: {value!r}") from None
        if not isinstance(value, list):
            raise PredictError(f"{key} starts with [ but is not a JSON list of names")
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, list | tuple):
        items = [str(v) for v in value]
    else:
        raise PredictError(f"{key} must be a list or comma-separated text, not {value!r}")
    return [item.strip() for item in items if item.strip()]


def parse_details(values: Mapping[str, Any]) -> dict[str, Any]:
    """The detail fields of a flag set, JSON object or CSV row, checked; missing or empty ones left out."""
    details: dict[str, Any] = {}
    for key in DETAIL_FIELDS:
        value = values.get(key)
        if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
            continue
        if key in ("keywords", "companies"):
            names = _names(value, key)
            if names:
                details[key] = names
        elif key == "runtime":
            try:
                minutes = float(value)
            except (TypeError, ValueError):
                raise PredictError(f"runtime must be a number of minutes, not {value!r}") from None
            if not minutes > 0 or math.isinf(minutes):
                raise PredictError(f"runtime must be a positive number of minutes, not {value!r}")
            details[key] = minutes
        elif key == "release_date":
            date = str(value).strip()
            if not _DATE.match(date):
                raise PredictError(f"release date must look like 1999-03-31 or 1999, not {value!r}")
            details[key] = date
        else:
            details[key] = str(value).strip()
    return details


def read_file(path: Path, what: str) -> bytes:
    """A file's bytes, or an error naming the file (`what` says which file it is to the user)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise PredictError(f"{what} {path} not found") from None
    except OSError as err:  # a folder, no permission, ...
        raise PredictError(f"{what} {path} cannot be read ({err.strerror or err})") from None


def read_poster(path: Path) -> Image.Image:
    data = read_file(path, "poster")
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.convert("RGB")
    except Exception as err:  # PIL raises many types for bad data
        raise PredictError(f"poster {path} is not a readable image ({describe_image_error(err)})") from None


def read_text_file(path: Path, what: str) -> str:
    """A UTF-8 text file's content, or an error naming the file."""
    data = read_file(path, what)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise PredictError(
            f"{what} {path} is not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start}): save it as UTF-8"
        ) from None


def movie_from_mapping(values: Mapping[str, Any], base: Path = Path()) -> MovieInput:
    """A movie from a JSON object or CSV row; a relative poster path is taken from the folder `base`."""
    title = values.get("title")
    overview = values.get("overview")
    for key, value in (("title", title), ("overview", overview)):
        if value is not None and not isinstance(value, str) and not (isinstance(value, float) and math.isnan(value)):
            raise PredictError(f"{key} must be text, not {value!r}")
    poster_ref = next((values[k] for k in POSTER_KEYS if _present(values.get(k))), None)
    poster = None
    if poster_ref is not None:
        if not isinstance(poster_ref, str):
            raise PredictError(f"poster must be an image file's path, not {poster_ref!r}")
        poster = read_poster(base / poster_ref)
    return MovieInput(
        title=title if isinstance(title, str) else "",
        overview=overview if isinstance(overview, str) else None,
        poster=poster,
        details=parse_details(values),
    )
