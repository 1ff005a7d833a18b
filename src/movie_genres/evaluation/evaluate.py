"""Judging one model's predictions on the test movies under each decision rule, with bootstrap intervals."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from movie_genres.evaluation.bootstrap import f1_intervals
from movie_genres.evaluation.metrics import (
    micro_pr_curve,
    per_genre_table,
    summary,
    top_k_decision,
    tune_thresholds,
)
from movie_genres.models.predictions import DEFAULT_THRESHOLD, Predictions, at_least_one_genre, threshold_decision

RULES = ("fixed_threshold", "top_k", "tuned_thresholds")
# The rule `predict` applies: its figures are the model's headline, its per-genre table the one plotted.
HEADLINE_RULE = "tuned_thresholds"
DETAILED_RULE = HEADLINE_RULE


@dataclass
class Decisions:
    test: dict[str, np.ndarray]  # rule -> the test movies' predicted genres (movies x genres, 0/1)
    test_scores: np.ndarray
    thresholds: np.ndarray  # the tuned per-genre thresholds
    out_of_fold_f1_micro: float  # micro-F1 of the out-of-fold scores under those thresholds


def decide(
    predictions: Predictions,
    out_of_fold: Predictions,
    out_of_fold_labels: np.ndarray,
    test_ids: np.ndarray,
    top_k: int,
    min_positives: int,
) -> Decisions:
    """Three decision rules, all applied to the same test scores:

    - fixed_threshold: 0.5 for probabilities, 0 for SVM margins (each model's own `predict`);
    - top_k: the tutorial's k best genres per movie;
    - tuned_thresholds (what `predict` applies): per-genre thresholds that maximise F1 on the
      out-of-fold scores of the training share (genres fewer than `min_positives` of those movies
      have keep the fixed threshold), and a movie left without a genre gets the one closest to its
      threshold.
    """
    default = DEFAULT_THRESHOLD[predictions.kind]
    test_scores = predictions.rows(test_ids)
    thresholds = tune_thresholds(out_of_fold.scores, out_of_fold_labels, default, min_positives)
    test = {
        "fixed_threshold": threshold_decision(test_scores, default),
        "top_k": top_k_decision(test_scores, top_k),
        "tuned_thresholds": at_least_one_genre(test_scores, thresholds),
    }
    fitted = summary(out_of_fold_labels, at_least_one_genre(out_of_fold.scores, thresholds))["f1_micro"]
    return Decisions(test, test_scores, thresholds, fitted)


@dataclass
class Evaluation:
    metrics: dict[str, dict[str, float]]  # rule -> metric -> value, on the test movies, with F1 intervals
    per_genre: pd.DataFrame  # per-genre precision/recall/F1 on the test movies, under DETAILED_RULE
    pr_curve: pd.DataFrame  # micro-averaged precision-recall curve on the test movies
    thresholds: np.ndarray  # the tuned per-genre thresholds
    out_of_fold_f1_micro: float  # micro-F1 of the out-of-fold scores under those thresholds

    def headline(self) -> dict[str, float]:
        """The few figures `dvc metrics show` lists per model, under the rule predict uses, with names short
        enough for one terminal line: micro-F1 and half the width of its 95 % interval (`micro±`), samples
        and macro F1, and the tutorial's per-movie precision and recall (`prec`, `rec`)."""
        rule = self.metrics[HEADLINE_RULE]
        return {
            "micro": rule["f1_micro"],
            "micro±": round((rule["f1_micro_high"] - rule["f1_micro_low"]) / 2, 4),
            "samples": rule["f1_samples"],
            "macro": rule["f1_macro"],
            "prec": rule["per_movie_precision"],
            "rec": rule["per_movie_recall"],
        }


def rule_metrics(y_true: np.ndarray, y_pred: np.ndarray, weights: np.ndarray) -> dict[str, float]:
    """The summary figures of one rule, and a bootstrap interval (`_low`, `_high`) for micro, samples
    and macro F1, from the resampled movies `weights` (see bootstrap.bootstrap_weights)."""
    metrics = summary(y_true, y_pred)
    for average, interval in f1_intervals(y_true, y_pred, weights).items():
        metrics[f"f1_{average}_low"] = round(interval.low, 4)
        metrics[f"f1_{average}_high"] = round(interval.high, 4)
    return metrics


def evaluate(
    predictions: Predictions,
    out_of_fold: Predictions,
    out_of_fold_labels: np.ndarray,
    test_ids: np.ndarray,
    test_labels: np.ndarray,
    genre_names: list[str],
    top_k: int,
    min_positives: int,
    weights: np.ndarray,
) -> Evaluation:
    """Every rule of `decide` on the test movies; `weights` are the bootstrap draws of the test movies."""
    decisions = decide(predictions, out_of_fold, out_of_fold_labels, test_ids, top_k, min_positives)
    return Evaluation(
        metrics={rule: rule_metrics(test_labels, decision, weights) for rule, decision in decisions.test.items()},
        per_genre=per_genre_table(test_labels, decisions.test[DETAILED_RULE], genre_names),
        pr_curve=micro_pr_curve(test_labels, decisions.test_scores),
        thresholds=decisions.thresholds,
        out_of_fold_f1_micro=decisions.out_of_fold_f1_micro,
    )
