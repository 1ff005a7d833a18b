"""The live TMDB source: genre list, popular and discover pages, movie details, search, image configuration.

The list is collected the tutorial's way (popular pages, then discover pages per genre and release
year), concurrently under one rate limit, with every answer cached on disk (movie_genres.tmdb.http), so an
interrupted run resumes where it stopped. Answers are consumed in request order whatever order they
arrive in, so de-duplication keeps each movie's first sighting and a run's result never depends on
timing. A request that fails after its retries does not stop the others: the run fetches all it
can, then fails with one summary (movie_genres.tmdb.failures), and the next run resumes from the cache.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from movie_genres.data.dataset import DETAIL_COLUMNS, MOVIE_COLUMNS
from movie_genres.parallel import ordered_map
from movie_genres.params import FetchListParams, TmdbHttpParams, TmdbListParams, load_section
from movie_genres.tmdb.auth import credentials_from_env
from movie_genres.tmdb.broken import BrokenAnswers
from movie_genres.tmdb.failures import Failed, incomplete, or_failed
from movie_genres.tmdb.http import RetryPolicy, TmdbBroken, TmdbError, TmdbHttp, TmdbNotFound
from movie_genres.tmdb.plan import (
    PAGE_LIMIT,
    UNKNOWN_SIZE,
    Capacity,
    ListSize,
    PageSeries,
    check_capacity,
    check_distinct,
    plan_series,
)
from movie_genres.tmdb.rate_limit import RateLimiter
from movie_genres.tmdb.request_cache import RequestCache

log = logging.getLogger(__name__)

__all__ = ["PAGE_LIMIT", "Collection", "Page", "PageSeries", "TmdbClient", "collect_movies", "plan_series"]


@dataclass(frozen=True)
class Page:
    results: list[dict]
    total_pages: int
    total_results: int | None = None

    @property
    def size(self) -> ListSize:
        return ListSize(self.total_pages, self.total_results)


@dataclass(frozen=True)
class Broken:
    """TMDB served a movie's details broken the same way on every try in two runs (tmdb.broken): it is dropped."""

    reason: str


@dataclass
class Collection:
    """A collected list: raw movie rows in request order (duplicates included), genre names, the movies
    TMDB has no details for (HTTP 404), and those dropped as their details are broken on TMDB, with why."""

    movies: pd.DataFrame
    genre_names: dict[int, str]
    details_missing: list[int] = field(default_factory=list)
    details_broken: dict[int, str] = field(default_factory=dict)


class TmdbClient:
    """TMDB's endpoints as typed calls; `workers` requests run at once under the HTTP layer's rate limit."""

    def __init__(self, http: TmdbHttp, language: str, workers: int = 1) -> None:
        self.http = http
        self.language = language
        self.workers = workers
        # Answers are used in request order, so one request waiting out a timeout holds up the rest:
        # enough requests may start ahead of it to keep every worker busy meanwhile.
        self.window = max(4 * workers, math.ceil((http.timeout_s + 1) / http.limiter.interval))

    def genre_names(self) -> dict[int, str]:
        answer = self.http.get_json("/genre/movie/list", {"language": self.language}, require=("genres",))
        try:
            return {int(g["id"]): str(g["name"]) for g in answer["genres"]}
        except (KeyError, TypeError, ValueError) as err:
            raise TmdbError(f"TMDB's genre list is malformed: {err!r}") from None

    def page(self, series: PageSeries, page: int) -> Page:
        if not 1 <= page <= PAGE_LIMIT:
            raise ValueError(f"page {page} is outside TMDB's 1..{PAGE_LIMIT}")
        query = {**dict(series.query), "language": self.language, "page": page}
        answer = self.http.get_json(series.endpoint, query, require=("results", "total_pages"))
        results, total_pages, total_results = (
            answer.get("results"),
            answer.get("total_pages"),
            answer.get("total_results"),
        )
        if not isinstance(results, list) or not isinstance(total_pages, int):
            raise TmdbError(f"TMDB answered {series.endpoint} page {page} without `results` and `total_pages`")
        return Page(results, total_pages, total_results if isinstance(total_results, int) else None)

    def details(self, movie_id: int) -> dict:
        """A movie's details with its keywords (one request: append_to_response)."""
        query = {"language": self.language, "append_to_response": "keywords"}
        return self.http.get_json(f"/movie/{movie_id}", query, require=("id",), droppable=True)

    def search(self, title: str, year: int | None = None) -> list[dict]:
        query: dict[str, Any] = {"query": title, "language": self.language, "page": 1}
        if year is not None:
            query["year"] = year
        results = self.http.get_json("/search/movie", query, require=("results",))["results"]
        return results if isinstance(results, list) else []

    def poster_url_base(self, size: str) -> str:
        """`<image base URL><size>` from /configuration, after checking TMDB offers that poster size."""
        images = self.http.get_json("/configuration", require=("images",))["images"] or {}
        base, sizes = images.get("secure_base_url") or images.get("base_url"), images.get("poster_sizes") or []
        if not base:
            raise TmdbError("TMDB's /configuration has no image base URL")
        if size not in sizes:
            raise TmdbError(f"fetch_posters.tmdb_poster_size `{size}` is not offered by TMDB; choose one of {sizes}")
        return f"{base.rstrip('/')}/{size}"


def open_tmdb(list_params: TmdbListParams, http_params: TmdbHttpParams) -> TmdbClient:
    """A client from params.yaml and the credentials in the environment or `.env`."""
    http = TmdbHttp(
        list_params.api_base_url,
        credentials_from_env(),
        RateLimiter(http_params.requests_per_second),
        RetryPolicy(http_params.max_retries, http_params.backoff_base_s),
        http_params.timeout_s,
        RequestCache(Path(http_params.cache_dir)),
        stop_after_failures=http_params.stop_after_failures,
        broken=BrokenAnswers(Path(http_params.cache_dir), ask_again=http_params.retry_broken),
    )
    return TmdbClient(http, list_params.language, http_params.workers)


def tmdb_from_params(raw_params: dict[str, Any]) -> TmdbClient:
    """The client params.yaml describes (`fetch_list.tmdb`, `tmdb_http`)."""
    list_params = load_section(raw_params, "fetch_list", FetchListParams).tmdb
    return open_tmdb(list_params, load_section(raw_params, "tmdb_http", TmdbHttpParams))


def collect_movies(client: TmdbClient, params: TmdbListParams, progress: bool = True) -> Collection:
    """Collect the planned pages (and, if asked, each movie's details).

    With `n_movies` set, pages are taken in plan order until exactly that many distinct movies are
    in; the rows after the last one's first sighting are left out. A plan too small for n_movies
    raises PlanTooSmall as soon as the lists' first pages tell; requests that fail after their
    retries raise TmdbIncomplete once every other page is in.
    """
    genre_names = client.genre_names()
    series = plan_series(params, sorted(genre_names))
    results = _list_results(client, params, series, len(genre_names), progress)
    movies = movies_from_results(results)
    distinct = movies["movie_id"].nunique()
    log.info("collected %d movie rows (%d distinct) from TMDB; %s", len(movies), distinct, client.http.summary())
    if not params.details:
        return Collection(movies, genre_names)
    details = add_details(client, movies, progress)
    return Collection(details.movies, genre_names, details.missing, details.broken)


def _list_results(
    client: TmdbClient, params: TmdbListParams, series: list[PageSeries], n_genres: int, progress: bool
) -> list[dict]:
    with tqdm(total=len(series), desc="list pages", unit="page", disable=not progress) as bar:
        first = _first_pages(client, series, bar)
        capacity = Capacity.of([page.size if isinstance(page, Page) else UNKNOWN_SIZE for page in first.values()])
        check_capacity(params, capacity, n_genres)
        requests = [(s, number) for s, page in first.items() for number in range(1, _pages_to_ask(s, page) + 1)]
        bar.total = len(series) + sum(number > 1 for _, number in requests)
        bar.refresh()
        results, failures, distinct = _take_results(client, requests, first, params.n_movies, bar)
    if failures:
        raise incomplete("list pages", len(requests), failures, client.http)
    check_distinct(params, capacity, n_genres, distinct)
    return results


def _first_pages(client: TmdbClient, series: list[PageSeries], bar: tqdm) -> dict[PageSeries, Page | Failed]:
    """Each list's first page: it says how many pages the list has, so nothing past its end is asked for."""

    def first_page(s: PageSeries) -> Page:
        return client.page(s, 1)

    first: dict[PageSeries, Page | Failed] = {}
    first_page_or_failed = or_failed(first_page, lambda s: s.label(1))
    with closing(ordered_map(first_page_or_failed, series, client.workers, client.window)) as answers:
        for s, page in zip(series, answers):
            first[s] = page
            bar.update()
    return first


def _pages_to_ask(series: PageSeries, first: Page | Failed) -> int:
    """How many of a list's pages to take: only the first when that failed (the length is known on a rerun)."""
    return first.size.pages(series.pages) if isinstance(first, Page) else 1


def _take_results(
    client: TmdbClient,
    requests: Sequence[tuple[PageSeries, int]],
    first: dict[PageSeries, Page | Failed],
    n_movies: int | None,
    bar: tqdm,
) -> tuple[list[dict], list[Failed], int]:
    """The results in request order up to the n_movies-th distinct movie; the failed pages; the distinct count.

    A failed page counts as empty, so every page a complete run would take is fetched (and cached).
    """

    def fetch(request: tuple[PageSeries, int]) -> Page | Failed:
        s, number = request
        return first[s] if number == 1 else client.page(s, number)

    results: list[dict] = []
    failures: list[Failed] = []
    seen: set[int] = set()
    fetch_or_failed = or_failed(fetch, lambda request: request[0].label(request[1]))
    with closing(ordered_map(fetch_or_failed, requests, client.workers, client.window)) as answers:
        for (_, number), page in zip(requests, answers):
            bar.update(number > 1)
            if isinstance(page, Failed):
                failures.append(page)
                continue
            for result in page.results:
                results.append(result)
                if isinstance(result, dict) and isinstance(result.get("id"), int):
                    seen.add(result["id"])
                if n_movies is not None and len(seen) >= n_movies:
                    return results, failures, len(seen)
    return results, failures, len(seen)


def movies_from_results(results: list[dict]) -> pd.DataFrame:
    """Raw movie rows from TMDB result objects; a result without an id is skipped and logged."""
    rows = []
    for result in results:
        if not isinstance(result, dict) or not isinstance(result.get("id"), int):
            log.warning("skipped a TMDB result without an integer id: %r", result)
            continue
        rows.append(movie_fields(result))
    return pd.DataFrame(rows, columns=MOVIE_COLUMNS)


def movie_fields(result: dict) -> dict[str, Any]:
    """The movie table's columns (MOVIE_COLUMNS) from a TMDB result object with an integer id."""
    return {
        "movie_id": result["id"],
        "title": result.get("title") or "",
        "overview": result.get("overview") or "",
        "genre_ids": [int(g) for g in result.get("genre_ids") or []],
        "release_date": result.get("release_date") or "",
        "popularity": float(result.get("popularity") or 0.0),
        "poster_ref": result.get("poster_path") or None,
    }


def detail_fields(answer: dict) -> dict[str, Any]:
    """The extra columns from a /movie/{id}?append_to_response=keywords answer."""
    keywords = (answer.get("keywords") or {}).get("keywords") or []
    runtime = answer.get("runtime")
    return {
        "tagline": answer.get("tagline") or "",
        "keywords": [str(k["name"]) for k in keywords if isinstance(k, dict) and "name" in k],
        "companies": [
            str(c["name"]) for c in answer.get("production_companies") or [] if isinstance(c, dict) and "name" in c
        ],
        # TMDB says 0 or null when it does not know.
        "runtime": float(runtime) if isinstance(runtime, (int, float)) and runtime > 0 else math.nan,
        "imdb_id": answer.get("imdb_id") or "",
    }


def movie_details(client: TmdbClient, movie_id: int) -> dict | Broken | None:
    """The movie's details answer; Broken when TMDB serves it broken for good; None when it has no such movie (404)."""
    try:
        return client.details(movie_id)
    except TmdbNotFound:
        log.info("TMDB has no details for movie %d (HTTP 404)", movie_id)
        return None
    except TmdbBroken as err:
        log.warning("movie %d is dropped: %s", movie_id, err)
        return Broken(err.reason)


@dataclass(frozen=True)
class Details:
    """Movies with their detail columns; those TMDB has no details for (404: kept, empty); those dropped as broken."""

    movies: pd.DataFrame
    missing: list[int]
    broken: dict[int, str]


def add_details(client: TmdbClient, movies: pd.DataFrame, progress: bool = True) -> Details:
    """`movies` with the detail columns, less the movies whose details TMDB serves broken for good.

    Details that fail after their retries raise TmdbIncomplete once all the others are in.
    """
    ids = list(dict.fromkeys(int(i) for i in movies["movie_id"]))

    def fetch(movie_id: int) -> dict[str, Any] | Broken | None:
        answer = movie_details(client, movie_id)
        return detail_fields(answer) if isinstance(answer, dict) else answer

    empty = detail_fields({})
    fields: dict[int, dict[str, Any]] = {}
    missing: list[int] = []
    broken: dict[int, str] = {}
    failures: list[Failed] = []
    fetch_or_failed = or_failed(fetch, lambda movie_id: f"movie {movie_id}")
    with closing(ordered_map(fetch_or_failed, ids, client.workers, client.window)) as answers:
        bar = tqdm(zip(ids, answers), total=len(ids), desc="movie details", unit="movie", disable=not progress)
        for movie_id, answer in bar:
            if isinstance(answer, Failed):
                failures.append(answer)
            elif isinstance(answer, Broken):
                broken[movie_id] = answer.reason
            else:
                if answer is None:
                    missing.append(movie_id)
                fields[movie_id] = answer or empty
    if failures:
        raise incomplete("movie details", len(ids), failures, client.http)
    kept = movies[~movies["movie_id"].isin(list(broken))].reset_index(drop=True)
    columns = {name: [fields[int(i)][name] for i in kept["movie_id"]] for name in DETAIL_COLUMNS}
    return Details(kept.assign(**columns), missing, broken)
