"""The HTTP layer against the fake TMDB: every fault ends in the right answer, or in a clear error."""

import json
import threading
import time

import pytest

from movie_genres.tmdb.auth import API_KEY_VARIABLE, TOKEN_VARIABLE, Credentials
from movie_genres.tmdb.http import RetryPolicy, TmdbAuthRefused, TmdbRequestFailed, TmdbUnavailable, TmdbUnreachable
from movie_genres.tmdb.posters import check_downloaded_image
from movie_genres.tmdb.rate_limit import RateLimiter
from tests.conftest import ROOT, TEST_KEY, fast_http
from tests.fake_tmdb import TRANSIENT_FAULTS

POSTER = ROOT / "data/bundled/posters/19995.jpg"


@pytest.mark.parametrize("fault", TRANSIENT_FAULTS)
def test_every_transient_fault_is_retried_into_the_right_answer(fake_tmdb, fault):
    http = fast_http(fake_tmdb)
    clean = http.get_json("/movie/popular", {"page": 2})
    fake_tmdb.inject(fault, "/3/movie/popular")
    fake_tmdb.inject(fault, "/t/p/")
    assert http.get_json("/movie/popular", {"page": 2}) == clean
    assert http.get_bytes(f"{fake_tmdb.url}/t/p/w185/19995.jpg", check_downloaded_image) == POSTER.read_bytes()
    assert [entry.fault for entry in fake_tmdb.log] == [None, fault, None, fault, None]
    assert sum(http.retries.values()) == 2


class RecordingLimiter(RateLimiter):
    """Notes when each send slot is released and when a pause is set, on the client's side of the wire."""

    def __init__(self, rate: float) -> None:
        super().__init__(rate)
        self.released: list[float] = []
        self.paused_at: list[float] = []

    def acquire(self) -> None:
        super().acquire()
        self.released.append(time.monotonic())

    def pause(self, seconds: float) -> None:
        super().pause(seconds)
        self.paused_at.append(time.monotonic())


def test_retry_after_pauses_every_worker(fake_tmdb):
    """After a 429 with Retry-After: 1, no worker sends anything for that second.

    Measured where the client learns of the 429: a request sent before then may still reach the server
    in that second (on a loaded machine the answer takes a while to come back), and is not a fault.
    """
    http = fast_http(fake_tmdb)
    http.limiter = limiter = RecordingLimiter(50)
    fake_tmdb.retry_after = "1"
    fake_tmdb.inject("429", "/3/movie/popular")

    def work(worker: int) -> None:
        for page in range(1 + worker * 4, 5 + worker * 4):
            http.get_json("/movie/popular", {"page": page})

    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    (paused_at,) = limiter.paused_at
    # 50 ms of grace: a thread let through just before the pause may be descheduled before it notes the time.
    released_in_pause = [moment for moment in limiter.released if paused_at + 0.05 < moment < paused_at + 0.95]
    assert len(fake_tmdb.log) == 17 and len(limiter.released) == 17 and released_in_pause == []
    (refused,) = [entry for entry in fake_tmdb.log if entry.fault == "429"]
    (asked_again,) = [entry for entry in fake_tmdb.log if entry.query == refused.query and entry.fault is None]
    assert asked_again.time >= refused.time + 1.0
    assert http.retries == {"HTTP 429": 1}


def test_a_refusal_fails_at_once_with_tmdbs_message(fake_tmdb):
    http = fast_http(fake_tmdb)
    with pytest.raises(
        TmdbRequestFailed, match=r"TMDB refused /movie/99999999\?language=en-US: HTTP 404 The resource"
    ) as err:
        http.get_json("/movie/99999999", {"language": "en-US"})
    assert err.value.status == 404 and http.sent == 1


def test_retries_are_bounded_and_the_last_problem_is_named(fake_tmdb):
    http = fast_http(fake_tmdb, max_retries=2)
    fake_tmdb.inject("503", "/3/genre", times=5)
    with pytest.raises(TmdbUnavailable, match=r"/genre/movie/list failed 3 times, the last with HTTP 503") as err:
        http.get_json("/genre/movie/list")
    assert fake_tmdb.requests == ["/3/genre/movie/list"] * 3 and err.value.reason == "HTTP 503"


@pytest.mark.parametrize("variable", [API_KEY_VARIABLE, TOKEN_VARIABLE])
def test_a_wrong_key_is_refused_at_once_naming_its_variable_not_its_value(fake_tmdb, variable):
    http = fast_http(fake_tmdb)
    http.credentials = Credentials(variable, "wrong-key-987654")
    with pytest.raises(
        TmdbAuthRefused, match=rf"TMDB refused the credentials in {variable} \(HTTP 401 Invalid API key"
    ) as err:
        http.get_json("/configuration")
    assert "wrong-key-987654" not in str(err.value) and "settings/api" in str(err.value)
    assert http.sent == 1 and http.retries == {}


@pytest.mark.parametrize("status", ["401", "403"])
def test_a_refusal_of_the_credentials_stops_every_worker(fake_tmdb, status):
    """Once one request is refused, no worker sends another: at most the ones already in flight."""
    http = fast_http(fake_tmdb)
    fake_tmdb.inject(status, "/3/movie/popular")
    refused = []
    known: list[float] = []  # when a worker first saw the refusal (the server logs on the same clock)

    def work(worker: int) -> None:
        for page in range(1 + worker * 10, 11 + worker * 10):
            try:
                http.get_json("/movie/popular", {"page": page})
            except TmdbAuthRefused as err:
                known.append(time.monotonic())
                refused.append(str(err))
                return

    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    first = next(i for i, entry in enumerate(fake_tmdb.log) if entry.fault == status)
    assert len(refused) == 4 and all(f"HTTP {status}" in message for message in refused)
    # No request reaches the server after the refusal was seen (1 s: one sent just before may be slow
    # to arrive on a loaded machine). Between the 403's arrival and its reading, a worker whose answer
    # came meanwhile may start one more: so at most two per other worker after the refused one.
    assert not [entry for entry in fake_tmdb.log if entry.time > min(known) + 1.0]
    assert len(fake_tmdb.log) - first <= 1 + 2 * 3
    sent = len(fake_tmdb.log)
    with pytest.raises(TmdbAuthRefused):
        http.get_json("/movie/popular", {"page": 99})
    assert len(fake_tmdb.log) == sent  # refused without asking again


def test_a_refusal_on_the_image_server_is_the_files_not_the_keys(fake_tmdb):
    http = fast_http(fake_tmdb)
    fake_tmdb.inject("403", "/t/p/")
    with pytest.raises(TmdbRequestFailed, match="HTTP 403") as err:
        http.get_bytes(f"{fake_tmdb.url}/t/p/w185/19995.jpg", check_downloaded_image)
    assert not isinstance(err.value, TmdbAuthRefused) and err.value.status == 403
    assert http.get_bytes(f"{fake_tmdb.url}/t/p/w185/19995.jpg", check_downloaded_image) == POSTER.read_bytes()


def test_a_v4_token_is_sent_as_a_bearer_header(fake_tmdb):
    fake_tmdb.read_access_token = "v4-token-abc"
    http = fast_http(fake_tmdb)
    http.credentials = Credentials(TOKEN_VARIABLE, "v4-token-abc")
    assert "genres" in http.get_json("/genre/movie/list")
    assert "api_key" not in fake_tmdb.log[0].query


def test_cached_answers_are_not_requested_again(fake_tmdb, tmp_path):
    first = fast_http(fake_tmdb, cache_dir=tmp_path)
    answer = first.get_json("/movie/popular", {"page": 1})
    poster = first.get_bytes(f"{fake_tmdb.url}/t/p/w185/19995.jpg", check_downloaded_image)
    second = fast_http(fake_tmdb, cache_dir=tmp_path)
    assert second.get_json("/movie/popular", {"page": 1}) == answer
    assert second.get_bytes(f"{fake_tmdb.url}/t/p/w185/19995.jpg", check_downloaded_image) == poster
    assert len(fake_tmdb.log) == 2 and second.sent == 0 and second.cache_hits == 2
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) == 2 and not any(TEST_KEY in str(p) or TEST_KEY.encode() in p.read_bytes() for p in files)


def test_an_unreadable_cache_entry_is_fetched_again(fake_tmdb, tmp_path):
    http = fast_http(fake_tmdb, cache_dir=tmp_path)
    answer = http.get_json("/genre/movie/list")
    (entry,) = [p for p in tmp_path.rglob("*") if p.is_file()]
    entry.write_bytes(b'{"genres": [')
    assert http.get_json("/genre/movie/list") == answer
    assert json.loads(entry.read_bytes()) == answer and len(fake_tmdb.log) == 2


def test_a_host_refusing_connections_stops_the_run_within_seconds_naming_it(fake_tmdb, closed_port):
    http = fast_http(fake_tmdb)
    http.retry = RetryPolicy()  # the default policy: 6 retries from 0.5 s
    http.api_base_url = f"http://127.0.0.1:{closed_port}/3"
    start = time.monotonic()
    with pytest.raises(
        TmdbUnreachable, match=rf"cannot connect to 127.0.0.1:{closed_port} \(connection refused; 3 tries\)"
    ):
        http.get_json("/genre/movie/list")
    assert time.monotonic() - start < 3 and http.sent == 3
    with pytest.raises(TmdbUnreachable):  # the run has stopped: nothing more is sent
        http.get_bytes(f"{fake_tmdb.url}/t/p/w185/19995.jpg", check_downloaded_image)
    assert http.sent == 3 and fake_tmdb.log == []


def test_a_name_that_does_not_resolve_is_named(fake_tmdb):
    http = fast_http(fake_tmdb)
    http.api_base_url = "http://nonexistent.invalid/3"
    with pytest.raises(TmdbUnreachable, match=r"cannot connect to nonexistent.invalid \(.+; 3 tries\)") as err:
        http.get_json("/genre/movie/list")
    assert TEST_KEY not in str(err.value)


def test_a_dropped_connection_is_retried_like_any_transient_fault(fake_tmdb):
    """Unlike a refused connection, one that is made and then dropped gets every retry."""
    http = fast_http(fake_tmdb, max_retries=4)
    fake_tmdb.inject("drop", "/3/genre", times=4)
    assert "genres" in http.get_json("/genre/movie/list")
    assert http.retries == {"ConnectionError": 4}


def test_an_answer_without_the_required_keys_is_retried_and_never_cached(fake_tmdb, tmp_path):
    http = fast_http(fake_tmdb, cache_dir=tmp_path, max_retries=1)
    with pytest.raises(TmdbRequestFailed, match="/configuration failed 2 times, the last with JSON without results"):
        http.get_json("/configuration", require=("results",))
    assert not any(p.is_file() for p in tmp_path.rglob("*"))
