"""A request-rate limiter shared by worker threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiter:
    """Hands out evenly spaced send slots, at most `rate` per second across all threads.

    A slot missed because every worker was busy is not made up later with a burst, so no one-second
    window ever holds more than `rate` + 1 requests. `pause` (after a 429) holds every thread back.
    """

    def __init__(
        self, rate: float, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be > 0, got {rate}")
        self.interval = 1.0 / rate
        self._clock, self._sleep = clock, sleep
        self._next_slot = 0.0
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Block until this thread may send one request."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_slot, self._paused_until)
            self._next_slot = slot + self.interval
        self._sleep_until(slot)
        # A pause set while this thread waited for its slot still applies to it.
        while (paused_until := self._paused_until) > self._clock():
            self._sleep_until(paused_until)

    def pause(self, seconds: float) -> None:
        """Send nothing for `seconds` from now (the server asked us to slow down)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)

    def _sleep_until(self, moment: float) -> None:
        delay = moment - self._clock()
        if delay > 0:
            self._sleep(delay)
