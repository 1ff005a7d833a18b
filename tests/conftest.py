"""Shared fixtures: the repository root, small slices of the real bundled data, the small-profile run."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from src import paths
from src.dataset import read_bundled_movies
from tests.dvc_repo import reproduce_small_profile

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def bundled() -> tuple[pd.DataFrame, dict[int, str]]:
    """The real TMDB 5000 table as raw rows, and its genre names."""
    return read_bundled_movies(ROOT / paths.BUNDLED_CSV)


@pytest.fixture
def in_tmp_repo(tmp_path, monkeypatch) -> Path:
    """Run in an empty directory with the project's params.yaml, as stages do at the repo root."""
    (tmp_path / "params.yaml").write_text((ROOT / "params.yaml").read_text())
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="session")
def small_profile_repo(tmp_path_factory) -> Path:
    """The project reproduced on the small profile and committed, once a session (about a minute).

    Shared by every end-to-end test: a test that changes a repository works on a copy_workspace of it.
    """
    repo = tmp_path_factory.mktemp("small_profile")
    reproduce_small_profile(ROOT, repo)
    return repo
