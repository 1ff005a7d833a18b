"""The bundled source on bad copies of the real table: one line naming the file, the line and the column;
through the fetch_list stage, exit status 2 and no output written."""

from __future__ import annotations

import json
import logging
import random
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from movie_genres import paths
from movie_genres.data.bundled import read_bundled_movies, read_recorded_table
from movie_genres.data.contract import TableError, checksum_file, record_checksum
from stages import fetch_list
from tests.data.bad_tables import BUNDLED, csv_bytes, movie_rows, with_cell
from tests.tmdb.stage_runs import run_in, stage_error


def _without_column(column: str) -> bytes:
    rows = movie_rows(5)
    at = rows[0].index(column)
    return csv_bytes([row[:at] + row[at + 1 :] for row in rows])


def _cut_in_half() -> bytes:
    data = BUNDLED.read_bytes()
    return data[: len(data) // 2]


def _random_bytes() -> bytes:
    return random.Random(21).randbytes(4096)


# Each bad table, and the start of the one line it must give after the file's name.
BAD_TABLES: dict[str, tuple[Callable[[], bytes], str]] = {
    "random bytes": (_random_bytes, r"line \d+: not UTF-8 text \(byte 0x[0-9a-f]{2} at offset \d+\)"),
    "an empty file": (lambda: b"", r"line 1: the file is empty: no header, no movie"),
    "a missing column": (lambda: _without_column("genres"), r"line 1: no column 'genres' in the header 'budget,"),
    "a non-numeric id": (lambda: with_cell(3, "id", "12a"), r"line 4, column id: '12a': not a whole number"),
    "broken genres JSON": (
        lambda: with_cell(2, "genres", '[{"id": 28, "name": "Action"'),
        r"line 3, column genres: '\[\{\"id\": 28, \"name\": \"Action\"': Invalid JSON: EOF while parsing",
    ),
    "a genre id that is text": (
        lambda: with_cell(2, "genres", '[{"id": "28", "name": "Action"}]'),
        r"line 3, column genres: .*: Input should be a valid integer at \[0\]\['id'\]",
    ),
    "a negative popularity": (
        lambda: with_cell(5, "popularity", "-3.5"),
        r"line 6, column popularity: -3.5: Input should be greater than or equal to 0",
    ),
    "an impossible release date": (
        lambda: with_cell(1, "release_date", "2014-13-45"),
        r"line 2, column release_date: '2014-13-45': Value error, must be a real day as YYYY-MM-DD",
    ),
    "a CSV cut off mid-row": (_cut_in_half, r"line \d+: .*cut off\?\)"),
    "a header-only CSV": (lambda: csv_bytes(movie_rows(0)), r"line 2: no movie: the file holds only its header"),
}


@pytest.mark.parametrize("case", list(BAD_TABLES))
def test_a_bad_table_is_one_line_naming_the_file_line_and_column(case, tmp_path):
    make, message = BAD_TABLES[case]
    table = tmp_path / "movies.csv"
    table.write_bytes(make())
    with pytest.raises(TableError) as error:
        read_bundled_movies(table)
    assert re.match(f"{re.escape(str(table))}: {message}", str(error.value)), str(error.value)
    assert "\n" not in str(error.value)


def test_the_table_cut_in_half_names_the_line_the_cut_falls_in(tmp_path):
    """The issue's case, which kept 2,313 of the 4,803 movies without a word."""
    table = tmp_path / "movies.csv"
    table.write_bytes(_cut_in_half())
    last_line = table.read_bytes().count(b"\n") + 1
    with pytest.raises(TableError, match=f"^{table}: line {last_line}: "):
        read_bundled_movies(table)


def test_a_table_cut_at_the_end_of_a_row_reads_but_fails_its_checksum(tmp_path):
    table = tmp_path / "movies.csv"
    shutil.copy(checksum_file(BUNDLED), checksum_file(table))
    lines = BUNDLED.read_bytes().split(b"\n")
    table.write_bytes(b"\n".join(lines[:2000]) + b"\n")
    assert len(read_bundled_movies(table)[0]) < 2000  # a CSV whole to the eye
    with pytest.raises(TableError, match=rf"^{table}: not the table .* `git checkout {table}` restores it"):
        read_recorded_table(table)
    record_checksum(table)  # a deliberately smaller table, accepted
    assert len(read_recorded_table(table)[0]) < 2000


# --- Through the stage ------------------------------------------------------------------------------

OUTPUTS = (paths.MOVIES, paths.GENRES, paths.data_report("fetch_list"), paths.data_metrics("fetch_list"))


def _bundled_repo(in_tmp_repo: Path, table: bytes) -> dict[Path, bytes]:
    """`in_tmp_repo` with `table` as its bundled table (its checksum recorded) and stand-ins for the
    last good outputs; returns every file there, with its bytes."""
    (in_tmp_repo / paths.BUNDLED_CSV).parent.mkdir(parents=True)
    (in_tmp_repo / paths.BUNDLED_CSV).write_bytes(table)
    record_checksum(paths.BUNDLED_CSV)
    for output in OUTPUTS:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_bytes(b"the last good output")
    return _files(in_tmp_repo)


def _files(folder: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.mark.parametrize("case", list(BAD_TABLES))
def test_fetch_list_stops_with_status_2_and_writes_nothing(case, in_tmp_repo, monkeypatch, capfd):
    make, message = BAD_TABLES[case]
    before = _bundled_repo(in_tmp_repo, make())
    error = stage_error(fetch_list, in_tmp_repo, monkeypatch, capfd).splitlines()[0]
    assert re.match(f"error: {re.escape(str(paths.BUNDLED_CSV))}: {message}", error), error
    assert error.endswith(f"; `git checkout {paths.BUNDLED_CSV}` restores the bundled table")
    assert _files(in_tmp_repo) == before


def test_no_movie_left_after_normalising_stops_fetch_list(in_tmp_repo, monkeypatch, capfd):
    rows = movie_rows(5)
    for row in rows[1:]:
        row[rows[0].index("overview")] = " "
    before = _bundled_repo(in_tmp_repo, csv_bytes(rows))
    error = stage_error(fetch_list, in_tmp_repo, monkeypatch, capfd).splitlines()[0]
    assert error == f"error: {paths.BUNDLED_CSV}: no movie to model, of the 5 read (dropped: empty_overview 5)"
    assert _files(in_tmp_repo) == before


def test_repeated_ids_are_a_warning_and_counted_in_the_report(in_tmp_repo, monkeypatch, caplog):
    rows = movie_rows(40)
    _bundled_repo(in_tmp_repo, csv_bytes([*rows, rows[3], rows[3], rows[7]]))
    with caplog.at_level(logging.WARNING):
        run_in(fetch_list, in_tmp_repo, monkeypatch)
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert "3 rows repeat the id of a movie read before (2 ids): the first row of each is kept" in warnings
    report = json.loads(paths.data_report("fetch_list").read_text())
    assert report["movies_in"] == 43 and report["dropped"]["duplicate"] == 3
