"""Shared fixtures: the repository root, small slices of the real bundled data, the small-profile run,
the local fake TMDB server."""

from __future__ import annotations

import os
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from filelock import FileLock

from movie_genres import paths
from movie_genres.data.bundled import read_bundled_movies
from tests.dvc_repo import reproduce_small_profile

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def bundled() -> tuple[pd.DataFrame, dict[int, str]]:
    """The real TMDB 5000 table as raw rows, and its genre names."""
    return read_bundled_movies(ROOT / paths.BUNDLED_CSV)


@pytest.fixture
def in_tmp_repo(tmp_path, monkeypatch) -> Path:
    """Run in an empty directory with the project's params.yaml and paths.yaml, as stages do at the repo root."""
    for name in ("params.yaml", "paths.yaml"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    monkeypatch.chdir(tmp_path)
    return tmp_path


BUILD_PRIORITY = 10  # how much nicer than the shared build the tests running beside it are


def _needs_small_profile(item: pytest.Item) -> bool:
    return "small_profile_repo" in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests that need the small-profile build last (in their order): the workers run the others while
    it is built, instead of waiting for it."""
    items.sort(key=_needs_small_profile)


def _build_shared_small_profile(repo: Path) -> Path:
    """The workers' one build, under a file lock: the first to get it builds, the others find it built."""
    built = repo.with_name("small_profile.built")  # beside the repository, whose git status stays clean
    with FileLock(repo.with_name("small_profile.lock")):
        if not built.exists():
            shutil.rmtree(repo, ignore_errors=True)
            repo.mkdir()
            reproduce_small_profile(ROOT, repo)
            built.touch()
    return repo


@pytest.fixture(scope="session", autouse=True)
def early_small_profile_build(request, tmp_path_factory) -> Iterator[threading.Thread | None]:
    """Under pytest-xdist, start the shared build at once, beside the first tests, when some test needs it:
    otherwise the worker that builds it leaves the other one waiting on the lock for its first end-to-end
    test (2 of the suite's 12 minutes, seen with `make test`). A thread: the build is subprocesses."""
    needed = any(_needs_small_profile(item) for item in request.session.items)
    if "PYTEST_XDIST_WORKER" not in os.environ or not needed:
        yield None
        return
    repo = tmp_path_factory.getbasetemp().parent / "small_profile"
    build = threading.Thread(target=_build_shared_small_profile, args=(repo,), daemon=True)
    build.start()
    # The build is the suite's critical path: every end-to-end test waits for it. The tests that run
    # meanwhile yield the CPU to it: this thread (Linux sets niceness per thread) and what it spawns run
    # at a lower priority from here on, the build's thread and its processes at the normal one.
    os.nice(BUILD_PRIORITY)
    yield build


@pytest.fixture(scope="session")
def small_profile_repo(tmp_path_factory, early_small_profile_build) -> Path:
    """The project reproduced on the small profile and committed, once a run (2-3 minutes).

    Shared by every end-to-end test: a test that changes a repository works on a copy_workspace of it.
    Under pytest-xdist (`make test` runs three workers) the workers share one build, started early.
    """
    if "PYTEST_XDIST_WORKER" not in os.environ:
        repo = tmp_path_factory.mktemp("small_profile")
        reproduce_small_profile(ROOT, repo)
        return repo
    early_small_profile_build.join()
    return _build_shared_small_profile(tmp_path_factory.getbasetemp().parent / "small_profile")


# --- The live source, against the local fake TMDB server -------------------------------------------

TEST_KEY = "test-key-0123456789abcdef"


@pytest.fixture(scope="session")
def tmdb_details() -> dict[int, dict]:
    from tests.fake_tmdb import bundled_details

    return bundled_details(ROOT / paths.BUNDLED_CSV)


@pytest.fixture
def fake_tmdb(bundled, tmdb_details):
    """A fake TMDB serving the bundled movies; slow answers take longer than `fast_http`'s timeout."""
    from tests.fake_tmdb import FakeTmdb

    raw, genre_names = bundled
    with FakeTmdb(
        raw, genre_names, ROOT / paths.BUNDLED_POSTERS, TEST_KEY, details=tmdb_details, slow_s=1.5, retry_after="0.5"
    ) as server:
        yield server


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A local port bound but not listening: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def fast_http(server, cache_dir: Path | None = None, key: str = TEST_KEY, max_retries: int = 4):
    """An HTTP layer for tests: a high rate limit, short back-off and timeout."""
    from movie_genres.tmdb.auth import API_KEY_VARIABLE, Credentials
    from movie_genres.tmdb.http import RetryPolicy, TmdbHttp
    from movie_genres.tmdb.rate_limit import RateLimiter
    from movie_genres.tmdb.request_cache import RequestCache

    return TmdbHttp(
        server.url + "/3",
        Credentials(API_KEY_VARIABLE, key),
        RateLimiter(1000),
        RetryPolicy(max_retries, backoff_base_s=0.01),
        timeout_s=1.0,
        cache=None if cache_dir is None else RequestCache(cache_dir),
    )
