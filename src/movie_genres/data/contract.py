"""The movie table's data contract, whatever the source: the type of every cell of the normalised
table, CSV files read strictly, and the bundled table's recorded checksum.

fetch_list checks the table its source gives before anything else runs on it. A table that breaks the
contract stops the stage with one line naming the file (or source), the row and the column, so no
later stage ever runs on it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import GenericAlias
from typing import Annotated, Any, cast

import pandas as pd
from pydantic import AfterValidator, BeforeValidator, Field, TypeAdapter, ValidationError

from movie_genres.data.dataset import MOVIE_COLUMNS, ListReport
from movie_genres.errors import UserError


class TableError(UserError):
    """A movie table breaks the contract: the message names the file or source, the row and the column."""


def table_error(source: str, where: str, problem: str, remedy: str = "") -> TableError:
    """One line: `<file>: <line or row>[, column <name>]: <problem>[; <remedy>]`."""
    return TableError(f"{source}: {where}: {problem}" + (f"; {remedy}" if remedy else ""))


def shown(value: object, limit: int = 60) -> str:
    """A cell as a message quotes it: its repr, cut to `limit` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- The normalised table ---------------------------------------------------------------------------


def _missing_as_none(value: object) -> object:
    # pandas marks a missing text NA (string dtype) or NaN (object dtype); the schema says None.
    return None if value is pd.NA or (isinstance(value, float) and math.isnan(value)) else value


def _iso_day_or_unknown(day: str | None) -> str | None:
    if day and not is_iso_day(day):
        raise ValueError("must be a real day as YYYY-MM-DD, or empty when unknown")
    return day


def is_iso_day(text: str) -> bool:
    """Whether `text` is a real day as YYYY-MM-DD (not 2014-13-45)."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:  # 2014-13-45
        return False
    return True


def _minutes_or_unknown(minutes: float) -> float:
    if not (math.isnan(minutes) or minutes >= 0):
        raise ValueError("must be 0 or more minutes, or NaN when unknown")
    return minutes


OptionalText = Annotated[str | None, BeforeValidator(_missing_as_none)]

# Every column of the normalised table and the type each of its cells must have: MOVIE_COLUMNS, which
# every source gives, then DETAIL_COLUMNS, which a source that did not fetch them leaves out.
CELL_TYPES: dict[str, Any] = {
    "movie_id": Annotated[int, Field(gt=0)],
    "title": OptionalText,
    "overview": OptionalText,  # a movie without one is dropped by the normaliser, and counted
    "genre_ids": list[Annotated[int, Field(gt=0)]],  # empty: dropped by the normaliser, and counted
    "release_date": Annotated[OptionalText, AfterValidator(_iso_day_or_unknown)],
    "popularity": Annotated[float, Field(ge=0, allow_inf_nan=False)],
    "poster_ref": OptionalText,
    "tagline": str,
    "keywords": list[str],
    "companies": list[str],
    "runtime": Annotated[float, AfterValidator(_minutes_or_unknown)],
    "imdb_id": str,
}
# A column is checked as one list (pydantic's loop, not Python's): its errors' locations start with the row.
_COLUMN_CHECKS: dict[str, TypeAdapter[list[Any]]] = {
    column: TypeAdapter(cast("type[list[Any]]", GenericAlias(list, (cell_type,))))
    for column, cell_type in CELL_TYPES.items()
}


def check_movies(
    table: pd.DataFrame,
    source: str,
    row_name: Callable[[int], str],
    column_names: Mapping[str, str] | None = None,
    remedy: str = "",
) -> None:
    """Raise a TableError for the first column of `table` that breaks the contract: missing, or with a
    cell of the wrong type or out of range (the first such row, and how many more there are).

    `row_name(i)` names the i-th row for the message (a CSV line, a movie id); `column_names` maps a
    normalised column to the name the source calls it.
    """
    called = column_names or {}
    missing = [column for column in MOVIE_COLUMNS if column not in table]
    if missing:
        raise table_error(source, "the table", f"no column {called.get(missing[0], missing[0])!r}", remedy)
    for column, column_check in _COLUMN_CHECKS.items():
        if column not in table:  # a detail the source did not fetch
            continue
        try:
            column_check.validate_python(table[column].tolist(), strict=True)
        except ValidationError as err:
            failures = err.errors()
            first = failures[0]
            bad_rows = len({failure["loc"][0] for failure in failures})
            more = f" ({bad_rows - 1} more rows fail this column)" if bad_rows > 1 else ""
            where = f"{row_name(int(first['loc'][0]))}, column {called.get(column, column)}"
            raise table_error(source, where, f"{shown(first['input'])}: {first['msg']}{more}", remedy) from None


def require_movies(report: ListReport, source: str) -> None:
    """A normalised table with no movie is an error here, at the first stage, not an obscure one later."""
    if report.kept == 0:
        dropped = ", ".join(f"{reason} {n}" for reason, n in report.dropped.items() if n) or "none"
        raise TableError(f"{source}: no movie to model, of the {report.movies_in} read (dropped: {dropped})")


# --- CSV files, read strictly -----------------------------------------------------------------------


@dataclass(frozen=True)
class CsvRows:
    """The rows of a CSV file under its header, each with the line it starts on (a quoted field can
    span lines)."""

    path: Path
    header: list[str]
    rows: list[list[str]]
    lines: list[int]

    def column(self, name: str) -> list[str]:
        at = self.header.index(name)
        return [row[at] for row in self.rows]

    def line(self, row: int) -> str:
        return f"line {self.lines[row]}"


def read_csv_strictly(path: Path, required: Sequence[str], remedy: str = "") -> CsvRows:
    """Every row of a UTF-8 CSV file with a header, or a TableError naming the line for: an empty file,
    text that is not UTF-8, a quote never closed, a row with other than the header's number of fields
    (a file cut off mid-row), a `required` column missing, or no row at all. Blank lines are skipped."""
    source = str(path)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        problem = f"not UTF-8 text (byte {data[err.start]:#04x} at offset {err.start})"
        raise table_error(source, f"line {line}", problem, remedy) from None
    last_line = text.count("\n") + (not text.endswith("\n"))
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    read_to = 0  # the last line the reader has consumed
    try:
        for fields in reader:
            start, read_to = read_to + 1, reader.line_num
            if not fields:
                continue
            if header is None:
                header = fields
            elif len(fields) != len(header):
                ends_mid_row = read_to == last_line and not text.endswith("\n")
                cut = " (the file ends mid-row: cut off?)" if ends_mid_row else ""
                problem = f"{len(fields)} fields where the header has {len(header)}{cut}"
                raise table_error(source, f"line {start}", problem, remedy)
            else:
                rows.append(fields)
                lines.append(start)
    except csv.Error as err:
        never_closed = " (a quote that opens here is never closed: cut off?)" if "end of data" in str(err) else ""
        raise table_error(source, f"line {read_to + 1}", f"not valid CSV: {err}{never_closed}", remedy) from None
    if header is None:
        raise table_error(source, "line 1", "the file is empty: no header, no movie", remedy)
    missing = [column for column in required if column not in header]
    if missing:
        problem = f"no column {missing[0]!r} in the header {shown(','.join(header), 120)}"
        raise table_error(source, "line 1", problem, remedy)
    if not rows:
        raise table_error(source, "line 2", "no movie: the file holds only its header", remedy)
    return CsvRows(path, header, rows, lines)


# --- The bundled table's checksum ------------------------------------------------------------------


def checksum_file(path: Path) -> Path:
    """Where a file's SHA-256 is recorded, in `sha256sum` format (`sha256sum -c` checks it)."""
    return path.with_name(path.name + ".sha256")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def record_checksum(path: Path) -> None:
    """Record `path`'s SHA-256 beside it: the table is then accepted as it is now."""
    checksum_file(path).write_text(f"{sha256(path)}  {path}\n")


def verify_checksum(path: Path) -> None:
    """A TableError unless `path` is byte for byte the file its checksum file records.

    Reading strictly cannot tell a table cut off at the end of a row, or edited, from a whole one; the
    recorded checksum can.
    """
    recorded_in = checksum_file(path)
    try:
        recorded = recorded_in.read_text().split()[0]
    except (FileNotFoundError, IndexError):
        raise TableError(f"{recorded_in} is missing or empty: `git checkout {recorded_in}` restores it") from None
    actual = sha256(path)
    if actual != recorded:
        raise TableError(
            f"{path}: not the table {recorded_in} records (SHA-256 {actual[:12]}…, recorded {recorded[:12]}…):"
            f" cut off or edited? `git checkout {path}` restores it; to use a changed table on purpose,"
            f" record its checksum: `sha256sum {path} > {recorded_in}`"
        )
