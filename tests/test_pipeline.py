"""End to end: the real DVC pipeline on a small profile, in a temporary copy of the repository."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.model_selection import KFold

from movie_genres import paths
from movie_genres.data.dataset import label_matrix, read_table, subset_mask
from movie_genres.evaluation.evaluate import HEADLINE_RULE, RULES
from movie_genres.evaluation.metrics import summary, top_k_decision
from movie_genres.models.predictions import at_least_one_genre, load_predictions
from movie_genres.pipeline import evaluated_models
from tests.dvc_repo import copy_workspace, dvc, git, run, set_params

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def small_repo(small_profile_repo, tmp_path_factory) -> Path:
    """A copy of the project reproduced on the small profile, for these tests to change."""
    return copy_workspace(small_profile_repo, tmp_path_factory.mktemp("pipeline") / "repo")


def _stages_run(out: str) -> set[str]:
    return {line.split("'")[1] for line in out.splitlines() if line.startswith("Running stage")}


def test_repro_produces_metrics_for_every_model(small_repo):
    """Every model's report is what its stored predictions give on the test movies, with an interval
    around each F1; its metrics file is the headline of the rule predict uses; the tutorial's text
    models beat a baseline that gives every movie the k most frequent training genres."""
    models = evaluated_models(small_repo)
    assert {"svm", "nb", "text_mlp", "poster_mlp", "early_fusion_mlp", "stack_details"} <= set(models)
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
        report = json.loads((small_repo / f"reports/models/{model}.json").read_text())
        assert set(report["rules"]) == set(RULES) and report["headline_rule"] == HEADLINE_RULE
        assert report["bootstrap"]["movies"] == len(test_ids) and report["bootstrap"]["draws"] >= 1000
        scores = load_predictions(small_repo / f"data/predictions/{model}.npz").rows(test_ids)
        top_k = report["rules"]["top_k"]
        assert {m: v for m, v in top_k.items() if not m.endswith(("_low", "_high"))} == summary(
            test_labels, top_k_decision(scores, k)
        )
        for rule, figures in report["rules"].items():
            for average in ("micro", "samples", "macro"):
                f1, low, high = (figures[f"f1_{average}{end}"] for end in ("", "_low", "_high"))
                assert low <= f1 <= high and low < high, (model, rule, average)
        if model in ("svm", "nb", "details_logreg"):
            assert top_k["f1_micro"] > baseline_f1, model
        headline = json.loads((small_repo / f"metrics/{model}.json").read_text())
        tuned = report["rules"][HEADLINE_RULE]
        # The thresholds predict applies give the headline exactly (a rounded tiny threshold would not).
        thresholds = json.loads((small_repo / paths.model_decision(model)).read_text())["thresholds"]
        decided = at_least_one_genre(scores, np.array([thresholds[name] for name in genres["name"]]))
        assert summary(test_labels, decided)["f1_micro"] == tuned["f1_micro"], model
        assert headline == {
            "micro": tuned["f1_micro"],
            "micro±": pytest.approx((tuned["f1_micro_high"] - tuned["f1_micro_low"]) / 2, abs=1e-4),
            "samples": tuned["f1_samples"],
            "macro": tuned["f1_macro"],
            "prec": tuned["per_movie_precision"],
            "rec": tuned["per_movie_recall"],
        }
    counts = json.loads((small_repo / "reports/data/fetch_list.json").read_text())
    assert counts["kept"] == 200
    assert json.loads((small_repo / "metrics/fetch_list.json").read_text()) == {
        "Kept": 200,
        "Dropped": sum(counts["dropped"].values()),
    }
    sizes = json.loads((small_repo / "reports/data/split.json").read_text())
    assert sizes == {name.capitalize(): int(subset_mask(dataset, name).sum()) for name in ("train", "val", "test")}
    assert json.loads((small_repo / "metrics/split.json").read_text()) == {"Test": sizes["Test"]}
    assert (small_repo / "plots/genre_coclusters.png").stat().st_size > 10_000
    shown = dvc("metrics", "show", cwd=small_repo)
    assert all(f"metrics/{m}.json" in shown for m in models)
    assert all(f"metrics/{name}.json" in shown for name in ("fetch_list", "fetch_posters", "split"))
    assert "reports/" not in shown  # the full breakdown is an output, not a metric
    assert max(len(line) for line in shown.splitlines()) <= 120  # one line per file on a 120-column terminal


def test_compare_models_prints_a_paired_bootstrap(small_repo):
    def compare(a: str, b: str) -> list[list[str]]:
        done = run([sys.executable, "-m", "bench.compare_models", a, b], cwd=small_repo)
        assert done.returncode == 0, done.stderr
        return [line.split() for line in done.stdout.splitlines()[2:]]

    for _, a, b, difference, low, high, share, *_ in compare("svm", "svm"):
        assert a == b and (difference, low, high, share) == ("+0.0000", "[+0.0000,", "+0.0000]", "0.0%")
    rows = compare("details_logreg", "nb")
    assert [row[0] for row in rows] == ["micro", "samples", "macro"]
    headline = json.loads((small_repo / "metrics/details_logreg.json").read_text())
    assert float(rows[0][1]) == pytest.approx(headline["micro"], abs=1e-4)


def test_linear_models_skip_missing_genres_quietly_and_show_grid_search_progress(small_repo):
    """On the small profile a rare genre is missing from the training part of a cross-validation fold:
    one line names it and scikit-learn is silent ("Label not N is present in all training examples"
    before); the grid search logs a line per C value and fold as it goes."""
    dataset = read_table(small_repo / "data/dataset.parquet")
    genres = pd.read_csv(small_repo / "data/genres.csv")
    train = label_matrix(dataset["genre_ids"], genres["genre_id"].tolist())[subset_mask(dataset, "train")]
    params = yaml.safe_load((small_repo / "params.yaml").read_text())
    folds = KFold(params["train_svm"]["cv_folds"], shuffle=True, random_state=params["seed"]).split(train)
    in_folds = {name for fitted, _ in folds for name in genres["name"][~train[fitted].any(axis=0)]}
    absent = genres["name"][~train.any(axis=0)].tolist()
    assert in_folds - set(absent), "a genre missing from a fold's training part, the case this test is about"
    try:
        out = dvc("repro", "--force", "--single-item", "train_svm", "train_nb", cwd=small_repo)
    finally:
        git("checkout", "HEAD", "--", ".", cwd=small_repo)
        dvc("checkout", "-q", cwd=small_repo)
    assert "present in all training examples" not in out and "Warning" not in out
    lines = out.splitlines()
    [cv_line] = [line for line in lines if "cross-validation: genre(s) without a training movie" in line]
    assert all(name in cv_line for name in in_folds - set(absent))
    skipped = [line for line in lines if "scored as never present" in line]
    assert len(skipped) == (2 if absent else 0)  # a genre no training movie has: once per stage
    fold_lines = [line for line in lines if " fold " in line and "fits done" in line]
    assert len(fold_lines) == len(params["train_svm"]["C"]) * params["train_svm"]["cv_folds"]


def test_a_second_repro_does_nothing(small_repo):
    out = dvc("repro", cwd=small_repo)
    assert "Running stage" not in out
    assert "didn't change" in out or "up to date" in out


STACKS = {name: {f"evaluate@{name}"} for name in ("stack_text", "stack_text_poster", "stack_details")}
STACKED = {"stack", *STACKS["stack_text_poster"], *STACKS["stack_details"]}
CHOSEN = {"choose_defaults", "gather_plots", "report"}


@pytest.mark.parametrize(
    ("param", "value", "expected"),
    [
        (("train_nb", "alpha"), 0.5, {"train_nb", "evaluate@nb", *STACKED, *STACKS["stack_text"], *CHOSEN}),
        # The stack stage refits all three stacks; stack_text does not read the poster model, its
        # bytes stay the same and it is not evaluated again.
        (
            ("train_poster_mlp", "learning_rate"),
            0.001,
            {"train_mlp@poster_mlp", "evaluate@poster_mlp", *STACKED, *CHOSEN},
        ),
        (("stack", "C"), 0.1, {*STACKED, *STACKS["stack_text"], *CHOSEN}),
    ],
)
def test_changing_a_param_reruns_only_what_depends_on_it(small_repo, param, value, expected):
    set_params(small_repo, {param: value})
    try:
        assert _stages_run(dvc("repro", cwd=small_repo)) == expected
    finally:
        git("checkout", "HEAD", "--", ".", cwd=small_repo)  # params.yaml, dvc.lock and metrics
        dvc("checkout", "-q", cwd=small_repo)


def test_editing_a_module_reruns_only_the_stages_that_import_it(small_repo):
    """A stage's code dep is its fingerprint: an edit reruns the stages whose code changed, and stops where
    their outputs come out the same (stack's refit gives the same bytes: nothing downstream of it reruns)."""
    from dvc.repo import Repo

    edited = "src/movie_genres/models/stacking.py"
    with Repo(str(small_repo)) as repo:
        modules = {stage.name: stage.cmd.split()[2] for stage in repo.index.stages}
    importers = {
        stage
        for stage, module in modules.items()
        if edited in json.loads((small_repo / paths.code_fingerprint(module)).read_text())
    }
    assert importers >= {"stack", "report"} and "train_nb" not in importers
    module = small_repo / edited
    original = module.read_text()
    module.write_text(original + "# an edit that changes nothing a stage computes\n")
    try:
        ran = _stages_run(dvc("repro", cwd=small_repo))
    finally:
        module.write_text(original)
        git("checkout", "HEAD", "--", ".", cwd=small_repo)
        dvc("checkout", "-q", cwd=small_repo)
    assert ran == {"fingerprint_code", *importers}


def test_retraining_an_mlp_gives_byte_identical_predictions_and_metrics(small_repo):
    files = ["data/predictions/poster_mlp.npz", "metrics/poster_mlp.json", "reports/models/poster_mlp.json"]
    before = [(small_repo / f).read_bytes() for f in files]
    out = dvc("repro", "--force", "--single-item", "train_mlp@poster_mlp", cwd=small_repo)
    assert _stages_run(out) == {"train_mlp@poster_mlp"}
    dvc("repro", "evaluate@poster_mlp", cwd=small_repo)
    assert [(small_repo / f).read_bytes() for f in files] == before
