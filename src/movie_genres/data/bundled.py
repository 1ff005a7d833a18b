"""The bundled source: the TMDB 5000 table (data/bundled/movies.csv), read strictly into the normalised
columns, and checked against the checksum the repository records for it."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pandas as pd
from pydantic import TypeAdapter, ValidationError
from typing_extensions import TypedDict

from movie_genres.data.contract import CsvRows, check_movies, read_csv_strictly, shown, table_error, verify_checksum

Cell = TypeVar("Cell")

# The CSV's columns the pipeline reads, and the normalised columns some of them become.
COLUMNS = (
    "id",
    "title",
    "overview",
    "genres",
    "release_date",
    "popularity",
    "tagline",
    "keywords",
    "production_companies",
    "runtime",
)
CSV_NAMES = {"movie_id": "id", "genre_ids": "genres", "companies": "production_companies"}


class Genre(TypedDict):
    id: int
    name: str


class Named(TypedDict):
    name: str


# The JSON cells: lists of {"id", "name"} (genres, keywords) or {"name", ...} (companies), other keys ignored.
_GENRES = TypeAdapter(list[Genre])
_NAMED = TypeAdapter(list[Named])
_DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


def read_bundled_movies(csv_path: Path, remedy: str = "") -> tuple[pd.DataFrame, dict[int, str]]:
    """Raw rows and the genre names of the TMDB 5000 table, or a TableError naming the line and column
    of the first cell that breaks the contract (`remedy`, if any, ends its message)."""
    csv_rows = read_csv_strictly(csv_path, COLUMNS, remedy)

    def parsed(column: str, parse: Callable[[str], Cell]) -> list[Cell]:
        return _parsed_column(csv_rows, column, parse, remedy)

    ids = parsed("id", _whole_number)
    genre_lists = parsed("genres", lambda cell: _GENRES.validate_json(cell, strict=True) if cell else [])
    genre_names = {genre["id"]: genre["name"] for genres in genre_lists for genre in genres}
    raw = pd.DataFrame(
        {
            "movie_id": pd.Series(ids, dtype="int64"),
            "title": _texts(csv_rows.column("title")),
            "overview": _texts(csv_rows.column("overview")),
            "genre_ids": [[genre["id"] for genre in genres] for genres in genre_lists],
            "release_date": _texts(csv_rows.column("release_date")),
            "popularity": pd.Series(parsed("popularity", _decimal), dtype="float64"),
            "poster_ref": [f"{movie_id}.jpg" for movie_id in ids],
            "tagline": pd.Series(csv_rows.column("tagline")).astype(str),
            "keywords": parsed("keywords", _names),
            "companies": parsed("production_companies", _names),
            "runtime": pd.Series(parsed("runtime", lambda cell: _decimal(cell) if cell else math.nan), dtype="float64"),
        }
    )
    check_movies(raw, str(csv_path), csv_rows.line, CSV_NAMES, remedy)
    return raw, genre_names


def read_recorded_table(csv_path: Path) -> tuple[pd.DataFrame, dict[int, str]]:
    """The bundled table as the repository records it: read strictly, then compared with its checksum
    (which catches a table cut off at the end of a row, or edited)."""
    table = read_bundled_movies(csv_path, remedy=f"`git checkout {csv_path}` restores the bundled table")
    verify_checksum(csv_path)
    return table


def _parsed_column(csv_rows: CsvRows, column: str, parse: Callable[[str], Cell], remedy: str) -> list[Cell]:
    """Every cell of `column` parsed, or a TableError naming the first that fails (and how many more do)."""
    values: list[Cell] = []
    failures: list[tuple[int, str, ValueError]] = []
    for row, cell in enumerate(csv_rows.column(column)):
        try:
            values.append(parse(cell))
        except ValueError as err:  # pydantic's ValidationError is one
            failures.append((row, cell, err))
    if failures:
        first_row, first_cell, first_error = failures[0]
        more = f" ({len(failures) - 1} more rows fail this column)" if len(failures) > 1 else ""
        where = f"{csv_rows.line(first_row)}, column {column}"
        raise table_error(str(csv_rows.path), where, f"{shown(first_cell)}: {_reason(first_error)}{more}", remedy)
    return values


def _reason(err: ValueError) -> str:
    """What is wrong with a cell, in one line: pydantic's first error (where in the JSON, and what), or the
    error's own message."""
    if not isinstance(err, ValidationError):
        return str(err)
    first = err.errors()[0]
    inside = "".join(f"[{part!r}]" for part in first["loc"])
    return f"{first['msg']}" + (f" at {inside}" if inside else "")


def _whole_number(cell: str) -> int:
    if not cell.isascii() or not cell.isdigit():
        raise ValueError("not a whole number")
    return int(cell)


def _decimal(cell: str) -> float:
    if not _DECIMAL.fullmatch(cell):
        raise ValueError("not a number")
    return float(cell)


def _names(cell: str) -> list[str]:
    return [item["name"] for item in _NAMED.validate_json(cell, strict=True)] if cell else []


def _texts(cells: list[str]) -> pd.Series:
    """A text column as pandas reads it: an empty cell is missing (NA)."""
    return pd.Series([cell or pd.NA for cell in cells], dtype="string")
