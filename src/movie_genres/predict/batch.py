"""Batch mode: movies from a JSON Lines or CSV file, one prediction a line in JSON Lines, in input order.

Each input row names the fields a single movie has (`title`, `overview`, `poster`, `tagline`,
`keywords`, `companies`, `runtime`, `release_date`; an `id` or `movie_id` is copied to the output).
A relative poster path is taken from the input file's folder. A row that cannot be predicted gets an
`error` line of its own; the other rows go on. Movies are read and predicted in chunks, so a large file
needs the memory of one chunk (posters held as their files, at most CHUNK_POSTER_BYTES), and each model
and featurizer is loaded once.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from movie_genres.predict.api import Predictor
from movie_genres.predict.movie import (
    INPUT_FIELDS,
    POSTER_KEYS,
    MovieInput,
    PredictError,
    movie_from_mapping,
    read_file,
)

ID_KEYS = ("id", "movie_id")
KNOWN_KEYS = {*INPUT_FIELDS, *POSTER_KEYS, *ID_KEYS}
# Movies predicted together. MiniLM runs full batches of texts of one padded length, so every chunk
# ends with a part-filled batch per length: in chunks of 256, 950 texts took 60 batches where 38 do
# in one chunk, and 1,500 texts in chunks of 1,024 took 31.9 s against 25.6 s in one. Posters are
# held as their files (~12 KB each bundled, ~15 KB at TMDB's w185), decoded a batch at a time by the
# CNN; a chunk holds at most CHUNK_POSTER_BYTES of them, however large a user's files are.
CHUNK_MOVIES = 4096
CHUNK_POSTER_BYTES = 256 * 2**20


@dataclass
class Row:
    number: int  # 1-based position among the input's movies
    values: dict[str, Any] | None  # None when the row could not be read
    error: str = ""


def read_rows(path: Path) -> Iterator[Row]:
    """The movies of a .jsonl (one JSON object a line; blank lines skipped) or .csv file (a header row)."""
    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".ndjson", ".csv"):
        raise PredictError(f"input file {path} must be JSON Lines (.jsonl) or CSV (.csv)")
    data = read_file(path, "input file")
    if suffix == ".csv":
        yield from _csv_rows(path, data)
    else:
        yield from _jsonl_rows(data)


def _jsonl_rows(data: bytes) -> Iterator[Row]:
    number = 0
    for line_number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        number += 1
        try:
            values = json.loads(line.decode("utf-8-sig" if line_number == 1 else "utf-8"))
        except UnicodeDecodeError:
            yield Row(number, None, f"line {line_number} is not UTF-8 text")
            continue
        except ValueError as err:
            yield Row(number, None, f"line {line_number} is not valid JSON ({err})")
            continue
        if not isinstance(values, dict):
            yield Row(number, None, f"line {line_number} is not a JSON object")
            continue
        yield Row(number, values)


def _csv_rows(path: Path, data: bytes) -> Iterator[Row]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise PredictError(
            f"input file {path} is not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start}): "
            "save it as UTF-8"
        ) from None
    # Strict: a quote never closed is an error, not one long field that swallows the rest of the file.
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        fields = reader.fieldnames
    except csv.Error as err:
        raise PredictError(f"input file {path}: its header row cannot be read as CSV ({err})") from None
    if not fields or not {"overview", *POSTER_KEYS} & set(fields):
        raise PredictError(f"input file {path} needs a header row with an overview or poster column")
    number = 0
    while True:
        line = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            yield Row(number + 1, None, _unreadable_csv(line, err))
            return
        number += 1
        if None in values:  # more cells than the header has
            yield Row(number, None, f"row {number} has more cells than the header")
            continue
        yield Row(number, {k: v for k, v in values.items() if v not in (None, "")})


def _unreadable_csv(line: int, err: csv.Error) -> str:
    return (
        f"the CSV cannot be read from line {line} on ({err}): a quote opened there or before is probably never "
        "closed; no movie after it was read"
    )


def _identity(values: dict[str, Any] | None) -> dict[str, Any]:
    for key in ID_KEYS:
        value = (values or {}).get(key)
        if value is not None and not (isinstance(value, float) and math.isnan(value)):
            return {"id": value}
    return {}


def predict_rows(predictor: Predictor, rows: list[tuple[Row, MovieInput | None]], model: str | None) -> list[dict]:
    """One output entry per row (and its movie, None for a row that could not be read), in order: its
    prediction, or its error."""
    entries: list[dict] = []
    movies: list[MovieInput] = []
    waiting: list[int] = []  # entries that wait for their movie's prediction
    for row, movie in rows:
        entry: dict[str, Any] = {"row": row.number, **_identity(row.values)}
        entries.append(entry)
        if movie is None or row.values is None:
            entry["error"] = row.error
            continue
        movies.append(movie)
        unknown = sorted(set(row.values) - KNOWN_KEYS)
        if unknown:
            entry["unknown_fields"] = unknown
        waiting.append(len(entries) - 1)
    for position, result in zip(waiting, predictor.predict_many(movies, model)):
        extra = entries[position].pop("unknown_fields", None)
        entries[position].update(result)
        if extra and "error" not in result:
            result_warnings = entries[position]["warnings"]
            result_warnings.append(f"unknown field(s) ignored: {', '.join(extra)}")
    return entries


def predict_file(
    predictor: Predictor,
    input_path: Path,
    output: TextIO,
    model: str | None = None,
    chunk_movies: int = CHUNK_MOVIES,
    chunk_poster_bytes: int = CHUNK_POSTER_BYTES,
) -> tuple[int, int]:
    """Predict every movie of `input_path`, writing one JSON line each to `output`; (movies, errors)."""
    count = errors = 0
    pending: list[tuple[Row, MovieInput | None]] = []
    poster_bytes = 0

    def flush() -> None:
        nonlocal count, errors
        for entry in predict_rows(predictor, pending, model):
            output.write(json.dumps(entry, ensure_ascii=False) + "\n")
            count += 1
            errors += "error" in entry
        pending.clear()

    for row in read_rows(input_path):
        movie = None if row.values is None else movie_from_mapping(row.values, input_path.parent)
        pending.append((row, movie))
        poster_bytes += len(movie.poster) if movie is not None and movie.poster is not None else 0
        if len(pending) == chunk_movies or poster_bytes >= chunk_poster_bytes:
            flush()
            poster_bytes = 0
    flush()
    return count, errors
