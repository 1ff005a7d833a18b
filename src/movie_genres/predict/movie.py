"""A movie to predict: what the user gave (title, overview, poster, details), and the errors they can fix.

A movie comes from command-line flags, from a JSON object (`--movie`, one line of `--input`), or from
a CSV row; each of them names the same fields: `title`, `overview`, `poster` (an image file),
`tagline`, `keywords`, `companies` (lists, comma-separated text, or a JSON list as text for names
with commas), `runtime` (minutes) and
`release_date` (YYYY-MM-DD or YYYY).

A field that cannot be read (a poster that is not an image, a runtime that is not a number) is left
out of the movie and recorded in `problems`: it fails the movie only if the model that predicts it
reads that field, and is otherwise ignored with a warning.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from movie_genres.data.contract import is_iso_day
from movie_genres.data.dataset import DETAIL_COLUMNS
from movie_genres.data.posters import decode_error
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
_WORD = re.compile(r"\S+")
# Words of an overview that predict reads; the rest is cut, so that time and memory stay bounded. Above
# MiniLM's window (at most 256 word pieces, each word at least one) and every training overview (the
# bundled table's longest has 175 words), so no model reads less than it would of the whole text.
OVERVIEW_MAX_WORDS = 1000


@dataclass
class MovieInput:
    title: str = ""
    overview: str | None = None
    poster: bytes | None = None  # the image file, checked to decode (kept compressed: a batch holds thousands)
    details: dict[str, Any] = field(default_factory=dict)  # DETAIL_FIELDS; see `parse_detail`
    problems: dict[str, str] = field(default_factory=dict)  # an input field left out -> why it could not be read
    notes: list[str] = field(default_factory=list)  # warnings about what was read (an overview cut short)

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

    def available(self, with_problems: bool = False) -> set[str]:
        """The kinds of input a model may need: overview, poster, details (any detail field); with
        `with_problems`, also the kinds of the fields given that could not be read."""
        given = self.given() | (set(self.problems) if with_problems else set())
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


def parse_detail(key: str, value: Any) -> Any:
    """A detail field (DETAIL_FIELDS) of a flag, JSON object or CSV row, checked; None when missing or empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return None
    if key in ("keywords", "companies"):
        return _names(value, key) or None
    if key == "runtime":
        try:
            minutes = float(value)
        except (TypeError, ValueError):
            raise PredictError(f"runtime must be a number of minutes, not {value!r}") from None
        if not minutes > 0 or math.isinf(minutes):
            raise PredictError(f"runtime must be a positive number of minutes, not {value!r}")
        return minutes
    if key == "release_date":
        return _release_date(value)
    return str(value).strip()


def _release_date(value: Any) -> str:
    text = str(value).strip()
    if not _DATE.match(text):
        raise PredictError(f"release date must look like 1999-03-31 or 1999, not {value!r}")
    if len(text) > 4 and not is_iso_day(text):
        raise PredictError(f"release date {text} is not a day of the calendar: give YYYY-MM-DD or YYYY")
    return text


def read_file(path: Path, what: str) -> bytes:
    """A file's bytes, or an error naming the file (`what` says which file it is to the user)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise PredictError(f"{what} {path} not found") from None
    except OSError as err:  # a folder, no permission, ...
        raise PredictError(f"{what} {path} cannot be read ({err.strerror or err})") from None


def read_poster(path: Path) -> bytes:
    """A poster file's bytes, once they have decoded as a whole image."""
    data = read_file(path, "poster")
    error = decode_error(data)
    if error is not None:
        raise PredictError(f"poster {path} is not a readable image ({error})")
    return data


def read_text_file(path: Path, what: str) -> str:
    """A UTF-8 text file's content, or an error naming the file."""
    data = read_file(path, what)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise PredictError(
            f"{what} {path} is not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start}): save it as UTF-8"
        ) from None


def cut_overview(overview: str) -> tuple[str, str | None]:
    """The overview up to OVERVIEW_MAX_WORDS words, and a warning when it was longer."""
    for number, word in enumerate(_WORD.finditer(overview), start=1):
        if number > OVERVIEW_MAX_WORDS:
            words = number - 1 + sum(1 for _ in _WORD.finditer(overview, word.start()))
            return overview[: word.start()].rstrip(), (
                f"the overview has {words} words: only its first {OVERVIEW_MAX_WORDS} are read "
                "(more than any model reads of an overview)"
            )
    return overview, None


def movie_from_mapping(values: Mapping[str, Any], base: Path = Path()) -> MovieInput:
    """A movie from a JSON object or CSV row; a relative poster path is taken from the folder `base`.

    A field that cannot be read is left out and recorded in `problems` (see the module's docstring).
    """
    movie = MovieInput()
    for key in ("title", "overview"):
        value = values.get(key)
        if isinstance(value, str):
            setattr(movie, key, value)
        elif _present(value):
            movie.problems[key] = f"{key} must be text, not {value!r}"
    if movie.overview is not None:
        movie.overview, note = cut_overview(movie.overview)
        movie.notes += [note] if note else []
    poster_ref = next((values[k] for k in POSTER_KEYS if _present(values.get(k))), None)
    try:
        if poster_ref is not None and not isinstance(poster_ref, str | Path):
            raise PredictError(f"poster must be an image file's path, not {poster_ref!r}")
        movie.poster = read_poster(base / poster_ref) if poster_ref is not None else None
    except PredictError as err:
        movie.problems["poster"] = str(err)
    for key in DETAIL_FIELDS:
        try:
            value = parse_detail(key, values.get(key))
        except PredictError as err:
            movie.problems[key] = str(err)
            continue
        if value is not None:
            movie.details[key] = value
    return movie
