"""End to end: the real DVC pipeline on a small profile, in a temporary copy of the repository."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from movie_genres.data.dataset import label_matrix, read_table, subset_mask
from movie_genres.evaluation.metrics import summary, top_k_decision
from movie_genres.models.predictions import load_predictions
from tests.dvc_repo import copy_workspace, dvc, git, set_params

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def small_repo(small_profile_repo, tmp_path_factory) -> Path:
    """A copy of the project reproduced on the small profile, for these tests to change."""
    return copy_workspace(small_profile_repo, tmp_path_factory.mktemp("pipeline") / "repo")


def _models(repo: Path) -> list[str]:
    variables = yaml.safe_load((repo / "dvc.yaml").read_text())["vars"]
    return next(v["models"] for v in variables if isinstance(v, dict) and "models" in v)


def _stages_run(out: str) -> set[str]:
    return {line.split("'")[1] for line in out.splitlines() if line.startswith("Running stage")}


def test_repro_produces_metrics_for_every_model(small_repo):
    """Every model's metrics file is what its stored predictions give on the test movies, and the
    tutorial's text models beat a baseline that gives every movie the k most frequent training genres."""
    models = _models(small_repo)
    assert {"svm", "nb", "text_mlp", "poster_mlp", "late_fusion", "early_fusion_mlp"} <= set(models)
    dataset = read_table(small_repo / "data/dataset.parquet")
    genres = pd.read_csv(small_repo / "data/genres.csv")
    labels = label_matrix(dataset["genre_ids"], genres["genre_id"].tolist())
    test = subset_mask(dataset, "test")
    test_ids, test_labels = dataset["movie_id"].to_numpy()[test], labels[test]
    k = yaml.safe_load((small_repo / "params.yaml").read_text())["evaluate"]["top_k"]
    most_frequent = np.argsort(-labels[subset_mask(dataset, "train")].sum(axis=0), kind="stable")[:k]
    baseline = np.zeros_like(test_labels)
    baseline[:, most_frequent] = 1
    baseline_f1 = summary(test_labels, baseline)["f1_micro"]
    for model in models:
        metrics = json.loads((small_repo / f"metrics/models/{model}.json").read_text())
        assert set(metrics) == {"fixed_threshold", "top_k", "tuned_thresholds"}
        scores = load_predictions(small_repo / f"data/predictions/{model}.npz").rows(test_ids)
        assert metrics["top_k"] == summary(test_labels, top_k_decision(scores, k))
        if model in ("svm", "nb", "details_logreg"):
            assert metrics["top_k"]["f1_micro"] > baseline_f1, model
    report = json.loads((small_repo / "metrics/data/fetch_list.json").read_text())
    assert report["kept"] == 200
    assert (small_repo / "plots/genre_coclusters.png").stat().st_size > 10_000
    shown = dvc("metrics", "show", cwd=small_repo)
    assert all(f"metrics/models/{m}.json" in shown for m in models)


def test_a_second_repro_does_nothing(small_repo):
    out = dvc("repro", cwd=small_repo)
    assert "Running stage" not in out
    assert "didn't change" in out or "up to date" in out


@pytest.mark.parametrize(
    ("param", "value", "expected"),
    [
        (("train_nb", "alpha"), 0.5, {"train_nb", "evaluate@nb", "report"}),
        (
            ("train_poster_mlp", "learning_rate"),
            0.001,
            {"train_poster_mlp", "evaluate@poster_mlp", "late_fusion", "evaluate@late_fusion", "report"},
        ),
        (("late_fusion", "text_model"), "nb", {"late_fusion", "evaluate@late_fusion", "report"}),
    ],
)
def test_changing_a_param_reruns_only_what_depends_on_it(small_repo, param, value, expected):
    set_params(small_repo, {param: value})
    try:
        assert _stages_run(dvc("repro", cwd=small_repo)) == expected
    finally:
        git("checkout", "HEAD", "--", ".", cwd=small_repo)  # params.yaml, dvc.lock and metrics
        dvc("checkout", "-q", cwd=small_repo)


def test_retraining_an_mlp_gives_byte_identical_predictions_and_metrics(small_repo):
    files = ["data/predictions/poster_mlp.npz", "metrics/models/poster_mlp.json"]
    before = [(small_repo / f).read_bytes() for f in files]
    out = dvc("repro", "--force", "--single-item", "train_poster_mlp", cwd=small_repo)
    assert _stages_run(out) == {"train_poster_mlp"}
    dvc("repro", "evaluate@poster_mlp", cwd=small_repo)
    assert [(small_repo / f).read_bytes() for f in files] == before


def test_an_experiment_changes_svm_metrics_in_metrics_diff(small_repo):
    dvc("exp", "run", "-S", "train_svm.C=[0.01]", cwd=small_repo)
    diff = dvc("metrics", "diff", "--md", cwd=small_repo)
    assert "metrics/train/svm.json" in diff and "best_C" in diff
    assert "metrics/models/svm.json" in diff
