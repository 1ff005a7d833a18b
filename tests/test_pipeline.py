"""End to end: the real DVC pipeline on a small profile, in a temporary copy of the repository."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.dvc_repo import copy_workspace, dvc, git, set_params

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def small_repo(small_profile_repo, tmp_path_factory) -> Path:
    """A copy of the project reproduced on the small profile, for these tests to change."""
    return copy_workspace(small_profile_repo, tmp_path_factory.mktemp("pipeline") / "repo")


def test_repro_produces_metrics_for_every_model(small_repo):
    for model in ("svm", "nb"):
        metrics = json.loads((small_repo / f"metrics/models/{model}.json").read_text())
        assert set(metrics) == {"fixed_threshold", "top_k", "tuned_thresholds"}
        assert 0 < metrics["top_k"]["f1_micro"] <= 1
    report = json.loads((small_repo / "metrics/data/fetch_list.json").read_text())
    assert report["kept"] == 200
    assert (small_repo / "plots/genre_coclusters.png").stat().st_size > 10_000
    shown = dvc("metrics", "show", cwd=small_repo)
    assert "metrics/models/svm.json" in shown and "metrics/models/nb.json" in shown


def test_a_second_repro_does_nothing(small_repo):
    out = dvc("repro", cwd=small_repo)
    assert "Running stage" not in out
    assert "didn't change" in out or "up to date" in out


def test_changing_nb_param_reruns_only_nb_and_evaluate(small_repo):
    set_params(small_repo, {("train_nb", "alpha"): 0.5})
    try:
        out = dvc("repro", cwd=small_repo)
        ran = {line.split("'")[1] for line in out.splitlines() if line.startswith("Running stage")}
        assert ran == {"train_nb", "evaluate"}
    finally:
        git("checkout", "--", "params.yaml", cwd=small_repo)
        dvc("checkout", "-q", cwd=small_repo)


def test_an_experiment_changes_svm_metrics_in_metrics_diff(small_repo):
    dvc("exp", "run", "-S", "train_svm.C=[0.01]", cwd=small_repo)
    diff = dvc("metrics", "diff", "--md", cwd=small_repo)
    assert "metrics/train/svm.json" in diff and "best_C" in diff
    assert "metrics/models/svm.json" in diff
