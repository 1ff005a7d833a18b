"""Every stage depends on exactly the project code its command runs, through its module's fingerprint
(reports/code/<module>.json, stage fingerprint_code): DVC cannot miss a change, nor rerun a stage for
code it never runs."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from movie_genres import paths
from movie_genres.stage_code import fingerprint, import_closure, stage_modules
from tests.conftest import ROOT

# Files a stage reads that are not imported, listed in dvc.yaml beside its fingerprint.
READ_NOT_IMPORTED = {"report": {Path("src/movie_genres/report/page.html.j2")}}


@pytest.fixture(scope="module")
def stages() -> list:
    from dvc.repo import Repo

    with Repo(str(ROOT)) as repo:
        return list(repo.index.stages)


def test_every_stage_depends_on_its_modules_fingerprint_and_on_no_source_file(stages):
    for stage in stages:
        deps = {Path(dep.def_path) for dep in stage.deps}
        if stage.name == "fingerprint_code":
            assert deps == {Path("src/movie_genres"), Path("stages")}
            continue
        module = re.fullmatch(r"python -m (stages\.\w+)( .*)?", stage.cmd).group(1)
        assert paths.code_fingerprint(module) in deps, f"{stage.addressing} does not depend on its code"
        source = {d for d in deps if d.parts[0] in ("src", "stages")}
        assert source == READ_NOT_IMPORTED.get(stage.name, set()), f"{stage.addressing} lists code by hand"


def test_the_committed_fingerprints_are_the_code_each_stage_runs():
    """What fingerprint_code wrote at the last `dvc repro` is what the stage modules import now."""
    written = {p.stem for p in paths.CODE.glob("*.json")} if paths.CODE.is_dir() else set()
    assert written == {m.removeprefix("stages.") for m in stage_modules(ROOT)}, "run `dvc repro`"
    for module in stage_modules(ROOT):
        recorded = json.loads((ROOT / paths.code_fingerprint(module)).read_text())
        assert recorded == fingerprint(ROOT, module), f"{module}'s fingerprint is stale: run `dvc repro`"


def test_the_lock_records_the_code_as_it_is():
    """dvc.lock's fingerprint_code entry has the code's current hashes: `dvc repro` ran after the last edit
    (else a fresh clone's `make repro` reruns it and rewrites dvc.lock)."""
    from dvc.repo import Repo

    with Repo(str(ROOT)) as repo:
        assert repo.status(targets=["fingerprint_code"]) == {}, "run `dvc repro` and commit dvc.lock"


def test_the_closure_follows_lazy_imports_and_package_inits():
    closure = import_closure(ROOT, "stages.fetch_posters")
    assert Path("src/movie_genres/tmdb/http.py") in closure  # through tmdb.posters -> tmdb.client
    assert Path("src/movie_genres/features/cnn.py") not in closure  # posters never need the CNN
    # predict imports its feature functions lazily, and its package __init__ re-exports the API
    predict = import_closure(ROOT, "movie_genres.predict.cli")
    assert {Path("src/movie_genres/predict/__init__.py"), Path("src/movie_genres/features/cnn.py")} <= predict


def _code_copy(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    for name in ("src", "stages"):
        shutil.copytree(ROOT / name, repo / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    return repo


def test_a_new_import_changes_the_fingerprint_of_the_stages_that_run_it_alone(tmp_path):
    repo = _code_copy(tmp_path)
    before = {module: fingerprint(repo, module) for module in stage_modules(repo)}
    stage = repo / "stages/train_nb.py"
    stage.write_text(
        stage.read_text().replace("import argparse\n", "import argparse\n\nimport movie_genres.models.stacking\n")
    )
    after = {module: fingerprint(repo, module) for module in stage_modules(repo)}
    changed = {module for module in before if before[module] != after[module]}
    assert changed == {"stages.train_nb"}
    assert set(after["stages.train_nb"]) - set(before["stages.train_nb"]) == {"src/movie_genres/models/stacking.py"}


def test_an_edit_changes_the_fingerprint_of_every_stage_that_imports_the_file(tmp_path):
    repo = _code_copy(tmp_path)
    edited = "src/movie_genres/models/stacking.py"
    before = {module: fingerprint(repo, module) for module in stage_modules(repo)}
    with open(repo / edited, "a") as f:
        f.write("# an edit\n")
    changed = {module for module in before if fingerprint(repo, module) != before[module]}
    assert changed == {module for module in before if edited in before[module]}
    assert "stages.stack" in changed and "stages.train_nb" not in changed


def test_the_lock_holds_exactly_the_pipelines_stages(stages):
    """DVC keeps a removed stage's entry in dvc.lock until a full `dvc repro` (or `dvc commit`): the lock
    must say what the pipeline is."""
    import yaml

    pipeline = {stage.addressing for stage in stages}
    locked = set(yaml.safe_load((ROOT / "dvc.lock").read_text())["stages"])
    assert locked == pipeline, (
        f"in dvc.lock only: {sorted(locked - pipeline)}; in dvc.yaml only: {sorted(pipeline - locked)}: "
        "run `dvc repro` and commit dvc.lock"
    )
