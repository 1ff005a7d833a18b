import numpy as np
import pytest
from sklearn.metrics import f1_score

from movie_genres.evaluation.bootstrap import (
    F1_AVERAGES,
    bootstrap_weights,
    f1_draws,
    f1_estimates,
    f1_intervals,
    paired_bootstrap,
)
from movie_genres.evaluation.metrics import top_k_decision
from movie_genres.models.predictions import threshold_decision


@pytest.fixture(scope="module")
def decisions(scored_movies):
    """Two real decision rules on the same held-out movies: top-3 and p >= 0.5."""
    return scored_movies.labels, top_k_decision(scored_movies.scores, 3), threshold_decision(scored_movies.scores, 0.5)


def test_weights_resample_every_movie_count_with_replacement():
    weights = bootstrap_weights(50, 300, seed=7)
    assert weights.shape == (300, 50)
    assert (weights.sum(axis=1) == 50).all()  # each draw picks 50 movies
    assert (weights == 0).any(axis=1).all()  # ... with replacement: some movies left out
    assert weights.mean() == pytest.approx(1.0)
    assert 0.3 < (weights == 0).mean() < 0.43  # (1 - 1/50)^50 = 0.364 of the movies left out of a draw
    np.testing.assert_array_equal(weights, bootstrap_weights(50, 300, seed=7))
    assert not np.array_equal(weights, bootstrap_weights(50, 300, seed=8))


def test_the_estimates_are_scikit_learns_f1s(decisions):
    labels, top3, fixed = decisions
    assert (fixed.sum(axis=1) == 0).any(), "some movies get no genre, the case zero_division covers"
    for y_pred in (top3, fixed, np.zeros_like(labels)):
        for rows in (slice(None), slice(0, 40)):  # on 40 movies, some genres are neither true nor predicted
            estimates = f1_estimates(labels[rows], y_pred[rows])
            for average in F1_AVERAGES:
                expected = f1_score(labels[rows], y_pred[rows], average=average, zero_division=0)
                assert estimates[average] == pytest.approx(expected, abs=1e-12), average


def test_every_draw_is_the_f1_of_the_movies_it_picked(decisions):
    labels, top3, _ = decisions
    weights = bootstrap_weights(len(labels), 5, seed=3)
    draws = f1_draws(labels, top3, weights)
    for d, counts in enumerate(weights):
        picked = np.repeat(np.arange(len(labels)), counts)
        for average in F1_AVERAGES:
            expected = f1_score(labels[picked], top3[picked], average=average, zero_division=0)
            assert draws[average][d] == pytest.approx(expected, abs=1e-12)


def test_the_interval_holds_the_estimate_and_is_deterministic(decisions):
    labels, top3, _ = decisions
    weights = bootstrap_weights(len(labels), 1000, seed=42)
    intervals = f1_intervals(labels, top3, weights)
    for average, interval in intervals.items():
        assert interval.low < interval.estimate < interval.high, average
        assert 0.005 < interval.high - interval.low < 0.1, average  # a few hundredths on ~1,800 movies
    assert f1_intervals(labels, top3, bootstrap_weights(len(labels), 1000, seed=42)) == intervals
    assert f1_intervals(labels, top3, bootstrap_weights(len(labels), 1000, seed=43)) != intervals


def test_the_interval_narrows_with_more_movies(decisions):
    labels, top3, _ = decisions

    def width(n_movies: int) -> float:
        interval = f1_intervals(labels[:n_movies], top3[:n_movies], bootstrap_weights(n_movies, 1000, seed=0))
        return interval["micro"].high - interval["micro"].low

    few, many = width(100), width(len(labels))
    # the width shrinks about as 1 / sqrt(movies): ~18 times the movies, ~1/4 of the width
    assert many < 0.4 * few


def test_a_model_against_itself_differs_by_exactly_zero(decisions):
    labels, top3, _ = decisions
    for average, comparison in paired_bootstrap(labels, top3, top3, bootstrap_weights(len(labels), 200, 1)).items():
        assert (comparison.a, comparison.low, comparison.high) == (comparison.b, 0.0, 0.0), average
        assert comparison.difference == 0.0 and comparison.share_a_better == 0.0


def test_the_paired_difference_by_hand():
    """Two movies, two genres. A gets movie 1 right and predicts nothing for movie 2; B gets movie 1
    right and predicts both genres for movie 2 (one right, one wrong). Three draws: movie 1 twice,
    both movies once, movie 2 twice."""
    y_true = np.array([[1, 0], [0, 1]])
    a = np.array([[1, 0], [0, 0]])
    b = np.array([[1, 0], [1, 1]])
    weights = np.array([[2, 0], [1, 1], [0, 2]])
    # micro: A: tp 2 | tp 1, fn 1 | fn 2 -> 1, 2/3, 0; B: tp 2 | tp 2, fp 1 | tp 2, fp 2 -> 1, 4/5, 2/3
    np.testing.assert_allclose(f1_draws(y_true, a, weights)["micro"], [1, 2 / 3, 0])
    np.testing.assert_allclose(f1_draws(y_true, b, weights)["micro"], [1, 4 / 5, 2 / 3])
    # samples: per movie A 1 and 0, B 1 and 2/3; macro: per genre on the movies drawn
    np.testing.assert_allclose(f1_draws(y_true, a, weights)["samples"], [1, 1 / 2, 0])
    np.testing.assert_allclose(f1_draws(y_true, b, weights)["samples"], [1, 5 / 6, 2 / 3])
    np.testing.assert_allclose(f1_draws(y_true, a, weights)["macro"], [(1 + 0) / 2, (1 + 0) / 2, (0 + 0) / 2])
    np.testing.assert_allclose(f1_draws(y_true, b, weights)["macro"], [(1 + 0) / 2, (2 / 3 + 1) / 2, (0 + 1) / 2])
    micro = paired_bootstrap(y_true, a, b, weights, confidence=0.5)["micro"]
    assert micro.difference == pytest.approx(2 / 3 - 4 / 5)  # both movies once: the test set itself
    assert micro.share_a_better == 0.0  # A never scores strictly more
    # differences 0, -2/15, -2/3: their 25th and 75th percentiles, interpolated
    assert (micro.low, micro.high) == pytest.approx((-2 / 3 + 0.5 * (2 / 3 - 2 / 15), -2 / 15 / 2))
    macro = paired_bootstrap(y_true, a, b, weights)["macro"]
    assert macro.share_a_better == 0.0 and macro.difference == pytest.approx(1 / 2 - 5 / 6)
    swapped = paired_bootstrap(y_true, b, a, weights)["micro"]
    assert swapped.share_a_better == pytest.approx(2 / 3)  # B better in two of the three draws


def test_too_few_movies_or_draws_are_refused():
    with pytest.raises(ValueError, match="at least one movie and one draw"):
        bootstrap_weights(0, 10, seed=0)
