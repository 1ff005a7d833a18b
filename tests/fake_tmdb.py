"""A local HTTP server that answers like TMDB's v3 API, serving the bundled movies.

It is a real server on 127.0.0.1 (no internet in tests), answering the endpoints the pipeline uses
with the same JSON shape as TMDB: genre/movie/list, movie/popular, discover/movie, and poster images.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pandas as pd

PAGE_SIZE = 20


class FakeTmdb:
    def __init__(self, movies: pd.DataFrame, genre_names: dict[int, str], poster_dir: Path, api_key: str) -> None:
        # TMDB's current genre list has no 10769 "Foreign": it is retired.
        self.genres = {gid: name for gid, name in genre_names.items() if gid != 10769}
        self.movies = movies.sort_values("popularity", ascending=False).reset_index(drop=True)
        self.poster_dir = poster_dir
        self.api_key = api_key
        self.requests: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> "FakeTmdb":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def result(self, row: pd.Series) -> dict:
        return {
            "id": int(row["movie_id"]),
            "title": row["title"],
            "overview": "" if pd.isna(row["overview"]) else row["overview"],
            "genre_ids": list(row["genre_ids"]),
            "release_date": "" if pd.isna(row["release_date"]) else row["release_date"],
            "popularity": float(row["popularity"]),
            "poster_path": f"/{row['movie_id']}.jpg",
        }

    def page(self, movies: pd.DataFrame, page: int) -> dict:
        chunk = movies.iloc[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        return {
            "page": page,
            "results": [self.result(row) for _, row in chunk.iterrows()],
            "total_results": len(movies),
            "total_pages": max(1, -(-len(movies) // PAGE_SIZE)),
        }

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, str, bytes]:
        if path.startswith("/t/p/"):
            poster = self.poster_dir / path.rsplit("/", 1)[-1]
            if not poster.is_file():
                return 404, "text/plain", b"not found"
            return 200, "image/jpeg", poster.read_bytes()
        if query.get("api_key") != self.api_key:
            return 401, "application/json", _json({"status_code": 7, "status_message": "Invalid API key: You must be granted a valid key."})
        page = int(query.get("page", "1"))
        if path == "/3/genre/movie/list":
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
        else:
            return 404, "application/json", _json({"status_code": 34, "status_message": "The resource you requested could not be found."})
        return 200, "application/json", _json(body)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                url = urlparse(self.path)
                fake.requests.append(url.path)
                query = {key: values[-1] for key, values in parse_qs(url.query).items()}
                status, content_type, body = fake.answer(url.path, query)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        return Handler


def _json(body: dict) -> bytes:
    return json.dumps(body).encode()
