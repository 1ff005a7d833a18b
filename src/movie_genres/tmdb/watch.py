"""Watching a run's requests as a whole: a streak of failures across requests, and requests left waiting.

One request failing is that request's trouble, and its retries deal with it. Many different requests
failing in a row (malformed answers, timeouts, 5xx) is the network's, the proxy's or TMDB's: retrying
each of them for minutes helps nobody, so the run stops and says what failed. A request waiting
for its answer is reported while it waits, so a slow or silent server never means a silent run.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

# A streak stops the run only once it spans this many different requests: one request's retries never do.
MIN_REQUESTS = 3
# How long a try may wait before the run says so, and then how often it says so again (at most).
WAIT_REPORT_S = 5.0


def url_pattern(url: str) -> str:
    """`host/path` with ids and file names as placeholders: `api.themoviedb.org/3/movie/{id}`, `.../w185/*.jpg`.

    The first segment stays: it is the API's version. Never the query: it may hold the key.
    """
    parts = urlsplit(url)
    first, *rest = parts.path.lstrip("/").split("/")
    generic = ["", first, *("{id}" if segment.isdigit() else segment for segment in rest)]
    if "." in generic[-1]:
        generic[-1] = "*." + generic[-1].rsplit(".", 1)[1]
    return parts.netloc.rsplit("@", 1)[-1] + "/".join(generic)


class FailureStreak:
    """The tries that failed in a row since the last good answer, by URL pattern and kind of failure."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._kinds: Counter[tuple[str, str]] = Counter()
        self._requests: set[str] = set()
        self._lock = threading.Lock()

    def answered(self) -> None:
        """An answer that was no failure (good, or a 404) ends the streak."""
        with self._lock:
            self._kinds.clear()
            self._requests.clear()

    def failed(self, request: str, url: str, kind: str) -> bool:
        """Count a failed try; True once the streak is `limit` tries long and spans MIN_REQUESTS requests."""
        with self._lock:
            self._kinds[url_pattern(url), kind] += 1
            self._requests.add(request)
            return self._kinds.total() >= self.limit and len(self._requests) >= MIN_REQUESTS

    def describe(self) -> str:
        """`the last 20 tries all failed, for 8 different requests:` and a line per URL pattern and kind."""
        with self._lock:
            lines = [
                f"  {pattern}: {kind} x{n}"
                for (pattern, kind), n in sorted(self._kinds.items(), key=lambda item: (-item[1], item[0]))
            ]
            head = f"the last {self._kinds.total()} tries all failed, for {len(self._requests)} different requests:"
        return "\n".join([head, *lines])


@dataclass
class _Try:
    what: str
    number: int
    started: float


class WaitReporter:
    """Logs, while some try has waited `after_s` or more for its answer, how many wait and for what.

    A watcher thread runs only while tries are in flight, so an idle client holds no thread.
    """

    def __init__(self, after_s: float, advice: Callable[[], str], clock: Callable[[], float] = time.monotonic):
        self.after_s = after_s
        self._advice = advice
        self._clock = clock
        self._waiting: dict[int, _Try] = {}
        self._next_token = 0
        self._watching = False
        self._reported = 0.0
        self._lock = threading.Lock()

    def started(self, what: str, number: int) -> int:
        """A try of `what` (its `number`, from 1) is sent; the token is for `finished`."""
        with self._lock:
            token = self._next_token
            self._next_token += 1
            self._waiting[token] = _Try(what, number, self._clock())
            if not self._watching:
                self._watching = True
                threading.Thread(target=self._watch, name="tmdb-wait-reporter", daemon=True).start()
        return token

    def finished(self, token: int) -> None:
        with self._lock:
            self._waiting.pop(token, None)

    def _watch(self) -> None:
        while True:
            with self._lock:
                if not self._waiting:
                    self._watching = False
                    return
                message = self._message()
            if message:
                log.warning(message)
            time.sleep(self.after_s / 5)

    def _message(self) -> str:
        """What to report now ('' for nothing): called with the lock held."""
        now = self._clock()
        oldest = min(self._waiting.values(), key=lambda attempt: attempt.started)
        waited = now - oldest.started
        if waited < self.after_s or now - self._reported < self.after_s:
            return ""
        self._reported = now
        others = len(self._waiting) - 1
        also = f" ({others} more waiting)" if others else ""
        return (
            f"still waiting for TMDB: {oldest.what} has had no answer for {waited:.0f} s, try {oldest.number}{also}; "
            f"{self._advice()}"
        )
