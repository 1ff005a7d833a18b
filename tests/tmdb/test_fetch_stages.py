"""The two fetch stages on the live source, against the fake TMDB: resume after SIGKILL or after requests that
failed for good, the messages a user sees when a stage stops, and no secret leaks."""

from __future__ import annotations

import json
import logging
import re
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from movie_genres.stage_io import TRACEBACK_VARIABLE
from movie_genres.tmdb.request_cache import RequestCache
from stages import fetch_list, fetch_posters
from tests.conftest import ROOT, TEST_KEY
from tests.tmdb.stage_runs import kill_when, live_repo, run_in, stage_error

CACHE = Path("data/tmdb_cache")


def _use_secret(server, monkeypatch, variable: str, secret: str) -> None:
    """The fake accepts `secret` as either credential; the stages send it from `variable`."""
    server.api_key = server.read_access_token = secret
    monkeypatch.delenv("TMDB_API_KEY", raising=False)
    monkeypatch.delenv("TMDB_READ_ACCESS_TOKEN", raising=False)
    monkeypatch.setenv(variable, secret)


def _cached(folder: Path) -> set[Path]:
    # A write cut off by the kill leaves its temporary `.<name>.<random>.partial` file, which no reader opens.
    return {p for p in (folder / CACHE).rglob("*") if p.is_file() and not p.name.endswith(".partial")}


def _kill_midway(stage: str, folder: Path, entries: int) -> None:
    """Start `stage` in a subprocess and SIGKILL it once the cache holds `entries` more answers."""
    before = len(_cached(folder))
    kill_when(stage, folder, lambda: len(_cached(folder)) >= before + entries)


def _requests_since(server, start: int) -> list[str]:
    return [
        server.url + entry.target if entry.path.startswith("/3/") else server.url + entry.path
        for entry in server.log[start:]
    ]


@pytest.mark.parametrize("stage", ["fetch_list", "fetch_posters"])
def test_a_killed_fetch_resumes_to_the_uninterrupted_result(stage, fake_tmdb, tmp_path, monkeypatch):
    monkeypatch.setenv("TMDB_API_KEY", TEST_KEY)
    n_movies = 400 if stage == "fetch_list" else 60
    reference = live_repo(tmp_path / "reference", fake_tmdb, n_movies=n_movies)
    resumed = live_repo(tmp_path / "resumed", fake_tmdb, n_movies=n_movies)
    if stage == "fetch_posters":
        for folder in (reference, resumed):  # the same list in both
            run_in(fetch_list, folder, monkeypatch)
    module = {"fetch_list": fetch_list, "fetch_posters": fetch_posters}[stage]
    run_in(module, reference, monkeypatch)

    _kill_midway(stage, resumed, entries=8)
    had = _cached(resumed)
    start = len(fake_tmdb.log)
    run_in(module, resumed, monkeypatch)

    cache = RequestCache(resumed / CACHE)
    assert had <= {cache.path(key) for key in _requests_since(fake_tmdb, 0)}  # requests map onto cache entries
    again = {cache.path(key) for key in _requests_since(fake_tmdb, start)}
    assert not again & had, "the resumed run asked again for answers it had"
    outputs = ["data/movies.parquet", "data/genres.csv", "reports/data/fetch_list.json"]
    if stage == "fetch_posters":
        outputs = ["data/posters.zip", "data/posters_missing.csv", "reports/data/fetch_posters.json"]
    for output in outputs:
        assert (resumed / output).read_bytes() == (reference / output).read_bytes(), output
    movies = pd.read_parquet(resumed / "data/movies.parquet")
    assert movies["movie_id"].is_unique


@pytest.mark.parametrize("variable", ["TMDB_API_KEY", "TMDB_READ_ACCESS_TOKEN"])
def test_the_secret_appears_in_no_output(variable, fake_tmdb, tmp_path, monkeypatch, caplog, capfd):
    secret = "SECRET-TMDB-KEY-5f1c9e7d"
    _use_secret(fake_tmdb, monkeypatch, variable, secret)
    repo = live_repo(tmp_path / "repo", fake_tmdb, n_movies=20, details=True)
    fake_tmdb.random_faults(0.1, faults=("500", "502", "drop", "malformed", "truncated"), seed=1)
    fake_tmdb.inject("404", f"/3/movie/{fake_tmdb.expected_popular_ids(1)[0]}")
    fake_tmdb.inject("404", "/t/p/")
    caplog.set_level(logging.DEBUG)  # urllib3 logs every request line, query string included, at DEBUG
    run_in(fetch_list, repo, monkeypatch)
    run_in(fetch_posters, repo, monkeypatch)

    assert any("api_key=***" in line for line in caplog.messages) == (variable == "TMDB_API_KEY")
    assert json.loads((repo / "reports/data/fetch_list.json").read_text())["details_missing"] == 1
    assert pd.read_csv(repo / "data/posters_missing.csv")["reason"].tolist() == ["not on TMDB (HTTP 404)"]
    out, err = capfd.readouterr()
    assert secret not in caplog.text + out + err
    files = [p for p in repo.rglob("*") if p.is_file()]
    assert len(files) > 2 * 20  # the cache: pages, details and posters
    for path in files:
        assert secret not in str(path.relative_to(repo)) and secret.encode() not in path.read_bytes(), path


@pytest.mark.parametrize("variable", ["TMDB_API_KEY", "TMDB_READ_ACCESS_TOKEN"])
def test_the_secret_appears_in_no_error_message(variable, fake_tmdb, tmp_path, monkeypatch, caplog, capfd, closed_port):
    """Every way a fetch stage stops: plan too small, downloads failing for good, no connection, the secret refused."""
    secret = "SECRET-TMDB-KEY-5f1c9e7d"
    _use_secret(fake_tmdb, monkeypatch, variable, secret)
    caplog.set_level(logging.DEBUG)
    repo = live_repo(tmp_path / "repo", fake_tmdb, n_movies=20)
    messages = [stage_error(fetch_list, live_repo(tmp_path / "small", fake_tmdb, n_movies=100_000), monkeypatch, capfd)]
    run_in(fetch_list, repo, monkeypatch)
    fake_tmdb.inject("503", f"/t/p/w185/{fake_tmdb.expected_popular_ids(1)[0]}.jpg", times=7)
    messages.append(stage_error(fetch_posters, repo, monkeypatch, capfd))
    down = live_repo(tmp_path / "down", fake_tmdb, api_base_url=f"http://127.0.0.1:{closed_port}/3")
    messages.append(stage_error(fetch_list, down, monkeypatch, capfd))
    fake_tmdb.api_key = fake_tmdb.read_access_token = "the-key-tmdb-expects-now"
    messages.append(stage_error(fetch_list, live_repo(tmp_path / "refused", fake_tmdb), monkeypatch, capfd))

    starts = ["error: fetch_list.tmdb.n_movies", "error: 1 of 20 poster downloads", "error: cannot connect to"]
    assert [message[: len(start)] for message, start in zip(messages, starts)] == starts
    assert messages[3].startswith(f"error: TMDB refused the credentials in {variable} (HTTP 401 Invalid API key")
    out, err = capfd.readouterr()
    assert secret not in caplog.text + out + err + "".join(messages)
    for path in (p for p in tmp_path.rglob("*") if p.is_file()):
        assert secret not in str(path.relative_to(tmp_path)) and secret.encode() not in path.read_bytes(), path


def test_a_poster_failing_for_good_fails_the_stage_and_a_rerun_asks_only_for_it(
    fake_tmdb, tmp_path, monkeypatch, capfd
):
    monkeypatch.setenv("TMDB_API_KEY", TEST_KEY)
    repo = live_repo(tmp_path / "repo", fake_tmdb, n_movies=30)
    run_in(fetch_list, repo, monkeypatch)
    movie_id = fake_tmdb.expected_popular_ids(30)[7]
    fake_tmdb.inject("500", f"/t/p/w185/{movie_id}.jpg", times=7)  # max_retries: 6, so 7 tries
    message = stage_error(fetch_posters, repo, monkeypatch, capfd)
    assert message == (
        "error: 1 of 30 poster downloads still failed after 7 tries each (TMDB or the network had trouble: "
        "timeouts, HTTP 5xx or 429, broken connections or answers):\n"
        f"  movie {movie_id}: HTTP 500\n"
        "Everything else is saved in data/tmdb_cache/: run `dvc repro` again (later, if TMDB is struggling) to "
        "resume; it asks TMDB only for what is missing.\n"
        f"(rerun with {TRACEBACK_VARIABLE}=1 for the traceback)\n"
    )
    assert not (repo / "data/posters_missing.csv").exists() and not (repo / "data/posters.zip").exists()

    start = len(fake_tmdb.log)
    run_in(fetch_posters, repo, monkeypatch)
    assert fake_tmdb.requests[start:] == [f"/t/p/w185/{movie_id}.jpg"]
    assert pd.read_csv(repo / "data/posters_missing.csv").empty


@pytest.mark.parametrize("variable", ["TMDB_API_KEY", "TMDB_READ_ACCESS_TOKEN"])
@pytest.mark.parametrize("refused", ["list", "details", "configuration"])
def test_refused_credentials_end_the_stage_at_the_first_refusal_naming_the_variable(
    refused, variable, fake_tmdb, tmp_path, monkeypatch, capfd
):
    """A wrong secret from the start (the list), or one revoked after the list was cached (details, posters)."""
    _use_secret(fake_tmdb, monkeypatch, variable, "the-good-secret")
    repo = live_repo(tmp_path / "repo", fake_tmdb, n_movies=None, popular_pages=2)
    if refused != "list":
        run_in(fetch_list, repo, monkeypatch)  # every page of the list is cached
    repo = live_repo(repo, fake_tmdb, n_movies=None, popular_pages=2, details=refused == "details")
    fake_tmdb.api_key = fake_tmdb.read_access_token = "revoked"
    start = len(fake_tmdb.log)
    message = stage_error(fetch_posters if refused == "configuration" else fetch_list, repo, monkeypatch, capfd)
    kind = "v3 API key" if variable == "TMDB_API_KEY" else "v4 read access token"
    assert message.startswith(
        f"error: TMDB refused the credentials in {variable} (HTTP 401 Invalid API key: You must be granted a valid "
        f"key.), so the run stopped at the first refusal. Put your {kind} from "
        f"https://www.themoviedb.org/settings/api in {variable} (exported, or in .env), then run again. "
    )
    asked = fake_tmdb.requests[start:]
    if refused == "details":
        assert 1 <= len(asked) <= 4 and all(re.fullmatch(r"/3/movie/\d+", path) for path in asked)  # 4 workers
    else:
        assert asked == [{"list": "/3/genre/movie/list", "configuration": "/3/configuration"}[refused]]


def test_an_unreachable_api_ends_the_stage_within_seconds_naming_the_host(
    fake_tmdb, tmp_path, monkeypatch, capfd, closed_port
):
    monkeypatch.setenv("TMDB_API_KEY", TEST_KEY)
    defaults = yaml.safe_load((ROOT / "params.yaml").read_text())["tmdb_http"]
    repo = live_repo(
        tmp_path / "repo",
        fake_tmdb,
        http_changes={name: defaults[name] for name in ("timeout_s", "max_retries", "backoff_base_s")},
        api_base_url=f"http://127.0.0.1:{closed_port}/3",
    )
    start = time.monotonic()
    message = stage_error(fetch_list, repo, monkeypatch, capfd)
    assert time.monotonic() - start < 5
    assert message.startswith(f"error: cannot connect to 127.0.0.1:{closed_port} (connection refused; 3 tries): ")


def test_n_movies_beyond_the_plan_ends_fetch_list_after_the_first_pages(fake_tmdb, tmp_path, monkeypatch, capfd):
    """The default plan (50 popular pages, 5 discover pages for each genre, one year) cannot hold 10,000 movies."""
    monkeypatch.setenv("TMDB_API_KEY", TEST_KEY)
    defaults = yaml.safe_load((ROOT / "params.yaml").read_text())["fetch_list"]["tmdb"]
    plan = {name: defaults[name] for name in ("popular_pages", "discover_pages_per_genre", "discover_years_per_genre")}
    repo = live_repo(tmp_path / "repo", fake_tmdb, n_movies=10_000, **plan)
    message = stage_error(fetch_list, repo, monkeypatch, capfd)
    assert message.startswith(
        "error: fetch_list.tmdb.n_movies = 10000 cannot be reached: the planned pages hold at most "
    )
    assert "  discover_pages_per_genre=" in message or "  discover_years_per_genre=" in message
    assert fake_tmdb.requests.count("/3/genre/movie/list") == 1 and len(fake_tmdb.log) == 1 + 1 + 19
    assert all(entry.params["page"] == "1" for entry in fake_tmdb.log[1:])
