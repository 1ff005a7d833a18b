"""Look one movie up on TMDB: the tutorial's single-movie helpers (search, id, genres, overview, poster).

    movie-genres lookup "The Matrix" [--year 1999] [--poster matrix.jpg]

Run from the repository root: it reads params.yaml (API URL, language, poster size, rate limit,
cache) and the credentials the way the pipeline does (TMDB_API_KEY or TMDB_READ_ACCESS_TOKEN, from
the environment or `.env`).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from movie_genres.params import FetchPostersParams, ParamError, load_section, read_params
from movie_genres.tmdb.auth import CredentialsError
from movie_genres.tmdb.client import TmdbClient, tmdb_from_params
from movie_genres.tmdb.http import TmdbError
from movie_genres.tmdb.posters import check_downloaded_image


@dataclass(frozen=True)
class MovieCard:
    movie_id: int
    title: str
    release_date: str
    genres: list[str]
    overview: str
    poster_path: str | None
    imdb_id: str
    other_matches: list[str]

    def text(self, poster_url_base: str) -> str:
        year = f" ({self.release_date[:4]})" if self.release_date else ""
        imdb = f"  IMDb {self.imdb_id}" if self.imdb_id else ""
        lines = [
            f"{self.title}{year}  TMDB id {self.movie_id}{imdb}",
            f"Genres: {', '.join(self.genres) or '(none)'}",
            f"Poster: {poster_url_base + self.poster_path if self.poster_path else '(none)'}",
            f"Overview: {self.overview or '(none)'}",
        ]
        if self.other_matches:
            lines.append(f"Other matches: {'; '.join(self.other_matches)}")
        return "\n".join(lines)


def lookup(client: TmdbClient, title: str, year: int | None = None, n_others: int = 5) -> MovieCard | None:
    """The best search match for `title` (TMDB ranks them), with its details; None if nothing matches."""
    matches = [m for m in client.search(title, year) if isinstance(m, dict) and isinstance(m.get("id"), int)]
    if not matches:
        return None
    details = client.details(matches[0]["id"])
    others = [
        f"{m.get('title', '')} ({(m.get('release_date') or '????')[:4]}, id {m['id']})"
        for m in matches[1 : 1 + n_others]
    ]
    return MovieCard(
        movie_id=int(details["id"]),
        title=str(details.get("title") or ""),
        release_date=str(details.get("release_date") or ""),
        genres=[str(g["name"]) for g in details.get("genres") or [] if isinstance(g, dict) and "name" in g],
        overview=str(details.get("overview") or ""),
        poster_path=details.get("poster_path") or None,
        imdb_id=str(details.get("imdb_id") or ""),
        other_matches=others,
    )


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[0])
    parser.add_argument("title")
    parser.add_argument("--year", type=int, help="the release year, to tell remakes apart")
    parser.add_argument("--poster", type=Path, help="also save the poster to this file")
    args = parser.parse_args(argv)
    try:
        raw = read_params()
        client = tmdb_from_params(raw)
        card = lookup(client, args.title, args.year)
        if card is None:
            print(f"no TMDB movie matches {args.title!r}" + (f" in {args.year}" if args.year else ""), file=sys.stderr)
            return 1
        poster_url_base = client.poster_url_base(
            load_section(raw, "fetch_posters", FetchPostersParams).tmdb_poster_size
        )
        print(card.text(poster_url_base))
        if args.poster is not None and card.poster_path:
            args.poster.write_bytes(client.http.get_bytes(poster_url_base + card.poster_path, check_downloaded_image))
            print(f"Poster saved to {args.poster}")
    except (ParamError, CredentialsError, TmdbError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
