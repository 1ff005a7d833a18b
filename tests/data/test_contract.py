"""The movie table's contract on tables of any source: the cell types, the strict CSV reader, the checksum."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from movie_genres import paths
from movie_genres.data.contract import (
    CELL_TYPES,
    TableError,
    check_movies,
    checksum_file,
    read_csv_strictly,
    record_checksum,
    require_movies,
    verify_checksum,
)
from movie_genres.data.dataset import DETAIL_COLUMNS, MOVIE_COLUMNS, ListReport, normalise_movies
from movie_genres.tmdb.client import movies_from_results
from tests.conftest import ROOT


def test_the_schema_types_every_column_and_a_missing_detail_is_valid():
    assert list(CELL_TYPES) == [*MOVIE_COLUMNS, *DETAIL_COLUMNS]
    fields = {"movie_id": 1, "title": "", "overview": "", "genre_ids": [], "release_date": "", "popularity": 0.0}
    check_movies(pd.DataFrame([{**fields, "poster_ref": None, **DETAIL_COLUMNS}]), "t", str)


def test_the_normalised_bundled_table_keeps_the_contract(bundled):
    movies, _ = normalise_movies(bundled[0], max_movies=None)
    check_movies(movies, "normalised", str)


def _tmdb_rows(bundled, n: int = 4) -> pd.DataFrame:
    """The first movies of the bundled table as the tmdb source gives them (its result objects)."""
    raw = bundled[0].head(n)
    return movies_from_results(
        [
            {"id": int(row.movie_id), "title": row.title, "overview": row.overview, "genre_ids": row.genre_ids}
            | {"release_date": row.release_date, "popularity": row.popularity, "poster_path": f"/{row.movie_id}.jpg"}
            for row in raw.itertuples()
        ]
    )


@pytest.mark.parametrize(
    ("column", "bad", "problem"),
    [
        ("popularity", -1.5, "-1.5: Input should be greater than or equal to 0"),
        ("popularity", float("inf"), "inf: Input should be a finite number"),
        ("release_date", "2014-13-45", "'2014-13-45': Value error, must be a real day as YYYY-MM-DD"),
        ("genre_ids", ["18"], "'18': Input should be a valid integer"),
        ("movie_id", 0, "0: Input should be greater than 0"),
    ],
)
def test_a_bad_cell_from_tmdb_is_named_by_movie_and_column(bundled, column, bad, problem):
    movies = _tmdb_rows(bundled)
    movies[column] = movies[column].astype(object)
    movies.at[2, column] = bad
    movie = movies.at[2, "movie_id"]
    with pytest.raises(TableError) as error:
        check_movies(movies, "TMDB's movies", lambda row: f"movie {movies['movie_id'].iat[row]}")
    assert str(error.value).startswith(f"TMDB's movies: movie {movie}, column {column}: {problem}")


def test_every_bad_row_of_a_column_is_counted(bundled):
    movies = _tmdb_rows(bundled).assign(popularity=[1.0, -1.0, -2.0, -3.0])
    with pytest.raises(TableError, match=r"row 2, column popularity: -1.0: .* \(2 more rows fail this column\)$"):
        check_movies(movies, "t", lambda row: f"row {row + 1}")


def test_a_table_without_a_column_is_refused(bundled):
    with pytest.raises(TableError, match=r"^t: the table: no column 'overview'$"):
        check_movies(_tmdb_rows(bundled).drop(columns="overview"), "t", str)


def test_no_movie_left_is_an_error_that_says_why():
    report = ListReport(movies_in=3, dropped={"duplicate": 0, "empty_overview": 3})
    with pytest.raises(TableError, match=r"^src: no movie to model, of the 3 read \(dropped: empty_overview 3\)$"):
        require_movies(report, "src")
    require_movies(ListReport(movies_in=3, kept=1), "src")


# --- Strict CSV reading ------------------------------------------------------------------------------


def _written(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "table.csv"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def test_a_quoted_field_may_span_lines_and_each_row_keeps_its_first_line(tmp_path):
    rows = read_csv_strictly(_written(tmp_path, 'a,b\n1,"x\ny"\n\n2,z\n'), ["a"])
    assert rows.rows == [["1", "x\ny"], ["2", "z"]] and [rows.line(0), rows.line(1)] == ["line 2", "line 5"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "line 1: the file is empty: no header, no movie"),
        ("a,b\n", "line 2: no movie: the file holds only its header"),
        ("a,b\n1,2\n3,4,5\n", "line 3: 3 fields where the header has 2"),
        ("a,b\n1,2\n3", "line 3: 1 fields where the header has 2 (the file ends mid-row: cut off?)"),
        ('a,b\n1,2\n3,"x\n4,5\n', "line 3: not valid CSV: unexpected end of data (a quote that opens here"),
        ('a,b\n1,"x"y\n', "line 2: not valid CSV: ',' expected after '\"'"),
        ("c,b\n1,2\n", "line 1: no column 'a' in the header 'c,b'"),
        (b"a,b\n1,\xff\n", "line 2: not UTF-8 text (byte 0xff at offset 6)"),
    ],
)
def test_a_malformed_csv_is_one_line_naming_its_line(tmp_path, text, message):
    path = _written(tmp_path, text)
    with pytest.raises(TableError) as error:
        read_csv_strictly(path, ["a"], remedy="fix it")
    assert str(error.value).startswith(f"{path}: {message}") and str(error.value).endswith("; fix it")
    assert "\n" not in str(error.value)


# --- The recorded checksum --------------------------------------------------------------------------


def test_the_repository_records_the_bundled_tables_checksum():
    verify_checksum(ROOT / paths.BUNDLED_CSV)


def test_a_changed_table_is_refused_until_its_checksum_is_recorded(tmp_path):
    table = tmp_path / "movies.csv"
    shutil.copy(ROOT / paths.BUNDLED_CSV, table)
    shutil.copy(checksum_file(ROOT / paths.BUNDLED_CSV), checksum_file(table))
    recorded = checksum_file(table).read_text()[:12]
    with table.open("ab") as f:
        f.write(b"\n")
    with pytest.raises(TableError) as error:
        verify_checksum(table)
    assert re.fullmatch(
        rf"{table}: not the table {table}.sha256 records \(SHA-256 [0-9a-f]{{12}}…, recorded {recorded}…\): cut off or"
        rf" edited\? `git checkout {table}` restores it; to use a changed table on purpose, record its checksum:"
        rf" `sha256sum {table} > {table}.sha256`",
        str(error.value),
    )
    record_checksum(table)
    verify_checksum(table)


def test_a_missing_checksum_says_how_to_restore_it(tmp_path):
    table = _written(tmp_path, "a\n1\n")
    with pytest.raises(TableError, match=r"table.csv.sha256 is missing or empty: `git checkout .*table.csv.sha256`"):
        verify_checksum(table)
