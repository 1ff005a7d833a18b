"""Requests that still failed after their retries, collected so that one bad answer does not stop the rest.

A run fetches everything it can (each answer lands in the on-disk cache), then fails with one
summary, TmdbIncomplete: run again later and it resumes from the cache, asking only for what is
missing. Nothing transient is ever recorded as a fact about a movie.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from movie_genres.tmdb.http import TmdbError, TmdbHttp, TmdbUnavailable

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")

# How many failed requests the summary names; the rest are counted.
EXAMPLES = 5


@dataclass(frozen=True)
class Failed:
    """A request that failed after its retries: which one, for people (`movie 19995`), and why (`HTTP 503`)."""

    label: str
    reason: str


class TmdbIncomplete(TmdbError):
    """Some requests failed after all their retries; everything else is in the cache for the next run."""

    def __init__(self, message: str, failures: Sequence[Failed]) -> None:
        super().__init__(message)
        self.failures = list(failures)


def or_failed(fn: Callable[[Item], Result], label: Callable[[Item], str]) -> Callable[[Item], Result | Failed]:
    """`fn`, returning a Failed instead of raising when its request fails after every retry."""

    def run(item: Item) -> Result | Failed:
        try:
            return fn(item)
        except TmdbUnavailable as err:
            log.warning("%s: %s", label(item), err)
            return Failed(label(item), err.reason)

    return run


def incomplete(what: str, total: int, failures: Sequence[Failed], http: TmdbHttp) -> TmdbIncomplete:
    """The one-screen summary: how many of `total` `what` failed, a few examples, and how to resume."""
    tries = http.retry.max_retries + 1
    examples = [f"  {failure.label}: {failure.reason}" for failure in failures[:EXAMPLES]]
    if len(failures) > EXAMPLES:
        examples.append(f"  ... and {len(failures) - EXAMPLES} more")
    saved = f"saved in {http.cache.folder}/" if http.cache is not None else "kept"
    lines = [
        f"{len(failures)} of {total} {what} still failed after {tries} tries each "
        "(TMDB or the network had trouble: timeouts, HTTP 5xx or 429, broken connections or answers):",
        *examples,
        f"Everything else is {saved}: run `dvc repro` again (later, if TMDB is struggling) to resume; "
        "it asks TMDB only for what is missing.",
    ]
    return TmdbIncomplete("\n".join(lines), failures)
