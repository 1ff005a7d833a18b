"""Bad variants of the real bundled table, for the tests of the data contract and of failed stages."""

from __future__ import annotations

import csv
import io

from movie_genres import paths
from tests.conftest import ROOT

BUNDLED = ROOT / paths.BUNDLED_CSV


def movie_rows(n: int) -> list[list[str]]:
    """The header and the first `n` movies of the real table, as fields."""
    with BUNDLED.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        return [next(reader) for _ in range(n + 1)]


def csv_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


def with_cell(row: int, column: str, value: str) -> bytes:
    """Five real movies, movie `row` (1: the first) with `value` in `column`."""
    rows = movie_rows(5)
    rows[row][rows[0].index(column)] = value
    return csv_bytes(rows)
