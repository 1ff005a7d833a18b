import numpy as np
import pytest

from movie_genres.evaluation.bootstrap import bootstrap_weights, paired_bootstrap
from movie_genres.evaluation.compare import (
    MIN_WIDTH,
    NOT_PAIRED_NOTE,
    HeldOutMovies,
    Judged,
    Row,
    changed_params,
    judge,
    legend,
    micro_f1,
    sorted_by,
    table,
    verdict_of,
)
from movie_genres.evaluation.metrics import top_k_decision
from movie_genres.models.predictions import threshold_decision


@pytest.fixture(scope="module")
def movies(scored_movies):
    """Real held-out movies (naive Bayes scores) with two of their decision rules, and the draws."""
    test = HeldOutMovies(
        np.arange(len(scored_movies.labels)) + 1000, scored_movies.labels, tuple(scored_movies.genre_names)
    )
    weights = bootstrap_weights(len(test.movie_ids), 300, seed=5)
    return test, top_k_decision(scored_movies.scores, 3), threshold_decision(scored_movies.scores, 0.5), weights


def test_the_verdict_is_whether_the_interval_excludes_zero():
    assert verdict_of(0.001, 0.02) == "better"
    assert verdict_of(-0.02, -0.001) == "worse"
    assert verdict_of(-0.01, 0.02) == "no clear difference"
    assert verdict_of(0.0, 0.0) == "no clear difference"
    assert verdict_of(0.0, 0.01) == "no clear difference"  # a draw with no difference: not clearly better


def test_identical_decisions_are_no_clear_difference(movies):
    test, top3, _, weights = movies
    judged = judge(test, top3, test, top3.copy(), weights)
    assert judged == Judged(micro_f1(test.labels, top3), 0.0, "no clear difference")


def test_the_verdict_is_the_paired_bootstraps_and_swapping_the_sides_flips_it(movies):
    test, top3, fixed, weights = movies
    judged = judge(test, fixed, test, top3, weights)
    expected = paired_bootstrap(test.labels, top3, fixed, weights)["micro"]
    assert judged.micro == micro_f1(test.labels, top3)
    assert judged.delta == pytest.approx(micro_f1(test.labels, top3) - micro_f1(test.labels, fixed))
    assert judged.verdict == verdict_of(expected.low, expected.high)
    flipped = judge(test, top3, test, fixed, weights).verdict
    assert {judged.verdict, flipped} in ({"better", "worse"}, {"no clear difference"})


def test_a_clearly_better_experiment_is_better_and_its_baseline_worse(movies):
    test, top3, _, weights = movies
    perfect = test.labels.copy()
    assert judge(test, top3, test, perfect, weights).verdict == "better"
    assert judge(test, perfect, test, top3, weights).verdict == "worse"


def test_the_experiments_movies_are_paired_by_id_whatever_their_order(movies):
    test, top3, fixed, weights = movies
    shuffle = np.random.default_rng(0).permutation(len(test.movie_ids))
    shuffled = HeldOutMovies(test.movie_ids[shuffle], test.labels[shuffle], test.genres)
    assert judge(test, fixed, shuffled, top3[shuffle], weights) == judge(test, fixed, test, top3, weights)
    assert judge(test, top3, shuffled, top3[shuffle], weights).delta == 0.0


def test_other_test_movies_or_genres_give_no_paired_verdict(movies):
    test, top3, fixed, weights = movies
    other_movie = HeldOutMovies(np.r_[test.movie_ids[:-1], -1], test.labels, test.genres)
    fewer = HeldOutMovies(test.movie_ids[:-1], test.labels[:-1], test.genres)
    renamed = HeldOutMovies(test.movie_ids, test.labels, (*test.genres[:-1], "Other"))
    relabelled = HeldOutMovies(test.movie_ids, 1 - test.labels, test.genres)
    for experiment in (other_movie, fewer, renamed, relabelled):
        decisions = top3[: len(experiment.movie_ids)]
        judged = judge(test, fixed, experiment, decisions, weights)
        assert judged.verdict == "not paired"
        assert judged.micro == micro_f1(experiment.labels, decisions)
        assert judged.delta == pytest.approx(judged.micro - micro_f1(test.labels, fixed))


def test_changed_params_are_the_values_that_differ():
    baseline = {
        "params.yaml": {"seed": 42, "train_svm": {"C": [0.1, 1], "cv_folds": 5}, "report": {"gallery_movies": 12}},
        "paths.yaml": {"paths": {"models": "models"}},
    }
    experiment = {
        "params.yaml": {"seed": 42, "train_svm": {"C": [1], "cv_folds": 5}, "report": {}, "new": {"x": None}},
        "paths.yaml": {"paths": {"models": "trained"}},
    }
    assert changed_params(baseline, experiment) == [
        "train_svm.C=[1]",
        "report.gallery_movies=(removed)",
        "new.x=null",
        "paths.yaml:paths.models=trained",
    ]
    assert changed_params(baseline, baseline) == []


def _rows() -> list[Row]:
    models = ("svm", "nb", "stack_text_poster")
    baseline = Row("main", "(baseline 3c903df)", {m: Judged(0.5 + i / 10) for i, m in enumerate(models)})
    experiments = [
        Row(
            "worse-one",
            "train_svm.C=[0.01]",
            {"svm": Judged(0.45, -0.05, "worse"), "nb": Judged(0.6, 0.0, "no clear difference")},
        ),
        Row(
            "best-one",
            "stack.C=0.1, a.very.long.parameter.name=[1,2,3,4,5,6,7,8,9,10,11,12]",
            {"svm": Judged(0.58, 0.08, "better")},
        ),
        Row("no-svm", "x=1|2", {"nb": Judged(0.61, 0.01, "no clear difference")}),
        Row("a-name-longer-than-24-columns", "seed=1", {"svm": Judged(0.5, 0.0, "no clear difference")}),
    ]
    return [baseline, *sorted_by(experiments, "svm")]


def test_rows_are_sorted_by_the_first_model_best_first_missing_last():
    assert [row.name for row in _rows()] == ["main", "best-one", "a-name-longer-than-24-columns", "worse-one", "no-svm"]


@pytest.mark.parametrize("markdown", [False, True])
@pytest.mark.parametrize("width", [120, 100, MIN_WIDTH])
def test_no_line_is_wider_than_asked_and_every_block_names_every_row(width, markdown):
    rows, models = _rows(), ["svm", "nb", "stack_text_poster"]
    lines = table(rows, models, width, markdown)
    assert max(map(len, lines)) <= width
    blocks = "\n".join(lines).split("\n\n")
    headers = [block.splitlines()[0] for block in blocks]
    assert all(any(model in header for header in headers) for model in models)
    assert "changed params" in headers[0]
    for block in blocks:
        body = block.splitlines()[2:]
        names = [line.strip("| ").split()[0] for line in body]
        assert names == ["main", "best-one", "a-name-longer-than-24-c…", "worse-one", "no-svm"]
    assert any("0.4500 -0.0500 worse" in line for line in lines)


def test_a_wide_table_fits_in_one_block_and_the_params_are_shortened_only_where_needed():
    rows = _rows()
    wide = table(rows, ["svm", "nb"], width=200)
    assert "\n\n" not in "\n".join(wide)
    assert "a.very.long.parameter.name=[1,2,3,4,5,6,7,8,9,10,11,12]" in wide[3]
    narrow = table(rows, ["svm", "nb"], width=80)
    assert any("…" in line for line in narrow)


def test_markdown_is_a_table_per_block_with_pipes_escaped():
    lines = table(_rows(), ["svm", "nb"], 200, markdown=True)
    assert all(line.startswith("| ") and line.endswith(" |") for line in lines)
    assert set(lines[1]) <= {"|", "-", " "}
    assert all(line.count("|") - line.count("\\|") == lines[0].count("|") for line in lines)
    assert "x=1\\|2" in "\n".join(lines)
    assert "| main " in lines[2] and "| - " in lines[6]  # no-svm has no svm figure


def test_the_legend_explains_not_paired_only_when_a_row_is():
    rows = _rows()
    assert not any("not paired" in line for line in legend(rows, 1000))
    unpaired = [*rows, Row("split", "split.test_size=0.3", {"svm": Judged(0.4, -0.1, "not paired")})]
    lines = legend(unpaired, 1000, width=70)
    assert max(map(len, lines)) <= 70
    assert " ".join(lines).endswith(NOT_PAIRED_NOTE)
    assert "1000 draws" in " ".join(lines)
