"""The two fetch stages on the live source, against the fake TMDB: resume after SIGKILL, and no secret leaks."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from movie_genres.tmdb.request_cache import RequestCache
from stages import fetch_list, fetch_posters
from tests.conftest import ROOT, TEST_KEY

CACHE = Path("data/tmdb_cache")


def _live_repo(folder: Path, server, **tmdb_changes) -> Path:
    """A folder with the project's params.yaml switched to the fake TMDB, as a stage sees the repo root."""
    folder.mkdir(parents=True, exist_ok=True)
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["fetch_list"]["source"] = "tmdb"
    params["fetch_list"]["tmdb"].update(
        api_base_url=server.url + "/3", popular_pages=40, discover_pages_per_genre=0, **tmdb_changes
    )
    params["tmdb_http"].update(requests_per_second=50, workers=4, timeout_s=1.0, backoff_base_s=0.01)
    (folder / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    (folder / "paths.yaml").write_text((ROOT / "paths.yaml").read_text())
    return folder


def _run_stage(stage, folder: Path, monkeypatch) -> None:
    monkeypatch.chdir(folder)
    stage.main()


def _cached(folder: Path) -> set[Path]:
    return {p for p in (folder / CACHE).rglob("*") if p.is_file() and not p.name.startswith(".partial")}


def _kill_midway(stage: str, folder: Path, entries: int) -> None:
    """Start `stage` in a subprocess and SIGKILL it once the cache holds `entries` more answers."""
    before = len(_cached(folder))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "src")]), "TMDB_API_KEY": TEST_KEY}
    process = subprocess.Popen(
        [sys.executable, "-m", f"stages.{stage}"],
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while len(_cached(folder)) < before + entries and time.monotonic() < deadline:
        assert process.poll() is None, f"{stage} ended before it could be killed"
        time.sleep(0.01)
    assert process.poll() is None, f"{stage} ended before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()


def _requests_since(server, start: int) -> list[str]:
    return [
        server.url + entry.target if entry.path.startswith("/3/") else server.url + entry.path
        for entry in server.log[start:]
    ]


@pytest.mark.parametrize("stage", ["fetch_list", "fetch_posters"])
def test_a_killed_fetch_resumes_to_the_uninterrupted_result(stage, fake_tmdb, tmp_path, monkeypatch):
    monkeypatch.setenv("TMDB_API_KEY", TEST_KEY)
    n_movies = 400 if stage == "fetch_list" else 60
    reference = _live_repo(tmp_path / "reference", fake_tmdb, n_movies=n_movies)
    resumed = _live_repo(tmp_path / "resumed", fake_tmdb, n_movies=n_movies)
    if stage == "fetch_posters":
        for folder in (reference, resumed):  # the same list in both
            _run_stage(fetch_list, folder, monkeypatch)
    module = {"fetch_list": fetch_list, "fetch_posters": fetch_posters}[stage]
    _run_stage(module, reference, monkeypatch)

    _kill_midway(stage, resumed, entries=8)
    had = _cached(resumed)
    start = len(fake_tmdb.log)
    _run_stage(module, resumed, monkeypatch)

    cache = RequestCache(resumed / CACHE)
    assert had <= {cache.path(key) for key in _requests_since(fake_tmdb, 0)}  # requests map onto cache entries
    again = {cache.path(key) for key in _requests_since(fake_tmdb, start)}
    assert not again & had, "the resumed run asked again for answers it had"
    outputs = ["data/movies.parquet", "data/genres.csv", "metrics/data/fetch_list.json"]
    if stage == "fetch_posters":
        outputs = ["data/posters.zip", "data/posters_missing.csv", "metrics/data/fetch_posters.json"]
    for output in outputs:
        assert (resumed / output).read_bytes() == (reference / output).read_bytes(), output
    movies = pd.read_parquet(resumed / "data/movies.parquet")
    assert movies["movie_id"].is_unique


@pytest.mark.parametrize("variable", ["TMDB_API_KEY", "TMDB_READ_ACCESS_TOKEN"])
def test_the_secret_appears_in_no_output(variable, fake_tmdb, tmp_path, monkeypatch, caplog, capfd):
    secret = "SECRET-TMDB-KEY-5f1c9e7d"
    fake_tmdb.api_key = fake_tmdb.read_access_token = secret
    monkeypatch.delenv("TMDB_API_KEY", raising=False)
    monkeypatch.delenv("TMDB_READ_ACCESS_TOKEN", raising=False)
    monkeypatch.setenv(variable, secret)
    repo = _live_repo(tmp_path / "repo", fake_tmdb, n_movies=20, details=True)
    fake_tmdb.random_faults(0.1, faults=("500", "502", "drop", "malformed", "truncated"), seed=1)
    fake_tmdb.inject("404", f"/3/movie/{fake_tmdb.expected_popular_ids(1)[0]}")
    fake_tmdb.inject("404", "/t/p/")
    caplog.set_level(logging.DEBUG)  # urllib3 logs every request line, query string included, at DEBUG
    _run_stage(fetch_list, repo, monkeypatch)
    _run_stage(fetch_posters, repo, monkeypatch)

    assert any("api_key=***" in line for line in caplog.messages) == (variable == "TMDB_API_KEY")
    assert len(pd.read_csv(repo / "data/posters_missing.csv")) >= 1  # an error message was written
    out, err = capfd.readouterr()
    assert secret not in caplog.text + out + err
    files = [p for p in repo.rglob("*") if p.is_file()]
    assert len(files) > 2 * 20  # the cache: pages, details and posters
    for path in files:
        assert secret not in str(path.relative_to(repo)) and secret.encode() not in path.read_bytes(), path
