"""The tutorial's page plan, and whether it can hold the number of movies asked for.

Every list's first page says how long the list is (`total_pages`, `total_results`), so a plan that
cannot hold `fetch_list.tmdb.n_movies` is known before any other page is fetched, and the advice
can say which knob to raise, and to what.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from movie_genres.errors import UserError
from movie_genres.params import TmdbListParams

# TMDB refuses any page past 500 of a list, whatever its total_pages says, and serves 20 results a page.
PAGE_LIMIT = 500
RESULTS_PER_PAGE = 20
# Before any duplicate is seen, the advice asks for this many results per movie wanted: the same
# movie turns up in more than one list.
DUPLICATE_ALLOWANCE = 1.2


class PlanTooSmall(UserError, ValueError):
    """The planned pages cannot hold `fetch_list.tmdb.n_movies` distinct movies."""


@dataclass(frozen=True)
class PageSeries:
    """One paginated list: an endpoint and its query; `pages` is how many of its pages the plan wants."""

    endpoint: str
    query: tuple[tuple[str, Any], ...]
    pages: int

    def label(self, page: int) -> str:
        """The page for people: `/discover/movie page 2 (with_genres=28, primary_release_year=2016)`."""
        query = ", ".join(f"{name}={value}" for name, value in self.query if name != "sort_by")
        return f"{self.endpoint} page {page}" + (f" ({query})" if query else "")


def plan_series(params: TmdbListParams, genre_ids: list[int]) -> list[PageSeries]:
    """The tutorial's plan: popular pages, then discover pages for genre i from year (first year - i) back."""
    series = [PageSeries("/movie/popular", (), params.popular_pages)]
    if params.discover_pages_per_genre == 0:
        return series
    for offset, genre_id in enumerate(genre_ids):
        for years_back in range(params.discover_years_per_genre):
            query = (
                ("with_genres", genre_id),
                ("primary_release_year", params.discover_first_year - offset - years_back),
                ("sort_by", "popularity.desc"),
            )
            series.append(PageSeries("/discover/movie", query, params.discover_pages_per_genre))
    return series


@dataclass(frozen=True)
class ListSize:
    """A list's length, as its first page tells it."""

    total_pages: int
    total_results: int | None = None

    def pages(self, wanted: int) -> int:
        """How many of `wanted` pages exist and are served."""
        return min(wanted, self.total_pages, PAGE_LIMIT)

    def rows(self, wanted: int) -> int:
        """The most results `wanted` pages of this list can hold."""
        most = self.pages(wanted) * RESULTS_PER_PAGE
        return most if self.total_results is None else min(most, self.total_results)


# A list whose first page failed: assume the longest, so that no plan is refused for it.
UNKNOWN_SIZE = ListSize(PAGE_LIMIT)


@dataclass(frozen=True)
class Capacity:
    """How many results the plan's lists can hold: movie/popular, then the discover lists."""

    popular: ListSize
    discover: list[ListSize]

    @classmethod
    def of(cls, sizes: list[ListSize]) -> Capacity:
        """From the sizes of the lists of `plan_series`, in plan order."""
        return cls(sizes[0], sizes[1:])

    def rows(self, popular_pages: int, discover_pages: int) -> int:
        return self.popular.rows(popular_pages) + self.discover_rows(discover_pages)

    def discover_rows(self, pages: int) -> int:
        return sum(size.rows(pages) for size in self.discover)


def check_capacity(params: TmdbListParams, capacity: Capacity, n_genres: int) -> None:
    """Raise PlanTooSmall when the planned pages cannot hold n_movies results, even with no duplicate."""
    n_movies, held = params.n_movies, capacity.rows(params.popular_pages, params.discover_pages_per_genre)
    if n_movies is None or held >= n_movies:
        return
    raise PlanTooSmall(
        f"fetch_list.tmdb.n_movies = {n_movies} cannot be reached: the planned pages hold at most {held:,} "
        f"movies ({_describe(params, capacity)}), and fewer once a movie found in two lists counts once. "
        f"Only each list's first page was fetched.\n"
        + advice(params, capacity, n_genres, math.ceil(n_movies * DUPLICATE_ALLOWANCE), "20% to spare for duplicates")
    )


def _describe(params: TmdbListParams, capacity: Capacity) -> str:
    popular = (
        f"movie/popular: {capacity.popular.rows(params.popular_pages):,} in its first {_pages(params.popular_pages)}"
    )
    if not capacity.discover:
        return f"{popular}; no discover lists, as discover_pages_per_genre is 0"
    return (
        f"{popular}; discover/movie: {capacity.discover_rows(params.discover_pages_per_genre):,} in "
        f"{len(capacity.discover)} lists of up to {_pages(params.discover_pages_per_genre)}"
    )


def _pages(n: int) -> str:
    return f"{n} page" if n == 1 else f"{n} pages"


def check_distinct(params: TmdbListParams, capacity: Capacity, n_genres: int, distinct: int) -> None:
    """Raise PlanTooSmall when the fetched pages held fewer than n_movies distinct movies (duplicates)."""
    n_movies = params.n_movies
    if n_movies is None or distinct >= n_movies:
        return
    held = capacity.rows(params.popular_pages, params.discover_pages_per_genre)
    per_movie = held / max(distinct, 1)
    raise PlanTooSmall(
        f"the planned pages hold {distinct:,} distinct movies, fewer than fetch_list.tmdb.n_movies = "
        f"{n_movies}: of their {held:,} results, {held - distinct:,} were movies already seen in an earlier list.\n"
        + advice(params, capacity, n_genres, math.ceil(n_movies * per_movie), "as many duplicates as this time")
    )


def advice(params: TmdbListParams, capacity: Capacity, n_genres: int, target: int, allowance: str) -> str:
    """Which knob to raise, and to what, for the lists to hold `target` results."""
    options = [
        _raise_popular_pages(params, capacity, target),
        _raise_discover_pages(params, capacity, n_genres, target),
        _raise_discover_years(params, capacity, target),
    ]
    lines = [f"  {option}" for option in options if option]
    return (
        f"To hold about {target:,} results ({allowance}), raise one of these, "
        f"e.g. `dvc exp run -S fetch_list.tmdb.<name>=<value>`:\n" + "\n".join(lines)
    )


def _raise_popular_pages(params: TmdbListParams, capacity: Capacity, target: int) -> str:
    most = capacity.popular.pages(PAGE_LIMIT)
    discover = params.discover_pages_per_genre
    pages = _smallest(params.popular_pages + 1, most, lambda p: capacity.rows(p, discover) >= target)
    if pages is not None:
        return f"popular_pages={pages} (now {params.popular_pages})"
    return (
        f"(popular_pages cannot do it alone: movie/popular serves {most} pages, "
        f"{capacity.popular.rows(most):,} movies; TMDB serves at most {PAGE_LIMIT} pages of any list)"
    )


def _raise_discover_pages(params: TmdbListParams, capacity: Capacity, n_genres: int, target: int) -> str:
    now, popular = params.discover_pages_per_genre, params.popular_pages
    if not capacity.discover:  # discover_pages_per_genre: 0, so no list's length is known
        lists = n_genres * params.discover_years_per_genre
        short = target - capacity.popular.rows(popular)
        at_least = math.ceil(short / (max(lists, 1) * RESULTS_PER_PAGE))
        if at_least > PAGE_LIMIT:
            return ""
        return f"discover_pages_per_genre={at_least} or more (now 0; {lists} discover lists, many shorter than that)"
    pages = _smallest(now + 1, PAGE_LIMIT, lambda d: capacity.rows(popular, d) >= target)
    if pages is not None:
        return f"discover_pages_per_genre={pages} (now {now})"
    return (
        f"(discover_pages_per_genre cannot do it alone: its {len(capacity.discover)} lists hold "
        f"{capacity.discover_rows(PAGE_LIMIT):,} movies in all)"
    )


def _raise_discover_years(params: TmdbListParams, capacity: Capacity, target: int) -> str:
    now, pages = params.discover_years_per_genre, params.discover_pages_per_genre
    per_year = capacity.discover_rows(pages) / now
    if per_year < 1:
        return ""
    more = math.ceil((target - capacity.rows(params.popular_pages, pages)) / per_year)
    return (
        f"discover_years_per_genre={now + max(more, 1)} (now {now}; one year of discover lists holds "
        f"about {per_year:,.0f} movies here, other years more or fewer)"
    )


def _smallest(low: int, high: int, enough: Callable[[int], bool]) -> int | None:
    """The smallest value in low..high for which `enough` (which only turns true as values grow) holds."""
    if low > high or not enough(high):
        return None
    while low < high:
        middle = (low + high) // 2
        if enough(middle):
            high = middle
        else:
            low = middle + 1
    return low
