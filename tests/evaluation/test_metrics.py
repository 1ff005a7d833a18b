import numpy as np
import pytest

from movie_genres.evaluation.metrics import (
    micro_pr_curve,
    per_genre_table,
    per_movie_precision_recall,
    summary,
    top_k_decision,
    tune_thresholds,
)
from movie_genres.models.predictions import at_least_one_genre, threshold_decision


def test_per_movie_precision_and_recall_by_hand():
    y_true = np.array([[1, 1, 0, 0], [0, 1, 0, 0], [1, 0, 1, 1]])
    y_pred = np.array([[1, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 0]])  # the last movie: no prediction
    precision, recall = per_movie_precision_recall(y_true, y_pred)
    # movie 1: 1 hit of 2 predicted, of 2 true; movie 2: 1 of 1, of 1; movie 3: nothing predicted -> 0, 0 of 3
    assert precision == pytest.approx((1 / 2 + 1 + 0) / 3)
    assert recall == pytest.approx((1 / 2 + 1 + 0) / 3)


def test_per_movie_precision_differs_from_recall():
    y_true = np.array([[1, 0, 0], [1, 1, 1]])
    y_pred = np.array([[1, 1, 1], [1, 0, 0]])
    precision, recall = per_movie_precision_recall(y_true, y_pred)
    assert precision == pytest.approx((1 / 3 + 1) / 2)
    assert recall == pytest.approx((1 + 1 / 3) / 2)


def test_summary_f1s_match_a_perfect_and_an_empty_prediction():
    y = np.array([[1, 0], [0, 1], [1, 1]])
    assert summary(y, y) == {
        "per_movie_precision": 1.0,
        "per_movie_recall": 1.0,
        "f1_samples": 1.0,
        "f1_micro": 1.0,
        "f1_macro": 1.0,
        "f1_weighted": 1.0,
    }
    assert set(summary(y, np.zeros_like(y)).values()) == {0.0}


def test_top_k_picks_the_k_best_genres():
    scores = np.array([[0.1, 0.9, 0.5, 0.7], [0.4, 0.3, 0.2, 0.1]])
    assert top_k_decision(scores, 2).tolist() == [[0, 1, 0, 1], [1, 1, 0, 0]]
    assert top_k_decision(scores, 10).sum() == 8  # k larger than the genres: all of them


def test_tuned_thresholds_separate_a_separable_genre():
    scores = np.array([[0.9, 0.2], [0.8, 0.3], [0.3, 0.1], [0.2, 0.4]])
    y = np.array([[1, 0], [1, 0], [0, 0], [0, 0]])
    thresholds = tune_thresholds(scores, y, default=0.5)
    assert thresholds[0] == pytest.approx(0.8)  # predicts exactly the two positives
    assert thresholds[1] == 0.5  # no positive to tune on: the default stays
    assert tune_thresholds(scores, y, default=0.5, min_positives=3)[0] == 0.5  # too few positives


def test_per_genre_table_and_pr_curve():
    y_true = np.array([[1, 0], [0, 1], [1, 1]])
    y_pred = np.array([[1, 0], [1, 1], [0, 1]])
    table = per_genre_table(y_true, y_pred, ["Drama", "Comedy"])
    assert table.set_index("genre").loc["Drama", ["precision", "recall", "support"]].tolist() == [0.5, 0.5, 2]
    assert table.set_index("genre").loc["Comedy", "f1"] == 1.0


def test_the_micro_pr_curve_by_hand():
    """All six (movie, genre) cells ranked by score, each distinct score one cut: precision and recall
    of "predict every cell scoring at least this", plus scikit-learn's (recall 0, precision 1) start."""
    scores = np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.6]])  # ranked: 0.9 0.8 0.7 0.6 0.2 0.1
    y_true = np.array([[1, 0], [0, 1], [1, 1]])  # ranked labels: + + + + - -
    curve = micro_pr_curve(y_true, scores)
    assert sorted(zip(curve["recall"], curve["precision"])) == [
        (0.0, 1.0), (0.25, 1.0), (0.5, 1.0), (0.75, 1.0), (1.0, 0.6667), (1.0, 0.8), (1.0, 1.0),
    ]  # fmt: skip
    y_noisy = np.array([[1, 0], [0, 0], [0, 1]])  # ranked labels: + - - + - -
    noisy = micro_pr_curve(y_noisy, scores)
    assert sorted(zip(noisy["recall"], noisy["precision"])) == [
        (0.0, 1.0), (0.5, 0.3333), (0.5, 0.5), (0.5, 1.0), (1.0, 0.3333), (1.0, 0.4), (1.0, 0.5),
    ]  # fmt: skip
    thinned = micro_pr_curve(y_true, scores, max_points=3)  # first, middle and last point kept
    assert len(thinned) == 3
    assert (thinned.iloc[[0, -1]].to_numpy() == curve.iloc[[0, -1]].to_numpy()).all()


def test_a_movie_with_no_genre_over_its_threshold_gets_the_closest_one():
    scores = np.array([[0.9, 0.1, 0.2], [0.3, 0.35, 0.1], [0.1, 0.2, 0.45]])
    thresholds = np.array([0.5, 0.4, 0.5])
    decision = at_least_one_genre(scores, thresholds)
    # Movie 0 keeps its one genre; movie 1 is 0.05 short of genre 1 (0.2 of genre 0); movie 2 0.05 of genre 2.
    assert decision.tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    assert at_least_one_genre(scores, 0.0).tolist() == threshold_decision(scores, 0.0).tolist()
