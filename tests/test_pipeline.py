"""End to end: the real DVC pipeline on a small profile, in a temporary copy of the repository."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

pytestmark = pytest.mark.e2e

# A small, quick profile: the most popular movies only, a smaller grid.
SMALL_PROFILE = {
    ("fetch_list", "max_movies"): 200,
    ("train_svm", "C"): [0.1, 1],
    ("train_svm", "cv_folds"): 2,
    ("train_text_mlp", "max_epochs"): 5,
    ("train_poster_mlp", "max_epochs"): 5,
}


def _run(args: list[str], cwd: Path) -> str:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def dvc(*args: str, cwd: Path) -> str:
    return _run([sys.executable, "-m", "dvc", *args], cwd)


def git(*args: str, cwd: Path) -> str:
    return _run(["git", "-c", "user.name=test", "-c", "user.email=test@example.com", *args], cwd)


def _copy_repository(destination: Path) -> None:
    """The files a fresh clone would have (tracked, or new and not ignored), nothing generated."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)


def _set_params(repo: Path, values: dict[tuple[str, ...], object]) -> None:
    params = yaml.safe_load((repo / "params.yaml").read_text())
    for keys, value in values.items():
        section = params
        for key in keys[:-1]:
            section = section[key]
        section[keys[-1]] = value
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


@pytest.fixture(scope="module")
def small_repo(tmp_path_factory) -> Path:
    """A copy of the project on the small profile, reproduced once and committed."""
    repo = tmp_path_factory.mktemp("repo")
    _copy_repository(repo)
    (repo / "dvc.lock").unlink(missing_ok=True)
    _set_params(repo, SMALL_PROFILE)
    git("init", "-q", "-b", "main", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "clone", cwd=repo)
    dvc("repro", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "small profile reproduced", cwd=repo)
    return repo


def test_repro_produces_metrics_for_every_model(small_repo):
    for model in ("svm", "nb", "details_logreg", "text_mlp"):
        metrics = json.loads((small_repo / f"metrics/models/{model}.json").read_text())
        assert set(metrics) == {"fixed_threshold", "top_k", "tuned_thresholds"}
        assert 0 < metrics["top_k"]["f1_micro"] <= 1
    report = json.loads((small_repo / "metrics/data/fetch_list.json").read_text())
    assert report["kept"] == 200
    assert (small_repo / "plots/genre_coclusters.png").stat().st_size > 10_000
    shown = dvc("metrics", "show", cwd=small_repo)
    assert all(f"metrics/models/{m}.json" in shown for m in ("svm", "nb", "details_logreg", "text_mlp"))


def test_a_second_repro_does_nothing(small_repo):
    out = dvc("repro", cwd=small_repo)
    assert "Running stage" not in out
    assert "didn't change" in out or "up to date" in out


def _stages_run(out: str) -> set[str]:
    return {line.split("'")[1] for line in out.splitlines() if line.startswith("Running stage")}


@pytest.mark.parametrize(
    ("param", "value", "stage"),
    [(("train_nb", "alpha"), 0.5, "train_nb"), (("train_text_mlp", "learning_rate"), 0.01, "train_text_mlp")],
)
def test_changing_a_model_param_reruns_only_that_model_and_its_evaluation(small_repo, param, value, stage):
    _set_params(small_repo, {param: value})
    model = stage.removeprefix("train_")
    try:
        assert _stages_run(dvc("repro", cwd=small_repo)) == {stage, f"evaluate@{model}"}
    finally:
        git("checkout", "HEAD", "--", ".", cwd=small_repo)  # params.yaml, dvc.lock (autostaged) and metrics
        dvc("checkout", "-q", cwd=small_repo)


def test_retraining_an_mlp_gives_byte_identical_predictions_and_metrics(small_repo):
    files = ["data/predictions/text_mlp.npz", "metrics/models/text_mlp.json"]
    before = [(small_repo / f).read_bytes() for f in files]
    out = dvc("repro", "--force", "--single-item", "train_text_mlp", cwd=small_repo)
    assert _stages_run(out) == {"train_text_mlp"}
    dvc("repro", "evaluate@text_mlp", cwd=small_repo)
    assert [(small_repo / f).read_bytes() for f in files] == before


def test_an_experiment_changes_svm_metrics_in_metrics_diff(small_repo):
    dvc("exp", "run", "-S", "train_svm.C=[0.01]", cwd=small_repo)
    diff = dvc("metrics", "diff", "--md", cwd=small_repo)
    assert "metrics/train/svm.json" in diff and "best_C" in diff
    assert "metrics/models/svm.json" in diff
