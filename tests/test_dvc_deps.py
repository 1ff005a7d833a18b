"""dvc.yaml names, for every stage, exactly the project code its command imports: DVC cannot miss a change."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from tests.conftest import ROOT
from tests.import_closure import dep_problems, import_closure


def test_every_stage_depends_on_exactly_the_code_it_imports():
    assert dep_problems(ROOT) == []


def test_the_closure_follows_lazy_imports_and_package_inits():
    closure = import_closure(ROOT, "stages.fetch_posters")
    assert Path("src/movie_genres/tmdb/http.py") in closure  # through tmdb.posters -> tmdb.client
    assert Path("src/movie_genres/features/cnn.py") not in closure  # posters never need the CNN
    # predict imports its feature functions lazily, and its package __init__ re-exports the API
    predict = import_closure(ROOT, "movie_genres.predict.cli")
    assert {Path("src/movie_genres/predict/__init__.py"), Path("src/movie_genres/features/cnn.py")} <= predict


def _project_copy(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    for name in ("src", "stages"):
        shutil.copytree(ROOT / name, repo / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("dvc.yaml", "params.yaml", "paths.yaml"):
        shutil.copy(ROOT / name, repo / name)
    (repo / ".dvc").mkdir()
    (repo / ".dvc/config").write_text("[core]\n    no_scm = true\n")  # a DVC repository without git
    return repo


def test_a_removed_dep_is_reported(tmp_path):
    repo = _project_copy(tmp_path)
    pipeline = yaml.safe_load((repo / "dvc.yaml").read_text())
    pipeline["stages"]["split_dataset"]["deps"].remove("src/movie_genres/data/posters.py")
    (repo / "dvc.yaml").write_text(yaml.safe_dump(pipeline, sort_keys=False))
    assert dep_problems(repo) == ["split_dataset: runs src/movie_genres/data/posters.py but does not depend on it"]


def test_a_new_import_without_a_dep_is_reported(tmp_path):
    repo = _project_copy(tmp_path)
    stage = repo / "stages/train_nb.py"
    stage.write_text(
        stage.read_text().replace("import argparse\n", "import argparse\n\nimport movie_genres.models.stacking\n")
    )
    assert dep_problems(repo) == ["train_nb: runs src/movie_genres/models/stacking.py but does not depend on it"]


def test_the_lock_holds_exactly_the_pipelines_stages():
    """DVC keeps a removed stage's entry in dvc.lock: the lock must say what the pipeline is."""
    from dvc.repo import Repo

    with Repo(str(ROOT)) as repo:
        pipeline = {stage.addressing for stage in repo.index.stages}
    locked = set(yaml.safe_load((ROOT / "dvc.lock").read_text())["stages"])
    assert locked == pipeline, (
        f"in dvc.lock only: {sorted(locked - pipeline)}; in dvc.yaml only: {sorted(pipeline - locked)}"
    )
