"""The live TMDB source, through tmdbsimple: genre list, popular movies, discover by genre and year."""

from __future__ import annotations

import logging
import os
from typing import Any, Iterator

import pandas as pd
import requests
import tmdbsimple

from src.params import TmdbListParams

log = logging.getLogger(__name__)

TMDB_DEFAULT_BASE = "https://api.themoviedb.org/3"
API_KEY_VARIABLE = "TMDB_API_KEY"


class TmdbError(RuntimeError):
    """TMDB could not be reached, refused the request, or answered something unexpected."""


def api_key_from_env() -> str:
    key = os.environ.get(API_KEY_VARIABLE, "").strip()
    if not key:
        raise TmdbError(
            f"{API_KEY_VARIABLE} is not set: the `tmdb` source needs a TMDB v3 API key "
            f"(https://www.themoviedb.org/settings/api). Export it, or set fetch_list.source: bundled."
        )
    return key


class _RebasedSession(requests.Session):
    """A session that sends tmdbsimple's requests to another base URL (a mirror or a test server)."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if url.startswith(TMDB_DEFAULT_BASE):
            url = self.base_url + url[len(TMDB_DEFAULT_BASE) :]
        return super().request(method, url, *args, **kwargs)


class TmdbClient:
    """Thin wrapper over tmdbsimple that turns every failure into a TmdbError naming the request."""

    def __init__(self, api_key: str, base_url: str = TMDB_DEFAULT_BASE, timeout: float = 20.0) -> None:
        tmdbsimple.API_KEY = api_key
        tmdbsimple.REQUESTS_SESSION = _RebasedSession(base_url)
        tmdbsimple.REQUESTS_TIMEOUT = timeout

    def _call(self, what: str, method: Any, **kwargs: Any) -> dict:
        try:
            answer = method(**kwargs)
        except requests.HTTPError as err:
            raise TmdbError(f"TMDB refused {what}: {_status_message(err.response)}") from None
        except requests.RequestException as err:
            raise TmdbError(f"TMDB could not be reached for {what}: {type(err).__name__}") from None
        except ValueError as err:  # JSON decoding
            raise TmdbError(f"TMDB answered {what} with malformed JSON: {err}") from None
        if not isinstance(answer, dict):
            raise TmdbError(f"TMDB answered {what} with {type(answer).__name__}, expected an object")
        return answer

    def genre_names(self, language: str) -> dict[int, str]:
        answer = self._call("genre/movie/list", tmdbsimple.Genres().movie_list, language=language)
        try:
            return {int(g["id"]): str(g["name"]) for g in answer["genres"]}
        except (KeyError, TypeError, ValueError) as err:
            raise TmdbError(f"TMDB's genre list is malformed: {err!r}") from None

    def popular(self, page: int, language: str) -> list[dict]:
        answer = self._call(f"movie/popular page {page}", tmdbsimple.Movies().popular, page=page, language=language)
        return _results(answer, f"movie/popular page {page}")

    def discover(self, genre_id: int, year: int, page: int, language: str) -> list[dict]:
        what = f"discover/movie genre {genre_id} year {year} page {page}"
        answer = self._call(
            what,
            tmdbsimple.Discover().movie,
            with_genres=genre_id,
            primary_release_year=year,
            sort_by="popularity.desc",
            page=page,
            language=language,
        )
        return _results(answer, what)


def _status_message(response: requests.Response | None) -> str:
    if response is None:
        return "no response"
    try:
        message = response.json().get("status_message", "")
    except ValueError:
        message = ""
    # Never echo the URL: it carries the API key.
    return f"HTTP {response.status_code} {message}".strip()


def _results(answer: dict, what: str) -> list[dict]:
    results = answer.get("results")
    if not isinstance(results, list):
        raise TmdbError(f"TMDB answered {what} without a `results` list")
    return results


def collect_movies(client: TmdbClient, params: TmdbListParams) -> tuple[pd.DataFrame, dict[int, str]]:
    """The tutorial's collection: popular pages, then a few discover pages per genre and year.

    Rows come in request order, so de-duplication keeps a movie's first (most popular) sighting.
    """
    genre_names = client.genre_names(params.language)
    rows = [*_popular_rows(client, params), *_discover_rows(client, params, sorted(genre_names))]
    log.info("collected %d movie rows from TMDB", len(rows))
    return movies_from_results(rows), genre_names


def _popular_rows(client: TmdbClient, params: TmdbListParams) -> Iterator[dict]:
    for page in range(1, params.popular_pages + 1):
        yield from client.popular(page, params.language)


def _discover_rows(client: TmdbClient, params: TmdbListParams, genre_ids: list[int]) -> Iterator[dict]:
    for offset, genre_id in enumerate(genre_ids):
        year = params.discover_first_year - offset
        for page in range(1, params.discover_pages_per_genre + 1):
            yield from client.discover(genre_id, year, page, params.language)


def movies_from_results(results: list[dict]) -> pd.DataFrame:
    """Raw movie rows from TMDB result objects; a result without an id is skipped and logged."""
    rows = []
    for result in results:
        if not isinstance(result, dict) or not isinstance(result.get("id"), int):
            log.warning("skipped a TMDB result without an integer id: %r", result)
            continue
        rows.append(
            {
                "movie_id": result["id"],
                "title": result.get("title") or "",
                "overview": result.get("overview") or "",
                "genre_ids": [int(g) for g in result.get("genre_ids") or []],
                "release_date": result.get("release_date") or "",
                "popularity": float(result.get("popularity") or 0.0),
                "poster_ref": result.get("poster_path") or None,
            }
        )
    return pd.DataFrame(rows, columns=["movie_id", "title", "overview", "genre_ids", "release_date", "popularity", "poster_ref"])
