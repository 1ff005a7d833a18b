"""Shared fixtures: the repository root, small slices of the real bundled data, the small-profile run,
the local fake TMDB server."""

from __future__ import annotations

import os
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest
from filelock import FileLock

from movie_genres import paths
from movie_genres.data.bundled import read_bundled_movies
from tests.dvc_repo import reproduce_small_profile, run_experiments

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


BUILD_PRIORITY = 10  # how much nicer than the shared builds the tests running beside them are
SMALL_PROFILE_FIXTURE = "small_profile_repo"
EXPERIMENTS_FIXTURE = "experimented"


def _needs(item: pytest.Item, fixture: str) -> bool:
    return fixture in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests that need the small-profile build last, and of those the ones that need its experiments
    after the others: the workers run the rest while each is built, instead of waiting for it."""
    items.sort(key=lambda item: (_needs(item, SMALL_PROFILE_FIXTURE), _needs(item, EXPERIMENTS_FIXTURE)))


def _build_shared(repo: Path, build: Callable[[Path], None]) -> Path:
    """The workers' one build of `repo`, under a file lock: the first to get it builds, the others find it
    built. Its marker lies beside the repository, whose git status stays clean."""
    built = repo.with_name(repo.name + ".built")
    with FileLock(repo.with_name(repo.name + ".lock")):
        if not built.exists():
            shutil.rmtree(repo, ignore_errors=True)
            build(repo)
            built.touch()
    return repo


def _shared_small_profile(root: Path) -> Path:
    return _build_shared(root / "small_profile", lambda repo: reproduce_small_profile(ROOT, repo))


def _shared_experiments(root: Path) -> Path:
    small_profile = _shared_small_profile(root)
    return _build_shared(root / "experiments", lambda repo: run_experiments(small_profile, repo))


def _shared_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.getbasetemp().parent  # the workers' basetemps are its folders


@pytest.fixture(scope="session", autouse=True)
def early_shared_builds(request, tmp_path_factory) -> Iterator[threading.Thread | None]:
    """Under pytest-xdist, start the shared builds at once, beside the first tests, when some test needs
    them: otherwise the worker that builds one leaves the others waiting on its lock (2 of the suite's 12
    minutes, seen with `make test`). The experiments follow the small profile in the same thread, while
    the workers run the end-to-end tests that need no experiment. A thread: the builds are subprocesses."""
    items = request.session.items
    if "PYTEST_XDIST_WORKER" not in os.environ or not any(_needs(item, SMALL_PROFILE_FIXTURE) for item in items):
        yield None
        return
    build = _shared_experiments if any(_needs(item, EXPERIMENTS_FIXTURE) for item in items) else _shared_small_profile
    thread = threading.Thread(target=build, args=(_shared_root(tmp_path_factory),), daemon=True)
    thread.start()
    # The builds are the suite's critical path: the end-to-end tests wait for them. The tests that run
    # meanwhile yield the CPU to them: this thread (Linux sets niceness per thread) and what it spawns run
    # at a lower priority from here on, the build's thread and its processes at the normal one.
    os.nice(BUILD_PRIORITY)
    yield thread


@pytest.fixture(scope="session")
def small_profile_repo(tmp_path_factory) -> Path:
    """The project reproduced on the small profile and committed, once a run (2-3 minutes).

    Shared by every end-to-end test: a test that changes a repository works on a copy_workspace of it.
    Under pytest-xdist (`make test` runs three workers) the workers share one build, started early.
    """
    if "PYTEST_XDIST_WORKER" not in os.environ:
        repo = tmp_path_factory.mktemp("small_profile") / "repo"
        reproduce_small_profile(ROOT, repo)
        return repo
    return _shared_small_profile(_shared_root(tmp_path_factory))


@pytest.fixture(scope="session")
def experimented(small_profile_repo, tmp_path_factory) -> Path:
    """The small-profile repository with dvc_repo.EXPERIMENTS run in it, once a run; the tests only read it."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        repo = tmp_path_factory.mktemp("experiments") / "repo"
        run_experiments(small_profile_repo, repo)
        return repo
    return _shared_experiments(_shared_root(tmp_path_factory))


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
