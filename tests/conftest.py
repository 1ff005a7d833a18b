"""Shared fixtures: the repository root and small slices of the real bundled data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from src import paths
from src.dataset import read_bundled_movies

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
