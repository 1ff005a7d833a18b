"""No fetch dead ends, against the fake TMDB: an answer broken the same way run after run becomes a fact
(its movie dropped and counted, asked again with tmdb_http.retry_broken); many failures in a row across
requests stop the run within a minute, saying what failed; a silent server is reported while it is waited for."""

from __future__ import annotations

import json
import logging
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml

from movie_genres.tmdb.auth import API_KEY_VARIABLE, Credentials
from movie_genres.tmdb.broken import BrokenAnswers
from movie_genres.tmdb.client import TmdbClient, collect_movies
from movie_genres.tmdb.failures import TmdbIncomplete
from movie_genres.tmdb.http import TmdbHttp
from movie_genres.tmdb.rate_limit import RateLimiter
from movie_genres.tmdb.watch import FailureStreak, url_pattern
from stages import fetch_list, fetch_posters
from tests.conftest import ROOT, TEST_KEY, fast_http
from tests.tmdb.stage_runs import live_repo, run_in, stage_error
from tests.tmdb.test_client import _params

DEFAULT_HTTP = yaml.safe_load((ROOT / "params.yaml").read_text())["tmdb_http"]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A local port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock.getsockname()[1]


def _json(path: Path) -> dict:
    return json.loads(path.read_text())


def test_a_poster_truncated_on_every_try_of_two_runs_is_dropped_counted_and_asked_again_with_the_param(
    fake_tmdb, tmp_path, monkeypatch, capfd
):
    monkeypatch.setenv("TMDB_API_KEY", TEST_KEY)
    repo = live_repo(tmp_path / "repo", fake_tmdb, n_movies=30)
    run_in(fetch_list, repo, monkeypatch)
    movie_id = fake_tmdb.expected_popular_ids(30)[7]
    poster = f"/t/p/w185/{movie_id}.jpg"
    fake_tmdb.inject("truncated", poster, times=2 * 7)  # max_retries: 6, so 7 tries a run, for two runs

    first = stage_error(fetch_posters, repo, monkeypatch, capfd)
    reason = "unreadable image: OSError: image file is truncated (2 bytes not processed)"
    assert first.startswith("error: 1 of 30 poster downloads still failed after 7 tries each")
    assert f"\n  movie {movie_id}: {reason}, on every try (in 1 more run like this one, its movie is dropped " in first

    run_in(fetch_posters, repo, monkeypatch)  # the same broken answer on every try again: a fact now
    missing = pd.read_csv(repo / "data/posters_missing.csv")
    assert missing.to_dict("records") == [{"movie_id": movie_id, "reason": f"broken on TMDB ({reason})"}]
    assert _json(repo / "reports/data/fetch_posters.json") == {
        "movies": 30,
        "with_poster": 29,
        "without_poster": 1,
        "broken_on_tmdb": 1,
    }
    assert _json(repo / "metrics/fetch_posters.json") == {"Kept": 29, "Dropped": 1}
    ledger = repo / "data/tmdb_cache/broken_answers.json"
    assert _json(ledger) == {fake_tmdb.url + poster: {"reason": reason, "runs": 2}}

    start = len(fake_tmdb.log)
    run_in(fetch_posters, repo, monkeypatch)  # a fact is not asked for again
    assert fake_tmdb.requests[start:] == [] and _json(repo / "reports/data/fetch_posters.json")["broken_on_tmdb"] == 1

    live_repo(repo, fake_tmdb, http_changes={"retry_broken": True}, n_movies=30)
    run_in(fetch_posters, repo, monkeypatch)  # asked again: TMDB serves it whole now
    assert fake_tmdb.requests[start:] == [poster]
    assert pd.read_csv(repo / "data/posters_missing.csv").empty and _json(ledger) == {}
    assert _json(repo / "reports/data/fetch_posters.json")["broken_on_tmdb"] == 0


def test_details_malformed_on_every_try_of_two_runs_drop_the_movie_and_count_it(fake_tmdb, tmp_path):
    params = _params(fake_tmdb, popular_pages=1, discover_pages_per_genre=0, details=True)
    movie_id = fake_tmdb.expected_popular_ids(20)[3]
    fake_tmdb.inject("malformed", f"/3/movie/{movie_id}", times=2 * 5)  # fast_http: 5 tries a run

    def client() -> TmdbClient:
        http = fast_http(fake_tmdb, cache_dir=tmp_path / "cache")
        http.broken = BrokenAnswers(tmp_path / "cache")
        return TmdbClient(http, "en-US", workers=4)

    with pytest.raises(TmdbIncomplete, match=rf"movie {movie_id}: malformed JSON, on every try \(in 1 more run"):
        collect_movies(client(), params, progress=False)
    collection = collect_movies(client(), params, progress=False)
    assert collection.details_broken == {movie_id: "malformed JSON"}
    assert movie_id not in set(collection.movies["movie_id"]) and len(collection.movies) == 19

    fake_tmdb.log.clear()
    assert collect_movies(client(), params, progress=False).details_broken == {movie_id: "malformed JSON"}
    assert fake_tmdb.log == []  # every other answer is cached, and the broken one is a fact


def test_a_broken_answer_that_changes_is_no_fact_yet(tmp_path):
    for reason in ("malformed JSON", "JSON without id"):
        ledger = BrokenAnswers(tmp_path)
        assert ledger.saw("/movie/1", reason).runs == 1 and ledger.saw("/movie/1", reason).runs == 1  # once a run
    assert BrokenAnswers(tmp_path).known("/movie/1") is None


def test_malformed_json_on_every_details_answer_stops_the_stage_within_a_minute_saying_what_to_check(
    fake_tmdb, tmp_path, monkeypatch, capfd
):
    """At the shipped settings (10 s timeout, 6 retries from 0.5 s, 8 workers): 7 tries for each of 100 movies
    would take minutes; the streak stops the run after 20 tries across requests."""
    monkeypatch.setenv("TMDB_API_KEY", TEST_KEY)
    shipped = {name: DEFAULT_HTTP[name] for name in ("timeout_s", "max_retries", "backoff_base_s", "workers")}
    repo = live_repo(tmp_path / "repo", fake_tmdb, http_changes=shipped, n_movies=100, details=True)
    for digit in "123456789":  # every /3/movie/<id>, not /3/movie/popular
        fake_tmdb.inject("malformed", f"/3/movie/{digit}", times=1000)

    start = time.monotonic()
    message = stage_error(fetch_list, repo, monkeypatch, capfd)
    assert time.monotonic() - start < 60
    match = re.match(r"error: the last (\d+) tries all failed, for (\d+) different requests:\n", message)
    assert match and int(match[1]) >= 20 and int(match[2]) >= 3, message
    assert f"\n  127.0.0.1:{fake_tmdb.url.rsplit(':', 1)[1]}/3/movie/{{id}}: malformed JSON x" in message
    for check in ("https://status.themoviedb.org", "TMDB_API_KEY", "tmdb_http.timeout_s (now 10 s)", "max_retries"):
        assert check in message, check
    assert message.count("\n") <= 12 and TEST_KEY not in message
    sent = len(fake_tmdb.log)
    assert fake_tmdb.log[-1].time - fake_tmdb.log[0].time < 60 and sent < 100 * 7
    assert not (repo / "data/movies.parquet").exists()


def test_a_server_that_never_answers_is_reported_while_waited_for_then_named_with_what_to_check(
    fake_tmdb, tmp_path, monkeypatch, capfd, caplog, silent_port
):
    monkeypatch.setenv("TMDB_API_KEY", TEST_KEY)
    repo = live_repo(
        tmp_path / "repo",
        fake_tmdb,
        http_changes={"timeout_s": 2.0, "max_retries": 1},
        api_base_url=f"http://127.0.0.1:{silent_port}/3",
    )
    caplog.set_level(logging.WARNING, logger="movie_genres.tmdb.watch")
    started = time.time()
    message = stage_error(fetch_list, repo, monkeypatch, capfd)
    waiting = [record for record in caplog.records if record.getMessage().startswith("still waiting for TMDB: ")]
    assert waiting and waiting[0].created - started < 10
    assert (
        waiting[0]
        .getMessage()
        .startswith(
            "still waiting for TMDB: /genre/movie/list?language=en-US has had no answer for 1 s, try 1; "
            "each try gives up after tmdb_http.timeout_s = 2 s, and a request after 2 tries"
        )
    )
    assert message.startswith(
        "error: TMDB request /genre/movie/list?language=en-US failed 2 times, the last with ReadTimeout "
        "(no answer within tmdb_http.timeout_s = 2 s: check the network connection and TMDB's status "
        "(https://status.themoviedb.org); raise tmdb_http.timeout_s in params.yaml if answers are only slow)\n"
    )


def test_at_the_shipped_timeout_a_waiting_try_is_reported_within_10_s():
    credentials = Credentials(API_KEY_VARIABLE, TEST_KEY)
    http = TmdbHttp("http://127.0.0.1:1/3", credentials, RateLimiter(1), timeout_s=DEFAULT_HTTP["timeout_s"])
    assert http.waiting.after_s <= 5  # and the watcher looks every after_s / 5


def test_a_streak_of_one_requests_retries_never_stops_the_run():
    streak = FailureStreak(limit=3)
    assert not any(streak.failed("/movie/1", "http://h/3/movie/1", "HTTP 503") for _ in range(10))
    assert not streak.failed("/movie/2", "http://h/3/movie/2", "ReadTimeout")
    assert streak.failed("/movie/3", "http://h/3/movie/3", "ReadTimeout")
    streak.answered()
    assert not streak.failed("/movie/4", "http://h/3/movie/4", "ReadTimeout")


def test_url_patterns_hide_ids_file_names_and_the_query():
    assert url_pattern("https://api.themoviedb.org/3/movie/19995?api_key=secret") == "api.themoviedb.org/3/movie/{id}"
    assert url_pattern("https://image.tmdb.org/t/p/w185/kqjL17yufvn9OVLyXYpvtyrFfak.jpg") == (
        "image.tmdb.org/t/p/w185/*.jpg"
    )
