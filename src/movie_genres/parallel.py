"""Run a function over items on worker threads, results in input order."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def ordered_map(
    fn: Callable[[Item], Result], items: Iterable[Item], workers: int, window: int | None = None
) -> Generator[Result]:
    """Yield `fn(item)` for each item in input order, with at most `window` calls started ahead.

    The bounded window keeps memory flat over 100,000 items; the wider it is, the longer the other
    workers keep going while the oldest call is slow (there is no pause between batches). Stopping
    the iteration early, or an exception from `fn`, cancels the calls not yet started and waits for
    the running ones.
    """
    if workers <= 1:
        yield from map(fn, items)
        return
    window = window or 4 * workers
    pending: deque[Future[Result]] = deque()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        try:
            for item in items:
                pending.append(pool.submit(fn, item))
                if len(pending) >= window:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
