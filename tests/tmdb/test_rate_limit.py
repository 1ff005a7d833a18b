import threading
import time

import pytest

from movie_genres.tmdb.rate_limit import RateLimiter


class FakeClock:
    """Time that moves only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_slots_are_evenly_spaced_and_missed_ones_are_not_made_up():
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep)
    sent = []
    for _ in range(3):
        limiter.acquire()
        sent.append(clock.now)
    clock.now += 5.0  # idle: no burst of 50 saved-up slots afterwards
    for _ in range(2):
        limiter.acquire()
        sent.append(clock.now)
    assert sent == pytest.approx([100.0, 100.1, 100.2, 105.2, 105.3])


def test_a_pause_holds_back_the_next_requests():
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    limiter.pause(2.0)
    limiter.acquire()
    assert clock.now == pytest.approx(102.0)


def test_threads_together_never_exceed_the_rate():
    limiter = RateLimiter(400)
    stamps: list[float] = []

    def work() -> None:
        for _ in range(20):
            limiter.acquire()
            stamps.append(time.monotonic())

    threads = [threading.Thread(target=work) for _ in range(6)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 120 slots 1/400 s apart: the last cannot come before 119/400 s, however the threads interleave.
    assert len(stamps) == 120
    assert max(stamps) - start >= 119 / 400
    assert max(stamps) - start < 3 * 119 / 400


def test_a_rate_must_be_positive():
    with pytest.raises(ValueError, match="rate must be > 0"):
        RateLimiter(0)
