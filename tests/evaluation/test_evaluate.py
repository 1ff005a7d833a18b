import numpy as np
import pytest

from movie_genres.evaluation.bootstrap import bootstrap_weights
from movie_genres.evaluation.evaluate import HEADLINE_RULE, RULES, decide, evaluate
from movie_genres.evaluation.metrics import summary, tune_thresholds
from movie_genres.models.predictions import Predictions, at_least_one_genre


@pytest.fixture(scope="module")
def judged(scored_movies):
    """The held-out movies split into 600 that stand for the out-of-fold scores of the training share and
    ~1,200 test movies, judged as `evaluate` does."""
    n = len(scored_movies.labels)
    ids = np.arange(1000, 1000 + n)  # movie ids, not row numbers
    predictions = Predictions(ids[::-1].copy(), scored_movies.scores[::-1].copy(), "probability")  # any row order
    share, test = slice(0, 600), slice(600, None)
    out_of_fold = Predictions(ids[share], scored_movies.scores[share], "probability")
    weights = bootstrap_weights(n - 600, 1000, seed=42)
    args = (predictions, out_of_fold, scored_movies.labels[share], ids[test], scored_movies.labels[test])
    result = evaluate(*args, scored_movies.genre_names, 3, 10, weights)
    return scored_movies, args, result


def test_every_rule_has_its_summary_and_an_interval_per_f1(judged):
    _, (predictions, out_of_fold, share_labels, test_ids, test_labels), result = judged
    decisions = decide(predictions, out_of_fold, share_labels, test_ids, 3, 10).test
    assert set(result.metrics) == set(RULES) == set(decisions)
    for rule, figures in result.metrics.items():
        assert {k: v for k, v in figures.items() if not k.endswith(("_low", "_high"))} == summary(
            test_labels, decisions[rule]
        )
        for average in ("micro", "samples", "macro"):
            low, high = figures[f"f1_{average}_low"], figures[f"f1_{average}_high"]
            assert low < figures[f"f1_{average}"] < high, (rule, average)
            assert high - low < 0.08  # about 1,200 movies: a few hundredths


def test_the_headline_is_the_rule_predict_applies(judged):
    _, (predictions, out_of_fold, share_labels, test_ids, test_labels), result = judged
    thresholds = tune_thresholds(out_of_fold.scores, share_labels, 0.5, 10)
    np.testing.assert_array_equal(result.thresholds, thresholds)
    decision = decide(predictions, out_of_fold, share_labels, test_ids, 3, 10).test[HEADLINE_RULE]
    assert decision.sum(axis=1).min() >= 1  # every movie gets a genre
    np.testing.assert_array_equal(decision, at_least_one_genre(predictions.rows(test_ids), thresholds))
    tuned = summary(test_labels, decision)
    headline = result.headline()
    low, high = result.metrics[HEADLINE_RULE]["f1_micro_low"], result.metrics[HEADLINE_RULE]["f1_micro_high"]
    assert headline == {
        "micro": tuned["f1_micro"],
        "micro±": round((high - low) / 2, 4),
        "samples": tuned["f1_samples"],
        "macro": tuned["f1_macro"],
        "prec": tuned["per_movie_precision"],
        "rec": tuned["per_movie_recall"],
    }
    assert 0 < headline["micro±"] < 0.05


def test_the_same_seed_gives_the_same_intervals(judged):
    scored, args, result = judged
    again = evaluate(*args, scored.genre_names, 3, 10, bootstrap_weights(len(args[3]), 1000, seed=42))
    other = evaluate(*args, scored.genre_names, 3, 10, bootstrap_weights(len(args[3]), 1000, seed=7))
    assert again.metrics == result.metrics
    assert other.metrics != result.metrics
