"""A local HTTP server that answers like TMDB's v3 API, serving the bundled movies, and misbehaves on demand.

It is a real server on 127.0.0.1 (no internet in tests), answering the endpoints the pipeline uses
with the same JSON shape as TMDB: configuration, genre/movie/list, movie/popular, discover/movie,
search/movie, movie/{id} (with append_to_response=keywords), and poster images under /t/p/. Like
TMDB's file server it serves daily ID exports, unauthenticated, at /p/exports/movie_ids_MM_DD_YYYY.json.gz:
one of every movie (and a few adult and video entries) for EXPORT_DATE, others as a test publishes them,
whole or damaged. Like TMDB it refuses pages past 500, and accepts a v3 key (`api_key`) or a v4 token
(bearer header).

Faults, injected per path prefix and optionally query (`inject`) or at random (`random_faults`):
  429, 429-no-retry-after, 500, 502, 503, slow (answers after `slow_s`), malformed (an HTML body
  with status 200), truncated (half the body, with a matching Content-Length: looks complete),
  cut (the headers promise the whole body, half comes, the connection closes), drop (the connection
  closes with no answer); and answers that are not faults to retry: 404 (the resource is gone),
  401 and 403 (the credentials are refused; a wrong key gets TMDB's 401 anyway).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import random
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl, urlencode, urlparse

import pandas as pd

# The faults a client must recover from.
TRANSIENT_FAULTS = ("429", "429-no-retry-after", "500", "502", "503", "slow", "malformed", "truncated", "cut", "drop")
# Answers, not faults to retry, with TMDB's status_code and message.
REFUSALS = {
    "404": (34, "The resource you requested could not be found."),
    "401": (7, "Invalid API key: You must be granted a valid key."),
    "403": (3, "Authentication failed: You do not have permissions to access the service."),
}
FAULTS = TRANSIENT_FAULTS + tuple(REFUSALS)
PAGE_LIMIT = 500
POSTER_SIZES = ["w92", "w154", "w185", "w342", "w500", "w780", "original"]

Answer = tuple[int, str, bytes, dict[str, str]]

EXPORT_DATE = "05_01_2026"  # the day of the export the fake serves from the start
EXPORT_PATH = "/p/exports/movie_ids_{date}.json.gz"
# Entries of the default export that are no movies the fake has: the export source must drop them
# (they are among the most popular, so a cap would take them), and asking for them gets a 404.
ADULT_AND_VIDEO = [
    {"adult": True, "id": 900001, "original_title": "Adult", "popularity": 900.0, "video": False},
    {"adult": False, "id": 900002, "original_title": "Video", "popularity": 901.0, "video": True},
    {"adult": True, "id": 900003, "original_title": "Adult video", "popularity": 902.0, "video": True},
]


@dataclass(frozen=True)
class Logged:
    """One request as the server saw it, credentials removed."""

    path: str
    query: str
    fault: str | None
    time: float

    @property
    def params(self) -> dict[str, str]:
        return dict(parse_qsl(self.query))

    @property
    def target(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path


def bundled_details(csv_path: Path) -> dict[int, dict]:
    """TMDB-shaped detail fields of each bundled movie (the table has them); the IMDb id is made up."""
    table = pd.read_csv(csv_path, usecols=["id", "tagline", "keywords", "production_companies", "runtime"])

    def names(cell: object) -> list[dict]:
        return json.loads(cell) if isinstance(cell, str) else []

    return {
        int(row.id): {
            "tagline": row.tagline if isinstance(row.tagline, str) else "",
            "keywords": {"keywords": names(row.keywords)},
            "production_companies": names(row.production_companies),
            "runtime": None if pd.isna(row.runtime) else int(row.runtime),
            "imdb_id": f"tt{int(row.id):07d}",
        }
        for row in table.itertuples()
    }


class FakeTmdb:
    def __init__(
        self,
        movies: pd.DataFrame,
        genre_names: dict[int, str],
        poster_dir: Path,
        api_key: str,
        *,
        read_access_token: str | None = None,
        details: dict[int, dict] | None = None,
        page_size: int = 20,
        latency_s: float = 0.0,
        slow_s: float = 1.0,
        retry_after: str = "1",
        max_requests_per_second: float | None = None,
    ) -> None:
        # TMDB's current genre list has no 10769 "Foreign": it is retired.
        self.genres = {gid: name for gid, name in genre_names.items() if gid != 10769}
        self.all_genres = genre_names
        self.movies = movies.sort_values(["popularity", "movie_id"], ascending=[False, True]).reset_index(drop=True)
        self.position = {int(movie_id): i for i, movie_id in enumerate(self.movies["movie_id"])}
        self.poster_dir = poster_dir
        self.api_key = api_key
        self.read_access_token = read_access_token
        self.details = details or {}
        self.page_size = page_size
        self.latency_s = latency_s
        self.slow_s = slow_s
        self.retry_after = retry_after
        self.max_requests_per_second = max_requests_per_second
        self.log: list[Logged] = []
        self._injected: list[tuple[str, dict[str, str], str]] = []
        self._random: tuple[float, tuple[str, ...], random.Random] | None = None
        self._recent: deque[float] = deque()
        self._lock = threading.Lock()
        self.exports: dict[str, bytes] = {}  # file name -> body
        self.publish_export(EXPORT_DATE, extra=ADULT_AND_VIDEO)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        # A short poll interval: shutdown() waits up to one of them.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def export_url(self) -> str:
        """fetch_list.export.url for this server: `{date}` is left for the date."""
        return self.url + EXPORT_PATH

    def export_entries(self, movie_ids: Iterable[int] | None = None) -> list[dict]:
        """Export lines of the given movies (default: all), as TMDB's export has them."""
        movies = self.movies if movie_ids is None else self.movies.iloc[[self.position[int(i)] for i in movie_ids]]
        return [
            {
                "adult": False,
                "id": int(movie_id),
                "original_title": title,
                "popularity": float(popularity),
                "video": False,
            }
            for movie_id, title, popularity in zip(movies["movie_id"], movies["title"], movies["popularity"])
        ]

    def publish_export(
        self,
        date: str,
        movie_ids: Iterable[int] | None = None,
        extra: Iterable[dict] = (),
        malformed_line: int | None = None,
        truncated: bool = False,
    ) -> None:
        """Serve the export of `date`: lines for `movie_ids` (default: all movies) and `extra`, by id.

        `malformed_line` (from 1) is cut short mid-object; `truncated` serves only half the gzip file.
        """
        entries = sorted([*self.export_entries(movie_ids), *extra], key=lambda entry: entry["id"])
        lines = [json.dumps(entry, separators=(",", ":")) for entry in entries]
        if malformed_line is not None:
            lines[malformed_line - 1] = lines[malformed_line - 1][: len(lines[malformed_line - 1]) // 2]
        body = gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0)
        self.exports[EXPORT_PATH.format(date=date).rsplit("/", 1)[-1]] = body[: len(body) // 2] if truncated else body

    @property
    def requests(self) -> list[str]:
        """The paths asked for, in arrival order."""
        return [entry.path for entry in self.log]

    def __enter__(self) -> FakeTmdb:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def inject(self, fault: str, path_prefix: str = "/", times: int = 1, query: dict[str, str] | None = None) -> None:
        """The next `times` requests whose path starts with `path_prefix` (and whose query has `query`) get `fault`."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; one of {FAULTS}")
        with self._lock:
            self._injected.extend([(path_prefix, query or {}, fault)] * times)

    def random_faults(self, probability: float, faults: tuple[str, ...] = TRANSIENT_FAULTS, seed: int = 0) -> None:
        """Each request (not taken by an injected fault) gets one of `faults` with `probability`."""
        self._random = (probability, faults, random.Random(seed))

    def take_fault(self, path: str, query: dict[str, str]) -> str | None:
        with self._lock:
            for i, (prefix, where, fault) in enumerate(self._injected):
                if path.startswith(prefix) and where.items() <= query.items():
                    del self._injected[i]
                    return fault
            if self._random is not None:
                probability, faults, rng = self._random
                if rng.random() < probability:
                    return rng.choice(faults)
            return None

    def over_rate_limit(self) -> bool:
        """TMDB's own limit, when set: more than `max_requests_per_second` in the last second gets a 429."""
        if self.max_requests_per_second is None:
            return False
        with self._lock:
            now = time.monotonic()
            self._recent.append(now)
            while self._recent and self._recent[0] < now - 1.0:
                self._recent.popleft()
            return len(self._recent) > self.max_requests_per_second

    def expected_popular_ids(self, n: int) -> list[int]:
        """The first `n` distinct ids of movie/popular: what a correct fetch of n movies returns."""
        return [int(i) for i in self.movies["movie_id"].head(n)]

    def result(self, row: pd.Series) -> dict:
        return {
            "adult": False,
            "id": int(row["movie_id"]),
            "title": row["title"],
            "original_title": row["title"],
            "overview": "" if pd.isna(row["overview"]) else row["overview"],
            "genre_ids": list(row["genre_ids"]),
            "release_date": "" if pd.isna(row["release_date"]) else row["release_date"],
            "popularity": float(row["popularity"]),
            "poster_path": f"/{row['movie_id']}.jpg",
            "vote_average": 0.0,
            "vote_count": 0,
        }

    def page(self, movies: pd.DataFrame, page: int) -> dict:
        chunk = movies.iloc[(page - 1) * self.page_size : page * self.page_size]
        return {
            "page": page,
            "results": [self.result(row) for _, row in chunk.iterrows()],
            "total_results": len(movies),
            "total_pages": -(-len(movies) // self.page_size),
        }

    def movie(self, movie_id: int, append: str) -> dict | None:
        if movie_id not in self.position:
            return None
        row = self.movies.iloc[self.position[movie_id]]
        extra = self.details.get(movie_id, {})
        body = {
            **{key: value for key, value in self.result(row).items() if key != "genre_ids"},
            "genres": [{"id": g, "name": self.all_genres.get(g, "")} for g in row["genre_ids"]],
            "tagline": extra.get("tagline", ""),
            "runtime": extra.get("runtime"),
            "imdb_id": extra.get("imdb_id"),
            "production_companies": extra.get("production_companies", []),
        }
        if "keywords" in append.split(","):
            body["keywords"] = extra.get("keywords", {"keywords": []})
        return body

    def authorised(self, query: dict[str, str], authorization: str | None) -> bool:
        if query.get("api_key") == self.api_key:
            return True
        return self.read_access_token is not None and authorization == f"Bearer {self.read_access_token}"

    def answer(self, path: str, query: dict[str, str], authorization: str | None = None) -> Answer:
        if path.startswith("/t/p/"):
            size, name = path.split("/")[3], path.rsplit("/", 1)[-1]
            poster = self.poster_dir / name
            if size not in POSTER_SIZES or not poster.is_file():
                return 404, "text/html", b"<html><body>404 Not Found</body></html>", {}
            return 200, "image/jpeg", poster.read_bytes(), {}
        if path.startswith("/p/exports/"):  # TMDB's file server: no key needed
            export = self.exports.get(path.rsplit("/", 1)[-1])
            if export is None:
                return 404, "application/xml", b"<Error><Code>NoSuchKey</Code></Error>", {}
            return 200, "application/octet-stream", export, {}
        if not self.authorised(query, authorization):
            return _error(401, 7, "Invalid API key: You must be granted a valid key.")
        try:
            page = int(query.get("page", "1"))
        except ValueError:
            page = 0
        if not 1 <= page <= PAGE_LIMIT:
            return _error(400, 22, "Invalid page: Pages start at 1 and max at 500. They are expected to be an integer.")
        if path == "/3/configuration":
            body = {
                "images": {
                    "base_url": self.url.replace("127.0.0.1", "localhost") + "/t/p/",
                    "secure_base_url": self.url + "/t/p/",
                    "poster_sizes": POSTER_SIZES,
                },
                "change_keys": [],
            }
        elif path == "/3/genre/movie/list":
            body = {"genres": [{"id": gid, "name": name} for gid, name in self.genres.items()]}
        elif path == "/3/movie/popular":
            body = self.page(self.movies, page)
        elif path == "/3/discover/movie":
            genre, year = int(query["with_genres"]), query["primary_release_year"]
            match = self.movies[
                self.movies["genre_ids"].map(lambda ids: genre in ids)
                & self.movies["release_date"].fillna("").str.startswith(year)
            ]
            body = self.page(match, page)
        elif path == "/3/search/movie":
            words = query.get("query", "").lower()
            titles = self.movies["title"].fillna("").str.lower()
            match = self.movies[titles.str.contains(words, regex=False)] if words else self.movies.iloc[:0]
            if "year" in query:
                match = match[match["release_date"].fillna("").str.startswith(query["year"])]
            body = self.page(match, page)
        elif path.startswith("/3/movie/") and path.removeprefix("/3/movie/").isdigit():
            body = self.movie(int(path.removeprefix("/3/movie/")), query.get("append_to_response", ""))
            if body is None:
                return _error(404, 34, "The resource you requested could not be found.")
        else:
            return _error(404, 34, "The resource you requested could not be found.")
        return 200, "application/json;charset=utf-8", _json(body), {}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlparse(self.path)
                query = {key: values[-1] for key, values in parse_qs(url.query).items()}
                fault = fake.take_fault(url.path, query)
                logged = urlencode(sorted((k, v) for k, v in query.items() if k != "api_key"))
                fake.log.append(Logged(url.path, logged, fault, time.monotonic()))
                if fake.latency_s:
                    time.sleep(fake.latency_s)
                if fault is None and fake.over_rate_limit():
                    fault = "429"
                # BrokenPipe / ConnectionReset: the client gave up (a timeout): nothing to answer.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.reply(url.path, query, fault)

            def reply(self, path: str, query: dict[str, str], fault: str | None) -> None:
                if fault == "drop":
                    self.close_connection = True
                    return
                if fault == "slow":
                    time.sleep(fake.slow_s)
                if fault in ("429", "429-no-retry-after"):
                    status, content_type, body, headers = _error(
                        429, 25, "Your request count (41) is over the allowed limit of (40)."
                    )
                    if fault == "429":
                        headers = {"Retry-After": fake.retry_after}
                elif fault in REFUSALS:
                    status, content_type, body, headers = _error(int(fault), *REFUSALS[fault])
                elif fault in ("500", "503"):
                    status, content_type, body, headers = _error(
                        int(fault), 11, "Internal error: Something went wrong."
                    )
                elif fault == "502":
                    status, content_type, body, headers = (
                        502,
                        "text/html",
                        b"<html><body>502 Bad Gateway</body></html>",
                        {},
                    )
                else:
                    status, content_type, body, headers = fake.answer(path, query, self.headers.get("Authorization"))
                full_length = len(body)
                if fault == "malformed":
                    body = b"<!DOCTYPE html><html><body>Service temporarily unavailable</body></html>"
                    full_length = len(body)
                elif fault in ("truncated", "cut"):
                    body = body[: len(body) // 2]
                    full_length = len(body) if fault == "truncated" else full_length
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(full_length))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)
                if fault == "cut":
                    self.close_connection = True

            def log_message(self, *args: object) -> None:
                pass

        return Handler


def _error(status: int, code: int, message: str) -> Answer:
    return (
        status,
        "application/json;charset=utf-8",
        _json({"success": False, "status_code": code, "status_message": message}),
        {},
    )


def _json(body: dict) -> bytes:
    return json.dumps(body).encode()
