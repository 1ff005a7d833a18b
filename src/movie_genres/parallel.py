"""Run a function over items on worker threads, results in input order."""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, which a container or taskset narrows)."""
    return len(os.sched_getaffinity(0))


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


Value = TypeVar("Value")

# One load at a time in the process: loads import modules, and two threads importing one package at once
# can fail (scikit-learn raised "partially initialized module" when `predict` unpickled a stacker and
# the bag of words together). Loads are mostly Python, so running them in turn costs little: the GIL
# would have taken turns anyway. Reentrant: a load may ask for another.
_LOADS = threading.RLock()


class LoadedOnce(Generic[Value]):
    """Values by key, each made by its loader on first use and kept; safe from several threads (the
    loaders run one at a time, process-wide, while the threads' other work goes on)."""

    def __init__(self) -> None:
        self._values: dict[str, Value] = {}

    def get(self, key: str, load: Callable[[], Value]) -> Value:
        if key not in self._values:
            with _LOADS:
                if key not in self._values:
                    self._values[key] = load()
        return self._values[key]
